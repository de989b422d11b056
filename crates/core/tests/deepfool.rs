//! DeepFool against its definition (Moosavi-Dezfooli et al. 2016): on an affine classifier one
//! step reaches the nearest decision boundary at the closed-form distance
//! `min_k |f_k − f_l| / ‖w_k − w_l‖₂`; on the shipped CNN it fools digits with small L2.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::deepfool::DeepFoolState;
use quiver_core::attacks::{argmax_of, run_attack, Attack, DeepFool, Flow, Goal, Pgd};

/// A tiny affine classifier `f(x) = W x + b` with `K` classes on `D` inputs.
struct Linear {
    w: Vec<Vec<f32>>,
    b: Vec<f32>,
}

impl Linear {
    /// Deterministic pseudo-random weights (a small LCG, no dependency).
    fn new(k: usize, d: usize, seed: u64) -> Self {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let w = (0..k).map(|_| (0..d).map(|_| next()).collect()).collect();
        let b = (0..k).map(|_| next() * 0.5).collect();
        Self { w, b }
    }

    fn logits(&self, x: &[f32]) -> Vec<f32> {
        self.w.iter().zip(&self.b).map(|(w, b)| w.iter().zip(x).map(|(a, v)| a * v).sum::<f32>() + b).collect()
    }

    /// The closed-form distance from `x` to the boundary between class `l` and its nearest rival.
    fn closed_form(&self, x: &[f32], l: usize) -> (f32, usize) {
        let f = self.logits(x);
        (0..self.w.len())
            .filter(|&k| k != l)
            .map(|k| {
                let dw: f32 = self.w[k].iter().zip(&self.w[l]).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt();
                ((f[k] - f[l]).abs() / dw, k)
            })
            .fold((f32::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a })
    }
}

#[test]
fn on_a_linear_model_one_step_lands_on_the_nearest_boundary_at_the_closed_form_distance() {
    let mut checked = 0;
    for seed in 0..20 {
        let (k, d) = (4, 16);
        let model = Linear::new(k, d, seed);
        // Mid-grey inputs, so that the step stays inside the box (no clipping: the linear theory).
        let x: Vec<f32> = (0..d).map(|i| 0.4 + 0.2 * ((i * 7 + seed as usize) % 5) as f32 / 4.0).collect();
        let f = model.logits(&x);
        let l = argmax_of(&f);
        let goal = Goal { label: l, target: None };
        let mut state = DeepFoolState::new(x.clone(), 0.0, goal, &f, k);
        let (dist, class) = state.advance(&f, |c| model.w[c].as_slice()).expect("a step");
        let (expected, nearest) = model.closed_form(&x, l);
        assert_eq!(class, nearest, "seed {seed}: DeepFool chose another boundary");
        assert!((dist - expected).abs() <= 1e-5 * expected.max(1.0), "seed {seed}: {dist} vs closed form {expected}");
        let after = state.current();
        if after.iter().any(|&v| v <= 0.0 || v >= 1.0) {
            continue; // clipped by the box: the closed form does not apply
        }
        let r: f32 = after.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt();
        // The step is the closed-form distance plus the authors' 1e-4.
        assert!((r - (expected + 1e-4)).abs() <= 1e-4 + 1e-5 * expected, "seed {seed}: moved {r}, closed form {expected}");
        // On the boundary: the two logits tie (up to the 1e-4 push across), and the step
        // crossed it, so the original class no longer wins against that rival.
        let g = model.logits(after);
        let dw: f32 = model.w[class].iter().zip(&model.w[l]).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt();
        assert!(g[class] >= g[l], "seed {seed}: did not reach the boundary ({} < {})", g[class], g[l]);
        assert!(g[class] - g[l] <= 1e-4 * dw + 1e-4, "seed {seed}: went past the boundary by {}", g[class] - g[l]);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} of 20 linear models were checked unclipped");
}

#[test]
fn overshoot_scales_the_accumulated_step_and_targeted_steps_cross_to_the_target() {
    let (k, d) = (5, 12);
    let model = Linear::new(k, d, 99);
    let x: Vec<f32> = (0..d).map(|i| 0.45 + 0.01 * i as f32).collect();
    let f = model.logits(&x);
    let l = argmax_of(&f);
    let mut plain = DeepFoolState::new(x.clone(), 0.0, Goal { label: l, target: None }, &f, k);
    let mut over = DeepFoolState::new(x.clone(), 0.5, Goal { label: l, target: None }, &f, k);
    plain.advance(&f, |c| model.w[c].as_slice()).unwrap();
    over.advance(&f, |c| model.w[c].as_slice()).unwrap();
    for i in 0..d {
        let (a, b) = (plain.current()[i] - x[i], over.current()[i] - x[i]);
        assert!((b - 1.5 * a).abs() < 1e-5, "value {i}: {b} is not 1.5 × {a}");
    }
    // Targeted at every other class: iterating reaches the target, each step towards it only.
    for t in (0..k).filter(|&t| t != l) {
        let mut s = DeepFoolState::new(x.clone(), 0.02, Goal { label: l, target: Some(t) }, &f, k);
        let mut steps = 0;
        while argmax_of(&model.logits(s.current())) != t && steps < 50 {
            let g = model.logits(s.current());
            let (_, towards) = s.advance(&g, |c| model.w[c].as_slice()).unwrap();
            assert_eq!(towards, t);
            steps += 1;
        }
        assert_eq!(argmax_of(&model.logits(s.current())), t, "target {t} not reached in {steps} steps");
    }
}

#[test]
fn deepfool_fools_the_cnn_with_less_l2_than_pgd_l_inf() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let (mut ok, mut targeted_ok) = (0, 0);
    for i in 0..15 {
        let x = set.image(i);
        let y = set.label(i);
        let goal = Goal { label: y, target: None };
        let o = run_attack(&DeepFool::default(), &model, &x, goal, |_| Flow::Continue).unwrap();
        assert!(o.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(o.iterations <= 50);
        if o.success {
            ok += 1;
            // A minimum-norm attack: smaller L2 than a successful PGD L∞ at ε = 0.2.
            let p = run_attack(&Pgd { eps: 0.2, ..Pgd::default() }, &model, &x, goal, |_| Flow::Continue).unwrap();
            if p.success {
                assert!(o.distances.l2 < p.distances.l2, "image {i}: DeepFool L2 {} vs PGD {}", o.distances.l2, p.distances.l2);
            }
        }
        let t = (y + 2) % 10;
        let o = run_attack(&DeepFool::default(), &model, &x, Goal { label: y, target: Some(t) }, |_| Flow::Continue).unwrap();
        assert_eq!(o.success, o.predicted == t);
        targeted_ok += o.success as usize;
    }
    assert!(ok >= 12, "DeepFool fooled {ok} of 15 digits");
    assert!(targeted_ok >= 8, "targeted DeepFool reached the target on {targeted_ok} of 15");
    assert!(DeepFool { candidates: 1, ..DeepFool::default() }.validate().is_err());
    assert!(DeepFool { max_iter: 0, ..DeepFool::default() }.validate().is_err());
}
