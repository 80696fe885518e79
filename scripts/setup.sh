#!/usr/bin/env bash
# Sets up a fresh Debian machine for tcprepro, as root: the packages it needs, a running Docker
# engine (started here when none answers), the npm dependencies and the node image.
# Idempotent: on a machine that has everything it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '· %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh installs packages and starts dockerd: run it as root (sudo)" >&2
  exit 2
fi

missing=()
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] || missing+=(libc6-dev)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables >/dev/null || missing+=(iptables)
# The netns runtime runs these on the host, inside the nodes' namespaces.
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v hping3 >/dev/null || missing+=(hping3)
# Headless Chromium renders the HTML report in its test (the report itself needs no browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Debian's docker-compose brings docker-compose.yml (the standard topology) up in its test.
command -v docker-compose >/dev/null || missing+=(docker-compose)
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null; then missing+=(docker.io); fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: /var/log/tcprepro-dockerd.log)"
  nohup dockerd >/var/log/tcprepro-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not come up; see /var/log/tcprepro-dockerd.log" >&2; exit 1; }
fi

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error

say "building the images (the first time: debootstrap, about a minute)"
node bin/tcprepro.js images build
