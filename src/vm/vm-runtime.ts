/**
 * The VM runtime: the netns runtime's topology, built inside a VM booted on the kernel under
 * test. One VM per kernel per run, booted in `prepare` and powered off by `close`; every
 * variant's namespaces are made inside it through the guest agent, so the boot is paid once.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CachedKernel } from "../kernels/cache.js";
import { customKernel } from "../kernels/fetch.js";
import { prepareKernel } from "../kernels/resolve.js";
import { checkBeforeBoot, formatCheck } from "../kernels/check.js";
import { withVmlinux } from "../kernels/vmlinux.js";
import { counterNames } from "../runtime/shared/host-inventory.js";
import { AGENT_BINARY, buildAgent } from "../runtime/shared/agent.js";
import { type HostExecutor, runOn } from "../runtime/netns/host.js";
import { NetnsRuntime } from "../runtime/netns/netns-runtime.js";
import type {
  CleanResult,
  KernelInventory,
  Runtime,
  RuntimeCapabilities,
  StartedTopology,
  TopologyPlan,
} from "../runtime/runtime.js";
import { type GuestDropTracer, GuestDropTracers, guestNoDropReasons } from "./drops.js";
import { clockOffsetUs, syncClock } from "./clock.js";
import { buildGuest, cleanVms, Vm } from "./qemu.js";
import {
  type AccelDecision,
  type AccelRequest,
  accelRequested,
  bootWithAccel,
  describeAccel,
  SPEED_LOOP,
  vmCpus,
} from "./accel.js";
import { randomBytes } from "node:crypto";

/**
 * A kernel to boot: a name (`resolveKernel`: Debian's version or one of `kernels add`), or a
 * user's own image and modules given on the command line.
 */
export type KernelSpec = { version: string } | { image: string; modules: string };

export function kernelLabel(spec: KernelSpec): string {
  return "version" in spec ? spec.version : spec.modules.replace(/\/+$/, "").split("/").pop()!;
}

export class VmRuntime implements Runtime {
  /** `vm:6.1`; once booted `vm:6.1/tcg` or `vm:6.1/kvm`, which is how reports name the accelerator. */
  name: string;
  readonly capabilities: RuntimeCapabilities;
  private vm: Vm | undefined;
  private inner: NetnsRuntime | undefined;
  private cached: CachedKernel | undefined;
  private say: ((message: string) => void) | undefined;
  private inventoryRead: Promise<KernelInventory> | undefined;
  private tracers: GuestDropTracers | undefined;
  /** Topologies share the VM's kernel; one with kernel-wide sysctls has it alone. */
  private readonly kernelUse = new SharedOrExclusive();
  /** Milliseconds from QEMU's start to the guest agent's first answer (a failed KVM probe included). */
  bootMs: number | undefined;
  /** The accelerator the VM runs under, and how it was chosen (accel.ts). */
  accel: AccelDecision | undefined;
  /** Asked for by the option or TCPREPRO_ACCEL, checked here: bad input fails before any boot. */
  private readonly accelRequest: AccelRequest;

  constructor(
    readonly spec: KernelSpec,
    private readonly options: {
      pool?: string;
      pool6?: string;
      accel?: AccelRequest;
      /** This VM's share of the machine's cores (vmCpus). @default 1 */
      cores?: number;
    } = {},
  ) {
    this.name = `vm:${kernelLabel(spec)}`;
    const share = options.cores ?? 1;
    const cpus = vmCpus(share);
    this.capabilities = {
      userImages: { reason: "the vm runtime runs no container images (use --runtime docker)" },
      pause: "sigstop",
      // Traced in the guest's own tracefs (traceDrops), not the host's.
      dropReasons: true,
      ownsKernel: true,
      // Variants side by side in the one VM (each its own namespaces, names and addresses):
      // two per vCPU, as on the host (`--parallel auto` packs by these).
      maxParallel: 2 * cpus,
      cpus,
      // Two per core of its share: four VMs on 2 cores run one variant at a time each (the VM's
      // vCPU idles ~60 % of a serial catalog, so four serial VMs fit where two VMs of two did not).
      autoParallel: Math.max(1, Math.min(2 * cpus, Math.floor(2 * share))),
      // Six reads per node per sample, ~0.5 ms of the guest's kernel each under TCG: at 100 ms the
      // samples were a quarter of what the catalog cost the guest (measured on 6.1).
      sampleEveryMs: 250,
    };
    this.accelRequest = accelRequested(options.accel);
  }

  async kernel(): Promise<string> {
    return this.started().kernel.release;
  }

  private started(): Vm {
    if (!this.vm) throw new Error(`${this.name}: prepare() boots the VM first`);
    return this.vm;
  }

  async prepare(progress: (message: string) => void): Promise<void> {
    if (this.vm) return;
    const say = (m: string) => progress(`${this.name}: ${m}`);
    this.say = say;
    this.cached = withVmlinux(
      "version" in this.spec
        ? await prepareKernel(this.spec.version, say)
        : await customKernel(this.spec.image, this.spec.modules, say),
    );
    // What the kernel lacks, from its config or module lists, before QEMU starts.
    const check = checkBeforeBoot(
      this.cached.own?.image ?? this.cached.vmlinuz,
      this.cached.modules,
    );
    if (check.fatal) throw new Error(formatCheck(check, `kernel ${this.cached.version}`).trimEnd());
    for (const f of check.features.filter((x) => x.status === "missing"))
      say(
        `lacks ${f.id} (${f.missing.join(", ")}): scenarios that need it will not run; see \`tcprepro kernels check ${this.cached.version}\``,
      );
    await buildAgent(say);
    await buildGuest(say);
    const t0 = performance.now();
    say(`booting ${this.cached.release}`);
    const kernel = this.cached;
    const { vm, decision } = await bootWithAccel(
      this.accelRequest,
      {
        boot: (accel, deadlineMs) =>
          Vm.boot(
            kernel,
            `${randomBytes(3).toString("hex")}-${kernelLabel(this.spec)}`,
            accel,
            deadlineMs,
            this.capabilities.cpus,
          ),
        speed: async (booted) => {
          const t = performance.now();
          const r = await runOn(booted.channel, ["sh", "-c", SPEED_LOOP]);
          if (r.code !== 0)
            throw new Error(`the guest did not run the speed check: ${r.stderr.trim()}`);
          return performance.now() - t;
        },
        stop: (booted) => booted.stop(),
      },
      say,
    );
    this.vm = vm;
    this.accel = decision;
    this.name = `vm:${kernelLabel(this.spec)}/${decision.accel}`;
    this.bootMs = Math.round(performance.now() - t0);
    say(`up in ${(this.bootMs / 1000).toFixed(1)} s under ${describeAccel(decision)}`);
    const clock = await syncClock(this.vm.channel);
    say(
      `guest clock set to the host's (it was ${clock.beforeMs.toFixed(0)} ms off; now within ${clock.afterMs.toFixed(1)} ms)`,
    );
    await warmUp(this.vm);
    this.inner = new NetnsRuntime({
      pool: this.options.pool,
      pool6: this.options.pool6,
      // The guest sees the host read-only already (9p): its nodes need no mount namespace each.
      host: { exec: this.vm.channel, agentBinary: AGENT_BINARY, state: false, isolateNodes: false },
    });
  }

  inventory(): Promise<KernelInventory> {
    return (this.inventoryRead ??= readInventory(this.started(), this.cached!));
  }

  /** Any variant's drops: the guest's trace instances are reused, not named by run. */
  async traceDrops(_runId: string, ipv6 = false): Promise<GuestDropTracer | string> {
    const { noDropReasons } = await this.inventory();
    if (noDropReasons) return `drop reasons not recorded: ${noDropReasons}`;
    this.tracers ??= new GuestDropTracers(this.started().channel, this.cached!.release);
    return this.tracers.start(ipv6);
  }

  async up(plan: TopologyPlan): Promise<StartedTopology> {
    const inner = this.inner;
    if (!inner) throw new Error(`${this.name}: prepare() boots the VM first`);
    const sysctls = plan.kernelSysctls ?? {};
    // Kernel-wide knobs change every topology in this VM: such a topology runs alone.
    const release = await this.kernelUse.acquire(Object.keys(sysctls).length > 0);
    let restore: Record<string, string> = {};
    try {
      restore = await setKernelSysctls(this.started().channel, sysctls);
      const topology = await inner.up(plan);
      const down = topology.down.bind(topology);
      let released = false;
      topology.down = async () => {
        await down();
        if (released) return;
        released = true;
        await setKernelSysctls(this.started().channel, restore).catch(() => undefined);
        release();
      };
      return topology;
    } catch (err) {
      await setKernelSysctls(this.started().channel, restore).catch(() => undefined);
      release();
      throw err;
    }
  }

  async remove(runId: string): Promise<void> {
    await this.inner?.remove(runId);
  }

  async clean({ all }: { all: boolean }): Promise<CleanResult> {
    return { nodes: 0, networks: 0, other: await cleanVms(all) };
  }

  /** Power the VM off. */
  async close(): Promise<void> {
    // How far the guest's clock wandered from the host's over the run (set once, at boot).
    if (this.vm && this.say) {
      const drift = await clockOffsetUs(() => this.vm!.channel.clock(0), 3).catch(() => undefined);
      if (drift !== undefined)
        this.say(`guest clock ${(drift / 1000).toFixed(1)} ms off the host's at the end`);
    }
    await this.vm?.stop();
  }

  /** QEMU's resident memory now, in MB (for the bench). */
  rssMb(): number | undefined {
    if (!this.vm) return undefined;
    try {
      const status = readFileSync(`/proc/${this.vm.qemuPid}/status`, "utf8");
      return Math.round(Number(/VmRSS:\s*(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      return undefined;
    }
  }
}

/** Modules the catalog's steps load on first use (links, netfilter, conntrack, netem). */
const WARM_MODULES = [
  "veth",
  "bridge",
  "nf_tables",
  "nft_compat",
  "nft_chain_nat",
  "nf_conntrack",
  "nf_nat",
  "xt_tcpudp",
  "xt_conntrack",
  "xt_MASQUERADE",
  "xt_LOG",
  "xt_state",
  "xt_statistic",
  "iptable_filter",
  "iptable_nat",
  "sch_netem",
];

/**
 * Every file a step needs crosses 9p the first time, and the first iptables rule loads a dozen
 * modules: under emulation that is seconds, enough to make a fault land after the traffic it
 * should precede. Load the modules and touch the tools once, before any variant's clock starts.
 */
async function warmUp(vm: Vm): Promise<void> {
  await runOn(vm.channel, ["modprobe", "-a", ...WARM_MODULES]);
  await runOn(vm.channel, [
    "sh",
    "-c",
    "iptables -w -L -n; iptables -w -t nat -L -n; ss -V; tcpdump --version; hping3 -v; sysctl -V; ip -V",
  ]);
}

/**
 * The guest kernel's own names: counters from its /proc/net (nf_conntrack loaded first, so its
 * statistics exist as they would once a scenario's rules load it), every sysctl under
 * /proc/sys, and the qdiscs its module tree has.
 */
async function readInventory(vm: Vm, kernel: CachedKernel): Promise<KernelInventory> {
  const ch = vm.channel;
  await runOn(ch, ["modprobe", "-a", "nf_conntrack", "sch_netem"]);
  const read = async (p: string) => (await ch.readFile(p))?.toString() ?? "";
  const [netstat, snmp, conntrack, sysctls, netnsSysctls, snmp6] = await Promise.all([
    read("/proc/net/netstat"),
    read("/proc/net/snmp"),
    read("/proc/net/stat/nf_conntrack"),
    runOn(ch, ["find", "/proc/sys", "-type", "f"]),
    // What a node can set: /proc/sys/net seen from a fresh network namespace. Older kernels
    // keep some net.* knobs in the initial namespace only (4.11: tcp_abort_on_overflow).
    runOn(ch, ["unshare", "-n", "find", "/proc/sys/net", "-type", "f"]),
    read("/proc/net/snmp6"),
  ]);
  const namesOf = (out: string) =>
    new Set(
      out
        .split("\n")
        .filter(Boolean)
        .map((p) => p.slice("/proc/sys/".length).replaceAll("/", ".")),
    );
  const names = namesOf(sysctls.stdout);
  const inNetns = netnsSysctls.code === 0 ? namesOf(netnsSysctls.stdout) : undefined;
  const noDropReasons = await guestNoDropReasons(ch, kernel.release);
  return {
    release: kernel.release,
    counters: counterNames(netstat, snmp, conntrack, snmp6),
    sysctlExists: (name) => names.has(name.replaceAll("/", ".")),
    ...(inNetns
      ? {
          sysctlPerNetns: (name: string) => {
            const n = name.replaceAll("/", ".");
            return n.startsWith("net.") ? inNetns.has(n) : names.has(n);
          },
        }
      : {}),
    qdiscs: qdiscsOf(kernel.modules),
    ...(noDropReasons ? { noDropReasons } : {}),
  };
}

/** `sch_netem.ko…` in modules.dep or modules.builtin → `netem`. */
export function qdiscsOf(modules: string): Set<string> {
  const text = ["modules.dep", "modules.builtin"]
    .map((f) => {
      try {
        return readFileSync(join(modules, f), "utf8");
      } catch {
        return "";
      }
    })
    .join("\n");
  return new Set([...text.matchAll(/\/sch_(\w+)\.ko/g)].map((m) => m[1]!));
}

/** Set sysctls in the guest's initial namespace; returns the values they had, to restore. */
async function setKernelSysctls(
  exec: HostExecutor,
  sysctls: Record<string, string>,
): Promise<Record<string, string>> {
  const before: Record<string, string> = {};
  for (const [name, value] of Object.entries(sysctls)) {
    const old = await runOn(exec, ["sysctl", "-n", name]);
    if (old.code !== 0) throw new Error(`kernelSysctls: ${name}: ${old.stderr.trim()}`);
    before[name] = old.stdout.trim();
    const set = await runOn(exec, ["sysctl", "-w", `${name}=${value}`]);
    if (set.code !== 0) throw new Error(`kernelSysctls: ${name}=${value}: ${set.stderr.trim()}`);
  }
  return before;
}

/** Many shared holders at once, or one exclusive holder alone; waiters are served in order. */
class SharedOrExclusive {
  private shared = 0;
  private exclusive = false;
  private readonly queue: { exclusive: boolean; go: () => void }[] = [];

  /** Resolves with the release once the hold is granted. */
  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.queue.push({
        exclusive,
        go: () => {
          let done = false;
          resolve(() => {
            if (done) return;
            done = true;
            if (exclusive) this.exclusive = false;
            else this.shared--;
            this.pump();
          });
        },
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.exclusive) {
      const next = this.queue[0]!;
      if (next.exclusive ? this.shared > 0 : false) return;
      this.queue.shift();
      if (next.exclusive) this.exclusive = true;
      else this.shared++;
      next.go();
    }
  }
}
