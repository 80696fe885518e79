/**
 * A kernel of one's own in the matrix: Linux 4.11, the one kernel where `tcp_tw_recycle` is per
 * network namespace (../shared/kernels/linux-4.11, beside the checkout), added by name in a
 * private cache, reproduces the first article's failure. Its files are read, never written.
 * An image QEMU cannot boot is refused before anything runs.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli, ROOT } from "./helpers.js";

const FIXTURE = resolve(ROOT, "..", "shared", "kernels", "linux-4.11");
const IMAGE = join(FIXTURE, "bzImage");
const MODULES = join(FIXTURE, "lib", "modules", "4.11.0");
const present = existsSync(IMAGE) && existsSync(join(MODULES, "modules.dep"));
const cache = mkdtempSync(join(tmpdir(), "tcprepro-own-kernel-"));
const env = { TCPREPRO_CACHE: cache };
const dir = mkdtempSync(join(tmpdir(), "tcprepro-4.11-test-"));
afterAll(() => {
  for (const d of [cache, dir]) rmSync(d, { recursive: true, force: true });
});

/** Every file of a tree with its checksum and mtime: what "nothing written" is checked against. */
function fingerprint(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const sum = createHash("sha256").update(readFileSync(p)).digest("hex");
        out.push(`${p} ${sum} ${statSync(p).mtimeMs}`);
      }
    }
  };
  walk(root);
  return out.sort();
}

describe("an image QEMU cannot boot", () => {
  it("is refused before the run, saying what to pass instead", async () => {
    const t0 = Date.now();
    const run = await cli(
      ["run", "scenarios/connection-refused.yaml", "--kernel-image", "/bin/true"].concat(
        "--kernel-modules",
        present ? MODULES : dir,
      ),
      undefined,
      env,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--kernel-image \/bin\/true: an ELF file without a PVH entry note/);
    expect(run.stderr).toContain("bzImage");
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe.runIf(present)(
  "Linux 4.11 as a kernel of one's own (../shared/kernels/linux-4.11)",
  () => {
    const before = present ? fingerprint(FIXTURE) : [];

    it("is added by name, listed with its release and origin, into tcprepro's cache only", async () => {
      // The test's cache starts empty: busybox (the initramfs's shell) from the user's cache, if
      // there, spares a download.
      const busybox = join(homedir(), ".cache", "tcprepro", "kernels", "busybox");
      if (existsSync(busybox)) copyFileSync(busybox, join(cache, "busybox"));
      const add = await cli(
        ["kernels", "add", "4.11", "--image", IMAGE, "--modules", MODULES],
        undefined,
        env,
      );
      expect(add.code, add.stderr).toBe(0);
      const list = await cli(["kernels", "list"], undefined, env);
      expect(list.stdout).toMatch(new RegExp(`^4\\.11 +own +4\\.11\\.0 from ${IMAGE}`, "m"));
      expect(existsSync(join(cache, "4.11", "initrd.gz"))).toBe(true);
      // What it has of what the runtime needs, read from the config beside its modules.
      const check = await cli(["kernels", "check", IMAGE, MODULES], undefined, env);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain(`read from config ${join(FIXTURE, "config")}`);
      expect(check.stdout).toMatch(/ok {3}netfilter/);
    }, 120_000);

    it("reproduces tw-recycle-nat: PAWS rejects the NAT'd client with the lower clock, and only that is named", async () => {
      const json = join(dir, "tw.json");
      const run = await cli(
        ["run", "scenarios/tw-recycle-nat.yaml", "--kernel", "4.11", "--json", json],
        undefined,
        env,
      );
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
      expect(report.kernels!["4.11"]!.release).toBe("4.11.0");
      const at = (name: string) => report.scenarios[0]!.variants.find((v) => v.variant === name)!;
      const base = at("baseline");
      expect(base.verdict).toBe("pass");
      expect(base.nodes.server!.counters.TcpExtPAWSPassive).toBeGreaterThan(0);
      // Each PAWS-rejected SYN is a ListenDrop too on 4.11: no SYN-queue overflow beside it.
      expect(base.causes.map((c) => c.cause)).toEqual(["tw-recycle-paws"]);
      expect(base.clients.outcomes.timeout).toBeGreaterThan(0);
      const mitigated = at("mitigated");
      expect(mitigated.verdict).toBe("pass");
      expect(mitigated.clients.outcomes.connected).toBe(mitigated.clients.attempts);
      // One clock: no attempt starts before its traffic's t=0 (the guest's times are on it).
      for (const v of [base, mitigated])
        for (const a of v.attempts ?? []) expect(a.startMs).toBeGreaterThanOrEqual(0);
    }, 300_000);

    it("is removed from the cache, and the fixture's files were never written", async () => {
      const rm = await cli(["kernels", "rm", "4.11"], undefined, env);
      expect(rm.stdout).toContain("4.11: removed");
      expect(existsSync(join(cache, "4.11"))).toBe(false);
      expect(fingerprint(FIXTURE)).toEqual(before);
    });
  },
);

describe.skipIf(present)("Linux 4.11 as a kernel of one's own", () => {
  it(`skips: no 4.11 fixture at ${FIXTURE} (bzImage and lib/modules/4.11.0; see docs/kernels.md)`, () => {
    expect(present).toBe(false);
  });
});
