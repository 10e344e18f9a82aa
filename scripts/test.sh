#!/usr/bin/env bash
# The whole test suite: what `make test` and CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s ==\n' "$*"; }

step "dependencies"
./scripts/deps.sh all

step "gofmt + go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
# The library's non-Linux path (goroutine mode instead of epoll) must keep compiling.
GOOS=darwin go vet ./engineio/... ./socketio/... ./chat/... ./cmd/... ./bench/loadgen ./bench/fixture
# The epoll path's raw system calls must build on every Linux architecture, 32-bit included.
GOOS=linux GOARCH=arm64 go vet ./engineio/... ./cmd/...
GOOS=linux GOARCH=386 go vet ./engineio/... ./cmd/...

step "staticcheck"
# Pinned in go.mod's tool directive (go get -tool ...@version).
go tool staticcheck ./...

step "go test -race"
go test -race -count=1 -timeout 15m ./...

step "fuzz smoke"
./scripts/fuzz.sh "${FUZZTIME:-5s}"

echo
echo "all tests passed"
