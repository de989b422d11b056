//! "What is saved is what is measured" (issue 11 §3): every attack's result is an 8-bit image, its
//! reported success is that of the PNG a user downloads, and its L0 counts the 8-bit values that
//! differ between the original's and the adversarial image's PNGs.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::{
    argmax_of, changed_bytes, probabilities, quantize, run_attack, AttackKind, AttackSet, Budget, Flow, Goal, Rounding,
};
use quiver_core::metrics::{perceptual_distance, sensitivity, Distances};
use quiver_core::preprocess::{decode, to_png};

/// The bytes of a PNG written by the CLI / app, read back as pixels in [0, 1].
fn png_round_trip(pixels: &[f32]) -> (Vec<u8>, Vec<f32>) {
    let png = to_png(pixels, 1, 28, 28);
    let bytes = decode(&png).expect("our own PNG decodes").to_luma8().into_raw();
    let back = bytes.iter().map(|&b| b as f32 / 255.0).collect();
    (bytes, back)
}

#[test]
fn every_attack_reports_what_its_png_does() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let attacks = AttackSet::default();
    let mut successes = 0;
    for kind in AttackKind::ALL {
        for i in 0..8 {
            let x = set.image(i);
            let y = set.label(i);
            let target = if i % 2 == 0 { None } else { Some((y + 1) % 10) };
            let goal = Goal { label: y, target };
            let o = run_attack(attacks.get(kind), &model, &x, goal, |_| Flow::Continue).unwrap();
            let (orig_bytes, _) = png_round_trip(&x);
            let (adv_bytes, back) = png_round_trip(&o.adversarial);
            assert_eq!(back, o.adversarial, "{kind} image {i}: the reported image is not its PNG");
            let png_success = goal.reached(argmax_of(&probabilities(&model, &back)));
            assert_eq!(png_success, o.success, "{kind} image {i}: PNG success {png_success}, reported {}", o.success);
            let l0 = orig_bytes.iter().zip(&adv_bytes).filter(|(a, b)| a != b).count();
            assert_eq!(o.distances.l0, l0, "{kind} image {i}: reported L0 vs changed 8-bit values");
            let d = Distances::between(&x, &back);
            assert!((o.distances.l2 - d.l2).abs() < 1e-5 && o.distances.linf == d.linf, "{kind}: L2 / L∞ of the PNG");
            // The 8-bit image never succeeds less often than by chance: where the attack's own
            // result reached the goal, the saved one did too, unless it says otherwise.
            if o.quantization.float_success && !o.success {
                eprintln!("{kind} image {i}: the 8-bit projection lost the goal");
            }
            successes += o.success as usize;
        }
    }
    assert!(successes >= AttackKind::ALL.len() * 3, "only {successes} successes; the success check is barely exercised");
}

#[test]
fn quantize_lands_on_the_grid_and_keeps_each_budget() {
    let x: Vec<f32> = (0..784).map(|i| ((i * 53) % 256) as f32 / 255.0).collect();
    // A perturbation that is a fraction of a level on some values and several levels on others.
    let adv: Vec<f32> = x.iter().enumerate().map(|(i, &v)| (v + ((i % 7) as f32 - 3.0) * 0.0153).clamp(0.0, 1.0)).collect();
    let sen = sensitivity(&x, [1, 28, 28], 3);
    let d = Distances::between(&x, &adv);
    let pd = perceptual_distance(&x, &adv, &sen);
    let budgets = [Budget::None, Budget::Linf(d.linf), Budget::L2(d.l2), Budget::Perceptual { max: pd, sen: &sen }];
    for budget in budgets {
        for rounding in [Rounding::Nearest, Rounding::Away] {
            let q = quantize(&x, &adv, rounding, budget);
            assert!(q.iter().all(|&v| (v * 255.0 - (v * 255.0).round()).abs() < 1e-4 && (0.0..=1.0).contains(&v)), "off the grid");
            assert!(budget.admits(&x, &q), "{budget:?} {rounding:?}: the 8-bit image breaks the budget");
            // Each value is one of the two grid levels around the attack's value.
            for (a, b) in adv.iter().zip(&q) {
                assert!((a - b).abs() < 1.0 / 255.0 + 1e-6);
            }
            if let (Budget::None, Rounding::Nearest) = (budget, rounding) {
                assert!(q.iter().zip(&adv).all(|(a, b)| (a - b).abs() <= 0.5 / 255.0 + 1e-6), "nearest rounding");
            }
            if let (Budget::None, Rounding::Away) = (budget, rounding) {
                assert!(q.iter().zip(&adv).zip(&x).all(|((q, a), o)| (q - o).abs() >= (a - o).abs() - 1e-6), "away from the original");
            }
        }
    }
    // The budget binds: nearest rounding of this image breaks the tight L∞ and L2 budgets.
    let near = quantize(&x, &adv, Rounding::Nearest, Budget::None);
    assert!(!Budget::Linf(d.linf).admits(&x, &near) && !Budget::L2(d.l2).admits(&x, &near));
    // An image on the grid stays as it is, and L0 counts 8-bit changes only.
    assert_eq!(quantize(&x, &x, Rounding::Away, Budget::None), x);
    let tiny: Vec<f32> = x.iter().map(|v| (v + 0.001).min(1.0)).collect();
    assert_eq!(changed_bytes(&x, &tiny), 0);
    assert_eq!(changed_bytes(&x, &near), Distances::between(&x, &near).l0);
}
