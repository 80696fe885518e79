/**
 * "Clients sometimes cannot connect to our nginx": reproduce it on the real kernel, name the
 * cause, and prove the fix — nginx from Debian's packages (installed offline), curl and ab as
 * the clients, nothing mocked.
 */
import { describe, expect, it } from "vitest";
import { run, startLab, type RunReport, type ScenarioInput } from "tcprepro";
import "tcprepro/vitest";

/** Debian's nginx, its listen backlog set to `backlog`, in the foreground. */
const nginx = (backlog: number) => [
  "sh",
  "-c",
  `sed -i 's/listen 80 default_server;/listen 80 default_server backlog=${backlog};/' ` +
    `/etc/nginx/sites-enabled/default && exec nginx -g 'daemon off;'`,
];

const scenario: ScenarioInput = {
  name: "nginx-backlog",
  summary: "nginx with listen backlog 16 stalls (a GC pause, a slow disk) while 60 clients connect",
  networks: ["wan"],
  nodes: {
    client: { networks: ["wan"], packages: ["curl", "apache2-utils"] },
    server: {
      networks: ["wan"],
      packages: ["nginx-light"],
      command: nginx(16),
      ready: { http: { port: 80, path: "/" } },
    },
  },
  traffic: [
    {
      from: "client",
      to: "server:80",
      at: "300ms",
      connections: 60,
      concurrency: 60,
      command: ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2", "-m", "8", "{url}/"],
    },
  ],
  // Frozen for 5 s: the kernel still completes handshakes, but only into a 17-slot queue.
  faults: [
    { at: 0, target: "server", pause: true },
    { at: "5s", target: "server", unpause: true },
  ],
  settle: "300ms",
  timeout: "1m",
  expect: { cause: "accept-queue-overflow", clients: { timeout: "> 0" } },
  variants: {
    mitigated: {
      set: { "nodes.server.command": nginx(4096) },
      expect: { cause: "none", clients: { connected: 60 } },
    },
  },
};

describe("nginx's listen backlog", () => {
  let report: RunReport;

  it("reproduces the failure and proves the mitigation", async () => {
    report = await run(scenario);
    expect(report).toPass();
  });

  it("baseline: curl times out connecting, the accept queue overflowed", () => {
    const baseline = report.scenarios[0]!.variants.find((v) => v.variant === "baseline")!;
    expect(baseline).toHaveCause("accept-queue-overflow");
    expect(baseline).toHaveCounter("server", "TcpExtListenOverflows", "> 0");
    expect(baseline).toHaveCounter("client", "TcpExtTCPSynRetrans", "> 0");
    expect(baseline.clients.outcomes.timeout).toBeGreaterThan(0);
  });

  it("mitigated: backlog 4096 holds the whole burst", () => {
    const mitigated = report.scenarios[0]!.variants.find((v) => v.variant === "mitigated")!;
    expect(mitigated).toHaveCause("none");
    expect(mitigated).toHaveCounter("server", "TcpExtListenOverflows", "== 0");
    expect(mitigated.clients.outcomes).toEqual({ connected: 60 });
  });

  it("a lab for your own steps: ab against the mitigated nginx", async () => {
    await using lab = await startLab(scenario, { variant: "mitigated" });
    const { host, port } = lab.route("client", "server:80");
    const { stdout } = await lab.exec("client", [
      "ab",
      "-n",
      "200",
      "-c",
      "20",
      `http://${host}:${port}/`,
    ]);
    expect(stdout).toMatch(/Complete requests:\s+200/);
    expect(stdout).toMatch(/Failed requests:\s+0/);
  });
});
