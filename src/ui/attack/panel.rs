//! The attack panel: runs the chosen attack on the current input whenever the attack, its
//! parameters, its goal, the input or the model change (not when only the MC settings change:
//! those recompute the before/after uncertainty, not the attack); a progress bar and a cancel
//! button while it runs; original | adversarial | amplified perturbation (| IAA sensitivity map, for IAA);
//! the live trajectory chart; the result; "download adversarial PNG".

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{sensitivity_map, AttackKind, Target};

use crate::runtime::now_ms;
use crate::state::Part;
use crate::store::{use_store, Store, Where};
use crate::ui::attack::driver::{self, AttackKey, Finished, Live};
use crate::ui::attack::params::AttackForm;
use crate::ui::attack::result::AttackResult;
use crate::ui::help::{Help, Topic};
use crate::ui::widgets::charts;
use crate::ui::widgets::download::download_png;
use crate::ui::widgets::pixel_canvas::{PixelCanvas, Shade};

/// `log Sen` scaled to [0, 1] per image, averaged over colour channels: bright = a change there
/// would be visible (flat region), dark = busy region where IAA hides its perturbation.
fn sensitivity_view(sen: &[f32], channels: usize) -> Vec<f32> {
    let n = sen.len() / channels.max(1);
    let logs: Vec<f32> = (0..n).map(|i| (0..channels).map(|c| sen[c * n + i].ln()).sum::<f32>() / channels as f32).collect();
    let (lo, hi) = logs.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-6);
    logs.iter().map(|v| (v - lo) / span).collect()
}

/// The trajectory chart's goal trace name and title.
fn trajectory_names(store: Store, kind: AttackKind, target: Target) -> (String, String) {
    let goal = match target {
        Target::Untargeted => "true class".to_string(),
        Target::RunnerUp => "target (runner-up)".to_string(),
        Target::Class(t) => format!("target {}", store.class_names().get(t).cloned().unwrap_or_default()),
    };
    (goal, format!("{} trajectory", kind.key().to_uppercase()))
}

/// Where a run is.
#[derive(Clone, Debug)]
enum Run {
    Idle,
    Running,
    /// Stopped (cancelled or finished): the status is painted before the result is built, so
    /// a cancel shows at once even when the result takes a while to draw.
    Settling { cancelled: bool },
    Done(Finished),
    Failed,
}


#[component]
pub fn AttackPanel() -> impl IntoView {
    let store = use_store();
    let invalid = RwSignal::new(None::<String>);
    let rerun = RwSignal::new(0u64);
    let live = Live::new();
    let run = RwSignal::new(Run::Idle);
    // The frame that first showed a cancel (see `cancel`).
    let cancel_shown = StoredValue::new(None::<f64>);
    // When the trajectory was last drawn (see the redraw effect below).
    let last_draw = StoredValue::new(f64::NEG_INFINITY);

    let input = store.input();
    let spec = Memo::new(move |_| store.with(|s| (s.attack, s.attacks, s.target)));
    let key = Memo::new(move |_| {
        let (input, model) = store.fitted().get()?;
        let (kind, attacks, target) = spec.get();
        Some(AttackKey { pixels: input.pixels, label: input.label, model, kind, attacks, target, rerun: rerun.get() })
    });

    Effect::new(move |_| {
        let Some(k) = key.get() else { return };
        let Some(engine) = store.engine().get_untracked() else { return };
        live.cancel_at.set_value(None);
        // The first redraw comes a full interval into the run, not with its first steps (when a
        // quick "cancel" is most likely).
        last_draw.set_value(now_ms());
        live.points.set(Vec::new());
        live.progress.set(0.0);
        live.iteration.set(0);
        invalid.set(None);
        run.set(Run::Running);
        spawn_local(async move {
            // After the next frame: the MC result of the same input, computed first, is painted
            // before the attack's steps (on a first visit, before the code is tuned, FGSM alone
            // took 60–80 ms in front of the first MC result).
            crate::runtime::painted().await;
            let mine = k.clone();
            let stale = move || key.with_untracked(|now| now.as_ref() != Some(&mine));
            if stale() {
                return;
            }
            // plotly's first drawing in an element is its slowest (~100–150 ms here, against
            // 20–40 ms for an update): draw the trajectory's empty frame now, as a task of its own
            // before the first step, so that no later click (a cancel) waits behind it.
            if k.kind != AttackKind::Fgsm && !charts::drawn("chart-trajectory") {
                let (goal, title) = trajectory_names(store, k.kind, k.target);
                if let Err(e) = charts::render("chart-trajectory", &charts::trajectory_frame(&goal, &title, k.kind == AttackKind::Iaa)).await {
                    store.problem(Where::Compute, e);
                }
                crate::runtime::yield_now().await;
                if stale() {
                    return;
                }
            }
            // An iterative run waits for the MC panel's charts of the same input (see
            // charts::settled); FGSM is one step, over before a click could come.
            if k.kind != AttackKind::Fgsm {
                charts::settled(3000.0).await;
                if stale() {
                    return;
                }
            }
            let out = driver::run(k.clone(), engine, live, stale).await;
            if key.with_untracked(|now| now.as_ref() != Some(&k)) {
                return;
            }
            match out {
                Some(Ok(mut f)) => {
                    run.set(Run::Settling { cancelled: f.cancelled });
                    let shown = crate::runtime::painted().await;
                    // What the user sees: from the click to the frame that showed "cancelled"
                    // (the click's own frame, see `cancel`).
                    if let (true, Some(click)) = (f.cancelled, live.cancel_at.get_value()) {
                        f.cancel_latency_ms = Some(cancel_shown.get_value().unwrap_or(shown) - click);
                    }
                    if key.with_untracked(|now| now.as_ref() != Some(&k)) {
                        return;
                    }
                    run.set(Run::Done(f));
                }
                Some(Err(e)) => {
                    invalid.set(Some(e));
                    run.set(Run::Failed);
                }
                None => {}
            }
        });
    });

    // The MC-dropout uncertainty before and after: follows the MC settings, reuses the attack.
    let finished = Memo::new(move |_| match run.get() {
        Run::Done(f) => Some(f.outcome.adversarial.clone()).map(|adv| (f.original.clone(), adv)),
        _ => None,
    });
    let cfg = Memo::new(move |_| store.with(|s| s.mc));
    let uncertainty = LocalResource::new(move || {
        let pair = finished.get();
        let cfg = cfg.get();
        let engine = store.engine().get_untracked();
        async move {
            let ((original, adversarial), engine) = (pair?, engine?);
            let before = engine.mc(&original, &cfg).await;
            let after = engine.mc(&adversarial, &cfg).await;
            Some((original, adversarial, cfg, before.and_then(|b| after.map(|a| (b, a)))))
        }
    });
    let summaries = move || {
        let (o, a, c, r) = uncertainty.get().flatten()?;
        (finished.get() == Some((o, a)) && c == cfg.get()).then_some(r)
    };
    let pair = Memo::new(move |_| summaries().and_then(|r| r.ok()));
    Effect::new(move |_| {
        if let Some(Err(e)) = summaries() {
            store.problem(Where::Compute, format!("MC dropout failed: {e}"));
        }
    });
    let busy = move || match run.get() {
        Run::Running | Run::Settling { .. } => true,
        Run::Done(_) => summaries().is_none(),
        _ => false,
    };

    // Charts: the trajectory grows while the attack runs; the comparison appears at the end.
    // A redraw is a task of its own (never added to a slice of steps), and none is drawn while a
    // cancel waits to be shown.
    // While running, a redraw (20–120 ms of plotly) at most every driver::CHART_MS: between
    // them the main thread only steps the attack in short slices, so a click (a cancel) seldom
    // waits behind a redraw.
    Effect::new(move |_| {
        let points = live.points.get();
        if points.len() < 2 {
            return; // one point (FGSM) is no trajectory
        }
        // While running: draw unless a cancel waits or newer points came. While settling: the
        // status is being painted; the settled run draws.
        let phase = run.with(|r| match r {
            Run::Running => Some(false),
            Run::Settling { .. } => None,
            _ => Some(true),
        });
        if points.is_empty() {
            return;
        }
        let (goal_name, title) = trajectory_names(store, spec.with_untracked(|s| s.0), store.with_untracked(|s| s.target));
        spawn_local(async move {
            crate::runtime::yield_now().await;
            let n = points.len();
            let stale = move || live.cancel_at.get_value().is_some() || live.points.with_untracked(|p| p.len()) != n;
            let skip = match phase {
                None => true,
                Some(false) => stale() || now_ms() - last_draw.get_value() < driver::CHART_MS,
                Some(true) => false,
            };
            if skip {
                return;
            }
            // While running, checked again when the drawing's turn comes (a frame later).
            let wanted = move || phase == Some(true) || !stale();
            if let Err(e) = charts::render_if("chart-trajectory", &charts::trajectory_chart(&points, &goal_name, &title), wanted).await {
                store.problem(Where::Compute, e);
            }
            last_draw.set_value(now_ms());
        });
    });
    Effect::new(move |_| {
        let Some((before, after)) = pair.get() else { return };
        let classes = store.class_names();
        spawn_local(async move {
            if let Err(e) = charts::render("chart-attack", &charts::compare_chart(&before, &after, &classes)).await {
                store.problem(Where::Compute, e);
            }
        });
    });

    let done = move || match run.get() {
        Run::Done(f) => Some(f),
        _ => None,
    };
    let shape = Signal::derive(move || store.engine().with(|e| e.as_ref().map(|e| e.entry.architecture.input_shape())).unwrap_or([1, 28, 28]));
    // The original is the input, shown from the start (not only once a run is done).
    let original = Signal::derive(move || done().map(|r| r.original).or_else(|| store.fitted().with(|f| f.as_ref().map(|(i, _)| i.pixels.clone()))));
    let adversarial = Signal::derive(move || done().map(|r| r.outcome.adversarial));
    let perturbation = Signal::derive(move || done().map(|r| r.outcome.adversarial.iter().zip(&r.original).map(|(a, o)| a - o).collect()));
    // The sensitivity map of the current input with IAA's neighbourhood n.
    let sensitivity = Signal::derive(move || {
        let n = store.with(|s| s.attacks.iaa.n);
        let [c, h, w] = shape.get();
        input.with(|i| i.as_ref().and_then(|i| sensitivity_map(&i.pixels, [c, h, w], n).ok().map(|s| sensitivity_view(&s, c))))
    });

    let download = move |_| {
        if let Some(v) = done() {
            if let Err(e) = download_png(&v.outcome.adversarial, shape.get_untracked(), "quiver-adversarial.png") {
                store.problem(Where::Compute, e);
            }
        }
    };
    let stopping = RwSignal::new(false);
    let cancel = move |ev: web_sys::MouseEvent| {
        if matches!(run.get_untracked(), Run::Running) {
            // The event's time stamp is when the click happened, even if it waited for a yield.
            live.cancel(ev.time_stamp());
            stopping.set(true);
            // "cancelled" shows with the next frame: the run stops at its next yield (within a
            // slice of steps), and nothing it still reports is shown before its best so far.
            run.set(Run::Settling { cancelled: true });
            cancel_shown.set_value(None);
            spawn_local(async move {
                let shown = crate::runtime::painted().await;
                cancel_shown.set_value(Some(shown));
            });
        }
    };
    Effect::new(move |_| {
        if !matches!(run.get(), Run::Running) {
            stopping.set(false);
        }
    });
    let running = move || matches!(run.get(), Run::Running);
    let status_key = move || match run.get() {
        Run::Idle => "idle",
        Run::Running => "running",
        Run::Settling { cancelled: true } => "cancelled",
        Run::Settling { cancelled: false } => "done",
        Run::Done(f) if f.cancelled => "cancelled",
        Run::Done(_) => "done",
        Run::Failed => "failed",
    };

    // The trajectory chart shows while an iterative attack runs (its frame is drawn before the
    // first step) and when a run left two points or more; FGSM (one step) has none.
    let no_trajectory = move || {
        if store.hides(Part::Trajectory) {
            return true;
        }
        let iterating = matches!(run.get(), Run::Running | Run::Settling { .. }) && spec.with(|s| s.0 != AttackKind::Fgsm);
        !iterating && live.points.with(|l| l.len() < 2)
    };

    view! {
        <section class="panel" id="attack-panel" data-busy=move || busy().to_string()>
            <h2>"3. Attack it " {move || view! { <Help topic=Topic::Attack(spec.with(|s| s.0))/> }} " " <Help topic=Topic::Distances label="distances"/></h2>
            <div class:hidden=store.hides(Part::AttackSettings)><AttackForm invalid=invalid/></div>
            <div class="controls">
                <button id="attack-run" on:click=move |_| rerun.update(|r| *r += 1) disabled=move || running() || key.with(|k| k.is_none())>"run again"</button>
                <button id="attack-cancel" on:click=cancel disabled=move || !running() || stopping.get()>"cancel"</button>
                <progress id="attack-progress" max="1" prop:value=move || live.progress.get()></progress>
                <button id="download-adv" on:click=download disabled=move || done().is_none()>"download adversarial PNG"</button>
                <span class="busy" id="attack-status" data-state=status_key data-iteration=move || live.iteration.get()>
                    {move || match run.get() {
                        Run::Running if stopping.get() => "stopping…".to_string(),
                        Run::Running => format!("attacking… iteration {}", live.iteration.get()),
                        Run::Settling { cancelled: true } => "cancelled · showing the best so far…".to_string(),
                        Run::Settling { cancelled: false } => "done · drawing the result…".to_string(),
                        Run::Done(r) => format!("{}{:.1} ms", if r.cancelled { "cancelled · " } else { "" }, r.compute_ms),
                        _ => String::new(),
                    }}
                </span>
            </div>
            <div class="triptych">
                {move || {
                    let [c, h, _] = shape.get();
                    let size = h as u32;
                    view! {
                        <PixelCanvas pixels=original id="canvas-original" title="original" size=size channels=c/>
                        <PixelCanvas pixels=adversarial id="canvas-adversarial" title="adversarial" size=size channels=c/>
                        <PixelCanvas pixels=perturbation id="canvas-perturbation" shade=Shade::Diverging title="perturbation (amplified)" size=size channels=c/>
                        {(spec.with(|s| s.0) == AttackKind::Iaa).then(|| view! {
                            <PixelCanvas pixels=sensitivity id="canvas-sensitivity" title="IAA sensitivity (log Sen; dark = busy)" size=size channels=1/>
                        })}
                    }
                }}
            </div>
            <div id="chart-trajectory" class="chart" class:hidden=no_trajectory role="img" aria-label="Line chart: the goal's and the best other class's probability, the gap and the distance at each iteration; the final values are in the metrics table"></div>
            <ul class="legend" id="trajectory-legend" class:hidden=no_trajectory aria-label="trajectory lines">
                {move || {
                    let kind = spec.with(|s| s.0);
                    let (goal, _) = trajectory_names(store, kind, store.with(|s| s.target));
                    charts::trajectory_series(&goal, kind == AttackKind::Iaa)
                        .into_iter()
                        .map(|l| {
                            let style = match l.dash {
                                "dot" => "dotted",
                                "dash" | "dashdot" => "dashed",
                                _ => "solid",
                            };
                            let swatch = format!("border-top: 3px {style} {}", l.color);
                            let axis = if l.right { " (right axis)" } else { "" };
                            view! { <li><span class="swatch" style=swatch></span>{l.name}{axis}</li> }
                        })
                        .collect_view()
                }}
            </ul>
            {move || done().map(|f| {
                let (before, after) = pair.get().map(|(b, a)| (Some(b), Some(a))).unwrap_or((None, None));
                view! { <AttackResult finished=f before=before after=after classes=store.class_names()/> }
            })}
            <div id="chart-attack" class="chart" role="img" aria-label="Bar chart: the MC-dropout mean softmax per class for the original and the adversarial image; the numbers are in the two tables above" data-height=store.with_untracked(|s| s.embed).then_some("210") class:hidden=move || pair.with(|p| p.is_none())></div>
        </section>
    }
}
