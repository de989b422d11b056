//! The attack panel: FGSM, L-BFGS or IAA on the current input with their parameters and goal;
//! a progress bar and a cancel button while it runs; original | adversarial | amplified
//! perturbation | IAA sensitivity map; a live trajectory chart; the metrics table with the
//! MC-dropout prediction before and after; "download adversarial PNG".
//!
//! Attacks run on the main thread as core's steppers ([`quiver_core::attacks::AttackRun`]): the
//! driver runs steps for at most [`SLICE_MS`] and then yields to the browser, so the page keeps
//! painting, the chart grows, and a click on cancel (or any new setting) takes effect at the
//! next yield.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{argmax_of, sensitivity_map, Attack, AttackOutcome, Goal, Step, TrajectoryPoint};
use quiver_core::mc_dropout::{McConfig, McSummary};
use quiver_core::preprocess::to_png;

use crate::app::{use_ctx, Ctx};
use crate::components::charts;
use crate::components::image_view::{PixelCanvas, Shade};
use crate::components::mc_panel::{headline, McTable};
use crate::runtime::{now_ms, yield_now};
use crate::state::{AppState, AttackKind, TargetChoice, MAX_EPS};

/// Longest stretch of attack steps between two yields to the browser (ms).
pub const SLICE_MS: f64 = 30.0;
/// Shortest interval between two redraws of the trajectory chart (ms).
const CHART_MS: f64 = 250.0;

#[derive(Clone, Debug)]
struct AttackView {
    original: Vec<f32>,
    outcome: AttackOutcome,
    before: McSummary,
    after: McSummary,
    /// Time spent computing the attack (the yields excluded), and the wall time.
    compute_ms: f64,
    wall_ms: f64,
    /// Stopped by the user: the best result so far is shown.
    cancelled: bool,
    /// Milliseconds from the cancel click to the attack stopping.
    cancel_latency_ms: Option<f64>,
}

/// Everything that decides an attack run (the panel reruns when it changes).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Spec {
    kind: AttackKind,
    state_attack: (quiver_core::attacks::Fgsm, quiver_core::attacks::Lbfgs, quiver_core::attacks::Iaa),
    target: TargetChoice,
}

impl Spec {
    fn of(s: &AppState) -> Self {
        Spec { kind: s.attack, state_attack: (s.fgsm, s.lbfgs, s.iaa), target: s.target }
    }

    fn attack(&self) -> Box<dyn Attack> {
        let (f, l, i) = self.state_attack;
        match self.kind {
            AttackKind::Fgsm => Box::new(f),
            AttackKind::Lbfgs => Box::new(l),
            AttackKind::Iaa => Box::new(i),
        }
    }

    /// How far along a run is at `p`, in [0, 1] (an upper bound on the work left: both attacks
    /// may stop earlier).
    fn progress(&self, p: &TrajectoryPoint) -> f64 {
        let (_, l, i) = self.state_attack;
        let f = match self.kind {
            AttackKind::Fgsm => 1.0,
            AttackKind::Lbfgs => p.iteration as f64 / (l.c_steps * l.max_iter) as f64,
            AttackKind::Iaa => {
                let by_d = p.perceptual_distance.map(|d| d as f64 / i.d_max as f64).unwrap_or(0.0);
                by_d.max(p.iteration as f64 / i.max_iter as f64)
            }
        };
        f.clamp(0.0, 1.0)
    }
}

pub fn download_png(pixels: &[f32], shape: [usize; 3], name: &str) -> Result<(), String> {
    let [c, h, w] = shape;
    let bytes = to_png(pixels, c, w as u32, h as u32);
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/png");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(|_| "could not create the PNG")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "could not create the PNG")?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = wasm_bindgen::JsCast::unchecked_into(doc.create_element("a").map_err(|_| "no anchor")?);
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// `log Sen` scaled to [0, 1] per image, averaged over colour channels: bright = a change there
/// would be visible (flat region), dark = busy region where IAA hides its perturbation.
fn sensitivity_view(sen: &[f32], channels: usize) -> Vec<f32> {
    let n = sen.len() / channels.max(1);
    let logs: Vec<f32> = (0..n).map(|i| (0..channels).map(|c| sen[c * n + i].ln()).sum::<f32>() / channels as f32).collect();
    let (lo, hi) = logs.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-6);
    logs.iter().map(|v| (v - lo) / span).collect()
}

/// A number field bound to one attack parameter. Text that is not a number is reported, not
/// stored; out-of-range numbers are stored and core's validation explains what is wrong.
#[allow(clippy::too_many_arguments)]
fn number_field<T>(
    ctx: Ctx,
    invalid: RwSignal<Option<String>>,
    id: &'static str,
    label: &'static str,
    title: &'static str,
    step: &'static str,
    get: fn(&AppState) -> T,
    set: fn(&mut AppState, T),
) -> impl IntoView
where
    T: std::str::FromStr + ToString + Send + Sync + 'static,
{
    let on_change = move |ev| {
        let v = event_target_value(&ev);
        match v.trim().parse::<T>() {
            Ok(x) => ctx.state.update(|s| set(s, x)),
            Err(_) => invalid.set(Some(format!("{label}: {v:?} is not a number"))),
        }
    };
    view! {
        <label title=title>{label} " "
            <input id=id type="number" step=step class="param" prop:value=move || ctx.state.with(|s| get(s).to_string()) on:change=on_change/>
        </label>
    }
}

#[component]
pub fn AttackPanel() -> impl IntoView {
    let ctx = use_ctx();
    let result = RwSignal::new(None::<AttackView>);
    let busy = RwSignal::new(false);
    let invalid = RwSignal::new(None::<String>);
    let live = RwSignal::new(Vec::<TrajectoryPoint>::new());
    let progress = RwSignal::new(0.0f64);
    let iterations = RwSignal::new(0usize);
    let rerun = RwSignal::new(0u64);
    let generation = StoredValue::new(0u64);
    // Time stamp (performance.now) of the cancel click, when one is pending.
    let cancel_at = StoredValue::new(None::<f64>);

    let spec = Memo::new(move |_| ctx.state.with(Spec::of));
    let mc = Memo::new(move |_| ctx.state.with(|s| McConfig { passes: s.passes, p: s.p, seed: s.seed }));

    Effect::new(move |_| {
        rerun.track();
        let Some((input, engine)) = ctx.ready() else { return };
        let spec = spec.get();
        let mc = mc.get();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        cancel_at.set_value(None);
        invalid.set(None);
        busy.set(true);
        live.set(Vec::new());
        progress.set(0.0);
        iterations.set(0);
        spawn_local(async move {
            yield_now().await;
            if generation.get_value() != mine {
                return;
            }
            let attack = spec.attack();
            let model = &engine.cpu;
            let wall0 = now_ms();
            let started = Goal::for_image(model, &input.pixels, input.label, spec.target)
                .and_then(|goal| attack.start(model, &input.pixels, goal))
                .map_err(|e| e.to_string());
            let mut run = match started {
                Ok(r) => r,
                Err(e) => {
                    busy.set(false);
                    result.set(None);
                    invalid.set(Some(format!("{} cannot run: {e}", attack.name().to_uppercase())));
                    return;
                }
            };
            let mut compute_ms = now_ms() - wall0;
            let mut slice = now_ms();
            let mut last_flush = slice;
            let mut pending = Vec::new();
            let mut latency = None;
            let (outcome, cancelled) = loop {
                match run.step() {
                    Step::Done(o) => break (o, false),
                    Step::Running(p) => pending.push(p),
                }
                let now = now_ms();
                if now - slice >= SLICE_MS {
                    compute_ms += now - slice;
                    if let Some(p) = pending.last() {
                        progress.set(spec.progress(p));
                        iterations.set(p.iteration);
                    }
                    if now - last_flush >= CHART_MS {
                        live.update(|v| v.append(&mut pending));
                        last_flush = now;
                    }
                    yield_now().await;
                    if generation.get_value() != mine {
                        return; // superseded by newer settings
                    }
                    if let Some(t) = cancel_at.get_value() {
                        latency = Some(now_ms() - t);
                        break (run.finish(), true);
                    }
                    slice = now_ms();
                }
            };
            compute_ms += now_ms() - slice;
            let wall_ms = now_ms() - wall0;
            live.update(|v| {
                v.append(&mut pending);
                // FGSM's single step, and a run that stopped before any step, still draw a line
                // from the clean image.
                if v.is_empty() {
                    v.extend(outcome.trajectory.iter().cloned());
                }
            });
            progress.set(1.0);
            iterations.set(outcome.iterations);
            let before = engine.mc(&input.pixels, &mc).await;
            let after = engine.mc(&outcome.adversarial, &mc).await;
            if generation.get_value() != mine {
                return;
            }
            busy.set(false);
            match (before, after) {
                (Ok(before), Ok(after)) => result.set(Some(AttackView {
                    original: input.pixels.clone(),
                    outcome,
                    before,
                    after,
                    compute_ms,
                    wall_ms,
                    cancelled,
                    cancel_latency_ms: latency,
                })),
                (Err(e), _) | (_, Err(e)) => ctx.error.set(Some(format!("MC dropout failed: {e}"))),
            }
        });
    });

    // Charts: the trajectory grows while the attack runs; the comparison appears at the end.
    Effect::new(move |_| {
        let points = live.get();
        if points.is_empty() {
            return;
        }
        let kind = spec.with_untracked(|s| s.kind);
        let goal_name = match ctx.state.with_untracked(|s| s.target) {
            TargetChoice::Untargeted => "true class".to_string(),
            TargetChoice::RunnerUp => "target (runner-up)".to_string(),
            TargetChoice::Class(t) => format!("target {}", ctx.class_names().get(t).cloned().unwrap_or_default()),
        };
        let title = format!("{} trajectory", kind.key().to_uppercase());
        spawn_local(async move {
            if let Err(e) = charts::render("chart-trajectory", &charts::trajectory_chart(&points, &goal_name, &title)).await {
                ctx.error.set(Some(e));
            }
        });
    });
    Effect::new(move |_| {
        let Some(v) = result.get() else { return };
        let classes = ctx.class_names();
        spawn_local(async move {
            if let Err(e) = charts::render("chart-attack", &charts::compare_chart(&v.before, &v.after, &classes)).await {
                ctx.error.set(Some(e));
            }
        });
    });

    let shape = Signal::derive(move || ctx.engine.with(|e| e.as_ref().map(|e| e.entry.architecture.input_shape())).unwrap_or([1, 28, 28]));
    let original = Signal::derive(move || result.with(|r| r.as_ref().map(|r| r.original.clone())));
    let adversarial = Signal::derive(move || result.with(|r| r.as_ref().map(|r| r.outcome.adversarial.clone())));
    let perturbation = Signal::derive(move || {
        result.with(|r| r.as_ref().map(|r| r.outcome.adversarial.iter().zip(&r.original).map(|(a, o)| a - o).collect()))
    });
    // The sensitivity map of the current input with IAA's neighbourhood n.
    let sensitivity = Signal::derive(move || {
        let n = ctx.state.with(|s| s.iaa.n);
        let [c, h, w] = shape.get();
        ctx.input.with(|i| i.as_ref().and_then(|i| sensitivity_map(&i.pixels, [c, h, w], n).ok().map(|s| sensitivity_view(&s, c))))
    });

    let set_attack = move |ev| {
        if let Some(a) = AttackKind::from_key(&event_target_value(&ev)) {
            ctx.state.update(|s| s.attack = a);
        }
    };
    let set_eps = move |ev| {
        if let Ok(e) = event_target_value(&ev).parse::<f32>() {
            ctx.state.update(|s| s.fgsm.eps = e.clamp(0.0, MAX_EPS));
        }
    };
    let set_target = move |ev| {
        let v = event_target_value(&ev);
        let t = v.parse::<TargetChoice>().unwrap_or_default();
        ctx.state.update(|s| s.target = t);
    };
    let target_options = move || {
        let classes = ctx.class_names();
        let current = ctx.state.with_untracked(|s| s.target);
        [(TargetChoice::Untargeted, "untargeted (any wrong class)".to_string()), (TargetChoice::RunnerUp, "targeted: runner-up class".to_string())]
            .into_iter()
            .chain(classes.into_iter().enumerate().map(|(k, c)| (TargetChoice::Class(k), format!("target {c}"))))
            .map(|(t, text)| view! { <option value=t.to_string() selected=current == t>{text}</option> })
            .collect::<Vec<_>>()
    };
    let attack_options = move || {
        let current = ctx.state.with_untracked(|s| s.attack);
        AttackKind::ALL
            .into_iter()
            .map(|a| view! { <option value=a.key() selected=current == a>{a.label()}</option> })
            .collect::<Vec<_>>()
    };
    let download = move |_| {
        if let Some(v) = result.get_untracked() {
            if let Err(e) = download_png(&v.outcome.adversarial, shape.get_untracked(), "quiver-adversarial.png") {
                ctx.error.set(Some(e));
            }
        }
    };
    let cancel = move |ev: web_sys::MouseEvent| {
        if busy.get_untracked() {
            // The event's time stamp is when the click happened, even if it waited for a yield.
            cancel_at.set_value(Some(ev.time_stamp()));
        }
    };

    let params = move || {
        let kind = ctx.state.with(|s| s.attack);
        match kind {
            AttackKind::Fgsm => view! {
                <div class="params" id="params-fgsm">
                    <label title="L∞ size of the step, in pixel units">"ε "
                        <input id="eps" type="range" min="0" max=MAX_EPS step="0.01" prop:value=move || ctx.state.with(|s| s.fgsm.eps) on:input=set_eps/>
                        <output id="eps-value">{move || format!("{:.2}", ctx.state.with(|s| s.fgsm.eps))}</output>
                    </label>
                </div>
            }
            .into_any(),
            AttackKind::Lbfgs => view! {
                <div class="params" id="params-lbfgs">
                    {number_field(ctx, invalid, "lbfgs-c", "c (initial)", "first penalty weight c on ‖r‖₂²; the search halves or doubles it", "any", |s| s.lbfgs.c_init, |s, v| s.lbfgs.c_init = v)}
                    {number_field(ctx, invalid, "lbfgs-steps", "c steps", "outer steps of the search over c (1–50)", "1", |s| s.lbfgs.c_steps, |s, v| s.lbfgs.c_steps = v)}
                    {number_field(ctx, invalid, "lbfgs-iter", "iterations per c", "L-BFGS iterations for each c (1–10000)", "1", |s| s.lbfgs.max_iter, |s, v| s.lbfgs.max_iter = v)}
                    {number_field(ctx, invalid, "lbfgs-mem", "memory", "curvature pairs kept (1–100)", "1", |s| s.lbfgs.memory, |s, v| s.lbfgs.memory = v)}
                </div>
            }
            .into_any(),
            AttackKind::Iaa => view! {
                <div class="params" id="params-iaa">
                    {number_field(ctx, invalid, "iaa-n", "n", "neighbourhood side of the local standard deviation (odd, 1–27)", "2", |s| s.iaa.n, |s, v| s.iaa.n = v)}
                    {number_field(ctx, invalid, "iaa-m", "m", "pixels perturbed per iteration (≥ 1)", "1", |s| s.iaa.m, |s, v| s.iaa.m = v)}
                    {number_field(ctx, invalid, "iaa-delta", "δ", "change per selected pixel and iteration, in (0, 1]", "0.01", |s| s.iaa.delta, |s, v| s.iaa.delta = v)}
                    {number_field(ctx, invalid, "iaa-dmax", "D_max", "largest perceptual distance D, in (0, 255]", "0.01", |s| s.iaa.d_max, |s, v| s.iaa.d_max = v)}
                    {number_field(ctx, invalid, "iaa-kappa", "κ", "robustness margin: stop once the gap exceeds κ, in [0, 1)", "0.05", |s| s.iaa.margin, |s, v| s.iaa.margin = v)}
                    {number_field(ctx, invalid, "iaa-iter", "max iterations", "iteration cap (1–100000)", "1", |s| s.iaa.max_iter, |s, v| s.iaa.max_iter = v)}
                </div>
            }
            .into_any(),
        }
    };
    let hint = move || match ctx.state.with(|s| s.attack) {
        AttackKind::Fgsm => "FGSM: x′ = clip(x + ε·sign(∇ₓ loss), 0, 1). Every pixel moves by ε in the direction that hurts the model most.",
        AttackKind::Lbfgs => "L-BFGS (Szegedy et al.): minimise c·‖r‖₂² + loss(x + r) with x + r kept in [0, 1], searching over c for the smallest perturbation that succeeds.",
        AttackKind::Iaa => "IAA (seed §4.4): each iteration moves the m pixels with the highest ∇Gap / Sen by δ; Sen = 1/SD of the n×n neighbourhood, so busy regions (low Sen) change first. Stops once Gap > κ or D reaches D_max.",
    };

    view! {
        <section class="panel" id="attack-panel">
            <h2>"3. Attack it"</h2>
            <p class="hint">{hint}" Does the attack also change how uncertain the model is?"</p>
            <div class="controls">
                <label>"attack " <select id="attack-select" on:change=set_attack>{attack_options}</select></label>
                <label>"goal " <select id="target" on:change=set_target>{target_options}</select></label>
            </div>
            <div class="controls">{params}</div>
            <Show when=move || invalid.with(|i| i.is_some())>
                <p id="attack-invalid" class="error" role="alert">{move || invalid.get()}</p>
            </Show>
            <div class="controls">
                <button id="attack-run" on:click=move |_| rerun.update(|r| *r += 1) disabled=move || busy.get()>"run again"</button>
                <button id="attack-cancel" on:click=cancel disabled=move || !busy.get()>"cancel"</button>
                <progress id="attack-progress" max="1" prop:value=move || progress.get()></progress>
                <button id="download-adv" on:click=download disabled=move || result.with(|r| r.is_none())>"download adversarial PNG"</button>
                <span class="busy" id="attack-status">
                    {move || if busy.get() {
                        format!("attacking… iteration {}", iterations.get())
                    } else {
                        result.with(|r| r.as_ref().map(|r| {
                            let stop = if r.cancelled { "cancelled · " } else { "" };
                            format!("{stop}{:.1} ms", r.compute_ms)
                        }).unwrap_or_default())
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
                        <PixelCanvas pixels=sensitivity id="canvas-sensitivity" title="IAA sensitivity (log Sen; dark = busy)" size=size channels=1/>
                    }
                }}
            </div>
            <div id="chart-trajectory" class="chart" class:hidden=move || live.with(|l| l.is_empty())></div>
            {move || result.get().map(|v| {
                let classes = ctx.class_names();
                let o = &v.outcome;
                let verdict = if v.cancelled {
                    "cancelled — best so far"
                } else if o.success {
                    "the attack succeeded"
                } else {
                    "the attack failed"
                };
                let goal = match o.goal.target {
                    Some(t) => format!("make it say {} (true: {})", classes[t], classes[o.goal.label]),
                    None => format!("any class but {}", classes[o.goal.label]),
                };
                let d = o.distances;
                let rows: Vec<(&str, &str, String)> = vec![
                    ("attack", "attack", o.attack.to_uppercase()),
                    ("goal", "goal", goal),
                    ("success", "success", o.success.to_string()),
                    ("prediction", "deterministic prediction", format!("{} → {}", classes[argmax_of(&v.before.mean)], classes[o.predicted])),
                    ("gap", "final gap (> 0: goal reached)", format!("{:.4}", o.gap)),
                    ("l0", "L0 (values changed)", d.l0.to_string()),
                    ("l2", "L2", format!("{:.4}", d.l2)),
                    ("linf", "L∞", format!("{:.4}", d.linf)),
                    ("d", "perceptual distance D", format!("{:.4}", o.perceptual_distance)),
                    ("iterations", "iterations", o.iterations.to_string()),
                    ("time", "time (compute / wall)", format!("{:.1} ms / {:.1} ms", v.compute_ms, v.wall_ms)),
                    ("mc-mean", "MC mean p of the prediction (original → adversarial)", format!("{:.4} → {:.4}", v.before.mean[v.before.predicted], v.after.mean[v.after.predicted])),
                    ("mc-var", "MC variance of the prediction", format!("{:.5} → {:.5}", v.before.variance[v.before.predicted], v.after.variance[v.after.predicted])),
                    ("mc-entropy", "MC predictive entropy (nats)", format!("{:.4} → {:.4}", v.before.entropy, v.after.entropy)),
                ];
                view! {
                    <p id="attack-result" data-success=o.success.to_string() data-before=v.before.predicted data-after=o.predicted
                        data-attack=o.attack.clone() data-cancelled=v.cancelled.to_string() data-iterations=o.iterations
                        data-cancel-ms=v.cancel_latency_ms.map(|l| format!("{l:.1}")).unwrap_or_default()>
                        {format!("{verdict}: deterministic prediction {} → {} · L∞ {:.3} · L2 {:.3} · L0 {}",
                            classes[argmax_of(&v.before.mean)], classes[o.predicted], d.linf, d.l2, d.l0)}
                        {v.cancel_latency_ms.map(|l| format!(" · stopped {l:.0} ms after the click"))}
                    </p>
                    <table id="attack-metrics" class="metrics">
                        <tbody>
                            {rows.into_iter().map(|(key, name, value)| view! { <tr data-metric=key><th>{name}</th><td class="num">{value}</td></tr> }).collect::<Vec<_>>()}
                        </tbody>
                    </table>
                    <div class="compare">
                        <div><h3>"Original"</h3><p id="mc-before">{headline(&v.before, &classes)}</p><McTable summary=v.before.clone() classes=classes.clone() id="attack-table-before"/></div>
                        <div><h3>"Adversarial"</h3><p id="mc-after">{headline(&v.after, &classes)}</p><McTable summary=v.after.clone() classes=classes.clone() id="attack-table-after"/></div>
                    </div>
                }
            })}
            <div id="chart-attack" class="chart" class:hidden=move || result.with(|r| r.is_none())></div>
        </section>
    }
}
