#!/usr/bin/env bash
# Builds the release bundle (dist/): `trunk build --release --offline` with the wasm's size
# flags. Extra arguments go to trunk (e.g. --dist /tmp/dist).
#
# The flags are unstable compiler options, unlocked with RUSTC_BOOTSTRAP=1 on the stable 1.95
# toolchain, and set here (not in .cargo/config.toml) so that they reach only this build: native
# builds, clippy, the wasm test suites and `trunk serve` stay on plain stable. Trunk has no way to
# pass them itself. Each is worth its bytes (bench/RESULTS.md, "where the bytes go"):
#   -Zbuild-std=std,panic_abort     std rebuilt with the flags below (rust-src is installed)
#   -Cpanic=immediate-abort         a panic is a trap: no panic machinery, no messages
#   -Zlocation-detail=none          no file/line/column strings for panics
#   -Zfmt-debug=none                `{:?}` prints nothing: no Debug impls in the bundle
# What the page loses: a panic (none is expected: remote input gives typed errors) shows as
# "unreachable" in the console instead of its message, and Debug text (only in console
# warnings) is empty. Plain `trunk build --release --offline` still works, just larger.
#
# Then wasm-bindgen's JS glue is minified with esbuild (Trunk's own minifier cannot parse it and
# leaves it whole): about 1.8 KB gzip less. Its integrity hash in index.html is updated to match.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dist=dist
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--dist" ] && dist="${args[$((i + 1))]}"
done

export RUSTC_BOOTSTRAP=1
# std's own dependencies, for --offline (a no-op once they are in the cargo cache).
cargo fetch --quiet --manifest-path "$(rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml"
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export RUSTFLAGS="-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort"
trunk build --release --offline "$@"

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }
for js in "$dist"/*.js; do
  before="$(sri "$js")"
  esbuild "$js" --minify --format=esm --log-level=warning --outfile="$js.min"
  mv "$js.min" "$js"
  after="$(sri "$js")"
  grep -qF "$before" "$dist/index.html" || { echo "bundle.sh: $dist/index.html has no integrity $before for $js" >&2; exit 1; }
  sed -i "s|$before|$after|" "$dist/index.html"
done

# Precompressed copies for duet-server to send as they are (scripts/precompress.mjs says why).
node scripts/precompress.mjs "$dist"
