/** Errors of the diagnosis, each with a stable code and a message a user can act on. */

/** A counter dump given to `tcprepro diagnose` cannot be used (bad input: exit code 2). */
export class DumpError extends Error {
  readonly code = "TCPREPRO_BAD_DUMP";
  override readonly name = "DumpError";

  constructor(
    /** Which file: `--before`, `--after`, or both. */
    readonly which: "before" | "after" | "both",
    message: string,
  ) {
    super(message);
  }
}
