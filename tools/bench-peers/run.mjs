// Quiver's ?bench=1 beside TensorFlow.js's wasm backend on the same model and work
// (tfjs-bench.js), in one headless Chromium run, alternating (Quiver, TF.js, Quiver, TF.js) so
// that both see the same machine; prints each side's medians and the ratios Quiver / TF.js.
//
//   cd tools/bench-peers && npm ci && node run.mjs [--json]     (dist/ must be built)
//
// TF.js is a dev-dependency of this tool only: it is served from node_modules to this page, never
// part of the site.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../static-server.mjs';
import { launch } from '../../tests/e2e/lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../..');
const DIST = resolve(process.env.QUIVER_DIST ?? join(REPO, 'dist'));
const json = process.argv.includes('--json');
if (!existsSync(join(DIST, 'index.html'))) {
  console.error(`${DIST}/index.html is missing: build the site first (scripts/build-site.sh).`);
  process.exit(2);
}
if (!existsSync(join(here, 'node_modules/@tensorflow/tfjs'))) {
  console.error('TF.js is not installed: cd tools/bench-peers && npm ci');
  process.exit(2);
}

const server = await startServer({
  root: DIST,
  prefix: '/quiver/',
  mounts: { 'bench-peers/': here, 'peers/': join(here, 'node_modules/@tensorflow') },
});
const { browser, close } = await launch();

async function report(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url + path);
  await page.waitForFunction(() => {
    const t = document.querySelector('#bench-result')?.textContent ?? '';
    return t.startsWith('{');
  }, null, { timeout: 300_000 });
  const r = JSON.parse(await page.textContent('#bench-result'));
  await context.close();
  if (r.error) throw new Error(`${path}: ${r.error}`);
  return r;
}

const quiver = [];
const tfjs = [];
try {
  for (let round = 0; round < 2; round++) {
    quiver.push(await report('?bench=1&device=cpu'));
    tfjs.push(await report('bench-peers/tfjs.html'));
  }
} finally {
  await close();
  server.close?.();
}

// The peer computes the same thing: its prediction is the digit's label, its softmax sums to 1.
const p = tfjs[0].probabilities;
const argmax = p.indexOf(Math.max(...p));
if (argmax !== tfjs[0].label || Math.abs(p.reduce((a, b) => a + b, 0) - 1) > 1e-4) {
  console.error(`TF.js's port of the model is wrong: predicts ${argmax} for a ${tfjs[0].label} (${p.map((v) => v.toFixed(3))})`);
  process.exit(1);
}

// Each side's figure: the lower of its two rounds' medians (the same rule for both).
const median = (rs, key) => Math.min(...rs.map((r) => r[key].median));
const rows = [['forward ×1', 'forward_ms'], ['MC dropout T = 50', 'mc_t50_ms'], ['FGSM ×1', 'fgsm_ms']].map(([name, key]) => {
  const q = median(quiver, key);
  const t = median(tfjs, key);
  return { name, quiver_ms: q, tfjs_ms: t, ratio: q / t, quiver_runs: quiver.map((r) => r[key].median), tfjs_runs: tfjs.map((r) => r[key].median) };
});
const out = { date: new Date().toISOString(), browser: browser.version(), quiver: quiver[0].device, peer: tfjs[0].peer, rows };
if (json) {
  console.log(JSON.stringify(out));
} else {
  console.log(`${out.date.slice(0, 10)}, headless Chromium ${out.browser}; Quiver: ${out.quiver}; peer: ${out.peer}`);
  console.log("medians of 20 runs after 3 warm-up runs; two alternating rounds per side, the table shows the lower round median");
  console.log('| work | Quiver ms | TF.js ms | Quiver / TF.js | rounds (Quiver; TF.js) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.quiver_ms.toFixed(2)} | ${r.tfjs_ms.toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.quiver_runs.map((v) => v.toFixed(2)).join(', ')}; ${r.tfjs_runs.map((v) => v.toFixed(2)).join(', ')} |`);
  // Quiver's forward and MC run in its worker: the figures above are the worker's time on the
  // work; the page waits that plus the messages.
  for (const [name, key] of [['forward ×1', 'forward_round_trip_ms'], ['MC dropout T = 50', 'mc_t50_round_trip_ms']]) {
    if (quiver[0][key]) console.log(`Quiver ${name}, page → worker → page: ${median(quiver, key).toFixed(2)} ms (rounds ${quiver.map((r) => r[key].median.toFixed(2)).join(', ')})`);
  }
}
process.exit(0);
