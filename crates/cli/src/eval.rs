//! Accuracy and the per-class MC-dropout report.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::{Tensor, TensorData};
use clap::Args;
use indicatif::ProgressBar;
use quiver_core::data::ImageSet;
use quiver_core::mc_dropout::{mc_dropout, McConfig};
use quiver_core::metrics::ClassReport;
use quiver_core::model::{Architecture, Classifier, Model};
use quiver_core::weights;
use serde::Serialize;

use crate::data::{load_split, Split};
use crate::params::McFlags;
use crate::Backend;

#[derive(Args)]
pub struct EvalArgs {
    /// Weights file (safetensors).
    #[arg(long)]
    pub weights: PathBuf,
    /// The data directory (as for `train`: MNIST t10k IDX files, the CIFAR-10 folder, the STL-10
    /// binaries), or a committed subset (the MNIST subset folder or a colour grid PNG).
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// The architecture, when the file's metadata does not name it.
    #[arg(long, value_parser = |s: &str| Architecture::from_name(s).ok_or(format!("unknown architecture {s}")))]
    pub arch: Option<Architecture>,
    /// Evaluate only the first N test images.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub mc: McFlags,
    /// Write the JSON here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
}

/// Deterministic predictions for every image of `set`, in batches of 500.
pub fn predict_all(model: &Model, set: &ImageSet) -> Vec<usize> {
    let device = model.device();
    let [c, h, w] = set.shape();
    let px = set.pixels();
    let mut out = Vec::with_capacity(set.len());
    for start in (0..set.len()).step_by(500) {
        let n = 500.min(set.len() - start);
        let data: Vec<f32> = set.images[start * px..(start + n) * px].iter().map(|&b| b as f32 / 255.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(data, [n, c, h, w]), &device);
        let pred = model.forward(x).argmax(1).into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        out.extend(pred.into_iter().map(|p| p as usize));
    }
    out
}

#[derive(Serialize)]
pub struct EvalReport {
    pub images: usize,
    /// Deterministic top-1 accuracy.
    pub accuracy: f32,
    /// Top-1 accuracy of the MC-dropout mean prediction.
    pub mc_accuracy: f32,
    pub passes: usize,
    pub p: f32,
    pub per_class: Vec<ClassReport>,
}

/// Accuracy and the per-class report; `o.passes == 0` skips the MC part. Image `i` uses the
/// mask seed `o.seed + i`.
pub fn evaluate(model: &Model, set: &ImageSet, o: &McConfig) -> Result<EvalReport> {
    let device = model.device();
    let k = model.architecture().num_classes();
    let mut count = vec![0usize; k];
    let mut correct = vec![0usize; k];
    let mut mc_correct = 0usize;
    let mut prob = vec![0f64; k];
    let mut var = vec![0f64; k];
    let mut ent = vec![0f64; k];
    let det = predict_all(model, set);
    let [ch, h, w] = set.shape();
    let bar = ProgressBar::new(set.len() as u64);
    for i in 0..set.len() {
        let y = set.label(i);
        count[y] += 1;
        if det[i] == y {
            correct[y] += 1;
        }
        if o.passes > 0 {
            let x = Tensor::<4>::from_data(TensorData::new(set.image(i), [1, ch, h, w]), &device);
            let cfg = McConfig { passes: o.passes, p: o.p, seed: o.seed.wrapping_add(i as u64) };
            let s = mc_dropout(model, x, &cfg).context("MC dropout")?;
            if s.predicted == y {
                mc_correct += 1;
            }
            prob[y] += s.mean[y] as f64;
            var[y] += s.variance[y] as f64;
            ent[y] += s.entropy as f64;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let per_class = (0..k)
        .map(|c| {
            let n = count[c].max(1) as f64;
            ClassReport {
                class: c,
                count: count[c],
                accuracy: (correct[c] as f64 / n) as f32,
                mc_true_class_prob: (prob[c] / n) as f32,
                mc_true_class_variance: (var[c] / n) as f32,
                mc_entropy: (ent[c] / n) as f32,
            }
        })
        .collect();
    let total = set.len().max(1) as f32;
    Ok(EvalReport {
        images: set.len(),
        accuracy: correct.iter().sum::<usize>() as f32 / total,
        mc_accuracy: mc_correct as f32 / total,
        passes: o.passes,
        p: o.p,
        per_class,
    })
}

/// Load a weights file. The architecture is `arch` if given, else the one the file's metadata
/// names, else the one its manifest entry names, else the one whose tensors the file holds,
/// else `mnist_cnn` (whose error message then lists what does not match).
pub fn load_model(path: &std::path::Path, arch: Option<Architecture>, backend: Backend) -> Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let from_manifest = || -> Option<Architecture> {
        let m = quiver_core::manifest::Manifest::from_json(&std::fs::read_to_string(path.with_file_name("manifest.json")).ok()?).ok()?;
        let file = path.file_name()?.to_string_lossy().to_string();
        m.models.iter().find(|e| e.file == file).map(|e| e.architecture)
    };
    let arch = arch
        .or_else(|| weights::architecture_of(&bytes))
        .or_else(from_manifest)
        .or_else(|| Architecture::ALL.into_iter().find(|&a| weights::validate(&bytes, a).is_ok()))
        .unwrap_or(Architecture::MnistCnn);
    weights::load(&bytes, arch, &backend.device()?).with_context(|| format!("loading {} as {}", path.display(), arch.name()))
}

pub fn run(a: EvalArgs) -> Result<()> {
    let model = load_model(&a.weights, a.arch, a.backend)?;
    let mut set = load_split(model.architecture(), &a.data, Split::Test)?;
    if let Some(n) = a.limit {
        set = set.take(n);
    }
    let report = evaluate(&model, &set, &a.mc.0)?;
    let json = serde_json::to_string_pretty(&report)?;
    match a.out {
        Some(p) => std::fs::write(p, json)?,
        None => println!("{json}"),
    }
    Ok(())
}
