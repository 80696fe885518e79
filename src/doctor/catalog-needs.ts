/** What the catalog uses of the kernel: the sysctls its nodes set or it requires, the counters it checks. */
import type { LoadedScenario } from "../scenario/load.js";

export interface NeedUse {
  scenario: string;
  /** The scenario's `requires.kernel`, when it has one: on other kernels it SKIPs anyway. */
  kernelRange?: string;
  /**
   * Listed under `requires`: where it is missing the scenario SKIPs. A sysctl a node sets
   * without `requires` makes the scenario invalid where it is missing.
   */
  required: boolean;
}

export interface CatalogNeeds {
  scenarios: { name: string; kernelRange?: string }[];
  /** Name → the scenarios that use it (one entry per scenario). */
  sysctls: Map<string, NeedUse[]>;
  counters: Map<string, NeedUse[]>;
  /** Queueing disciplines its faults load (`netem`), by name. */
  qdiscs: Map<string, NeedUse[]>;
}

function add(map: Map<string, NeedUse[]>, name: string, use: NeedUse): void {
  const uses = map.get(name) ?? [];
  const same = uses.find((u) => u.scenario === use.scenario);
  if (same) same.required ||= use.required;
  else uses.push(use);
  map.set(name, uses);
}

/** Over every variant (a variant's `set` may add sysctls; its `expect` may name other counters). */
export function catalogNeeds(loaded: LoadedScenario[]): CatalogNeeds {
  const needs: CatalogNeeds = {
    scenarios: [],
    sysctls: new Map(),
    counters: new Map(),
    qdiscs: new Map(),
  };
  for (const s of loaded) {
    const kernelRange = s.variants[0]?.scenario.requires.kernel;
    needs.scenarios.push({ name: s.name, ...(kernelRange ? { kernelRange } : {}) });
    for (const v of s.variants) {
      const sc = v.scenario;
      const use = (required: boolean): NeedUse => ({
        scenario: s.name,
        ...(sc.requires.kernel ? { kernelRange: sc.requires.kernel } : {}),
        required,
      });
      for (const name of sc.requires.sysctls ?? []) add(needs.sysctls, name, use(true));
      for (const node of Object.values(sc.nodes))
        for (const name of Object.keys(node.sysctls)) add(needs.sysctls, name, use(false));
      // A counter missing from the kernel makes the scenario SKIP, whether required or expected.
      for (const name of sc.requires.counters ?? []) add(needs.counters, name, use(true));
      for (const perNode of Object.values(sc.expect.counters ?? {}))
        for (const name of Object.keys(perNode)) add(needs.counters, name, use(true));
      // A fault that runs `tc … netem` (delay, loss) needs the qdisc in the nodes' kernel.
      if (JSON.stringify(sc.faults).includes("netem")) add(needs.qdiscs, "netem", use(true));
    }
  }
  return needs;
}
