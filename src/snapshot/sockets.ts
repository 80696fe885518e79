/**
 * Sockets from /proc/net/tcp and tcp6: counts per TCP state, and the LISTEN rows with their
 * accept-queue depth. A listener's limit (ss's Send-Q) is not in these files — for a LISTEN row
 * rx_queue is the accept queue's depth but tx_queue is write_seq − snd_una, always 0 — so it
 * comes from `ss -lnt` (netlink) and is matched here by address and port.
 */
import type { SnapshotListener } from "./snapshot.js";

/** The kernel's TCP states, by the number in the `st` column (include/net/tcp_states.h). */
const STATES: Record<number, string> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV",
};

export interface ProcSockets {
  states: Record<string, number>;
  listen: SnapshotListener[];
}

/** `0100007F` → 127.0.0.1; 32 hex digits (four little-endian words) → a compressed IPv6. */
function hexAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(":")}]`).hostname.slice(1, -1);
}

/** Add the rows of one /proc/net/tcp{,6} file to `into`. */
export function addProcNetTcp(text: string, family: "ipv4" | "ipv6", into: ProcSockets): void {
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const st = parseInt(f[3]!, 16);
    const name = STATES[st] ?? `STATE_${st}`;
    into.states[name] = (into.states[name] ?? 0) + 1;
    if (name !== "LISTEN") continue;
    const [addrHex = "", portHex = ""] = f[1]!.split(":");
    const rx = parseInt(f[4]!.split(":")[1] ?? "", 16);
    into.listen.push({
      family,
      address: hexAddress(addrHex),
      port: parseInt(portHex, 16),
      recvQ: Number.isFinite(rx) ? rx : 0,
      sendQ: null,
    });
  }
}

interface SsRow {
  address: string;
  port: number;
  sendQ: number;
}

/** `ss -Hlnt` rows (`LISTEN 0 128 [::ffff:127.0.0.1]:80 *:*`, with or without the state). */
export function parseSsRows(text: string): SsRow[] {
  const out: SsRow[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const at = f[0] === "LISTEN" ? 1 : 0;
    const local = f[at + 2];
    if (!local || !/^\d+$/.test(f[at + 1] ?? "")) continue;
    const colon = local.lastIndexOf(":");
    const address = local
      .slice(0, colon)
      .replace(/^\[|\]$/g, "")
      .replace(/%.*$/, "");
    out.push({ address, port: Number(local.slice(colon + 1)), sendQ: Number(f[at + 1]) });
  }
  return out;
}

/**
 * Fill each listener's Send-Q from ss: the row with the same address and port, else the only
 * row with that port. Returns how many listeners stayed unknown.
 */
export function matchSendQ(listen: SnapshotListener[], rows: SsRow[]): number {
  let unknown = 0;
  for (const l of listen) {
    const samePort = rows.filter((r) => r.port === l.port);
    const exact = samePort.find(
      (r) => r.address === l.address || (r.address === "*" && /^(0\.0\.0\.0|::)$/.test(l.address)),
    );
    const row = exact ?? (samePort.length === 1 ? samePort[0] : undefined);
    if (row) l.sendQ = row.sendQ;
    else unknown++;
  }
  return unknown;
}
