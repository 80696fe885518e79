/**
 * `tcprepro kernels check IMAGE MODULES`: which of the features the VM runtime needs a kernel
 * lacks, read without booting it — from its config (a `config-*` file beside the image or the
 * modules, or embedded with IKCONFIG) or, failing that, from modules.builtin/modules.dep —
 * and what each missing one costs (which scenarios SKIP or cannot run).
 */
import { spawnSync } from "node:child_process";
import { kindOf } from "../faults/registry.js";
import type { LoadedScenario } from "../scenario/load.js";
import { type KernelSources, optionState, readSources } from "./config.js";

/** A feature: present when every group has one option (or module) that is there. */
export interface Feature {
  id: string;
  what: string;
  /** All of these groups; within a group, any one option will do. */
  needs: Array<Array<{ config: string; module?: string }>>;
  /** Without it: `boot` (no VM at all), `all` (no scenario runs), or which scenarios suffer. */
  cost: "boot" | "all" | { uses: keyof CatalogUse; consequence: string };
}

/** What the catalog's scenarios use, by scenario name (from their variants). */
export interface CatalogUse {
  netfilter: string[];
  netem: string[];
  dropReasons: string[];
}

const opt = (config: string, module?: string) => ({ config, module });

/** How the host's iptables talks to the kernel: the guest runs the host's binary. */
export function hostIptablesFlavour(): "nft" | "legacy" {
  const r = spawnSync("iptables", ["-V"], { encoding: "utf8" });
  return /legacy/.test(r.stdout ?? "") ? "legacy" : "nft";
}

export function features(iptables: "nft" | "legacy"): Feature[] {
  const filter =
    iptables === "nft"
      ? [
          [opt("NF_TABLES", "nf_tables")],
          [opt("NFT_COMPAT", "nft_compat")],
          [opt("NFT_NAT", "nft_nat"), opt("NFT_CHAIN_NAT_IPV4", "nft_chain_nat_ipv4")],
        ]
      : [
          [opt("IP_NF_IPTABLES", "ip_tables")],
          [opt("IP_NF_FILTER", "iptable_filter")],
          [opt("IP_NF_NAT", "iptable_nat")],
        ];
  return [
    {
      id: "boot",
      what: "boot modules: virtio PCI and console, 9p over virtio, overlayfs, devtmpfs, tmpfs, initramfs",
      needs: [
        [opt("VIRTIO_PCI", "virtio_pci")],
        [opt("VIRTIO_CONSOLE", "virtio_console")],
        [opt("NET_9P", "9pnet")],
        [opt("NET_9P_VIRTIO", "9pnet_virtio")],
        [opt("9P_FS", "9p")],
        [opt("OVERLAY_FS", "overlay")],
        [opt("DEVTMPFS")],
        [opt("TMPFS")],
        [opt("BLK_DEV_INITRD")],
      ],
      cost: "boot",
    },
    {
      id: "netns",
      what: "network namespaces (every node is one)",
      needs: [[opt("NET_NS")]],
      cost: "all",
    },
    { id: "veth", what: "veth pairs (every link)", needs: [[opt("VETH", "veth")]], cost: "all" },
    {
      id: "bridge",
      what: "Linux bridges (one per network)",
      needs: [[opt("BRIDGE", "bridge")]],
      cost: "all",
    },
    {
      id: "netfilter",
      what: `netfilter for the host's iptables (${iptables === "nft" ? "nf_tables with nft_compat" : "legacy iptables"}), conntrack, NAT, and the xt matches the catalog uses`,
      needs: [
        ...filter,
        [opt("NF_CONNTRACK", "nf_conntrack")],
        [opt("NF_NAT", "nf_nat")],
        [
          opt("NETFILTER_XT_TARGET_MASQUERADE", "xt_MASQUERADE"),
          opt("IP_NF_TARGET_MASQUERADE", "ipt_MASQUERADE"),
        ],
        [opt("NETFILTER_XT_MATCH_CONNTRACK", "xt_conntrack")],
        [opt("NETFILTER_XT_MATCH_STATISTIC", "xt_statistic")],
      ],
      cost: {
        uses: "netfilter",
        consequence: "cannot run (their gateways SNAT and their faults are iptables rules)",
      },
    },
    {
      id: "netem",
      what: "the netem qdisc (delay, loss, reordering)",
      needs: [[opt("NET_SCH_NETEM", "sch_netem")]],
      cost: { uses: "netem", consequence: "SKIP (they need netem)" },
    },
    {
      id: "tracing",
      what: "tracepoints (skb:kfree_skb, for drop reasons; these also need 5.17+)",
      needs: [[opt("EVENT_TRACING")], [opt("FTRACE")]],
      cost: {
        uses: "dropReasons",
        consequence: "SKIP their drop-reason expectations",
      },
    },
  ];
}
export interface FeatureCheck {
  id: string;
  what: string;
  status: "present" | "missing" | "unknown";
  /** The options missing (one per unmet group: the first alternative named). */
  missing: string[];
  /** What it costs when missing. */
  cost?: string;
}

export interface KernelCheck {
  from: string;
  features: FeatureCheck[];
  /** True when the VM cannot boot or no scenario can run. */
  fatal: boolean;
}

export function checkKernel(
  src: KernelSources,
  use: CatalogUse,
  iptables: "nft" | "legacy",
): KernelCheck {
  const out: FeatureCheck[] = [];
  let fatal = false;
  for (const f of features(iptables)) {
    const missing: string[] = [];
    let unknown = false;
    for (const group of f.needs) {
      const states = group.map((o) => optionState(src, o));
      if (states.some((s) => s === "y" || s === "m")) continue;
      if (states.some((s) => s === "unknown")) unknown = true;
      else missing.push(group.map((o) => `CONFIG_${o.config}`).join(" or "));
    }
    const status = missing.length > 0 ? "missing" : unknown ? "unknown" : "present";
    let cost: string | undefined;
    if (status !== "present") {
      if (f.cost === "boot") cost = "the VM cannot boot: nothing runs";
      else if (f.cost === "all") cost = "no scenario can run";
      else {
        const names = use[f.cost.uses];
        cost =
          names.length > 0
            ? `${names.length} of the catalog's scenarios ${f.cost.consequence}: ${names.join(", ")}`
            : "none of the catalog's scenarios needs it";
      }
      if (status === "missing" && (f.cost === "boot" || f.cost === "all")) fatal = true;
    }
    out.push({ id: f.id, what: f.what, status, missing, ...(cost ? { cost } : {}) });
  }
  const from = src.config
    ? `config ${src.config.from}`
    : "modules.builtin and modules.dep (no config found: options that cannot be modules are unknown)";
  return { from, features: out, fatal };
}

export function formatCheck(c: KernelCheck, label: string): string {
  const lines = [`${label}: read from ${c.from}`];
  for (const f of c.features) {
    const mark = f.status === "present" ? "ok  " : f.status === "missing" ? "MISS" : "??  ";
    lines.push(`  ${mark} ${f.id.padEnd(9)} ${f.what}`);
    if (f.missing.length > 0) lines.push(`       missing: ${f.missing.join(", ")}`);
    if (f.cost)
      lines.push(`       ${f.status === "unknown" ? "if absent, costs" : "costs"}: ${f.cost}`);
  }
  lines.push(
    c.fatal
      ? "  this kernel cannot run tcprepro's scenarios: build it with the missing options (docs/kernels.md)"
      : "  tcprepro can boot this kernel",
  );
  return lines.join("\n") + "\n";
}

/** Which of the scenarios use netfilter, netem or drop reasons (in any variant). */
export function catalogUse(scenarios: LoadedScenario[]): CatalogUse {
  const use: CatalogUse = { netfilter: [], netem: [], dropReasons: [] };
  for (const s of scenarios) {
    const vs = s.variants.map((v) => v.scenario);
    const text = (o: unknown) => JSON.stringify(o);
    if (
      vs.some(
        (v) =>
          Object.values(v.nodes).some((n) => n.snat) ||
          v.faults.some((f) => kindOf(f).name === "iptables"),
      )
    )
      use.netfilter.push(s.name);
    if (vs.some((v) => /netem/.test(text(v.faults)) || /netem/.test(text(v.requires))))
      use.netem.push(s.name);
    if (vs.some((v) => v.expect.drops !== undefined && Object.keys(v.expect.drops).length > 0))
      use.dropReasons.push(s.name);
  }
  return use;
}

/** The check before a boot: no catalog at hand, no IKCONFIG decompression (that is seconds). */
export function checkBeforeBoot(image: string, modules: string): KernelCheck {
  return checkKernel(
    readSources(image, modules, false),
    { netfilter: [], netem: [], dropReasons: [] },
    hostIptablesFlavour(),
  );
}
