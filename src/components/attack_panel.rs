//! FGSM on the current input: ε, target, original | adversarial | amplified perturbation,
//! predictions and MC-dropout uncertainty before and after.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{argmax_of, probabilities, run_attack, AttackOutcome, Fgsm, Flow, Goal};
use quiver_core::mc_dropout::{McConfig, McSummary};
use quiver_core::metrics::Distances;
use quiver_core::preprocess::to_png;

use crate::app::use_ctx;
use crate::components::charts;
use crate::components::image_view::{PixelCanvas, Shade};
use crate::components::mc_panel::{headline, McTable};
use crate::state::MAX_EPS;

#[derive(Clone, Debug)]
struct AttackView {
    original: Vec<f32>,
    outcome: AttackOutcome,
    before: McSummary,
    after: McSummary,
    distances: Distances,
    millis: f64,
}

fn download_png(pixels: &[f32], name: &str) -> Result<(), String> {
    let bytes = to_png(pixels, 1, 28, 28);
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

#[component]
pub fn AttackPanel() -> impl IntoView {
    let ctx = use_ctx();
    let result = RwSignal::new(None::<AttackView>);
    let busy = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    // FGSM is one gradient step: rerun whenever the model, input, ε, target or MC settings change.
    Effect::new(move |_| {
        let Some(input) = ctx.input.get() else { return };
        let Some(engine) = ctx.engine.get() else { return };
        let (eps, target, mc) = ctx.state.with(|s| (s.eps, s.target, McConfig { passes: s.passes, p: s.p, seed: s.seed }));
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        busy.set(true);
        spawn_local(async move {
            crate::runtime::yield_now().await;
            if generation.get_value() != mine {
                return;
            }
            let t0 = crate::runtime::now_ms();
            let predicted = argmax_of(&probabilities(&engine.cpu, &input.pixels));
            let goal = Goal { label: input.label.unwrap_or(predicted), target };
            let outcome = match run_attack(&Fgsm::new(eps), &engine.cpu, &input.pixels, goal, |_| Flow::Continue) {
                Ok(o) => o,
                Err(e) => {
                    busy.set(false);
                    result.set(None);
                    ctx.error.set(Some(format!("FGSM: {e}")));
                    return;
                }
            };
            let millis = crate::runtime::now_ms() - t0;
            let before = engine.mc(&input.pixels, &mc).await;
            let after = engine.mc(&outcome.adversarial, &mc).await;
            if generation.get_value() != mine {
                return;
            }
            busy.set(false);
            match (before, after) {
                (Ok(before), Ok(after)) => result.set(Some(AttackView {
                    distances: Distances::between(&input.pixels, &outcome.adversarial),
                    original: input.pixels.clone(),
                    outcome,
                    before,
                    after,
                    millis,
                })),
                (Err(e), _) | (_, Err(e)) => ctx.error.set(Some(format!("MC dropout failed: {e}"))),
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

    let original = Signal::derive(move || result.with(|r| r.as_ref().map(|r| r.original.clone())));
    let adversarial = Signal::derive(move || result.with(|r| r.as_ref().map(|r| r.outcome.adversarial.clone())));
    let perturbation = Signal::derive(move || {
        result.with(|r| r.as_ref().map(|r| r.outcome.adversarial.iter().zip(&r.original).map(|(a, o)| a - o).collect()))
    });
    let set_eps = move |ev| {
        if let Ok(e) = event_target_value(&ev).parse::<f32>() {
            ctx.state.update(|s| s.eps = e.clamp(0.0, MAX_EPS));
        }
    };
    let set_target = move |ev| {
        let v = event_target_value(&ev);
        ctx.state.update(|s| s.target = v.parse::<usize>().ok());
    };
    let target_options = move || {
        let classes = ctx.class_names();
        let current = ctx.state.with_untracked(|s| s.target);
        std::iter::once(("none".to_string(), "untargeted".to_string(), current.is_none()))
            .chain(classes.into_iter().enumerate().map(|(k, c)| (k.to_string(), format!("target {c}"), current == Some(k))))
            .map(|(value, text, selected)| view! { <option value=value selected=selected>{text}</option> })
            .collect::<Vec<_>>()
    };
    let download = move |_| {
        if let Some(v) = result.get_untracked() {
            if let Err(e) = download_png(&v.outcome.adversarial, "quiver-adversarial.png") {
                ctx.error.set(Some(e));
            }
        }
    };

    view! {
        <section class="panel" id="attack-panel">
            <h2>"3. Attack it (FGSM)"</h2>
            <p class="hint">"x′ = clip(x + ε·sign(∇ₓ loss), 0, 1): every pixel moves by ε in the direction that hurts the model most. Does the attack also change how uncertain the model is?"</p>
            <div class="controls">
                <label>"ε " <input id="eps" type="range" min="0" max=MAX_EPS step="0.01" prop:value=move || ctx.state.with(|s| s.eps) on:input=set_eps/>
                    <output id="eps-value">{move || format!("{:.2}", ctx.state.with(|s| s.eps))}</output></label>
                <label>"goal " <select id="target" on:change=set_target>{target_options}</select></label>
                <button id="download-adv" on:click=download disabled=move || result.with(|r| r.is_none())>"download adversarial PNG"</button>
                <span class="busy">{move || if busy.get() { "attacking…".to_string() } else { result.with(|r| r.as_ref().map(|r| format!("{:.1} ms", r.millis)).unwrap_or_default()) }}</span>
            </div>
            <div class="triptych">
                <PixelCanvas pixels=original id="canvas-original" title="original"/>
                <PixelCanvas pixels=adversarial id="canvas-adversarial" title="adversarial"/>
                <PixelCanvas pixels=perturbation id="canvas-perturbation" shade=Shade::Diverging title="perturbation (amplified)"/>
            </div>
            {move || result.get().map(|v| {
                let classes = ctx.class_names();
                let o = &v.outcome;
                let verdict = if o.success { "the attack succeeded" } else { "the attack failed" };
                view! {
                    <p id="attack-result" data-success=o.success.to_string() data-before=v.before.predicted data-after=o.predicted>
                        {format!("{verdict}: deterministic prediction {} → {} · L∞ {:.3} · L2 {:.3} · L0 {}",
                            classes[argmax_of(&v.before.mean)], classes[o.predicted], v.distances.linf, v.distances.l2, v.distances.l0)}
                    </p>
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
