# Shared by bench/compare.sh and bench/wscompare/run.sh (sourced, from the repository root).
#
# A server command is a string run by `bash -c "exec CMD"` with PORT set in its environment, so
# write '$PORT' in single quotes where the port goes; exec makes the measured PID the server.

BENCH_OUT=${BENCH_OUT:-bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
BIN=${BIN:-$BENCH_OUT/bin}
RESULTS=${RESULTS:-$BENCH_OUT/results.jsonl}
LOG=${LOG:-$BENCH_OUT/servers.log}
PORT_NEXT=${PORT_BASE:-3400}
PAUSE=${PAUSE:-2}
mkdir -p "$BENCH_OUT" "$BIN"

say() { printf '%s\n' "$*" >&2; }

build_loadgen() {
  go build -o "$BIN/loadgen" ./bench/loadgen
}

node_deps() {
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
}

# start_server CMD: starts CMD on a fresh port, waits until it accepts connections, and sets
# SERVER_PID and SERVER_PORT.
start_server() {
  SERVER_PORT=$PORT_NEXT
  PORT_NEXT=$((PORT_NEXT + 1))
  echo "== $(date -u +%T) port $SERVER_PORT: $1" >>"$LOG"
  PORT=$SERVER_PORT bash -c "exec ${SERVER_PREFIX:-} $1" >>"$LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if (echo >/dev/tcp/127.0.0.1/"$SERVER_PORT") 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then say "server exited: $1 (see $LOG)"; return 1; fi
    sleep 0.1
  done
  say "server did not listen on $SERVER_PORT within 10s: $1"
  stop_server
  return 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# busy_fraction: the share of all CPUs busy over the next second, in percent (integer).
busy_fraction() {
  local a b
  read -r -a a < /proc/stat
  sleep 1
  read -r -a b < /proc/stat
  local busy=0 total=0 i d
  for i in 1 2 3 4 5 6 7 8; do
    d=$((b[i] - a[i]))
    total=$((total + d))
    if [ $i -ne 4 ] && [ $i -ne 5 ]; then busy=$((busy + d)); fi
  done
  echo $((total > 0 ? 100 * busy / total : 0))
}

# wait_quiet: on a shared machine, wait (up to QUIET_WAIT seconds, 900) until the other
# processes leave the CPUs mostly idle (below QUIET percent busy, 10), so that a run measures the
# server and not someone's build. Each run also records the CPU others used while it ran
# (other_cpu_frac), which bench/report uses to drop spoiled runs.
QUIET=${QUIET:-10}
QUIET_WAIT=${QUIET_WAIT:-900}
wait_quiet() {
  local waited=0 b
  while b=$(busy_fraction); [ "$b" -ge "$QUIET" ]; do
    if [ $waited -eq 0 ]; then say "  machine busy ($b% of CPU used by others); waiting for it to quieten"; fi
    waited=$((waited + 1))
    if [ $waited -ge "$QUIET_WAIT" ]; then say "  still busy after ${QUIET_WAIT}s; measuring anyway"; return 0; fi
  done
  if [ $waited -gt 0 ]; then say "  quiet after ${waited}s"; fi
}

# measure LABEL CMD SCENARIO [loadgen flags...]: one run against a freshly started server; the
# JSON line goes to $RESULTS, the summary to stdout. A failed run is reported, not fatal.
measure() {
  local label=$1 cmd=$2 scenario=$3
  shift 3
  wait_quiet
  start_server "$cmd" || return 0
  sleep 0.5
  ${LOADGEN_PREFIX:-} "$BIN/loadgen" -addr "127.0.0.1:$SERVER_PORT" -pid "$SERVER_PID" -label "$label" \
    -scenario "$scenario" -json "$RESULTS" ${LOADGEN_ARGS:-} "$@" | grep -v '^{' || say "  (loadgen reported failures)"
  stop_server
  sleep "$PAUSE"
}

# rotate N WORDS...: the words rotated left by N, so that each round starts with another server.
rotate() {
  local n=$1
  shift
  local a=("$@")
  n=$((n % ${#a[@]}))
  echo "${a[@]:n}" "${a[@]:0:n}"
}
