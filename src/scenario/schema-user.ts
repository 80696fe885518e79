/**
 * Scenario keys for the user's own software: how a node's image is made (`build:`, `packages:`),
 * when it is ready (`ready:`), and real clients as traffic (`traffic[].command`, `outcomes`).
 * Part of the one schema (src/scenario/schema.ts imports these).
 */
import { z } from "zod";
import { Duration } from "./values.js";

const Port = z.number().int().min(1).max(65535);

/** A Debian package name (policy §5.6.1), optionally `=version`. */
const PackageName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/,
    "a Debian package name like nginx-light (optionally name=version)",
  );

export const BuildSchema = z
  .union([
    z.string().min(1),
    z.strictObject({
      context: z.string().min(1).meta({ description: "Directory sent to the build" }),
      dockerfile: z
        .string()
        .min(1)
        .default("Dockerfile")
        .meta({ description: "Dockerfile, relative to the context" }),
      args: z.record(z.string(), z.string()).default({}).meta({ description: "Build arguments" }),
    }),
  ])
  .transform((b) =>
    typeof b === "string" ? { context: b, dockerfile: "Dockerfile", args: {} } : b,
  )
  .meta({
    description:
      "Build this node's image from a Dockerfile context (a path relative to the scenario file, or { context, dockerfile, args }); built once, cached by content, with no network",
  });

export const ContainerSchema = z.string().min(1).meta({
  description:
    "An existing container (id or name; a testcontainers StartedTestContainer's getId()) joined to this node's networks: tcprepro neither creates nor removes it, and drops its default route",
});

export const PackagesSchema = z.array(PackageName).min(1).max(64).meta({
  description:
    "Debian packages installed on top of tcprepro's node image (downloaded on the host, installed with dpkg: no registry, no network in the container)",
});

export const ReadySchema = z
  .strictObject({
    timeout: Duration.default(30_000).meta({
      description: "How long to wait before the variant ERRORs",
    }),
    port: Port.optional().meta({ description: "A TCP port listening inside the node" }),
    log: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "A regular expression a line of the node's output must match" }),
    http: z
      .strictObject({
        port: Port,
        path: z.string().startsWith("/").default("/"),
        status: z.number().int().min(100).max(599).default(200),
      })
      .optional()
      .meta({
        description: "An HTTP GET on 127.0.0.1 inside the node answers this status",
      }),
    command: z
      .array(z.string())
      .min(1)
      .optional()
      .meta({ description: "A command inside the node that exits 0 once it is ready" }),
  })
  .superRefine((r, ctx) => {
    const kinds = [r.port, r.log, r.http, r.command].filter((k) => k !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: "custom",
        message: "ready has exactly one of port, log, http, command",
      });
    if (r.log !== undefined) {
      try {
        new RegExp(r.log);
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          path: ["log"],
          message: `not a regular expression: ${(err as Error).message}`,
        });
      }
    }
  })
  .meta({ description: "Wait until the node's own software is ready before any traffic" });

/** `outcome` or `outcome@phase`: what a matching stderr line means. */
const OUTCOME = /^[A-Za-z][A-Za-z0-9_]*(@(connect|reply|done))?$/;

export const OutcomesSchema = z
  .record(z.string(), z.string().regex(OUTCOME, "an outcome like ECONNRESET or timeout@connect"))
  .superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      try {
        new RegExp(key);
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `not a regular expression: ${(err as Error).message}`,
        });
      }
    }
  })
  .meta({
    description:
      "For a command's failed runs: regex on its stderr → outcome (ECONNRESET, timeout@connect, …); the first match wins",
  });

/** Keys of the built-in generator that mean nothing to a command. */
export const GENERATOR_ONLY_KEYS = [
  "rate",
  "connectTimeout",
  "payload",
  "expectReply",
  "replyTimeout",
  "hold",
  "close",
] as const;

/** Keys only a command takes. */
export const COMMAND_ONLY_KEYS = ["outcomes"] as const;

/**
 * A command's argv may name its target only through placeholders: `{target}` (host:port),
 * `{host}`, `{port}`, `{url}` (http://host:port). A literal address would leave the topology.
 */
export const COMMAND_PLACEHOLDERS = ["{target}", "{host}", "{port}", "{url}"] as const;

export const TrafficCommand = z.array(z.string()).min(1).meta({
  description:
    "Run this argv in the client node instead of the built-in generator, `connections` times with `concurrency` at once; {target}, {host}, {port}, {url} stand for the server's address",
});

/** Problems of a command traffic item's raw keys (before defaults hide what was written). */
export function commandKeyProblems(
  raw: Record<string, unknown>,
): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  if (raw.command === undefined) {
    for (const key of COMMAND_ONLY_KEYS)
      if (key in raw) problems.push({ key, message: `${key} needs command (a real client)` });
    return problems;
  }
  for (const key of GENERATOR_ONLY_KEYS)
    if (key in raw)
      problems.push({
        key,
        message: `${key} is a key of the built-in generator; a command sets its own (e.g. curl --connect-timeout)`,
      });
  return problems;
}

const LITERAL_ADDRESS =
  /(^|[^0-9A-Za-z.])(\d{1,3}(\.\d{1,3}){3})(?![0-9A-Za-z.])|\[[0-9a-fA-F:]*:[0-9a-fA-F:]*\]|\blocalhost\b|:\/\/(?!\{)/;

/** Why an argv element would reach outside the topology, if it would. */
export function literalAddressIn(arg: string): string | undefined {
  const m = LITERAL_ADDRESS.exec(arg);
  if (!m) return undefined;
  return `"${arg}" names an address; name the target with {target}, {host}, {port} or {url} (traffic only goes to this scenario's nodes)`;
}
