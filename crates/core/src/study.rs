//! The seed study over a test set (issue 10; seed report §3 and §4): per-image uncertainty
//! records, per-class tables, calibration, and "does uncertainty detect adversarial images".
//!
//! Used by the CLI (`quiver study`) and by the browser app, so nothing here uses threads or the
//! file system: the app can feed images one at a time, in any chunks, and gets exactly the CLI's
//! numbers, because every image's dropout masks come from [`image_seed`] (study seed, index).
//!
//! # The paper's measures, and the choices made here
//!
//! For image `x` with label `y`, `T` MC-dropout passes give softmax vectors `p_t` (`t = 1..T`).
//!
//! * **mean** `p̄_k = 1/T Σ_t p_{t,k}`; prediction `ŷ = argmax_k p̄_k` (ties: the lowest class).
//! * **variance** (the report's "confidence", §3.1) `v_k = 1/T Σ_t (p_{t,k} − p̄_k)²`
//!   (population variance, as [`McSummary`]).
//! * **accuracy of one image** (the report's "accuracy", §3.2: "the average softmax value for the
//!   correct class") `a = p̄_y`.
//! * **top-1 correctness** `ŷ = y`.
//! * **entropy** `H[p̄] = −Σ_k p̄_k ln p̄_k` (nats); **mutual information** (BALD)
//!   `MI = H[p̄] − 1/T Σ_t H[p_t]`, clamped at 0 against rounding.
//!
//! *Per-class variance.* The report plots "confidence vs class" from the per-class MC variance
//! without saying which class's variance an image contributes. We take, for class `c`, the mean
//! over the images labelled `c` of the **true class's** variance `v_y` — the same image and class
//! as the report's accuracy `p̄_y`, so the confidence-vs-accuracy plot (§3.3) pairs two numbers
//! about the same probability, and it is what `quiver eval` already writes into the manifest
//! (`mc_true_class_variance`), so the two agree.
//!
//! *Detector scores.* At test time the label is unknown, so the "variance" score of the
//! adversarial detector is the variance of the **predicted** class `v_ŷ` (label-free); entropy
//! and MI are label-free already. Positives are adversarial images, negatives benign ones; a
//! larger score means "more likely adversarial".
//!
//! *Ensembles* (§3.1.1, the alternative the report did not use). `K` models' deterministic
//! softmaxes play the role of the passes: mean over members, variance across members
//! (population, 1/K), entropy of the mean, MI = entropy of the mean − mean member entropy. The
//! record's deterministic softmax is then **member 1's** (a single model as the baseline), so
//! "deterministic vs averaged" means the same for both methods: one network vs the average.
//!
//! *Per-image seed.* [`image_seed`] = `study_seed + index` (wrapping), the rule `quiver eval`
//! uses, so a study's per-class table equals the manifest's report for the same `T`, `p` and
//! seed. An adversarial image uses its clean image's seed (common random numbers: the masks are
//! the same, only the input differs).
//!
//! *Reliability.* 15 equal-width bins of the confidence `max_k p̄_k`; bin `b` holds confidences in
//! `(b/B, (b+1)/B]` (bin 0 also holds 0), as Guo et al. 2017.
//! `ECE = Σ_b |acc_b − conf_b| · n_b / N`.
//!
//! *ROC.* As `sklearn.metrics.roc_curve(y, s, drop_intermediate=False)`: one point per distinct
//! score `s` taken as the threshold (predict positive when score ≥ threshold), from the highest
//! down, after a first point (0, 0) at threshold +∞. AUROC as `sklearn.metrics.roc_auc_score`:
//! the Mann–Whitney `U / (n_pos · n_neg)`, a tie between a positive and a negative counting ½.
//!
//! All result types serialise with serde; floats are rounded to 6 significant digits
//! ([`round6`]) when the tables are built, to keep the JSON small.

use serde::{Deserialize, Serialize};

use crate::attacks::probabilities;
use crate::mc_dropout::{mc_dropout, McConfig, McError, McSummary};
use crate::model::Model;

/// Reliability-diagram bins (Guo et al. 2017 use 15).
pub const DEFAULT_BINS: usize = 15;
/// Largest number of ROC points written to JSON (the AUROC is always from the full curve).
pub const MAX_ROC_POINTS: usize = 200;
/// Bins of the detector histograms.
pub const HISTOGRAM_BINS: usize = 30;

/// Round to 6 significant digits (0, NaN and infinities unchanged).
pub fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 5 - x.abs().log10().floor() as i32;
    if !(-300..=300).contains(&digits) {
        return x;
    }
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Seed of image `index`'s dropout masks in a study with seed `study_seed`: `study_seed + index`
/// (wrapping), the rule `quiver eval` uses.
pub fn image_seed(study_seed: u64, index: usize) -> u64 {
    study_seed.wrapping_add(index as u64)
}

/// Everything the study keeps about one image (from MC dropout or from an ensemble).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Index of the image in its set (its seed comes from it).
    pub index: usize,
    pub label: usize,
    /// Mean softmax over the passes (members).
    pub mean: Vec<f32>,
    /// Per-class variance over the passes (members), population (1/T).
    pub variance: Vec<f32>,
    /// `argmax mean`.
    pub predicted: usize,
    /// `mean[label]`: the report's per-image accuracy.
    pub true_prob: f32,
    /// `variance[label]`: the report's per-image confidence measure.
    pub true_variance: f32,
    /// `predicted == label`.
    pub correct: bool,
    /// Predictive entropy `H[mean]`, nats.
    pub entropy: f32,
    /// Mutual information (BALD), nats.
    pub mutual_information: f32,
    /// Softmax of the deterministic forward (dropout off); for an ensemble, member 1's.
    pub det_probs: Vec<f32>,
}

/// A label-free uncertainty score, for the adversarial detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// Variance of the predicted class `v_ŷ`.
    Variance,
    /// Predictive entropy.
    Entropy,
    /// Mutual information.
    MutualInformation,
}

impl Score {
    pub const ALL: [Score; 3] = [Score::Variance, Score::Entropy, Score::MutualInformation];
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

impl ImageRecord {
    /// From the `T × K` row-major softmax of the passes and the deterministic softmax. This is
    /// the entry point for the app's asynchronous (WebGPU) read-back: run
    /// [`crate::mc_dropout::mc_probabilities`] with seed [`image_seed`]`(seed, index)`, read it,
    /// and pass the values here.
    pub fn from_passes(index: usize, label: usize, probs: Vec<f32>, passes: usize, det_probs: Vec<f32>) -> Self {
        let k = det_probs.len();
        Self::from_summary(index, label, &McSummary::from_probs(probs, passes, k), det_probs)
    }

    /// From an MC-dropout summary and the deterministic softmax.
    pub fn from_summary(index: usize, label: usize, s: &McSummary, det_probs: Vec<f32>) -> Self {
        assert!(label < s.num_classes, "label {label} out of range");
        Self {
            index,
            label,
            mean: s.mean.clone(),
            variance: s.variance.clone(),
            predicted: s.predicted,
            true_prob: s.mean[label],
            true_variance: s.variance[label],
            correct: s.predicted == label,
            entropy: s.entropy,
            mutual_information: s.mutual_information,
            det_probs,
        }
    }

    /// An ensemble's record from its `K` members' deterministic softmaxes (each of length
    /// `num_classes`); member 1 (`members[0]`) is the deterministic baseline.
    pub fn from_members(index: usize, label: usize, members: &[Vec<f32>]) -> Self {
        assert!(!members.is_empty(), "an ensemble needs at least one member");
        let probs: Vec<f32> = members.iter().flatten().copied().collect();
        Self::from_passes(index, label, probs, members.len(), members[0].clone())
    }

    /// The detector score of this image.
    pub fn score(&self, s: Score) -> f32 {
        match s {
            Score::Variance => self.variance[self.predicted],
            Score::Entropy => self.entropy,
            Score::MutualInformation => self.mutual_information,
        }
    }

    /// `max mean` (MC) and `max det_probs` (deterministic) with their correctness.
    fn confidence(&self, mc: bool) -> (f32, bool) {
        let p = if mc { &self.mean } else { &self.det_probs };
        let k = argmax(p);
        (p[k], k == self.label)
    }
}

/// MC dropout (`cfg.passes`, `cfg.p`) and the deterministic forward on image `index` of a set,
/// with masks seeded by [`image_seed`]`(cfg.seed, index)`. `image` is CHW in [0, 1]. Synchronous
/// read-back: CPU devices (the CLI, the app's Flex backend); on WebGPU use
/// [`ImageRecord::from_passes`].
pub fn record_for_image(model: &Model, image: &[f32], label: usize, index: usize, cfg: &McConfig) -> Result<ImageRecord, McError> {
    let x = crate::attacks::image_tensor(model, image);
    let cfg = McConfig { seed: image_seed(cfg.seed, index), ..*cfg };
    let s = mc_dropout(model, x, &cfg)?;
    Ok(ImageRecord::from_summary(index, label, &s, probabilities(model, image)))
}

/// An ensemble's record for one image: each model's deterministic softmax.
pub fn ensemble_record(models: &[Model], image: &[f32], label: usize, index: usize) -> ImageRecord {
    let members: Vec<Vec<f32>> = models.iter().map(|m| probabilities(m, image)).collect();
    ImageRecord::from_members(index, label, &members)
}

/// One row of the per-class table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    pub class: usize,
    pub count: usize,
    /// Mean over the class's images of the true class's variance (the report's confidence).
    pub variance: f64,
    /// Mean over the class's images of the true class's mean softmax (the report's accuracy).
    pub true_prob: f64,
    /// Top-1 accuracy of the averaged prediction.
    pub top1: f64,
    /// Top-1 accuracy of the deterministic prediction.
    pub det_top1: f64,
    pub entropy: f64,
    pub mutual_information: f64,
}

/// One reliability-diagram bin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Confidence range `(lo, hi]`.
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    /// Mean confidence of the bin (0 when empty).
    pub confidence: f64,
    /// Fraction correct in the bin (0 when empty).
    pub accuracy: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub bins: Vec<Bin>,
    /// Expected calibration error `Σ_b |acc_b − conf_b| · n_b / N`.
    pub ece: f64,
}

/// Reliability diagram and ECE of `(confidence, correct)` pairs in `bins` equal-width bins.
pub fn reliability(pairs: impl IntoIterator<Item = (f32, bool)>, bins: usize) -> Reliability {
    assert!(bins > 0);
    let mut count = vec![0usize; bins];
    let mut conf = vec![0f64; bins];
    let mut correct = vec![0f64; bins];
    for (c, ok) in pairs {
        let c = (c as f64).clamp(0.0, 1.0);
        let b = ((c * bins as f64).ceil() as usize).saturating_sub(1).min(bins - 1);
        count[b] += 1;
        conf[b] += c;
        correct[b] += ok as u8 as f64;
    }
    let n: usize = count.iter().sum();
    let mut ece = 0.0;
    let bins_out = (0..bins)
        .map(|b| {
            let nb = count[b] as f64;
            let (cm, am) = if count[b] > 0 { (conf[b] / nb, correct[b] / nb) } else { (0.0, 0.0) };
            if n > 0 {
                ece += (am - cm).abs() * nb / n as f64;
            }
            Bin { lo: round6(b as f64 / bins as f64), hi: round6((b + 1) as f64 / bins as f64), count: count[b], confidence: round6(cm), accuracy: round6(am) }
        })
        .collect();
    Reliability { bins: bins_out, ece: round6(ece) }
}

/// Everything shown about a set of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    pub images: usize,
    /// Top-1 accuracy of the averaged (MC mean / ensemble mean) prediction.
    pub top1: f64,
    /// Top-1 accuracy of the deterministic prediction (ensembles: member 1).
    pub det_top1: f64,
    /// Mean of the true class's mean softmax (the report's accuracy).
    pub true_prob: f64,
    /// Mean of the true class's variance (the report's confidence measure).
    pub variance: f64,
    /// Mean of the predicted class's variance (the detector's variance score).
    pub predicted_variance: f64,
    pub entropy: f64,
    pub mutual_information: f64,
    pub per_class: Vec<ClassRow>,
    /// Reliability of the averaged prediction.
    pub reliability: Reliability,
    /// Reliability of the deterministic prediction.
    pub det_reliability: Reliability,
}

/// Per-class table, overall means and both reliability diagrams of `records`.
pub fn tables(records: &[ImageRecord], num_classes: usize, bins: usize) -> Tables {
    #[derive(Default, Clone)]
    struct Acc {
        n: usize,
        var: f64,
        prob: f64,
        top1: f64,
        det: f64,
        ent: f64,
        mi: f64,
    }
    let mut per = vec![Acc::default(); num_classes];
    let mut all = Acc::default();
    let mut pvar = 0f64;
    for r in records {
        let det_ok = argmax(&r.det_probs) == r.label;
        for a in [&mut per[r.label], &mut all] {
            a.n += 1;
            a.var += r.true_variance as f64;
            a.prob += r.true_prob as f64;
            a.top1 += r.correct as u8 as f64;
            a.det += det_ok as u8 as f64;
            a.ent += r.entropy as f64;
            a.mi += r.mutual_information as f64;
        }
        pvar += r.score(Score::Variance) as f64;
    }
    let mean = |s: f64, n: usize| round6(if n > 0 { s / n as f64 } else { 0.0 });
    Tables {
        images: records.len(),
        top1: mean(all.top1, all.n),
        det_top1: mean(all.det, all.n),
        true_prob: mean(all.prob, all.n),
        variance: mean(all.var, all.n),
        predicted_variance: mean(pvar, all.n),
        entropy: mean(all.ent, all.n),
        mutual_information: mean(all.mi, all.n),
        per_class: per
            .iter()
            .enumerate()
            .map(|(c, a)| ClassRow {
                class: c,
                count: a.n,
                variance: mean(a.var, a.n),
                true_prob: mean(a.prob, a.n),
                top1: mean(a.top1, a.n),
                det_top1: mean(a.det, a.n),
                entropy: mean(a.ent, a.n),
                mutual_information: mean(a.mi, a.n),
            })
            .collect(),
        reliability: reliability(records.iter().map(|r| r.confidence(true)), bins),
        det_reliability: reliability(records.iter().map(|r| r.confidence(false)), bins),
    }
}

/// One point of the per-image scatter (uncertainty vs the true class's probability, §3.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    pub index: usize,
    pub label: usize,
    pub true_prob: f64,
    pub true_variance: f64,
    pub entropy: f64,
    pub mutual_information: f64,
    pub correct: bool,
}

pub fn scatter(records: &[ImageRecord]) -> Vec<ScatterPoint> {
    records
        .iter()
        .map(|r| ScatterPoint {
            index: r.index,
            label: r.label,
            true_prob: round6(r.true_prob as f64),
            true_variance: round6(r.true_variance as f64),
            entropy: round6(r.entropy as f64),
            mutual_information: round6(r.mutual_information as f64),
            correct: r.correct,
        })
        .collect()
}

/// AUROC of `positives` vs `negatives` (higher score = positive), as
/// `sklearn.metrics.roc_auc_score`: `U / (n_pos · n_neg)` with ties counting ½. NaN when a
/// group is empty.
pub fn auroc(positives: &[f32], negatives: &[f32]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut neg: Vec<f32> = negatives.to_vec();
    neg.sort_by(f32::total_cmp);
    let mut u = 0f64;
    for &p in positives {
        let below = neg.partition_point(|&n| n < p);
        let not_above = neg.partition_point(|&n| n <= p);
        u += below as f64 + 0.5 * (not_above - below) as f64;
    }
    u / (positives.len() as f64 * negatives.len() as f64)
}

/// An ROC curve: `fpr[i]`, `tpr[i]` when predicting positive for score ≥ `thresholds[i]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// Descending; the first is +∞, held as `None` (JSON `null`).
    pub thresholds: Vec<Option<f64>>,
}

/// The ROC curve as `sklearn.metrics.roc_curve(drop_intermediate=False)`. Empty when a group is
/// empty.
pub fn roc_curve(positives: &[f32], negatives: &[f32]) -> Roc {
    let mut out = Roc { fpr: vec![0.0], tpr: vec![0.0], thresholds: vec![None] };
    if positives.is_empty() || negatives.is_empty() {
        return Roc { fpr: vec![], tpr: vec![], thresholds: vec![] };
    }
    let mut all: Vec<(f32, bool)> = positives.iter().map(|&s| (s, true)).chain(negatives.iter().map(|&s| (s, false))).collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (np, nn) = (positives.len() as f64, negatives.len() as f64);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < all.len() {
        let s = all[i].0;
        while i < all.len() && all[i].0 == s {
            if all[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.fpr.push(fp as f64 / nn);
        out.tpr.push(tp as f64 / np);
        out.thresholds.push(Some(s as f64));
    }
    out
}

impl Roc {
    /// At most `max` points (≥ 2): the first, the last and evenly spaced ones between; values
    /// rounded to 6 digits.
    pub fn thinned(&self, max: usize) -> Roc {
        let n = self.fpr.len();
        let keep: Vec<usize> = if n <= max {
            (0..n).collect()
        } else {
            let mut k: Vec<usize> = (0..max).map(|j| j * (n - 1) / (max - 1)).collect();
            k.dedup();
            k
        };
        Roc {
            fpr: keep.iter().map(|&i| round6(self.fpr[i])).collect(),
            tpr: keep.iter().map(|&i| round6(self.tpr[i])).collect(),
            thresholds: keep.iter().map(|&i| self.thresholds[i].map(round6)).collect(),
        }
    }
}

/// Histograms of two groups over shared equal-width bins spanning both groups' range (the last
/// bin closed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` edges.
    pub edges: Vec<f64>,
    pub benign: Vec<usize>,
    pub adversarial: Vec<usize>,
}

pub fn histograms(benign: &[f32], adversarial: &[f32], bins: usize) -> Histogram {
    assert!(bins > 0);
    let all = benign.iter().chain(adversarial);
    let lo = all.clone().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = all.copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let (lo, hi) = if lo.is_finite() { (lo, if hi > lo { hi } else { lo + 1.0 }) } else { (0.0, 1.0) };
    let width = (hi - lo) / bins as f64;
    let count = |xs: &[f32]| {
        let mut c = vec![0usize; bins];
        for &x in xs {
            let b = (((x as f64 - lo) / width).floor().max(0.0) as usize).min(bins - 1);
            c[b] += 1;
        }
        c
    };
    Histogram { edges: (0..=bins).map(|b| round6(lo + b as f64 * width)).collect(), benign: count(benign), adversarial: count(adversarial) }
}

/// How well one score separates adversarial from benign images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub score: Score,
    pub auroc: f64,
    /// Thinned to at most [`MAX_ROC_POINTS`].
    pub roc: Roc,
    pub histogram: Histogram,
}

/// The detector figures for every [`Score`]: positives `adversarial`, negatives `benign`.
pub fn detections(benign: &[ImageRecord], adversarial: &[ImageRecord]) -> Vec<Detection> {
    Score::ALL
        .iter()
        .map(|&s| {
            let b: Vec<f32> = benign.iter().map(|r| r.score(s)).collect();
            let a: Vec<f32> = adversarial.iter().map(|r| r.score(s)).collect();
            Detection { score: s, auroc: round6(auroc(&a, &b)), roc: roc_curve(&a, &b).thinned(MAX_ROC_POINTS), histogram: histograms(&b, &a, HISTOGRAM_BINS) }
        })
        .collect()
}

/// How a study's records were made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyMeta {
    /// `mc_dropout` or `ensemble`.
    pub method: String,
    /// Model ids (one for MC dropout; the members for an ensemble).
    pub models: Vec<String>,
    /// The ensemble's group name, if any.
    #[serde(default)]
    pub ensemble: Option<String>,
    pub dataset: String,
    /// MC passes T (ensembles: the number of members).
    pub passes: usize,
    /// Inference dropout rate (ensembles: 0).
    pub p: f32,
    pub seed: u64,
    /// Images used and images in the set.
    pub images: usize,
    pub set_images: usize,
    /// True when the run stopped before all `images`.
    pub partial: bool,
}

/// An attack's part of a study: the attacked images' clean and adversarial tables, and the
/// detector figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackStudy {
    pub attack: String,
    /// The attack's parameters as run (its table's keys and values) and how it was aimed.
    pub parameters: serde_json::Value,
    pub images: usize,
    /// Fraction of images whose 8-bit adversarial image reaches the goal (deterministic model).
    pub success_rate: f64,
    pub benign: Tables,
    pub adversarial: Tables,
    /// Positives: every adversarial image; negatives: every benign image.
    pub detection: Vec<Detection>,
    /// Positives: only the successful adversarial images.
    pub detection_successful: Vec<Detection>,
}

/// One study: one MC-dropout model or one ensemble on one set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub meta: StudyMeta,
    pub clean: Tables,
    /// Per-image points (only for small sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<ScatterPoint>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<AttackStudy>,
}

/// What a `public/study/*.json` file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyFile {
    /// Format version of this file (1).
    pub version: u32,
    /// The command that wrote it.
    pub command: String,
    pub studies: Vec<Study>,
}

impl StudyFile {
    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("study serialises")
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The attack's `success` flags and records → its [`AttackStudy`].
pub fn attack_study(
    attack: &str,
    parameters: serde_json::Value,
    benign: &[ImageRecord],
    adversarial: &[ImageRecord],
    success: &[bool],
    num_classes: usize,
) -> AttackStudy {
    assert_eq!(benign.len(), adversarial.len());
    assert_eq!(benign.len(), success.len());
    let n = benign.len();
    let ok: Vec<ImageRecord> = adversarial.iter().zip(success).filter(|(_, &s)| s).map(|(r, _)| r.clone()).collect();
    AttackStudy {
        attack: attack.to_string(),
        parameters,
        images: n,
        success_rate: round6(if n > 0 { ok.len() as f64 / n as f64 } else { 0.0 }),
        benign: tables(benign, num_classes, DEFAULT_BINS),
        adversarial: tables(adversarial, num_classes, DEFAULT_BINS),
        detection: detections(benign, adversarial),
        detection_successful: detections(benign, &ok),
    }
}

#[cfg(test)]
mod tests;
