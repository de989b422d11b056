// MC dropout: the table, the prediction, the charts and the dropout rate.
import assert from 'node:assert/strict';
import {
  test, open, mcSettled, fresh, table, checkTable, argmax, summary, setInput, clickSample,
  chartDrawn, waitFor, search, param,
} from '../harness.mjs';

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
    const sampleParam = new URLSearchParams(await search(page)).get('sample');
    assert.equal(sampleParam, i === 0 ? null : String(i), 'the URL follows the sample (0 is the default, omitted)');
  }
});

test('MC charts are drawn by plotly (mean bars and per-pass boxes)', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  await waitFor(page, 'both MC charts drawn',
    () => document.querySelector('#chart-mean .main-svg') && document.querySelector('#chart-passes .main-svg'));
  const mean = await chartDrawn(page, 'chart-mean');
  const passes = await chartDrawn(page, 'chart-passes');
  assert.ok(mean.svg > 0 && passes.svg > 0, 'both charts have an svg');
  assert.equal(mean.bars, 10, '#chart-mean has 10 bars');
  assert.match(mean.title, /T = 50/, `#chart-mean title names T (${mean.title})`);
  assert.ok(passes.boxes >= 1, '#chart-passes has a box trace');
  assert.ok(passes.boxPoints >= 50, `#chart-passes shows the individual passes (${passes.boxPoints} points)`);
  // Changing T redraws with the new number of passes.
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, param('T'), 10));
  await mcSettled(page);
  await waitFor(page, '#chart-mean titled T = 10', () => document.querySelector('#chart-mean .gtitle')?.textContent.includes('T = 10'));
  assert.match(await search(page), /T=10/);
});

test('MC with p = 0 is deterministic: every std is 0.0000', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const before = await table(page, 'mc-table');
  assert.ok(before.some((r) => r.std !== '0.0000'), 'with the default p = 0.25 some std is non-zero');
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, param('p'), 0));
  await mcSettled(page);
  const rows = checkTable(await table(page, 'mc-table'), 'p = 0');
  for (const r of rows) assert.equal(r.std, '0.0000', `class ${r.cls} std with p = 0`);
  assert.match(await search(page), /(^|[?&])p=0(&|$)/, 'URL carries p=0');
  // Back to p = 0.3: uncertainty returns.
  await fresh(page, ['#mc-summary', '#mc-table'], () => setInput(page, param('p'), 0.3));
  await mcSettled(page);
  assert.ok((await table(page, 'mc-table')).some((r) => r.std !== '0.0000'), 'p = 0.3 gives non-zero std again');
});

test('ensembles beside MC dropout: fetched only when opened, a row per shipped ensemble with its K members\' votes, the same prediction measures; hide=ensembles removes it', async (t) => {
  const { page } = t;
  const { readFileSync } = await import('node:fs');
  const ens = JSON.parse(readFileSync(new URL('../../../weights/ensembles/manifest.json', import.meta.url), 'utf8'));
  const groups = {};
  for (const e of ens.models) if (e.ensemble) groups[e.ensemble.group] = (groups[e.ensemble.group] ?? 0) + 1;
  const fetched = [];
  page.on('request', (r) => { if (r.url().includes('/weights/ensembles/')) fetched.push(r.url()); });
  await open(t);
  await mcSettled(page);
  assert.equal(fetched.length, 0, 'no ensemble file before the section is opened');
  await page.click('#ensembles > summary');
  await waitFor(page, 'the ensembles table', (n) => document.querySelectorAll('#ensembles-table tbody tr').length === n, 1 + Object.keys(groups).length, 60_000);
  const rows = await page.$$eval('#ensembles-table tbody tr', (trs) => trs.map((r) => ({ ...r.dataset, votes: r.cells[8].textContent })));
  const s = await summary(page);
  assert.equal(rows[0].who, 'mnist_cnn_p025');
  assert.equal(rows[0].predicted, s.predicted, 'the MC row is the MC panel\'s prediction');
  assert.equal(Number(rows[0].entropy), Number(s.entropy));
  for (const r of rows.slice(1)) {
    assert.equal(Number(r.passes), groups[r.who], `${r.who}: K = its members in the manifest`);
    assert.equal(r.votes.split(' ').length, groups[r.who], `${r.who}: a vote per member`);
    assert.equal(r.predicted, '7', `${r.who}: test image #0 is a 7`);
    const [h, mi, m] = [Number(r.entropy), Number(r.mi), Number(r.mean)];
    assert.ok(h >= 0 && mi >= -1e-6 && mi <= h + 1e-6 && m > 0.5 && m <= 1, `${r.who}: H ${h}, MI ${mi}, mean ${m}`);
  }
  assert.equal(fetched.filter((u) => u.endsWith('.safetensors')).length, Object.values(groups).reduce((a, b) => a + b, 0), 'each member fetched once');
  // A new input updates every row.
  await clickSample(page, 1);
  await waitFor(page, 'the rows for sample 1', () => [...document.querySelectorAll('#ensembles-table tbody tr')].every((r) => r.dataset.predicted === '2'), null, 30_000);
  assert.equal(fetched.filter((u) => u.endsWith('.safetensors')).length, Object.values(groups).reduce((a, b) => a + b, 0), 'a new input fetches no member again');
  await open(t, '?hide=ensembles');
  await mcSettled(page);
  assert.equal(await page.$('#ensembles'), null, 'hide=ensembles removes the section');
});
