/**
 * The catalog repeated: every variant must give the same verdict every run. Long, so it runs
 * only when TCPREPRO_REPEAT=N is set (.ci/run sets it); `tcprepro run --repeat N` reports, per
 * variant, how many runs agreed.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli } from "./helpers.js";

const REPEAT = Number(process.env.TCPREPRO_REPEAT ?? 0);

describe.runIf(REPEAT > 1)(`the catalog, ${REPEAT} runs of every variant`, () => {
  it("gives 0 disagreements", async () => {
    const json = join(tmpdir(), `tcprepro-repeat-${process.pid}.json`);
    const run = await cli(["run", "scenarios/", "--parallel", "4", "--repeat", String(REPEAT), "--json", json]);
    const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    rmSync(json, { force: true });
    const variants = report.scenarios.flatMap((s) => s.variants.map((v) => ({ name: `${s.name}/${v.variant}`, ...v })));
    const runs = variants.reduce((n, v) => n + (v.repeat?.runs ?? 0), 0);
    const disagreements = variants.reduce((n, v) => n + ((v.repeat?.runs ?? 0) - (v.repeat?.agreed ?? 0)), 0);
    process.stderr.write(`repeat ${REPEAT}: ${variants.length} variants, ${runs} runs, ${disagreements} disagreements\n`);
    expect(variants.filter((v) => v.verdict !== "pass" && v.verdict !== "skip").map((v) => `${v.name}: ${v.reason}`)).toEqual([]);
    expect(disagreements).toBe(0);
    expect(run.code).toBe(0);
  });
});
