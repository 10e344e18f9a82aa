#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each (default 5s).
#
# Go 1.26's fuzzing coordinator can fail a run that found nothing with a bare
# "context deadline exceeded" when a worker misses the -fuzztime deadline on
# a busy machine (go.dev/issue/75804, fixed in Go 1.27). Such a run — that
# error, and no failing input written, no panic — is retried, twice at most;
# any other failure fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-5s}
log=/tmp/fuzz.$$.log
trap 'rm -f "$log"' EXIT

deadline_flake() {
  grep -q 'context deadline exceeded' "$log" &&
    ! grep -q -e 'Failing input written' -e '^panic:' -e 'fuzz: minimizing' "$log"
}

for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($fuzztime)"
    for attempt in 1 2 3; do
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ "$attempt" -lt 3 ] && deadline_flake; then
        echo "  the fuzzing engine missed its own deadline (go.dev/issue/75804), nothing found: running $target again"
        continue
      fi
      cat "$log"
      exit 1
    done
  done
done
