//! The live study's work: MC dropout over the bundled test subset for each shipped model (one
//! per dropout p), with core's [`record_for_image`] — the per-image seed rule makes the numbers
//! the CLI's (`quiver study`) for the same subset, T and seed. In the compute worker (a few images
//! a request, about [`SLICE_MS`] of work each) where there is one, else here, an image at a time
//! in slices of at most [`SLICE_MS`] between yields, so the page stays responsive and cancel is
//! seen.

use leptos::prelude::*;
use quiver_core::data::ImageSet;
use quiver_core::manifest::ModelEntry;
use quiver_core::mc_dropout::McConfig;
use quiver_core::study::{record_for_image, ImageRecord};
use quiver_core::Dataset;

use crate::runtime::{now_ms, yield_now};

/// Longest stretch of work between two yields to the browser (ms).
pub const SLICE_MS: f64 = 30.0;

/// What decides a study: the results are kept per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StudyKey {
    pub dataset: Dataset,
    pub passes: usize,
    pub seed: u64,
    pub images: usize,
    pub models: Vec<String>,
    /// Ensemble groups studied beside MC dropout (their members' softmaxes as the passes).
    pub ensembles: Vec<String>,
}

/// One subject of the study: an MC-dropout model, or an ensemble's members.
pub enum Subject {
    /// The model, and its weights for the compute worker.
    Mc(ModelEntry, quiver_core::Model, crate::worker::client::Weights),
    Ensemble { group: String, entry: ModelEntry, members: Vec<quiver_core::Model> },
}

/// One model's records (the first `records.len()` images of the subset).
#[derive(Clone, Debug)]
pub struct ModelRun {
    /// How the charts and tables name it ("p = 0.25", "ensemble mnist_seeds_p025, K = 2").
    pub label: String,
    /// The model's entry (an ensemble: its first member's, with the group's id).
    pub entry: ModelEntry,
    /// The classifier attacks aim at (an ensemble: core's `Ensemble` of `members`).
    pub model: quiver_core::Model,
    /// An ensemble's members (empty for MC dropout).
    pub members: Vec<quiver_core::Model>,
    /// The MC dropout rate: the one the model was trained with (the report's pairing).
    pub p: f32,
    /// An MC-dropout model's weights, for the compute worker (none for an ensemble).
    pub weights: Option<crate::worker::client::Weights>,
    pub records: Vec<ImageRecord>,
}

/// A study, finished or stopped part-way.
#[derive(Clone, Debug)]
pub struct StudyRun {
    pub key: StudyKey,
    /// The images the study ran on (their records index into it).
    pub set: ImageSet,
    pub runs: Vec<ModelRun>,
    /// Stopped before every model had every image.
    pub partial: bool,
    pub millis: f64,
}

/// The bundled test subset of `dataset`: `n` images (MNIST: the first `n` test images; CIFAR-10,
/// stored class by class: the first `n / 10` of each class).
pub async fn subset(dataset: Dataset, n: usize) -> Result<ImageSet, String> {
    let set: ImageSet = match dataset {
        Dataset::Mnist => {
            let images = crate::runtime::fetch_bytes("subsets/mnist/t10k-images-idx3-ubyte").await?;
            let labels = crate::runtime::fetch_bytes("subsets/mnist/t10k-labels-idx1-ubyte").await?;
            quiver_core::data::mnist::MnistSet::from_idx(&images, &labels).map_err(|e| e.to_string())?.into()
        }
        Dataset::Cifar10 => {
            let png = crate::runtime::fetch_bytes("subsets/cifar10-test-subset.png").await?;
            let all = ImageSet::from_grid_png(&png, [3, 32, 32], 50).map_err(|e| e.to_string())?;
            return Ok(if n >= all.len() { all } else { all.first_per_class(10, n.div_ceil(10)).take(n) });
        }
        Dataset::Stl10 => return Err("no STL-10 test images are bundled".into()),
    };
    Ok(if n >= set.len() { set } else { set.take(n) })
}

/// The study's size for a dataset: `wanted`, or the whole subset.
pub fn subset_size(dataset: Dataset, wanted: Option<usize>) -> usize {
    let all = match dataset {
        Dataset::Mnist => 1000,
        Dataset::Cifar10 => 500,
        Dataset::Stl10 => 0,
    };
    wanted.map_or(all, |n| n.min(all))
}

/// Run the study `key` over `set` with `models`. `done(model index, images)` reports progress;
/// `stop()` is checked at every yield. Returns what was computed (partial when stopped).
pub async fn run(key: StudyKey, set: ImageSet, subjects: Vec<Subject>, done: impl Fn(usize, usize), stop: impl Fn() -> bool) -> StudyRun {
    let t0 = now_ms();
    let mut runs: Vec<ModelRun> = Vec::new();
    let mut partial = false;
    let subjects_len = subjects.len();
    'models: for (m, subject) in subjects.into_iter().enumerate() {
        let (mut run, cfg) = match subject {
            Subject::Mc(entry, model, weights) => {
                let p = entry.report_dropout;
                (ModelRun { label: format!("p = {p}"), entry, model, members: Vec::new(), p, weights: Some(weights), records: Vec::with_capacity(set.len()) }, McConfig { passes: key.passes, p, seed: key.seed })
            }
            Subject::Ensemble { group, entry, members } => {
                let label = format!("ensemble {group}, K = {}", members.len());
                // The ensemble as one classifier (its softmax is the members' mean): what attacks aim at.
                let model = match quiver_core::model::Ensemble::new(members.clone()) {
                    Ok(e) => quiver_core::Model::Ensemble(e),
                    Err(e) => {
                        leptos::logging::warn!("study: ensemble {group}: {e}");
                        partial = true;
                        continue 'models;
                    }
                };
                (ModelRun { label, entry, model, members, p: 0.0, weights: None, records: Vec::with_capacity(set.len()) }, McConfig { passes: key.passes, p: 0.0, seed: key.seed })
            }
        };
        if let Some(w) = run.weights.clone().as_ref() {
            match in_worker(w, &cfg, &set, &mut run.records, |i| done(m, i), &stop).await {
                Some(Ok(())) => {
                    done(m, set.len());
                    runs.push(run);
                    continue 'models;
                }
                Some(Err(e)) => {
                    leptos::logging::warn!("study: {e}");
                    partial = true;
                    runs.push(run);
                    break 'models;
                }
                // Stopped, or no worker (then the images not done yet are done here).
                None if stop() => {
                    partial = true;
                    runs.push(run);
                    break 'models;
                }
                None => {}
            }
        }
        let mut slice = now_ms();
        for i in run.records.len()..set.len() {
            let record = if run.members.is_empty() {
                record_for_image(&run.model, &set.image(i), set.label(i), i, &cfg)
            } else {
                Ok(quiver_core::study::ensemble_record(&run.members, &set.image(i), set.label(i), i))
            };
            match record {
                Ok(r) => run.records.push(r),
                Err(e) => {
                    leptos::logging::warn!("study: image {i}: {e}");
                    partial = true;
                    runs.push(run);
                    break 'models;
                }
            }
            if now_ms() - slice > SLICE_MS {
                done(m, i + 1);
                yield_now().await;
                if stop() {
                    partial = true;
                    runs.push(run);
                    break 'models;
                }
                slice = now_ms();
            }
        }
        done(m, set.len());
        runs.push(run);
    }
    let partial = partial || runs.len() < subjects_len || runs.iter().any(|r| r.records.len() < set.len());
    StudyRun { key, set, runs, partial, millis: now_ms() - t0 }
}

/// How many images the next request to the worker takes: as many as about a slice of its work
/// ([`SLICE_MS`]), from the last request's `ms` for `images` images (1 to 32).
pub fn next_chunk(ms: f64, images: usize) -> usize {
    ((SLICE_MS / (ms / images.max(1) as f64).max(0.1)) as usize).clamp(1, 32)
}

/// The records of `set`'s images from `records.len()` on, computed in the worker a few images a
/// request (about [`SLICE_MS`] of its work each). `None`: stopped, or the worker is not there
/// (`records` holds what was done).
async fn in_worker(w: &crate::worker::client::Weights, cfg: &McConfig, set: &ImageSet, records: &mut Vec<ImageRecord>, done: impl Fn(usize), stop: &impl Fn() -> bool) -> Option<Result<(), String>> {
    let mut chunk = 1usize;
    while records.len() < set.len() {
        let first = records.len();
        let last = (first + chunk).min(set.len());
        let labels: Vec<usize> = (first..last).map(|i| set.label(i)).collect();
        let pixels: Vec<f32> = (first..last).flat_map(|i| set.image(i)).collect();
        let (result, ms) = crate::worker::client::records(w, cfg, first, labels, pixels).await?;
        match result {
            Ok(r) => records.extend(r),
            Err(e) => return Some(Err(e)),
        }
        done(records.len());
        if stop() {
            return None;
        }
        chunk = next_chunk(ms, last - first);
    }
    Some(Ok(()))
}

/// Keep a signal's value reachable from any component (the study's results outlive its view).
#[derive(Clone, Copy)]
pub struct StudyResults(pub RwSignal<Vec<StudyRun>, LocalStorage>);

/// The shipped ensembles of the current dataset, loaded once for the page: the study's key names
/// them, so a view that mounts again must see them at once (a fresh load would change the key
/// for a moment and hide the kept results).
#[derive(Clone, Copy)]
pub struct StudyEnsembles(pub LocalResource<Vec<(String, Vec<ModelEntry>)>>);

impl StudyEnsembles {
    pub fn new(store: crate::store::Store) -> Self {
        // Fetched from the first time the study is shown (no request before), then kept.
        let seen = Memo::new(move |before: Option<&bool>| before.copied().unwrap_or(false) || store.with(|s| s.view) == crate::state::View::Study);
        // Tracked through a memo: the whole state changes with every setting, the dataset seldom.
        let dataset = Memo::new(move |_| store.with(|s| s.dataset));
        StudyEnsembles(LocalResource::new(move || {
            let (d, seen) = (dataset.get(), seen.get());
            async move {
                if seen {
                    crate::runtime::ensembles(d).await
                } else {
                    Vec::new()
                }
            }
        }))
    }
}
