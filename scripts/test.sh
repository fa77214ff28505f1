#!/usr/bin/env bash
# Sets up and runs every Duet test: formatting, lints (native and wasm32), the native test suites
# (protocol, server, end-to-end), and the wasm32 suites in headless Chromium.
#
#   scripts/test.sh                     everything (what CI runs)
#   scripts/test.sh --scenario NAME     build the bundle and run only the end-to-end scenarios whose
#                                       name contains NAME (a quick local loop)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DUET_ROOT="$(pwd)"

scenario=""
if [ "${1:-}" = "--scenario" ]; then
  scenario="${2:?--scenario needs a name}"
fi

# shellcheck source=setup.sh
. scripts/setup.sh --test

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Debug info makes wasm test binaries 60 MB instead of 3.5 MB; backtraces still name functions.
export CARGO_PROFILE_DEV_DEBUG=0
export NODE_PATH="$DUET_ROOT/e2e/peers/node_modules"

started=$SECONDS
stage() {
  printf '\n\033[1;32m== %s\033[0m (t=%ss)\n' "$1" "$((SECONDS - started))"
}

if [ -n "$scenario" ]; then
  stage "release bundle (trunk build --release)"
  cargo fetch --quiet
  trunk build --release --offline
  stage "end-to-end scenarios matching $scenario"
  cargo test -p duet-e2e --test scenarios --test networks -- "$scenario"
  exit 0
fi

stage "record socket.io 2.3.0 wire fixtures"
node protocol/vectors/record.js
if ! git diff --quiet -- protocol/tests/fixtures 2>/dev/null; then
  echo "note: the fresh recording differs from the committed fixtures:"
  git diff --stat -- protocol/tests/fixtures || true
fi

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings

stage "clippy (wasm32)"
cargo clippy -p duet -p duet-protocol --target wasm32-unknown-unknown --all-targets -- -D warnings

stage "native tests (every crate but the browser end-to-end suite)"
cargo test --workspace --exclude duet-e2e

stage "wasm32 tests: duet-protocol in headless Chromium"
cargo test -p duet-protocol --target wasm32-unknown-unknown

stage "wasm32 tests: the duet frontend in headless Chromium, against a real duet-server"
cargo build --quiet -p duet-server
server_log="$(mktemp)"
# Its stdout (the URLs to open) comes through a pipe; read it until the address shows up.
exec {server_out}< <(exec target/debug/duet-server --port 0 --static-dir dist 2>"$server_log")
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
server_url=""
while IFS= read -r -t 30 -u "$server_out" line; do
  if [[ "$line" =~ (http://127\.0\.0\.1:[0-9]+) ]]; then
    server_url="${BASH_REMATCH[1]}"
    break
  fi
done
[ -n "$server_url" ] || { cat "$server_log"; echo "duet-server did not report its address within 30 s" >&2; exit 1; }
echo "duet-server for the browser tests: $server_url (pid $server_pid)"
DUET_TEST_SIGNALING_URL="$server_url" cargo test -p duet --target wasm32-unknown-unknown
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
exec {server_out}<&-
trap - EXIT

stage "release bundle (trunk build --release, wasm-opt -Oz)"
cargo fetch --quiet
trunk build --release --offline
ls -l dist

stage "end-to-end: two-browser calls in headless Chromium"
cargo test -p duet-e2e --test scenarios

stage "end-to-end: networks (TURN relay-only, Firefox <-> Chromium, lossy and cut links in a network namespace)"
cargo test -p duet-e2e --test networks

stage "benchmark smoke run (duet-server vs the seed's Node servers, small numbers)"
cargo build --release --quiet -p duet-server -p duet-bench
target/release/duet-bench --smoke --command "scripts/test.sh (smoke)"

printf '\n\033[1;32m== all tests passed\033[0m in %ss\n' "$((SECONDS - started))"
