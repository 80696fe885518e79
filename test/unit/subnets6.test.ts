import { describe, expect, it } from "vitest";
import {
  bigIntToIp6,
  freeSubnets6,
  hostAddress6,
  ip6ToBigInt,
  parseCidr6,
} from "../../src/runtime/subnets6.js";

describe("IPv6 subnet allocation", () => {
  it("formats addresses as RFC 5952 does", () => {
    expect(bigIntToIp6(ip6ToBigInt("2001:2:0:0:0:0:0:a"))).toBe("2001:2::a");
    expect(bigIntToIp6(ip6ToBigInt("2001:0:0:1:0:0:0:1"))).toBe("2001:0:0:1::1");
    expect(bigIntToIp6(ip6ToBigInt("::"))).toBe("::");
    expect(bigIntToIp6(ip6ToBigInt("2001:2:0:1::"))).toBe("2001:2:0:1::");
    expect(bigIntToIp6(ip6ToBigInt("2001:db8:0:1:1:1:1:1"))).toBe("2001:db8:0:1:1:1:1:1");
  });

  it("hands out /64s inside 2001:2::/48 only, skipping those in use", () => {
    const first = freeSubnets6("2001:2::/48", [], 3, () => 0);
    expect(first).toEqual(["2001:2::/64", "2001:2:0:1::/64", "2001:2:0:2::/64"]);
    expect(freeSubnets6("2001:2::/48", ["2001:2::/64"], 1, () => 0)).toEqual(["2001:2:0:1::/64"]);
    expect(freeSubnets6("2001:2::/48", [], 1, () => 0.5)).toEqual(["2001:2:0:8000::/64"]);
    expect(freeSubnets6("2001:2::/64", ["2001:2::/64"], 1)).toEqual([]);
  });

  it("addresses hosts and refuses a bad pool", () => {
    expect(hostAddress6("2001:2:0:7::/64", 10)).toBe("2001:2:0:7::a");
    expect(() => parseCidr6("198.18.0.0/15")).toThrow(/not an IPv6 pool/);
    expect(() => parseCidr6("2001:2::/96")).toThrow(/not an IPv6 pool/);
  });
});
