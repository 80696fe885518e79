/**
 * The boundary between the harness (host side) and the agent (`tcprepro-agent`, a small static
 * C program that runs inside every node). The agent writes one JSON object per line on stdout;
 * these are the only shapes it writes. Its source is images/agent/tcprepro-agent.c.
 *
 * Why C and not Node: the server must control accept() exactly (never, or one every N ms), and
 * Node's net.Server drains the accept queue eagerly; the traffic generator must start well over
 * 10,000 connections a second from one node, which one epoll loop does on one core.
 */

/** `tcprepro-agent serve` — printed once the socket listens. */
export interface ServeListening {
  ev: "listening";
  port: number;
  backlog: number;
  pid: number;
}

/** `tcprepro-agent connect` — printed before the first attempt. */
export interface ConnectStart {
  ev: "start";
  /** CLOCK_REALTIME at the generator's t = 0, ms since the epoch. */
  epochMs: number;
}

/** `tcprepro-agent connect` — one per attempt, when it ends. */
export interface ConnectAttempt {
  ev: "attempt";
  i: number;
  /** µs since the generator's start line. */
  startUs: number;
  outcome: string;
  phase: "connect" | "reply" | "done";
  connectUs?: number;
  replyUs?: number;
  localPort?: number;
  /** With `--requests`: the median round trip of this connection's requests, µs. */
  requestUs?: number;
}

/** `tcprepro-agent connect` — last line. */
export interface ConnectDone {
  ev: "done";
  attempts: number;
  elapsedUs: number;
  /** True when --max-ms cut the run short (attempts not started are not reported). */
  truncated: boolean;
}

export type AgentLine = ServeListening | ConnectStart | ConnectAttempt | ConnectDone;

/** Path of the agent inside every image built by tcprepro. */
export const AGENT_PATH = "/opt/tcprepro/tcprepro-agent";

export interface ServeOptions {
  port: number;
  backlog: number;
  /** normal: accept at once; never: listen and never accept; delay: one accept per delayMs. */
  accept: "normal" | "never" | "delay";
  delayMs?: number;
  /** Write the request back (echo) once it is read. */
  reply: boolean;
  /** Close right after replying, so the server holds TIME_WAIT. */
  closeFirst: boolean;
  /** Close with the request unread: the kernel sends RST (active reset). */
  resetOnClose: boolean;
  /** Never close a connection, even after the peer's FIN: it stays in CLOSE_WAIT. */
  neverClose?: boolean;
  /** Reply only once this many bytes (one request) have arrived; 0/absent: echo as data arrives. */
  requestBytes?: number;
  /** Listen on [::] (dual-stack) rather than 0.0.0.0: the node has IPv6 addresses. */
  ipv6?: boolean;
}

export function serveArgv(o: ServeOptions): string[] {
  const argv = [AGENT_PATH, "serve", "--port", String(o.port), "--backlog", String(o.backlog)];
  argv.push("--accept", o.accept);
  if (o.accept === "delay") argv.push("--delay-ms", String(o.delayMs ?? 0));
  if (!o.reply) argv.push("--no-reply");
  if (o.closeFirst) argv.push("--close-first");
  if (o.resetOnClose) argv.push("--reset-on-close");
  if (o.neverClose) argv.push("--never-close");
  if (o.requestBytes) argv.push("--request-bytes", String(o.requestBytes));
  if (o.ipv6) argv.push("--ipv6");
  return argv;
}

export interface ConnectOptions {
  host: string;
  port: number;
  connections: number;
  concurrency: number;
  /** Attempts started per second; 0 = as fast as concurrency allows. */
  rate: number;
  connectTimeoutMs: number;
  payloadBytes: number;
  expectReply: boolean;
  replyTimeoutMs: number;
  /** Keep each connection open this long after it connected (and replied). */
  holdMs: number;
  /** Who closes first: the client right away, or the client after the server's FIN. */
  close: "client" | "server";
  /** Hard bound on the generator's whole run. */
  maxMs: number;
  /** One UDP datagram of the payload per attempt instead of a TCP connection. */
  udp?: boolean;
  /** IP_RECVERR on the UDP socket: a datagram the kernel drops on the way out fails send(). */
  recverr?: boolean;
  /** TCP_NODELAY: small writes go out at once (no Nagle). */
  nodelay?: boolean;
  /** Write each request as two send() calls (half, then the rest): write-write-read. */
  splitWrites?: boolean;
  /** Request/reply rounds per connection (needs expectReply); reported as `requestUs`. */
  requests?: number;
  /** shutdown(SHUT_WR) once the last request is sent: our FIN, the peer may still send. */
  halfClose?: boolean;
  /** SO_KEEPALIVE with these per-socket timers (seconds, seconds, probes). */
  keepalive?: { idleS: number; intvlS: number; cnt: number };
}

export function connectArgv(o: ConnectOptions): string[] {
  const argv = [AGENT_PATH, "connect", "--host", o.host, "--port", String(o.port)];
  argv.push("--connections", String(o.connections), "--concurrency", String(o.concurrency));
  argv.push("--rate", String(o.rate), "--connect-timeout-ms", String(o.connectTimeoutMs));
  argv.push("--payload-bytes", String(o.payloadBytes));
  if (o.expectReply) argv.push("--expect-reply");
  argv.push("--reply-timeout-ms", String(o.replyTimeoutMs), "--hold-ms", String(o.holdMs));
  argv.push("--close", o.close, "--max-ms", String(o.maxMs));
  if (o.udp) argv.push("--udp");
  if (o.recverr) argv.push("--recverr");
  if (o.nodelay) argv.push("--nodelay");
  if (o.splitWrites) argv.push("--split-writes");
  if (o.requests !== undefined) argv.push("--requests", String(o.requests));
  if (o.halfClose) argv.push("--half-close");
  if (o.keepalive) {
    const k = o.keepalive;
    argv.push("--keepalive", `${k.idleS},${k.intvlS},${k.cnt}`);
  }
  return argv;
}
