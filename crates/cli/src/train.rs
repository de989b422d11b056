//! Training with Adam; writes safetensors and the manifest entry.
//!
//! `mnist_cnn` trains exactly as before (per-epoch exponential LR decay, no augmentation).
//! The AlexNet presets add augmentation (random crop from a reflect-padded image, horizontal
//! flip), a warm-up + cosine LR schedule per step, and a checkpoint after every epoch that
//! `--resume` continues from. Every epoch's randomness (shuffle, augmentation, dropout) comes
//! from seeds derived from `--seed` and the epoch number, so a resumed run draws the same numbers
//! as an uninterrupted one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use quiver_core::data::ImageSet;
use quiver_core::mc_dropout::McConfig;
use quiver_core::manifest::{sha256_hex, EnsembleTag, Manifest, ModelEntry, SubsetScore};
use quiver_core::model::alexnet::AlexnetSpec;
use quiver_core::model::{AlexNet, Architecture, Classifier, MnistCnn, Model};
use quiver_core::weights::{self, StoreDtype};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{dataset_name, load_split, subset_of, Split};
use crate::eval::{evaluate, predict_all};
use crate::Backend;

/// A deterministic permutation of `0..n` for one epoch.
fn shuffle(n: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx
}

/// Seed of epoch `epoch`'s randomness of kind `kind` (0 shuffle, 1 augmentation, 2 dropout).
fn epoch_seed(seed: u64, epoch: usize, kind: u64) -> u64 {
    seed.wrapping_mul(1000).wrapping_add(epoch as u64).wrapping_add(kind.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn parse_ensemble(s: &str) -> Result<EnsembleTag, String> {
    let (group, member) = s.split_once(':').ok_or_else(|| format!("expected GROUP:MEMBER, got {s:?}"))?;
    let member = member.parse().map_err(|_| format!("the member must be a whole number, got {member:?}"))?;
    if group.is_empty() {
        return Err(format!("empty group in {s:?}"));
    }
    Ok(EnsembleTag { group: group.to_string(), member })
}

/// The training images to use: a random `fraction` of `0..n` (rounded, at least one), drawn
/// without replacement with ChaCha8 seeded by `seed`, in ascending order; all when `fraction` ≥ 1.
pub fn subset_indices(n: usize, fraction: f64, seed: u64) -> Vec<usize> {
    if fraction >= 1.0 {
        return (0..n).collect();
    }
    let k = ((n as f64 * fraction).round() as usize).clamp(1, n);
    let mut idx = shuffle(n, seed ^ 0x5EED_5AB5_E7u64);
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

fn parse_arch(s: &str) -> Result<Architecture, String> {
    Architecture::from_name(s).ok_or_else(|| format!("unknown architecture {s:?} (mnist_cnn, alexnet_cifar10, alexnet_stl10)"))
}

#[derive(Args, Clone)]
pub struct TrainArgs {
    /// mnist_cnn, alexnet_cifar10 or alexnet_stl10.
    #[arg(long, default_value = "mnist_cnn", value_parser = parse_arch)]
    pub arch: Architecture,
    /// MNIST: directory of IDX files. CIFAR-10: directory with `train/<class>/*.jpg` and
    /// `test/<class>/*.jpg`. STL-10: directory with `train_X.bin`, `train_y.bin`, `test_X.bin`,
    /// `test_y.bin`.
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// Name of the dataset in the manifest (default: MNIST, "CIFAR-10 (JPEG copy)", STL-10).
    #[arg(long)]
    pub dataset_name: Option<String>,
    /// Dropout rate during training.
    #[arg(long)]
    pub dropout: f32,
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// mnist_cnn: the learning rate is multiplied by this after every epoch.
    #[arg(long, default_value_t = 0.6)]
    pub lr_decay: f64,
    /// AlexNet: epochs of linear warm-up from lr/10, then cosine decay to lr/100.
    #[arg(long, default_value_t = 1.0)]
    pub warmup_epochs: f64,
    /// AlexNet: L2 weight decay added to the gradient (Adam's `weight_decay`).
    #[arg(long, default_value_t = 5e-5)]
    pub weight_decay: f32,
    /// AlexNet: switch off random crops and flips.
    #[arg(long)]
    pub no_augment: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output safetensors file; its manifest entry goes into `manifest.json` beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Store the weights as F16 (half the size; computation stays F32).
    #[arg(long)]
    pub f16: bool,
    /// Use only N training images (for quick runs): MNIST the first N, the class-ordered colour
    /// sets every k-th image, so that all classes appear.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Train on a random fraction (0, 1] of the training images, drawn without replacement by
    /// `--subset-seed` (ensemble members on different halves of the data); 1 keeps every image.
    /// Applied after `--limit`.
    #[arg(long, default_value_t = 1.0)]
    pub subset_fraction: f64,
    /// Seed of the `--subset-fraction` draw.
    #[arg(long, default_value_t = 0)]
    pub subset_seed: u64,
    /// Record the model in the manifest as member `MEMBER` of ensemble `GROUP` (`GROUP:MEMBER`,
    /// e.g. `mnist_seeds_p025:3`).
    #[arg(long, value_parser = parse_ensemble)]
    pub ensemble: Option<EnsembleTag>,
    /// Stop after this epoch's checkpoint without writing the weights (to test `--resume`).
    #[arg(long)]
    pub stop_after_epoch: Option<usize>,
    /// Score only the first N test images after each epoch (0: skip).
    #[arg(long, default_value_t = 2000)]
    pub epoch_test_images: usize,
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
    /// MC-dropout passes for the per-class report.
    #[arg(long, default_value_t = 50)]
    pub report_passes: usize,
    /// AlexNet: write a checkpoint (weights, Adam state, epoch, history) here after every epoch.
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the newest checkpoint in --checkpoint-dir.
    #[arg(long)]
    pub resume: bool,
}

/// Batch of images (pixels in [0, 1]) and one-hot labels; `aug` crops and flips each image.
fn batch(set: &ImageSet, idx: &[usize], aug: Option<(&mut ChaCha8Rng, usize)>, device: &Device) -> (Tensor<4>, Tensor<2>) {
    let [c, h, w] = set.shape();
    let px = set.pixels();
    let mut images = Vec::with_capacity(idx.len() * px);
    let mut onehot = vec![0f32; idx.len() * 10];
    match aug {
        None => {
            for &i in idx {
                images.extend(set.image_bytes(i).iter().map(|&b| b as f32 / 255.0));
            }
        }
        Some((rng, pad)) => {
            for &i in idx {
                let dy = rng.gen_range(0..=2 * pad) as isize - pad as isize;
                let dx = rng.gen_range(0..=2 * pad) as isize - pad as isize;
                let flip = rng.gen_bool(0.5);
                augment_into(set.image_bytes(i), [c, h, w], dy, dx, flip, &mut images);
            }
        }
    }
    for (b, &i) in idx.iter().enumerate() {
        onehot[b * 10 + set.label(i)] = 1.0;
    }
    (
        Tensor::from_data(TensorData::new(images, [idx.len(), c, h, w]), device),
        Tensor::from_data(TensorData::new(onehot, [idx.len(), 10]), device),
    )
}

/// Reflect index `i` into `0..n` (edge not repeated, like `np.pad(mode="reflect")`).
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let mut i = i;
    if i < 0 {
        i = -i;
    }
    if i >= n {
        i = 2 * (n - 1) - i;
    }
    i.clamp(0, n - 1) as usize
}

/// A crop of the reflect-padded image shifted by (dy, dx), optionally flipped left–right.
pub fn augment_into(src: &[u8], [c, h, w]: [usize; 3], dy: isize, dx: isize, flip: bool, out: &mut Vec<f32>) {
    for ch in 0..c {
        let plane = &src[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let sy = reflect(y as isize + dy, h);
            for x in 0..w {
                let xx = if flip { w - 1 - x } else { x };
                let sx = reflect(xx as isize + dx, w);
                out.push(plane[sy * w + sx] as f32 / 255.0);
            }
        }
    }
}

fn cross_entropy(logits: Tensor<2>, onehot: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0] as f32;
    -(log_softmax(logits, 1) * onehot).sum() / n
}

/// Learning rate at global step `step` of `total`: linear warm-up from lr/10 over `warmup`
/// steps, then cosine from lr to lr/100.
fn cosine_lr(lr: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return lr * (0.1 + 0.9 * step as f64 / warmup as f64);
    }
    let t = (step - warmup) as f64 / (total - warmup).max(1) as f64;
    let min = lr / 100.0;
    min + (lr - min) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
}

/// What a checkpoint records besides the weights and the Adam state.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct CheckpointState {
    /// Epochs completed.
    epoch: usize,
    architecture: Architecture,
    dropout: f32,
    seed: u64,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    weight_decay: f32,
    augment: bool,
    train_images: usize,
    /// Seconds spent training so far (over all sessions).
    train_seconds: f32,
    /// Adam keys its state by parameter id; these are the ids in module-visit order.
    param_ids: Vec<u64>,
    history: Vec<EpochLog>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct EpochLog {
    epoch: usize,
    mean_loss: f32,
    lr_end: f64,
    test_images: usize,
    test_accuracy: f32,
    seconds: f32,
}

struct Ids(Vec<u64>);
impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id.val());
    }
}
struct SetIds(std::vec::IntoIter<u64>);
impl ModuleMapper for SetIds {
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = ParamId::from(self.0.next().expect("as many ids as parameters"));
        param
    }
}

fn param_ids<M: Module>(m: &M) -> Vec<u64> {
    let mut v = Ids(Vec::new());
    m.visit(&mut v);
    v.0
}

fn checkpoint_dirs(dir: &Path) -> Vec<(usize, PathBuf)> {
    let mut out: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let n = name.strip_prefix("epoch-")?.parse().ok()?;
            e.path().join("state.json").exists().then_some((n, e.path()))
        })
        .collect();
    out.sort();
    out
}

fn save_checkpoint(dir: &Path, model: &AlexNet, optim: &burn::optim::ModuleOptimizer, state: &CheckpointState) -> Result<()> {
    let final_dir = dir.join(format!("epoch-{:03}", state.epoch));
    let tmp = dir.join(format!("epoch-{:03}.tmp", state.epoch));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let valid = Model::AlexNet(model.valid());
    let mut meta = BTreeMap::new();
    meta.insert("architecture".to_string(), state.architecture.name().to_string());
    meta.insert("epoch".to_string(), state.epoch.to_string());
    std::fs::write(tmp.join("model.safetensors"), weights::save(&valid, meta))?;
    optim.save(tmp.join("optim.bpk")).map_err(|e| anyhow::anyhow!("saving the Adam state: {e:?}"))?;
    std::fs::write(tmp.join("state.json"), serde_json::to_string_pretty(state)?)?;
    let _ = std::fs::remove_dir_all(&final_dir);
    std::fs::rename(&tmp, &final_dir)?;
    // Keep the two newest.
    let all = checkpoint_dirs(dir);
    for (_, p) in all.iter().take(all.len().saturating_sub(2)) {
        let _ = std::fs::remove_dir_all(p);
    }
    Ok(())
}

pub fn run(a: TrainArgs) -> Result<()> {
    anyhow::ensure!((0.0..1.0).contains(&a.dropout), "--dropout must be in [0, 1), got {}", a.dropout);
    let command = format!("quiver {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    let t_load = Instant::now();
    let mut train = load_split(a.arch, &a.data, Split::Train)?;
    if let Some(n) = a.limit {
        train = if a.arch == Architecture::MnistCnn { train.take(n) } else { subset_spread(&train, n) };
    }
    anyhow::ensure!(a.subset_fraction > 0.0 && a.subset_fraction <= 1.0, "--subset-fraction must be in (0, 1], got {}", a.subset_fraction);
    if a.subset_fraction < 1.0 {
        train = train.select(&subset_indices(train.len(), a.subset_fraction, a.subset_seed));
    }
    let test = load_split(a.arch, &a.data, Split::Test)?;
    println!(
        "{}: {} training and {} test images of {:?}, loaded in {:.1} s",
        a.arch.name(),
        train.len(),
        test.len(),
        train.shape(),
        t_load.elapsed().as_secs_f32()
    );
    anyhow::ensure!(train.shape() == a.arch.input_shape(), "the data has shape {:?}, {} needs {:?}", train.shape(), a.arch.name(), a.arch.input_shape());
    let start = Instant::now();
    let (model, epochs_run, train_seconds, history) = match a.arch {
        Architecture::MnistCnn => {
            anyhow::ensure!(a.checkpoint_dir.is_none() && !a.resume, "checkpoints are only implemented for the AlexNet presets");
            let m = train_mnist(&a, &train, &test)?;
            (m, a.epochs, start.elapsed().as_secs_f32(), Vec::new())
        }
        _ => match train_alexnet(&a, &train, &test)? {
            Some(r) => r,
            None => {
                println!("stopped after epoch {} as asked (--stop-after-epoch)", a.stop_after_epoch.unwrap_or(0));
                return Ok(());
            }
        },
    };
    let model = model.to_device(&a.backend.device()?);

    let mut meta = BTreeMap::new();
    meta.insert("architecture".into(), a.arch.name().into());
    meta.insert("train_dropout".into(), a.dropout.to_string());
    meta.insert("command".into(), command.clone());
    let dtype = if a.f16 { StoreDtype::F16 } else { StoreDtype::F32 };
    let bytes = weights::save_as(&model, meta, dtype);
    // Score the model exactly as it ships (F16 rounding included).
    let model = weights::load(&bytes, a.arch, &a.backend.device()?)?;
    let report = evaluate(&model, &test, &McConfig { passes: a.report_passes, p: a.dropout, seed: 0 })?;
    println!("test accuracy {:.2} % ({} images)", report.accuracy * 100.0, report.images);
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    let file = a.out.file_name().unwrap().to_string_lossy().to_string();
    let id = file.trim_end_matches(".safetensors").to_string();
    let manifest_path = a.out.with_file_name("manifest.json");
    let mut manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => Manifest::from_json(&t).context("reading the existing manifest")?,
        Err(_) => Manifest::default(),
    };
    manifest.upsert(ModelEntry {
        id: id.clone(),
        file,
        architecture: model.architecture(),
        dataset: a.dataset_name.clone().unwrap_or_else(|| dataset_name(a.arch).into()),
        class_names: a.arch.class_names().iter().map(|s| s.to_string()).collect(),
        train_dropout: a.dropout,
        test_accuracy: report.accuracy,
        test_images: report.images,
        report_passes: a.report_passes,
        report_dropout: a.dropout,
        per_class: report.per_class,
        sha256: sha256_hex(&bytes),
        bytes: bytes.len(),
        command,
        epochs: epochs_run,
        train_seconds,
        backend: format!("{:?}", a.backend).to_lowercase(),
        subset: Some(subset_score(&model, &subset_of(a.arch, &test))?),
    });
    let old = std::fs::read_to_string(&manifest_path).ok();
    std::fs::write(&manifest_path, manifest.to_json_keeping(old.as_deref(), a.ensemble.as_ref().map(|t| (id.as_str(), t))))?;
    if !history.is_empty() {
        let log = a.out.with_extension("history.json");
        std::fs::write(&log, serde_json::to_string_pretty(&history)?)?;
        println!("wrote {}", log.display());
    }
    println!("wrote {} ({} bytes) and {}", a.out.display(), bytes.len(), manifest_path.display());
    Ok(())
}

/// The original MNIST loop, unchanged.
fn train_mnist(a: &TrainArgs, train: &ImageSet, test: &ImageSet) -> Result<Model> {
    let device = a.backend.device()?.autodiff();
    device.seed(a.seed);
    let mut model = MnistCnn::init(&device);
    let mut optim = AdamConfig::new().init();
    let steps = train.len().div_ceil(a.batch_size);
    let mut lr = a.lr;
    for epoch in 1..=a.epochs {
        let order = shuffle(train.len(), a.seed.wrapping_mul(1000).wrapping_add(epoch as u64));
        let bar = progress(steps, epoch, a.epochs);
        let mut running = 0.0f32;
        for (s, chunk) in order.chunks(a.batch_size).enumerate() {
            let (x, y) = batch(train, chunk, None, &device);
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
        let valid = Model::mnist(model.valid());
        let acc = quick_accuracy(&valid, &test.take(a.epoch_test_images))?;
        println!("epoch {epoch}: last loss {running:.4}, accuracy on the first {} test images {:.2} %", a.epoch_test_images.min(test.len()), acc * 100.0);
        lr *= a.lr_decay;
    }
    Ok(Model::mnist(model.valid()))
}

fn progress(steps: usize, epoch: usize, epochs: usize) -> ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(steps as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}").unwrap());
    bar.set_message(format!("{epoch}/{epochs}"));
    bar
}

/// Crop padding: 4 px at 32×32, scaled with the image side (12 px at 96×96).
fn crop_pad(arch: Architecture) -> usize {
    arch.input_shape()[1] / 8
}

/// A finished AlexNet run: the model, epochs, training seconds and the per-epoch log.
type Trained = (Model, usize, f32, Vec<EpochLog>);

/// Train (or continue training) an AlexNet preset; `None` when `--stop-after-epoch` stopped it.
fn train_alexnet(a: &TrainArgs, train: &ImageSet, test: &ImageSet) -> Result<Option<Trained>> {
    let device = a.backend.device()?.autodiff();
    let spec = AlexnetSpec::for_arch(a.arch).expect("AlexNet preset");
    let steps = train.len().div_ceil(a.batch_size);
    let total = steps * a.epochs;
    let warmup = ((a.warmup_epochs * steps as f64) as usize).min(total);
    let adam = AdamConfig::new().with_weight_decay((a.weight_decay > 0.0).then(|| WeightDecayConfig::new(a.weight_decay)));
    let mut optim = adam.init();
    let mut fresh = CheckpointState {
        epoch: 0,
        architecture: a.arch,
        dropout: a.dropout,
        seed: a.seed,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        weight_decay: a.weight_decay,
        augment: !a.no_augment,
        train_images: train.len(),
        train_seconds: 0.0,
        param_ids: Vec::new(),
        history: Vec::new(),
    };
    let (mut model, mut state) = match (&a.checkpoint_dir, a.resume) {
        (Some(dir), true) if !checkpoint_dirs(dir).is_empty() => {
            let (_, latest) = checkpoint_dirs(dir).pop().unwrap();
            let st: CheckpointState = serde_json::from_str(&std::fs::read_to_string(latest.join("state.json"))?)?;
            let same = (st.architecture, st.dropout, st.seed, st.epochs, st.batch_size, st.lr, st.weight_decay, st.augment, st.train_images)
                == (fresh.architecture, fresh.dropout, fresh.seed, fresh.epochs, fresh.batch_size, fresh.lr, fresh.weight_decay, fresh.augment, fresh.train_images);
            anyhow::ensure!(same, "the checkpoint in {} was made with other settings: {st:?}", latest.display());
            let bytes = std::fs::read(latest.join("model.safetensors"))?;
            let Model::AlexNet(m) = weights::load(&bytes, a.arch, &device)? else { unreachable!() };
            let m = m.map(&mut SetIds(st.param_ids.clone().into_iter())).train();
            optim = optim.load(latest.join("optim.bpk")).map_err(|e| anyhow::anyhow!("loading the Adam state: {e:?}"))?;
            println!("resuming after epoch {} from {}", st.epoch, latest.display());
            (m, st)
        }
        (None, true) => anyhow::bail!("--resume needs --checkpoint-dir"),
        _ => {
            device.seed(a.seed);
            let m = AlexNet::with_spec(spec, &device);
            fresh.param_ids = param_ids(&m);
            (m, fresh)
        }
    };
    if let Some(dir) = &a.checkpoint_dir {
        std::fs::create_dir_all(dir)?;
    }
    for epoch in state.epoch + 1..=a.epochs {
        let t0 = Instant::now();
        let order = shuffle(train.len(), epoch_seed(a.seed, epoch, 0));
        let mut aug_rng = ChaCha8Rng::seed_from_u64(epoch_seed(a.seed, epoch, 1));
        device.seed(epoch_seed(a.seed, epoch, 2));
        let bar = progress(steps, epoch, a.epochs);
        let mut loss_sum = 0f64;
        let mut lr = a.lr;
        for (s, chunk) in order.chunks(a.batch_size).enumerate() {
            let aug = (!a.no_augment).then(|| (&mut aug_rng, crop_pad(a.arch)));
            let (x, y) = batch(train, chunk, aug, &device);
            let loss = cross_entropy(model.forward_train(x, a.dropout as f64), y);
            let l = loss.clone().into_scalar::<f32>();
            anyhow::ensure!(l.is_finite(), "the loss diverged at epoch {epoch} step {s}");
            loss_sum += l as f64;
            lr = cosine_lr(a.lr, (epoch - 1) * steps + s, warmup, total);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            bar.inc(1);
            if s % 20 == 0 {
                bar.set_message(format!("{epoch}/{} loss {l:.4}", a.epochs));
            }
            if s % 100 == 0 && bar.is_hidden() {
                println!("epoch {epoch} step {s}/{steps} loss {l:.4} lr {lr:.2e} {:.0} ms/step", t0.elapsed().as_secs_f64() * 1000.0 / (s + 1) as f64);
            }
        }
        bar.finish();
        let valid = Model::AlexNet(model.valid());
        let n_test = a.epoch_test_images.min(test.len());
        let acc = if n_test > 0 { quick_accuracy(&valid, &subset_spread(test, n_test))? } else { f32::NAN };
        let seconds = t0.elapsed().as_secs_f32();
        state.train_seconds += seconds;
        state.epoch = epoch;
        state.history.push(EpochLog { epoch, mean_loss: (loss_sum / steps as f64) as f32, lr_end: lr, test_images: n_test, test_accuracy: acc, seconds });
        println!(
            "epoch {epoch}/{}: mean loss {:.4}, accuracy on {n_test} test images {:.2} %, {seconds:.0} s",
            a.epochs,
            loss_sum / steps as f64,
            acc * 100.0
        );
        if let Some(dir) = &a.checkpoint_dir {
            save_checkpoint(dir, &model, &optim, &state)?;
        }
        if a.stop_after_epoch == Some(epoch) && epoch < a.epochs {
            return Ok(None);
        }
    }
    Ok(Some((Model::AlexNet(model.valid()), a.epochs, state.train_seconds, state.history)))
}

/// `n` test images spread over all classes (every k-th image).
fn subset_spread(test: &ImageSet, n: usize) -> ImageSet {
    let step = (test.len() / n).max(1);
    test.select(&(0..test.len()).step_by(step).take(n).collect::<Vec<_>>())
}

/// Deterministic score on a set (the committed test subset).
pub fn subset_score(model: &Model, set: &ImageSet) -> Result<SubsetScore> {
    let correct = correct_count(model, set)?;
    Ok(SubsetScore { images: set.len(), correct, accuracy: correct as f32 / set.len() as f32 })
}

fn quick_accuracy(model: &Model, set: &ImageSet) -> Result<f32> {
    Ok(correct_count(model, set)? as f32 / set.len().max(1) as f32)
}

fn correct_count(model: &Model, set: &ImageSet) -> Result<usize> {
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
    /// Time this architecture (AlexNet presets use random images: no data needed).
    #[arg(long, default_value = "mnist_cnn", value_parser = parse_arch)]
    pub arch: Architecture,
    /// AlexNet conv widths, e.g. 64,128,192,192,128.
    #[arg(long, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// AlexNet FC widths, e.g. 512,512.
    #[arg(long, value_delimiter = ',')]
    pub fc: Option<Vec<usize>>,
    /// Training images per epoch, for the epoch-time estimate.
    #[arg(long, default_value_t = 60000)]
    pub epoch_images: usize,
}

/// Time training steps (forward + backward + Adam) on each CPU backend in this build.
pub fn bench(a: BenchArgs) -> Result<()> {
    let train: ImageSet = match a.arch {
        Architecture::MnistCnn => crate::data::load_mnist(&a.data, "train")?.take(a.steps * a.batch_size).into(),
        arch => {
            let [c, h, w] = arch.input_shape();
            let n = a.steps * a.batch_size;
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut s = ImageSet::empty(c, h, w);
            s.images = (0..n * c * h * w).map(|_| rng.gen()).collect();
            s.labels = (0..n).map(|i| (i % 10) as u8).collect();
            s
        }
    };
    for backend in [Backend::Flex, Backend::Ndarray] {
        let Ok(device) = backend.device() else {
            println!("{backend:?}: not in this build");
            continue;
        };
        let device = device.autodiff();
        device.seed(1);
        let times = match a.arch {
            Architecture::MnistCnn => bench_loop(MnistCnn::init(&device), &train, a.batch_size, &device),
            arch => {
                let mut spec = AlexnetSpec::for_arch(arch).unwrap();
                if let (Some(w), Some(f)) = (&a.widths, &a.fc) {
                    spec = spec.with_widths(w.as_slice().try_into()?, f.as_slice().try_into()?);
                }
                println!("{} widths {:?} fc {:?}", arch.name(), spec.widths, spec.fc);
                bench_loop(AlexNet::with_spec(spec, &device), &train, a.batch_size, &device)
            }
        };
        let median = times[times.len() / 2];
        println!(
            "{backend:?}: median {median:.1} ms per step of {} images → {:.0} s per {}-image epoch",
            a.batch_size,
            median * a.epoch_images as f64 / a.batch_size as f64 / 1000.0,
            a.epoch_images
        );
    }
    Ok(())
}

fn bench_loop<M: Module + Classifier>(mut model: M, train: &ImageSet, batch_size: usize, device: &Device) -> Vec<f64> {
    let mut optim = AdamConfig::new().init();
    let idx: Vec<usize> = (0..train.len()).collect();
    let mut times = Vec::new();
    for chunk in idx.chunks(batch_size) {
        let t = Instant::now();
        let (x, y) = batch(train, chunk, None, device);
        let loss = cross_entropy(model.forward_train(x, 0.25), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let _ = loss.into_scalar::<f32>();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.drain(..3.min(times.len().saturating_sub(1)));
    times.sort_by(f64::total_cmp);
    times
}

#[derive(Args)]
pub struct RecordArgs {
    /// A weights file listed in the manifest beside it.
    #[arg(long)]
    pub weights: PathBuf,
    /// The data directory (as for `train`), or a committed subset file.
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
}

pub fn record_subset(a: RecordArgs) -> Result<()> {
    let model = crate::eval::load_model(&a.weights, None, Backend::Flex)?;
    let arch = model.architecture();
    let test = load_split(arch, &a.data, Split::Test)?;
    let score = subset_score(&model, &subset_of(arch, &test))?;
    let manifest_path = a.weights.with_file_name("manifest.json");
    let mut manifest = Manifest::from_json(&std::fs::read_to_string(&manifest_path)?)?;
    let file = a.weights.file_name().unwrap().to_string_lossy().to_string();
    let entry = manifest.models.iter_mut().find(|m| m.file == file).context("the weights file is not in the manifest")?;
    println!("{file}: {}/{} correct on the committed test subset", score.correct, score.images);
    entry.subset = Some(score);
    let old = std::fs::read_to_string(&manifest_path).ok();
    std::fs::write(&manifest_path, manifest.to_json_keeping(old.as_deref(), None))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn augmentation_shifts_with_reflection_and_flips() {
        // One 1×3×4 image: value = 10·row + col.
        let src: Vec<u8> = (0..3).flat_map(|r| (0..4).map(move |c| (10 * r + c) as u8)).collect();
        let run = |dy, dx, flip| {
            let mut out = Vec::new();
            augment_into(&src, [1, 3, 4], dy, dx, flip, &mut out);
            out.iter().map(|v| (v * 255.0).round() as u8).collect::<Vec<_>>()
        };
        assert_eq!(run(0, 0, false), src);
        assert_eq!(run(0, 0, true), vec![3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20]);
        // Shift right by one: column −1 reflects to column 1 (edge not repeated).
        assert_eq!(&run(0, -1, false)[..4], &[1, 0, 1, 2]);
        // Shift down by one: the last output row reads row 3, which reflects to row 1.
        assert_eq!(&run(1, 0, false)[..], &[10, 11, 12, 13, 20, 21, 22, 23, 10, 11, 12, 13]);
        assert_eq!(reflect(-2, 5), 2);
        assert_eq!(reflect(6, 5), 2);
    }

    #[test]
    fn subset_draws_half_without_repeats_and_depends_on_the_seed() {
        let a = subset_indices(1000, 0.5, 1);
        assert_eq!(a.len(), 500);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(a.iter().all(|&i| i < 1000));
        assert_eq!(a, subset_indices(1000, 0.5, 1));
        assert_ne!(a, subset_indices(1000, 0.5, 2));
        assert_eq!(subset_indices(10, 1.0, 7), (0..10).collect::<Vec<_>>());
        assert_eq!(parse_ensemble("g:3").unwrap(), EnsembleTag { group: "g".into(), member: 3 });
        assert!(parse_ensemble("g").is_err() && parse_ensemble(":1").is_err() && parse_ensemble("g:x").is_err());
    }

    #[test]
    fn lr_warms_up_then_decays_to_a_hundredth() {
        let lr = 1e-3;
        assert!((cosine_lr(lr, 0, 10, 100) - 1e-4).abs() < 1e-12);
        assert!((cosine_lr(lr, 10, 10, 100) - lr).abs() < 1e-12);
        assert!(cosine_lr(lr, 50, 10, 100) < lr && cosine_lr(lr, 50, 10, 100) > 1e-5);
        assert!((cosine_lr(lr, 100, 10, 100) - 1e-5).abs() < 1e-12);
    }
}
