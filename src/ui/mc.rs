//! MC-dropout prediction for the current input: controls, charts and the numbers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::mc_dropout::{McConfig, McSummary, MAX_PASSES};

use crate::app::use_ctx;
use crate::components::charts;

/// A table of the per-class numbers.
#[component]
pub fn McTable(summary: McSummary, classes: Vec<String>, #[prop(into)] id: String) -> impl IntoView {
    let rows = (0..summary.num_classes)
        .map(|k| {
            let top = k == summary.predicted;
            view! {
                <tr class:top=top data-class=k>
                    <td>{classes[k].clone()}</td>
                    <td class="num mean">{format!("{:.4}", summary.mean[k])}</td>
                    <td class="num std">{format!("{:.4}", summary.std[k])}</td>
                    <td class="num var">{format!("{:.5}", summary.variance[k])}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <table class="mc-table" id=id>
            <thead><tr><th>"class"</th><th>"mean"</th><th>"std"</th><th>"variance"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The headline numbers of one MC prediction.
pub fn headline(s: &McSummary, classes: &[String]) -> String {
    format!(
        "predicted {} · mean p {:.3} ± {:.3} · variance {:.5} · entropy {:.3} nats · mutual information {:.3} · margin {:.3} · {:.0} % of passes agree",
        classes[s.predicted], s.mean[s.predicted], s.std[s.predicted], s.variance[s.predicted], s.entropy, s.mutual_information, s.margin, s.agreement * 100.0
    )
}

#[component]
pub fn McPanel() -> impl IntoView {
    let ctx = use_ctx();
    let result = RwSignal::new(None::<McSummary>);
    let millis = RwSignal::new(0.0f64);
    let busy = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    // Recompute whenever the model, the input or the settings change.
    Effect::new(move |_| {
        let Some((input, engine)) = ctx.ready() else { return };
        let cfg = ctx.state.with(|s| McConfig { passes: s.passes, p: s.p, seed: s.seed });
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        busy.set(true);
        spawn_local(async move {
            let t0 = crate::runtime::now_ms();
            let r = engine.mc(&input.pixels, &cfg).await;
            if generation.get_value() != mine {
                return; // a newer request superseded this one
            }
            busy.set(false);
            millis.set(crate::runtime::now_ms() - t0);
            match r {
                Ok(s) => result.set(Some(s)),
                Err(e) => ctx.error.set(Some(format!("MC dropout failed: {e}"))),
            }
        });
    });

    // Charts follow the result.
    Effect::new(move |_| {
        let Some(s) = result.get() else { return };
        let classes = ctx.class_names();
        spawn_local(async move {
            let a = charts::render("chart-mean", &charts::mean_chart(&s, &classes)).await;
            let b = charts::render("chart-passes", &charts::passes_chart(&s, &classes)).await;
            if let Err(e) = a.and(b) {
                ctx.error.set(Some(e));
            }
        });
    });

    let set_passes = move |ev| {
        let v = event_target_value(&ev);
        match v.parse::<usize>() {
            Ok(t) if (1..=MAX_PASSES).contains(&t) => ctx.state.update(|s| s.passes = t),
            _ => ctx.error.set(Some(format!("T must be a whole number from 1 to {MAX_PASSES}, not {v:?}"))),
        }
    };
    let set_p = move |ev| {
        if let Ok(p) = event_target_value(&ev).parse::<f32>() {
            ctx.state.update(|s| s.p = p.clamp(0.0, 0.5));
        }
    };
    let set_seed = move |ev| {
        if let Ok(v) = event_target_value(&ev).parse::<u64>() {
            ctx.state.update(|s| s.seed = v);
        }
    };

    view! {
        <section class="panel" id="mc-panel">
            <h2>"2. Monte-Carlo dropout"</h2>
            <p class="hint">"The model runs T times with dropout left on; the spread of its answers is its uncertainty (the seed report's confidence metric is the per-class variance)."</p>
            <div class="controls">
                <label>"passes T " <input id="passes" type="number" min="1" max=MAX_PASSES prop:value=move || ctx.state.with(|s| s.passes) on:change=set_passes/></label>
                <label>"dropout p " <input id="mc-p" type="range" min="0" max="0.5" step="0.05" prop:value=move || ctx.state.with(|s| s.p) on:input=set_p/>
                    <output>{move || format!("{:.2}", ctx.state.with(|s| s.p))}</output></label>
                <label>"seed " <input id="seed" type="number" min="0" prop:value=move || ctx.state.with(|s| s.seed) on:change=set_seed/></label>
                <span class="busy">{move || if busy.get() { "computing…".to_string() } else { format!("{:.1} ms", millis.get()) }}</span>
            </div>
            {move || result.get().map(|s| {
                let classes = ctx.class_names();
                view! {
                    <p id="mc-summary" data-predicted=s.predicted data-entropy=s.entropy>{headline(&s, &classes)}</p>
                    <details><summary>"Numbers"</summary><McTable summary=s.clone() classes=classes id="mc-table"/></details>
                }
            })}
            <div class="charts" class:hidden=move || result.with(|r| r.is_none())>
                <div id="chart-mean" class="chart"></div>
                <div id="chart-passes" class="chart"></div>
            </div>
        </section>
    }
}
