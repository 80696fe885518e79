/**
 * A variant's running state: one object that its steps (up, ready, baseline, timeline, collect,
 * down) share. Whatever a step starts — the topology, the captures, the drop-reason tracer, the
 * counter sampler, a traffic generator — it registers here with how to stop it, and `stop()`
 * stops all of it, newest first, once, on every path: a pass, a failed step, a deadline,
 * Ctrl-C. A step that stops something itself on the good path (collect stops the sampler to
 * read it) leaves the registered stop a no-op.
 *
 * This file imports no step, so the steps can import it without a cycle.
 */
import { randomBytes } from "node:crypto";
import type { DropReasons } from "../model/evidence.js";
import type { NodeCapture } from "../evidence/capture.js";
import type { TimelineSampler } from "../evidence/timeline.js";
import type { Attempt, Counters } from "../evidence/types.js";
import type { EventSink } from "../report/events.js";
import type {
  KernelInventory,
  NodeProcess,
  Runtime,
  StartedTopology,
  TopologyPlan,
} from "../runtime/runtime.js";
import type { Variant } from "../scenario/load.js";
import type { Scenario } from "../scenario/schema.js";
import type { NodeInstance } from "./plan.js";

export interface VariantContext {
  runtime: Runtime;
  kernel: KernelInventory;
  emit: EventSink;
  scenario: string;
  /** Capture every node's packets, not only those with `capture: true`. */
  captureAll?: boolean;
  /** Where captures are kept: `<dir>/<scenario>/<variant>/<node>.pcap`. */
  capturesDir?: string;
  /** Bounds of the variant's steps; tests shorten them. */
  limits?: Partial<VariantLimits>;
}

export interface VariantLimits {
  /** Bound on the topology's `up`. */
  upMs: number;
  /** Bound on making node images (apt downloads, builds) when they are not cached. */
  imagesMs: number;
  /** Slack past the scenario's own `timeout` for ready → collect. */
  marginMs: number;
  /** How long an interrupt lets a half-done `up` settle before sweeping the run by label. */
  interruptUpMs: number;
}

export const DEFAULT_LIMITS: VariantLimits = {
  upMs: 60_000,
  imagesMs: 600_000,
  marginMs: 30_000,
  interruptUpMs: 15_000,
};

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

/** The drop-reason tracer of a variant (its registered stop), or why there is none. */
export type Tracer = { stop(): Promise<DropReasons> } | string;

/** What the `ready` step made: the apps listening, the captures and the tracer running. */
export interface Readiness {
  /** The app process of each scenario node (by its scenario name) that runs the built-in app. */
  apps: Map<string, NodeProcess>;
  /** The app's port, by node instance name. */
  appPorts: Map<string, number>;
  captures: Map<string, NodeCapture>;
}

/** What the timeline step leaves for collect. */
export interface Played {
  attempts: Attempt[];
  /** The part the scenario itself asks for: traffic, faults, settle. */
  timelineMs: number;
  dropReasons: DropReasons;
}

export class VariantState {
  readonly scenario: Scenario;
  readonly limits: VariantLimits;
  /** Aborted by a deadline, an interrupt or a failed step: the timeline stops at once. */
  private readonly aborter = new AbortController();
  private readonly stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  private stopped: Promise<void> | undefined;

  plan: TopologyPlan;
  topology: StartedTopology | undefined;
  readiness: Readiness | undefined;
  tracer: Tracer | undefined;
  sampler: TimelineSampler | undefined;
  /** Counters of every node before the timeline. */
  before: Map<string, Counters> | undefined;
  played: Played | undefined;

  constructor(
    readonly ctx: VariantContext,
    readonly variant: Variant,
    planned: { plan: TopologyPlan; instances: NodeInstance[] },
  ) {
    this.scenario = variant.scenario;
    this.plan = planned.plan;
    this.instances = planned.instances;
    this.limits = { ...DEFAULT_LIMITS, ...ctx.limits };
  }

  readonly instances: NodeInstance[];

  get name(): string {
    return this.variant.name;
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /** The started topology; a step after `up` may rely on it. */
  get topo(): StartedTopology {
    if (!this.topology) throw new Error("internal: a step ran before the topology was up");
    return this.topology;
  }

  get ready(): Readiness {
    if (!this.readiness) throw new Error("internal: a step ran before the nodes were ready");
    return this.readiness;
  }

  /** Where this variant's events are tagged. */
  get where(): { scenario: string; variant: string } {
    return { scenario: this.ctx.scenario, variant: this.variant.name };
  }

  /** Stop whatever runs (the timeline's steps see the signal): a deadline, Ctrl-C, a failure. */
  abort(reason: unknown): void {
    if (!this.aborter.signal.aborted) this.aborter.abort(reason);
  }

  /**
   * Register something a step started, with how to stop it (idempotent: it runs once). Started
   * after `stop()` began (a step that outran a deadline), it is stopped at once.
   */
  own<T>(what: string, stop: () => T | Promise<T>): () => Promise<T> {
    const once = onceAsync(async () => stop());
    if (this.stopped) void once().catch(() => undefined);
    else this.stops.push({ what, stop: async () => void (await once()) });
    return once;
  }

  /** What is registered and not yet stopped, oldest first (for tests and messages). */
  get running(): string[] {
    return this.stops.map((s) => s.what);
  }

  /** Stop everything started, newest first; errors are swallowed (teardown goes on). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.abort(new Error("the variant is over"));
      while (this.stops.length > 0) {
        const { stop } = this.stops.pop()!;
        await stop().catch(() => undefined);
      }
    })();
    return this.stopped;
  }
}

/** `fn`, run at most once; later calls get the first call's promise. */
export function onceAsync<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
