//! C&W L2 against its definition (Carlini & Wagner 2017): the tanh box keeps every image in
//! [0, 1], the attack finds smaller L2 perturbations than FGSM's smallest successful one, and the
//! confidence κ buys a margin.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::cw::{tanh_box, Adam};
use quiver_core::attacks::{loss_gradient, probabilities, run_attack, Attack, CarliniWagner, Flow, Goal};
use quiver_core::metrics::Distances;
use quiver_core::Model;

/// L2 of FGSM's image at the smallest ε on a 0.002 grid (up to 0.5) that reaches the goal.
fn smallest_fgsm_l2(model: &Model, image: &[f32], goal: Goal) -> Option<f32> {
    let (class, sign) = match goal.target {
        Some(t) => (t, -1.0f32),
        None => (goal.label, 1.0f32),
    };
    let (_, grad) = loss_gradient(model, image, class);
    (1..=250).map(|k| k as f32 * 0.002).find_map(|eps| {
        let adv: Vec<f32> = image.iter().zip(&grad).map(|(&x, &g)| (x + sign * eps * g.signum() * (g != 0.0) as i32 as f32).clamp(0.0, 1.0)).collect();
        let p = probabilities(model, &adv);
        goal.reached(quiver_core::attacks::argmax_of(&p)).then(|| Distances::between(image, &adv).l2)
    })
}

#[test]
fn the_tanh_box_maps_every_w_into_the_unit_box() {
    let w: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).chain([f32::MAX, f32::MIN, 1e30, -1e30]).collect();
    let x = tanh_box(&w);
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "a value left [0, 1]");
    assert_eq!(x[2000], 0.5);
    // Monotone: the box is a reparametrisation, not a clamp.
    assert!(x[..4001].windows(2).all(|p| p[0] <= p[1]));
}

#[test]
fn adam_minimises_a_quadratic() {
    // f(x) = Σ (i+1)(xᵢ − i)²: badly scaled, Adam's per-coordinate step handles it.
    let mut x = vec![0.0f32; 5];
    let mut adam = Adam::new(5);
    for _ in 0..2000 {
        let g: Vec<f32> = x.iter().enumerate().map(|(i, &v)| 2.0 * (i as f32 + 1.0) * (v - i as f32)).collect();
        adam.step(&mut x, &g, 0.05);
    }
    for (i, v) in x.iter().enumerate() {
        assert!((v - i as f32).abs() < 0.05, "x[{i}] = {v}");
    }
}

#[test]
fn cw_stays_in_the_box_and_beats_fgsm_in_l2() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let mut compared = 0;
    for i in 0..6 {
        let x = set.image(i);
        let y = set.label(i);
        for goal in [Goal { label: y, target: None }, Goal { label: y, target: Some((y + 4) % 10) }] {
            let o = run_attack(&CarliniWagner::default(), &model, &x, goal, |_| Flow::Continue).unwrap();
            assert!(o.adversarial.iter().all(|v| (0.0..=1.0).contains(v)), "the tanh box let a value out");
            eprintln!("image {i} {goal:?}: success {} L2 {} (float {} {}), {} iterations", o.success, o.distances.l2, o.quantization.float_success, o.quantization.float_distances.l2, o.iterations);
            if !o.success {
                continue;
            }
            // Targeted FGSM (one step) often cannot reach a far class at any ε: nothing to compare.
            let Some(f) = smallest_fgsm_l2(&model, &x, goal) else { continue };
            assert!(o.distances.l2 < f, "image {i} {goal:?}: C&W L2 {} ≥ FGSM's smallest successful L2 {f}", o.distances.l2);
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} of 12 runs had both a C&W and an FGSM success to compare");
}

#[test]
fn confidence_buys_a_margin_at_a_larger_distance() {
    let model = shipped("mnist_cnn_p025");
    let x = subset().image(1);
    let goal = Goal { label: subset().label(1), target: None };
    let plain = run_attack(&CarliniWagner::default(), &model, &x, goal, |_| Flow::Continue).unwrap();
    let sure = run_attack(&CarliniWagner { kappa: 5.0, ..CarliniWagner::default() }, &model, &x, goal, |_| Flow::Continue).unwrap();
    assert!(plain.success && sure.success);
    assert!(sure.gap > plain.gap, "κ = 5 gap {} vs κ = 0 gap {}", sure.gap, plain.gap);
    assert!(sure.distances.l2 > plain.distances.l2);
    assert!(CarliniWagner { lr: 0.0, ..CarliniWagner::default() }.validate().is_err());
    assert!(CarliniWagner { search_steps: 0, ..CarliniWagner::default() }.validate().is_err());
}
