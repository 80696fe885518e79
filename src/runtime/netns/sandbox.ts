/**
 * A netns node's filesystem: its own mount namespace in which every mount of the host is
 * read-only, with private tmpfs on /tmp, /run, /var/tmp and a minimal /dev. A scenario's
 * commands run there as root, so the read-only mounts alone would not hold (root with
 * CAP_SYS_ADMIN remounts them writable, with CAP_MKNOD makes a disk's device node in /tmp): every
 * process entered into a node also loses those capabilities — it keeps Docker's default set
 * without mknod, plus NET_ADMIN, as a container of the Docker runtime has.
 *
 * What the harness reads back (captures, command output) it reads through the anchor's
 * /proc/<pid>/root, which is the node's view; nothing a node writes lands on the host.
 */

/** Capabilities a node's processes keep (capabilities(7) names, as setpriv takes them). */
export const NODE_CAPABILITIES = [
  "chown",
  "dac_override",
  "fowner",
  "fsetid",
  "kill",
  "setgid",
  "setuid",
  "setpcap",
  "setfcap",
  "net_bind_service",
  "net_raw",
  "net_admin",
  "sys_chroot",
  "audit_write",
];

/**
 * The node's mounts in one process, with the new mount API (Linux 5.12 for mount_setattr; the
 * syscall numbers from 424 up are the same on every architecture):
 * 1. clone the host's harmless device nodes, the agent's binary, and the directories of
 *    TCPREPRO_KEEP (the package's root, the working directory) when they lie under a path the
 *    node covers (a checkout in /tmp, as CI's clone may be), with open_tree;
 * 2. detach what the node's tmpfs will cover (umount2 MNT_DETACH; its number differs by
 *    architecture, elsewhere they stay, hidden): a private copy of /run/netns would hold every
 *    other run's namespaces alive as long as the node lives;
 * 3. every mount read-only and private, in one mount_setattr with AT_RECURSIVE: per mount,
 *    never the filesystem itself, which is what keeps the host's / writable; private, so that a
 *    mount the host makes later (a new container's root) does not appear writable here;
 * 4. fresh tmpfs on /dev, /tmp, /run, /var/tmp (fsopen, fsconfig, fsmount, move_mount), and the
 *    clones of step 1 back at their paths, the kept directories read-only.
 * perl-base is essential on Debian; a one-shot perl is one fork where `mount` would be one per
 * mount point (dozens on a host that runs containers). No single quotes inside: it goes into
 * `perl -e '…'`.
 */
const PERL = `use strict; use Config; use File::Basename; use File::Path;
sub sys { my ($n, @a) = @_; my $r = syscall($n, @a); die "syscall $n: $!\\n" if $r < 0; $r }
my ($fdcwd, $empty, %keep) = (-100, "");
my @dirs = grep { m{^/(run|tmp|var/tmp)/.} && -d } split(/:/, $ENV{TCPREPRO_KEEP} // "");
@dirs = sort { length($a) <=> length($b) } @dirs;
@dirs = grep { my $d = $_; !grep { $_ ne $d && index("$d/", "$_/") == 0 } @dirs } @dirs;
my @keep = ((map { "/dev/$_" } qw(null zero full random urandom tty)), @dirs, grep { my $f = $_; m{^/(run|tmp|var/tmp|dev)/} && !grep { index($f, "$_/") == 0 } @dirs } ($ENV{TCPREPRO_AGENT} // ()));
for my $p (@keep) { $keep{$p} = sys(428, $fdcwd, $p, 1 | 0x8000) if -e $p }
if (my $nr = {x86_64 => 166, aarch64 => 39, riscv64 => 39}->{(split /-/, $Config{archname})[0]}) {
  open(my $mi, "<", "/proc/self/mountinfo") or die "mountinfo: $!\\n";
  my @covered = grep { m{^/(run|tmp|var/tmp|dev)(/|$)} } map { (split / /)[4] } <$mi>;
  for my $m (sort { length($a) <=> length($b) } @covered) { $m =~ s/\\\\(\\d{3})/chr(oct($1))/ge; syscall($nr, $m, 2) }
}
my ($root, $ro) = ("/", pack("QQQQ", 1, 0, 1 << 18, 0));
sys(442, $fdcwd, $root, 0x8000, $ro, 32);
for (["/dev", "755", 2], ["/tmp", "1777", 6], ["/run", "755", 6], ["/var/tmp", "1777", 6]) {
  my ($target, $mode, $attr) = @$_;
  next unless -d $target;
  my ($type, $key) = ("tmpfs", "mode");
  my $fs = sys(430, $type, 0);
  sys(431, $fs, 1, $key, $mode, 0);
  sys(431, $fs, 6, 0, 0, 0);
  sys(429, sys(432, $fs, 0, $attr), $empty, $fdcwd, $target, 4);
}
for my $p (sort { length($a) <=> length($b) } keys %keep) {
  if (-d $p || grep { $_ eq $p } @dirs) { mkpath($p) } else { mkpath(dirname($p)); open(my $f, ">", $p) or die "$p: $!\\n"; close $f }
  sys(429, $keep{$p}, $empty, $fdcwd, $p, 4);
}
sys(442, $fdcwd, $_, 0x8000, $ro, 32) for @dirs;
mkdir "/dev/shm"; chmod 01777, "/dev/shm";
symlink "/proc/self/fd", "/dev/fd";
symlink "/proc/self/fd/$_->[1]", "/dev/$_->[0]" for (["stdin", 0], ["stdout", 1], ["stderr", 2]);`;

/**
 * The anchor's shell, between its network set-up and the exec of `tcprepro-agent hold`. It runs
 * in the mount namespace `ip netns exec` made for it (whose mounts are slaves of the host's: a
 * change here never propagates out). Without perl or on an older kernel, the same with
 * util-linux: a `mount` per writable mount point, and /dev built on a tmpfs then moved. Each
 * step is idempotent, so the fallback also completes what a failed perl began.
 * Exit 12: the read-only remount failed, 13: /dev, 14: tmpfs.
 */
export const SANDBOX_SCRIPT = [
  `perl -e '${PERL}' 2>/dev/null || {`,
  "  mount -n --make-rprivate / || exit 12",
  // The agent in a checkout under a covered path: kept open, copied back into the node's tmpfs.
  // (TCPREPRO_KEEP's directories are not kept here: without the new mount API a node does not
  // see a checkout under /tmp beyond its agent.)
  '  case "$TCPREPRO_AGENT" in /tmp/* | /run/* | /var/tmp/*) exec 4<"$TCPREPRO_AGENT" ;; esac',
  "  while read -r _ _ _ _ mp opts _; do",
  '    case "$opts" in rw*) ;; *) continue ;; esac',
  // Covered by the node's own tmpfs below: not worth a fork each (/run/netns holds one per namespace).
  '    case "$mp" in /tmp | /tmp/* | /run | /run/* | /dev | /dev/*) continue ;; esac',
  '    case "$mp" in *\\\\*) mp=$(printf %b "$mp") ;; esac',
  '    mount -n -o "remount,bind,ro${opts#rw}" "$mp" || exit 12',
  "  done </proc/self/mountinfo",
  // /dev: the host's would let root open its disks (device nodes ignore a read-only mount).
  "  mount -n -t tmpfs -o mode=755,nosuid tcprepro-dev /tmp || exit 13",
  "  set --",
  '  for f in null zero full random urandom tty fd stdin stdout stderr; do [ -e "/dev/$f" ] && set -- "$@" "/dev/$f"; done',
  '  cp -a "$@" /tmp/ && mkdir -m 1777 /tmp/shm && mount -n --move /tmp /dev || exit 13',
  "  mount -n -t tmpfs -o mode=1777,nosuid,nodev tcprepro-tmp /tmp || exit 14",
  "  mount -n -t tmpfs -o mode=755,nosuid,nodev tcprepro-run /run || exit 14",
  "  [ ! -d /var/tmp ] || mount -n -t tmpfs -o mode=1777,nosuid,nodev tcprepro-tmp /var/tmp || exit 14",
  '  if [ -e /proc/self/fd/4 ]; then mkdir -p "${TCPREPRO_AGENT%/*}" && cat <&4 >"$TCPREPRO_AGENT" && chmod 755 "$TCPREPRO_AGENT" || exit 14; exec 4<&-; fi',
  "}",
];

/**
 * argv that runs `argv` inside a node: into the anchor's network and mount namespaces, with the
 * node's capabilities only. Both tools exec in place, so the process's PID is the command's.
 */
export function enterNode(anchorPid: number, argv: string[]): string[] {
  return [
    "nsenter",
    `--target=${anchorPid}`,
    "--net",
    "--mount",
    "--",
    "setpriv",
    `--bounding-set=-all,${NODE_CAPABILITIES.map((c) => `+${c}`).join(",")}`,
    "--",
    ...argv,
  ];
}
