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
# The wasm32 suites run in Chromium: wasm-bindgen-test-runner would pick geckodriver (installed for
# the Firefox e2e scenarios) when it finds it on PATH first.
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export NODE_PATH="$DUET_ROOT/e2e/peers/node_modules"

started=$SECONDS
stage() {
  printf '\n\033[1;32m== %s\033[0m (t=%ss)\n' "$1" "$((SECONDS - started))"
}

if [ -n "$scenario" ]; then
  stage "release bundle (scripts/bundle.sh: trunk build --release)"
  cargo fetch --quiet
  bash scripts/bundle.sh
  stage "end-to-end scenarios matching $scenario"
  cargo test -p duet-e2e --test scenarios --test networks --test hostile --test insight --test share -- "$scenario"
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

fuzz_seconds="${DUET_FUZZ_SECONDS:-25}"
stage "fuzzing: every protocol/fuzz target for ${fuzz_seconds} s from the committed seeds"
# cargo-fuzz passes sanitizer flags the stable toolchain accepts only with RUSTC_BOOTSTRAP.
# New inputs go to protocol/fuzz/corpus/ (ignored by git); seeds/ is only read. A crash or a
# failed assertion stops the run and leaves the input in protocol/fuzz/artifacts/.
(
  cd protocol/fuzz
  export RUSTC_BOOTSTRAP=1
  cargo fuzz build
  for target in engineio_frame polling_payload socketio_packet client_frames signaling_event server_event; do
    mkdir -p "corpus/$target"
    log="$(mktemp)"
    if ! cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$fuzz_seconds" -print_final_stats=1 >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz target $target failed: the input is in protocol/fuzz/artifacts/$target/" >&2
      exit 1
    fi
    echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed 's/ *lim:.*//') | $(grep '^Done' "$log")"
    rm -f "$log"
  done
)

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

stage "release bundle (scripts/bundle.sh: trunk build --release, wasm-opt -Oz)"
cargo fetch --quiet
bash scripts/bundle.sh
ls -l dist

stage "bundle size: gzip -9 of dist/ against bench/size-budget"
cargo run --quiet -p duet-bench --bin duet-size -- dist --budget bench/size-budget

stage "end-to-end: two-browser calls in headless Chromium"
cargo test -p duet-e2e --test scenarios

stage "end-to-end: stats panel, quality, route and safety code (a relay that forges fingerprints)"
cargo test -p duet-e2e --test insight

stage "end-to-end: sharing in the call (screen, chat, files, New room, the key list)"
cargo test -p duet-e2e --test share

stage "end-to-end: a page against a hostile signaling server"
cargo test -p duet-e2e --test hostile

stage "end-to-end: networks (TURN relay-only, Firefox <-> Chromium, lossy and cut links in a network namespace)"
cargo test -p duet-e2e --test networks

stage "benchmark smoke run (duet-server vs the seed's Node servers, small numbers)"
cargo build --release --quiet -p duet-server -p duet-bench
target/release/duet-bench --smoke --command "scripts/test.sh (smoke)"

stage "soak smoke (pairs joining, calling and leaving for a minute on one node and on two over Redis: counts only)"
target/release/duet-soak --smoke

printf '\n\033[1;32m== all tests passed\033[0m in %ss\n' "$((SECONDS - started))"
