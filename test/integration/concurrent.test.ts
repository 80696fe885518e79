/** Two tcprepro processes on one engine at once: separate names, separate subnets, both right. */
import { describe, expect, it } from "vitest";
import { cli, leftovers } from "./helpers.js";

describe("concurrent runs", () => {
  it("two `tcprepro run` started together do not collide", async () => {
    const args = [
      "run",
      "scenarios/accept-queue-overflow.yaml",
      "scenarios/connection-refused.yaml",
      "--parallel",
      "2",
    ];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toMatch(/4 passed, 0 failed/);
    expect(b.stdout).toMatch(/4 passed, 0 failed/);
    expect(await leftovers(a.pid)).toEqual({ containers: 0, networks: 0 });
    expect(await leftovers(b.pid)).toEqual({ containers: 0, networks: 0 });
  });
});
