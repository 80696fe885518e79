/**
 * ApacheBench and wrk make many requests per run and report them in a summary: it becomes one
 * attempt per request. Neither says in which phase a failure happened beyond what its counters
 * name, so the phases here are the counters' meaning. Pure.
 */
import type { Attempt } from "../evidence/types.js";

export interface CommandRun {
  run: number;
  /** ms since the traffic's t = 0. */
  startMs: number;
  durationMs: number;
  /** null: killed at the scenario's bound. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export type Phase = Attempt["phase"];

export interface Classified {
  outcome: string;
  phase: Phase;
  /** How many attempts (requests) share it; 1 for one-shot clients. */
  count?: number;
}

const num = (re: RegExp, text: string): number | undefined => {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
};

/** An errno number in apr's messages ("Connection reset by peer (104)") → name and phase. */
const APR_ERRNO: Record<number, Classified> = {
  104: { outcome: "ECONNRESET", phase: "reply" },
  110: { outcome: "ETIMEDOUT", phase: "connect" },
  111: { outcome: "ECONNREFUSED", phase: "connect" },
  113: { outcome: "EHOSTUNREACH", phase: "connect" },
  99: { outcome: "EADDRNOTAVAIL", phase: "connect" },
  32: { outcome: "EPIPE", phase: "reply" },
  // APR_TIMEUP: ab's own -s timeout (default 30 s) expired with requests outstanding.
  70007: { outcome: "timeout", phase: "reply" },
};

/** `-n 100` or `-n100`: requests ab was asked for (1 by default). */
export function abRequests(argv: readonly string[]): number {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-n" && argv[i + 1] !== undefined) return Number(argv[i + 1]) || 1;
    const m = /^-n(\d+)$/.exec(a);
    if (m) return Number(m[1]);
  }
  return 1;
}

/**
 * ab's summary: Complete requests, Failed requests (Connect, Receive, Length, Exceptions),
 * Non-2xx responses. Without -r ab stops at its first socket error ("apr_socket_recv:
 * Connection reset by peer (104)", "Total of N requests completed"): the requests it did not
 * finish take that error's outcome.
 */
export function abAttempts(argv: readonly string[], run: CommandRun): Classified[] {
  const out = run.stdout;
  const total = abRequests(argv);
  const complete =
    num(/^Complete requests:\s+(\d+)/m, out) ??
    num(/Total of (\d+) requests completed/, run.stderr) ??
    0;
  const connect = num(/\(Connect: (\d+)/, out) ?? 0;
  const receive = num(/Receive: (\d+)/, out) ?? 0;
  const exceptions = num(/Exceptions: (\d+)/, out) ?? 0;
  const non2xx = num(/^Non-2xx responses:\s+(\d+)/m, out) ?? 0;
  // Length failures are answers of another size than the first: they arrived, so they count.
  const ok = Math.max(0, complete - connect - receive - exceptions - non2xx);
  const result: Classified[] = [
    { outcome: "connected", phase: "done", count: ok },
    { outcome: "httpError", phase: "done", count: non2xx },
    { outcome: "ECONNREFUSED", phase: "connect", count: connect },
    { outcome: "ECONNRESET", phase: "reply", count: receive },
    { outcome: "exception", phase: "reply", count: exceptions },
  ];
  const unfinished = Math.max(0, total - complete);
  if (unfinished > 0) {
    const errno = num(/\((\d+)\)\s*$/m, run.stderr);
    const cause = (errno !== undefined ? APR_ERRNO[errno] : undefined) ?? {
      outcome: run.exitCode === null || run.exitCode === 137 ? "timeout" : `exit${run.exitCode}`,
      phase: "reply" as const,
    };
    result.push({ ...cause, count: unfinished });
  }
  return result.filter((c) => (c.count ?? 0) > 0);
}

/** wrk's summary: "N requests in", "Socket errors: connect, read, write, timeout", Non-2xx. */
export function wrkAttempts(run: CommandRun): Classified[] {
  const out = run.stdout;
  const requests = num(/(\d+) requests in/, out) ?? 0;
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/, out) ?? 0;
  const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const [connect, read, write, timeout] = m ? m.slice(1).map(Number) : [0, 0, 0, 0];
  const result: Classified[] = [
    { outcome: "connected", phase: "done", count: Math.max(0, requests - non2xx) },
    { outcome: "httpError", phase: "done", count: non2xx },
    { outcome: "ECONNREFUSED", phase: "connect", count: connect },
    { outcome: "ECONNRESET", phase: "reply", count: read },
    { outcome: "EPIPE", phase: "reply", count: write },
    { outcome: "timeout", phase: "reply", count: timeout },
  ];
  if (requests === 0 && !m && run.exitCode !== 0)
    result.push({ outcome: `exit${run.exitCode}`, phase: "done", count: 1 });
  return result.filter((c) => (c.count ?? 0) > 0);
}
