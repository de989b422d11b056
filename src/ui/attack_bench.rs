//! Attack benchmark (`?bench=attacks`): every attack at its defaults (FGSM and PGD L∞ at ε = 0.1
//! and 0.2), untargeted, timed per image in this browser, on 100 fixed test images of the loaded
//! model's dataset: MNIST test digits 0–99, or the first 10 test images of each CIFAR-10 class
//! (`?bench=attacks&dataset=cifar10`). Reports the success of the saved 8-bit image (and of the
//! attack's float result), mean L2 / L∞ / L0 / D, iterations and time per image as JSON in
//! `#bench-result` and on the console — the figures `notes/attack-figures.sh` makes natively.
//!
//! The images are the repository's committed test subsets, which `tools/bench.mjs` serves at
//! `fixtures/`; the deployed site does not ship them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::attacks::{run_attack, AttackKind, AttackSet, Flow, Goal};
use quiver_core::data::mnist::MnistSet;
use quiver_core::data::ImageSet;
use quiver_core::Dataset;
use serde::Serialize;

use crate::runtime::{fetch_bytes, now_ms, yield_now, Engine};
use crate::store::use_store;

/// Images per setting.
pub const IMAGES: usize = 100;

/// The settings measured: an attack and the table entries that differ from its defaults.
const SETTINGS: [(AttackKind, &[(&str, &str)]); 10] = [
    (AttackKind::Fgsm, &[("eps", "0.1")]),
    (AttackKind::Fgsm, &[("eps", "0.2")]),
    (AttackKind::Pgd, &[("pgd_eps", "0.1")]),
    (AttackKind::Pgd, &[("pgd_eps", "0.2")]),
    (AttackKind::PgdL2, &[]),
    (AttackKind::Cw, &[]),
    (AttackKind::DeepFool, &[]),
    (AttackKind::Jsma, &[]),
    (AttackKind::Lbfgs, &[]),
    (AttackKind::Iaa, &[]),
];

#[derive(Serialize)]
struct Row {
    attack: String,
    parameters: String,
    images: usize,
    success_rate: f32,
    float_success_rate: f32,
    mean_l2: f32,
    mean_linf: f32,
    mean_l0: f32,
    mean_perceptual_distance: f32,
    mean_iterations: f32,
    mean_ms: f64,
}

#[derive(Serialize)]
struct Report {
    device: String,
    model: String,
    dataset: String,
    rows: Vec<Row>,
}

/// The 100 images and their labels.
async fn images(dataset: Dataset) -> Result<Vec<(Vec<f32>, usize)>, String> {
    match dataset {
        Dataset::Mnist => {
            let images = fetch_bytes("fixtures/mnist-test-subset/t10k-images-idx3-ubyte").await?;
            let labels = fetch_bytes("fixtures/mnist-test-subset/t10k-labels-idx1-ubyte").await?;
            let set = MnistSet::from_idx(&images, &labels).map_err(|e| e.to_string())?;
            Ok((0..IMAGES.min(set.len())).map(|i| (set.image(i), set.label(i))).collect())
        }
        Dataset::Cifar10 => {
            let png = fetch_bytes("fixtures/cifar10-test-subset.png").await?;
            let set = ImageSet::from_grid_png(&png, [3, 32, 32], 50).map_err(|e| e.to_string())?;
            // Grid indices 50r … 50r + 9: the first ten test images of class r.
            Ok((0..10).flat_map(|r| (0..10).map(move |j| 50 * r + j)).map(|i| (set.image(i), set.label(i))).collect())
        }
        Dataset::Stl10 => Err("no STL-10 test images are committed".into()),
    }
}

async fn bench_one(engine: &Engine, set: &[(Vec<f32>, usize)], kind: AttackKind, changes: &[(&str, &str)], status: RwSignal<String>) -> Result<Row, String> {
    let mut attacks = AttackSet::default();
    for (key, value) in changes {
        attacks.set_text(key, value).map_err(|e| e.to_string())?;
    }
    let attack = attacks.get(kind);
    let parameters = if changes.is_empty() { "defaults".to_string() } else { changes.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ") };
    let (mut ok, mut float_ok, mut l2, mut linf, mut l0, mut d, mut it, mut ms) = (0usize, 0usize, 0f32, 0f32, 0f32, 0f32, 0f32, 0f64);
    for (i, (image, label)) in set.iter().enumerate() {
        let goal = Goal { label: *label, target: None };
        let t0 = now_ms();
        let o = run_attack(attack, &engine.cpu, image, goal, |_| Flow::Continue).map_err(|e| e.to_string())?;
        ms += now_ms() - t0;
        ok += o.success as usize;
        float_ok += o.quantization.float_success as usize;
        l2 += o.distances.l2;
        linf += o.distances.linf;
        l0 += o.distances.l0 as f32;
        d += o.perceptual_distance;
        it += o.iterations as f32;
        status.set(format!("{} {parameters}: image {}/{}", kind.key(), i + 1, set.len()));
        yield_now().await;
    }
    let k = set.len().max(1) as f32;
    Ok(Row {
        attack: kind.key().into(),
        parameters,
        images: set.len(),
        success_rate: ok as f32 / k,
        float_success_rate: float_ok as f32 / k,
        mean_l2: l2 / k,
        mean_linf: linf / k,
        mean_l0: l0 / k,
        mean_perceptual_distance: d / k,
        mean_iterations: it / k,
        mean_ms: ms / k as f64,
    })
}

async fn run(engine: Engine, status: RwSignal<String>) -> Result<Report, String> {
    let dataset = Dataset::of(engine.entry.architecture);
    let set = images(dataset).await?;
    let mut rows = Vec::new();
    for (kind, changes) in SETTINGS {
        rows.push(bench_one(&engine, &set, kind, changes, status).await?);
    }
    Ok(Report { device: engine.compute().label().into(), model: engine.entry.id.clone(), dataset: dataset.label().into(), rows })
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
                Err(e) => store.problem(crate::store::Where::Site, format!("attack benchmark: {e} (run it through scripts/bench.sh --attacks, which serves the test images)")),
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
