import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  diagnoseHost,
  diagnosePackets,
  formatHostDiagnosis,
  withPackets,
} from "../diagnosis/index.js";
import { parsePcap, PcapError } from "../evidence/pcap.js";
import { Duration } from "../scenario/schema.js";
import type { LiveSamples } from "../diagnosis/host.js";
import { DropReasonTracer } from "../evidence/drop-reasons.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { takeSnapshot } from "../snapshot/take.js";
import { UsageError } from "../util/errors.js";
import { sleep } from "../util/time.js";

/** Each capture parsed; one that is not a classic pcap is bad input (exit 2), named. */
function readCaptures(files: string[]) {
  return files.map((file) => {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new UsageError(`--pcap ${file}: ${(err as Error).message}`);
    }
    try {
      return { file, capture: parsePcap(buf) };
    } catch (err) {
      if (err instanceof PcapError) throw new UsageError(`--pcap ${file}: ${err.message}`);
      throw err;
    }
  });
}

function read(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

/** Longest `--live` window: a diagnosis is about now, and the wait is a bounded loop. */
const LIVE_MAX_MS = 3_600_000;

function liveMs(value: string): number {
  const ms = Duration.safeParse(value);
  if (!ms.success || ms.data <= 0 || ms.data > LIVE_MAX_MS)
    throw new UsageError(`--live "${value}": a duration from 1ms to 1h (5s, 30s, 2m)`);
  return ms.data;
}

/**
 * Two snapshots of this host `ms` apart, with samples between them (the queues, socket states
 * and conntrack count at their peaks: a full accept queue drains in a moment) and the kernel's
 * drop reasons over the window where tracefs is writable. Progress on stderr.
 */
async function liveSnapshots(
  ms: number,
  keep?: string,
): Promise<{ before: string; after: string; live: LiveSamples; notes: string[] }> {
  const notes: string[] = [];
  const tracer = DropReasonTracer.start("live");
  if (typeof tracer === "string") notes.push(`drop reasons: ${tracer}`);
  const before = JSON.stringify(takeSnapshot());
  // At most ~30 samples, at least 1 s apart: bounded whatever the window.
  const every = Math.min(10_000, Math.max(1_000, Math.floor(ms / 30)));
  process.stderr.write(
    `snapshot 1 taken; sampling every ${every / 1000}s; the second in ${ms / 1000}s\n`,
  );
  const samples: Snapshot[] = [];
  const end = Date.now() + ms;
  let said = Date.now();
  try {
    for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
      await sleep(Math.min(left, every));
      if (end - Date.now() <= 0) break;
      samples.push(takeSnapshot());
      if (Date.now() - said >= 10_000) {
        said = Date.now();
        process.stderr.write(`  ${Math.round((end - Date.now()) / 1000)}s left\n`);
      }
    }
  } catch (err) {
    if (typeof tracer !== "string") tracer.stop();
    throw err;
  }
  const after = JSON.stringify(takeSnapshot());
  const dropReasons = typeof tracer === "string" ? undefined : tracer.stop();
  process.stderr.write(`snapshot 2 taken (${samples.length} samples between)\n`);
  if (keep) {
    writeFileSync(`${keep}.before.json`, before + "\n");
    writeFileSync(`${keep}.after.json`, after + "\n");
  }
  return {
    before,
    after,
    live: { samples, ...(dropReasons ? { dropReasons } : {}) },
    notes,
  };
}

export function registerDiagnose(program: Command): void {
  program
    .command("diagnose")
    .description(
      "name causes, and what to try, from two snapshots or counter dumps of any host (tcprepro snapshot, nstat -az, or cat /proc/net/netstat /proc/net/snmp), one snapshot, or --live",
    )
    .argument("[snapshot]", "one snapshot alone (its counters then count since boot)")
    .option("--before <file>", "snapshot or counters before")
    .option("--after <file>", "snapshot or counters after")
    .option("--live <duration>", "take both snapshots of this host, this far apart (30s)", liveMs)
    .option(
      "--keep <prefix>",
      "with --live: keep the snapshots as PREFIX.before.json, PREFIX.after.json",
    )
    .option(
      "--pcap <files...>",
      "packet captures (tcpdump -w, classic pcap), alone or beside snapshots or dumps",
    )
    .option("--json", "print the diagnosis as JSON", false)
    .action(
      async (
        one: string | undefined,
        opts: {
          before?: string;
          after?: string;
          live?: number;
          keep?: string;
          pcap?: string[];
          json: boolean;
        },
      ) => {
        const given = [one !== undefined, opts.before ?? opts.after, opts.live].filter(Boolean);
        const captures = opts.pcap ? readCaptures(opts.pcap) : undefined;
        if (
          given.length > 1 ||
          (given.length === 0 && !captures) ||
          (opts.before === undefined) !== (opts.after === undefined)
        )
          throw new UsageError(
            "give --before FILE --after FILE, or one SNAPSHOT, or --live DURATION (and/or --pcap FILE…)",
          );
        if (opts.keep && opts.live === undefined) throw new UsageError("--keep goes with --live");
        let d;
        if (given.length === 0) {
          d = undefined;
        } else if (opts.live !== undefined) {
          const w = await liveSnapshots(opts.live, opts.keep);
          d = diagnoseHost(w.after, w.before, w.live);
          d.unchecked.push(...w.notes);
        } else if (one !== undefined) {
          d = diagnoseHost(read("snapshot", one));
        } else {
          d = diagnoseHost(read("--after", opts.after!), read("--before", opts.before!));
        }
        if (captures) d = withPackets(d, diagnosePackets(captures));
        process.stdout.write(
          opts.json ? JSON.stringify(d, null, 2) + "\n" : formatHostDiagnosis(d!),
        );
      },
    );
}
