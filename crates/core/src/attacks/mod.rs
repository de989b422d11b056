//! Adversarial attacks behind one small trait (the torchattacks shape): each attack is one file
//! that implements only its own step; goals, input checks, gradients and metrics are shared.
//!
//! An attack is a stepper: [`Attack::start`] validates and prepares, [`AttackRun::step`] does one
//! iteration and reports a [`TrajectoryPoint`]. A driver decides between steps whether to go on,
//! which gives progress and cooperative cancellation both natively ([`run_attack`]) and in the
//! browser (the app yields to the event loop between steps).

pub mod fgsm;
pub mod iaa;
pub mod kinds;
pub mod lbfgs;
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

pub use fgsm::Fgsm;
pub use iaa::{sensitivity_map, Iaa};
pub use kinds::{AttackKind, AttackSet};
pub use lbfgs::Lbfgs;
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
/// pixels (dropout off), through Burn autodiff. Returns `(loss, gradient in CHW order)`.
pub fn loss_gradient(model: &Model, image: &[f32], class: usize) -> (f32, Vec<f32>) {
    let x = image_tensor(model, image).autodiff().require_grad();
    let logits = model.forward(x.clone());
    let k = logits.dims()[1];
    let mut onehot = vec![0f32; k];
    onehot[class] = 1.0;
    let onehot = Tensor::<2>::from_data(TensorData::new(onehot, [1, k]), &logits.device());
    let loss = -(log_softmax(logits, 1) * onehot).sum();
    let grads = loss.backward();
    let g = x.grad(&grads).expect("input gradient");
    let loss_value = loss.into_data().try_to_vec::<f32>().expect("f32")[0];
    (loss_value, g.into_data().try_to_vec::<f32>().expect("f32 gradient"))
}

/// Deterministic softmax of one image (host values).
pub fn probabilities(model: &Model, image: &[f32]) -> Vec<f32> {
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

/// The outcome for the final image `adv`; `sen` is the sensitivity of the original image used
/// for the perceptual distance (`None`: the default `n = 3` neighbourhood).
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
) -> AttackOutcome {
    let probs = probabilities(model, &adv);
    let predicted = argmax_of(&probs);
    let default_sen;
    let sen = match sen {
        Some(s) => s,
        None => {
            default_sen = sensitivity(original, model.architecture().input_shape(), DEFAULT_NEIGHBOURHOOD);
            &default_sen
        }
    };
    AttackOutcome {
        attack: attack.into(),
        distances: Distances::between(original, &adv),
        perceptual_distance: perceptual_distance(original, &adv, sen),
        gap: success_gap(&goal, &probs),
        adversarial: adv,
        goal,
        predicted,
        success: goal.reached(predicted),
        iterations,
        trajectory,
    }
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
