/**
 * The evidence a run collects. Everything the diagnosis and the verdict read is here, and
 * nothing here knows how it was collected (Docker, network namespaces, a production box).
 */

import type { SocketStates, TcpState } from "./tcp-states.js";

/** Counter name (nstat style: `TcpExtListenOverflows`, `TcpOutRsts`) → value. */
export type Counters = Record<string, number>;

/** One listening socket as the kernel reports it (`ss -lnt`, or /proc/net/tcp for LISTEN). */
export interface ListenSocket {
  port: number;
  /** Connections waiting in the accept queue (ss Recv-Q). */
  recvQ: number;
  /** Accept-queue limit: min(backlog, net.core.somaxconn) (ss Send-Q). */
  sendQ: number;
}

export interface ListenQueueEvidence {
  /** The listen sockets at the end of the traffic (before teardown). */
  final: ListenSocket[];
  /** Highest accept-queue depth sampled during the run, per port. */
  maxRecvQ: Record<number, number>;
  /** Accept-queue limit per port. */
  sendQ: Record<number, number>;
  /** Highest number of SYN_RECV (half-open) connections sampled, all ports together. */
  maxSynRecv: number;
}

export interface NodeEvidence {
  /**
   * Counter deltas (after − before) for every counter this kernel has. A node whose
   * /proc/net/stat/nf_conntrack was read (a gateway) also has NfConntrack* counters; their absence
   * means "not read", not zero.
   */
  counters: Counters;
  /** Names of the counters this node's kernel exposes (for "does not exist here"). */
  available: string[];
  /** Set on nodes whose listen queue was sampled (nodes running the built-in server). */
  listen?: ListenQueueEvidence;
  /** Set on nodes whose packets were captured (`capture: true`, or `run --capture`). */
  packets?: PacketEvidence;
  /** Sockets per TCP state, from the timeline's samples of /proc/net/tcp and tcp6. */
  sockets?: SocketEvidence;
}

export interface SocketEvidence {
  /** The most sockets seen in each state in any one sample. */
  max: SocketStates;
  /** At the last sample (after the traffic and the settle time). */
  final: SocketStates;
}

/** How one connection attempt ended. Errno names are the kernel's; the rest are ours. */
export type Outcome =
  | "connected" // TCP connected and, when a reply was expected, the reply arrived
  | "timeout" // the client's own timeout expired: connectTimeout (phase connect), or a send stalled past replyTimeout (phase reply)
  | "noReply" // connected, but no reply within replyTimeout
  | "EOF" // connected, but the server closed before the whole reply
  | string; // an errno name: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EADDRNOTAVAIL, …

export interface Attempt {
  /** Client node (replica) name, e.g. `client.1`. */
  node: string;
  /** Attempt start, ms since the run's traffic epoch (t = 0). */
  startMs: number;
  outcome: Outcome;
  /** Where it ended: while connecting, or waiting for the reply. */
  phase: "connect" | "reply" | "done";
  /** Time from start to established, when it connected. */
  connectMs?: number;
  /** Time from start to the full reply, when one arrived. */
  replyMs?: number;
  localPort?: number;
  /** With `requests`: the median round trip of this connection's requests. */
  requestMs?: number;
  /** A real client's run (`traffic[].command`): how long it took and how it exited. */
  durationMs?: number;
  exitCode?: number | null;
  /** Which run of the command this attempt belongs to (ab and wrk make many attempts per run). */
  run?: number;
  /** Made over IPv6 (absent: IPv4). */
  family?: "ipv6";
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ClientSummary {
  attempts: number;
  /** Count per outcome (`connected`, `ECONNREFUSED`, `timeout`, …). */
  outcomes: Record<string, number>;
  /** Connect time of the attempts that connected, ms; null when none did. */
  connectMs: Percentiles | null;
  /** Time to full reply of the attempts that got one, ms; null when none did. */
  replyMs: Percentiles | null;
  /** With `requests`: over the connections, each one's median request round trip, ms. */
  requestMs?: Percentiles | null;
}

export interface Evidence {
  /** Kernel release the topology ran on. */
  kernel: string;
  /** Per node (replicas as `client.1`, `client.2`, …). */
  nodes: Record<string, NodeEvidence>;
  /** Role of each node instance (replicas one by one: `client.1`), so rules know where to look. */
  roles: Record<string, NodeRole>;
  /** Every attempt from every client node. */
  attempts: Attempt[];
  clients: ClientSummary;
  /** The kernel's skb drop reasons during the run (host-wide, by time window), where tracing works. */
  dropReasons?: DropReasons;
}

export type NodeRole = "client" | "gateway" | "server" | "other";

export interface DropReasons {
  /** Count per reason; null when tracing was not available (see `note`). */
  counts: Record<string, number> | null;
  note: string;
}

export interface PacketEvidence {
  /** SYNs this node sent (first transmissions and retransmissions). */
  synSent: number;
  /** SYNs addressed to this node, retransmissions included. */
  synReceived: number;
  /** SYN-ACKs this node sent. */
  synAckSent: number;
  /** Connections to this node whose SYNs got no SYN-ACK at all (dropped at SYN time). */
  synUnanswered: number;
  /** RSTs this node sent: passive (IP id 0, from the stack: no socket) and active (a socket's abort). */
  rstSent: number;
  rstPassive: number;
  rstActive: number;
  flows: number;
  /** The longest SYN retransmit schedule this node followed as a client: ms after the first SYN. */
  synSchedule: number[];
  /** Packets the capture held that were not IPv4 TCP, and whether tcpdump was cut mid-record. */
  skipped: number;
  truncated: boolean;
}

export interface TimelineFault {
  atMs: number;
  target: string;
  action: string;
}

export interface Timeline {
  /** Sample times, ms since the traffic's t = 0. */
  tMs: number[];
  /** Per node, per notable counter that moved: its delta since the run's start, at each sample. */
  counters: Record<string, Record<string, number[]>>;
  /** Per node running the built-in app: accept-queue depth and SYN_RECV count at each sample. */
  listen: Record<string, { recvQ: number[]; synRecv: number[] }>;
  /**
   * Per node, per TCP state that any sample saw (IPv4 and IPv6 rows together): the number of
   * sockets in that state at each sample.
   */
  sockets?: Record<string, Partial<Record<TcpState, number[]>>>;
  faults: TimelineFault[];
  /** First sample where a drop counter (ListenDrops, TCPReqQFullDrop, …) had moved, if any. */
  firstDropMs: number | null;
  /** Mean time one sample of the whole topology took, ms. */
  sampleCostMs: number;
}
