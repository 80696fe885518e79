/**
 * A host snapshot: one JSON document holding what the kernel says about TCP at one moment —
 * the kernel release, the TCP-relevant sysctls, every counter, the listening sockets with their
 * queues and the sockets per state. The format is versioned and documented in docs/snapshot.md;
 * this zod schema is what a reader accepts.
 */
import { z } from "zod";

export const SNAPSHOT_FORMAT = "tcprepro-snapshot";
export const SNAPSHOT_VERSION = 1;

const Listener = z.object({
  family: z.enum(["ipv4", "ipv6"]),
  address: z.string(),
  port: z.number().int().min(0).max(65535),
  /** Connections waiting in the accept queue (ss Recv-Q; rx_queue of the LISTEN row). */
  recvQ: z.number().int().min(0),
  /** The accept queue's limit, min(backlog, somaxconn) (ss Send-Q); null when not known. */
  sendQ: z.number().int().min(0).nullable(),
});

export const SnapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(SNAPSHOT_VERSION),
  takenAt: z.string(),
  hostname: z.string(),
  kernel: z.string().min(1),
  source: z.object({
    /** The /proc the snapshot was read from. */
    proc: z.string(),
    /** Where the listeners' Send-Q came from: `ss` (netlink), or `none` (unknown: null). */
    listenLimits: z.enum(["ss", "none"]),
    /** What could not be read, and why. */
    notes: z.array(z.string()),
  }),
  sysctls: z.record(z.string(), z.union([z.number(), z.string()])),
  counters: z.record(z.string(), z.number()),
  listen: z.array(Listener),
  states: z.record(z.string(), z.number().int().min(0)),
  /**
   * Lines of the kernel log (`dmesg`, where this user may read it) that name a cause, counted
   * over what the ring buffer still holds. Absent: the log was not read (a copied /proc, no
   * permission). Optional, so version-1 readers without it still accept the file.
   */
  kernelLog: z.record(z.string(), z.number().int().min(0)).optional(),
});

export type Snapshot = z.output<typeof SnapshotSchema>;
export type SnapshotListener = z.output<typeof Listener>;

/** A snapshot file that cannot be used: bad input, exit code 2. */
import { SnapshotError } from "../model/errors.js";
export { SnapshotError };

/** True when the text is (meant to be) a JSON snapshot rather than a counter dump. */
export function looksLikeSnapshot(text: string): boolean {
  return text.trimStart().startsWith("{");
}

/** Parse and check a snapshot file's text; `label` names it in messages (a file, a flag). */
export function readSnapshot(text: string, label: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(
      `${label}: not valid JSON (${(err as Error).message}): a truncated or damaged snapshot? ` +
        "take it again with `tcprepro snapshot -o FILE`",
    );
  }
  const obj = (raw ?? {}) as { format?: unknown; version?: unknown };
  if (typeof raw !== "object" || Array.isArray(raw) || obj.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(
      `${label}: not a tcprepro snapshot (its "format" is ${JSON.stringify(obj.format)}, ` +
        `expected "${SNAPSHOT_FORMAT}")`,
    );
  }
  if (obj.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(
      `${label}: snapshot version ${JSON.stringify(obj.version)} is not supported ` +
        `(this tcprepro reads version ${SNAPSHOT_VERSION})`,
    );
  }
  const parsed = SnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new SnapshotError(`${label}: a damaged snapshot: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/** A sysctl as a number (`net.core.somaxconn`), or undefined when absent or not a number. */
export function sysctlNumber(s: Snapshot, name: string): number | undefined {
  const v = s.sysctls[name];
  return typeof v === "number" ? v : undefined;
}

/** `net.ipv4.ip_local_port_range` as [low, high]. */
export function portRange(s: Snapshot): [number, number] | undefined {
  const v = s.sysctls["net.ipv4.ip_local_port_range"];
  const m = typeof v === "string" ? /^(\d+)\s+(\d+)$/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
