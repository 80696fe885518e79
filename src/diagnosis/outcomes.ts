/**
 * Client attempts of one group, counted by how they ended: `OUTCOME@phase`, so that a reset
 * while connecting and a reset after connecting stay apart.
 */
import type { Attempt } from "../evidence/types.js";

/**
 * The first SYN retransmit fires 1 s after the SYN (TCP_TIMEOUT_INIT, linear timeouts or not):
 * a connect slower than this waited for at least one retransmit.
 */
export const SYN_RTO_MS = 900;

type Phase = Attempt["phase"];

/** The attempts of one group, by how they ended. */
export class Outcomes {
  attempts = 0;
  connected = 0;
  /** Connected, but only after at least one SYN retransmit. */
  slowConnects = 0;
  /** Failed attempts per `OUTCOME@phase` (`ETIMEDOUT@connect`, `ECONNRESET@reply`, …). */
  readonly failed = new Map<string, number>();

  add(outcome: string, phase: Phase, connectMs?: number, n = 1): void {
    this.attempts += n;
    if (outcome === "connected") {
      this.connected += n;
      if (connectMs !== undefined && connectMs >= SYN_RTO_MS) this.slowConnects += n;
      return;
    }
    const key = `${outcome}@${phase}`;
    this.failed.set(key, (this.failed.get(key) ?? 0) + n);
  }

  merge(o: Outcomes): void {
    this.attempts += o.attempts;
    this.connected += o.connected;
    this.slowConnects += o.slowConnects;
    for (const [k, n] of o.failed) this.failed.set(k, (this.failed.get(k) ?? 0) + n);
  }

  /** Attempts that ended with `outcome`, in any of `phases` (all phases when omitted). */
  count(outcome: string, phases?: Phase[]): number {
    let n = 0;
    for (const [key, c] of this.failed) {
      const [o, p] = key.split("@") as [string, Phase];
      if (o === outcome && (phases === undefined || phases.includes(p))) n += c;
    }
    return n;
  }

  /** Keys of the failed attempts that match. */
  keys(outcome: string, phases?: Phase[]): string[] {
    return [...this.failed.keys()].filter((key) => {
      const [o, p] = key.split("@") as [string, Phase];
      return o === outcome && (phases === undefined || phases.includes(p));
    });
  }

  /** Still connecting when they gave up: the kernel's ETIMEDOUT or the client's own timeout. */
  get connectStalls(): number {
    return this.count("ETIMEDOUT", ["connect"]) + this.count("timeout", ["connect"]);
  }

  get stallKeys(): string[] {
    return [...this.keys("ETIMEDOUT", ["connect"]), ...this.keys("timeout", ["connect"])];
  }

  /** Connected, then never got the reply (the connection sat in an accept queue). */
  get noReply(): number {
    return this.count("noReply");
  }

  /** ECONNRESET after the connect had succeeded. */
  get resetAfterConnect(): number {
    return this.count("ECONNRESET", ["reply", "done"]);
  }
}
