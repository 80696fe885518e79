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

export interface TrafficRun {
  s: Scenario;
  topo: StartedTopology;
  /** The variant's clock: wall-clock start (epoch ms), and a wait until `ms` into the variant. */
  t0Epoch: number;
  at(ms: number): Promise<void>;
  /** Every attempt of every generator lands here. */
  attempts: Attempt[];
  started(options: { node: string; target: string; connections: number }): void;
}

/** Runs `t` from client instance `instance` until the agent exits; throws when it fails. */
export async function runTraffic(run: TrafficRun, t: Traffic, instance: string): Promise<void> {
  await run.at(t.at);
  const route = routeFor(run.s, run.topo, t);
  const options = connectOptionsFor(run.s, t, route);
  const proc = await run.topo.nodes.get(instance)!.spawn(connectArgv(options));
  const target = `${t.to.node}:${t.to.port}`;
  run.started({ node: instance, target, connections: t.connections });
  let epochMs = run.t0Epoch;
  proc.onLine((line) => {
    const msg = parseLine(line);
    if (msg?.ev === "start") epochMs = msg.epochMs;
    else if (msg?.ev === "attempt")
      run.attempts.push(toAttempt(instance, msg, epochMs - run.t0Epoch));
  });
  const code = await withDeadline(
    proc.exited,
    options.maxMs + TRAFFIC_GRACE_MS,
    `${instance}: traffic to ${target}`,
  );
  if (code !== 0) throw new ExecError(["tcprepro-agent", "connect"], code, proc.stderr(), instance);
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
  };
}
