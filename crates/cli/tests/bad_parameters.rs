//! `quiver attack` refuses out-of-range parameters with core's message and a non-zero exit,
//! never a panic (issue: bad input gets a clear message in the UI and the CLI).

use std::process::Command;

fn quiver(args: &[&str]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(env!("CARGO_BIN_EXE_quiver")).current_dir(root).args(args).output().expect("run quiver");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn out_of_range_attack_parameters_are_refused_with_a_message() {
    let out_dir = std::env::temp_dir().join(format!("quiver-cli-bad-{}", std::process::id()));
    let out_dir = out_dir.to_str().unwrap();
    let cases: [(&[&str], &str); 13] = [
        (&["--attack", "iaa", "--iaa-m", "0"], "m (pixels per iteration) must be a whole number from 1 to 1000000, got 0"),
        (&["--attack", "iaa", "--iaa-n", "4"], "neighbourhood n must be an odd whole number from 1 to 27, got 4"),
        (&["--attack", "iaa", "--iaa-dmax=-1"], "D_max must be in (0, 255], got -1"),
        (&["--attack", "iaa", "--iaa-delta", "0"], "δ must be in (0, 1], got 0"),
        (&["--attack", "fgsm", "--eps=-0.1"], "ε must be in [0, 1], got -0.1"),
        (&["--attack", "lbfgs", "--lbfgs-steps", "0"], "c steps must be a whole number from 1 to 50, got 0"),
        // The digit is a 7: targeting 7 is not an attack.
        (&["--attack", "fgsm", "--target", "7"], "the target class 7 is the image's own class"),
        (&["--attack", "bim"], "use fgsm, lbfgs, iaa, pgd, pgdl2, deepfool, cw, jsma"),
        (&["--attack", "pgd", "--pgd-eps", "2"], "ε must be in [0, 1], got 2"),
        (&["--attack", "pgd", "--pgd-random", "2"], "random start must be a whole number from 0 to 1, got 2"),
        (&["--attack", "cw", "--cw-steps", "0"], "steps per c must be a whole number from 1 to 100000, got 0"),
        (&["--attack", "deepfool", "--df-candidates", "1"], "candidate classes must be a whole number from 2 to 1000, got 1"),
        (&["--attack", "jsma", "--jsma-gamma", "0"], "γ (max changed) must be in (0, 1], got 0"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["attack", "--weights", "weights/mnist_cnn_p025.safetensors", "--png", "tests/fixtures/e2e/digit-7.png", "--out-dir", out_dir];
        args.extend_from_slice(extra);
        let (ok, stderr) = quiver(&args);
        assert!(!ok, "{extra:?} must fail");
        assert!(stderr.contains(message), "{extra:?}: expected {message:?} in\n{stderr}");
        assert!(!stderr.contains("panicked"), "{extra:?} panicked:\n{stderr}");
    }
    // The same image with valid parameters succeeds (so the failures above are the parameters).
    let (ok, stderr) = quiver(&["attack", "--weights", "weights/mnist_cnn_p025.safetensors", "--png", "tests/fixtures/e2e/digit-7.png", "--out-dir", out_dir, "--attack", "iaa"]);
    assert!(ok, "{stderr}");
    let _ = std::fs::remove_dir_all(out_dir);
}
