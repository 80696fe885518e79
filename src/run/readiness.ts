/**
 * `nodes.<n>.ready:` — wait until a node's own software is ready before any traffic: a port
 * listening, a log line, an HTTP status, or a command that exits 0. Traffic sent earlier would
 * measure the software's start-up (ECONNREFUSED) instead of the failure under test.
 *
 * The checks run through the runtime, not from the host: nodes sit on internal networks with no
 * published ports, so a port is read from the node's own /proc/net/tcp, and HTTP is asked from
 * inside the node, on its loopback.
 */
import { parseProcNetTcp } from "../evidence/proc.js";
import type { StartedNode, StartedTopology } from "../runtime/runtime.js";
import type { ScenarioNode } from "../scenario/schema.js";
import { ExecError } from "../util/errors.js";
import { sleep } from "../util/time.js";
import type { NodeInstance } from "./plan.js";

type Ready = NonNullable<ScenarioNode["ready"]>;

/** Log lines quoted when a node does not become ready. */
const TAIL_LINES = 20;
const POLL_MS = 100;

import { NotReadyError } from "../model/errors.js";
export { NotReadyError };

/** Every node with `ready:`, at once; the first that fails fails the whole. */
export async function waitReady(topo: StartedTopology, instances: NodeInstance[]): Promise<void> {
  await Promise.all(
    instances
      .filter((i) => i.spec.ready)
      .map((i) => waitNodeReady(topo.nodes.get(i.name)!, i.spec.ready!)),
  );
}

export function describeReady(r: Ready): string {
  if (r.port !== undefined) return `port ${r.port} listening`;
  if (r.log !== undefined) return `a log line matching /${r.log}/`;
  if (r.http) return `GET http://127.0.0.1:${r.http.port}${r.http.path} answering ${r.http.status}`;
  return `${r.command!.join(" ")} exiting 0`;
}

export async function waitNodeReady(node: StartedNode, ready: Ready): Promise<void> {
  const start = Date.now();
  const check = readyCheck(node, ready);
  let last = "";
  for (;;) {
    const out = await node.output?.(1);
    if (out && !out.running)
      throw new NotReadyError(
        `node ${node.name} exited (code ${out.exitCode}) before ${describeReady(ready)}` +
          (await tail(node)),
      );
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof NotReadyError) throw err;
      last = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    }
    const left = ready.timeout - (Date.now() - start);
    if (left <= 0)
      throw new NotReadyError(
        `node ${node.name} not ready within ${ready.timeout} ms: waited for ${describeReady(ready)}` +
          (last ? ` (last check: ${last})` : "") +
          (await tail(node)),
      );
    await sleep(Math.min(POLL_MS, left));
  }
}

async function tail(node: StartedNode): Promise<string> {
  const out = await node.output?.(TAIL_LINES).catch(() => undefined);
  if (!out) return "";
  const lines = out.logs.trimEnd().split("\n").filter(Boolean);
  return lines.length === 0
    ? "; the node wrote no output"
    : `; its last ${lines.length} log line(s):\n` + lines.map((l) => `    ${l}`).join("\n");
}

/** Prints the HTTP status of GET 127.0.0.1:$1$2 with whatever the image has, or `none`. */
const HTTP_STATUS_SCRIPT = `
if command -v curl >/dev/null 2>&1; then
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2"
elif command -v wget >/dev/null 2>&1; then
  wget -S -q -O /dev/null -T 2 "http://127.0.0.1:$1$2" 2>&1 | awk '/^ *HTTP\\//{c=$2} END{print c}'
elif command -v bash >/dev/null 2>&1; then
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" "$1" >&3 && head -n1 <&3 | cut -d" " -f2' "$1" "$2"
else
  echo none
fi`;

function readyCheck(node: StartedNode, r: Ready): () => Promise<boolean> {
  if (r.port !== undefined) {
    const port = r.port;
    return async () => {
      for (const file of ["tcp", "tcp6"]) {
        const text = await node.readProcNet(file);
        if (text && parseProcNetTcp(text).listen.some((l) => l.port === port)) return true;
      }
      return false;
    };
  }
  if (r.log !== undefined) {
    const re = new RegExp(r.log, "m");
    return async () => re.test((await node.output?.())?.logs ?? "");
  }
  if (r.http) {
    const { port, path, status } = r.http;
    return async () => {
      const { stdout } = await node.exec(
        ["sh", "-c", HTTP_STATUS_SCRIPT, "sh", String(port), path],
        5_000,
      );
      const got = stdout.trim();
      if (got === "none")
        throw new NotReadyError(
          `node ${node.name}: ready.http needs curl, wget or bash in the image (or use ready.port)`,
        );
      if (Number(got) === status) return true;
      throw new Error(`HTTP status ${got || "none (no answer)"}`);
    };
  }
  const argv = r.command!;
  return async () => {
    try {
      await node.exec(argv, 5_000);
      return true;
    } catch (err) {
      if (err instanceof ExecError) throw new Error(`exit ${err.exitCode}`);
      throw err;
    }
  };
}
