/**
 * `diagnose --pcap FILE…`: what packet captures (tcpdump -w) say by themselves. Per capture,
 * per server port: SYNs retransmitted with no SYN-ACK, SYN-ACKs with no final ACK, final ACKs
 * the server ignored (it resent its SYN-ACK), RSTs told passive (the stack's, for no socket:
 * IP id 0, or over IPv6 window 0 and no options) from a socket's abort by isPassiveRst in
 * src/evidence/flows.ts, the SYN retransmit schedule and
 * zero windows. It names the cause the packets point at, the causes they leave open, and what
 * only counters can tell (a full SYN queue from a firewall, a conntrack drop from the path).
 * Pure: parsed captures in, findings out. Flows come from the parser the runs' captures use.
 */
import { type FlowSummary, summarizeFlows } from "../evidence/flows.js";
import { type PcapCapture } from "../evidence/pcap.js";
import type { Cause } from "./causes.js";
import type { HostDiagnosis } from "./host.js";
import { whatToTry } from "./mitigations.js";
import { MANY } from "./view.js";

export interface PacketFacts {
  file: string;
  /** Flows whose opening SYN was captured. */
  flows: number;
  connected: number;
  /** SYNs that got nothing back (no SYN-ACK, no RST), and of those, retransmitted. */
  synUnanswered: number;
  synUnansweredRetransmitted: number;
  /** SYN-ACKs whose final ACK never came. */
  synAckNoFinalAck: number;
  /** Final ACKs the server did not take: it resent its SYN-ACK afterwards, or reset (IP id 0). */
  finalAckIgnored: number;
  finalAckReset: number;
  /** SYNs answered by the stack's RST (IP id 0): nothing listened. */
  refused: number;
  /** Server RSTs from a socket (non-zero IP id) on an established connection. */
  serverActiveRsts: number;
  clientActiveRsts: number;
  /** The longest SYN retransmit schedule: ms after the first SYN. */
  synSchedule: number[];
  /** Segments advertising a zero window, by the address that sent them. */
  zeroWindows: Record<string, number>;
  /** The busiest server port of the capture. */
  port: number | undefined;
}

export interface PacketDiagnosis {
  facts: PacketFacts[];
  causes: Cause[];
  /** What the packets leave open, and what they cannot tell without counters. */
  unchecked: string[];
  observations: string[];
}

function serverRsts(f: FlowSummary, passive: boolean): number {
  return f.rsts.filter((r) => r.from === "server" && r.passive === passive).length;
}

export function packetFacts(file: string, capture: PcapCapture): PacketFacts {
  // Read from no side: "sent" and "received" are per flow (client: the SYN's sender).
  const { flows } = summarizeFlows(capture.packets, { localAddresses: [] });
  const opened = flows.filter((f) => f.synTimesUs.length > 0);
  const byPort = new Map<number, number>();
  for (const f of opened) byPort.set(f.server.port, (byPort.get(f.server.port) ?? 0) + 1);
  const facts: PacketFacts = {
    file,
    flows: opened.length,
    connected: 0,
    synUnanswered: 0,
    synUnansweredRetransmitted: 0,
    synAckNoFinalAck: 0,
    finalAckIgnored: 0,
    finalAckReset: 0,
    refused: 0,
    serverActiveRsts: 0,
    clientActiveRsts: 0,
    synSchedule: [],
    zeroWindows: {},
    port: [...byPort.entries()].sort((a, b) => b[1] - a[1])[0]?.[0],
  };
  for (const f of opened) {
    const answered = f.synAckTimesUs.length > 0;
    const passiveRsts = serverRsts(f, true);
    if (!answered && passiveRsts > 0) facts.refused++;
    else if (!answered) {
      facts.synUnanswered++;
      if (f.synTimesUs.length > 1) facts.synUnansweredRetransmitted++;
    } else if (!f.finalAck && f.rsts.length === 0) facts.synAckNoFinalAck++;
    else if (f.finalAck && !f.established) {
      if (passiveRsts > 0) facts.finalAckReset++;
      else facts.finalAckIgnored++;
    }
    if (f.established) facts.connected++;
    if (f.established) facts.serverActiveRsts += serverRsts(f, false);
    facts.clientActiveRsts += f.rsts.filter((r) => r.from === "client" && !r.passive).length;
    if (f.synTimesUs.length > facts.synSchedule.length) {
      const first = f.synTimesUs[0]!;
      facts.synSchedule = f.synTimesUs.map((t) => Math.round((t - first) / 1000));
    }
  }
  for (const p of capture.packets) {
    if (p.window === 0 && !p.flags.rst && !p.flags.syn)
      facts.zeroWindows[p.src] = (facts.zeroWindows[p.src] ?? 0) + 1;
  }
  return facts;
}

const confidence = (n: number, of: number): "strong" | "weak" =>
  n >= MANY || (n > 0 && n === of) ? "strong" : "weak";

/** The causes the facts point at, each with the packets behind it. */
export function diagnosePackets(
  captures: { file: string; capture: PcapCapture }[],
): PacketDiagnosis {
  const facts = captures.map((c) => packetFacts(c.file, c.capture));
  const causes: Cause[] = [];
  const unchecked: string[] = [];
  const observations: string[] = [];
  const anyAnswer = facts.some((f) => f.connected > 0 || f.refused > 0 || f.finalAckIgnored > 0);
  for (const f of facts) {
    const where = `${f.file}${f.port !== undefined ? ` (port ${f.port})` : ""}`;
    const sched = f.synSchedule.length > 1 ? `; SYNs sent at ${f.synSchedule.join(", ")} ms` : "";
    observations.push(
      `${where}: ${f.flows} connections opened, ${f.connected} established, ` +
        `${f.synUnanswered} SYNs unanswered (${f.synUnansweredRetransmitted} retransmitted), ` +
        `${f.synAckNoFinalAck} SYN-ACKs with no final ACK, ${f.finalAckIgnored} final ACKs ignored, ` +
        `${f.refused} refused (RST, IP id 0), ${f.serverActiveRsts} server resets from a socket` +
        sched,
    );
    for (const [addr, n] of Object.entries(f.zeroWindows))
      observations.push(
        `${where}: ${addr} advertised a zero window ${n} times: its application did not read`,
      );
    if (f.refused > 0)
      causes.push({
        cause: "no-listener",
        node: f.file,
        confidence: confidence(f.refused, f.flows),
        because:
          `${where}: ${f.refused} of ${f.flows} SYNs answered by a RST with IP id 0 (over IPv6: window 0, no ` +
          "options; the stack's reply for no socket): nothing listened on that port",
        numbers: { refused: f.refused, flows: f.flows },
      });
    if (f.serverActiveRsts > 0)
      causes.push({
        cause: "active-reset",
        node: f.file,
        confidence: confidence(f.serverActiveRsts, f.connected),
        because:
          `${where}: ${f.serverActiveRsts} RSTs from the server's sockets (non-zero IP id) on ` +
          "established connections: the app closed with unread data (or SO_LINGER 0)",
        numbers: { serverActiveRsts: f.serverActiveRsts, connected: f.connected },
      });
    if (f.finalAckReset > 0)
      causes.push({
        cause: "abort-on-overflow",
        node: f.file,
        confidence: confidence(f.finalAckReset, f.flows),
        because:
          `${where}: ${f.finalAckReset} final ACKs answered by a RST with IP id 0: the accept ` +
          "queue was full and tcp_abort_on_overflow reset them",
        numbers: { finalAckReset: f.finalAckReset },
      });
    const queueSigns = f.finalAckIgnored + (f.connected > 0 ? f.synUnanswered : 0);
    if (f.connected > 0 && queueSigns > 0 && f.synAckNoFinalAck < MANY) {
      causes.push({
        cause: "accept-queue-overflow",
        node: f.file,
        confidence: f.finalAckIgnored > 0 || queueSigns >= MANY ? "strong" : "weak",
        because:
          `${where}: the listener took ${f.connected} connections, then ignored ` +
          `${f.synUnanswered} SYNs` +
          (f.finalAckIgnored > 0
            ? ` and ${f.finalAckIgnored} final ACKs (it resent its SYN-ACK)`
            : "") +
          ": a full queue drops at SYN time and the final ACK, silently" +
          sched,
        numbers: {
          connected: f.connected,
          synUnanswered: f.synUnanswered,
          finalAckIgnored: f.finalAckIgnored,
        },
      });
      unchecked.push(
        `${where}: a full accept queue and a full SYN queue both drop SYNs silently: ` +
          "TcpExtListenOverflows vs TcpExtTCPReqQFullDrop (a snapshot) tell them apart",
      );
    }
    if (f.synAckNoFinalAck >= MANY)
      causes.push({
        cause: "syn-queue-overflow",
        node: f.file,
        confidence: "weak",
        because:
          `${where}: ${f.synAckNoFinalAck} SYN-ACKs never got their final ACK (half-open ` +
          "connections: a SYN flood, or ACKs lost on the way back)" +
          (f.synUnanswered > 0 ? `, and ${f.synUnanswered} SYNs got no answer` : ""),
        numbers: { synAckNoFinalAck: f.synAckNoFinalAck, synUnanswered: f.synUnanswered },
      });
    if (f.synUnansweredRetransmitted > 0 && f.connected === 0 && f.synAckNoFinalAck === 0) {
      causes.push({
        cause: "syn-blackhole",
        node: f.file,
        confidence:
          !anyAnswer && f.synUnansweredRetransmitted >= Math.min(MANY, f.flows) ? "strong" : "weak",
        because:
          `${where}: ${f.synUnanswered} connections' SYNs retransmitted with no SYN-ACK and no ` +
          `RST${anyAnswer ? "" : " in any capture"}: dropped before any TCP stack answered` +
          sched,
        numbers: {
          synUnanswered: f.synUnanswered,
          synRetransmitted: f.synUnansweredRetransmitted,
        },
      });
      unchecked.push(
        `${where}: SYNs that get no answer leave syn-blackhole (a firewall on the path or the ` +
          "server), local-firewall (the client's own OUTPUT), conntrack-table-full and " +
          "snat-conntrack-collision (a gateway), and syn-queue-overflow (a full SYN queue, cookies " +
          "off): the counters of the client, the gateway and the server tell which (a capture on " +
          "the server that sees the SYN arrive rules out the path)",
      );
    }
  }
  if (captures.length > 0)
    unchecked.push(
      "counters: packets alone do not show the kernel's reasons (drop counters, queue limits, " +
        "sysctls): give snapshots or counter dumps with --before/--after for those",
    );
  return { facts, causes, unchecked: [...new Set(unchecked)], observations };
}

/**
 * A host's diagnosis (from snapshots or dumps; none: the captures alone) with the captures'
 * findings joined: their causes beside the host's, `none` only when neither found anything.
 */
export function withPackets(d: HostDiagnosis | undefined, p: PacketDiagnosis): HostDiagnosis {
  const base = d?.causes.filter((c) => c.cause !== "none") ?? [];
  const fromPackets = p.causes.filter(
    (c) => !base.some((b) => b.cause === c.cause && b.confidence === "strong"),
  );
  let causes = [...base, ...fromPackets];
  if (causes.length === 0) {
    const total = p.facts.reduce((n, f) => n + f.flows, 0);
    causes = d?.causes.length
      ? d.causes
      : [
          {
            cause: "none",
            node: p.facts.map((f) => f.file).join(", "),
            confidence: "weak",
            because: `the captures hold ${total} connections and nothing refused, reset or unanswered`,
            numbers: { flows: total },
          },
        ];
  }
  const rank = (c: Cause) => (c.confidence === "strong" ? 0 : 1);
  causes.sort((a, b) => rank(a) - rank(b));
  return {
    causes,
    // A capture was given: the "no capture" line of a dump's diagnosis no longer holds.
    unchecked: [
      // With snapshots or dumps given, the counters are there.
      ...p.unchecked.filter((u) => !d || !u.startsWith("counters: packets alone")),
      ...(d?.unchecked ?? []).filter((u) => !u.startsWith("packets: no capture")),
    ],
    observations: [...(d?.observations ?? []), ...p.observations],
    whatToTry: whatToTry(causes),
  };
}
