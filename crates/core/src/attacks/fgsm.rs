//! Fast Gradient Sign Method (Goodfellow et al. 2015; seed report §4.2). Distance: L∞.
//!
//! Untargeted: `x' = clip(x + ε·sign(∇ₓ CE(f(x), y)), 0, 1)`.
//! Targeted:   `x' = clip(x − ε·sign(∇ₓ CE(f(x), t)), 0, 1)`.
//! The gradient is that of the deterministic forward (dropout off).

use super::{
    check_image, loss_gradient, make_outcome, probabilities, trajectory_point, About, Attack, AttackError, AttackOutcome,
    AttackRun, Budget, Goal, Step, TrajectoryPoint,
};
use crate::model::Model;
use crate::params::{Domain, Param, Tunable, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fgsm {
    /// Step size ε (L∞ bound), in pixel units.
    pub eps: f32,
}

impl Default for Fgsm {
    fn default() -> Self {
        Self { eps: 0.1 }
    }
}

impl Tunable for Fgsm {
    const PARAMS: &'static [Param<Self>] = &[
        Param::<Self>::new("eps", "ε", Domain::closed(0.0, 1.0, 0.01), |s| Value::Real(s.eps), |s, v| s.eps = v.real())
            .help("L∞ size of the step: every value moves by ε (pixels lie in [0, 1])")
            .unit("pixel units"),
    ];
}

impl Fgsm {
    pub const ABOUT: About = About {
        key: "fgsm",
        label: "FGSM (one signed-gradient step, L∞)",
        summary: "FGSM: x′ = clip(x + ε·sign(∇ₓ loss), 0, 1). Every pixel moves by ε in the direction that hurts the model most.",
    };

    pub fn new(eps: f32) -> Self {
        Self { eps }
    }

    /// The adversarial image, computed directly.
    pub fn perturb(&self, model: &Model, image: &[f32], goal: &Goal) -> Vec<f32> {
        let (class, sign) = match goal.target {
            Some(t) => (t, -1.0f32),
            None => (goal.label, 1.0f32),
        };
        let (_, grad) = loss_gradient(model, image, class);
        image
            .iter()
            .zip(&grad)
            .map(|(&x, &g)| {
                let s = if g > 0.0 { 1.0 } else if g < 0.0 { -1.0 } else { 0.0 };
                (x + sign * self.eps * s).clamp(0.0, 1.0)
            })
            .collect()
    }
}

impl Attack for Fgsm {
    fn name(&self) -> &'static str {
        Self::ABOUT.key
    }

    fn validate(&self) -> Result<(), AttackError> {
        Ok(self.check()?)
    }

    /// One step: done at its only point.
    fn progress(&self, _point: &TrajectoryPoint) -> f64 {
        1.0
    }

    fn start(&self, model: &Model, image: &[f32], goal: Goal) -> Result<Box<dyn AttackRun>, AttackError> {
        self.validate()?;
        check_image(model, image, &goal)?;
        Ok(Box::new(FgsmRun { attack: *self, model: model.clone(), image: image.to_vec(), goal }))
    }
}

struct FgsmRun {
    attack: Fgsm,
    model: Model,
    image: Vec<f32>,
    goal: Goal,
}

impl AttackRun for FgsmRun {
    fn step(&mut self) -> Step {
        let adv = self.attack.perturb(&self.model, &self.image, &self.goal);
        let probs = probabilities(&self.model, &adv);
        let objective = -probs[self.goal.target.unwrap_or(self.goal.label)].max(1e-30).ln();
        let point = trajectory_point(1, objective, &self.goal, &probs, &self.image, &adv, None);
        Step::Done(make_outcome("fgsm", &self.model, &self.image, adv, self.goal, 1, vec![point], None, Budget::Linf(self.attack.eps)))
    }

    fn finish(mut self: Box<Self>) -> AttackOutcome {
        match self.step() {
            Step::Done(o) => o,
            Step::Running(_) => unreachable!("FGSM is a single step"),
        }
    }
}
