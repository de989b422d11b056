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

/// The attack's parameters as run: its table's keys and values, and the goal.
fn parameters(key: &AttackKey) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for p in key.kind.params() {
        if let Some(v) = key.attacks.text(p.key) {
            m.insert(p.key.to_string(), serde_json::Value::String(v));
        }
    }
    m.insert("target".into(), serde_json::Value::String(key.target.to_string()));
    serde_json::Value::Object(m)
}

/// The run was cancelled.
pub struct Stopped;

/// One clean image of one subject, attacked: the adversarial image's record (the same MC
/// dropout, and the same per-image seed, as its clean record; an ensemble: its members) and
/// whether the attack reached its goal. `None` when the goal does not apply (a target equal to
/// the label) or the record fails. Long attacks yield every [`SLICE_MS`], calling `tick` first
/// and returning `Err(Stopped)` once `stop()` says so.
pub async fn attack_image(
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

/// Attack every image of `study` with `key`'s attack, for every subject (MC-dropout models
/// attacked with dropout off; ensembles white box on their mean softmax). `done(model, images)`
/// reports progress.
pub async fn run(key: AttackKey, study: &StudyRun, done: impl Fn(usize, usize), stop: impl Fn() -> bool) -> SetAttack {
    let t0 = now_ms();
    let attack = key.attacks.get(key.kind);
    let mut models = Vec::new();
    let mut partial = false;
    let mut slice = now_ms();
    'models: for (m, r) in study.runs.iter().enumerate() {
        let cfg = McConfig { passes: study.key.passes, p: r.p, seed: study.key.seed };
        let (mut benign, mut adversarial, mut success): (Vec<ImageRecord>, Vec<ImageRecord>, Vec<bool>) = (Vec::new(), Vec::new(), Vec::new());
        let count = std::cell::Cell::new(0usize);
        for clean in &r.records {
            let image = study.set.image(clean.index);
            let tick = || done(m, count.get());
            match attack_image(r, attack, key.target, &image, clean, &cfg, &mut slice, &tick, &stop).await {
                Ok(Some((rec, ok))) => {
                    benign.push(clean.clone());
                    adversarial.push(rec);
                    success.push(ok);
                    count.set(benign.len());
                }
                Ok(None) => continue,
                Err(Stopped) => {
                    partial = true;
                    if !benign.is_empty() {
                        models.push(ModelAttack { model: r.entry.id.clone(), label: r.label.clone(), study: attack_study(key.kind.key(), parameters(&key), &benign, &adversarial, &success, r.entry.class_names.len()) });
                    }
                    break 'models;
                }
            }
            if now_ms() - slice > SLICE_MS {
                done(m, benign.len());
                yield_now().await;
                slice = now_ms();
                if stop() {
                    partial = true;
                    models.push(ModelAttack { model: r.entry.id.clone(), label: r.label.clone(), study: attack_study(key.kind.key(), parameters(&key), &benign, &adversarial, &success, r.entry.class_names.len()) });
                    break 'models;
                }
            }
        }
        done(m, benign.len());
        models.push(ModelAttack { model: r.entry.id.clone(), label: r.label.clone(), study: attack_study(key.kind.key(), parameters(&key), &benign, &adversarial, &success, r.entry.class_names.len()) });
    }
    let partial = partial || models.len() < study.runs.len();
    SetAttack { key, models, partial, millis: now_ms() - t0 }
}

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::charts::{self, Measure};
use crate::store::{use_store, Where};
use crate::ui::widgets::charts::render;

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
                charts::Series { name: "benign".into(), tables: &ma.study.benign, full: false },
                charts::Series { name: format!("adversarial ({})", ma.study.attack), tables: &ma.study.adversarial, full: false },
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
