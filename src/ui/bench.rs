//! Benchmark mode (`?bench=1`): after warm-up, times a deterministic forward, MC dropout
//! (T = 50) and FGSM on one image, 20 runs each, and reports min / median / max in ms plus the
//! bytes the page downloaded, as JSON in `#bench-result` and on the console.
//!
//! Where the compute worker runs the models, `forward_ms` and `mc_t50_ms` are the worker's own
//! time on the work (one thread, like the peers' figures), and `*_round_trip_ms` the page's wait
//! for the answer, messages included. FGSM is timed on the page's own copy of the model.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{Fgsm, Goal};
use quiver_core::mc_dropout::McConfig;
use serde::Serialize;

use crate::store::use_store;
use crate::runtime::{now_ms, yield_now, Engine};

const RUNS: usize = 20;
const WARMUP: usize = 3;

#[derive(Serialize)]
struct Stats {
    min: f64,
    median: f64,
    max: f64,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats { min: v[0], median: v[v.len() / 2], max: v[v.len() - 1] }
}

#[derive(Serialize)]
struct BenchReport {
    device: String,
    model: String,
    runs: usize,
    /// Where the forward and MC ran: "in a worker" or "on the page".
    models_run: String,
    forward_ms: Stats,
    mc_t50_ms: Stats,
    /// From the page's request to its answer (equal to the above on the page).
    forward_round_trip_ms: Stats,
    mc_t50_round_trip_ms: Stats,
    fgsm_ms: Stats,
    /// Bytes the page transferred (resource timing), and the decoded sizes.
    transfer_bytes: f64,
    decoded_bytes: f64,
    resources: Vec<(String, f64, f64)>,
}

fn downloaded() -> (f64, f64, Vec<(String, f64, f64)>) {
    let Some(perf) = web_sys::window().and_then(|w| w.performance()) else { return (0.0, 0.0, vec![]) };
    let mut list = Vec::new();
    let entries = perf.get_entries();
    for e in entries.iter() {
        let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let name = js_sys::Reflect::get(&e, &"name".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let kind = js_sys::Reflect::get(&e, &"entryType".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        if kind == "resource" || kind == "navigation" {
            list.push((name.rsplit('/').next().unwrap_or("").to_string(), get("transferSize"), get("decodedBodySize")));
        }
    }
    let t = list.iter().map(|x| x.1).sum();
    let d = list.iter().map(|x| x.2).sum();
    (t, d, list)
}

/// Time `f`: `WARMUP` runs, then `RUNS` timed runs with a yield between them. `f` returns the
/// worker's own time when the worker did the work. Returns (the work's times, the round trips;
/// equal where the page did the work).
async fn time_work<F: AsyncFnMut() -> Option<f64>>(mut f: F) -> (Vec<f64>, Vec<f64>) {
    for _ in 0..WARMUP {
        f().await;
    }
    let (mut work, mut trip) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        let t0 = now_ms();
        let inside = f().await;
        let t = now_ms() - t0;
        work.push(inside.unwrap_or(t));
        trip.push(t);
        yield_now().await;
    }
    (work, trip)
}

async fn run(engine: Engine, pixels: Vec<f32>) -> BenchReport {
    use crate::worker::client;
    let mc = McConfig { passes: 50, p: 0.25, seed: 0 };
    let on_cpu = engine.gpu.is_none();
    let (forward, forward_trip) = time_work(async || {
        if on_cpu {
            if let Some((_, ms)) = client::predict(&engine.weights, &pixels).await {
                return Some(ms);
            }
        }
        let _ = engine.predict(&pixels).await;
        None
    })
    .await;
    let (mc_times, mc_trip) = time_work(async || {
        if on_cpu {
            if let Some((_, ms)) = client::mc(&engine.weights, &pixels, &mc).await {
                return Some(ms);
            }
        }
        let _ = engine.mc(&pixels, &mc).await;
        None
    })
    .await;
    let goal = Goal { label: 0, target: None };
    let (fgsm, _) = time_work(async || {
        // perturb reads the gradient back to the host and returns the adversarial pixels.
        let adv = Fgsm::new(0.1).perturb(&engine.cpu, &pixels, &goal);
        assert_eq!(adv.len(), pixels.len());
        None
    })
    .await;
    let (transfer_bytes, decoded_bytes, resources) = downloaded();
    BenchReport {
        device: engine.compute().label().into(),
        model: engine.entry.id.clone(),
        runs: RUNS,
        models_run: leptos::prelude::GetUntracked::get_untracked(&client::place()).to_string(),
        forward_ms: stats(forward),
        mc_t50_ms: stats(mc_times),
        forward_round_trip_ms: stats(forward_trip),
        mc_t50_round_trip_ms: stats(mc_trip),
        fgsm_ms: stats(fgsm),
        transfer_bytes,
        decoded_bytes,
        resources,
    }
}

#[component]
pub fn BenchPanel() -> impl IntoView {
    let store = use_store();
    let report = RwSignal::new(None::<String>);
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        let Some((input, engine)) = store.ready() else { return };
        if started.get_value() {
            return;
        }
        started.set_value(true);
        spawn_local(async move {
            // Let the first MC/FGSM renders settle before timing.
            gloo_timers::future::TimeoutFuture::new(500).await;
            let r = run(engine, input.pixels).await;
            let json = serde_json::to_string(&r).unwrap_or_default();
            web_sys::console::log_1(&format!("QUIVER_BENCH {json}").into());
            report.set(Some(json));
        });
    });
    view! {
        <section class="panel" id="bench-panel">
            <h2>"Benchmark"</h2>
            <pre id="bench-result">{move || report.get().unwrap_or_else(|| "running…".into())}</pre>
        </section>
    }
}
