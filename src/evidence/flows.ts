/**
 * What a capture says about connections: per flow, the handshake and the resets; per node, the
 * counts to set beside its counters (SYNs in, SYN-ACKs out, resets out and which kind). Pure.
 *
 * Kernel facts this reads off the wire (6.18, measured: docs/kernel-behaviour.md#resets, and the fixtures
 * of test/unit/pcap.test.ts):
 * - IP id 0. With DF set (Linux TCP's default, path-MTU discovery) the kernel gives a packet a
 *   real id only when it leaves through a connected socket, whose id counter starts at a random
 *   value and increments per packet. Everything sent without a full socket goes out with id 0:
 *   SYN-ACKs (ip_build_and_send_pkt), and the RSTs and ACKs sent on behalf of request and
 *   TIME_WAIT sockets or of no socket at all, through the per-netns control socket (tcp_sk_init:
 *   "Please enforce IP_DF and IPID==0 for RST and ACK sent in SYN-RECV and TIME-WAIT state").
 * - So a RST splits two ways. Passive: the stack answers a segment no socket wants (closed port,
 *   tcp_abort_on_overflow's embryonic reset, a stray segment): IP id 0 and no options at all
 *   (tcp_v4_send_reset builds a bare header), so no TS either. Active: a socket aborts (close()
 *   with unread data, SO_LINGER 0, a listener closed with connections still queued): a normal
 *   transmit from that socket, so a non-zero id and, when the connection negotiated them,
 *   timestamps.
 * - Older kernels give the control socket's RSTs an IP id too (4.11: a closed port's ten RSTs
 *   all read as active by id). So a RST from an endpoint that sent nothing else in a flow its
 *   peer opened with a SYN — no SYN-ACK, no data, no ACK — is passive whatever its id: no
 *   socket stood behind it.
 */
import type { TcpPacket } from "./pcap.js";

export interface Endpoint {
  addr: string;
  port: number;
}

export interface RstSeen {
  tsUs: number;
  from: "client" | "server";
  /** IPv4 only. */
  ipId?: number;
  /** The stack's own reset, not a socket's (isPassiveRst). */
  passive: boolean;
  /** Carries the timestamp option: only a socket's (active) reset can. */
  hasTimestamp: boolean;
}

/** One connection: a 4-tuple from a SYN on (a new ISN on the same tuple is a new flow). */
export interface FlowSummary {
  /**
   * The side that sent the first SYN. When the capture began after the handshake (no SYN seen)
   * it is a guess: the side with the higher port, ephemeral ports being high.
   */
  client: Endpoint;
  server: Endpoint;
  /** Every SYN the client sent: the first and its retransmissions (the retransmit schedule). */
  synTimesUs: number[];
  /** Every SYN-ACK the server sent (more than one: it resent them, or the client resent SYNs). */
  synAckTimesUs: number[];
  /** The client acknowledged the SYN-ACK: from the client's side the connection is open. */
  finalAck: boolean;
  /**
   * The server holds a full socket for it. On the wire: after the final ACK the server sent an
   * ordinary segment (an ACK, data, a FIN) or an active RST, or it stayed silent. A server that
   * answers the final ACK only with more SYN-ACKs (accept queue full: the ACK was dropped) or a
   * passive RST (tcp_abort_on_overflow) never made the socket. Without a handshake in the
   * capture: an ordinary segment or an active RST from the server.
   */
  established: boolean;
  rsts: RstSeen[];
}

export interface CaptureSummary {
  /** SYNs (not SYN-ACKs) addressed to a local address, retransmissions included. */
  synReceived: number;
  /** SYN-ACKs from a local address, retransmissions included. */
  synAckSent: number;
  /** RSTs from a local address: rstSentPassive + rstSentActive. */
  rstSent: number;
  /** …with IP id 0: the stack's reply for no socket (closed port, embryonic reset). */
  rstSentPassive: number;
  /** …with a non-zero IP id: a socket's abort (close with unread data, SO_LINGER 0). */
  rstSentActive: number;
  /** Every flow in the capture, local or not, in order of their first packet. */
  flows: FlowSummary[];
}

export interface SummarizeOptions {
  /** The addresses of the node the capture is read for: "sent" and "received" are its. */
  localAddresses: string[];
}

/**
 * A RST from the stack rather than from a socket. IPv4: IP id 0 (see the top of this file). An
 * active RST's id is its socket's counter, which passes 0 once in 65536 packets: read
 * hasTimestamp too when it matters (an active RST carries TS whenever the connection negotiated
 * timestamps).
 *
 * IPv6 has no IP id. There the stack's reset (tcp_v6_send_reset → tcp_v6_send_response with
 * win 0, tsval 0) is a bare 20-byte header with window 0, while a socket's reset is a normal
 * transmit: the window it advertises (never 0 unless its receive buffer is full) and, when the
 * connection negotiated them, timestamps. Measured on 6.18: docs/kernel-behaviour.md#resets.
 */
export function isPassiveRst(p: TcpPacket): boolean {
  if (!p.flags.rst) return false;
  if (p.family === "ipv6") return p.window === 0 && (p.optionsLen ?? 0) === 0;
  return p.ipId === 0;
}

export function summarizeFlows(packets: TcpPacket[], opts: SummarizeOptions): CaptureSummary {
  const local = new Set(opts.localAddresses);
  // `-i any` merges per-CPU rings: a capture can step back a few µs. Sort is stable in V8.
  const ordered = [...packets].sort((a, b) => a.tsUs - b.tsUs);
  const out: CaptureSummary = {
    synReceived: 0,
    synAckSent: 0,
    rstSent: 0,
    rstSentPassive: 0,
    rstSentActive: 0,
    flows: [],
  };
  const flows = groupFlows(ordered);
  out.flows = flows.map(summarizeFlow);
  const socketless = socketlessRsts(flows);
  for (const p of ordered) {
    if (p.flags.syn && !p.flags.ack && local.has(p.dst)) out.synReceived++;
    if (p.flags.syn && p.flags.ack && local.has(p.src)) out.synAckSent++;
    if (p.flags.rst && local.has(p.src)) {
      out.rstSent++;
      if (isPassiveRst(p) || socketless.has(p)) out.rstSentPassive++;
      else out.rstSentActive++;
    }
  }
  return out;
}

/** RSTs of endpoints that sent only RSTs in their flow (see the top of this file). */
function socketlessRsts(flows: TcpPacket[][]): Set<TcpPacket> {
  const out = new Set<TcpPacket>();
  for (const flow of flows) {
    const bySender = new Map<string, TcpPacket[]>();
    for (const p of flow) {
      const key = `${p.src}:${p.sport}`;
      bySender.set(key, [...(bySender.get(key) ?? []), p]);
    }
    // Only in a flow the peer opened with a SYN: a RST caught alone (a capture that began
    // mid-stream) says nothing about its sender.
    const opened = flow.some(isOpeningSyn);
    for (const sent of bySender.values())
      if (opened && sent.every((p) => p.flags.rst)) for (const p of sent) out.add(p);
  }
  return out;
}

const isOpeningSyn = (p: TcpPacket) => p.flags.syn && !p.flags.ack;

/**
 * Packets → flows. A 4-tuple is reused (a client port comes round again, a server in TIME_WAIT
 * meets the next SYN: docs/kernel-behaviour.md#time_wait-paws), so a SYN with another sender or ISN than the
 * flow's opening SYN starts a new flow; retransmitted SYNs keep their ISN and stay in it.
 */
function groupFlows(ordered: TcpPacket[]): TcpPacket[][] {
  const current = new Map<string, { opener: string | undefined; packets: TcpPacket[] }>();
  const flows: TcpPacket[][] = [];
  for (const p of ordered) {
    const a = `${p.src}:${p.sport}`;
    const b = `${p.dst}:${p.dport}`;
    const tuple = a < b ? `${a}-${b}` : `${b}-${a}`;
    const opener = isOpeningSyn(p) ? `${a}/${p.seq}` : undefined;
    let flow = current.get(tuple);
    if (flow === undefined || (opener !== undefined && opener !== flow.opener)) {
      flow = { opener, packets: [] };
      current.set(tuple, flow);
      flows.push(flow.packets);
    }
    flow.packets.push(p);
  }
  return flows;
}

/** `a` is at or after `b` in sequence space (RFC 1982 arithmetic: numbers wrap at 2^32). */
const seqAtOrAfter = (a: number, b: number) => (a - b) >>> 0 < 0x80000000;

function summarizeFlow(packets: TcpPacket[]): FlowSummary {
  const first = packets[0]!;
  const syn = packets.find(isOpeningSyn);
  const clientFirst = syn
    ? syn.src === first.src && syn.sport === first.sport
    : first.sport >= first.dport;
  const client = clientFirst
    ? { addr: first.src, port: first.sport }
    : { addr: first.dst, port: first.dport };
  const server = clientFirst
    ? { addr: first.dst, port: first.dport }
    : { addr: first.src, port: first.sport };
  const fromClient = (p: TcpPacket) => p.src === client.addr && p.sport === client.port;

  const synTimesUs: number[] = [];
  const synAckTimesUs: number[] = [];
  const rsts: RstSeen[] = [];
  let serverIsn: number | undefined;
  let finalAckAt = -1; // index of the client's first ACK of the SYN-ACK
  packets.forEach((p, i) => {
    const from = fromClient(p) ? "client" : "server";
    if (p.flags.rst)
      rsts.push({
        tsUs: p.tsUs,
        from,
        ...(p.ipId !== undefined ? { ipId: p.ipId } : {}),
        passive: isPassiveRst(p),
        hasTimestamp: p.tsVal !== undefined,
      });
    if (from === "client" && isOpeningSyn(p)) synTimesUs.push(p.tsUs);
    if (from === "server" && p.flags.syn && p.flags.ack) {
      synAckTimesUs.push(p.tsUs);
      serverIsn ??= p.seq;
    }
    const plainAck = p.flags.ack && !p.flags.syn && !p.flags.rst;
    if (from === "client" && plainAck && finalAckAt < 0 && serverIsn !== undefined) {
      if (seqAtOrAfter(p.ack, (serverIsn + 1) >>> 0)) finalAckAt = i;
    }
  });

  // What the server sent after the final ACK (or, with no handshake captured, at all).
  const handshake = syn !== undefined;
  const after = packets.filter(
    (p, i) => !fromClient(p) && (handshake ? finalAckAt >= 0 && i > finalAckAt : true),
  );
  const fullSocket = after.some((p) => (p.flags.rst ? !isPassiveRst(p) : !p.flags.syn));
  const refused = after.some((p) => p.flags.syn || isPassiveRst(p));
  const finalAck = finalAckAt >= 0;
  return {
    client,
    server,
    synTimesUs,
    synAckTimesUs,
    finalAck,
    established: handshake ? finalAck && (fullSocket || !refused) : fullSocket,
    rsts,
  };
}
