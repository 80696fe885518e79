#!/usr/bin/env bash
# Runs a scenario whose step fails (default: an iptables fault with a bad match, at the same
# moment as the traffic) N times on a runtime, and counts: ERROR verdicts with a JSON report,
# crashes (no report, or a Node stack trace), and objects left behind by that run's process
# (docker: containers/networks labelled with its pid; netns: its state files and namespaces).
#   scripts/failing-step-loop.sh docker|netns [N] [scenario.yaml]
set -u
runtime=${1:?docker or netns}
n=${2:-20}
scenario=${3:-test/fixtures/errors/fault-step-race.yaml}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/tcprepro-loop-XXXXXX)
trap 'rm -rf "$out"' EXIT
errors=0 crashes=0 leftovers=0
for i in $(seq 1 "$n"); do
  node "$here/bin/tcprepro.js" run "$scenario" --runtime "$runtime" --json "$out/r.json" \
    >"$out/stdout" 2>"$out/stderr" &
  pid=$!
  wait $pid
  rc=$?
  if [ -s "$out/r.json" ] && grep -q '"verdict": "error"' "$out/r.json" && [ $rc -eq 1 ] &&
    ! grep -q 'Unhandled\|    at ' "$out/stderr"; then
    errors=$((errors + 1))
  else
    crashes=$((crashes + 1))
    echo "run $i: rc=$rc"; tail -5 "$out/stderr"
  fi
  left=0
  if [ "$runtime" = docker ]; then
    left=$(( $(docker ps -aq --filter "label=tcprepro.pid=$pid" | wc -l) +
      $(docker network ls -q --filter "label=tcprepro.pid=$pid" | wc -l) ))
  else
    # A run's state file is written before its first namespace and removed after its last
    # one: a file naming this process means something of it is left. (Namespaces are not
    # diffed: other runs on this machine come and go meanwhile.)
    left=0
    for f in $(grep -l "\"pid\":$pid," /run/tcprepro/netns-*.json 2>/dev/null); do
      id=$(basename "$f" .json); id=${id#netns-}
      left=$((left + 1 + $(ip netns list | awk '{print $1}' | grep -c "^tcprepro-$id-")))
    done
  fi
  [ "$left" -gt 0 ] && echo "run $i: $left object(s) left behind"
  leftovers=$((leftovers + left))
  rm -f "$out/r.json"
done
echo "$runtime: $errors/$n ERROR with a report, $crashes crash(es), $leftovers object(s) left behind"
