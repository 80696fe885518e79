/**
 * A namespace carries no labels, so each run leaves a small state file beside its namespaces:
 * who owns it (to tell a live run from one whose process was SIGKILLed) and which subnets it
 * holds (so that the next run picks others). Written before the first namespace exists and
 * removed after the last one is gone.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";

export const STATE_DIR = "/run/tcprepro";

export interface RunState {
  /** PID of the tcprepro process that made the run. */
  pid: number;
  host: string;
  /** Subnet of each network. */
  subnets: Record<string, string>;
}

export function statePath(runId: string): string {
  return `${STATE_DIR}/netns-${runId}.json`;
}

export async function writeState(runId: string, subnets: Record<string, string>): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true });
  const state: RunState = { pid: process.pid, host: hostname(), subnets };
  await writeFile(statePath(runId), JSON.stringify(state) + "\n");
}

export async function removeState(runId: string): Promise<void> {
  await rm(statePath(runId), { force: true });
}

export function readState(runId: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(runId), "utf8")) as RunState;
  } catch {
    return undefined;
  }
}

/** Run ids that have a state file. */
export function stateRunIds(): string[] {
  try {
    return readdirSync(STATE_DIR)
      .map((f) => /^netns-(.+)\.json$/.exec(f)?.[1])
      .filter((id): id is string => id !== undefined);
  } catch {
    return [];
  }
}

/** Subnets held by every run with a state file (live or not: its namespaces may still stand). */
export function usedSubnets(): string[] {
  return stateRunIds().flatMap((id) => Object.values(readState(id)?.subnets ?? {}));
}
