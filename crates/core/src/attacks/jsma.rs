//! Jacobian-based Saliency Map Attack (Papernot, McDaniel, Jha, Fredrikson, Celik & Swami 2016,
//! "The Limitations of Deep Learning in Adversarial Settings", Algorithms 2 and 3). Distance: L0.
//!
//! A targeted attack that raises pairs of values. At the current image, with `Z` the logits and
//! `t` the target:
//!
//! ```text
//! αₚ = ∂Z_t/∂xₚ,   βₚ = Σ_{j≠t} ∂Z_j/∂xₚ
//! pick the pair (p, q) of the search domain with α = αₚ + α_q > 0, β = βₚ + β_q < 0 that
//! maximises α · |β|;   xₚ, x_q ← min(x + θ, 1);   remove p and q from the domain
//! ```
//!
//! until the target wins, the domain holds fewer than two values, no pair qualifies, or
//! `⌊γ·N / 2⌋` pairs have been changed (`N` values in all), so at most a fraction `γ` of the
//! values ever changes.
//!
//! Semantics of the "increasing" variant as in cleverhans' `jsma_symbolic` (and IBM ART's
//! `SaliencyMapMethod`), written here anew; choices the paper leaves open:
//!
//! * **Derivatives of the logits**, not of the softmax (cleverhans; the paper's forward
//!   derivative is of the network's output, and Carlini & Wagner 2017 found the logits work
//!   better).
//! * **Search domain**: the values below 1 (they can still increase), each used at most once.
//! * **Colour**: every channel value is its own feature (`N` = channels × height × width).
//! * **Untargeted** (the paper only defines targeted): the target is the clean image's most
//!   likely class other than the label (the runner-up, [`super::runner_up`]), and the run stops
//!   as soon as *any* class other than the label wins.
//! * **Ties** between pairs go to the lowest `(p, q)`.
//!
//! The pair search is quadratic in `N`: about 0.3 M pairs per iteration on MNIST, 4.7 M on
//! CIFAR-10; it is not meant for the 96×96 STL-10 model.
//!
//! One [`AttackRun::step`] is one pair: one batched forward and backward pass (two rows).

use super::{
    argmax_of, check_image, logit_gradients, make_outcome, trajectory_point, About, Attack, AttackError, AttackOutcome,
    AttackRun, Budget, Goal, Step, TrajectoryPoint,
};
use crate::model::{Classifier, Model};
use crate::params::{Domain, Param, Tunable, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jsma {
    /// Amount `θ` added to each chosen value (clipped at 1).
    pub theta: f32,
    /// Largest fraction `γ` of the values that may change.
    pub gamma: f32,
}

impl Default for Jsma {
    fn default() -> Self {
        Self { theta: 1.0, gamma: 0.1 }
    }
}

impl Tunable for Jsma {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("jsma_theta", "θ", Domain::open_closed(0.0, 1.0, 0.05), |s| Value::Real(s.theta), |s, v| s.theta = v.real())
            .help("amount added to each chosen value (then clipped at 1)")
            .unit("pixel units"),
        Param::<Self>::new("jsma_gamma", "γ (max changed)", Domain::open_closed(0.0, 1.0, 0.01), |s| Value::Real(s.gamma), |s, v| s.gamma = v.real())
            .help("largest fraction of the values the attack may change")
            .unit("fraction"),
    ];
}

impl Jsma {
    pub const ABOUT: About = About {
        key: "jsma",
        label: "JSMA (raise the most salient pixel pairs, L0)",
        summary: "JSMA (Papernot et al.): repeatedly raise by θ the pair of pixels whose gradients push the target up and the other classes down the most, changing at most a fraction γ of the pixels.",
    };

    /// Pairs the attack may change on an image of `n` values: `⌊γ·n / 2⌋`.
    pub fn max_pairs(&self, n: usize) -> usize {
        ((self.gamma as f64 * n as f64) / 2.0).floor() as usize
    }
}

impl Attack for Jsma {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    /// Pairs changed over the pair budget of a 28×28 image (a point does not carry the image
    /// size; on larger images the bar fills early, and the run still ends on its own rule).
    fn progress(&self, point: &TrajectoryPoint) -> f64 {
        (point.iteration as f64 / self.max_pairs(784).max(1) as f64).clamp(0.0, 1.0)
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        check_image(model, image, &goal)?;
        let target = match goal.target {
            Some(t) => t,
            None => super::runner_up(&super::probabilities(model, image), goal.label),
        };
        let mut run = JsmaRun {
            attack: *self,
            model: model.clone(),
            original: image.to_vec(),
            x: image.to_vec(),
            goal,
            target,
            domain: image.iter().map(|&v| v < 1.0).collect(),
            logits: Vec::new(),
            alpha: Vec::new(),
            beta: Vec::new(),
            pairs: 0,
            max_pairs: self.max_pairs(image.len()),
            trajectory: Vec::new(),
        };
        run.evaluate();
        Ok(Box::new(run))
    }
}

/// The best pair of the search domain (see the module doc): `(p, q, α·|β|)`.
pub fn best_pair(alpha: &[f32], beta: &[f32], domain: &[bool]) -> Option<(usize, usize, f32)> {
    let idx: Vec<usize> = (0..alpha.len()).filter(|&i| domain[i]).collect();
    let mut best: Option<(usize, usize, f32)> = None;
    for (a, &p) in idx.iter().enumerate() {
        let (ap, bp) = (alpha[p], beta[p]);
        for &q in &idx[a + 1..] {
            let al = ap + alpha[q];
            let be = bp + beta[q];
            if al > 0.0 && be < 0.0 {
                let score = al * -be;
                if best.is_none_or(|b| score > b.2) {
                    best = Some((p, q, score));
                }
            }
        }
    }
    best
}

struct JsmaRun {
    attack: Jsma,
    model: Model,
    original: Vec<f32>,
    x: Vec<f32>,
    goal: Goal,
    /// The class the saliency map raises (the goal's target, or the runner-up).
    target: usize,
    /// Values that may still be chosen.
    domain: Vec<bool>,
    /// Logits and the two derivative maps at `x`.
    logits: Vec<f32>,
    alpha: Vec<f32>,
    beta: Vec<f32>,
    pairs: usize,
    max_pairs: usize,
    trajectory: Vec<TrajectoryPoint>,
}

impl JsmaRun {
    fn evaluate(&mut self) {
        let k = self.model.architecture().num_classes();
        let mut wt = vec![0f32; k];
        wt[self.target] = 1.0;
        let others: Vec<f32> = (0..k).map(|j| if j == self.target { 0.0 } else { 1.0 }).collect();
        let (logits, mut grads) = logit_gradients(&self.model, &self.x, &[wt, others]);
        self.beta = grads.pop().expect("two rows");
        self.alpha = grads.pop().expect("two rows");
        self.logits = logits;
    }

    fn done(&self) -> bool {
        self.goal.reached(argmax_of(&self.logits))
    }

    fn outcome(&self) -> AttackOutcome {
        make_outcome("jsma", &self.model, &self.original, self.x.clone(), self.goal, self.pairs, self.trajectory.clone(), None, Budget::None)
    }
}

impl AttackRun for JsmaRun {
    fn step(&mut self) -> Step {
        if self.done() || self.pairs >= self.max_pairs {
            return Step::Done(self.outcome());
        }
        let Some((p, q, score)) = best_pair(&self.alpha, &self.beta, &self.domain) else {
            return Step::Done(self.outcome());
        };
        for i in [p, q] {
            self.x[i] = (self.x[i] + self.attack.theta).min(1.0);
            self.domain[i] = false;
        }
        self.pairs += 1;
        self.evaluate();
        let probs = super::softmax_host(&self.logits);
        let point = trajectory_point(self.pairs, score, &self.goal, &probs, &self.original, &self.x, None);
        self.trajectory.push(point.clone());
        Step::Running(point)
    }

    fn finish(self: Box<Self>) -> AttackOutcome {
        self.outcome()
    }
}
