import { describe, expect, it } from "vitest";
import { parseDropReasons } from "../../src/evidence/drop-reasons.js";

describe("drop reasons", () => {
  it("counts the reason of every skb:kfree_skb event in a trace", () => {
    const trace = `# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
          <idle>-0       [001] ..s2.  5312.101: kfree_skb: skbaddr=000000001 rx_sk=0000000000000000 protocol=2048 location=nf_hook_slow+0xa0/0xd0 reason: NETFILTER_DROP
          <idle>-0       [001] ..s2.  5312.102: kfree_skb: skbaddr=000000002 rx_sk=0000000000000000 protocol=2048 location=nf_hook_slow+0xa0/0xd0 reason: NETFILTER_DROP
     ksoftirqd/0-15      [000] ..s1.  5312.300: kfree_skb: skbaddr=000000003 rx_sk=00000000deadbeef protocol=2048 location=tcp_v4_rcv+0x99/0xf00 reason: TCP_LISTEN_OVERFLOW
`;
    expect(parseDropReasons(trace)).toEqual({ NETFILTER_DROP: 2, TCP_LISTEN_OVERFLOW: 1 });
    expect(parseDropReasons("# tracer: nop\n")).toEqual({});
  });
});
