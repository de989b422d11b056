// Quiver's end-to-end suite: the built site (dist/) in headless Debian Chromium, driven by
// playwright-core, served by a local static server from a sub-path (/quiver/).
//
//   node tests/e2e/run.mjs [name filter…]      (QUIVER_DIST=path overrides ../../dist)
//
// Every test opens a fresh browser context and fails on any console error, uncaught exception or
// request that leaves the local server's /quiver/ path, besides its own assertions. (The one
// console error that is the browser's, not the page's: a 404 for /favicon.ico when the page
// declares no icon, is checked by a test of its own.) Failures leave a screenshot and a log
// (console, requests) in tests/e2e/test-results/.
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { launch, watch, decodePng, alexnetSpecs, safetensors } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const DIST = resolve(process.env.QUIVER_DIST ?? join(repo, 'dist'));
const FIXTURES = join(repo, 'tests/fixtures/e2e');
const RESULTS = join(here, 'test-results');
const PREFIX = '/quiver/';
const LOAD_MS = 60_000;
const STEP_MS = 60_000;
const TEST_MS = 180_000;
const CPU_LABEL = 'CPU (Flex, wasm SIMD)';
const DEFAULT_MODEL = 'mnist_cnn_p025';

if (!existsSync(join(DIST, 'index.html'))) {
  console.error(`${DIST}/index.html is missing: build the site first (trunk build --release).`);
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(DIST, 'weights/manifest.json'), 'utf8'));
// The MNIST models: the default dataset's #model-select offers exactly these.
const modelIds = manifest.models.filter((m) => m.architecture === 'mnist_cnn').map((m) => m.id);

// ---------------------------------------------------------------- helpers

/** Navigate to the app with a query string and wait until `model` is loaded. */
async function open(t, query = '', model = DEFAULT_MODEL) {
  await t.page.goto(t.url + query);
  if (model) await modelReady(t.page, model);
}

async function modelReady(page, model = DEFAULT_MODEL) {
  await page.waitForFunction(
    (m) => document.querySelector('#weights-status')?.textContent.includes(`Model ready: ${m}`),
    model,
    { timeout: LOAD_MS },
  );
}

/** Wait until the MC panel shows a result that is not busy. */
async function mcSettled(page) {
  await page.waitForFunction(
    () => document.querySelector('#mc-summary') && document.querySelectorAll('#mc-table tr[data-class]').length > 0
      && !document.querySelector('#mc-panel .busy')?.textContent.includes('computing'),
    null,
    { timeout: STEP_MS },
  );
}

async function attackSettled(page) {
  await page.waitForFunction(
    () => document.querySelector('#attack-result')
      && !document.querySelector('#attack-panel .busy')?.textContent.includes('attacking'),
    null,
    { timeout: STEP_MS },
  );
}

/**
 * Run `action`, then wait until the markup of `selectors` differs from before and has settled
 * (neither panel busy, unchanged for 300 ms). Leptos patches the existing result elements in place,
 * so "changed" means changed content; each action in this suite changes its result.
 */
async function fresh(page, selectors, action) {
  const snapshot = (sels) => sels.map((s) => document.querySelector(s)?.outerHTML ?? '').join('\n');
  const before = await page.evaluate(snapshot, selectors);
  await action();
  await page.waitForFunction(
    ([sels, old, snap]) => !document.querySelector('#mc-panel .busy')?.textContent.includes('computing')
      && !document.querySelector('#attack-panel .busy')?.textContent.includes('attacking')
      && new Function('sels', `return (${snap})(sels)`)(sels) !== old,
    [selectors, before, snapshot.toString()],
    { timeout: STEP_MS },
  );
  for (let last = await page.evaluate(snapshot, selectors); ;) {
    await page.waitForTimeout(300);
    const now = await page.evaluate(snapshot, selectors);
    const busy = await page.evaluate(() => !!(document.querySelector('#mc-panel .busy')?.textContent.includes('computing')
      || document.querySelector('#attack-panel .busy')?.textContent.includes('attacking')));
    if (now === last && !busy) break;
    last = now;
  }
}

/** The rows of an MC table: [{ cls, mean, std, variance }]. */
async function table(page, id) {
  return page.$$eval(`#${id} tr[data-class]`, (rows) => rows.map((r) => ({
    cls: Number(r.dataset.class),
    mean: r.querySelector('.mean')?.textContent.trim(),
    std: r.querySelector('.std')?.textContent.trim(),
    variance: r.querySelector('.var')?.textContent.trim(),
  })));
}

function checkTable(rows, what) {
  assert.equal(rows.length, 10, `${what}: 10 class rows`);
  assert.deepEqual(rows.map((r) => r.cls), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `${what}: classes 0–9 in order`);
  for (const r of rows) {
    for (const k of ['mean', 'std', 'variance']) {
      assert.match(r[k], /^\d+\.\d+$/, `${what}: class ${r.cls} ${k} is a plain number (${r[k]})`);
    }
    const [m, s, v] = [Number(r.mean), Number(r.std), Number(r.variance)];
    assert.ok(m >= 0 && m <= 1, `${what}: mean of class ${r.cls} in [0, 1] (${m})`);
    assert.ok(s >= 0, `${what}: std of class ${r.cls} ≥ 0 (${s})`);
    assert.ok(v >= 0, `${what}: variance of class ${r.cls} ≥ 0 (${v})`);
    assert.ok(Math.abs(s * s - v) <= 2e-4, `${what}: variance ≈ std² for class ${r.cls} (${v} vs ${s}²)`);
  }
  const sum = rows.reduce((a, r) => a + Number(r.mean), 0);
  assert.ok(Math.abs(sum - 1) <= 1e-3, `${what}: means sum to 1 ± 1e-3 (${sum})`);
  return rows;
}

const argmax = (rows) => rows.reduce((best, r) => (Number(r.mean) > Number(rows[best].mean) ? r.cls : best), 0);

async function summary(page) {
  return page.$eval('#mc-summary', (e) => ({
    predicted: e.getAttribute('data-predicted'),
    entropy: e.getAttribute('data-entropy'),
    text: e.textContent,
  }));
}

/** Set an <input>'s value and fire the event the app listens to (range inputs cannot be filled). */
async function setInput(page, selector, value, event) {
  await page.$eval(selector, (e, [v, ev]) => {
    e.value = v;
    e.dispatchEvent(new Event(ev, { bubbles: true }));
  }, [String(value), event]);
}

async function clickSample(page, index) {
  const label = await page.$eval(`#gallery .sample[data-index="${index}"]`, (e) => e.getAttribute('data-label'));
  await fresh(page, ['#mc-summary', '#mc-table', '#attack-result'], () => page.click(`#gallery .sample[data-index="${index}"]`));
  await mcSettled(page);
  await attackSettled(page);
  return label;
}

/** RGBA bytes of a canvas. */
async function canvasPixels(page, id) {
  return page.$eval(`#${id}`, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return { width: c.width, height: c.height, data: Array.from(d.data) };
  });
}

async function chartDrawn(page, id) {
  return page.$eval(`#${id}`, (e) => ({
    svg: e.querySelectorAll('.main-svg').length,
    bars: e.querySelectorAll('.barlayer .point').length,
    boxes: e.querySelectorAll('.boxlayer .trace').length,
    boxPoints: e.querySelectorAll('.boxlayer .point').length,
    title: e.querySelector('.gtitle')?.textContent ?? '',
  }));
}

/** The attack metrics table as { key: text }. */
async function metrics(page) {
  return page.$$eval('#attack-metrics tr[data-metric]', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.metric, r.querySelector('td').textContent.trim()])));
}

/** The trajectory chart's traces as plotly holds them: [{ name, x, y }]. */
async function trajectory(page) {
  return page.$eval('#chart-trajectory', (e) => (e.data ?? []).map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })));
}

async function attackResult(page) {
  return page.$eval('#attack-result', (e) => ({ ...e.dataset, text: e.textContent }));
}

async function errorText(page) {
  return page.$eval('#error', (e) => e.textContent).catch(() => null);
}


// ---------------------------------------------------------------- weights the user brings

/** Served at e2e-files/ next to the site, for ?weights= (same origin). */
const E2E_FILES = mkdtempSync(join(tmpdir(), 'quiver-e2e-'));
writeFileSync(join(E2E_FILES, 'cifar-random.safetensors'), safetensors(alexnetSpecs('cifar10'), 7));
writeFileSync(join(E2E_FILES, 'stl-random.safetensors'), safetensors(alexnetSpecs('stl10'), 8));

async function uploadWeights(page, name, buffer) {
  await page.setInputFiles('#weights-input', { name, mimeType: 'application/octet-stream', buffer });
}

// ---------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('harness self-check: a foreign request, a console error and an exception are caught', async (t) => {
  // The page-level checks that every other test relies on must be able to fail.
  const page = await t.context.newPage();
  const w = watch(page, { origin: t.origin, prefix: PREFIX });
  await page.route('http://example.invalid/**', (route) => route.abort());
  await page.goto(t.url);
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
  assert.deepEqual(options, modelIds, '#model-select lists the MNIST models of weights/manifest.json');
  assert.equal(await page.$eval('#model-select', (s) => s.value), DEFAULT_MODEL);
  await page.waitForFunction(() => document.querySelectorAll('#gallery .sample').length === 24, null, { timeout: STEP_MS });
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
  assert.match(await t.page.evaluate(() => location.search), /device=cpu/);
});

test('MC dropout: 10 rows, means sum to 1, std ≥ 0, samples 0–4 classified as labelled', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  for (const i of [1, 2, 3, 4, 0]) {
    const label = await clickSample(page, i);
    assert.match(await page.textContent('#input-caption'), new RegExp(`MNIST test image #${i} \\(label ${label}\\)`));
    const s = await summary(page);
    const rows = checkTable(await table(page, 'mc-table'), `sample ${i}`);
    assert.equal(s.predicted, label, `sample ${i}: predicted ${s.predicted}, label ${label}`);
    assert.equal(String(argmax(rows)), s.predicted, `sample ${i}: data-predicted is the argmax of the means`);
    const h = Number(s.entropy);
    assert.ok(Number.isFinite(h) && h >= 0 && h <= Math.log(10) + 1e-6, `sample ${i}: entropy in [0, ln 10] (${s.entropy})`);
    const sampleParam = new URLSearchParams(await page.evaluate(() => location.search)).get('sample');
    assert.equal(sampleParam, i === 0 ? null : String(i), 'the URL follows the sample (0 is the default, omitted)');
  }
});

test('MC charts are drawn by plotly (mean bars and per-pass boxes)', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  await page.waitForFunction(
    () => document.querySelector('#chart-mean .main-svg') && document.querySelector('#chart-passes .main-svg'),
    null,
    { timeout: STEP_MS },
  );
  const mean = await chartDrawn(page, 'chart-mean');
  const passes = await chartDrawn(page, 'chart-passes');
  assert.ok(mean.svg > 0 && passes.svg > 0, 'both charts have an svg');
  assert.equal(mean.bars, 10, '#chart-mean has 10 bars');
  assert.match(mean.title, /T = 50/, `#chart-mean title names T (${mean.title})`);
  assert.ok(passes.boxes >= 1, '#chart-passes has a box trace');
  assert.ok(passes.boxPoints >= 50, `#chart-passes shows the individual passes (${passes.boxPoints} points)`);
  // Changing T redraws with the new number of passes.
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, '#passes', 10, 'change'));
  await mcSettled(page);
  await page.waitForFunction(() => document.querySelector('#chart-mean .gtitle')?.textContent.includes('T = 10'), null, { timeout: STEP_MS });
  assert.match(await page.evaluate(() => location.search), /T=10/);
});

test('MC with p = 0 is deterministic: every std is 0.0000', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const before = await table(page, 'mc-table');
  assert.ok(before.some((r) => r.std !== '0.0000'), 'with the default p = 0.25 some std is non-zero');
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, '#mc-p', 0, 'input'));
  await mcSettled(page);
  const rows = checkTable(await table(page, 'mc-table'), 'p = 0');
  for (const r of rows) assert.equal(r.std, '0.0000', `class ${r.cls} std with p = 0`);
  assert.match(await page.evaluate(() => location.search), /(^|[?&])p=0(&|$)/, 'URL carries p=0');
  // Back to p = 0.3: uncertainty returns.
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, '#mc-p', 0.3, 'input'));
  await mcSettled(page);
  assert.ok((await table(page, 'mc-table')).some((r) => r.std !== '0.0000'), 'p = 0.3 gives non-zero std again');
});

test('FGSM: ε = 0.3 flips sample 0, the adversarial image differs, ε = 0 changes nothing', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  await attackSettled(page);
  await fresh(page, ['#attack-result', '#attack-table-after'], () => setInput(page, '#eps', 0.3, 'input'));
  await attackSettled(page);
  assert.equal((await page.textContent('#eps-value')).trim(), '0.30');
  const r = await page.$eval('#attack-result', (e) => ({ ...e.dataset, text: e.textContent }));
  assert.equal(r.success, 'true', `attack at ε = 0.3 succeeds on sample 0 (${r.text})`);
  assert.notEqual(r.after, r.before, 'prediction after ≠ before');
  assert.match(r.before, /^[0-9]$/);
  assert.match(r.after, /^[0-9]$/);
  checkTable(await table(page, 'attack-table-before'), 'attack before');
  checkTable(await table(page, 'attack-table-after'), 'attack after');
  const orig = await canvasPixels(page, 'canvas-original');
  const adv = await canvasPixels(page, 'canvas-adversarial');
  const pert = await canvasPixels(page, 'canvas-perturbation');
  const input = await canvasPixels(page, 'input-preview');
  assert.equal(orig.width, 28);
  assert.deepEqual(orig.data, input.data, 'the original canvas shows the input image');
  let changed = 0;
  let maxDiff = 0;
  for (let i = 0; i < orig.data.length; i += 4) {
    const d = Math.abs(orig.data[i] - adv.data[i]);
    if (d > 0) changed++;
    maxDiff = Math.max(maxDiff, d);
  }
  assert.ok(changed > 50, `the adversarial canvas differs from the original (${changed} pixels)`);
  assert.ok(maxDiff <= Math.round(0.3 * 255) + 1, `no pixel moves by more than ε (max ${maxDiff}/255)`);
  assert.ok(new Set(pert.data.filter((_, i) => i % 4 === 0)).size > 1, 'the perturbation canvas is not blank');
  await page.waitForFunction(() => document.querySelector('#chart-attack .main-svg'), null, { timeout: STEP_MS });
  assert.equal((await chartDrawn(page, 'chart-attack')).bars, 20, '#chart-attack compares 2 × 10 bars');
  assert.match(await page.evaluate(() => location.search), /eps=0\.3/);

  await fresh(page, ['#attack-result', '#attack-table-after'], () => setInput(page, '#eps', 0, 'input'));
  await attackSettled(page);
  const z = await page.$eval('#attack-result', (e) => ({ ...e.dataset }));
  assert.equal(z.success, 'false', 'ε = 0 cannot succeed');
  const adv0 = await canvasPixels(page, 'canvas-adversarial');
  assert.deepEqual(adv0.data, orig.data, 'ε = 0 leaves the image unchanged');
});

test('FGSM target select: options none, auto + 0–9, choosing a target reruns the attack and sets the URL', async (t) => {
  const { page } = t;
  await open(t, '?eps=0.3');
  await attackSettled(page);
  const values = await page.$$eval('#target option', (os) => os.map((o) => o.value));
  assert.deepEqual(values, ['none', 'auto', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(await page.$eval('#target', (s) => s.value), 'none');
  await fresh(page, ['#attack-result', '#attack-table-after'], () => page.selectOption('#target', '3'));
  await attackSettled(page);
  const r = await page.$eval('#attack-result', (e) => ({ ...e.dataset }));
  assert.match(r.success, /^(true|false)$/);
  assert.equal(r.success === 'true', r.after === '3', 'a targeted attack succeeds exactly when it reaches the target');
  assert.match(await page.evaluate(() => location.search), /target=3/);
  // auto = the clean image's runner-up class: the goal row names a target that is not the label.
  await fresh(page, ['#attack-result', '#attack-metrics'], () => page.selectOption('#target', 'auto'));
  await attackSettled(page);
  const goal = (await metrics(page)).goal;
  assert.match(goal, /^make it say \d \(true: 7\)$/, `runner-up goal: ${goal}`);
  assert.doesNotMatch(goal, /say 7/, 'the runner-up is not the true class');
  assert.match(await page.evaluate(() => location.search), /target=auto/);
});

test('download the adversarial PNG: a 28×28 PNG equal to the adversarial canvas', async (t) => {
  const { page } = t;
  await open(t, '?eps=0.2');
  await attackSettled(page);
  await page.waitForFunction(() => !document.querySelector('#download-adv').disabled, null, { timeout: STEP_MS });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), page.click('#download-adv')]);
  assert.match(download.suggestedFilename(), /\.png$/);
  const failure = await download.failure();
  assert.equal(failure, null, `download failed: ${failure}`);
  const png = decodePng(readFileSync(await download.path()));
  assert.equal(png.width, 28);
  assert.equal(png.height, 28);
  const adv = await canvasPixels(page, 'canvas-adversarial');
  const grey = [];
  for (let i = 0; i < png.width * png.height; i++) grey.push(png.data[i * png.channels]);
  const shown = adv.data.filter((_, i) => i % 4 === 0);
  assert.deepEqual(grey, shown, 'the PNG holds exactly the adversarial pixels shown');
});

test('L-BFGS from #attack-select: succeeds on sample 0 with a smaller L2 than FGSM, trajectory and metrics shown', async (t) => {
  const { page } = t;
  await open(t, '?eps=0.3');
  await attackSettled(page);
  const fgsm = await metrics(page);
  assert.equal((await attackResult(page)).success, 'true', 'FGSM ε = 0.3 succeeds on sample 0');
  const values = await page.$$eval('#attack-select option', (os) => os.map((o) => o.value));
  assert.deepEqual(values, ['fgsm', 'lbfgs', 'iaa']);
  await fresh(page, ['#attack-result'], () => page.selectOption('#attack-select', 'lbfgs'));
  await attackSettled(page);
  const r = await attackResult(page);
  assert.equal(r.attack, 'lbfgs');
  assert.equal(r.success, 'true', `L-BFGS succeeds on sample 0 (${r.text})`);
  assert.equal(r.cancelled, 'false');
  const m = await metrics(page);
  for (const k of ['l0', 'l2', 'linf', 'd', 'iterations', 'gap']) assert.match(m[k], /^-?\d+(\.\d+)?$/, `metric ${k} is a number (${m[k]})`);
  for (const k of ['mc-mean', 'mc-var', 'mc-entropy']) assert.match(m[k], /^\d+\.\d+ → \d+\.\d+$/, `metric ${k} shows original → adversarial (${m[k]})`);
  assert.match(m.time, /^\d+\.\d ms \/ \d+\.\d ms$/);
  assert.ok(Number(m.l2) < Number(fgsm.l2), `L-BFGS L2 ${m.l2} < FGSM ε = 0.3 L2 ${fgsm.l2}`);
  assert.ok(Number(m.linf) <= 1 && Number(m.gap) > 0, `L∞ ≤ 1 and the final gap is positive (${m.linf}, ${m.gap})`);
  assert.equal(Number(m.iterations), Number(r.iterations));
  const tr = await trajectory(page);
  assert.deepEqual(tr.map((d) => d.name), ['P(true class)', 'best other P', 'gap (> 0: goal reached)', 'L2 distance'], 'four trajectory traces');
  assert.equal(tr[0].x.length, Number(r.iterations), 'one trajectory point per iteration');
  assert.ok(tr[3].y.every((v) => v >= 0), 'L2 ≥ 0 along the trajectory');
  assert.deepEqual(await page.$$eval('#params-lbfgs input', (is) => is.map((i) => [i.id, Number(i.value)])),
    [['lbfgs-c', 0.1], ['lbfgs-steps', 6], ['lbfgs-iter', 50], ['lbfgs-mem', 10]], 'L-BFGS parameters with their defaults');
  // The adversarial image lies in the box: every canvas value is a byte, and it differs from the original.
  const adv = await canvasPixels(page, 'canvas-adversarial');
  const orig = await canvasPixels(page, 'canvas-original');
  assert.ok(adv.data.some((v, i) => v !== orig.data[i]), 'the adversarial image differs');
  assert.match(await page.evaluate(() => location.search), /attack=lbfgs/);
});

test('IAA: D within one step of D_max, ≤ m values per iteration, perturbation on busy (low-Sen) pixels', async (t) => {
  const { page } = t;
  await open(t, '?attack=iaa&iaa_m=5');
  await attackSettled(page);
  assert.equal(await page.$('#notes'), null);
  assert.equal(await page.$eval('#iaa-m', (e) => e.value), '5');
  const r = await attackResult(page);
  assert.equal(r.attack, 'iaa');
  const m = await metrics(page);
  const [dmax, mm, delta, n] = [0.1, 5, 0.05, 784];
  const maxStep = (mm * delta * 255) / n; // m·δ·max Sen / N with Sen ≤ 1/(1/255)
  assert.ok(Number(m.d) <= dmax + maxStep + 1e-4, `D ${m.d} ≤ D_max + one step`);
  assert.ok(Number(m.l0) <= mm * Number(m.iterations), `L0 ${m.l0} ≤ m × iterations ${m.iterations}`);
  const tr = await trajectory(page);
  assert.equal(tr.length, 5, 'IAA also plots the perceptual distance D');
  assert.equal(tr[4].name, 'perceptual distance D');
  assert.ok(Math.abs(tr[4].y.at(-1) - Number(m.d)) < 1e-3, `the last trajectory D equals the table's D (${tr[4].y.at(-1)} vs ${m.d})`);
  // The sensitivity map: changed pixels are darker (busier) than the image's average.
  const sen = await canvasPixels(page, 'canvas-sensitivity');
  const adv = await canvasPixels(page, 'canvas-adversarial');
  const orig = await canvasPixels(page, 'canvas-original');
  const grey = (c) => c.data.filter((_, i) => i % 4 === 0);
  const [s, a, o] = [grey(sen), grey(adv), grey(orig)];
  assert.ok(new Set(s).size > 2, 'the sensitivity map is drawn');
  const changed = s.filter((_, i) => a[i] !== o[i]);
  assert.ok(changed.length > 0, 'IAA changed some pixels');
  const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;
  assert.ok(mean(changed) < mean(s), `mean log-Sen shade on perturbed pixels ${mean(changed)} < image mean ${mean(s)}`);
  assert.match(await page.evaluate(() => location.search), /attack=iaa/);
  assert.match(await page.evaluate(() => location.search), /iaa_m=5/);
});

test('a long L-BFGS run shows progress and a growing trajectory, and stops on cancel with the best so far', async (t) => {
  const { page } = t;
  await open(t, '?attack=lbfgs&lbfgs_steps=50&lbfgs_iter=10000&target=0');
  await page.waitForFunction(() => /attacking… iteration [1-9]/.test(document.querySelector('#attack-status')?.textContent ?? '')
    && (document.querySelector('#chart-trajectory')?.data?.[0]?.x?.length ?? 0) >= 2, null, { timeout: STEP_MS });
  const n1 = await page.$eval('#chart-trajectory', (e) => e.data[0].x.length);
  await page.waitForFunction((n) => document.querySelector('#chart-trajectory').data[0].x.length > n, n1, { timeout: STEP_MS });
  assert.ok(await page.$eval('#attack-status', (e) => e.textContent.includes('attacking')), 'still running while the chart grows');
  const progress = await page.$eval('#attack-progress', (e) => e.value);
  assert.ok(progress > 0 && progress < 1, `the progress bar moves (${progress})`);
  assert.equal(await page.$eval('#attack-cancel', (e) => e.disabled), false, 'cancel is enabled while running');
  await page.click('#attack-cancel');
  await page.waitForFunction(() => document.querySelector('#attack-result')?.dataset.cancelled === 'true', null, { timeout: STEP_MS });
  const r = await attackResult(page);
  console.log(`        cancel took effect ${r.cancelMs} ms after the click, at iteration ${r.iterations}`);
  assert.match(r.cancelMs, /^\d+(\.\d)?$/, 'the stop latency is reported');
  assert.ok(Number(r.cancelMs) < 1000, `the attack stopped promptly (${r.cancelMs} ms; the target is ~100 ms)`);
  assert.match(r.text, /^cancelled — best so far/);
  assert.match(await page.textContent('#attack-status'), /^cancelled · /);
  assert.equal(await page.$eval('#attack-cancel', (e) => e.disabled), true);
  await page.waitForTimeout(500);
  assert.equal((await attackResult(page)).iterations, r.iterations, 'no iterations after the cancel');
  checkTable(await table(page, 'attack-table-after'), 'cancelled result');
  // Run again restarts it.
  await page.click('#attack-run');
  await page.waitForFunction(() => document.querySelector('#attack-status')?.textContent.includes('attacking'), null, { timeout: STEP_MS });
  await page.click('#attack-cancel');
  await page.waitForFunction(() => !document.querySelector('#attack-status')?.textContent.includes('attacking'), null, { timeout: STEP_MS });
});

test('bad attack parameters and a target equal to the true class are rejected with a message; fixing them runs again', async (t) => {
  const { page } = t;
  await open(t, '?attack=iaa');
  await attackSettled(page);
  const invalid = () => page.waitForSelector('#attack-invalid', { timeout: STEP_MS }).then((e) => e.textContent());
  await setInput(page, '#iaa-m', 0, 'change');
  assert.match(await invalid(), /m \(pixels per iteration\) must be at least 1, got 0/);
  await page.waitForFunction(() => !document.querySelector('#attack-result'), null, { timeout: STEP_MS });
  await setInput(page, '#iaa-m', 10, 'change');
  await attackSettled(page);
  assert.equal(await page.$('#attack-invalid'), null, 'the message goes once the value is valid');
  await setInput(page, '#iaa-n', 4, 'change');
  assert.match(await invalid(), /neighbourhood n must be an odd number between 1 and 27, got 4/);
  await setInput(page, '#iaa-n', 3, 'change');
  await attackSettled(page);
  await setInput(page, '#iaa-dmax', -1, 'change');
  assert.match(await invalid(), /D_max must be in \(0, 255\], got -1/);
  await setInput(page, '#iaa-dmax', 0.1, 'change');
  await attackSettled(page);
  await setInput(page, '#iaa-delta', 'abc', 'change');
  assert.match(await invalid(), /δ: "" is not a number|δ: "abc" is not a number/);
  // Sample 0 is a 7: targeting 7 is not an attack.
  const label = await page.$eval('#gallery .sample[data-index="0"]', (e) => e.getAttribute('data-label'));
  await page.selectOption('#target', label);
  assert.match(await invalid(), new RegExp(`the target class ${label} is the image's own class; pick another target`));
  await page.selectOption('#attack-select', 'lbfgs');
  await setInput(page, '#lbfgs-steps', 0, 'change');
  assert.match(await invalid(), /c steps must be between 1 and 50, got 0/);
  assert.equal(await errorText(page), null, 'parameter problems stay in the panel, the app keeps working');
  checkTable(await table(page, 'mc-table'), 'MC still shown');
  // In the address: ignored with a note, defaults used.
  await open(t, '?attack=iaa&iaa_m=0&eps=-1');
  await attackSettled(page);
  const notes = await page.$$eval('#notes li', (ls) => ls.map((l) => l.textContent));
  assert.ok(notes.some((n) => n.includes('ignored the IAA parameters') && n.includes('at least 1')), JSON.stringify(notes));
  assert.ok(notes.some((n) => n.includes('eps=')), JSON.stringify(notes));
  assert.equal(await page.$eval('#iaa-m', (e) => e.value), '10');
});

test('STL-10 view: says no weights are bundled and how to train them; picked STL-10 weights run MC and FGSM on a 96×96 upload', async (t) => {
  const { page } = t;
  await open(t, '?dataset=stl10', null);
  const notice = await page.waitForSelector('#no-weights', { timeout: LOAD_MS }).then((e) => e.textContent());
  assert.match(notice, /No STL-10 .* weights are bundled/);
  assert.match(notice, /train --arch alexnet_stl10 --data/);
  assert.match(notice, /airplane, bird, car, cat, deer, dog, horse, monkey, ship, truck/);
  assert.equal(await page.$$eval('#gallery .sample', (s) => s.length), 0, 'no bundled STL-10 images');
  await uploadWeights(page, 'stl-random.safetensors', readFileSync(join(E2E_FILES, 'stl-random.safetensors')));
  await modelReady(page, 'your-stl-random');
  assert.equal(await page.$('#no-weights'), null, 'the notice goes once weights are in use');
  assert.equal(await errorText(page), null);
  assert.match(await page.$eval('#model-select', (s) => s.selectedOptions[0].textContent), /your weights: stl-random\.safetensors/);
  // A colour upload becomes the model's 96×96 RGB input.
  await page.setInputFiles('#file-input', join(FIXTURES, 'digit-7.png'));
  await mcSettled(page);
  const preview = await canvasPixels(page, 'input-preview');
  assert.equal(preview.width, 96);
  const rows = checkTable(await table(page, 'mc-table'), 'STL-10 MC');
  assert.ok(rows.length === 10);
  assert.deepEqual(await page.$$eval('#mc-table tr[data-class] td:first-child', (ts) => ts.map((x) => x.textContent)),
    ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck']);
  await attackSettled(page);
  assert.equal((await canvasPixels(page, 'canvas-adversarial')).width, 96);
  checkTable(await table(page, 'attack-table-after'), 'STL-10 attack after');
  assert.match(await page.evaluate(() => location.search), /dataset=stl10/);
});

test('CIFAR-10 view: 30 colour test samples, 32×32 RGB preview, ?weights= model runs MC and IAA', async (t) => {
  const { page } = t;
  await open(t, '?dataset=cifar10&weights=e2e-files/cifar-random.safetensors&attack=iaa', 'your-cifar-random');
  await mcSettled(page);
  const thumbs = await page.$$eval('#gallery .sample', (s) => s.map((b) => Number(b.dataset.label)));
  assert.equal(thumbs.length, 30, '30 bundled CIFAR-10 samples');
  assert.deepEqual([...new Set(thumbs)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every class');
  const thumb = await page.$eval('#gallery canvas', (c) => [c.width, c.height]);
  assert.deepEqual(thumb, [32, 32]);
  const preview = await canvasPixels(page, 'input-preview');
  assert.equal(preview.width, 32);
  let colour = 0;
  for (let i = 0; i < preview.data.length; i += 4) if (preview.data[i] !== preview.data[i + 1] || preview.data[i + 1] !== preview.data[i + 2]) colour++;
  assert.ok(colour > 100, `the preview is in colour (${colour} non-grey pixels)`);
  assert.match(await page.textContent('#input-caption'), /CIFAR-10 test image #0 \(label 0\)/);
  assert.deepEqual(await page.$$eval('#mc-table tr[data-class] td:first-child', (ts) => ts.map((x) => x.textContent)),
    ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  checkTable(await table(page, 'mc-table'), 'CIFAR-10 MC');
  await attackSettled(page);
  const r = await attackResult(page);
  assert.equal(r.attack, 'iaa');
  const m = await metrics(page);
  assert.ok(Number(m.l0) <= 10 * Number(m.iterations), `≤ m values per iteration on a colour image (${m.l0}, ${m.iterations})`);
  assert.equal((await canvasPixels(page, 'canvas-sensitivity')).width, 32);
  await clickSample(page, 4);
  assert.match(await page.textContent('#input-caption'), /CIFAR-10 test image #4 \(label 1\)/);
  const q = new URLSearchParams(await page.evaluate(() => location.search));
  assert.equal(q.get('weights'), 'e2e-files/cifar-random.safetensors');
  assert.equal(q.get('dataset'), 'cifar10');
});

test('bring-your-own weights: wrong shapes, wrong architecture, truncated, not safetensors and a ?weights= pointing nowhere each say exactly what is wrong; the previous model stays', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const good = readFileSync(join(E2E_FILES, 'stl-random.safetensors'));
  // An STL-10 file with a wrong fc3 and a stray tensor: no architecture matches; it is checked
  // against the architecture its metadata names.
  const specs = alexnetSpecs('stl10').map(([n, s]) => (n === 'fc3.weight' ? [n, [10, 128]] : [n, s])).concat([['extra.bias', [3]]]);
  await uploadWeights(page, 'bad-shapes.safetensors', safetensors(specs, 3, { architecture: 'alexnet_stl10' }));
  await page.waitForSelector('#error', { timeout: STEP_MS });
  let e = await errorText(page);
  assert.match(e, /Could not use bad-shapes\.safetensors: the weights do not match the alexnet_stl10 architecture/);
  assert.match(e, /fc3\.weight has shape \[10, 128\], expected \[10, 256\]/);
  assert.match(e, /unexpected tensor extra\.bias/);
  assert.match(e, /Still using mnist_cnn_p025/);
  // Without metadata, against the current (MNIST) architecture: every missing tensor is named.
  await uploadWeights(page, 'other.safetensors', safetensors(specs, 3));
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('other.safetensors'), null, { timeout: STEP_MS });
  e = await errorText(page);
  assert.match(e, /do not match the mnist_cnn architecture: conv1\.weight has shape \[48, 3, 11, 11\], expected \[16, 1, 5, 5\]/);
  assert.match(e, /missing tensor fc\.weight \(expected shape \[10, 1568\]\)/);
  assert.match(e, /unexpected tensor fc3\.weight/);
  await uploadWeights(page, 'truncated.safetensors', good.subarray(0, 4096));
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('truncated.safetensors'), null, { timeout: STEP_MS });
  assert.match(await errorText(page), /truncated\.safetensors: this is not a safetensors file/);
  await uploadWeights(page, 'notes.safetensors', Buffer.from('these are not weights'));
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('notes.safetensors'), null, { timeout: STEP_MS });
  assert.match(await errorText(page), /notes\.safetensors: this is not a safetensors file/);
  assert.match(await page.textContent('#weights-status'), /Model ready: mnist_cnn_p025/);
  await clickSample(page, 2);
  checkTable(await table(page, 'mc-table'), 'MNIST still works');
  // ?weights= pointing nowhere: a 404 message, then the bundled model.
  t.watch.expectFailedLoad(/\/nowhere\/missing\.safetensors$/);
  await open(t, '?weights=nowhere/missing.safetensors', null);
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('missing.safetensors'), null, { timeout: LOAD_MS });
  assert.match(await errorText(page), /Could not use weights=nowhere\/missing\.safetensors: could not fetch nowhere\/missing\.safetensors: HTTP 404/);
  await modelReady(page);
  await mcSettled(page);
  assert.doesNotMatch(await page.evaluate(() => location.search), /weights=/);
  // Another origin is refused before any request is made (the harness fails on foreign requests).
  await open(t, '?weights=https://example.com/w.safetensors');
  const notes = await page.$$eval('#notes li', (ls) => ls.map((l) => l.textContent));
  assert.ok(notes.some((n) => n.includes('a path on this site')), JSON.stringify(notes));
  // Dropping MNIST weights while in the STL-10 view switches to MNIST with a note.
  await open(t, '?dataset=stl10', null);
  await page.waitForSelector('#no-weights', { timeout: LOAD_MS });
  const mnist = readFileSync(join(DIST, 'weights/mnist_cnn_p020.safetensors'));
  await uploadWeights(page, 'digits.safetensors', mnist);
  await modelReady(page, 'your-digits');
  const notes2 = await page.$$eval('#notes li', (ls) => ls.map((l) => l.textContent));
  assert.ok(notes2.some((n) => n.includes('digits.safetensors holds mnist_cnn weights: switched to MNIST')), JSON.stringify(notes2));
  await mcSettled(page);
  assert.equal(await page.$$eval('#gallery .sample', (s) => s.length), 24, 'the MNIST samples are back');
});

test('CIFAR-10 shipped models: the dataset switch loads one, its select label gives the JPEG-copy accuracy, MC and FGSM run', async (t) => {
  const { page } = t;
  const cifar = manifest.models.filter((m) => m.architecture === 'alexnet_cifar10');
  assert.ok(cifar.length >= 1, 'the manifest ships a CIFAR-10 AlexNet');
  await open(t);
  await mcSettled(page);
  // The dataset opens with its p = 0.25 model, like MNIST.
  const first = cifar.find((m) => m.train_dropout === 0.25) ?? cifar[0];
  await page.selectOption('#dataset-select', 'cifar10');
  await modelReady(page, first.id);
  await mcSettled(page);
  const options = await page.$$eval('#model-select option', (os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(options.map(([v]) => v), cifar.map((m) => m.id), 'only CIFAR-10 models are offered');
  options.forEach(([, text], i) => {
    const m = cifar[i];
    assert.match(text, /CIFAR-10 \(JPEG copy\)/);
    assert.match(text, new RegExp(`trained p = ${m.train_dropout}, ${m.epochs} epochs \\(${(m.test_accuracy * 100).toFixed(2)} % test accuracy`), text);
  });
  checkTable(await table(page, 'mc-table'), 'CIFAR-10 model');
  await attackSettled(page);
  checkTable(await table(page, 'attack-table-after'), 'CIFAR-10 FGSM');
  assert.match(await page.evaluate(() => location.search), new RegExp(`dataset=cifar10.*model=${first.id}|model=${first.id}.*dataset=cifar10`));
  // Every other shipped CIFAR-10 model (the p = 0.2 / 0.3 ones) loads from the select and runs.
  for (const m of cifar.filter((m) => m !== first)) {
    await fresh(page, ['#mc-summary', '#mc-table'], () => page.selectOption('#model-select', m.id));
    await modelReady(page, m.id);
    await mcSettled(page);
    checkTable(await table(page, 'mc-table'), m.id);
    assert.equal(await page.$('#error'), null, `no error with ${m.id}`);
  }
});

test('upload a PNG through #file-input: caption names the file and MC runs on it', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const file = join(FIXTURES, 'digit-7.png');
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.setInputFiles('#file-input', file));
  await mcSettled(page);
  await page.waitForFunction(() => document.querySelector('#input-caption')?.textContent.includes('digit-7.png'), null, { timeout: STEP_MS });
  assert.equal(await page.$('#error'), null, 'no error for a valid PNG');
  checkTable(await table(page, 'mc-table'), 'uploaded digit');
  const s = await summary(page);
  assert.equal(s.predicted, '7', `the drawn 7 is classified as 7 (${s.text})`);
  const px = await canvasPixels(page, 'input-preview');
  const ink = px.data.filter((v, i) => i % 4 === 0 && v > 128).length;
  assert.ok(ink > 20 && ink < 400, `the preview shows a light digit on black (${ink} bright pixels)`);
  // Corners are background (inverted to black).
  assert.equal(px.data[0], 0);
  assert.deepEqual(await page.$$eval('#gallery .sample.selected', (b) => b.length), 0, 'no gallery sample is selected');
});

test('drop a PNG on #drop-zone: the dropped file becomes the input', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const b64 = readFileSync(join(FIXTURES, 'digit-7.png')).toString('base64');
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped-7.png', { type: 'image/png' }));
    const zone = document.querySelector('#drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64));
  await page.waitForFunction(() => document.querySelector('#input-caption')?.textContent.includes('dropped-7.png'), null, { timeout: STEP_MS });
  assert.equal((await summary(page)).predicted, '7');
  assert.equal(await page.$('#error'), null);
});

test('upload a non-image: #error says "not a PNG or JPEG" and the app keeps working', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const caption = await page.textContent('#input-caption');
  await page.setInputFiles('#file-input', join(FIXTURES, 'not-an-image.txt'));
  await page.waitForSelector('#error', { timeout: STEP_MS });
  const err = await errorText(page);
  assert.match(err, /not a PNG or JPEG/, `error text: ${err}`);
  assert.match(err, /not-an-image\.txt/, 'the error names the file');
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
  assert.equal(await page.textContent('#input-caption'), caption, 'the previous image stays');
  assert.equal((await table(page, 'mc-table')).length, 10, 'the MC table is still there');
  const label = await clickSample(page, 2);
  assert.equal((await summary(page)).predicted, label, 'sample 2 still classifies after the error');
  // The error can be dismissed.
  if (await page.$('#error')) {
    await page.click('#error .dismiss');
    await page.waitForSelector('#error', { state: 'detached', timeout: STEP_MS });
  }
});

test('corrupt weights: #error says "not a safetensors file"; another model still loads', async (t) => {
  const { page } = t;
  await page.route('**/weights/mnist_cnn_p025.safetensors', (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from('garbage, not weights '.repeat(50)) }));
  await page.goto(t.url);
  await page.waitForSelector('#error', { timeout: LOAD_MS });
  const err = await errorText(page);
  assert.match(err, /not a safetensors file/, `error text: ${err}`);
  assert.ok(!(await page.textContent('#weights-status')).includes('Model ready'), 'no model is ready');
  const other = modelIds.find((m) => m !== DEFAULT_MODEL);
  assert.ok(other, 'the manifest lists a second model');
  await page.selectOption('#model-select', other);
  await modelReady(page, other);
  await mcSettled(page);
  checkTable(await table(page, 'mc-table'), `model ${other}`);
  assert.match(await page.evaluate(() => location.search), new RegExp(`model=${other}`));
});

test('switching models from #model-select loads the other model', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const other = modelIds.find((m) => m !== DEFAULT_MODEL);
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.selectOption('#model-select', other));
  await modelReady(page, other);
  await mcSettled(page);
  checkTable(await table(page, 'mc-table'), other);
  assert.equal(await page.$('#error'), null);
  assert.match(await page.evaluate(() => location.search), new RegExp(`model=${other}`));
});

test('malformed URL (?T=abc&p=9&model=../x): #notes lists them and defaults are used', async (t) => {
  const { page } = t;
  await open(t, '?T=abc&p=9&model=../x');
  await mcSettled(page);
  const notes = await page.$$eval('#notes li', (ls) => ls.map((l) => l.textContent));
  assert.equal(notes.length, 3, `three notes: ${JSON.stringify(notes)}`);
  assert.ok(notes.some((n) => n.includes('T=')), 'a note about T');
  assert.ok(notes.some((n) => n.includes('p=')), 'a note about p');
  assert.ok(notes.some((n) => n.includes('model=')), 'a note about model');
  assert.equal(await page.$eval('#passes', (e) => e.value), '50');
  assert.equal(Number(await page.$eval('#mc-p', (e) => e.value)), 0.25);
  assert.equal(await page.$('#error'), null, 'no error, only notes');
  checkTable(await table(page, 'mc-table'), 'defaults');
  assert.equal(await page.evaluate(() => location.search), '', 'the URL is rewritten to the (default) state');
});

test('a shared URL restores the whole state', async (t) => {
  const { page } = t;
  await open(t, '?sample=3&T=20&p=0.1&seed=7&eps=0.2&target=5&device=cpu');
  await mcSettled(page);
  await attackSettled(page);
  assert.equal(await page.$('#notes'), null, 'every parameter was accepted');
  assert.match(await page.textContent('#input-caption'), /MNIST test image #3/);
  assert.equal(await page.$eval('#passes', (e) => e.value), '20');
  assert.equal(Number(await page.$eval('#mc-p', (e) => e.value)), 0.1);
  assert.equal(await page.$eval('#seed', (e) => e.value), '7');
  assert.equal((await page.textContent('#eps-value')).trim(), '0.20');
  assert.equal(await page.$eval('#target', (e) => e.value), '5');
  await page.waitForFunction(() => document.querySelector('#chart-mean .gtitle')?.textContent.includes('T = 20'), null, { timeout: STEP_MS });
  const q = new URLSearchParams(await page.evaluate(() => location.search));
  for (const [k, v] of Object.entries({ sample: '3', T: '20', p: '0.1', seed: '7', eps: '0.2', target: '5', device: 'cpu' })) {
    assert.equal(q.get(k), v, `URL keeps ${k}`);
  }
  // Same seed, same numbers: a reload reproduces the table exactly.
  const first = await table(page, 'mc-table');
  await open(t, '?' + q.toString());
  await mcSettled(page);
  assert.deepEqual(await table(page, 'mc-table'), first, 'same URL, same MC numbers');
});

test('bench mode (?bench=1&device=cpu) reports JSON in #bench-result and on the console', async (t) => {
  const { page } = t;
  const logged = new Promise((ok) => page.on('console', (m) => m.text().startsWith('QUIVER_BENCH ') && ok(m.text())));
  await open(t, '?bench=1&device=cpu');
  await page.waitForFunction(() => document.querySelector('#bench-result')?.textContent.trim().startsWith('{'), null, { timeout: 180_000 });
  const r = JSON.parse(await page.textContent('#bench-result'));
  assert.equal(r.device, CPU_LABEL);
  assert.equal(r.model, DEFAULT_MODEL);
  assert.ok(Number.isInteger(r.runs) && r.runs > 0, `runs: ${r.runs}`);
  for (const k of ['forward_ms', 'mc_t50_ms', 'fgsm_ms']) {
    const s = r[k];
    assert.ok(s && s.min >= 0 && s.min <= s.median && s.median <= s.max, `${k} is {min ≤ median ≤ max}: ${JSON.stringify(s)}`);
  }
  assert.ok(r.mc_t50_ms.median > 0, 'MC T=50 takes measurable time');
  assert.ok(r.transfer_bytes > 0 && r.decoded_bytes > 0, 'byte counts present');
  assert.ok(Array.isArray(r.resources) && r.resources.some(([n]) => n.endsWith('.wasm')), 'resources list the wasm module');
  const line = await Promise.race([logged, new Promise((_, no) => setTimeout(() => no(new Error('no QUIVER_BENCH console line')), 10_000))]);
  assert.deepEqual(JSON.parse(line.slice('QUIVER_BENCH '.length)), r, 'the console line carries the same JSON');
});

// ---------------------------------------------------------------- runner

const filters = process.argv.slice(2);
const selected = filters.length ? tests.filter((x) => filters.some((f) => x.name.includes(f))) : tests;
const server = await startServer({ root: DIST, prefix: PREFIX, mounts: { 'e2e-files/': E2E_FILES } });
const { browser, close } = await launch();
console.log(`e2e: ${selected.length} tests against ${DIST} served at ${server.url} (Chromium ${browser.version()})`);
rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });

const results = [];
const t0 = Date.now();
for (const [n, { name, fn }] of selected.entries()) {
  const started = Date.now();
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const w = watch(page, { origin: server.origin, prefix: PREFIX });
  let error = null;
  try {
    let timer;
    await Promise.race([
      fn({ page, context, url: server.url, origin: server.origin, watch: w }),
      new Promise((_, no) => { timer = setTimeout(() => no(new Error(`test timed out after ${TEST_MS / 1000} s`)), TEST_MS); }),
    ]).finally(() => clearTimeout(timer));
    const problems = w.problems();
    if (problems.length) throw new Error(`page problems:\n    ${problems.join('\n    ')}`);
  } catch (e) {
    error = e;
    const slug = `${String(n + 1).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
    await page.screenshot({ path: join(RESULTS, `${slug}.png`), fullPage: true }).catch(() => {});
    writeFileSync(join(RESULTS, `${slug}.log`), [`${e.stack ?? e}`, '', 'console:', ...w.log, '', 'requests:', ...w.requests].join('\n'));
  }
  await context.close().catch(() => {});
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: !error, secs });
  if (error) {
    console.log(`  FAIL  ${name} (${secs} s)\n        ${String(error.message).split('\n').join('\n        ')}`);
  } else {
    console.log(`  ok    ${name} (${secs} s)`);
  }
}
await close();
await server.close();
const failed = results.filter((r) => !r.ok);
console.log(`e2e: ${results.length - failed.length} passed, ${failed.length} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`
  + (failed.length ? ` (screenshots and logs in ${RESULTS})` : ''));
process.exit(failed.length ? 1 : 0);
