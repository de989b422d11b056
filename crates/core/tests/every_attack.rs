//! What every attack of the list owes a front end (issue 11: "each gets the live trajectory,
//! progress, cancel and metrics the current three have"): steps numbered 1, 2, …, one
//! trajectory point per step, progress in [0, 1] that never goes back (IAA's follows D), a cancel that stops
//! within one iteration, and the same result for the same input.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::{run_attack, AttackKind, AttackSet, Flow, Goal, Step};

#[test]
fn every_attack_steps_reports_progress_cancels_and_repeats() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let attacks = AttackSet::default();
    let x = set.image(0);
    let goal = Goal { label: set.label(0), target: Some((set.label(0) + 1) % 10) };
    for kind in AttackKind::ALL {
        let attack = attacks.get(kind);
        assert_eq!(attack.name(), kind.key());
        // Step by step.
        let mut run = attack.start(&model, &x, goal).unwrap();
        let mut points = Vec::new();
        let outcome = loop {
            match run.step() {
                Step::Running(p) => points.push(p),
                Step::Done(o) => break o,
            }
        };
        assert_eq!(outcome.attack, kind.key());
        let iterations: Vec<usize> = points.iter().map(|p| p.iteration).collect();
        assert_eq!(iterations, (1..=points.len()).collect::<Vec<_>>(), "{kind}: steps are numbered 1, 2, …");
        let progress: Vec<f64> = points.iter().map(|p| attack.progress(p)).collect();
        assert!(progress.iter().all(|p| (0.0..=1.0).contains(p)), "{kind}: progress out of [0, 1]");
        // IAA's progress is the share of D_max spent, and D falls when a value moves back
        // towards the original (see iaa.rs): only IAA may report a smaller progress.
        if kind != AttackKind::Iaa {
            assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{kind}: progress went back");
        }
        if kind == AttackKind::Fgsm {
            continue; // one step, done at once
        }
        assert!(points.len() >= 2, "{kind}: a targeted run of one step does not exercise cancel");
        assert_eq!(outcome.iterations, points.len(), "{kind}");
        assert_eq!(outcome.trajectory, points, "{kind}: the outcome's trajectory is what the steps reported");
        // Cancel at the first point: one iteration, the best so far.
        let mut seen = 0;
        let cancelled = run_attack(attack, &model, &x, goal, |_| {
            seen += 1;
            Flow::Cancel
        })
        .unwrap();
        assert_eq!((seen, cancelled.iterations, cancelled.trajectory.len()), (1, 1, 1), "{kind}");
        assert!(cancelled.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
        // Deterministic.
        let again = run_attack(attack, &model, &x, goal, |_| Flow::Continue).unwrap();
        assert_eq!(again, outcome, "{kind} is not deterministic");
    }
}
