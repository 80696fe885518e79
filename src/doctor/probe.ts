/** `tcprepro doctor`, the probing: looks at this machine and its engine, changes nothing. */
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import type Docker from "dockerode";
import { connectDocker, DockerRuntime } from "../runtime/docker/docker-runtime.js";
import { nodeImageTag, OFFLINE_BASE } from "../runtime/docker/images.js";
import { NetnsRuntime } from "../runtime/netns/netns-runtime.js";
import type { Runtime } from "../runtime/runtime.js";
import { probeNetem } from "../runtime/shared/netem.js";
import { expandPaths, loadAll } from "../run/run.js";
import { anyKernel } from "../scenario/semantics.js";
import { catalogNeeds } from "./catalog-needs.js";
import type { DoctorFacts } from "./assess.js";

/** An executable on PATH (and the sbin directories, which a non-root PATH often lacks). */
export function findProgram(name: string): string | null {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ].filter(Boolean);
  for (const dir of new Set(dirs)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** libc.a, which `gcc -static` links against (Debian: /usr/lib/<triplet>/libc.a, from libc6-dev). */
export function findStaticLibc(): string | null {
  const candidates = ["/usr/lib/libc.a", "/usr/lib64/libc.a"];
  try {
    for (const d of readdirSync("/usr/lib"))
      if (d.endsWith("-linux-gnu")) candidates.push(`/usr/lib/${d}/libc.a`);
  } catch {
    // no /usr/lib: nothing to find
  }
  return candidates.find((p) => existsSync(p)) ?? null;
}

async function imagePresent(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

export interface ProbeOptions {
  /** Scenario files or directories: the catalog. */
  paths: string[];
  /** Base image, as `run --base`. */
  base?: string;
}

export async function probe(opts: ProbeOptions): Promise<DoctorFacts> {
  // A path that does not exist is a mistake on the command line (exit 2), not a gap here.
  const files = expandPaths(opts.paths);
  const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
  const baseName = opts.base ?? process.env.TCPREPRO_BASE_IMAGE ?? OFFLINE_BASE;
  const nodeName = nodeImageTag(baseName);
  let engine: DoctorFacts["engine"];
  let images: DoctorFacts["images"] = {
    node: { name: nodeName, present: null },
    base: { name: baseName, present: null },
  };
  // The kernel the nodes run on, as the runtime a plain `run` would pick sees it.
  let runtime: Runtime = new NetnsRuntime();
  try {
    const docker = await connectDocker();
    const version = await docker.version();
    engine = { reachable: true, version: `${version.Version} (API ${version.ApiVersion})`, where };
    runtime = new DockerRuntime(docker);
    images = {
      node: { name: nodeName, present: await imagePresent(docker, nodeName) },
      base: { name: baseName, present: await imagePresent(docker, baseName) },
    };
  } catch (err) {
    engine = { reachable: false, where, error: err instanceof Error ? err.message : String(err) };
  }

  const inventory = await runtime.inventory();
  let catalog: DoctorFacts["catalog"];
  try {
    // Accept every sysctl while loading: which ones this kernel lacks is what doctor reports.
    catalog = {
      needs: catalogNeeds(loadAll(files, anyKernel)),
    };
  } catch (err) {
    catalog = { error: err instanceof Error ? err.message : String(err) };
  }

  return {
    engine,
    images,
    uid: process.getuid?.() ?? -1,
    inventory,
    netem: probeNetem(inventory.release),
    tools: {
      gcc: findProgram("gcc"),
      staticLibc: findStaticLibc(),
      debootstrap: findProgram("debootstrap"),
    },
    catalog,
  };
}
