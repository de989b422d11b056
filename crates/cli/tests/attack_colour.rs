//! `quiver attack` runs on every shipped architecture: FGSM on two images of the committed
//! CIFAR-10 subset with the shipped AlexNet writes 32×32 RGB PNGs and a summary whose numbers obey
//! FGSM's definition (L∞ = ε unless clipped, the parameters as run from the table).

use std::process::Command;

#[test]
fn fgsm_attacks_the_cifar10_alexnet_on_the_committed_subset() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out_dir = std::env::temp_dir().join(format!("quiver-cli-colour-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_quiver"))
        .current_dir(root)
        .args(["attack", "--weights", "weights/alexnet_cifar10_p025.safetensors", "--data", "tests/fixtures/cifar10-test-subset.png"])
        .args(["--indices", "0,60", "--eps", "0.03", "--passes", "5", "--out-dir"])
        .arg(&out_dir)
        .output()
        .expect("run quiver");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["attack"], "fgsm");
    assert_eq!(summary["images"], 2);
    assert_eq!(summary["parameters"]["eps"], "0.03");
    for r in summary["results"].as_array().unwrap() {
        let linf = r["distances"]["linf"].as_f64().unwrap();
        assert!(linf <= 0.03 + 1e-6 && linf > 0.0, "FGSM moves values by at most ε: {linf}");
        assert_eq!(r["mc_before"]["mean"].as_array().unwrap().len(), 10);
    }
    // Index 60 of the grid is the second class's first image (50 per class): label 1.
    assert_eq!(summary["results"][1]["label"], 1);
    let png = quiver_core::preprocess::decode(&std::fs::read(out_dir.join("test-00060-adversarial.png")).unwrap()).expect("a PNG");
    assert_eq!((png.width(), png.height(), png.color().channel_count()), (32, 32, 3));
    let _ = std::fs::remove_dir_all(&out_dir);
}
