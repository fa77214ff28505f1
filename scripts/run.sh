#!/usr/bin/env bash
# Sets up, builds and runs Duet: the frontend bundle (Trunk, release, wasm-opt) served by
# duet-server with the signaling on the same port. Extra arguments go to duet-server, e.g.
#   scripts/run.sh --host 0.0.0.0 --self-signed     (reachable from a phone on the LAN)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=setup.sh
. scripts/setup.sh

printf '\033[1;34m[run]\033[0m building the frontend (trunk build --release)\n' >&2
cargo fetch --quiet
bash scripts/bundle.sh

printf '\033[1;34m[run]\033[0m building duet-server (release)\n' >&2
cargo build --release --quiet -p duet-server

exec target/release/duet-server --static-dir dist "$@"
