//! The MNIST CNN, its shipped weights and MC dropout, against their definitions.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{manifest, shipped, subset};
use quiver_core::attacks::{image_tensor, probabilities};
use quiver_core::mc_dropout::{dropout_masks, mc_dropout, McConfig, McError};
use quiver_core::{weights, Architecture, Classifier, Model};

#[test]
fn shapes_follow_the_seed_architecture() {
    let device = Device::flex();
    device.seed(3);
    let model = Model::init(Architecture::MnistCnn, &device);
    let x = Tensor::<4>::zeros([5, 1, 28, 28], &device);
    assert_eq!(model.forward(x).dims(), [5, 10]);
    assert_eq!(model.dropout_shapes(), vec![vec![16, 14, 14], vec![32, 7, 7]]);
    let specs = Architecture::MnistCnn.tensor_specs();
    let total: usize = specs.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
    // conv1 16·1·25+16, conv2 32·16·25+32, fc 10·1568+10
    assert_eq!(total, 416 + 12_832 + 15_690);
    let mc = McConfig { passes: 7, p: 0.3, seed: 1 };
    let masks = dropout_masks(&model, &mc, &device);
    assert_eq!(masks[0].dims(), [7, 16, 14, 14]);
    assert_eq!(masks[1].dims(), [7, 32, 7, 7]);
}

#[test]
fn safetensors_round_trip_keeps_pytorch_layout() {
    let device = Device::flex();
    device.seed(11);
    let model = Model::init(Architecture::MnistCnn, &device);
    let bytes = weights::save(&model, Default::default());
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("fc.weight").unwrap().shape(), &[10, 1568]);
    assert_eq!(st.tensor("conv2.weight").unwrap().shape(), &[32, 16, 5, 5]);
    let back = weights::load(&bytes, Architecture::MnistCnn, &device).unwrap();
    // Every value survives the round trip exactly…
    assert_eq!(weights::save(&back, Default::default()), bytes);
    // …and the model computes the same function (up to the summation order of the GEMM).
    let img: Vec<f32> = (0..784).map(|i| (i % 17) as f32 / 16.0).collect();
    for (a, b) in probabilities(&model, &img).iter().zip(probabilities(&back, &img)) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn shipped_models_reproduce_their_manifest_accuracy() {
    let set = subset();
    assert!(set.len() >= 500);
    let m = manifest();
    let mnist: Vec<_> = m.models.iter().filter(|e| e.architecture == Architecture::MnistCnn).collect();
    assert_eq!(mnist.len(), 3, "three MNIST models are shipped");
    for entry in mnist {
        assert!(entry.test_accuracy >= 0.99, "{} test accuracy {}", entry.id, entry.test_accuracy);
        let bytes = std::fs::read(common::repo(&format!("weights/{}", entry.file))).unwrap();
        assert_eq!(quiver_core::manifest::sha256_hex(&bytes), entry.sha256, "{} checksum", entry.id);
        let model = shipped(&entry.id);
        let sub = entry.subset.as_ref().expect("subset score recorded");
        assert_eq!(sub.images, set.len());
        let x: Vec<f32> = set.images.iter().map(|&b| b as f32 / 255.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(x, [set.len(), 1, 28, 28]), &model.device());
        let pred = model.forward(x).argmax(1).into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        let correct = (0..set.len()).filter(|&i| pred[i] == set.label(i) as i64).count();
        assert_eq!(correct, sub.correct, "{}: subset score differs from the manifest", entry.id);
        assert!((sub.accuracy - entry.test_accuracy).abs() < 0.02, "subset and full test accuracy should agree");
    }
}

#[test]
fn mc_with_p_zero_is_the_deterministic_forward() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let img = set.image(0);
    let det = probabilities(&model, &img);
    let s = mc_dropout(&model, image_tensor(&model, &img), &McConfig { passes: 10, p: 0.0, seed: 5 }).unwrap();
    for t in 0..10 {
        for k in 0..10 {
            assert!((s.pass(t)[k] - det[k]).abs() < 1e-5, "pass {t} class {k}");
        }
    }
    assert!(s.variance.iter().all(|&v| v < 1e-10));
    assert!(s.mutual_information < 1e-5);
}

#[test]
fn mc_with_dropout_varies_per_pass_and_its_mean_is_stable_across_seeds() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    // An ambiguous-ish digit shows more spread; any test digit must show some.
    let img = set.image(8);
    let run = |seed| mc_dropout(&model, image_tensor(&model, &img), &McConfig { passes: 200, p: 0.3, seed }).unwrap();
    let a = run(1);
    let b = run(2);
    let same = run(1);
    assert_eq!(a, same, "a seed makes MC dropout reproducible");
    assert_ne!(a.probs, b.probs, "different seeds draw different masks");
    assert!(a.pass(0) != a.pass(1), "passes differ");
    assert!(a.variance.iter().any(|&v| v > 0.0));
    for k in 0..10 {
        assert!((a.mean[k] - b.mean[k]).abs() < 0.05, "class {k}: {} vs {}", a.mean[k], b.mean[k]);
    }
    assert_eq!(a.predicted, b.predicted);
    // Definitions.
    let sum: f32 = a.mean.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4);
    let h: f32 = -a.mean.iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum::<f32>();
    assert!((h - a.entropy).abs() < 1e-4);
    assert!(a.mutual_information >= 0.0 && a.mutual_information <= a.entropy + 1e-6);
}

#[test]
fn masks_have_the_requested_keep_rate_and_scale() {
    let device = Device::flex();
    let model = Model::init(Architecture::MnistCnn, &device);
    let cfg = McConfig { passes: 50, p: 0.3, seed: 9 };
    let masks = dropout_masks(&model, &cfg, &device);
    let v = masks[0].clone().into_data().try_to_vec::<f32>().unwrap();
    let kept = v.iter().filter(|&&x| x > 0.0).count() as f64 / v.len() as f64;
    assert!((kept - 0.7).abs() < 0.01, "keep rate {kept}");
    assert!(v.iter().all(|&x| x == 0.0 || (x - 1.0 / 0.7).abs() < 1e-6));
}

#[test]
fn mc_rejects_bad_settings() {
    let model = Model::init(Architecture::MnistCnn, &Device::flex());
    let x = image_tensor(&model, &vec![0.0; 784]);
    let e = mc_dropout(&model, x.clone(), &McConfig { passes: 0, p: 0.2, seed: 0 }).unwrap_err();
    assert!(matches!(e, McError::Parameter(_)));
    assert_eq!(e.to_string(), "passes T must be a whole number from 1 to 500, got 0");
    let e = mc_dropout(&model, x, &McConfig { passes: 5, p: 0.7, seed: 0 }).unwrap_err();
    assert_eq!(e.to_string(), "dropout p must be in [0, 0.5], got 0.7");
}

#[test]
fn wrong_weights_files_are_named_precisely() {
    let device = Device::flex();
    assert!(matches!(weights::load(b"not a weights file", Architecture::MnistCnn, &device), Err(weights::WeightsError::NotSafetensors(_))));
    let good = std::fs::read(common::repo("weights/mnist_cnn_p025.safetensors")).unwrap();
    assert!(matches!(weights::load(&good[..good.len() / 2], Architecture::MnistCnn, &device), Err(weights::WeightsError::NotSafetensors(_))));
    // A file with a wrong shape and a missing tensor.
    let bad: Vec<(String, safetensors::tensor::TensorView<'_>)> = vec![];
    let data = vec![0u8; 4 * 16 * 3 * 25];
    let mut views = bad;
    views.push(("conv1.weight".into(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![16, 3, 5, 5], &data).unwrap()));
    let bytes = safetensors::serialize(views, None).unwrap();
    let err = weights::load(&bytes, Architecture::MnistCnn, &device).unwrap_err().to_string();
    assert!(err.contains("conv1.weight has shape [16, 3, 5, 5], expected [16, 1, 5, 5]"), "{err}");
    assert!(err.contains("missing tensor fc.weight"), "{err}");
}
