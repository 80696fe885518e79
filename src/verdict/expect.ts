/** Expectations + evidence → expected vs actual, one row per expectation. Pure. */
import { clientAggregate } from "../evidence/clients.js";
import type { ClientSummary, NodeEvidence, Percentiles } from "../evidence/types.js";
import type { Comparison, Expect } from "../scenario/schema.js";
import type { ExpectationResult } from "./result.js";

export function compare(actual: number, c: Comparison): boolean {
  switch (c.op) {
    case "==":
      return actual === c.value;
    case "!=":
      return actual !== c.value;
    case ">=":
      return actual >= c.value;
    case "<=":
      return actual <= c.value;
    case ">":
      return actual > c.value;
    case "<":
      return actual < c.value;
  }
}

/** Evidence of `node` and of its replicas (`client` → `client`, `client.1`, `client.2`, …). */
export function nodeInstances<T>(nodes: Record<string, T>, node: string): T[] {
  return Object.entries(nodes)
    .filter(
      ([name]) =>
        name === node || (name.startsWith(node + ".") && /^\d+$/.test(name.slice(node.length + 1))),
    )
    .map(([, ev]) => ev);
}

/** Sum of a counter over a node's instances; null when no instance has the counter at all. */
export function sumCounter(
  nodes: Record<string, NodeEvidence>,
  node: string,
  counter: string,
): number | null {
  const instances = nodeInstances(nodes, node).filter((ev) => ev.available.includes(counter));
  if (instances.length === 0) return null;
  return instances.reduce((sum, ev) => sum + (ev.counters[counter] ?? 0), 0);
}

const PERCENTILE_KEYS = ["p50", "p90", "p99", "max"] as const;

/** Records one expectation: its path, the comparison, and what was measured (or why nothing). */
type Row = (path: string, c: Comparison, actual: number | null, note?: string) => void;

export function evaluateExpect(
  expect: Expect,
  nodes: Record<string, NodeEvidence>,
  clients: ClientSummary,
  causes: string[] | undefined,
  sources: Record<string, string> = {},
  drops: Record<string, number> | null = null,
): ExpectationResult[] {
  const rows: ExpectationResult[] = [];
  const row: Row = (path, c, actual, note) =>
    rows.push({
      path,
      expected: c.text,
      actual: actual ?? note ?? null,
      ok: actual !== null && compare(actual, c),
      source: sources[path],
    });
  counterRows(expect, nodes, row);
  clientRows(expect, clients, row);
  listenRows(expect, nodes, row);
  packetRows(expect, nodes, row);
  socketRows(expect, nodes, row);
  for (const [reason, c] of Object.entries(expect.drops ?? {}))
    row(
      `drops.${reason}`,
      c,
      drops ? (drops[reason] ?? 0) : null,
      "drop reasons not recorded here",
    );
  if (expect.cause !== undefined && causes !== undefined)
    rows.push(causeRow(expect.cause, causes, sources.cause));
  return rows;
}

function counterRows(expect: Expect, nodes: Record<string, NodeEvidence>, row: Row): void {
  for (const [node, counters] of Object.entries(expect.counters ?? {})) {
    for (const [name, check] of Object.entries(counters)) {
      row(`counters.${node}.${name}`, check, sumCounter(nodes, node, name), "not on this kernel");
    }
  }
}

/** Outcome counts (`clients.ETIMEDOUT`) and latency percentiles (`clients.connectMs.p99`). */
function clientRows(expect: Expect, clients: ClientSummary, row: Row): void {
  for (const [key, check] of Object.entries(expect.clients ?? {})) {
    if ("op" in check) {
      row(`clients.${key}`, check as Comparison, clientAggregate(clients, key));
      continue;
    }
    const measured: Percentiles | null =
      key === "connectMs"
        ? clients.connectMs
        : key === "replyMs"
          ? clients.replyMs
          : key === "requestMs"
            ? (clients.requestMs ?? null)
            : null;
    for (const p of PERCENTILE_KEYS) {
      const c = (check as Partial<Record<(typeof PERCENTILE_KEYS)[number], Comparison>>)[p];
      if (c)
        row(
          `clients.${key}.${p}`,
          c,
          measured ? measured[p] : null,
          measured ? undefined : "no attempt measured",
        );
    }
  }
}

function listenRows(expect: Expect, nodes: Record<string, NodeEvidence>, row: Row): void {
  for (const [node, checks] of Object.entries(expect.listen ?? {})) {
    const listen = nodeInstances(nodes, node)[0]?.listen;
    const values = {
      maxRecvQ: listen ? Math.max(0, ...Object.values(listen.maxRecvQ)) : null,
      sendQ: listen ? Math.max(0, ...Object.values(listen.sendQ)) : null,
      maxSynRecv: listen ? listen.maxSynRecv : null,
    };
    for (const [k, c] of Object.entries(checks)) {
      if (c) row(`listen.${node}.${k}`, c, values[k as keyof typeof values], "not sampled");
    }
  }
}

/** Each instance's most in one sample, summed over replicas. */
function socketRows(expect: Expect, nodes: Record<string, NodeEvidence>, row: Row): void {
  for (const [node, checks] of Object.entries(expect.sockets ?? {})) {
    const sampled = nodeInstances(nodes, node).flatMap((ev) => (ev.sockets ? [ev.sockets] : []));
    for (const [state, c] of Object.entries(checks)) {
      const value =
        sampled.length === 0
          ? null
          : sampled.reduce((n, s) => n + (s.max[state as keyof typeof s.max] ?? 0), 0);
      row(`sockets.${node}.${state}`, c, value, "not sampled");
    }
  }
}

function packetRows(expect: Expect, nodes: Record<string, NodeEvidence>, row: Row): void {
  for (const [node, checks] of Object.entries(expect.packets ?? {})) {
    const packets = nodeInstances(nodes, node)[0]?.packets;
    for (const [k, c] of Object.entries(checks)) {
      if (!c) continue;
      const value = packets ? (packets[k as keyof typeof packets] as number) : null;
      row(`packets.${node}.${k}`, c, value, "not captured");
    }
  }
}

/** `none` means nothing else was named; a cause means it is among those named. */
function causeRow(
  cause: string | string[],
  causes: string[],
  source: string | undefined,
): ExpectationResult {
  const wanted = Array.isArray(cause) ? cause : [cause];
  const named = causes.length === 0 ? ["none"] : causes;
  const ok = wanted.every((w) =>
    w === "none" ? named.every((n) => n === "none") : named.includes(w),
  );
  return { path: "cause", expected: wanted.join(", "), actual: named.join(", "), ok, source };
}
