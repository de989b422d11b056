// Bugs a course page meets (the course-page issue's list), each with its test: widths at 390 px
// and of the STL-10 view, file inputs reached by keyboard, a file dropped outside the box, paste,
// class names in captions, MC whiskers inside [0, 1], no one-point trajectory, the original shown
// while an attack runs, a hint for PyTorch-tutorial tensor names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { safetensors } from '../lib.mjs';
import { test, open, modelReady, mcSettled, attackSettled, canvasPixels, errorText, uploadWeights, waitFor, FIXTURES, RESULTS, REPO } from '../harness.mjs';

const width = (page) => page.evaluate(() => document.documentElement.scrollWidth);

test('no horizontal scrolling at 390 px (MNIST, CIFAR-10, STL-10) nor in the STL-10 view at 1366 px', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 390, height: 844 });
  await open(t);
  await mcSettled(page);
  await attackSettled(page);
  assert.ok(await width(page) <= 390, `MNIST at 390 px: the page is ${await width(page)} px wide`);
  await open(t, '?dataset=cifar10', 'alexnet_cifar10_p025');
  await mcSettled(page);
  assert.ok(await width(page) <= 390, `CIFAR-10 at 390 px: ${await width(page)} px`);
  await open(t, '?dataset=stl10', null);
  await page.waitForSelector('#no-weights', { timeout: 30_000 }).catch(() => {});
  assert.ok(await width(page) <= 390, `STL-10 at 390 px: ${await width(page)} px`);
  await page.setViewportSize({ width: 1366, height: 900 });
  assert.ok(await width(page) <= 1366, `STL-10 at 1366 px: ${await width(page)} px`);
});

test('keyboard: Tab reaches "choose a file" and "use your own weights"', async (t) => {
  const { page } = t;
  await open(t);
  const reached = new Set();
  for (let i = 0; i < 80 && reached.size < 2; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.id);
    if (id === 'file-input' || id === 'weights-input') reached.add(id);
  }
  assert.deepEqual([...reached].sort(), ['file-input', 'weights-input']);
  // The focused input's label shows focus.
  await page.focus('#file-input');
  const outline = await page.$eval('#file-input', (e) => getComputedStyle(e.closest('label')).outlineStyle);
  assert.notEqual(outline, 'none', 'visible focus on the label');
});

test('a file dropped outside the box and a pasted image are both taken', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const b64 = readFileSync(join(FIXTURES, 'digit-7.png')).toString('base64');
  const prevented = await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped-outside.png', { type: 'image/png' }));
    const ev = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    document.querySelector('footer').dispatchEvent(ev);
    return ev.defaultPrevented;
  }, b64);
  assert.equal(prevented, true, 'the browser does not open the file instead');
  await waitFor(page, 'the caption naming dropped-outside.png', () => document.querySelector('#input-caption')?.textContent.includes('dropped-outside.png'));
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64);
  await waitFor(page, 'the caption naming pasted.png', () => document.querySelector('#input-caption')?.textContent.includes('pasted.png'));
  await mcSettled(page);
  assert.equal(await page.$eval('#mc-summary', (e) => e.dataset.predicted), '7', 'the pasted 7 reads as 7');
});

test('captions name the class, MC whiskers stay in [0, 1], FGSM draws no one-point trajectory', async (t) => {
  const { page } = t;
  await open(t, '?dataset=cifar10&sample=9', 'alexnet_cifar10_p025');
  await mcSettled(page);
  const caption = await page.textContent('#input-caption');
  const label = await page.$eval('#gallery .sample[data-index="9"]', (e) => e.dataset.label);
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  assert.match(caption, new RegExp(`label ${label}: ${names[label]}`), caption);
  await attackSettled(page);
  for (const id of ['chart-mean', 'chart-attack']) {
    await waitFor(page, `#${id} drawn`, (i) => document.querySelector(`#${i}`)?.data?.length > 0, id);
    const bars = await page.$eval(`#${id}`, (e) => e.data.map((d) => ({ y: Array.from(d.y), up: Array.from(d.error_y.array), down: Array.from(d.error_y.arrayminus ?? d.error_y.array) })));
    for (const b of bars) {
      b.y.forEach((y, k) => {
        assert.ok(y + b.up[k] <= 1 + 1e-6, `${id}: mean + std ≤ 1 (${y} + ${b.up[k]})`);
        assert.ok(y - b.down[k] >= -1e-6, `${id}: mean − std ≥ 0 (${y} − ${b.down[k]})`);
      });
    }
  }
  assert.equal(await page.$eval('#chart-trajectory', (e) => e.classList.contains('hidden')), true, 'FGSM (one step) has no trajectory chart');
});

test('while a long attack runs, the original image is shown (not a black square)', async (t) => {
  const { page } = t;
  await open(t, '?attack=lbfgs&lbfgs_steps=50&lbfgs_iter=10000&target=0');
  await waitFor(page, 'the attack running', () => document.querySelector('#attack-status')?.dataset.state === 'running');
  const orig = await canvasPixels(page, 'canvas-original');
  const input = await canvasPixels(page, 'input-preview');
  assert.deepEqual(orig.data, input.data, 'the original canvas shows the input during the run');
  await page.click('#attack-cancel');
});

test('weights with PyTorch-tutorial tensor names get a hint on renaming and on normalisation', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const tutorial = [['conv1.weight', [32, 1, 3, 3]], ['conv1.bias', [32]], ['conv2.weight', [64, 32, 3, 3]], ['conv2.bias', [64]],
    ['fc1.weight', [128, 9216]], ['fc1.bias', [128]], ['fc2.weight', [10, 128]], ['fc2.bias', [10]]];
  await uploadWeights(page, 'pytorch-mnist.safetensors', safetensors(tutorial, 5));
  await page.waitForSelector('#error', { timeout: 30_000 });
  const err = await errorText(page);
  assert.match(err, /Rename your tensors to these/, err);
  assert.match(err, /fc\.weight \[10, /, 'the expected names and shapes are listed');
  assert.match(err, /raw pixels in \[0, 1\].*normalis/, err);
});

/** Where `selector` lies within its frame's viewport: { top, bottom, left, right, inside }. */
const placed = (frame, selector) => frame.$eval(selector, (e) => {
  const r = e.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, inside: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth };
});

test('embed: an 800×600 sandboxed iframe on a course page shows the image, the MC chart and the attack result without scrolling', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 1000, height: 760 });
  // A plain course page (about:blank, so the only requests are the app's own) with the snippet's
  // iframe attributes.
  await page.setContent(`<!doctype html><title>Lesson 3</title><h1>Lesson 3: how sure is the network?</h1>
    <iframe id="quiver" src="${t.url}?embed=1" width="800" height="600" style="border:0" sandbox="allow-scripts allow-same-origin" title="Quiver"></iframe>`);
  const frame = await (await page.waitForSelector('#quiver')).contentFrame();
  await modelReady(frame);
  await mcSettled(frame);
  await attackSettled(frame);
  await waitFor(frame, 'the MC chart drawn', () => document.querySelectorAll('#chart-mean .barlayer .point').length > 0);
  for (const sel of ['#input-preview', '#chart-mean .main-svg', '#canvas-adversarial', '#attack-result']) {
    const p = await placed(frame, sel);
    assert.ok(p.inside, `${sel} is inside the 800×600 frame: ${JSON.stringify(p)}`);
  }
  assert.equal(await frame.evaluate(() => document.documentElement.scrollWidth <= innerWidth), true, 'no horizontal scrolling in the frame');
  assert.match(await frame.evaluate(() => location.search), /embed=1/, 'embed=1 stays in the address');
  await (await page.$('#quiver')).screenshot({ path: join(RESULTS, 'embed-800x600.png') });
});

test('hide= keys take parts away; the share dialog gives the link and an iframe snippet with embed=1 and the chosen hide keys', async (t) => {
  const { page } = t;
  await open(t, '?hide=samples,attack-settings,compare,zoom');
  await mcSettled(page);
  await attackSettled(page);
  assert.equal(await page.$eval('#gallery', (e) => e.offsetParent === null), true, 'the gallery is hidden');
  assert.equal(await page.$eval('#attack-select', (e) => e.offsetParent === null), true, 'the attack settings are hidden');
  assert.equal(await page.$('#compare-panel'), null, 'compare is gone');
  assert.equal(await page.$eval('#attack-result', (e) => e.offsetParent !== null), true, 'the attack result stays');
  assert.match(await page.textContent('#notes'), /ignored hide="zoom": parts that can be hidden are dataset, model/);
  await page.click('#share');
  const snippet = await page.$eval('#share-snippet', (e) => e.value);
  assert.match(snippet, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/quiver\/\?[^"]*embed=1[^"]*" width="800" height="600"/, snippet);
  assert.match(snippet, /hide=samples%2Cattack-settings%2Ccompare/);
  assert.match(snippet, /sandbox="allow-scripts allow-same-origin"/);
  await page.check('input[data-part="passes"]');
  assert.match(await page.$eval('#share-snippet', (e) => e.value), /hide=samples%2Cpasses%2Cattack-settings%2Ccompare/, 'a ticked part joins the snippet');
  assert.equal(await page.$eval('#share-url', (e) => e.value), await page.evaluate(() => location.href), 'the link is this view');
  // The snippet's address opens the embed with those parts hidden.
  const src = snippet.match(/src="([^"]*)"/)[1].replaceAll('&amp;', '&');
  await page.goto(src);
  await modelReady(page);
  assert.equal(await page.$eval('.app', (e) => e.classList.contains('embed')), true);
  assert.equal(await page.$eval('#gallery', (e) => e.offsetParent === null), true);
  await page.keyboard.press('Escape');
});

/** axe-core's violations on the page now (WCAG 2.1 A and AA rules), as [{ id, impact, nodes }]. */
async function axe(page) {
  // page.evaluate is not bound by the page's Content-Security-Policy (an added <script> would be).
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(readFileSync(join(REPO, 'tests/e2e/node_modules/axe-core/axe.min.js'), 'utf8'));
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

test('accessibility: axe-core finds no serious or critical WCAG 2.1 AA violation (laptop, phone, embed, share dialog, CIFAR-10)', async (t) => {
  const { page } = t;
  const views = [
    ['laptop, MNIST', 1366, 900, ''],
    ['phone, MNIST', 390, 844, ''],
    ['embed', 800, 600, '?embed=1'],
    ['CIFAR-10, IAA', 1366, 900, '?dataset=cifar10&attack=iaa'],
  ];
  const found = [];
  for (const [name, w, h, q] of views) {
    await page.setViewportSize({ width: w, height: h });
    await open(t, q, q.includes('cifar') ? null : undefined);
    await mcSettled(page);
    await attackSettled(page);
    if (name === 'laptop, MNIST') await page.click('#share');
    const v = await axe(page);
    console.log(`        figure: axe, ${name}: ${v.length ? v.map((x) => `${x.id} (${x.impact})`).join(', ') : 'no violations'}`);
    found.push(...v.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${name}: ${x.id} (${x.impact}): ${x.help} at ${x.nodes.join(' | ')}`));
  }
  assert.deepEqual(found, [], found.join('\n'));
});

/** Press Tab until the focused element matches `selector` (at most `max` presses); returns the presses. */
async function tabTo(page, selector, max = 150) {
  for (let n = 1; n <= max; n++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return n;
  }
  throw new Error(`Tab never reached ${selector} in ${max} presses (stuck at ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))})`);
}

/** The focused element shows its focus (an outline or a ring). */
const focusShown = (page) => page.evaluate(() => {
  const s = getComputedStyle(document.activeElement);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
});

test('keyboard only: pick a sample → MC → choose an attack → run → download, each control reached by Tab with its focus shown', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  await attackSettled(page);
  // Pick test image #3 from the gallery.
  await page.evaluate(() => document.activeElement?.blur());
  await tabTo(page, '#gallery .sample[data-index="3"]');
  assert.ok(await focusShown(page), 'the thumbnail shows its focus');
  await page.keyboard.press('Enter');
  await waitFor(page, 'MC on sample 3', () => document.querySelector('#input-caption')?.textContent.includes('#3') && document.querySelector('#mc-panel')?.dataset.busy === 'false');
  // MC: T by keyboard.
  await tabTo(page, 'input[data-param="T"]');
  assert.ok(await focusShown(page), 'the T field shows its focus');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('20');
  await page.keyboard.press('Enter');
  await waitFor(page, 'MC with T = 20', () => document.querySelector('#chart-passes .gtitle')?.textContent.includes('T = 20') && document.querySelector('#mc-panel')?.dataset.busy === 'false');
  // The attack: PGD from the select, by arrow keys.
  await tabTo(page, '#attack-select');
  assert.ok(await focusShown(page), 'the attack select shows its focus');
  const before = await page.$eval('#attack-select', (s) => s.value);
  while ((await page.$eval('#attack-select', (s) => s.value)) !== 'pgd') await page.keyboard.press('ArrowDown');
  assert.notEqual(before, 'pgd');
  await waitFor(page, 'the PGD result', () => document.querySelector('#attack-result')?.dataset.attack === 'pgd' && document.querySelector('#attack-panel')?.dataset.busy === 'false');
  await tabTo(page, '#attack-run');
  await page.keyboard.press('Enter');
  await waitFor(page, 'the rerun settled', () => document.querySelector('#attack-panel')?.dataset.busy === 'false' && document.querySelector('#attack-result'));
  await tabTo(page, '#download-adv');
  assert.ok(await focusShown(page), 'the download button shows its focus');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.equal(download.suggestedFilename(), 'quiver-adversarial.png');
});

test('blank images (white, black, fully transparent, 1×1) are processed with a note, not refused, and the model answers', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  for (const [name, w, h, fill] of [['white.png', 64, 48, '#ffffff'], ['black.png', 64, 48, '#000000'], ['transparent.png', 40, 40, 'rgba(0,0,0,0)'], ['one-pixel.png', 1, 1, '#808080']]) {
    await page.evaluate(async ([n, w, h, fill]) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d');
      g.fillStyle = fill;
      g.fillRect(0, 0, w, h);
      const dt = new DataTransfer();
      dt.items.add(new File([await c.convertToBlob({ type: 'image/png' })], n, { type: 'image/png' }));
      document.querySelector('#drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [name, w, h, fill]);
    await waitFor(page, `${name} in use`, (n) => document.querySelector('#input-caption')?.textContent.includes(n), name);
    assert.match(await page.textContent('#input-caption'), /one flat colour: there is no digit to crop and centre/);
    assert.equal(await page.$('#error'), null, `${name}: no error`);
    const px = await canvasPixels(page, 'input-preview');
    assert.ok(px.data.every((v, i) => i % 4 === 3 || v === 0), `${name}: the model's input is empty (black)`);
    await mcSettled(page);
    assert.match(await page.textContent('#mc-summary'), /predicted \d .* entropy/, `${name}: the model answered`);
  }
  console.log(`        figure: on an empty input the p = 0.25 model says: ${await page.textContent('#mc-summary')}`);
});

/** Draw one stroke through `points` (pad coordinates in [0, 1]) with the mouse. */
async function mouseStroke(page, points) {
  await (await page.$('#draw-pad')).scrollIntoViewIfNeeded();
  const box = await (await page.$('#draw-pad')).boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const q of points.slice(1)) await page.mouse.move(...at(q), { steps: 4 });
  await page.mouse.up();
}

/** The same with pointer events of another kind (touch, pen), as a finger or a stylus sends them. */
async function pointerStroke(page, points, pointerType) {
  await page.evaluate(([pts, type]) => {
    const pad = document.querySelector('#draw-pad');
    const r = pad.getBoundingClientRect();
    const ev = (name, [x, y]) => pad.dispatchEvent(new PointerEvent(name, {
      pointerId: 7, pointerType: type, isPrimary: true, bubbles: true, cancelable: true, buttons: name === 'pointerup' ? 0 : 1,
      clientX: r.left + x * r.width, clientY: r.top + y * r.height,
    }));
    ev('pointerdown', pts[0]);
    for (let i = 1; i < pts.length; i++) {
      const [a, b] = [pts[i - 1], pts[i]];
      for (let k = 1; k <= 4; k++) ev('pointermove', [a[0] + (b[0] - a[0]) * k / 4, a[1] + (b[1] - a[1]) * k / 4]);
    }
    ev('pointerup', pts.at(-1));
  }, [points, pointerType]);
}

const ellipse = (cx, cy, rx, ry, n = 28) => Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);

test('draw a digit with mouse, finger or pen: it is centred like MNIST and classified; clear empties the pad', async (t) => {
  const { page } = t;
  await open(t);
  await mcSettled(page);
  const digits = [
    [1, 'mouse', [[0.52, 0.12], [0.5, 0.88]]],
    [7, 'mouse', [[0.22, 0.18], [0.78, 0.18], [0.45, 0.9]]],
    [0, 'touch', ellipse(0.5, 0.5, 0.22, 0.34)],
    [1, 'pen', [[0.2, 0.3], [0.22, 0.6]]], // small and off-centre: centring makes it a digit
  ];
  const got = [];
  for (const [want, how, points] of digits) {
    if (await page.$eval('#draw-clear', (b) => !b.disabled)) await page.click('#draw-clear'); // disabled while the pad is empty
    if (how === 'mouse') await mouseStroke(page, points);
    else await pointerStroke(page, points, how);
    await waitFor(page, `the ${how} drawing in use`, () => document.querySelector('#input-caption')?.textContent === 'your drawing' && document.querySelector('#mc-panel')?.dataset.busy === 'false');
    await mcSettled(page);
    const predicted = Number(await page.$eval('#mc-summary', (e) => e.dataset.predicted));
    got.push(`${want} by ${how} → ${predicted}`);
    assert.equal(predicted, want, got.join(', '));
    // The model's input is centred by mass like MNIST's: the ink's centre within 2 px of (14, 14).
    const px = await canvasPixels(page, 'input-preview');
    let [m, mx, my] = [0, 0, 0];
    for (let i = 0; i < 784; i++) { const v = px.data[i * 4]; m += v; mx += v * (i % 28); my += v * Math.floor(i / 28); }
    assert.ok(Math.abs(mx / m - 13.5) <= 2 && Math.abs(my / m - 13.5) <= 2, `${want} by ${how}: centre of mass (${(mx / m).toFixed(1)}, ${(my / m).toFixed(1)})`);
  }
  console.log(`        figure: drawn digits: ${got.join(', ')}`);
  await page.click('#draw-clear');
  const pad = await canvasPixels(page, 'draw-pad');
  assert.ok(pad.data.every((v) => v === 255), 'clear leaves white paper');
  assert.equal(await page.$eval('#draw-clear', (b) => b.disabled), true);
});

test('explanations in place: each "?" opens its text (Escape closes it); a three-step guide on the first visit only, not in the embed', async (t) => {
  const { page } = t;
  await open(t, '?attack=pgd');
  await mcSettled(page);
  // The guide: three steps, dismissed for good.
  assert.equal(await page.$$eval('#guide li', (l) => l.length), 3);
  await page.click('#guide-close');
  assert.equal(await page.$('#guide'), null);
  const opened = async (topic, want) => {
    await page.click(`button[popovertarget="help-${topic}"]`);
    const shown = await page.$eval(`#help-${topic}`, (e) => ({ open: e.matches(':popover-open'), text: e.textContent }));
    assert.ok(shown.open, `help-${topic} opens`);
    assert.match(shown.text, want, topic);
    await page.keyboard.press('Escape');
    assert.equal(await page.$eval(`#help-${topic}`, (e) => e.matches(':popover-open')), false, `Escape closes help-${topic}`);
  };
  await opened('mc-dropout', /dropout left on|every pass is a slightly different network/);
  await opened('variance', /\(1\/T\) Σₜ \(pₜ − p̄\)²/);
  await opened('entropy', /ln 10 ≈ 2\.30/);
  await opened('mutual-information', /H\(p̄\) − \(1\/T\) Σₜ H\(pₜ\).*epistemic.*aleatoric/s);
  await opened('margin', /runner-up/);
  await opened('distances', /L0: how many values changed.*L∞.*Sen/s);
  await opened('attack-pgd', /Madry et al\. 2018/);
  // The attack's "?" follows the chosen attack.
  await page.selectOption('#attack-select', 'cw');
  await opened('attack-cw', /Carlini & Wagner 2017/);
  // The guide stays dismissed on the next visit, comes back on request, and never shows in the embed.
  await page.reload();
  await modelReady(page);
  assert.equal(await page.$('#guide'), null, 'dismissed for good');
  await page.click('#guide-open');
  assert.equal(await page.$$eval('#guide li', (l) => l.length), 3);
  await page.evaluate(() => localStorage.clear());
  await page.goto(t.url + '?embed=1');
  await modelReady(page);
  assert.equal(await page.$('#guide'), null, 'no guide in the embed');
});
