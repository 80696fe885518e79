/**
 * What the rules see of the evidence: nodes folded into groups (replicas `client.1`, `client.2`
 * are one `client`: they are clones with the same settings), counters summed per group, client
 * attempts counted by how they ended, and the bookkeeping every rule shares — which counters
 * and failures a finding explains (`claims`) and what could not be checked (`unchecked`).
 */
import type {
  Counters,
  Evidence,
  ListenQueueEvidence,
  NodeRole,
  SocketEvidence,
} from "../evidence/types.js";
import type { Cause } from "./causes.js";
import { Outcomes } from "./outcomes.js";

/**
 * A count at least this large is an event, not noise. Thresholds, never exact counts: the same
 * 30-connect burst gave ListenOverflows 51 to 113 on one kernel.
 */
export const MANY = 10;

export interface Group {
  /** The node, or the replica base (`client`) when several replicas were folded. */
  name: string;
  members: string[];
  role: NodeRole;
  /** Counter deltas, summed over the members. */
  counters: Counters;
  /** Counters that exist on the members' kernel. */
  available: Set<string>;
  /** False when no member has counters (collection failed, or nobody read them). */
  collected: boolean;
  listen: ListenQueueEvidence[];
  /** Socket states of the members that were sampled. */
  sockets: SocketEvidence[];
  outcomes: Outcomes;
}

export type Claim = { group: string; counter: string } | { group: string; outcome: string };

export interface Finding extends Cause {
  /** The counters and failed attempts this finding explains. */
  claims: Claim[];
}

/**
 * Something abnormal-looking that is a safeguard doing its job, not a failure of its own
 * (keepalive finding a vanished peer): it explains what it claims, names no cause, and is said
 * in the `none` verdict.
 */
export interface Handled {
  node: string;
  because: string;
  numbers: Record<string, number>;
  claims: Claim[];
}

const baseName = (node: string): string => node.replace(/\.\d+$/, "");

function buildGroups(ev: Evidence): Group[] {
  const names = new Set([...Object.keys(ev.nodes), ...ev.attempts.map((a) => a.node)]);
  for (const name of Object.keys(ev.roles)) {
    // `roles` may name a replica base (`client`) while nodes are `client.1`, `client.2`.
    if (![...names].some((n) => n !== name && baseName(n) === name)) names.add(name);
  }
  const byBase = new Map<string, string[]>();
  for (const n of [...names].sort()) {
    const b = baseName(n);
    byBase.set(b, [...(byBase.get(b) ?? []), n]);
  }
  const groups: Group[] = [];
  for (const [base, members] of byBase) {
    const first = members[0]!;
    const g: Group = {
      name: members.length > 1 ? base : first,
      members,
      role: ev.roles[first] ?? ev.roles[base] ?? "other",
      counters: {},
      available: new Set(),
      collected: false,
      listen: [],
      sockets: [],
      outcomes: new Outcomes(),
    };
    for (const m of members) {
      const node = ev.nodes[m];
      if (node === undefined) continue;
      g.collected ||= Object.keys(node.counters).length > 0 || node.available.length > 0;
      for (const [k, v] of Object.entries(node.counters)) {
        g.counters[k] = (g.counters[k] ?? 0) + v;
        g.available.add(k);
      }
      node.available.forEach((k) => g.available.add(k));
      if (node.listen) g.listen.push(node.listen);
      if (node.sockets) g.sockets.push(node.sockets);
    }
    groups.push(g);
  }
  for (const a of ev.attempts) {
    groups.find((g) => g.members.includes(a.node))!.outcomes.add(a.outcome, a.phase, a.connectMs);
  }
  if (ev.attempts.length === 0 && ev.clients.attempts > 0) {
    // Only the summary is known: no phases. A reset or a missing reply came after connecting;
    // anything else while connecting.
    const client = groups.find((g) => g.role === "client") ?? newClientGroup(groups);
    for (const [outcome, n] of Object.entries(ev.clients.outcomes)) {
      const phase = outcome === "ECONNRESET" || outcome === "noReply" ? "reply" : "connect";
      client.outcomes.add(outcome, phase, undefined, n);
    }
  }
  return groups;
}

function newClientGroup(groups: Group[]): Group {
  const g: Group = {
    name: "client",
    members: ["client"],
    role: "client",
    counters: {},
    available: new Set(),
    collected: false,
    listen: [],
    sockets: [],
    outcomes: new Outcomes(),
  };
  groups.push(g);
  return g;
}

interface Asked {
  counter: string;
  consequence: string;
  /** Replaces "X does not exist on this kernel" when absence means "not collected". */
  missingLine?: (group: string) => string;
  asked: Set<string>;
  missing: Set<string>;
}

export interface NeedOptions {
  /** What is lost without the counter; default `${rule} not checked`. */
  consequence?: string;
  missingLine?: (group: string) => string;
}

/** Shared state of one diagnosis: the groups, the findings so far, claims and unchecked lines. */
export class DiagnosisContext {
  readonly groups: Group[];
  readonly findings: Finding[] = [];
  readonly handled: Handled[] = [];
  /** Per group: sentences that belong to an `unexplained` there, if one is reported. */
  readonly hints = new Map<string, string[]>();
  private readonly claims = new Set<string>();
  private readonly asked = new Map<string, Asked>();
  private readonly notCollected = new Map<string, Set<string>>();
  private readonly lines: string[] = [];

  constructor(readonly evidence: Evidence) {
    this.groups = buildGroups(evidence);
  }

  byRole(...roles: NodeRole[]): Group[] {
    return this.groups.filter((g) => roles.includes(g.role));
  }

  /** The accepting side: servers, and nodes of no declared role. */
  listeners(): Group[] {
    return this.byRole("server", "other");
  }

  clients(): Group[] {
    return this.byRole("client");
  }

  /** Were client attempts recorded at all? Without them, rules that read errnos are blind. */
  get hasClientEvidence(): boolean {
    return this.clients().some((g) => g.outcomes.attempts > 0);
  }

  /** All client attempts together. */
  clientOutcomes(): Outcomes {
    const all = new Outcomes();
    this.clients().forEach((g) => all.merge(g.outcomes));
    return all;
  }

  /** Sum of a counter over groups (absent counts as 0). */
  sum(groups: Group[], counter: string): number {
    return groups.reduce((n, g) => n + (g.counters[counter] ?? 0), 0);
  }

  has(g: Group, counter: string): boolean {
    return g.available.has(counter);
  }

  /** The counter's delta; undefined when it does not exist there. */
  get(g: Group, counter: string): number | undefined {
    return g.available.has(counter) ? (g.counters[counter] ?? 0) : undefined;
  }

  /**
   * A counter a rule depends on. When it does not exist, that is recorded (a line in
   * `unchecked`) and undefined comes back: the rule must not pass silently.
   */
  need(g: Group, counter: string, rule: string, opts: NeedOptions = {}): number | undefined {
    if (!g.collected) {
      const rules = this.notCollected.get(g.name) ?? new Set();
      this.notCollected.set(g.name, rules.add(rule));
      return undefined;
    }
    const consequence = opts.consequence ?? `${rule} not checked`;
    const key = `${counter}\0${consequence}`;
    const a: Asked = this.asked.get(key) ?? {
      counter,
      consequence,
      ...(opts.missingLine ? { missingLine: opts.missingLine } : {}),
      asked: new Set(),
      missing: new Set(),
    };
    this.asked.set(key, a);
    a.asked.add(g.name);
    const v = this.get(g, counter);
    if (v === undefined) a.missing.add(g.name);
    return v;
  }

  /** A free-form line for `unchecked`. */
  uncheck(line: string): void {
    this.lines.push(line);
  }

  hint(group: string, sentence: string): void {
    this.hints.set(group, [...(this.hints.get(group) ?? []), sentence]);
  }

  add(f: Finding): void {
    this.findings.push(f);
    for (const c of f.claims) this.claims.add(claimKey(c));
  }

  /** A safeguard that did its job: what it claims is explained, and no cause is named for it. */
  handle(h: Handled): void {
    this.handled.push(h);
    this.claimOnly(h.claims);
  }

  /** Mark counters or failures as accounted for without a finding of their own. */
  claimOnly(claims: Claim[]): void {
    for (const c of claims) this.claims.add(claimKey(c));
  }

  claimed(c: Claim): boolean {
    return this.claims.has(claimKey(c));
  }

  unchecked(): string[] {
    const out: string[] = [];
    for (const a of this.asked.values()) {
      if (a.missing.size === 0) continue;
      if (a.missingLine) out.push(...[...a.missing].map(a.missingLine));
      else if (a.missing.size === a.asked.size)
        out.push(`${a.counter} does not exist on this kernel: ${a.consequence}`);
      else
        out.push(
          `${a.counter} does not exist on ${[...a.missing].join(", ")}: ${a.consequence} there`,
        );
    }
    for (const [group, rules] of this.notCollected) {
      out.push(`${group}: no counters were collected: ${[...rules].join(", ")} not checked`);
    }
    return [...new Set([...out, ...this.lines])];
  }
}

function claimKey(c: Claim): string {
  return "counter" in c ? `${c.group}\0c\0${c.counter}` : `${c.group}\0o\0${c.outcome}`;
}

/** `TcpExtListenOverflows +45` — a delta as the reports show it. */
export function delta(counter: string, v: number): string {
  return `${counter} ${v >= 0 ? "+" : ""}${v}`;
}

/** Claims on every failed attempt of `keys` in each client group that has them. */
export function outcomeClaims(groups: Group[], pick: (o: Outcomes) => string[]): Claim[] {
  return groups.flatMap((g) => pick(g.outcomes).map((outcome) => ({ group: g.name, outcome })));
}

/** Claims on counters of one group. */
export function counterClaims(g: Group, ...counters: string[]): Claim[] {
  return counters.map((counter) => ({ group: g.name, counter }));
}

/**
 * "45 of 50 client attempts stalled in SYN retransmit (45 timed out)" — or "" when the clients
 * were fine or not recorded.
 */
export function describeStalls(o: Outcomes, who = "client attempts"): string {
  const stalled = o.connectStalls + o.slowConnects;
  if (o.attempts === 0 || stalled === 0) return "";
  const parts = [];
  if (o.connectStalls > 0) parts.push(`${o.connectStalls} timed out`);
  if (o.slowConnects > 0) parts.push(`${o.slowConnects} connected after ≥1 s`);
  return `${stalled} of ${o.attempts} ${who} stalled in SYN retransmit (${parts.join(", ")})`;
}

/** "1 attempt", "3 attempts". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "; " + the non-empty parts. */
export function joinParts(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("; ");
}
