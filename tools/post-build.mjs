// Trunk post-build hook (Trunk.toml): the steps that change the built site, in order.
//   1. tools/strip-names.mjs: the wasm's `name` section out (and the size index.html states)
//   2. tools/variants.mjs: the WebGPU build into gpu/ and the start-up choice (when
//      QUIVER_GPU_DIST names it: scripts/build-site.sh)
//   3. tools/csp.mjs: the Content-Security-Policy into index.html
//   4. tools/sw.mjs:  sw.js, the offline cache of the final files (gpu/ is not in it)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPolicy } from './csp.mjs';
import { writeWorker } from './sw.mjs';
import { stripDir } from './strip-names.mjs';
import { addGpuVariant } from './variants.mjs';

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
const index = join(dir, 'index.html');
console.log(`post-build: ${stripDir(dir)}`);
if (process.env.QUIVER_GPU_DIST) {
  console.log(`post-build: ${addGpuVariant(dir, process.env.QUIVER_GPU_DIST)}`);
} else {
  console.log('post-build: CPU build only (QUIVER_GPU_DIST unset)');
}
writeFileSync(index, withPolicy(readFileSync(index, 'utf8')));
console.log(`post-build: policy written into ${index}`);
console.log(`post-build: ${writeWorker(dir)}`);
