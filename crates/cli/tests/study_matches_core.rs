//! `quiver study` (the CLI's code path, through the binary and its JSON) and a one-image-at-a-time
//! loop over `quiver_core::study` (what the app runs, in any chunks) give exactly the same numbers
//! on the first 100 images of the committed MNIST subset: clean tables, scatter points, and the
//! FGSM part (benign and adversarial tables, detector AUROC, ROC and histograms).

use std::process::Command;

use burn::tensor::Device;
use quiver_core::attacks::{run_attack, AttackSet, Flow, Goal};
use quiver_core::data::mnist::MnistSet;
use quiver_core::data::ImageSet;
use quiver_core::mc_dropout::McConfig;
use quiver_core::study::{attack_study, record_for_image, scatter, tables, ImageRecord, StudyFile, DEFAULT_BINS};
use quiver_core::{weights, Architecture};

fn root() -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

#[test]
fn cli_study_equals_the_core_loop_image_by_image() {
    let out = std::env::temp_dir().join(format!("quiver-study-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_quiver"))
        .current_dir(root())
        .args(["study", "--weights", "weights/mnist_cnn_p025.safetensors", "--data", "tests/fixtures/mnist-test-subset", "--limit", "100"])
        .args(["--passes", "10", "--seed", "7", "--attack", "fgsm", "--eps", "0.15", "--attack-images", "30", "--out", out.to_str().unwrap()])
        .status()
        .expect("run quiver study");
    assert!(status.success());
    let file = StudyFile::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_eq!(file.studies.len(), 1);
    let study = &file.studies[0];
    assert_eq!((study.meta.images, study.meta.set_images, study.meta.passes, study.meta.seed, study.meta.partial), (100, 1000, 10, 7, false));
    assert_eq!(study.meta.p, 0.25, "the model's training p from the manifest");

    // The app's way: one image at a time, in chunks of 7, with the same study seed.
    let dir = root().join("tests/fixtures/mnist-test-subset");
    let set: ImageSet = MnistSet::from_idx(&std::fs::read(dir.join("t10k-images-idx3-ubyte")).unwrap(), &std::fs::read(dir.join("t10k-labels-idx1-ubyte")).unwrap()).unwrap().into();
    let model = weights::load(&std::fs::read(root().join("weights/mnist_cnn_p025.safetensors")).unwrap(), Architecture::MnistCnn, &Device::flex()).unwrap();
    let cfg = McConfig { passes: 10, p: 0.25, seed: 7 };
    let mut records: Vec<ImageRecord> = Vec::new();
    for chunk in (0..100).collect::<Vec<_>>().chunks(7) {
        for &i in chunk {
            records.push(record_for_image(&model, &set.image(i), set.label(i), i, &cfg).unwrap());
        }
    }
    assert_eq!(study.clean, tables(&records, 10, DEFAULT_BINS));
    assert_eq!(study.points.as_ref().unwrap(), &scatter(&records));

    let mut attacks = AttackSet::default();
    attacks.fgsm.eps = 0.15;
    let (mut adv, mut ok) = (Vec::new(), Vec::new());
    for i in 0..30 {
        let (x, y) = (set.image(i), set.label(i));
        let o = run_attack(&attacks.fgsm, &model, &x, Goal { label: y, target: None }, |_| Flow::Continue).unwrap();
        adv.push(record_for_image(&model, &o.adversarial, y, i, &cfg).unwrap());
        ok.push(o.success);
    }
    let got = &study.attacks[0];
    let want = attack_study("FGSM", got.parameters.clone(), &records[..30], &adv, &ok, 10);
    assert_eq!(got.attack.to_lowercase(), want.attack.to_lowercase());
    assert_eq!((&got.benign, &got.adversarial, got.success_rate), (&want.benign, &want.adversarial, want.success_rate));
    assert_eq!(got.detection, want.detection);
    assert_eq!(got.detection_successful, want.detection_successful);
}
