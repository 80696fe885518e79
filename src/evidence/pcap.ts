/**
 * Classic pcap files (what `tcpdump -w` writes) → the TCP segments they hold, over IPv4 and IPv6. Pure: a
 * Buffer in, facts out; what the facts mean for connections is flows.ts.
 *
 * Not pcapng (Wireshark's and dumpcap's default): refused with a hint to convert it.
 */

/** Link-layer header types this parser reads (the pcap header's LinkType field). */
export const LINKTYPE_ETHERNET = 1;
/** Linux "cooked" capture v1: what `tcpdump -i any` wrote before libpcap 1.10. */
export const LINKTYPE_LINUX_SLL = 113;
/** Linux cooked capture v2: `tcpdump -i any` with libpcap ≥ 1.10 (adds the interface index). */
export const LINKTYPE_LINUX_SLL2 = 276;

export interface TcpFlags {
  syn: boolean;
  ack: boolean;
  rst: boolean;
  fin: boolean;
  psh: boolean;
}

/** One TCP segment as captured. Sequence numbers are the wire's (absolute, unsigned 32-bit). */
export interface TcpPacket {
  /** Capture time, µs since the epoch (ns files are rounded down to µs). */
  tsUs: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /**
   * IPv4 identification. 0 on everything the kernel sends without a full socket (see flows.ts).
   * Absent over IPv6, which has none.
   */
  ipId?: number;
  /** Set on an IPv6 segment (absent: IPv4). */
  family?: "ipv6";
  /** IPv6 flow label (20 bits). */
  flowLabel?: number;
  /** Bytes of TCP options (data offset less the 20-byte header): 0 on the stack's own RSTs. */
  optionsLen?: number;
  flags: TcpFlags;
  seq: number;
  ack: number;
  /** TCP payload bytes, from the IP header's lengths: right even when the snaplen cut the packet. */
  payloadLen: number;
  /** The window field as sent (unscaled): 0 on a segment other than a RST is a zero window. */
  window?: number;
  /** Timestamp option (RFC 7323), when the segment carries one. */
  tsVal?: number;
  tsEcr?: number;
}

export interface PcapCapture {
  linkType: number;
  /** The TCP segments (IPv4 and IPv6), in file order. */
  packets: TcpPacket[];
  /** Records that were not TCP (ARP, UDP, ICMPv6, fragments) or were cut too short to read. */
  skipped: number;
  /** The last record was incomplete: the writer stopped mid-record (tcpdump killed). */
  truncated: boolean;
}

import { bigIntToIp6 } from "../runtime/subnets6.js";

/** A buffer that is not a classic pcap file this parser can read. */
import { PcapError } from "../model/errors.js";
export { PcapError };

const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

interface FileHeader {
  littleEndian: boolean;
  /** Timestamps' second field is ns (magic 0xa1b23c4d) rather than µs (0xa1b2c3d4). */
  nano: boolean;
  linkType: number;
}

/**
 * The writer stores the magic in its own byte order, and every header field after it the same
 * way: read the magic both ways to learn the order. Packet bytes are network order regardless.
 */
function readFileHeader(buf: Buffer): FileHeader {
  if (buf.length < FILE_HEADER_LEN) {
    throw new PcapError(
      `not a pcap file: ${buf.length} bytes, shorter than the 24-byte file header ` +
        "(a tcpdump killed before its first flush writes nothing; stop it with SIGINT)",
    );
  }
  const magics: Record<number, { nano: boolean }> = {
    0xa1b2c3d4: { nano: false },
    0xa1b23c4d: { nano: true },
  };
  let littleEndian = true;
  let kind = magics[buf.readUInt32LE(0)];
  if (kind === undefined) {
    littleEndian = false;
    kind = magics[buf.readUInt32BE(0)];
  }
  if (kind === undefined) {
    const hex = buf.subarray(0, 4).toString("hex");
    if (hex === "0a0d0d0a") {
      throw new PcapError(
        "this is pcapng, not classic pcap: convert it with `editcap -F pcap IN OUT` " +
          "or capture with `tcpdump -w`",
      );
    }
    throw new PcapError(`not a pcap file: magic 0x${hex} (expected a1b2c3d4 or a1b23c4d)`);
  }
  // The field's upper bits may carry FCS information (pcap spec); the link type is the low 16.
  const field = littleEndian ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
  const linkType = field & 0xffff;
  if (![LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2].includes(linkType)) {
    throw new PcapError(
      `pcap link type ${linkType} is not supported: Ethernet (1), Linux cooked v1 (113) and ` +
        "v2 (276) are (capture on an Ethernet-like interface, or `tcpdump -i any`)",
    );
  }
  return { littleEndian, nano: kind.nano, linkType };
}

/** Parse a classic pcap file. Throws PcapError on anything that is not one; a cut tail is not. */
export function parsePcap(buf: Buffer): PcapCapture {
  const header = readFileHeader(buf);
  const u32 = (at: number) => (header.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const packets: TcpPacket[] = [];
  let skipped = 0;
  let truncated = false;
  let at = FILE_HEADER_LEN;
  while (at < buf.length) {
    if (at + RECORD_HEADER_LEN > buf.length) {
      truncated = true;
      break;
    }
    const sec = u32(at);
    const frac = u32(at + 4);
    const capLen = u32(at + 8);
    const origLen = u32(at + 12);
    const start = at + RECORD_HEADER_LEN;
    if (start + capLen > buf.length) {
      // tcpdump killed mid-write leaves a record whose bytes never came: keep what came before.
      truncated = true;
      break;
    }
    at = start + capLen;
    const tsUs = sec * 1_000_000 + (header.nano ? Math.floor(frac / 1000) : frac);
    const seg = readTcp(buf.subarray(start, at), origLen, header.linkType);
    if (seg === undefined) skipped++;
    else packets.push({ tsUs, ...seg });
  }
  return { linkType: header.linkType, packets, skipped, truncated };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];

/** Offset and version of the IP header inside a frame, or undefined when it carries something else. */
function ipOffset(frame: Buffer, linkType: number): { off: number; v: 4 | 6 } | undefined {
  let type: number;
  let off: number;
  if (linkType === LINKTYPE_ETHERNET) {
    // dst(6) src(6) type(2), with 802.1Q/802.1ad tags (4 bytes each) before the real type.
    off = 12;
    if (frame.length < off + 2) return undefined;
    type = frame.readUInt16BE(off);
    while (ETHERTYPE_VLAN.includes(type) && frame.length >= off + 6) {
      off += 4;
      type = frame.readUInt16BE(off);
    }
    off += 2;
  } else if (linkType === LINKTYPE_LINUX_SLL) {
    // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2).
    if (frame.length < 16) return undefined;
    type = frame.readUInt16BE(14);
    off = 16;
  } else {
    // SLL2 moved the protocol first: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
    // address length(1) address(8).
    if (frame.length < 20) return undefined;
    type = frame.readUInt16BE(0);
    off = 20;
  }
  if (type === ETHERTYPE_IPV4) return { off, v: 4 };
  if (type === ETHERTYPE_IPV6) return { off, v: 6 };
  return undefined;
}

const IPPROTO_TCP = 6;
const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_TIMESTAMP = 8;

/**
 * The TCP facts of one frame, or undefined when it is not an IPv4 TCP segment whose headers were
 * captured. Checksums are not checked: a capture on the sending host sees segments before the
 * NIC (or lo's offload) fills them in, so "incorrect" checksums are normal there.
 */
function readTcp(
  frame: Buffer,
  origLen: number,
  linkType: number,
): Omit<TcpPacket, "tsUs"> | undefined {
  const where = ipOffset(frame, linkType);
  if (where === undefined) return undefined;
  if (where.v === 6) return readTcpIpv6(frame, origLen, where.off);
  const ip = where.off;
  if (frame.length < ip + 20) return undefined;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (frame[ip]! >> 4 !== 4 || ihl < 20 || frame[ip + 9] !== IPPROTO_TCP) return undefined;
  // Any fragment (MF set or an offset): a first fragment's lengths describe the fragment, not the
  // segment, and the others have no TCP header. TCP sets DF, so these are rare and skipped.
  if ((frame.readUInt16BE(ip + 6) & 0x3fff) !== 0) return undefined;
  const tcp = ip + ihl;
  if (frame.length < tcp + 20) return undefined;
  const doff = (frame[tcp + 12]! >> 4) * 4;
  // Lengths from the IP header, never from the frame: Ethernet pads short frames to 60 bytes
  // and the snaplen cuts long ones. Total length 0 is a GSO super-packet (BIG TCP) seen on the
  // way out: only the frame's original length tells its size then.
  const totalLen = frame.readUInt16BE(ip + 2) || origLen - ip;
  const payloadLen = totalLen - ihl - doff;
  if (doff < 20 || payloadLen < 0) return undefined;
  return {
    src: ipv4String(frame, ip + 12),
    dst: ipv4String(frame, ip + 16),
    ipId: frame.readUInt16BE(ip + 4),
    ...readTcpHeader(frame, tcp, doff, payloadLen),
  };
}

const IPV6_HEADER_LEN = 40;
/** Extension headers with the common (next header, length in 8-octet units less one) shape. */
const IPV6_EXTENSIONS = new Set([0 /* hop-by-hop */, 43 /* routing */, 60 /* destination */]);
const IPV6_FRAGMENT = 44;

/**
 * An IPv6 TCP segment: the fixed header, then any hop-by-hop, routing or destination options
 * headers. A fragment is skipped as over IPv4. Payload length 0 is a jumbogram or a GSO
 * super-packet: the frame's original length tells its size then.
 */
function readTcpIpv6(
  frame: Buffer,
  origLen: number,
  ip: number,
): Omit<TcpPacket, "tsUs"> | undefined {
  if (frame.length < ip + IPV6_HEADER_LEN || frame[ip]! >> 4 !== 6) return undefined;
  const flowLabel = frame.readUInt32BE(ip) & 0xfffff;
  const end = ip + IPV6_HEADER_LEN + (frame.readUInt16BE(ip + 4) || origLen - ip - IPV6_HEADER_LEN);
  let next = frame[ip + 6]!;
  let at = ip + IPV6_HEADER_LEN;
  while (IPV6_EXTENSIONS.has(next)) {
    if (frame.length < at + 8) return undefined;
    next = frame[at]!;
    at += (frame[at + 1]! + 1) * 8;
  }
  if (next === IPV6_FRAGMENT || next !== IPPROTO_TCP || frame.length < at + 20) return undefined;
  const doff = (frame[at + 12]! >> 4) * 4;
  const payloadLen = end - at - doff;
  if (doff < 20 || payloadLen < 0) return undefined;
  return {
    src: ipv6String(frame, ip + 8),
    dst: ipv6String(frame, ip + 24),
    family: "ipv6",
    flowLabel,
    ...readTcpHeader(frame, at, doff, payloadLen),
  };
}

/** The TCP header's facts, whichever IP carried it. */
function readTcpHeader(
  frame: Buffer,
  tcp: number,
  doff: number,
  payloadLen: number,
): Omit<TcpPacket, "tsUs" | "src" | "dst" | "ipId" | "family" | "flowLabel"> {
  const bits = frame[tcp + 13]!;
  const ts = tcpTimestamps(frame.subarray(tcp + 20, Math.min(tcp + doff, frame.length)));
  return {
    sport: frame.readUInt16BE(tcp),
    dport: frame.readUInt16BE(tcp + 2),
    flags: {
      fin: (bits & 0x01) !== 0,
      syn: (bits & 0x02) !== 0,
      rst: (bits & 0x04) !== 0,
      psh: (bits & 0x08) !== 0,
      ack: (bits & 0x10) !== 0,
    },
    seq: frame.readUInt32BE(tcp + 4),
    ack: frame.readUInt32BE(tcp + 8),
    payloadLen,
    window: frame.readUInt16BE(tcp + 14),
    optionsLen: doff - 20,
    ...ts,
  };
}

/** TSval/TSecr from the option bytes; stops quietly at a malformed or cut option. */
function tcpTimestamps(opts: Buffer): { tsVal: number; tsEcr: number } | undefined {
  let i = 0;
  while (i < opts.length) {
    const kind = opts[i]!;
    if (kind === TCPOPT_EOL) return undefined;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    const len = opts[i + 1];
    if (len === undefined || len < 2 || i + len > opts.length) return undefined;
    if (kind === TCPOPT_TIMESTAMP && len === 10) {
      return { tsVal: opts.readUInt32BE(i + 2), tsEcr: opts.readUInt32BE(i + 6) };
    }
    i += len;
  }
  return undefined;
}

function ipv4String(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** RFC 5952 text, as the runtimes write node addresses (so the two compare as strings). */
function ipv6String(buf: Buffer, at: number): string {
  let n = 0n;
  for (let i = 0; i < 16; i++) n = (n << 8n) | BigInt(buf[at + i]!);
  return bigIntToIp6(n);
}
