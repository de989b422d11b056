//! The robustness curve (issue 10, item 3): top-1 accuracy, the report's accuracy (mean softmax
//! of the true class), the chosen uncertainty measure and its AUROC as an attack detector,
//! against the attack's ε. The attack is FGSM, or PGD (L∞) when PGD is the attack chosen in the
//! one-image view (its other parameters from the state); ε runs over [`EPS`] on the first
//! [`CURVE_IMAGES`] images of a finished study, for every subject. ε = 0 is the benign images.
//! ε is the outer loop, so a cancelled curve holds whole low-ε points for every subject and is
//! labelled partial.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{AttackKind, AttackSet, Target};
use quiver_core::study::AttackStudy;

use super::attack::{attack_parameters, attack_subject};
use super::charts::{self, Measure};
use super::run::{StudyKey, StudyRun};
use crate::runtime::{now_ms, yield_now};
use crate::store::{use_store, Where};
use crate::ui::widgets::charts::render;
use crate::ui::widgets::download::download_bytes;

/// The ε values of the curve (L∞, pixel units in [0, 1]).
pub const EPS: [f64; 6] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3];
/// The curve uses at most this many images of the study (the first ones): 6 ε × subjects ×
/// images attacks, each followed by T MC passes.
pub const CURVE_IMAGES: usize = 200;

/// What decides a curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveKey {
    pub study: StudyKey,
    /// FGSM or PGD.
    pub kind: AttackKind,
    /// The attacks' parameters (ε is set per point).
    pub attacks: AttackSet,
}

/// The ε parameter's key of the curve's attack.
fn eps_key(kind: AttackKind) -> &'static str {
    if kind == AttackKind::Pgd {
        "pgd_eps"
    } else {
        "eps"
    }
}

/// The curve's attack for the attack chosen in the one-image view.
pub fn curve_kind(chosen: AttackKind) -> AttackKind {
    if chosen == AttackKind::Pgd {
        AttackKind::Pgd
    } else {
        AttackKind::Fgsm
    }
}

/// One subject's curve: its attack study at each ε done.
#[derive(Clone, Debug)]
pub struct SubjectCurve {
    pub model: String,
    pub label: String,
    pub points: Vec<(f64, AttackStudy)>,
}

#[derive(Clone, Debug)]
pub struct Curve {
    pub key: CurveKey,
    pub images: usize,
    pub subjects: Vec<SubjectCurve>,
    pub partial: bool,
    pub millis: f64,
}

/// Run the curve over the first [`CURVE_IMAGES`] images of `study`. `done(ε index, subject,
/// images)` reports progress.
pub async fn run(key: CurveKey, study: &StudyRun, done: impl Fn(usize, usize, usize), stop: impl Fn() -> bool) -> Curve {
    let t0 = now_ms();
    let n = study.runs.iter().map(|r| r.records.len()).min().unwrap_or(0).min(CURVE_IMAGES);
    let mut subjects: Vec<SubjectCurve> = study.runs.iter().map(|r| SubjectCurve { model: r.entry.id.clone(), label: r.label.clone(), points: Vec::new() }).collect();
    let mut partial = false;
    let mut slice = now_ms();
    'eps: for (e, &eps) in EPS.iter().enumerate() {
        let mut attacks = key.attacks;
        if attacks.set_text(eps_key(key.kind), &eps.to_string()) != Ok(true) {
            partial = true;
            break;
        }
        let parameters = serde_json::Value::Object(attack_parameters(key.kind, &attacks));
        for (m, r) in study.runs.iter().enumerate() {
            let (attacked, stopped) = attack_subject(r, study, &r.records[..n], key.kind, &attacks, Target::Untargeted, &mut slice, &|i| done(e, m, i), &stop).await;
            if stopped {
                partial = true;
                break 'eps;
            }
            subjects[m].points.push((eps, attacked.study(key.kind, parameters.clone(), r.entry.class_names.len())));
        }
    }
    // A cancelled ε step leaves some subjects a point short: keep only the ε every subject has.
    let common = subjects.iter().map(|s| s.points.len()).min().unwrap_or(0);
    for s in &mut subjects {
        s.points.truncate(common);
    }
    Curve { key, images: n, subjects, partial: partial || common < EPS.len(), millis: now_ms() - t0 }
}

/// The curve as CSV: one row per subject and ε (ε = 0: the benign images).
pub fn curve_csv(c: &Curve) -> String {
    let mut out = String::from("model,how,attack,eps,T,seed,images,partial,success,top1,true_prob,true_class_variance,predicted_class_variance,entropy,mutual_information,auroc_variance,auroc_entropy,auroc_mi\n");
    for s in &c.subjects {
        let benign = s.points.first().map(|(_, a)| (0.0f64, &a.benign, None));
        for (eps, t, a) in benign.into_iter().chain(s.points.iter().map(|(e, a)| (*e, &a.adversarial, Some(a)))) {
            let au = |k: usize| a.and_then(|a| a.detection.get(k)).map_or(String::new(), |d| d.auroc.to_string());
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                s.model,
                s.label.replace(',', ";"),
                c.key.kind.key(),
                eps,
                c.key.study.passes,
                c.key.study.seed,
                t.images,
                c.partial,
                a.map_or(String::new(), |a| a.success_rate.to_string()),
                t.top1,
                t.true_prob,
                t.variance,
                t.predicted_variance,
                t.entropy,
                t.mutual_information,
                au(0),
                au(1),
                au(2)
            ));
        }
    }
    out
}

/// The curve as JSON: how it was made, and each subject's attack study (core's format) per ε.
pub fn curve_json(c: &Curve) -> String {
    serde_json::json!({
        "dataset": c.key.study.dataset.label(),
        "attack": c.key.kind.key(),
        "passes": c.key.study.passes,
        "seed": c.key.study.seed,
        "images": c.images,
        "partial": c.partial,
        "subjects": c.subjects.iter().map(|s| serde_json::json!({
            "model": s.model,
            "how": s.label,
            "points": s.points.iter().map(|(eps, a)| serde_json::json!({ "eps": eps, "study": a })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The robustness-curve section of the study view.
#[component]
pub fn CurvePanel(current: Signal<Option<StudyRun>>, measure: RwSignal<Measure>) -> impl IntoView {
    let store = use_store();
    let results = RwSignal::new_local(Vec::<Curve>::new());
    let progress = RwSignal::new(None::<(usize, usize, usize)>);
    let stop = StoredValue::new(false);
    let key = Memo::new(move |_| {
        let study = current.with(|c| c.as_ref().map(|r| r.key.clone()))?;
        let (chosen, attacks) = store.with(|s| (s.attack, s.attacks));
        Some(CurveKey { study, kind: curve_kind(chosen), attacks })
    });
    let result = Signal::derive(move || key.with(|k| results.with(|rs| rs.iter().find(|r| Some(&r.key) == k.as_ref()).cloned())));
    let start = move |_| {
        let (Some(k), Some(study)) = (key.get_untracked(), current.get_untracked()) else { return };
        stop.set_value(false);
        progress.set(Some((0, 0, 0)));
        spawn_local(async move {
            let out = run(k, &study, move |e, m, i| progress.set(Some((e, m, i))), move || stop.get_value()).await;
            results.update(|rs| {
                rs.retain(|r| r.key != out.key);
                rs.push(out);
            });
            progress.set(None);
        });
    };
    let running = move || progress.with(|p| p.is_some());
    let subjects = move || current.with(|c| c.as_ref().map_or(0, |r| r.runs.len())).max(1);
    let images = move || current.with(|c| c.as_ref().map_or(0, |r| r.runs.iter().map(|m| m.records.len()).min().unwrap_or(0).min(CURVE_IMAGES)));
    let fraction = move || progress.get().map_or(0.0, |(e, m, i)| ((e * subjects() + m) as f64 + i as f64 / images().max(1) as f64) / (EPS.len() * subjects()) as f64);
    let status = move || match (progress.get(), result.get()) {
        (Some((e, m, i)), _) => format!("ε = {}: subject {} of {}, {i} of {} images", EPS[e.min(EPS.len() - 1)], m + 1, subjects(), images()),
        (None, Some(c)) => format!("{}{} ε × {} subjects × {} images in {:.1} s", if c.partial { "partial: " } else { "done: " }, c.subjects.first().map_or(0, |s| s.points.len()), c.subjects.len(), c.images, c.millis / 1000.0),
        (None, None) => "not run yet".into(),
    };
    let label = move || key.with(|k| k.as_ref().map(|k| format!("{} at ε = {}", k.kind.about().label, EPS.map(|e| e.to_string()).join(", "))).unwrap_or_default());
    Effect::new(move |_| {
        let Some(c) = result.get() else { return };
        let m = measure.get();
        spawn_local(async move {
            for (id, plot) in [("study-curve-accuracy", charts::curve_accuracy_chart(&c)), ("study-curve-uncertainty", charts::curve_uncertainty_chart(&c, m)), ("study-curve-auroc", charts::curve_auroc_chart(&c, m))] {
                if let Err(e) = render(id, &plot).await {
                    store.problem(Where::Compute, e);
                }
                yield_now().await;
            }
        });
    });
    let tag = move |c: &Curve| format!("{}-{}-T{}-seed{}-n{}{}", c.key.study.dataset.key(), c.key.kind.key(), c.key.study.passes, c.key.study.seed, c.images, if c.partial { "-partial" } else { "" });
    let csv = move |_| {
        let Some(c) = result.get_untracked() else { return };
        if let Err(e) = download_bytes(curve_csv(&c).as_bytes(), "text/csv", &format!("quiver-robustness-{}.csv", tag(&c))) {
            store.problem(Where::Compute, e);
        }
    };
    let json = move |_| {
        let Some(c) = result.get_untracked() else { return };
        if let Err(e) = download_bytes(curve_json(&c).as_bytes(), "application/json", &format!("quiver-robustness-{}.json", tag(&c))) {
            store.problem(Where::Compute, e);
        }
    };
    let png = move |_| {
        let Some(c) = result.get_untracked() else { return };
        let t = tag(&c);
        spawn_local(async move {
            for id in ["study-curve-accuracy", "study-curve-uncertainty", "study-curve-auroc"] {
                if let Err(e) = crate::ui::widgets::charts::download_chart_png(id, &format!("quiver-{id}-{t}")).await {
                    store.problem(Where::Compute, e);
                    return;
                }
            }
        });
    };
    view! {
        <div class="study-curve" id="study-curve" class:hidden=move || current.with(|c| c.is_none())
            data-state=move || if running() { "running" } else if result.with(|r| r.as_ref().is_some_and(|r| r.partial)) { "partial" } else if result.with(|r| r.is_some()) { "done" } else { "idle" }
            data-points=move || result.with(|r| r.as_ref().map_or(0, |c| c.subjects.first().map_or(0, |s| s.points.len())))>
            <h3>"Robustness curve"</h3>
            <p class="hint">{format!("Accuracy and uncertainty as the attack grows: FGSM (or PGD, when PGD is the attack chosen in the one-image view, with its steps and step size), untargeted, on the first {CURVE_IMAGES} images of this study, for every subject; ε = 0 is the clean images. Each adversarial image (8-bit) gets the same MC dropout as its clean image.")}</p>
            <div class="controls">
                <span>{label}</span>
                <button id="study-curve-run" on:click=start disabled=move || running() || key.with(|k| k.is_none())>"draw the curve"</button>
                <button id="study-curve-cancel" on:click=move |_| stop.set_value(true) disabled=move || !running()>"cancel"</button>
                <progress id="study-curve-progress" max="1" prop:value=fraction></progress>
                <span class="busy" id="study-curve-status" role="status">{status}</span>
                <button id="study-curve-csv" on:click=csv disabled=move || result.with(|r| r.is_none())>"download CSV"</button>
                <button id="study-curve-json" on:click=json disabled=move || result.with(|r| r.is_none())>"download JSON"</button>
                <button id="study-curve-png" on:click=png disabled=move || result.with(|r| r.is_none())>"download the charts (PNG)"</button>
            </div>
            <div class="charts" class:hidden=move || result.with(|r| r.is_none())>
                <div id="study-curve-accuracy" class="chart" role="img" aria-label="Line chart: top-1 accuracy and mean softmax of the true class against ε, one pair of lines per subject; the numbers are in the CSV"></div>
                <div id="study-curve-uncertainty" class="chart" role="img" aria-label="Line chart: the chosen uncertainty measure against ε, one line per subject; the numbers are in the CSV"></div>
                <div id="study-curve-auroc" class="chart" role="img" aria-label="Line chart: AUROC of the chosen uncertainty measure as a detector of the adversarial images against ε; the numbers are in the CSV"></div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_attack_is_pgd_only_for_pgd_and_its_eps_key_exists() {
        assert_eq!(curve_kind(AttackKind::Pgd), AttackKind::Pgd);
        assert_eq!(curve_kind(AttackKind::Lbfgs), AttackKind::Fgsm);
        assert_eq!(curve_kind(AttackKind::PgdL2), AttackKind::Fgsm);
        for kind in [AttackKind::Fgsm, AttackKind::Pgd] {
            let mut a = AttackSet::default();
            for e in EPS {
                assert_eq!(a.set_text(eps_key(kind), &e.to_string()), Ok(true));
                assert_eq!(a.text(eps_key(kind)).unwrap().parse::<f64>().unwrap(), e);
            }
        }
    }
}
