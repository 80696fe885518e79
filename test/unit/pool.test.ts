import { afterEach, describe, expect, it } from "vitest";
import { defaultPool, FAMILY_OPTION, POOL6_OPTION, POOL_OPTION } from "../../src/cli/engine.js";
import { defaultPool6 } from "../../src/runtime/registry.js";

describe("the address pool", () => {
  const saved = process.env.TCPREPRO_POOL;
  afterEach(() => {
    if (saved === undefined) delete process.env.TCPREPRO_POOL;
    else process.env.TCPREPRO_POOL = saved;
  });

  it("defaults to TCPREPRO_POOL, else 198.18.0.0/15", () => {
    delete process.env.TCPREPRO_POOL;
    expect(defaultPool()).toBe("198.18.0.0/15");
    process.env.TCPREPRO_POOL = "198.19.128.0/17";
    expect(defaultPool()).toBe("198.19.128.0/17");
  });

  it("refuses a pool that is not a CIDR, naming where it came from", () => {
    process.env.TCPREPRO_POOL = "198.19.0.0/33";
    expect(() => defaultPool()).toThrow(/^TCPREPRO_POOL: "198.19.0.0\/33" is not a pool/);
    expect(() => POOL_OPTION[2]("nope")).toThrow(/^--pool: "nope" is not a pool/);
  });
});

describe("the IPv6 address pool and --family", () => {
  const saved = process.env.TCPREPRO_POOL6;
  afterEach(() => {
    if (saved === undefined) delete process.env.TCPREPRO_POOL6;
    else process.env.TCPREPRO_POOL6 = saved;
  });

  it("defaults to TCPREPRO_POOL6, else 2001:2::/48 (RFC 5180), and refuses a bad one", () => {
    delete process.env.TCPREPRO_POOL6;
    expect(defaultPool6()).toBe("2001:2::/48");
    process.env.TCPREPRO_POOL6 = "2001:2:0:8000::/49";
    expect(defaultPool6()).toBe("2001:2:0:8000::/49");
    process.env.TCPREPRO_POOL6 = "198.18.0.0/15";
    expect(() => defaultPool6()).toThrow(/^TCPREPRO_POOL6: "198.18.0.0\/15" is not an IPv6 pool/);
    expect(() => POOL6_OPTION[2]("2001:2::/100")).toThrow(/^--pool6: .* is not an IPv6 pool/);
    expect(FAMILY_OPTION[2]("ipv6")).toBe("ipv6");
    expect(() => FAMILY_OPTION[2]("dual")).toThrow(/^--family: expected ipv4 or ipv6/);
  });
});
