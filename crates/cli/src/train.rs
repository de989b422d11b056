//! Training on MNIST with Adam; writes safetensors and the manifest entry.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use quiver_core::data::mnist::MnistSet;
use quiver_core::mc_dropout::McConfig;
use quiver_core::manifest::{sha256_hex, Manifest, ModelEntry, SubsetScore, MNIST_CLASSES};
use quiver_core::model::{Classifier, MnistCnn, Model};
use quiver_core::weights;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::load_mnist;
use crate::eval::{evaluate, predict_all};
use crate::Backend;

/// A deterministic permutation of `0..n` for one epoch.
fn shuffle(n: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx
}

#[derive(Args, Clone)]
pub struct TrainArgs {
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// Dropout rate during training.
    #[arg(long)]
    pub dropout: f32,
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// The learning rate is multiplied by this after every epoch.
    #[arg(long, default_value_t = 0.6)]
    pub lr_decay: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output safetensors file; its manifest entry goes into `manifest.json` beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Use only the first N training images (for quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
    /// MC-dropout passes for the per-class report.
    #[arg(long, default_value_t = 50)]
    pub report_passes: usize,
}

fn batch(set: &MnistSet, idx: &[usize], device: &Device) -> (Tensor<4>, Tensor<2>) {
    let px = set.rows * set.cols;
    let mut images = Vec::with_capacity(idx.len() * px);
    let mut onehot = vec![0f32; idx.len() * 10];
    for (b, &i) in idx.iter().enumerate() {
        images.extend(set.image(i));
        onehot[b * 10 + set.label(i)] = 1.0;
    }
    (
        Tensor::from_data(TensorData::new(images, [idx.len(), 1, set.rows, set.cols]), device),
        Tensor::from_data(TensorData::new(onehot, [idx.len(), 10]), device),
    )
}

fn cross_entropy(logits: Tensor<2>, onehot: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0] as f32;
    -(log_softmax(logits, 1) * onehot).sum() / n
}

pub fn run(a: TrainArgs) -> Result<()> {
    anyhow::ensure!((0.0..1.0).contains(&a.dropout), "--dropout must be in [0, 1), got {}", a.dropout);
    let command = format!("quiver {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    let mut train = load_mnist(&a.data, "train")?;
    if let Some(n) = a.limit {
        train = train.take(n);
    }
    let test = load_mnist(&a.data, "t10k")?;
    let device = a.backend.device()?.autodiff();
    device.seed(a.seed);
    let mut model = MnistCnn::init(&device);
    let mut optim = AdamConfig::new().init();
    let start = Instant::now();
    let steps = train.len().div_ceil(a.batch_size);
    let mut lr = a.lr;
    for epoch in 1..=a.epochs {
        let order = shuffle(train.len(), a.seed.wrapping_mul(1000).wrapping_add(epoch as u64));
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}").unwrap());
        bar.set_message(format!("{epoch}/{}", a.epochs));
        let mut running = 0.0f32;
        for (s, chunk) in order.chunks(a.batch_size).enumerate() {
            let (x, y) = batch(&train, chunk, &device);
            let loss = cross_entropy(model.forward_train(x, a.dropout as f64), y);
            if s % 50 == 0 {
                running = loss.clone().into_scalar::<f32>();
                bar.set_message(format!("{epoch}/{} loss {running:.4}", a.epochs));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            bar.inc(1);
        }
        bar.finish();
        let valid = Model::MnistCnn(model.valid());
        let acc = quick_accuracy(&valid, &test.take(2000))?;
        println!("epoch {epoch}: last loss {running:.4}, accuracy on the first 2000 test images {:.2} %", acc * 100.0);
        lr *= a.lr_decay;
    }
    let train_seconds = start.elapsed().as_secs_f32();
    let model = Model::MnistCnn(model.valid()).to_device(&a.backend.device()?);
    let report = evaluate(&model, &test, &McConfig { passes: a.report_passes, p: a.dropout, seed: 0 })?;
    println!("test accuracy {:.2} % ({} images)", report.accuracy * 100.0, report.images);

    let mut meta = BTreeMap::new();
    meta.insert("architecture".into(), "mnist_cnn".into());
    meta.insert("train_dropout".into(), a.dropout.to_string());
    meta.insert("command".into(), command.clone());
    let bytes = weights::save(&model, meta);
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    let file = a.out.file_name().unwrap().to_string_lossy().to_string();
    let manifest_path = a.out.with_file_name("manifest.json");
    let mut manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => Manifest::from_json(&t).context("reading the existing manifest")?,
        Err(_) => Manifest::default(),
    };
    manifest.upsert(ModelEntry {
        id: file.trim_end_matches(".safetensors").to_string(),
        file,
        architecture: model.architecture(),
        dataset: "MNIST".into(),
        class_names: MNIST_CLASSES.iter().map(|s| s.to_string()).collect(),
        train_dropout: a.dropout,
        test_accuracy: report.accuracy,
        test_images: report.images,
        report_passes: a.report_passes,
        report_dropout: a.dropout,
        per_class: report.per_class,
        sha256: sha256_hex(&bytes),
        bytes: bytes.len(),
        command,
        epochs: a.epochs,
        train_seconds,
        backend: format!("{:?}", a.backend).to_lowercase(),
        subset: Some(subset_score(&model, &test, SUBSET_IMAGES)?),
    });
    std::fs::write(&manifest_path, manifest.to_json())?;
    println!("wrote {} and {}", a.out.display(), manifest_path.display());
    Ok(())
}

/// Size of the committed test subset (`quiver make-samples`).
pub const SUBSET_IMAGES: usize = 1000;

/// Deterministic score on the first `n` test images.
pub fn subset_score(model: &Model, test: &MnistSet, n: usize) -> Result<SubsetScore> {
    let set = test.take(n);
    let correct = correct_count(model, &set)?;
    Ok(SubsetScore { images: set.len(), correct, accuracy: correct as f32 / set.len() as f32 })
}

fn quick_accuracy(model: &Model, set: &MnistSet) -> Result<f32> {
    Ok(correct_count(model, set)? as f32 / set.len() as f32)
}

fn correct_count(model: &Model, set: &MnistSet) -> Result<usize> {
    Ok(predict_all(model, set).into_iter().enumerate().filter(|&(i, p)| set.label(i) == p).count())
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    #[arg(long, default_value_t = 40)]
    pub steps: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
}

/// Time training steps (forward + backward + Adam) on each CPU backend in this build.
pub fn bench(a: BenchArgs) -> Result<()> {
    let train = load_mnist(&a.data, "train")?.take(a.steps * a.batch_size);
    for backend in [Backend::Flex, Backend::Ndarray] {
        let Ok(device) = backend.device() else {
            println!("{backend:?}: not in this build");
            continue;
        };
        let device = device.autodiff();
        device.seed(1);
        let mut model = MnistCnn::init(&device);
        let mut optim = AdamConfig::new().init();
        let idx: Vec<usize> = (0..train.len()).collect();
        let mut times = Vec::new();
        for chunk in idx.chunks(a.batch_size) {
            let t = Instant::now();
            let (x, y) = batch(&train, chunk, &device);
            let loss = cross_entropy(model.forward_train(x, 0.25), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model, grads);
            let _ = loss.into_scalar::<f32>();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.drain(..3.min(times.len()));
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{backend:?}: median {median:.1} ms per step of {} images → {:.0} s per 60k-image epoch",
            a.batch_size,
            median * 60000.0 / a.batch_size as f64 / 1000.0
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct RecordArgs {
    /// A weights file listed in the manifest beside it.
    #[arg(long)]
    pub weights: PathBuf,
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
}

pub fn record_subset(a: RecordArgs) -> Result<()> {
    let model = crate::eval::load_model(&a.weights, Backend::Flex)?;
    let test = load_mnist(&a.data, "t10k")?;
    let score = subset_score(&model, &test, SUBSET_IMAGES)?;
    let manifest_path = a.weights.with_file_name("manifest.json");
    let mut manifest = Manifest::from_json(&std::fs::read_to_string(&manifest_path)?)?;
    let file = a.weights.file_name().unwrap().to_string_lossy().to_string();
    let entry = manifest.models.iter_mut().find(|m| m.file == file).context("the weights file is not in the manifest")?;
    println!("{file}: {}/{} correct on the first {} test images", score.correct, score.images, score.images);
    entry.subset = Some(score);
    std::fs::write(&manifest_path, manifest.to_json())?;
    Ok(())
}
