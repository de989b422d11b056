//! Shared test fixtures: the shipped weights and the committed MNIST test subset.
#![allow(dead_code)]

use burn::tensor::Device;
use quiver_core::data::mnist::MnistSet;
use quiver_core::manifest::Manifest;
use quiver_core::{weights, Model};

pub fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

pub fn manifest() -> Manifest {
    Manifest::from_json(&std::fs::read_to_string(repo("weights/manifest.json")).expect("weights/manifest.json")).expect("valid manifest")
}

pub fn shipped(id: &str) -> Model {
    let m = manifest();
    let entry = m.get(id).unwrap_or_else(|| panic!("{id} in the manifest"));
    let bytes = std::fs::read(repo(&format!("weights/{}", entry.file))).expect("weights file");
    weights::load(&bytes, entry.architecture, &Device::flex()).expect("shipped weights load")
}

pub fn subset() -> MnistSet {
    let dir = repo("tests/fixtures/mnist-test-subset");
    let images = std::fs::read(dir.join("t10k-images-idx3-ubyte")).expect("subset images");
    let labels = std::fs::read(dir.join("t10k-labels-idx1-ubyte")).expect("subset labels");
    MnistSet::from_idx(&images, &labels).expect("subset parses")
}
