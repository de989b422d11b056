//! MC-dropout prediction for the current input: the T / p / seed fields (from core's table),
//! the charts and the numbers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::kinds::infos;
use quiver_core::mc_dropout::{McConfig, McSummary};
use quiver_core::params::Tunable;

use crate::plan::Source;
use crate::state::Part;
use crate::runtime::now_ms;
use crate::store::{use_store, InputImage, Store, Where};
use crate::ui::help::{Help, Topic};
use crate::ui::widgets::charts;
use crate::ui::widgets::param_field::{param_field, Look};

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

/// What one MC result was computed from: a result is current exactly when its key is.
#[derive(Clone, Debug, PartialEq)]
pub struct McKey {
    pub input: InputImage,
    pub cfg: McConfig,
    pub model: Source,
}

/// The MC key of the current input, settings and model, when the input fits the model.
pub fn mc_key(store: Store) -> Memo<Option<McKey>> {
    let cfg = Memo::new(move |_| store.with(|s| s.mc));
    Memo::new(move |_| {
        let (input, model) = store.fitted().get()?;
        Some(McKey { input, cfg: cfg.get(), model })
    })
}

#[component]
pub fn McPanel() -> impl IntoView {
    let store = use_store();
    let key = mc_key(store);
    // The latest key's result: a newer key supersedes an older run's result.
    let run = LocalResource::new(move || {
        let k = key.get();
        let engine = store.engine().get_untracked();
        async move {
            let (k, engine) = (k?, engine?);
            let t0 = now_ms();
            let r = engine.mc(&k.input.pixels, &k.cfg).await;
            Some((k, r, now_ms() - t0))
        }
    });
    let current = move || run.get().flatten().filter(|(k, _, _)| Some(k) == key.get().as_ref());
    let busy = move || key.with(|k| k.is_some()) && current().is_none();
    let result = Memo::new(move |_| current().and_then(|(_, r, _)| r.ok()));
    let failure = move || current().and_then(|(_, r, _)| r.err());

    // Charts follow the result.
    Effect::new(move |_| {
        let Some(s) = result.get() else { return };
        let classes = store.class_names();
        spawn_local(async move {
            // Drawn in a task of its own, and only if still the latest result: a newer result
            // (the seed or T changed meanwhile) is drawn instead of queueing stale charts.
            crate::runtime::yield_now().await;
            if result.with_untracked(|r| r.as_ref() != Some(&s)) {
                return;
            }
            let a = charts::render("chart-mean", &charts::mean_chart(&s, &classes)).await;
            let b = charts::render("chart-passes", &charts::passes_chart(&s, &classes)).await;
            match a.and(b) {
                Ok(()) => store.clear(Where::Compute),
                Err(e) => store.problem(Where::Compute, e),
            }
        });
    });

    let invalid = RwSignal::new(None::<String>);
    let fields = infos::<McConfig>()
        .into_iter()
        .map(|info| {
            let look = if info.key == "p" { Look::Slider } else { Look::Number };
            param_field(store, info, look, move || store.with(|s| McConfig::param(info.key).map(|p| p.text(&s.mc)).unwrap_or_default()), invalid)
        })
        .collect::<Vec<_>>();

    // The embed layout's charts are shorter.
    let compact = store.with_untracked(|s| s.embed).then_some("210");
    view! {
        <section class="panel" id="mc-panel" data-busy=move || busy().to_string()>
            <h2>"2. Monte-Carlo dropout " <Help topic=Topic::McDropout/></h2>
            <p class="hint">"The model runs T times with dropout left on; the spread of its answers is its uncertainty (the seed report's confidence metric is the per-class variance)."</p>
            <div class="controls" class:hidden=store.hides(Part::McSettings)>
                {fields}
                <span class="busy">{move || if busy() { "computing…".to_string() } else { current().map(|(_, _, ms)| format!("{ms:.1} ms")).unwrap_or_default() }}</span>
            </div>
            <Show when=move || invalid.with(|i| i.is_some())>
                <p id="mc-invalid" class="error" role="alert">{move || invalid.get()}</p>
            </Show>
            {move || failure().map(|e| view! { <p class="error" data-where="compute">{format!("MC dropout failed: {e}")}</p> })}
            {move || result.get().map(|s| {
                let classes = store.class_names();
                view! {
                    <p id="mc-summary" data-predicted=s.predicted data-entropy=s.entropy>{headline(&s, &classes)}</p>
                    <p class="measures">"What they mean: "
                        <Help topic=Topic::Variance label="variance"/>
                        <Help topic=Topic::Entropy label="entropy"/>
                        <Help topic=Topic::MutualInformation label="mutual information"/>
                        <Help topic=Topic::Margin label="margin"/>
                        <Help topic=Topic::Agreement label="agreement"/>
                    </p>
                    <details><summary>"Numbers"</summary><McTable summary=s.clone() classes=classes id="mc-table"/></details>
                }
            })}
            <div class="charts" class:hidden=move || result.with(|r| r.is_none())>
                <div id="chart-mean" class="chart" data-height=compact role="img" aria-label="Bar chart: the mean softmax of each class over the passes, with ± one standard deviation; the numbers are in the table above (Numbers)"></div>
                <div id="chart-passes" class="chart" data-height=compact class:hidden=store.hides(Part::Passes) role="img" aria-label="Box plot: every pass's softmax for each class; their mean and spread are in the table above (Numbers)"></div>
            </div>
            <Show when=move || !store.hides(Part::Ensembles)>
                <crate::ui::ensembles::EnsemblesCompare/>
            </Show>
        </section>
    }
}
