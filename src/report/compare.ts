/**
 * What changed between two runs of the same scenarios (two kernels, two sysctl sets, before and
 * after a mitigation): variants are matched by scenario and variant name, and for each pair the
 * verdicts, causes, client outcomes, listen queues, expectations and counters are compared. Pure:
 * two reports in, a comparison out; `formatComparison` is its table.
 *
 * Counters are noisy (a retransmit more or less, a delayed ACK), so a counter is reported only
 * when the difference means something — see `counterDiffers`. Client outcomes and the listen
 * queue's limit are exact (the harness counts them), so any difference there is reported.
 */
import type { RunReport, VariantResult, VerdictKind } from "../verdict/result.js";
import { NOTABLE_COUNTER } from "./notable.js";

/** When two counter deltas are "different", not noise. */
export interface CounterRule {
  /** The difference must be more than this, in absolute value. @default 10 */
  minAbsolute: number;
  /** …and the larger (in magnitude) must be more than this times the smaller. @default 1.5 (50%) */
  minRatio: number;
}

export const DEFAULT_COUNTER_RULE: CounterRule = { minAbsolute: 10, minRatio: 1.5 };

/**
 * A counter delta differs when one side is 0 and the other is not (something started or stopped
 * happening), or when the two differ by more than `minAbsolute` AND one is more than `minRatio`
 * times the other: 51 vs 53 is noise, 40 vs 190 is not, 1000 vs 1012 is not a change, 0 vs 2 is.
 * Deltas of opposite signs (gauges like TcpCurrEstab) differ when they are `minAbsolute` apart.
 */
export function counterDiffers(
  a: number,
  b: number,
  rule: CounterRule = DEFAULT_COUNTER_RULE,
): boolean {
  if (a === b) return false;
  if (a === 0 || b === 0) return true;
  const gap = Math.abs(a - b);
  if (Math.sign(a) !== Math.sign(b)) return gap > rule.minAbsolute;
  const lo = Math.min(Math.abs(a), Math.abs(b));
  const hi = Math.max(Math.abs(a), Math.abs(b));
  return gap > rule.minAbsolute && hi > rule.minRatio * lo;
}

export interface Pair<T> {
  a: T;
  b: T;
}

export interface VariantComparison {
  scenario: string;
  variant: string;
  /** Anything below differs (verdict, causes, outcomes, listen, expectations or counters). */
  changed: boolean;
  verdict: Pair<VerdictKind> & { changed: boolean };
  /** Cause names, sorted; `changed` when the two sets differ. */
  causes: Pair<string[]> & { changed: boolean };
  /** Client outcomes (and `attempts`) whose counts differ. */
  outcomes: ({ outcome: string } & Pair<number>)[];
  /** Listen-queue figures that differ: the limit exactly, the sampled depths by the counter rule. */
  listen: ({ node: string; port: number | null; field: "maxRecvQ" | "sendQ" | "maxSynRecv" } & Pair<
    number | null
  >)[];
  /** Expectations met on one side and not the other (or present on one side only). */
  expectations: ({ path: string } & Pair<{ ok: boolean; actual: number | string | null } | null>)[];
  /**
   * Counter deltas that differ by the rule, per node (replicas one by one); the notable ones
   * (drops, overflows, retransmits, resets: see notable.ts) first.
   */
  counters: ({ node: string; counter: string; notable: boolean } & Pair<number>)[];
  /**
   * Counters that moved on one side and do not exist on the other's kernel (null there): a
   * difference of kernels, not of behaviour, so not in `changed`. Only when the sides' counter
   * names are known (a matrix report's kernel facts).
   */
  absent: ({ node: string; counter: string } & Pair<number | null>)[];
  /** A side that did not run (SKIP, ERROR): its reason; then only the verdicts are compared. */
  notRun?: Pair<string | null>;
  /** For context, not a difference by itself: connect p50 / p99. */
  connectMs: Pair<{ p50: number; p99: number } | null>;
}

export interface ReportSide {
  label: string;
  kernel: string;
  runtime: string;
  startedAt: string;
  version: string;
  /** The address families its variants ran over (`ipv4`, `ipv6`, `dual`): an IPv4 run compares with an IPv6 one. */
  families: string[];
}

export interface ReportComparison {
  a: ReportSide;
  b: ReportSide;
  rule: CounterRule;
  variants: VariantComparison[];
  /** In one report only: a whole scenario (no `variant`) or one variant of a shared scenario. */
  onlyInA: { scenario: string; variant?: string }[];
  onlyInB: { scenario: string; variant?: string }[];
  summary: { compared: number; changed: number; onlyInA: number; onlyInB: number };
}

const side = (r: RunReport, label: string): ReportSide => ({
  label,
  kernel: r.kernel,
  runtime: r.runtime,
  startedAt: r.startedAt,
  version: r.tool.version,
  families: [
    ...new Set(r.scenarios.flatMap((s) => s.variants.map((v) => v.family ?? "ipv4"))),
  ].sort(),
});

const keysOf = (...objs: object[]) => [...new Set(objs.flatMap((o) => Object.keys(o)))];

/** The counter names each side's kernel has, when known: a name missing there is "absent". */
export type Available = Partial<Pair<ReadonlySet<string>>>;
const familyOf = (v: VariantResult) => v.family ?? "ipv4";
/** /proc/net/snmp's Ip, IpExt, Icmp, Udp and snmp6's Ip6, Icmp6, Udp6 groups. */
const PER_FAMILY_MIB = /^(Ip|IpExt|Icmp|IcmpMsg|Udp|UdpLite|Ip6|Icmp6|Udp6|UdpLite6)[A-Z]/;

function compareCounters(
  a: VariantResult,
  b: VariantResult,
  rule: CounterRule,
  available: Available,
): Pick<VariantComparison, "counters" | "absent"> {
  const out: VariantComparison["counters"] = [];
  const absent: VariantComparison["absent"] = [];
  for (const node of keysOf(a.nodes, b.nodes)) {
    const ca = a.nodes[node]?.counters ?? {};
    const cb = b.nodes[node]?.counters ?? {};
    // Only moved counters are in a report: a missing one is a zero delta — unless the kernel
    // has no such counter at all.
    for (const counter of keysOf(ca, cb).sort()) {
      // An IPv4 run against an IPv6 one: each family's IP, ICMP and UDP MIB moves on its own
      // side only (snmp against snmp6); TCP's and conntrack's count both and are compared.
      if (familyOf(a) !== familyOf(b) && PER_FAMILY_MIB.test(counter)) continue;
      // IcmpMsg… lines list only the ICMP types seen so far: never "absent", only unseen.
      const dynamic = counter.startsWith("IcmpMsg");
      const missA = !dynamic && available.a !== undefined && !available.a.has(counter);
      const missB = !dynamic && available.b !== undefined && !available.b.has(counter);
      if (missA || missB) {
        absent.push({
          node,
          counter,
          a: missA ? null : (ca[counter] ?? 0),
          b: missB ? null : (cb[counter] ?? 0),
        });
        continue;
      }
      const va = ca[counter] ?? 0;
      const vb = cb[counter] ?? 0;
      if (counterDiffers(va, vb, rule))
        out.push({ node, counter, notable: NOTABLE_COUNTER.test(counter), a: va, b: vb });
    }
  }
  // Stable: within each group, node by node as in the report.
  return {
    counters: [...out.filter((c) => c.notable), ...out.filter((c) => !c.notable)],
    absent,
  };
}

function compareListen(
  a: VariantResult,
  b: VariantResult,
  rule: CounterRule,
): VariantComparison["listen"] {
  const out: VariantComparison["listen"] = [];
  for (const node of keysOf(a.nodes, b.nodes)) {
    const la = a.nodes[node]?.listen;
    const lb = b.nodes[node]?.listen;
    if (!la && !lb) continue;
    const ports = keysOf(la?.sendQ ?? {}, lb?.sendQ ?? {}, la?.maxRecvQ ?? {}, lb?.maxRecvQ ?? {})
      .map(Number)
      .sort((x, y) => x - y);
    for (const port of ports) {
      const sa = la?.sendQ[port] ?? null;
      const sb = lb?.sendQ[port] ?? null;
      if (sa !== sb) out.push({ node, port, field: "sendQ", a: sa, b: sb });
      const ma = la?.maxRecvQ[port] ?? null;
      const mb = lb?.maxRecvQ[port] ?? null;
      if (ma === null || mb === null ? ma !== mb : counterDiffers(ma, mb, rule))
        out.push({ node, port, field: "maxRecvQ", a: ma, b: mb });
    }
    const ya = la?.maxSynRecv ?? null;
    const yb = lb?.maxSynRecv ?? null;
    if (ya === null || yb === null ? ya !== yb : counterDiffers(ya, yb, rule))
      out.push({ node, port: null, field: "maxSynRecv", a: ya, b: yb });
  }
  return out;
}

function compareExpectations(
  a: VariantResult,
  b: VariantResult,
): VariantComparison["expectations"] {
  const byPath = (v: VariantResult) =>
    new Map(v.expectations.map((x) => [x.path, { ok: x.ok, actual: x.actual }]));
  const ea = byPath(a);
  const eb = byPath(b);
  const out: VariantComparison["expectations"] = [];
  for (const path of new Set([...ea.keys(), ...eb.keys()])) {
    const xa = ea.get(path) ?? null;
    const xb = eb.get(path) ?? null;
    if (xa?.ok !== xb?.ok) out.push({ path, a: xa, b: xb });
  }
  return out;
}

export function compareVariants(
  scenario: string,
  a: VariantResult,
  b: VariantResult,
  rule: CounterRule = DEFAULT_COUNTER_RULE,
  available: Available = {},
): VariantComparison {
  // A variant that did not run (SKIP, ERROR) has nothing to compare but its verdict: its zero
  // counters against the other's would be a list of everything that moved.
  const ran = (v: VariantResult) => v.verdict === "pass" || v.verdict === "fail";
  if (!ran(a) || !ran(b)) {
    const changed = a.verdict !== b.verdict;
    const causes = (v: VariantResult) => [...new Set(v.causes.map((c) => c.cause))].sort();
    return {
      scenario,
      variant: a.variant,
      changed,
      verdict: { a: a.verdict, b: b.verdict, changed },
      causes: { a: causes(a), b: causes(b), changed: false },
      outcomes: [],
      listen: [],
      expectations: [],
      counters: [],
      absent: [],
      connectMs: { a: null, b: null },
      notRun: { a: ran(a) ? null : a.reason, b: ran(b) ? null : b.reason },
    };
  }
  const causes = (v: VariantResult) => [...new Set(v.causes.map((c) => c.cause))].sort();
  const ca = causes(a);
  const cb = causes(b);
  const outcomes: VariantComparison["outcomes"] = [];
  if (a.clients.attempts !== b.clients.attempts)
    outcomes.push({ outcome: "attempts", a: a.clients.attempts, b: b.clients.attempts });
  for (const o of keysOf(a.clients.outcomes, b.clients.outcomes).sort()) {
    const na = a.clients.outcomes[o] ?? 0;
    const nb = b.clients.outcomes[o] ?? 0;
    if (na !== nb) outcomes.push({ outcome: o, a: na, b: nb });
  }
  const pct = (v: VariantResult) =>
    v.clients.connectMs ? { p50: v.clients.connectMs.p50, p99: v.clients.connectMs.p99 } : null;
  const result: VariantComparison = {
    scenario,
    variant: a.variant,
    changed: false,
    verdict: { a: a.verdict, b: b.verdict, changed: a.verdict !== b.verdict },
    causes: { a: ca, b: cb, changed: ca.join("\n") !== cb.join("\n") },
    outcomes,
    listen: compareListen(a, b, rule),
    expectations: compareExpectations(a, b),
    ...compareCounters(a, b, rule, available),
    connectMs: { a: pct(a), b: pct(b) },
  };
  result.changed =
    result.verdict.changed ||
    result.causes.changed ||
    [result.outcomes, result.listen, result.expectations, result.counters].some(
      (list) => list.length > 0,
    );
  return result;
}

/** Compare report B against report A; `labels` name them in the output (their files). */
export function compareReports(
  a: RunReport,
  b: RunReport,
  labels: Pair<string> = { a: "A", b: "B" },
  rule: CounterRule = DEFAULT_COUNTER_RULE,
  available: Available = {},
): ReportComparison {
  const variants: VariantComparison[] = [];
  const onlyInA: ReportComparison["onlyInA"] = [];
  const onlyInB: ReportComparison["onlyInB"] = [];
  const scenariosB = new Map(b.scenarios.map((s) => [s.name, s]));
  const namesA = new Set(a.scenarios.map((s) => s.name));
  for (const sa of a.scenarios) {
    const sb = scenariosB.get(sa.name);
    if (!sb) {
      onlyInA.push({ scenario: sa.name });
      continue;
    }
    const variantsB = new Map(sb.variants.map((v) => [v.variant, v]));
    for (const va of sa.variants) {
      const vb = variantsB.get(va.variant);
      if (vb) variants.push(compareVariants(sa.name, va, vb, rule, available));
      else onlyInA.push({ scenario: sa.name, variant: va.variant });
    }
    const variantsA = new Set(sa.variants.map((v) => v.variant));
    for (const vb of sb.variants)
      if (!variantsA.has(vb.variant)) onlyInB.push({ scenario: sb.name, variant: vb.variant });
  }
  for (const sb of b.scenarios) if (!namesA.has(sb.name)) onlyInB.push({ scenario: sb.name });
  return {
    a: side(a, labels.a),
    b: side(b, labels.b),
    rule,
    variants,
    onlyInA,
    onlyInB,
    summary: {
      compared: variants.length,
      changed: variants.filter((v) => v.changed).length,
      onlyInA: onlyInA.length,
      onlyInB: onlyInB.length,
    },
  };
}
