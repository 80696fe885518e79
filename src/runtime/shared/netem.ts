/**
 * Does this kernel have the netem qdisc (delay, loss, reordering)? Found out without touching
 * the host's network: adding a qdisc to the host's lo to see if it works is not allowed, so the
 * answer comes from what the kernel and its modules say about themselves.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface NetemFinding {
  status: "present" | "absent" | "unknown";
  /** How we know: which source said so. */
  how: string;
}

export interface NetemSources {
  release: string;
  /** /sys/module/sch_netem exists: the module is loaded (or built in and has parameters). */
  loaded: boolean;
  /** The kernel config's text and where it came from (/proc/config.gz, /boot/config-…). */
  config: { text: string; from: string } | null;
  /** /lib/modules/<release>: does modules.builtin or modules.dep name sch_netem.ko? null when the directory is missing. */
  modules: { dir: string; builtin: boolean; loadable: boolean } | null;
  /** `modinfo sch_netem`: exit status 0 or not; null when modinfo is not installed. */
  modinfo: { ok: boolean } | null;
}

/** Pure: the sources → present, absent, or unknown with the reason. */
export function assessNetem(s: NetemSources): NetemFinding {
  if (s.loaded) return { status: "present", how: "loaded (/sys/module/sch_netem)" };
  const setting =
    s.config &&
    /^(?:CONFIG_NET_SCH_NETEM=([ym])|# CONFIG_NET_SCH_NETEM is not set)$/m.exec(s.config.text);
  if (s.config && setting) {
    if (setting[1] === "y")
      return {
        status: "present",
        how: `built into the kernel (${s.config.from}: CONFIG_NET_SCH_NETEM=y)`,
      };
    if (setting[1] === undefined)
      return { status: "absent", how: `${s.config.from}: CONFIG_NET_SCH_NETEM is not set` };
    // A module: present if the module file is installed for this kernel.
    if (s.modules?.loadable || s.modules?.builtin)
      return {
        status: "present",
        how: `a module (CONFIG_NET_SCH_NETEM=m, listed in ${s.modules.dir})`,
      };
    if (s.modules)
      return {
        status: "absent",
        how: `${s.config.from}: CONFIG_NET_SCH_NETEM=m, but ${s.modules.dir} has no sch_netem module`,
      };
    if (s.modinfo)
      return s.modinfo.ok
        ? { status: "present", how: "a module (modinfo sch_netem)" }
        : {
            status: "absent",
            how: "CONFIG_NET_SCH_NETEM=m, but modinfo finds no sch_netem module",
          };
    return {
      status: "unknown",
      how: `${s.config.from}: CONFIG_NET_SCH_NETEM=m, and there is no /lib/modules/${s.release} to tell whether the module is installed`,
    };
  }
  if (s.modules) {
    if (s.modules.builtin)
      return { status: "present", how: `built into the kernel (${s.modules.dir}/modules.builtin)` };
    if (s.modules.loadable)
      return { status: "present", how: `a module (${s.modules.dir}/modules.dep)` };
    return { status: "absent", how: `${s.modules.dir} has no sch_netem module` };
  }
  if (s.modinfo)
    return s.modinfo.ok
      ? { status: "present", how: "a module (modinfo sch_netem)" }
      : { status: "absent", how: "modinfo sch_netem finds no module" };
  return {
    status: "unknown",
    how: `no kernel config (/proc/config.gz, /boot/config-${s.release}), no /lib/modules/${s.release} and no modinfo to ask`,
  };
}

function readConfig(release: string): NetemSources["config"] {
  try {
    return {
      text: gunzipSync(readFileSync("/proc/config.gz")).toString("utf8"),
      from: "/proc/config.gz",
    };
  } catch {
    // not exposed (CONFIG_IKCONFIG_PROC off), or not readable here
  }
  const boot = `/boot/config-${release}`;
  try {
    return { text: readFileSync(boot, "utf8"), from: boot };
  } catch {
    return null;
  }
}

function readModules(release: string): NetemSources["modules"] {
  const dir = `/lib/modules/${release}`;
  if (!existsSync(dir)) return null;
  const has = (file: string) => {
    try {
      return /(^|\/)sch_netem\.ko(\.\w+)?\b/m.test(readFileSync(`${dir}/${file}`, "utf8"));
    } catch {
      return false;
    }
  };
  return { dir, builtin: has("modules.builtin"), loadable: has("modules.dep") };
}

function runModinfo(): NetemSources["modinfo"] {
  const r = spawnSync("modinfo", ["-F", "filename", "sch_netem"], {
    stdio: "ignore",
    env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
  });
  if (r.error) return null; // not installed
  return { ok: r.status === 0 };
}

/** Reads the sources on this host for `release` (the kernel the nodes run on). */
export function probeNetem(release: string): NetemFinding {
  return assessNetem({
    release,
    loaded: existsSync("/sys/module/sch_netem"),
    config: readConfig(release),
    modules: readModules(release),
    modinfo: runModinfo(),
  });
}
