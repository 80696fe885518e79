/**
 * The kernel matrix through the API, as a platform team's vitest suite would use it: one
 * `run()` on a VM kernel and the host gives one report whose every variant names its kernel,
 * and the matchers pick a kernel. `runtime: "vm"` never falls back to the host.
 */
import { describe, expect, it } from "vitest";
import { run } from "../../src/index.js";
import "../../src/vitest.js";
import { readCached } from "../../src/kernels/cache.js";
import { KernelUnavailableError } from "../../src/util/errors.js";

const SCENARIO = "scenarios/syn-blackhole.yaml";

describe("run() on several kernels", () => {
  it.skipIf(!readCached("6.1"))(
    "kernels 6.1 and host: one report, each variant with its kernel, a pick per kernel",
    async () => {
      const report = await run([SCENARIO], { kernels: ["6.1", "host"], variant: "baseline" });
      expect(Object.keys(report.kernels ?? {})).toEqual(["6.1", "host"]);
      expect(report.kernels!["6.1"]!.release).toMatch(/^6\.1\./);
      const kernels = report.scenarios[0]!.variants.map((v) => v.kernel);
      expect(kernels).toEqual(["6.1", "host"]);
      expect(report).toHaveCause("syn-blackhole", { kernel: "6.1" });
      expect(report).toHaveCause("syn-blackhole", { kernel: "host" });
      expect(report).toHaveCounter("client", "TcpExtTCPSynRetrans", "> 0", { kernel: "6.1" });
    },
    600_000,
  );

  it('runtime "vm" on a kernel that is not fetched: an error that says so, nothing run', async () => {
    const version = ["5.10", "6.12"].find((v) => !readCached(v));
    if (!version) return;
    const started = Date.now();
    const err = await run([SCENARIO], { runtime: "vm", kernel: version }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelUnavailableError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `kernel ${version.replace(".", "\\.")} is not fetched: run \`tcprepro kernels fetch`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
