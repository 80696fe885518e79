/**
 * The scenario format: the one source of truth. TypeScript types and the published JSON Schema
 * (schema/scenario.schema.json) both derive from this file.
 */
import { z } from "zod";
import { TCP_STATES } from "../evidence/tcp-states.js";
import { FaultSchema } from "../faults/registry.js";
import { FloodSchema } from "../faults/flood.js";
import {
  BuildSchema,
  commandKeyProblems,
  ContainerSchema,
  OutcomesSchema,
  PackagesSchema,
  ReadySchema,
  TrafficCommand,
} from "./schema-user.js";
import { Check, Duration, Name, Port, PortRange, Target } from "./values.js";

// Small value types (durations, comparisons, names, ports) are in values.ts, shared with the
// fault kinds (src/faults/), which each bring their own schema.
export { Check, Duration, type Comparison, type Op } from "./values.js";

/** Address families: a network (or a whole scenario) gets IPv4, IPv6, or both. */
export const FamilySchema = z.enum(["ipv4", "ipv6", "dual"]).meta({
  description: "ipv4, ipv6 or dual (both): the addresses a network gets",
});

/** A network: its name, or its name and its own family. */
export const NetworkSchema = z.union([
  Name,
  z.strictObject({
    name: Name,
    family: FamilySchema,
  }),
]);

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

/** Round 2 of the app's behaviours: a leaking app, a request/response app. */
const AppBehaviour = {
  neverClose: z.boolean().optional().meta({
    description:
      "Never call close(), even after the client's FIN: the server's sockets stay in CLOSE_WAIT",
  }),
  requestBytes: z.number().int().min(1).max(65536).optional().meta({
    description:
      "Reply only once this many bytes (one request) have arrived, with as many bytes; default: echo as data arrives",
  }),
};

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
    ...AppBehaviour,
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

/** Round 2 of what a client does: UDP, Nagle off, write-write-read, keepalive, half-close. */
const TrafficBehaviour = {
  protocol: z.enum(["tcp", "udp"]).optional().meta({
    description:
      "udp: one datagram of the payload per attempt (outcome connected, or send()'s errno: EPERM, ENOBUFS, EINVAL)",
  }),
  recverr: z.boolean().optional().meta({
    description:
      "udp: IP_RECVERR on the socket (as ping does): a datagram the kernel drops on its way out fails send() with ENOBUFS instead of vanishing",
  }),
  nodelay: z.boolean().optional().meta({ description: "TCP_NODELAY on the client's sockets" }),
  splitWrites: z.boolean().optional().meta({
    description: "Write each request in two send() calls (half, then the rest): write-write-read",
  }),
  requests: z.number().int().min(1).max(10_000).optional().meta({
    description:
      "Request/reply rounds per connection (needs expectReply); each round's time goes into clients.requestMs",
  }),
  halfClose: z.boolean().optional().meta({
    description:
      "shutdown(SHUT_WR) after the last request: the client's FIN, the reply still comes",
  }),
  keepalive: z
    .strictObject({
      idle: Duration.meta({ description: "TCP_KEEPIDLE: idle time before the first probe" }),
      interval: Duration.meta({ description: "TCP_KEEPINTVL: time between probes" }),
      probes: z.number().int().min(1).max(127).meta({ description: "TCP_KEEPCNT" }),
    })
    .optional()
    .meta({
      description:
        "SO_KEEPALIVE with per-socket timers (whole seconds): a silent peer is found dead after idle + probes × interval",
    }),
};

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
  family: z.enum(["ipv4", "ipv6"]).optional().meta({
    description:
      "The family `to` resolves in: on a dual network, ipv6 pins it (default: the network's family, ipv4 on dual)",
  }),
  ...TrafficBehaviour,
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
    sockets: z
      .record(Name, z.partialRecord(z.enum(TCP_STATES), Check))
      .optional()
      .meta({
        description:
          "Sockets per TCP state (ESTABLISHED, CLOSE_WAIT, FIN_WAIT2, TIME_WAIT, …): the most sampled at once on the node (replicas summed)",
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
  ownKernel: z.boolean().optional().meta({
    description:
      "Needs a runtime that owns the whole kernel (a global knob such as gc_thresh); elsewhere the scenario SKIPs",
  }),
});

const Body = {
  summary: z.string().min(1).meta({ description: "What happens, for a newcomer" }),
  symptom: z.string().optional().meta({ description: "The production symptom this reproduces" }),
  requires: RequiresSchema.default({}),
  family: FamilySchema.optional().meta({
    description:
      "Address family of every network that does not set its own (default ipv4; `run --family ipv6` runs a scenario that pins none over IPv6)",
  }),
  networks: z.array(NetworkSchema).min(1).max(8).meta({
    description:
      "Networks (a name, or { name, family }); addresses are allocated by the harness: a /24 from --pool, a /64 from --pool6",
  }),
  nodes: z.record(Name, NodeSchema).refine((n) => Object.keys(n).length > 0, "at least one node"),
  traffic: z.array(TrafficSchema).default([]),
  floods: z
    .array(FloodSchema)
    .default([])
    .meta({ description: "SYN floods from the attacker's own address (no spoofing)" }),
  faults: z.array(FaultSchema).default([]),
  kernelSysctls: Sysctls.optional().meta({
    description:
      "Sysctls of the whole kernel (its initial namespace, e.g. net.ipv4.neigh.default.gc_thresh3): only with requires.ownKernel, applied by a runtime that owns the kernel",
  }),
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
export type Family = z.output<typeof FamilySchema>;
export type NetworkSpec = z.output<typeof NetworkSchema>;
export type ScenarioNode = z.output<typeof NodeSchema>;
export type App = z.output<typeof AppSchema>;
export type Traffic = z.output<typeof TrafficSchema>;
export type { Fault } from "../faults/registry.js";
export type { Flood } from "../faults/flood.js";
export type Expect = z.output<typeof ExpectSchema>;
export type Requires = z.output<typeof RequiresSchema>;
