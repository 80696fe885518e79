/**
 * The host's side of the guest agent's protocol (images/agent/tcprepro-guest.c): one line per
 * request over QEMU's virtio-serial UNIX socket, binary fields in base64, replies tagged with
 * the request's id and answered out of order, so many requests are in flight at once.
 */
import { connect, type Socket } from "node:net";
import { constants } from "node:os";
import { sleep } from "../util/time.js";
import { GuestError } from "../model/errors.js";
import { GuestProfile } from "./profile.js";
import {
  DataFeed,
  type HostChild,
  type HostExecutor,
  type SpawnOptions,
} from "../runtime/netns/host.js";

const b64 = (s: string | Buffer): string => {
  const e = Buffer.from(s).toString("base64");
  return e === "" ? "-" : e;
};
const unb64 = (s: string): Buffer => (s === "-" ? Buffer.alloc(0) : Buffer.from(s, "base64"));

interface Pending {
  /** Every reply line of this request (kind, payload). Returns true when the request is over. */
  on(kind: string, payload: string): boolean;
}

export class GuestChannel implements HostExecutor {
  private socket: Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = "";
  private closedReason: string | undefined;
  /** TCPREPRO_GUEST_PROFILE: every request's time and, for a process, its CPU (profile.ts). */
  private readonly profile = GuestProfile.fromEnv(unb64);

  constructor(
    readonly where: string,
    readonly slowdown = 10,
  ) {}

  /** Connect to QEMU's socket (retrying until it exists) and wait for the agent's answer. */
  async open(socketPath: string, deadline: number): Promise<void> {
    for (;;) {
      try {
        this.socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(socketPath, () => resolve(s));
          s.once("error", reject);
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        // The boot was given up (QEMU exited, the console showed a stuck boot): stop trying.
        if (this.closedReason !== undefined) throw new Error(this.closedReason);
        await sleep(20);
      }
    }
    this.socket.setNoDelay(true);
    this.socket.on("data", (d: Buffer) => this.onData(d));
    this.socket.on("close", () =>
      this.fail(this.closedReason ?? `${this.where}: the VM went away`),
    );
    this.socket.on("error", () => undefined);
    // QEMU holds what we write until the guest opens its port: the agent's `ok` means "up".
    // Anything else (the errno this side makes up when QEMU closes the socket) means it is not.
    const timeoutMs = Math.max(0, deadline - Date.now());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.where}: the guest agent did not answer within ${Math.round(timeoutMs / 1000)} s`,
            ),
          ),
        timeoutMs,
      );
      this.request(["ping"], {
        on: (kind, payload) => {
          clearTimeout(timer);
          // Not "ok": the socket closed under us (QEMU died just after it was connected).
          if (kind === "ok") resolve();
          else
            reject(
              new Error(
                `${this.where}: the guest never answered (${payload.replace(/^-?\d+ /, "")})`,
              ),
            );
          return true;
        },
      });
    });
  }

  close(reason: string): void {
    this.closedReason = reason;
    this.socket?.destroy();
  }

  private fail(reason: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.on("errno", `-1 ${reason}`);
    }
  }

  private onData(d: Buffer): void {
    this.buffer += d.toString("latin1");
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const [id, kind, ...rest] = line.split(" ");
      const p = this.pending.get(Number(id));
      if (p && p.on(kind!, rest.join(" "))) this.pending.delete(Number(id));
    }
  }

  private request(fields: string[], pending: Pending): void {
    if (!this.socket || this.socket.destroyed) {
      pending.on("errno", `-1 ${this.closedReason ?? `${this.where}: not connected`}`);
      return;
    }
    const id = this.nextId++;
    if (this.profile) pending = this.profile.wrap(fields, pending);
    this.pending.set(id, pending);
    this.socket.write(`${id} ${fields.join(" ")}\n`);
  }

  /** A request with one answer: `ok PAYLOAD` or `errno N`. */
  private simple(op: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      this.request([op, ...args], {
        on: (kind, payload) => {
          if (kind === "ok") resolve(payload);
          else reject(new GuestError(parseInt(payload, 10), `${this.where}: ${op}`));
          return true;
        },
      });
    });
  }

  private async orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof GuestError && err.errno > 0) return undefined;
      throw err;
    }
  }

  spawn(argv: string[], opts: SpawnOptions = {}): Promise<HostChild> {
    const env = Object.entries(opts.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join("\n");
    const feed = new DataFeed();
    let closedErr!: () => void;
    const stderrClosed = new Promise<void>((r) => (closedErr = r));
    let exit!: (status: number | null) => void;
    const exited = new Promise<number | null>((r) => (exit = r));
    let ended = false;
    return new Promise((resolve, reject) => {
      this.request(["spawn", b64(opts.input ?? ""), b64(env), ...argv.map(b64)], {
        on: (kind, payload) => {
          switch (kind) {
            case "pid":
              resolve({
                pid: Number(payload),
                onData: (l) => feed.on(l),
                stderrClosed,
                exited,
                get ended() {
                  return ended;
                },
              });
              return false;
            case "out":
            case "err":
              feed.push(kind === "out" ? 1 : 2, unb64(payload));
              return false;
            case "eof":
              if (payload === "2") closedErr();
              return false;
            case "exit": {
              const [code, signo] = payload.split(" ").map(Number);
              ended = true;
              closedErr();
              exit(signo ? 128 + signo! : code!);
              return true;
            }
            default:
              // errno: could not start, or the VM went away meanwhile.
              ended = true;
              closedErr();
              exit(null);
              reject(new Error(`${this.where}: ${argv[0]} could not run (${payload})`));
              return true;
          }
        },
      });
    });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const data = await this.orUndefined(this.simple("read", [b64(path)]));
    return data === undefined ? undefined : unb64(data);
  }

  /** Writes `data` to a guest file (a tracefs or /proc/sys file) with no process started. */
  async writeFile(path: string, data: string): Promise<void> {
    await this.simple("write", [b64(path), b64(data)]);
  }

  async readlink(path: string): Promise<string | undefined> {
    const data = await this.orUndefined(this.simple("readlink", [b64(path)]));
    return data === undefined ? undefined : unb64(data).toString();
  }

  async readdir(path: string): Promise<string[]> {
    const data = await this.orUndefined(this.simple("readdir", [b64(path)]));
    if (data === undefined) return [];
    const text = unb64(data).toString();
    return text === "" ? [] : text.split("\n");
  }

  async inode(path: string): Promise<number | undefined> {
    const data = await this.orUndefined(this.simple("ino", [b64(path)]));
    return data === undefined ? undefined : Number(data);
  }

  /** Moves the guest's CLOCK_REALTIME by `deltaUs` (0: leaves it); its time after, µs. */
  async clock(deltaUs: number): Promise<number> {
    return Number(await this.simple("clock", [String(Math.round(deltaUs))]));
  }

  async kill(pid: number, sig: NodeJS.Signals): Promise<void> {
    await this.orUndefined(this.simple("kill", [String(pid), String(constants.signals[sig])]));
  }
}
