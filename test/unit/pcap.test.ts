import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isPassiveRst, summarizeFlows } from "../../src/evidence/flows.js";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  parsePcap,
  PcapError,
  type TcpPacket,
} from "../../src/evidence/pcap.js";

// Recorded by test/fixtures/pcap/record.sh (see RECORDED.txt): both ends on one namespace's lo.
const CLIENT = "10.88.0.1";
const SERVER = "10.88.0.2";
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url));
const asServer = { localAddresses: [SERVER] };

const withoutTime = ({ tsUs: _t, ...facts }: TcpPacket) => facts;

/** Record boundaries, walked here independently of the parser (little-endian files only). */
function recordEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  for (let at = 24; at + 16 <= buf.length;) {
    at += 16 + buf.readUInt32LE(at + 8);
    ends.push(at);
  }
  return ends;
}

describe("parsePcap: one capture, every container", () => {
  // One never-accept run captured by four tcpdumps at once, two of them rewritten big-endian.
  const reference = parsePcap(fixture("never-accept.pcap"));
  const variants = [
    { file: "never-accept.pcap", linkType: LINKTYPE_ETHERNET, magic: "d4c3b2a1" },
    { file: "never-accept-nano.pcap", linkType: LINKTYPE_ETHERNET, magic: "4d3cb2a1" },
    { file: "never-accept-sll.pcap", linkType: LINKTYPE_LINUX_SLL, magic: "d4c3b2a1" },
    { file: "never-accept-sll2.pcap", linkType: LINKTYPE_LINUX_SLL2, magic: "d4c3b2a1" },
    { file: "never-accept-swapped.pcap", linkType: LINKTYPE_ETHERNET, magic: "a1b2c3d4" },
    { file: "never-accept-nano-swapped.pcap", linkType: LINKTYPE_ETHERNET, magic: "a1b23c4d" },
  ];

  it("reads the reference the way tcpdump -nn -v does", () => {
    expect(reference.packets).toHaveLength(21);
    expect(reference.skipped).toBe(0);
    expect(reference.truncated).toBe(false);
    // 1795305125.468014 IP (id 44276, length 60) 10.88.0.1.34277 > 10.88.0.2.8081: Flags [S],
    // seq 1372615287, win 65495, options [mss 65495,sackOK,TS val 1054364409 ecr 0,nop,wscale 10]
    expect(reference.packets[0]).toEqual({
      tsUs: 1795305125468014,
      src: CLIENT,
      dst: SERVER,
      sport: 34277,
      dport: 8081,
      ipId: 44276,
      flags: { syn: true, ack: false, rst: false, fin: false, psh: false },
      seq: 1372615287,
      ack: 0,
      payloadLen: 0,
      window: 65495,
      optionsLen: 20,
      tsVal: 1054364409,
      tsEcr: 0,
    });
    // 10.88.0.2.8081 > 10.88.0.1.34277: Flags [S.], seq 903284946, ack 1372615288,
    // TS val 611609129 ecr 1054364409
    expect(reference.packets[1]).toMatchObject({
      src: SERVER,
      ipId: 0,
      flags: { syn: true, ack: true },
      seq: 903284946,
      ack: 1372615288,
      tsVal: 611609129,
      tsEcr: 1054364409,
    });
  });

  it.each(variants)(
    "$file: link type $linkType, the same TCP facts",
    ({ file, linkType, magic }) => {
      const buf = fixture(file);
      expect(buf.subarray(0, 4).toString("hex")).toBe(magic); // the fixture is what it claims
      const got = parsePcap(buf);
      expect(got.linkType).toBe(linkType);
      expect(got.skipped).toBe(0);
      expect(got.truncated).toBe(false);
      expect(got.packets.map(withoutTime)).toEqual(reference.packets.map(withoutTime));
      // Each tcpdump had its own socket, so its own timestamps: a few µs apart, never more.
      got.packets.forEach((p, i) =>
        expect(Math.abs(p.tsUs - reference.packets[i]!.tsUs)).toBeLessThan(100),
      );
    },
  );

  it("turns ns timestamps into µs (rounding down), not ns read as µs", () => {
    // tcpdump --time-stamp-precision nano -r: 1795305125.468013164
    expect(parsePcap(fixture("never-accept-nano.pcap")).packets[0]!.tsUs).toBe(1795305125468013);
  });

  it("reads a big-endian file exactly like its little-endian original", () => {
    expect(parsePcap(fixture("never-accept-swapped.pcap"))).toEqual(reference);
    expect(parsePcap(fixture("never-accept-nano-swapped.pcap"))).toEqual(
      parsePcap(fixture("never-accept-nano.pcap")),
    );
  });
});

describe("parsePcap: damaged and foreign input", () => {
  const buf = fixture("never-accept.pcap");
  const full = parsePcap(buf).packets;

  it("keeps every whole record when the file is cut anywhere (tcpdump killed mid-write)", () => {
    const ends = new Set(recordEnds(buf));
    expect(ends.size).toBe(21);
    for (let cut = 24; cut <= buf.length; cut++) {
      const got = parsePcap(buf.subarray(0, cut));
      const whole = [...ends].filter((e) => e <= cut).length;
      expect(got.packets).toEqual(full.slice(0, whole));
      expect(got.truncated).toBe(cut !== 24 && !ends.has(cut));
    }
  });

  it("refuses what is not a pcap file, saying why", () => {
    expect(() => parsePcap(Buffer.alloc(0))).toThrow(PcapError);
    expect(() => parsePcap(buf.subarray(0, 23))).toThrow(/shorter than the 24-byte file header/);
    expect(() => parsePcap(Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))).toThrow(
      /not a pcap file: magic 0x47455420/,
    );
    const pcapng = Buffer.concat([Buffer.from("0a0d0d0a", "hex"), Buffer.alloc(28)]);
    expect(() => parsePcap(pcapng)).toThrow(/pcapng.*editcap -F pcap/);
    const raw = Buffer.from(buf);
    raw.writeUInt32LE(101, 20); // LINKTYPE_RAW: a tun device
    expect(() => parsePcap(raw)).toThrow(/link type 101 is not supported/);
  });

  it("counts the frames it skips: not IPv4, not TCP", () => {
    const copy = Buffer.from(fixture("refused.pcap"));
    const frame0 = 24 + 16;
    copy.writeUInt16BE(0x86dd, frame0 + 12); // ethertype → IPv6
    const frame1 = recordEnds(copy)[0]! + 16;
    copy[frame1 + 14 + 9] = 17; // IP protocol → UDP
    expect(parsePcap(copy)).toMatchObject({ packets: [], skipped: 2 });
  });
});

describe("summarizeFlows: a RST with no socket behind it", () => {
  it("is passive when its sender sent nothing else in the flow, whatever its IP id (4.11 gives one)", () => {
    const flags = { syn: false, ack: false, rst: false, fin: false, psh: false };
    const seg = (over: Partial<TcpPacket>): TcpPacket => ({
      tsUs: 0,
      src: "10.0.0.2",
      dst: "10.0.0.3",
      sport: 40000,
      dport: 9090,
      ipId: 4711,
      flags,
      seq: 1,
      ack: 0,
      payloadLen: 0,
      ...over,
    });
    const syn = seg({ flags: { ...flags, syn: true } });
    const rst = seg({
      tsUs: 5,
      src: "10.0.0.3",
      dst: "10.0.0.2",
      sport: 9090,
      dport: 40000,
      ipId: 52114,
      flags: { ...flags, rst: true, ack: true },
      ack: 2,
    });
    const s = summarizeFlows([syn, rst], { localAddresses: ["10.0.0.3"] });
    expect(s).toMatchObject({ rstSent: 1, rstSentPassive: 1, rstSentActive: 0 });
  });
});

describe("summarizeFlows on real captures", () => {
  it("closed port: one passive RST, IP id 0 and no TS option", () => {
    const { packets } = parsePcap(fixture("refused.pcap"));
    const s = summarizeFlows(packets, asServer);
    expect(s).toMatchObject({
      synReceived: 1,
      synAckSent: 0,
      rstSent: 1,
      rstSentPassive: 1,
      rstSentActive: 0,
    });
    expect(s.flows).toHaveLength(1);
    const flow = s.flows[0]!;
    expect(flow).toMatchObject({
      client: { addr: CLIENT, port: 48951 },
      server: { addr: SERVER, port: 9 },
      synAckTimesUs: [],
      finalAck: false,
      established: false,
    });
    expect(flow.synTimesUs).toHaveLength(1);
    expect(flow.rsts).toEqual([
      { tsUs: packets[1]!.tsUs, from: "server", ipId: 0, passive: true, hasTimestamp: false },
    ]);
    // tcpdump: Flags [R.], seq 0, ack 2322172727 (the SYN's ISN + 1), win 0
    expect(packets[1]).toMatchObject({
      seq: 0,
      ack: packets[0]!.seq + 1,
      flags: { rst: true, ack: true },
    });
  });

  it("close with unread data: an active RST, non-zero id and TS, from an established socket", () => {
    const buf = fixture("reset-on-close.pcap");
    const { packets } = parsePcap(buf);
    const s = summarizeFlows(packets, asServer);
    expect(s).toMatchObject({
      synReceived: 1,
      synAckSent: 1,
      rstSent: 1,
      rstSentPassive: 0,
      rstSentActive: 1,
    });
    const flow = s.flows[0]!;
    expect(flow).toMatchObject({ finalAck: true, established: true });
    expect(flow.rsts).toHaveLength(1);
    expect(flow.rsts[0]).toMatchObject({ from: "server", hasTimestamp: true });
    expect(flow.rsts[0]!.ipId).not.toBe(0);
    // The RST's id is the socket's counter: one past the server's previous segment (its ACK).
    const fromServer = packets.filter((p) => p.src === SERVER);
    expect(fromServer.at(-1)!.ipId).toBe(fromServer.at(-2)!.ipId! + 1);
    // IP id 0 alone is no reset signature: the SYN-ACK, sent from no full socket, has it too.
    expect(fromServer[0]).toMatchObject({ flags: { syn: true, ack: true }, ipId: 0 });
    expect(isPassiveRst(fromServer[0]!)).toBe(false);
  });

  it("takes the payload length from the IP header when the snaplen cut the packet", () => {
    const buf = fixture("reset-on-close.pcap");
    expect(buf.readUInt32LE(16)).toBe(96); // recorded with -s 96
    const data = parsePcap(buf).packets.find((p) => p.payloadLen > 0)!;
    expect(data).toMatchObject({ src: CLIENT, payloadLen: 1000, flags: { psh: true } });
  });

  it("listener that never accepts: SYNs dropped and retransmitted 1 s apart", () => {
    const { packets } = parsePcap(fixture("never-accept.pcap"));
    const s = summarizeFlows(packets, asServer);
    expect(s.flows).toHaveLength(4);
    expect(s.synAckSent).toBe(1); // listen(0): one connection fits in the accept queue
    expect(s.synReceived).toBeGreaterThanOrEqual(1 + 3 * 5);
    expect(s.synReceived).toBe(s.flows.reduce((n, f) => n + f.synTimesUs.length, 0));
    expect(s.rstSent).toBe(0);

    const [queued, ...dropped] = s.flows;
    expect(queued).toMatchObject({
      finalAck: true,
      established: true,
      synAckTimesUs: [expect.any(Number)],
    });
    expect(queued!.synTimesUs).toHaveLength(1);
    expect(dropped).toHaveLength(3);
    for (const flow of dropped) {
      expect(flow).toMatchObject({
        synAckTimesUs: [],
        finalAck: false,
        established: false,
        rsts: [],
      });
      expect(flow.synTimesUs.length).toBeGreaterThanOrEqual(5);
      // tcp_syn_linear_timeouts=4 (6.18): the first retries 1 s apart, not 1, 2, 4 s.
      const gapsUs = flow.synTimesUs.slice(1).map((t, i) => t - flow.synTimesUs[i]!);
      for (const gap of gapsUs) {
        expect(gap).toBeGreaterThan(900_000);
        expect(gap).toBeLessThan(1_200_000);
      }
    }
  });

  it("counts only what the given node sent and received", () => {
    const { packets } = parsePcap(fixture("never-accept.pcap"));
    const asClient = summarizeFlows(packets, { localAddresses: [CLIENT] });
    expect(asClient).toMatchObject({ synReceived: 0, synAckSent: 0, rstSent: 0 });
    expect(asClient.flows).toHaveLength(4);
  });
});

describe("summarizeFlows on what the fixtures do not show", () => {
  // Synthetic segments for the cases that need a full accept queue or a TIME_WAIT server.
  const C = { src: CLIENT, dst: SERVER, sport: 40000, dport: 80 };
  const S = { src: SERVER, dst: CLIENT, sport: 80, dport: 40000 };
  const none = { syn: false, ack: false, rst: false, fin: false, psh: false };
  let t = 1_000_000;
  const seg = (
    side: typeof C | typeof S,
    flags: Partial<TcpPacket["flags"]>,
    seq: number,
    ack: number,
    extra: Partial<TcpPacket> = {},
  ): TcpPacket => ({
    tsUs: (t += 1000),
    ...side,
    ipId: side === S ? 0 : 7,
    flags: { ...none, ...flags },
    seq,
    ack,
    payloadLen: 0,
    ...extra,
  });
  const syn = (isn: number) => seg(C, { syn: true }, isn, 0);
  const synAck = (isn: number, clientIsn: number) =>
    seg(S, { syn: true, ack: true }, isn, clientIsn + 1);
  const ack = (clientIsn: number, serverIsn: number) =>
    seg(C, { ack: true }, clientIsn + 1, serverIsn + 1);

  it("final ACK dropped by a full accept queue: the server resends its SYN-ACK, not established", () => {
    const pkts = [syn(100), synAck(500, 100), ack(100, 500), synAck(500, 100), ack(100, 500)];
    const [flow] = summarizeFlows(pkts, asServer).flows;
    expect(flow).toMatchObject({ finalAck: true, established: false });
    expect(flow!.synAckTimesUs).toHaveLength(2);
  });

  it("tcp_abort_on_overflow: a passive RST answers the final ACK, not established", () => {
    const pkts = [syn(100), synAck(500, 100), ack(100, 500), seg(S, { rst: true }, 501, 0)];
    const s = summarizeFlows(pkts, asServer);
    expect(s).toMatchObject({ rstSent: 1, rstSentPassive: 1, rstSentActive: 0 });
    expect(s.flows[0]).toMatchObject({ finalAck: true, established: false });
  });

  it("an idle accepted connection, and one the server only reset actively, are established", () => {
    expect(summarizeFlows([syn(1), synAck(9, 1), ack(1, 9)], asServer).flows[0]!.established).toBe(
      true,
    );
    const active = seg(S, { rst: true, ack: true }, 10, 2, { ipId: 4242, tsVal: 1, tsEcr: 1 });
    const s = summarizeFlows([syn(1), synAck(9, 1), ack(1, 9), active], asServer);
    expect(s.flows[0]!.established).toBe(true);
    expect(s).toMatchObject({ rstSentActive: 1, rstSentPassive: 0 });
  });

  it("a reused 4-tuple with a new ISN is a new flow; retransmitted SYNs are not", () => {
    // Server in TIME_WAIT answers the new SYN with the old connection's ACK; the client resets
    // it and retransmits its SYN, which now connects (docs/kernel-behaviour.md#time_wait-paws).
    const old = [syn(100), synAck(500, 100), ack(100, 500)];
    const again = [
      syn(9000),
      seg(S, { ack: true }, 502, 102, { tsVal: 5, tsEcr: 5 }), // the old connection's ACK
      seg(C, { rst: true }, 102, 0), // the client's reset for it
      syn(9000),
      synAck(700, 9000),
      ack(9000, 700),
    ];
    const flows = summarizeFlows([...old, ...again], asServer).flows;
    expect(flows).toHaveLength(2);
    expect(flows[1]!.synTimesUs).toHaveLength(2);
    expect(flows[1]!.rsts).toMatchObject([{ from: "client", ipId: 7, hasTimestamp: false }]);
    expect(flows[1]).toMatchObject({ finalAck: true, established: true });
  });

  it("sequence numbers that wrap past 2^32 still make a final ACK", () => {
    // The first client ACK in the capture already acknowledges server data past the wrap.
    const isn = 0xfffffff0;
    const pkts = [syn(7), synAck(isn, 7), seg(C, { ack: true }, 8, 0x10)];
    expect(summarizeFlows(pkts, asServer).flows[0]!.finalAck).toBe(true);
    // …while an ACK from before the SYN-ACK (a stale segment) does not.
    const stale = [syn(7), synAck(isn, 7), seg(C, { ack: true }, 8, isn - 100)];
    expect(summarizeFlows(stale, asServer).flows[0]!.finalAck).toBe(false);
  });

  it("tells an active RST without timestamps (peer has tcp_timestamps=0) by its IP id", () => {
    const noTs = seg(S, { rst: true, ack: true }, 10, 2, { ipId: 4242 });
    const s = summarizeFlows([syn(1), synAck(9, 1), ack(1, 9), noTs], asServer);
    expect(s).toMatchObject({ rstSentActive: 1, rstSentPassive: 0 });
    expect(s.flows[0]!.rsts).toEqual([
      { tsUs: noTs.tsUs, from: "server", ipId: 4242, passive: false, hasTimestamp: false },
    ]);
  });

  it("a flow caught mid-stream: the higher port is the client, established by the server's ACK", () => {
    const pkts = [
      seg(S, { ack: true }, 1, 1),
      seg(C, { ack: true, psh: true }, 1, 1, { payloadLen: 5 }),
    ];
    const [flow] = summarizeFlows(pkts, asServer).flows;
    expect(flow).toMatchObject({ client: { port: 40000 }, server: { port: 80 }, synTimesUs: [] });
    expect(flow!.established).toBe(true);
  });
});

describe("IPv6: the stack's reset told from a socket's", () => {
  // Two namespaces over a veth, IPv6, kernel 6.18 (docs/kernel-behaviour.md#resets): a
  // connection to :9000 whose server closes with SO_LINGER 0 (a socket's reset), then a SYN to
  // :9001, where nothing listens (the stack's reset).
  const { packets, skipped } = parsePcap(fixture("ipv6-rst.pcap"));
  const rsts = packets.filter((p) => p.flags.rst);

  it("reads the IPv6 header: addresses, flow label, no IP id", () => {
    expect(skipped).toBe(0);
    expect(packets).toHaveLength(8);
    expect(packets[0]).toMatchObject({
      family: "ipv6",
      src: "2001:2:0:ff::1",
      dst: "2001:2:0:ff::2",
      sport: 60774,
      dport: 9000,
      flowLabel: 0xaf43c,
      optionsLen: 20,
      payloadLen: 0,
    });
    expect(packets[0]!.ipId).toBeUndefined();
    expect(packets[3]).toMatchObject({ payloadLen: 2, flags: { psh: true } });
  });

  it("a socket's reset keeps its window and timestamps; the stack's has neither", () => {
    const [active, passive] = rsts;
    expect(active).toMatchObject({ dport: 60774, window: 63, optionsLen: 12, flowLabel: 0x4d11e });
    expect(active!.tsVal).toBeDefined();
    expect(passive).toMatchObject({ sport: 9001, window: 0, optionsLen: 0, flowLabel: 0x572c1 });
    expect(passive!.tsVal).toBeUndefined();
    expect(rsts.map(isPassiveRst)).toEqual([false, true]);
    const s = summarizeFlows(packets, { localAddresses: ["2001:2:0:ff::2"] });
    expect(s).toMatchObject({ rstSent: 2, rstSentPassive: 1, rstSentActive: 1 });
    expect(s.flows.map((f) => f.rsts.map((r) => r.passive))).toEqual([[false], [true]]);
  });
});
