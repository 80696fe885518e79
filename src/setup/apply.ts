/**
 * `tcprepro setup`, the doing part: probes this machine into MachineFacts, then carries out the
 * plan (setup/machine.ts) step by step, saying each. What scripts/setup.sh did for the machine,
 * from the package, so that a project that installed tcprepro from npm can set a machine up.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type Docker from "dockerode";
import { findProgram, findStaticLibc } from "../doctor/probe.js";
import { readCached } from "../kernels/cache.js";
import { fetchKernel } from "../kernels/fetch.js";
import { connectDocker } from "../runtime/docker/docker-runtime.js";
import { ensureImages, imageExists, nodeImageTag, OFFLINE_BASE } from "../runtime/docker/images.js";
import { AGENT_BINARY, AGENT_SOURCE } from "../runtime/shared/agent.js";
import { runOnHost } from "../runtime/shared/host-command.js";
import {
  HOST_PROGRAMS,
  KERNEL_PROGRAMS,
  plan,
  type EngineLaunch,
  type MachineFacts,
  type Plan,
} from "./machine.js";

export interface SetupOptions {
  /** Kernel versions to have in the VM runtime's cache. */
  kernels: string[];
  /** Base image of the node image, as `images build --base`. */
  base?: string;
  progress: (message: string) => void;
}

/** The engine where DOCKER_HOST points, or null when none answers. */
async function engineHere(): Promise<{ docker: Docker; version: string } | null> {
  try {
    const docker = await connectDocker();
    const v = await docker.version();
    return { docker, version: v.Version };
  } catch {
    return null;
  }
}

const agentBuilt = () =>
  existsSync(AGENT_BINARY) && statSync(AGENT_BINARY).mtimeMs >= statSync(AGENT_SOURCE).mtimeMs;

export async function probeMachine(opts: SetupOptions): Promise<MachineFacts> {
  const programs: Record<string, string | null> = {};
  for (const { program } of [...HOST_PROGRAMS, ...KERNEL_PROGRAMS, { program: "dockerd" }])
    programs[program] = findProgram(program);
  const engine = await engineHere();
  const tag = nodeImageTag(opts.base ?? process.env.TCPREPRO_BASE_IMAGE ?? OFFLINE_BASE);
  return {
    uid: process.getuid?.() ?? -1,
    programs,
    staticLibc: findStaticLibc() !== null,
    aptGet: findProgram("apt-get") !== null,
    dockerHost: process.env.DOCKER_HOST,
    engine: engine?.version ?? null,
    images: {
      tag,
      present: engine ? await imageExists(engine.docker, tag) : null,
      agent: agentBuilt(),
    },
    kernels: opts.kernels.map((version) => ({ version, cached: !!readCached(version) })),
  };
}

/** Start dockerd detached (it outlives setup), then wait until it answers. */
async function startEngine(launch: EngineLaunch, progress: (m: string) => void): Promise<string> {
  mkdirSync(dirname(launch.log), { recursive: true });
  if (launch.bridge) {
    // Left from an earlier start: there already. A private engine's default network.
    await runOnHost(["ip", "link", "add", launch.bridge, "type", "bridge"]).catch(() => undefined);
    await runOnHost(["ip", "link", "set", launch.bridge, "up"]);
  }
  const log = openSync(launch.log, "a");
  const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  child.on("error", () => (exited = -1));
  child.unref();
  progress(`started ${launch.argv.join(" ")} (pid ${child.pid}, log ${launch.log})`);
  // A first start initialises its data root: allow a minute on a busy machine.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const engine = await engineHere();
    if (engine) return `started dockerd ${engine.version} at ${launch.socket} (pid ${child.pid})`;
    if (exited !== undefined)
      throw new Error(`dockerd exited (${exited}) before answering: see ${launch.log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`dockerd did not answer at ${launch.socket} within 60 s: see ${launch.log}`);
}

/** Probe, plan and carry out; returns what was done (empty: nothing to do) and what was there. */
export async function setupMachine(opts: SetupOptions): Promise<{ done: string[]; plan: Plan }> {
  const todo = plan(await probeMachine(opts));
  const done: string[] = [];
  for (const step of todo.steps) {
    switch (step.kind) {
      case "packages": {
        opts.progress(`apt-get install ${step.packages.join(" ")}`);
        process.env.DEBIAN_FRONTEND = "noninteractive";
        await runOnHost(["apt-get", "update", "-qq"]);
        await runOnHost(["apt-get", "install", "-y", "-qq", ...step.packages]);
        done.push(`installed ${step.packages.join(", ")}`);
        break;
      }
      case "engine": {
        // The package just installed may have started one itself (where there is an init).
        const engine = await engineHere();
        done.push(
          engine
            ? `engine ${engine.version} answers (started by its package)`
            : await startEngine(step.launch, opts.progress),
        );
        break;
      }
      case "images": {
        const docker = await connectDocker();
        const tag = await ensureImages(docker, { base: opts.base, progress: opts.progress });
        done.push(`built ${step.what} (${tag})`);
        break;
      }
      case "kernels": {
        for (const v of step.versions) {
          opts.progress(`kernel ${v}`);
          const k = await fetchKernel(v, opts.progress);
          done.push(`fetched kernel ${v} (${k.release})`);
        }
        break;
      }
    }
  }
  return { done, plan: todo };
}
