//! `quiver attack` runs every attack of core's list on digits of the committed MNIST subset, and
//! what it writes is what it reports: the adversarial PNG's 8-bit values differ from the
//! original PNG's in exactly the reported L0, and the model's prediction on the PNG read back is
//! the reported one.

use std::process::Command;

use quiver_core::attacks::{argmax_of, probabilities, AttackKind};

#[test]
fn every_attack_runs_and_its_png_is_what_it_reports() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let model = {
        let bytes = std::fs::read(format!("{root}/weights/mnist_cnn_p025.safetensors")).unwrap();
        quiver_core::weights::load(&bytes, quiver_core::Architecture::MnistCnn, &burn::tensor::Device::flex()).unwrap()
    };
    for kind in AttackKind::ALL {
        let out_dir = std::env::temp_dir().join(format!("quiver-cli-all-{}-{kind}", std::process::id()));
        let out = Command::new(env!("CARGO_BIN_EXE_quiver"))
            .current_dir(root)
            .args(["attack", "--weights", "weights/mnist_cnn_p025.safetensors", "--data", "tests/fixtures/mnist-test-subset"])
            .args(["--indices", "0,1", "--passes", "3", "--attack", kind.key(), "--out-dir"])
            .arg(&out_dir)
            .output()
            .expect("run quiver");
        assert!(out.status.success(), "{kind}: {}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["attack"], kind.key());
        // The parameters as run are the attack's table, every key.
        let params = summary["parameters"].as_object().unwrap();
        assert_eq!(params.len(), kind.params().len(), "{kind}");
        for r in summary["results"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            let read = |which: &str| {
                let png = std::fs::read(out_dir.join(format!("{name}-{which}.png"))).unwrap();
                quiver_core::preprocess::decode(&png).unwrap().to_luma8().into_raw()
            };
            let (orig, adv) = (read("original"), read("adversarial"));
            let l0 = orig.iter().zip(&adv).filter(|(a, b)| a != b).count();
            assert_eq!(r["distances"]["l0"].as_u64().unwrap() as usize, l0, "{kind} {name}: L0 of the PNGs");
            let x: Vec<f32> = adv.iter().map(|&b| b as f32 / 255.0).collect();
            let predicted = argmax_of(&probabilities(&model, &x));
            assert_eq!(r["predicted_after"].as_u64().unwrap() as usize, predicted, "{kind} {name}: prediction on the PNG");
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }
}
