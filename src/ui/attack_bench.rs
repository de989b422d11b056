//! Attack benchmark (`?bench=attacks`): FGSM (ε = 0.1 and 0.2), L-BFGS and IAA with their
//! defaults, untargeted, on the first 100 MNIST test digits, timed per image in this browser.
//! Reports success rate and mean L2 / L∞ / D / time per image as JSON in `#bench-result` and on
//! the console — the same figures `quiver attack --indices 0-99` prints natively.
//!
//! The digits are the repository's committed test subset, which `tools/bench.mjs` serves at
//! `fixtures/mnist-test-subset/`; the deployed site does not ship it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{run_attack, Attack, Fgsm, Flow, Goal, Iaa, Lbfgs};
use quiver_core::data::mnist::MnistSet;
use serde::Serialize;

use crate::store::use_store;
use crate::runtime::{fetch_bytes, now_ms, yield_now, Engine};

/// Number of test digits (indices 0..IMAGES).
pub const IMAGES: usize = 100;

#[derive(Serialize)]
struct Row {
    attack: String,
    parameters: String,
    images: usize,
    success_rate: f32,
    mean_l2: f32,
    mean_linf: f32,
    mean_perceptual_distance: f32,
    mean_iterations: f32,
    mean_ms: f64,
}

#[derive(Serialize)]
struct Report {
    device: String,
    model: String,
    rows: Vec<Row>,
}

async fn bench_one(engine: &Engine, set: &MnistSet, attack: &dyn Attack, parameters: String, status: RwSignal<String>) -> Row {
    let n = IMAGES.min(set.len());
    let (mut ok, mut l2, mut linf, mut d, mut it, mut ms) = (0usize, 0f32, 0f32, 0f32, 0f32, 0f64);
    for i in 0..n {
        let image = set.image(i);
        let goal = Goal { label: set.label(i), target: None };
        let t0 = now_ms();
        let o = run_attack(attack, &engine.cpu, &image, goal, |_| Flow::Continue).expect("valid defaults");
        ms += now_ms() - t0;
        ok += o.success as usize;
        l2 += o.distances.l2;
        linf += o.distances.linf;
        d += o.perceptual_distance;
        it += o.iterations as f32;
        status.set(format!("{} {parameters}: image {}/{n}", attack.name(), i + 1));
        yield_now().await;
    }
    let k = n as f32;
    Row {
        attack: attack.name().into(),
        parameters,
        images: n,
        success_rate: ok as f32 / k,
        mean_l2: l2 / k,
        mean_linf: linf / k,
        mean_perceptual_distance: d / k,
        mean_iterations: it / k,
        mean_ms: ms / n as f64,
    }
}

async fn run(engine: Engine, status: RwSignal<String>) -> Result<Report, String> {
    let images = fetch_bytes("fixtures/mnist-test-subset/t10k-images-idx3-ubyte").await?;
    let labels = fetch_bytes("fixtures/mnist-test-subset/t10k-labels-idx1-ubyte").await?;
    let set = MnistSet::from_idx(&images, &labels).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    rows.push(bench_one(&engine, &set, &Fgsm::new(0.1), "eps 0.1".into(), status).await);
    rows.push(bench_one(&engine, &set, &Fgsm::new(0.2), "eps 0.2".into(), status).await);
    let l = Lbfgs::default();
    rows.push(bench_one(&engine, &set, &l, format!("defaults (c_init {}, {} c steps × {} iterations)", l.c_init, l.c_steps, l.max_iter), status).await);
    let i = Iaa::default();
    rows.push(bench_one(&engine, &set, &i, format!("defaults (n {}, m {}, δ {}, D_max {})", i.n, i.m, i.delta, i.d_max), status).await);
    Ok(Report { device: engine.compute().label().into(), model: engine.entry.id.clone(), rows })
}

#[component]
pub fn AttackBenchPanel() -> impl IntoView {
    let store = use_store();
    let report = RwSignal::new(None::<String>);
    let status = RwSignal::new("waiting for the model…".to_string());
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(engine) = store.engine().get() else { return };
        if started.get_value() {
            return;
        }
        started.set_value(true);
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(500).await;
            match run(engine, status).await {
                Ok(r) => {
                    let json = serde_json::to_string(&r).unwrap_or_default();
                    web_sys::console::log_1(&format!("QUIVER_ATTACK_BENCH {json}").into());
                    report.set(Some(json));
                }
                Err(e) => store.problem(crate::store::Where::Site, format!("attack benchmark: {e} (run it through scripts/bench.sh --attacks, which serves the test digits)")),
            }
        });
    });
    view! {
        <section class="panel" id="bench-panel">
            <h2>"Attack benchmark"</h2>
            <p id="bench-status">{move || status.get()}</p>
            <pre id="bench-result">{move || report.get().unwrap_or_else(|| "running…".into())}</pre>
        </section>
    }
}
