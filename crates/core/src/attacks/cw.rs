//! Carlini & Wagner's L2 attack (Carlini & Wagner 2017, "Towards Evaluating the Robustness of
//! Neural Networks", §V.A). Distance: L2.
//!
//! The image is written through a tanh box, `x' = ½(tanh(w) + 1)`, so every `w` gives an image in
//! `[0, 1]ⁿ` and the problem is unconstrained in `w`:
//!
//! ```text
//! minimise  ‖x' − x‖₂² + c · g(x')
//! targeted:    g(x') = max(max_{i≠t} Zᵢ(x') − Z_t(x'), −κ)
//! untargeted:  g(x') = max(Z_y(x') − max_{i≠y} Zᵢ(x'), −κ)
//! ```
//!
//! (`Z` the logits, `κ` the confidence), by Adam on `w` from `w₀ = atanh(2x − 1)`; an outer
//! binary search over `c` keeps the smallest successful perturbation.
//!
//! Semantics of the authors' code (carlini/nn_robust_attacks, `l2_attack.py`) as also followed
//! by IBM ART's `CarliniL2Method`, written here anew:
//!
//! * **Start**: `w₀ = atanh((2x − 1)·0.999999)` (the authors' factor: `atanh(±1)` is infinite, so
//!   values at exactly 0 or 1 start just inside and move very little: `∂x'/∂w ≈ 10⁻⁶` there).
//! * **Binary search over `c`** ([`CarliniWagner::search_steps`] outer steps, each a fresh Adam
//!   run from `w₀`): after a `c` that succeeded, `c_hi = min(c_hi, c)`; after one that failed,
//!   `c_lo = max(c_lo, c)`; the next `c` is `(c_lo + c_hi)/2` once an upper bound is known,
//!   else `10·c`.
//! * **Success** of an iterate: the goal is reached with margin κ (`g(x') ≤ −κ`, the authors'
//!   `compare` with the confidence); the result is the successful iterate of smallest L2 over
//!   the whole run, or — when none succeeded — the iterate with the largest success gap (the
//!   authors return the original image; showing the closest attempt is more useful here).
//! * **Abort early** (the authors' `ABORT_EARLY`): a `c` ends when its loss has not fallen below
//!   0.9999 of its value `steps / 10` iterations earlier.
//! * **Adam** (Kingma & Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε̂ = 10⁻⁸, written here in a few
//!   lines; learning rate [`CarliniWagner::lr`].
//! * **Defaults**: κ = 0, first `c` = 1 (torchattacks' single `c`), 5 search steps of 100 Adam
//!   steps with learning rate 0.1. The authors use 9 × 10 000 steps at 0.01 from `c = 10⁻³`; at
//!   100 steps a rate of 0.01 moves `w` by at most ~1, too little to change an MNIST digit, so
//!   the default rate is ten times theirs.
//!
//! One [`AttackRun::step`] is one Adam step (one forward and backward pass); `iteration` counts
//! them over all values of `c`.

use super::{
    argmax_of, check_image, make_outcome, row, scalar_gradient, success_gap, trajectory_point, About, Attack, AttackError,
    AttackOutcome, AttackRun, Budget, Goal, Step, TrajectoryPoint,
};
use crate::model::Model;
use crate::params::{Domain, Param, Tunable, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CarliniWagner {
    /// First value of `c`.
    pub c_init: f32,
    /// Confidence `κ` (logit units).
    pub kappa: f32,
    /// Outer steps of the binary search over `c`.
    pub search_steps: usize,
    /// Adam steps for each `c`.
    pub steps: usize,
    /// Adam's learning rate (in `w` units).
    pub lr: f32,
}

impl Default for CarliniWagner {
    fn default() -> Self {
        Self { c_init: 1.0, kappa: 0.0, search_steps: 5, steps: 100, lr: 0.1 }
    }
}

impl Tunable for CarliniWagner {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("cw_c", "c (initial)", Domain::open_closed(0.0, 1e6, 0.01), |s| Value::Real(s.c_init), |s, v| s.c_init = v.real())
            .help("first weight c of the classification term; the binary search moves it"),
        Param::<Self>::new("cw_kappa", "κ (confidence)", Domain::closed(0.0, 1000.0, 0.1), |s| Value::Real(s.kappa), |s, v| s.kappa = v.real())
            .help("required logit margin: success needs the goal class ahead by κ")
            .unit("logits"),
        Param::<Self>::new("cw_search", "search steps", Domain::whole(1, 50), |s| Value::Whole(s.search_steps as u64), |s, v| s.search_steps = v.size())
            .help("outer steps of the binary search over c, each a fresh optimisation"),
        Param::<Self>::new("cw_steps", "steps per c", Domain::whole(1, 100_000), |s| Value::Whole(s.steps as u64), |s, v| s.steps = v.size())
            .help("Adam steps for each c"),
        Param::<Self>::new("cw_lr", "learning rate", Domain::open_closed(0.0, 10.0, 0.001), |s| Value::Real(s.lr), |s, v| s.lr = v.real())
            .help("Adam's step size on the tanh variable w"),
    ];
}

impl CarliniWagner {
    pub const ABOUT: About = About {
        key: "cw",
        label: "C&W L2 (smallest L2 with a logit margin, tanh box)",
        summary: "C&W (Carlini & Wagner): x′ = ½(tanh w + 1); minimise ‖x′ − x‖₂² + c·max(best other logit − goal logit, −κ) with Adam, binary-searching c.",
    };
}

impl Attack for CarliniWagner {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    /// Steps over the budget of every `c` (an upper bound: a `c` may end early).
    fn progress(&self, point: &TrajectoryPoint) -> f64 {
        (point.iteration as f64 / (self.search_steps * self.steps).max(1) as f64).clamp(0.0, 1.0)
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        check_image(model, image, &goal)?;
        let w0: Vec<f32> = image.iter().map(|&x| ((2.0 * x - 1.0) * 0.999_999).atanh()).collect();
        let n = image.len();
        let already = goal.reached(argmax_of(&super::probabilities(model, image)));
        Ok(Box::new(CwRun {
            attack: *self,
            model: model.clone(),
            original: image.to_vec(),
            goal,
            w0: w0.clone(),
            w: w0,
            adam: Adam::new(n),
            c: self.c_init as f64,
            c_lo: 0.0,
            c_hi: f64::INFINITY,
            search: if already { self.search_steps } else { 0 },
            inner: 0,
            c_success: false,
            checkpoint: f32::INFINITY,
            best: already.then(|| (image.to_vec(), 0.0)),
            fallback: (image.to_vec(), f32::NEG_INFINITY),
            iteration: 0,
            trajectory: Vec::new(),
        }))
    }
}

/// `x' = ½(tanh(w) + 1)`.
pub fn tanh_box(w: &[f32]) -> Vec<f32> {
    w.iter().map(|&v| 0.5 * (v.tanh() + 1.0)).collect()
}

/// Adam (Kingma & Ba 2015) on one vector.
#[derive(Clone, Debug)]
pub struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    pub fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }

    /// One step of size `lr` on `x` with gradient `g`.
    pub fn step(&mut self, x: &mut [f32], g: &[f32], lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for i in 0..x.len() {
            self.m[i] = Self::B1 * self.m[i] + (1.0 - Self::B1) * g[i];
            self.v[i] = Self::B2 * self.v[i] + (1.0 - Self::B2) * g[i] * g[i];
            x[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + Self::EPS);
        }
    }
}

struct CwRun {
    attack: CarliniWagner,
    model: Model,
    original: Vec<f32>,
    goal: Goal,
    w0: Vec<f32>,
    w: Vec<f32>,
    adam: Adam,
    c: f64,
    c_lo: f64,
    c_hi: f64,
    /// Index of the current `c` in the search.
    search: usize,
    /// Adam steps taken for the current `c`.
    inner: usize,
    c_success: bool,
    /// Loss at the last abort-early checkpoint.
    checkpoint: f32,
    /// Smallest-L2 successful image and its L2.
    best: Option<(Vec<f32>, f32)>,
    /// Image with the largest success gap (when nothing succeeded).
    fallback: (Vec<f32>, f32),
    iteration: usize,
    trajectory: Vec<TrajectoryPoint>,
}

impl CwRun {
    /// Close the current `c` and choose the next (the authors' rule).
    fn next_c(&mut self) {
        if self.c_success {
            self.c_hi = self.c_hi.min(self.c);
        } else {
            self.c_lo = self.c_lo.max(self.c);
        }
        self.c = if self.c_hi.is_finite() { (self.c_lo + self.c_hi) / 2.0 } else { self.c * 10.0 };
        self.search += 1;
        self.inner = 0;
        self.c_success = false;
        self.checkpoint = f32::INFINITY;
        self.w = self.w0.clone();
        self.adam = Adam::new(self.w.len());
    }

    fn outcome(&self) -> AttackOutcome {
        let adv = match &self.best {
            Some((x, _)) => x.clone(),
            None => self.fallback.0.clone(),
        };
        make_outcome("cw", &self.model, &self.original, adv, self.goal, self.iteration, self.trajectory.clone(), None, Budget::None)
    }
}

impl AttackRun for CwRun {
    fn step(&mut self) -> Step {
        if self.inner >= self.attack.steps {
            self.next_c();
        }
        if self.search >= self.attack.search_steps {
            return Step::Done(self.outcome());
        }
        let x = tanh_box(&self.w);
        let goal = self.goal;
        let kappa = self.attack.kappa;
        // g(x') with its gradient through the logits; the clamp at −κ zeroes the gradient.
        let (margin, grad_g, probs) = scalar_gradient(&self.model, &x, move |logits, probs| {
            let k = probs.len();
            let mut w = vec![0f32; k];
            match goal.target {
                Some(t) => {
                    w[super::runner_up(probs, t)] = 1.0;
                    w[t] = -1.0;
                }
                None => {
                    w[goal.label] = 1.0;
                    w[super::runner_up(probs, goal.label)] = -1.0;
                }
            }
            let w = row(w, &logits);
            (logits * w).sum()
        });
        let c = self.c as f32;
        let active = margin > -kappa;
        let l2sq: f32 = x.iter().zip(&self.original).map(|(a, b)| (a - b) * (a - b)).sum();
        let loss = l2sq + c * margin.max(-kappa);
        // Chain rule through the box: ∂x'/∂w = ½(1 − tanh²w) = 2·x'·(1 − x').
        let gw: Vec<f32> = (0..x.len())
            .map(|i| {
                let gx = 2.0 * (x[i] - self.original[i]) + if active { c * grad_g[i] } else { 0.0 };
                gx * 2.0 * x[i] * (1.0 - x[i])
            })
            .collect();
        self.adam.step(&mut self.w, &gw, self.attack.lr);
        self.inner += 1;
        self.iteration += 1;

        let point = trajectory_point(self.iteration, loss, &self.goal, &probs, &self.original, &x, None);
        if self.goal.reached(argmax_of(&probs)) && margin <= -kappa {
            self.c_success = true;
            if self.best.as_ref().is_none_or(|(_, l2)| point.l2 < *l2) {
                self.best = Some((x.clone(), point.l2));
            }
        }
        let gap = success_gap(&self.goal, &probs);
        if gap > self.fallback.1 {
            self.fallback = (x, gap);
        }
        // Abort early: no progress over the last tenth of the steps.
        let every = (self.attack.steps / 10).max(1);
        if self.inner % every == 0 {
            if loss > 0.9999 * self.checkpoint {
                self.inner = self.attack.steps;
            }
            self.checkpoint = loss;
        }
        self.trajectory.push(point.clone());
        Step::Running(point)
    }

    fn finish(self: Box<Self>) -> AttackOutcome {
        self.outcome()
    }
}
