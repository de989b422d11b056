//! `quiver study`: the seed study over a test set (issue 10) for each model (MC dropout) or for
//! one ensemble, optionally under an attack; writes a compact `StudyFile` JSON. Every number is
//! computed by `quiver_core::study`, image by image with per-image seeds, exactly as the app does.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use quiver_core::attacks::{run_attack, AttackKind, Flow, Goal, Target};
use quiver_core::data::ImageSet;
use quiver_core::manifest::{ensemble_tags, Manifest};
use quiver_core::mc_dropout::McConfig;
use quiver_core::model::{Classifier, Ensemble, Model};
use quiver_core::study::{attack_study, ensemble_record, record_for_image, scatter, tables, ImageRecord, Study, StudyFile, StudyMeta, DEFAULT_BINS};

use crate::data::{dataset_name, load_split, Split};
use crate::eval::load_model;
use crate::params::{AttackFlags, McFlags};
use crate::Backend;

/// Sets up to this many images get per-image scatter points in the JSON.
const POINTS_UP_TO: usize = 1000;

#[derive(Args)]
pub struct StudyArgs {
    /// Weights files, comma-separated: each is studied with MC dropout, or all together as one
    /// ensemble with --ensemble.
    #[arg(long, value_delimiter = ',', default_value = "weights/mnist_cnn_p020.safetensors,weights/mnist_cnn_p025.safetensors,weights/mnist_cnn_p030.safetensors")]
    pub weights: Vec<PathBuf>,
    /// Treat the weights as the members of one ensemble (member 1 first).
    #[arg(long)]
    pub ensemble: bool,
    /// Use the members of this ensemble group, found by their `ensemble` tag in
    /// --ensemble-manifest (implies --ensemble; replaces --weights).
    #[arg(long)]
    pub ensemble_group: Option<String>,
    /// The manifest listing the ensemble members (their files are beside it).
    #[arg(long, default_value = "weights/ensembles/manifest.json")]
    pub ensemble_manifest: PathBuf,
    /// Test data: the MNIST IDX directory, or a committed subset (as for `eval`).
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// Use only the first N images of the set.
    #[arg(long)]
    pub limit: Option<usize>,
    /// MC dropout: T, p and the study seed (image i uses seed + i).
    #[command(flatten)]
    pub mc: McFlags,
    /// Use --p for every model; by default each model runs at the dropout rate it was trained
    /// with (its manifest's report_dropout), as the seed report does.
    #[arg(long)]
    pub fixed_p: bool,
    /// Also attack the first --attack-images images with this attack and add the benign vs
    /// adversarial tables and the detector figures. MC dropout: the attack runs on the model
    /// with dropout off. Ensembles: white box on the ensemble's mean softmax (every attack
    /// differentiates −log of the members' mean probability of the label).
    #[arg(long)]
    pub attack: Option<AttackKind>,
    #[arg(long, default_value_t = 1000)]
    pub attack_images: usize,
    /// Target of the attack (none, auto or a class); MC dropout only.
    #[arg(long)]
    pub target: Option<Target>,
    #[command(flatten)]
    pub params: AttackFlags,
    /// Skip the clean study of the whole set (only with --attack: the attacked images' own
    /// benign tables are still written).
    #[arg(long)]
    pub attack_only: bool,
    /// Stop after this many seconds and write what is done, marked partial.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Output file (default: public/study/<dataset>-<models>-<full|nN>[-<attack>].json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "flex")]
    pub backend: Backend,
}

/// A study subject: one MC-dropout model or one ensemble.
enum Subject {
    Mc { id: String, model: Model, cfg: McConfig },
    Ensemble { group: String, ids: Vec<String>, models: Vec<Model> },
}

impl Subject {
    fn record(&self, image: &[f32], label: usize, index: usize) -> Result<ImageRecord> {
        Ok(match self {
            Subject::Mc { model, cfg, .. } => record_for_image(model, image, label, index, cfg)?,
            Subject::Ensemble { models, .. } => ensemble_record(models, image, label, index),
        })
    }

    fn num_classes(&self) -> usize {
        match self {
            Subject::Mc { model, .. } => model.architecture().num_classes(),
            Subject::Ensemble { models, .. } => models[0].architecture().num_classes(),
        }
    }

    fn first_model(&self) -> &Model {
        match self {
            Subject::Mc { model, .. } => model,
            Subject::Ensemble { models, .. } => &models[0],
        }
    }

    fn name(&self) -> String {
        match self {
            Subject::Mc { id, .. } => id.clone(),
            Subject::Ensemble { group, .. } => group.clone(),
        }
    }
}

fn model_id(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default()
}

/// Timer with an optional limit.
struct Clock {
    start: Instant,
    limit: Option<f64>,
}

impl Clock {
    fn out_of_time(&self) -> bool {
        self.limit.is_some_and(|l| self.start.elapsed().as_secs_f64() > l)
    }
}

/// Clean records of images `0..n` of `set`, stopping early when out of time.
fn clean_records(subject: &Subject, set: &ImageSet, n: usize, clock: &Clock) -> Result<Vec<ImageRecord>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if clock.out_of_time() {
            break;
        }
        out.push(subject.record(&set.image(i), set.label(i), i)?);
        if (i + 1) % 1000 == 0 {
            println!("  {}: {} / {n} images, {:.0} s", subject.name(), i + 1, clock.start.elapsed().as_secs_f64());
        }
    }
    Ok(out)
}

/// The attack part: records of the first `n` images clean and attacked, and success flags.
fn attack_records(a: &StudyArgs, kind: AttackKind, subject: &Subject, set: &ImageSet, n: usize, clock: &Clock) -> Result<(Vec<ImageRecord>, Vec<ImageRecord>, Vec<bool>)> {
    let attack = a.params.0.get(kind);
    attack.validate()?;
    let (mut benign, mut adv, mut ok) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        if clock.out_of_time() {
            break;
        }
        let (x, y) = (set.image(i), set.label(i));
        let (x_adv, success) = match subject {
            // White box on the ensemble's mean prediction (core's `Ensemble`): every attack
            // differentiates −log of the members' mean softmax.
            Subject::Ensemble { models, .. } => {
                anyhow::ensure!(a.target.is_none(), "targeted attacks are only studied for MC dropout");
                let ensemble = Model::Ensemble(Ensemble::new(models.clone())?);
                let o = run_attack(attack, &ensemble, &x, Goal { label: y, target: None }, |_| Flow::Continue)?;
                (o.adversarial, o.success)
            }
            Subject::Mc { model, .. } => {
                let goal = Goal::for_image(model, &x, Some(y), a.target.unwrap_or_default())?;
                let o = run_attack(attack, model, &x, goal, |_| Flow::Continue)?;
                (o.adversarial, o.success)
            }
        };
        benign.push(subject.record(&x, y, i)?);
        adv.push(subject.record(&x_adv, y, i)?);
        ok.push(success);
        if (i + 1) % 200 == 0 {
            println!("  {} {}: {} / {n} attacked, {:.0} s", subject.name(), attack.name(), i + 1, clock.start.elapsed().as_secs_f64());
        }
    }
    Ok((benign, adv, ok))
}

/// The study of one subject on `set` (the CLI's whole computation for it, without file I/O).
fn study_subject(a: &StudyArgs, subject: &Subject, set: &ImageSet, dataset: &str, clock: &Clock) -> Result<Study> {
    let k = subject.num_classes();
    let n = a.limit.unwrap_or(set.len()).min(set.len());
    let clean = if a.attack_only { Vec::new() } else { clean_records(subject, set, n, clock)? };
    let mut partial = !a.attack_only && clean.len() < n;
    let mut attacks = Vec::new();
    if let Some(kind) = a.attack {
        let na = a.attack_images.min(n);
        let (benign, adv, ok) = attack_records(a, kind, subject, set, na, clock)?;
        partial |= benign.len() < na;
        let attack = a.params.0.get(kind);
        let mut params: serde_json::Map<String, serde_json::Value> =
            kind.params().iter().map(|p| (p.key.to_string(), a.params.0.text(p.key).unwrap_or_default().into())).collect();
        params.insert("target".into(), a.target.unwrap_or_default().to_string().into());
        let aimed = match subject {
            Subject::Mc { .. } => "the model with dropout off",
            Subject::Ensemble { .. } => "the ensemble's mean softmax (white box)",
        };
        params.insert("attacked".into(), aimed.into());
        attacks.push(attack_study(attack.name(), serde_json::Value::Object(params), &benign, &adv, &ok, k));
    }
    let (method, models, ensemble, passes, p) = match subject {
        Subject::Mc { id, cfg, .. } => ("mc_dropout", vec![id.clone()], None, cfg.passes, cfg.p),
        Subject::Ensemble { group, ids, .. } => ("ensemble", ids.clone(), Some(group.clone()), ids.len(), 0.0),
    };
    let images = if a.attack_only { a.attack_images.min(n) } else { n };
    Ok(Study {
        meta: StudyMeta {
            method: method.into(),
            models,
            ensemble,
            dataset: dataset.into(),
            passes,
            p,
            seed: a.mc.0.seed,
            images,
            set_images: set.len(),
            partial,
        },
        clean: tables(&clean, k, DEFAULT_BINS),
        points: (!clean.is_empty() && clean.len() <= POINTS_UP_TO).then(|| scatter(&clean)),
        attacks,
    })
}

fn subjects(a: &StudyArgs) -> Result<Vec<Subject>> {
    let weights: Vec<PathBuf> = match &a.ensemble_group {
        Some(g) => {
            let dir = a.ensemble_manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            let text = std::fs::read_to_string(&a.ensemble_manifest).with_context(|| format!("reading {}", a.ensemble_manifest.display()))?;
            let mut tags: Vec<_> = ensemble_tags(&text)?.into_iter().filter(|(_, t)| &t.group == g).collect();
            tags.sort_by_key(|(_, t)| t.member);
            anyhow::ensure!(!tags.is_empty(), "no model of ensemble group {g:?} in {}", a.ensemble_manifest.display());
            let m = Manifest::from_json(&text)?;
            tags.iter().map(|(id, _)| Ok(dir.join(&m.get(id).context("entry")?.file))).collect::<Result<_>>()?
        }
        None => a.weights.clone(),
    };
    if a.ensemble || a.ensemble_group.is_some() {
        let models = weights.iter().map(|w| load_model(w, None, a.backend)).collect::<Result<Vec<_>>>()?;
        let ids: Vec<String> = weights.iter().map(|w| model_id(w)).collect();
        let group = a.ensemble_group.clone().unwrap_or_else(|| ids.join("+"));
        return Ok(vec![Subject::Ensemble { group, ids, models }]);
    }
    weights
        .iter()
        .map(|w| {
            let model = load_model(w, None, a.backend)?;
            let mut cfg = a.mc.0;
            if !a.fixed_p {
                let manifest = std::fs::read_to_string(w.with_file_name("manifest.json")).ok().and_then(|t| Manifest::from_json(&t).ok());
                let file = w.file_name().unwrap_or_default().to_string_lossy().to_string();
                let entry = manifest.as_ref().and_then(|m| m.models.iter().find(|e| e.file == file));
                cfg.p = entry.map(|e| e.report_dropout).with_context(|| format!("{} has no manifest entry; give --fixed-p", w.display()))?;
            }
            cfg.validate()?;
            Ok(Subject::Mc { id: model_id(w), model, cfg })
        })
        .collect()
}

/// Ids joined by `_`, the ones after the first without the prefix (up to the last `_`) they share
/// with it: `mnist_cnn_p020_p025_p030`.
fn compact_ids(ids: &[String]) -> String {
    let first = ids.first().cloned().unwrap_or_default();
    let mut out = first.clone();
    for id in &ids[1.min(ids.len())..] {
        let common = first.chars().zip(id.chars()).take_while(|(a, b)| a == b).count();
        let cut = id[..common].rfind('_').map_or(0, |i| i + 1);
        out.push('_');
        out.push_str(&id[cut..]);
    }
    out
}

/// `<dataset>-<models>-<full|nN>[-<attack>]`: the default output file name.
fn default_name(a: &StudyArgs, subjects: &[Subject], dataset: &str, set_len: usize) -> String {
    let models = compact_ids(&subjects.iter().map(Subject::name).collect::<Vec<_>>());
    let n = a.limit.unwrap_or(set_len).min(set_len);
    let size = if n == set_len && !a.attack_only { "full".to_string() } else { format!("n{}", if a.attack_only { a.attack_images.min(n) } else { n }) };
    let mut name = format!("{}-{models}-{size}", dataset.to_lowercase().replace([' ', '(', ')'], ""));
    if let Some(kind) = a.attack {
        name.push('-');
        name.push_str(&kind.to_string());
        if kind == AttackKind::Fgsm {
            name.push_str(&format!("-eps{}", a.params.0.fgsm.eps));
        }
    }
    name + ".json"
}

/// Everything `quiver study` computes, without writing it.
fn compute(a: &StudyArgs, command: String) -> Result<(StudyFile, String)> {
    let subjects = subjects(a)?;
    let arch = subjects[0].first_model().architecture();
    let set = load_split(arch, &a.data, Split::Test)?;
    let dataset = dataset_name(arch);
    let clock = Clock { start: Instant::now(), limit: a.time_limit };
    let mut studies = Vec::new();
    for s in &subjects {
        let t = Instant::now();
        studies.push(study_subject(a, s, &set, dataset, &clock)?);
        println!("{}: done in {:.0} s", s.name(), t.elapsed().as_secs_f64());
    }
    let name = default_name(a, &subjects, dataset, set.len());
    Ok((StudyFile { version: 1, command, studies }, name))
}

pub fn run(a: StudyArgs) -> Result<()> {
    anyhow::ensure!(!a.attack_only || a.attack.is_some(), "--attack-only needs --attack");
    let command = format!("quiver {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    let (file, name) = compute(&a, command)?;
    let out = a.out.clone().unwrap_or_else(|| Path::new("public/study").join(name));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, file.to_json())?;
    for s in &file.studies {
        let c = &s.clean;
        print!("{}: ", s.meta.models.join("+"));
        if c.images > 0 {
            print!("{} images, top-1 {:.4} (det {:.4}), true-class prob {:.4}, ECE {:.4} (det {:.4}); ", c.images, c.top1, c.det_top1, c.true_prob, c.reliability.ece, c.det_reliability.ece);
        }
        for at in &s.attacks {
            let auc: Vec<String> = at.detection.iter().map(|d| format!("{:?} {:.3}", d.score, d.auroc)).collect();
            print!("{} on {}: success {:.3}, top-1 {:.4} → {:.4}, AUROC {}", at.attack, at.images, at.success_rate, at.benign.top1, at.adversarial.top1, auc.join(", "));
        }
        println!("{}", if s.meta.partial { " (partial)" } else { "" });
    }
    println!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_compacted_after_their_shared_prefix() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(compact_ids(&ids(&["mnist_cnn_p020", "mnist_cnn_p025", "mnist_cnn_p030"])), "mnist_cnn_p020_p025_p030");
        assert_eq!(compact_ids(&ids(&["mnist_seeds_p025"])), "mnist_seeds_p025");
        assert_eq!(compact_ids(&ids(&["a_x", "b_y"])), "a_x_b_y");
    }
}
