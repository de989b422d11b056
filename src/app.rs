//! The application shell: shared state, loading, URL sync and layout.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::data::mnist::MnistSet;
use quiver_core::manifest::Manifest;

use crate::components::attack_bench::AttackBenchPanel;
use crate::components::attack_panel::AttackPanel;
use crate::components::bench::BenchPanel;
use crate::components::mc_panel::McPanel;
use crate::components::sample_picker::SamplePicker;
use crate::runtime::{self, Compute, Engine};
use crate::state::{AppState, BenchMode, DevicePref};

/// The image the model sees.
#[derive(Clone, Debug, PartialEq)]
pub struct InputImage {
    /// CHW pixels in [0, 1].
    pub pixels: Vec<f32>,
    /// True label when known (bundled samples).
    pub label: Option<usize>,
    /// Where it came from, for the caption.
    pub source: String,
}

/// Everything the panels share. Signals are `Copy`, so is this.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub state: RwSignal<AppState>,
    pub manifest: RwSignal<Option<Manifest>>,
    pub engine: RwSignal<Option<Engine>, LocalStorage>,
    pub gpu: RwSignal<Option<burn::tensor::Device>, LocalStorage>,
    pub device_ready: RwSignal<bool>,
    /// A message while weights load; `None` when idle.
    pub loading: RwSignal<Option<String>>,
    /// The latest error, worded for the user.
    pub error: RwSignal<Option<String>>,
    /// Notes about ignored URL parameters.
    pub notes: RwSignal<Vec<String>>,
    pub samples: RwSignal<Option<MnistSet>>,
    pub input: RwSignal<Option<InputImage>>,
}

impl Ctx {
    pub fn class_names(&self) -> Vec<String> {
        self.engine
            .with(|e| e.as_ref().map(|e| e.entry.class_names.clone()))
            .unwrap_or_else(|| (0..10).map(|i| i.to_string()).collect())
    }
}

pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

fn current_query() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

fn write_query(q: &str) {
    let Some(w) = web_sys::window() else { return };
    let path = w.location().pathname().unwrap_or_default();
    let url = if q.is_empty() { path } else { format!("{path}?{q}") };
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

async fn load_samples(ctx: Ctx) {
    let images = runtime::fetch_bytes("samples/mnist/t10k-images-idx3-ubyte").await;
    let labels = runtime::fetch_bytes("samples/mnist/t10k-labels-idx1-ubyte").await;
    match (images, labels) {
        (Ok(i), Ok(l)) => match MnistSet::from_idx(&i, &l) {
            Ok(set) => {
                let idx = ctx.state.with_untracked(|s| s.sample);
                let idx = if idx < set.len() {
                    idx
                } else {
                    ctx.notes.update(|n| n.push(format!("there is no sample {idx}; showing sample 0")));
                    ctx.state.update(|s| s.sample = 0);
                    0
                };
                ctx.input.set(Some(InputImage { pixels: set.image(idx), label: Some(set.label(idx)), source: format!("MNIST test image #{idx}") }));
                ctx.samples.set(Some(set));
            }
            Err(e) => ctx.error.set(Some(format!("the bundled samples are unreadable: {e}"))),
        },
        (Err(e), _) | (_, Err(e)) => ctx.error.set(Some(e)),
    }
}

/// Load the model the state names whenever it differs from the loaded one.
fn watch_model(ctx: Ctx) {
    Effect::new(move |_| {
        let Some(manifest) = ctx.manifest.get() else { return };
        if !ctx.device_ready.get() {
            return;
        }
        let wanted = ctx.state.with(|s| s.model.clone());
        if ctx.engine.with_untracked(|e| e.as_ref().map(|e| e.entry.id == wanted)).unwrap_or(false) {
            return;
        }
        let entry = match manifest.get(&wanted) {
            Some(e) => e.clone(),
            None => {
                let Some(first) = manifest.models.first() else {
                    ctx.error.set(Some("weights/manifest.json lists no models".into()));
                    return;
                };
                ctx.notes.update(|n| n.push(format!("there is no model {wanted:?}; using {}", first.id)));
                ctx.state.update(|s| s.model = first.id.clone());
                return;
            }
        };
        ctx.loading.set(Some(format!("Loading weights {} ({:.0} kB)…", entry.file, entry.bytes as f64 / 1024.0)));
        spawn_local(async move {
            let gpu = ctx.gpu.get_untracked();
            match runtime::load_engine(entry.clone(), gpu).await {
                Ok(engine) => {
                    ctx.engine.set(Some(engine));
                    ctx.error.set(None);
                }
                Err(e) => {
                    let previous = ctx.engine.with_untracked(|e| e.as_ref().map(|e| e.entry.id.clone()));
                    let keep = previous.map(|p| format!(" Still using {p}.")).unwrap_or_default();
                    ctx.error.set(Some(format!("Could not load model {}: {e}.{keep}", entry.id)));
                    if let Some(p) = ctx.engine.with_untracked(|e| e.as_ref().map(|e| e.entry.id.clone())) {
                        ctx.state.update(|s| s.model = p);
                    }
                }
            }
            ctx.loading.set(None);
        });
    });
}

#[component]
pub fn App() -> impl IntoView {
    let (state, notes) = AppState::from_query(&current_query());
    let ctx = Ctx {
        state: RwSignal::new(state),
        manifest: RwSignal::new(None),
        engine: RwSignal::new_local(None),
        gpu: RwSignal::new_local(None),
        device_ready: RwSignal::new(false),
        loading: RwSignal::new(Some("Loading the model list…".into())),
        error: RwSignal::new(None),
        notes: RwSignal::new(notes),
        samples: RwSignal::new(None),
        input: RwSignal::new(None),
    };
    provide_context(ctx);

    // The URL always reflects the state.
    Effect::new(move |_| write_query(&ctx.state.with(|s| s.to_query())));

    spawn_local(async move {
        if ctx.state.with_untracked(|s| s.device) == DevicePref::Auto {
            if let Some(d) = runtime::webgpu_device().await {
                ctx.gpu.set(Some(d));
            }
        }
        ctx.device_ready.set(true);
    });
    spawn_local(async move {
        match runtime::load_manifest().await {
            Ok(m) => ctx.manifest.set(Some(m)),
            Err(e) => {
                ctx.error.set(Some(e));
                ctx.loading.set(None);
            }
        }
    });
    spawn_local(load_samples(ctx));
    watch_model(ctx);

    let compute = move || {
        if !ctx.device_ready.get() {
            "detecting…".to_string()
        } else if ctx.gpu.with(|g| g.is_some()) {
            Compute::WebGpu.label().to_string()
        } else {
            Compute::Cpu.label().to_string()
        }
    };
    let model_options = move || {
        ctx.manifest.get().map(|m| {
            m.models
                .iter()
                .map(|e| {
                    let label = format!("{} — {} CNN, trained p = {} ({:.2} % test accuracy)", e.id, e.dataset, e.train_dropout, e.test_accuracy * 100.0);
                    view! { <option value=e.id.clone() selected=ctx.state.with_untracked(|s| s.model == e.id)>{label}</option> }
                })
                .collect::<Vec<_>>()
        })
    };
    let bench = ctx.state.with_untracked(|s| s.bench);

    view! {
        <header>
            <h1>"Quiver"</h1>
            <p class="tagline">"How uncertain is an image classifier, and how do adversarial attacks break it? Everything runs in your browser."</p>
            <div class="status">
                <span>"Device: " <strong id="device">{compute}</strong></span>
                <span id="weights-status">
                    {move || match (ctx.loading.get(), ctx.engine.with(|e| e.as_ref().map(|e| e.entry.id.clone()))) {
                        (Some(msg), _) => view! { <span class="loading">{msg}</span> }.into_any(),
                        (None, Some(id)) => view! { <span class="ready">"Model ready: " {id}</span> }.into_any(),
                        (None, None) => view! { <span>"No model loaded"</span> }.into_any(),
                    }}
                </span>
            </div>
            <label>
                "Model "
                <select id="model-select" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    ctx.state.update(|s| s.model = v);
                }>{model_options}</select>
            </label>
        </header>
        <Show when=move || ctx.error.with(|e| e.is_some())>
            <div id="error" role="alert" class="error">
                {move || ctx.error.get()}
                <button class="dismiss" on:click=move |_| ctx.error.set(None)>"×"</button>
            </div>
        </Show>
        <Show when=move || ctx.notes.with(|n| !n.is_empty())>
            <ul id="notes" class="notes">
                {move || ctx.notes.get().into_iter().map(|n| view! { <li>{n}</li> }).collect::<Vec<_>>()}
            </ul>
        </Show>
        <main>
            <SamplePicker/>
            <McPanel/>
            <AttackPanel/>
            {(bench == BenchMode::Speed).then(|| view! { <BenchPanel/> })}
            {(bench == BenchMode::Attacks).then(|| view! { <AttackBenchPanel/> })}
        </main>
        <footer>
            "Quiver — MC dropout (Gal & Ghahramani 2016), FGSM (Goodfellow et al. 2015), L-BFGS (Szegedy et al. 2013) and IAA (seed report §4.4) on the seed report's MNIST CNN. "
            "Models: Burn; charts: plotly.js (vendored). No data leaves this page."
        </footer>
    }
}
