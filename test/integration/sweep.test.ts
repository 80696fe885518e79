/**
 * run --sweep on the real kernel: the catalog's accept-queue-overflow with the backlog swept; the
 * threshold in the console and the JSON, and the exit code judged without the sweep's failures.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SweepSummary } from "../../src/scenario/sweep.js";
import { cli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tcprepro-sweep-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.getuid?.() !== 0)("run --sweep", () => {
  it("names the smallest backlog that made the overflow go away, in the console and the JSON", async () => {
    const json = join(dir, "s.json");
    const r = await cli([
      "run",
      "scenarios/accept-queue-overflow.yaml",
      "--sweep",
      "nodes.server.app.backlog=16,64,256,1024",
      "--runtime",
      "netns",
      "--json",
      json,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const sweeps = (JSON.parse(readFileSync(json, "utf8")) as { sweeps: SweepSummary[] }).sweeps;
    const s = sweeps[0]!;
    expect(s.points.map((p) => p.value)).toEqual([16, 64, 256, 1024]);
    // 100 attempts in two waves: a queue of 16 or 64 overflows; the threshold is above that.
    expect(s.points[0]!.healthy).toBe(false);
    expect(s.points[0]!.counter).toBeGreaterThan(0);
    expect(s.points[3]!.healthy).toBe(true);
    expect([64, 256, 1024]).toContain(s.threshold);
    expect(r.stdout).toMatch(
      new RegExp(`go away at this load: nodes\\.server\\.app\\.backlog=${String(s.threshold)}`),
    );
  });
});
