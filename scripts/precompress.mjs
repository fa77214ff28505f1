// Writes `NAME.br` (brotli quality 11) and `NAME.gz` (gzip -9) beside every hashed .wasm, .js
// and .css file of a built dist/ (scripts/bundle.sh runs it). duet-server's static files send
// them as they are (tower-http ServeDir's precompressed_br / precompressed_gzip) instead of
// compressing each response on the fly: the first byte of the wasm leaves at once rather than
// after a whole compression pass (measured in the call set-up benchmark: 319 ms of waiting for
// the wasm's first byte from the test server, which is a debug build; a release server took
// 12 ms), and smaller: the wasm is 117,508 B in brotli 11 against 139,142 B at the on-the-fly
// level (30 Nov).
// Node's own zlib, so no other tool is needed. index.html is left alone (tiny, not hashed).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = process.argv[2];
if (!dist) {
  console.error("usage: node scripts/precompress.mjs DIST");
  process.exit(2);
}
for (const name of readdirSync(dist)) {
  if (!/-[0-9a-f]{8,}(_bg)?\.(wasm|js|css)$/.test(name)) continue;
  const path = join(dist, name);
  const bytes = readFileSync(path);
  const text = !name.endsWith(".wasm");
  writeFileSync(
    path + ".br",
    brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  );
  writeFileSync(path + ".gz", gzipSync(bytes, { level: 9 }));
}
