/**
 * One node's capture → the packet evidence scenarios and the diagnosis read: did SYNs arrive,
 * were they answered, which resets left and of which kind, and the SYN retransmit schedule the
 * clients really followed. Pure.
 */
import { summarizeFlows } from "./flows.js";
import { parsePcap } from "./pcap.js";
import type { PacketEvidence } from "../model/evidence.js";

export type { PacketEvidence };

export function packetEvidence(pcap: Buffer, localAddresses: string[]): PacketEvidence {
  const capture = parsePcap(pcap);
  const summary = summarizeFlows(capture.packets, { localAddresses });
  const local = new Set(localAddresses);
  let synSent = 0;
  let synUnanswered = 0;
  let synSchedule: number[] = [];
  for (const f of summary.flows) {
    if (local.has(f.client.addr)) {
      synSent += f.synTimesUs.length;
      if (f.synTimesUs.length > synSchedule.length) {
        const first = f.synTimesUs[0]!;
        synSchedule = f.synTimesUs.map((t) => Math.round((t - first) / 1000));
      }
    }
    if (local.has(f.server.addr) && f.synTimesUs.length > 0 && f.synAckTimesUs.length === 0)
      synUnanswered++;
  }
  return {
    synSent,
    synReceived: summary.synReceived,
    synAckSent: summary.synAckSent,
    synUnanswered,
    rstSent: summary.rstSent,
    rstPassive: summary.rstSentPassive,
    rstActive: summary.rstSentActive,
    flows: summary.flows.length,
    synSchedule,
    skipped: capture.skipped,
    truncated: capture.truncated,
  };
}
