//! The application shell: shared state, loading, URL sync and layout.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::data::mnist::MnistSet;
use quiver_core::data::ImageSet;
use quiver_core::manifest::{Manifest, ModelEntry};

use crate::components::attack_bench::AttackBenchPanel;
use crate::components::attack_panel::AttackPanel;
use crate::components::bench::BenchPanel;
use crate::components::mc_panel::McPanel;
use crate::components::sample_picker::SamplePicker;
use crate::runtime::{self, Compute, Engine};
use crate::state::{AppState, BenchMode, Dataset, DevicePref};

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
    /// The bundled samples of the current dataset (none for STL-10).
    pub samples: RwSignal<Option<ImageSet>>,
    pub input: RwSignal<Option<InputImage>>,
}

impl Ctx {
    /// The input and the model when both are there and the input fits the model (they differ
    /// for a moment while the dataset changes).
    pub fn ready(&self) -> Option<(InputImage, Engine)> {
        let input = self.input.get()?;
        let engine = self.engine.get()?;
        let n: usize = engine.entry.architecture.input_shape().iter().product();
        (input.pixels.len() == n).then_some((input, engine))
    }

    /// `[channels, height, width]` of the current model's (or dataset's) input.
    pub fn input_shape(&self) -> [usize; 3] {
        self.engine
            .with(|e| e.as_ref().map(|e| e.entry.architecture))
            .unwrap_or_else(|| self.state.with(|s| s.dataset.architecture()))
            .input_shape()
    }

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

/// The caption of bundled sample `index` of `dataset`.
pub fn sample_source(dataset: Dataset, index: usize) -> String {
    let name = match dataset {
        Dataset::Mnist => "MNIST",
        Dataset::Cifar10 => "CIFAR-10",
        Dataset::Stl10 => "STL-10",
    };
    format!("{name} test image #{index}")
}

async fn fetch_samples(dataset: Dataset) -> Result<Option<ImageSet>, String> {
    match dataset {
        Dataset::Mnist => {
            let images = runtime::fetch_bytes("samples/mnist/t10k-images-idx3-ubyte").await?;
            let labels = runtime::fetch_bytes("samples/mnist/t10k-labels-idx1-ubyte").await?;
            MnistSet::from_idx(&images, &labels).map(|s| Some(ImageSet::from(s))).map_err(|e| e.to_string())
        }
        Dataset::Cifar10 => {
            // A grid of 32×32 tiles, one class per row (3 test images per class).
            let png = runtime::fetch_bytes("samples/cifar10/test-samples.png").await?;
            ImageSet::from_grid_png(&png, [3, 32, 32], 3).map(Some).map_err(|e| e.to_string())
        }
        Dataset::Stl10 => Ok(None),
    }
}

/// Load the current dataset's samples whenever the dataset changes, and show the chosen one.
fn watch_samples(ctx: Ctx) {
    let dataset = Memo::new(move |_| ctx.state.with(|s| s.dataset));
    Effect::new(move |_| {
        let d = dataset.get();
        ctx.samples.set(None);
        ctx.input.set(None);
        spawn_local(async move {
            let result = fetch_samples(d).await;
            if dataset.get_untracked() != d {
                return;
            }
            match result {
                Ok(Some(set)) => {
                    let idx = ctx.state.with_untracked(|s| s.sample);
                    let idx = if idx < set.len() {
                        idx
                    } else {
                        ctx.notes.update(|n| n.push(format!("there is no sample {idx}; showing sample 0")));
                        ctx.state.update(|s| s.sample = 0);
                        0
                    };
                    ctx.input.set(Some(InputImage { pixels: set.image(idx), label: Some(set.label(idx)), source: sample_source(d, idx) }));
                    ctx.samples.set(Some(set));
                }
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(format!("the bundled samples are unreadable: {e}"))),
            }
        });
    });
}

/// Use weights the user brought (a dropped or picked file, or `?weights=`): checked against the
/// current dataset's architecture, or any architecture they match exactly. On failure the
/// previous model stays.
pub fn use_weights(ctx: Ctx, bytes: Vec<u8>, name: String, from_url: bool) {
    let dataset = ctx.state.with_untracked(|s| s.dataset);
    let gpu = ctx.gpu.get_untracked();
    match runtime::custom_engine(&bytes, &name, dataset.architecture(), gpu.as_ref()) {
        Ok(engine) => {
            let d = Dataset::of(engine.entry.architecture);
            if d != dataset {
                ctx.notes.update(|n| n.push(format!("{name} holds {} weights: switched to {}", engine.entry.architecture.name(), d.label())));
            }
            let id = engine.entry.id.clone();
            ctx.engine.set(Some(engine));
            ctx.error.set(None);
            ctx.state.update(|s| {
                s.dataset = d;
                s.model = id;
                if !from_url {
                    s.weights = None;
                }
            });
        }
        Err(e) => {
            let keep = ctx.engine.with_untracked(|e| e.as_ref().map(|e| format!(" Still using {}.", e.entry.id))).unwrap_or_default();
            ctx.error.set(Some(format!("Could not use {name}: {e}.{keep}")));
            if from_url {
                ctx.state.update(|s| s.weights = None);
            }
        }
    }
    ctx.loading.set(None);
}

/// Load the model the state names whenever it differs from the loaded one: `?weights=` first,
/// else the manifest model of the current dataset.
fn watch_model(ctx: Ctx) {
    Effect::new(move |_| {
        let Some(manifest) = ctx.manifest.get() else { return };
        if !ctx.device_ready.get() {
            return;
        }
        let (dataset, wanted, weights) = ctx.state.with(|s| (s.dataset, s.model.clone(), s.weights.clone()));
        let loaded = ctx.engine.with_untracked(|e| e.as_ref().map(|e| (e.entry.id.clone(), e.entry.architecture)));
        if let Some(path) = weights {
            if loaded.as_ref().is_some_and(|(id, _)| *id == wanted && wanted == runtime::custom_id(&path)) {
                return;
            }
            ctx.loading.set(Some(format!("Loading your weights {path}…")));
            spawn_local(async move {
                match runtime::fetch_bytes(&path).await {
                    Ok(bytes) => use_weights(ctx, bytes, path, true),
                    Err(e) => {
                        let keep = ctx.engine.with_untracked(|e| e.as_ref().map(|e| format!(" Still using {}.", e.entry.id))).unwrap_or_default();
                        ctx.error.set(Some(format!("Could not use weights={path}: {e}.{keep}")));
                        ctx.state.update(|s| s.weights = None);
                        ctx.loading.set(None);
                    }
                }
            });
            return;
        }
        if loaded.as_ref().is_some_and(|(id, arch)| *id == wanted && Dataset::of(*arch) == dataset) {
            return;
        }
        let entry: ModelEntry = match manifest.get(&wanted) {
            Some(e) if Dataset::of(e.architecture) == dataset => e.clone(),
            // A model of another dataset: the model wins over the default dataset (the address
            // named it); an explicit dataset wins over the default model.
            Some(e) if dataset == Dataset::Mnist => {
                let d = Dataset::of(e.architecture);
                ctx.state.update(|s| s.dataset = d);
                return;
            }
            _ => {
                match default_model(&manifest, dataset) {
                    Some(first) => {
                        if manifest.get(&wanted).is_none() && !loaded.as_ref().is_some_and(|(id, _)| *id == wanted) {
                            ctx.notes.update(|n| n.push(format!("there is no model {wanted:?}; using {}", first.id)));
                        }
                        let id = first.id.clone();
                        ctx.state.update(|s| s.model = id);
                    }
                    None => {
                        // No bundled weights for this dataset (STL-10): the page explains how to
                        // bring your own.
                        if loaded.is_some() {
                            ctx.engine.set(None);
                        }
                        ctx.loading.set(None);
                    }
                }
                return;
            }
        };
        ctx.loading.set(Some(format!("Loading weights {} ({:.0} kB)…", entry.file, entry.bytes as f64 / 1024.0)));
        spawn_local(async move {
            let gpu = ctx.gpu.get_untracked();
            match runtime::load_engine(entry.clone(), gpu).await {
                Ok(engine) => {
                    ctx.engine.set(Some(engine));
                    // A model is in use again: a message about an earlier failed load is done
                    // with; anything else (e.g. weights= pointing nowhere) stays until dismissed.
                    ctx.error.update(|e| {
                        if e.as_ref().is_some_and(|m| m.starts_with("Could not load model")) {
                            *e = None
                        }
                    });
                }
                Err(e) => {
                    let previous = ctx.engine.with_untracked(|e| e.as_ref().map(|e| e.entry.id.clone()));
                    let keep = previous.as_ref().map(|p| format!(" Still using {p}.")).unwrap_or_default();
                    ctx.error.set(Some(format!("Could not load model {}: {e}.{keep}", entry.id)));
                    if let Some(p) = previous {
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
    watch_samples(ctx);
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
        let dataset = ctx.state.with(|s| s.dataset);
        let current = ctx.state.with(|s| s.model.clone());
        let mut options: Vec<(String, String)> = ctx
            .manifest
            .with(|m| {
                m.as_ref().map(|m| {
                    models_of(m, dataset)
                        .map(|e| (e.id.clone(), format!("{} — trained p = {}, {} epochs ({:.2} % test accuracy, {})", e.id, e.train_dropout, e.epochs, e.test_accuracy * 100.0, e.dataset)))
                        .collect()
                })
            })
            .unwrap_or_default();
        // Your own weights, while they are in use.
        if let Some((id, file)) = ctx.engine.with(|e| e.as_ref().filter(|e| e.custom).map(|e| (e.entry.id.clone(), e.entry.file.clone()))) {
            options.push((id, format!("your weights: {file}")));
        }
        if options.is_empty() {
            options.push((String::new(), "no bundled weights for this dataset".into()));
        }
        options
            .into_iter()
            .map(|(id, label)| {
                let selected = id == current;
                view! { <option value=id selected=selected>{label}</option> }
            })
            .collect::<Vec<_>>()
    };
    let dataset_options = move || {
        let current = ctx.state.with(|s| s.dataset);
        Dataset::ALL
            .into_iter()
            .map(|d| view! { <option value=d.key() selected=d == current>{d.label()}</option> })
            .collect::<Vec<_>>()
    };
    let set_dataset = move |ev| {
        let Some(d) = Dataset::from_key(&event_target_value(&ev)) else { return };
        let first = ctx.manifest.with_untracked(|m| {
            m.as_ref().and_then(|m| default_model(m, d).map(|e| e.id.clone()))
        });
        ctx.state.update(|s| {
            s.dataset = d;
            s.weights = None;
            s.sample = 0;
            s.target = crate::state::TargetChoice::Untargeted;
            s.model = first.unwrap_or_default();
        });
    };
    let on_weights = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            crate::components::sample_picker::use_weights_file(ctx, file);
        }
        input.set_value("");
    };
    // No bundled model for the dataset and none brought: say how to get one.
    let no_weights = move || {
        let dataset = ctx.state.with(|s| s.dataset);
        let bundled = ctx.manifest.with(|m| m.as_ref().map(|m| models_of(m, dataset).next().is_some()).unwrap_or(true));
        (!bundled && ctx.engine.with(|e| e.is_none()) && ctx.loading.with(|l| l.is_none())).then_some(dataset)
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
            <div class="controls">
                <label>"Dataset " <select id="dataset-select" on:change=set_dataset>{dataset_options}</select></label>
                <label>
                    "Model "
                    <select id="model-select" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if !v.is_empty() {
                            ctx.state.update(|s| { s.model = v; s.weights = None; });
                        }
                    }>{model_options}</select>
                </label>
                <label class="file-label" title="a .safetensors file with PyTorch state_dict names for mnist_cnn, alexnet_cifar10 or alexnet_stl10">
                    "use your own weights (.safetensors)"
                    <input id="weights-input" type="file" accept=".safetensors" on:change=on_weights/>
                </label>
            </div>
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
        {move || no_weights().map(|d| {
            let arch = d.architecture();
            let [c, h, w] = arch.input_shape();
            view! {
                <section class="panel notice" id="no-weights">
                    <h2>{format!("No {} weights are bundled", d.label())}</h2>
                    <p>{format!(
                        "Quiver ships no weights for {} ({}×{}×{} input, classes: {}). Bring your own: drop a .safetensors file with PyTorch state_dict names on the page or use the button above, or serve it with the site and open ?dataset={}&weights=<path>. To train one with Quiver's CLI:",
                        d.label(), c, h, w, arch.class_names().join(", "), d.key()
                    )}</p>
                    <pre>{match d {
                        Dataset::Stl10 => "cargo run --release -p quiver-cli -- train --arch alexnet_stl10 --data <folder with train_X.bin train_y.bin test_X.bin test_y.bin> --dropout 0.25 --out alexnet_stl10.safetensors",
                        Dataset::Cifar10 => "cargo run --release -p quiver-cli -- train --arch alexnet_cifar10 --data <folder with train/<class>/*.jpg and test/<class>/*.jpg> --dropout 0.25 --out alexnet_cifar10.safetensors",
                        Dataset::Mnist => "cargo run --release -p quiver-cli -- train --data <folder with the MNIST IDX files> --dropout 0.25 --out mnist_cnn.safetensors",
                    }}</pre>
                </section>
            }
        })}
        <main>
            <SamplePicker/>
            <McPanel/>
            <AttackPanel/>
            {(bench == BenchMode::Speed).then(|| view! { <BenchPanel/> })}
            {(bench == BenchMode::Attacks).then(|| view! { <AttackBenchPanel/> })}
        </main>
        <footer>
            "Quiver — MC dropout (Gal & Ghahramani 2016), FGSM (Goodfellow et al. 2015), L-BFGS (Szegedy et al. 2013) and IAA (seed report §4.4) on the seed report's MNIST CNN and AlexNet. "
            "Models: Burn; charts: plotly.js (vendored). No data leaves this page."
        </footer>
    }
}

/// The model a dataset opens with: the one trained at the seed's middle rate p = 0.25 (the
/// MNIST default is `mnist_cnn_p025` too), else the first listed.
pub fn default_model(manifest: &Manifest, dataset: Dataset) -> Option<&ModelEntry> {
    models_of(manifest, dataset).find(|e| (e.train_dropout - 0.25).abs() < 1e-6).or_else(|| models_of(manifest, dataset).next())
}

/// The bundled models of one dataset, in manifest order.
pub fn models_of(manifest: &Manifest, dataset: Dataset) -> impl Iterator<Item = &ModelEntry> {
    manifest.models.iter().filter(move |e| Dataset::of(e.architecture) == dataset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dataset_opens_with_its_p025_model_else_its_first() {
        let shipped = Manifest::from_json(include_str!("../weights/manifest.json")).unwrap();
        let id = |m: &Manifest, d| default_model(m, d).map(|e| e.id.clone());
        assert_eq!(id(&shipped, Dataset::Mnist).as_deref(), Some("mnist_cnn_p025"));
        assert_eq!(id(&shipped, Dataset::Cifar10).as_deref(), Some("alexnet_cifar10_p025"));
        assert_eq!(id(&shipped, Dataset::Stl10), None, "no STL-10 weights are bundled");
        // Without a p = 0.25 model, the first of the dataset's models.
        let mut other = shipped.clone();
        other.models.retain(|e| (e.train_dropout - 0.25).abs() > 1e-6);
        let first_mnist = models_of(&other, Dataset::Mnist).next().unwrap().id.clone();
        assert_eq!(id(&other, Dataset::Mnist), Some(first_mnist));
    }
}
