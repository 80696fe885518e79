/**
 * A kernel's configuration, read without booting it: a `config`/`config-<release>` file beside
 * its modules or image, the config embedded with CONFIG_IKCONFIG, or failing both its module
 * lists (modules.builtin, modules.dep), where an option that cannot be a module is unknown.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { bzPayload } from "./vmlinux.js";

/** `CONFIG_X` → `y`, `m` or `n` (and strings/numbers as they are). */
export type KernelConfig = Map<string, string>;

export function parseConfig(text: string): KernelConfig {
  const config: KernelConfig = new Map();
  for (const line of text.split("\n")) {
    const set = /^CONFIG_(\w+)=(.*)$/.exec(line);
    if (set) config.set(set[1]!, set[2]!.replace(/^"|"$/g, ""));
    const unset = /^# CONFIG_(\w+) is not set/.exec(line);
    if (unset) config.set(unset[1]!, "n");
  }
  return config;
}

export interface KernelSources {
  /** The whole config, when one was found; `from` says where. */
  config?: { values: KernelConfig; from: string };
  /** modules.dep + modules.builtin of the tree, to fall back on. */
  modules: { dep: string; builtin: string };
}

/** Where a config may be: beside the modules (Debian's /boot, a fixture's `config`) or the image. */
export function configCandidates(image: string, modules: string): string[] {
  const release = basename(modules);
  const base = [join(modules, "..", "..", ".."), join(modules, "..", "..", "..", "..")];
  return [
    join(modules, "config"),
    ...base.flatMap((b) => [
      join(b, "boot", `config-${release}`),
      join(b, "config"),
      join(b, ".config"),
    ]),
    join(dirname(image), `config-${release}`),
    join(dirname(image), "config"),
    join(dirname(image), ".config"),
  ];
}

/** The config gzipped into the image by CONFIG_IKCONFIG ("IKCFG_ST" … "IKCFG_ED"). */
export function embeddedConfig(image: Buffer): string | undefined {
  const payload = bzPayload(image);
  const tools: Array<[number[], string[]]> = [
    [
      [0xfd, 0x37, 0x7a, 0x58, 0x5a],
      ["xz", "-dc", "--single-stream"],
    ],
    [
      [0x28, 0xb5, 0x2f, 0xfd],
      ["zstd", "-dcq"],
    ],
    [
      [0x1f, 0x8b],
      ["gzip", "-dcq"],
    ],
  ];
  let vmlinux: Buffer = image;
  if (payload) {
    const tool = tools.find(([magic]) =>
      payload.subarray(0, magic.length).equals(Buffer.from(magic)),
    );
    if (tool) {
      const r = spawnSync(tool[1][0]!, tool[1].slice(1), { input: payload, maxBuffer: 1 << 30 });
      if (r.stdout && r.stdout.length > 0) vmlinux = r.stdout;
    }
  }
  const start = vmlinux.indexOf("IKCFG_ST");
  if (start < 0) return undefined;
  const end = vmlinux.indexOf("IKCFG_ED", start);
  if (end < 0) return undefined;
  const r = spawnSync("gzip", ["-dcq"], { input: vmlinux.subarray(start + 8, end) });
  const text = r.stdout?.toString() ?? "";
  return text.includes("CONFIG_") ? text : undefined;
}

/** `embedded: false` skips IKCONFIG (a decompression of the whole image: seconds for xz). */
export function readSources(image: string, modules: string, embedded = true): KernelSources {
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  const mods = {
    dep: read(join(modules, "modules.dep")),
    builtin: read(join(modules, "modules.builtin")),
  };
  // A file first: the embedded config costs a decompression of the whole kernel.
  const file = configCandidates(image, modules).find(
    (p) => existsSync(p) && /CONFIG_/.test(read(p)),
  );
  if (file) return { config: { values: parseConfig(read(file)), from: file }, modules: mods };
  let inImage: string | undefined;
  try {
    inImage = embedded ? embeddedConfig(readFileSync(image)) : undefined;
  } catch {
    inImage = undefined;
  }
  if (inImage)
    return {
      config: { values: parseConfig(inImage), from: `${image} (IKCONFIG)` },
      modules: mods,
    };
  return { modules: mods };
}

export type OptionState = "y" | "m" | "n" | "unknown";

/** One option: from the config, else from the module lists (a bool option is then unknown). */
export function optionState(
  src: KernelSources,
  o: { config: string; module?: string },
): OptionState {
  if (src.config) {
    const v = src.config.values.get(o.config);
    return v === "y" || v === "m" ? v : "n";
  }
  if (!o.module) return "unknown";
  const re = new RegExp(
    `(^|/)${o.module.replace(/[-_]/g, "[-_]")}\\.ko(\\.(xz|zst|gz))?(:|$)`,
    "m",
  );
  if (re.test(src.modules.builtin)) return "y";
  if (re.test(src.modules.dep)) return "m";
  // No modules.builtin (Debian's 7.x packages ship none): it may be built in.
  return src.modules.builtin === "" ? "unknown" : "n";
}
