/**
 * The initramfs of a VM kernel: busybox, the kernel's own virtio/9p/overlay modules (those it
 * has as modules; the rest are built in), and an /init that mounts the host's `/` read-only
 * over 9p under a tmpfs overlay and hands PID 1 to the guest agent on the virtio-serial port.
 * The guest thus runs the host's tools (ip, iptables, tcpdump, the agent) without an image.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

/** What the guest needs before it can reach the host's root. Order does not matter: deps resolve. */
const BOOT_MODULES = ["virtio_pci", "virtio_console", "9pnet", "9pnet_virtio", "9p", "overlay"];

/** The virtio-serial port's name, on both sides. */
export const PORT_NAME = "tcprepro";

/**
 * Stage 1. The guest agent's path comes on the kernel command line (`tcprepro.guest=`), so one
 * initramfs serves any checkout. Module autoloading after switch_root (veth, nf_tables, netem)
 * goes through busybox's modprobe and the extracted module tree, visible over 9p.
 */
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin; export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /load.list); do insmod /mods/$m || echo "init: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower || exec sh
mount -t tmpfs -o size=256m tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || exec sh
for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = ${PORT_NAME} ] && PORT=/dev/\${p##*/}; done
for a in $(cat /proc/cmdline); do case $a in tcprepro.guest=*) GUEST=\${a#*=};; esac; done
for d in proc sys dev; do mount --move /$d /newroot/$d; done
mount -t tmpfs tmpfs /newroot/run; mkdir -p /newroot/run/bin /newroot/run/netns
cp /bin/busybox /newroot/run/busybox
K=$(uname -r); mkdir -p /newroot/usr/lib/modules; ln -sfn "$(cat /moddir)" /newroot/usr/lib/modules/$K
ln -s /run/busybox /newroot/run/bin/modprobe; ln -s /run/busybox /newroot/run/bin/poweroff
echo /run/bin/modprobe > /newroot/proc/sys/kernel/modprobe
echo 1 > /newroot/proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null
export PATH=/run/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
exec switch_root /newroot "$GUEST" "$PORT"
`;

/**
 * What the init script is, by content: a cached initramfs built from another one is rebuilt.
 * (/tmp is the overlay's, not a tmpfs of its own: a checkout under the host's /tmp, as CI's
 * clones may be, has to be visible to the guest.)
 */
export const INIT_HASH = createHash("sha256").update(INIT).digest("hex").slice(0, 12);

function decompress(src: string, dst: string): void {
  const tool = src.endsWith(".xz")
    ? "xz"
    : src.endsWith(".zst")
      ? "zstd"
      : src.endsWith(".gz")
        ? "gzip"
        : undefined;
  if (!tool) {
    copyFileSync(src, dst);
    return;
  }
  const r = spawnSync(tool, ["-dc", src], { maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${tool} -dc ${src}: ${r.stderr?.toString()}`);
  writeFileSync(dst, r.stdout);
}

/** Module paths (relative to the tree) to load, each after its dependencies. */
export function loadOrder(modulesDep: string, wanted: string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split("\n")) {
    const [mod, rest] = line.split(":");
    if (mod && rest !== undefined) deps.set(mod, rest.trim().split(/\s+/).filter(Boolean));
  }
  const order: string[] = [];
  const add = (path: string) => {
    if (order.includes(path)) return;
    for (const d of deps.get(path) ?? []) add(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = [...deps.keys()].find((p) =>
      new RegExp(`/${name}\\.ko(\\.(xz|zst|gz))?$`).test(p),
    );
    if (path) add(path); // absent from modules.dep: built in
  }
  return order;
}

export async function buildInitramfs(o: {
  modules: string;
  busybox: string;
  out: string;
  /** Where the guest finds the module tree, when not at `modules` (built elsewhere first). */
  moddir?: string;
}): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "tcprepro-initrd-"));
  try {
    for (const d of ["bin", "mods", "proc", "sys", "dev", "newroot", "lower", "upper"])
      mkdirSync(join(root, d));
    copyFileSync(o.busybox, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    writeFileSync(join(root, "init"), INIT, { mode: 0o755 });
    const order = loadOrder(readFileSync(join(o.modules, "modules.dep"), "utf8"), BOOT_MODULES);
    const names = order.map((p) => basename(p).replace(/\.(xz|zst|gz)$/, ""));
    order.forEach((p, i) => decompress(join(o.modules, p), join(root, "mods", names[i]!)));
    writeFileSync(join(root, "load.list"), names.join("\n") + "\n");
    writeFileSync(join(root, "moddir"), (o.moddir ?? o.modules) + "\n");
    // No cpio on a bare host: busybox has one.
    const r = spawnSync(
      "sh",
      ["-c", `find . | "$1" cpio -o -H newc 2>/dev/null | gzip -1 > "$2"`, "sh", o.busybox, o.out],
      { cwd: root },
    );
    if (r.status !== 0) throw new Error(`building the initramfs failed: ${r.stderr?.toString()}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
