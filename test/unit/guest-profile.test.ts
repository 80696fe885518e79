import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GuestProfile } from "../../src/vm/profile.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const decode = (f: string) => (f === "-" ? Buffer.alloc(0) : Buffer.from(f, "base64"));

describe("TCPREPRO_GUEST_PROFILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "tcprepro-profile-"));
  afterEach(() => {
    delete process.env.TCPREPRO_GUEST_PROFILE;
  });

  it("is off unless asked for", () => {
    expect(GuestProfile.fromEnv(decode)).toBeUndefined();
  });

  it("logs a process with its argv and the CPU the agent's exit reply carries, a read with its path", () => {
    const file = join(dir, "profile.jsonl");
    process.env.TCPREPRO_GUEST_PROFILE = file;
    const profile = GuestProfile.fromEnv(decode)!;
    const seen: string[] = [];
    const on = (kind: string) => (seen.push(kind), kind === "exit" || kind === "ok");
    const spawn = profile.wrap(["spawn", "-", "-", b64("ss"), b64("-lntH")], { on });
    expect(spawn.on("pid", "42")).toBe(false);
    expect(spawn.on("exit", "0 0 12 34")).toBe(true);
    profile.wrap(["read", b64("/proc/1/net/tcp")], { on }).on("ok", "-");
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(seen).toEqual(["pid", "exit", "ok"]);
    expect(lines[0]).toMatchObject({ op: "spawn", what: "ss -lntH", userMs: 12, sysMs: 34 });
    expect(lines[1]).toMatchObject({ op: "read", what: "/proc/1/net/tcp" });
    expect(lines[1]).not.toHaveProperty("userMs");
    rmSync(dir, { recursive: true, force: true });
  });
});
