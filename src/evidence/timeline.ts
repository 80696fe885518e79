/**
 * What happened over time: every node's notable counters and the server's listen queue, sampled
 * every 100 ms (in a VM every 250 ms; less often when a sample is slow: see `busyShare`) from the
 * nodes' /proc/net files (a few file reads per node, no process started), plus the faults as they
 * were applied. Replaces a one-number summary with the shape of the failure: when the first drop
 * came, how long the queue stayed full, what a SIGCONT released.
 */
import type { StartedNode } from "../runtime/runtime.js";
import { NOTABLE_COUNTER } from "./notable.js";
import { snapshotCounters } from "./collect.js";
import { parseProcNetTcp, type ProcNetTcp } from "./proc.js";
import { TCP_STATES, type SocketStates, type TcpState } from "./tcp-states.js";
import type { Counters, SocketEvidence, Timeline, TimelineFault } from "../model/evidence.js";

export type { Timeline, TimelineFault };

const DROP_COUNTERS = [
  "TcpExtListenDrops",
  "TcpExtListenOverflows",
  "TcpExtTCPReqQFullDrop",
  "NfConntrackDrop",
  "NfConntrackInsertFailed",
];

export class TimelineSampler {
  private readonly t: number[] = [];
  private readonly samples = new Map<string, Counters[]>();
  private readonly listen = new Map<string, { recvQ: number[]; synRecv: number[] }>();
  private readonly states = new Map<string, SocketStates[]>();
  private readonly faults: TimelineFault[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private cost = 0;

  /**
   * @param nodes every node; `before` their counters at the start; `apps` the nodes running the
   *   built-in app, with its port (other listeners, e.g. Docker's DNS, are not the app's queue).
   * @param everyMs the shortest interval between two samples' starts.
   * @param busyShare the most of the time sampling may take: after a sample that took `c` ms the
   *   next waits at least `c × (1 / busyShare − 1)`. On the host a sample takes a few ms and the
   *   interval stays `everyMs`; in an emulated VM every read is a round trip through the guest's
   *   one vCPU (6–40 ms each, 18 per sample on three nodes), so back-to-back samples would keep
   *   that vCPU busy for the whole variant and slow the scenario itself, and the variants beside it.
   */
  constructor(
    private readonly nodes: StartedNode[],
    private readonly before: Map<string, Counters>,
    private readonly apps: Map<string, number>,
    private readonly t0: number,
    private readonly everyMs = 100,
    private readonly busyShare = 0.2,
  ) {}

  start(): void {
    const tick = () => {
      const started = performance.now();
      this.inFlight = this.sample().finally(() => {
        this.inFlight = undefined;
        if (this.stopped) return;
        const took = performance.now() - started;
        const wait = Math.max(this.everyMs - took, took * (1 / this.busyShare - 1));
        this.timer = setTimeout(tick, wait);
      });
    };
    tick();
  }

  mark(fault: Omit<TimelineFault, "atMs">): void {
    this.faults.push({ atMs: Math.round(performance.now() - this.t0), ...fault });
  }

  private async sample(): Promise<void> {
    const started = performance.now();
    const at = Math.round(started - this.t0);
    const [counters, tcp] = await Promise.all([
      Promise.all(this.nodes.map((n) => snapshotCounters(n).catch(() => undefined))),
      Promise.all(this.nodes.map((n) => readTcp(n))),
    ]);
    this.t.push(at);
    this.nodes.forEach((n, i) => {
      const list = this.samples.get(n.name) ?? [];
      list.push(counters[i] ?? list[list.length - 1] ?? {});
      this.samples.set(n.name, list);
      const parsed = tcp[i];
      const states = this.states.get(n.name) ?? [];
      states.push(parsed?.states ?? states[states.length - 1] ?? {});
      this.states.set(n.name, states);
      const port = this.apps.get(n.name);
      if (port === undefined) return;
      const series = this.listen.get(n.name) ?? { recvQ: [], synRecv: [] };
      series.recvQ.push(parsed?.listen.find((l) => l.port === port)?.recvQ ?? 0);
      series.synRecv.push(parsed?.synRecv ?? 0);
      this.listen.set(n.name, series);
    });
    this.cost += performance.now() - started;
  }

  /** Stop sampling without a result (the variant failed). */
  cancel(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async stop(): Promise<Timeline> {
    this.cancel();
    await this.inFlight;
    await this.sample();
    const counters: Timeline["counters"] = {};
    let firstDropMs: number | null = null;
    for (const [node, list] of this.samples) {
      const base = this.before.get(node) ?? {};
      const last = list[list.length - 1] ?? {};
      for (const name of Object.keys(last)) {
        if (!NOTABLE_COUNTER.test(name) || (last[name] ?? 0) - (base[name] ?? 0) === 0) continue;
        const series = list.map((c) => (c[name] ?? base[name] ?? 0) - (base[name] ?? 0));
        (counters[node] ??= {})[name] = series;
        if (DROP_COUNTERS.includes(name)) {
          const i = series.findIndex((v) => v > 0);
          if (i >= 0 && (firstDropMs === null || this.t[i]! < firstDropMs))
            firstDropMs = this.t[i]!;
        }
      }
    }
    return {
      tMs: this.t,
      counters,
      listen: Object.fromEntries(this.listen),
      sockets: stateSeries(this.states),
      faults: this.faults,
      firstDropMs,
      sampleCostMs: Math.round((this.cost / Math.max(1, this.t.length)) * 100) / 100,
    };
  }
}

/**
 * The node's TCP sockets, IPv4 and IPv6 together: /proc/net/tcp and tcp6, read from the host
 * like the counters (no process in the node). One read serves the listen queue and the states.
 */
async function readTcp(n: StartedNode): Promise<ProcNetTcp | undefined> {
  const [v4, v6] = await Promise.all(
    ["tcp", "tcp6"].map((f) => n.readProcNet(f).catch(() => undefined)),
  );
  if (v4 === undefined) return undefined;
  const a = parseProcNetTcp(v4);
  if (v6 === undefined) return a;
  const b = parseProcNetTcp(v6);
  const states: SocketStates = { ...a.states };
  for (const [k, v] of Object.entries(b.states) as [TcpState, number][])
    states[k] = (states[k] ?? 0) + v;
  return { listen: [...a.listen, ...b.listen], synRecv: a.synRecv + b.synRecv, states };
}

/** A node's socket states as evidence: the most in any one sample, and the last sample. */
export function socketEvidence(t: Timeline, node: string): SocketEvidence | undefined {
  const series = t.sockets?.[node];
  if (series === undefined) return undefined;
  const max: SocketStates = {};
  const final: SocketStates = {};
  for (const [state, values] of Object.entries(series) as [TcpState, number[]][]) {
    max[state] = Math.max(0, ...values);
    const last = values[values.length - 1] ?? 0;
    if (last > 0) final[state] = last;
  }
  return { max, final };
}

/** Samples of state counts → one series per state that was ever non-zero (0 where absent). */
export function stateSeries(
  samples: Map<string, SocketStates[]>,
): Record<string, Partial<Record<TcpState, number[]>>> {
  const out: Record<string, Partial<Record<TcpState, number[]>>> = {};
  for (const [node, list] of samples) {
    const series: Partial<Record<TcpState, number[]>> = {};
    for (const state of TCP_STATES) {
      if (!list.some((s) => (s[state] ?? 0) > 0)) continue;
      series[state] = list.map((s) => s[state] ?? 0);
    }
    out[node] = series;
  }
  return out;
}
