/**
 * Errors a user can act on, each with a stable `code`. Exit codes: 2 for bad input or a missing
 * engine (ScenarioError, UsageError, RuntimeUnavailableError), 1 for anything else that failed.
 */

export interface Position {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending key, e.g. `nodes.server.app.backlog`. */
  key: string;
}

export interface ScenarioProblem extends Position {
  message: string;
}

/** A scenario file that cannot be run as written. Nothing has been created when it is thrown. */
export class ScenarioError extends Error {
  readonly code = "TCPREPRO_SCENARIO_INVALID";
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ScenarioError";
  }
}

export function formatProblem(p: ScenarioProblem): string {
  const key = p.key === "" ? "" : ` ${p.key}:`;
  return `${p.file}:${p.line}:${p.column}:${key} ${p.message}`;
}

/** Wrong command-line use. */
export class UsageError extends Error {
  readonly code = "TCPREPRO_USAGE";
  override name = "UsageError";
}

/** No engine, no permission, no privileges: says what to install or start. */
export class RuntimeUnavailableError extends Error {
  readonly code = "TCPREPRO_RUNTIME_UNAVAILABLE";
  override name = "RuntimeUnavailableError";
}

/** A kernel that is not fetched (or cannot be): says how to get it. */
export class KernelUnavailableError extends Error {
  readonly code = "TCPREPRO_KERNEL_UNAVAILABLE";
  override name = "KernelUnavailableError";
}

/** A command inside a node (or on the host) that failed. */
export class ExecError extends Error {
  readonly code = "TCPREPRO_EXEC_FAILED";
  override name = "ExecError";
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    where = "",
  ) {
    super(
      `${where}${where ? ": " : ""}\`${command.join(" ")}\` exited ${exitCode}: ${stderr.trim().slice(0, 500)}`,
    );
  }
}

/** A step that did not finish within its bound. */
export class StepTimeoutError extends Error {
  readonly code = "TCPREPRO_STEP_TIMEOUT";
  override name = "StepTimeoutError";
}

/** Errors that mean "your input or your machine", not "the run failed": exit 2. */
export function exitCodeFor(err: unknown): number {
  if (
    err instanceof ScenarioError ||
    err instanceof UsageError ||
    err instanceof RuntimeUnavailableError ||
    err instanceof KernelUnavailableError
  )
    return 2;
  const code = (err as { code?: unknown } | null)?.code;
  return code === "TCPREPRO_BAD_DUMP" ? 2 : 1;
}
