//! Attacks on a PNG or on test-set indices.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use quiver_core::attacks::{probabilities, run_attack, sensitivity_map, AttackKind, Flow, Goal, Target};
use quiver_core::mc_dropout::{mc_dropout, McSummary};
use quiver_core::metrics::Distances;
use quiver_core::model::Classifier;
use quiver_core::preprocess::{for_architecture, to_png};
use serde::Serialize;

use crate::data::{load_split, Split};
use crate::eval::load_model;
use crate::params::{AttackFlags, McFlags};
use crate::Backend;

#[derive(Args)]
pub struct AttackArgs {
    #[arg(long)]
    pub weights: PathBuf,
    /// The attack (fgsm, lbfgs, iaa, pgd, pgdl2, …). Its parameters are the flags of its section below.
    #[arg(long, default_value = "fgsm")]
    pub attack: AttackKind,
    /// An image file (PNG or JPEG, any size), preprocessed for the model: MNIST-style for the digit CNN, centre-cropped and resized for AlexNet.
    #[arg(long, conflicts_with = "indices")]
    pub png: Option<PathBuf>,
    /// Comma-separated test-set indices, e.g. 0,1,2 or 0-99, of the test split in --data.
    #[arg(long)]
    pub indices: Option<String>,
    /// The test data for --indices, as for `eval`: MNIST IDX files, the CIFAR-10 folder, the
    /// STL-10 binaries, or a committed subset (the MNIST subset folder or a colour grid PNG).
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// Target class (targeted attack), or `auto` for the clean image's runner-up class. Without
    /// it the attack is untargeted.
    #[arg(long)]
    pub target: Option<Target>,
    /// Every attack's parameters, from the attack's own table in quiver-core.
    #[command(flatten)]
    pub params: AttackFlags,
    /// MC-dropout settings for the before/after uncertainty.
    #[command(flatten)]
    pub mc: McFlags,
    #[arg(long, default_value = "attack-out")]
    pub out_dir: PathBuf,
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
}

#[derive(Serialize)]
struct ImageResult {
    name: String,
    label: Option<usize>,
    goal: Goal,
    predicted_before: usize,
    predicted_after: usize,
    success: bool,
    /// Distances of the adversarial image as saved (8-bit), which is what success is judged on.
    distances: Distances,
    /// Success of the attack's own floating-point result, before the 8-bit projection.
    float_success: bool,
    float_distances: Distances,
    /// The 8-bit projection needed rounding away from the original to keep the goal.
    repaired: bool,
    /// IAA's perceptual distance D (with n = 3 for every attack but IAA, IAA's own n for IAA).
    perceptual_distance: f32,
    /// Final success gap (positive when the goal is reached).
    gap: f32,
    iterations: usize,
    millis: f64,
    mc_before: McBrief,
    mc_after: McBrief,
}

#[derive(Serialize)]
struct McBrief {
    predicted: usize,
    mean: Vec<f32>,
    variance: Vec<f32>,
    entropy: f32,
    mutual_information: f32,
}

impl From<McSummary> for McBrief {
    fn from(s: McSummary) -> Self {
        Self { predicted: s.predicted, mean: s.mean, variance: s.variance, entropy: s.entropy, mutual_information: s.mutual_information }
    }
}

#[derive(Serialize)]
struct Summary {
    attack: String,
    images: usize,
    success_rate: f32,
    /// Success of the unprojected (floating-point) results; `success_rate` is that of the saved
    /// 8-bit images.
    float_success_rate: f32,
    /// Images whose 8-bit projection needed the rounding-away repair.
    repaired: usize,
    mean_l2: f32,
    mean_linf: f32,
    mean_millis: f64,
    mean_l0: f32,
    mean_perceptual_distance: f32,
    mean_iterations: f32,
    /// The same means over the successful images only (absent when none succeeded).
    successful: Option<Means>,
    /// The attack's parameters as run.
    parameters: serde_json::Value,
    results: Vec<ImageResult>,
}

#[derive(Serialize)]
struct Means {
    images: usize,
    l0: f32,
    l2: f32,
    linf: f32,
    perceptual_distance: f32,
    iterations: f32,
    millis: f64,
}

impl Means {
    fn of<'a>(rs: impl Iterator<Item = &'a ImageResult>) -> Option<Self> {
        let rs: Vec<&ImageResult> = rs.collect();
        if rs.is_empty() {
            return None;
        }
        let n = rs.len() as f32;
        let mean = |f: &dyn Fn(&ImageResult) -> f32| rs.iter().map(|r| f(r)).sum::<f32>() / n;
        Some(Self {
            images: rs.len(),
            l0: mean(&|r| r.distances.l0 as f32),
            l2: mean(&|r| r.distances.l2),
            linf: mean(&|r| r.distances.linf),
            perceptual_distance: mean(&|r| r.perceptual_distance),
            iterations: mean(&|r| r.iterations as f32),
            millis: rs.iter().map(|r| r.millis).sum::<f64>() / rs.len() as f64,
        })
    }
}

pub fn parse_indices(s: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b): (usize, usize) = (a.parse()?, b.parse()?);
            anyhow::ensure!(a <= b, "bad range {part}");
            out.extend(a..=b);
        } else {
            out.push(part.parse().with_context(|| format!("bad index {part:?}"))?);
        }
    }
    anyhow::ensure!(!out.is_empty(), "no indices given");
    Ok(out)
}

pub fn run(a: AttackArgs) -> Result<()> {
    let model = load_model(&a.weights, None, a.backend)?;
    let set = a.params.0;
    let attack = set.get(a.attack);
    attack.validate()?;
    // The attack's parameters as run: its table's keys and values.
    let parameters: serde_json::Map<String, serde_json::Value> =
        a.attack.params().iter().map(|p| (p.key.to_string(), set.text(p.key).unwrap_or_default().into())).collect();
    let parameters = serde_json::Value::Object(parameters);
    let [channels, height, width] = model.architecture().input_shape();
    let mut inputs: Vec<(String, Vec<f32>, Option<usize>)> = Vec::new();
    if let Some(p) = &a.png {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        let prepared = for_architecture(&bytes, model.architecture()).with_context(|| format!("{}", p.display()))?;
        if let Some(note) = &prepared.note {
            eprintln!("{}: {note}", p.display());
        }
        let x = prepared.pixels;
        inputs.push((p.file_stem().unwrap().to_string_lossy().into(), x, None));
    } else if let Some(s) = &a.indices {
        let set = load_split(model.architecture(), &a.data, Split::Test)?;
        for i in parse_indices(s)? {
            anyhow::ensure!(i < set.len(), "index {i} is past the end of the test set ({} images)", set.len());
            inputs.push((format!("test-{i:05}"), set.image(i), Some(set.label(i))));
        }
    } else {
        anyhow::bail!("give --png FILE or --indices LIST");
    }
    std::fs::create_dir_all(&a.out_dir)?;
    let mc = a.mc.0;
    let mut results = Vec::new();
    let bar = indicatif::ProgressBar::new(inputs.len() as u64);
    for (name, x, label) in inputs {
        let before = quiver_core::attacks::argmax_of(&probabilities(&model, &x));
        let label_or_prediction = label.unwrap_or(before);
        let goal = Goal::for_image(&model, &x, Some(label_or_prediction), a.target.unwrap_or_default())?;
        let t = Instant::now();
        let outcome = run_attack(attack, &model, &x, goal, |_| Flow::Continue)?;
        let millis = t.elapsed().as_secs_f64() * 1000.0;
        let img = |v: &[f32]| quiver_core::attacks::image_tensor(&model, v);
        let mc_before = mc_dropout(&model, img(&x), &mc)?;
        let mc_after = mc_dropout(&model, img(&outcome.adversarial), &mc)?;
        let png = |v: &[f32]| to_png(v, channels, width as u32, height as u32);
        std::fs::write(a.out_dir.join(format!("{name}-original.png")), png(&x))?;
        std::fs::write(a.out_dir.join(format!("{name}-adversarial.png")), png(&outcome.adversarial))?;
        if let AttackKind::Iaa = a.attack {
            // Sen ∈ [2, 255] on a log scale: bright where a change would be visible.
            let sen = sensitivity_map(&x, [channels, height, width], set.iaa.n)?;
            let (lo, hi) = (2f32.ln(), 255f32.ln());
            let shown: Vec<f32> = sen.iter().map(|s| (s.ln() - lo) / (hi - lo)).collect();
            std::fs::write(a.out_dir.join(format!("{name}-sensitivity.png")), png(&shown))?;
        }
        results.push(ImageResult {
            name,
            label,
            goal,
            predicted_before: before,
            predicted_after: outcome.predicted,
            success: outcome.success,
            // The distances of the saved 8-bit image (L0: 8-bit values that differ).
            distances: outcome.distances,
            float_success: outcome.quantization.float_success,
            float_distances: outcome.quantization.float_distances,
            repaired: outcome.quantization.repaired,
            perceptual_distance: outcome.perceptual_distance,
            gap: outcome.gap,
            iterations: outcome.iterations,
            millis,
            mc_before: mc_before.into(),
            mc_after: mc_after.into(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let n = results.len() as f32;
    let summary = Summary {
        attack: attack.name().into(),
        images: results.len(),
        success_rate: results.iter().filter(|r| r.success).count() as f32 / n,
        float_success_rate: results.iter().filter(|r| r.float_success).count() as f32 / n,
        repaired: results.iter().filter(|r| r.repaired).count(),
        mean_l2: results.iter().map(|r| r.distances.l2).sum::<f32>() / n,
        mean_linf: results.iter().map(|r| r.distances.linf).sum::<f32>() / n,
        mean_millis: results.iter().map(|r| r.millis).sum::<f64>() / n as f64,
        mean_l0: results.iter().map(|r| r.distances.l0 as f32).sum::<f32>() / n,
        mean_perceptual_distance: results.iter().map(|r| r.perceptual_distance).sum::<f32>() / n,
        mean_iterations: results.iter().map(|r| r.iterations as f32).sum::<f32>() / n,
        successful: Means::of(results.iter().filter(|r| r.success)),
        parameters,
        results,
    };
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::write(a.out_dir.join("summary.json"), &json)?;
    println!(
        "{}: {} images, success {:.1} %, mean L0 {:.1}, L2 {:.3}, L∞ {:.3}, D {:.4}, {:.1} iterations, {:.1} ms/image → {}",
        summary.attack,
        summary.images,
        summary.success_rate * 100.0,
        summary.mean_l0,
        summary.mean_l2,
        summary.mean_linf,
        summary.mean_perceptual_distance,
        summary.mean_iterations,
        summary.mean_millis,
        a.out_dir.join("summary.json").display()
    );
    Ok(())
}
