/**
 * Real clients as traffic: `traffic[].command` runs in the client node `connections` times,
 * `concurrency` at once. A small sh runner inside the node starts them (so a burst is a burst,
 * not one engine exec per run), times each with the node's clock (the host's: one kernel), keeps
 * each run's stdout and stderr in files and bounds each run by the scenario's time.
 */
import { randomBytes } from "node:crypto";
import type { Attempt } from "../evidence/types.js";
import type { Route } from "../run/plan.js";
import type { StartedNode } from "../runtime/runtime.js";
import type { Traffic } from "../scenario/schema.js";
import { ExecError } from "../util/errors.js";
import { withDeadline } from "../util/time.js";
import { attemptsOf, type CommandRun } from "./classify.js";

/** Margin past the runner's own bound before we stop waiting for it. */
const GRACE_MS = 5_000;
/** Bytes of each run's stdout/stderr kept (a summary, an error line). */
const KEEP_BYTES = 64 * 1024;

/**
 * $1 runs, $2 at once, $3 bound per run (s), $4 output directory, $5 release time (epoch µs),
 * then the argv. The workers are started first and wait on a FIFO; at the release time the
 * runner writes the release time (or now, if that has passed) to a file and one empty line per
 * worker (one byte each: concurrent readers of a FIFO would interleave longer lines), so the
 * burst does not include the cost of starting them.
 * Worker k runs k, k+c, k+2c, …, back to back; each finished run prints "index startUs endUs
 * exit" (one short write: lines from concurrent workers do not interleave). A run's start is
 * when it was released (the release time, then its predecessor's end): one `date` per run rather
 * than two, because on two busy cores a burst of 60 runs spread over up to 1.6 s with two.
 */
const RUNNER = `
n=$1; c=$2; t=$3; d=$4; go=$5; shift 5
mkdir -m 700 "$d" || exit 90
for tool in timeout date mkfifo sleep; do
  command -v $tool >/dev/null || { echo "the client node needs $tool (coreutils)" >&2; exit 91; }
done
mkfifo "$d/go" && exec 3<>"$d/go" || exit 92
w=0
while [ "$w" -lt "$c" ]; do
  (
    read _ <&3
    exec 3>&-
    read s <"$d/at"
    i=$w
    while [ "$i" -lt "$n" ]; do
      timeout -s KILL "$t" "$@" >"$d/$i.out" 2>"$d/$i.err" </dev/null
      e=$?
      f=$(date +%s%6N)
      echo "$i $s $f $e"
      s=$f
      i=$((i + c))
    done
  ) &
  w=$((w + 1))
done
now=$(date +%s%6N)
if [ "$go" -gt "$now" ]; then
  sleep "$(( (go - now) / 1000000 )).$(printf %06d $(( (go - now) % 1000000 )))"
else
  go=$now
fi
echo "$go" >"$d/at"
w=0
while [ "$w" -lt "$c" ]; do echo; w=$((w + 1)); done >&3
exec 3>&-
wait`;

/**
 * `{target}` host:port, `{host}`, `{port}`, `{url}` http://host:port — the route the client
 * takes. An IPv6 host is bracketed in `{target}` and `{url}` ([2001:2::a]:80), as URLs and
 * most clients' host:port arguments want it.
 */
export function substitute(argv: readonly string[], route: Route): string[] {
  const host = route.host.includes(":") ? `[${route.host}]` : route.host;
  const target = `${host}:${route.port}`;
  return argv.map((a) =>
    a
      .replaceAll("{url}", `http://${target}`)
      .replaceAll("{target}", target)
      .replaceAll("{host}", route.host)
      .replaceAll("{port}", String(route.port)),
  );
}

export interface CommandTrafficOptions {
  /** Epoch ms of the traffic's t = 0. */
  t0Epoch: number;
  /** When the runs start, ms after t = 0 (the runner is armed before). */
  atMs: number;
  /** Bound of the whole traffic item (the scenario's time left). */
  boundMs: number;
  /** Names the output directory of this traffic item (a random suffix makes it unique). */
  id: string;
}

export async function runCommandTraffic(
  node: StartedNode,
  t: Traffic,
  route: Route,
  opts: CommandTrafficOptions,
): Promise<Attempt[]> {
  const argv = substitute(t.command!, route);
  // Unique, and made with plain mkdir (never reused): a directory of an earlier run, or of
  // another node sharing a /tmp, is never mistaken for this one's. Removed once read.
  const dir = `/tmp/tcprepro-traffic-${opts.id}-${randomBytes(6).toString("hex")}`;
  try {
    return await runAndRead(node, t, argv, dir, opts);
  } finally {
    await node.exec(["rm", "-rf", dir]).catch(() => undefined);
  }
}

async function runAndRead(
  node: StartedNode,
  t: Traffic,
  argv: string[],
  dir: string,
  opts: CommandTrafficOptions,
): Promise<Attempt[]> {
  const boundS = Math.max(1, Math.ceil(opts.boundMs / 1000));
  const proc = await node.spawn([
    "sh",
    "-c",
    RUNNER,
    "sh",
    String(t.connections),
    String(Math.min(t.concurrency, t.connections)),
    String(boundS),
    dir,
    String(Math.round((opts.t0Epoch + opts.atMs) * 1000)),
    ...argv,
  ]);
  const finished: { run: number; startUs: number; endUs: number; exit: number }[] = [];
  proc.onLine((line) => {
    const f = line.trim().split(" ").map(Number);
    if (f.length === 4 && f.every(Number.isFinite))
      finished.push({ run: f[0]!, startUs: f[1]!, endUs: f[2]!, exit: f[3]! });
  });
  const code = await withDeadline(
    proc.exited,
    opts.atMs + opts.boundMs + GRACE_MS,
    `${node.name}: ${argv.join(" ")}`,
  );
  if (code !== 0) throw new ExecError(argv, code, proc.stderr(), node.name);

  const read = async (path: string) =>
    ((await node.readFile(path)) ?? Buffer.alloc(0)).subarray(-KEEP_BYTES).toString("utf8");
  const runs: CommandRun[] = [];
  for (const f of finished.sort((a, b) => a.run - b.run)) {
    runs.push({
      run: f.run,
      startMs: Math.round(f.startUs - opts.t0Epoch * 1000) / 1000,
      durationMs: Math.round(f.endUs - f.startUs) / 1000,
      exitCode: f.exit,
      stdout: await read(`${dir}/${f.run}.out`),
      stderr: await read(`${dir}/${f.run}.err`),
    });
  }
  if (runs.length > 0 && runs.every((r) => r.exitCode === 126 || r.exitCode === 127))
    throw new ExecError(
      argv,
      runs[0]!.exitCode,
      `${runs[0]!.stderr.trim()} (is ${argv[0]} in node ${node.name}'s image? e.g. packages: [curl])`,
      node.name,
    );
  return runs.flatMap((r) => attemptsOf(node.name, t.command!, r, t.outcomes));
}
