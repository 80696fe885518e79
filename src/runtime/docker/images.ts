/**
 * Builds what the containers run: the agent (a static C binary, compiled on the host), a base
 * image (debootstrap → docker import, offline; or any public Debian image), and the node image
 * (images/Dockerfile) on top. The node image's tag is a hash of its inputs, so a changed agent
 * or Dockerfile builds a new image and an unchanged one is reused.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { ExecError, RuntimeUnavailableError } from "../../util/errors.js";
import { onInterrupt } from "../../util/interrupts.js";
import { PROJECT_ROOT } from "../../util/project.js";
import { AGENT_BINARY, AGENT_SOURCE, buildAgent } from "../shared/agent.js";
import { runOnHost } from "../shared/host-command.js";

const DOCKERFILE = join(PROJECT_ROOT, "images/Dockerfile");

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

export function nodeImageTag(base: string): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(DOCKERFILE)).update(readFileSync(AGENT_SOURCE)).update(base);
  return `${NODE_REPO}:${hash.digest("hex").slice(0, 12)}`;
}

export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

export async function followProgress(
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
      await runOnHost(
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
          "building the offline base image needs debootstrap: `sudo npx tcprepro setup` installs it (or apt-get install -y debootstrap; or pass --base debian:bookworm-slim where a registry answers)",
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
