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
