/**
 * Focused figure: the standard topology (the accept-queue scenario's 4 nodes, 2 networks) up and
 * down on the netns runtime, median of N. `tsx bench/netns-up.ts [N] [project root]`: a root
 * other than this checkout measures that tree (an older commit, for a before/after pair).
 */
import { resolve } from "node:path";

const n = Number(process.argv[2] ?? 15);
const root = resolve(process.argv[3] ?? ".");
const { NetnsRuntime } = (await import(
  `${root}/src/runtime/netns/netns-runtime.ts`
)) as typeof import("../src/runtime/netns/netns-runtime.js");
const { loadScenario } = (await import(
  `${root}/src/scenario/load.ts`
)) as typeof import("../src/scenario/load.js");
const { planTopology } = (await import(
  `${root}/src/run/plan.ts`
)) as typeof import("../src/run/plan.js");
const { hostKernelFacts } = (await import(
  `${root}/src/runtime/shared/host-inventory.ts`
)) as typeof import("../src/runtime/shared/host-inventory.js");

const scenario = loadScenario(`${root}/scenarios/accept-queue-overflow.yaml`, hostKernelFacts)
  .variants[0]!.scenario;
const runtime = new NetnsRuntime();
await runtime.prepare(() => undefined);
const up: number[] = [];
const down: number[] = [];
for (let i = 0; i < n; i++) {
  const { plan } = planTopology(scenario, `nsup${process.pid}x${i}`);
  const t0 = performance.now();
  const topo = await runtime.up(plan);
  up.push(performance.now() - t0);
  const t1 = performance.now();
  await topo.down();
  down.push(performance.now() - t1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  JSON.stringify({ root, n, upMs: +median(up).toFixed(1), downMs: +median(down).toFixed(1) }),
);
