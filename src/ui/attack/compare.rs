//! Compare on one image: every attack of core's list, at the current settings, on the current
//! input, one after another (each in time slices, with progress; cancel stops the running one and
//! keeps the rows done), then one table — success, L0, L2, L∞, D, iterations, time, and the
//! MC-dropout mean, variance, entropy and mutual information on each adversarial image — and the
//! adversarial images side by side. Rows belong to the image, model and settings they were run
//! with; when those change, the table says so instead of showing stale numbers as current.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{AttackKind, AttackSet, Target};
use quiver_core::mc_dropout::{McConfig, McSummary};

use crate::plan::Source;
use crate::runtime::yield_now;
use crate::store::use_store;
use crate::ui::attack::driver::{self, AttackKey, Finished, Live};
use crate::ui::widgets::pixel_canvas::PixelCanvas;

/// What a comparison was run with.
#[derive(Clone, Debug, PartialEq)]
struct CompareKey {
    pixels: Vec<f32>,
    label: Option<usize>,
    model: Source,
    attacks: AttackSet,
    target: Target,
    cfg: McConfig,
}

/// One attack's row: its run (or why it could not run) and the MC dropout on its image.
#[derive(Clone, Debug)]
struct Row {
    kind: AttackKind,
    run: Result<Finished, String>,
    mc: Option<McSummary>,
}

/// The cells of a row, `(data-col, text)`, for the table and its test.
fn cells(row: &Row, classes: &[String]) -> Vec<(&'static str, String)> {
    let mut out = vec![("name", row.kind.key().to_uppercase())];
    match &row.run {
        Err(e) => out.push(("error", e.clone())),
        Ok(f) => {
            let o = &f.outcome;
            out.extend([
                ("success", if f.cancelled { format!("{} (cancelled)", o.success) } else { o.success.to_string() }),
                ("prediction", format!("{} → {}", classes[f.predicted_before], classes[o.predicted])),
                ("l0", o.distances.l0.to_string()),
                ("l2", format!("{:.3}", o.distances.l2)),
                ("linf", format!("{:.3}", o.distances.linf)),
                ("d", format!("{:.4}", o.perceptual_distance)),
                ("iterations", o.iterations.to_string()),
                ("ms", format!("{:.0}", f.compute_ms)),
            ]);
            if let Some(s) = &row.mc {
                out.extend([
                    ("mc-mean", format!("{} {:.3}", classes[s.predicted], s.mean[s.predicted])),
                    ("mc-var", format!("{:.5}", s.variance[s.predicted])),
                    ("mc-entropy", format!("{:.3}", s.entropy)),
                    ("mc-mi", format!("{:.3}", s.mutual_information)),
                ]);
            }
        }
    }
    out
}

#[component]
pub fn ComparePanel() -> impl IntoView {
    let store = use_store();
    let rows = RwSignal::new(Vec::<Row>::new());
    let original_mc = RwSignal::new(None::<McSummary>);
    let ran_for = RwSignal::new(None::<CompareKey>);
    let running = RwSignal::new(None::<AttackKind>);
    let partial = RwSignal::new(false);
    let live = Live::new();
    let key = Memo::new(move |_| {
        let (input, model) = store.fitted().get()?;
        Some(store.with(|s| CompareKey { pixels: input.pixels, label: input.label, model, attacks: s.attacks, target: s.target, cfg: s.mc }))
    });
    let current = move || ran_for.with(|r| r.is_some() && *r == key.get());

    let run_all = move |_| {
        let (Some(k), Some(engine)) = (key.get_untracked(), store.engine().get_untracked()) else { return };
        rows.set(Vec::new());
        original_mc.set(None);
        partial.set(false);
        ran_for.set(Some(k.clone()));
        live.cancel_at.set_value(None);
        spawn_local(async move {
            running.set(Some(AttackKind::ALL[0]));
            original_mc.set(engine.mc(&k.pixels, &k.cfg).await.ok());
            for kind in AttackKind::ALL {
                if live.cancel_at.get_value().is_some() {
                    partial.set(true);
                    break;
                }
                running.set(Some(kind));
                live.progress.set(0.0);
                live.points.set(Vec::new());
                let attack = AttackKey { pixels: k.pixels.clone(), label: k.label, model: k.model.clone(), kind, attacks: k.attacks, target: k.target, rerun: 0 };
                let mine = k.clone();
                let stale = move || key.with_untracked(|now| now.as_ref() != Some(&mine));
                let Some(run) = driver::run(attack, engine.clone(), live, stale).await else {
                    partial.set(true); // the image or the settings changed
                    break;
                };
                let mc = match &run {
                    Ok(f) => engine.mc(&f.outcome.adversarial, &k.cfg).await.ok(),
                    Err(_) => None,
                };
                let cancelled = matches!(&run, Ok(f) if f.cancelled);
                rows.update(|r| r.push(Row { kind, run, mc }));
                if cancelled {
                    partial.set(true);
                    break;
                }
                yield_now().await;
            }
            running.set(None);
        });
    };
    let cancel = move |ev: web_sys::MouseEvent| {
        if running.get_untracked().is_some() {
            live.cancel_at.set_value(Some(ev.time_stamp()));
        }
    };
    let shape = Signal::derive(move || store.input_shape());
    let state = move || match (running.get(), rows.with(|r| r.is_empty()), partial.get()) {
        (Some(_), _, _) => "running",
        (None, true, _) => "idle",
        (None, false, true) => "partial",
        (None, false, false) => "done",
    };
    let status = move || match running.get() {
        Some(k) => format!(
            "{} of {}: {} · {:.0} %",
            rows.with(|r| r.len()) + 1,
            AttackKind::ALL.len(),
            k.about().label,
            live.progress.get() * 100.0
        ),
        None if partial.get() => format!("stopped after {} of {} attacks (partial)", rows.with(|r| r.len()), AttackKind::ALL.len()),
        None => String::new(),
    };
    let table = move || {
        let classes = store.class_names();
        let body = rows
            .get()
            .into_iter()
            .map(|row| {
                let key = row.kind.key();
                let tds = cells(&row, &classes).into_iter().map(|(col, text)| view! { <td data-col=col>{text}</td> }).collect::<Vec<_>>();
                view! { <tr data-attack=key>{tds}</tr> }
            })
            .collect::<Vec<_>>();
        let before = original_mc.get().map(|s| {
            format!(
                "original: MC {} {:.3} · variance {:.5} · entropy {:.3} · mutual information {:.3}",
                classes[s.predicted], s.mean[s.predicted], s.variance[s.predicted], s.entropy, s.mutual_information
            )
        });
        view! {
            <p class="hint" id="compare-original">{before}</p>
            <div class="table-scroll"><table id="compare-table" class="metrics">
                <thead><tr>
                    <th>"attack"</th><th>"success"</th><th>"prediction"</th><th>"L0"</th><th>"L2"</th><th>"L∞"</th><th>"D"</th>
                    <th>"iterations"</th><th>"ms"</th><th>"MC mean p"</th><th>"MC variance"</th><th>"entropy"</th><th>"mutual information"</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table></div>
        }
    };
    let images = move || {
        let [c, h, _] = shape.get();
        rows.get()
            .into_iter()
            .filter_map(|row| {
                let f = row.run.ok()?;
                let id = format!("compare-{}", row.kind.key());
                Some(view! { <PixelCanvas pixels=Signal::derive(move || Some(f.outcome.adversarial.clone())) id=id title=row.kind.key().to_uppercase() size=h as u32 channels=c/> })
            })
            .collect::<Vec<_>>()
    };

    view! {
        <section class="panel" id="compare-panel" data-state=state>
            <h2>"4. Compare every attack on this image"</h2>
            <p class="hint">"Runs each attack at its current settings (the fields above) on this image, one after another, with the same goal, and shows what each did to the prediction and to the MC-dropout uncertainty. L0, L2 and L∞ are those of the 8-bit image."</p>
            <div class="controls">
                <button id="compare-run" on:click=run_all disabled=move || running.get().is_some() || key.with(|k| k.is_none())>"compare all attacks"</button>
                <button id="compare-cancel" on:click=cancel disabled=move || running.get().is_none()>"cancel"</button>
                <progress id="compare-progress" max="1" prop:value=move || live.progress.get()></progress>
                <span class="busy" id="compare-status">{status}</span>
            </div>
            <Show when=move || !rows.with(|r| r.is_empty())>
                <p class="note" id="compare-stale" class:hidden=current>"The image, the model or the settings changed since this comparison: run it again for the current ones."</p>
                {table}
                <div class="triptych" id="compare-images">{images}</div>
            </Show>
        </section>
    }
}
