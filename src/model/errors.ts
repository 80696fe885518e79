/**
 * Every error tcprepro throws at a user, in one module, each with a stable `code` and the exit
 * code it means. Exit 2: the input or the machine (what to fix or install is in the message);
 * exit 1: the run itself failed. Part of the public types: imports nothing.
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

/** What every tcprepro error has: a stable code and the process exit code it stands for. */
export abstract class TcpreproError extends Error {
  abstract readonly code: string;
  /** 2: bad input or a machine problem (the message says what to do); 1: a failure of the run. */
  abstract readonly exit: 1 | 2;
}

/** A scenario file that cannot be run as written. Nothing has been created when it is thrown. */
export class ScenarioError extends TcpreproError {
  readonly code = "TCPREPRO_SCENARIO_INVALID";
  readonly exit = 2;
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ScenarioError";
  }
}

export function formatProblem(p: ScenarioProblem): string {
  const key = p.key === "" ? "" : ` ${p.key}:`;
  return `${p.file}:${p.line}:${p.column}:${key} ${p.message}`;
}

/** Wrong use of the command line or the API. */
export class UsageError extends TcpreproError {
  readonly code = "TCPREPRO_USAGE";
  readonly exit = 2;
  override name = "UsageError";
}

/** No engine, no permission, no privileges, no QEMU: says what to install or start. */
export class RuntimeUnavailableError extends TcpreproError {
  readonly code: string = "TCPREPRO_RUNTIME_UNAVAILABLE";
  readonly exit = 2;
  override name = "RuntimeUnavailableError";
}

/** A kernel that is not fetched, or cannot be: says how to get it. */
export class KernelUnavailableError extends RuntimeUnavailableError {
  override readonly code = "TCPREPRO_KERNEL_UNAVAILABLE";
  override name = "KernelUnavailableError";
}

/** A command inside a node (or on the host) that failed. */
export class ExecError extends TcpreproError {
  readonly code = "TCPREPRO_EXEC_FAILED";
  readonly exit = 1;
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
export class StepTimeoutError extends TcpreproError {
  readonly code = "TCPREPRO_STEP_TIMEOUT";
  readonly exit = 1;
  override name = "StepTimeoutError";
}

/** A node's own software did not become ready (`nodes.<n>.ready:`). */
export class NotReadyError extends TcpreproError {
  readonly code = "TCPREPRO_NOT_READY";
  readonly exit = 1;
  override name = "NotReadyError";
}

/** A node that asks for a container image on a runtime that runs host binaries only. */
export class ImageUnsupportedError extends TcpreproError {
  readonly code = "TCPREPRO_NETNS_NO_IMAGE";
  readonly exit = 2;
  override name = "ImageUnsupportedError";
}

/** A request to a VM's guest agent that failed with an errno. */
export class GuestError extends TcpreproError {
  readonly code = "TCPREPRO_GUEST_FAILED";
  readonly exit = 1;
  override name = "GuestError";
  constructor(
    readonly errno: number,
    what: string,
  ) {
    super(`${what}: errno ${errno}`);
  }
}

/** A counter dump given to `tcprepro diagnose` cannot be used (bad input). */
export class DumpError extends TcpreproError {
  readonly code = "TCPREPRO_BAD_DUMP";
  readonly exit = 2;
  override readonly name = "DumpError";
  constructor(
    /** Which file: `--before`, `--after`, or both. */
    readonly which: "before" | "after" | "both",
    message: string,
  ) {
    super(message);
  }
}

/** A snapshot file that cannot be used (bad input). */
export class SnapshotError extends TcpreproError {
  readonly code = "TCPREPRO_BAD_DUMP";
  readonly exit = 2;
  override readonly name = "SnapshotError";
}

/** A buffer that is not a classic pcap file this parser can read. */
export class PcapError extends TcpreproError {
  readonly code = "TCPREPRO_BAD_PCAP";
  readonly exit = 2;
  override readonly name = "PcapError";
}

/** The exit code an error means: its own when it is ours, else 1. */
export function exitCodeFor(err: unknown): number {
  return err instanceof TcpreproError ? err.exit : 1;
}
