//! Benign against attacked, over the set: the attack chosen in the one-image view (its kind,
//! parameters and goal from the state) runs on every image of a finished study, for each subject
//! (MC-dropout models with dropout off; ensembles white box through core's `Ensemble`);
//! each 8-bit adversarial image gets the same MC dropout (same per-image seed as its clean image:
//! common random numbers) and core's [`attack_study`] gives the benign and adversarial tables and
//! how well variance, entropy and mutual information detect the adversarial images (ROC, AUROC).
//! Long attacks yield every [`SLICE_MS`](super::run::SLICE_MS) inside an image, so cancel is seen.

use quiver_core::attacks::{Attack, AttackKind, AttackSet, Goal, Step, Target};
use quiver_core::mc_dropout::McConfig;
use quiver_core::study::{attack_study, ensemble_record, record_for_image, AttackStudy, ImageRecord};

use super::run::{ModelRun, StudyRun, SLICE_MS};
use crate::runtime::{now_ms, yield_now};

/// What decides an attack over the set (besides the study it runs on).
#[derive(Clone, Debug, PartialEq)]
pub struct AttackKey {
    pub study: super::run::StudyKey,
    pub kind: AttackKind,
    pub attacks: AttackSet,
    pub target: Target,
}

/// One model's attack study, and how many images it covers.
#[derive(Clone, Debug)]
pub struct ModelAttack {
    pub model: String,
    /// How the study names the subject ("p = 0.25", "ensemble mnist_seeds_p025, K = 5").
    pub label: String,
    pub study: AttackStudy,
}

#[derive(Clone, Debug)]
pub struct SetAttack {
    pub key: AttackKey,
    pub models: Vec<ModelAttack>,
    pub partial: bool,
    pub millis: f64,
}

/// An attack's parameters as run: its table's keys and values.
pub fn attack_parameters(kind: AttackKind, attacks: &AttackSet) -> serde_json::Map<String, serde_json::Value> {
    kind.params().iter().filter_map(|p| attacks.text(p.key).map(|v| (p.key.to_string(), serde_json::Value::String(v)))).collect()
}

/// The attack's parameters as run, and the goal.
fn parameters(key: &AttackKey) -> serde_json::Value {
    let mut m = attack_parameters(key.kind, &key.attacks);
    m.insert("target".into(), serde_json::Value::String(key.target.to_string()));
    serde_json::Value::Object(m)
}

/// The run was cancelled.
struct Stopped;

/// One clean image of one subject, attacked: the adversarial image's record (the same MC
/// dropout, and the same per-image seed, as its clean record; an ensemble: its members) and
/// whether the attack reached its goal. `None` when the goal does not apply (a target equal to
/// the label) or the record fails. Long attacks yield every [`SLICE_MS`], calling `tick` first
/// and returning `Err(Stopped)` once `stop()` says so.
#[allow(clippy::too_many_arguments)]
async fn attack_image(
    r: &ModelRun,
    attack: &dyn Attack,
    target: Target,
    image: &[f32],
    clean: &ImageRecord,
    cfg: &McConfig,
    slice: &mut f64,
    tick: &dyn Fn(),
    stop: &dyn Fn() -> bool,
) -> Result<Option<(ImageRecord, bool)>, Stopped> {
    let outcome = match Goal::for_image(&r.model, image, Some(clean.label), target).and_then(|g| attack.start(&r.model, image, g)) {
        Ok(mut run) => loop {
            match run.step() {
                Step::Done(o) => break o,
                Step::Running(_) if now_ms() - *slice > SLICE_MS => {
                    tick();
                    yield_now().await;
                    *slice = now_ms();
                    if stop() {
                        return Err(Stopped);
                    }
                }
                Step::Running(_) => {}
            }
        },
        Err(_) => return Ok(None),
    };
    let record = if r.members.is_empty() {
        record_for_image(&r.model, &outcome.adversarial, clean.label, clean.index, cfg).ok()
    } else {
        Some(ensemble_record(&r.members, &outcome.adversarial, clean.label, clean.index))
    };
    Ok(record.map(|rec| (rec, outcome.success)))
}

/// One subject's attacked images: their clean and adversarial records and whether each attack
/// reached its goal.
#[derive(Default)]
pub struct Attacked {
    pub benign: Vec<ImageRecord>,
    pub adversarial: Vec<ImageRecord>,
    pub success: Vec<bool>,
}

impl Attacked {
    /// Core's tables and detector figures of these images.
    pub fn study(&self, attack: AttackKind, parameters: serde_json::Value, classes: usize) -> AttackStudy {
        attack_study(attack.key(), parameters, &self.benign, &self.adversarial, &self.success, classes)
    }
}

/// Attack the images of `clean` (records of `r` over `study`'s set) one after another, in
/// slices of at most [`SLICE_MS`] between yields (`progress(images done)` before each). Returns
/// what was attacked, and `true` when `stop()` ended it early.
#[allow(clippy::too_many_arguments)]
pub async fn attack_subject(
    r: &ModelRun,
    study: &StudyRun,
    clean: &[ImageRecord],
    kind: AttackKind,
    attacks: &AttackSet,
    target: Target,
    slice: &mut f64,
    progress: &dyn Fn(usize),
    stop: &dyn Fn() -> bool,
) -> (Attacked, bool) {
    let cfg = McConfig { passes: study.key.passes, p: r.p, seed: study.key.seed };
    let mut out = Attacked::default();
    let mut from = 0;
    let attack = attacks.get(kind);
    if let Some(w) = &r.weights {
        // In the compute worker, a few images a request (about a slice of its work each).
        let mut chunk = 1usize;
        while from < clean.len() {
            let part = &clean[from..(from + chunk).min(clean.len())];
            let images: Vec<(usize, usize)> = part.iter().map(|c| (c.index, c.label)).collect();
            let pixels: Vec<f32> = part.iter().flat_map(|c| study.set.image(c.index)).collect();
            let Some((result, ms)) = crate::worker::client::attack_records(w, kind, attacks, target, &cfg, images, pixels).await else { break };
            let Ok(done) = result else { break };
            for (c, d) in part.iter().zip(done) {
                if let Some((rec, ok)) = d {
                    out.benign.push(c.clone());
                    out.adversarial.push(rec);
                    out.success.push(ok);
                }
            }
            from += part.len();
            progress(out.benign.len());
            if stop() {
                return (out, true);
            }
            chunk = super::run::next_chunk(ms, part.len());
        }
        *slice = now_ms();
    }
    let count = std::cell::Cell::new(out.benign.len());
    // Here on the page: without a worker, for ensembles, or from where the worker stopped.
    for c in &clean[from..] {
        let image = study.set.image(c.index);
        let tick = || progress(count.get());
        match attack_image(r, attack, target, &image, c, &cfg, slice, &tick, stop).await {
            Ok(Some((rec, ok))) => {
                out.benign.push(c.clone());
                out.adversarial.push(rec);
                out.success.push(ok);
                count.set(out.benign.len());
            }
            Ok(None) => {}
            Err(Stopped) => return (out, true),
        }
        if now_ms() - *slice > SLICE_MS {
            progress(out.benign.len());
            yield_now().await;
            *slice = now_ms();
            if stop() {
                return (out, true);
            }
        }
    }
    progress(out.benign.len());
    (out, false)
}

/// Attack every image of `study` with `key`'s attack, for every subject (MC-dropout models
/// attacked with dropout off; ensembles white box on their mean softmax). `done(model, images)`
/// reports progress. A cancelled run keeps the images its last subject finished.
pub async fn run(key: AttackKey, study: &StudyRun, done: impl Fn(usize, usize), stop: impl Fn() -> bool) -> SetAttack {
    let t0 = now_ms();
    let mut models = Vec::new();
    let mut partial = false;
    let mut slice = now_ms();
    for (m, r) in study.runs.iter().enumerate() {
        let (attacked, stopped) = attack_subject(r, study, &r.records, key.kind, &key.attacks, key.target, &mut slice, &|i| done(m, i), &stop).await;
        if !stopped || !attacked.benign.is_empty() {
            models.push(ModelAttack { model: r.entry.id.clone(), label: r.label.clone(), study: attacked.study(key.kind, parameters(&key), r.entry.class_names.len()) });
        }
        if stopped {
            partial = true;
            break;
        }
    }
    let partial = partial || models.len() < study.runs.len();
    SetAttack { key, models, partial, millis: now_ms() - t0 }
}

/// An attack over the set in core's file format (what `quiver study --attack` writes): each
/// attacked subject's study with its clean tables and its attack.
pub fn attack_file(r: &SetAttack, study: &StudyRun, set_images: usize) -> quiver_core::study::StudyFile {
    let mut file = super::study_file(study, set_images);
    file.studies.retain_mut(|s| match r.models.iter().find(|m| s.meta.models.first() == Some(&m.model)) {
        Some(m) => {
            s.attacks = vec![m.study.clone()];
            s.meta.partial |= r.partial;
            true
        }
        None => false,
    });
    file.command = format!("{}; attack over the set: {} ({})", file.command, r.key.kind.key(), parameters(&r.key));
    file
}

/// One row per attacked subject: how it was made, the attack, benign → adversarial means and the
/// detectors' AUROC (every attacked image, then only the successful ones).
pub fn attack_csv(file: &quiver_core::study::StudyFile) -> String {
    let mut out = String::from("model,method,dataset,p,T,seed,images,partial,attack,parameters,success,top1_benign,top1_adversarial,true_prob_benign,true_prob_adversarial,predicted_variance_benign,predicted_variance_adversarial,entropy_benign,entropy_adversarial,mi_benign,mi_adversarial,auroc_variance,auroc_entropy,auroc_mi,auroc_successful_variance,auroc_successful_entropy,auroc_successful_mi\n");
    for s in &file.studies {
        let m = &s.meta;
        for a in &s.attacks {
            let au = |d: &[quiver_core::study::Detection], k: usize| d.get(k).map_or(String::new(), |d| d.auroc.to_string());
            let (b, v) = (&a.benign, &a.adversarial);
            let cells: Vec<String> = vec![
                m.ensemble.clone().unwrap_or_else(|| m.models.join("+")),
                m.method.clone(),
                m.dataset.clone(),
                m.p.to_string(),
                m.passes.to_string(),
                m.seed.to_string(),
                a.images.to_string(),
                m.partial.to_string(),
                a.attack.clone(),
                // `key=value; …`: no commas inside a cell.
                a.parameters.as_object().map_or(String::new(), |o| o.iter().map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), String::from).replace(',', ";"))).collect::<Vec<_>>().join("; ")),
                a.success_rate.to_string(),
                b.top1.to_string(),
                v.top1.to_string(),
                b.true_prob.to_string(),
                v.true_prob.to_string(),
                b.predicted_variance.to_string(),
                v.predicted_variance.to_string(),
                b.entropy.to_string(),
                v.entropy.to_string(),
                b.mutual_information.to_string(),
                v.mutual_information.to_string(),
                au(&a.detection, 0),
                au(&a.detection, 1),
                au(&a.detection, 2),
                au(&a.detection_successful, 0),
                au(&a.detection_successful, 1),
                au(&a.detection_successful, 2),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::charts::{self, Measure};
use crate::store::{use_store, Where};
use crate::ui::widgets::charts::render;
use crate::ui::widgets::download::download_bytes;

/// The attack-over-the-set section of the study view.
#[component]
pub fn SetAttackPanel(current: Signal<Option<StudyRun>>, measure: RwSignal<Measure>) -> impl IntoView {
    let store = use_store();
    let results = RwSignal::new_local(Vec::<SetAttack>::new());
    let progress = RwSignal::new(None::<(usize, usize)>);
    let stop = StoredValue::new(false);
    let shown_model = RwSignal::new(0usize);
    let key = Memo::new(move |_| {
        let study = current.with(|c| c.as_ref().map(|r| r.key.clone()))?;
        let (kind, attacks, target) = store.with(|s| (s.attack, s.attacks, s.target));
        Some(AttackKey { study, kind, attacks, target })
    });
    let result = Signal::derive(move || key.with(|k| results.with(|rs| rs.iter().find(|r| Some(&r.key) == k.as_ref()).cloned())));
    let start = move |_| {
        let (Some(k), Some(study)) = (key.get_untracked(), current.get_untracked()) else { return };
        stop.set_value(false);
        progress.set(Some((0, 0)));
        spawn_local(async move {
            let out = run(k, &study, move |m, i| progress.set(Some((m, i))), move || stop.get_value()).await;
            results.update(|rs| {
                rs.retain(|r| r.key != out.key);
                rs.push(out);
            });
            progress.set(None);
        });
    };
    let running = move || progress.with(|p| p.is_some());
    let label = move || key.with(|k| k.as_ref().map(|k| format!("{} ({})", k.kind.about().label, k.kind.params().iter().filter_map(|p| k.attacks.text(p.key).map(|v| format!("{} {v}", p.key))).collect::<Vec<_>>().join(", "))).unwrap_or_default());
    let status = move || match (progress.get(), result.get()) {
        (Some((m, i)), _) => format!("attacking: model {} of {}, {i} images", m + 1, current.with(|c| c.as_ref().map_or(0, |r| r.runs.len()))),
        (None, Some(r)) => format!("{}{} models in {:.1} s", if r.partial { "partial: " } else { "done: " }, r.models.len(), r.millis / 1000.0),
        (None, None) => "not run yet".to_string(),
    };
    Effect::new(move |_| {
        let Some(r) = result.get() else { return };
        let m = measure.get();
        let Some(ma) = r.models.get(shown_model.get().min(r.models.len().saturating_sub(1))).cloned() else { return };
        let names = store.class_names();
        spawn_local(async move {
            let title = format!("{} ({}): does uncertainty flag the adversarial images?", ma.model, ma.label);
            let pair = [
                charts::Series { name: "benign".into(), tables: &ma.study.benign, full: false, colour: 0 },
                charts::Series { name: format!("adversarial ({})", ma.study.attack), tables: &ma.study.adversarial, full: false, colour: 1 },
            ];
            for (id, plot) in [
                ("study-roc", charts::roc_chart(&ma.study, &title)),
                ("study-histogram", charts::histogram_chart(&ma.study, m, &format!("{}: benign vs adversarial", ma.model))),
                ("study-attack-confidence", charts::confidence_chart(&pair, m, &names)),
                ("study-attack-accuracy", charts::accuracy_chart(&pair, &names)),
                ("study-attack-scatter", charts::confidence_accuracy_chart(&pair, &names)),
            ] {
                if let Err(e) = render(id, &plot).await {
                    store.problem(Where::Compute, e);
                }
                crate::runtime::yield_now().await;
            }
        });
    });
    let tag = move |r: &SetAttack, study: &StudyRun| {
        let k = &study.key;
        format!("{}-{}-T{}-seed{}-n{}{}", k.dataset.key(), r.key.kind.key(), k.passes, k.seed, k.images, if r.partial || study.partial { "-partial" } else { "" })
    };
    let export = move |csv: bool| {
        let (Some(r), Some(study)) = (result.get_untracked(), current.get_untracked()) else { return };
        let file = attack_file(&r, &study, super::run::subset_size(study.key.dataset, None));
        let name = format!("quiver-study-attack-{}", tag(&r, &study));
        let done = if csv { download_bytes(attack_csv(&file).as_bytes(), "text/csv", &format!("{name}.csv")) } else { download_bytes(file.to_json().as_bytes(), "application/json", &format!("{name}.json")) };
        if let Err(e) = done {
            store.problem(Where::Compute, e);
        }
    };
    let pngs = move || {
        let (Some(r), Some(study)) = (result.get_untracked(), current.get_untracked()) else { return };
        let model = r.models.get(shown_model.get_untracked().min(r.models.len().saturating_sub(1))).map(|m| m.model.clone()).unwrap_or_default();
        let t = format!("{model}-{}", tag(&r, &study));
        spawn_local(async move {
            for id in ["study-roc", "study-histogram", "study-attack-confidence", "study-attack-accuracy", "study-attack-scatter"] {
                if let Err(e) = crate::ui::widgets::charts::download_chart_png(id, &format!("quiver-{id}-{t}")).await {
                    store.problem(Where::Compute, e);
                    return;
                }
            }
        });
    };
    let rows = move || {
        result.get().map(|r| {
            r.models
                .iter()
                .map(|m| {
                    let s = &m.study;
                    let auroc = |k: usize| s.detection.get(k).map_or(f64::NAN, |d| d.auroc);
                    view! {
                        <tr data-model=m.model.clone() data-images=s.images data-success=s.success_rate data-benign-top1=s.benign.top1 data-adv-top1=s.adversarial.top1
                            data-auroc-variance=auroc(0) data-auroc-entropy=auroc(1) data-auroc-mi=auroc(2)>
                            <td>{m.model.clone()}</td>
                            <td class="num">{s.images}</td>
                            <td class="num">{format!("{:.1} %", 100.0 * s.success_rate)}</td>
                            <td class="num">{format!("{:.3} → {:.3}", s.benign.top1, s.adversarial.top1)}</td>
                            <td class="num">{format!("{:.3} → {:.3}", s.benign.true_prob, s.adversarial.true_prob)}</td>
                            <td class="num">{format!("{:.5} → {:.5}", s.benign.predicted_variance, s.adversarial.predicted_variance)}</td>
                            <td class="num">{format!("{:.3} → {:.3}", s.benign.entropy, s.adversarial.entropy)}</td>
                            <td class="num">{format!("{:.4} → {:.4}", s.benign.mutual_information, s.adversarial.mutual_information)}</td>
                            <td class="num">{format!("{:.3}", auroc(0))}</td>
                            <td class="num">{format!("{:.3}", auroc(1))}</td>
                            <td class="num">{format!("{:.3}", auroc(2))}</td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="study-attack" id="study-attack" class:hidden=move || current.with(|c| c.is_none())
            data-state=move || if running() { "running" } else if result.with(|r| r.as_ref().is_some_and(|r| r.partial)) { "partial" } else if result.with(|r| r.is_some()) { "done" } else { "idle" }>
            <h3>"Benign against attacked, over the set"</h3>
            <p class="hint">"The attack chosen in the one-image view, with its parameters and goal, on every image of this study: MC-dropout models are attacked with dropout off, ensembles white box on their members' mean softmax. Each adversarial image (8-bit) gets the same MC dropout as its clean image (an ensemble: the same members). Can variance, entropy or mutual information tell the adversarial images from the benign ones?"</p>
            <div class="controls">
                <span>{label}</span>
                <button id="study-attack-run" on:click=start disabled=move || running() || key.with(|k| k.is_none())>"attack the set"</button>
                <button id="study-attack-cancel" on:click=move |_| stop.set_value(true) disabled=move || !running()>"cancel"</button>
                <span class="busy" id="study-attack-status" role="status">{status}</span>
            </div>
            <div class="table-scroll">
                <table class="metrics" id="study-attack-table">
                    <thead><tr><th>"model"</th><th>"images"</th><th>"success"</th><th>"top-1 (benign → adversarial)"</th><th>"mean softmax of the true class"</th><th>"variance of the predicted class"</th><th>"entropy"</th><th>"mutual information"</th><th>"AUROC variance"</th><th>"AUROC entropy"</th><th>"AUROC MI"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div class="controls" class:hidden=move || result.with(|r| r.is_none())>
                <button id="study-attack-csv" on:click=move |_| export(true)>"download CSV"</button>
                <button id="study-attack-json" on:click=move |_| export(false)>"download JSON"</button>
                <button id="study-attack-png" on:click=move |_| pngs()>"download the charts (PNG)"</button>
                <label>"charts for "
                    <select id="study-attack-model" on:change=move |ev| shown_model.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {move || result.get().map(|r| r.models.iter().enumerate().map(|(k, m)| view! { <option value=k.to_string() selected=k == shown_model.get_untracked()>{format!("{} ({})", m.model, m.label)}</option> }).collect::<Vec<_>>())}
                    </select>
                </label>
            </div>
            <div class="charts" class:hidden=move || result.with(|r| r.is_none())>
                <div id="study-roc" class="chart" role="img" aria-label="ROC curves: each uncertainty score as a detector of adversarial images, with its AUROC (also in the table)"></div>
                <div id="study-histogram" class="chart" role="img" aria-label="Histograms of the chosen uncertainty measure on benign and adversarial images"></div>
                <div id="study-attack-confidence" class="chart" role="img" aria-label="Line chart: the chosen uncertainty measure per class on the benign and on the adversarial images; the numbers are in the table"></div>
                <div id="study-attack-accuracy" class="chart" role="img" aria-label="Line chart: mean softmax of the true class and top-1 accuracy per class, benign and adversarial"></div>
                <div id="study-attack-scatter" class="chart" role="img" aria-label="Scatter: per class, MC variance of the true class against its mean softmax, benign and adversarial"></div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quiver_core::study::{attack_study, ImageRecord, Study, StudyFile, StudyMeta};

    fn record(index: usize, label: usize, p: f32) -> ImageRecord {
        let mut probs = vec![(1.0 - p) / 9.0; 10];
        probs[label] = p;
        ImageRecord::from_passes(index, label, [probs.clone(), probs.clone()].concat(), 2, probs)
    }

    #[test]
    fn the_attack_csv_has_a_row_per_attacked_subject_with_its_figures() {
        let benign: Vec<ImageRecord> = (0..4).map(|i| record(i, i % 10, 0.9)).collect();
        let adv: Vec<ImageRecord> = (0..4).map(|i| record(i, i % 10, 0.3)).collect();
        let a = attack_study("fgsm", serde_json::json!({"eps": "0.2", "target": "untargeted"}), &benign, &adv, &[true, false, true, true], 10);
        let t = a.benign.clone();
        let meta = StudyMeta { method: "mc_dropout".into(), models: vec!["m1".into()], ensemble: None, dataset: "MNIST".into(), passes: 2, p: 0.25, seed: 7, images: 4, set_images: 1000, partial: false };
        let file = StudyFile { version: 1, command: "test".into(), studies: vec![Study { meta, clean: t, points: None, attacks: vec![a.clone()] }] };
        let csv = attack_csv(&file);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        let head: Vec<&str> = lines[0].split(',').collect();
        let row: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(head.len(), row.len(), "{}", lines[1]);
        let col = |name: &str| row[head.iter().position(|h| *h == name).unwrap()];
        assert_eq!(col("model"), "m1");
        assert_eq!(col("parameters"), "eps=0.2; target=untargeted");
        assert_eq!(col("T"), "2");
        assert_eq!(col("seed"), "7");
        assert_eq!(col("success").parse::<f64>().unwrap(), 0.75);
        assert_eq!(col("auroc_entropy").parse::<f64>().unwrap(), a.detection[1].auroc);
        assert_eq!(col("true_prob_adversarial").parse::<f64>().unwrap(), a.adversarial.true_prob);
    }
}
