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
#   --cfg duet_split                src/extras.rs marks the panels as a split point
#   -Clink-args=--emit-relocs       which wasm-split-cli needs to move code between modules
# What the page loses: a panic (none is expected: remote input gives typed errors) shows as
# "unreachable" in the console instead of its message, and Debug text (only in console
# warnings) is empty. Plain `trunk build --release --offline` still works, just larger.
#
# Then the wasm is split in two (below, after Trunk): what loads before the first frame, and
# the panels' module (src/extras.rs), loaded once the call is up.
#
# Then the imports from the glue get short names (scripts/short-imports.mjs: about 6 KB gzip
# of hashed names, written twice). Then wasm-bindgen's JS glue is minified with esbuild (Trunk's own minifier cannot parse it and
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
export RUSTFLAGS="-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort --cfg duet_split -Clink-args=--emit-relocs"
trunk build --release --offline "$@"

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }
# Replaces the integrity index.html gives `file` (as Trunk built it) with that of `new`.
reintegrate() {
  local before after
  before="$(sri "$1")"
  after="$(sri "$2")"
  grep -qF "$before" "$dist/index.html" || { echo "bundle.sh: $dist/index.html has no integrity $before for $1" >&2; exit 1; }
  mv "$2" "$1"
  sed -i "s|$before|$after|" "$dist/index.html"
}

# The panels' rules (style.css, from `.insight{` to the end) go into a stylesheet of their own,
# named for its content hash like the panels' module; the loader (below) links it when it
# fetches that module and starts the module once it has loaded (or failed: the panels then
# show unstyled rather than not at all), so they never draw unstyled. Trunk's stylesheet keeps
# the rest and gets its new integrity. About 0.2 KB gzip less before the first frame.
css="$(ls "$dist"/style-*.css)"
cut='.insight{'
[ "$(grep -oF "$cut" "$css" | wc -l)" = 1 ] || { echo "bundle.sh: $css should hold $cut once (style.css says why)" >&2; exit 1; }
content="$(cat "$css")"
first="${content%%"$cut"*}"
printf '%s' "${content:${#first}}" > "$dist/panels.css"
panels_css="duet-panels-$(sha256sum "$dist/panels.css" | cut -c1-16).css"
mv "$dist/panels.css" "$dist/$panels_css"
printf '%s' "$first" > "$css.cut"
reintegrate "$css" "$css.cut"

# The split. Trunk's wasm-bindgen and wasm-opt ran on the unsplit wasm; redo both on its parts:
# wasm-split-cli (wasm_split_cli_support, scripts/setup.sh) cuts cargo's wasm at the split
# points into main.wasm, one module per split point and __wasm_split.js (the loader, which
# imports the glue's initSync and is imported by it); wasm-bindgen then binds main.wasm under
# Trunk's name, keeping the exports the split modules use; esbuild bundles the glue and the
# loader into the one file index.html names (no extra request), minified. A split module is
# named for its content hash; the glue keeps Trunk's, which already changes with any code.
target_dir="${CARGO_TARGET_DIR:-target}"
name="$(basename "$(ls "$dist"/duet-*_bg.wasm)" _bg.wasm)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wasm-split-cli "$target_dir/wasm32-unknown-unknown/wasm-release/duet.wasm" "$work/split" >/dev/null
for part in "$work"/split/split_*.wasm; do
  module="$(basename "$part" .wasm)"
  module="${module#split_}"
  wasm-opt -Os "$part" -o "$work/$module.wasm" 2>/dev/null
  later="duet-${module#duet_}-$(sha256sum "$work/$module.wasm" | cut -c1-16).wasm"
  mv "$work/$module.wasm" "$dist/$later"
  grep -qF "\"./split_$module.wasm\"" "$work/split/__wasm_split.js" || { echo "bundle.sh: the loader does not name split_$module.wasm" >&2; exit 1; }
  sed -i "s|\"./split_$module.wasm\"|\"./$later\"|" "$work/split/__wasm_split.js"
done
start='WebAssembly.instantiateStreaming(src, imports)'
[ "$(grep -oF "$start" "$work/split/__wasm_split.js" | wc -l)" = 1 ] || { echo "bundle.sh: the loader should start one module with $start" >&2; exit 1; }
sed -i "s|$start|Promise.all([$start, new Promise((r) => { const l = document.createElement(\"link\"); l.rel = \"stylesheet\"; l.href = new URL(\"./$panels_css\", import.meta.url); l.onload = l.onerror = r; document.head.append(l); })]).then((a) => a[0])|" "$work/split/__wasm_split.js"
grep -qF '"./main.js"' "$work/split/__wasm_split.js" || { echo "bundle.sh: the loader does not import ./main.js" >&2; exit 1; }
sed -i "s|\"./main.js\"|\"./$name.js\"|" "$work/split/__wasm_split.js"
wasm-bindgen "$work/split/main.wasm" --out-dir "$work/bg" --out-name "$name" --target web \
  --keep-lld-exports --no-typescript
cp "$work/split/__wasm_split.js" "$work/bg/"
wasm-opt -Os "$work/bg/${name}_bg.wasm" -o "$work/main.wasm"
node scripts/short-imports.mjs "$work/main.wasm" "$work/bg/$name.js" "./${name}_bg.js"
reintegrate "$dist/${name}_bg.wasm" "$work/main.wasm"
esbuild "$work/bg/$name.js" --bundle --minify --format=esm --log-level=warning --outfile="$work/main.js"
reintegrate "$dist/$name.js" "$work/main.js"

# Precompressed copies for duet-server to send as they are (scripts/precompress.mjs says why).
node scripts/precompress.mjs "$dist"
