//! Ensembles beside MC dropout in the one-image view (the seed report's §3.1.1): for the current
//! input, each shipped ensemble's prediction and uncertainty (its members' softmaxes play the
//! passes) in the same measures as the MC dropout of the chosen model, one row each. The members
//! (about 0.1 MB each for MNIST) are fetched only when the section is opened.

use leptos::prelude::*;
use quiver_core::mc_dropout::McSummary;
use quiver_core::model::{Classifier, Ensemble};

use crate::store::use_store;
use crate::ui::help::{Help, Topic};

/// One row of the comparison.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    who: String,
    how: String,
    summary: McSummary,
    /// Each member's (or pass's) top class, in order (ensembles only).
    votes: Option<Vec<usize>>,
}

fn votes(s: &McSummary) -> Vec<usize> {
    (0..s.passes).map(|t| quiver_core::attacks::argmax_of(s.pass(t))).collect()
}

#[component]
pub fn EnsemblesCompare() -> impl IntoView {
    let store = use_store();
    let open = RwSignal::new(false);
    // The dataset's ensembles, loaded once the section is opened.
    // Tracked through memos: the whole state changes with every setting, the dataset seldom.
    let dataset = Memo::new(move |_| store.with(|s| s.dataset));
    let loaded = LocalResource::new(move || {
        let (want, dataset) = (open.get(), dataset.get());
        async move {
            if !want {
                return None;
            }
            let mut out: Vec<(String, Ensemble)> = Vec::new();
            for (group, entries) in crate::runtime::ensembles(dataset).await {
                let members = match crate::runtime::load_members(&entries).await {
                    Ok(m) => m,
                    Err(err) => return Some(Err(format!("ensemble {group}, {err}"))),
                };
                match Ensemble::new(members) {
                    Ok(en) => out.push((group, en)),
                    Err(err) => return Some(Err(format!("ensemble {group}: {err}"))),
                }
            }
            Some(Ok(out))
        }
    });
    let cfg = Memo::new(move |_| store.with(|s| s.mc));
    // The rows for the current input: MC dropout of the chosen model, then each ensemble.
    let rows = LocalResource::new(move || {
        let fitted = store.fitted().get();
        let cfg = cfg.get();
        let engine = store.engine().get();
        let ens = loaded.get().flatten();
        async move {
            let (input, _) = fitted?;
            let ens = match ens? {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            let mut out = Vec::new();
            if let Some(engine) = engine {
                if let Ok(s) = engine.mc(&input.pixels, &cfg).await {
                    out.push(Row { who: engine.entry.id.clone(), how: format!("MC dropout, T = {}, p = {}", cfg.passes, cfg.p), summary: s, votes: None });
                }
            }
            for (group, e) in ens {
                // Ensembles are as wide as their members' input; an input of another size is skipped.
                if input.pixels.len() != e.members()[0].architecture().input_shape().iter().product::<usize>() {
                    continue;
                }
                let s = e.summary(quiver_core::attacks::image_tensor(&e.members()[0], &input.pixels));
                let v = votes(&s);
                out.push(Row { who: group, how: format!("ensemble, K = {}", s.passes), summary: s, votes: Some(v) });
            }
            Some(Ok(out))
        }
    });
    let classes = move || store.class_names();
    let body = move || match rows.get().flatten() {
        None => open.get().then(|| view! { <p class="busy" role="status">"loading the ensembles…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{format!("the ensembles could not be loaded: {e}")}</p> }.into_any()),
        Some(Ok(rows)) if rows.len() < 2 => Some(view! { <p class="hint">"No ensembles are shipped for this dataset."</p> }.into_any()),
        Some(Ok(rows)) => {
            let names = classes();
            Some(
                view! {
                    <div class="table-scroll">
                        <table class="metrics" id="ensembles-table">
                            <thead><tr><th>"model"</th><th>"how"</th><th>"predicted"</th><th>"mean p"</th><th>"variance"</th><th>"entropy"</th><th>"mutual information"</th><th>"agreement"</th><th>"members' votes"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| {
                                    let s = &r.summary;
                                    let name = |k: usize| names.get(k).cloned().unwrap_or_else(|| k.to_string());
                                    view! {
                                        <tr data-who=r.who.clone() data-passes=s.passes data-predicted=s.predicted data-mean=s.mean[s.predicted] data-entropy=s.entropy data-mi=s.mutual_information data-variance=s.variance[s.predicted]>
                                            <td>{r.who.clone()}</td>
                                            <td>{r.how.clone()}</td>
                                            <td>{name(s.predicted)}</td>
                                            <td class="num">{format!("{:.3} ± {:.3}", s.mean[s.predicted], s.std[s.predicted])}</td>
                                            <td class="num">{format!("{:.5}", s.variance[s.predicted])}</td>
                                            <td class="num">{format!("{:.3}", s.entropy)}</td>
                                            <td class="num">{format!("{:.4}", s.mutual_information)}</td>
                                            <td class="num">{format!("{:.0} %", 100.0 * s.agreement)}</td>
                                            <td>{r.votes.as_ref().map(|v| v.iter().map(|&k| name(k)).collect::<Vec<_>>().join(" ")).unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }
                                }).collect::<Vec<_>>()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any(),
            )
        }
    };
    view! {
        <details class="ensembles" id="ensembles" on:toggle=move |_| open.set(true)>
            <summary>"Compare with ensembles"</summary>
            // The "?" sits outside the summary: a button inside a summary is a nested control.
            <p class="hint">"The seed report's alternative to MC dropout: K models trained apart (different seeds, or different random halves of the training data). Their softmaxes play the passes: the same measures, computed across members instead of dropout masks. " <Help topic=Topic::Ensembles/></p>
            {body}
        </details>
    }
}
