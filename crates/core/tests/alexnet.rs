//! The AlexNet presets: shapes, MC dropout that runs the trunk once, weight I/O (F32 and F16),
//! validation messages, and the shipped CIFAR-10 models against their manifest.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use quiver_core::data::ImageSet;
use quiver_core::mc_dropout::{dropout_masks, mc_probabilities, McConfig};
use quiver_core::model::alexnet::{self, AlexnetSpec};
use quiver_core::model::AlexNet;
use quiver_core::weights::{self, StoreDtype, WeightsError};
use quiver_core::{Architecture, Classifier, Model};

const ALEX: [Architecture; 2] = [Architecture::AlexnetCifar10, Architecture::AlexnetStl10];

/// A deterministic non-constant image in [0, 1].
fn image(arch: Architecture, n: usize, device: &Device) -> Tensor<4> {
    let [c, h, w] = arch.input_shape();
    let v: Vec<f32> = (0..n * c * h * w).map(|i| ((i * 37 + i / 7) % 256) as f32 / 255.0).collect();
    Tensor::from_data(TensorData::new(v, [n, c, h, w]), device)
}

fn alexnet(arch: Architecture, seed: u64) -> AlexNet {
    let device = Device::flex();
    device.seed(seed);
    AlexNet::init(arch, &device)
}

#[test]
fn both_presets_have_the_documented_shapes() {
    let device = Device::flex();
    assert_eq!(Architecture::AlexnetCifar10.input_shape(), [3, 32, 32]);
    assert_eq!(Architecture::AlexnetStl10.input_shape(), [3, 96, 96]);
    let totals = [(Architecture::AlexnetCifar10, 947_466usize), (Architecture::AlexnetStl10, 668_682)];
    for (arch, total) in totals {
        let model = Model::init(arch, &device);
        assert_eq!(model.architecture(), arch);
        assert_eq!(model.forward(image(arch, 3, &device)).dims(), [3, 10], "{}", arch.name());
        assert_eq!(model.dropout_shapes(), vec![vec![256], vec![256]]);
        // The constant table, the shapes computed from the preset, and the module agree.
        let specs = arch.tensor_specs();
        let spec = AlexnetSpec::for_arch(arch).unwrap();
        assert_eq!(specs, spec.tensor_specs());
        assert_eq!(specs.iter().map(|(_, s)| s.iter().product::<usize>()).sum::<usize>(), total, "{}", arch.name());
        let Model::AlexNet(m) = &model else { panic!() };
        assert_eq!(m.trunk(image(arch, 2, &device)).dims(), [2, spec.features()]);
        let masks = dropout_masks(&model, &McConfig { passes: 4, p: 0.3, seed: 1 }, &device);
        assert_eq!(masks[0].dims(), [4, 256, 1, 1]);
        assert_eq!(masks[1].dims(), [4, 256, 1, 1]);
        // Weights file sizes stay under 10 MB even as F32.
        let bytes = weights::save(&model, Default::default());
        assert!(bytes.len() < 10_000_000, "{} bytes", bytes.len());
    }
    assert_eq!(alexnet::CIFAR10.features(), 96 * 4 * 4);
    assert_eq!(alexnet::STL10.features(), 96 * 2 * 2);
    assert_eq!(Architecture::AlexnetCifar10.class_names()[6], "frog");
    assert_eq!(Architecture::AlexnetStl10.class_names()[7], "monkey");
    for arch in Architecture::ALL {
        assert_eq!(Architecture::from_name(arch.name()), Some(arch));
        assert_eq!(serde_json::to_string(&arch).unwrap(), format!("\"{}\"", arch.name()));
    }
}

#[test]
fn trunk_once_mc_equals_t_naive_full_passes() {
    let device = Device::flex();
    for (arch, seed) in [(Architecture::AlexnetCifar10, 5), (Architecture::AlexnetStl10, 6)] {
        let model = alexnet(arch, seed);
        let x = image(arch, 1, &device);
        let t = 6;
        let cfg = McConfig { passes: t, p: 0.3, seed: 42 };
        let masks = dropout_masks(&model, &cfg, &device);
        let fast = model.forward_masked(x.clone(), &masks).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(fast.len(), t * 10);
        // Naive: the whole network, trunk included, once per pass with that pass's masks.
        let mut naive = Vec::new();
        for pass in 0..t {
            let m: [Tensor<2>; 2] = [0, 1].map(|l| masks[l].clone().narrow(0, pass, 1).reshape([1, 256]));
            naive.extend(model.forward_with_masks(x.clone(), m).into_data().try_to_vec::<f32>().unwrap());
        }
        for (i, (a, b)) in fast.iter().zip(&naive).enumerate() {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{}: logit {i}: {a} vs {b}", arch.name());
        }
        // The passes differ (dropout acts) and p = 0 gives the deterministic forward.
        assert!(fast[..10] != fast[10..20]);
        let det = model.forward(x.clone()).into_data().try_to_vec::<f32>().unwrap();
        let p0 = model.forward_masked(x.clone(), &dropout_masks(&model, &McConfig { passes: 3, p: 0.0, seed: 1 }, &device));
        for (i, v) in p0.into_data().try_to_vec::<f32>().unwrap().iter().enumerate() {
            assert!((v - det[i % 10]).abs() < 1e-4);
        }
        let probs = mc_probabilities(&model, x, &cfg).unwrap();
        assert_eq!(probs.dims(), [t, 10]);
    }
}

#[test]
fn f32_round_trip_is_exact_and_f16_halves_the_file() {
    let device = Device::flex();
    for arch in ALEX {
        let model = Model::AlexNet(alexnet(arch, 9));
        let mut meta = std::collections::BTreeMap::new();
        meta.insert("architecture".to_string(), arch.name().to_string());
        let bytes = weights::save(&model, meta.clone());
        assert_eq!(weights::architecture_of(&bytes), Some(arch));
        let back = weights::load(&bytes, arch, &device).unwrap();
        assert_eq!(weights::save(&back, meta.clone()), bytes, "F32 round trip is exact");
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("fc1.weight").unwrap().shape(), arch.tensor_specs()[10].1.as_slice(), "PyTorch [out, in] layout");

        let half = weights::save_as(&model, meta.clone(), StoreDtype::F16);
        assert!(half.len() < bytes.len() / 2 + 4096, "{} vs {}", half.len(), bytes.len());
        weights::validate(&half, arch).unwrap();
        let st16 = safetensors::SafeTensors::deserialize(&half).unwrap();
        assert_eq!(st16.tensor("conv2.weight").unwrap().dtype(), safetensors::Dtype::F16);
        let from16 = weights::load(&half, arch, &device).unwrap();
        // Loading F16 gives exactly the F16-rounded F32 values: saving them again as F16 is
        // the identity, and as F32 they are within F16 precision of the originals.
        assert_eq!(weights::save_as(&from16, meta.clone(), StoreDtype::F16), half);
        let a = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let b32 = weights::save(&from16, meta.clone());
        let b = safetensors::SafeTensors::deserialize(&b32).unwrap();
        for (name, _) in arch.tensor_specs() {
            let va = a.tensor(name).unwrap();
            let vb = b.tensor(name).unwrap();
            for (x, y) in va.data().chunks_exact(4).zip(vb.data().chunks_exact(4)) {
                let x = f32::from_le_bytes(x.try_into().unwrap());
                let y = f32::from_le_bytes(y.try_into().unwrap());
                assert!((x - y).abs() <= x.abs() * 1e-3 + 1e-7, "{name}: {x} vs {y}");
            }
        }
        let x = image(arch, 2, &device);
        let l32 = model.forward(x.clone()).into_data().try_to_vec::<f32>().unwrap();
        let l16 = from16.forward(x).into_data().try_to_vec::<f32>().unwrap();
        for (p, q) in l32.iter().zip(&l16) {
            assert!((p - q).abs() < 1e-2, "{p} vs {q}");
        }
    }
}

#[test]
fn wrong_architecture_files_name_the_missing_and_unexpected_tensors() {
    let device = Device::flex();
    let mnist = weights::save(&Model::init(Architecture::MnistCnn, &device), Default::default());
    let err = weights::load(&mnist, Architecture::AlexnetCifar10, &device).unwrap_err();
    let WeightsError::Mismatch { arch, problems } = &err else { panic!("{err}") };
    assert_eq!(*arch, "alexnet_cifar10");
    let msg = err.to_string();
    for needle in [
        "conv1.weight has shape [16, 1, 5, 5], expected [48, 3, 3, 3]",
        "conv2.weight has shape [32, 16, 5, 5], expected [96, 48, 5, 5]",
        "missing tensor conv3.weight (expected shape [128, 96, 3, 3])",
        "missing tensor fc1.weight (expected shape [256, 1536])",
        "missing tensor fc3.bias (expected shape [10])",
        "unexpected tensor fc.bias",
        "unexpected tensor fc.weight",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    assert_eq!(problems.len(), 2 + 2 + 12 + 2, "{problems:?}");
    // The two presets are told apart too.
    let cifar = weights::save(&Model::init(Architecture::AlexnetCifar10, &device), Default::default());
    let err = weights::validate(&cifar, Architecture::AlexnetStl10).unwrap_err().to_string();
    assert!(err.contains("conv1.weight has shape [48, 3, 3, 3], expected [48, 3, 11, 11]"), "{err}");
    assert!(err.contains("fc1.weight has shape [256, 1536], expected [256, 384]"), "{err}");
    // And an AlexNet file is not an MNIST CNN.
    let err = weights::validate(&cifar, Architecture::MnistCnn).unwrap_err().to_string();
    assert!(err.contains("missing tensor fc.weight") && err.contains("unexpected tensor conv5.weight"), "{err}");
}

/// Shipped CIFAR-10 models (when their files exist) score exactly their manifest's subset
/// result on the committed subset `tests/fixtures/cifar10-test-subset.png`.
#[test]
fn shipped_cifar_models_reproduce_their_manifest_subset_accuracy() {
    let m = common::manifest();
    let entries: Vec<_> = m.models.iter().filter(|e| e.architecture == Architecture::AlexnetCifar10).collect();
    if entries.is_empty() {
        eprintln!("no alexnet_cifar10 model in weights/manifest.json; skipping");
        return;
    }
    let png = std::fs::read(common::repo("tests/fixtures/cifar10-test-subset.png")).expect("committed CIFAR-10 subset");
    let set = ImageSet::from_grid_png(&png, [3, 32, 32], 50).unwrap();
    assert_eq!(set.len(), 500);
    for entry in entries {
        let path = common::repo(&format!("weights/{}", entry.file));
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("{} not found; skipping", path.display());
            continue;
        };
        assert_eq!(entry.dataset, "CIFAR-10 (JPEG copy)");
        assert_eq!(quiver_core::manifest::sha256_hex(&bytes), entry.sha256, "{} checksum", entry.id);
        let model = weights::load(&bytes, entry.architecture, &Device::flex()).unwrap();
        let sub = entry.subset.as_ref().expect("subset score recorded");
        let x: Vec<f32> = set.images.iter().map(|&b| b as f32 / 255.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(x, [set.len(), 3, 32, 32]), &model.device());
        let pred = model.forward(x).argmax(1).into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        let correct = (0..set.len()).filter(|&i| pred[i] == set.label(i) as i64).count();
        assert_eq!((sub.images, correct), (set.len(), sub.correct), "{}: subset score differs from the manifest", entry.id);
        assert!((sub.accuracy - entry.test_accuracy).abs() < 0.05, "subset and full test accuracy should roughly agree");
    }
}
