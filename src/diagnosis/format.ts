/** A diagnosis as the console shows it. */
import type { Diagnosis } from "./causes.js";

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
