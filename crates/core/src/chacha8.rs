//! The ChaCha8 keystream of `rand_chacha::ChaCha8Rng`, word for word, computed four blocks at a
//! time in a layout that LLVM turns into wasm SIMD.
//!
//! Why: MC dropout draws one 32-bit word per masked unit (235 k for the MNIST CNN at T = 50).
//! `rand_chacha` has SIMD code for x86 only; in the browser its portable code took ~3 ms of a
//! 8 ms MC run (profile, issue 12). Here each of the 16 state words is a `[u32; 4]` holding four
//! consecutive blocks, so every add, xor and rotate is one 128-bit operation.
//!
//! The stream is `rand_chacha`'s: the same 32-byte key (from `ChaCha8Rng::seed_from_u64`), a
//! 64-bit block counter in words 12–13 from 0, stream 0 in words 14–15, and the words of block
//! 0, 1, 2, … in order. `tests` below compare it with `ChaCha8Rng::next_u32` directly, so the
//! seeded masks — and every seeded figure made with them — are unchanged. Cost to keep: this
//! file and its test.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

const BLOCK: usize = 16;
const LANES: usize = 4;

type Lanes = [u32; LANES];

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1]), a[2].wrapping_add(b[2]), a[3].wrapping_add(b[3])]
}

#[inline(always)]
fn xor_rotl(a: Lanes, b: Lanes, r: u32) -> Lanes {
    [(a[0] ^ b[0]).rotate_left(r), (a[1] ^ b[1]).rotate_left(r), (a[2] ^ b[2]).rotate_left(r), (a[3] ^ b[3]).rotate_left(r)]
}

#[inline(always)]
fn quarter(x: &mut [Lanes; BLOCK], a: usize, b: usize, c: usize, d: usize) {
    x[a] = add(x[a], x[b]);
    x[d] = xor_rotl(x[d], x[a], 16);
    x[c] = add(x[c], x[d]);
    x[b] = xor_rotl(x[b], x[c], 12);
    x[a] = add(x[a], x[b]);
    x[d] = xor_rotl(x[d], x[a], 8);
    x[c] = add(x[c], x[d]);
    x[b] = xor_rotl(x[b], x[c], 7);
}

/// `ChaCha8Rng::seed_from_u64(seed)`'s words, drawn in bulk.
pub struct ChaCha8Words {
    key: [u32; 8],
    /// The next block to compute.
    counter: u64,
    /// Four blocks, block after block, and how many of their words were handed out.
    buf: [u32; LANES * BLOCK],
    used: usize,
}

impl ChaCha8Words {
    pub fn seed_from_u64(seed: u64) -> Self {
        let bytes = ChaCha8Rng::seed_from_u64(seed).get_seed();
        let mut key = [0u32; 8];
        for (k, w) in key.iter_mut().zip(bytes.chunks_exact(4)) {
            *k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        }
        Self { key, counter: 0, buf: [0; LANES * BLOCK], used: LANES * BLOCK }
    }

    /// The next four blocks into `buf`.
    fn refill(&mut self) {
        let mut input = [[0u32; LANES]; BLOCK];
        for (i, c) in [0x6170_7865u32, 0x3320_646e, 0x7962_2d32, 0x6b20_6574].into_iter().enumerate() {
            input[i] = [c; LANES];
        }
        for (i, &k) in self.key.iter().enumerate() {
            input[4 + i] = [k; LANES];
        }
        for lane in 0..LANES {
            let n = self.counter.wrapping_add(lane as u64);
            input[12][lane] = n as u32;
            input[13][lane] = (n >> 32) as u32;
        }
        // Words 14–15: stream 0.
        let mut x = input;
        for _ in 0..4 {
            quarter(&mut x, 0, 4, 8, 12);
            quarter(&mut x, 1, 5, 9, 13);
            quarter(&mut x, 2, 6, 10, 14);
            quarter(&mut x, 3, 7, 11, 15);
            quarter(&mut x, 0, 5, 10, 15);
            quarter(&mut x, 1, 6, 11, 12);
            quarter(&mut x, 2, 7, 8, 13);
            quarter(&mut x, 3, 4, 9, 14);
        }
        for w in 0..BLOCK {
            let out = add(x[w], input[w]);
            for lane in 0..LANES {
                self.buf[lane * BLOCK + w] = out[lane];
            }
        }
        self.counter = self.counter.wrapping_add(LANES as u64);
        self.used = 0;
    }

    /// The stream's next `out.len()` words.
    pub fn fill(&mut self, out: &mut [u32]) {
        let mut at = 0;
        while at < out.len() {
            if self.used == self.buf.len() {
                self.refill();
            }
            let n = (out.len() - at).min(self.buf.len() - self.used);
            out[at..at + n].copy_from_slice(&self.buf[self.used..self.used + n]);
            self.used += n;
            at += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::RngCore;

    #[test]
    fn equals_rand_chacha_word_for_word() {
        for seed in [0u64, 1, 7, 123_456_789, u64::MAX] {
            let mut reference = ChaCha8Rng::seed_from_u64(seed);
            let mut ours = ChaCha8Words::seed_from_u64(seed);
            // Uneven pieces, across many refills.
            for len in [1usize, 3, 16, 63, 64, 65, 200, 1000, 4096, 5] {
                let mut got = vec![0u32; len];
                ours.fill(&mut got);
                let want: Vec<u32> = (0..len).map(|_| reference.next_u32()).collect();
                assert_eq!(got, want, "seed {seed}, piece of {len}");
            }
        }
    }
}
