//! PGD / BIM against its definition (Madry et al. 2018; Kurakin et al. 2017) on the shipped MNIST
//! CNN and the committed test subset: every iterate in the ε-ball and the box, one step is FGSM,
//! and PGD is never weaker than FGSM at the same ε.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::pgd::{project, random_start, Norm, PgdConfig, PgdRun};
use quiver_core::attacks::{run_attack, Attack, AttackRun, Fgsm, Flow, Goal, Pgd, PgdL2, Step};
use quiver_core::metrics::Distances;

fn in_box(v: &[f32]) -> bool {
    v.iter().all(|x| (0.0..=1.0).contains(x))
}

fn within(norm: Norm, eps: f32, original: &[f32], x: &[f32]) -> bool {
    let d = Distances::between(original, x);
    match norm {
        Norm::Linf => d.linf <= eps + 1e-6,
        Norm::L2 => d.l2 <= eps * (1.0 + 1e-5),
    }
}

#[test]
fn every_iterate_stays_in_the_ball_and_the_box() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let configs = [Pgd { steps: 15, ..Pgd::default() }.config(), PgdL2 { steps: 15, ..PgdL2::default() }.config()];
    let mut moved_to_the_edge = 0;
    for config in configs {
        for i in 0..4 {
            let x = set.image(i);
            let y = set.label(i);
            for goal in [Goal { label: y, target: None }, Goal { label: y, target: Some((y + 3) % 10) }] {
                let mut run = PgdRun::begin(config, &model, &x, goal).unwrap();
                assert!(in_box(run.current()) && within(config.norm, config.eps, &x, run.current()), "start point");
                let mut steps = 0;
                loop {
                    match run.step() {
                        Step::Running(p) => {
                            steps += 1;
                            let it = run.current();
                            assert!(in_box(it), "{config:?} image {i} step {steps}: left [0, 1]");
                            assert!(within(config.norm, config.eps, &x, it), "{config:?} image {i} step {steps}: left the ball");
                            let d = Distances::between(&x, it);
                            assert!((p.l2 - d.l2).abs() < 1e-5 && (p.linf - d.linf).abs() < 1e-6, "the trajectory reports this iterate");
                        }
                        Step::Done(o) => {
                            assert_eq!(steps, config.steps);
                            assert_eq!(o.iterations, config.steps);
                            // The saved 8-bit image keeps the budget too.
                            assert!(in_box(&o.adversarial) && within(config.norm, config.eps, &x, &o.adversarial), "{config:?}: 8-bit result");
                            let d = o.quantization.float_distances;
                            let at_edge = match config.norm {
                                Norm::Linf => d.linf > 0.99 * config.eps,
                                Norm::L2 => d.l2 > 0.99 * config.eps,
                            };
                            moved_to_the_edge += at_edge as usize;
                            break;
                        }
                    }
                }
            }
        }
    }
    // The projection is exercised: most runs end on the ball's surface.
    assert!(moved_to_the_edge >= 8, "only {moved_to_the_edge} of 16 runs reached the edge of the ball");
}

#[test]
fn projection_and_random_start_respect_ball_and_box() {
    let x: Vec<f32> = (0..784).map(|i| ((i * 37) % 256) as f32 / 255.0).collect();
    for norm in [Norm::Linf, Norm::L2] {
        let eps = if norm == Norm::Linf { 0.1 } else { 2.0 };
        for seed in 0..5 {
            let s = random_start(norm, eps, seed, &x);
            assert!(in_box(&s) && within(norm, eps, &x, &s));
            assert_ne!(s, x, "the random start moved nothing");
            // A point far outside both: projected back into both.
            let far: Vec<f32> = s.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.7 } else { -0.9 }).collect();
            let p = project(norm, eps, &x, &far);
            assert!(in_box(&p) && within(norm, eps, &x, &p));
            // A point inside both is left alone (L2 rebuilds x + δ: up to f32 rounding).
            let back = project(norm, eps, &x, &s);
            assert!(back.iter().zip(&s).all(|(a, b)| (a - b).abs() <= 1e-6), "{norm:?}: projection moved an inside point");
        }
        assert_eq!(random_start(norm, eps, 7, &x), random_start(norm, eps, 7, &x), "seeded");
        assert_ne!(random_start(norm, eps, 7, &x), random_start(norm, eps, 8, &x));
    }
}

#[test]
fn one_step_without_random_start_is_fgsm_exactly() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    for i in 0..5 {
        let x = set.image(i);
        let y = set.label(i);
        for eps in [0.05f32, 0.1, 0.2] {
            for goal in [Goal { label: y, target: None }, Goal { label: y, target: Some((y + 1) % 10) }] {
                let pgd = Pgd { eps, alpha: eps, steps: 1, random_start: false, seed: 0 };
                let mut run = PgdRun::begin(pgd.config(), &model, &x, goal).unwrap();
                assert!(matches!(run.step(), Step::Running(_)));
                let fgsm = Fgsm::new(eps);
                assert_eq!(run.current(), fgsm.perturb(&model, &x, &goal).as_slice(), "image {i} ε {eps} {goal:?}");
                let a = run_attack(&pgd, &model, &x, goal, |_| Flow::Continue).unwrap();
                let b = run_attack(&fgsm, &model, &x, goal, |_| Flow::Continue).unwrap();
                assert_eq!(a.adversarial, b.adversarial);
                assert_eq!((a.success, a.predicted, a.distances), (b.success, b.predicted, b.distances));
            }
        }
    }
    // A second step changes the image (the test above is not vacuous for longer runs).
    let x = set.image(0);
    let goal = Goal { label: set.label(0), target: None };
    let one = run_attack(&Pgd { eps: 0.2, alpha: 0.05, steps: 1, random_start: false, seed: 0 }, &model, &x, goal, |_| Flow::Continue).unwrap();
    let two = run_attack(&Pgd { eps: 0.2, alpha: 0.05, steps: 2, random_start: false, seed: 0 }, &model, &x, goal, |_| Flow::Continue).unwrap();
    assert_ne!(one.adversarial, two.adversarial);
}

#[test]
fn pgd_succeeds_at_least_as_often_as_fgsm_at_the_same_eps() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    for eps in [0.1f32, 0.2] {
        let (mut fgsm_ok, mut pgd_ok, mut bim_ok) = (0, 0, 0);
        for i in 0..40 {
            let x = set.image(i);
            let goal = Goal { label: set.label(i), target: None };
            let run = |a: &dyn Attack| run_attack(a, &model, &x, goal, |_| Flow::Continue).unwrap().success as usize;
            fgsm_ok += run(&Fgsm::new(eps));
            pgd_ok += run(&Pgd { eps, ..Pgd::default() });
            bim_ok += run(&Pgd { eps, random_start: false, ..Pgd::default() });
        }
        eprintln!("ε {eps}: FGSM {fgsm_ok}/40, PGD {pgd_ok}/40, BIM {bim_ok}/40");
        assert!(pgd_ok >= fgsm_ok && bim_ok >= fgsm_ok, "ε {eps}: FGSM {fgsm_ok}, PGD {pgd_ok}, BIM {bim_ok}");
        assert!(pgd_ok > 0, "ε {eps}: PGD fooled nothing; the comparison is empty");
    }
}

#[test]
fn targeted_pgd_reaches_the_target_and_l2_pgd_fools_digits() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let (mut hit, mut l2_ok) = (0, 0);
    for i in 0..10 {
        let x = set.image(i);
        let y = set.label(i);
        let t = (y + 5) % 10;
        let o = run_attack(&Pgd { eps: 0.2, ..Pgd::default() }, &model, &x, Goal { label: y, target: Some(t) }, |_| Flow::Continue).unwrap();
        assert_eq!(o.success, o.predicted == t);
        hit += o.success as usize;
        let o = run_attack(&PgdL2::default(), &model, &x, Goal { label: y, target: None }, |_| Flow::Continue).unwrap();
        assert!(o.distances.l2 <= 2.0 * (1.0 + 1e-5));
        l2_ok += o.success as usize;
    }
    assert!(hit >= 5, "targeted PGD at ε 0.2 reached the target on {hit} of 10");
    assert!(l2_ok >= 5, "PGD L2 at its defaults fooled {l2_ok} of 10");
}

#[test]
fn pgd_parameters_are_validated() {
    use quiver_core::attacks::AttackError;
    let p = |r: Result<(), AttackError>| matches!(r, Err(AttackError::Parameter(_)));
    assert!(Pgd::default().validate().is_ok() && PgdL2::default().validate().is_ok());
    assert!(p(Pgd { alpha: 0.0, ..Pgd::default() }.validate()));
    assert!(p(Pgd { eps: 1.5, ..Pgd::default() }.validate()));
    assert!(p(Pgd { steps: 0, ..Pgd::default() }.validate()));
    assert!(p(PgdL2 { eps: -1.0, ..PgdL2::default() }.validate()));
    assert!(p(PgdL2 { steps: 0, ..PgdL2::default() }.validate()));
    let _: PgdConfig = Pgd::default().config();
}
