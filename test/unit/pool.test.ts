import { afterEach, describe, expect, it } from "vitest";
import { defaultPool, POOL_OPTION } from "../../src/cli/engine.js";

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
