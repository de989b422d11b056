// The address: switching models, a malformed query, a shared URL that restores the whole state.
import assert from 'node:assert/strict';
import {
  test, open, modelReady, mcSettled, attackSettled, fresh, table, checkTable, notes, waitFor, search,
  mnistModelIds, param, paramValue, DEFAULT_MODEL,
} from '../harness.mjs';

test('switching models from #model-select loads the other model', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const other = mnistModelIds().find((m) => m !== DEFAULT_MODEL);
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.selectOption('#model-select', other));
  await modelReady(page, other);
  await mcSettled(page);
  checkTable(await table(page, 'mc-table'), other);
  assert.equal(await page.$('#error'), null);
  assert.match(await search(page), new RegExp(`model=${other}`));
});

test('malformed URL (?T=abc&p=9&model=../x): #notes lists them and defaults are used', async (t) => {
  const { page } = t;
  await open(t, '?T=abc&p=9&model=../x');
  await mcSettled(page);
  const ns = await notes(page);
  assert.equal(ns.length, 3, `three notes: ${JSON.stringify(ns)}`);
  assert.ok(ns.some((n) => n.includes('T=')), 'a note about T');
  assert.ok(ns.some((n) => n.includes('p=')), 'a note about p');
  assert.ok(ns.some((n) => n.includes('model=')), 'a note about model');
  assert.equal(await page.$eval(param('T'), (e) => e.value), '50');
  assert.equal(Number(await page.$eval(param('p'), (e) => e.value)), 0.25);
  assert.equal(await page.$('#error'), null, 'no error, only notes');
  checkTable(await table(page, 'mc-table'), 'defaults');
  assert.equal(await search(page), '', 'the URL is rewritten to the (default) state');
});

test('a shared URL restores the whole state', async (t) => {
  const { page } = t;
  await open(t, '?sample=3&T=20&p=0.1&seed=7&eps=0.2&target=5&device=cpu');
  await mcSettled(page);
  await attackSettled(page);
  assert.equal(await page.$('#notes'), null, 'every parameter was accepted');
  assert.match(await page.textContent('#input-caption'), /MNIST test image #3/);
  assert.equal(await page.$eval(param('T'), (e) => e.value), '20');
  assert.equal(Number(await page.$eval(param('p'), (e) => e.value)), 0.1);
  assert.equal(await page.$eval(param('seed'), (e) => e.value), '7');
  assert.equal((await page.textContent(paramValue('eps'))).trim(), '0.20');
  assert.equal(await page.$eval('#target', (e) => e.value), '5');
  await waitFor(page, '#chart-mean titled T = 20', () => document.querySelector('#chart-mean .gtitle')?.textContent.includes('T = 20'));
  const q = new URLSearchParams(await search(page));
  for (const [k, v] of Object.entries({ sample: '3', T: '20', p: '0.1', seed: '7', eps: '0.2', target: '5', device: 'cpu' })) {
    assert.equal(q.get(k), v, `URL keeps ${k}`);
  }
  // Same seed, same numbers: a reload reproduces the table exactly.
  const first = await table(page, 'mc-table');
  await open(t, '?' + q.toString());
  await mcSettled(page);
  assert.deepEqual(await table(page, 'mc-table'), first, 'same URL, same MC numbers');
});
