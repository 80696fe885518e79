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
  before=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^tcprepro-' | sort)
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
    left=$(grep -l "\"pid\":$pid," /run/tcprepro/netns-*.json 2>/dev/null | wc -l)
    after=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^tcprepro-' | sort)
    new=$(comm -13 <(echo "$before") <(echo "$after") | grep -c . || true)
    left=$((left + new))
  fi
  [ "$left" -gt 0 ] && echo "run $i: $left object(s) left behind"
  leftovers=$((leftovers + left))
  rm -f "$out/r.json"
done
echo "$runtime: $errors/$n ERROR with a report, $crashes crash(es), $leftovers object(s) left behind"
