//! Benchmark mode (`?bench=1`): after warm-up, times a deterministic forward, MC dropout
//! (T = 50) and FGSM on one image, 20 runs each, and reports min / median / max in ms plus the
//! bytes the page downloaded, as JSON in `#bench-result` and on the console.

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
    forward_ms: Stats,
    mc_t50_ms: Stats,
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

async fn time<F: AsyncFnMut()>(mut f: F) -> Vec<f64> {
    for _ in 0..WARMUP {
        f().await;
    }
    let mut out = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t0 = now_ms();
        f().await;
        out.push(now_ms() - t0);
        yield_now().await;
    }
    out
}

async fn run(engine: Engine, pixels: Vec<f32>) -> BenchReport {
    let mc = McConfig { passes: 50, p: 0.25, seed: 0 };
    let forward = time(async || {
        let _ = engine.predict(&pixels).await;
    })
    .await;
    let mc_times = time(async || {
        let _ = engine.mc(&pixels, &mc).await;
    })
    .await;
    let goal = Goal { label: 0, target: None };
    let fgsm = time(async || {
        // perturb reads the gradient back to the host and returns the adversarial pixels.
        let adv = Fgsm::new(0.1).perturb(&engine.cpu, &pixels, &goal);
        assert_eq!(adv.len(), pixels.len());
    })
    .await;
    let (transfer_bytes, decoded_bytes, resources) = downloaded();
    BenchReport {
        device: engine.compute().label().into(),
        model: engine.entry.id.clone(),
        runs: RUNS,
        forward_ms: stats(forward),
        mc_t50_ms: stats(mc_times),
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
