/**
 * How long each variant took last time, per kernel: the run starts the longest first, so a
 * parallel run ends when its last short variant does rather than waiting on a long one started
 * last (as the kernel's netdev CI schedules its tests). Kept beside the kernel cache in
 * durations.json: `{ "<kernel key>": { "<scenario>/<variant>": ms } }`. A missing or unreadable
 * file is no history: the order is then the catalog's.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir } from "../kernels/cache.js";

type Durations = Record<string, Record<string, number>>;

export function durationsPath(): string {
  return process.env.TCPREPRO_DURATIONS ?? join(cacheDir(), "durations.json");
}

/**
 * The key of a runtime's kernel: `docker`, `netns` (the host's), `vm:6.1` — a VM's accelerator
 * (`vm:6.1/tcg`) is left out so the history survives a change of accelerator.
 */
export function kernelKey(runtimeName: string): string {
  return runtimeName.replace(/\/.*$/, "");
}

function readAll(): Durations {
  try {
    const parsed = JSON.parse(readFileSync(durationsPath(), "utf8")) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Durations) : {};
  } catch {
    return {};
  }
}

/** The durations last measured on this kernel, by `scenario/variant`. */
export function readDurations(kernel: string): Map<string, number> {
  return new Map(Object.entries(readAll()[kernelKey(kernel)] ?? {}));
}

/**
 * Records what ran (skips are not a duration). Written whole through a rename: a run that reads
 * at the same moment sees the old file or the new one. Best effort: history is only an order.
 */
export function recordDurations(kernel: string, measured: Map<string, number>): void {
  if (measured.size === 0) return;
  try {
    const all = readAll();
    const key = kernelKey(kernel);
    all[key] = { ...all[key], ...Object.fromEntries(measured) };
    const path = durationsPath();
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 1) + "\n");
    renameSync(tmp, path);
  } catch {
    // No cache directory we can write: the next run starts in the catalog's order.
  }
}

/**
 * Longest first by the last durations; a variant never measured goes before the measured ones
 * (it may be long), and ties keep the given order.
 */
export function longestFirst<T>(items: T[], key: (item: T) => string, last: Map<string, number>) {
  const d = (item: T) => last.get(key(item)) ?? Infinity;
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => d(b.item) - d(a.item) || a.i - b.i)
    .map((x) => x.item);
}
