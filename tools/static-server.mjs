// A tiny static file server for the built site (no dependencies).
//
// As a module: startServer({ root, prefix, port, mounts }) serves `root` under the URL path `prefix`
// (default "/quiver/": the e2e suite opens the app from a sub-path to prove that every asset URL
// is relative). `mounts` maps sub-paths of `prefix` to other folders, e.g. { 'fixtures/': dir }
// (the attack benchmark reads the committed test digits that way). The e2e suite
// (tests/e2e/harness.mjs, webgpu.mjs), the benchmark runner (tools/bench.mjs) and scripts/serve.sh
// use it. As a command: node tools/static-server.mjs <dir> [port] [prefix]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { resolve, join, extname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

export function startServer({ root, prefix = '/quiver/', port = 0, host = '127.0.0.1', log = false, mounts = {} } = {}) {
  const roots = Object.entries(mounts).map(([sub, dir]) => [prefix + sub, resolve(dir)]);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let path;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end('bad path');
      return;
    }
    if (log) console.log(`${req.method} ${req.url}`);
    if (path + '/' === prefix) {
      res.writeHead(301, { Location: prefix + url.search }).end();
      return;
    }
    if (!path.startsWith(prefix)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found (the site lives under ' + prefix + ')');
      return;
    }
    const [mount, base] = roots.find(([sub]) => path.startsWith(sub)) ?? [prefix, resolve(root)];
    let file = join(base, path.slice(mount.length));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      ok({
        origin: `http://${host}:${p}`,
        url: `http://${host}:${p}${prefix}`,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir = 'dist', port = '8080', prefix = '/'] = process.argv.slice(2);
  const s = await startServer({ root: dir, port: Number(port), prefix, log: true });
  console.log(`Serving ${resolve(dir)} at ${s.url} (Ctrl-C to stop)`);
}
