/** Small value types shared by the schema's files, parsed once: durations become milliseconds. */
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
