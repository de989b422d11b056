//! An ensemble as one classifier: its softmax is the mean of the members' softmaxes, its input
//! gradient is the gradient of −log of that mean (finite differences), and every attack runs on
//! it white-box with the box and budget it has on one model.

mod common;

use burn::tensor::Device;
use common::{repo, shipped, subset};
use quiver_core::attacks::{argmax_of, loss_gradient, probabilities, run_attack, Fgsm, Flow, Goal, Iaa, Lbfgs};
use quiver_core::metrics::Distances;
use quiver_core::model::{Architecture, Classifier, Ensemble, EnsembleError};
use quiver_core::study::ensemble_record;
use quiver_core::{weights, Model};

fn member(file: &str) -> Model {
    let bytes = std::fs::read(repo(&format!("weights/ensembles/{file}"))).expect("ensemble member");
    weights::load(&bytes, Architecture::MnistCnn, &Device::flex()).expect("member loads")
}

fn members() -> Vec<Model> {
    ["mnist_ens_seeds_p025_k1", "mnist_ens_seeds_p025_k2", "mnist_ens_half_p025_k1"].iter().map(|f| member(&format!("{f}.safetensors"))).collect()
}

fn ensemble() -> Model {
    Model::Ensemble(Ensemble::new(members()).unwrap())
}

fn mean_probs(ms: &[Model], x: &[f32]) -> Vec<f64> {
    let mut mean = vec![0f64; 10];
    for m in ms {
        for (a, p) in mean.iter_mut().zip(probabilities(m, x)) {
            *a += p as f64 / ms.len() as f64;
        }
    }
    mean
}

#[test]
fn the_softmax_of_an_ensemble_is_the_mean_of_its_members_softmaxes() {
    let (ms, e, set) = (members(), ensemble(), subset());
    for i in 0..20 {
        let x = set.image(i);
        let p = probabilities(&e, &x);
        let want = mean_probs(&ms, &x);
        for (a, b) in p.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-6, "image {i}: {a} vs {b}");
        }
        // The study's ensemble record predicts the same class.
        assert_eq!(ensemble_record(&ms, &x, set.label(i), i).predicted, argmax_of(&p));
    }
}

#[test]
fn an_ensemble_of_one_is_its_member() {
    let m = shipped("mnist_cnn_p025");
    let e = Model::Ensemble(Ensemble::new(vec![m.clone()]).unwrap());
    let x = subset().image(5);
    for (a, b) in probabilities(&e, &x).iter().zip(probabilities(&m, &x)) {
        assert!((a - b).abs() < 1e-6);
    }
    let (la, ga) = loss_gradient(&e, &x, 3);
    let (lb, gb) = loss_gradient(&m, &x, 3);
    assert!((la - lb).abs() < 1e-4 * lb.abs().max(1.0), "{la} vs {lb}");
    for (a, b) in ga.iter().zip(&gb) {
        assert!((a - b).abs() <= 1e-3 * b.abs().max(1e-3), "{a} vs {b}");
    }
}

#[test]
fn the_input_gradient_is_that_of_minus_log_the_mean_probability() {
    let (ms, e, set) = (members(), ensemble(), subset());
    let x = set.image(8);
    let y = set.label(8);
    let ce = |x: &[f32]| -mean_probs(&ms, x)[y].ln();
    let (loss, grad) = loss_gradient(&e, &x, y);
    assert!((loss as f64 - ce(&x)).abs() < 1e-4, "loss {loss} vs {}", ce(&x));
    let mut order: Vec<usize> = (0..784).collect();
    order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
    let h = 1e-2f32;
    for &i in order.iter().take(15) {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[i] += h;
        minus[i] -= h;
        let fd = (ce(&plus) - ce(&minus)) / (2.0 * h as f64);
        let g = grad[i] as f64;
        assert_eq!(fd.signum(), g.signum(), "pixel {i}: finite difference {fd} vs gradient {g}");
        assert!((fd - g).abs() <= 0.1 * g.abs().max(1e-3), "pixel {i}: finite difference {fd} vs gradient {g}");
    }
    // Not the sum of the members' losses: that gradient points elsewhere.
    let mut summed = vec![0f32; 784];
    for m in &ms {
        for (a, b) in summed.iter_mut().zip(loss_gradient(m, &x, y).1) {
            *a += b;
        }
    }
    assert!(grad.iter().zip(&summed).any(|(a, b)| (a - b).abs() > 1e-3 * b.abs().max(1e-3)));
}

#[test]
fn forward_masked_gives_one_row_per_member() {
    let (ms, e, set) = (members(), ensemble(), subset());
    let x = set.image(1);
    let rows = e.forward_masked(quiver_core::attacks::image_tensor(&e, &x), &[]);
    assert_eq!(rows.dims(), [3, 10]);
    let v = rows.into_data().try_to_vec::<f32>().unwrap();
    for (k, m) in ms.iter().enumerate() {
        for (c, p) in probabilities(m, &x).iter().enumerate() {
            assert!((v[k * 10 + c].exp() - p).abs() < 1e-5);
        }
    }
    assert!(e.dropout_shapes().is_empty());
}

#[test]
fn attacks_run_white_box_on_an_ensemble_within_their_box_and_budget() {
    let (e, set) = (ensemble(), subset());
    let mut flipped = 0;
    for i in 0..10 {
        let (x, y) = (set.image(i), set.label(i));
        let goal = Goal { label: y, target: None };
        let o = run_attack(&Fgsm::new(0.2), &e, &x, goal, |_| Flow::Continue).unwrap();
        assert!(o.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(Distances::between(&x, &o.adversarial).linf <= 0.2 + 1e-6);
        assert!(mean_probs(&e_members(&e), &o.adversarial)[y] < mean_probs(&e_members(&e), &x)[y], "image {i}: the ensemble's true-class probability must fall");
        assert_eq!(o.predicted, argmax_of(&probabilities(&e, &o.adversarial)));
        flipped += o.success as usize;
    }
    assert!(flipped >= 3, "FGSM ε 0.2 flipped only {flipped} of 10 ensemble predictions");
    // The iterative attacks reach their goal on the ensemble's mean prediction.
    let (x, y) = (set.image(0), set.label(0));
    for o in [
        run_attack(&Lbfgs::default(), &e, &x, Goal { label: y, target: None }, |_| Flow::Continue).unwrap(),
        run_attack(&Iaa::default(), &e, &x, Goal { label: y, target: None }, |_| Flow::Continue).unwrap(),
    ] {
        assert!(o.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
        if o.success {
            assert_ne!(argmax_of(&probabilities(&e, &o.adversarial)), y);
        }
    }
}

fn e_members(e: &Model) -> Vec<Model> {
    match e {
        Model::Ensemble(e) => e.members().to_vec(),
        _ => unreachable!(),
    }
}

#[test]
fn bad_ensembles_are_refused() {
    assert_eq!(Ensemble::new(vec![]).unwrap_err(), EnsembleError::Empty);
    let cifar = Model::init(Architecture::AlexnetCifar10, &Device::flex());
    assert!(matches!(Ensemble::new(vec![shipped("mnist_cnn_p025"), cifar]).unwrap_err(), EnsembleError::Mixed { member: 2, .. }));
    assert_eq!(Ensemble::new(vec![ensemble()]).unwrap_err(), EnsembleError::Nested(1));
}

#[test]
fn the_summary_is_the_members_as_passes() {
    let (ms, set) = (members(), subset());
    let e = Ensemble::new(ms.clone()).unwrap();
    let x = set.image(2);
    let s = e.summary(quiver_core::attacks::image_tensor(&ms[0], &x));
    assert_eq!(s.passes, 3);
    let want = mean_probs(&ms, &x);
    for (a, b) in s.mean.iter().zip(&want) {
        assert!((*a as f64 - b).abs() < 1e-6);
    }
    let r = ensemble_record(&ms, &x, set.label(2), 2);
    assert_eq!(s.predicted, r.predicted);
    assert!((s.entropy as f64 - r.entropy as f64).abs() < 1e-5 && (s.mutual_information as f64 - r.mutual_information as f64).abs() < 1e-5);
    // Variance across members, population (1/K), of the predicted class.
    let ps: Vec<f64> = ms.iter().map(|m| probabilities(m, &x)[s.predicted] as f64).collect();
    let mu = ps.iter().sum::<f64>() / 3.0;
    let var = ps.iter().map(|p| (p - mu).powi(2)).sum::<f64>() / 3.0;
    assert!((s.variance[s.predicted] as f64 - var).abs() < 1e-6, "{} vs {var}", s.variance[s.predicted]);
}
