/** A diagnosis as the console shows it. */
import type { Diagnosis } from "./causes.js";
import type { HostDiagnosis } from "./host.js";

/**
 * ```
 * accept-queue-overflow (strong) at server
 *   server: TcpExtListenOverflows +45, TcpExtListenDrops +45, accept queue 5 of 4 (port 8080)
 *
 * not checked:
 *   - TcpExtPAWSPassive does not exist on this kernel: tw-recycle-paws not checked
 * ```
 */
export function formatDiagnosis(d: Diagnosis): string {
  const lines: string[] = [];
  for (const c of d.causes) {
    lines.push(`${c.cause} (${c.confidence}) at ${c.node}`, `  ${c.because}`);
  }
  if (d.unchecked.length > 0) {
    lines.push("", "not checked:", ...d.unchecked.map((u) => `  - ${u}`));
  }
  return lines.join("\n") + "\n";
}

/** A host's diagnosis: the causes, what to try for each, what the snapshots showed, what not checked. */
export function formatHostDiagnosis(d: HostDiagnosis): string {
  const lines = [formatDiagnosis({ causes: d.causes, unchecked: [] }).trimEnd()];
  if (d.whatToTry.length > 0) {
    lines.push("", "what to try:");
    for (const t of d.whatToTry) {
      lines.push(`  ${t.cause}: ${t.change}`);
      if (t.scenario) lines.push(`    demonstrated by ${t.scenario}`);
    }
  }
  if (d.observations.length > 0)
    lines.push("", "observed:", ...d.observations.map((o) => `  - ${o}`));
  if (d.unchecked.length > 0) lines.push("", "not checked:", ...d.unchecked.map((u) => `  - ${u}`));
  return lines.join("\n") + "\n";
}
