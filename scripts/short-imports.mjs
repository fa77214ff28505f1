// Gives the wasm's imports from wasm-bindgen's JS glue short names, in the wasm and in the
// glue alike (scripts/bundle.sh runs it on the main module, before esbuild minifies the glue).
//
// Why: wasm-bindgen names each import for what it calls plus a 16-hex-digit hash
// (`__wbg_addTrack_1cef520939f279e4`), and its module for the glue's file
// (`./duet-786050abebc68e33_bg.js`). Every name is written twice, in the wasm's import section
// and as a key of the glue's import object, and the hashes do not compress: about 250 imports
// cost some 6 KB of gzip before the first frame (bench/BYTES.md). Renamed, they are `a`, `b`, …
// under the module `a`. wasm-opt's `--minify-imports` renames only an `env` module's imports,
// and its variant that also renames modules renames the exports too, which the glue and the
// split loader reach by name; so this renames all the imports and only those exports the glue
// calls in one known way (below).
//
// Safe by construction: an import is renamed only when its name occurs exactly once in the
// glue, as an object key; anything else (the one unhashed intrinsic, a name the glue also
// uses elsewhere) keeps its name. The script fails, and with it the bundle, when the glue or
// the wasm is not shaped as expected, rather than writing a page that cannot start.
//
// usage: node scripts/short-imports.mjs MODULE.wasm GLUE.js GLUE_MODULE_NAME
// (rewrites both files in place; GLUE_MODULE_NAME is the import module, e.g. ./duet-…_bg.js)
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, jsPath, glueModule] = process.argv.slice(2);
if (!glueModule) {
  console.error("usage: node scripts/short-imports.mjs MODULE.wasm GLUE.js GLUE_MODULE_NAME");
  process.exit(2);
}
const fail = (why) => {
  console.error(`short-imports: ${why}`);
  process.exit(1);
};

const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

// LEB128 (unsigned) reading and writing.
function readU(buf, at) {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at++];
    if (byte === undefined) fail("the wasm ends inside a number");
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if ((byte & 0x80) === 0) return [value, at];
  }
}
function writeU(value) {
  let v = BigInt(value);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}
function readName(buf, at) {
  const [len, start] = readU(buf, at);
  const end = start + Number(len);
  return [buf.subarray(start, end).toString("utf8"), end];
}
const name = (s) => {
  const bytes = Buffer.from(s, "utf8");
  return Buffer.concat([writeU(bytes.length), bytes]);
};
// The end of a table's or memory's limits.
function skipLimits(buf, at) {
  const flags = buf[at++];
  [, at] = readU(buf, at);
  if (flags & 1) [, at] = readU(buf, at);
  return at;
}

// Short names: a, b, …, Z, then aa, ab, …
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
function short(i) {
  let s = "";
  do {
    s = letters[i % letters.length] + s;
    i = Math.floor(i / letters.length) - 1;
  } while (i >= 0);
  return s;
}

// Whole-identifier occurrences of `id` in the glue.
const occurrences = (id) => {
  const re = new RegExp(`(?<![\\w$])${id.replace(/\$/g, "\\$")}(?![\\w$])`, "g");
  return [...js.matchAll(re)];
};

// The export section, with wasm-bindgen's closure invokers renamed: their names spell out the
// closure's Rust signature with crate hashes (up to 334 characters), and the glue calls each
// only as `wasm.NAME(…)`. Every other export keeps its name: the split loader and the glue
// reach the memory, the table and the rest by name in ways not checked here.
let exportsRenamed = 0;
function exportSection(start, end) {
  let p = start;
  let count;
  [count, p] = readU(wasm, p);
  const entries = [writeU(count)];
  for (let i = 0n; i < count; i++) {
    let field;
    [field, p] = readName(wasm, p);
    const descStart = p;
    p += 1; // kind
    [, p] = readU(wasm, p); // index
    let next = field;
    if (/^wasm_bindgen_[0-9a-f]{16}___convert__closures_/.test(field)) {
      const all = occurrences(field);
      const calls = all.filter((m) => js.slice(m.index - 5, m.index) === "wasm.");
      // The glue also names its own wrapper function after the export: a local name, left.
      const dotted = all.filter((m) => js[m.index - 1] === ".");
      if (calls.length > 0 && calls.length === dotted.length) {
        next = `_${short(exportsRenamed++)}`;
        for (const m of calls.reverse()) {
          js = js.slice(0, m.index) + next + js.slice(m.index + field.length);
        }
      }
    }
    entries.push(name(next), wasm.subarray(descStart, p));
  }
  if (p !== end) fail("the export section has bytes after its entries");
  const payload = Buffer.concat(entries);
  return Buffer.concat([Buffer.from([7]), writeU(payload.length), payload]);
}

if (wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) fail("not a wasm module");
const parts = [wasm.subarray(0, 8)];
let at = 8;
let renamed = 0;
let kept = 0;
while (at < wasm.length) {
  const id = wasm[at];
  const [size, start] = readU(wasm, at + 1);
  const end = start + Number(size);
  if (id === 7) {
    parts.push(exportSection(start, end));
    at = end;
    continue;
  }
  if (id !== 2) {
    parts.push(wasm.subarray(at, end));
    at = end;
    continue;
  }
  // The import section: module, name, kind and its description, re-encoded with new names.
  let p = start;
  let count;
  [count, p] = readU(wasm, p);
  const entries = [writeU(count)];
  for (let i = 0n; i < count; i++) {
    let module, field;
    [module, p] = readName(wasm, p);
    [field, p] = readName(wasm, p);
    const descStart = p;
    const kind = wasm[p++];
    if (kind === 0) [, p] = readU(wasm, p); // function: its type
    else if (kind === 1) p = skipLimits(wasm, p + 1); // table: element type, limits
    else if (kind === 2) p = skipLimits(wasm, p); // memory: limits
    else if (kind === 3) p += 2; // global: value type, mutability
    else fail(`import ${module}.${field} has a kind this script does not know (${kind})`);
    const desc = wasm.subarray(descStart, p);
    if (module !== glueModule) {
      entries.push(name(module), name(field), desc);
      continue;
    }
    const found = occurrences(field);
    let next = field;
    if (found.length === 1 && js[found[0].index + field.length] === ":") {
      next = short(renamed++);
      js = js.slice(0, found[0].index) + next + js.slice(found[0].index + field.length);
    } else {
      kept++;
    }
    entries.push(name("a"), name(next), desc);
  }
  if (p !== end) fail("the import section has bytes after its entries");
  const payload = Buffer.concat(entries);
  parts.push(Buffer.from([2]), writeU(payload.length), payload);
  at = end;
}
if (renamed === 0) fail(`no import of ${glueModule} was renamed: is that the glue's module?`);

// The glue's import object names the module once, as a quoted key.
const key = JSON.stringify(glueModule);
const keys = js.split(key).length - 1;
if (keys !== 1) fail(`the glue names ${key} ${keys} times, not once`);
js = js.replace(key, '"a"');
if (js.includes('"a":') && js.split('"a":').length - 1 !== 1) fail('the glue already had a module "a"');

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
console.log(`short-imports: ${renamed} imports renamed, ${kept} kept; ${exportsRenamed} closure exports renamed`);
