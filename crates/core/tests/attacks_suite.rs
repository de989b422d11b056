//! Property tests of the attacks (FGSM, L-BFGS, IAA) on a deterministic, randomly initialised
//! MNIST CNN and real MNIST digits from the committed fixture subset.
//!
//! An untrained network is nearly uniform (every class ≈ 0.1), so any attack reaches its goal
//! with small perturbations; that is enough for properties (box, budgets, locality, L2 ordering,
//! determinism, cancel, validation), which do not depend on accuracy. Where a test needs the
//! attack to be constrained (IAA's budget), it picks a budget small enough that it binds and
//! checks that it did. Tests against the shipped weights run only when the file exists.

use burn::tensor::Device;
use quiver_core::attacks::{
    loss_gradient, probabilities, run_attack, runner_up, sensitivity_map, Attack, AttackError, AttackOutcome, Fgsm, Flow, Goal,
    Iaa, Lbfgs, Step, Target,
};
use quiver_core::data::mnist::MnistSet;
use quiver_core::metrics::{perceptual_distance, sensitivity, Distances};
use quiver_core::{Architecture, Model};

const SHAPE: [usize; 3] = [1, 28, 28];

/// L-BFGS with a shorter search than the default (4 values of c, 25 iterations each), to keep
/// the debug-build tests fast (the defaults are measured with the CLI in release builds).
fn quick_lbfgs() -> Lbfgs {
    Lbfgs { c_steps: 4, max_iter: 25, ..Lbfgs::default() }
}

/// Seeding and initialisation go through the device's one random stream, which the tests of
/// this binary share as they run in parallel: hold a lock from the seed until the (lazy)
/// parameters are drawn.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn model(seed: u64) -> Model {
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex();
    device.seed(seed);
    let model = Model::init(Architecture::MnistCnn, &device);
    // Burn initialises parameters lazily, on first use: draw them now, under the lock.
    probabilities(&model, &[0.0; 784]);
    model
}

fn digits() -> MnistSet {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/mnist-test-subset");
    let images = std::fs::read(format!("{dir}/t10k-images-idx3-ubyte")).expect("fixture images");
    let labels = std::fs::read(format!("{dir}/t10k-labels-idx1-ubyte")).expect("fixture labels");
    MnistSet::from_idx(&images, &labels).expect("fixture IDX")
}

fn argmax(v: &[f32]) -> usize {
    quiver_core::attacks::argmax_of(v)
}

/// The model's own prediction as the label, so "untargeted" means "change the prediction".
fn predicted_goal(model: &Model, image: &[f32], target: Option<usize>) -> Goal {
    Goal { label: argmax(&probabilities(model, image)), target }
}

fn run(attack: &dyn Attack, model: &Model, image: &[f32], goal: Goal) -> AttackOutcome {
    run_attack(attack, model, image, goal, |_| Flow::Continue).expect("attack runs")
}

fn in_box(v: &[f32]) -> bool {
    v.iter().all(|x| (0.0..=1.0).contains(x))
}

/// Smallest ε on a 0.002 grid (up to 0.5) for which FGSM reaches the goal, with the distances
/// of its image. The FGSM gradient does not depend on ε, so it is computed once; the image at
/// each ε is checked against [`Fgsm::perturb`] once.
fn smallest_fgsm(model: &Model, image: &[f32], goal: Goal) -> Option<(f32, Distances)> {
    let (class, sign) = match goal.target {
        Some(t) => (t, -1.0f32),
        None => (goal.label, 1.0f32),
    };
    let (_, grad) = loss_gradient(model, image, class);
    let at = |eps: f32| -> Vec<f32> {
        image
            .iter()
            .zip(&grad)
            .map(|(&x, &g)| {
                let s = if g > 0.0 { 1.0 } else if g < 0.0 { -1.0 } else { 0.0 };
                (x + sign * eps * s).clamp(0.0, 1.0)
            })
            .collect()
    };
    assert_eq!(at(0.1), Fgsm::new(0.1).perturb(model, image, &goal), "the scan is not FGSM");
    (1..=250).map(|k| k as f32 * 0.002).find_map(|eps| {
        let adv = at(eps);
        goal.reached(argmax(&probabilities(model, &adv))).then(|| (eps, Distances::between(image, &adv)))
    })
}

#[test]
fn lbfgs_stays_in_the_box_and_beats_the_smallest_fgsm_in_l2() {
    let model = model(11);
    let set = digits();
    let mut compared = 0;
    for i in 0..3 {
        let x = set.image(i);
        let probs = probabilities(&model, &x);
        let label = argmax(&probs);
        for goal in [Goal { label, target: None }, Goal { label, target: Some(runner_up(&probs, label)) }] {
            let o = run(&quick_lbfgs(), &model, &x, goal);
            assert!(in_box(&o.adversarial), "L-BFGS left [0, 1] on image {i}");
            assert!(o.trajectory.iter().all(|p| p.l2.is_finite()));
            assert_eq!(o.distances, Distances::between(&x, &o.adversarial));
            if !o.success {
                continue;
            }
            let (eps, f) = smallest_fgsm(&model, &x, goal).expect("FGSM succeeds at some ε ≤ 0.5");
            assert!(
                o.distances.l2 < f.l2,
                "image {i} {goal:?}: L-BFGS L2 {} ≥ FGSM L2 {} at its smallest successful ε = {eps}",
                o.distances.l2,
                f.l2
            );
            compared += 1;
        }
    }
    assert!(compared >= 5, "L-BFGS succeeded on only {compared} of 6 attacks; the comparison is not meaningful");
}

#[test]
fn lbfgs_searches_c_and_keeps_the_smallest_successful_perturbation() {
    let model = model(11);
    let x = digits().image(0);
    let goal = predicted_goal(&model, &x, None);
    // One small c (a weak distance penalty: success, but a large perturbation) vs the search
    // starting there: the later, larger c values must shrink the perturbation.
    let start = Lbfgs { c_init: 1e-3, ..quick_lbfgs() };
    let one = run(&Lbfgs { c_steps: 1, ..start }, &model, &x, goal);
    let many = run(&start, &model, &x, goal);
    assert!(one.success && many.success);
    assert!(many.distances.l2 < 0.9 * one.distances.l2, "search {} vs one c {}", many.distances.l2, one.distances.l2);
    assert!(many.iterations > one.iterations, "the search ran only one c");
    // The result is the smallest-L2 successful iterate of the trajectory, before the 8-bit
    // projection; the saved image is within the projection's rounding of it (at most one grey
    // level per value when repaired, half a level otherwise).
    let best = many.trajectory.iter().filter(|p| p.gap > 0.0).map(|p| p.l2).fold(f32::INFINITY, f32::min);
    let float_l2 = many.quantization.float_distances.l2;
    assert!((float_l2 - best).abs() < 1e-5, "kept L2 {float_l2} but the best successful iterate had {best}");
    let level = if many.quantization.repaired { 1.0 } else { 0.5 } / 255.0;
    assert!((many.distances.l2 - float_l2).abs() <= level * (x.len() as f32).sqrt(), "{} vs {float_l2}", many.distances.l2);
    // Within one c the Armijo search makes the objective decrease at every accepted iteration.
    for w in one.trajectory.windows(2) {
        assert!(w[1].objective < w[0].objective, "objective rose: {:?} → {:?}", w[0], w[1]);
    }
}

#[test]
fn iaa_stops_within_one_step_of_the_budget_and_moves_at_most_m_values_per_iteration() {
    let model = model(5);
    let set = digits();
    let mut budget_bound = 0;
    for i in 0..3 {
        let x = set.image(i);
        let goal = predicted_goal(&model, &x, None);
        // A budget too small to fool the model (checked below): the D_max rule decides.
        // The paper's loop (fit_last off), whose last iteration may pass D_max.
        let iaa = Iaa { m: 4, delta: 0.05, d_max: 0.002, fit_last: false, ..Iaa::default() };
        let o = run(&iaa, &model, &x, goal);
        let sen = sensitivity(&x, SHAPE, iaa.n);
        let step = iaa.max_step_distance(&sen);
        assert!((o.perceptual_distance - perceptual_distance(&x, &o.adversarial, &sen)).abs() < 1e-6);
        assert!(
            o.perceptual_distance <= iaa.d_max + step + 1e-6,
            "D = {} passed D_max = {} by more than one step ({step})",
            o.perceptual_distance,
            iaa.d_max
        );
        // All points but the last are inside the budget (the loop tests D < D_max first).
        let ds: Vec<f32> = o.trajectory.iter().map(|p| p.perceptual_distance.expect("IAA reports D")).collect();
        assert!(ds[..ds.len() - 1].iter().all(|&d| d < iaa.d_max), "{ds:?}");
        assert!(o.distances.l0 <= iaa.m * o.iterations);
        assert!(in_box(&o.adversarial));
        if !o.success {
            assert!(o.perceptual_distance >= iaa.d_max, "stopped at D = {} without success", o.perceptual_distance);
            budget_bound += 1;
        }
        // Iteration by iteration (IAA is deterministic, so a cap of k gives the k-th iterate).
        // The results are saved 8-bit images, and keeping the D budget may move an earlier
        // change by one grey level: a value counts as moved by iteration k when it moved by more.
        let mut prev = x.clone();
        for k in 1..=o.iterations.min(6) {
            let ok = run(&Iaa { max_iter: k, ..iaa }, &model, &x, goal);
            let changed = prev.iter().zip(&ok.adversarial).filter(|(a, b)| (*a - *b).abs() > 1.5 / 255.0).count();
            assert!(changed <= iaa.m, "iteration {k} changed {changed} values (m = {})", iaa.m);
            assert!(changed > 0, "iteration {k} changed nothing");
            prev = ok.adversarial;
        }
    }
    assert!(budget_bound >= 2, "the budget stopped only {budget_bound} of 3 runs; the test is not exercising D_max");
}

#[test]
fn iaa_perturbs_high_variance_pixels() {
    let model = model(5);
    let set = digits();
    for i in 0..3 {
        let x = set.image(i);
        let goal = predicted_goal(&model, &x, None);
        let iaa = Iaa::default();
        let o = run(&iaa, &model, &x, goal);
        let sen = sensitivity_map(&x, SHAPE, iaa.n).unwrap();
        let changed: Vec<usize> = (0..x.len()).filter(|&k| (o.adversarial[k] - x[k]).abs() > 1e-6).collect();
        assert!(!changed.is_empty(), "image {i}: IAA changed nothing");
        let mean_changed = changed.iter().map(|&k| sen[k]).sum::<f32>() / changed.len() as f32;
        let mean_all = sen.iter().sum::<f32>() / sen.len() as f32;
        assert!(
            mean_changed < mean_all,
            "image {i}: mean Sen of perturbed pixels {mean_changed} ≥ image mean {mean_all}"
        );
        // Stronger: the perturbation avoids the flat background (Sen at the 255 floor) entirely
        // or almost entirely, where most of an MNIST image lies.
        let flat_all = sen.iter().filter(|&&s| s > 254.0).count() as f32 / sen.len() as f32;
        let flat_changed = changed.iter().filter(|&&k| sen[k] > 254.0).count() as f32 / changed.len() as f32;
        assert!(flat_changed < 0.5 * flat_all, "image {i}: {flat_changed} of perturbed values are flat vs {flat_all}");
    }
}

#[test]
fn iaa_reaches_the_goal_with_a_margin_and_reports_the_gap() {
    let model = model(5);
    let x = digits().image(1);
    let goal = predicted_goal(&model, &x, None);
    // A budget large enough for the margin, so that the margin decides when to stop.
    let iaa = Iaa { d_max: 1.0, ..Iaa::default() };
    let plain = run(&iaa, &model, &x, goal);
    assert!(plain.success, "untrained model, IAA: {:?}", plain.trajectory.last());
    assert!(plain.gap > 0.0);
    let robust = run(&Iaa { margin: 0.05, ..iaa }, &model, &x, goal);
    assert!(robust.success);
    assert!(robust.gap > 0.05, "stopped at gap {} below the margin", robust.gap);
    assert!(robust.iterations > plain.iterations);
    // Targeted at the runner-up.
    let t = Goal::runner_up(&model, &x, goal.label).unwrap();
    let targeted = run(&iaa, &model, &x, t);
    assert!(targeted.success && targeted.predicted == t.target.unwrap());
}

#[test]
fn cancel_on_the_first_point_stops_within_one_iteration() {
    let model = model(3);
    let x = digits().image(0);
    let goal = predicted_goal(&model, &x, None);
    let attacks: [(&str, Box<dyn Attack>); 2] = [
        ("lbfgs", Box::new(Lbfgs { c_steps: 1, max_iter: 3, ..Lbfgs::default() })),
        ("iaa", Box::new(Iaa { margin: 0.5, max_iter: 3, ..Iaa::default() })),
    ];
    for (name, attack) in attacks {
        let mut seen = 0;
        let o = run_attack(attack.as_ref(), &model, &x, goal, |_| {
            seen += 1;
            Flow::Cancel
        })
        .unwrap();
        assert_eq!(seen, 1, "{name}: the driver saw {seen} points after a cancel");
        assert_eq!(o.iterations, 1, "{name}");
        assert_eq!(o.trajectory.len(), 1, "{name}");
        assert!(in_box(&o.adversarial));
        // Without the cancel the same attack runs longer.
        let full = run(attack.as_ref(), &model, &x, goal);
        assert!(full.iterations > 1, "{name} finishes in one iteration anyway; cancel is untested");
    }
}

#[test]
fn steps_are_single_iterations() {
    let model = model(3);
    let x = digits().image(2);
    let goal = predicted_goal(&model, &x, None);
    let mut run = Lbfgs { c_steps: 2, max_iter: 5, ..Lbfgs::default() }.start(&model, &x, goal).unwrap();
    let mut iterations = Vec::new();
    let outcome = loop {
        match run.step() {
            Step::Running(p) => iterations.push(p.iteration),
            Step::Done(o) => break o,
        }
    };
    assert_eq!(iterations, (1..=iterations.len()).collect::<Vec<_>>());
    assert!(iterations.len() <= 10);
    assert_eq!(outcome.iterations, iterations.len());
}

#[test]
fn same_seed_and_input_give_identical_results() {
    let x = digits().image(3);
    let (a, b) = (model(21), model(21));
    assert_eq!(probabilities(&a, &x), probabilities(&b, &x));
    let other = model(22);
    assert_ne!(probabilities(&a, &x), probabilities(&other, &x), "the seed does not reach the model");
    let goal = predicted_goal(&a, &x, None);
    let attacks: [Box<dyn Attack>; 3] =
        [Box::new(Fgsm::new(0.05)), Box::new(Lbfgs { c_steps: 2, max_iter: 10, ..Lbfgs::default() }), Box::new(Iaa::default())];
    for attack in attacks {
        let oa = run(attack.as_ref(), &a, &x, goal);
        let ob = run(attack.as_ref(), &b, &x, goal);
        assert_eq!(oa, ob, "{} is not deterministic", attack.name());
    }
}

#[test]
fn parameters_are_validated() {
    let model = model(1);
    let x = digits().image(0);
    let goal = Goal { label: 7, target: None };
    let param = |r: Result<(), AttackError>| matches!(r, Err(AttackError::Parameter { .. }));

    assert!(Fgsm::default().validate().is_ok() && Lbfgs::default().validate().is_ok() && Iaa::default().validate().is_ok());
    assert!(param(Fgsm::new(-0.1).validate()));
    assert!(param(Fgsm::new(f32::NAN).validate()));

    assert!(param(Lbfgs { c_init: 0.0, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { c_init: -1.0, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { c_init: f32::INFINITY, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { c_steps: 0, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { max_iter: 0, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { memory: 0, ..Lbfgs::default() }.validate()));
    assert!(param(Lbfgs { tolerance: -1e-3, ..Lbfgs::default() }.validate()));

    assert!(param(Iaa { m: 0, ..Iaa::default() }.validate()));
    assert!(param(Iaa { n: 2, ..Iaa::default() }.validate()));
    assert!(param(Iaa { n: 0, ..Iaa::default() }.validate()));
    assert!(param(Iaa { d_max: 0.0, ..Iaa::default() }.validate()));
    assert!(param(Iaa { d_max: -0.5, ..Iaa::default() }.validate()));
    assert!(param(Iaa { delta: 0.0, ..Iaa::default() }.validate()));
    assert!(param(Iaa { delta: 1.5, ..Iaa::default() }.validate()));
    assert!(param(Iaa { margin: -0.1, ..Iaa::default() }.validate()));
    assert!(param(Iaa { max_iter: 0, ..Iaa::default() }.validate()));
    assert!(Iaa { n: 5, ..Iaa::default() }.validate().is_ok());
    assert!(matches!(sensitivity_map(&x, SHAPE, 4), Err(AttackError::Parameter { .. })));
    assert!(matches!(sensitivity_map(&x[..10], SHAPE, 3), Err(AttackError::ImageSize { .. })));

    // start() validates too, and checks the goal and the image.
    let attacks: [Box<dyn Attack>; 3] = [Box::new(Fgsm::default()), Box::new(Lbfgs::default()), Box::new(Iaa::default())];
    for a in &attacks {
        let err = |g: Goal, img: &[f32]| a.start(&model, img, g).err();
        assert_eq!(err(Goal { label: 7, target: Some(7) }, &x), Some(AttackError::TargetIsLabel(7)), "{}", a.name());
        assert_eq!(err(Goal { label: 10, target: None }, &x), Some(AttackError::Class(10, 10)));
        assert_eq!(err(Goal { label: 1, target: Some(12) }, &x), Some(AttackError::Class(12, 10)));
        assert!(matches!(err(goal, &x[..100]), Some(AttackError::ImageSize { .. })));
        let mut bad = x.clone();
        bad[0] = 1.5;
        assert_eq!(err(goal, &bad), Some(AttackError::PixelRange));
    }
    assert!(matches!(Iaa { m: 0, ..Iaa::default() }.start(&model, &x, goal), Err(AttackError::Parameter { .. })));
    assert!(matches!(Lbfgs { c_steps: 0, ..Lbfgs::default() }.start(&model, &x, goal), Err(AttackError::Parameter { .. })));
}

/// The classes from most to least likely for `x`.
fn classes_by_probability(model: &Model, x: &[f32]) -> Vec<usize> {
    let probs = probabilities(model, x);
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    order
}

#[test]
fn runner_up_is_the_second_most_likely_class() {
    let model = model(9);
    let x = digits().image(4);
    let order = classes_by_probability(&model, &x);
    let g = Goal::runner_up(&model, &x, order[0]).unwrap();
    assert_eq!(g, Goal { label: order[0], target: Some(order[1]) });
    // With a label the model does not predict, the target is the top class other than it.
    let g = Goal::runner_up(&model, &x, order[1]).unwrap();
    assert_eq!(g.target, Some(order[0]));
    assert_eq!(runner_up(&[0.5, 0.2, 0.3], 0), 2);
    assert_eq!(runner_up(&[0.5, 0.2, 0.3], 2), 0);
}

#[test]
fn goal_for_image_uses_the_label_or_else_the_prediction() {
    let model = model(9);
    let x = digits().image(4);
    let order = classes_by_probability(&model, &x);
    let (top, second) = (order[0], order[1]);
    let other = order[5];
    let g = |label, target| Goal::for_image(&model, &x, label, target).unwrap();
    // No label: the prediction is the class.
    assert_eq!(g(None, Target::Untargeted), Goal { label: top, target: None });
    assert_eq!(g(None, Target::RunnerUp), Goal { label: top, target: Some(second) });
    assert_eq!(g(None, Target::Class(other)), Goal { label: top, target: Some(other) });
    // A known label wins over the prediction, and the runner-up is taken relative to it.
    assert_eq!(g(Some(second), Target::Untargeted), Goal { label: second, target: None });
    assert_eq!(g(Some(second), Target::RunnerUp), Goal { label: second, target: Some(top) });
    // A wrong-sized image is an error, not a panic, even when the class must be predicted.
    assert!(matches!(
        Goal::for_image(&model, &x[..100], None, Target::Untargeted),
        Err(AttackError::ImageSize { got: 100, expected: 784 })
    ));
}

#[test]
fn target_text_form_round_trips_and_rejects_junk() {
    for t in [Target::Untargeted, Target::RunnerUp, Target::Class(0), Target::Class(7)] {
        assert_eq!(t.to_string().parse::<Target>(), Ok(t));
    }
    assert_eq!("runner-up".parse::<Target>(), Ok(Target::RunnerUp));
    assert_eq!("".parse::<Target>(), Ok(Target::Untargeted));
    assert_eq!(Target::default(), Target::Untargeted);
    for junk in ["seven", "-1", "3.5", "auto7"] {
        let e = junk.parse::<Target>().unwrap_err();
        assert!(e.contains("expected none, auto or a class number"), "{junk}: {e}");
    }
}

/// The shipped model, when `weights/mnist_cnn_p025.safetensors` exists (it is produced by
/// training, which may not have run in this checkout).
fn shipped() -> Option<Model> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../weights/mnist_cnn_p025.safetensors");
    let bytes = std::fs::read(path).ok()?;
    Some(quiver_core::weights::load(&bytes, Architecture::MnistCnn, &Device::flex()).expect("shipped weights load"))
}

#[test]
fn shipped_model_default_attacks() {
    let Some(model) = shipped() else {
        eprintln!("weights/mnist_cnn_p025.safetensors not found; skipping the shipped-model checks");
        return;
    };
    let set = digits();
    let correct: Vec<usize> = (0..12).filter(|&i| argmax(&probabilities(&model, &set.image(i))) == set.label(i)).collect();
    assert!(correct.len() >= 10, "the shipped model misclassifies {} of the first 12 digits", 12 - correct.len());
    // IAA with its defaults: most digits fooled, within budget, on textured pixels.
    let iaa = Iaa::default();
    let mut iaa_ok = 0;
    for &i in &correct[..10] {
        let x = set.image(i);
        let o = run(&iaa, &model, &x, Goal { label: set.label(i), target: None });
        let sen = sensitivity(&x, SHAPE, iaa.n);
        assert!(o.perceptual_distance <= iaa.d_max + iaa.max_step_distance(&sen) + 1e-6);
        iaa_ok += o.success as usize;
    }
    assert!(iaa_ok >= 8, "default IAA fooled {iaa_ok} of 10 digits");
    // L-BFGS (the shorter search: the defaults take ~300 gradients per digit, slow in a debug
    // build) fools trained digits with a smaller L2 than FGSM's smallest successful ε.
    for &i in &correct[..3] {
        let x = set.image(i);
        let goal = Goal { label: set.label(i), target: None };
        let l = run(&quick_lbfgs(), &model, &x, goal);
        assert!(l.success && in_box(&l.adversarial), "image {i}");
        let (eps, f) = smallest_fgsm(&model, &x, goal).expect("FGSM succeeds at some ε ≤ 0.5");
        assert!(l.distances.l2 < f.l2, "image {i}: L-BFGS {} vs FGSM {} (ε = {eps})", l.distances.l2, f.l2);
    }
}

#[test]
fn an_image_already_past_the_goal_is_returned_unchanged() {
    let model = model(9);
    let x = digits().image(5);
    let probs = probabilities(&model, &x);
    // Untargeted with a label the model does not predict: the goal holds at r = 0.
    let goal = Goal { label: runner_up(&probs, argmax(&probs)), target: None };
    let attacks: [Box<dyn Attack>; 2] = [Box::new(Lbfgs::default()), Box::new(Iaa::default())];
    for attack in attacks {
        let o = run(attack.as_ref(), &model, &x, goal);
        assert!(o.success, "{}", attack.name());
        assert_eq!(o.iterations, 0, "{}", attack.name());
        assert_eq!(o.adversarial, x, "{}", attack.name());
        assert_eq!(o.perceptual_distance, 0.0);
    }
}
