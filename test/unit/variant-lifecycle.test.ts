/**
 * The variant lifecycle against a fake runtime: whatever a variant started (topology, app,
 * generators, captures, tracer) is stopped on every path — a failed `up`, a failed step, a
 * deadline, an interrupt — and the failure is an ERROR verdict, never a crash. The fake stands
 * in for the engine only; the kernel's behaviour is tested by the integration tests.
 */
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../src/engine/load.js";
import { runVariant } from "../../src/run/run-variant.js";
import { TimedSteps } from "../../src/run/timed-steps.js";
import type { RunEvent } from "../../src/report/events.js";
import type {
  KernelInventory,
  NodeProcess,
  Runtime,
  StartedNode,
  StartedTopology,
  TopologyPlan,
} from "../../src/runtime/runtime.js";
import type { Variant } from "../../src/scenario/load.js";
import { ExecError } from "../../src/util/errors.js";
import { runCleanups } from "../../src/util/interrupts.js";

const timersNow = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FakeOptions {
  /** `up` rejects after making half of its objects. */
  failUp?: boolean;
  /** How long a generator takes to spawn (the race: a fault failing meanwhile). */
  spawnConnectMs?: number;
  /** Generators never finish on their own (a deadline, an interrupt). */
  hangConnect?: boolean;
}

/** A runtime whose objects are names in `live`: what was started and not yet stopped. */
class FakeRuntime implements Runtime {
  readonly name = "fake";
  readonly capabilities = {
    userImages: true as const,
    pause: "freeze" as const,
    dropReasons: true,
    ownsKernel: false,
    maxParallel: 4,
  };
  readonly live = new Set<string>();
  readonly removed: string[] = [];
  constructor(private readonly o: FakeOptions = {}) {}

  async inventory(): Promise<KernelInventory> {
    return KERNEL;
  }
  async prepare(): Promise<void> {}
  async close(): Promise<void> {}
  async traceDrops(runId: string) {
    this.live.add(`tracer ${runId}`);
    return {
      stop: async () => {
        this.live.delete(`tracer ${runId}`);
        return { counts: {}, note: "fake" };
      },
    };
  }
  async remove(runId: string): Promise<void> {
    this.removed.push(runId);
    for (const x of this.live) if (x.includes(runId)) this.live.delete(x);
  }
  async clean() {
    return { nodes: 0, networks: 0, other: 0 };
  }

  async up(plan: TopologyPlan): Promise<StartedTopology> {
    const runId = plan.runId;
    this.live.add(`network ${runId}`);
    await sleep(5);
    if (this.o.failUp) throw new Error("fake: the engine refused the second node");
    const procs = new Set<() => void>();
    const nodes = new Map<string, StartedNode>();
    plan.nodes.forEach((n, i) => {
      this.live.add(`node ${runId}/${n.name}`);
      nodes.set(n.name, this.node(runId, n.name, `198.18.0.${i + 2}`, procs));
    });
    return {
      runId,
      nodes,
      subnets: { wan: "198.18.0.0/24" },
      down: async () => {
        for (const kill of procs) kill();
        for (const x of this.live)
          if (x.includes(runId) && !x.startsWith("tracer")) this.live.delete(x);
      },
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  private node(runId: string, name: string, ip: string, procs: Set<() => void>): StartedNode {
    const o = this.o;
    const live = this.live;
    return {
      name,
      addresses: { wan: ip },
      async exec(argv) {
        await sleep(2);
        if (argv[0] === "iptables" && argv.includes("nosuchmatch"))
          throw new ExecError(argv, 2, "Couldn't load match `nosuchmatch'", name);
        return { stdout: "", stderr: "" };
      },
      async spawn(argv) {
        const what = argv[1] === "serve" || argv[1] === "connect" ? argv[1] : argv[0]!;
        if (what === "connect") await sleep(o.spawnConnectMs ?? 0);
        const id = `process ${runId}/${name}/${what}`;
        live.add(id);
        const listeners: Array<(l: string) => void> = [];
        let stderr = "";
        let end!: (code: number | null) => void;
        const exited = new Promise<number | null>((r) => (end = r));
        const exit = (code: number | null) => {
          live.delete(id);
          procs.delete(kill);
          end(code);
        };
        const kill = () => exit(null);
        procs.add(kill);
        const say = (l: string) => listeners.forEach((f) => f(l));
        setTimeout(() => {
          if (what === "serve") say('{"ev":"listening","port":8080,"backlog":128,"pid":1}');
          if (what === "tcpdump") stderr = "listening on any";
          if (what === "connect") {
            say(`{"ev":"start","epochMs":${Date.now()}}`);
            if (o.hangConnect) return;
            say(
              '{"ev":"attempt","i":0,"startUs":10,"outcome":"connected","phase":"done","connectUs":100}',
            );
            setTimeout(() => exit(0), 5);
          }
        }, 3);
        const proc: NodeProcess = {
          onLine: (l) => void listeners.push(l),
          exited,
          stderr: () => stderr,
          signal: async (sig) => {
            if (sig === "SIGKILL" || sig === "SIGINT") exit(sig === "SIGINT" ? 0 : null);
          },
        };
        return proc;
      },
      readProcNet: async () => undefined,
      readFile: async () => PCAP_HEADER,
      pause: async () => undefined,
      unpause: async () => undefined,
    };
  }
}

/** An empty capture: pcap's global header (LE, v2.4, snaplen 262144, LINKTYPE_LINUX_SLL). */
const PCAP_HEADER = Buffer.from(
  "d4c3b2a1020004000000000000000000000004007100000000",
  "hex",
).subarray(0, 24);

const KERNEL: KernelInventory = {
  release: "6.1.0-fake",
  sysctlExists: () => true,
  counters: new Set(),
  qdiscs: new Set(),
};

function variantOf(extra: Record<string, unknown> = {}): Variant {
  const loaded = loadScenario({
    name: "lifecycle",
    summary: "A fake run.",
    networks: ["wan"],
    nodes: {
      c: { networks: ["wan"] },
      s: { networks: ["wan"], app: { listen: 8080 }, capture: true },
    },
    traffic: [{ from: "c", to: "s:8080", at: "0s", connections: 1 }],
    expect: { clients: { connected: "== 1" } },
    ...extra,
  });
  return loaded.variants[0]!;
}

const FAILING_FAULT = {
  faults: [{ at: "0s", target: "s", iptables: ["-I", "INPUT", "-m", "nosuchmatch", "-j", "DROP"] }],
};

async function runOn(runtime: FakeRuntime, variant: Variant, onEvent?: (e: RunEvent) => void) {
  const events: RunEvent[] = [];
  const result = await runVariant(
    {
      runtime,
      kernel: KERNEL,
      scenario: "lifecycle",
      emit: (e) => {
        events.push(e);
        onEvent?.(e);
      },
      limits: { marginMs: 300, interruptUpMs: 60_000 },
    },
    variant,
  );
  return { result, events };
}

describe("the variant lifecycle on a fake runtime", () => {
  it("a healthy variant passes and leaves nothing", async () => {
    const rt = new FakeRuntime();
    const { result } = await runOn(rt, variantOf());
    expect(result.reason).toBe("1 expectation(s) met");
    expect(result.verdict).toBe("pass");
    expect([...rt.live]).toEqual([]);
  });

  it("a failed up: ERROR, and the run is swept by its label", async () => {
    const rt = new FakeRuntime({ failUp: true });
    const { result } = await runOn(rt, variantOf());
    expect(result.verdict).toBe("error");
    expect(result.reason).toMatch(/engine refused/);
    expect(rt.removed).toHaveLength(1);
    expect([...rt.live]).toEqual([]);
  });

  it("a failed fault while a generator is still spawning: ERROR, no unhandled rejection", async () => {
    // The generator comes up after the fault failed: before the fix nobody awaited it, and
    // its rejection crashed the process mid-teardown.
    for (const spawnConnectMs of [0, 20, 60]) {
      const rt = new FakeRuntime({ spawnConnectMs });
      const timers = timersNow();
      const { result } = await runOn(rt, variantOf(FAILING_FAULT));
      expect(result.verdict).toBe("error");
      expect(result.reason).toMatch(/nosuchmatch/);
      expect([...rt.live]).toEqual([]);
      // Nothing left to hold the process open either (a bound's timer kept the CLI 15 s); the
      // fake's own few-ms timers are let run out first.
      await sleep(50);
      expect(timersNow()).toBeLessThanOrEqual(timers);
    }
  });

  it("a deadline: ERROR naming it, generators and topology stopped", async () => {
    const rt = new FakeRuntime({ hangConnect: true });
    const traffic = [
      { from: "c", to: "s:8080", at: "0s", connections: 1, connectTimeout: "500ms" },
    ];
    const { result } = await runOn(rt, variantOf({ timeout: "1s", traffic }));
    expect(result.verdict).toBe("error");
    expect(result.reason).toMatch(/did not finish within 1300 ms/);
    expect([...rt.live]).toEqual([]);
  });

  it("an interrupt: the cleanup stops the timeline and takes everything down", async () => {
    const rt = new FakeRuntime({ hangConnect: true });
    let interrupted: Promise<void> | undefined;
    const { result } = await runOn(rt, variantOf(), (e) => {
      if (e.kind === "traffic.start") interrupted = runCleanups();
    });
    await interrupted;
    expect(result.verdict).toBe("error");
    expect(result.reason).toMatch(/interrupted/);
    expect([...rt.live]).toEqual([]);
  });
});

describe("TimedSteps", () => {
  it("awaits a step that was still starting when another failed", async () => {
    const steps = new TimedSteps(performance.now());
    let lateDone = false;
    const run = steps.run([
      {
        atMs: 0,
        begin: async (signal) => {
          await sleep(30);
          const done = (async () => {
            await sleep(5);
            lateDone = true;
            signal.throwIfAborted();
          })();
          return { done };
        },
      },
      {
        atMs: 0,
        begin: async () => {
          await sleep(5);
          throw new Error("the fault failed");
        },
      },
    ]);
    await expect(run).rejects.toThrow("the fault failed");
    expect(lateDone).toBe(true);
  });
});
