/**
 * The one event stream of a run. Progress displays, the NDJSON log and reports all read it;
 * nothing else in the harness prints.
 */
import type { VariantResult } from "./report.js";

/** The named steps of one variant, in order. */
export type VariantStep = "up" | "ready" | "baseline" | "timeline" | "collect" | "down" | "judge";

export type RunEvent =
  | { kind: "prepare"; message: string }
  | { kind: "scenario.start"; scenario: string; file: string; variants: string[] }
  | { kind: "variant.start"; scenario: string; variant: string }
  | {
      kind: "topology.up";
      scenario: string;
      variant: string;
      nodes: number;
      networks: number;
      ms: number;
    }
  | {
      kind: "traffic.start";
      scenario: string;
      variant: string;
      node: string;
      target: string;
      connections: number;
    }
  | {
      kind: "traffic.done";
      scenario: string;
      variant: string;
      node: string;
      attempts: number;
      ms: number;
    }
  | {
      kind: "fault.applied";
      scenario: string;
      variant: string;
      atMs: number;
      target: string;
      action: string;
    }
  | { kind: "topology.down"; scenario: string; variant: string; ms: number }
  | { kind: "variant.step"; scenario: string; variant: string; step: VariantStep; ms: number }
  | { kind: "variant.done"; scenario: string; result: VariantResult }
  | { kind: "warning"; message: string };

export type EventSink = (event: RunEvent) => void;
