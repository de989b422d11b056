// The study view: MC dropout over the bundled test subset for each shipped model, its tables
// against the manifest's record of the same subset, cancel and partial results, results kept
// across views, the downloads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, open, waitFor, manifest, FIXTURES } from '../harness.mjs';

const studyDone = (page) => waitFor(page, 'the study to finish', () => ['done', 'partial'].includes(document.querySelector('#study-panel')?.dataset.state), null, 170_000);

const rows = (page) => page.$$eval('#study-table tbody tr', (trs) => trs.map((r) => ({ ...r.dataset })));

test('study view: MC over the 1,000-image MNIST subset for p = 0.2, 0.25, 0.3; deterministic top-1 equals the manifest\'s subset record; kept across views; CSV and JSON', async (t) => {
  const { page } = t;
  await open(t, '?view=study&T=5', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await waitFor(page, 'progress shown', () => document.querySelector('#study-panel')?.dataset.state === 'running');
  await studyDone(page);
  assert.equal(await page.$eval('#study-panel', (e) => e.dataset.state), 'done');
  const all = await rows(page);
  const ids = manifest().models.filter((m) => m.architecture === 'mnist_cnn' && !m.ensemble).map((m) => m);
  // The shipped ensembles (weights/ensembles/) come after the MC-dropout models.
  const members = JSON.parse(readFileSync(join(FIXTURES, '../../../weights/ensembles/manifest.json'), 'utf8')).models.map((m) => m.ensemble.group);
  const groups = [...new Set(members)].sort();
  const k = (g) => members.filter((x) => x === g).length;
  assert.deepEqual(all.slice(ids.length).map((r) => r.model), groups, 'one row per ensemble');
  for (const r of all.slice(ids.length)) {
    assert.equal(Number(r.images), 1000);
    assert.ok(Number(r.top1) > 0.97, `${r.model}: top-1 ${r.top1}`);
  }
  const got = all.slice(0, ids.length);
  assert.equal(got.length, ids.length);
  for (const m of ids) {
    const r = got.find((x) => x.model === m.id);
    assert.ok(r, `a row for ${m.id}`);
    assert.equal(Number(r.images), 1000);
    // The deterministic forward on the committed subset is what `quiver record-subset` recorded.
    assert.equal(Number(r.detTop1), m.subset.accuracy, `${m.id}: deterministic top-1 ${r.detTop1} vs the manifest's ${m.subset.accuracy}`);
    assert.ok(Math.abs(Number(r.top1) - m.subset.accuracy) < 0.01, `${m.id}: MC top-1 ${r.top1} near it`);
    assert.ok(Number(r.ece) >= 0 && Number(r.ece) < 0.05, `${m.id}: ECE ${r.ece}`);
  }
  console.log(`        figure: study (T = 5, 1,000 MNIST subset images): ${got.map((r) => `${r.model} top-1 ${r.top1} (det ${r.detTop1}), ECE ${r.ece} (det ${r.detEce})`).join('; ')}`);
  await waitFor(page, 'the study charts drawn', () => ['study-confidence', 'study-accuracy', 'study-scatter', 'study-reliability'].every((id) => document.querySelector(`#${id} .main-svg`)));
  // The live subset per p, and beside it the full test set precomputed by `quiver study`.
  assert.match(await page.textContent('#study-full'), /the full test set, precomputed \(quiver study --passes 50 --seed 0\)/);
  const names = await page.$eval('#study-confidence', (e) => e.data.map((d) => d.name));
  assert.deepEqual(names, ['p = 0.2', 'p = 0.25', 'p = 0.3', ...groups.map((g) => `ensemble ${g}, K = ${k(g)}`), 'p = 0.2 (full test set, 10000 images)', 'p = 0.25 (full test set, 10000 images)', 'p = 0.3 (full test set, 10000 images)']);
  // Another measure redraws the confidence chart.
  await page.selectOption('#study-measure', 'mi');
  await waitFor(page, 'the MI chart', () => document.querySelector('#study-confidence .gtitle')?.textContent.includes('mutual information'));
  // The images behind a class, most uncertain first (here by mutual information); one opens in
  // the one-image view with its label.
  await page.selectOption('#study-browse-model', '1');
  await page.selectOption('#study-browse-class', '3');
  const shown = await page.$$eval('#study-images .study-image', (bs) => bs.map((b) => b.title));
  assert.ok(shown.length > 5, `class 3 images shown: ${shown.length}`);
  const scores = shown.map((x) => Number(x.match(/mutual information \(nats\) ([\d.]+)/)[1]));
  assert.deepEqual([...scores].sort((a, b) => b - a), scores, 'most uncertain first');
  const first = await page.$eval('#study-images .study-image', (b) => Number(b.dataset.index));
  await page.click('#study-images .study-image');
  await waitFor(page, 'the one-image view with the study image', (i) => document.querySelector('#input-caption')?.textContent.includes(`#${i} (from the study)`) && document.querySelector('#mc-panel')?.offsetParent !== null, first);
  assert.match(await page.textContent('#input-caption'), /label 3/);
  await page.waitForSelector('#mc-summary');
  // Kept across views: back to one image and again to the study, no recomputation.
  await page.click('#view-study');
  assert.equal(await page.$eval('#study-panel', (e) => e.dataset.state), 'done', 'the result is still there');
  assert.deepEqual(await rows(page), all);
  // Downloads: what is shown, with how it was made.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#study-csv')]);
  const text = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(text[0], 'model,dataset,p,T,seed,images,partial,class,count,variance,true_prob,top1,det_top1,entropy,mutual_information');
  assert.equal(text.length, 1 + 10 * all.length);
  assert.match(text[1], /^mnist_cnn_p020,MNIST digits \(CNN\),0\.2,5,0,1000,false,0,/);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#study-json')]);
  const file = JSON.parse(readFileSync(await json.path(), 'utf8'));
  assert.equal(file.studies.length, all.length);
  assert.deepEqual(file.studies.map((s) => [s.meta.method, s.meta.passes, s.meta.images, s.meta.partial]).slice(0, ids.length), ids.map(() => ['mc_dropout', 5, 1000, false]));
  assert.ok(file.studies.slice(ids.length).every((s) => s.meta.method === 'ensemble' && s.meta.passes >= 2), 'ensembles: K members as the passes');
  for (const s of file.studies) assert.equal(s.clean.per_class.reduce((n, r) => n + r.count, 0), 1000);
  // Every chart as a PNG named by what made it.
  const pngs = [];
  page.on('download', (d) => pngs.push(d));
  await page.click('#study-png');
  for (let waited = 0; pngs.length < 4 && waited < 20_000; waited += 200) await page.waitForTimeout(200);
  assert.deepEqual(pngs.map((d) => d.suggestedFilename()).sort(), ['confidence', 'accuracy', 'scatter', 'reliability'].map((c) => `quiver-study-${c}-mnist-mnist_cnn_p020+mnist_cnn_p025+mnist_cnn_p030-T5-seed0-n1000.png`).sort());
  const png = readFileSync(await pngs[0].path());
  assert.equal(png.subarray(1, 4).toString(), 'PNG', 'a PNG file');
});

test('study view: cancel keeps what finished, labelled partial; the URL keeps view and size', async (t) => {
  const { page } = t;
  await open(t, '?view=study&study_n=400', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await waitFor(page, 'some images done', () => /running: .* — [1-9]\d* of 400/.test(document.querySelector('#study-status')?.textContent ?? ''));
  // From the click to the frame that shows "partial" (measured in the page).
  await page.evaluate(() => {
    window.__stopped = null;
    const panel = document.querySelector('#study-panel');
    document.querySelector('#study-cancel').addEventListener('click', (e) => { window.__click = e.timeStamp; }, { once: true, capture: true });
    new MutationObserver((_, mo) => {
      if (panel.dataset.state === 'partial') { mo.disconnect(); requestAnimationFrame(() => { window.__stopped = performance.now(); }); }
    }).observe(panel, { attributes: true });
  });
  await page.click('#study-cancel');
  await studyDone(page);
  await waitFor(page, 'the painted "partial"', () => window.__stopped !== null);
  const ms = await page.evaluate(() => window.__stopped - window.__click);
  console.log(`        figure: study cancel, click → painted "partial": ${ms.toFixed(0)} ms`);
  assert.ok(ms <= 200, `the study stops at once (${ms.toFixed(0)} ms)`);
  assert.equal(await page.$eval('#study-panel', (e) => e.dataset.state), 'partial');
  assert.match(await page.textContent('#study-status'), /partial/);
  const got = await rows(page);
  assert.ok(got.length >= 1 && Number(got[0].images) < 400, `partial rows: ${JSON.stringify(got)}`);
  const q = new URLSearchParams(await page.evaluate(() => location.search));
  assert.equal(q.get('view'), 'study');
  assert.equal(q.get('study_n'), '400');
});

test('study view, CIFAR-10: the 500-image subset for the three AlexNets; deterministic top-1 equals the manifest\'s subset record', async (t) => {
  const { page } = t;
  await open(t, '?view=study&dataset=cifar10&T=3', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  const t0 = Date.now();
  await page.click('#study-run');
  await studyDone(page);
  assert.equal(await page.$eval('#study-panel', (e) => e.dataset.state), 'done');
  const got = await rows(page);
  const models = manifest().models.filter((m) => m.architecture === 'alexnet_cifar10' && !m.ensemble);
  assert.equal(got.length, models.length);
  for (const m of models) {
    const r = got.find((x) => x.model === m.id);
    assert.equal(Number(r.images), 500);
    assert.equal(Number(r.detTop1), m.subset.accuracy, `${m.id}: deterministic top-1 ${r.detTop1} vs the manifest's ${m.subset.accuracy}`);
  }
  console.log(`        figure: CIFAR-10 study (T = 3, 500 images × 3 models) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${got.map((r) => `${r.model} top-1 ${r.top1} (det ${r.detTop1}), ECE ${r.ece} (det ${r.detEce})`).join('; ')}`);
});

test('study view: FGSM over the set — benign against adversarial tables and the uncertainty detectors (ROC, AUROC, histograms)', async (t) => {
  const { page } = t;
  await open(t, '?view=study&study_n=100&T=10&eps=0.2', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await studyDone(page);
  const clean = (await rows(page)).filter((r) => r.model.startsWith('mnist_cnn_'));
  await page.click('#study-attack-run');
  await waitFor(page, 'the attack over the set', () => ['done', 'partial'].includes(document.querySelector('#study-attack')?.dataset.state), null, 170_000);
  assert.equal(await page.$eval('#study-attack', (e) => e.dataset.state), 'done');
  const all = await page.$$eval('#study-attack-table tbody tr', (trs) => trs.map((r) => ({ ...r.dataset })));
  const got = all.filter((r) => r.model.startsWith('mnist_cnn_'));
  assert.equal(got.length, clean.length);
  // The ensembles are attacked too, white box on their mean softmax.
  const ens = all.filter((r) => !r.model.startsWith('mnist_cnn_'));
  assert.equal(ens.length, ensembleGroups().length, 'a row per shipped ensemble');
  for (const r of ens) {
    assert.equal(Number(r.images), 100);
    assert.ok(Number(r.success) > 0.3 && Number(r.advTop1) < Number(r.benignTop1), `${r.model}: FGSM ε 0.2 on the ensemble (${r.success})`);
  }
  console.log(`        figure: FGSM ε 0.2 on the ensembles over 100 images: ${ens.map((r) => `${r.model} success ${r.success}, AUROC var ${r.aurocVariance} / entropy ${r.aurocEntropy} / MI ${r.aurocMi}`).join('; ')}`);
  for (const r of got) {
    const c = clean.find((x) => x.model === r.model);
    assert.equal(Number(r.images), 100);
    assert.equal(Number(r.benignTop1), Number(c.top1), `${r.model}: the benign side is the study's own`);
    assert.ok(Number(r.success) > 0.3, `${r.model}: FGSM ε 0.2 succeeds often (${r.success})`);
    assert.ok(Number(r.advTop1) < Number(r.benignTop1), `${r.model}: accuracy falls under attack`);
    for (const k of ['aurocVariance', 'aurocEntropy', 'aurocMi']) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 1, `${r.model} ${k} ${r[k]}`);
  }
  console.log(`        figure: FGSM ε 0.2 over 100 MNIST subset images (T = 10): ${got.map((r) => `${r.model} success ${r.success}, top-1 ${r.benignTop1} → ${r.advTop1}, AUROC var ${r.aurocVariance} / entropy ${r.aurocEntropy} / MI ${r.aurocMi}`).join('; ')}`);
  await waitFor(page, 'the ROC and histogram charts', () => document.querySelector('#study-roc .main-svg') && document.querySelector('#study-histogram .main-svg'));
  const roc = await page.$eval('#study-roc', (e) => e.data.slice(1).map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })));
  assert.equal(roc.length, 3, 'a curve per score');
  for (const c of roc) {
    assert.deepEqual([c.x[0], c.y[0], c.x.at(-1), c.y.at(-1)], [0, 0, 1, 1], `${c.name} runs from (0, 0) to (1, 1)`);
    assert.ok(c.x.every((v, i) => i === 0 || v >= c.x[i - 1]) && c.y.every((v, i) => i === 0 || v >= c.y[i - 1]), `${c.name} is monotone`);
  }
  const hist = await page.$eval('#study-histogram', (e) => e.data.map((d) => Array.from(d.y).reduce((a, b) => a + b, 0)));
  assert.deepEqual(hist, [100, 100], 'every image in its histogram');
  // The downloads: a CSV row and a JSON study (core's format) per attacked subject.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#study-attack-csv')]);
  assert.equal(csv.suggestedFilename(), 'quiver-study-attack-mnist-fgsm-T10-seed0-n100.csv');
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + all.length);
  const head = lines[0].split(',');
  for (const r of all) {
    const row = lines.find((l) => l.startsWith(`${r.model},`)).split(',');
    assert.equal(Number(row[head.indexOf('auroc_entropy')]), Number(r.aurocEntropy), `${r.model}: CSV AUROC = table`);
  }
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#study-attack-json')]);
  const file = JSON.parse(readFileSync(await json.path(), 'utf8'));
  assert.equal(file.studies.length, all.length);
  for (const st of file.studies) assert.deepEqual([st.meta.passes === 10 || st.meta.method === 'ensemble', st.attacks[0].images, st.attacks[0].attack], [true, 100, 'fgsm']);
  // The study's three charts, benign against adversarial, for the chosen subject.
  await waitFor(page, 'the benign/adversarial charts', () => ['confidence', 'accuracy', 'scatter'].every((c) => document.querySelector(`#study-attack-${c} .main-svg`)));
  const shown = got[0];
  const acc = await page.$eval('#study-attack-accuracy', (e) => e.data.map((d) => ({ name: d.name, y: Array.from(d.y) })));
  assert.deepEqual(acc.map((d) => d.name.split(':')[0]), ['benign', 'benign', 'adversarial (fgsm)', 'adversarial (fgsm)']);
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(acc[3].y) < mean(acc[1].y), `${shown.model}: per-class top-1 falls under attack`);
});

const ensembleGroups = () => {
  const m = JSON.parse(readFileSync(new URL('../../../weights/ensembles/manifest.json', import.meta.url), 'utf8'));
  return [...new Set(m.models.filter((e) => e.ensemble).map((e) => e.ensemble.group))];
};

test('study view: the robustness curve — accuracy, uncertainty and AUROC against FGSM ε for every subject; CSV; cancel keeps whole ε steps', async (t) => {
  const { page } = t;
  await open(t, '?view=study&study_n=20&T=5', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await studyDone(page);
  const clean = await rows(page);
  await page.click('#study-curve-run');
  await waitFor(page, 'the curve', () => ['done', 'partial'].includes(document.querySelector('#study-curve')?.dataset.state), null, 170_000);
  assert.equal(await page.$eval('#study-curve', (e) => e.dataset.state), 'done');
  assert.equal(await page.$eval('#study-curve', (e) => e.dataset.points), '6');
  await waitFor(page, 'the curve charts', () => ['accuracy', 'uncertainty', 'auroc'].every((c) => document.querySelector(`#study-curve-${c} .main-svg`)));
  const acc = await page.$eval('#study-curve-accuracy', (e) => e.data.map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })));
  assert.equal(acc.length, 2 * clean.length, 'top-1 and the report\'s accuracy per subject');
  for (const [k, r] of clean.entries()) {
    const top1 = acc[2 * k];
    assert.deepEqual(top1.x, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
    assert.equal(top1.y[0], Number(r.top1), `${r.model}: ε = 0 is the study's own top-1 on these images`);
    assert.ok(top1.y[6] < top1.y[0], `${r.model}: FGSM ε 0.3 lowers top-1 (${top1.y})`);
    assert.ok(acc[2 * k + 1].y[6] < acc[2 * k + 1].y[0], `${r.model}: and the mean softmax of the true class`);
  }
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#study-curve-csv')]);
  assert.match(csv.suggestedFilename(), /^quiver-robustness-mnist-fgsm-T5-seed0-n20\.csv$/);
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 7 * clean.length, 'a row per subject and ε');
  const head = lines[0].split(',');
  const top1Col = head.indexOf('top1');
  assert.equal(Number(lines[1].split(',')[top1Col]), acc[0].y[0]);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#study-curve-json')]);
  const curve = JSON.parse(readFileSync(await json.path(), 'utf8'));
  assert.deepEqual([curve.attack, curve.passes, curve.images, curve.subjects.length], ['fgsm', 5, 20, clean.length]);
  assert.deepEqual(curve.subjects[0].points.map((p) => p.eps), [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
  assert.equal(curve.subjects[0].points[5].study.adversarial.top1, acc[0].y[6], 'JSON = chart');
  // Cancel: whole ε steps only, the same for every subject, labelled partial.
  await page.goto(page.url().replace('T=5', 'T=6'));
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await studyDone(page);
  await page.click('#study-curve-run');
  await waitFor(page, 'the curve past its first ε', () => /^ε = 0\.1:/.test(document.querySelector('#study-curve-status')?.textContent ?? ''), null, 120_000);
  await page.click('#study-curve-cancel');
  await waitFor(page, 'the cancelled curve', () => document.querySelector('#study-curve')?.dataset.state === 'partial', null, 10_000);
  const points = Number(await page.$eval('#study-curve', (e) => e.dataset.points));
  assert.ok(points >= 1 && points < 6, `whole ε steps kept (${points})`);
});

test('study view: the precomputed attack figures from `quiver study` load on request and match their files', async (t) => {
  const { page } = t;
  const requests = [];
  page.on('request', (r) => { if (/\/study\/mnist-.*-n\d+-/.test(r.url())) requests.push(r.url()); });
  await open(t, '?view=study', null);
  await waitFor(page, 'the study panel', () => document.querySelector('#study-precomputed-load'));
  assert.equal(requests.length, 0, 'nothing fetched before it is asked for');
  await page.click('#study-precomputed-load');
  await waitFor(page, 'the precomputed table', () => document.querySelector('#study-precomputed-table tbody tr'));
  const got = await page.$$eval('#study-precomputed-table tbody tr', (trs) => trs.map((r) => ({ ...r.dataset })));
  const index = JSON.parse(readFileSync(new URL('../../../public/study/index.json', import.meta.url), 'utf8'));
  const files = index.files.filter((f) => f.startsWith('mnist-') && !f.endsWith('-full.json'));
  let want = 0;
  for (const f of files) {
    const file = JSON.parse(readFileSync(new URL(`../../../public/study/${f}`, import.meta.url), 'utf8'));
    for (const s of file.studies) for (const a of s.attacks ?? []) {
      want += 1;
      const subject = s.meta.ensemble ?? s.meta.models.join('+');
      const row = got.find((r) => r.file === f && r.subject === subject);
      assert.ok(row, `${f} ${subject} shown`);
      assert.equal(Number(row.aurocEntropy), a.detection.find((d) => d.score === 'entropy').auroc, `${f} ${subject}: entropy AUROC as in the file`);
    }
  }
  assert.equal(got.length, want, 'a row per attack study in the listed files');
  assert.equal(requests.length, files.length, 'each listed file fetched once');
});

test('study view and `quiver study` give the same numbers on the same subset, T and seed (clean tables and FGSM detectors, MC dropout and ensembles)', async (t) => {
  const { page } = t;
  // Written by: quiver study --data tests/fixtures/mnist-test-subset --limit 30 --passes 5 --seed 0
  //   --attack fgsm --eps 0.2 --attack-images 30 --out tests/fixtures/e2e/study-cli-n30-T5-fgsm0.2.json
  const cli = JSON.parse(readFileSync(join(FIXTURES, 'study-cli-n30-T5-fgsm0.2.json'), 'utf8'));
  await open(t, '?view=study&study_n=30&T=5&seed=0&eps=0.2', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await studyDone(page);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#study-json')]);
  const app = JSON.parse(readFileSync(await json.path(), 'utf8'));
  // The MC-dropout records were computed in the compute worker (src/worker), not on the page
  // (the ensembles' are computed on the page).
  const worker = page.workers().find((w) => w.url().endsWith('/worker.mjs'));
  assert.ok(worker, 'the compute worker runs');
  const served = () => worker.evaluate(() => self.quiverServed ?? {});
  assert.ok((await served()).records >= 3, `the worker computed the study's records (${JSON.stringify(await served())})`);
  // Written by: quiver study --ensemble-group <g> --data tests/fixtures/mnist-test-subset --limit 30
  //   --attack fgsm --eps 0.2 --attack-images 30 --out tests/fixtures/e2e/study-cli-<g>-n30-fgsm0.2.json
  const ensembles = ['mnist_half_p025', 'mnist_seeds_p025'].map((g) => JSON.parse(readFileSync(join(FIXTURES, `study-cli-${g}-n30-fgsm0.2.json`), 'utf8')).studies[0]);
  const appEnsembles = app.studies.filter((s) => s.meta.method === 'ensemble');
  assert.deepEqual(appEnsembles.map((s) => s.meta.passes), ensembles.map((s) => s.meta.models.length), 'the app\'s ensembles have the CLI\'s members');
  for (const [k, s] of appEnsembles.entries()) {
    const c = ensembles[k];
    for (const [j, r] of s.clean.per_class.entries()) {
      const q = c.clean.per_class[j];
      assert.deepEqual([r.class, r.count, r.top1, r.det_top1], [q.class, q.count, q.top1, q.det_top1], `${c.meta.ensemble} class ${r.class}`);
      for (const f of ['variance', 'true_prob', 'entropy', 'mutual_information']) assert.ok(Math.abs(r[f] - q[f]) <= 1e-5 + 1e-4 * Math.abs(q[f]), `${c.meta.ensemble} class ${r.class} ${f}: app ${r[f]} vs CLI ${q[f]}`);
    }
  }
  app.studies = app.studies.filter((s) => s.meta.method === 'mc_dropout');
  assert.deepEqual(app.studies.map((s) => s.meta.models[0]), cli.studies.map((s) => s.meta.models[0]));
  const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-4 + 1e-3 * Math.abs(b), `${what}: app ${a} vs CLI ${b}`);
  for (const [k, s] of app.studies.entries()) {
    const c = cli.studies[k];
    assert.deepEqual([s.meta.passes, s.meta.p, s.meta.seed, s.meta.images], [c.meta.passes, c.meta.p, c.meta.seed, c.meta.images]);
    for (const [j, r] of s.clean.per_class.entries()) {
      const q = c.clean.per_class[j];
      assert.deepEqual([r.class, r.count, r.top1, r.det_top1], [q.class, q.count, q.top1, q.det_top1], `${s.meta.models[0]} class ${r.class}`);
      for (const f of ['variance', 'true_prob', 'entropy', 'mutual_information']) near(r[f], q[f], `${s.meta.models[0]} class ${r.class} ${f}`);
    }
    near(s.clean.reliability.ece, c.clean.reliability.ece, `${s.meta.models[0]} ECE`);
  }
  await page.click('#study-attack-run');
  await waitFor(page, 'the attack over the set', () => document.querySelector('#study-attack')?.dataset.state === 'done', null, 120_000);
  assert.ok((await served()).attack_records >= 3, `the worker attacked the MC-dropout models' images (${JSON.stringify(await served())})`);
  const all = await page.$$eval('#study-attack-table tbody tr', (trs) => trs.map((r) => ({ ...r.dataset })));
  for (const c of ensembles) {
    const r = all.find((x) => x.model === c.meta.ensemble);
    const a = c.attacks[0];
    assert.equal(Number(r.success), a.success_rate, `${r.model}: success (white box on the mean softmax, app and CLI)`);
    assert.equal(Number(r.advTop1), a.adversarial.top1, `${r.model}: adversarial top-1`);
    const auroc = Object.fromEntries(a.detection.map((d) => [d.score, d.auroc]));
    assert.ok(Math.abs(Number(r.aurocEntropy) - auroc.entropy) <= 1e-4, `${r.model} AUROC entropy: app ${r.aurocEntropy} vs CLI ${auroc.entropy}`);
  }
  const got = all.filter((r) => r.model.startsWith('mnist_cnn_'));
  assert.equal(got.length, cli.studies.length);
  for (const [k, r] of got.entries()) {
    const a = cli.studies[k].attacks[0];
    assert.equal(Number(r.success), a.success_rate, `${r.model}: success`);
    assert.equal(Number(r.advTop1), a.adversarial.top1, `${r.model}: adversarial top-1`);
    const auroc = Object.fromEntries(a.detection.map((d) => [d.score, d.auroc]));
    near(Number(r.aurocVariance), auroc.variance, `${r.model} AUROC variance`);
    near(Number(r.aurocEntropy), auroc.entropy, `${r.model} AUROC entropy`);
    near(Number(r.aurocMi), auroc.mutual_information, `${r.model} AUROC MI`);
  }
});

test('study view: clicking a point of a chart picks its model and class in the drill-down; a per-image point opens its image', async (t) => {
  const { page } = t;
  await open(t, '?view=study&study_n=50&T=3', null);
  await waitFor(page, 'the study panel ready', () => !document.querySelector('#study-run')?.disabled);
  await page.click('#study-run');
  await studyDone(page);
  await waitFor(page, 'the confidence chart', () => document.querySelector('#study-confidence')?.dataset.click === '1' && document.querySelectorAll('#study-confidence g.trace.scatter').length >= 3);
  // The accuracy chart's lines lie on top of each other near 1: any of them may take the click,
  // so only its class is checked there.
  // In the scatter several classes may sit on one spot (50 images, T = 3): click one alone.
  const lone = await page.$eval('#study-scatter', (el) => {
    const boxes = [...el.querySelectorAll('g.trace.scatter')].map((g, t) => [...g.querySelectorAll('path.point')].map((p, i) => ({ t, i, b: p.getBoundingClientRect() }))).flat();
    const far = (a) => boxes.every((o) => o === a || Math.hypot(o.b.x - a.b.x, o.b.y - a.b.y) > 12);
    return boxes.find((a) => a.t === 0 && far(a))?.i;
  });
  assert.ok(lone !== undefined, 'a lone point in the scatter');
  for (const [chart, trace, point, model] of [['study-confidence', 1, 3, '1'], ['study-accuracy', 4, 6, null], ['study-scatter', 0, lone, '0']]) {
    const marker = page.locator(`#${chart} g.trace.scatter`).nth(trace).locator('path.point').nth(point);
    await marker.scrollIntoViewIfNeeded();
    const box = await marker.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitFor(page, `${chart}: the drill-down on class ${point}`, ([c, m]) => document.querySelector('#study-browse-class').value === c && (m === null || document.querySelector('#study-browse-model').value === m), [String(point), model], 10_000);
    const labels = await page.$$eval('#study-images .study-image', (bs) => bs.map((b) => b.title));
    assert.ok(labels.length > 0, `${chart}: class ${point}'s images shown`);
  }
  // The scatter's per-image points come after its per-class traces (live subjects, then the
  // precomputed full set): a lone one of the first subject opens its image.
  const perClass = await page.$eval('#study-scatter', (el) => el.data.filter((d) => !d.name.endsWith(': each image')).length);
  const image = await page.$eval('#study-scatter', (el, first) => {
    const all = [...el.querySelectorAll('g.trace.scatter')].flatMap((g, t) => [...g.querySelectorAll('path.point')].map((p, i) => ({ t, i, b: p.getBoundingClientRect() })));
    const far = (a) => all.every((o) => o === a || Math.hypot(o.b.x - a.b.x, o.b.y - a.b.y) > 10);
    return all.find((a) => a.t === first && far(a))?.i;
  }, perClass);
  assert.ok(image !== undefined, 'a lone per-image point');
  const marker = page.locator('#study-scatter g.trace.scatter').nth(perClass).locator('path.point').nth(image);
  await marker.scrollIntoViewIfNeeded();
  const box = await marker.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitFor(page, `image #${image} in the one-image view`, (i) => document.querySelector('#input-caption')?.textContent.includes(`#${i} (from the study)`), image, 10_000);
});
