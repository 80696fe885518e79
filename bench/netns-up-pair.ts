/**
 * The netns topology's up and down (the accept-queue scenario's 4 nodes, 2 networks), median of
 * N: `tsx bench/netns-up-pair.ts N [ROOT_BEFORE [ROOT_AFTER]]`. With ROOT_BEFORE (a checkout of
 * an older commit with its node_modules and build/ in place), before and after are interleaved
 * run by run, so that the load of a shared machine falls on both alike; alone, this checkout.
 */
import { resolve } from "node:path";

const n = Number(process.argv[2] ?? 30);
const roots = process.argv[3]
  ? [resolve(process.argv[3]), resolve(process.argv[4] ?? ".")]
  : [resolve(".")];

async function setup(root: string) {
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
  return { runtime, plan: (id: string) => planTopology(scenario, id).plan };
}

const sides = await Promise.all(roots.map(setup));
const up: number[][] = roots.map(() => []);
const down: number[][] = roots.map(() => []);
for (let i = 0; i < n; i++)
  for (const [k, side] of sides.entries()) {
    const t0 = performance.now();
    const topo = await side.runtime.up(side.plan(`nspair${process.pid}x${i}s${k}`));
    up[k]!.push(performance.now() - t0);
    const t1 = performance.now();
    await topo.down();
    down[k]!.push(performance.now() - t1);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [k, root] of roots.entries())
  console.log(
    JSON.stringify({
      root,
      n,
      upMs: +median(up[k]!).toFixed(1),
      downMs: +median(down[k]!).toFixed(1),
    }),
  );
