/**
 * conntrack-table-full, self-contained: a node's conntrack table at nf_conntrack_max. A packet
 * of a new flow finds no room, the kernel first tries to evict one unassured entry (early_drop),
 * and when it cannot it drops the packet ("nf_conntrack: table full, dropping packet"; +1
 * `drop` in /proc/net/stat/nf_conntrack, drop reason NETFILTER_DROP) — SYN retransmits
 * included, so the clients time out. No insert fails: that is a clash of two flows on one tuple
 * (snat-conntrack-collision), where `insert_failed` and `drop` move together. Measured: 7.2,
 * nf_conntrack_max 64, 120 held connections through a SNAT gateway: 64 connected, 56 timed out,
 * NfConntrackDrop +168, NfConntrackInsertFailed 0, NETFILTER_DROP ×168
 * (docs/kernel-behaviour.md#conntrack-table-full).
 */
import {
  type DiagnosisContext,
  MANY,
  counterClaims,
  delta,
  describeStalls,
  joinParts,
  outcomeClaims,
} from "./view.js";

/** Drops of packets that found no room: `drop` less those of insert clashes. */
export function tableFullDrops(c: { drop: number; insertFailed: number }): number {
  return Math.max(0, c.drop - c.insertFailed);
}

export function conntrackTableFullRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  const clientSynRetrans = ctx.sum(ctx.clients(), "TcpExtTCPSynRetrans");
  for (const g of ctx.groups) {
    // Only nodes whose conntrack statistics were read (a gateway, a host snapshot).
    if (!g.available.has("NfConntrackDrop")) continue;
    const drop = ctx.get(g, "NfConntrackDrop") ?? 0;
    const insertFailed = ctx.get(g, "NfConntrackInsertFailed") ?? 0;
    const earlyDrop = ctx.get(g, "NfConntrackEarlyDrop") ?? 0;
    const full = tableFullDrops({ drop, insertFailed });
    if (full <= 0 && earlyDrop <= 0) continue;
    const stalled = clients.connectStalls + clients.slowConnects;
    const strong = full >= MANY || (full > 0 && (stalled > 0 || clientSynRetrans > 0));
    // A flow whose entry was evicted or never made while its handshake was still under way
    // loses its NAT: its next packets reach the gateway's own stack, which resets them (gw
    // TcpOutRsts, the server's TcpExtEmbryonicRsts); the client sees a reset, or no reply.
    // Seen on 6.1 in 1 run of 3: 12 such resets beside NfConntrackDrop +104.
    const gwResets = ctx.get(g, "TcpOutRsts") ?? 0;
    const lostNat = strong
      ? outcomeClaims(ctx.clients(), (o) => [
          ...o.keys("ECONNRESET"),
          ...o.keys("ECONNREFUSED"),
          ...[...o.failed.keys()].filter((k) => !k.endsWith("@connect")),
        ])
      : [];
    ctx.add({
      cause: "conntrack-table-full",
      node: g.name,
      confidence: strong ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("NfConntrackDrop", drop)}, ${delta("NfConntrackEarlyDrop", earlyDrop)}, ` +
          `${delta("NfConntrackInsertFailed", insertFailed)}: ` +
          (full > 0
            ? "packets of new flows dropped with no insert failing (not a clash): the conntrack " +
              "table was full (nf_conntrack_max) and nothing could be evicted"
            : "entries evicted to make room (early_drop): the conntrack table reached nf_conntrack_max"),
        describeStalls(clients),
        clientSynRetrans > 0 ? `clients ${delta("TcpExtTCPSynRetrans", clientSynRetrans)}` : "",
        lostNat.length > 0 || (strong && gwResets > 0)
          ? `${g.name} ${delta("TcpOutRsts", gwResets)}: flows that lost their entry mid-handshake were reset by ${g.name} itself`
          : "",
      ),
      numbers: {
        NfConntrackDrop: drop,
        NfConntrackEarlyDrop: earlyDrop,
        NfConntrackInsertFailed: insertFailed,
        clientAttempts: clients.attempts,
        clientStalls: stalled,
        clientSynRetrans,
      },
      claims: [
        // A clash's drops are snat-conntrack-collision's: this claims `drop` only without them.
        ...(insertFailed > 0 ? [] : counterClaims(g, "NfConntrackDrop")),
        ...counterClaims(g, "NfConntrackEarlyDrop"),
        ...(full > 0 ? outcomeClaims(ctx.clients(), (o) => o.stallKeys) : []),
        ...lostNat,
      ],
    });
  }
}
