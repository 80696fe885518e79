/** What a kernel lacks of what the VM runtime needs, read from a config or its module lists. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { catalogUse, checkKernel } from "../../src/kernels/check.js";
import { parseConfig, readSources } from "../../src/kernels/config.js";
import { expandPaths, loadAll } from "../../src/run/run.js";
import { anyKernel } from "../../src/scenario/semantics.js";

const FULL = `
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_CONSOLE=m
CONFIG_NET_9P=m
CONFIG_NET_9P_VIRTIO=m
CONFIG_9P_FS=m
CONFIG_OVERLAY_FS=m
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_NET_NS=y
CONFIG_VETH=m
CONFIG_BRIDGE=m
CONFIG_NF_TABLES=m
CONFIG_NFT_COMPAT=m
CONFIG_NFT_CHAIN_NAT_IPV4=m
CONFIG_NF_CONNTRACK=m
CONFIG_NF_NAT=m
CONFIG_NETFILTER_XT_TARGET_MASQUERADE=m
CONFIG_NETFILTER_XT_MATCH_CONNTRACK=m
CONFIG_NETFILTER_XT_MATCH_STATISTIC=m
CONFIG_NET_SCH_NETEM=m
CONFIG_EVENT_TRACING=y
CONFIG_FTRACE=y
CONFIG_LOCALVERSION=""
`;
const none = { netfilter: [], netem: [], dropReasons: [] };
const src = (config: string) => ({
  config: { values: parseConfig(config), from: "test" },
  modules: { dep: "", builtin: "" },
});
const byId = (c: ReturnType<typeof checkKernel>) =>
  Object.fromEntries(c.features.map((f) => [f.id, f.status]));

describe("kernels check", () => {
  it("finds everything in a complete config (4.11's NAT chain under its old name)", () => {
    const c = checkKernel(src(FULL), none, "nft");
    expect(c.fatal).toBe(false);
    expect(new Set(c.features.map((f) => f.status))).toEqual(new Set(["present"]));
  });

  it("says what a missing feature costs: no netns is fatal, no netem costs scenarios that need it", () => {
    const config = FULL.replace("CONFIG_NET_NS=y", "# CONFIG_NET_NS is not set").replace(
      "CONFIG_NET_SCH_NETEM=m",
      "",
    );
    const c = checkKernel(src(config), { ...none, netem: ["lossy-path"] }, "nft");
    expect(c.fatal).toBe(true);
    const netns = c.features.find((f) => f.id === "netns")!;
    expect(netns).toMatchObject({ status: "missing", missing: ["CONFIG_NET_NS"] });
    expect(netns.cost).toBe("no scenario can run");
    expect(c.features.find((f) => f.id === "netem")!.cost).toContain(
      "SKIP (they need netem): lossy-path",
    );
  });

  it("wants legacy iptables' own modules when the host's iptables is legacy", () => {
    const c = checkKernel(src(FULL), none, "legacy");
    expect(c.features.find((f) => f.id === "netfilter")!.missing).toContain(
      "CONFIG_IP_NF_IPTABLES",
    );
  });

  it("falls back on modules.builtin and modules.dep; a bool option is then unknown", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcprepro-check-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const mods = join(dir, "lib", "modules", "9.9.0");
    mkdirSync(mods, { recursive: true });
    writeFileSync(
      join(mods, "modules.builtin"),
      ["virtio_pci", "virtio_console"].map((m) => `kernel/drivers/x/${m}.ko`).join("\n") + "\n",
    );
    writeFileSync(
      join(mods, "modules.dep"),
      ["9pnet", "9pnet_virtio", "9p", "overlay", "veth"]
        .map((m) => `kernel/x/${m}.ko.xz:`)
        .join("\n") + "\n",
    );
    const s = readSources(join(dir, "no-image"), mods, false);
    expect(s.config).toBeUndefined();
    const c = checkKernel(s, none, "nft");
    expect(byId(c)).toMatchObject({ netns: "unknown", veth: "present", bridge: "missing" });
    // devtmpfs, tmpfs, initrd cannot be modules: unknown, so boot is not called missing.
    expect(byId(c).boot).toBe("unknown");
    expect(c.fatal).toBe(true); // no bridge
  });

  it("reads a config beside the modules (a build's `config`, Debian's boot/config-<release>)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcprepro-check-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const mods = join(dir, "root", "lib", "modules", "6.1.0-x");
    mkdirSync(mods, { recursive: true });
    mkdirSync(join(dir, "root", "boot"));
    writeFileSync(join(dir, "root", "boot", "config-6.1.0-x"), FULL);
    expect(readSources(join(dir, "vmlinuz"), mods, false).config?.from).toBe(
      join(dir, "root", "lib", "modules", "6.1.0-x", "..", "..", "..", "boot", "config-6.1.0-x"),
    );
  });

  it("knows which of the catalog's scenarios use netfilter and drop reasons", () => {
    const use = catalogUse(loadAll(expandPaths(["scenarios"]), anyKernel));
    expect(use.netfilter).toEqual(
      expect.arrayContaining(["snat-port-reuse", "syn-blackhole", "tw-recycle-nat"]),
    );
    expect(use.netfilter).not.toContain("connection-refused");
    expect(use.dropReasons).toContain("syn-blackhole");
  });
});
