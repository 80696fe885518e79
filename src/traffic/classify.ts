/**
 * A real client's run → attempts with outcomes the diagnosis reads like the generator's. curl
 * by its exit code (and stderr for the phase), ab and wrk by their summaries (one run, many
 * requests), anything else by its exit status and the scenario's `outcomes:` map. Pure.
 */
import type { Attempt } from "../evidence/types.js";
import {
  abAttempts,
  wrkAttempts,
  type Classified,
  type CommandRun,
  type Phase,
} from "./summaries.js";

export type { Classified, CommandRun, Phase };

/** One run of the command, as the runner reported it. */

/** An outcome with the phase it happened in. */

/** Outcomes that can only happen while connecting; the rest default to the reply phase. */
const CONNECT_OUTCOMES = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);

export function defaultPhase(outcome: string): Phase {
  if (outcome === "connected") return "done";
  return CONNECT_OUTCOMES.has(outcome) ? "connect" : "reply";
}

/** `ECONNRESET` or `timeout@connect` → outcome and phase. */
export function parseOutcome(text: string): Classified {
  const [outcome, phase] = text.split("@") as [string, Phase | undefined];
  return { outcome, phase: phase ?? defaultPhase(outcome) };
}

/** The scenario's `outcomes:` map: the first regex that matches stderr wins. */
function fromMap(map: Record<string, string> | undefined, stderr: string): Classified | undefined {
  for (const [re, outcome] of Object.entries(map ?? {}))
    if (new RegExp(re, "m").test(stderr)) return parseOutcome(outcome);
  return undefined;
}

/** Exit code killed by our bound (timeout -s KILL: 128 + 9). */
const KILLED = 137;

function killed(run: CommandRun): boolean {
  return run.exitCode === null || run.exitCode === KILLED;
}

/**
 * curl's exit codes (man curl, EXIT CODES). curl 7.88 says "Couldn't connect to server" for a
 * refused connect, so 7 is ECONNREFUSED unless stderr names another errno; 28 is its own
 * timeout, while connecting ("Failed to connect … Timeout was reached", "Connection timed out
 * after") or later ("Operation timed out after").
 */
export function classifyCurl(run: CommandRun): Classified {
  const err = run.stderr;
  switch (run.exitCode) {
    case 0:
      return { outcome: "connected", phase: "done" };
    case 7:
      if (/No route to host/i.test(err)) return { outcome: "EHOSTUNREACH", phase: "connect" };
      if (/Network is unreachable/i.test(err)) return { outcome: "ENETUNREACH", phase: "connect" };
      if (/Cannot assign requested address/i.test(err))
        return { outcome: "EADDRNOTAVAIL", phase: "connect" };
      if (/Connection timed out(?! after)/i.test(err))
        return { outcome: "ETIMEDOUT", phase: "connect" };
      return { outcome: "ECONNREFUSED", phase: "connect" };
    case 28:
      return {
        outcome: "timeout",
        phase: /Failed to connect|Connection timed out after/i.test(err) ? "connect" : "reply",
      };
    case 52:
      // "Empty reply from server": connected, and the server closed without a byte.
      return { outcome: "EOF", phase: "reply" };
    case 55:
    case 56:
      return /reset/i.test(err) || run.exitCode === 56
        ? { outcome: "ECONNRESET", phase: "reply" }
        : { outcome: "EPIPE", phase: "reply" };
    case 22:
      return { outcome: "httpError", phase: "done" };
    default:
      return killed(run)
        ? { outcome: "timeout", phase: "reply" }
        : { outcome: `exit${run.exitCode}`, phase: "done" };
  }
}

function classifyGeneric(run: CommandRun): Classified {
  if (run.exitCode === 0) return { outcome: "connected", phase: "done" };
  if (killed(run)) return { outcome: "timeout", phase: "reply" };
  return { outcome: `exit${run.exitCode}`, phase: "done" };
}

export type ClientKind = "curl" | "ab" | "wrk" | "other";

export function clientKind(argv: readonly string[]): ClientKind {
  const name = argv[0]!.split("/").at(-1)!;
  return name === "curl" || name === "ab" || name === "wrk" ? name : "other";
}

/** One run → its attempts (one for curl and others; one per request for ab and wrk). */
export function attemptsOf(
  node: string,
  argv: readonly string[],
  run: CommandRun,
  outcomes?: Record<string, string>,
): Attempt[] {
  const base = {
    node,
    startMs: run.startMs,
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    run: run.run,
  };
  const kind = clientKind(argv);
  let classified: Classified[];
  if (kind === "ab") classified = abAttempts(argv, run);
  else if (kind === "wrk") classified = wrkAttempts(run);
  else {
    const mapped = run.exitCode === 0 ? undefined : fromMap(outcomes, run.stderr);
    classified = [mapped ?? (kind === "curl" ? classifyCurl(run) : classifyGeneric(run))];
  }
  return classified.flatMap((c) =>
    Array.from({ length: c.count ?? 1 }, () => ({ ...base, outcome: c.outcome, phase: c.phase })),
  );
}
