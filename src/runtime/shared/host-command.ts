/** A command on the host (gcc, debootstrap), stoppable by Ctrl-C with its whole process group. */
import { spawn } from "node:child_process";
import { ExecError } from "../../util/errors.js";
import { onInterrupt } from "../../util/interrupts.js";

/**
 * Runs a host command. On Ctrl-C/SIGTERM the command is stopped first and `afterInterrupt`
 * (removing what it was writing) runs once it is gone.
 */
export function runOnHost(argv: string[], afterInterrupt?: () => void): Promise<void> {
  // Its own process group, so that an interrupt stops debootstrap's children (dpkg, …) too.
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const untrack = onInterrupt(async () => {
    killGroup("SIGTERM");
    const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
    await closed;
    clearTimeout(timer);
    afterInterrupt?.();
  });
  return new Promise<void>((resolvePromise, reject) => {
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new ExecError(argv, null, err.message, "host")));
    void closed.then((code) =>
      code === 0 ? resolvePromise() : reject(new ExecError(argv, code, stderr, "host")),
    );
  }).finally(untrack);
}
