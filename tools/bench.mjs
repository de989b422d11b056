// Benchmark the built site in headless Chromium: opens ?bench=1 (and ?bench=1&device=cpu),
// prints the app's JSON report and a summary, plus raw and gzip sizes of the wasm module and
// plotly.js in the site folder. With --attacks it opens ?bench=attacks&device=cpu instead (and
// the same with dataset=cifar10): every attack at its defaults on 100 MNIST test digits and 100
// CIFAR-10 test images (tests/fixtures, served at fixtures/); compare notes/attack-figures.md. The attack benchmark page is
// not in the shipped build: it needs a site built with the cargo feature `attack-bench`
// (./scripts/bench.sh --attacks builds one into target/dist-attack-bench).
//
//   node tools/bench.mjs [--json] [--attacks] [--colour]
//
// The site folder: QUIVER_DIST=path (relative to the working directory) when set, else dist/, or
// target/dist-attack-bench/ with --attacks (both relative to the repository).
import { readdirSync, readFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { startServer } from './static-server.mjs';
// The browser helpers live with the e2e suite, where playwright-core is installed.
import { launch, watch, alexnetSpecs, safetensors } from '../tests/e2e/lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '..');
const jsonOnly = process.argv.includes('--json');
const attacks = process.argv.includes('--attacks');
const DIST = resolve(process.env.QUIVER_DIST ?? join(REPO, attacks ? 'target/dist-attack-bench' : 'dist'));
const PREFIX = '/quiver/';
// --colour: the same timings on the CIFAR-10 AlexNet (3×32×32; seeded random weights of the
// shipped shape: the cost does not depend on the values).
const colour = process.argv.includes('--colour');
const benchFiles = mkdtempSync(join(tmpdir(), 'quiver-bench-'));
writeFileSync(join(benchFiles, 'alexnet_cifar10.safetensors'), safetensors(alexnetSpecs('cifar10'), 1));
const out = (...a) => { if (!jsonOnly) console.log(...a); };
/** A path as the user would type it: relative to the repository when inside it. */
const shown = (p) => (relative(REPO, p).startsWith('..') ? p : relative(REPO, p) || '.');

if (!existsSync(join(DIST, 'index.html'))) {
  console.error(`${DIST}/index.html is missing: build the site first (`
    + (attacks ? `./scripts/bench.sh --attacks, or trunk build --release --features attack-bench --dist ${shown(DIST)}` : 'trunk build --release')
    + ').');
  process.exit(2);
}

/** Raw and gzip (level 9, like `gzip -9 -c | wc -c`) sizes. */
function sizes(path) {
  const raw = readFileSync(path);
  return { file: path.slice(DIST.length + 1), raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
}
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}
const files = walk(DIST);
const assets = [
  ...files.filter((f) => f.endsWith('.wasm')),
  ...files.filter((f) => /plotly.*\.js$/.test(f)),
  ...files.filter((f) => /quiver.*\.js$/.test(f) && !f.includes('plotly')),
].map(sizes);

const server = await startServer({ root: DIST, prefix: PREFIX, mounts: { 'fixtures/': join(REPO, 'tests/fixtures'), 'bench-files/': benchFiles } });
const { browser, close } = await launch();
const chromiumVersion = browser.version();
const reports = {};
let failed = false;
try {
  const queries = attacks ? ['?bench=attacks&device=cpu', '?bench=attacks&device=cpu&dataset=cifar10']
    : colour ? ['?bench=1&device=cpu&dataset=cifar10&weights=bench-files/alexnet_cifar10.safetensors']
      : ['?bench=1', '?bench=1&device=cpu'];
  for (const query of queries) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const w = watch(page, { origin: server.origin, prefix: PREFIX });
    const tag = attacks ? 'QUIVER_ATTACK_BENCH ' : 'QUIVER_BENCH ';
    const line = new Promise((ok) => page.on('console', (m) => m.text().startsWith(tag) && ok(m.text())));
    const t0 = Date.now();
    await page.goto(server.url + query);
    // The benchmark panel is there at once when the build has it; without it the page is the plain
    // app, and waiting for a report would only time out.
    await page.waitForSelector('#bench-panel', { timeout: 120_000 }).catch(() => {
      throw new Error(`${query}: the page shows no benchmark panel (#bench-panel)`
        + (attacks ? ': this site was not built with --features attack-bench (./scripts/bench.sh --attacks builds one)' : ''));
    });
    await page.waitForFunction(() => document.querySelector('#bench-result')?.textContent.trim().startsWith('{') || document.querySelector('#error'),
      null, { timeout: attacks ? 3_600_000 : 300_000 });
    const error = await page.$eval('#error', (e) => e.textContent.trim()).catch(() => null);
    if (error) throw new Error(`${query}: the page reports an error: ${error}`);
    const report = JSON.parse(await page.textContent('#bench-result'));
    const logged = await Promise.race([line, new Promise((ok) => setTimeout(() => ok(null), 5000))]);
    if (!logged) console.error(`warning: no ${tag.trim()} console line for ${query}`);
    const problems = w.problems();
    if (problems.length) {
      failed = true;
      console.error(`problems on ${query}:\n  ${problems.join('\n  ')}`);
    }
    // The cost of one call from JavaScript into the wasm: an export that does almost nothing
    // (quiverHeapBytes reads a counter), 20,000 times.
    const call_us = await page.evaluate(() => {
      const f = window.wasmBindings?.quiverHeapBytes;
      if (!f) return null;
      for (let i = 0; i < 1000; i++) f();
      const t = performance.now();
      for (let i = 0; i < 20000; i++) f();
      return ((performance.now() - t) / 20000) * 1000;
    });
    reports[query] = { ...report, export_call_us: call_us, wall_s: (Date.now() - t0) / 1000 };
    await context.close();
  }
  // First MC result on screen after navigation, cold cache (a fresh context each time), the
  // default page (no benchmark): from the navigation's start to the frame that shows #mc-summary.
  if (!attacks && !colour) {
    const firsts = [];
    for (let k = 0; k < 3; k++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      // The frame after #mc-summary enters the page, asked for when it enters (asking later,
      // from here, would also count the charts' work that follows it).
      await page.addInitScript(() => {
        new MutationObserver((_, mo) => {
          if (!document.querySelector('#mc-summary')) return;
          mo.disconnect();
          requestAnimationFrame(() => { window.__firstPainted = performance.now(); });
        }).observe(document, { childList: true, subtree: true });
      });
      await page.goto(server.url + '?device=cpu');
      await page.waitForFunction(() => window.__firstPainted !== undefined, null, { timeout: 120_000 });
      firsts.push(await page.evaluate(() => window.__firstPainted));
      await context.close();
    }
    firsts.sort((a, b) => a - b);
    reports.first_mc_painted_ms = { runs: firsts.map((x) => Math.round(x)), median: firsts[1] };
    reports.main_thread_long_tasks_ms = await longTasks(browser);
  }
} catch (e) {
  failed = true;
  console.error(`bench: ${e.message}`);
} finally {
  await close();
  await server.close();
}
if (failed && !Object.keys(reports).length) process.exit(1);

/**
 * The page's long tasks (over 50 ms, PerformanceObserver 'longtask') while MC dropout runs (five
 * new seeds, one after the other, each waiting for its result and charts) and while a default
 * L-BFGS run goes on (from choosing it to its result). Every task counts: the models' own work
 * (in the worker, where there is one, it is not on the page) and the page's drawing.
 */
async function longTasks(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url + '?device=cpu');
  const idle = () => page.waitForFunction(() => document.querySelector('#mc-summary') && ['#mc-panel', '#attack-panel']
    .every((id) => document.querySelector(id)?.dataset.busy === 'false') && window.Plotly, null, { timeout: 120_000 });
  await idle();
  await page.waitForTimeout(1000);
  const watchTasks = () => page.evaluate(() => {
    window.__long = [];
    window.__obs?.disconnect();
    window.__obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(Math.round(e.duration))));
    window.__obs.observe({ type: 'longtask' });
  });
  const tasks = async () => {
    await page.waitForTimeout(300);
    return page.evaluate(() => window.__long.slice());
  };
  await watchTasks();
  for (const seed of [2, 3, 4, 5, 6]) {
    await page.$eval('input[data-param="seed"]', (e, v) => {
      e.value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, String(seed));
    // A new seed's numbers may print as the old ones: wait for its run and charts, not a change.
    await page.waitForTimeout(1500);
    await idle();
  }
  const mc = await tasks();
  await watchTasks();
  await page.selectOption('#attack-select', 'lbfgs');
  await page.waitForFunction(() => document.querySelector('#attack-result')?.dataset.attack === 'lbfgs'
    && document.querySelector('#attack-panel')?.dataset.busy === 'false', null, { timeout: 120_000 });
  const lbfgs = await tasks();
  const place = (await page.textContent('#compute-place').catch(() => '')).trim();
  await context.close();
  const max = (v) => (v.length ? Math.max(...v) : 0);
  return { models_run: place, mc: { tasks: mc, longest: max(mc) }, lbfgs: { tasks: lbfgs, longest: max(lbfgs) } };
}

if (attacks && !jsonOnly) {
  for (const r of Object.values(reports)) {
    out(`\nAttacks, untargeted, ${r.rows[0]?.images} ${r.dataset} test images, ${r.model}, ${r.device} (headless Chromium ${chromiumVersion}); success of the 8-bit image (float result)`);
    out('| attack | parameters | success | float success | mean L2 | mean L∞ | mean L0 | mean D | mean iterations | mean ms / image |');
    out('|---|---|---|---|---|---|---|---|---|---|');
    for (const x of r.rows) {
      out(`| ${x.attack} | ${x.parameters} | ${(100 * x.success_rate).toFixed(0)} % | ${(100 * x.float_success_rate).toFixed(0)} % | ${x.mean_l2.toFixed(3)} | ${x.mean_linf.toFixed(3)} | ${x.mean_l0.toFixed(1)} | ${x.mean_perceptual_distance.toFixed(4)} | ${x.mean_iterations.toFixed(1)} | ${x.mean_ms.toFixed(1)} |`);
    }
  }
  process.exit(failed ? 1 : 0);
}
if (jsonOnly) {
  console.log(JSON.stringify({ chromium: chromiumVersion, reports, assets }, null, 2));
} else {
  for (const [query, r] of Object.entries(reports)) {
    out(`\n${query}`);
    out(`QUIVER_BENCH ${JSON.stringify(r)}`);
  }
  out(`\nSummary (headless Chromium ${chromiumVersion}, ${process.env.BENCH_MACHINE ?? 'this machine'})`);
  out('| page | device | models run | runs | forward ms (median) | MC T=50 ms (median) | FGSM ms (median) | forward / MC round trip from the page | transferred bytes |');
  out('|---|---|---|---|---|---|---|---|---|');
  for (const [query, r] of Object.entries(reports)) {
    if (!r.forward_ms) continue;
    const trip = r.forward_round_trip_ms ? `${r.forward_round_trip_ms.median.toFixed(2)} / ${r.mc_t50_round_trip_ms.median.toFixed(2)}` : '';
    out(`| ${query} | ${r.device} | ${r.models_run ?? ''} | ${r.runs} | ${r.forward_ms.median.toFixed(2)} | ${r.mc_t50_ms.median.toFixed(2)} | ${r.fgsm_ms.median.toFixed(2)} | ${trip} | ${Math.round(r.transfer_bytes)} |`);
  }
  for (const [query, r] of Object.entries(reports)) {
    if (r.export_call_us != null) out(`${query}: one empty call from JavaScript into the wasm: ${r.export_call_us.toFixed(2)} µs`);
  }
  const lt = reports.main_thread_long_tasks_ms;
  if (lt) out(`the page's long tasks (> 50 ms; models run ${lt.models_run}): during MC (5 seeds) ${JSON.stringify(lt.mc.tasks)} ms, longest ${lt.mc.longest}; during L-BFGS ${JSON.stringify(lt.lbfgs.tasks)} ms, longest ${lt.lbfgs.longest}`);
  if (reports.first_mc_painted_ms) out(`first MC result painted after navigation (cold, local server, CPU): ${reports.first_mc_painted_ms.runs.join(', ')} ms (median ${Math.round(reports.first_mc_painted_ms.median)})`);
  out(`\nBuild sizes (${shown(DIST)}/)`);
  out('| file | raw bytes | gzip -9 bytes |');
  out('|---|---|---|');
  for (const a of assets) out(`| ${a.file} | ${a.raw} | ${a.gzip} |`);
}
process.exit(failed ? 1 : 0);
