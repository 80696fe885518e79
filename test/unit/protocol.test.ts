/**
 * The agent's argv: existing options give exactly the argv they always gave, and each new
 * behaviour adds its flag only when set (the agent's output stays byte-identical without them).
 */
import { describe, expect, it } from "vitest";
import {
  AGENT_PATH,
  connectArgv,
  serveArgv,
  type ConnectOptions,
} from "../../src/agent/protocol.js";
import { connectOptionsFor, serveOptionsFor } from "../../src/run/plan.js";
import { AppSchema, ScenarioSchema, TrafficSchema } from "../../src/scenario/schema.js";

const base: ConnectOptions = {
  host: "198.18.0.10",
  port: 8080,
  connections: 3,
  concurrency: 3,
  rate: 0,
  connectTimeoutMs: 1000,
  payloadBytes: 0,
  expectReply: true,
  replyTimeoutMs: 12000,
  holdMs: 0,
  close: "client",
  maxMs: 120000,
};
const BASE_ARGV = [
  AGENT_PATH,
  "connect",
  "--host",
  "198.18.0.10",
  "--port",
  "8080",
  "--connections",
  "3",
  "--concurrency",
  "3",
  "--rate",
  "0",
  "--connect-timeout-ms",
  "1000",
  "--payload-bytes",
  "0",
  "--expect-reply",
  "--reply-timeout-ms",
  "12000",
  "--hold-ms",
  "0",
  "--close",
  "client",
  "--max-ms",
  "120000",
];

describe("connectArgv", () => {
  it("is unchanged for the options that existed before", () => {
    expect(connectArgv(base)).toEqual(BASE_ARGV);
  });

  it("adds each new behaviour's flag after them, only when set", () => {
    expect(
      connectArgv({
        ...base,
        nodelay: true,
        splitWrites: true,
        requests: 20,
        halfClose: true,
        keepalive: { idleS: 2, intvlS: 1, cnt: 3 },
      }).slice(BASE_ARGV.length),
    ).toEqual([
      "--nodelay",
      "--split-writes",
      "--requests",
      "20",
      "--half-close",
      "--keepalive",
      "2,1,3",
    ]);
    expect(connectArgv({ ...base, expectReply: false, udp: true }).at(-1)).toBe("--udp");
  });
});

describe("serveArgv", () => {
  it("adds --never-close and --request-bytes only when set", () => {
    const app = serveOptionsFor(AppSchema.parse({ listen: 8080 }));
    expect(serveArgv(app)).toEqual([
      AGENT_PATH,
      "serve",
      "--port",
      "8080",
      "--backlog",
      "128",
      "--accept",
      "normal",
    ]);
    const leaky = serveOptionsFor(
      AppSchema.parse({ listen: 8080, neverClose: true, requestBytes: 32 }),
    );
    expect(serveArgv(leaky).slice(8)).toEqual(["--never-close", "--request-bytes", "32"]);
  });
});

describe("connectOptionsFor", () => {
  it("maps keepalive durations to whole seconds and protocol udp to --udp", () => {
    const s = ScenarioSchema.parse({
      name: "x",
      summary: "x",
      networks: ["wan"],
      nodes: { client: { networks: ["wan"] }, server: { networks: ["wan"] } },
    });
    const t = TrafficSchema.parse({
      from: "client",
      to: "server:8080",
      connections: 1,
      expectReply: true,
      keepalive: { idle: "2s", interval: "1500ms", probes: 3 },
    });
    expect(connectOptionsFor(s, t, { host: "h", port: 1 }).keepalive).toEqual({
      idleS: 2,
      intvlS: 2,
      cnt: 3,
    });
    const u = TrafficSchema.parse({
      from: "client",
      to: "server:9000",
      connections: 1,
      protocol: "udp",
    });
    const o = connectOptionsFor(s, u, { host: "h", port: 9000 });
    expect(o.udp).toBe(true);
    expect(o).not.toHaveProperty("keepalive");
  });
});
