import { describe, expect, it } from "vitest";
import { waitNodeReady } from "../../src/run/readiness.js";
import type { NodeOutput, StartedNode } from "../../src/runtime/runtime.js";
import { ExecError } from "../../src/util/errors.js";

const LISTEN_80 = [
  "  sl  local_address rem_address   st tx_queue rx_queue",
  "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000",
].join("\n");

/** A node whose software gets ready after `readyAfterMs` (never: Infinity). */
function fakeNode(readyAfterMs: number, out: Partial<NodeOutput> = {}): StartedNode {
  const start = Date.now();
  const ready = () => Date.now() - start >= readyAfterMs;
  return {
    name: "server",
    addresses: {},
    exec: async (argv) => {
      if (ready()) return { stdout: argv[0] === "sh" ? "200" : "", stderr: "" };
      throw new ExecError(argv, 1, "not yet", "server");
    },
    spawn: () => Promise.reject(new Error("unused")),
    readProcNet: async (file) => (file === "tcp" && ready() ? LISTEN_80 : ""),
    readFile: async () => undefined,
    pause: async () => undefined,
    unpause: async () => undefined,
    output: async () => ({
      running: out.running ?? true,
      exitCode: out.exitCode ?? null,
      logs: (out.logs ?? "booting\n") + (ready() ? "listening on 80\n" : ""),
    }),
  };
}

describe("ready: waiting for a node's own software", () => {
  it("passes once the check holds, for each kind", async () => {
    for (const r of [
      { timeout: 2000, port: 80 },
      { timeout: 2000, log: "listening on \\d+" },
      { timeout: 2000, http: { port: 80, path: "/", status: 200 } },
      { timeout: 2000, command: ["test", "-e", "/run/ready"] },
    ])
      await expect(waitNodeReady(fakeNode(150), r)).resolves.toBeUndefined();
  });

  it("fails within its timeout, quoting the last log lines", async () => {
    const t0 = Date.now();
    await expect(waitNodeReady(fakeNode(Infinity), { timeout: 300, port: 80 })).rejects.toThrow(
      /node server not ready within 300 ms: waited for port 80 listening; its last 1 log line\(s\):\n {4}booting/,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("fails at once when the node's process has exited", async () => {
    const t0 = Date.now();
    await expect(
      waitNodeReady(fakeNode(Infinity, { running: false, exitCode: 1, logs: "bad config\n" }), {
        timeout: 10_000,
        port: 80,
      }),
    ).rejects.toThrow(/exited \(code 1\) before port 80 listening.*\n {4}bad config/s);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
