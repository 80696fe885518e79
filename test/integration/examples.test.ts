/**
 * The examples project (examples/), run as its own vitest project through the public API:
 * nginx + curl/ab from Debian's packages, the accept-queue overflow and its mitigation.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

describe("examples/: tcprepro from a user's own vitest tests", () => {
  it("passes", async () => {
    // The child is a vitest of its own: none of this run's VITEST_* settings.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")),
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "--root", "examples"],
      { cwd: ROOT, env: { ...env, NODE_ENV: "test" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code, out).toBe(0);
    expect(out).toMatch(/4 passed/);
  });
});
