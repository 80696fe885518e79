/**
 * Which accelerator a VM boots under: KVM where it works, QEMU's emulation (TCG) where it does
 * not. `/dev/kvm` existing proves little: on shared cloud machines it is often a nested,
 * paravirtual KVM that QEMU 10 cannot use for these kernels (measured on this project's
 * machines: `-cpu host` or `-cpu max` abort at once on "failed to set MSR 0x10a"; `-cpu qemu64`
 * stops after SeaBIOS's "Booting from ROM.."; an earlier one ran 8× slower than emulation). So
 * `auto` boots the first kernel under KVM with a short deadline and times a fixed piece of work
 * in the guest; a KVM that aborts, stalls or crawls is replaced by TCG, and the decision is kept
 * per host (host kernel, QEMU binary, /dev/kvm, KVM CPU model) in the kernel cache, so the probe
 * is paid once. A probe that succeeds is the run's own boot: it costs nothing.
 */
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { cacheDir } from "../kernels/cache.js";
import { QEMU } from "../kernels/fetch.js";
import { UsageError } from "../util/errors.js";

export type Accel = "kvm" | "tcg";
export type AccelRequest = "auto" | Accel;

/** A KVM boot that has not reached the guest agent by then stalls: TCG boots in 3–5 s here. */
export const PROBE_DEADLINE_MS = 6_000;
/**
 * The speed check: the guest's shell counts to LOOP_COUNT. Under TCG on this project's 2-core
 * machine that took ~SPEED_TCG_MS; native speed is >10× faster. A KVM slower than half of
 * emulation is no gain, whatever its cause.
 */
export const SPEED_LOOP = "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done";
export const SPEED_LIMIT_MS = 1_500;

/** `--accel` for commands that boot VMs: `.option(...ACCEL_OPTION)`. */
export const ACCEL_OPTION = [
  "--accel <mode>",
  "VM accelerator: auto (KVM if a probe shows it works here, decided once per host), kvm, tcg (also TCPREPRO_ACCEL)",
  parseAccel,
] as const;

export function parseAccel(value: string, what = "--accel"): AccelRequest {
  if (value === "auto" || value === "kvm" || value === "tcg") return value;
  throw new UsageError(`${what}: "${value}" is not one of auto, kvm, tcg`);
}

/** What the user asked for: the flag, else TCPREPRO_ACCEL, else auto. */
export function accelRequested(flag?: AccelRequest): AccelRequest {
  if (flag) return flag;
  const env = process.env.TCPREPRO_ACCEL;
  return env ? parseAccel(env, "TCPREPRO_ACCEL") : "auto";
}

/** The CPU model QEMU gets with KVM (`TCPREPRO_KVM_CPU`, default the host's own). */
export function kvmCpu(): string {
  return process.env.TCPREPRO_KVM_CPU ?? "host";
}

/**
 * vCPUs per VM: `TCPREPRO_VM_CPUS` (1–8), else the VM's share of this machine's cores (the
 * cores over the VMs that run at once), at least 1, at most 4. Measured on 2 cores (BENCHMARKS.md
 * section 6, part 3): one VM of 2 vCPUs under multi-threaded TCG ran the 6.1 catalog in 97 s,
 * against 159 s on one vCPU with three variants side by side; two VMs of 2 vCPUs each (four vCPU
 * threads on 2 cores) moved three verdicts, four VMs of one vCPU each none.
 */
export function vmCpus(share = 1): number {
  const env = process.env.TCPREPRO_VM_CPUS;
  if (!env) return Math.max(1, Math.min(4, Math.floor(share)));
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 8)
    throw new UsageError(`TCPREPRO_VM_CPUS: "${env}" is not a whole number from 1 to 8`);
  return n;
}

/**
 * TCG's CPU: `max` (every feature QEMU can emulate) without ERMS and FSRM. With them a kernel
 * clears and copies pages with `rep stosb`/`rep movsb`, which TCG runs a byte at a time: an
 * exec of /bin/true in a 5.10 guest took 42–62 ms with them and 15 ms without (6.1: 15 → 14 ms,
 * 7.2: 20 → 19 ms); only the kernel's memcpy strategy changes, nothing TCP does.
 */
export const TCG_CPU = "max,erms=off,fsrm=off";

/**
 * QEMU's accelerator, CPU and SMP arguments. TCG's CPU is TCG_CPU;
 * with more than one vCPU, TCG runs one host thread per vCPU (`thread=multi`).
 */
export function qemuAccelArgs(accel: Accel, cpus: number): string[] {
  const smp = ["-smp", String(cpus)];
  if (accel === "kvm") return ["-accel", "kvm", "-cpu", kvmCpu(), ...smp];
  return ["-accel", cpus > 1 ? "tcg,thread=multi" : "tcg", "-cpu", TCG_CPU, ...smp];
}

/** How the accelerator was chosen, for messages, reports and doctor. */
export interface AccelDecision {
  accel: Accel;
  /** forced (--accel/TCPREPRO_ACCEL), probe (measured now), cache (measured before), no-kvm. */
  source: "forced" | "probe" | "cache" | "no-kvm";
  /** Why this accelerator: the probe's finding. */
  why: string;
  /** What the KVM attempt cost when it failed (it is the run's own boot when it works). */
  probeMs?: number;
  decidedAt?: string;
}

/** Why KVM cannot even be tried here; undefined when /dev/kvm is there and ours to open. */
export function kvmUnavailable(): string | undefined {
  if (!existsSync("/dev/kvm")) return "no /dev/kvm";
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return undefined;
  } catch {
    return "/dev/kvm is not ours to open (add the user to the kvm group)";
  }
}

/**
 * What the decision depends on, without starting a process: the host kernel, QEMU's binary
 * (its size and time stand for its version: a `--version` fork would be a cost on every run),
 * /dev/kvm, and the CPU model KVM is tried with.
 */
export function hostKey(): string {
  let qemu = QEMU;
  const path = QEMU.includes("/")
    ? QEMU
    : (process.env.PATH ?? "/usr/bin:/bin")
        .split(":")
        .map((dir) => join(dir, QEMU))
        .find((p) => existsSync(p));
  try {
    const s = statSync(path ?? QEMU);
    qemu = `${path}:${s.size}:${Math.round(s.mtimeMs)}`;
  } catch {
    // no QEMU: booting will say so
  }
  return `${release()}|${qemu}|kvm:${existsSync("/dev/kvm")}|cpu:${kvmCpu()}`;
}

export const accelCachePath = (): string => join(cacheDir(), "accel.json");

type CacheFile = Record<string, Omit<AccelDecision, "source">>;

function readCache(): CacheFile {
  try {
    return JSON.parse(readFileSync(accelCachePath(), "utf8")) as CacheFile;
  } catch {
    return {};
  }
}

/** The decision kept for this host, if any. */
export function cachedAccel(): AccelDecision | undefined {
  const hit = readCache()[hostKey()];
  return hit ? { ...hit, source: "cache" } : undefined;
}

export function recordAccel(d: AccelDecision): void {
  const { source: _source, ...kept } = d;
  try {
    writeFileSync(accelCachePath(), JSON.stringify({ ...readCache(), [hostKey()]: kept }, null, 2));
  } catch {
    // a read-only cache: the probe is paid again next time, nothing worse
  }
}

/** A boot under one accelerator; `deadlineMs` bounds the time to the guest agent's answer. */
export interface Booter<T> {
  boot(accel: Accel, deadlineMs?: number): Promise<T>;
  /** Milliseconds the guest took for SPEED_LOOP. */
  speed(vm: T): Promise<number>;
  stop(vm: T): Promise<void>;
}

/**
 * Boot under the requested accelerator. `auto`: the cached decision, or a KVM boot with a
 * deadline and a speed check, falling back to TCG (and remembering either outcome).
 */
export async function bootWithAccel<T>(
  request: AccelRequest,
  booter: Booter<T>,
  say: (m: string) => void,
  kvmMissing: () => string | undefined = kvmUnavailable,
): Promise<{ vm: T; decision: AccelDecision }> {
  if (request !== "auto") {
    const decision: AccelDecision = {
      accel: request,
      source: "forced",
      why: `--accel ${request} (or TCPREPRO_ACCEL)`,
    };
    try {
      return { vm: await booter.boot(request), decision };
    } catch (err) {
      if (request !== "kvm") throw err;
      throw new Error(
        `${(err as Error).message}\n(KVM was forced by --accel kvm or TCPREPRO_ACCEL=kvm: auto falls back to emulation, tcg uses it)`,
      );
    }
  }
  const missing = kvmMissing();
  if (missing) return { vm: await booter.boot("tcg"), decision: tcg("no-kvm", missing) };
  const cached = cachedAccel();
  if (cached?.accel === "tcg") return { vm: await booter.boot("tcg"), decision: cached };
  if (cached?.accel === "kvm") {
    try {
      // Twice the probe's deadline: a healthy KVM boots in about a second even on a loaded host.
      return { vm: await booter.boot("kvm", 2 * PROBE_DEADLINE_MS), decision: cached };
    } catch (err) {
      // It worked before and does not now: probe afresh below rather than trust the cache.
      say(`KVM worked here before and failed now (${firstLine(err)}): probing again`);
    }
  }
  const t0 = performance.now();
  let finding: string;
  try {
    const vm = await booter.boot("kvm", PROBE_DEADLINE_MS);
    const ms = await booter.speed(vm);
    if (ms <= SPEED_LIMIT_MS) {
      const decision: AccelDecision = {
        accel: "kvm",
        source: "probe",
        why: `a KVM boot answered within ${PROBE_DEADLINE_MS / 1000} s and ran the speed check in ${Math.round(ms)} ms`,
        decidedAt: new Date().toISOString(),
      };
      recordAccel(decision);
      return { vm, decision };
    }
    await booter.stop(vm);
    finding = `KVM crawls: the speed check took ${Math.round(ms)} ms (limit ${SPEED_LIMIT_MS} ms)`;
  } catch (err) {
    const reason = firstLine(err);
    finding = /did not answer/.test(reason)
      ? `KVM stalled: no answer from the guest within ${PROBE_DEADLINE_MS / 1000} s`
      : `KVM failed: ${reason}`;
  }
  const decision: AccelDecision = {
    ...tcg("probe", finding),
    probeMs: Math.round(performance.now() - t0),
    decidedAt: new Date().toISOString(),
  };
  recordAccel(decision);
  say(
    `${finding}; falling back to TCG (emulation) after ${(decision.probeMs! / 1000).toFixed(1)} s, remembered in ${accelCachePath()} (TCPREPRO_ACCEL=kvm|tcg forces one)`,
  );
  return { vm: await booter.boot("tcg"), decision };
}

function tcg(source: AccelDecision["source"], why: string): AccelDecision {
  return { accel: "tcg", source, why };
}

/** QEMU's reason, not its whole stderr (the MSR abort adds an assertion line after it). */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const msr = /failed to set MSR[^\n]*/.exec(text)?.[0];
  return (msr ?? text.split("\n")[0]!).trim();
}

/** One line: which accelerator, and how it was chosen. */
export function describeAccel(d: AccelDecision): string {
  const how = {
    forced: "forced",
    probe: "probed now",
    cache: `decided ${d.decidedAt?.slice(0, 10) ?? "before"}`,
    "no-kvm": "no KVM",
  }[d.source];
  return `${d.accel.toUpperCase()} (${how}: ${d.why})`;
}

/** What VMs will run under here, without booting one (for `doctor`). */
export function accelOutlook(): string {
  const request = accelRequested();
  if (request !== "auto") return `${request.toUpperCase()} (forced by TCPREPRO_ACCEL)`;
  const missing = kvmUnavailable();
  if (missing) return `TCG (no KVM: ${missing})`;
  const cached = cachedAccel();
  if (cached) return describeAccel(cached);
  return `not decided yet: the first VM boot tries KVM (deadline ${PROBE_DEADLINE_MS / 1000} s, then a speed check) and keeps the outcome in ${accelCachePath()}`;
}
