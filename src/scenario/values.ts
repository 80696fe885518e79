/** Small value types of the scenario format, parsed once: durations become milliseconds, comparisons objects. */
import { z } from "zod";

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

/** "200ms", "1.5s", "2m", or a plain number of milliseconds. */
export const Duration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === "number") return v;
    const m = DURATION.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a duration (use 200ms, 1.5s, 2m)` });
      return z.NEVER;
    }
    const n = Number(m[1]);
    return m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
  })
  .meta({ description: 'A duration: "200ms", "1.5s", "2m", or a number of milliseconds' });

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

export const Name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}$/,
    "names are lower case letters, digits and '-', at most 31 characters",
  );

export const Port = z.number().int().min(1).max(65535);

export const PortRange = z
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

export const Target = z
  .string()
  .regex(/^[a-z][a-z0-9-]*:\d{1,5}$/, "a target is node:port (a node of this scenario)")
  .transform((v) => {
    const [node, port] = v.split(":");
    return { node: node!, port: Number(port) };
  });

/** Reports a problem at a key path of the scenario (load-time checks, faults' and floods' too). */
export type AddProblem = (path: (string | number)[], message: string) => void;

/** A problem found by the load-time checks, at a key path of the scenario. */
export interface SemanticProblem {
  path: (string | number)[];
  message: string;
}
