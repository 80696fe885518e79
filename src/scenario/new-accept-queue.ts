/**
 * accept-queue-overflow on a host's numbers: the listener's observed limit (Send-Q) becomes the
 * app's backlog, the traffic is sized to overflow that queue, and the `mitigated` variant raises
 * backlog and somaxconn together above the traffic.
 */
import { sysctlNumber, type Snapshot, type SnapshotListener } from "../snapshot/snapshot.js";
import type { Editor } from "./yaml-editor.js";

/** Attempts beyond a full queue: enough that some surely stall, whatever the timing. */
const OVERFLOW_BY = 40;

export function tuneAcceptQueue(
  ed: Editor,
  s: Snapshot,
  l: SnapshotListener,
  notes: string[],
): void {
  const queue = l.sendQ!;
  const somaxconn = sysctlNumber(s, "net.core.somaxconn");
  const capped = somaxconn === queue;
  ed.set(
    ["nodes", "server", "app", "listen"],
    l.port,
    `the port of the listener ${l.address}:${l.port} in the snapshot`,
  );
  ed.set(
    ["nodes", "server", "app", "backlog"],
    queue,
    `the listener's Send-Q in the snapshot (the queue's limit, min(backlog, somaxconn))` +
      (capped ? `: equal to somaxconn, so the app's own backlog is at least this` : ""),
  );
  notes.push(
    `listener ${l.address}:${l.port}: Recv-Q ${l.recvQ}, Send-Q ${queue}` +
      (somaxconn !== undefined ? `, somaxconn ${somaxconn}` : ""),
  );

  // The catalog's two waves, sized for this queue: the first fills it (it holds Send-Q + 1),
  // the second meets it full; every replica sends its share of each.
  const replicas = Number(ed.get(["nodes", "client", "replicas"]) ?? 1);
  const fill = Math.ceil((queue + 1) / replicas);
  const burst = Math.ceil(Math.max(OVERFLOW_BY, Math.ceil(queue / 4)) / replicas);
  const attempts = (fill + burst) * replicas;
  for (const [i, n] of [fill, burst].entries()) {
    ed.set(["traffic", String(i), "connections"], n);
    ed.set(["traffic", String(i), "concurrency"], n);
  }
  ed.note(
    ["traffic"],
    `${replicas} × ${fill} connections that fill the queue of ${queue}, then ${replicas} × ${burst} at once that ` +
      `meet it full: ${attempts} in all. A dropped SYN is retried after 1 s, so a 2 s connect timeout ` +
      "shows the stall without sitting out the kernel's whole SYN retry schedule.",
  );
  ed.set(
    ["summary"],
    `The app on port ${l.port} of ${s.hostname} had its accept queue full in the snapshot ` +
      `(Recv-Q ${l.recvQ} of Send-Q ${queue}` +
      (capped ? `, the limit being net.core.somaxconn` : "") +
      `). Here the app never accepts, its queue has the same limit, and the clients overflow it.`,
  );

  ed.set(["expect", "clients"], { timedOut: "> 0", connected: `< ${attempts}` });
  ed.set(
    ["expect", "listen"],
    { server: { maxRecvQ: `>= ${queue + 1}`, sendQ: `== ${queue}` } },
    `A full queue holds Send-Q + 1: the snapshot showed Recv-Q ${l.recvQ} of Send-Q ${queue}.`,
  );

  const fixed = 2 ** Math.ceil(Math.log2(Math.max(1024, 2 * attempts)));
  const mitigated = ["variants", "mitigated"];
  ed.set(
    [...mitigated, "set"],
    {
      "nodes.server.app.backlog": fixed,
      "nodes.server.sysctls.net.core.somaxconn": Math.max(fixed, somaxconn ?? 0),
    },
    `the fix to try: backlog and net.core.somaxconn raised together (the queue is the smaller)`,
  );
  ed.set(
    [...mitigated, "expect"],
    {
      cause: "none",
      counters: { server: { TcpExtListenOverflows: "== 0" } },
      clients: { connected: `== ${attempts}`, failed: "== 0" },
      listen: { server: { sendQ: `== ${fixed}` } },
    },
    "with the fix every attempt connects and nothing overflows",
  );
}
