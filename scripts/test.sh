#!/usr/bin/env bash
# Sets up and runs every Duet test: formatting, lints (native and wasm32), the native test suites
# (protocol, server, end-to-end), and the wasm32 suites in headless Chromium.
#
#   scripts/test.sh                     everything (what CI runs)
#   scripts/test.sh --scenario NAME     only the end-to-end scenarios whose name contains NAME
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

stage "native tests"
cargo test --workspace

stage "wasm32 tests: duet-protocol in headless Chromium"
cargo test -p duet-protocol --target wasm32-unknown-unknown

printf '\n\033[1;32m== all tests passed\033[0m in %ss\n' "$((SECONDS - started))"
