#!/usr/bin/env bash
# Installs what Duet needs to build, run and test, skipping whatever is already there, so a warm
# run takes seconds. Needs: rustup's Rust, Node 20 + npm, and (for --test) apt-get for Chromium, Redis,
# coturn, Firefox and nftables.
#
#   scripts/setup.sh          toolchain to build and run: wasm32 target, Trunk, wasm-bindgen-cli, wasm-opt
#   scripts/setup.sh --test   also Chromium + chromedriver, redis-server, the socket.io 2.3.0 test peers,
#                             and for the network tests coturn, firefox-esr + geckodriver, nftables
#
# Source it (`. scripts/setup.sh`) to keep the PATH it sets up.
set -euo pipefail

DUET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# esbuild minifies wasm-bindgen's JS glue in the release bundle (scripts/bundle.sh); the same
# version bench/seed-bundle builds the seed client with.
ESBUILD_VERSION=0.25.0
GECKODRIVER_VERSION=0.37.1
# wasm-split-cli cuts the release wasm at its split points (scripts/bundle.sh, src/extras.rs).
WASM_SPLIT_VERSION=0.2.4

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

export PATH="$DUET_ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed ($2)" >&2; exit 1; }; }
need cargo "install Rust with rustup: https://rustup.rs"
need rustup "install Rust with rustup"
need node "install Node.js 20"
need npm "install npm"

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

# Rust: the wasm target and the lint tools.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# rust-src: scripts/bundle.sh rebuilds std for the wasm (-Zbuild-std) from it.
for component in rustfmt clippy rust-src; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    log "adding rustup component $component"
    rustup component add "$component"
  fi
done

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, or the bundle will not load.
wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$DUET_ROOT/Cargo.lock")"
if [ -z "$wbg_version" ]; then
  echo "setup: cannot find wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  log "installing wasm-bindgen-cli $wbg_version (about 5 minutes, once)"
  # Not --locked: the crate's own lockfile wants a version the registry mirror lacks.
  cargo install --force wasm-bindgen-cli --version "$wbg_version"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (about 13 minutes, once)"
  cargo install --locked --force trunk --version "$TRUNK_VERSION"
fi

# It prints no version of its own; cargo's install list knows it.
if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  log "installing wasm-split-cli $WASM_SPLIT_VERSION (about a minute, once)"
  cargo install --locked --force wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary
fi

# wasm-opt from npm's binaryen: Debian's (108) silently produces a broken app.
if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  log "installing binaryen $BINARYEN_VERSION (wasm-opt) into tools/"
  npm install --prefix "$DUET_ROOT/tools" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi

if [ "$(esbuild --version 2>/dev/null)" != "$ESBUILD_VERSION" ]; then
  log "installing esbuild $ESBUILD_VERSION into tools/"
  npm install --prefix "$DUET_ROOT/tools" --no-audit --no-fund --loglevel=error "esbuild@$ESBUILD_VERSION"
fi

if $with_tests; then
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    log "installing Debian's chromium and chromium-driver"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  # Redis 7 for the multi-node tests (server/tests/redis.rs start their own redis-server).
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Debian's redis-server"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
  fi
  # Issue 12's network tests (e2e/tests/networks.rs): a TURN relay, Firefox, and nftables and
  # iproute2 for the faults they make inside a network namespace of their own.
  net_missing=()
  command -v turnserver >/dev/null 2>&1 || net_missing+=(coturn)
  [ -x /usr/bin/firefox-esr ] || net_missing+=(firefox-esr)
  command -v nft >/dev/null 2>&1 || net_missing+=(nftables)
  command -v ip >/dev/null 2>&1 || net_missing+=(iproute2)
  if [ "${#net_missing[@]}" -gt 0 ]; then
    log "installing Debian's ${net_missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${net_missing[@]}" >/dev/null
  fi
  if [ "$(geckodriver --version 2>/dev/null | awk 'NR==1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
    log "installing geckodriver $GECKODRIVER_VERSION (about 3 minutes, once)"
    cargo install --locked --force geckodriver --version "$GECKODRIVER_VERSION"
  fi
  chromium_major="$(chromium --version 2>/dev/null | grep -oE '[0-9]+' | head -1)"
  driver_major="$(chromedriver --version | grep -oE '[0-9]+' | head -1)"
  if [ "$chromium_major" != "$driver_major" ]; then
    echo "setup: chromium $chromium_major and chromedriver $driver_major differ; apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi

  # cargo-fuzz for the bounded fuzzing stage of scripts/test.sh (protocol/fuzz).
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    log "installing cargo-fuzz (about 2 minutes, once)"
    cargo install --locked cargo-fuzz
  fi

  # The original design's stack, pinned: socket.io 2.3.0 server and client.
  peers="$DUET_ROOT/e2e/peers"
  if [ ! -f "$peers/node_modules/.package-lock.json" ] || [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
    log "installing the socket.io 2.3.0 test peers (npm ci)"
    npm ci --prefix "$peers" --no-audit --no-fund --loglevel=error
  fi
fi

log "ready: $(rustc --version), trunk $(trunk --version | awk '{print $2}'), wasm-bindgen $(wasm-bindgen --version | awk '{print $2}'), wasm-opt $(wasm-opt --version | awk '{print $3}')"
