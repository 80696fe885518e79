/**
 * What one snapshot's state says, beyond counters:
 * - a listener whose Recv-Q is at its Send-Q: its accept queue is full now (the kernel takes one
 *   more than the limit, so a full queue reads Send-Q + 1), and the next SYN is dropped;
 * - a listener whose Send-Q equals net.core.somaxconn: listen(backlog) is silently capped at
 *   somaxconn, so the app most likely asked for more than it got;
 * - nf_conntrack_count near nf_conntrack_max: new flows are dropped once the table is full
 *   ("nf_conntrack: table full, dropping packet");
 * - TIME_WAIT sockets near the size of ip_local_port_range: connections to one destination
 *   (address and port) cannot reuse a local port still in TIME_WAIT (without tcp_tw_reuse),
 *   so a host talking to few destinations runs out of ports;
 * - the neighbour (ARP) table near gc_thresh3: past it, an entry nothing can free is not
 *   created and sends to a new neighbour are dropped.
 */
import { portRange, sysctlNumber, type Snapshot } from "../snapshot/snapshot.js";
import type { Cause } from "./causes.js";

/** Fractions of a limit that count as "near". */
export const CONNTRACK_NEAR = 0.9;
export const TIMEWAIT_NEAR = 0.8;
export const NEIGH_NEAR = 0.9;

export interface SnapshotFindings {
  causes: Cause[];
  observations: string[];
}

export function snapshotFindings(s: Snapshot): SnapshotFindings {
  const causes: Cause[] = [];
  const observations: string[] = [];
  const somaxconn = sysctlNumber(s, "net.core.somaxconn");

  for (const l of s.listen) {
    if (l.sendQ === null) continue;
    const where = `${l.address}:${l.port}`;
    const capped = somaxconn !== undefined && l.sendQ === somaxconn;
    const capText = capped
      ? `its limit equals net.core.somaxconn (${somaxconn}): the app's listen() backlog is probably larger and capped`
      : "";
    if (l.sendQ > 0 && l.recvQ >= l.sendQ) {
      causes.push({
        cause: "accept-queue-overflow",
        node: s.hostname,
        confidence: l.recvQ > l.sendQ ? "strong" : "weak",
        because:
          `listener ${where}: Recv-Q ${l.recvQ} of Send-Q ${l.sendQ} in the snapshot: its accept queue is ` +
          (l.recvQ > l.sendQ ? "full" : "at its limit") +
          (capText ? `; ${capText}` : ""),
        numbers: {
          port: l.port,
          recvQ: l.recvQ,
          sendQ: l.sendQ,
          ...(capped ? { somaxconn: somaxconn! } : {}),
        },
      });
    } else if (capped && l.sendQ > 0) {
      observations.push(`listener ${where}: Send-Q ${l.sendQ}, ${capText}`);
    }
  }

  const ctCount = sysctlNumber(s, "net.netfilter.nf_conntrack_count");
  const ctMax = sysctlNumber(s, "net.netfilter.nf_conntrack_max");
  if (ctCount !== undefined && ctMax !== undefined && ctMax > 0) {
    const fill = ctCount / ctMax;
    const text = `nf_conntrack_count ${ctCount} of nf_conntrack_max ${ctMax} (${Math.round(fill * 100)}%)`;
    const logged = s.kernelLog?.["conntrackTableFull"] ?? 0;
    if (fill >= CONNTRACK_NEAR || logged > 0) {
      causes.push({
        cause: "conntrack-table-full",
        node: s.hostname,
        // The log may hold lines from days ago: alone it is weak.
        confidence: fill >= 1 || (logged > 0 && fill >= CONNTRACK_NEAR) ? "strong" : "weak",
        because:
          `${text}: new flows are dropped once the table is full` +
          (logged > 0
            ? `; the kernel log holds ${logged} "nf_conntrack: table full, dropping packet" lines`
            : ""),
        numbers: {
          conntrackCount: ctCount,
          conntrackMax: ctMax,
          ...(logged > 0 ? { kernelLogTableFull: logged } : {}),
        },
      });
    }
  }

  const range = portRange(s);
  const tw = s.states["TIME_WAIT"] ?? 0;
  if (range) {
    const ports = range[1] - range[0] + 1;
    if (ports > 0 && tw >= TIMEWAIT_NEAR * ports) {
      const reuse = sysctlNumber(s, "net.ipv4.tcp_tw_reuse");
      causes.push({
        cause: "port-exhaustion",
        node: s.hostname,
        confidence: "weak",
        because:
          `${tw} sockets in TIME_WAIT for a local port range of ${ports} (${range[0]}-${range[1]}), ` +
          `tcp_tw_reuse ${reuse ?? "unknown"}: connections to one destination run out of local ports ` +
          "(the snapshot does not say how TIME_WAIT spreads over destinations)",
        numbers: { timeWait: tw, localPorts: ports },
      });
    }
  }
  const entries = s.counters["ArpCacheEntries"];
  const thresh3 = sysctlNumber(s, "net.ipv4.neigh.default.gc_thresh3");
  if (entries !== undefined && thresh3 !== undefined && entries >= NEIGH_NEAR * thresh3) {
    causes.push({
      cause: "neighbour-table-full",
      node: s.hostname,
      confidence: "weak",
      because:
        `the neighbour (ARP) table holds ${entries} entries, gc_thresh3 is ${thresh3}: past it an ` +
        "entry that nothing can free is not created, and sends to that neighbour are dropped",
      numbers: { neighbourEntries: entries, gcThresh3: thresh3 },
    });
  }
  return { causes, observations };
}
