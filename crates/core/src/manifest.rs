//! `weights/manifest.json`: what each shipped weights file is, how good it is, and how it was
//! made.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::ClassReport;
use crate::model::Architecture;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub models: Vec<ModelEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Stable identifier, used in URLs (`?model=`).
    pub id: String,
    /// File name relative to `weights/`.
    pub file: String,
    pub architecture: Architecture,
    pub dataset: String,
    pub class_names: Vec<String>,
    /// Dropout rate the model was trained with.
    pub train_dropout: f32,
    /// Deterministic top-1 accuracy on the test set (0–1).
    pub test_accuracy: f32,
    pub test_images: usize,
    /// MC-dropout settings used for the per-class report.
    pub report_passes: usize,
    pub report_dropout: f32,
    pub per_class: Vec<ClassReport>,
    pub sha256: String,
    pub bytes: usize,
    /// The exact command that produced the file.
    pub command: String,
    pub epochs: usize,
    pub train_seconds: f32,
    pub backend: String,
    /// Score on the committed test subset (MNIST: `tests/fixtures/mnist-test-subset`, the first
    /// 1000 test images; CIFAR-10: `tests/fixtures/cifar10-test-subset.png`, the first 50 test
    /// images of each class), which the native tests reproduce exactly.
    #[serde(default)]
    pub subset: Option<SubsetScore>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubsetScore {
    /// Images in the committed subset.
    pub images: usize,
    pub correct: usize,
    pub accuracy: f32,
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serialises")
    }

    pub fn get(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Insert or replace the entry with the same id, keeping ids sorted.
    pub fn upsert(&mut self, entry: ModelEntry) {
        self.models.retain(|m| m.id != entry.id);
        self.models.push(entry);
        self.models.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub use crate::model::{CIFAR10_CLASSES, MNIST_CLASSES, STL10_CLASSES};
