#!/usr/bin/env bash
# Runs Duet's benchmarks side by side with the original stack and writes bench/RESULTS.md.
#
#   bash bench/run.sh            the full run (about 15 minutes on 2 cores)
#   bash bench/run.sh --smoke    small numbers, prints the tables, fails if a step could not run or
#                                duet-server lost a relay (latency is reported, never asserted)
#                                (this is what CI runs; under a minute warm)
# Extra arguments go to duet-bench (see `target/release/duet-bench --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=../scripts/setup.sh
. scripts/setup.sh --test

log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

smoke=false
for a in "$@"; do [ "$a" = "--smoke" ] && smoke=true; done

log "building duet-server and the load generator (release)"
cargo build --release --quiet -p duet-server -p duet-bench

if ! $smoke; then
  log "building the frontend bundle (trunk build --release)"
  bash scripts/bundle.sh >/dev/null
  log "building the seed client for production (React 17 + socket.io-client 2.3.0, esbuild)"
  npm ci --prefix bench/seed-bundle --no-audit --no-fund --loglevel=error
  npm run --prefix bench/seed-bundle --silent build >/dev/null
  log "call set-up: 15 calls each, Duet, the seed client and the floor, headless Chromium"
  cargo build --release --quiet -p duet-e2e --bin duet-callsetup
  target/release/duet-callsetup --calls 15 --out target/callsetup.json >/dev/null
  log "codec benchmarks (criterion)"
  cargo bench --quiet -p duet-bench --bench codec -- --noplot >/dev/null
fi

log "signaling load"
# Servers and generators at a higher priority than the rest of the machine (when allowed: root
# here; elsewhere nice says so and runs it unchanged), so other work on a shared machine takes
# less from both servers alike. Each step reports the CPU everything else still used.
exec nice -n -10 target/release/duet-bench --command "bash bench/run.sh $*" "$@"
