/**
 * One variant, end to end: topology up → apps listening → counters before → traffic and faults
 * on a timeline → counters after → down (always) → evidence → diagnosis → verdict.
 */
import { randomBytes } from "node:crypto";
import { connectArgv, type AgentLine, type ConnectAttempt } from "../agent/protocol.js";
import { diagnose } from "../diagnosis/rules.js";
import { listenSockets, snapshotAll } from "../evidence/collect.js";
import { TimelineSampler, type Timeline } from "../evidence/timeline.js";
import { NodeCapture } from "../evidence/capture.js";
import { packetEvidence } from "../evidence/packets.js";
import { DropReasonTracer, REASONS_FOR_CAUSE, type DropReasons } from "../evidence/drop-reasons.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { summarizeAttempts } from "../evidence/clients.js";
import { counterDeltas } from "../evidence/proc.js";
import type { Attempt, Evidence, NodeEvidence } from "../evidence/types.js";
import type { EventSink } from "../report/events.js";
import type { NodeProcess, Runtime, StartedTopology } from "../runtime/runtime.js";
import type { Variant } from "../scenario/load.js";
import type { Fault, Scenario } from "../scenario/schema.js";
import { evaluateExpect } from "../verdict/expect.js";
import { skipReason, type KernelInventory } from "../verdict/requires.js";
import type { NodeReport, VariantResult } from "../verdict/result.js";
import { ExecError } from "../util/errors.js";
import { sleep, withDeadline } from "../util/time.js";
import { connectOptionsFor, planTopology, routeFor, type NodeInstance } from "./plan.js";
import { setUpNodes } from "./setup.js";
import { onInterrupt } from "../util/interrupts.js";

export interface VariantContext {
  runtime: Runtime;
  kernel: KernelInventory;
  emit: EventSink;
  scenario: string;
  /** Capture every node's packets, not only those with `capture: true`. */
  captureAll?: boolean;
  /** Where captures are kept: `<dir>/<scenario>/<variant>/<node>.pcap`. */
  capturesDir?: string;
}

/** "Drop reasons unavailable" is said once per process, not per variant. */
let warnedNoDropReasons = false;

/** Margin past a generator's own bound before we stop waiting for it. */
const TRAFFIC_GRACE_MS = 5_000;

/** What this runtime cannot run: a container image needs an engine. */
function runtimeSkipReason(runtime: Runtime, s: Scenario, kernel: string): string | undefined {
  if (!runtime.capabilities.dropReasons && Object.keys(s.expect.drops ?? {}).length > 0)
    return `expects drop reasons, which the ${runtime.name} runtime does not trace (kernel ${kernel})`;
  const images = runtime.capabilities.userImages;
  if (images === true) return undefined;
  const [name, node] = Object.entries(s.nodes).find(([, n]) => n.image) ?? [];
  return node ? `node ${name} runs image ${node.image}: ${images.reason}` : undefined;
}

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

export const emptyResult = (
  variant: string,
): Omit<VariantResult, "verdict" | "reason" | "durationMs"> => ({
  variant,
  nodes: {},
  clients: { attempts: 0, outcomes: {}, connectMs: null, replyMs: null },
  attempts: [],
  expectations: [],
  causes: [],
  unchecked: [],
});

export async function runVariant(ctx: VariantContext, variant: Variant): Promise<VariantResult> {
  const started = performance.now();
  const s = variant.scenario;
  const skip = skipReason(s, ctx.kernel) ?? runtimeSkipReason(ctx.runtime, s, ctx.kernel.release);
  if (skip) return { ...emptyResult(variant.name), verdict: "skip", reason: skip, durationMs: 0 };

  const runId = newRunId();
  const { plan, instances } = planTopology(s, runId);
  let topo: StartedTopology | undefined;
  const upStart = performance.now();
  const upPromise = ctx.runtime.up(plan);
  // On Ctrl-C/SIGTERM: let a half-done `up` settle (bounded), then sweep the run by its label.
  const untrack = onInterrupt(async () => {
    await Promise.race([upPromise.catch(() => undefined), sleep(15_000)]);
    await ctx.runtime.remove(runId);
  });
  try {
    topo = await withDeadline(upPromise, 60_000, "topology up");
    const upMs = Math.round(performance.now() - upStart);
    ctx.emit({
      kind: "topology.up",
      scenario: ctx.scenario,
      variant: variant.name,
      nodes: plan.nodes.length,
      networks: plan.networks.length,
      ms: upMs,
    });
    const { evidence, timelineMs, timeline, captureFiles } = await withDeadline(
      execute(ctx, variant.name, s, topo, instances),
      s.timeout + 30_000,
      `scenario ${ctx.scenario} (${variant.name})`,
    );
    const downStart = performance.now();
    await topo.down();
    const downMs = Math.round(performance.now() - downStart);
    ctx.emit({ kind: "topology.down", scenario: ctx.scenario, variant: variant.name, ms: downMs });
    const timing = {
      upMs,
      downMs,
      timelineMs,
      durationMs: Math.round(performance.now() - started),
    };
    const result = judge(variant, evidence, timing);
    for (const [name, file] of Object.entries(captureFiles))
      if (result.nodes[name]) result.nodes[name]!.capture = file;
    return { ...result, timeline };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ...emptyResult(variant.name),
      verdict: "error",
      reason,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await (topo
      ? topo.down()
      : upPromise.then(
          (t) => t.down(),
          () => undefined,
        ));
    untrack();
  }
}

/** Runs the timeline; `timelineMs` is the part the scenario itself asks for (traffic, faults, settle). */
async function execute(
  ctx: VariantContext,
  variant: string,
  s: Scenario,
  topo: StartedTopology,
  instances: NodeInstance[],
): Promise<{
  evidence: Evidence;
  timelineMs: number;
  timeline: Timeline;
  captureFiles: Record<string, string>;
}> {
  const node = (name: string) => topo.nodes.get(name)!;
  const { apps, appPorts } = await setUpNodes(s, topo, instances);

  const captures = new Map<string, NodeCapture>();
  const captureFiles: Record<string, string> = {};
  for (const inst of instances) {
    if (ctx.captureAll || inst.spec.capture)
      captures.set(inst.name, await NodeCapture.start(node(inst.name), topo.runId));
  }

  const tracer = ctx.runtime.traceDrops
    ? await ctx.runtime.traceDrops(topo.runId)
    : ctx.runtime.capabilities.dropReasons
      ? DropReasonTracer.start(topo.runId)
      : `drop reasons are not traced on the ${ctx.runtime.name} runtime`;
  if (typeof tracer === "string" && !warnedNoDropReasons) {
    warnedNoDropReasons = true;
    ctx.emit({ kind: "warning", message: `${tracer}; carrying on without them` });
  }

  const before = await snapshotAll(topo.nodes.values());
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const timeline = new TimelineSampler([...topo.nodes.values()], before, appPorts, t0);
  timeline.start();
  const at = (ms: number) => sleep(Math.max(0, ms - (performance.now() - t0)));

  const attempts: Attempt[] = [];
  const traffic = s.traffic.flatMap((t) =>
    instances
      .filter((inst) => inst.base === t.from)
      .map(async (inst) => {
        await at(t.at);
        const route = routeFor(s, topo, t);
        const options = connectOptionsFor(s, t, route);
        const proc = await node(inst.name).spawn(connectArgv(options));
        ctx.emit({
          kind: "traffic.start",
          scenario: ctx.scenario,
          variant,
          node: inst.name,
          target: `${t.to.node}:${t.to.port}`,
          connections: t.connections,
        });
        let epochMs = t0Epoch;
        proc.onLine((line) => {
          const msg = parseLine(line);
          if (msg?.ev === "start") epochMs = msg.epochMs;
          else if (msg?.ev === "attempt")
            attempts.push(toAttempt(inst.name, msg, epochMs - t0Epoch));
        });
        const code = await withDeadline(
          proc.exited,
          options.maxMs + TRAFFIC_GRACE_MS,
          `${inst.name}: traffic to ${t.to.node}:${t.to.port}`,
        );
        if (code !== 0)
          throw new ExecError(["tcprepro-agent", "connect"], code, proc.stderr(), inst.name);
        ctx.emit({
          kind: "traffic.done",
          scenario: ctx.scenario,
          variant,
          node: inst.name,
          attempts: attempts.filter((a) => a.node === inst.name).length,
          ms: Math.round(performance.now() - t0),
        });
      }),
  );
  const floods = s.floods.flatMap((f) =>
    instances
      .filter((inst) => inst.base === f.from)
      .map(async (inst) => {
        const attacker = node(inst.name);
        const target = topo.nodes.get(f.to.node)!;
        const net = s.nodes[f.from]!.networks.find((n) =>
          s.nodes[f.to.node]!.networks.includes(n),
        )!;
        const host = target.addresses[net]!;
        // The attacker's own kernel would answer every SYN-ACK with RST and free the server's
        // half-open slots: drop those RSTs so the SYN queue really fills.
        await attacker.exec([
          "iptables",
          "-I",
          "OUTPUT",
          "-p",
          "tcp",
          "-d",
          host,
          "--tcp-flags",
          "RST",
          "RST",
          "-j",
          "DROP",
        ]);
        await at(f.at);
        const argv = [
          "hping3",
          "-q",
          "-S",
          "-p",
          String(f.to.port),
          "-c",
          String(f.count),
          "--faster",
          host,
        ];
        // hping3 exits non-zero when some packets got no answer, which is the point of a flood.
        await attacker.exec(
          ["sh", "-c", `${argv.join(" ")} >/dev/null 2>&1; true`],
          Math.max(10_000, s.timeout - f.at),
        );
        ctx.emit({
          kind: "fault.applied",
          scenario: ctx.scenario,
          variant,
          atMs: Math.round(performance.now() - t0),
          target: f.to.node,
          action: `SYN flood of ${f.count} from ${inst.name}`,
        });
      }),
  );
  const faults = s.faults.map(async (f) => {
    await at(f.at);
    await applyFault(topo, apps, f);
    timeline.mark({ target: f.target, action: describeFault(f) });
    ctx.emit({
      kind: "fault.applied",
      scenario: ctx.scenario,
      variant,
      atMs: Math.round(performance.now() - t0),
      target: f.target,
      action: describeFault(f),
    });
  });
  await Promise.all([...traffic, ...floods, ...faults]);
  await sleep(s.settle);
  const timelineMs = Math.round(performance.now() - t0);
  const dropReasons: DropReasons =
    typeof tracer === "string" ? { counts: null, note: tracer } : await tracer.stop();
  // Resume a frozen node so that its capture can stop and teardown is quick.
  for (const f of s.faults)
    if (f.pause)
      await node(f.target)
        .unpause()
        .catch(() => undefined);

  const after = await snapshotAll(topo.nodes.values());
  const nodes: Record<string, NodeEvidence> = {};
  for (const inst of instances) {
    const a = after.get(inst.name) ?? {};
    nodes[inst.name] = {
      counters: counterDeltas(before.get(inst.name) ?? {}, a),
      available: Object.keys(a),
    };
  }
  const series = await timeline.stop();
  for (const [name, port] of appPorts) {
    const final = await listenSockets(node(name), [port]);
    const sampled = series.listen[name];
    nodes[name]!.listen = {
      final,
      maxRecvQ: { [port]: Math.max(0, ...(sampled?.recvQ ?? []), ...final.map((l) => l.recvQ)) },
      sendQ: Object.fromEntries(final.map((l) => [l.port, l.sendQ])),
      maxSynRecv: Math.max(0, ...(sampled?.synRecv ?? [])),
    };
  }
  for (const [name, capture] of captures) {
    const pcap = await capture.stop();
    nodes[name]!.packets = packetEvidence(pcap, Object.values(node(name).addresses));
    if (ctx.capturesDir) {
      const file = join(ctx.capturesDir, ctx.scenario, variant, `${name}.pcap`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, pcap);
      captureFiles[name] = file;
    }
  }
  attempts.sort((a, b) => a.startMs - b.startMs);
  const evidence: Evidence = {
    kernel: ctx.kernel.release,
    nodes,
    roles: Object.fromEntries(instances.map((i) => [i.name, i.role])),
    attempts,
    clients: summarizeAttempts(attempts),
    dropReasons,
  };
  return { evidence, timelineMs, timeline: series, captureFiles };
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

function describeFault(f: Fault): string {
  if (f.signal) return f.signal;
  if (f.pause) return "pause";
  if (f.unpause) return "unpause";
  return `iptables ${f.iptables!.join(" ")}`;
}

async function applyFault(
  topo: StartedTopology,
  apps: Map<string, NodeProcess>,
  f: Fault,
): Promise<void> {
  const node = topo.nodes.get(f.target)!;
  if (f.signal) {
    const app = apps.get(f.target);
    if (!app) throw new Error(`fault ${f.signal}: node ${f.target} runs no built-in app`);
    await app.signal(f.signal);
  } else if (f.pause) await node.pause();
  else if (f.unpause) await node.unpause();
  else if (f.iptables) await node.exec(["iptables", ...f.iptables]);
}

function judge(
  variant: Variant,
  evidence: Evidence,
  timing: { upMs: number; downMs: number; timelineMs: number; durationMs: number },
): VariantResult {
  const diagnosis = diagnose(evidence);
  const drops = evidence.dropReasons?.counts ?? null;
  const causes = diagnosis.causes.map((c) => {
    // The kernel's drop reasons that support this cause, when they were recorded.
    const reasons = (REASONS_FOR_CAUSE[c.cause] ?? []).filter((r) => (drops?.[r] ?? 0) > 0);
    const because =
      reasons.length > 0
        ? `${c.because}; kernel drop reasons: ${reasons.map((r) => `${r} ×${drops![r]}`).join(", ")}`
        : c.because;
    return {
      cause: c.cause,
      node: c.node,
      because,
      numbers: {
        ...c.numbers,
        ...Object.fromEntries(reasons.map((r) => [`drop.${r}`, drops![r]!])),
      },
    };
  });
  const expectations = evaluateExpect(
    variant.scenario.expect,
    evidence.nodes,
    evidence.clients,
    causes.map((c) => c.cause),
    variant.expectSource,
    drops,
  );
  const failed = expectations.filter((e) => !e.ok);
  const nodes: Record<string, NodeReport> = {};
  for (const [name, ev] of Object.entries(evidence.nodes)) {
    nodes[name] = {
      counters: Object.fromEntries(Object.entries(ev.counters).filter(([, v]) => v !== 0)),
      ...(ev.listen ? { listen: ev.listen } : {}),
      ...(ev.packets ? { packets: ev.packets } : {}),
    };
  }
  return {
    variant: variant.name,
    verdict: failed.length === 0 ? "pass" : "fail",
    reason:
      failed.length === 0
        ? `${expectations.length} expectation(s) met`
        : failed
            .map(
              (e) =>
                `${e.path}: expected ${e.expected}, got ${e.actual}${e.source ? ` (${e.source})` : ""}`,
            )
            .join("; "),
    ...timing,
    nodes,
    clients: evidence.clients,
    attempts: evidence.attempts,
    expectations,
    causes,
    unchecked: diagnosis.unchecked,
    dropReasons: evidence.dropReasons,
  };
}
