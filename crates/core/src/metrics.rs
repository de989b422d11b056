//! Distances between an image and its perturbed version, computed once for every attack.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distances {
    /// Number of values that changed (|δ| > 1e-6). In an [`crate::attacks::AttackOutcome`]:
    /// the number of 8-bit values that differ between the saved original and adversarial images.
    pub l0: usize,
    pub l2: f32,
    pub linf: f32,
}

impl Distances {
    pub fn between(original: &[f32], perturbed: &[f32]) -> Self {
        assert_eq!(original.len(), perturbed.len());
        let mut l0 = 0;
        let mut l2 = 0f64;
        let mut linf = 0f32;
        for (a, b) in original.iter().zip(perturbed) {
            let d = (b - a).abs();
            if d > 1e-6 {
                l0 += 1;
            }
            l2 += (d as f64) * (d as f64);
            linf = linf.max(d);
        }
        Self { l0, l2: l2.sqrt() as f32, linf }
    }
}

/// The smallest local standard deviation IAA's sensitivity uses (seed §4.4 divides by `SD`, which
/// is 0 on every flat patch, e.g. MNIST's black background). Below one 8-bit grey level a patch
/// counts as exactly one grey level of spread, so `Sen ≤ 255`: a perturbation on a flat pixel
/// costs up to ~100× more than one on a stroke edge (SD ≈ 0.3–0.5, `Sen` ≈ 2–3), which keeps the
/// ordering the paper wants without infinities.
pub const SD_FLOOR: f32 = 1.0 / 255.0;

/// Default IAA neighbourhood side `n` (seed §4.4: "when n = 3 … the pixel and its 8 neighbours").
pub const DEFAULT_NEIGHBOURHOOD: usize = 3;

/// Per-value standard deviation over the `n × n` neighbourhood (`n` odd), seed §4.4:
/// `SD(xᵢ) = sqrt(1/|Sᵢ| Σ_{x_k∈Sᵢ} (x_k − μ)²)` (population SD).
///
/// * Layout: CHW, `shape = [channels, height, width]`.
/// * Borders: `Sᵢ` holds only the pixels that exist (the window is cut at the image edge, and the
///   mean and the `1/|Sᵢ|` use that smaller count); no padding is invented.
/// * Colour: each channel is its own grey image; its SD is computed over the same channel only.
pub fn local_std(image: &[f32], shape: [usize; 3], n: usize) -> Vec<f32> {
    let [c, h, w] = shape;
    assert_eq!(image.len(), c * h * w, "image does not match its shape");
    assert!(n % 2 == 1, "the neighbourhood side must be odd");
    let r = n / 2;
    let mut out = vec![0f32; image.len()];
    for ch in 0..c {
        let plane = &image[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r).min(h - 1));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r).min(w - 1));
                let (mut s, mut s2, mut k) = (0f64, 0f64, 0f64);
                for yy in y0..=y1 {
                    for xx in x0..=x1 {
                        let v = plane[yy * w + xx] as f64;
                        s += v;
                        s2 += v * v;
                        k += 1.0;
                    }
                }
                let mean = s / k;
                out[ch * h * w + y * w + x] = (s2 / k - mean * mean).max(0.0).sqrt() as f32;
            }
        }
    }
    out
}

/// IAA sensitivity `Sen(xᵢ) = 1 / max(SD(xᵢ), SD_FLOOR)` of every value (seed §4.4), from
/// [`local_std`]: large on flat regions, where a change is visible, small on textured ones.
/// This is the map the app shows as "IAA sensitivity map".
pub fn sensitivity(image: &[f32], shape: [usize; 3], n: usize) -> Vec<f32> {
    local_std(image, shape, n).into_iter().map(|sd| 1.0 / sd.max(SD_FLOOR)).collect()
}

/// IAA's human-perceptual distance (seed §4.4): `D(X*, X) = (1/N) Σᵢ |x*ᵢ − xᵢ| · Sen(xᵢ)`, where
/// `sen` is the sensitivity of the ORIGINAL image `X` and `N` counts values (pixels × channels).
pub fn perceptual_distance(original: &[f32], perturbed: &[f32], sen: &[f32]) -> f32 {
    assert_eq!(original.len(), perturbed.len());
    assert_eq!(original.len(), sen.len());
    if original.is_empty() {
        return 0.0;
    }
    let total: f64 = original
        .iter()
        .zip(perturbed)
        .zip(sen)
        .map(|((a, b), s)| ((b - a).abs() as f64) * (*s as f64))
        .sum();
    (total / original.len() as f64) as f32
}

/// Top-1 accuracy and per-class MC-dropout report over a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    pub class: usize,
    pub count: usize,
    /// Deterministic top-1 accuracy on this class.
    pub accuracy: f32,
    /// Mean over the class's images of the MC-dropout mean softmax of the true class
    /// (the seed's per-image "accuracy", §3.2).
    pub mc_true_class_prob: f32,
    /// Mean over the class's images of the MC-dropout variance of the true class (the seed's
    /// confidence metric, §3.1).
    pub mc_true_class_variance: f32,
    pub mc_entropy: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_of_a_known_perturbation() {
        let d = Distances::between(&[0.0, 0.5, 1.0, 0.2], &[0.3, 0.5, 0.6, 0.2]);
        assert_eq!(d.l0, 2);
        assert!((d.l2 - 0.5).abs() < 1e-6);
        assert!((d.linf - 0.4).abs() < 1e-6);
    }

    #[test]
    fn local_std_on_a_known_patch_and_at_the_border() {
        // 3×3 image, one bright centre.
        let img = [0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0];
        let sd = local_std(&img, [1, 3, 3], 3);
        // Centre: all 9 values; mean 0.1, E[x²] = 0.09 → SD = sqrt(0.09 − 0.01).
        assert!((sd[4] - 0.08f32.sqrt()).abs() < 1e-6);
        // Corner: only the 4 existing pixels (0, 0, 0, 0.9): mean 0.225, SD = sqrt(0.2025 − 0.050625).
        assert!((sd[0] - (0.2025f32 - 0.050625).sqrt()).abs() < 1e-6);
        // n = 1: a single pixel has no spread.
        assert!(local_std(&img, [1, 3, 3], 1).iter().all(|&v| v == 0.0));
        // Channels do not mix: a flat second channel has SD 0 everywhere.
        let mut two = img.to_vec();
        two.extend([0.5f32; 9]);
        let sd2 = local_std(&two, [2, 3, 3], 3);
        assert_eq!(&sd2[..9], &sd[..]);
        assert!(sd2[9..].iter().all(|&v| v.abs() < 1e-6));
    }

    #[test]
    fn sensitivity_floor_and_perceptual_distance() {
        let img = [0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0];
        let sen = sensitivity(&[0.3; 9], [1, 3, 3], 3);
        assert!(sen.iter().all(|&s| (s - 255.0).abs() < 1e-3), "flat image hits the floor");
        let sen = sensitivity(&img, [1, 3, 3], 3);
        assert!((sen[4] - 1.0 / 0.08f32.sqrt()).abs() < 1e-4);
        let mut adv = img;
        adv[4] = 0.8;
        adv[0] = 0.05;
        let d = perceptual_distance(&img, &adv, &sen);
        let expected = (0.1 * sen[4] + 0.05 * sen[0]) / 9.0;
        assert!((d - expected).abs() < 1e-5, "{d} vs {expected}");
        assert_eq!(perceptual_distance(&img, &img, &sen), 0.0);
    }
}
