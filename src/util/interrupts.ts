/**
 * Ctrl-C and SIGTERM tear down what is running before the process exits. Whatever owns
 * resources (a run's topology, an image build's debootstrap and temporary rootfs) registers a
 * cleanup while it owns them; the first signal runs every cleanup (bounded), a second one exits
 * at once and says how to sweep what is left.
 */
import type { EventSink } from "../report/events.js";

const cleanups = new Set<() => Promise<void>>();
let installed = false;
let stopping = false;
let sink: EventSink = () => undefined;

/** How long teardown may take after a signal before we give up and exit anyway. */
const TEARDOWN_BOUND_MS = 45_000;

/** Register a cleanup for Ctrl-C/SIGTERM; call the returned function once it is no longer needed. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function isStopping(): boolean {
  return stopping;
}

/**
 * What the first signal does before exiting: mark the process as stopping and run every
 * registered cleanup. Exported so a test can interrupt a run without a real signal.
 */
export async function runCleanups(): Promise<void> {
  stopping = true;
  await Promise.allSettled([...cleanups].map((c) => c()));
}

export function installSignalHandlers(emit: EventSink): void {
  sink = emit;
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === "SIGINT" ? 130 : 143;
    if (stopping) {
      process.stderr.write(
        `\n${signal} again: exiting now; \`tcprepro clean\` removes what is left\n`,
      );
      process.exit(code);
    }
    stopping = true;
    sink({
      kind: "warning",
      message: `${signal}: tearing down (${cleanups.size} cleanup${cleanups.size === 1 ? "" : "s"} to run)`,
    });
    const timer = setTimeout(() => process.exit(code), TEARDOWN_BOUND_MS);
    void runCleanups().then(() => {
      clearTimeout(timer);
      process.exit(code);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
