// The attacks: FGSM (ε, target, download), L-BFGS, IAA, a long run with cancel, bad parameters.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodePng } from '../lib.mjs';
import {
  test, open, mcSettled, attackSettled, fresh, table, checkTable, setInput, canvasPixels, chartDrawn, metrics,
  trajectory, attackResult, attackStatus, errorText, notes, waitFor, search, param, paramValue, STEP_MS,
} from '../harness.mjs';

/** The page's legend under the trajectory chart names the chart's lines, in order. */
async function legendMatches(page, traces) {
  const legend = await page.$$eval('#trajectory-legend li', (l) => l.map((e) => e.textContent));
  assert.equal(legend.length, traces.length, `one legend entry per line: ${legend.join(' | ')}`);
  for (const [i, d] of traces.entries()) assert.ok(legend[i].startsWith(d.name), `legend entry ${i}: ${legend[i]} names ${d.name}`);
}

test('FGSM: ε = 0.3 flips sample 0, the adversarial image differs, ε = 0 changes nothing', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  await attackSettled(page);
  // ε's range is [0, 1] everywhere, the slider's too.
  assert.deepEqual(await page.$eval(param('eps'), (e) => [Number(e.min), Number(e.max)]), [0, 1], 'the ε slider spans [0, 1]');
  await fresh(page, ['#attack-result', '#attack-table-after'], () => setInput(page, param('eps'), 0.3));
  await attackSettled(page);
  assert.equal((await page.textContent(paramValue('eps'))).trim(), '0.30');
  const r = await attackResult(page);
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
  await waitFor(page, '#chart-attack drawn', () => document.querySelector('#chart-attack .main-svg'));
  assert.equal((await chartDrawn(page, 'chart-attack')).bars, 20, '#chart-attack compares 2 × 10 bars');
  assert.match(await search(page), /eps=0\.3/);

  await fresh(page, ['#attack-result', '#attack-table-after'], () => setInput(page, param('eps'), 0));
  await attackSettled(page);
  const z = await attackResult(page);
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
  const r = await attackResult(page);
  assert.match(r.success, /^(true|false)$/);
  assert.equal(r.success === 'true', r.after === '3', 'a targeted attack succeeds exactly when it reaches the target');
  assert.match(await search(page), /target=3/);
  // auto = the clean image's runner-up class: the goal row names a target that is not the label.
  await fresh(page, ['#attack-result', '#attack-metrics'], () => page.selectOption('#target', 'auto'));
  await attackSettled(page);
  const goal = (await metrics(page)).goal;
  assert.match(goal, /^make it say \d \(true: 7\)$/, `runner-up goal: ${goal}`);
  assert.doesNotMatch(goal, /say 7/, 'the runner-up is not the true class');
  assert.match(await search(page), /target=auto/);
});

test('download the adversarial PNG: a 28×28 PNG equal to the adversarial canvas', async (t) => {
  const { page } = t;
  await open(t, '?eps=0.2');
  await attackSettled(page);
  await waitFor(page, '#download-adv enabled', () => !document.querySelector('#download-adv').disabled);
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

test('PGD, PGD L2, DeepFool, C&W and JSMA from #attack-select: each runs on sample 0 within its own bounds; its metrics are those of the 8-bit image downloaded', async (t) => {
  const { page } = t;
  await open(t);
  await attackSettled(page);
  const checks = {
    pgd: (m) => assert.ok(Number(m.linf) <= 0.1 + 1e-6, `PGD L∞ ≤ ε = 0.1 (${m.linf})`),
    pgdl2: (m) => assert.ok(Number(m.l2) <= 2.0 + 1e-3, `PGD L2 ≤ ε = 2 (${m.l2})`),
    deepfool: (m, r) => assert.equal(r.success, 'true', `DeepFool reaches the boundary (${r.text})`),
    cw: (m, r) => assert.equal(r.success, 'true', `C&W succeeds (${r.text})`),
    jsma: (m) => assert.ok(Number(m.l0) <= Math.floor(0.1 * 784), `JSMA changes at most γ = 10 % of the values (${m.l0})`),
  };
  for (const [key, check] of Object.entries(checks)) {
    await fresh(page, ['#attack-result'], () => page.selectOption('#attack-select', key));
    await attackSettled(page);
    const r = await attackResult(page);
    assert.equal(r.attack, key);
    assert.match(await search(page), new RegExp(`attack=${key}`));
    const m = await metrics(page);
    for (const k of ['success', 'l0', 'l2', 'linf', 'd', 'iterations', 'quantization']) assert.ok(m[k] !== undefined, `${key}: metric ${k} shown`);
    check(m, r);
    // The reported L0 and L∞ are those of the 8-bit image on the canvas (what is downloaded).
    const orig = await canvasPixels(page, 'canvas-original');
    const adv = await canvasPixels(page, 'canvas-adversarial');
    let l0 = 0;
    let linf = 0;
    for (let i = 0; i < orig.data.length; i += 4) {
      const d = Math.abs(orig.data[i] - adv.data[i]);
      if (d) l0++;
      linf = Math.max(linf, d);
    }
    assert.equal(l0, Number(m.l0), `${key}: L0 counts the changed 8-bit values`);
    assert.ok(Math.abs(linf / 255 - Number(m.linf)) < 1e-3, `${key}: L∞ is that of the 8-bit image (${linf}/255 vs ${m.linf})`);
    checkTable(await table(page, 'attack-table-after'), `${key} after`);
  }
});

test('L-BFGS from #attack-select: succeeds on sample 0 with a smaller L2 than FGSM, trajectory and metrics shown', async (t) => {
  const { page } = t;
  await open(t, '?eps=0.3');
  await attackSettled(page);
  const fgsm = await metrics(page);
  assert.equal((await attackResult(page)).success, 'true', 'FGSM ε = 0.3 succeeds on sample 0');
  const values = await page.$$eval('#attack-select option', (os) => os.map((o) => o.value));
  assert.deepEqual(values, ['fgsm', 'lbfgs', 'iaa', 'pgd', 'pgdl2', 'deepfool', 'cw', 'jsma']);
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
  await legendMatches(page, tr);
  assert.ok(tr[3].y.every((v) => v >= 0), 'L2 ≥ 0 along the trajectory');
  // The L-BFGS fields, by their URL keys, with their defaults.
  const lbfgs = [];
  for (const key of ['lbfgs_c', 'lbfgs_steps', 'lbfgs_iter', 'lbfgs_mem']) {
    lbfgs.push([key, await page.$eval(param(key), (i) => Number(i.value))]);
  }
  assert.deepEqual(lbfgs, [['lbfgs_c', 0.1], ['lbfgs_steps', 6], ['lbfgs_iter', 50], ['lbfgs_mem', 10]], 'L-BFGS parameters with their defaults');
  // The adversarial image lies in the box: every canvas value is a byte, and it differs from the original.
  const adv = await canvasPixels(page, 'canvas-adversarial');
  const orig = await canvasPixels(page, 'canvas-original');
  assert.ok(adv.data.some((v, i) => v !== orig.data[i]), 'the adversarial image differs');
  assert.match(await search(page), /attack=lbfgs/);
});

test('IAA: D within one step of D_max, ≤ m values per iteration, perturbation on busy (low-Sen) pixels', async (t) => {
  const { page } = t;
  await open(t, '?attack=iaa&iaa_m=5');
  await attackSettled(page);
  assert.equal(await page.$('#notes'), null);
  assert.equal(await page.$eval(param('iaa_m'), (e) => e.value), '5');
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
  await legendMatches(page, tr);
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
  assert.match(await search(page), /attack=iaa/);
  assert.match(await search(page), /iaa_m=5/);
});

test('a long L-BFGS run shows progress and a growing trajectory, and stops on cancel with the best so far', async (t) => {
  const { page } = t;
  await open(t, '?attack=lbfgs&lbfgs_steps=50&lbfgs_iter=10000&target=0');
  await waitFor(page, '#attack-status running at iteration ≥ 1 and a trajectory of ≥ 2 points', () => {
    const s = document.querySelector('#attack-status');
    return s?.dataset.state === 'running' && Number(s.dataset.iteration) >= 1
      && (document.querySelector('#chart-trajectory')?.data?.[0]?.x?.length ?? 0) >= 2;
  });
  const n1 = await page.$eval('#chart-trajectory', (e) => e.data[0].x.length);
  await waitFor(page, 'the trajectory to grow', (n) => document.querySelector('#chart-trajectory').data[0].x.length > n, n1);
  assert.equal((await attackStatus(page)).state, 'running', 'still running while the chart grows');
  const progress = await page.$eval('#attack-progress', (e) => e.value);
  assert.ok(progress > 0 && progress < 1, `the progress bar moves (${progress})`);
  assert.equal(await page.$eval('#attack-cancel', (e) => e.disabled), false, 'cancel is enabled while running');
  await page.click('#attack-cancel');
  await waitFor(page, '#attack-result[data-cancelled=true]', () => document.querySelector('#attack-result')?.dataset.cancelled === 'true');
  const r = await attackResult(page);
  console.log(`        cancel took effect ${r.cancelMs} ms after the click, at iteration ${r.iterations}`);
  assert.match(r.cancelMs, /^\d+(\.\d)?$/, 'the stop latency is reported');
  assert.ok(Number(r.cancelMs) < 1000, `the attack stopped promptly (${r.cancelMs} ms; the target is ~100 ms)`);
  assert.match(r.text, /^cancelled — best so far/);
  assert.equal((await attackStatus(page)).state, 'cancelled', '#attack-status says cancelled');
  assert.equal(await page.$eval('#attack-cancel', (e) => e.disabled), true);
  await page.waitForTimeout(500);
  assert.equal((await attackResult(page)).iterations, r.iterations, 'no iterations after the cancel');
  checkTable(await table(page, 'attack-table-after'), 'cancelled result');
  // Run again restarts it.
  await page.click('#attack-run');
  await waitFor(page, '#attack-status running again', () => document.querySelector('#attack-status')?.dataset.state === 'running');
  await page.click('#attack-cancel');
  await waitFor(page, '#attack-status no longer running', () => document.querySelector('#attack-status')?.dataset.state !== 'running');
});

test('bad attack parameters and a target equal to the true class are rejected with a message; fixing them runs again', async (t) => {
  const { page } = t;
  await open(t, '?attack=iaa');
  await attackSettled(page);
  const invalid = () => page.waitForSelector('#attack-invalid', { timeout: STEP_MS }).then((e) => e.textContent());
  await setInput(page, param('iaa_m'), 0);
  assert.match(await invalid(), /m \(pixels per iteration\) must be a whole number from 1 to \d+, got 0/);
  // A refused value is not applied: the field is marked invalid, the address and the last
  // result keep the accepted value.
  assert.equal(await page.$eval(param('iaa_m'), (e) => e.getAttribute('aria-invalid')), 'true');
  assert.doesNotMatch(await search(page), /iaa_m=0/);
  assert.ok(await page.$('#attack-result'), 'the last result stays');
  await setInput(page, param('iaa_m'), 10);
  await attackSettled(page);
  assert.equal(await page.$('#attack-invalid'), null, 'the message goes once the value is valid');
  await setInput(page, param('iaa_n'), 4);
  assert.match(await invalid(), /neighbourhood n must be an odd whole number from 1 to 27, got 4/);
  await setInput(page, param('iaa_n'), 3);
  await attackSettled(page);
  await setInput(page, param('iaa_dmax'), -1);
  assert.match(await invalid(), /D_max must be in \(0, 255\], got -1/);
  await setInput(page, param('iaa_dmax'), 0.1);
  await attackSettled(page);
  // A number field sanitises "abc" to "": either text is reported as not a number in δ's range.
  await setInput(page, param('iaa_delta'), 'abc');
  assert.match(await invalid(), /δ must be in \(0, 1\], got "(abc)?"/);
  // Sample 0 is a 7: targeting 7 is not an attack.
  const label = await page.$eval('#gallery .sample[data-index="0"]', (e) => e.getAttribute('data-label'));
  await page.selectOption('#target', label);
  assert.match(await invalid(), new RegExp(`the target class ${label} is the image's own class; pick another target`));
  await page.selectOption('#attack-select', 'lbfgs');
  await setInput(page, param('lbfgs_steps'), 0);
  assert.match(await invalid(), /c steps must be a whole number from 1 to 50, got 0/);
  assert.equal(await errorText(page), null, 'parameter problems stay in the panel, the app keeps working');
  checkTable(await table(page, 'mc-table'), 'MC still shown');
  // In the address: ignored with a note (core's message), defaults used.
  await open(t, '?attack=iaa&iaa_m=0&eps=-1');
  await attackSettled(page);
  const ns = await notes(page);
  assert.ok(ns.some((n) => n.includes('ignored iaa_m="0"') && n.includes('must be a whole number from 1')), JSON.stringify(ns));
  assert.ok(ns.some((n) => n.includes('eps=')), JSON.stringify(ns));
  assert.equal(await page.$eval(param('iaa_m'), (e) => e.value), '10');
});

test('changing T, p or the seed recomputes the before/after uncertainty, not the attack', async (t) => {
  const { page } = t;
  await open(t, '?attack=lbfgs');
  await attackSettled(page);
  const timeOf = () => metrics(page).then((m) => m.time);
  const before = { time: await timeOf(), after: await table(page, 'attack-table-after') };
  await fresh(page, ['#attack-table-after'], () => setInput(page, param('T'), 20));
  await attackSettled(page);
  assert.equal(await timeOf(), before.time, 'the same L-BFGS run (its time row is unchanged)');
  assert.notDeepEqual(await table(page, 'attack-table-after'), before.after, 'the uncertainty is recomputed with T = 20');
  await fresh(page, ['#attack-table-after'], () => setInput(page, param('seed'), 5));
  assert.equal(await timeOf(), before.time, 'still the same run after a new seed');
  // A parameter of the attack itself does rerun it.
  await fresh(page, ['#attack-metrics'], () => setInput(page, param('lbfgs_iter'), 40));
  await attackSettled(page);
  assert.notEqual(await timeOf(), before.time, 'a new L-BFGS run');
});

test('compare on one image: every attack in one table with 8-bit distances and MC after each, images side by side; cancel keeps a partial table', async (t) => {
  const { page } = t;
  await open(t);
  await attackSettled(page);
  const single = await metrics(page); // FGSM at its defaults, from the attack panel
  await page.click('#compare-run');
  await waitFor(page, '#compare-panel done', () => document.querySelector('#compare-panel')?.dataset.state === 'done', null, 120_000);
  const rows = await page.$$eval('#compare-table tbody tr', (trs) => trs.map((tr) => ({
    attack: tr.dataset.attack,
    ...Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.textContent.trim()])),
  })));
  const kinds = await page.$$eval('#attack-select option', (os) => os.map((o) => o.value));
  assert.deepEqual(rows.map((r) => r.attack), kinds, 'one row per attack, in the list order');
  for (const r of rows) {
    assert.match(r.success, /^(true|false)$/, `${r.attack}: success ${r.success}`);
    for (const k of ['l0', 'l2', 'linf', 'd', 'iterations', 'ms', 'mc-var', 'mc-entropy', 'mc-mi']) assert.match(r[k] ?? '', /^\d+(\.\d+)?$/, `${r.attack}: ${k} = ${r[k]}`);
    assert.ok(Number(r['mc-mi']) <= Number(r['mc-entropy']) + 1e-3, `${r.attack}: mutual information ≤ entropy`);
  }
  const fgsm = rows.find((r) => r.attack === 'fgsm');
  assert.equal(fgsm.l2, Number(single.l2).toFixed(3), 'the FGSM row equals the attack panel\'s FGSM result');
  assert.equal(fgsm.l0, single.l0);
  assert.ok(['deepfool', 'cw', 'lbfgs'].every((k) => rows.find((r) => r.attack === k).success === 'true'), 'the minimum-distance attacks succeed on sample 0');
  assert.equal(await page.$$eval('#compare-images canvas', (c) => c.length), rows.length, 'one adversarial image per row');
  assert.equal(await page.$eval('#compare-stale', (e) => e.classList.contains('hidden')), true, 'the table is current');
  // Another sample: the table says it belongs to the previous image.
  await page.click('#gallery .sample[data-index="1"]');
  await waitFor(page, 'the stale note', () => !document.querySelector('#compare-stale')?.classList.contains('hidden'));
  // Cancel during the run: the rows done stay, labelled partial.
  await page.selectOption('#attack-select', 'lbfgs');
  await setInput(page, param('lbfgs_iter'), 10000);
  await setInput(page, param('lbfgs_steps'), 50);
  await attackSettled(page).catch(() => {});
  await page.click('#compare-run');
  await waitFor(page, 'the L-BFGS row running', () => /L-BFGS/.test(document.querySelector('#compare-status')?.textContent ?? ''));
  await page.click('#compare-cancel');
  await waitFor(page, '#compare-panel partial', () => document.querySelector('#compare-panel')?.dataset.state === 'partial');
  const n = await page.$$eval('#compare-table tbody tr', (trs) => trs.length);
  assert.ok(n >= 1 && n < kinds.length, `a partial table (${n} rows)`);
  assert.match(await page.textContent('#compare-status'), /partial/);
});
