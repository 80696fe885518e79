/** Bad input and interrupts, through the real CLI against the real engine. */
import { describe, expect, it } from "vitest";
import { cli, leftovers } from "./helpers.js";

describe("the CLI refuses bad input before creating anything", () => {
  it("a broken scenario: file:line, key, exit 2, nothing created", async () => {
    const before = await leftovers();
    const run = await cli(["run", "test/fixtures/bad/unknown-key.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /test\/fixtures\/bad\/unknown-key\.yaml:8:\d+: nodes\.server\.app\.backlgo: unknown key/,
    );
    expect(await leftovers()).toEqual(before);
  });

  it("an unknown sysctl names the key and exits 2", async () => {
    const run = await cli(["validate", "test/fixtures/bad/unknown-sysctl.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /unknown-sysctl\.yaml:9:\d+: nodes\.server\.sysctls\.net\.ipv4\.tcp_frobnicate: sysctl/,
    );
  });

  it("no engine with --runtime docker: says what to install and start, exit 2", async () => {
    const run = await cli(
      ["run", "scenarios/accept-queue-overflow.yaml", "--runtime", "docker"],
      undefined,
      {
        DOCKER_HOST: "unix:///tmp/tcprepro-no-engine.sock",
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /no Docker engine answers at unix:\/\/\/tmp\/tcprepro-no-engine\.sock.*apt-get install -y docker\.io/,
    );
  });

  it("an engine without permission: says so, exit 2", async () => {
    // As nobody, the root-owned socket refuses us (EACCES).
    const run = await cli(["run", "scenarios/accept-queue-overflow.yaml"], undefined, {}, [
      "setpriv",
      "--reuid",
      "65534",
      "--regid",
      "65534",
      "--clear-groups",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/permission denied on the Docker engine.*docker group/);
  });

  it("no engine, as root: a plain run picks the netns runtime by itself and says so", async () => {
    const run = await cli(["run", "scenarios/connection-refused.yaml"], undefined, {
      DOCKER_HOST: "unix:///tmp/tcprepro-no-engine.sock",
    });
    expect(run.stderr).toMatch(/runtime: netns, because no Docker engine answers/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/2 passed, 0 failed, 0 skipped \(kernel [^,]+, netns/);
  });

  it("a missing path exits 2", async () => {
    const run = await cli(["run", "scenarios/no-such-file.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no such file/);
  });
});

describe("Ctrl-C tears the topology down", () => {
  for (const [moment, trigger] of [
    ["while the topology comes up", /starting/],
    ["during traffic", /connections/],
  ] as const) {
    it(`SIGINT ${moment}`, async () => {
      const run = await cli(
        ["run", "scenarios/accept-queue-overflow.yaml", "--variant", "baseline"],
        (err) => (trigger.test(err) ? "SIGINT" : undefined),
      );
      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(/SIGINT: tearing down/);
      expect(await leftovers(run.pid)).toEqual({ containers: 0, networks: 0 });
    });
  }
});
