// Run by the Trunk post-build hook (tools/post-build.mjs): removes the `name` custom section from
// the built wasm modules (function names for stack traces: 7.9 MB of the 41 MB module, 0.7 MB
// gzip, which every visitor downloaded and nothing at run time reads; panics still print their
// messages through console_error_panic_hook). Then corrects the module size that Trunk's start-up
// script passes to the loading indicator.
//
// QUIVER_KEEP_NAMES=1 keeps them (a build to profile, whose profiles then name the functions).
//
// Usage: node tools/strip-names.mjs [dist]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

/** The module without its `name` custom section(s); every other section byte for byte. */
export function stripNames(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('strip-names: not a wasm module');
  }
  const keep = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    const [size, body] = leb(bytes, at);
    const end = body + size;
    if (end > bytes.length) throw new Error('strip-names: a section runs past the end of the module');
    let drop = false;
    if (id === 0) {
      const [len, nameAt] = leb(bytes, body);
      drop = new TextDecoder().decode(bytes.subarray(nameAt, nameAt + len)) === 'name';
    }
    if (!drop) keep.push(bytes.subarray(start, end));
    at = end;
  }
  return Buffer.concat(keep);
}

/** Strip every `*.wasm` in `dir`; rewrite the sizes `index.html` states for them. */
export function stripDir(dir) {
  if (process.env.QUIVER_KEEP_NAMES === '1') return 'names kept (QUIVER_KEEP_NAMES=1)';
  const notes = [];
  const index = join(dir, 'index.html');
  let html = readFileSync(index, 'utf8');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wasm'))) {
    const path = join(dir, file);
    const before = readFileSync(path);
    const after = stripNames(before);
    writeFileSync(path, after);
    // Trunk's start-up script: __trunkInitializer(init, './x_bg.wasm', <size>, …)
    html = html.replace(new RegExp(`('\\./${file.replace(/[.]/g, '\\.')}',\\s*)${before.length}\\b`), `$1${after.length}`);
    notes.push(`${file}: ${before.length} → ${after.length} bytes`);
  }
  writeFileSync(index, html);
  return `names stripped: ${notes.join('; ') || 'no wasm module'}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(stripDir(process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist'));
}
