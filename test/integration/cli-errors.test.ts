/** Bad input and interrupts, through the real CLI against the real engine. */
import { describe, expect, it, onTestFinished } from "vitest";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, leftovers, netnsLeftovers } from "./helpers.js";

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

  it("no engine with --runtime docker: names tcprepro setup and what it installs and starts, exit 2", async () => {
    const run = await cli(
      ["run", "scenarios/accept-queue-overflow.yaml", "--runtime", "docker"],
      undefined,
      {
        DOCKER_HOST: "unix:///tmp/tcprepro-no-engine.sock",
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /no Docker engine answers at unix:\/\/\/tmp\/tcprepro-no-engine\.sock.*`sudo npx tcprepro setup` installs and starts one.*apt-get install -y docker\.io/,
    );
  });

  it("an engine without permission: says so, exit 2", async () => {
    // As nobody, the root-owned socket refuses us (EACCES).
    // Captures go where nobody may write, so that the engine is what refuses.
    const args = [
      "run",
      "scenarios/accept-queue-overflow.yaml",
      "--captures",
      "/tmp/tcprepro-nobody",
    ];
    const run = await cli(args, undefined, {}, [
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

  it("an output that cannot be written: exit 2 before anything runs", async () => {
    const before = await leftovers();
    const run = await cli([
      "run",
      "scenarios/connection-refused.yaml",
      "--json",
      "/nonexistent/dir/r.json",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--json \/nonexistent\/dir\/r\.json: directory \/nonexistent\/dir does not exist \(nothing was run\)/,
    );
    expect(run.stderr).not.toMatch(/topology|connections/);
    expect(await leftovers()).toEqual(before);
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

describe("a step that fails ends its variant, and the run exits promptly", () => {
  for (const runtime of ["docker", "netns"]) {
    it(`an iptables fault with a typo on ${runtime}: ERROR with iptables' message, exit 1 within seconds`, async () => {
      const json = join(tmpdir(), `tcprepro-fault-typo-${runtime}-${process.pid}.json`);
      onTestFinished(() => rmSync(json, { force: true }));
      const started = performance.now();
      const run = await cli([
        "run",
        "test/fixtures/errors/fault-typo.yaml",
        "--runtime",
        runtime,
        "--json",
        json,
      ]);
      const seconds = (performance.now() - started) / 1000;
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toMatch(
        /ERROR: server: `iptables -I INPUT -m nosuchmatch -j DROP` exited 2/,
      );
      expect(run.stdout).toMatch(/nosuchmatch/);
      // Bring-up, the failing exec and teardown: seconds, not the 20 s connect timeout or the
      // scenario's 2-minute bound.
      expect(seconds).toBeLessThan(15);
      expect(await leftovers(run.pid)).toEqual({ containers: 0, networks: 0 });
      expect(netnsLeftovers(run.pid)).toBe(0);
      const report = JSON.parse(readFileSync(json, "utf8"));
      expect(report.scenarios[0].variants[0].verdict).toBe("error");
    });
  }
});
