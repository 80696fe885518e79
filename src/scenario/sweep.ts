/**
 * `tcprepro run FILE --sweep PATH=V1,V2,…`: size a mitigation. Each value becomes one variant
 * beside the file's own (patched exactly as `--set PATH=V` is, and like it expected healthy),
 * named `sweep:<name>=<value>`. After the run, the sweep's summary: per value the clients that
 * failed and the cause's counter, a small plot, and the threshold — the smallest value from which
 * on every larger value ran healthy too: the smallest that made the failure go away at this load.
 * Self-contained: variant expansion here, the threshold a pure function, the report section in
 * src/report/sweep.ts; the run CLI only calls these.
 */
import { parse } from "yaml";
import type { CauseName } from "../diagnosis/causes.js";
import { UsageError } from "../util/errors.js";
import type { RunReport, SweepPoint, SweepSummary, VariantResult } from "../verdict/result.js";

export type { SweepPoint, SweepSummary };
import type { LoadedScenario } from "./load.js";
import type { KernelFacts } from "./semantics.js";
import { setVariantName, withSetVariant, type SetFlag } from "./set-flag.js";

export interface Sweep {
  /** As given: `nodes.server.app.backlog=16,64,256`. */
  raw: string;
  path: string;
  /** Each value as YAML reads it, in the order given. */
  values: unknown[];
}

/** Most values one sweep may have: each is a variant run. */
const MAX_VALUES = 16;

/** commander's parser for `--sweep PATH=V1,V2,…`. */
export function parseSweep(raw: string): Sweep {
  const eq = raw.indexOf("=");
  const path = raw.slice(0, eq).trim();
  if (eq <= 0 || !/^[A-Za-z0-9_.-]+$/.test(path))
    throw new UsageError(
      `--sweep "${raw}": expected PATH=V1,V2,…, e.g. nodes.server.app.backlog=16,64,256,1024`,
    );
  const parts = raw
    .slice(eq + 1)
    .split(",")
    .map((v) => v.trim());
  if (parts.length < 2 || parts.some((v) => v === ""))
    throw new UsageError(`--sweep "${raw}": give at least two values, separated by commas`);
  if (parts.length > MAX_VALUES)
    throw new UsageError(`--sweep "${raw}": at most ${MAX_VALUES} values (each one is a run)`);
  const values = parts.map((v) => {
    try {
      return parse(v) as unknown;
    } catch (err) {
      throw new UsageError(`--sweep "${raw}": "${v}" is not YAML: ${(err as Error).message}`);
    }
  });
  return { raw, path, values };
}

const valueText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** The variant name of one value: `sweep:backlog=64`. */
export function sweepVariantName(s: Sweep, value: unknown): string {
  return setVariantName([{ raw: "", path: s.path, value }]).replace(/^set:/, "sweep:");
}

/**
 * The loaded scenario with one more variant per value, each made as `--set PATH=VALUE` makes its
 * one; a bad path or value is a UsageError naming --sweep, before anything runs.
 */
export function withSweepVariants(
  loaded: LoadedScenario,
  sweep: Sweep | undefined,
  facts: KernelFacts,
): LoadedScenario {
  if (!sweep) return loaded;
  const added = sweep.values.map((value) => {
    const flag: SetFlag = { raw: `${sweep.path}=${valueText(value)}`, path: sweep.path, value };
    let patched: LoadedScenario;
    try {
      patched = withSetVariant(loaded, [flag], facts);
    } catch (err) {
      if (err instanceof UsageError)
        throw new UsageError(err.message.replace(/^--set /, "--sweep "));
      throw err;
    }
    const v = patched.variants.find((x) => x.name === setVariantName([flag]))!;
    return {
      ...v,
      name: sweepVariantName(sweep, value),
      expectSource: Object.fromEntries(Object.keys(v.expectSource).map((k) => [k, "--sweep"])),
    };
  });
  return { ...loaded, variants: [...loaded.variants, ...added] };
}

/** The counter that measures each cause, where one does (summed over the nodes). */
export const CAUSE_COUNTER: Partial<Record<CauseName, string>> = {
  "accept-queue-overflow": "TcpExtListenOverflows",
  "abort-on-overflow": "TcpExtListenOverflows",
  "syn-queue-overflow": "TcpExtListenDrops",
  "syn-flood-cookies": "TcpExtSyncookiesSent",
  "tw-bucket-overflow": "TcpExtTCPTimeWaitOverflow",
  "conntrack-table-full": "NfConntrackDrop",
  "snat-conntrack-collision": "NfConntrackInsertFailed",
  "neighbour-table-full": "ArpCacheTableFulls",
  "timewait-paws": "TcpExtPAWSTimewait",
  "tw-recycle-paws": "TcpExtPAWSPassive",
  "syn-blackhole": "TcpExtTCPSynRetrans",
  "no-listener": "TcpOutRsts",
  "active-reset": "TcpExtTCPAbortOnClose",
  "local-firewall": "TcpExtTCPRetransFail",
  "retransmit-timeout": "TcpExtTCPAbortOnTimeout",
  "lossy-path": "TcpRetransSegs",
};

const asNumber = (v: unknown): number | undefined =>
  typeof v === "number"
    ? v
    : typeof v === "string" && /^\d+(\s+\d+)?$/.test(v.trim())
      ? // A port range "lo hi" sizes by its width.
        v
          .trim()
          .split(/\s+/)
          .map(Number)
          .reduce((lo, hi) => hi - lo + 1)
      : undefined;

/**
 * The smallest value that made the failure go away: points ordered by value (numbers and port
 * ranges by size; anything else as given), the first healthy one after which none failed. A
 * healthy value below a failed one is luck at this load, not a threshold.
 */
export function sweepThreshold(points: readonly Pick<SweepPoint, "value" | "healthy">[]): unknown {
  const numeric = points.every((p) => asNumber(p.value) !== undefined);
  const ordered = numeric
    ? [...points].sort((a, b) => asNumber(a.value)! - asNumber(b.value)!)
    : [...points];
  let threshold: unknown = undefined;
  for (let i = ordered.length - 1; i >= 0; i--) {
    if (!ordered[i]!.healthy) break;
    threshold = ordered[i]!.value;
  }
  return threshold;
}

/** Per scenario (and kernel) of the report: the sweep's points and threshold. */
export function sweepSummaries(report: RunReport, sweep: Sweep): SweepSummary[] {
  const out: SweepSummary[] = [];
  for (const s of report.scenarios) {
    const kernels = [...new Set(s.variants.map((v) => v.kernel))];
    for (const kernel of kernels) {
      const vs = s.variants.filter((v) => v.kernel === kernel);
      const baseline = vs.find((v) => v.variant === "baseline");
      const cause = baseline?.causes.find((c) => c.cause !== "none")?.cause ?? "none";
      const counter = CAUSE_COUNTER[cause as CauseName];
      const points = sweep.values.flatMap((value): SweepPoint[] => {
        const v = vs.find((x) => x.variant === sweepVariantName(sweep, value));
        return v ? [point(value, v, counter)] : [];
      });
      if (points.length === 0) continue;
      const threshold = sweepThreshold(points);
      out.push({
        scenario: s.name,
        ...(kernel ? { kernel } : {}),
        path: sweep.path,
        cause,
        ...(counter ? { counter } : {}),
        points,
        ...(threshold !== undefined ? { threshold } : {}),
      });
    }
  }
  return out;
}

function point(value: unknown, v: VariantResult, counter: string | undefined): SweepPoint {
  const connected = v.clients.outcomes["connected"] ?? 0;
  return {
    value,
    variant: v.variant,
    verdict: v.verdict,
    failed: v.clients.attempts - connected,
    attempts: v.clients.attempts,
    ...(counter
      ? {
          counter: Object.values(v.nodes).reduce((n, node) => n + (node.counters[counter] ?? 0), 0),
        }
      : {}),
    healthy: v.verdict === "pass",
  };
}

/**
 * The report less its sweep variants: what the exit code is judged on. A value too small to fix
 * the failure is a finding of the sweep, not a failed run.
 */
export function withoutSweepVariants(report: RunReport): RunReport {
  return {
    ...report,
    scenarios: report.scenarios.map((s) => ({
      ...s,
      variants: s.variants.filter((v) => !v.variant.startsWith("sweep:")),
    })),
  };
}
