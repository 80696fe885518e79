import { describe, expect, it } from "vitest";
import { deleteCommand } from "../../src/faults/clear.js";
import { FAULT_KINDS, FaultSchema, describeFault } from "../../src/faults/registry.js";

describe("fault kinds", () => {
  it("the schema has one key per registered kind", () => {
    expect(Object.keys(FaultSchema.shape)).toEqual(["at", "target", ...Object.keys(FAULT_KINDS)]);
  });

  it("a fault has exactly one kind, and reads as its kind says", () => {
    const f = FaultSchema.parse({
      at: "1s",
      target: "gw",
      iptables: ["-I", "INPUT", "-j", "DROP"],
    });
    expect(describeFault(f)).toBe("iptables -I INPUT -j DROP");
    expect(describeFault(FaultSchema.parse({ at: 0, target: "gw", clear: "iptables" }))).toBe(
      "clear iptables",
    );
    expect(FaultSchema.safeParse({ at: 0, target: "gw", pause: true, unpause: true }).success).toBe(
      false,
    );
  });

  it("clear deletes the rule an -I or -A added, without its position", () => {
    expect(deleteCommand(["-I", "FORWARD", "-p", "tcp", "-j", "DROP"])).toEqual([
      "-D",
      "FORWARD",
      "-p",
      "tcp",
      "-j",
      "DROP",
    ]);
    expect(deleteCommand(["-t", "nat", "-I", "PREROUTING", "1", "-j", "ACCEPT"])).toEqual([
      "-t",
      "nat",
      "-D",
      "PREROUTING",
      "-j",
      "ACCEPT",
    ]);
    expect(deleteCommand(["-A", "OUTPUT", "-j", "DROP"])).toEqual(["-D", "OUTPUT", "-j", "DROP"]);
    expect(deleteCommand(["-D", "OUTPUT", "-j", "DROP"])).toBeUndefined();
  });
});
