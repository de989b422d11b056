// The WebGPU path gives the same numbers as the CPU path.
//
//   node tests/e2e/webgpu.mjs          (QUIVER_DIST=path overrides ../../dist)
//
// Headless Chromium with --enable-unsafe-webgpu exposes a software (SwiftShader) WebGPU adapter:
// slow, but a real WebGPU implementation. The app does not take a fallback adapter by default (it
// is ~30× slower than the CPU path); device=webgpu asks for it. The same page (sample, T, p, seed) is opened once on
// WebGPU and once with device=cpu; the dropout masks come from the same seeded stream on the host,
// so the MC-dropout tables must agree to rounding, before and after the FGSM attack.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../tools/static-server.mjs';
import { CHROMIUM_ARGS, chromiumPath, watch } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(process.env.QUIVER_DIST ?? join(here, '../../dist'));
if (!existsSync(join(DIST, 'index.html'))) {
  console.error(`${DIST}/index.html is missing: build the site first.`);
  process.exit(2);
}
const PREFIX = '/quiver/';
const server = await startServer({ root: DIST, prefix: PREFIX });
const args = CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu').concat(['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader']);
const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args });

async function tables(query) {
  const page = await browser.newPage();
  const w = watch(page, { origin: server.origin, prefix: PREFIX });
  const modules = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) modules.push(new URL(r.url()).pathname); });
  await page.goto(server.origin + PREFIX + query);
  await page.waitForFunction(() => document.querySelector('#weights-status')?.dataset.state === 'ready', null, { timeout: 120_000 });
  await page.waitForFunction(
    () => document.querySelectorAll('#mc-table tr[data-class]').length === 10
      && document.querySelectorAll('#attack-table-after tr[data-class]').length === 10
      && document.querySelector('#mc-panel')?.dataset.busy === 'false'
      && document.querySelector('#attack-panel')?.dataset.busy === 'false',
    null,
    { timeout: 300_000 },
  );
  const read = (id) => page.$$eval(`#${id} tr[data-class]`, (rows) => rows.map((r) => [r.querySelector('.mean').textContent, r.querySelector('.std').textContent].map(Number)));
  const out = {
    device: (await page.textContent('#device')).trim(),
    mc: await read('mc-table'),
    before: await read('attack-table-before'),
    after: await read('attack-table-after'),
    problems: w.problems(),
    modules,
  };
  await page.close();
  return out;
}

let failed = 0;
try {
  const query = '?sample=8&T=50&p=0.3&seed=7&eps=0.2';
  const gpu = await tables(query + '&device=webgpu');
  const cpu = await tables(query + '&device=cpu');
  const auto = await tables(query);
  assert.equal(gpu.device, 'WebGPU', 'with --enable-unsafe-webgpu and device=webgpu the app must pick WebGPU');
  assert.equal(auto.device, 'CPU (Flex, wasm SIMD)', 'by default the software (fallback) adapter is not taken');
  assert.equal(cpu.device, 'CPU (Flex, wasm SIMD)');
  // The start-up script (tools/variants.mjs) fetched the WebGPU copy only when asked for it.
  // (index.html preloads the CPU module, which every visitor without WebGPU needs first.)
  assert.ok(gpu.modules.some((m) => m.includes('/gpu/')), `device=webgpu loads gpu/: ${gpu.modules}`);
  for (const page of [cpu, auto]) assert.ok(page.modules.length === 1 && !page.modules[0].includes('/gpu/'), `the CPU build: ${page.modules}`);
  assert.deepEqual(gpu.problems, []);
  assert.deepEqual(cpu.problems, []);
  for (const key of ['mc', 'before', 'after']) {
    for (let k = 0; k < 10; k++) {
      for (let j = 0; j < 2; j++) {
        const d = Math.abs(gpu[key][k][j] - cpu[key][k][j]);
        assert.ok(d <= 2e-4, `${key} class ${k} ${j ? 'std' : 'mean'}: WebGPU ${gpu[key][k][j]} vs CPU ${cpu[key][k][j]}`);
      }
    }
  }
  const spread = cpu.mc.reduce((s, r) => s + r[1], 0);
  assert.ok(spread > 0, 'p = 0.3 gives a non-zero spread, so the comparison covers the masks');
  console.log('ok - WebGPU and CPU give the same MC-dropout numbers (before and after FGSM)');
} catch (e) {
  failed = 1;
  console.log(`not ok - WebGPU vs CPU: ${e.message}`);
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed);
