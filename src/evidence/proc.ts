/**
 * Parsers for the kernel's own text: /proc/net/netstat, /proc/net/snmp, `nstat -az`,
 * /proc/net/stat/nf_conntrack and the LISTEN rows of /proc/net/tcp. Pure functions.
 *
 * Counters are keyed by name, never by position: TcpExt gains counters with every kernel
 * (6.1 adds TCPMigrateReq*, 6.18 adds PAWSTimewait, …).
 */
import { type SocketStates, tcpStateName } from "./tcp-states.js";
import type { Counters, ListenSocket } from "./types.js";

/**
 * /proc/net/netstat and /proc/net/snmp share one shape: pairs of lines, a header
 * `Prefix: Name1 Name2 …` then `Prefix: v1 v2 …`. Names come out as nstat spells them
 * (`TcpExt:` + `ListenOverflows` → `TcpExtListenOverflows`). Several files may be concatenated.
 */
/**
 * /proc/net/snmp6: one `Name value` pair a line, names already prefixed (`Ip6OutDiscards`,
 * `Icmp6InErrors`, `Udp6SndbufErrors`): IPv6's own IP, ICMP and UDP counters. TCP has none
 * there: `Tcp:` in /proc/net/snmp counts both families.
 */
export function parseSnmp6(text: string): Counters {
  const out: Counters = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9]*6[A-Za-z0-9]*)\s+(\d+)\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseProcNetCounters(text: string): Counters {
  const counters: Counters = {};
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i]!;
    const vals = lines[i + 1]!;
    const colon = head.indexOf(":");
    const prefix = head.slice(0, colon);
    if (colon < 0 || !vals.startsWith(prefix + ":")) {
      // Out of step (a truncated read): resynchronise on the next line.
      i -= 1;
      continue;
    }
    const names = head
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const values = vals
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    names.forEach((name, k) => {
      const v = Number(values[k]);
      if (name !== "" && Number.isFinite(v)) counters[prefix + name] = v;
    });
  }
  return counters;
}

/** `nstat -az` (or `nstat -a`): `#kernel` then `Name  value  rate` rows. */
export function parseNstat(text: string): Counters {
  const counters: Counters = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s+(\d+)(\s|$)/.exec(line.trim());
    if (m) counters[m[1]!] = Number(m[2]);
  }
  return counters;
}

/** True when the text looks like nstat output rather than raw /proc/net files. */
export function looksLikeNstat(text: string): boolean {
  return /^#kernel/m.test(text) || !/^\w+: /m.test(text);
}

/** Parse either format. */
export function parseCounterDump(text: string): Counters {
  return looksLikeNstat(text) ? parseNstat(text) : parseProcNetCounters(text);
}

/**
 * /proc/net/stat/nf_conntrack: a header of field names, then one row of hex values per CPU.
 * Summed over CPUs, named `NfConntrack` + CamelCase field (`insert_failed` →
 * `NfConntrackInsertFailed`). `entries` is a level (the table's size), not a counter: a
 * before/after difference of it means nothing, so it is left out.
 */
export function parseConntrackStat(text: string): Counters {
  return parseStatTable(text, "NfConntrack");
}

/**
 * /proc/net/stat/arp_cache, the IPv4 neighbour table's statistics (only in the initial network
 * namespace: the table is the kernel's), in the same layout: `ArpCacheTableFulls` counts entries
 * that could not be created because the table was past gc_thresh3. `entries` — the same in every
 * row, the table's size now — is kept as the level `ArpCacheEntries`.
 */
export function parseArpCacheStat(text: string): Counters {
  return parseStatTable(text, "ArpCache", true);
}

/**
 * A /proc/net/stat table: per-CPU hex rows summed, named `prefix` + CamelCase. `entries` is left
 * out, or with `keepEntries` taken once (every row holds the same level) as `prefix` + Entries.
 */
function parseStatTable(text: string, prefix: string, keepEntries = false): Counters {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length < 2) return {};
  const names = lines[0]!.trim().split(/\s+/);
  const counters: Counters = {};
  for (const row of lines.slice(1)) {
    row
      .trim()
      .split(/\s+/)
      .forEach((hex, k) => {
        const field = names[k];
        if (field === undefined || (field === "entries" && !keepEntries)) return;
        const key = prefix + field.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
        const v = parseInt(hex, 16);
        if (!Number.isFinite(v)) return;
        counters[key] = field === "entries" ? (counters[key] ?? v) : (counters[key] ?? 0) + v;
      });
  }
  return counters;
}

/** TCP states in /proc/net/tcp's `st` column. */
const TCP_LISTEN = 0x0a;
const TCP_SYN_RECV = 0x03;

export interface ProcNetTcp {
  /** Listening ports with their accept-queue depth (`sendQ` is not in this file: 0). */
  listen: ListenSocket[];
  /** Rows in SYN_RECV (request sockets: half-open connections). */
  synRecv: number;
  /** Every row counted by its state. */
  states: SocketStates;
}

/**
 * /proc/net/tcp (and tcp6). For a LISTEN row the kernel puts the accept-queue depth in
 * rx_queue (ss's Recv-Q), so the depth can be sampled without forking `ss` in the node. The
 * queue's limit (ss's Send-Q) is not in this file — tx_queue is write_seq − snd_una, 0 for a
 * listener — and comes from one `ss -lnt` instead (parseSsListen).
 */
export function parseProcNetTcp(text: string): ProcNetTcp {
  const listen: ListenSocket[] = [];
  const states: SocketStates = {};
  let synRecv = 0;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const state = parseInt(f[3]!, 16);
    const name = tcpStateName(state);
    if (name) states[name] = (states[name] ?? 0) + 1;
    if (state === TCP_SYN_RECV) synRecv++;
    if (state !== TCP_LISTEN) continue;
    const port = parseInt(f[1]!.split(":")[1] ?? "", 16);
    const rx = parseInt(f[4]!.split(":")[1] ?? "", 16);
    listen.push({ port, recvQ: Number.isFinite(rx) ? rx : 0, sendQ: 0 });
  }
  return { listen, synRecv, states };
}

/** `ss -lnt` (with or without its header): LISTEN rows → port, Recv-Q, Send-Q. */
export function parseSsListen(text: string): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== "LISTEN" || f.length < 4) continue;
    const port = Number(f[3]!.slice(f[3]!.lastIndexOf(":") + 1));
    out.push({ port, recvQ: Number(f[1]), sendQ: Number(f[2]) });
  }
  return out;
}

/** after − before for every counter present after; counters only in `before` are dropped. */
export function counterDeltas(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}
