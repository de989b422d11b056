//! DeepFool (Moosavi-Dezfooli, Fawzi & Frossard 2016, "DeepFool: a simple and accurate method to
//! fool deep neural networks"), the L2 version (the paper's Algorithm 2). Distance: L2.
//!
//! At the current image `xᵢ` every candidate class `k` has a linearised boundary with the
//! original class `l`: `w'ₖ = ∇fₖ(xᵢ) − ∇f_l(xᵢ)`, `f'ₖ = fₖ(xᵢ) − f_l(xᵢ)` (`f` the logits).
//! The nearest one, `l̂ = argminₖ |f'ₖ| / ‖w'ₖ‖₂`, gives the step
//!
//! ```text
//! rᵢ = (|f'_l̂| / ‖w'_l̂‖₂ + 10⁻⁴) · w'_l̂ / ‖w'_l̂‖₂,   r = Σ rᵢ,   xᵢ₊₁ = clip(x + (1 + η)·r, 0, 1)
//! ```
//!
//! until the goal is reached or [`DeepFool::max_iter`] iterations have run. On an affine
//! classifier one step lands on the nearest boundary (plus 10⁻⁴) at the closed-form distance
//! `|f_k − f_l| / ‖w_k − w_l‖₂`; a test checks it on a small linear model.
//!
//! Semantics as in the authors' code (LTS4/DeepFool) and Foolbox's `L2DeepFoolAttack`, written
//! here anew; choices they leave open:
//!
//! * **Overshoot** `η` ([`DeepFool::overshoot`], default 0.02 as in the paper's code, Foolbox
//!   and torchattacks) multiplies the *accumulated* perturbation (the authors' code and Foolbox;
//!   torchattacks multiplies each step instead). The `10⁻⁴` added to each step's length is the
//!   authors' code's.
//! * **Candidates** ([`DeepFool::candidates`], default 10 = every MNIST / CIFAR-10 class): the
//!   original class plus the most likely other classes of the clean image, fixed for the run
//!   (the authors' `num_classes`, Foolbox's `candidates`).
//! * **Box**: every iterate is clipped to `[0, 1]` (Foolbox; the paper has no box).
//! * **Targeted** (not in the paper, Foolbox or torchattacks): each step crosses only the
//!   linearised boundary between the current top class and the target, i.e. the candidate set
//!   is `{target}` and the reference class is whichever class currently wins, until the target
//!   wins. Untargeted, the reference class stays the original one (the paper's `k̂(x₀)`).
//!
//! One [`AttackRun::step`] is one DeepFool iteration: one batched forward and backward pass over
//! the candidate classes.

use super::{
    argmax_of, check_image, softmax_host, logit_gradients, make_outcome, trajectory_point, About, Attack, AttackError, AttackOutcome,
    AttackRun, Budget, Goal, Step, TrajectoryPoint,
};
use crate::model::Model;
use crate::params::{Domain, Param, Tunable, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeepFool {
    /// Overshoot `η`: the accumulated perturbation is scaled by `1 + η`.
    pub overshoot: f32,
    /// Largest number of iterations.
    pub max_iter: usize,
    /// Classes considered: the original one and the `candidates − 1` most likely others.
    pub candidates: usize,
}

impl Default for DeepFool {
    fn default() -> Self {
        Self { overshoot: 0.02, max_iter: 50, candidates: 10 }
    }
}

impl Tunable for DeepFool {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("df_overshoot", "overshoot η", Domain::closed(0.0, 10.0, 0.01), |s| Value::Real(s.overshoot), |s, v| s.overshoot = v.real())
            .help("the accumulated perturbation is scaled by 1 + η, to land past the boundary rather than on it"),
        Param::<Self>::new("df_iter", "max iterations", Domain::whole(1, 10_000), |s| Value::Whole(s.max_iter as u64), |s, v| s.max_iter = v.size())
            .help("largest number of linearise-and-step iterations"),
        Param::<Self>::new("df_candidates", "candidate classes", Domain::whole(2, 1000), |s| Value::Whole(s.candidates as u64), |s, v| s.candidates = v.size())
            .help("classes considered: the original and the most likely others of the clean image (capped at the model's classes)"),
    ];
}

impl DeepFool {
    pub const ABOUT: About = About {
        key: "deepfool",
        label: "DeepFool (step to the nearest linearised boundary, L2)",
        summary: "DeepFool (Moosavi-Dezfooli et al.): linearise the classifier, step to the nearest class boundary, repeat; the total step is scaled by 1 + overshoot.",
    };
}

impl Attack for DeepFool {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    /// Iterations over the cap (an upper bound: DeepFool usually ends in a few).
    fn progress(&self, point: &TrajectoryPoint) -> f64 {
        (point.iteration as f64 / self.max_iter.max(1) as f64).clamp(0.0, 1.0)
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        check_image(model, image, &goal)?;
        let probs = super::probabilities(model, image);
        let state = DeepFoolState::new(image.to_vec(), self.overshoot, goal, &probs, self.candidates);
        let mut run = DeepFoolRun { attack: *self, model: model.clone(), state, goal, logits: Vec::new(), grads: Vec::new(), classes: Vec::new(), iteration: 0, trajectory: Vec::new() };
        run.evaluate();
        Ok(Box::new(run))
    }
}

fn model_classes(model: &Model) -> usize {
    use crate::model::Classifier;
    model.architecture().num_classes()
}

/// DeepFool's iterate and the rule that moves it, apart from any model: give it the logits of
/// the current image and the gradients of the classes it asks for, and it takes one step. The
/// attack feeds it the network's values; the tests feed it a linear classifier's.
#[derive(Clone, Debug, PartialEq)]
pub struct DeepFoolState {
    original: Vec<f32>,
    overshoot: f32,
    goal: Goal,
    /// Untargeted: the original class and the other candidates.
    candidates: Vec<usize>,
    /// Accumulated perturbation `r`.
    r: Vec<f32>,
    /// `clip(x + (1 + η)·r, 0, 1)`.
    x: Vec<f32>,
}

impl DeepFoolState {
    /// Start at `original`, whose class scores (logits or probabilities: only their order
    /// matters) are `scores`; `candidates` as in [`DeepFool::candidates`].
    pub fn new(original: Vec<f32>, overshoot: f32, goal: Goal, scores: &[f32], candidates: usize) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).filter(|&k| k != goal.label).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order.truncate(candidates.clamp(2, scores.len()) - 1);
        let mut cands = vec![goal.label];
        cands.extend(order);
        let n = original.len();
        Self { x: original.clone(), original, overshoot, goal, candidates: cands, r: vec![0.0; n] }
    }

    /// The current image.
    pub fn current(&self) -> &[f32] {
        &self.x
    }

    /// The reference class and the classes whose boundaries with it the next step considers,
    /// given the logits at the current image. Targeted: the current winner (or, once the target
    /// wins, the best other class) and the target.
    pub fn classes(&self, logits: &[f32]) -> (usize, Vec<usize>) {
        match self.goal.target {
            Some(t) => {
                let top = argmax_of(logits);
                let from = if top == t { super::runner_up(logits, t) } else { top };
                (from, vec![t])
            }
            None => (self.goal.label, self.candidates[1..].to_vec()),
        }
    }

    /// The linearised distance to the nearest candidate boundary and the step across it:
    /// `(|f'| / ‖w'‖, class, w', f')`. `grad(k)` is `∇fₖ` at the current image.
    pub fn nearest_boundary<'g>(&self, logits: &[f32], grad: impl Fn(usize) -> &'g [f32]) -> Option<(f32, usize, Vec<f32>, f32)> {
        let (from, to) = self.classes(logits);
        let g0 = grad(from);
        let mut best: Option<(f32, usize, Vec<f32>, f32)> = None;
        for k in to {
            let gk = grad(k);
            let w: Vec<f32> = gk.iter().zip(g0).map(|(a, b)| a - b).collect();
            let norm = w.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt() as f32;
            if norm <= 0.0 || !norm.is_finite() {
                continue;
            }
            let f = logits[k] - logits[from];
            let dist = f.abs() / norm;
            if best.as_ref().is_none_or(|b| dist < b.0) {
                best = Some((dist, k, w, f));
            }
        }
        best
    }

    /// One DeepFool step; returns the linearised distance it covered and the class it moved
    /// towards, or `None` when every candidate's gradient difference vanishes.
    pub fn advance<'g>(&mut self, logits: &[f32], grad: impl Fn(usize) -> &'g [f32]) -> Option<(f32, usize)> {
        let (dist, k, w, _) = self.nearest_boundary(logits, grad)?;
        let norm = w.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt() as f32;
        let scale = (dist + 1e-4) / norm;
        for (r, wi) in self.r.iter_mut().zip(&w) {
            *r += scale * wi;
        }
        let m = 1.0 + self.overshoot;
        self.x = self.original.iter().zip(&self.r).map(|(&o, &r)| (o + m * r).clamp(0.0, 1.0)).collect();
        Some((dist, k))
    }
}

struct DeepFoolRun {
    attack: DeepFool,
    model: Model,
    state: DeepFoolState,
    goal: Goal,
    /// Logits at the current image and the gradients of `classes` there.
    logits: Vec<f32>,
    grads: Vec<Vec<f32>>,
    classes: Vec<usize>,
    iteration: usize,
    trajectory: Vec<TrajectoryPoint>,
}

impl DeepFoolRun {
    /// Logits and the needed gradients at the current image (one batched pass).
    fn evaluate(&mut self) {
        let k = model_classes(&self.model);
        let classes: Vec<usize> = match self.goal.target {
            Some(_) => (0..k).collect(),
            None => self.state.candidates.clone(),
        };
        // Targeted runs need the current winner, known only after the forward pass: ask for
        // every class (K rows); untargeted runs ask for the candidates only.
        let weights: Vec<Vec<f32>> = classes
            .iter()
            .map(|&c| {
                let mut w = vec![0.0; k];
                w[c] = 1.0;
                w
            })
            .collect();
        let (logits, grads) = logit_gradients(&self.model, self.state.current(), &weights);
        self.logits = logits;
        self.grads = grads;
        self.classes = classes;
    }

    fn grad(&self, class: usize) -> &[f32] {
        let j = self.classes.iter().position(|&c| c == class).expect("gradient of a candidate class");
        &self.grads[j]
    }

    fn outcome(&self) -> AttackOutcome {
        make_outcome("deepfool", &self.model, &self.state.original, self.state.x.clone(), self.goal, self.iteration, self.trajectory.clone(), None, Budget::None)
    }
}

impl AttackRun for DeepFoolRun {
    fn step(&mut self) -> Step {
        if self.goal.reached(argmax_of(&self.logits)) || self.iteration >= self.attack.max_iter {
            return Step::Done(self.outcome());
        }
        let logits = self.logits.clone();
        let mut state = self.state.clone();
        let moved = state.advance(&logits, |c| self.grad(c));
        if moved.is_none() {
            return Step::Done(self.outcome());
        }
        self.state = state;
        self.evaluate();
        self.iteration += 1;
        // Objective: the linearised distance to the nearest candidate boundary at the new image.
        let remaining = self.state.nearest_boundary(&self.logits, |c| self.grad(c)).map_or(0.0, |b| b.0);
        let probs = softmax_host(&self.logits);
        let point = trajectory_point(self.iteration, remaining, &self.goal, &probs, &self.state.original, &self.state.x, None);
        self.trajectory.push(point.clone());
        Step::Running(point)
    }

    fn finish(self: Box<Self>) -> AttackOutcome {
        self.outcome()
    }
}
