//! JSMA against its definition (Papernot et al. 2016): at most a fraction γ of the values change,
//! two per iteration, only upwards; targeted runs reach the target; the pair choice is the
//! saliency map's.

mod common;

use common::{shipped, subset};
use quiver_core::attacks::jsma::best_pair;
use quiver_core::attacks::{run_attack, Attack, Flow, Goal, Jsma};

#[test]
fn changes_at_most_gamma_of_the_values_two_per_iteration_and_only_upwards() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let mut capped = 0;
    for gamma in [0.02f32, 0.05, 0.1] {
        let jsma = Jsma { gamma, ..Jsma::default() };
        let allowed = (gamma * 784.0).floor() as usize;
        for i in 0..6 {
            let x = set.image(i);
            let y = set.label(i);
            let goal = Goal { label: y, target: Some((y + 3) % 10) };
            let o = run_attack(&jsma, &model, &x, goal, |_| Flow::Continue).unwrap();
            assert!(o.distances.l0 <= allowed, "γ {gamma} image {i}: {} values changed, {allowed} allowed", o.distances.l0);
            assert!(o.quantization.float_distances.l0 <= 2 * o.iterations, "two values per iteration");
            assert!(o.iterations <= jsma.max_pairs(784));
            assert!(o.adversarial.iter().zip(&x).all(|(a, b)| a >= b), "the increasing variant only raises values");
            if !o.success && o.iterations == jsma.max_pairs(784) {
                capped += 1;
            }
        }
    }
    assert!(capped > 0, "γ never bound; the γ check is not exercised");
}

#[test]
fn targeted_jsma_reaches_the_target() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let mut reached = 0;
    for i in 0..10 {
        let x = set.image(i);
        let y = set.label(i);
        let t = (y + 1) % 10;
        let o = run_attack(&Jsma::default(), &model, &x, Goal { label: y, target: Some(t) }, |_| Flow::Continue).unwrap();
        assert_eq!(o.success, o.predicted == t);
        reached += o.success as usize;
    }
    assert!(reached >= 5, "JSMA reached the target on {reached} of 10 digits");
    // Untargeted (towards the runner-up, stopping at any other class).
    let x = set.image(0);
    let o = run_attack(&Jsma::default(), &model, &x, Goal { label: set.label(0), target: None }, |_| Flow::Continue).unwrap();
    assert!(o.success);
    assert!(Jsma { gamma: 0.0, ..Jsma::default() }.validate().is_err());
    assert!(Jsma { theta: 1.5, ..Jsma::default() }.validate().is_err());
}

#[test]
fn the_chosen_pair_maximises_the_saliency_map() {
    let mut s = 12345u64;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    for _ in 0..20 {
        let n = 30;
        let alpha: Vec<f32> = (0..n).map(|_| next()).collect();
        let beta: Vec<f32> = (0..n).map(|_| next()).collect();
        let domain: Vec<bool> = (0..n).map(|_| next() > -0.6).collect();
        let mut brute: Option<(usize, usize, f32)> = None;
        for p in 0..n {
            for q in p + 1..n {
                let (a, b) = (alpha[p] + alpha[q], beta[p] + beta[q]);
                if domain[p] && domain[q] && a > 0.0 && b < 0.0 && brute.is_none_or(|x| a * -b > x.2) {
                    brute = Some((p, q, a * -b));
                }
            }
        }
        assert_eq!(best_pair(&alpha, &beta, &domain), brute);
    }
    // No qualifying pair: none.
    assert_eq!(best_pair(&[-1.0, -1.0, -1.0], &[-1.0, -1.0, -1.0], &[true; 3]), None);
}
