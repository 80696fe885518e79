/**
 * The `collect` step: the final counters, the listen queues, the captures; with the timeline's
 * attempts they make the variant's evidence.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { summarizeAttempts } from "../evidence/clients.js";
import { listenSockets, snapshotAll } from "../evidence/collect.js";
import { packetEvidence } from "../evidence/packets.js";
import { counterDeltas } from "../evidence/proc.js";
import { socketEvidence, type Timeline } from "../evidence/timeline.js";
import type { Evidence, NodeEvidence } from "../evidence/types.js";
import type { VariantState } from "./variant-state.js";

export interface Collected {
  evidence: Evidence;
  timeline: Timeline;
  /** Where each captured node's packets were written, by node instance. */
  captureFiles: Record<string, string>;
}

export async function collect(st: VariantState): Promise<Collected> {
  const { ctx, topo, instances, ready, played, sampler } = st;
  const before = st.before!;
  const variant = st.name;
  if (!played || !sampler) throw new Error("internal: collect before the timeline");
  const node = (name: string) => topo.nodes.get(name)!;
  const after = await snapshotAll(topo.nodes.values());
  const nodes: Record<string, NodeEvidence> = {};
  for (const inst of instances) {
    const a = after.get(inst.name) ?? {};
    nodes[inst.name] = {
      counters: counterDeltas(before.get(inst.name) ?? {}, a),
      available: Object.keys(a),
    };
  }
  const timeline = await sampler.stop();
  for (const [name, ev] of Object.entries(nodes)) {
    const sockets = socketEvidence(timeline, name);
    if (sockets) ev.sockets = sockets;
  }
  for (const [name, port] of ready.appPorts) {
    const final = await listenSockets(node(name), [port]);
    const sampled = timeline.listen[name];
    nodes[name]!.listen = {
      final,
      maxRecvQ: { [port]: Math.max(0, ...(sampled?.recvQ ?? []), ...final.map((l) => l.recvQ)) },
      sendQ: Object.fromEntries(final.map((l) => [l.port, l.sendQ])),
      maxSynRecv: Math.max(0, ...(sampled?.synRecv ?? [])),
    };
  }
  const captureFiles: Record<string, string> = {};
  for (const [name, capture] of ready.captures) {
    const pcap = await capture.stop();
    nodes[name]!.packets = packetEvidence(pcap, [
      ...Object.values(node(name).addresses),
      ...Object.values(node(name).addresses6 ?? {}),
    ]);
    if (ctx.capturesDir) {
      const file = join(ctx.capturesDir, ctx.scenario, variant, `${name}.pcap`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, pcap);
      captureFiles[name] = file;
    }
  }
  const evidence: Evidence = {
    kernel: ctx.kernel.release,
    nodes,
    roles: Object.fromEntries(instances.map((i) => [i.name, i.role])),
    attempts: played.attempts,
    clients: summarizeAttempts(played.attempts),
    dropReasons: played.dropReasons,
  };
  return { evidence, timeline, captureFiles };
}
