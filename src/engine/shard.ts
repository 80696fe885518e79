/**
 * `--shard i/n` / `shard: "i/n"`: a stable subset of (kernel, scenario, variant), so CI jobs can
 * split a matrix and `tcprepro merge` join it again.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.js";

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new UsageError(`--shard: "${value}" is not i/n with 1 ≤ i ≤ n (e.g. 2/4)`);
  return { index, count };
}

/** Whether a (kernel, scenario, variant) belongs to the shard: a hash, stable across runs. */
export function inShard(
  shard: Shard | undefined,
  kernel: string,
  scenario: string,
  variant: string,
): boolean {
  if (!shard || shard.count === 1) return true;
  const h = createHash("sha256").update(`${kernel}\0${scenario}\0${variant}`).digest();
  return h.readUInt32BE(0) % shard.count === shard.index - 1;
}
