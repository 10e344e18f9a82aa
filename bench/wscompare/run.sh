#!/usr/bin/env bash
# Measures each Go WebSocket library's bench server (and Node's socket.io as the reference)
# with bench/loadgen, several rounds in rotating order, and prints a table of medians.
#
#   bench/wscompare/run.sh [SERVER...]           default: all eleven (see ALL below)
#   bench/wscompare/run.sh profile SERVER...     CPU profile of each server in one flood run
#                                                (PROFILE_SCENARIO=paced for the paced one)
#
# Environment: ROUNDS (3), SCENARIOS ("idle flood paced"), BENCH_OUT (bench/out/<time>),
# PAUSE (seconds between runs, 2). Scenario sizes are loadgen's defaults: idle 10,000
# connections; flood 1,000 receivers × 300 messages; paced 5,000 receivers × 100 messages at 10/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh

ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-idle flood paced}
ALL="gorilla coder gws gobwas gobwasepoll gobwasstd gobwashybrid gobwaspool nbio nbiostd node"

mode=run
if [ "${1:-}" = profile ]; then mode=profile; shift; fi
servers=${*:-$ALL}

build_loadgen
for s in $servers; do
  case $s in
    node) node_deps ;;
    *) (cd bench/wscompare && go build -o "../../$BIN/ws-$s" "./$s") ;;
  esac
done

cmd_for() {
  case $1 in
    node) echo 'node bench/node/server.js $PORT' ;;
    *) echo "$BIN/ws-$1 -addr 127.0.0.1:\$PORT ${2:-}" ;;
  esac
}

if [ $mode = profile ]; then
  sc=${PROFILE_SCENARIO:-flood}
  for s in $servers; do
    prof="$BENCH_OUT/$s.$sc.prof"
    measure "$s" "$(cmd_for "$s" "-cpuprofile $prof")" "$sc"
    go tool pprof -top -nodecount=25 "$BIN/ws-$s" "$prof" 2>/dev/null | tee "$BENCH_OUT/$s.$sc.top.txt"
  done
  exit 0
fi

say "results: $RESULTS; machine: $(nproc) cores, $(uname -r), go $(go env GOVERSION), node $(node --version)"
for round in $(seq "$ROUNDS"); do
  for sc in $SCENARIOS; do
    for s in $(rotate $((round - 1)) $servers); do
      say "-- round $round/$ROUNDS: $s $sc"
      measure "$s" "$(cmd_for "$s")" "$sc"
    done
  done
done

go run ./bench/report -spread -servers "$(echo $servers | tr ' ' ,)" "$RESULTS" | tee "$BENCH_OUT/table.md"
