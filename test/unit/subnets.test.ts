import { describe, expect, it } from "vitest";
import { freeSubnets, hostAddress, overlaps } from "../../src/runtime/subnets.js";

describe("subnet allocation", () => {
  it("hands out /24s inside 198.18.0.0/15 only", () => {
    const all = freeSubnets("198.18.0.0/15", [], () => 0);
    expect(all).toHaveLength(512);
    expect(all[0]).toBe("198.18.0.0/24");
    expect(all[511]).toBe("198.19.255.0/24");
  });

  it("takes another run's IPv6 prefixes as no conflict", () => {
    const free = freeSubnets("198.18.0.0/23", ["2001:2:0:ca8a::/64", "198.18.0.0/24"], () => 0);
    expect(free).toEqual(["198.18.1.0/24"]);
  });

  it("skips blocks in use, including ones covered by a wider network", () => {
    const free = freeSubnets(
      "198.18.0.0/15",
      ["198.18.0.0/24", "198.18.1.0/24", "198.19.0.0/16"],
      () => 0,
    );
    expect(free[0]).toBe("198.18.2.0/24");
    expect(free.some((s) => s.startsWith("198.19."))).toBe(false);
    expect(free).toHaveLength(256 - 2);
  });

  it("starts at a random block so concurrent runs rarely race for the same one", () => {
    expect(freeSubnets("198.18.0.0/15", [], () => 0.5)[0]).toBe("198.19.0.0/24");
  });

  it("ignores the engine's IPv6 subnets: they cannot overlap an IPv4 pool", () => {
    const free = freeSubnets("198.18.0.0/23", ["2001:2:0:8f52::/64", "198.18.0.0/24"], () => 0);
    expect(free).toEqual(["198.18.1.0/24"]);
  });

  it("overlap and addresses", () => {
    expect(overlaps("172.17.0.0/16", "172.17.5.0/24")).toBe(true);
    expect(overlaps("198.18.0.0/24", "198.18.1.0/24")).toBe(false);
    expect(hostAddress("198.18.7.0/24", 10)).toBe("198.18.7.10");
  });
});
