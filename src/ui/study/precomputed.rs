//! The attack studies precomputed by `quiver study` on the full test set's first images (T = 50,
//! seed 0; listed in `public/study/index.json`), shown as one table beside the live results.
//! They are fetched only when asked for (about 0.1 MB a file).

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::study::StudyFile;
use quiver_core::Dataset;

/// One row: a subject under one attack, as the CLI measured it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub file: String,
    pub subject: String,
    pub how: String,
    pub attack: String,
    pub images: usize,
    pub success: f64,
    pub top1: (f64, f64),
    pub true_prob: (f64, f64),
    /// AUROC of variance, entropy, MI over every attacked image.
    pub auroc: [f64; 3],
}

/// The listed files of `dataset` that hold attack studies.
pub fn attack_files(index: &serde_json::Value, dataset: Dataset) -> Vec<String> {
    let prefix = format!("{}-", dataset.key());
    index["files"].as_array().map_or(Vec::new(), |fs| fs.iter().filter_map(|f| f.as_str()).filter(|f| f.starts_with(&prefix) && !f.ends_with("-full.json")).map(String::from).collect())
}

/// The rows of one file.
pub fn rows(name: &str, file: &StudyFile) -> Vec<Row> {
    let mut out = Vec::new();
    for s in &file.studies {
        let m = &s.meta;
        let subject = m.ensemble.clone().unwrap_or_else(|| m.models.join("+"));
        let how = if m.method == "ensemble" { format!("ensemble, K = {}", m.models.len()) } else { format!("MC dropout, T = {}, p = {}", m.passes, m.p) };
        for a in &s.attacks {
            let params: Vec<String> = a.parameters.as_object().map_or(Vec::new(), |o| o.iter().filter(|(k, _)| k.as_str() != "attacked").map(|(k, v)| format!("{k} {}", v.as_str().map_or(v.to_string(), String::from))).collect());
            let au = |k: usize| a.detection.get(k).map_or(f64::NAN, |d| d.auroc);
            out.push(Row {
                file: name.to_string(),
                subject: subject.clone(),
                how: how.clone(),
                attack: format!("{} ({})", a.attack, params.join(", ")),
                images: a.images,
                success: a.success_rate,
                top1: (a.benign.top1, a.adversarial.top1),
                true_prob: (a.benign.true_prob, a.adversarial.true_prob),
                auroc: [au(0), au(1), au(2)],
            });
        }
    }
    out
}

/// The table of precomputed attack studies, loaded on request.
#[component]
pub fn PrecomputedAttacks() -> impl IntoView {
    let store = crate::store::use_store();
    let loaded = RwSignal::new(None::<Result<Vec<Row>, String>>);
    let busy = RwSignal::new(false);
    let load = move |_| {
        let dataset = store.with_untracked(|s| s.dataset);
        busy.set(true);
        spawn_local(async move {
            let result = async {
                let index = crate::runtime::fetch_bytes("study/index.json").await?;
                let index: serde_json::Value = serde_json::from_slice(&index).map_err(|e| format!("study/index.json: {e}"))?;
                let mut all = Vec::new();
                for name in attack_files(&index, dataset) {
                    let bytes = crate::runtime::fetch_bytes(&format!("study/{name}")).await?;
                    let file = std::str::from_utf8(&bytes).map_err(|e| e.to_string()).and_then(|t| StudyFile::from_json(t).map_err(|e| format!("study/{name}: {e}")))?;
                    all.extend(rows(&name, &file));
                }
                Ok::<_, String>(all)
            }
            .await;
            loaded.set(Some(result));
            busy.set(false);
        });
    };
    let body = move || match loaded.get() {
        None => None,
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{format!("the precomputed figures could not be loaded: {e}")}</p> }.into_any()),
        Some(Ok(rows)) if rows.is_empty() => Some(view! { <p class="hint">"No precomputed attack figures are shipped for this dataset."</p> }.into_any()),
        Some(Ok(rows)) => Some(
            view! {
                <div class="table-scroll">
                    <table class="metrics" id="study-precomputed-table">
                        <thead><tr><th>"subject"</th><th>"how"</th><th>"attack"</th><th>"images"</th><th>"success"</th><th>"top-1 (benign → adversarial)"</th><th>"mean softmax of the true class"</th><th>"AUROC variance"</th><th>"AUROC entropy"</th><th>"AUROC MI"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr data-file=r.file.clone() data-subject=r.subject.clone() data-auroc-entropy=r.auroc[1]>
                                    <td>{r.subject.clone()}</td><td>{r.how.clone()}</td><td>{r.attack.clone()}</td>
                                    <td class="num">{r.images}</td>
                                    <td class="num">{format!("{:.1} %", 100.0 * r.success)}</td>
                                    <td class="num">{format!("{:.3} → {:.3}", r.top1.0, r.top1.1)}</td>
                                    <td class="num">{format!("{:.3} → {:.3}", r.true_prob.0, r.true_prob.1)}</td>
                                    <td class="num">{format!("{:.3}", r.auroc[0])}</td>
                                    <td class="num">{format!("{:.3}", r.auroc[1])}</td>
                                    <td class="num">{format!("{:.3}", r.auroc[2])}</td>
                                </tr>
                            }).collect::<Vec<_>>()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any(),
        ),
    };
    view! {
        <div class="study-precomputed" id="study-precomputed">
            <h3>"Precomputed with the command line"</h3>
            <p class="hint">"quiver study on the first images of the full test set (T = 50, seed 0): the same measures over more images than the page runs live. The files are in study/ on this site."</p>
            <div class="controls">
                <button id="study-precomputed-load" on:click=load disabled=move || busy.get() || loaded.with(|l| matches!(l, Some(Ok(_))))>"show the precomputed attack figures"</button>
                <span class="busy" role="status">{move || if busy.get() { "loading…" } else { "" }}</span>
            </div>
            {body}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_attack_file_gives_rows_with_aurocs_in_range() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/study");
        let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/index.json")).unwrap()).unwrap();
        let files = attack_files(&index, Dataset::Mnist);
        assert!(!files.is_empty());
        assert!(files.iter().all(|f| !f.ends_with("-full.json")));
        for f in files {
            let file = StudyFile::from_json(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap()).unwrap();
            let rs = rows(&f, &file);
            assert!(!rs.is_empty(), "{f} has no attack study");
            for r in rs {
                assert!(r.auroc.iter().all(|a| (0.0..=1.0).contains(a)), "{f}: {:?}", r.auroc);
                assert!((0.0..=1.0).contains(&r.success) && r.images > 0, "{f}");
            }
        }
        assert!(attack_files(&index, Dataset::Cifar10).iter().all(|f| f.starts_with("cifar10-")));
    }
}
