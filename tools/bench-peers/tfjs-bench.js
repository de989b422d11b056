// The same model and the same work as Quiver's ?bench=1 (src/ui/bench.rs), in TensorFlow.js on
// its wasm backend (SIMD, one thread: the page is not cross-origin isolated): the seed's MNIST CNN
// with mnist_cnn_p025's weights, MNIST test digit 0; forward ×1, MC dropout T = 50 batched with
// fresh masks (conv1 once), FGSM ×1 (ε 0.1); every result read back to JavaScript. 3 warm-up runs,
// then 20 timed; min / median / max in ms, as JSON in #bench-result.
/* global tf */
const RUNS = 20;
const WARMUP = 3;
const SITE = new URL('../', location.href);

async function bytes(path) {
  const r = await fetch(new URL(path, SITE));
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** PyTorch-layout tensors from a safetensors file (F32 only). */
function safetensors(buf) {
  const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${name}: ${t.dtype}`);
    const [a, b] = t.data_offsets;
    out[name] = { shape: t.shape, data: new Float32Array(buf.slice(8 + n + a, 8 + n + b).buffer) };
  }
  return out;
}

/** OIHW (PyTorch) → HWIO (TF.js). */
function hwio({ shape: [o, i, h, w], data }) {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
    out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x];
  return tf.tensor4d(out, [h, w, i, o]);
}

function stats(v) {
  v.sort((a, b) => a - b);
  return { min: v[0], median: v[v.length >> 1], max: v[v.length - 1] };
}

async function time(f) {
  for (let i = 0; i < WARMUP; i++) f();
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    f();
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}

async function main() {
  tf.wasm.setWasmPaths(new URL('../peers/tfjs-backend-wasm/dist/', location.href).href);
  await tf.setBackend('wasm');
  await tf.ready();
  const w = safetensors(await bytes('weights/mnist_cnn_p025.safetensors'));
  const images = await bytes('samples/mnist/t10k-images-idx3-ubyte');
  const labels = await bytes('samples/mnist/t10k-labels-idx1-ubyte');
  const pixels = Float32Array.from(images.subarray(16, 16 + 784), (v) => v / 255);
  const label = labels[8];

  const w1 = hwio(w['conv1.weight']);
  const b1 = tf.tensor1d(w['conv1.bias'].data);
  const w2 = hwio(w['conv2.weight']);
  const b2 = tf.tensor1d(w['conv2.bias'].data);
  // fc [10, 1568] over PyTorch's (c, y, x) flatten → [1568, 10] over TF.js's (y, x, c).
  const fcw = new Float32Array(1568 * 10);
  for (let k = 0; k < 10; k++) for (let c = 0; c < 32; c++) for (let u = 0; u < 49; u++)
    fcw[(u * 32 + c) * 10 + k] = w['fc.weight'].data[k * 1568 + c * 49 + u];
  const wf = tf.tensor2d(fcw, [1568, 10]);
  const bf = tf.tensor1d(w['fc.bias'].data);
  const x = tf.tensor4d(pixels, [1, 28, 28, 1]);

  // TF.js's fused kernels (conv + bias + ReLU, matmul + bias): its fastest form of this model.
  const conv = (x, filter, bias) => tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias, activation: 'relu' });
  const block1 = (x) => tf.maxPool(conv(tf.mul(tf.sub(x, 0.1307), 1 / 0.3081), w1, b1), 2, 2, 'valid');
  const block2 = (h) => tf.maxPool(conv(h, w2, b2), 2, 2, 'valid');
  const head = (h) => tf.fused.matMul({ a: tf.reshape(h, [h.shape[0], 1568]), b: wf, bias: bf });
  const logits = (x) => head(block2(block1(x)));

  // Fresh masks every run, from TF.js's own generator (masks drawn in JavaScript and uploaded
  // were slower).
  const mask = (shape, keep) => tf.mul(tf.cast(tf.less(tf.randomUniform(shape), keep), 'float32'), 1 / keep);
  const mc = (x, passes, p) => tf.tidy(() => {
    const h1 = tf.tile(block1(x), [passes, 1, 1, 1]);
    const h2 = tf.mul(block2(tf.mul(h1, mask([passes, 14, 14, 16], 1 - p))), mask([passes, 7, 7, 32], 1 - p));
    return tf.softmax(head(h2));
  });
  const onehot = tf.oneHot(tf.tensor1d([label], 'int32'), 10);
  const loss = (x) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits(x)), onehot)));
  const grad = tf.grad(loss);
  const fgsm = (x, eps) => tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(tf.sign(grad(x)), eps)), 0, 1));

  const probs = tf.tidy(() => tf.softmax(logits(x))).dataSync();
  const forward = await time(() => tf.tidy(() => tf.softmax(logits(x))).dataSync());
  const mcTimes = await time(() => mc(x, 50, 0.25).dataSync());
  const fgsmTimes = await time(() => fgsm(x, 0.1).dataSync());
  const report = {
    peer: `TensorFlow.js ${tf.version_core} (${tf.getBackend()}, ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'}, ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') && crossOriginIsolated ? 'threads' : '1 thread'})`,
    model: 'mnist_cnn_p025',
    runs: RUNS,
    label,
    probabilities: Array.from(probs),
    forward_ms: stats(forward),
    mc_t50_ms: stats(mcTimes),
    fgsm_ms: stats(fgsmTimes),
  };
  document.getElementById('bench-result').textContent = JSON.stringify(report);
}

main().catch((e) => {
  document.getElementById('bench-result').textContent = JSON.stringify({ error: String(e?.message ?? e) });
});
