// Trunk post-build hook (Trunk.toml): the steps that change the built site, in order.
//   1. tools/csp.mjs: the Content-Security-Policy into index.html
//   2. tools/sw.mjs:  sw.js, the offline cache of the final files
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPolicy } from './csp.mjs';
import { writeWorker } from './sw.mjs';

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
const index = join(dir, 'index.html');
writeFileSync(index, withPolicy(readFileSync(index, 'utf8')));
console.log(`post-build: policy written into ${index}`);
console.log(`post-build: ${writeWorker(dir)}`);
