/**
 * A private apt configuration under the kernel cache: its own source lists, package lists and
 * archive cache, passed to apt on every call with `-o`. The system's sources are never edited;
 * the mirror is the one the system already uses, read from its sources.
 *
 * Two lists (a lesson from booting these kernels by hand): `qemu` (bookworm and its backports)
 * is the only one apt ever installs from; `kernels` (every suite with a kernel we offer, sid
 * among them) is for downloads only, so apt never resolves an installation against sid.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeUnavailableError } from "../util/errors.js";

const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

export type AptList = "qemu" | "kernels";

/** The system's Debian mirror and security mirror, from its deb822 or one-line sources. */
export function systemMirrors(): { main: string; security?: string } {
  const uris: string[] = [];
  const files = ["/etc/apt/sources.list"];
  try {
    for (const f of readdirSync("/etc/apt/sources.list.d"))
      if (/\.(list|sources)$/.test(f)) files.push(join("/etc/apt/sources.list.d", f));
  } catch {
    // no directory
  }
  for (const f of files) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) uris.push(m[1]!);
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) uris.push(m[1]!);
  }
  const debian = uris.filter((u) => /debian/.test(u));
  const main = debian.find((u) => !/security/.test(u));
  if (!main)
    throw new RuntimeUnavailableError(
      "no Debian mirror in /etc/apt/sources.list or sources.list.d: kernels are fetched from the mirror apt already uses",
    );
  return { main, security: debian.find((u) => /security/.test(u)) };
}

function sourcesOf(list: AptList): string {
  const { main, security } = systemMirrors();
  const line = (uri: string, suite: string) => `deb [signed-by=${KEYRING}] ${uri} ${suite} main`;
  const lines =
    list === "qemu"
      ? [line(main, "bookworm"), line(main, "bookworm-backports")]
      : [
          line(main, "bullseye"),
          line(main, "bookworm"),
          line(main, "bookworm-backports"),
          line(main, "sid"),
          ...(security
            ? [line(security, "bullseye-security"), line(security, "bookworm-security")]
            : []),
        ];
  return lines.join("\n") + "\n";
}

export class Apt {
  constructor(
    private readonly dir: string,
    private readonly progress: (message: string) => void,
  ) {}

  private options(list: AptList): string[] {
    const base = join(this.dir, "apt");
    const sources = join(base, `${list}.list`);
    mkdirSync(join(base, `lists-${list}`, "partial"), { recursive: true });
    mkdirSync(join(base, `cache-${list}`, "archives", "partial"), { recursive: true });
    const want = sourcesOf(list);
    if (!existsSync(sources) || readFileSync(sources, "utf8") !== want)
      writeFileSync(sources, want);
    return [
      "-o",
      `Dir::Etc::SourceList=${sources}`,
      "-o",
      "Dir::Etc::SourceParts=/dev/null",
      "-o",
      `Dir::State::Lists=${join(base, `lists-${list}`)}`,
      "-o",
      `Dir::Cache=${join(base, `cache-${list}`)}`,
      "-o",
      "APT::Sandbox::User=root",
    ];
  }

  /** `apt-get update` of a list, once per process and only when its lists are missing. */
  async update(list: AptList, force = false): Promise<void> {
    const lists = join(this.dir, "apt", `lists-${list}`);
    const fresh = existsSync(lists) && readdirSync(lists).some((f) => f.includes("_Packages"));
    if (fresh && !force) return;
    this.progress(`apt: updating the ${list} package lists (private configuration)`);
    await this.run("apt-get", [...this.options(list), "update", "-qq"]);
  }

  /** Every package name of the list starting with `prefix`. */
  async names(list: AptList, prefix: string): Promise<string[]> {
    const out = await this.run("apt-cache", [...this.options(list), "pkgnames", prefix]);
    return out.split("\n").filter((n) => n !== "");
  }

  /** Download `.deb`s into `dest` (no installation). */
  async download(list: AptList, packages: string[], dest: string): Promise<void> {
    mkdirSync(dest, { recursive: true });
    this.progress(`apt: downloading ${packages.join(", ")}`);
    await this.run("apt-get", [...this.options(list), "download", "-q", ...packages], dest);
  }

  /** Install from the `qemu` list (root only): QEMU 10 from bookworm-backports. */
  async install(packages: string[]): Promise<void> {
    this.progress(`apt: installing ${packages.join(", ")} from bookworm-backports`);
    await this.run("apt-get", [
      ...this.options("qemu"),
      "install",
      "-y",
      "-q",
      "--no-install-recommends",
      "-t",
      "bookworm-backports",
      ...packages,
    ]);
  }

  private run(cmd: string, args: string[], cwd?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", (e) =>
        reject(new RuntimeUnavailableError(`${cmd}: ${e.message} (fetching kernels needs apt)`)),
      );
      child.on("close", (code) =>
        code === 0
          ? resolve(out)
          : reject(new Error(`${cmd} ${args.slice(-3).join(" ")} failed (${code}): ${err.trim()}`)),
      );
    });
  }
}
