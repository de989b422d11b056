// The compute worker (src/worker): MC dropout and the attacks run off the page's thread, and where
// no worker can start the page computes the same numbers itself.
import assert from 'node:assert/strict';
import { test, open, mcSettled, attackSettled, table, metrics, attackResult, summary, waitFor } from '../harness.mjs';

/** What the page shows of one MC result and one attack, times left out. */
async function shown(page) {
  await mcSettled(page);
  await attackSettled(page);
  const m = await metrics(page);
  delete m.time;
  const r = await attackResult(page);
  return {
    place: (await page.textContent('#compute-place')).trim(),
    summary: (await summary(page)).text,
    mc: await table(page, 'mc-table'),
    metrics: m,
    attack: { attack: r.attack, success: r.success, iterations: r.iterations, cancelled: r.cancelled },
  };
}

test('MC dropout and L-BFGS run in the worker, and give the numbers the page computes where the worker is blocked', async (t) => {
  const { page, context } = t;
  const query = '?attack=lbfgs&sample=3&seed=11';
  // No worker: its script cannot be fetched, the app says so in the console and computes here.
  await context.route('**/worker.mjs', (r) => r.abort());
  t.watch.expectFailedLoad(/worker\.mjs/);
  await open(t, query);
  const here = await shown(page);
  assert.equal(here.place, 'on the page');
  await context.unroute('**/worker.mjs');

  await open(t, query);
  await waitFor(page, '#compute-place to say "in a worker"', () => document.querySelector('#compute-place')?.textContent.trim() === 'in a worker');
  const there = await shown(page);
  const workers = page.workers().filter((w) => /\/worker\.mjs$/.test(new URL(w.url()).pathname));
  assert.equal(workers.length, 1, `one compute worker (${page.workers().map((w) => w.url()).join(', ')})`);
  const served = await workers[0].evaluate(() => self.quiverServed);
  assert.ok(served.mc >= 3 && served.attack >= 1,
    `the worker ran the MC results (the input's, before and after the attack) and the attack: ${JSON.stringify(served)}`);
  assert.equal(there.attack.success, 'true', 'L-BFGS succeeds');
  assert.deepEqual({ ...there, place: '' }, { ...here, place: '' }, 'the same numbers in the worker and on the page');
});

test('a worker that stops answering during an attack: after 10 s of silence the page takes over the run, cancel and MC work there', async (t) => {
  const { page } = t;
  await open(t, '?attack=lbfgs&lbfgs_steps=50&lbfgs_iter=10000&target=0');
  await waitFor(page, 'a long L-BFGS run in the worker', () => document.querySelector('#compute-place')?.textContent.trim() === 'in a worker'
    && document.querySelector('#attack-status')?.dataset.state === 'running' && Number(document.querySelector('#attack-status').dataset.iteration) >= 1);
  const worker = page.workers().find((w) => w.url().endsWith('/worker.mjs'));
  // The worker ends its own event loop: no error event, no more replies.
  await worker.evaluate(() => self.close()).catch(() => {});
  await waitFor(page, 'the page to take over ("on the page") and run the attack there',
    () => document.querySelector('#compute-place')?.textContent.trim() === 'on the page'
      && document.querySelector('#attack-status')?.dataset.state === 'running', null, 30_000);
  await page.click('#attack-cancel');
  await waitFor(page, '#attack-result[data-cancelled=true]', () => document.querySelector('#attack-result')?.dataset.cancelled === 'true');
  assert.equal((await attackResult(page)).attack, 'lbfgs');
  // MC dropout of a new seed, on the page.
  const before = await page.$eval('#mc-table', (e) => e.outerHTML);
  await page.$eval('input[data-param="seed"]', (e) => { e.value = '5'; e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); });
  await waitFor(page, 'a new MC result', (b) => document.querySelector('#mc-table')?.outerHTML !== b && document.querySelector('#mc-panel')?.dataset.busy === 'false', before);
});
