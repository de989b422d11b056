//! FGSM against its definition: gradient (finite differences), sign, box, L∞ bound, loss.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::{argmax_of, loss_gradient, probabilities, run_attack, Attack, AttackError, Fgsm, Flow, Goal};
use quiver_core::metrics::Distances;

fn ce(model: &quiver_core::Model, x: &[f32], class: usize) -> f64 {
    -(probabilities(model, x)[class] as f64).ln()
}

#[test]
fn input_gradient_matches_finite_differences() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let x = set.image(3);
    let y = set.label(3);
    let (loss, grad) = loss_gradient(&model, &x, y);
    assert!((loss as f64 - ce(&model, &x, y)).abs() < 1e-4);
    // The pixels with the largest gradients, plus a spread of others.
    let mut order: Vec<usize> = (0..784).collect();
    order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
    let h = 1e-2f32;
    let mut checked = 0;
    for &i in order.iter().take(20) {
        let mut plus = x.clone();
        let mut minus = x.clone();
        plus[i] += h;
        minus[i] -= h;
        // Central differences on f32 need a loss that moves measurably.
        let fd = (ce(&model, &plus, y) - ce(&model, &minus, y)) / (2.0 * h as f64);
        let g = grad[i] as f64;
        assert_eq!(fd.signum(), g.signum(), "pixel {i}: finite difference {fd} vs gradient {g}");
        assert!((fd - g).abs() <= 0.1 * g.abs().max(1e-3), "pixel {i}: finite difference {fd} vs gradient {g}");
        checked += 1;
    }
    assert_eq!(checked, 20);
}

#[test]
fn untargeted_fgsm_stays_in_the_box_and_the_budget_and_raises_the_loss() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let mut flipped = 0;
    for i in 0..20 {
        let x = set.image(i);
        let y = set.label(i);
        for eps in [0.05f32, 0.1, 0.2] {
            let goal = Goal { label: y, target: None };
            let o = run_attack(&Fgsm::new(eps), &model, &x, goal, |_| Flow::Continue).unwrap();
            let adv = &o.adversarial;
            assert!(adv.iter().all(|v| (0.0..=1.0).contains(v)), "box");
            let d = Distances::between(&x, adv);
            assert!(d.linf <= eps + 1e-6, "L∞ {} > ε {eps}", d.linf);
            assert!(ce(&model, adv, y) > ce(&model, &x, y), "image {i} ε {eps}: loss must increase");
            assert_eq!(o.predicted, argmax_of(&probabilities(&model, adv)));
            assert_eq!(o.success, o.predicted != y);
            if eps == 0.2 && o.success {
                flipped += 1;
            }
        }
    }
    assert!(flipped >= 5, "ε = 0.2 should fool the CNN on several digits, fooled {flipped}/20");
}

#[test]
fn targeted_fgsm_moves_toward_the_target() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let x = set.image(0);
    let y = set.label(0);
    let t = (y + 1) % 10;
    let adv = Fgsm::new(0.1).perturb(&model, &x, &Goal { label: y, target: Some(t) });
    assert!(ce(&model, &adv, t) < ce(&model, &x, t), "targeted FGSM lowers the target's loss");
    // Each pixel moved by exactly ε against the target gradient's sign, unless clipped.
    let (_, g) = quiver_core::attacks::loss_gradient(&model, &x, t);
    for i in 0..784 {
        let expected = (x[i] - 0.1 * g[i].signum() * (g[i] != 0.0) as i32 as f32).clamp(0.0, 1.0);
        assert!((adv[i] - expected).abs() < 1e-6, "pixel {i}");
    }
}

#[test]
fn bad_parameters_are_rejected() {
    let model = shipped("mnist_cnn_p025");
    let x = subset().image(0);
    assert!(matches!(Fgsm::new(-0.1).validate(), Err(AttackError::Parameter { .. })));
    assert!(matches!(Fgsm::new(f32::NAN).validate(), Err(AttackError::Parameter { .. })));
    assert!(matches!(Fgsm::new(0.1).start(&model, &x, Goal { label: 3, target: Some(3) }), Err(AttackError::TargetIsLabel(3))));
    assert!(matches!(Fgsm::new(0.1).start(&model, &x[..100], Goal { label: 3, target: None }), Err(AttackError::ImageSize { .. })));
    assert!(matches!(Fgsm::new(0.1).start(&model, &x, Goal { label: 12, target: None }), Err(AttackError::Class(12, 10))));
}
