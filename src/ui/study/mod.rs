//! The study view (`?view=study`): the seed report's test-set figures, live. MC dropout over the
//! bundled test subset for each shipped model (one per dropout p, each evaluated with its own
//! p, T and seed from the state), with progress and cancel; results are kept per settings, so
//! switching views does not recompute. Charts per p overlaid: confidence vs class (the report's
//! variance, or entropy / mutual information), accuracy vs class (the report's mean softmax of
//! the true class, and top-1), confidence vs accuracy, and the reliability diagram with ECE
//! (MC-averaged against the deterministic forward). The full test set's figures, precomputed by
//! `quiver study`, are drawn beside when shipped. Tables download as CSV and JSON.

pub mod attack;
pub mod charts;
pub mod curve;
pub mod precomputed;
pub mod run;

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::study::{tables, Study, StudyFile, StudyMeta, Tables, DEFAULT_BINS};

use crate::plan::models_of;
use crate::state::Action;
use crate::store::{use_store, Where};
use crate::ui::widgets::charts::render;
use crate::ui::widgets::download::download_bytes;
use crate::ui::widgets::pixel_canvas::PixelCanvas;
use charts::{Measure, Series};
use run::{StudyKey, StudyResults, StudyRun};

/// Where the site keeps the precomputed full-test-set study of `models` (the name `quiver study`
/// gives it: the dataset, then the model ids with their shared prefix written once).
pub fn full_file_name(dataset: quiver_core::Dataset, models: &[String]) -> String {
    let prefix = models.first().and_then(|m| m.rfind('_').map(|i| &m[..i + 1])).unwrap_or("");
    let ids: Vec<&str> = models.iter().enumerate().map(|(i, m)| if i > 0 { m.strip_prefix(prefix).unwrap_or(m) } else { m.as_str() }).collect();
    format!("study/{}-{}-full.json", dataset.key(), ids.join("_"))
}

/// The tables of one model's records.
fn model_tables(r: &run::ModelRun) -> Tables {
    tables(&r.records, r.entry.class_names.len(), DEFAULT_BINS)
}

/// A run as core's file format (what the CLI writes), with how it was made.
pub fn study_file(run: &StudyRun, set_images: usize) -> StudyFile {
    let studies = run
        .runs
        .iter()
        .map(|r| Study {
            meta: StudyMeta {
                method: if r.members.is_empty() { "mc_dropout" } else { "ensemble" }.into(),
                models: vec![r.entry.id.clone()],
                ensemble: (!r.members.is_empty()).then(|| r.entry.id.clone()),
                dataset: run.key.dataset.label().into(),
                passes: if r.members.is_empty() { run.key.passes } else { r.members.len() },
                p: r.p,
                seed: run.key.seed,
                images: r.records.len(),
                set_images,
                partial: r.records.len() < run.key.images || run.partial,
            },
            clean: model_tables(r),
            points: None,
            attacks: Vec::new(),
        })
        .collect();
    StudyFile { version: 1, command: format!("Quiver app, study view: {} images, T = {}, seed {}", run.key.images, run.key.passes, run.key.seed), studies }
}

/// The per-class rows of a run as CSV (one row per model and class, with how it was made).
pub fn study_csv(file: &StudyFile) -> String {
    let mut out = String::from("model,dataset,p,T,seed,images,partial,class,count,variance,true_prob,top1,det_top1,entropy,mutual_information\n");
    for s in &file.studies {
        let m = &s.meta;
        for r in &s.clean.per_class {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                m.models.join("+"),
                m.dataset,
                m.p,
                m.passes,
                m.seed,
                m.images,
                m.partial,
                r.class,
                r.count,
                r.variance,
                r.true_prob,
                r.top1,
                r.det_top1,
                r.entropy,
                r.mutual_information
            ));
        }
    }
    out
}

/// Show study image `index` (its label and pixels) in the one-image view.
fn open_in_image_view(store: crate::store::Store, dataset: quiver_core::Dataset, index: usize, label: usize, pixels: Vec<f32>) {
    store.use_image(crate::store::InputImage { pixels, label: Some(label), source: format!("{} test subset image #{index} (from the study)", dataset.label()) });
    let _ = store.dispatch(Action::View(crate::state::View::Image));
}

#[component]
pub fn StudyView() -> impl IntoView {
    let store = use_store();
    let results = use_context::<StudyResults>().expect("the shell provides the study results").0;
    let measure = RwSignal::new(Measure::Variance);
    // The drill-down's model and class: set by its selects or by clicking a point or bar.
    let browse_model = RwSignal::new(0usize);
    let browse_class = RwSignal::new(0usize);
    let progress = RwSignal::new(None::<(usize, usize)>);
    let stop = StoredValue::new(false);
    // The ensembles shipped for the dataset (weights/ensembles/), studied beside MC dropout.
    let ensembles = use_context::<run::StudyEnsembles>().expect("the shell provides the ensembles").0;
    let key = Memo::new(move |_| {
        let (dataset, mc, n) = store.with(|s| (s.dataset, s.mc, s.study_n));
        let models: Vec<String> = store.manifest().with(|m| m.as_ref().map(|m| models_of(m, dataset).map(|e| e.id.clone()).collect()).unwrap_or_default());
        let ensembles = ensembles.get().map(|v| v.iter().map(|(g, _)| g.clone()).collect()).unwrap_or_default();
        StudyKey { dataset, passes: mc.passes, seed: mc.seed, images: run::subset_size(dataset, n), models, ensembles }
    });
    let current = Signal::derive(move || key.with(|k| results.with(|rs| rs.iter().find(|r| &r.key == k).cloned())));
    let start = move |_| {
        let k = key.get_untracked();
        let Some(manifest) = store.manifest().get_untracked() else { return };
        let entries: Vec<_> = k.models.iter().filter_map(|id| manifest.get(id).cloned()).collect();
        let groups: Vec<(String, Vec<quiver_core::manifest::ModelEntry>)> = ensembles.get_untracked().unwrap_or_default().into_iter().filter(|(g, _)| k.ensembles.contains(g)).collect();
        stop.set_value(false);
        progress.set(Some((0, 0)));
        spawn_local(async move {
            let set = match run::subset(k.dataset, k.images).await {
                Ok(s) => s,
                Err(e) => {
                    store.problem(Where::Compute, format!("the study's test images could not be loaded: {e}"));
                    progress.set(None);
                    return;
                }
            };
            let mut models = Vec::new();
            for e in entries {
                match crate::runtime::load_engine(e.clone(), None).await {
                    Ok(engine) => models.push(run::Subject::Mc(e, engine.cpu, engine.weights)),
                    Err(err) => {
                        store.problem(Where::Compute, format!("the study could not load {}: {err}", e.id));
                        progress.set(None);
                        return;
                    }
                }
            }
            for (group, members) in groups {
                let loaded = match crate::runtime::load_members(&members).await {
                    Ok(loaded) => loaded,
                    Err(err) => {
                        store.problem(Where::Compute, format!("the study could not load ensemble {err}"));
                        progress.set(None);
                        return;
                    }
                };
                // The ensemble goes by its group's name.
                let mut entry = members[0].clone();
                entry.id = group.clone();
                models.push(run::Subject::Ensemble { group, entry, members: loaded });
            }
            let done = run::run(k.clone(), set, models, move |m, i| progress.set(Some((m, i))), move || stop.get_value()).await;
            results.update(|rs| {
                rs.retain(|r| r.key != done.key);
                rs.push(done);
            });
            progress.set(None);
        });
    };
    let running = move || progress.with(|p| p.is_some());
    let total = move || key.with(|k| k.images * k.models.len()).max(1);
    let status = move || match (progress.get(), current.get()) {
        (Some((m, i)), _) => key.with(|k| format!("running: {} — {i} of {} images", k.models.get(m).cloned().unwrap_or_default(), k.images)),
        (None, Some(r)) if r.partial => format!("partial: stopped after {} images of the first model(s) (labelled partial in the downloads)", r.runs.iter().map(|m| m.records.len()).sum::<usize>()),
        (None, Some(r)) => format!("done: {} models × {} images in {:.1} s", r.runs.len(), r.key.images, r.millis / 1000.0),
        (None, None) => key.with(|k| format!("not run yet: {} models × {} images, T = {} (about {:.0} s here)", k.models.len(), k.images, k.passes, k.models.len() as f64 * k.images as f64 * k.passes as f64 * 0.0005)),
    };
    let done_fraction = move || progress.get().map(|(m, i)| (m * key.with(|k| k.images) + i) as f64 / total() as f64).unwrap_or(0.0);

    // The full test set, precomputed by `quiver study`, when the site ships it.
    let full = LocalResource::new(move || {
        let k = key.get();
        async move {
            if k.models.is_empty() {
                return None;
            }
            let name = full_file_name(k.dataset, &k.models);
            // Only what the site lists (public/study/index.json): no request that can only 404.
            let index = crate::runtime::fetch_bytes("study/index.json").await.ok()?;
            let listed: serde_json::Value = serde_json::from_slice(&index).ok()?;
            if !listed["files"].as_array()?.iter().any(|f| f.as_str() == name.strip_prefix("study/")) {
                return None;
            }
            let bytes = crate::runtime::fetch_bytes(&name).await.ok()?;
            StudyFile::from_json(std::str::from_utf8(&bytes).ok()?).ok()
        }
    });
    let full_file = move || full.get().flatten();

    let full_res = full;
    // Charts: redrawn when the result, the measure or the precomputed figures change.
    Effect::new(move |_| {
        let Some(run) = current.get() else { return };
        let m = measure.get();
        let full = full_file();
        let names = store.class_names();
        spawn_local(async move {
            let live: Vec<(String, Tables)> = run.runs.iter().map(|r| (r.label.clone(), model_tables(r))).collect();
            // A precomputed study takes the colour of the live model with its p.
            let pre: Vec<(String, Tables, usize)> = full
                .map(|f| {
                    f.studies
                        .into_iter()
                        .enumerate()
                        .map(|(j, s)| {
                            let colour = run.runs.iter().position(|r| r.members.is_empty() && r.p == s.meta.p).unwrap_or(run.runs.len() + j);
                            (format!("p = {} (full test set, {} images)", s.meta.p, s.meta.images), s.clean, colour)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let series: Vec<Series> = live
                .iter()
                .enumerate()
                .map(|(i, (n, t))| Series { name: n.clone(), tables: t, full: false, colour: i })
                .chain(pre.iter().map(|(n, t, c)| Series { name: n.clone(), tables: t, full: true, colour: *c }))
                .collect();
            // Every image of every live series, for the scatter: (true-class variance, true-class p).
            let images: Vec<(String, Vec<(f64, f64, usize)>)> = run.runs.iter().map(|r| (r.label.clone(), r.records.iter().map(|x| (x.true_variance as f64, x.true_prob as f64, x.index)).collect())).collect();
            let live_only: Vec<Series> = series.iter().filter(|s| !s.full).map(|s| Series { name: s.name.clone(), tables: s.tables, full: false, colour: s.colour }).collect();
            for (id, plot) in [
                ("study-confidence", charts::confidence_chart(&series, m, &names)),
                ("study-accuracy", charts::accuracy_chart(&series, &names)),
                ("study-scatter", charts::with_images(charts::confidence_accuracy_chart(&series, &names), &images)),
                ("study-reliability", charts::reliability_chart(&live_only)),
            ] {
                if let Err(e) = render(id, &plot).await {
                    store.problem(Where::Compute, e);
                }
                crate::runtime::yield_now().await;
            }
            // A point or bar leads to its images: the series' model (live series only; the
            // accuracy chart has two traces a series) and the class; a point of the scatter's
            // per-image traces (after its per-class ones) opens that image. The handler reads the
            // study shown at click time (it is registered once per chart).
            for (id, per_series) in [("study-confidence", 1), ("study-accuracy", 2), ("study-scatter", 1)] {
                crate::ui::widgets::charts::on_click(id, move |c| {
                    let Some(run) = current.get_untracked() else { return };
                    let live = run.runs.len();
                    let all_series = live + full_res.get_untracked().flatten().map_or(0, |f| f.studies.len());
                    if id == "study-scatter" && c.trace >= all_series {
                        let Some(rec) = run.runs.get(c.trace - all_series).and_then(|r| r.records.get(c.point)) else { return };
                        open_in_image_view(store, run.key.dataset, rec.index, rec.label, run.set.image(rec.index));
                        return;
                    }
                    let series = c.trace / per_series;
                    if series < live {
                        browse_model.set(series);
                    }
                    browse_class.set(c.point);
                    if let Some(e) = document().get_element_by_id("study-browse") {
                        e.scroll_into_view();
                    }
                });
            }
        });
    });

    let rows = move || {
        current.get().map(|run| {
            run.runs
                .iter()
                .map(|r| {
                    let t = model_tables(r);
                    view! {
                        <tr data-model=r.entry.id.clone() data-images=t.images data-det-top1=t.det_top1 data-top1=t.top1 data-ece=t.reliability.ece data-det-ece=t.det_reliability.ece>
                            <td>{r.entry.id.clone()}</td>
                            <td>{r.label.clone()}</td>
                            <td class="num">{t.images}</td>
                            <td class="num">{format!("{:.4}", t.top1)}</td>
                            <td class="num">{format!("{:.4}", t.det_top1)}</td>
                            <td class="num">{format!("{:.4}", t.true_prob)}</td>
                            <td class="num">{format!("{:.6}", t.variance)}</td>
                            <td class="num">{format!("{:.4}", t.entropy)}</td>
                            <td class="num">{format!("{:.4}", t.mutual_information)}</td>
                            <td class="num">{format!("{:.4}", t.reliability.ece)}</td>
                            <td class="num">{format!("{:.4}", t.det_reliability.ece)}</td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let export = move |csv: bool| {
        let Some(run) = current.get_untracked() else { return };
        let all = run::subset_size(run.key.dataset, None);
        let file = study_file(&run, all);
        let name = format!("quiver-study-{}-T{}-seed{}-n{}", run.key.dataset.key(), run.key.passes, run.key.seed, run.key.images);
        let r = if csv { download_bytes(study_csv(&file).as_bytes(), "text/csv", &format!("{name}.csv")) } else { download_bytes(file.to_json().as_bytes(), "application/json", &format!("{name}.json")) };
        if let Err(e) = r {
            store.problem(Where::Compute, e);
        }
    };
    // Every chart as a PNG whose name says what it shows and how it was made.
    let charts_png = move || {
        let Some(run) = current.get_untracked() else { return };
        let k = run.key;
        let tag = format!("{}-{}-T{}-seed{}-n{}{}", k.dataset.key(), k.models.join("+"), k.passes, k.seed, k.images, if run.partial { "-partial" } else { "" });
        spawn_local(async move {
            for id in ["study-confidence", "study-accuracy", "study-scatter", "study-reliability"] {
                if let Err(e) = crate::ui::widgets::charts::download_chart_png(id, &format!("quiver-{id}-{tag}")).await {
                    store.problem(Where::Compute, e);
                    return;
                }
            }
        });
    };
    // The images behind the numbers: one model's images of one class, most uncertain first; a
    // click opens one in the one-image view.
    let browse = move || {
        let run = current.get()?;
        let m = measure.get();
        let r = run.runs.get(browse_model.get().min(run.runs.len().saturating_sub(1)))?;
        let class = browse_class.get();
        let score = |x: &quiver_core::study::ImageRecord| match m {
            Measure::Variance => x.true_variance,
            Measure::Entropy => x.entropy,
            Measure::MutualInformation => x.mutual_information,
        };
        let mut picked: Vec<&quiver_core::study::ImageRecord> = r.records.iter().filter(|x| x.label == class).collect();
        picked.sort_by(|a, b| score(b).total_cmp(&score(a)));
        let [c, h, _] = run.set.shape();
        let names = store.class_names();
        let dataset = run.key.dataset;
        Some(
            picked
                .into_iter()
                .take(24)
                .map(|x| {
                    let (i, label) = (x.index, x.label);
                    let pixels = run.set.image(i);
                    let shown = pixels.clone();
                    let open = move |_| open_in_image_view(store, dataset, i, label, pixels.clone());
                    let tip = format!("#{i}: predicted {} · {} {:.4} · true-class p {:.3}", names.get(x.predicted).cloned().unwrap_or_default(), m.short(), score(x), x.true_prob);
                    view! {
                        <button class="sample study-image" data-index=i data-predicted=x.predicted title=tip.clone() aria-label=tip on:click=open>
                            <PixelCanvas pixels=Signal::derive(move || Some(shown.clone())) id=format!("study-image-{i}") size=h as u32 channels=c/>
                        </button>
                    }
                })
                .collect::<Vec<_>>(),
        )
    };
    let set_n = move |ev| {
        let v = event_target_value(&ev);
        let _ = store.dispatch(Action::StudyImages(v.trim().parse::<usize>().ok()));
    };

    view! {
        <section class="panel" id="study-panel" data-state=move || if running() { "running" } else if current.with(|c| c.as_ref().is_some_and(|r| r.partial)) { "partial" } else if current.with(|c| c.is_some()) { "done" } else { "idle" }>
            <h2>"The seed study over the test set"</h2>
            <p class="hint">"Each shipped model (trained with dropout p) runs MC dropout with its own p over the bundled test images: T passes and the seed come from the MC settings. The report's confidence is the MC variance of the true class, its accuracy the mean softmax of the true class."</p>
            <div class="controls">
                <label>"images " <input id="study-n" type="number" min="1" max=run::subset_size(store.with_untracked(|s| s.dataset), None) prop:value=move || key.with(|k| k.images.to_string()) on:change=set_n/></label>
                <button id="study-run" on:click=start disabled=move || running() || key.with(|k| k.models.is_empty() || k.images == 0)>"run the study"</button>
                <button id="study-cancel" on:click=move |_| stop.set_value(true) disabled=move || !running()>"cancel"</button>
                <progress id="study-progress" max="1" prop:value=done_fraction></progress>
                <span id="study-status" class="busy" role="status">{status}</span>
            </div>
            <div class="controls">
                <label>"confidence measure "
                    <select id="study-measure" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(m) = Measure::ALL.into_iter().find(|m| m.key() == v) { measure.set(m) }
                    }>
                        {Measure::ALL.map(|m| view! { <option value=m.key() selected=m == Measure::Variance>{m.label()}</option> }).to_vec()}
                    </select>
                </label>
                <button id="study-csv" on:click=move |_| export(true) disabled=move || current.with(|c| c.is_none())>"download CSV"</button>
                <button id="study-json" on:click=move |_| export(false) disabled=move || current.with(|c| c.is_none())>"download JSON"</button>
                <button id="study-png" on:click=move |_| charts_png() disabled=move || current.with(|c| c.is_none())>"download the charts (PNG)"</button>
                <span class="busy" id="study-full">{move || match full_file() {
                    Some(f) => format!("dashed: the full test set, precomputed ({})", f.command),
                    None => "no precomputed full-test-set figures are shipped for these models".to_string(),
                }}</span>
            </div>
            <div class="table-scroll">
                <table class="metrics" id="study-table">
                    <thead><tr><th>"model"</th><th>"how"</th><th>"images"</th><th>"top-1 (MC)"</th><th>"top-1 (deterministic)"</th><th>"mean softmax of the true class"</th><th>"MC variance of the true class"</th><th>"entropy"</th><th>"mutual information"</th><th>"ECE (MC)"</th><th>"ECE (deterministic)"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div class="study-browse" id="study-browse" class:hidden=move || current.with(|c| c.is_none())>
                <h3>"The images behind the numbers"</h3>
                <div class="controls">
                    <label>"model "
                        <select id="study-browse-model" prop:value=move || browse_model.get().to_string() on:change=move |ev| browse_model.set(event_target_value(&ev).parse().unwrap_or(0))>
                            {move || current.get().map(|r| r.runs.iter().enumerate().map(|(k, m)| view! { <option value=k.to_string() selected=k == browse_model.get_untracked()>{format!("{} ({})", m.entry.id, m.label)}</option> }).collect::<Vec<_>>())}
                        </select>
                    </label>
                    <label>"class "
                        <select id="study-browse-class" prop:value=move || browse_class.get().to_string() on:change=move |ev| browse_class.set(event_target_value(&ev).parse().unwrap_or(0))>
                            {move || store.class_names().into_iter().enumerate().map(|(k, n)| view! { <option value=k.to_string() selected=k == browse_class.get_untracked()>{n}</option> }).collect::<Vec<_>>()}
                        </select>
                    </label>
                    <span class="busy">"most uncertain first by the confidence measure above; click a point or bar in the charts below to pick its model and class, and an image to open it"</span>
                </div>
                <div class="gallery" id="study-images">{browse}</div>
            </div>
            <div class="charts" class:hidden=move || current.with(|c| c.is_none())>
                <div id="study-confidence" class="chart" role="img" aria-label="Line chart: the chosen uncertainty measure per class, one line per dropout p; the numbers are in the downloads"></div>
                <div id="study-accuracy" class="chart" role="img" aria-label="Line chart: mean softmax of the true class and top-1 accuracy per class, one pair per dropout p"></div>
                <div id="study-scatter" class="chart" role="img" aria-label="Scatter: per class (large points) and per image (small points; a click opens the image), MC variance of the true class against its mean softmax, one colour per dropout p"></div>
                <div id="study-reliability" class="chart" role="img" aria-label="Reliability diagram: accuracy against confidence in 15 bins, MC-averaged and deterministic, with the ECE in the legend; the ECE is also in the table"></div>
            </div>
            <attack::SetAttackPanel current=current measure=measure/>
            <curve::CurvePanel current=current measure=measure/>
            <precomputed::PrecomputedAttacks/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_lists_exactly_the_shipped_study_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/study");
        let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/index.json")).unwrap()).unwrap();
        let mut listed: Vec<String> = index["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
        let mut present: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && n != "index.json")
            .collect();
        listed.sort();
        present.sort();
        assert_eq!(listed, present, "public/study/index.json must list every study file there");
        for f in &present {
            let file = StudyFile::from_json(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap()).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!file.studies.is_empty(), "{f}");
        }
    }

    #[test]
    fn the_precomputed_file_is_named_as_the_cli_names_it() {
        let ids = ["mnist_cnn_p020", "mnist_cnn_p025", "mnist_cnn_p030"].map(String::from);
        assert_eq!(full_file_name(quiver_core::Dataset::Mnist, &ids), "study/mnist-mnist_cnn_p020_p025_p030-full.json");
    }
}
