/**
 * The scenario format: the one source of truth. TypeScript types and the published JSON Schema
 * (schema/scenario.schema.json) both derive from this file.
 */
import { z } from "zod";
import {
  BuildSchema,
  commandKeyProblems,
  ContainerSchema,
  OutcomesSchema,
  PackagesSchema,
  ReadySchema,
  TrafficCommand,
} from "./schema-user.js";
import { Duration } from "./values.js";

export { Duration };

// ---------------------------------------------------------------------------------------------
// Small value types, parsed once: durations become milliseconds, comparisons become objects.

export type Op = "==" | "!=" | ">=" | "<=" | ">" | "<";
export interface Comparison {
  op: Op;
  value: number;
  /** The text as written, for reports. */
  text: string;
}

const COMPARISON = /^(==|!=|>=|<=|>|<)?\s*(-?\d+(?:\.\d+)?)\s*(ms|s)?$/;

/** `"> 0"`, `"== 0"`, `">= 10"`, `"< 50ms"`, or a bare number (meaning `==`). */
export const Check = z
  .union([z.number(), z.string()])
  .transform((v, ctx): Comparison => {
    const text = String(v).trim();
    const m = COMPARISON.exec(text);
    if (!m) {
      ctx.addIssue({
        code: "custom",
        message: `"${text}" is not a comparison (use "> 0", "== 0", ">= 10", "< 50ms")`,
      });
      return z.NEVER;
    }
    const scale = m[3] === "s" ? 1000 : 1;
    return { op: (m[1] ?? "==") as Op, value: Number(m[2]) * scale, text };
  })
  .meta({ description: 'A comparison: "> 0", "== 0", ">= 10", "< 50ms", or a number (==)' });

const Name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}$/,
    "names are lower case letters, digits and '-', at most 31 characters",
  );

const Port = z.number().int().min(1).max(65535);

const PortRange = z
  .union([Port, z.string()])
  .transform((v, ctx) => {
    if (typeof v === "number") return { low: v, high: v };
    const m = /^(\d+)-(\d+)$/.exec(v.trim());
    const low = Number(m?.[1]);
    const high = Number(m?.[2]);
    if (!m || low < 1 || high > 65535 || low > high) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a port range (use 40000-40999)` });
      return z.NEVER;
    }
    return { low, high };
  })
  .meta({ description: "A port or a port range: 40000 or 40000-40999" });

const Sysctls = z
  .record(
    z
      .string()
      .regex(/^(net|kernel|fs|vm)\.[a-z0-9_.-]+$/, "a sysctl name like net.ipv4.tcp_syncookies"),
    z.union([z.number(), z.string()]),
  )
  .meta({ description: "Kernel settings of this node's own network namespace" });

// ---------------------------------------------------------------------------------------------
// Nodes

export const AppSchema = z
  .strictObject({
    listen: Port.meta({ description: "Port the built-in server listens on" }),
    backlog: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(128)
      .meta({ description: "listen() backlog; the queue is min(backlog, net.core.somaxconn)" }),
    accept: z
      .union([
        z.enum(["normal", "never"]),
        z.strictObject({ delayMs: z.number().int().min(1).max(60_000) }),
      ])
      .default("normal")
      .meta({
        description:
          "normal: accept at once; never: never call accept(); { delayMs }: one accept per delayMs",
      }),
    reply: z.boolean().default(true).meta({ description: "Echo the request back" }),
    closeFirst: z
      .boolean()
      .default(false)
      .meta({ description: "Close right after replying, so the server holds TIME_WAIT" }),
    resetOnClose: z
      .boolean()
      .default(false)
      .meta({ description: "Close with the request unread: the kernel sends RST" }),
  })
  .meta({ description: "The built-in server application" });

export const NodeSchema = z.strictObject({
  networks: z.array(Name).min(1).meta({ description: "Networks this node is attached to" }),
  replicas: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .meta({ description: "How many copies: named node.1, node.2, …" }),
  sysctls: Sysctls.default({}),
  via: Name.optional().meta({
    description: "A gateway node: this node reaches other networks through its SNAT",
  }),
  snat: z
    .strictObject({
      from: Name.meta({ description: "The network whose clients are translated" }),
      ports: PortRange.optional().meta({
        description: "Source ports the gateway may use (SNAT --to-source IP:LOW-HIGH)",
      }),
    })
    .optional()
    .meta({ description: "Make this node a SNAT gateway" }),
  app: AppSchema.optional(),
  capture: z.boolean().default(false).meta({
    description: "Record this node's TCP packets (tcpdump) and summarise them as evidence",
  }),
  image: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "Run your own image instead of tcprepro's (docker runtime only)" }),
  command: z
    .array(z.string())
    .min(1)
    .optional()
    .meta({ description: "Command for your own image, as an array" }),
  build: BuildSchema.optional(),
  packages: PackagesSchema.optional(),
  container: ContainerSchema.optional(),
  ready: ReadySchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// Traffic, faults, expectations

const Target = z
  .string()
  .regex(/^[a-z][a-z0-9-]*:\d{1,5}$/, "a target is node:port (a node of this scenario)")
  .transform((v) => {
    const [node, port] = v.split(":");
    return { node: node!, port: Number(port) };
  });

const TrafficObject = z.strictObject({
  from: Name.meta({ description: "Client node (all its replicas send)" }),
  to: Target.meta({ description: "node:port — always a node of this scenario" }),
  at: Duration.default(0).meta({ description: "When this traffic starts" }),
  connections: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .meta({ description: "Attempts per client replica" }),
  concurrency: z.number().int().min(1).max(20_000).default(1),
  rate: z
    .number()
    .min(0)
    .max(1_000_000)
    .default(0)
    .meta({ description: "Attempts started per second (0: no limit)" }),
  connectTimeout: Duration.default(5000).meta({
    description: "The client gives up connecting after this",
  }),
  payload: z
    .number()
    .int()
    .min(0)
    .max(1_048_576)
    .default(0)
    .meta({ description: "Bytes sent once connected" }),
  expectReply: z
    .boolean()
    .default(false)
    .meta({ description: "Wait for the payload to come back" }),
  replyTimeout: Duration.default(5000),
  hold: Duration.default(0).meta({ description: "Keep each connection open this long" }),
  close: z.enum(["client", "server"]).default("client").meta({ description: "Who closes first" }),
  command: TrafficCommand.optional(),
  outcomes: OutcomesSchema.optional(),
});

/** A command's keys are checked as written: the generator's defaults would hide them. */
export const TrafficSchema = z.preprocess((raw, ctx) => {
  if (raw && typeof raw === "object" && !Array.isArray(raw))
    for (const p of commandKeyProblems(raw as Record<string, unknown>))
      ctx.addIssue({ code: "custom", path: [p.key], message: p.message, input: raw });
  return raw;
}, TrafficObject);

export const FloodSchema = z.strictObject({
  from: Name.meta({ description: "Attacker node (hping3 runs in each replica)" }),
  to: Target.meta({ description: "node:port — always a node of this scenario" }),
  at: Duration.default(0),
  count: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .meta({ description: "SYNs sent (hping3 -S --faster -c count)" }),
});

export const FaultSchema = z
  .strictObject({
    at: Duration,
    target: Name.meta({ description: "The node the fault is applied to" }),
    signal: z
      .enum(["SIGSTOP", "SIGCONT", "SIGKILL", "SIGTERM"])
      .optional()
      .meta({ description: "Sent to the node's app" }),
    pause: z
      .literal(true)
      .optional()
      .meta({ description: "Freeze every process of the node (docker pause)" }),
    unpause: z.literal(true).optional(),
    iptables: z.array(z.string()).min(2).optional().meta({
      description:
        'An iptables command in the node, as an array: ["-I", "INPUT", "-p", "tcp", "-j", "DROP"]',
    }),
  })
  .superRefine((f, ctx) => {
    const actions = [f.signal, f.pause, f.unpause, f.iptables].filter((a) => a !== undefined);
    if (actions.length !== 1)
      ctx.addIssue({
        code: "custom",
        message: "a fault has exactly one of signal, pause, unpause, iptables",
      });
  });

const Percentiles = z.strictObject({
  p50: Check.optional(),
  p90: Check.optional(),
  p99: Check.optional(),
  max: Check.optional(),
});

export const ExpectSchema = z
  .strictObject({
    cause: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .meta({ description: "The cause(s) the diagnosis must name; none for a healthy run" }),
    counters: z
      .record(
        Name,
        z.record(
          z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "a counter name like TcpExtListenOverflows"),
          Check,
        ),
      )
      .optional()
      .meta({ description: "Counter deltas per node (a replicated node is summed)" }),
    clients: z
      .record(z.string(), z.union([Check, Percentiles]))
      .optional()
      .meta({
        description:
          "Client outcomes (attempts, connected, failed, timedOut, ECONNREFUSED, …) and connectMs/replyMs percentiles",
      }),
    drops: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, "a drop reason like NETFILTER_DROP"), Check)
      .optional()
      .meta({
        description:
          "The kernel's skb drop reasons (tracepoint skb:kfree_skb) counted host-wide while the variant ran; needs root and tracefs",
      }),
    packets: z
      .record(
        Name,
        z.strictObject({
          synSent: Check.optional(),
          synReceived: Check.optional(),
          synAckSent: Check.optional(),
          synUnanswered: Check.optional(),
          rstSent: Check.optional(),
          rstPassive: Check.optional(),
          rstActive: Check.optional(),
          flows: Check.optional(),
        }),
      )
      .optional()
      .meta({
        description: "Packet evidence of a captured node (SYNs, SYN-ACKs, passive/active RSTs)",
      }),
    listen: z
      .record(
        Name,
        z.strictObject({
          maxRecvQ: Check.optional(),
          sendQ: Check.optional(),
          maxSynRecv: Check.optional(),
        }),
      )
      .optional()
      .meta({ description: "The listen queue of a node running the built-in app" }),
  })
  .default({});

export const RequiresSchema = z.strictObject({
  kernel: z
    .string()
    .regex(
      /^(>=|<=|>|<|==)?\s*\d+(\.\d+){0,2}(\s*,\s*(>=|<=|>|<|==)?\s*\d+(\.\d+){0,2})*$/,
      'a kernel range like ">=4.10" or ">=3.10, <4.12"',
    )
    .optional(),
  sysctls: z
    .array(z.string())
    .optional()
    .meta({ description: "Sysctls that must exist on this kernel, or the scenario SKIPs" }),
  counters: z
    .array(z.string())
    .optional()
    .meta({ description: "Counters that must exist on this kernel, or the scenario SKIPs" }),
});

const Body = {
  summary: z.string().min(1).meta({ description: "What happens, for a newcomer" }),
  symptom: z.string().optional().meta({ description: "The production symptom this reproduces" }),
  requires: RequiresSchema.default({}),
  networks: z
    .array(Name)
    .min(1)
    .max(8)
    .meta({ description: "Networks; addresses are allocated by the harness" }),
  nodes: z.record(Name, NodeSchema).refine((n) => Object.keys(n).length > 0, "at least one node"),
  traffic: z.array(TrafficSchema).default([]),
  floods: z
    .array(FloodSchema)
    .default([])
    .meta({ description: "SYN floods from the attacker's own address (no spoofing)" }),
  faults: z.array(FaultSchema).default([]),
  settle: Duration.default(500).meta({
    description: "Wait after the traffic ends before the final counters",
  }),
  timeout: Duration.default(120_000).meta({ description: "Overall bound on one variant's run" }),
  expect: ExpectSchema,
};

export const VariantSchema = z.strictObject({
  set: z.record(z.string(), z.unknown()).default({}).meta({
    description: "Dotted paths patched into the scenario: { nodes.server.app.backlog: 1024 }",
  }),
  expect: ExpectSchema.optional().meta({ description: "Replaces the baseline's expect" }),
});

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: Name.meta({ description: "Scenario name" }),
  ...Body,
  variants: z.record(Name, VariantSchema).default({}),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioNode = z.output<typeof NodeSchema>;
export type App = z.output<typeof AppSchema>;
export type Traffic = z.output<typeof TrafficSchema>;
export type Fault = z.output<typeof FaultSchema>;
export type Flood = z.output<typeof FloodSchema>;
export type Expect = z.output<typeof ExpectSchema>;
export type Requires = z.output<typeof RequiresSchema>;
