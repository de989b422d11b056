// Loading the site: the harness's own page checks, the sub-path load, the favicon and the device.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, watch } from '../lib.mjs';
import {
  test, open, modelReady, mcSettled, mnistModelIds, waitFor, search,
  PREFIX, CPU_LABEL, DEFAULT_MODEL, DIST,
} from '../harness.mjs';

test('harness self-check: a foreign request, a console error and an exception are caught', async (t) => {
  // The page-level checks that every other test relies on must be able to fail.
  const page = await t.context.newPage();
  const w = watch(page, { origin: t.origin, prefix: PREFIX });
  await page.route('http://example.invalid/**', (route) => route.abort());
  // A file of the site that is not the app: no Content-Security-Policy stops the request there,
  // so the request watcher itself is what catches it.
  await page.goto(t.url + 'weights/manifest.json');
  await page.evaluate(() => {
    fetch('http://example.invalid/tracker.js').catch(() => {});
    console.error('deliberate console error');
    setTimeout(() => { throw new Error('deliberate exception'); }, 0);
  });
  // The timer fires once the page's main thread is free (it may still be starting the wasm).
  for (let waited = 0; waited < 15_000 && !w.problems().some((p) => p.includes('deliberate exception')); waited += 100) {
    await page.waitForTimeout(100);
  }
  const problems = w.problems().join('\n');
  assert.match(problems, /request outside .*example\.invalid\/tracker\.js/);
  assert.match(problems, /console\.error: deliberate console error/);
  assert.match(problems, /uncaught: deliberate exception/);
  // On the app's page the policy refuses the request before it is made, and says so.
  const app = await t.context.newPage();
  const wa = watch(app, { origin: t.origin, prefix: PREFIX });
  await app.goto(t.url);
  await app.evaluate(() => fetch('http://example.invalid/tracker.js').catch(() => {}));
  for (let waited = 0; waited < 5_000 && !wa.problems().length; waited += 100) await app.waitForTimeout(100);
  assert.match(wa.problems().join('\n'), /example\.invalid\/tracker\.js.*Content Security Policy|Content Security Policy.*example\.invalid/);
  await app.close();
  await page.close();
});

test('page loads from a sub-path and the default model becomes ready', async (t) => {
  const { page } = t;
  const resp = await page.goto(t.url);
  assert.equal(resp.status(), 200);
  assert.match(await page.title(), /Quiver/);
  await modelReady(page, DEFAULT_MODEL);
  assert.equal(await page.$('#error'), null, 'no #error after a clean load');
  assert.equal(await page.$('#notes'), null, 'no #notes without URL parameters');
  const options = await page.$$eval('#model-select option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, mnistModelIds(), '#model-select lists the MNIST models of weights/manifest.json');
  assert.equal(await page.$eval('#model-select', (s) => s.value), DEFAULT_MODEL);
  await waitFor(page, '24 gallery samples', () => document.querySelectorAll('#gallery .sample').length === 24);
  const samples = await page.$$eval('#gallery .sample', (bs) => bs.map((b) => [b.dataset.index, b.dataset.label]));
  samples.forEach(([i, l], k) => {
    assert.equal(i, String(k), 'gallery indices 0..23 in order');
    assert.match(l, /^[0-9]$/, 'each sample has a digit label');
  });
  assert.match(await page.textContent('#input-caption'), /MNIST test image #0/);
  assert.equal(await page.$eval('#file-input', (e) => e.type), 'file');
  assert.ok(await page.$('#drop-zone'), '#drop-zone exists');
  await mcSettled(page);
  // Every request stayed under the sub-path: the asset URLs are relative.
  assert.ok(t.watch.requests.some((u) => u.endsWith('.wasm')), 'the wasm module was fetched');
  assert.ok(t.watch.requests.some((u) => u.includes(`${PREFIX}weights/${DEFAULT_MODEL}.safetensors`)), 'weights fetched from the sub-path');
  // The manifest is preloaded by index.html while the wasm arrives, and the app's own fetch takes
  // that response: one request, begun before the module had arrived.
  const timing = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: e.startTime, end: e.responseEnd })));
  const manifests = timing.filter((e) => e.name.endsWith('/weights/manifest.json'));
  const wasm = timing.find((e) => /quiver-[0-9a-f]+_bg\.wasm$/.test(e.name));
  assert.equal(manifests.length, 1, `weights/manifest.json fetched once (${manifests.length})`);
  assert.ok(manifests[0].start < wasm.end, `the manifest's request (${manifests[0].start.toFixed(0)} ms) began before the module arrived (${wasm.end.toFixed(0)} ms)`);
});

test('no favicon request fails (the page declares an icon)', async (t) => {
  // Chromium asks for /favicon.ico once per browser, so this test uses a browser of its own.
  const { browser, close } = await launch();
  try {
    const page = await browser.newPage();
    const w = watch(page, { origin: t.origin, prefix: PREFIX });
    await page.goto(t.url);
    await modelReady(page);
    await mcSettled(page);
    await page.waitForTimeout(1000);
    const icons = await page.$$eval('link[rel~="icon"]', (ls) => ls.map((l) => l.getAttribute('href')));
    assert.deepEqual(w.favicon, [], `the browser fell back to /favicon.ico (declared icons: ${JSON.stringify(icons)})`);
    assert.deepEqual(w.problems(), []);
  } finally {
    await close();
  }
});

test('device shows the CPU fallback (no WebGPU here), also with device=cpu', async (t) => {
  await open(t);
  assert.equal((await t.page.textContent('#device')).trim(), CPU_LABEL);
  await open(t, '?device=cpu');
  assert.equal((await t.page.textContent('#device')).trim(), CPU_LABEL);
  assert.equal(await t.page.$('#notes'), null, 'device=cpu is a valid parameter');
  assert.match(await search(t.page), /device=cpu/);
});

test('a loading indicator from the first paint: what loads and its progress, gone once the app starts', async (t) => {
  const { page } = t;
  // Hold the wasm back a while, so the indicator is on screen long enough to be watched.
  await page.route(/_bg\.wasm$/, async (route) => {
    await new Promise((r) => setTimeout(r, 1200));
    await route.continue();
  });
  await page.addInitScript(() => {
    window.__boot = [];
    const tick = () => {
      const w = document.getElementById('boot-what');
      const p = document.getElementById('boot-progress');
      if (w) window.__boot.push({ t: performance.now(), what: w.textContent, value: p.hasAttribute('value') ? p.value : null, painted: w.getBoundingClientRect().height > 0 });
      if (w || window.__boot.length === 0) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.goto(t.url);
  await modelReady(page);
  const boot = await page.evaluate(() => window.__boot);
  assert.equal(await page.$('#boot'), null, 'the app removed the indicator');
  assert.ok(boot.length > 0 && boot[0].painted, 'the indicator is on the first frames');
  assert.ok(boot[0].t < 1000, `and on screen early (${boot[0].t.toFixed(0)} ms)`);
  assert.ok(boot.some((b) => /Loading the app/.test(b.what)), `it says what is loading: ${[...new Set(boot.map((b) => b.what))].join(' | ')}`);
  assert.ok(boot.some((b) => /of [\d.]+ MB/.test(b.what) && b.value > 0), 'and how much has come');
  console.log(`        figure: loading indicator first on screen at ${boot[0].t.toFixed(0)} ms; it said: ${[...new Set(boot.map((b) => b.what))].slice(0, 3).join(' / ')} … ${boot.at(-1).what}`);
});

test('the built wasm modules have no name section, and the start-up script knows their true sizes', async () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const wasm = [
    ...readdirSync(DIST).filter((f) => f.endsWith('_bg.wasm')),
    ...readdirSync(join(DIST, 'gpu')).filter((f) => f.endsWith('_bg.wasm')).map((f) => `gpu/${f}`),
  ];
  assert.equal(wasm.length, 2, `the CPU build and the WebGPU copy: ${wasm.join(', ')}`);
  for (const file of wasm) {
    const bytes = readFileSync(join(DIST, file));
    // Walk the sections: custom ones (id 0) start with their name.
    const names = [];
    let at = 8;
    const leb = () => { let v = 0, s = 0, b; do { b = bytes[at++]; v += (b & 0x7f) * 2 ** s; s += 7; } while (b >= 0x80); return v; };
    while (at < bytes.length) {
      const id = bytes[at++];
      const size = leb();
      const end = at + size;
      if (id === 0) { const len = leb(); names.push(bytes.subarray(at, at + len).toString()); }
      at = end;
    }
    assert.equal(at, bytes.length, `${file}: the sections add up`);
    assert.ok(!names.includes('name'), `${file}: custom sections ${names.join(', ')}`);
    assert.ok(html.includes(`'./${file}'`) && new RegExp(`\\b${bytes.length}\\b`).test(html), `index.html names ${file} and its size ${bytes.length}`);
    console.log(`        figure: ${file} ${bytes.length} bytes; custom sections: ${names.join(', ') || 'none'}`);
  }
});

test('the start-up script loads the CPU build where no hardware WebGPU adapter exists; the WebGPU copy is not fetched', async (t) => {
  const { page } = t;
  const fetched = [];
  page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  await page.goto(t.url);
  await modelReady(page);
  await mcSettled(page);
  const wasm = fetched.filter((p) => p.endsWith('.wasm') || /quiver-[0-9a-f]+\.js$/.test(p));
  assert.ok(wasm.some((p) => /\/quiver-[0-9a-f]+_bg\.wasm$/.test(p) && !p.includes('/gpu/')), `the CPU module: ${wasm.join(', ')}`);
  assert.ok(!fetched.some((p) => p.includes('/gpu/')), `nothing from gpu/: ${wasm.join(', ')}`);
  assert.equal((await page.textContent('#device')).trim(), CPU_LABEL);
});
