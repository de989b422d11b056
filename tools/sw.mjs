// Run by the Trunk post-build hook (tools/post-build.mjs, after csp.mjs): writes the service worker, sw.js,
// into the built site. It caches the site's own files so that Quiver works offline after one
// visit (class rooms have bad networks).
//
// - On install it fetches the app shell: index.html, the hashed JS and wasm, the stylesheet, the
//   start-up module, plotly.js, the model list, the bundled samples and the default (MNIST)
//   weights. Other files (other datasets' weights) are cached the first time they are fetched.
// - Requests for the site's own files are answered from the cache, then the network (a file
//   fetched once is kept); navigations too, so the page opens offline.
// - Its version is a hash of every file it lists: a new build is a new sw.js, which the browser
//   installs beside the old one; the page (public/boot.mjs) then offers "new version, reload",
//   which activates it. Caches of older versions are deleted on activation.
//
// Usage: node tools/sw.mjs [site dir]   (default: $TRUNK_STAGING_DIR, else dist)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every file under `dir`, as site-relative paths with '/'. */
function files(dir, root = dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, root) : [relative(root, p).split(sep).join('/')];
  });
}

/** Which built files the worker fetches on install: the shell and the MNIST view's files. */
export function shellFiles(all) {
  return all.filter((f) => f !== 'sw.js' && (
    !f.includes('/') // index.html, the hashed JS and wasm, the CSS, the start-up module
    || f.startsWith('vendor/')
    || f.startsWith('samples/')
    || f === 'weights/manifest.json'
    || /^weights\/mnist_[^/]*\.safetensors$/.test(f)));
}

/** The worker's source for a site whose shell is `shell`, at `version`. */
export function worker(shell, version) {
  return `// Written by tools/sw.mjs at build time: the site's offline cache (see that file).
const VERSION = ${JSON.stringify(version)};
const CACHE = 'quiver-' + VERSION;
const SHELL = ${JSON.stringify(['./', ...shell.map((f) => './' + f)])};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith('quiver-') && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

// The page asks the waiting worker to take over when the user chooses "reload".
self.addEventListener('message', (event) => {
  if (event.data === 'activate') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  const scope = new URL(self.registration.scope);
  if (req.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  // The page's own address with any query is the cached index.html.
  const key = req.mode === 'navigate' ? new URL('./', scope).href : req.url;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(key, { ignoreSearch: req.mode === 'navigate' });
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && res.type === 'basic') cache.put(key, res.clone());
    return res;
  })());
});
`;
}

/** Write `dir`/sw.js for the files in `dir`; returns what it did. */
export function writeWorker(dir) {
  const all = files(dir).sort();
  const hash = createHash('sha256');
  for (const f of all.filter((f) => f !== 'sw.js')) hash.update(f).update(readFileSync(join(dir, f)));
  const version = hash.digest('hex').slice(0, 16);
  const shell = shellFiles(all);
  writeFileSync(join(dir, 'sw.js'), worker(shell, version));
  return `sw.js written (version ${version}, ${shell.length} files fetched on install)`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`sw: ${writeWorker(process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist')}`);
}
