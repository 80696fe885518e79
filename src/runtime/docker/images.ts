/**
 * Builds what the containers run: the agent (a static C binary, compiled on the host), a base
 * image (debootstrap → docker import, offline; or any public Debian image), and the node image
 * (images/Dockerfile) on top. The node image's tag is a hash of its inputs, so a changed agent
 * or Dockerfile builds a new image and an unchanged one is reused.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  mkdirSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { ExecError, RuntimeUnavailableError } from "../../util/errors.js";
import { onInterrupt } from "../../util/interrupts.js";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const AGENT_SOURCE = join(PROJECT_ROOT, "images/agent/tcprepro-agent.c");
const DOCKERFILE = join(PROJECT_ROOT, "images/Dockerfile");
export const AGENT_BINARY = join(PROJECT_ROOT, "build/tcprepro-agent");

export const OFFLINE_BASE = "tcprepro/base:bookworm";
const NODE_REPO = "tcprepro/node";
/** Packages of the offline base image (the online path installs the same in the Dockerfile). */
export const BASE_PACKAGES = [
  "iproute2",
  "iptables",
  "procps",
  "tcpdump",
  "hping3",
  "conntrack",
  "iputils-ping",
];

export interface ImageOptions {
  /** Base image: default the offline one; set e.g. debian:bookworm-slim where a registry answers. */
  base?: string;
  /** Rebuild even when present. */
  force?: boolean;
  progress: (message: string) => void;
}

/**
 * Runs a host command. On Ctrl-C/SIGTERM the command is stopped first and `afterInterrupt`
 * (removing what it was writing) runs once it is gone.
 */
export function run(argv: string[], afterInterrupt?: () => void): Promise<void> {
  // Its own process group, so that an interrupt stops debootstrap's children (dpkg, …) too.
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const untrack = onInterrupt(async () => {
    killGroup("SIGTERM");
    const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
    await closed;
    clearTimeout(timer);
    afterInterrupt?.();
  });
  return new Promise<void>((resolvePromise, reject) => {
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new ExecError(argv, null, err.message, "host")));
    void closed.then((code) =>
      code === 0 ? resolvePromise() : reject(new ExecError(argv, code, stderr, "host")),
    );
  }).finally(untrack);
}

/** Compile the agent when its binary is missing or older than its source. */
export async function buildAgent(progress: (m: string) => void): Promise<string> {
  if (existsSync(AGENT_BINARY) && statSync(AGENT_BINARY).mtimeMs >= statSync(AGENT_SOURCE).mtimeMs)
    return AGENT_BINARY;
  progress("compiling the agent (gcc -static)");
  mkdirSync(dirname(AGENT_BINARY), { recursive: true });
  try {
    await run(["gcc", "-O2", "-Wall", "-Wextra", "-static", "-o", AGENT_BINARY, AGENT_SOURCE]);
  } catch (err) {
    if (err instanceof ExecError && err.exitCode === null)
      throw new RuntimeUnavailableError(
        "gcc is needed to build the agent: apt-get install -y gcc libc6-dev",
      );
    throw err;
  }
  return AGENT_BINARY;
}

export function nodeImageTag(base: string): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(DOCKERFILE)).update(readFileSync(AGENT_SOURCE)).update(base);
  return `${NODE_REPO}:${hash.digest("hex").slice(0, 12)}`;
}

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

async function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  progress: (m: string) => void,
): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = err ?? output.find((o) => o.error)?.error;
        if (failed)
          reject(
            new Error(
              `image build failed: ${String(failed instanceof Error ? failed.message : failed)}`,
            ),
          );
        else resolvePromise();
      },
      (event: { stream?: string }) => {
        const line = event.stream?.trim();
        if (line?.startsWith("Step ")) progress(line);
      },
    );
  });
}

/** debootstrap a Debian rootfs on the host and import it: needs no registry, only Debian's mirror. */
async function buildOfflineBase(docker: Docker, progress: (m: string) => void): Promise<void> {
  let rootfs = process.env.TCPREPRO_ROOTFS;
  let temporary = false;
  if (!rootfs) {
    rootfs = mkdtempSync(join(tmpdir(), "tcprepro-rootfs-"));
    temporary = true;
    progress(`debootstrap bookworm into ${rootfs} (about a minute)`);
    const remove = () => rmSync(rootfs!, { recursive: true, force: true });
    try {
      await run(
        [
          "debootstrap",
          "--variant=minbase",
          `--include=${BASE_PACKAGES.join(",")}`,
          "bookworm",
          rootfs,
        ],
        remove,
      );
    } catch (err) {
      rmSync(rootfs, { recursive: true, force: true });
      if (err instanceof ExecError && err.exitCode === null)
        throw new RuntimeUnavailableError(
          "building the offline base image needs debootstrap: apt-get install -y debootstrap (or pass --base debian:bookworm-slim where a registry answers)",
        );
      throw err;
    }
  }
  progress(`importing ${rootfs} as ${OFFLINE_BASE}`);
  const untrack = onInterrupt(async () => {
    if (temporary) rmSync(rootfs!, { recursive: true, force: true });
  });
  try {
    const tar = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const stream = await docker.importImage(tar.stdout, { repo: "tcprepro/base", tag: "bookworm" });
    await followProgress(docker, stream, progress);
  } finally {
    untrack();
    if (temporary) rmSync(rootfs, { recursive: true, force: true });
  }
}

/** `tcprepro/node:latest` follows the newest build: docker-compose.yml and hand use name it. */
export const NODE_LATEST = `${NODE_REPO}:latest`;

async function tagLatest(docker: Docker, tag: string): Promise<void> {
  await docker.getImage(tag).tag({ repo: NODE_REPO, tag: "latest" });
}

/** Make sure the node image exists; build what is missing. Returns its tag. */
export async function ensureImages(docker: Docker, opts: ImageOptions): Promise<string> {
  const base = opts.base ?? process.env.TCPREPRO_BASE_IMAGE ?? OFFLINE_BASE;
  await buildAgent(opts.progress);
  const tag = nodeImageTag(base);
  if (!opts.force && (await imageExists(docker, tag))) {
    await tagLatest(docker, tag);
    return tag;
  }
  if (base === OFFLINE_BASE && (opts.force || !(await imageExists(docker, base)))) {
    await buildOfflineBase(docker, opts.progress);
  }
  opts.progress(`building ${tag} FROM ${base}`);
  const context = mkdtempSync(join(tmpdir(), "tcprepro-image-"));
  const untrack = onInterrupt(async () => rmSync(context, { recursive: true, force: true }));
  try {
    cpSync(DOCKERFILE, join(context, "Dockerfile"));
    cpSync(AGENT_BINARY, join(context, "tcprepro-agent"));
    const stream = await docker.buildImage(
      { context, src: ["Dockerfile", "tcprepro-agent"] },
      { t: tag, buildargs: { BASE: base }, labels: { tcprepro: "image" }, rm: true, forcerm: true },
    );
    await followProgress(docker, stream, opts.progress);
  } finally {
    untrack();
    rmSync(context, { recursive: true, force: true });
  }
  if (!(await imageExists(docker, tag)))
    throw new Error(`image build reported success but ${tag} is missing`);
  await tagLatest(docker, tag);
  return tag;
}
