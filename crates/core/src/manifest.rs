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

/// Which ensemble a model belongs to, and its member number in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnsembleTag {
    /// Name of the group, e.g. `mnist_seeds_p025`.
    pub group: String,
    /// Member number within the group (1-based).
    pub member: usize,
}

/// Key of the optional ensemble tag in a manifest entry. It is kept outside [`ModelEntry`]'s
/// fields (so code that builds entries is unchanged); [`Manifest::to_json_keeping`] carries it,
/// and any other key the struct does not know, over when the manifest is rewritten.
pub const ENSEMBLE_KEY: &str = "ensemble";

/// The ensemble tag of every entry that has one, from the manifest's JSON text: `(id, tag)`.
pub fn ensemble_tags(text: &str) -> Result<Vec<(String, EnsembleTag)>, serde_json::Error> {
    let v: serde_json::Value = serde_json::from_str(text)?;
    let mut out = Vec::new();
    for e in v["models"].as_array().into_iter().flatten() {
        if let (Some(id), Some(tag)) = (e["id"].as_str(), e.get(ENSEMBLE_KEY)) {
            out.push((id.to_string(), serde_json::from_value(tag.clone())?));
        }
    }
    Ok(out)
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

    /// Pretty JSON of `self`, keeping every key of `old`'s entries (same id) that [`ModelEntry`]
    /// does not have (e.g. [`ENSEMBLE_KEY`]), and setting `tag` (id, ensemble tag) if given. The
    /// entries' own keys keep their order (the output equals [`Self::to_json`] when nothing extra
    /// is kept); the extra keys follow, sorted.
    pub fn to_json_keeping(&self, old: Option<&str>, tag: Option<(&str, &EnsembleTag)>) -> String {
        #[derive(Serialize)]
        struct EntryOut<'a> {
            #[serde(flatten)]
            entry: &'a ModelEntry,
            #[serde(flatten)]
            extra: serde_json::Map<String, serde_json::Value>,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            models: Vec<EntryOut<'a>>,
        }
        let old: Option<serde_json::Value> = old.and_then(|t| serde_json::from_str(t).ok());
        let models = self
            .models
            .iter()
            .map(|entry| {
                let own = serde_json::to_value(entry).expect("entry serialises");
                let mut extra = serde_json::Map::new();
                let prev = old.as_ref().and_then(|o| o["models"].as_array()?.iter().find(|p| p["id"].as_str() == Some(entry.id.as_str()))?.as_object().cloned());
                for (k, v) in prev.into_iter().flatten() {
                    if own.get(&k).is_none() {
                        extra.insert(k, v);
                    }
                }
                if let Some((id, t)) = tag {
                    if id == entry.id {
                        extra.insert(ENSEMBLE_KEY.into(), serde_json::to_value(t).expect("tag serialises"));
                    }
                }
                EntryOut { entry, extra }
            })
            .collect();
        serde_json::to_string_pretty(&Out { models }).expect("manifest serialises")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_keeps_ensemble_tags_and_sets_a_new_one() {
        // The shipped manifest without any ensemble tags (parsing drops keys the struct lacks).
        let m = Manifest::from_json(include_str!("../../../weights/manifest.json")).unwrap();
        let text = &m.to_json();
        assert!(ensemble_tags(text).unwrap().is_empty());
        let id = m.models[0].id.clone();
        let tag = EnsembleTag { group: "g".into(), member: 2 };
        let tagged = m.to_json_keeping(Some(text), Some((&id, &tag)));
        assert_eq!(ensemble_tags(&tagged).unwrap(), vec![(id.clone(), tag.clone())]);
        // A later rewrite (another model trained) keeps the tag; the entries are unchanged.
        let again = Manifest::from_json(&tagged).unwrap().to_json_keeping(Some(&tagged), None);
        assert_eq!(ensemble_tags(&again).unwrap(), vec![(id, tag)]);
        assert_eq!(Manifest::from_json(&again).unwrap(), m);
        // Nothing extra: byte for byte the plain writer (key order kept).
        assert_eq!(m.to_json_keeping(Some(text), None), m.to_json());
        assert_eq!(m.to_json_keeping(None, None), m.to_json());
    }
}
