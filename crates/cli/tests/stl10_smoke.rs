//! End-to-end: `quiver train --arch alexnet_stl10` on a tiny generated dataset in the official
//! STL-10 binary layout runs one epoch, checkpoints, and writes weights that load, with a
//! manifest entry; `eval` reads them back.

use std::path::Path;

use quiver_core::data::{stl10, ImageSet};
use quiver_core::manifest::Manifest;
use quiver_core::{weights, Architecture};

fn tiny_set(n: usize, salt: usize) -> ImageSet {
    let mut s = ImageSet::empty(3, 96, 96);
    for i in 0..n {
        let label = i % 10;
        // Class-dependent colour plus a gradient, so there is something to learn.
        s.images.extend((0..3 * 96 * 96).map(|p| ((p / (96 * 96) * 40 + label * 20 + (p % 96) + salt) % 256) as u8));
        s.labels.push(label as u8);
    }
    s
}

fn write_split(dir: &Path, name: &str, set: &ImageSet) {
    let (x, y) = stl10::write(set);
    std::fs::write(dir.join(format!("{name}_X.bin")), x).unwrap();
    std::fs::write(dir.join(format!("{name}_y.bin")), y).unwrap();
}

#[test]
fn stl10_training_runs_one_epoch_and_writes_loadable_weights() {
    let root = std::env::temp_dir().join(format!("quiver-stl10-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_split(&data, "train", &tiny_set(20, 0));
    write_split(&data, "test", &tiny_set(10, 3));
    let out = root.join("weights").join("alexnet_stl10_smoke.safetensors");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_quiver"))
        .args(["train", "--arch", "alexnet_stl10", "--dropout", "0.25", "--epochs", "1", "--batch-size", "8"])
        .args(["--report-passes", "2", "--epoch-test-images", "10", "--f16"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .arg("--checkpoint-dir")
        .arg(root.join("ckpt"))
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(weights::architecture_of(&bytes), Some(Architecture::AlexnetStl10));
    weights::load(&bytes, Architecture::AlexnetStl10, &burn::tensor::Device::flex()).expect("the weights load");
    assert!(root.join("ckpt/epoch-001/model.safetensors").exists());
    assert!(root.join("ckpt/epoch-001/optim.bpk").exists());
    let manifest = Manifest::from_json(&std::fs::read_to_string(out.with_file_name("manifest.json")).unwrap()).unwrap();
    let entry = manifest.get("alexnet_stl10_smoke").unwrap();
    assert_eq!(entry.architecture, Architecture::AlexnetStl10);
    assert_eq!(entry.dataset, "STL-10");
    assert_eq!(entry.class_names[7], "monkey");
    assert_eq!(entry.test_images, 10);
    assert_eq!(entry.subset.as_ref().unwrap().images, 10);
    let eval = std::process::Command::new(env!("CARGO_BIN_EXE_quiver"))
        .args(["eval", "--passes", "2"])
        .arg("--weights")
        .arg(&out)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let report: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(report["images"], 10);
    std::fs::remove_dir_all(&root).unwrap();
}
