/**
 * The kernel diff of a matrix report: what differs between two kernels. Behaviour first (the
 * verdicts, causes, client outcomes and counters of compare's rules, counted only where both
 * kernels have the counter), then the kernels themselves: sysctls that exist on one only
 * (`tcp_tw_recycle`), drop reasons, counters that appeared or vanished, and the moved counters
 * one kernel lacks — shown as absent, never as 0.
 */
import { kernelReport } from "./merge.js";
import type { RunReport } from "../verdict/result.js";
import { compareReports, type ReportComparison } from "./compare.js";
import { TELLING_SYSCTLS } from "./kernel-facts.js";

export interface KernelDiff {
  a: string;
  b: string;
  releases: { a: string; b: string };
  /** Behaviour: compare's comparison of the two kernels' variants (absent counters apart). */
  behaviour: ReportComparison;
  /** Known only when the report carries both kernels' facts. */
  kernels?: {
    sysctls: { name: string; what: string; a: boolean; b: boolean }[];
    dropReasons: { a: string | true; b: string | true } | undefined;
    /** Counter names one kernel has and the other does not. */
    countersOnlyA: string[];
    countersOnlyB: string[];
  };
  /** Moved counters one kernel lacks: name → on which side it exists, and in how many variants. */
  absent: { counter: string; presentOn: "a" | "b"; variants: number }[];
}

export function diffKernels(report: RunReport, a: string, b: string): KernelDiff {
  const fa = report.kernels?.[a]?.facts;
  const fb = report.kernels?.[b]?.facts;
  const available = {
    ...(fa ? { a: new Set(fa.counters) } : {}),
    ...(fb ? { b: new Set(fb.counters) } : {}),
  };
  const behaviour = compareReports(
    kernelReport(report, a),
    kernelReport(report, b),
    { a: `kernel ${a}`, b: `kernel ${b}` },
    undefined,
    available,
  );
  const absent = new Map<string, { presentOn: "a" | "b"; variants: number }>();
  for (const v of behaviour.variants) {
    for (const name of new Set(v.absent.map((x) => x.counter))) {
      const x = v.absent.find((y) => y.counter === name)!;
      const entry = absent.get(name) ?? { presentOn: x.a === null ? "b" : "a", variants: 0 };
      entry.variants++;
      absent.set(name, entry);
    }
  }
  const diff: KernelDiff = {
    a,
    b,
    releases: {
      a: report.kernels?.[a]?.release ?? a,
      b: report.kernels?.[b]?.release ?? b,
    },
    behaviour,
    absent: [...absent.entries()]
      .map(([counter, e]) => ({ counter, ...e }))
      .sort((x, y) => x.counter.localeCompare(y.counter)),
  };
  if (fa && fb) {
    const setA = new Set(fa.counters);
    const setB = new Set(fb.counters);
    diff.kernels = {
      sysctls: Object.entries(TELLING_SYSCTLS)
        .map(([name, what]) => ({
          name,
          what,
          a: fa.sysctls[name] ?? false,
          b: fb.sysctls[name] ?? false,
        }))
        .filter((s) => s.a !== s.b),
      dropReasons:
        (fa.noDropReasons === undefined) !== (fb.noDropReasons === undefined)
          ? { a: fa.noDropReasons ?? true, b: fb.noDropReasons ?? true }
          : undefined,
      // IcmpMsg… counters appear once an ICMP type was seen: not a kernel's difference.
      countersOnlyA: fa.counters.filter((c) => !setB.has(c) && !c.startsWith("IcmpMsg")),
      countersOnlyB: fb.counters.filter((c) => !setA.has(c) && !c.startsWith("IcmpMsg")),
    };
  }
  return diff;
}

/** Long name lists shortened: the TcpExt ones first (what TCP people look for). */
function names(list: string[], max = 14): string {
  const sorted = [
    ...list.filter((c) => c.startsWith("TcpExt")),
    ...list.filter((c) => !c.startsWith("TcpExt")),
  ];
  const shown = sorted.slice(0, max).join(", ");
  return sorted.length > max ? `${shown}, … (${sorted.length - max} more)` : shown;
}

/** The kernels' own differences, as lines (after the behaviour's). */
export function kernelFactLines(d: KernelDiff): string[] {
  const lines: string[] = [];
  const k = d.kernels;
  if (k) {
    for (const s of k.sysctls) lines.push(`${s.name} exists on ${s.a ? d.a : d.b} only: ${s.what}`);
    if (k.dropReasons)
      lines.push(
        `drop reasons: ${k.dropReasons.a === true ? `recorded on ${d.a}` : `none on ${d.a} (${k.dropReasons.a})`}; ${k.dropReasons.b === true ? `recorded on ${d.b}` : `none on ${d.b} (${k.dropReasons.b})`}`,
      );
    if (k.countersOnlyA.length > 0)
      lines.push(
        `counters on ${d.a} only (${k.countersOnlyA.length}, vanished on ${d.b}): ${names(k.countersOnlyA)}`,
      );
    if (k.countersOnlyB.length > 0)
      lines.push(
        `counters on ${d.b} only (${k.countersOnlyB.length}, appeared since ${d.a}): ${names(k.countersOnlyB)}`,
      );
  }
  for (const side of ["a", "b"] as const) {
    const moved = d.absent.filter((x) => x.presentOn === side);
    if (moved.length === 0) continue;
    const [here, there] = side === "a" ? [d.a, d.b] : [d.b, d.a];
    lines.push(
      `moved on ${here}, absent on ${there} (not 0: ${there} has no such counter): ${moved.map((x) => `${x.counter} (${x.variants} variant${x.variants === 1 ? "" : "s"})`).join(", ")}`,
    );
  }
  return lines;
}
