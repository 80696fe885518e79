/**
 * Images of the user's own software, made without a registry and cached by content:
 * - `packages:` Debian packages on top of tcprepro's node image. Containers have no route out,
 *   so apt runs on the host: it resolves the packages against the node image's own dpkg status
 *   (a private apt configuration, the system's sources untouched), downloads the missing .debs
 *   from the image's Debian suite, and a build FROM the node image installs them with `dpkg -i`.
 * - `build:` a Dockerfile context, built with no network (FROM a local image such as
 *   tcprepro/node:latest or tcprepro/base:bookworm).
 * Both tags are hashes of their inputs: an unchanged input reuses the image.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type Docker from "dockerode";
import type { NodePlan } from "../runtime.js";
import { ExecError, RuntimeUnavailableError } from "../../util/errors.js";
import { runOnHost as run } from "../shared/host-command.js";
import { followProgress, imageExists } from "./images.js";

const PACKAGES_REPO = "tcprepro/packages";
const BUILD_REPO = "tcprepro/build";
/** Where .debs come from; the suite is the image's own (VERSION_CODENAME). */
const DEFAULT_MIRROR = "http://deb.debian.org/debian";

const sha = (...parts: string[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 12);
};

/** One build per tag at a time, also when parallel variants ask for the same image. */
const inFlight = new Map<string, Promise<string>>();

function once(tag: string, make: () => Promise<void>): Promise<string> {
  let p = inFlight.get(tag);
  if (!p) {
    p = make().then(
      () => tag,
      (err: unknown) => {
        inFlight.delete(tag);
        throw err;
      },
    );
    inFlight.set(tag, p);
  }
  return p;
}

/** The image a node runs: its own, or one made from `build` / `packages`. */
export async function userImage(
  docker: Docker,
  node: NodePlan,
  nodeImage: string,
  progress: (m: string) => void,
): Promise<string | undefined> {
  if (node.packages) return packagesImage(docker, nodeImage, node.packages, progress);
  if (node.build) return contextImage(docker, node.build, progress);
  return node.image;
}

export async function packagesImage(
  docker: Docker,
  nodeImage: string,
  packages: string[],
  progress: (m: string) => void,
): Promise<string> {
  const sorted = [...new Set(packages)].sort();
  const tag = `${PACKAGES_REPO}:${sha(nodeImage, ...sorted)}`;
  if (await imageExists(docker, tag)) return tag;
  return once(tag, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcprepro-packages-"));
    try {
      progress(`downloading ${sorted.join(" ")} and their dependencies (apt on the host)`);
      const debs = await downloadDebs(docker, nodeImage, sorted, dir);
      progress(`building ${tag}: ${debs.length} package(s) on ${nodeImage}`);
      const context = join(dir, "context");
      mkdirSync(join(context, "debs"), { recursive: true });
      for (const deb of debs)
        writeFileSync(join(context, "debs", deb), readFileSync(join(dir, "archives", deb)));
      // policy-rc.d 101: a package's postinst must not try to start its service in the build.
      writeFileSync(
        join(context, "Dockerfile"),
        [
          `FROM ${nodeImage}`,
          "COPY debs/ /tmp/tcprepro-debs/",
          "RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\",
          debs.length > 0
            ? " && dpkg -i /tmp/tcprepro-debs/*.deb \\"
            : " && echo nothing to install \\",
          " && rm -rf /tmp/tcprepro-debs /usr/sbin/policy-rc.d",
          `LABEL tcprepro.packages="${sorted.join(" ")}"`,
          "",
        ].join("\n"),
      );
      await buildFrom(docker, context, tag, "Dockerfile", {}, progress);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** apt-get --download-only against the image's dpkg status: exactly the .debs it lacks. */
async function downloadDebs(
  docker: Docker,
  image: string,
  packages: string[],
  dir: string,
): Promise<string[]> {
  const status = await readImageFile(docker, image, "/var/lib/dpkg/status");
  const osRelease = await readImageFile(docker, image, "/usr/lib/os-release");
  const suite = /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
  if (!suite)
    throw new Error(`${image} is not a Debian image (no VERSION_CODENAME): packages need one`);
  for (const sub of ["lists/partial", "archives/partial", "cache", "etc"])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "status"), status);
  const mirror = process.env.TCPREPRO_APT_MIRROR ?? DEFAULT_MIRROR;
  writeFileSync(join(dir, "etc/sources.list"), `deb ${mirror} ${suite} main\n`);
  const options = [
    `Dir::State::status=${join(dir, "status")}`,
    `Dir::State::Lists=${join(dir, "lists")}`,
    `Dir::Cache=${join(dir, "cache")}`,
    `Dir::Cache::archives=${join(dir, "archives")}`,
    `Dir::Etc::SourceList=${join(dir, "etc/sources.list")}`,
    "Dir::Etc::SourceParts=/dev/null",
    "APT::Get::List-Cleanup=0",
  ].flatMap((o) => ["-o", o]);
  try {
    await run(["apt-get", ...options, "-q", "update"]);
    await run([
      "apt-get",
      ...options,
      "-q",
      "-y",
      "--no-install-recommends",
      "--download-only",
      "install",
      ...packages,
    ]);
  } catch (err) {
    if (err instanceof ExecError && err.exitCode === null)
      throw new RuntimeUnavailableError(
        "packages: needs apt-get on the host (a Debian or Ubuntu host); or give the node an image or a build",
      );
    if (err instanceof ExecError)
      throw new Error(
        `packages ${packages.join(", ")} from ${mirror} ${suite}: ${
          err.stderr
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("E:"))
            .join("; ") || err.stderr.trim().slice(0, 300)
        }`,
      );
    throw err;
  }
  return readdirSync(join(dir, "archives")).filter((f) => f.endsWith(".deb"));
}

/** A file of an image, read from a created (never started) container. */
async function readImageFile(docker: Docker, image: string, path: string): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    NetworkDisabled: true,
    Labels: { tcprepro: "image" },
  });
  try {
    const archive = await container.getArchive({ path });
    const tar = spawn("tar", ["-xO"], { stdio: ["pipe", "pipe", "pipe"] });
    archive.pipe(tar.stdin);
    let out = "";
    tar.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => tar.on("close", r));
    if (code !== 0) throw new Error(`cannot read ${path} from ${image}`);
    return out;
  } finally {
    await container.remove({ force: true });
  }
}

export async function contextImage(
  docker: Docker,
  build: NonNullable<NodePlan["build"]>,
  progress: (m: string) => void,
): Promise<string> {
  const files = listFiles(build.context);
  const hash = createHash("sha256");
  for (const f of files)
    hash
      .update(f)
      .update("\0")
      .update(readFileSync(join(build.context, f)));
  hash.update(build.dockerfile).update(JSON.stringify(Object.entries(build.args).sort()));
  // The local images it builds FROM, by id: a rebuilt tcprepro/node:latest makes a new tag.
  for (const ref of fromImages(readFileSync(join(build.context, build.dockerfile), "utf8")))
    hash.update(
      await docker
        .getImage(ref)
        .inspect()
        .then(
          (i) => i.Id,
          () => ref,
        ),
    );
  const tag = `${BUILD_REPO}:${hash.digest("hex").slice(0, 12)}`;
  if (await imageExists(docker, tag)) return tag;
  return once(tag, async () => {
    progress(`building ${tag} from ${build.context}`);
    await buildFrom(docker, build.context, tag, build.dockerfile, build.args, progress, files);
  });
}

/** Images named by FROM lines (not stages, not ARG-substituted ones). */
export function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const refs: string[] = [];
  for (const m of dockerfile.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const ref = m[1]!;
    if (!stages.has(ref.toLowerCase()) && !ref.includes("$")) refs.push(ref);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return refs;
}

/** Every file under `dir`, relative, sorted; `.git` left out. */
function listFiles(dir: string, under = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, under)).sort()) {
    if (entry === ".git") continue;
    const rel = under ? `${under}/${entry}` : entry;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** An image build with no network: whatever the Dockerfile runs, nothing leaves the host. */
async function buildFrom(
  docker: Docker,
  context: string,
  tag: string,
  dockerfile: string,
  args: Record<string, string>,
  progress: (m: string) => void,
  files = listFiles(context),
): Promise<void> {
  const stream = await docker.buildImage(
    { context, src: files },
    {
      t: tag,
      dockerfile,
      buildargs: args,
      networkmode: "none",
      labels: { tcprepro: "image" },
      rm: true,
      forcerm: true,
    },
  );
  await followProgress(docker, stream, progress);
  if (!(await imageExists(docker, tag)))
    throw new Error(`image build of ${relative(process.cwd(), context) || "."} left no ${tag}`);
}
