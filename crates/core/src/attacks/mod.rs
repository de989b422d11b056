//! Adversarial attacks behind one small trait (the torchattacks shape): each attack is one file
//! that implements only its own step; goals, input checks, gradients and metrics are shared.
//!
//! An attack is a stepper: [`Attack::start`] validates and prepares, [`AttackRun::step`] does one
//! iteration and reports a [`TrajectoryPoint`]. A driver decides between steps whether to go on,
//! which gives progress and cooperative cancellation both natively ([`run_attack`]) and in the
//! browser (the app yields to the event loop between steps).

pub mod cw;
pub mod deepfool;
pub mod fgsm;
pub mod iaa;
pub mod jsma;
pub mod kinds;
pub mod lbfgs;
pub mod pgd;
pub mod slices;

use std::fmt;
use std::str::FromStr;

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Tensor, TensorData};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metrics::{perceptual_distance, sensitivity, Distances, DEFAULT_NEIGHBOURHOOD};
use crate::model::{Classifier, Model};
use crate::params::ParamError;

pub use cw::CarliniWagner;
pub use deepfool::DeepFool;
pub use fgsm::Fgsm;
pub use iaa::{sensitivity_map, Iaa};
pub use jsma::Jsma;
pub use kinds::{AttackKind, AttackSet};
pub use lbfgs::Lbfgs;
pub use pgd::{Pgd, PgdL2};
pub use slices::{Clock, Slice, Slicer};

/// What an attack says about itself: its key (URL value, CLI `--attack` value, outcome name),
/// the label a picker shows, and the one-line formula a panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct About {
    pub key: &'static str,
    pub label: &'static str,
    pub summary: &'static str,
}

/// What the user asks an attack to aim for, before it is tied to an image: the CLI's
/// `--target` and the app's `target=` URL key share this type and its text form
/// (`none`, `auto`, or a class number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Any class but the image's own.
    #[default]
    Untargeted,
    /// The clean image's most likely other class (the seed's default target).
    RunnerUp,
    /// This class.
    Class(usize),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Untargeted => f.write_str("none"),
            Target::RunnerUp => f.write_str("auto"),
            Target::Class(k) => write!(f, "{k}"),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "none" | "untargeted" => Ok(Target::Untargeted),
            "auto" | "runner-up" => Ok(Target::RunnerUp),
            t => t
                .parse()
                .map(Target::Class)
                .map_err(|_| format!("expected none, auto or a class number, got {t:?}")),
        }
    }
}

/// What the attacker wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// The class the image is taken to be: the true label when known, else the model's own
    /// prediction.
    pub label: usize,
    /// `Some(t)`: make the model say `t` (targeted). `None`: make it say anything but `label`.
    pub target: Option<usize>,
}

impl Goal {
    pub fn validate(&self, num_classes: usize) -> Result<(), AttackError> {
        if self.label >= num_classes {
            return Err(AttackError::Class(self.label, num_classes));
        }
        if let Some(t) = self.target {
            if t >= num_classes {
                return Err(AttackError::Class(t, num_classes));
            }
            if t == self.label {
                return Err(AttackError::TargetIsLabel(t));
            }
        }
        Ok(())
    }

    /// A targeted goal with the default target: the most likely class of the clean image other
    /// than `label` (the runner-up when the model classifies the image as `label`). This is the
    /// target every attack and front end uses when "targeted" is asked for without a class.
    pub fn runner_up(model: &Model, image: &[f32], label: usize) -> Result<Goal, AttackError> {
        check_image(model, image, &Goal { label, target: None })?;
        let probs = probabilities(model, image);
        Ok(Goal { label, target: Some(runner_up(&probs, label)) })
    }

    /// The goal for one image: its class is `label` when known, else the model's prediction;
    /// `target` then picks untargeted, the runner-up of that class, or a fixed class. Every
    /// front end builds its goal here.
    pub fn for_image(model: &Model, image: &[f32], label: Option<usize>, target: Target) -> Result<Goal, AttackError> {
        let (label, probs) = match label {
            Some(l) => (l, None),
            None => {
                check_image(model, image, &Goal { label: 0, target: None })?;
                let probs = probabilities(model, image);
                (argmax_of(&probs), Some(probs))
            }
        };
        match target {
            Target::Untargeted => Ok(Goal { label, target: None }),
            Target::Class(t) => Ok(Goal { label, target: Some(t) }),
            // The prediction's probabilities give its runner-up without a second forward pass.
            Target::RunnerUp => match probs {
                Some(p) => Ok(Goal { label, target: Some(runner_up(&p, label)) }),
                None => Goal::runner_up(model, image, label),
            },
        }
    }

    /// Has the attack reached its goal, given the deterministic prediction?
    pub fn reached(&self, predicted: usize) -> bool {
        match self.target {
            Some(t) => predicted == t,
            None => predicted != self.label,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum AttackError {
    #[error(transparent)]
    Parameter(#[from] ParamError),
    #[error("class {0} does not exist (the model has {1} classes)")]
    Class(usize, usize),
    #[error("the target class {0} is the image's own class; pick another target")]
    TargetIsLabel(usize),
    #[error("the image has {got} values, the model expects {expected}")]
    ImageSize { got: usize, expected: usize },
    #[error("pixel values must lie in [0, 1]")]
    PixelRange,
}

/// One row of an attack's trajectory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryPoint {
    pub iteration: usize,
    /// The quantity the attack optimises (its own definition: loss for FGSM).
    pub objective: f32,
    /// Probability of the goal class: the target when targeted, else the original label.
    pub goal_prob: f32,
    /// Largest probability among the other classes.
    pub best_other_prob: f32,
    pub l2: f32,
    pub linf: f32,
    /// Success gap (see [`success_gap`]): `P_t − max_{i≠t} P_i` when targeted,
    /// `max_{i≠y} P_i − P_y` when untargeted; positive exactly when the goal is reached.
    #[serde(default)]
    pub gap: f32,
    /// IAA's human-perceptual distance `D(X*, X)` of this iterate, for attacks that track it.
    #[serde(default)]
    pub perceptual_distance: Option<f32>,
}

/// The result of an attack on one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackOutcome {
    pub attack: String,
    /// The adversarial image, same layout as the input (CHW, values in [0, 1]).
    pub adversarial: Vec<f32>,
    pub goal: Goal,
    /// Deterministic prediction on the adversarial image.
    pub predicted: usize,
    pub success: bool,
    pub iterations: usize,
    pub trajectory: Vec<TrajectoryPoint>,
    /// L0 / L2 / L∞ between the input and [`Self::adversarial`].
    pub distances: Distances,
    /// IAA's perceptual distance `D(X*, X)` (seed §4.4) of the final image: with IAA's own
    /// neighbourhood for IAA, with the default `n = 3` for every other attack.
    pub perceptual_distance: f32,
    /// Success gap of the final image (see [`success_gap`]).
    pub gap: f32,
    /// What the projection onto the 8-bit grid changed (see [`make_outcome`]).
    #[serde(default)]
    pub quantization: Quantization,
}

/// The attack's own (floating-point) result before [`AttackOutcome::adversarial`] was projected
/// onto the 8-bit grid, and whether the projection needed the success repair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantization {
    /// Did the unprojected image reach the goal?
    pub float_success: bool,
    /// Distances of the unprojected image (L0 counts float changes above 1e-6).
    pub float_distances: Distances,
    /// Nearest rounding lost the goal and rounding every change away from the original (within
    /// the attack's budget) won it back.
    pub repaired: bool,
}

/// What a step reports.
pub enum Step {
    /// Not finished; here is the latest point.
    Running(TrajectoryPoint),
    /// Finished.
    Done(AttackOutcome),
}

/// An attack in progress.
pub trait AttackRun {
    fn step(&mut self) -> Step;
    /// Stop early (cancel) and return the best result so far.
    fn finish(self: Box<Self>) -> AttackOutcome;
}

/// An attack's parameters. Parameters are constructor arguments with the paper's defaults.
pub trait Attack {
    fn name(&self) -> &'static str;
    /// Reject out-of-range parameters with a message a user can act on.
    fn validate(&self) -> Result<(), AttackError>;
    /// Check everything and prepare a run on `image` (CHW pixels in [0, 1]).
    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError>;
    /// How far a run is when it reports `point`, in [0, 1]: the attack's own progress rule.
    fn progress(&self, point: &TrajectoryPoint) -> f64;
}

/// Whether the driver should keep going after a step.
pub enum Flow {
    Continue,
    Cancel,
}

/// Run an attack to the end on the calling thread; `on_step` sees every point and may cancel.
/// A cancel takes effect before the next iteration.
pub fn run_attack(
    attack: &dyn Attack,
    model: &Model,
    image: &[f32],
    goal: Goal,
    mut on_step: impl FnMut(&TrajectoryPoint) -> Flow,
) -> Result<AttackOutcome, AttackError> {
    let mut run = attack.start(model, image, goal)?;
    loop {
        match run.step() {
            Step::Done(outcome) => return Ok(outcome),
            Step::Running(point) => {
                if let Flow::Cancel = on_step(&point) {
                    return Ok(run.finish());
                }
            }
        }
    }
}

/// Shared input checks: shape and box.
pub(crate) fn check_image(model: &Model, image: &[f32], goal: &Goal) -> Result<(), AttackError> {
    let arch = model.architecture();
    let expected: usize = arch.input_shape().iter().product();
    if image.len() != expected {
        return Err(AttackError::ImageSize { got: image.len(), expected });
    }
    if image.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(AttackError::PixelRange);
    }
    goal.validate(arch.num_classes())
}

/// One image as a `[1, C, H, W]` tensor on the model's device.
pub fn image_tensor(model: &Model, image: &[f32]) -> Tensor<4> {
    let [c, h, w] = model.architecture().input_shape();
    Tensor::from_data(TensorData::new(image.to_vec(), [1, c, h, w]), &model.device())
}

/// Cross-entropy of the deterministic forward w.r.t. `class`, and its gradient w.r.t. the input
/// pixels (dropout off). Returns `(loss, gradient in CHW order)`. Through [`scalar_gradient`], so
/// PGD's first step (the same loss) sees the same bits on every model.
pub fn loss_gradient(model: &Model, image: &[f32], class: usize) -> (f32, Vec<f32>) {
    let (loss, g, _) = scalar_gradient(model, image, |logits, _| cross_entropy(logits, class));
    (loss, g)
}

/// `−log softmax(logits)[class]` of a `[1, K]` row.
pub(crate) fn cross_entropy(logits: Tensor<2>, class: usize) -> Tensor<1> {
    let mut onehot = vec![0f32; logits.dims()[1]];
    onehot[class] = 1.0;
    let onehot = row(onehot, &logits);
    -(log_softmax(logits, 1) * onehot).sum()
}

/// Softmax of host logits.
pub(crate) fn softmax_host(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|&z| (z - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Deterministic softmax of one image (host values).
pub fn probabilities(model: &Model, image: &[f32]) -> Vec<f32> {
    if let Some(kernel) = model.kernel(&model.device()) {
        return softmax_host(kernel.forward(image).logits());
    }
    let p = softmax(model.forward(image_tensor(model, image)), 1);
    p.into_data().try_to_vec::<f32>().expect("f32")
}

/// The success gap of an output: targeted, `P_t − max_{i≠t} P_i`; untargeted,
/// `max_{i≠y} P_i − P_y`. Positive exactly when the goal is reached (ties aside).
pub fn success_gap(goal: &Goal, probs: &[f32]) -> f32 {
    let (g, other) = goal_probs(goal, probs);
    match goal.target {
        Some(_) => g - other,
        None => other - g,
    }
}

/// The most likely class other than `label`.
pub fn runner_up(probs: &[f32], label: usize) -> usize {
    let mut best = if label == 0 { 1 } else { 0 };
    for (i, &p) in probs.iter().enumerate() {
        if i != label && p > probs[best] {
            best = i;
        }
    }
    best
}

/// Value of a scalar function of the logits and its gradient w.r.t. the input pixels
/// (deterministic forward, Burn autodiff). `f` sees the logits and their host softmax (so it can
/// pick classes by value). Returns `(value, gradient in CHW order, probabilities)`.
pub(crate) fn scalar_gradient(
    model: &Model,
    image: &[f32],
    f: impl FnOnce(Tensor<2>, &[f32]) -> Tensor<1>,
) -> (f32, Vec<f32>, Vec<f32>) {
    if let Some(kernel) = model.kernel(&model.device()) {
        // Burn differentiates `f` w.r.t. the logits (10 numbers); the kernel takes it to the pixels.
        let trace = kernel.forward(image);
        let logits = Tensor::<2>::from_data(TensorData::new(trace.logits().to_vec(), [1, 10]), &model.device())
            .autodiff()
            .require_grad();
        // The host softmax, as `probabilities` gives on this path.
        let probs = softmax_host(trace.logits());
        let value = f(logits.clone(), &probs);
        let grads = value.backward();
        let g: [f32; 10] = logits.grad(&grads).expect("logit gradient").into_data().try_to_vec::<f32>().expect("f32").try_into().expect("10 logits");
        let v = value.into_data().try_to_vec::<f32>().expect("f32")[0];
        return (v, kernel.input_gradient(&trace, &g), probs);
    }
    let x = image_tensor(model, image).autodiff().require_grad();
    let logits = model.forward(x.clone());
    let probs = softmax(logits.clone().detach(), 1).into_data().try_to_vec::<f32>().expect("f32");
    let value = f(logits, &probs);
    let grads = value.backward();
    let g = x.grad(&grads).expect("input gradient");
    let v = value.into_data().try_to_vec::<f32>().expect("f32")[0];
    (v, g.into_data().try_to_vec::<f32>().expect("f32 gradient"), probs)
}

/// A host vector as a `[1, K]` row on `like`'s device.
pub(crate) fn row(values: Vec<f32>, like: &Tensor<2>) -> Tensor<2> {
    let k = values.len();
    Tensor::<2>::from_data(TensorData::new(values, [1, k]), &like.device())
}

/// One trajectory row for the iterate `adv` with output `probs`.
pub(crate) fn trajectory_point(
    iteration: usize,
    objective: f32,
    goal: &Goal,
    probs: &[f32],
    original: &[f32],
    adv: &[f32],
    perceptual_distance: Option<f32>,
) -> TrajectoryPoint {
    let (goal_prob, best_other_prob) = goal_probs(goal, probs);
    let d = Distances::between(original, adv);
    TrajectoryPoint {
        iteration,
        objective,
        goal_prob,
        best_other_prob,
        l2: d.l2,
        linf: d.linf,
        gap: success_gap(goal, probs),
        perceptual_distance,
    }
}

/// The 8-bit value a PNG stores for `v` (what [`crate::preprocess::to_png`] writes).
pub fn to_byte(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// `v` on the 8-bit grid: `round(255·v) / 255`, clamped to [0, 1].
pub fn on_grid(v: f32) -> f32 {
    to_byte(v) as f32 / 255.0
}

/// Number of values whose 8-bit encodings differ: the L0 of what is saved.
pub fn changed_bytes(a: &[f32], b: &[f32]) -> usize {
    a.iter().zip(b).filter(|(&x, &y)| to_byte(x) != to_byte(y)).count()
}

/// How an attack's changes are put on the 8-bit grid (see [`quantize`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Every value to its nearest grid level.
    Nearest,
    /// Every changed value to the grid level on the far side from the original (unchanged
    /// values to the nearest): each change grows by less than one level.
    Away,
}

/// The limit an attack promises on its result, which the 8-bit projection must keep.
#[derive(Clone, Copy, Debug)]
pub enum Budget<'a> {
    /// No limit (minimum-distance attacks: L-BFGS, C&W, DeepFool, JSMA).
    None,
    /// `‖x' − x‖∞ ≤ ε` (FGSM, PGD L∞).
    Linf(f32),
    /// `‖x' − x‖₂ ≤ ε` (PGD L2).
    L2(f32),
    /// IAA's perceptual distance `D(x', x) ≤ max` with this sensitivity.
    Perceptual { max: f32, sen: &'a [f32] },
}

impl Budget<'_> {
    /// Does `adv` keep the budget (up to f32 rounding)?
    pub fn admits(&self, original: &[f32], adv: &[f32]) -> bool {
        match *self {
            Budget::None => true,
            Budget::Linf(eps) => Distances::between(original, adv).linf <= eps + 1e-6,
            Budget::L2(eps) => Distances::between(original, adv).l2 <= eps * (1.0 + 1e-6) + 1e-6,
            Budget::Perceptual { max, sen } => perceptual_distance(original, adv, sen) <= max * (1.0 + 1e-6) + 1e-7,
        }
    }
}

/// `adv` projected onto the 8-bit grid (`round(255·v) / 255`, what a PNG stores), rounded by
/// `rounding`, then made to keep `budget`: when the rounded image breaks it, the values whose
/// rounding took them further from `original` than `adv` was are moved to the grid level on the
/// original's side, largest excess first, as few as the budget needs (a bisection over how
/// many; every budget is monotone in each `|x'ᵢ − xᵢ|`). When `original` lies on the grid (every
/// dataset image) and `adv` keeps the budget, so does the result.
pub fn quantize(original: &[f32], adv: &[f32], rounding: Rounding, budget: Budget) -> Vec<f32> {
    // The two grid levels around v (equal when v is on the grid up to f32 noise).
    let levels = |v: f32| -> (f32, f32) {
        let t = v.clamp(0.0, 1.0) * 255.0;
        if (t - t.round()).abs() < 1e-3 {
            let l = t.round() / 255.0;
            (l, l)
        } else {
            (t.floor() / 255.0, t.ceil() / 255.0)
        }
    };
    let mut toward = Vec::with_capacity(adv.len());
    let q: Vec<f32> = adv
        .iter()
        .zip(original)
        .map(|(&v, &x)| {
            let (lo, hi) = levels(v);
            let (near, far) = if (lo - x).abs() <= (hi - x).abs() { (lo, hi) } else { (hi, lo) };
            toward.push(near);
            match rounding {
                Rounding::Away if (v - x).abs() > 1e-7 => far,
                _ => on_grid(v),
            }
        })
        .collect();
    if budget.admits(original, &q) {
        return q;
    }
    let mut excess: Vec<(usize, f32)> = q
        .iter()
        .zip(adv)
        .zip(original)
        .enumerate()
        .filter(|(i, _)| toward[*i] != q[*i])
        .map(|(i, ((&qi, &v), &x))| (i, (qi - x).abs() - (v - x).abs()))
        .filter(|&(_, e)| e > 0.0)
        .collect();
    excess.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let flipped = |k: usize| {
        let mut out = q.clone();
        for &(i, _) in &excess[..k] {
            out[i] = toward[i];
        }
        out
    };
    // Smallest k whose image keeps the budget (k = all when none does).
    let (mut lo, mut hi) = (0, excess.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if budget.admits(original, &flipped(mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    flipped(lo)
}

/// The outcome for the final image `adv`; `sen` is the sensitivity of the original image used
/// for the perceptual distance (`None`: the default `n = 3` neighbourhood).
///
/// **What is saved is what is measured** (issue 11 §3): `adv` is first projected onto the
/// 8-bit grid ([`quantize`], nearest rounding within the attack's `budget`), and the
/// prediction, success, gap, distances and `D` are those of the projected image, so that the
/// PNG a user downloads is exactly the reported image. L0 counts the 8-bit values that differ
/// from the original's ([`changed_bytes`]). When `adv` reached the goal but its nearest
/// rounding does not, the attack's changes are rounded away from the original instead (each
/// grows by less than one grey level, still within `budget`); the first rounding that reaches
/// the goal is kept ([`Quantization::repaired`]), else the nearest one, reported as failed.
/// The unprojected result is kept in [`AttackOutcome::quantization`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_outcome(
    attack: &str,
    model: &Model,
    original: &[f32],
    adv: Vec<f32>,
    goal: Goal,
    iterations: usize,
    trajectory: Vec<TrajectoryPoint>,
    sen: Option<&[f32]>,
    budget: Budget,
) -> AttackOutcome {
    let float_success = goal.reached(argmax_of(&probabilities(model, &adv)));
    let mut q = quantize(original, &adv, Rounding::Nearest, budget);
    let mut probs = probabilities(model, &q);
    let mut repaired = false;
    if float_success && !goal.reached(argmax_of(&probs)) {
        let away = quantize(original, &adv, Rounding::Away, budget);
        if away != q {
            let p = probabilities(model, &away);
            if goal.reached(argmax_of(&p)) {
                (q, probs, repaired) = (away, p, true);
            }
        }
    }
    let predicted = argmax_of(&probs);
    let default_sen;
    let sen = match sen {
        Some(s) => s,
        None => {
            default_sen = sensitivity(original, model.architecture().input_shape(), DEFAULT_NEIGHBOURHOOD);
            &default_sen
        }
    };
    let mut distances = Distances::between(original, &q);
    distances.l0 = changed_bytes(original, &q);
    AttackOutcome {
        attack: attack.into(),
        distances,
        perceptual_distance: perceptual_distance(original, &q, sen),
        gap: success_gap(&goal, &probs),
        quantization: Quantization { float_success, float_distances: Distances::between(original, &adv), repaired },
        adversarial: q,
        goal,
        predicted,
        success: goal.reached(predicted),
        iterations,
        trajectory,
    }
}

/// The logits of one image and, for each row `w` of `weights`, the input gradient of
/// `Σₖ wₖ·zₖ` (deterministic forward): one batched forward and backward pass over
/// `weights.len()` copies of the image. Returns `(logits, gradients in CHW order)`.
pub(crate) fn logit_gradients(model: &Model, image: &[f32], weights: &[Vec<f32>]) -> (Vec<f32>, Vec<Vec<f32>>) {
    let [c, h, w] = model.architecture().input_shape();
    let b = weights.len();
    let n = image.len();
    let x = Tensor::<4>::from_data(TensorData::new(image.repeat(b), [b, c, h, w]), &model.device()).autodiff().require_grad();
    let logits = model.forward(x.clone());
    let k = logits.dims()[1];
    let wt = Tensor::<2>::from_data(TensorData::new(weights.concat(), [b, k]), &logits.device());
    let mut first = logits.clone().detach().into_data().try_to_vec::<f32>().expect("f32");
    first.truncate(k);
    let grads = (logits * wt).sum().backward();
    let g = x.grad(&grads).expect("input gradient").into_data().try_to_vec::<f32>().expect("f32 gradient");
    (first, g.chunks(n).map(<[f32]>::to_vec).collect())
}

/// Probability of the goal class and the best other class.
pub(crate) fn goal_probs(goal: &Goal, probs: &[f32]) -> (f32, f32) {
    let g = goal.target.unwrap_or(goal.label);
    let best_other = probs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != g)
        .map(|(_, &v)| v)
        .fold(0.0f32, f32::max);
    (probs[g], best_other)
}

pub fn argmax_of(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MnistCnn;
    use burn::tensor::Device;

    /// `scalar_gradient` on the MNIST CNN's CPU kernel (Burn differentiates only `f`, the kernel
    /// the network) against Burn's autodiff through the whole network.
    #[test]
    fn scalar_gradient_through_the_kernel_equals_burn() {
        let device = Device::flex();
        device.seed(5);
        let model = Model::init(crate::Architecture::MnistCnn, &device);
        let net: &MnistCnn = match &model {
            Model::MnistCnn(m, _) => m,
            _ => unreachable!(),
        };
        assert!(model.kernel(&device).is_some() && model.kernel(&device.clone().autodiff()).is_none());
        let image: Vec<f32> = (0..784).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        // A function of the logits that picks classes from the host probabilities, as the
        // attacks' losses do.
        let f = |logits: Tensor<2>, probs: &[f32]| {
            let top = argmax_of(probs);
            let mut w = vec![0.3f32; 10];
            w[top] = -1.0;
            w[(top + 1) % 10] = 2.0;
            let w = row(w, &logits);
            (log_softmax(logits.clone(), 1) * w).sum() + (logits.clone() * logits).sum() * 0.01
        };
        let (v, g, probs) = scalar_gradient(&model, &image, f);

        let x = image_tensor(&model, &image).autodiff().require_grad();
        let logits = net.forward(x.clone());
        let p_ref = softmax(logits.clone().detach(), 1).into_data().try_to_vec::<f32>().unwrap();
        let value = f(logits, &p_ref);
        let grads = value.backward();
        let g_ref = x.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let v_ref = value.into_data().try_to_vec::<f32>().unwrap()[0];

        assert!((v - v_ref).abs() <= 1e-4 * v_ref.abs().max(1.0), "{v} vs {v_ref}");
        assert!(probs.iter().zip(&p_ref).all(|(a, b)| (a - b).abs() < 1e-5));
        let scale = g_ref.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = g.iter().zip(&g_ref).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(scale > 1e-3 && d <= 1e-4 * scale, "gradient differs by {d} (scale {scale})");
    }
}
