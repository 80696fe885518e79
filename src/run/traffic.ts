/** One traffic generator: the agent's `connect` in one client instance, its attempts as evidence. */
import { connectArgv, type AgentLine, type ConnectAttempt } from "../agent/protocol.js";
import type { Attempt } from "../evidence/types.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Scenario, Traffic } from "../scenario/schema.js";
import { ExecError } from "../util/errors.js";
import { withDeadline } from "../util/time.js";
import { connectOptionsFor, routeFor } from "./plan.js";

/** Margin past a generator's own bound before we stop waiting for it. */
const TRAFFIC_GRACE_MS = 5_000;
/** A generator says it runs at once; this bounds a spawn on an overloaded machine. */
const START_DEADLINE_MS = 10_000;

export interface TrafficRun {
  s: Scenario;
  topo: StartedTopology;
  /** The variant's clock: wall-clock start (epoch ms). */
  t0Epoch: number;
  /** Every attempt of every generator lands here. */
  attempts: Attempt[];
  started(options: { node: string; target: string; connections: number }): void;
}

/**
 * Starts `t` from client instance `instance`; resolves once the generator runs (its first line),
 * with `done`, which settles when it exits (rejecting when it failed). An abort kills it.
 */
export async function startTraffic(
  run: TrafficRun,
  t: Traffic,
  instance: string,
  signal: AbortSignal,
): Promise<{ done: Promise<void> }> {
  const route = routeFor(run.s, run.topo, t);
  const options = connectOptionsFor(run.s, t, route);
  const proc = await run.topo.nodes.get(instance)!.spawn(connectArgv(options));
  const kill = () => void proc.signal("SIGKILL").catch(() => undefined);
  signal.addEventListener("abort", kill, { once: true });
  // Aborted while it was being spawned (another step failed): it must not run on unseen.
  if (signal.aborted) kill();
  const target = `${t.to.node}:${t.to.port}`;
  let epochMs = run.t0Epoch;
  const running = new Promise<void>((resolve) => {
    proc.onLine((line) => {
      const msg = parseLine(line);
      if (msg?.ev === "start") {
        epochMs = msg.epochMs;
        resolve();
      } else if (msg?.ev === "attempt")
        run.attempts.push({
          ...toAttempt(instance, msg, epochMs - run.t0Epoch),
          ...(route.family === "ipv6" ? { family: "ipv6" as const } : {}),
        });
    });
    void proc.exited.then(() => resolve());
  });
  await withDeadline(running, START_DEADLINE_MS, `${instance}: traffic generator starting`);
  run.started({ node: instance, target, connections: t.connections });
  const done = (async () => {
    try {
      const code = await withDeadline(
        proc.exited,
        options.maxMs + TRAFFIC_GRACE_MS,
        `${instance}: traffic to ${target}`,
      );
      signal.throwIfAborted();
      if (code !== 0)
        throw new ExecError(["tcprepro-agent", "connect"], code, proc.stderr(), instance);
    } finally {
      signal.removeEventListener("abort", kill);
    }
  })();
  return { done };
}

function parseLine(line: string): AgentLine | undefined {
  try {
    return JSON.parse(line) as AgentLine;
  } catch {
    return undefined;
  }
}

function toAttempt(node: string, m: ConnectAttempt, offsetMs: number): Attempt {
  const ms = (us: number | undefined) => (us === undefined ? undefined : Math.round(us) / 1000);
  return {
    node,
    startMs: offsetMs + m.startUs / 1000,
    outcome: m.outcome,
    phase: m.phase,
    connectMs: ms(m.connectUs),
    replyMs: ms(m.replyUs),
    localPort: m.localPort,
    ...(m.requestUs === undefined ? {} : { requestMs: ms(m.requestUs) }),
  };
}
