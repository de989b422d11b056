// Shared low-level helpers of the e2e suite (harness.mjs, specs/, webgpu.mjs) and the benchmark
// runner (tools/bench.mjs): the browser, the page watchers, a minimal PNG reader and a safetensors
// writer. They live here, not in tools/, because playwright-core is installed in
// tests/e2e/node_modules (package.json next to this file), where Node resolves it from this file.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** Flags for Debian's chromium in a container without network or GPU. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
  '--disable-dev-shm-usage',
];

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('no Chromium found: run ./scripts/setup.sh (apt-get install chromium) or set CHROMIUM=/path');
  return found;
}

/**
 * Launch headless Chromium. Returns { browser, close }. Playwright starts every non-persistent
 * browser with a fresh temporary profile (--user-data-dir) of its own and deletes it on close.
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    browser,
    close: () => browser.close().catch(() => {}),
  };
}

/**
 * Watch a page: every console message, page error and request. `problems()` lists console
 * errors, uncaught exceptions and requests that left the local server (or its sub-path).
 */
export function watch(page, { origin, prefix }) {
  const log = [];
  const errors = [];
  const foreign = [];
  const requests = [];
  const favicon = [];
  // URLs whose failed load a test provokes on purpose (the browser logs a console error for it).
  const expected = [];
  // Console errors a test provokes on purpose, by their text.
  const expectedConsole = [];
  page.on('console', (msg) => {
    log.push(`[${msg.type()}] ${msg.text()}`);
    if (msg.type() !== 'error') return;
    if (expected.some((re) => re.test(msg.location()?.url ?? ''))) return;
    if (expectedConsole.some((re) => re.test(msg.text()))) return;
    // The browser's own request for /favicon.ico (when the page declares no icon) is reported
    // separately, by a dedicated test, so that it does not mask every other result.
    if (/\/favicon\.ico$/.test(msg.location()?.url ?? '')) favicon.push(`console.error: ${msg.text()} (${msg.location().url})`);
    else errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    log.push(`[pageerror] ${err.message}`);
    errors.push(`uncaught: ${err.message}`);
  });
  page.on('request', (req) => {
    const url = req.url();
    requests.push(url);
    let ok = false;
    try {
      if (url.startsWith('data:')) ok = true;
      else if (url.startsWith('blob:')) ok = new URL(url.slice(5)).origin === origin;
      else {
        const u = new URL(url);
        ok = u.origin === origin && u.pathname.startsWith(prefix);
      }
    } catch {
      ok = false;
    }
    if (!ok) foreign.push(url);
  });
  return {
    log,
    requests,
    favicon,
    /** Accept the browser's console error for a failed request to a URL matching `re`. */
    expectFailedLoad: (re) => expected.push(re),
    /** Accept console errors whose text matches `re` (a test that provokes one on purpose). */
    expectConsole: (re) => expectedConsole.push(re),
    problems: () => [
      ...errors,
      ...foreign.map((u) => `request outside ${origin}${prefix}: ${u}`),
    ],
  };
}

/** Decode an 8-bit greyscale or RGB(A) non-interlaced PNG: { width, height, channels, data }. */
export function decodePng(buf) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error('not a PNG (bad signature)');
  let pos = 8;
  let width, height, depth, type, interlace;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const kind = buf.toString('ascii', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8];
      type = body[9];
      interlace = body[12];
    } else if (kind === 'IDAT') idat.push(body);
    else if (kind === 'IEND') break;
    pos += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
  if (depth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, type ${type}, interlace ${interlace}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let v;
      switch (filter) {
        case 0: v = line[x]; break;
        case 1: v = line[x] + a; break;
        case 2: v = line[x] + b; break;
        case 3: v = line[x] + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v = line[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

/** AlexNet tensor specs (PyTorch state_dict names; crates/core/src/model/alexnet.rs). */
export function alexnetSpecs(preset) {
  const [w, fc] = [[48, 96, 128, 128, 96], [256, 256]];
  const k1 = preset === 'stl10' ? 11 : 3;
  const side = preset === 'stl10' ? 2 : 4;
  return [
    ['conv1.weight', [w[0], 3, k1, k1]], ['conv1.bias', [w[0]]],
    ['conv2.weight', [w[1], w[0], 5, 5]], ['conv2.bias', [w[1]]],
    ['conv3.weight', [w[2], w[1], 3, 3]], ['conv3.bias', [w[2]]],
    ['conv4.weight', [w[3], w[2], 3, 3]], ['conv4.bias', [w[3]]],
    ['conv5.weight', [w[4], w[3], 3, 3]], ['conv5.bias', [w[4]]],
    ['fc1.weight', [fc[0], w[4] * side * side]], ['fc1.bias', [fc[0]]],
    ['fc2.weight', [fc[1], fc[0]]], ['fc2.bias', [fc[1]]],
    ['fc3.weight', [10, fc[1]]], ['fc3.bias', [10]],
  ];
}

/** A safetensors file of F32 tensors with PyTorch's default uniform(±1/√fan_in) init, seeded. */
export function safetensors(specs, seed = 1, metadata = undefined) {
  let a = seed >>> 0;
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const header = {};
  const chunks = [];
  let offset = 0;
  for (const [name, shape] of specs) {
    const n = shape.reduce((x, y) => x * y, 1);
    const fanIn = shape.length > 1 ? n / shape[0] : shape[0];
    const bound = 1 / Math.sqrt(fanIn);
    const data = new Float32Array(n).map(() => (rand() * 2 - 1) * bound);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + n * 4] };
    chunks.push(Buffer.from(data.buffer));
    offset += n * 4;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...chunks]);
}
