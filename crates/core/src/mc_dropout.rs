//! Monte-Carlo dropout (Gal & Ghahramani 2016; seed report §3.1).
//!
//! `T` stochastic passes of one image run as ONE batched forward. The masks are drawn on the
//! host from a seeded ChaCha stream, so a seed gives the same masks — and the same numbers — on
//! every device (Flex, WebGPU), and no autodiff graph is built: the dropout here is an explicit
//! always-on mask, not Burn's `nn::Dropout` (which is only active on autodiff devices).

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chacha8::ChaCha8Words;
use crate::model::Classifier;
use crate::params::{Domain, Param, ParamError, Tunable, Value};

/// Default number of stochastic passes (seed §3.2: 50).
pub const DEFAULT_PASSES: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct McConfig {
    /// Number of stochastic passes `T`.
    pub passes: usize,
    /// Dropout rate used at inference, independent of the rate the model was trained with.
    pub p: f32,
    pub seed: u64,
}

impl Default for McConfig {
    fn default() -> Self {
        Self { passes: DEFAULT_PASSES, p: 0.25, seed: 0 }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum McError {
    #[error(transparent)]
    Parameter(#[from] ParamError),
}

impl Tunable for McConfig {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("T", "passes T", Domain::whole(1, 500), |s| Value::Whole(s.passes as u64), |s, v| s.passes = v.size())
            .help("stochastic forward passes with dropout left on; the spread of their answers is the uncertainty")
            .aliases(&["passes"])
            .cli("passes"),
        Param::<Self>::new("p", "dropout p", Domain::closed(0.0, 0.5, 0.05), |s| Value::Real(s.p), |s, v| s.p = v.real())
            .help("dropout rate at inference, independent of the rate the model was trained with"),
        Param::<Self>::new("seed", "seed", Domain::whole(0, u64::MAX), |s| Value::Whole(s.seed), |s, v| s.seed = v.whole())
            .help("seed of the dropout masks: the same seed gives the same numbers on every device"),
    ];
}

impl McConfig {
    pub fn validate(&self) -> Result<(), McError> {
        Ok(self.check()?)
    }
}

/// Inverted-dropout masks for every dropout layer of `model`: each `[T, ..shape]`, entries 0 or
/// 1/(1-p), independent per pass, drawn from ChaCha8 seeded with `seed`.
pub fn dropout_masks(model: &impl Classifier, cfg: &McConfig, device: &Device) -> Vec<Tensor<4>> {
    dropout_mask_values(model, cfg)
        .into_iter()
        .map(|(values, shape)| Tensor::<4>::from_data(TensorData::new(values, shape), device))
        .collect()
}

/// The masks of [`dropout_masks`] as host values, each with its shape (padded with trailing 1s
/// to four dimensions).
pub fn dropout_mask_values(model: &impl Classifier, cfg: &McConfig) -> Vec<(Vec<f32>, [usize; 4])> {
    let mut rng = ChaCha8Words::seed_from_u64(cfg.seed);
    let keep = 1.0 - cfg.p as f64;
    let scale = if keep > 0.0 { (1.0 / keep) as f32 } else { 0.0 };
    // A 32-bit threshold: u < keep·2^32 keeps the unit.
    let threshold = (keep * 4_294_967_296.0).min(4_294_967_295.0) as u64;
    model
        .dropout_shapes()
        .into_iter()
        .map(|shape| {
            let mut full = [1usize; 4];
            full[0] = cfg.passes;
            full[1..1 + shape.len()].copy_from_slice(&shape);
            let n: usize = full.iter().product();
            if cfg.p == 0.0 {
                return (vec![scale; n], full);
            }
            // The stream's next n 32-bit words, drawn in bulk: the same words, in the same order,
            // as n calls of `next_u32` (crate::chacha8; see the test below).
            let mut values = Vec::with_capacity(n);
            let mut words = [0u32; 1024];
            let t = threshold as u32; // with p > 0 the threshold is below 2^32
            while values.len() < n {
                let k = (n - values.len()).min(words.len());
                rng.fill(&mut words[..k]);
                // Branch-free: scale · [u < threshold] (a coin flip, which a branch mispredicts).
                values.extend(words[..k].iter().map(|&u| scale * ((u < t) as u32 as f32)));
            }
            (values, full)
        })
        .collect()
}

/// Softmax of the `T` stochastic passes of one image `[1, C, H, W]` → `[T, K]`, still on the
/// device (read it with `into_data` or, on WebGPU, `into_data_async`).
pub fn mc_probabilities(model: &impl Classifier, image: Tensor<4>, cfg: &McConfig) -> Result<Tensor<2>, McError> {
    cfg.validate()?;
    let masks = dropout_mask_values(model, cfg);
    Ok(softmax(model.forward_masked_values(image, masks), 1))
}

/// Everything shown about one MC-dropout prediction. Plain data: the app and the CLI render it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McSummary {
    pub passes: usize,
    pub num_classes: usize,
    /// Row-major `T × K` softmax outputs, one row per pass.
    pub probs: Vec<f32>,
    /// Mean softmax per class.
    pub mean: Vec<f32>,
    /// Per-class variance of the softmax over the passes (population, 1/T): the seed's
    /// confidence metric.
    pub variance: Vec<f32>,
    /// Per-class standard deviation (√variance).
    pub std: Vec<f32>,
    /// Class with the largest mean softmax.
    pub predicted: usize,
    /// Predictive entropy H[mean] in nats.
    pub entropy: f32,
    /// Mutual information (BALD): H[mean] − mean_t H[p_t], in nats.
    pub mutual_information: f32,
    /// Mean softmax of the top class minus that of the runner-up.
    pub margin: f32,
    /// Fraction of passes whose arg-max equals `predicted`.
    pub agreement: f32,
}

fn entropy(p: &[f32]) -> f64 {
    p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| -(v as f64) * (v as f64).ln())
        .sum()
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl McSummary {
    /// Summarise a `T × K` row-major matrix of per-pass softmax outputs.
    pub fn from_probs(probs: Vec<f32>, passes: usize, num_classes: usize) -> Self {
        assert_eq!(probs.len(), passes * num_classes, "probability matrix has the wrong size");
        let t = passes as f64;
        let rows = || probs.chunks(num_classes);
        let mut mean = vec![0f64; num_classes];
        for row in rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64 / t;
            }
        }
        let mut var = vec![0f64; num_classes];
        for row in rows() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v as f64 - m).powi(2) / t;
            }
        }
        let mean32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
        let predicted = argmax(&mean32);
        let h_mean = entropy(&mean32);
        let mean_h: f64 = rows().map(entropy).sum::<f64>() / t;
        let mut sorted = mean32.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let agree = rows().filter(|r| argmax(r) == predicted).count();
        Self {
            passes,
            num_classes,
            mean: mean32,
            std: var.iter().map(|v| v.sqrt() as f32).collect(),
            variance: var.iter().map(|&v| v as f32).collect(),
            predicted,
            entropy: h_mean as f32,
            mutual_information: (h_mean - mean_h).max(0.0) as f32,
            margin: sorted[0] - sorted.get(1).copied().unwrap_or(0.0),
            agreement: agree as f32 / passes as f32,
            probs,
        }
    }

    /// Probabilities of pass `t`.
    pub fn pass(&self, t: usize) -> &[f32] {
        &self.probs[t * self.num_classes..(t + 1) * self.num_classes]
    }

    /// All passes' probabilities for class `k`.
    pub fn class_samples(&self, k: usize) -> Vec<f32> {
        (0..self.passes).map(|t| self.pass(t)[k]).collect()
    }
}

/// MC dropout on one image with a synchronous read-back (CPU devices, CLI, tests).
pub fn mc_dropout(model: &impl Classifier, image: Tensor<4>, cfg: &McConfig) -> Result<McSummary, McError> {
    let probs = mc_probabilities(model, image, cfg)?;
    let k = probs.dims()[1];
    let values = probs.into_data().try_to_vec::<f32>().expect("f32 probabilities");
    Ok(McSummary::from_probs(values, cfg.passes, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Architecture, Model};
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The bulk draw gives exactly the masks of one `next_u32` per unit (the definition the
    /// seeded figures in the manifest and the studies were made with), for every layer.
    #[test]
    fn bulk_masks_equal_word_by_word_draws() {
        let model = Model::init(Architecture::MnistCnn, &Device::flex());
        for (passes, p, seed) in [(50, 0.25f32, 0u64), (3, 0.5, 7), (1, 0.1, 123)] {
            let cfg = McConfig { passes, p, seed };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let keep = 1.0 - p as f64;
            let threshold = (keep * 4_294_967_296.0) as u64;
            let scale = (1.0 / keep) as f32;
            for (values, shape) in dropout_mask_values(&model, &cfg) {
                assert_eq!(values.len(), shape.iter().product::<usize>());
                for v in values {
                    let want = if (rng.next_u32() as u64) < threshold { scale } else { 0.0 };
                    assert_eq!(v, want);
                }
            }
        }
    }
}
