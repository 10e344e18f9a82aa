#!/usr/bin/env bash
# Switchboard's bench fixture against Node's socket.io, side by side (`make bench`): every
# scenario against both servers, alternating them, several rounds, then a table of medians with
# the ratio Switchboard / Node.
#
#   idle   10,000 connections: server RSS per idle connection
#   open   10,000 connections: connections opened per second
#   flood  1,000 receivers; one of them sends 300 messages as fast as it can
#   paced  5,000 receivers; 100 messages at 10 per second
#
# Environment:
#   SWITCHBOARD_CMD  the Switchboard server, with '$PORT' where the port goes (default: built
#                    from ./bench/fixture; until that exists, the wscompare server named by
#                    STANDIN, default gobwaspool, stands in and the output says so)
#   NODE_CMD         default 'node bench/node/server.js $PORT'
#   SB_LABEL, NODE_LABEL  column names; ROUNDS (3); SCENARIOS ("idle open flood paced");
#   LOADGEN_ARGS     extra load generator flags, e.g. '-transport polling' (with smaller -n:
#                    polling holds two TCP connections per socket);
#   SERVER_PREFIX, LOADGEN_PREFIX  commands the servers and the load generator run under, e.g.
#                    'taskset -c 0' and 'taskset -c 1': each on a core of its own (informative;
#                    the tables in BENCHMARKS.md leave placement to the scheduler unless they say);
#   BENCH_OUT (bench/out/<time>); PAUSE, QUIET, QUIET_WAIT: see bench/lib.sh.
# Example, any two servers:
#   (cd bench/wscompare && go build -o /tmp/ws-gws ./gws)
#   SWITCHBOARD_CMD='/tmp/ws-gws -addr 127.0.0.1:$PORT' SB_LABEL=gws bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-idle open flood paced}

build_loadgen
node_deps
if [ -z "${SWITCHBOARD_CMD:-}" ]; then
  if [ -d bench/fixture ]; then
    go build -o "$BIN/bench-fixture" ./bench/fixture
    SWITCHBOARD_CMD="$BIN/bench-fixture --addr 127.0.0.1:\$PORT"
    SB_LABEL=${SB_LABEL:-switchboard}
  else
    STANDIN=${STANDIN:-gobwaspool}
    say "NOTE: ./bench/fixture does not exist yet: wscompare/$STANDIN stands in for Switchboard."
    (cd bench/wscompare && go build -o "../../$BIN/ws-$STANDIN" "./$STANDIN")
    SWITCHBOARD_CMD="$BIN/ws-$STANDIN -addr 127.0.0.1:\$PORT"
    SB_LABEL=${SB_LABEL:-standin-$STANDIN}
  fi
fi
SB_LABEL=${SB_LABEL:-switchboard}
NODE_CMD=${NODE_CMD:-'node bench/node/server.js $PORT'}
NODE_LABEL=${NODE_LABEL:-node}

say "results: $RESULTS; machine: $(nproc) cores, $(uname -r), go $(go env GOVERSION), node $(node --version)"
say "$SB_LABEL: $SWITCHBOARD_CMD"
say "$NODE_LABEL: $NODE_CMD"
for round in $(seq "$ROUNDS"); do
  for sc in $SCENARIOS; do
    for who in $(rotate $((round - 1)) sb node); do
      if [ "$who" = sb ]; then label=$SB_LABEL cmd=$SWITCHBOARD_CMD; else label=$NODE_LABEL cmd=$NODE_CMD; fi
      say "-- round $round/$ROUNDS: $label $sc"
      measure "$label" "$cmd" "$sc"
    done
  done
done

echo
go run ./bench/report -servers "$SB_LABEL,$NODE_LABEL" -ratio "$SB_LABEL/$NODE_LABEL" "$RESULTS" | tee "$BENCH_OUT/table.md"
