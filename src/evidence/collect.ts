/**
 * Reading evidence out of running nodes: counter snapshots (before/after) and a listen-queue
 * sampler. Both read the node's /proc/net files through the runtime; neither starts a process.
 */
import type { StartedNode } from "../runtime/runtime.js";
import {
  parseConntrackStat,
  parseProcNetCounters,
  parseProcNetTcp,
  parseSsListen,
} from "./proc.js";
import type { Counters, ListenQueueEvidence } from "./types.js";

/** Every counter of one node: /proc/net/netstat, /proc/net/snmp and, where the kernel has it,
 * /proc/net/stat/nf_conntrack (the gateway's NAT collisions show there). */
export async function snapshotCounters(node: StartedNode): Promise<Counters> {
  const [netstat, snmp, conntrack] = await Promise.all([
    node.readProcNet("netstat"),
    node.readProcNet("snmp"),
    node.readProcNet("stat/nf_conntrack"),
  ]);
  return {
    ...parseProcNetCounters((netstat ?? "") + "\n" + (snmp ?? "")),
    ...(conntrack ? parseConntrackStat(conntrack) : {}),
  };
}

export async function snapshotAll(nodes: Iterable<StartedNode>): Promise<Map<string, Counters>> {
  const list = [...nodes];
  const snaps = await Promise.all(list.map((n) => snapshotCounters(n)));
  return new Map(list.map((n, i) => [n.name, snaps[i]!]));
}

/**
 * Samples a node's listen sockets every `everyMs` until stopped and keeps the maxima. The depth
 * comes from /proc/net/tcp (a file read per sample); the limit from one `ss -lnt` at the end.
 */
export class ListenSampler {
  private readonly state: ListenQueueEvidence = {
    final: [],
    maxRecvQ: {},
    sendQ: {},
    maxSynRecv: 0,
  };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  samples = 0;

  /**
   * @param ports the app's ports: other listeners (Docker's embedded DNS listens in every
   *   container of a user-defined network) are not the app's queue.
   */
  constructor(
    private readonly node: StartedNode,
    private readonly ports: number[],
    private readonly everyMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      // A slow read never overlaps the next: skip a tick instead.
      this.inFlight ??= this.sample().finally(() => (this.inFlight = undefined));
    }, this.everyMs);
  }

  async sample(): Promise<void> {
    const text = await this.node.readProcNet("tcp").catch(() => undefined);
    if (text === undefined) return;
    const parsed = parseProcNetTcp(text);
    const listen = parsed.listen.filter((l) => this.ports.includes(l.port));
    const synRecv = parsed.synRecv;
    this.samples++;
    this.state.final = listen;
    this.state.maxSynRecv = Math.max(this.state.maxSynRecv, synRecv);
    for (const l of listen) {
      this.state.maxRecvQ[l.port] = Math.max(this.state.maxRecvQ[l.port] ?? 0, l.recvQ);
    }
  }

  /** Stop, take one last sample, and return what was seen. */
  async stop(): Promise<ListenQueueEvidence> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.sample();
    const ss = await this.node.exec(["ss", "-lntH"]).catch(() => undefined);
    if (ss) {
      this.state.final = parseSsListen(ss.stdout).filter((l) => this.ports.includes(l.port));
      for (const l of this.state.final) {
        this.state.sendQ[l.port] = l.sendQ;
        this.state.maxRecvQ[l.port] = Math.max(this.state.maxRecvQ[l.port] ?? 0, l.recvQ);
      }
    }
    return this.state;
  }
}
