// The colour datasets: the STL-10 view (no bundled weights), the CIFAR-10 view and its shipped models.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  test, open, modelReady, mcSettled, attackSettled, fresh, table, checkTable, clickSample, canvasPixels,
  metrics, attackResult, errorText, uploadWeights, search, manifest, waitFor, FIXTURES, LOAD_MS,
} from '../harness.mjs';

test('STL-10 view: says no weights are bundled and how to train them; picked STL-10 weights run MC and FGSM on a 96×96 upload', async (t) => {
  const { page } = t;
  await open(t, '?dataset=stl10', null);
  const notice = await page.waitForSelector('#no-weights', { timeout: LOAD_MS }).then((e) => e.textContent());
  assert.match(notice, /No STL-10 .* weights are bundled/);
  assert.match(notice, /train --arch alexnet_stl10 --data/);
  assert.match(notice, /airplane, bird, car, cat, deer, dog, horse, monkey, ship, truck/);
  assert.equal(await page.$$eval('#gallery .sample', (s) => s.length), 0, 'no bundled STL-10 images');
  // With no model and no image, nothing can run: "run again" and the download are off.
  assert.equal(await page.$eval('#attack-run', (b) => b.disabled), true, '"run again" is disabled without a model');
  assert.equal(await page.$eval('#download-adv', (b) => b.disabled), true);
  await uploadWeights(page, 'stl-random.safetensors', readFileSync(join(t.files, 'stl-random.safetensors')));
  await modelReady(page, 'your-stl-random');
  assert.equal(await page.$('#no-weights'), null, 'the notice goes once weights are in use');
  assert.equal(await errorText(page), null);
  assert.match(await page.$eval('#model-select', (s) => s.selectedOptions[0].textContent), /your weights: stl-random\.safetensors/);
  // A colour upload becomes the model's 96×96 RGB input.
  await page.setInputFiles('#file-input', join(FIXTURES, 'digit-7.png'));
  await mcSettled(page);
  const preview = await canvasPixels(page, 'input-preview');
  assert.equal(preview.width, 96);
  const rows = checkTable(await table(page, 'mc-table'), 'STL-10 MC');
  assert.ok(rows.length === 10);
  assert.deepEqual(await page.$$eval('#mc-table tr[data-class] td:first-child', (ts) => ts.map((x) => x.textContent)),
    ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck']);
  await attackSettled(page);
  assert.equal((await canvasPixels(page, 'canvas-adversarial')).width, 96);
  checkTable(await table(page, 'attack-table-after'), 'STL-10 attack after');
  assert.match(await search(page), /dataset=stl10/);
});

test('CIFAR-10 view: 30 colour test samples, 32×32 RGB preview, ?weights= model runs MC and IAA', async (t) => {
  const { page } = t;
  await open(t, '?dataset=cifar10&weights=e2e-files/cifar-random.safetensors&attack=iaa', 'your-cifar-random');
  await mcSettled(page);
  const thumbs = await page.$$eval('#gallery .sample', (s) => s.map((b) => Number(b.dataset.label)));
  assert.equal(thumbs.length, 30, '30 bundled CIFAR-10 samples');
  assert.deepEqual([...new Set(thumbs)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every class');
  const thumb = await page.$eval('#gallery canvas', (c) => [c.width, c.height]);
  assert.deepEqual(thumb, [32, 32]);
  const preview = await canvasPixels(page, 'input-preview');
  assert.equal(preview.width, 32);
  let colour = 0;
  for (let i = 0; i < preview.data.length; i += 4) if (preview.data[i] !== preview.data[i + 1] || preview.data[i + 1] !== preview.data[i + 2]) colour++;
  assert.ok(colour > 100, `the preview is in colour (${colour} non-grey pixels)`);
  assert.match(await page.textContent('#input-caption'), /CIFAR-10 test image #0 \(label 0: airplane\)/);
  assert.deepEqual(await page.$$eval('#mc-table tr[data-class] td:first-child', (ts) => ts.map((x) => x.textContent)),
    ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  checkTable(await table(page, 'mc-table'), 'CIFAR-10 MC');
  await attackSettled(page);
  const r = await attackResult(page);
  assert.equal(r.attack, 'iaa');
  const m = await metrics(page);
  assert.ok(Number(m.l0) <= 10 * Number(m.iterations), `≤ m values per iteration on a colour image (${m.l0}, ${m.iterations})`);
  assert.equal((await canvasPixels(page, 'canvas-sensitivity')).width, 32);
  await clickSample(page, 4);
  assert.match(await page.textContent('#input-caption'), /CIFAR-10 test image #4 \(label 1: automobile\)/);
  const q = new URLSearchParams(await search(page));
  assert.equal(q.get('weights'), 'e2e-files/cifar-random.safetensors');
  assert.equal(q.get('dataset'), 'cifar10');
});

test('CIFAR-10 shipped models: the dataset switch loads one, its select label gives the JPEG-copy accuracy, MC and FGSM run', async (t) => {
  const { page } = t;
  const cifar = manifest().models.filter((m) => m.architecture === 'alexnet_cifar10');
  assert.ok(cifar.length >= 1, 'the manifest ships a CIFAR-10 AlexNet');
  await open(t);
  await mcSettled(page);
  // The dataset opens with its p = 0.25 model, like MNIST.
  const first = cifar.find((m) => m.train_dropout === 0.25) ?? cifar[0];
  await page.selectOption('#dataset-select', 'cifar10');
  await modelReady(page, first.id);
  await mcSettled(page);
  const options = await page.$$eval('#model-select option', (os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(options.map(([v]) => v), cifar.map((m) => m.id), 'only CIFAR-10 models are offered');
  options.forEach(([, text], i) => {
    const m = cifar[i];
    assert.match(text, /CIFAR-10 \(JPEG copy\)/);
    assert.match(text, new RegExp(`trained p = ${m.train_dropout}, ${m.epochs} epochs \\(${(m.test_accuracy * 100).toFixed(2)} % test accuracy`), text);
  });
  checkTable(await table(page, 'mc-table'), 'CIFAR-10 model');
  await attackSettled(page);
  checkTable(await table(page, 'attack-table-after'), 'CIFAR-10 FGSM');
  // The dataset's default model is implied by dataset=cifar10 (defaults are omitted from the URL);
  // reopening that URL opens the same model.
  const q = new URLSearchParams(await search(page));
  assert.equal(q.get('dataset'), 'cifar10');
  assert.ok(q.get('model') === null || q.get('model') === first.id, q.toString());
  // Every other shipped CIFAR-10 model (the p = 0.2 / 0.3 ones) loads from the select and runs.
  for (const m of cifar.filter((m) => m !== first)) {
    await fresh(page, ['#mc-summary', '#mc-table'], () => page.selectOption('#model-select', m.id));
    await modelReady(page, m.id);
    await mcSettled(page);
    checkTable(await table(page, 'mc-table'), m.id);
    assert.equal(await page.$('#error'), null, `no error with ${m.id}`);
  }
});

test('a dataset whose weights fail to load: one request, a "retry" action, no loop; retry loads them', async (t) => {
  const { page } = t;
  const file = (manifest().models.find((m) => m.id === 'alexnet_cifar10_p025') ?? {}).file;
  assert.ok(file, 'the manifest ships alexnet_cifar10_p025');
  let requests = 0;
  let fail = true;
  await page.route(`**/weights/${file}`, (route) => {
    requests += 1;
    return fail ? route.fulfill({ status: 404, body: 'not here' }) : route.continue();
  });
  t.watch.expectFailedLoad(new RegExp(`/weights/${file}$`));
  await open(t);
  await mcSettled(page);
  await page.selectOption('#dataset-select', 'cifar10');
  await waitFor(page, '#weights-status failed', () => document.querySelector('#weights-status')?.dataset.state === 'failed');
  assert.match(await errorText(page), new RegExp(`Could not load model alexnet_cifar10_p025: could not fetch weights/${file}: HTTP 404.*Still using mnist_cnn_p025`));
  // The planned source is fetched once: nothing is requested again while the user waits.
  await page.waitForTimeout(2000);
  assert.equal(requests, 1, 'one request, no retry loop');
  assert.ok(await page.$('#weights-retry'), 'a retry action is offered');
  fail = false;
  await page.click('#weights-retry');
  await modelReady(page, 'alexnet_cifar10_p025');
  await mcSettled(page);
  assert.equal(requests, 2);
  assert.equal((await errorText(page)) ?? '', '', 'the load message goes once the model is in use');
});
