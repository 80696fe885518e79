/**
 * Evidence → named causes. Each rule reads counters per node (replicas folded into one group),
 * the listen queue and the client outcomes, adds findings with the numbers behind them, and
 * claims what it explains. Whatever abnormal is left unclaimed is reported as `unexplained`
 * with its numbers — a rule never guesses — and `none` needs nothing abnormal at all.
 *
 * The rules follow what the kernel was measured to do: docs/kernel-behaviour.md#failure-modes.
 */
import { withDropReasons } from "./drop-reasons.js";
import type { Evidence } from "../evidence/types.js";
import { CAUSE_NAMES, type Cause, type Diagnosis } from "./causes.js";
import { CAUSE_MODULES, CAUSES_IN_REPORT_ORDER } from "./causes/index.js";
import { DiagnosisContext, delta, type Group } from "./view.js";

/** Every cause's rule, in the table's order (causes/index.ts says why the order matters). */
const RULES: ReadonlyArray<(ctx: DiagnosisContext) => void> = CAUSE_MODULES.flatMap((m) =>
  m.rule ? [m.rule] : [],
);

/** Counters that name a cause by themselves: one that moved and is not explained is reported. */
const CAUSE_COUNTERS: readonly string[] = [
  ...new Set(CAUSES_IN_REPORT_ORDER.flatMap((m) => m.counters)),
];

/** Counters that move with trouble but name no cause alone (loss, resets of other sockets). */
const SYMPTOM_COUNTERS = [
  "TcpExtTCPSynRetrans",
  "TcpRetransSegs",
  "TcpExtTCPTimeouts",
  "TcpAttemptFails",
  "TcpEstabResets",
  "TcpOutRsts",
  "TcpExtEmbryonicRsts",
  "TcpExtSyncookiesFailed",
];

/**
 * Every /proc/net/netstat and /proc/net/snmp counter a rule reads (for dumps that leave out
 * zeros: `nstat -a` without -z).
 */
export const NETSTAT_COUNTERS_READ: readonly string[] = [
  ...new Set([
    ...CAUSE_COUNTERS.filter((c) => c.startsWith("Tcp")),
    ...SYMPTOM_COUNTERS,
    "TcpExtSyncookiesRecv",
    "TcpExtTCPKeepAlive",
    "TcpExtTCPFastRetrans",
    "TcpExtTCPSlowStartRetrans",
    "TcpExtTCPLossProbes",
    "TcpExtDelayedACKs",
    "TcpExtTW",
    "TcpPassiveOpens",
  ]),
];

const PHASE_WORDS = {
  connect: "while connecting",
  reply: "after connecting",
  done: "at the end",
} as const;

export function diagnose(evidence: Evidence): Diagnosis {
  const ctx = new DiagnosisContext(evidence);
  for (const rule of RULES) rule(ctx);
  if (!ctx.hasClientEvidence) {
    ctx.uncheck(
      "client outcomes: no client attempts were recorded: port-exhaustion and syn-blackhole not " +
        "checked; abort-on-overflow, active-reset, no-listener and retransmit-timeout rest on counters alone",
    );
  }
  const found: Cause[] = ctx.findings.map(({ claims: _claims, ...cause }) => cause);
  const rank = (c: Cause): number => (c.confidence === "strong" ? 0 : 1);
  found.sort(
    (a, b) => rank(a) - rank(b) || CAUSE_NAMES.indexOf(a.cause) - CAUSE_NAMES.indexOf(b.cause),
  );
  const rest = unexplained(ctx);
  const drops = evidence.dropReasons?.counts ?? null;
  const causes = [...found, ...rest].map((c) => withDropReasons(c, drops));
  return { causes: causes.length > 0 ? causes : [healthy(ctx)], unchecked: ctx.unchecked() };
}

/** One `unexplained` per group with cause counters or failed attempts that no finding claims. */
function unexplained(ctx: DiagnosisContext): Cause[] {
  const out: Cause[] = [];
  for (const g of ctx.groups) {
    const items: string[] = [];
    const numbers: Record<string, number> = {};
    for (const c of CAUSE_COUNTERS) {
      const v = g.counters[c] ?? 0;
      if (lateSegmentOnClient(g, c)) continue;
      if (v > 0 && !ctx.claimed({ group: g.name, counter: c })) {
        items.push(delta(c, v));
        numbers[c] = v;
      }
    }
    for (const [key, n] of g.outcomes.failed) {
      if (ctx.claimed({ group: g.name, outcome: key })) continue;
      const [outcome, phase] = key.split("@") as [string, keyof typeof PHASE_WORDS];
      items.push(`${n} of ${g.outcomes.attempts} attempts ${outcome} ${PHASE_WORDS[phase]}`);
      numbers[key] = n;
    }
    if (items.length === 0) continue;
    out.push({
      cause: "unexplained",
      node: g.name,
      confidence: "weak",
      because: [
        `${g.name}: ${items.join(", ")}: no rule explains this`,
        ...(ctx.hints.get(g.name) ?? []),
      ].join("; "),
      numbers,
    });
  }
  return out;
}

/**
 * TcpExtPAWSTimewait names a cause on a listener (timewait-paws: a new SYN met a TIME_WAIT).
 * On a client whose attempts all connected it is a late segment of a connection the client had
 * already closed, dropped by its TIME_WAIT: nothing failed. Seen with two vCPUs in a VM, which
 * can reorder a flow's segments (conntrack-table-full/mitigated on 7.2: +2 on the client).
 */
function lateSegmentOnClient(g: Group, counter: string): boolean {
  return counter === "TcpExtPAWSTimewait" && g.role === "client" && g.outcomes.failed.size === 0;
}

function healthy(ctx: DiagnosisContext): Cause {
  const symptoms: string[] = [];
  const numbers: Record<string, number> = {};
  for (const g of ctx.groups) {
    for (const c of SYMPTOM_COUNTERS) {
      const v = g.counters[c] ?? 0;
      if (v <= 0) continue;
      symptoms.push(`${g.name} ${delta(c, v)}`);
      numbers[`${g.name}.${c}`] = v;
    }
  }
  for (const h of ctx.handled) {
    for (const [k, v] of Object.entries(h.numbers)) numbers[`${h.node}.${k}`] = v;
  }
  const o = ctx.clientOutcomes();
  const clientsFine = ctx.hasClientEvidence;
  if (clientsFine) numbers["clientAttempts"] = o.attempts;
  const failed = o.attempts - o.connected;
  return {
    cause: "none",
    node: ctx.groups.length === 1 ? ctx.groups[0]!.name : "all",
    confidence: clientsFine && symptoms.length === 0 ? "strong" : "weak",
    because: [
      ...ctx.handled.map((h) => h.because),
      clientsFine
        ? failed > 0
          ? `${failed} of ${o.attempts} client attempts failed, each as said above; no other failure and no cause counter moved`
          : `all ${o.attempts} client attempts connected and no cause counter moved`
        : "no cause counter moved (no client outcomes to confirm)",
      ...(symptoms.length > 0 ? [`${symptoms.join(", ")} (alone these name no cause)`] : []),
    ].join("; "),
    numbers,
  };
}
