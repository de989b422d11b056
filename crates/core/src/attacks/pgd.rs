//! Projected Gradient Descent (Madry, Makelov, Schmidt, Tsipras & Vladu 2018, "Towards Deep
//! Learning Models Resistant to Adversarial Attacks"), in its L∞ form ([`Pgd`]) and its L2 form
//! ([`PgdL2`]). Without the random start the L∞ form is the Basic Iterative Method / I-FGSM of
//! Kurakin, Goodfellow & Bengio 2017 ("Adversarial examples in the physical world").
//!
//! The semantics follow torchattacks' `PGD` and `PGDL2` (Harry24k/adversarial-attacks-pytorch,
//! `torchattacks/attacks/pgd.py`, `pgdl2.py`), written here anew:
//!
//! ```text
//! start:   x⁰ = x, or with the random start x⁰ = clip(x + δ₀, 0, 1)
//!            L∞: δ₀ ~ U(−ε, ε) per value
//!            L2: δ₀ = r·ε·u, u = n / ‖n‖₂ with n ~ N(0, I), r ~ U(0, 1)  (torchattacks' draw;
//!                 not uniform in the ball, it favours small radii)
//! step k:  g = ∇ₓ CE(f(xᵏ), y)         untargeted (ascend the label's loss)
//!          g = −∇ₓ CE(f(xᵏ), t)        targeted (descend the target's loss)
//!            L∞: x' = xᵏ + α·sign(g),      δ = clip(x' − x, −ε, ε)
//!            L2: x' = xᵏ + α·g / ‖g‖₂,     δ = (x' − x)·min(1, ε / ‖x' − x‖₂)
//!          xᵏ⁺¹ = clip(x + δ, 0, 1)
//! ```
//!
//! Clipping to the box after the projection only shrinks `|δᵢ|`, so every iterate lies both in
//! the ε-ball and in `[0, 1]ⁿ`. With one step, `α = ε` and no random start the L∞ form is FGSM
//! exactly (a test checks it).
//!
//! Choices the papers leave open, fixed here:
//!
//! * **The result is the last iterate**, as in Madry et al. and torchattacks; there is no early
//!   stop once the goal is reached (later steps push further into the wrong class, which is what
//!   the method's users expect of "PGD-40").
//! * **The random start is seeded** ([`Pgd::seed`]): a ChaCha8 stream, so a seed gives the same
//!   image natively and in the browser. The draw above uses the stream's 24-bit uniforms and a
//!   Box–Muller normal.
//! * **Defaults for 28×28 digits in [0, 1]**, not torchattacks' CIFAR ones (ε = 8/255): L∞
//!   ε = 0.1 (FGSM's default, so the two compare at the same budget), α = 0.01, 40 steps, random
//!   start on (Madry's MNIST schedule of 40 steps of 0.01, at a third of their ε = 0.3); L2
//!   ε = 2.0 (a little above L-BFGS's mean 1.49 on the shipped CNN), α = 0.1, 40 steps.
//!
//! One [`AttackRun::step`] is one PGD step: one forward and backward pass.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    check_image, cross_entropy, make_outcome, scalar_gradient, trajectory_point, About, Attack, AttackError, AttackOutcome,
    AttackRun, Budget, Goal, Step, TrajectoryPoint,
};
use crate::model::Model;
use crate::params::{Domain, Param, Tunable, Value};

/// The norm of a PGD ball.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Linf,
    L2,
}

/// PGD / BIM in the L∞ ball.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pgd {
    /// Radius ε of the L∞ ball (pixel units).
    pub eps: f32,
    /// Step size α (pixel units per step).
    pub alpha: f32,
    /// Number of steps.
    pub steps: usize,
    /// Start at a random point of the ball (PGD) or at the image itself (BIM).
    pub random_start: bool,
    /// Seed of the random start.
    pub seed: u64,
}

impl Default for Pgd {
    fn default() -> Self {
        Self { eps: 0.1, alpha: 0.01, steps: 40, random_start: true, seed: 0 }
    }
}

/// PGD in the L2 ball.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PgdL2 {
    /// Radius ε of the L2 ball.
    pub eps: f32,
    /// Step length α (L2 length of every step).
    pub alpha: f32,
    pub steps: usize,
    pub random_start: bool,
    pub seed: u64,
}

impl Default for PgdL2 {
    fn default() -> Self {
        Self { eps: 2.0, alpha: 0.1, steps: 40, random_start: true, seed: 0 }
    }
}

fn flag(v: bool) -> Value {
    Value::Whole(v as u64)
}

impl Tunable for Pgd {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("pgd_eps", "ε", Domain::closed(0.0, 1.0, 0.01), |s| Value::Real(s.eps), |s, v| s.eps = v.real())
            .help("radius of the L∞ ball: no value moves further than ε from the original")
            .unit("pixel units"),
        Param::<Self>::new("pgd_alpha", "α (step)", Domain::open_closed(0.0, 1.0, 0.001), |s| Value::Real(s.alpha), |s, v| s.alpha = v.real())
            .help("step size: each step moves every value by α along the gradient's sign, then projects onto the ball")
            .unit("pixel units"),
        Param::<Self>::new("pgd_steps", "steps", Domain::whole(1, 10_000), |s| Value::Whole(s.steps as u64), |s, v| s.steps = v.size())
            .help("number of steps (one forward and backward pass each)"),
        Param::<Self>::new("pgd_random", "random start", Domain::whole(0, 1), |s| flag(s.random_start), |s, v| s.random_start = v.whole() == 1)
            .help("1: start at a uniformly random point of the ball (PGD); 0: at the image (BIM / I-FGSM)"),
        Param::<Self>::new("pgd_seed", "seed", Domain::whole(0, u64::MAX), |s| Value::Whole(s.seed), |s, v| s.seed = v.whole())
            .help("seed of the random start: the same seed gives the same image"),
    ];
}

impl Tunable for PgdL2 {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("pgdl2_eps", "ε (L2)", Domain::closed(0.0, 1000.0, 0.1), |s| Value::Real(s.eps), |s, v| s.eps = v.real())
            .help("radius of the L2 ball: the perturbation's Euclidean length is at most ε"),
        Param::<Self>::new("pgdl2_alpha", "α (step)", Domain::open_closed(0.0, 1000.0, 0.01), |s| Value::Real(s.alpha), |s, v| s.alpha = v.real())
            .help("step length: each step moves the image by α along the normalised gradient, then projects onto the ball"),
        Param::<Self>::new("pgdl2_steps", "steps", Domain::whole(1, 10_000), |s| Value::Whole(s.steps as u64), |s, v| s.steps = v.size())
            .help("number of steps (one forward and backward pass each)"),
        Param::<Self>::new("pgdl2_random", "random start", Domain::whole(0, 1), |s| flag(s.random_start), |s, v| s.random_start = v.whole() == 1)
            .help("1: start at a random point of the ball (radius uniform in [0, ε], direction uniform); 0: at the image"),
        Param::<Self>::new("pgdl2_seed", "seed", Domain::whole(0, u64::MAX), |s| Value::Whole(s.seed), |s, v| s.seed = v.whole())
            .help("seed of the random start: the same seed gives the same image"),
    ];
}

/// What a PGD run needs, whichever norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PgdConfig {
    pub norm: Norm,
    pub eps: f32,
    pub alpha: f32,
    pub steps: usize,
    pub random_start: bool,
    pub seed: u64,
}

impl Pgd {
    pub const ABOUT: About = About {
        key: "pgd",
        label: "PGD / BIM (iterated signed steps in an L∞ ball)",
        summary: "PGD (Madry et al.): from a random point of the ε-ball, repeat x ← clip(Π_ε(x + α·sign(∇ₓ loss)), 0, 1). Without the random start it is BIM (Kurakin et al.).",
    };

    pub fn config(&self) -> PgdConfig {
        PgdConfig { norm: Norm::Linf, eps: self.eps, alpha: self.alpha, steps: self.steps, random_start: self.random_start, seed: self.seed }
    }
}

impl PgdL2 {
    pub const ABOUT: About = About {
        key: "pgdl2",
        label: "PGD L2 (iterated gradient steps in an L2 ball)",
        summary: "PGD L2 (Madry et al.): repeat x ← clip(Π_ε(x + α·∇ₓ loss / ‖∇ₓ loss‖₂), 0, 1), Π_ε scaling the perturbation back to L2 length ε.",
    };

    pub fn config(&self) -> PgdConfig {
        PgdConfig { norm: Norm::L2, eps: self.eps, alpha: self.alpha, steps: self.steps, random_start: self.random_start, seed: self.seed }
    }
}

impl Attack for Pgd {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    fn progress(&self, point: &TrajectoryPoint) -> f64 {
        (point.iteration as f64 / self.steps.max(1) as f64).clamp(0.0, 1.0)
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        Ok(Box::new(PgdRun::begin(self.config(), model, image, goal)?))
    }
}

impl Attack for PgdL2 {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    fn progress(&self, point: &TrajectoryPoint) -> f64 {
        (point.iteration as f64 / self.steps.max(1) as f64).clamp(0.0, 1.0)
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        Ok(Box::new(PgdRun::begin(self.config(), model, image, goal)?))
    }
}

/// A uniform number in [0, 1) from 24 random bits.
fn uniform(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32
}

/// A standard normal number (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = 1.0 - uniform(rng); // (0, 1]
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn l2_norm(v: &[f32]) -> f32 {
    v.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt() as f32
}

/// `x` projected onto the ε-ball of `norm` around `original` and then onto the box `[0, 1]ⁿ`.
pub fn project(norm: Norm, eps: f32, original: &[f32], x: &[f32]) -> Vec<f32> {
    if norm == Norm::Linf {
        // A value inside the ball is kept as it is (not rebuilt as o + (x − o), which can differ
        // in the last bit), so that one step from the image is FGSM's image exactly.
        return x
            .iter()
            .zip(original)
            .map(|(&a, &o)| if (a - o).abs() <= eps { a } else if a > o { o + eps } else { o - eps })
            .map(|v| v.clamp(0.0, 1.0))
            .collect();
    }
    let delta: Vec<f32> = x.iter().zip(original).map(|(&a, &o)| a - o).collect();
    let scale = match norm {
        Norm::Linf => 1.0,
        Norm::L2 => {
            let n = l2_norm(&delta);
            if n > eps {
                eps / n
            } else {
                1.0
            }
        }
    };
    delta
        .iter()
        .zip(original)
        .map(|(&d, &o)| (o + d * scale).clamp(0.0, 1.0))
        .collect()
}

/// The random start: `clip(x + δ₀, 0, 1)` (see the module doc).
pub fn random_start(norm: Norm, eps: f32, seed: u64, original: &[f32]) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let delta: Vec<f32> = match norm {
        Norm::Linf => original.iter().map(|_| (2.0 * uniform(&mut rng) - 1.0) * eps).collect(),
        Norm::L2 => {
            let n: Vec<f32> = original.iter().map(|_| normal(&mut rng)).collect();
            let r = uniform(&mut rng);
            let len = l2_norm(&n).max(1e-12);
            n.iter().map(|&v| v / len * r * eps).collect()
        }
    };
    // Clipping the sum to the box keeps it in the ball (it only shrinks |δᵢ|).
    original.iter().zip(&delta).map(|(&o, &d)| (o + d).clamp(0.0, 1.0)).collect()
}

/// The attacker's loss at `image` and its ascent direction: `(CE, ∇ₓ CE of y)` untargeted,
/// `(CE of t, −∇ₓ CE of t)` targeted; with the probabilities.
fn ascent(model: &Model, image: &[f32], goal: &Goal) -> (f32, Vec<f32>, Vec<f32>) {
    let class = goal.target.unwrap_or(goal.label);
    let (loss, mut grad, probs) = scalar_gradient(model, image, move |logits, _| cross_entropy(logits, class));
    if goal.target.is_some() {
        grad.iter_mut().for_each(|g| *g = -*g);
    }
    (loss, grad, probs)
}

/// A PGD run; public so that tests can look at every iterate ([`PgdRun::current`]).
pub struct PgdRun {
    config: PgdConfig,
    model: Model,
    original: Vec<f32>,
    goal: Goal,
    x: Vec<f32>,
    /// The ascent direction at `x`.
    grad: Vec<f32>,
    iteration: usize,
    trajectory: Vec<TrajectoryPoint>,
}

impl PgdRun {
    /// Check the image and goal and take the start point (validation of the parameters is the
    /// caller's: [`Attack::start`]).
    pub fn begin(config: PgdConfig, model: &Model, image: &[f32], goal: Goal) -> Result<Self, AttackError> {
        check_image(model, image, &goal)?;
        let x = if config.random_start { random_start(config.norm, config.eps, config.seed, image) } else { image.to_vec() };
        let (_, grad, _) = ascent(model, &x, &goal);
        Ok(Self { config, model: model.clone(), original: image.to_vec(), goal, x, grad, iteration: 0, trajectory: Vec::new() })
    }

    /// The current iterate (the start point before the first step).
    pub fn current(&self) -> &[f32] {
        &self.x
    }

    fn name(&self) -> &'static str {
        match self.config.norm {
            Norm::Linf => Pgd::ABOUT.key,
            Norm::L2 => PgdL2::ABOUT.key,
        }
    }

    fn outcome(&self) -> AttackOutcome {
        let budget = match self.config.norm {
            Norm::Linf => Budget::Linf(self.config.eps),
            Norm::L2 => Budget::L2(self.config.eps),
        };
        make_outcome(self.name(), &self.model, &self.original, self.x.clone(), self.goal, self.iteration, self.trajectory.clone(), None, budget)
    }
}

impl AttackRun for PgdRun {
    fn step(&mut self) -> Step {
        if self.iteration >= self.config.steps {
            return Step::Done(self.outcome());
        }
        let PgdConfig { norm, eps, alpha, .. } = self.config;
        let moved: Vec<f32> = match norm {
            Norm::Linf => self
                .x
                .iter()
                .zip(&self.grad)
                .map(|(&x, &g)| {
                    let s = if g > 0.0 { 1.0 } else if g < 0.0 { -1.0 } else { 0.0 };
                    x + alpha * s
                })
                .collect(),
            Norm::L2 => {
                let len = l2_norm(&self.grad) + 1e-10;
                self.x.iter().zip(&self.grad).map(|(&x, &g)| x + alpha * g / len).collect()
            }
        };
        self.x = project(norm, eps, &self.original, &moved);
        let (loss, grad, probs) = ascent(&self.model, &self.x, &self.goal);
        self.grad = grad;
        self.iteration += 1;
        let point = trajectory_point(self.iteration, loss, &self.goal, &probs, &self.original, &self.x, None);
        self.trajectory.push(point.clone());
        Step::Running(point)
    }

    fn finish(self: Box<Self>) -> AttackOutcome {
        self.outcome()
    }
}
