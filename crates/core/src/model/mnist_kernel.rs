//! A CPU kernel of our own for the MNIST CNN's hot paths: the deterministic forward, the `T`
//! masked passes of MC dropout, and the gradient of any function of the logits w.r.t. the input
//! pixels. It computes exactly what [`MnistCnn`](super::MnistCnn) computes through Burn (the
//! same layers, the same masks), to float rounding — `tests/mnist_kernel.rs` compares both on
//! real weights and checks the gradient by finite differences — and is used only for
//! non-autodiff tensors on the CPU (Flex) device; WebGPU and training keep Burn's kernels.
//!
//! Why it exists (issue 12, speed): one image is ~2.8 M multiply-adds, and Burn's general
//! convolution spends most of its time around its GEMM (weight relayout and im2col on every call,
//! pooling indices that inference never uses, an allocation per op). Here:
//! - every activation is channel-last, so the inner loops are fixed-width multiply-adds over 16 or
//!   32 channels that LLVM turns into wasm SIMD (`+simd128`) without `unsafe`;
//! - conv2 and the linear layer **skip zero inputs**: after ReLU, max-pool and dropout most of
//!   conv2's inputs are zero (ReLU alone zeroes about half; dropout p zeroes a further p), so each
//!   pass does only the work of its non-zero units — the dense GEMM does all of it;
//! - for MC dropout, conv1 (before the first dropout) runs once for all `T` passes;
//! - the gradient routes through the pooling windows' argmax and skips zero gradients the same way.
//!
//! Cost to keep: this file and its test. If the architecture changes, both paths must change;
//! the test fails if they disagree.

use super::host;
use super::mnist_cnn::{MnistCnn, MNIST_MEAN, MNIST_STD};

const SIDE: usize = 28;
const C1: usize = 16;
const S1: usize = 14;
const C2: usize = 32;
const S2: usize = 7;
const K: usize = 10;
const TAPS: usize = 25;
/// Units of the first dropout layer (`[16, 14, 14]`) and of the second (`[32, 7, 7]`).
pub(crate) const UNITS1: usize = C1 * S1 * S1;
pub(crate) const UNITS2: usize = C2 * S2 * S2;

/// The weights, re-laid out once for the loops below.
#[derive(Debug)]
pub(crate) struct MnistKernel {
    /// conv1, `[tap][out channel]`.
    k1: Vec<[f32; C1]>,
    b1: [f32; C1],
    /// conv2, `[in channel][tap][out channel]` (forward).
    k2: Vec<[f32; C2]>,
    /// conv2, `[out channel][tap][in channel]` (gradient).
    k2t: Vec<[f32; C1]>,
    b2: [f32; C2],
    /// The linear layer, `[y][x][channel]` (channel-last flatten) → 10 logits, padded to 16.
    kfc: Vec<[f32; 16]>,
    bfc: [f32; K],
}

/// What the deterministic forward keeps for the gradient.
pub(crate) struct Trace {
    logits: [f32; K],
    /// conv1 → ReLU → pool, `[14·14][16]`, and which of the 4 window cells held each maximum.
    h1: Vec<[f32; C1]>,
    arg1: Vec<[u8; C1]>,
    /// conv2 → ReLU → pool, `[7·7][32]`, and its argmax cells.
    p2: Vec<[f32; C2]>,
    arg2: Vec<[u8; C2]>,
}

impl Trace {
    pub(crate) fn logits(&self) -> &[f32; K] {
        &self.logits
    }
}

/// The larger of two finite values. Not `f32::max`: its NaN rule is not wasm's `f32.max`, so on
/// wasm it is a call to libm's `fmaxf` per element (a tenth of MC's time in the profile); this
/// compare-and-select vectorises.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn axpy<const N: usize>(acc: &mut [f32; N], v: f32, w: &[f32; N]) {
    for i in 0..N {
        acc[i] += v * w[i];
    }
}

/// The taps `d` (0..5) for which `o = i + 2 − d` lies in `0..n`: `d ∈ [i+3−n, i+2] ∩ [0, 4]`.
#[inline(always)]
fn taps(i: usize, n: usize) -> std::ops::RangeInclusive<usize> {
    (i + 3).saturating_sub(n)..=(i + 2).min(4)
}

impl MnistKernel {
    /// Copy the model's weights to the host in this kernel's layouts.
    pub(crate) fn new(m: &MnistCnn) -> Self {
        let w1 = host(m.conv1.weight.val());
        let b1 = host(m.conv1.bias.as_ref().expect("conv1 bias").val());
        let w2 = host(m.conv2.weight.val());
        let b2 = host(m.conv2.bias.as_ref().expect("conv2 bias").val());
        // Burn's Linear stores [in, out].
        let wfc = host(m.fc.weight.val());
        let bfc = host(m.fc.bias.as_ref().expect("fc bias").val());

        let mut k1 = vec![[0f32; C1]; TAPS];
        for o in 0..C1 {
            for t in 0..TAPS {
                k1[t][o] = w1[o * TAPS + t];
            }
        }
        let mut k2 = vec![[0f32; C2]; C1 * TAPS];
        let mut k2t = vec![[0f32; C1]; C2 * TAPS];
        for o in 0..C2 {
            for c in 0..C1 {
                for t in 0..TAPS {
                    let w = w2[(o * C1 + c) * TAPS + t];
                    k2[c * TAPS + t][o] = w;
                    k2t[o * TAPS + t][c] = w;
                }
            }
        }
        // PyTorch flattens [32, 7, 7] channel-first: unit c·49 + u.
        let mut kfc = vec![[0f32; 16]; S2 * S2 * C2];
        for u in 0..S2 * S2 {
            for c in 0..C2 {
                for k in 0..K {
                    kfc[u * C2 + c][k] = wfc[(c * S2 * S2 + u) * K + k];
                }
            }
        }
        Self {
            k1,
            b1: b1.try_into().expect("16 biases"),
            k2,
            k2t,
            b2: b2.try_into().expect("32 biases"),
            kfc,
            bfc: bfc.try_into().expect("10 biases"),
        }
    }

    /// Normalise, conv1, ReLU, 2×2 max-pool: `[14·14][16]` and the argmax cells.
    fn block1(&self, pixels: &[f32]) -> (Vec<[f32; C1]>, Vec<[u8; C1]>) {
        const P: usize = SIDE + 4;
        let mut xp = [0f32; P * P];
        for y in 0..SIDE {
            for x in 0..SIDE {
                xp[(y + 2) * P + x + 2] = (pixels[y * SIDE + x] - MNIST_MEAN) / MNIST_STD;
            }
        }
        let mut a1 = vec![[0f32; C1]; SIDE * SIDE];
        for y in 0..SIDE {
            for x in 0..SIDE {
                let mut acc = self.b1;
                for dy in 0..5 {
                    for dx in 0..5 {
                        axpy(&mut acc, xp[(y + dy) * P + x + dx], &self.k1[dy * 5 + dx]);
                    }
                }
                a1[y * SIDE + x] = acc;
            }
        }
        let mut h1 = vec![[0f32; C1]; S1 * S1];
        let mut arg1 = vec![[0u8; C1]; S1 * S1];
        pool(&a1, SIDE, &mut h1, &mut arg1);
        (h1, arg1)
    }

    /// conv2 of a channel-last `[14·14][16]` input, skipping zeros, → ReLU → pool → `[7·7][32]`.
    fn block2(&self, v: &[[f32; C1]]) -> (Vec<[f32; C2]>, Vec<[u8; C2]>) {
        let mut a2 = vec![self.b2; S1 * S1];
        self.conv2_add(&mut a2, |u, c| v[u][c]);
        let mut p2 = vec![[0f32; C2]; S2 * S2];
        let mut arg2 = vec![[0u8; C2]; S2 * S2];
        pool(&a2, S1, &mut p2, &mut arg2);
        (p2, arg2)
    }

    /// Add conv2 (without bias) of an input given by `v(position, channel)` to `out`
    /// (`[14·14][32]`), skipping zeros.
    #[inline(always)]
    fn conv2_add(&self, out: &mut [[f32; C2]], v: impl Fn(usize, usize) -> f32) {
        let mut nz = [(0usize, 0f32); C1];
        for y in 0..S1 {
            for x in 0..S1 {
                let mut n = 0;
                for c in 0..C1 {
                    let val = v(y * S1 + x, c);
                    nz[n] = (c * TAPS, val);
                    n += (val != 0.0) as usize;
                }
                if n == 0 {
                    continue;
                }
                for dy in taps(y, S1) {
                    let oy = y + 2 - dy;
                    for dx in taps(x, S1) {
                        let ox = x + 2 - dx;
                        let t = dy * 5 + dx;
                        let o = &mut out[oy * S1 + ox];
                        let mut acc = *o;
                        for &(c, val) in &nz[..n] {
                            axpy(&mut acc, val, &self.k2[c + t]);
                        }
                        *o = acc;
                    }
                }
            }
        }
    }

    /// The linear layer on a channel-last `[7·7][32]` input, skipping zeros.
    fn head(&self, p2: &[[f32; C2]], mask: impl Fn(usize) -> f32) -> [f32; K] {
        let mut acc = [0f32; 16];
        for u in 0..S2 * S2 {
            for c in 0..C2 {
                let v = p2[u][c] * mask(c * S2 * S2 + u);
                if v != 0.0 {
                    axpy(&mut acc, v, &self.kfc[u * C2 + c]);
                }
            }
        }
        let mut logits = self.bfc;
        for k in 0..K {
            logits[k] += acc[k];
        }
        logits
    }

    /// Deterministic forward of one image (28·28 pixels in [0, 1]), keeping what the gradient needs.
    pub(crate) fn forward(&self, pixels: &[f32]) -> Trace {
        assert_eq!(pixels.len(), SIDE * SIDE, "one 28×28 image");
        let (h1, arg1) = self.block1(pixels);
        let (p2, arg2) = self.block2(&h1);
        let logits = self.head(&p2, |_| 1.0);
        Trace { logits, h1, arg1, p2, arg2 }
    }

    /// `T` passes of one image with the dropout masks of [`crate::mc_dropout::dropout_masks`]
    /// (`mask1`: `[T, 16, 14, 14]`, `mask2`: `[T, 32, 7, 7]`, entries 0 or 1/(1−p)): logits `[T·10]`.
    pub(crate) fn masked(&self, pixels: &[f32], mask1: &[f32], mask2: &[f32]) -> Vec<f32> {
        let passes = mask1.len() / UNITS1;
        assert_eq!(mask1.len(), passes * UNITS1, "first mask [T, 16, 14, 14]");
        assert_eq!(mask2.len(), passes * UNITS2, "second mask [T, 32, 7, 7]");
        let (h1, _) = self.block1(pixels);
        // Channel-first, like the masks: the masking loops below run over contiguous memory.
        let mut h1c = vec![0f32; UNITS1];
        for (u, hu) in h1.iter().enumerate() {
            for c in 0..C1 {
                h1c[c * S1 * S1 + u] = hu[c];
            }
        }
        // conv2 is linear: with keep-mask b and scale s, conv2(h1 ⊙ s·b) = s·(conv2(h1) −
        // conv2(h1 ⊙ (1−b))). So each pass convolves whichever is fewer — its kept units, or
        // its dropped ones against conv2(h1), computed once — a third of the work at p = 0.25.
        let nonzero = h1c.iter().filter(|&&v| v != 0.0).count();
        let mut full: Option<Vec<[f32; C2]>> = None;
        let mut v = vec![0f32; UNITS1];
        let mut a2 = vec![[0f32; C2]; S1 * S1];
        let mut out = Vec::with_capacity(passes * K);
        for t in 0..passes {
            let m1 = &mask1[t * UNITS1..(t + 1) * UNITS1];
            let mut kept = 0usize;
            for ((vi, &h), &m) in v.iter_mut().zip(&h1c).zip(m1) {
                *vi = h * m;
                kept += (*vi != 0.0) as usize;
            }
            a2.fill(self.b2);
            if kept <= nonzero - kept {
                self.conv2_add(&mut a2, |u, c| v[c * S1 * S1 + u]);
            } else {
                let full = full.get_or_insert_with(|| {
                    let mut a = vec![[0f32; C2]; S1 * S1];
                    self.conv2_add(&mut a, |u, c| h1c[c * S1 * S1 + u]);
                    a
                });
                // Every kept unit holds the same scale 1/(1−p); this pass keeps at least one.
                let scale = m1.iter().copied().find(|&m| m != 0.0).unwrap_or(0.0);
                for ((vi, &h), &m) in v.iter_mut().zip(&h1c).zip(m1) {
                    *vi = if m == 0.0 { h } else { 0.0 };
                }
                let mut dropped = vec![[0f32; C2]; S1 * S1];
                self.conv2_add(&mut dropped, |u, c| v[c * S1 * S1 + u]);
                for ((a, f), d) in a2.iter_mut().zip(full.iter()).zip(&dropped) {
                    for o in 0..C2 {
                        a[o] += scale * (f[o] - d[o]);
                    }
                }
            }
            let m2 = &mask2[t * UNITS2..(t + 1) * UNITS2];
            out.extend_from_slice(&self.head(&pool_relu(&a2), |i| m2[i]));
        }
        out
    }

    /// Gradient w.r.t. the 28·28 input pixels of a function of the logits whose gradient w.r.t.
    /// the logits is `g` (a vector–Jacobian product through the deterministic forward).
    pub(crate) fn input_gradient(&self, trace: &Trace, g: &[f32; K]) -> Vec<f32> {
        // Linear layer and pool2 (→ conv2's output, [14·14][32]); ReLU passes where the max > 0.
        let mut ga2 = vec![[0f32; C2]; S1 * S1];
        let mut any2 = [false; S1 * S1];
        for u in 0..S2 * S2 {
            for c in 0..C2 {
                if trace.p2[u][c] > 0.0 {
                    let w = &self.kfc[u * C2 + c];
                    let mut s = 0.0;
                    for k in 0..K {
                        s += w[k] * g[k];
                    }
                    let q = cell(u, S2, trace.arg2[u][c]);
                    ga2[q][c] = s;
                    any2[q] = true;
                }
            }
        }
        // conv2 → its input, channel-last [14·14][16].
        let mut gh1 = vec![[0f32; C1]; S1 * S1];
        let mut nz = [(0usize, 0f32); C2];
        for oy in 0..S1 {
            for ox in 0..S1 {
                let q = oy * S1 + ox;
                if !any2[q] {
                    continue;
                }
                let mut n = 0;
                for (o, &val) in ga2[q].iter().enumerate() {
                    if val != 0.0 {
                        nz[n] = (o * TAPS, val);
                        n += 1;
                    }
                }
                // Input (y, x) = (oy + dy − 2, ox + dx − 2).
                for dy in 0..5 {
                    let Some(y) = (oy + dy).checked_sub(2).filter(|&y| y < S1) else { continue };
                    for dx in 0..5 {
                        let Some(x) = (ox + dx).checked_sub(2).filter(|&x| x < S1) else { continue };
                        let t = dy * 5 + dx;
                        let out = &mut gh1[y * S1 + x];
                        let mut acc = *out;
                        for &(o, val) in &nz[..n] {
                            axpy(&mut acc, val, &self.k2t[o + t]);
                        }
                        *out = acc;
                    }
                }
            }
        }
        // pool1 and ReLU → conv1's output [28·28][16] → the normalised input.
        let mut ga1 = vec![[0f32; C1]; SIDE * SIDE];
        let mut any1 = vec![false; SIDE * SIDE];
        for u in 0..S1 * S1 {
            for c in 0..C1 {
                if trace.h1[u][c] > 0.0 && gh1[u][c] != 0.0 {
                    let q = cell(u, S1, trace.arg1[u][c]);
                    ga1[q][c] = gh1[u][c];
                    any1[q] = true;
                }
            }
        }
        let mut gx = vec![0f32; SIDE * SIDE];
        for oy in 0..SIDE {
            for ox in 0..SIDE {
                let q = oy * SIDE + ox;
                if !any1[q] {
                    continue;
                }
                for dy in 0..5 {
                    let Some(y) = (oy + dy).checked_sub(2).filter(|&y| y < SIDE) else { continue };
                    for dx in 0..5 {
                        let Some(x) = (ox + dx).checked_sub(2).filter(|&x| x < SIDE) else { continue };
                        let w = &self.k1[dy * 5 + dx];
                        let mut s = 0.0;
                        for o in 0..C1 {
                            s += ga1[q][o] * w[o];
                        }
                        gx[y * SIDE + x] += s;
                    }
                }
            }
        }
        for v in &mut gx {
            *v /= MNIST_STD;
        }
        gx
    }
}

/// The input cell (row-major in the `2n × 2n` grid) that window `u` of an `n × n` pooled grid took
/// its maximum from.
#[inline(always)]
fn cell(u: usize, n: usize, arg: u8) -> usize {
    let (py, px) = (u / n, u % n);
    (2 * py + (arg as usize >> 1)) * (2 * n) + 2 * px + (arg as usize & 1)
}

/// ReLU and 2×2 max-pool of conv2's output `[14·14][32]` → `[7·7][32]`, without the argmax.
fn pool_relu(a2: &[[f32; C2]]) -> Vec<[f32; C2]> {
    let mut p2 = vec![[0f32; C2]; S2 * S2];
    for py in 0..S2 {
        for px in 0..S2 {
            let q = 2 * py * S1 + 2 * px;
            let (a, b, c, d) = (&a2[q], &a2[q + 1], &a2[q + S1], &a2[q + S1 + 1]);
            let out = &mut p2[py * S2 + px];
            for o in 0..C2 {
                out[o] = max(max(max(a[o], b[o]), max(c[o], d[o])), 0.0);
            }
        }
    }
    p2
}

/// ReLU then 2×2 max-pool of a channel-last `[2n·2n][C]` grid into `[n·n][C]`, recording the cell
/// of each maximum (the first one on ties, as a row-major scan).
fn pool<const C: usize>(a: &[[f32; C]], side: usize, out: &mut [[f32; C]], arg: &mut [[u8; C]]) {
    let n = side / 2;
    for py in 0..n {
        for px in 0..n {
            let u = py * n + px;
            let cells = [(2 * py) * side + 2 * px, (2 * py) * side + 2 * px + 1, (2 * py + 1) * side + 2 * px, (2 * py + 1) * side + 2 * px + 1];
            let mut best = a[cells[0]];
            let mut which = [0u8; C];
            for (i, &q) in cells.iter().enumerate().skip(1) {
                for c in 0..C {
                    if a[q][c] > best[c] {
                        best[c] = a[q][c];
                        which[c] = i as u8;
                    }
                }
            }
            for c in 0..C {
                best[c] = max(best[c], 0.0);
            }
            out[u] = best;
            arg[u] = which;
        }
    }
}
