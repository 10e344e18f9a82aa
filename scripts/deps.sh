#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine. Idempotent.
#   deps.sh bundle   the official socket.io-client bundle (npm), served at /socket.io/socket.io.js
#   deps.sh all      everything: Go modules, the bundle, npm packages of the Node tests, Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}

npm_ci() { # npm ci in a directory, only when its lock file changed since the last install
  local dir=$1 stamp="$1/node_modules/.switchboard-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return; fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

bundle() {
  local dir=socketio/clientdist
  npm_ci "$dir"
  for f in socket.io.js socket.io.js.map socket.io.min.js socket.io.min.js.map \
           socket.io.esm.min.js socket.io.esm.min.js.map socket.io.msgpack.min.js socket.io.msgpack.min.js.map; do
    cmp -s "$dir/node_modules/socket.io-client/dist/$f" "$dir/dist/$f" 2>/dev/null ||
      cp "$dir/node_modules/socket.io-client/dist/$f" "$dir/dist/$f"
  done
}

debian_packages() { # Debian's chromium (browser tests, driven by playwright-core) and haproxy (sticky sessions)
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

node_tests() {
  [ -f test/interop/package-lock.json ] && npm_ci test/interop
  return 0
}

case "$what" in
  bundle) bundle ;;
  all)
    go mod download
    bundle
    node_tests
    debian_packages
    ;;
  *) echo "usage: $0 bundle|all" >&2; exit 2 ;;
esac
