// The e2e suite's harness: the test registry, the runner and the helpers the specs share.
//
// The specs (tests/e2e/specs/*.spec.mjs) register tests with `test(name, fn)`; tests/e2e/run.mjs
// imports them and calls `run()`. The runner serves dist/ (QUIVER_DIST=path overrides) from the
// sub-path /quiver/ with tools/static-server.mjs, then runs every selected test in a fresh browser
// context. A test fails on its own assertions and on any console error, uncaught exception or
// request that leaves the local server's /quiver/ path, and on any Content-Security-Policy violation. (The one console error that is the
// browser's, not the page's: a 404 for /favicon.ico when the page declares no icon, is checked by
// a test of its own.) Failures leave a screenshot and a log (console, requests) in
// tests/e2e/test-results/.
//
// The helpers wait on the app's state attributes, never on status words:
//   #weights-status[data-state=loading|ready|none|failed][data-model=<id>]
//   #mc-panel[data-busy=true|false], #attack-panel[data-busy=true|false]
//   #attack-status[data-state=idle|running|done|cancelled|failed][data-iteration=<n>]
//   parameter fields: input[data-param=<URL key>], slider values: output[data-param-value=<key>]
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../tools/static-server.mjs';
import { launch, watch, alexnetSpecs, safetensors } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
export const DIST = resolve(process.env.QUIVER_DIST ?? join(REPO, 'dist'));
export const FIXTURES = join(REPO, 'tests/fixtures/e2e');
export const RESULTS = join(here, 'test-results');
export const PREFIX = '/quiver/';
export const LOAD_MS = 60_000;
export const STEP_MS = 60_000;
// E2E_TEST_MS: a longer limit for measurement runs (the suite keeps 180 s).
export const TEST_MS = Number(process.env.E2E_TEST_MS ?? 180_000);
export const CPU_LABEL = 'CPU (Flex, wasm SIMD)';
export const DEFAULT_MODEL = 'mnist_cnn_p025';

// ---------------------------------------------------------------- the built site

let manifestCache = null;
/** dist/weights/manifest.json (read once, on first use). */
export function manifest() {
  manifestCache ??= JSON.parse(readFileSync(join(DIST, 'weights/manifest.json'), 'utf8'));
  return manifestCache;
}

/** The MNIST models: the default dataset's #model-select offers exactly these. */
export function mnistModelIds() {
  // Ensemble members are not offered one by one.
  return manifest().models.filter((m) => m.architecture === 'mnist_cnn' && !m.ensemble).map((m) => m.id);
}

// ---------------------------------------------------------------- selectors

/** The field of a parameter, by its URL key (eps, T, p, seed, lbfgs_steps, iaa_m, …). */
export const param = (key) => `input[data-param="${key}"]`;
/** The displayed value of a slider parameter. */
export const paramValue = (key) => `output[data-param-value="${key}"]`;

// ---------------------------------------------------------------- waits

/** The app's state attributes, to make a timed-out wait say where the page stood. */
async function pageState(page) {
  return page.evaluate(() => {
    const attr = (sel, name) => document.querySelector(sel)?.getAttribute(name) ?? '(absent)';
    const text = (sel) => document.querySelector(sel)?.textContent.trim().slice(0, 300) ?? '(absent)';
    return [
      `#weights-status data-state=${attr('#weights-status', 'data-state')} data-model=${attr('#weights-status', 'data-model')}`,
      `#mc-panel data-busy=${attr('#mc-panel', 'data-busy')}, #attack-panel data-busy=${attr('#attack-panel', 'data-busy')}`,
      `#attack-status data-state=${attr('#attack-status', 'data-state')} data-iteration=${attr('#attack-status', 'data-iteration')}`,
      `#error: ${text('#error')}`,
      `#notes: ${text('#notes')}`,
      `#attack-invalid: ${text('#attack-invalid')}`,
    ].join('\n      ');
  }).catch((e) => `(page state unreadable: ${e.message})`);
}

/** page.waitForFunction, whose timeout error says what was awaited and where the page stood. */
export async function waitFor(page, what, fn, arg = null, timeout = STEP_MS) {
  try {
    return await page.waitForFunction(fn, arg, { timeout });
  } catch (e) {
    if (e?.name !== 'TimeoutError' && !/Timeout .*exceeded/.test(e?.message ?? '')) throw e;
    throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}\n      ${await pageState(page)}`, { cause: e });
  }
}

/** Navigate to the app with a query string and wait until `model` is loaded (none when null). */
export async function open(t, query = '', model = DEFAULT_MODEL) {
  await t.page.goto(t.url + query);
  if (model) await modelReady(t.page, model);
}

/** Wait for #weights-status[data-state=ready][data-model=<model>]. */
export async function modelReady(page, model = DEFAULT_MODEL) {
  await waitFor(page, `model ${model} ready`, (m) => {
    const s = document.querySelector('#weights-status');
    return s?.dataset.state === 'ready' && s.dataset.model === m;
  }, model, LOAD_MS);
}

/** #weights-status's { state, model }. */
export async function weightsStatus(page) {
  return page.$eval('#weights-status', (e) => ({ state: e.dataset.state, model: e.dataset.model }));
}

/** In the page: is neither panel busy? (An absent panel is not busy; a present one says data-busy="false".) */
const panelsIdle = () => ['#mc-panel', '#attack-panel'].every((id) => {
  const e = document.querySelector(id);
  return !e || e.dataset.busy === 'false';
});

/** Wait until the MC panel shows a result and is not busy. */
export async function mcSettled(page) {
  // Also plotly.js, which the app loads with its first chart (its evaluation is one task of
  // ~0.3 s, once): tests that time the page start after it.
  await waitFor(page, 'the MC result (#mc-panel not busy) and plotly.js loaded',
    () => document.querySelector('#mc-summary') && document.querySelectorAll('#mc-table tr[data-class]').length > 0
      && document.querySelector('#mc-panel')?.dataset.busy === 'false'
      && (window.Plotly !== undefined || !document.querySelector('[id^="chart-"]')));
}

/** Wait until the attack panel shows a result and is not busy. */
export async function attackSettled(page) {
  await waitFor(page, 'the attack result (#attack-panel not busy)',
    () => document.querySelector('#attack-result') && document.querySelector('#attack-panel')?.dataset.busy === 'false');
}

/**
 * Run `action`, then wait until the markup of `selectors` differs from before and has settled
 * (neither panel busy, unchanged for 300 ms). Leptos patches the existing result elements in place,
 * so "changed" means changed content; each action in this suite changes its result.
 */
export async function fresh(page, selectors, action) {
  const snapshot = (sels) => sels.map((s) => document.querySelector(s)?.outerHTML ?? '').join('\n');
  const before = await page.evaluate(snapshot, selectors);
  await action();
  // The predicate spells both checks out: the page's Content-Security-Policy refuses to build
  // functions from text (no eval), so helpers cannot be passed in as source.
  await waitFor(page, `a new ${selectors.join(', ')} with neither panel busy`,
    ([sels, old]) => ['#mc-panel', '#attack-panel'].every((id) => {
      const e = document.querySelector(id);
      return !e || e.dataset.busy === 'false';
    }) && sels.map((s) => document.querySelector(s)?.outerHTML ?? '').join('\n') !== old,
    [selectors, before]);
  for (let last = await page.evaluate(snapshot, selectors); ;) {
    await page.waitForTimeout(300);
    const now = await page.evaluate(snapshot, selectors);
    const idle = await page.evaluate(panelsIdle);
    if (now === last && idle) break;
    last = now;
  }
}

// ---------------------------------------------------------------- readers

/** The rows of an MC table: [{ cls, mean, std, variance }]. */
export async function table(page, id) {
  return page.$$eval(`#${id} tr[data-class]`, (rows) => rows.map((r) => ({
    cls: Number(r.dataset.class),
    mean: r.querySelector('.mean')?.textContent.trim(),
    std: r.querySelector('.std')?.textContent.trim(),
    variance: r.querySelector('.var')?.textContent.trim(),
  })));
}

export function checkTable(rows, what) {
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

export const argmax = (rows) => rows.reduce((best, r) => (Number(r.mean) > Number(rows[best].mean) ? r.cls : best), 0);

export async function summary(page) {
  return page.$eval('#mc-summary', (e) => ({
    predicted: e.getAttribute('data-predicted'),
    entropy: e.getAttribute('data-entropy'),
    text: e.textContent,
  }));
}

/**
 * Set an <input>'s value and fire what a user's edit fires: `input`, then `change` (range inputs
 * cannot be filled), so the test holds whichever of the two the app listens to.
 */
export async function setInput(page, selector, value) {
  await page.$eval(selector, (e, v) => {
    e.value = v;
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, String(value));
}

/** Click gallery sample `index`, wait for both panels' new results; returns its label. */
export async function clickSample(page, index) {
  const label = await page.$eval(`#gallery .sample[data-index="${index}"]`, (e) => e.getAttribute('data-label'));
  await fresh(page, ['#mc-summary', '#mc-table', '#attack-result'], () => page.click(`#gallery .sample[data-index="${index}"]`));
  await mcSettled(page);
  await attackSettled(page);
  return label;
}

/** RGBA bytes of a canvas. */
export async function canvasPixels(page, id) {
  return page.$eval(`#${id}`, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return { width: c.width, height: c.height, data: Array.from(d.data) };
  });
}

export async function chartDrawn(page, id) {
  return page.$eval(`#${id}`, (e) => ({
    svg: e.querySelectorAll('.main-svg').length,
    bars: e.querySelectorAll('.barlayer .point').length,
    boxes: e.querySelectorAll('.boxlayer .trace').length,
    boxPoints: e.querySelectorAll('.boxlayer .point').length,
    title: e.querySelector('.gtitle')?.textContent ?? '',
  }));
}

/** The attack metrics table as { key: text }. */
export async function metrics(page) {
  return page.$$eval('#attack-metrics tr[data-metric]', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.metric, r.querySelector('td').textContent.trim()])));
}

/** The trajectory chart's traces as plotly holds them: [{ name, x, y }]. */
export async function trajectory(page) {
  return page.$eval('#chart-trajectory', (e) => (e.data ?? []).map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })));
}

export async function attackResult(page) {
  return page.$eval('#attack-result', (e) => ({ ...e.dataset, text: e.textContent }));
}

/** #attack-status's { state, iteration }. */
export async function attackStatus(page) {
  return page.$eval('#attack-status', (e) => ({ state: e.dataset.state, iteration: e.dataset.iteration }));
}

export async function errorText(page) {
  return page.$eval('#error', (e) => e.textContent).catch(() => null);
}

/** The texts of #notes' items. */
export async function notes(page) {
  return page.$$eval('#notes li', (ls) => ls.map((l) => l.textContent));
}

/** location.search of the page. */
export async function search(page) {
  return page.evaluate(() => location.search);
}

/** Pick a weights file through #weights-input. */
export async function uploadWeights(page, name, buffer) {
  await page.setInputFiles('#weights-input', { name, mimeType: 'application/octet-stream', buffer });
}

// ---------------------------------------------------------------- registry and runner

const tests = [];

/**
 * Register a test. `fn(t)` gets t = { page, context, url, origin, watch, files }.
 * `options.serviceWorkers`: 'block' (default: page.route cannot see requests a service worker
 * answers, and most tests route requests) or 'allow' (the offline tests).
 */
export function test(name, fn, options = {}) {
  if (tests.some((x) => x.name === name)) throw new Error(`two e2e tests are named "${name}"`);
  tests.push({ name, fn, serviceWorkers: options.serviceWorkers ?? 'block' });
}

/** The names of the registered tests, in run order. */
export const registered = () => tests.map((x) => x.name);

/**
 * Weights the user brings, served at e2e-files/ next to the site (same origin, for ?weights=);
 * `t.files` is this folder on disk.
 */
function makeE2eFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-e2e-'));
  writeFileSync(join(dir, 'cifar-random.safetensors'), safetensors(alexnetSpecs('cifar10'), 7));
  writeFileSync(join(dir, 'stl-random.safetensors'), safetensors(alexnetSpecs('stl10'), 8));
  return dir;
}

/** One test in a fresh context: prints its line, leaves a screenshot and a log when it fails. */
async function runOne(browser, server, files, n, name, fn, serviceWorkers) {
  const started = Date.now();
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 }, serviceWorkers });
  // Every page records Content-Security-Policy violations (a test fails on any) and keeps the
  // wasm memory that Trunk's start-up event hands out (the memory test reads it).
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }));
    addEventListener('TrunkApplicationStarted', (e) => { window.__wasmMemory = e.detail?.wasm?.memory; });
  });
  const page = await context.newPage();
  const w = watch(page, { origin: server.origin, prefix: PREFIX });
  let error = null;
  try {
    let timer;
    await Promise.race([
      fn({ page, context, url: server.url, origin: server.origin, watch: w, files }),
      new Promise((_, no) => { timer = setTimeout(() => no(new Error(`test timed out after ${TEST_MS / 1000} s`)), TEST_MS); }),
    ]).finally(() => clearTimeout(timer));
    const csp = await page.evaluate(() => window.__csp ?? []).catch(() => []);
    const problems = [...w.problems(), ...csp.map((v) => `Content-Security-Policy violation: ${v.directive} blocked ${v.blocked} ${v.sample ?? ''}`)];
    if (problems.length) throw new Error(`page problems:\n    ${problems.join('\n    ')}`);
  } catch (e) {
    error = e;
    const slug = `${String(n + 1).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
    await page.screenshot({ path: join(RESULTS, `${slug}.png`), fullPage: true }).catch(() => {});
    writeFileSync(join(RESULTS, `${slug}.log`), [`${e.stack ?? e}`, '', 'console:', ...w.log, '', 'requests:', ...w.requests].join('\n'));
  }
  await context.close().catch(() => {});
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (error) {
    console.log(`  FAIL  ${name} (${secs} s)\n        ${String(error.message).split('\n').join('\n        ')}`);
  } else {
    console.log(`  ok    ${name} (${secs} s)`);
  }
  return { name, ok: !error, secs };
}

/**
 * Run the registered tests whose name contains any of `filters` (all when none), each in a fresh
 * browser context; print one line per test and the total. Exits the process: 0 when every
 * selected test passed, 1 when one failed (or none matched), 2 when dist/ is not built.
 */
export async function run(filters = process.argv.slice(2)) {
  if (!existsSync(join(DIST, 'index.html'))) {
    console.error(`${DIST}/index.html is missing: build the site first (trunk build --release).`);
    process.exit(2);
  }
  manifest();
  const selected = filters.length ? tests.filter((x) => filters.some((f) => x.name.includes(f))) : tests;
  if (!selected.length) {
    console.error(`e2e: no test name contains ${filters.map((f) => JSON.stringify(f)).join(' or ')} (${tests.length} tests registered)`);
    process.exit(1);
  }
  const files = makeE2eFiles();
  const server = await startServer({ root: DIST, prefix: PREFIX, mounts: { 'e2e-files/': files } });
  const results = [];
  const t0 = Date.now();
  try {
    const { browser, close } = await launch();
    try {
      console.log(`e2e: ${selected.length} tests against ${DIST} served at ${server.url} (Chromium ${browser.version()})`);
      rmSync(RESULTS, { recursive: true, force: true });
      mkdirSync(RESULTS, { recursive: true });
      for (const [n, { name, fn, serviceWorkers }] of selected.entries()) {
        results.push(await runOne(browser, server, files, n, name, fn, serviceWorkers));
      }
    } finally {
      await close();
    }
  } finally {
    await server.close();
    rmSync(files, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`e2e: ${results.length - failed.length} passed, ${failed.length} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`
    + (failed.length ? ` (screenshots and logs in ${RESULTS})` : ''));
  process.exit(failed.length ? 1 : 0);
}
