import { describe, expect, it } from "vitest";
import { assess, formatDoctor, type DoctorFacts } from "../../src/doctor/assess.js";
import { catalogNeeds, type CatalogNeeds } from "../../src/doctor/catalog-needs.js";
import { assessNetem, type NetemSources } from "../../src/runtime/shared/netem.js";
import { expandPaths, loadAll } from "../../src/run/run.js";

/** A made-up machine with everything; each test takes something away. */
function facts(
  over: Partial<DoctorFacts> = {},
  has: { sysctls?: string[]; counters?: string[] } = {},
  qdiscs: CatalogNeeds["qdiscs"] = new Map(),
): DoctorFacts {
  const needs: CatalogNeeds = {
    scenarios: [
      { name: "accept-queue-overflow" },
      { name: "tw-recycle-nat", kernelRange: "<4.12" },
      { name: "snat-port-reuse" },
    ],
    sysctls: new Map([
      ["net.core.somaxconn", [{ scenario: "accept-queue-overflow", required: false }]],
      [
        "net.ipv4.tcp_tw_recycle",
        [{ scenario: "tw-recycle-nat", kernelRange: "<4.12", required: true }],
      ],
    ]),
    counters: new Map([
      ["TcpExtListenOverflows", [{ scenario: "accept-queue-overflow", required: true }]],
      ["TcpExtPAWSPassive", [{ scenario: "tw-recycle-nat", kernelRange: "<4.12", required: true }]],
      ["NfConntrackInsertFailed", [{ scenario: "snat-port-reuse", required: true }]],
    ]),
    qdiscs,
  };
  const sysctls = new Set(has.sysctls ?? ["net.core.somaxconn"]);
  return {
    engine: { reachable: true, version: "20.10.24 (API 1.41)", where: "/var/run/docker.sock" },
    images: {
      node: { name: "tcprepro/node:abc", present: true },
      base: { name: "tcprepro/base:bookworm", present: true },
    },
    uid: 0,
    inventory: {
      release: "6.18.44",
      sysctlExists: (n) => sysctls.has(n),
      counters: new Set(has.counters ?? ["TcpExtListenOverflows", "NfConntrackInsertFailed"]),
      qdiscs: new Set(["netem"]),
    },
    netem: { status: "present", how: "loaded (/sys/module/sch_netem)" },
    tools: {
      gcc: "/usr/bin/gcc",
      staticLibc: "/usr/lib/x86_64-linux-gnu/libc.a",
      debootstrap: "/usr/sbin/debootstrap",
    },
    catalog: { needs },
    ...over,
  };
}

const check = (r: ReturnType<typeof assess>, name: string) =>
  r.checks.find((c) => c.name === name)!;

describe("doctor's assessment", () => {
  it("finds no gap on a machine that has everything; what only older kernels need is n/a", () => {
    const r = assess(facts());
    expect(r.gaps).toBe(0);
    expect(r.checks.filter((c) => c.status !== "ok").map((c) => [c.name, c.status])).toEqual([
      ["net.ipv4.tcp_tw_recycle", "n/a"],
      ["TcpExtPAWSPassive", "n/a"],
    ]);
    expect(check(r, "net.ipv4.tcp_tw_recycle").detail).toBe(
      "absent, not needed on 6.18.44: tw-recycle-nat runs on kernel <4.12 (SKIPs here)",
    );
    expect(check(r, "kernel").detail).toBe(
      "6.18.44 (not for tw-recycle-nat, which needs <4.12: it SKIPs here)",
    );
    const text = formatDoctor(r);
    expect(text).toMatch(
      /^engine\n  ✓ Docker engine +20.10.24 \(API 1.41\) at \/var\/run\/docker.sock\n/,
    );
    expect(text).toMatch(/  – net.ipv4.tcp_tw_recycle +absent, not needed/);
    expect(text.trimEnd().split("\n").at(-1)).toBe(
      "everything tcprepro and the catalog need is here",
    );
  });

  it("on an old kernel, the tw_recycle scenario's names count", () => {
    const old = facts();
    old.inventory = { ...old.inventory, release: "4.9.0" };
    const r = assess(old);
    expect(check(r, "net.ipv4.tcp_tw_recycle")).toMatchObject({
      status: "gap",
      detail: "absent on 4.9.0: tw-recycle-nat will SKIP",
    });
    expect(check(r, "net.ipv4.tcp_tw_recycle").fix).toContain("removed in Linux 4.12");
    expect(check(r, "TcpExtPAWSPassive").status).toBe("gap");
  });

  it("on 4.11, a sysctl a node's namespace lacks is a gap, although the kernel has it", () => {
    const k411 = facts({}, { sysctls: ["net.core.somaxconn", "net.ipv4.tcp_tw_recycle"] });
    k411.inventory = {
      ...k411.inventory,
      release: "4.11.0",
      sysctlPerNetns: (n) => n !== "net.core.somaxconn",
    };
    const r = assess(k411);
    expect(check(r, "net.core.somaxconn")).toMatchObject({
      status: "gap",
      detail:
        "only in the initial namespace on 4.11.0: accept-queue-overflow will SKIP (a node cannot set it)",
    });
    expect(check(r, "net.ipv4.tcp_tw_recycle").status).toBe("ok");
  });

  it("says what to do when the engine does not answer, and that the images are unknown", () => {
    const r = assess(
      facts({
        engine: {
          reachable: false,
          where: "/var/run/docker.sock",
          error: "no Docker engine answers at /var/run/docker.sock (ENOENT): install one",
        },
        images: {
          node: { name: "tcprepro/node:abc", present: null },
          base: { name: "tcprepro/base:bookworm", present: null },
        },
      }),
    );
    expect(check(r, "Docker engine")).toMatchObject({
      status: "gap",
      fix: expect.stringContaining("install one"),
    });
    expect(check(r, "image tcprepro/node:abc").status).toBe("unknown");
    expect(r.gaps).toBe(1);
    expect(formatDoctor(r)).toMatch(/1 gap; 1 unknown: see → above\n$/);
  });

  it("a missing node image is a gap; a missing base image only when the node image must be built", () => {
    const built = assess(
      facts({
        images: { node: { name: "n", present: true }, base: { name: "b", present: false } },
      }),
    );
    expect(check(built, "image b").status).toBe("n/a");
    expect(built.gaps).toBe(0);
    const fresh = assess(
      facts({
        images: { node: { name: "n", present: false }, base: { name: "b", present: false } },
      }),
    );
    expect(check(fresh, "image n")).toMatchObject({
      status: "gap",
      fix: expect.stringContaining("tcprepro images build"),
    });
    expect(check(fresh, "image b").status).toBe("gap");
  });

  it("not root, no gcc, no libc.a, no debootstrap: a gap each, with the package to install", () => {
    const r = assess(
      facts({ uid: 1000, tools: { gcc: null, staticLibc: null, debootstrap: null } }),
    );
    expect(check(r, "privileges")).toMatchObject({
      status: "gap",
      fix: expect.stringContaining("run as root"),
    });
    expect(check(r, "gcc").fix).toContain("apt-get install -y gcc libc6-dev");
    expect(check(r, "static libc").fix).toContain("libc6-dev");
    expect(check(r, "debootstrap").fix).toContain("apt-get install -y debootstrap");
    expect(r.gaps).toBe(4);
  });

  it("a missing sysctl: SKIP when required, a load error when only a node sets it; conntrack counters say modprobe", () => {
    const r = assess(facts({}, { sysctls: [], counters: ["TcpExtListenOverflows"] }));
    expect(check(r, "net.core.somaxconn")).toMatchObject({
      status: "gap",
      detail: expect.stringContaining(
        "accept-queue-overflow will not load (a node sets it; list it in requires.sysctls to SKIP instead)",
      ),
    });
    expect(check(r, "NfConntrackInsertFailed")).toMatchObject({
      status: "gap",
      detail: "absent on 6.18.44: snat-port-reuse will SKIP",
    });
    expect(check(r, "NfConntrackInsertFailed").fix).toContain("modprobe nf_conntrack");
    expect(r.gaps).toBe(2);
  });

  it("netem: absent is a gap only where a scenario uses it; unknown is said but does not fail", () => {
    const how = "/proc/config.gz: CONFIG_NET_SCH_NETEM is not set";
    const unused = assess(facts({ netem: { status: "absent", how } }));
    expect(check(unused, "netem qdisc")).toMatchObject({
      status: "n/a",
      detail: `${how}; no scenario uses it`,
    });
    expect(unused.gaps).toBe(0);
    const used = assess(
      facts(
        { netem: { status: "absent", how } },
        {},
        new Map([["netem", [{ scenario: "lossy", required: true }]]]),
      ),
    );
    expect(check(used, "netem qdisc")).toMatchObject({
      status: "gap",
      detail: `${how}; used by lossy`,
    });
    expect(used.gaps).toBe(1);
    const unknown = assess(facts({ netem: { status: "unknown", how: "no kernel config" } }));
    expect(check(unknown, "netem qdisc")).toMatchObject({
      status: "unknown",
      fix: expect.stringContaining("modinfo sch_netem"),
    });
    expect(unknown.gaps).toBe(0);
    expect(formatDoctor(unknown)).toContain("  ? netem qdisc");
  });

  it("a catalog that does not load is a gap with the loader's message", () => {
    const r = assess(facts({ catalog: { error: "scenarios/x.yaml:3:1: nodes: required" } }));
    expect(check(r, "scenarios")).toMatchObject({
      group: "catalog",
      status: "gap",
      fix: "scenarios/x.yaml:3:1: nodes: required",
    });
    expect(formatDoctor(r)).toMatch(/\ncatalog\n  ✗ scenarios  the scenarios did not load\n/);
  });
});

describe("netem from what the kernel says about itself", () => {
  const none: NetemSources = {
    release: "6.1.0",
    loaded: false,
    config: null,
    modules: null,
    modinfo: null,
  };
  const config = (line: string) => ({
    text: `CONFIG_NET_SCH_HTB=y\n${line}\nCONFIG_NET_SCH_PRIO=m\n`,
    from: "/proc/config.gz",
  });

  it.each<[string, Partial<NetemSources>, string, RegExp]>([
    ["loaded", { loaded: true }, "present", /loaded/],
    ["built in", { config: config("CONFIG_NET_SCH_NETEM=y") }, "present", /built into the kernel/],
    ["not set", { config: config("# CONFIG_NET_SCH_NETEM is not set") }, "absent", /is not set/],
    [
      "a module, installed",
      {
        config: config("CONFIG_NET_SCH_NETEM=m"),
        modules: { dir: "/lib/modules/6.1.0", builtin: false, loadable: true },
      },
      "present",
      /a module/,
    ],
    [
      "a module, not installed",
      {
        config: config("CONFIG_NET_SCH_NETEM=m"),
        modules: { dir: "/lib/modules/6.1.0", builtin: false, loadable: false },
      },
      "absent",
      /has no sch_netem/,
    ],
    [
      "a module, no /lib/modules",
      { config: config("CONFIG_NET_SCH_NETEM=m") },
      "unknown",
      /no \/lib\/modules\/6.1.0/,
    ],
    [
      "no config, modules.dep",
      { modules: { dir: "/lib/modules/6.1.0", builtin: false, loadable: true } },
      "present",
      /modules.dep/,
    ],
    [
      "no config, modules.builtin",
      { modules: { dir: "/lib/modules/6.1.0", builtin: true, loadable: false } },
      "present",
      /modules.builtin/,
    ],
    [
      "no config, not in modules",
      { modules: { dir: "/lib/modules/6.1.0", builtin: false, loadable: false } },
      "absent",
      /has no sch_netem/,
    ],
    ["only modinfo, found", { modinfo: { ok: true } }, "present", /modinfo/],
    ["only modinfo, not found", { modinfo: { ok: false } }, "absent", /modinfo/],
    ["nothing to ask", {}, "unknown", /no kernel config/],
  ])("%s → %s", (_, over, status, how) => {
    const r = assessNetem({ ...none, ...over });
    expect(r.status).toBe(status);
    expect(r.how).toMatch(how);
  });

  it("does not mistake another qdisc's line for netem's", () => {
    expect(
      assessNetem({ ...none, config: { text: "CONFIG_NET_SCH_NETEMX=y\n", from: "c" } }).status,
    ).toBe("unknown");
  });
});

describe("what the catalog uses", () => {
  // Every sysctl accepted while loading: doctor reports the missing ones itself.
  const needs = catalogNeeds(loadAll(expandPaths(["scenarios"]), { sysctlExists: () => true }));

  it("collects sysctls from nodes and requires, counters from expect and requires, with kernel ranges", () => {
    expect(needs.sysctls.get("net.ipv4.tcp_tw_recycle")).toEqual([
      { scenario: "tw-recycle-nat", kernelRange: ">=4.11, <4.12", required: true },
    ]);
    expect(needs.sysctls.get("net.core.somaxconn")?.map((u) => u.scenario)).toContain(
      "somaxconn-caps-backlog",
    );
    expect(needs.sysctls.get("net.core.somaxconn")?.[0]?.required).toBe(false);
    expect(needs.counters.get("TcpExtPAWSPassive")).toEqual([
      { scenario: "tw-recycle-nat", kernelRange: ">=4.11, <4.12", required: true },
    ]);
    expect(needs.counters.get("TcpExtListenOverflows")?.map((u) => u.scenario)).toContain(
      "accept-queue-overflow",
    );
    expect(needs.scenarios.find((s) => s.name === "tw-recycle-nat")?.kernelRange).toBe(
      ">=4.11, <4.12",
    );
  });

  it("lists a scenario once per name even when several variants use it", () => {
    for (const uses of [...needs.sysctls.values(), ...needs.counters.values()]) {
      const names = uses.map((u) => u.scenario);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});
