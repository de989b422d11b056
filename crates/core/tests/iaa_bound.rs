//! IAA's distance stated honestly (issue 11 §4): the per-iteration bound `m·δ·max Sen / N`, and
//! the option that scales the final iteration so that `D` ends at `D_max` instead of past it.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::iaa::fit_to_budget;
use quiver_core::attacks::{run_attack, Flow, Goal, Iaa};
use quiver_core::metrics::{perceptual_distance, sensitivity};

#[test]
fn the_step_bound_is_m_delta_255_over_n_and_bounds_every_image() {
    let iaa = Iaa::default();
    // The figure: 10 · 0.05 · 255 / 784 = 0.163 > D_max = 0.1.
    assert!((iaa.step_bound(784) - 10.0 * 0.05 * 255.0 / 784.0).abs() < 1e-5);
    assert!(iaa.step_bound(784) > iaa.d_max);
    assert!(iaa.fit_last, "D_max is a bound the result keeps by default");
    let set = subset();
    for i in 0..20 {
        let sen = sensitivity(&set.image(i), [1, 28, 28], iaa.n);
        let on_image = iaa.max_step_distance(&sen);
        assert!(on_image <= iaa.step_bound(784) + 1e-6 && on_image > 0.0);
    }
}

/// The float `D` of the last iterate (the trajectory reports it).
fn last_d(o: &quiver_core::attacks::AttackOutcome) -> f32 {
    o.trajectory.last().and_then(|p| p.perceptual_distance).unwrap_or(0.0)
}

#[test]
fn fit_last_ends_at_d_max_where_the_papers_loop_passes_it() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let mut bound = 0;
    for i in 0..6 {
        let x = set.image(i);
        let goal = Goal { label: set.label(i), target: None };
        // A budget small enough to stop the run before the goal on most digits.
        let paper = Iaa { d_max: 0.02, fit_last: false, ..Iaa::default() };
        let fit = Iaa { fit_last: true, ..paper };
        let a = run_attack(&paper, &model, &x, goal, |_| Flow::Continue).unwrap();
        let b = run_attack(&fit, &model, &x, goal, |_| Flow::Continue).unwrap();
        let sen = sensitivity(&x, [1, 28, 28], paper.n);
        // Both within one iteration's worth; the fitted one within D_max, the 8-bit image too.
        assert!(last_d(&a) <= paper.d_max + paper.max_step_distance(&sen) + 1e-6);
        assert!(last_d(&b) <= fit.d_max * (1.0 + 1e-5), "image {i}: fitted D {} > D_max", last_d(&b));
        assert!(b.perceptual_distance <= fit.d_max * (1.0 + 1e-5), "image {i}: 8-bit D {} > D_max", b.perceptual_distance);
        if last_d(&a) > paper.d_max {
            bound += 1;
            // Same iterations up to the last, which is scaled to land on D_max.
            assert_eq!(a.iterations, b.iterations, "image {i}");
            assert!((last_d(&b) - fit.d_max).abs() <= 1e-4 * fit.d_max, "image {i}: fitted D {} is not D_max", last_d(&b));
            assert!(last_d(&a) > last_d(&b));
        } else {
            // The budget did not bind: the option changes nothing.
            assert_eq!(a.adversarial, b.adversarial, "image {i}");
        }
    }
    assert!(bound >= 3, "the budget passed D_max on only {bound} of 6 digits; the option is barely exercised");
}

#[test]
fn fit_to_budget_lands_on_the_budget_along_the_step() {
    let x: Vec<f32> = (0..784).map(|i| ((i * 31) % 256) as f32 / 255.0).collect();
    let sen = sensitivity(&x, [1, 28, 28], 3);
    let before: Vec<f32> = x.iter().enumerate().map(|(i, &v)| if i % 50 == 0 { (v + 0.05).min(1.0) } else { v }).collect();
    let after: Vec<f32> = before.iter().enumerate().map(|(i, &v)| if i % 37 == 1 { (v + 0.3).min(1.0) } else { v }).collect();
    let (d0, d1) = (perceptual_distance(&x, &before, &sen), perceptual_distance(&x, &after, &sen));
    let d_max = 0.5 * (d0 + d1);
    let fitted = fit_to_budget(&x, &before, &after, &sen, d_max);
    let d = perceptual_distance(&x, &fitted, &sen);
    assert!(d <= d_max && d > d_max * (1.0 - 1e-5), "{d} vs {d_max}");
    // On the segment: every value between its before and after.
    for ((f, b), a) in fitted.iter().zip(&before).zip(&after) {
        assert!(f >= &b.min(*a) && f <= &b.max(*a));
    }
}
