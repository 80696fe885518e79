/**
 * `TCPREPRO_GUEST_PROFILE=<file>`: what a VM's run asked of its guest, one JSON line per request
 * when it ends — `{ "at": ms since the channel opened, "ms": how long it took, "op", "what"
 * (the argv or path), "userMs", "sysMs" }`, the CPU times for a process, from the guest agent's
 * wait4. Under emulation every request costs the one vCPU the scenarios also run on: this is
 * how BENCHMARKS.md (section 6, "What a VM catalog costs its guest") found where the time went.
 */
import { appendFileSync } from "node:fs";

interface Request {
  on(kind: string, payload: string): boolean;
}

export class GuestProfile {
  private readonly t0 = performance.now();

  private constructor(
    private readonly file: string,
    private readonly decode: (field: string) => Buffer,
  ) {}

  static fromEnv(decode: (field: string) => Buffer): GuestProfile | undefined {
    const file = process.env.TCPREPRO_GUEST_PROFILE;
    return file ? new GuestProfile(file, decode) : undefined;
  }

  /** The same request, recorded when its last reply arrives. */
  wrap(fields: string[], inner: Request): Request {
    const started = performance.now();
    const [op = "", ...args] = fields;
    // spawn's first two fields are its stdin and environment.
    const what = (op === "spawn" ? args.slice(2) : args.slice(0, 1))
      .map((f) => this.decode(f).toString())
      .join(" ");
    return {
      on: (kind, payload) => {
        const done = inner.on(kind, payload);
        if (done) {
          const [userMs, sysMs] = kind === "exit" ? payload.split(" ").slice(2).map(Number) : [];
          const line = {
            at: Math.round(started - this.t0),
            ms: Math.round(performance.now() - started),
            op,
            what,
            ...(userMs !== undefined ? { userMs, sysMs } : {}),
          };
          appendFileSync(this.file, JSON.stringify(line) + "\n");
        }
        return done;
      },
    };
  }
}
