/**
 * One VM: a fetched kernel booted under QEMU (KVM where accel.ts found that it works, else TCG
 * emulation), no network device at all, the host's
 * `/` read-only over 9p, and the guest agent on a virtio-serial port. A state file beside the
 * netns runtime's names its owner and QEMU's PID, so `tcprepro clean` can end the VMs of runs
 * whose process is gone.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { runOnHost as run } from "../runtime/shared/host-command.js";
import { ownerIsAlive } from "../runtime/shared/liveness.js";
import { PROJECT_ROOT } from "../util/project.js";
import type { CachedKernel } from "../kernels/cache.js";
import { PORT_NAME } from "../kernels/initramfs.js";
import { QEMU } from "../kernels/fetch.js";
import { STATE_DIR } from "../runtime/netns/state.js";
import { onInterrupt } from "../util/interrupts.js";
import { sleep } from "../util/time.js";
import { GuestChannel } from "./channel.js";
import { type Accel, qemuAccelArgs } from "./accel.js";

export const GUEST_BINARY = join(PROJECT_ROOT, "build", "tcprepro-guest");
const GUEST_SOURCE = join(PROJECT_ROOT, "images", "agent", "tcprepro-guest.c");

/** How long a boot may take on a loaded machine before we call it failed. */
const BOOT_DEADLINE_MS = 120_000;
export const VM_MEMORY_MB = 512;

interface VmState {
  pid: number;
  host: string;
  qemuPid: number;
  dir: string;
}

/** The guest agent, static, compiled when its source is newer than the binary. */
export async function buildGuest(progress: (m: string) => void): Promise<void> {
  if (existsSync(GUEST_BINARY) && statSync(GUEST_BINARY).mtimeMs >= statSync(GUEST_SOURCE).mtimeMs)
    return;
  progress("compiling the guest agent (gcc -static)");
  mkdirSync(join(GUEST_BINARY, ".."), { recursive: true });
  await run(["gcc", "-O2", "-Wall", "-Wextra", "-static", "-o", GUEST_BINARY, GUEST_SOURCE]);
}

const statePath = (name: string) => join(STATE_DIR, `vm-${name}.json`);

export class Vm {
  readonly channel: GuestChannel;
  private exited = false;
  private readonly untrack: () => void;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly kernel: CachedKernel,
    readonly qemuPid: number,
    private readonly dir: string,
    exit: Promise<void>,
  ) {
    this.channel = new GuestChannel(`kernel ${kernel.version}`);
    void exit.then(() => {
      this.exited = true;
      this.channel.close(`kernel ${kernel.version}: the VM stopped (see ${this.consoleLog})`);
    });
    this.untrack = onInterrupt(() => this.stop());
  }

  get consoleLog(): string {
    return join(this.dir, "console.log");
  }

  /** Boots and waits for the guest agent's first answer. `name` is unique per run and kernel. */
  static async boot(
    kernel: CachedKernel,
    name: string,
    accel: Accel = "tcg",
    deadlineMs = BOOT_DEADLINE_MS,
    cpus = 1,
  ): Promise<Vm> {
    const dir = join(STATE_DIR, `vm-${name}`);
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, "guest.sock");
    rmSync(socket, { force: true });
    const args = [
      "-name",
      `tcprepro-${name}`,
      ...qemuAccelArgs(accel, cpus),
      "-m",
      String(VM_MEMORY_MB),
      "-nographic",
      "-no-reboot",
      "-nic",
      "none",
      "-monitor",
      "none",
      "-serial",
      `file:${join(dir, "console.log")}`,
      "-kernel",
      kernel.vmlinux ?? kernel.vmlinuz,
      "-initrd",
      kernel.initrd,
      "-append",
      `console=ttyS0 panic=-1 quiet mitigations=off tcprepro.guest=${GUEST_BINARY}`,
      "-virtfs",
      "local,path=/,mount_tag=hostroot,security_model=none,readonly=on",
      "-device",
      "virtio-serial-pci",
      "-chardev",
      `socket,id=guest,path=${socket},server=on,wait=off`,
      "-device",
      `virtserialport,chardev=guest,name=${PORT_NAME}`,
    ];
    const child = spawn(QEMU, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    child.unref();
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<void>((r) => child.once("close", () => r()));
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    const state: VmState = { pid: process.pid, host: hostname(), qemuPid: child.pid!, dir };
    writeFileSync(statePath(name), JSON.stringify(state) + "\n");
    const vm = new Vm(name, kernel, child.pid!, dir, exit);
    let exited = false;
    void exit.then(() => (exited = true));
    try {
      const watch = watchConsole(vm.consoleLog);
      const opening = vm.channel.open(socket, Date.now() + deadlineMs);
      // Whichever loses the race below still settles later (stop() closes the channel).
      opening.catch(() => undefined);
      try {
        await Promise.race([
          opening,
          exit.then(() => {
            throw new Error(`QEMU exited`);
          }),
          watch.failed,
        ]);
      } finally {
        watch.stop();
      }
    } catch (err) {
      // The socket closes as QEMU exits: give its exit (and stderr) a moment to arrive, so the
      // message says what QEMU said rather than that a read failed.
      await Promise.race([exit, sleep(1000)]);
      const why = exited ? "QEMU exited" : (err as Error).message.replace(/^kernel [^:]+: /, "");
      const message = bootFailure(kernel, why, stderr, vm.consoleLog);
      await vm.stop();
      throw new Error(message);
    }
    return vm;
  }

  /** Power off: QEMU gets SIGTERM, then SIGKILL; its directory and state file go. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.channel.close(`kernel ${this.kernel.version}: the VM was stopped`);
      await killQemu(this.qemuPid, () => this.exited);
      rmSync(this.dir, { recursive: true, force: true });
      rmSync(statePath(this.name), { force: true });
      this.untrack();
    })();
    return this.stopping;
  }
}

/**
 * What a guest prints when its boot cannot go on although QEMU runs: its init gave up (the 9p
 * or overlay mount failed and it fell back to a shell) or the kernel panicked without exiting.
 */
export const STUCK_BOOT = /Kernel panic|mount: mounting \S+ on \S+ failed|can't run '\/sbin\/init'/;

/** Polls the console for a boot that is stuck, so that it fails in seconds, not at the deadline. */
function watchConsole(path: string): { failed: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      let text = "";
      try {
        text = readFileSync(path, "latin1");
      } catch {
        return;
      }
      const m = STUCK_BOOT.exec(text);
      if (m) reject(new Error(`the guest's boot stopped ("${m[0]}")`));
    }, 250);
  });
  failed.catch(() => undefined);
  return { failed, stop: () => clearInterval(timer) };
}

/** The last lines a console printed, without the empty ones. */
export function consoleTail(text: string, lines = 12): string[] {
  return text
    .replace(/\r/g, "")
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .slice(-lines);
}

/** A failed boot said in full: what happened, QEMU's own words, the guest console's last lines. */
function bootFailure(
  kernel: CachedKernel,
  why: string,
  stderr: string,
  consoleLog: string,
): string {
  let console = "";
  try {
    console = readFileSync(consoleLog, "latin1");
  } catch {
    // never written: QEMU did not get that far
  }
  const tail = consoleTail(console);
  return [
    `kernel ${kernel.version} (${kernel.vmlinux ?? kernel.vmlinuz}) did not boot: ${why}`,
    stderr.trim() ? `QEMU said: ${stderr.trim()}` : "QEMU said nothing",
    tail.length > 0
      ? `the console's last lines:\n${tail.map((l) => `  | ${l}`).join("\n")}`
      : "the console printed nothing",
  ].join("\n");
}

async function killQemu(pid: number, gone: () => boolean): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  };
  signal("SIGTERM");
  for (let i = 0; i < 50 && !gone() && isQemu(pid); i++) await sleep(20);
  if (!gone() && isQemu(pid)) signal("SIGKILL");
  for (let i = 0; i < 100 && isQemu(pid); i++) await sleep(20);
}

function isQemu(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return cmd.includes("tcprepro-") && !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** End the VMs of runs whose process is gone (every run's with `all`). Returns how many. */
export async function cleanVms(all: boolean): Promise<number> {
  let files: string[] = [];
  try {
    files = readdirSync(STATE_DIR).filter((f) => /^vm-.+\.json$/.test(f));
  } catch {
    return 0;
  }
  let n = 0;
  for (const f of files) {
    let state: VmState;
    try {
      state = JSON.parse(readFileSync(join(STATE_DIR, f), "utf8")) as VmState;
    } catch {
      continue;
    }
    if (!all && ownerIsAlive(state)) continue;
    if (isQemu(state.qemuPid)) {
      await killQemu(state.qemuPid, () => false);
      n++;
    }
    rmSync(state.dir, { recursive: true, force: true });
    rmSync(join(STATE_DIR, f), { force: true });
  }
  return n;
}
