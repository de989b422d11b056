// What the user brings: images (upload, drop, a non-image) and weights (their own, broken, corrupt).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alexnetSpecs, safetensors } from '../lib.mjs';
import {
  test, open, modelReady, mcSettled, fresh, table, checkTable, summary, clickSample, canvasPixels,
  errorText, uploadWeights, weightsStatus, notes, waitFor, search, mnistModelIds,
  DIST, FIXTURES, LOAD_MS, STEP_MS, DEFAULT_MODEL,
} from '../harness.mjs';

test('upload a PNG through #file-input: caption names the file and MC runs on it', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const file = join(FIXTURES, 'digit-7.png');
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.setInputFiles('#file-input', file));
  await mcSettled(page);
  await waitFor(page, '#input-caption naming digit-7.png', () => document.querySelector('#input-caption')?.textContent.includes('digit-7.png'));
  assert.equal(await page.$('#error'), null, 'no error for a valid PNG');
  checkTable(await table(page, 'mc-table'), 'uploaded digit');
  const s = await summary(page);
  assert.equal(s.predicted, '7', `the drawn 7 is classified as 7 (${s.text})`);
  const px = await canvasPixels(page, 'input-preview');
  const ink = px.data.filter((v, i) => i % 4 === 0 && v > 128).length;
  assert.ok(ink > 20 && ink < 400, `the preview shows a light digit on black (${ink} bright pixels)`);
  // Corners are background (inverted to black).
  assert.equal(px.data[0], 0);
  assert.deepEqual(await page.$$eval('#gallery .sample.selected', (b) => b.length), 0, 'no gallery sample is selected');
});

test('drop a PNG on #drop-zone: the dropped file becomes the input', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const b64 = readFileSync(join(FIXTURES, 'digit-7.png')).toString('base64');
  await fresh(page, ['#mc-summary', '#mc-table'], () => page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped-7.png', { type: 'image/png' }));
    const zone = document.querySelector('#drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64));
  await waitFor(page, '#input-caption naming dropped-7.png', () => document.querySelector('#input-caption')?.textContent.includes('dropped-7.png'));
  assert.equal((await summary(page)).predicted, '7');
  assert.equal(await page.$('#error'), null);
});

test('upload a non-image: #error says it is not an image and the app keeps working', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const caption = await page.textContent('#input-caption');
  await page.setInputFiles('#file-input', join(FIXTURES, 'not-an-image.txt'));
  await page.waitForSelector('#error', { timeout: STEP_MS });
  const err = await errorText(page);
  assert.match(err, /this file is not an image/, `error text: ${err}`);
  assert.match(err, /not-an-image\.txt/, 'the error names the file');
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
  assert.equal(await page.textContent('#input-caption'), caption, 'the previous image stays');
  assert.equal((await table(page, 'mc-table')).length, 10, 'the MC table is still there');
  const label = await clickSample(page, 2);
  assert.equal((await summary(page)).predicted, label, 'sample 2 still classifies after the error');
  // The error can be dismissed.
  if (await page.$('#error')) {
    await page.click('#error .dismiss');
    await page.waitForSelector('#error', { state: 'detached', timeout: STEP_MS });
  }
});

test('bring-your-own weights: wrong shapes, wrong architecture, truncated, not safetensors and a ?weights= pointing nowhere each say exactly what is wrong; the previous model stays', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const good = readFileSync(join(t.files, 'stl-random.safetensors'));
  // An STL-10 file with a wrong fc3 and a stray tensor: no architecture matches; it is checked
  // against the architecture its metadata names.
  const specs = alexnetSpecs('stl10').map(([n, s]) => (n === 'fc3.weight' ? [n, [10, 128]] : [n, s])).concat([['extra.bias', [3]]]);
  await uploadWeights(page, 'bad-shapes.safetensors', safetensors(specs, 3, { architecture: 'alexnet_stl10' }));
  await page.waitForSelector('#error', { timeout: STEP_MS });
  let e = await errorText(page);
  assert.match(e, /Could not use bad-shapes\.safetensors: the weights do not match the alexnet_stl10 architecture/);
  assert.match(e, /fc3\.weight has shape \[10, 128\], expected \[10, 256\]/);
  assert.match(e, /unexpected tensor extra\.bias/);
  assert.match(e, /Still using mnist_cnn_p025/);
  // Without metadata, against the current (MNIST) architecture: every missing tensor is named.
  await uploadWeights(page, 'other.safetensors', safetensors(specs, 3));
  await waitFor(page, '#error naming other.safetensors', () => document.querySelector('#error')?.textContent.includes('other.safetensors'));
  e = await errorText(page);
  assert.match(e, /do not match the mnist_cnn architecture: conv1\.weight has shape \[48, 3, 11, 11\], expected \[16, 1, 5, 5\]/);
  assert.match(e, /missing tensor fc\.weight \(expected shape \[10, 1568\]\)/);
  assert.match(e, /unexpected tensor fc3\.weight/);
  await uploadWeights(page, 'truncated.safetensors', good.subarray(0, 4096));
  await waitFor(page, '#error naming truncated.safetensors', () => document.querySelector('#error')?.textContent.includes('truncated.safetensors'));
  assert.match(await errorText(page), /truncated\.safetensors: this is not a safetensors file/);
  await uploadWeights(page, 'notes.safetensors', Buffer.from('these are not weights'));
  await waitFor(page, '#error naming notes.safetensors', () => document.querySelector('#error')?.textContent.includes('notes.safetensors'));
  assert.match(await errorText(page), /notes\.safetensors: this is not a safetensors file/);
  assert.deepEqual(await weightsStatus(page), { state: 'ready', model: 'mnist_cnn_p025' }, 'the previous model is still ready');
  await clickSample(page, 2);
  checkTable(await table(page, 'mc-table'), 'MNIST still works');
  // ?weights= pointing nowhere: a 404 message, then the bundled model.
  t.watch.expectFailedLoad(/\/nowhere\/missing\.safetensors$/);
  await open(t, '?weights=nowhere/missing.safetensors', null);
  await waitFor(page, '#error naming missing.safetensors', () => document.querySelector('#error')?.textContent.includes('missing.safetensors'), null, LOAD_MS);
  assert.match(await errorText(page), /Could not use weights=nowhere\/missing\.safetensors: could not fetch nowhere\/missing\.safetensors: HTTP 404/);
  await modelReady(page);
  await mcSettled(page);
  assert.doesNotMatch(await search(page), /weights=/);
  // Another origin is refused before any request is made (the harness fails on foreign requests).
  await open(t, '?weights=https://example.com/w.safetensors');
  const ns = await notes(page);
  assert.ok(ns.some((n) => n.includes('a path on this site')), JSON.stringify(ns));
  // Dropping MNIST weights while in the STL-10 view switches to MNIST with a note.
  await open(t, '?dataset=stl10', null);
  await page.waitForSelector('#no-weights', { timeout: LOAD_MS });
  const mnist = readFileSync(join(DIST, 'weights/mnist_cnn_p020.safetensors'));
  await uploadWeights(page, 'digits.safetensors', mnist);
  await modelReady(page, 'your-digits');
  const notes2 = await notes(page);
  assert.ok(notes2.some((n) => n.includes('digits.safetensors holds mnist_cnn weights: switched to MNIST')), JSON.stringify(notes2));
  await mcSettled(page);
  assert.equal(await page.$$eval('#gallery .sample', (s) => s.length), 24, 'the MNIST samples are back');
});

test('corrupt weights: #error says "not a safetensors file"; another model still loads', async (t) => {
  const { page } = t;
  await page.route('**/weights/mnist_cnn_p025.safetensors', (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from('garbage, not weights '.repeat(50)) }));
  await page.goto(t.url);
  await page.waitForSelector('#error', { timeout: LOAD_MS });
  const err = await errorText(page);
  assert.match(err, /not a safetensors file/, `error text: ${err}`);
  assert.notEqual((await weightsStatus(page)).state, 'ready', 'no model is ready');
  const other = mnistModelIds().find((m) => m !== DEFAULT_MODEL);
  assert.ok(other, 'the manifest lists a second model');
  await page.selectOption('#model-select', other);
  await modelReady(page, other);
  await mcSettled(page);
  checkTable(await table(page, 'mc-table'), `model ${other}`);
  assert.match(await search(page), new RegExp(`model=${other}`));
});
