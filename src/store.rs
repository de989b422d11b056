//! The store: the app's one writer of the state. Components read signals from it and change the
//! state only through [`Store::dispatch`] (which runs [`AppState::apply`]) and the few methods
//! below; the loaded model, the samples and the input are facts derived from the state and from
//! what was loaded, never second copies of it.
//!
//! Data flow: URL → state → plan (a memo) → load (a local resource) → engine → panels.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::data::mnist::MnistSet;
use quiver_core::data::ImageSet;
use quiver_core::manifest::Manifest;
use quiver_core::Dataset;

use crate::plan::{self, Plan, Source, Status};
use crate::runtime::{self, Engine};
use crate::state::{Action, AppState, DevicePref};

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

/// What went wrong, by where it arose: a new problem of a kind replaces the old one of that
/// kind, and success of that kind clears it (no matching of message text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Where {
    /// The model list.
    Site,
    /// The current dataset's bundled samples (cleared when the view changes to a dataset whose
    /// samples are there).
    Samples,
    /// Loading a model or weights.
    Weights,
    /// `?weights=` in the address could not be used (stays until dismissed or replaced: the
    /// bundled model that takes over does not answer it).
    Address,
    /// An image the user brought.
    Image,
    /// MC dropout or a chart.
    Compute,
}

/// The caption of bundled sample `index` of `dataset`.
pub fn sample_source(dataset: Dataset, index: usize) -> String {
    format!("{} test image #{index}", dataset.name())
}

#[derive(Clone, Copy)]
pub struct Store {
    state: RwSignal<AppState>,
    manifest: RwSignal<Option<Manifest>>,
    gpu: RwSignal<Option<burn::tensor::Device>, LocalStorage>,
    device_ready: RwSignal<bool>,
    /// The model in use (its `source` says where it came from).
    engine: RwSignal<Option<Engine>, LocalStorage>,
    /// The last load that failed, while it is the planned one.
    failed: RwSignal<Option<(Source, String)>>,
    pub plan: Memo<Plan>,
    problems: RwSignal<Vec<(Where, String)>>,
    /// Notes about ignored URL parameters and other things the app decided for the user.
    notes: RwSignal<Vec<String>>,
    /// Bundled samples, per dataset, kept once loaded.
    samples: RwSignal<HashMap<Dataset, ImageSet>>,
    /// The dataset in view, as a memo: what depends on the dataset alone (the gallery) does not
    /// re-run on every other change of the state.
    dataset: Memo<Dataset>,
    /// An image the user brought, while it is the input.
    upload: RwSignal<Option<InputImage>>,
    /// The input, derived once for every panel: the upload, else the chosen sample.
    input: Memo<Option<InputImage>>,
    /// The input and the source of the model it fits (none while they disagree, e.g. for a
    /// moment while the dataset changes).
    fitted: Memo<Option<(InputImage, Source)>>,
    reload: RwSignal<u64>,
    /// Models loaded before, newest first (at most [`KEPT_MODELS`]): going back to one needs no
    /// request (and works offline).
    kept: StoredValue<Vec<Engine>, LocalStorage>,
}

/// How many loaded models the store keeps for going back to them.
pub const KEPT_MODELS: usize = 4;

pub fn use_store() -> Store {
    expect_context::<Store>()
}

impl Store {
    /// The model in use, to read: only the store loads or replaces it.
    pub fn engine(&self) -> ReadSignal<Option<Engine>, LocalStorage> {
        self.engine.read_only()
    }

    pub fn manifest(&self) -> ReadSignal<Option<Manifest>> {
        self.manifest.read_only()
    }

    /// The WebGPU device, when the browser offers one (known once `device_ready`).
    pub fn gpu(&self) -> ReadSignal<Option<burn::tensor::Device>, LocalStorage> {
        self.gpu.read_only()
    }

    pub fn device_ready(&self) -> ReadSignal<bool> {
        self.device_ready.read_only()
    }

    pub fn notes(&self) -> ReadSignal<Vec<String>> {
        self.notes.read_only()
    }

    /// The state, to read (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&AppState) -> R) -> R {
        self.state.with(f)
    }

    /// Is this part of the page hidden (`?hide=`)? Fixed by the address, so read untracked.
    pub fn hides(&self, part: crate::state::Part) -> bool {
        self.state.with_untracked(|s| s.hides(part))
    }

    pub fn with_untracked<R>(&self, f: impl FnOnce(&AppState) -> R) -> R {
        self.state.with_untracked(f)
    }

    /// Change the state. A refused action (a parameter out of range) returns the message for the
    /// field that asked; notes go to the notes list.
    pub fn dispatch(&self, action: Action) -> Result<(), String> {
        if matches!(action, Action::Dataset(_) | Action::Model(_) | Action::Sample(_)) {
            self.upload.set(None);
        }
        let mut result = Ok(Vec::new());
        self.state.update(|s| result = s.apply(action));
        match result {
            Ok(notes) => {
                if !notes.is_empty() {
                    self.notes.update(|n| n.extend(notes));
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn problem(&self, at: Where, text: String) {
        self.problems.update(|p| {
            p.retain(|(w, _)| *w != at);
            p.push((at, text));
        });
    }

    pub fn clear(&self, at: Where) {
        if self.problems.with_untracked(|p| p.iter().any(|(w, _)| *w == at)) {
            self.problems.update(|p| p.retain(|(w, _)| *w != at));
        }
    }

    pub fn problems(&self) -> Vec<(Where, String)> {
        self.problems.get()
    }

    pub fn dismiss(&self) {
        self.problems.set(Vec::new());
    }

    /// What the status line says.
    pub fn status(&self) -> Status {
        let plan = self.plan.get();
        if !self.device_ready.get() {
            return Status::Starting;
        }
        let loaded = self.engine.with(|e| e.as_ref().map(|e| e.source.clone()));
        self.failed.with(|f| plan::status(&plan, loaded.as_ref(), f.as_ref()))
    }

    /// Try the failed load again.
    pub fn retry(&self) {
        self.failed.set(None);
        self.reload.update(|r| *r += 1);
    }

    /// The current dataset's samples, once loaded (tracks the dataset and the kept samples
    /// only).
    pub fn samples(&self) -> Option<ImageSet> {
        let d = self.dataset.get();
        self.samples.with(|m| m.get(&d).cloned())
    }

    /// The input: the user's image, else the chosen bundled sample.
    pub fn input(&self) -> Memo<Option<InputImage>> {
        self.input
    }

    /// The input with the source of the model it fits; `None` while they disagree.
    pub fn fitted(&self) -> Memo<Option<(InputImage, Source)>> {
        self.fitted
    }

    /// Is the input a bundled sample (so the gallery marks `state.sample`)?
    pub fn showing_sample(&self) -> bool {
        self.upload.with(|u| u.is_none())
    }

    pub fn use_image(&self, image: InputImage) {
        self.clear(Where::Image);
        self.upload.set(Some(image));
    }

    /// The input and the model when both are there and the input fits the model (they differ
    /// for a moment while the dataset changes).
    pub fn ready(&self) -> Option<(InputImage, Engine)> {
        let (input, _) = self.fitted.get()?;
        Some((input, self.engine.get()?))
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
            .unwrap_or_else(|| self.state.with(|s| s.dataset.architecture().class_names().iter().map(|c| c.to_string()).collect()))
    }

    /// Use weights the user brought (a dropped or picked file): checked against the current
    /// dataset's architecture, or any architecture they match exactly. On failure the previous
    /// model stays.
    pub fn use_weights_file(&self, bytes: Vec<u8>, name: String) {
        let dataset = self.state.with_untracked(|s| s.dataset);
        let gpu = self.gpu.get_untracked();
        let source = Source::File(name.clone());
        match runtime::custom_engine(&bytes, source, &name, dataset.architecture(), gpu.as_ref()) {
            Ok(engine) => {
                let d = Dataset::of(engine.entry.architecture);
                if d != dataset {
                    self.notes.update(|n| n.push(format!("{name} holds {} weights: switched to {}", engine.entry.architecture.name(), d.label())));
                }
                self.engine.set(Some(engine));
                self.clear(Where::Weights);
                let _ = self.dispatch(Action::OwnWeights { dataset: d, file: Some(name) });
            }
            Err(e) => self.problem(Where::Weights, format!("Could not use {name}: {e}.{}", self.still_using())),
        }
    }

    fn still_using(&self) -> String {
        self.engine.with_untracked(|e| e.as_ref().map(|e| format!(" Still using {}.", e.entry.id))).unwrap_or_default()
    }

    /// Build the store, provide it as context and start its loads.
    pub fn start() -> Self {
        let (state, notes) = AppState::from_query(&current_query());
        let state = RwSignal::new(state);
        let manifest = RwSignal::new(None::<Manifest>);
        let plan = Memo::new(move |_| manifest.with(|m| state.with(|s| plan::plan(s, m.as_ref()))));
        let engine = RwSignal::new_local(None::<Engine>);
        let samples = RwSignal::new(HashMap::<Dataset, ImageSet>::new());
        let upload = RwSignal::new(None::<InputImage>);
        let chosen = Memo::new(move |_| state.with(|s| (s.dataset, s.sample)));
        let dataset = Memo::new(move |_| state.with(|s| s.dataset));
        let input = Memo::new(move |_| {
            if let Some(u) = upload.get() {
                return Some(u);
            }
            let (d, i) = chosen.get();
            samples.with(|m| {
                m.get(&d).filter(|set| i < set.len()).map(|set| InputImage { pixels: set.image(i), label: Some(set.label(i)), source: sample_source(d, i) })
            })
        });
        let fitted = Memo::new(move |_| {
            let input = input.get()?;
            let (model, n) = engine.with(|e| e.as_ref().map(|e: &Engine| (e.source.clone(), e.entry.architecture.input_shape().iter().product::<usize>())))?;
            (input.pixels.len() == n).then_some((input, model))
        });
        let store = Store {
            state,
            manifest,
            gpu: RwSignal::new_local(None),
            device_ready: RwSignal::new(false),
            engine,
            failed: RwSignal::new(None),
            plan,
            problems: RwSignal::new(Vec::new()),
            notes: RwSignal::new(notes),
            samples,
            dataset,
            upload,
            input,
            fitted,
            reload: RwSignal::new(0),
            kept: StoredValue::new_local(Vec::new()),
        };
        provide_context(store);
        store.sync_url();
        store.find_device();
        store.load_manifest();
        store.load_samples();
        store.run_plan();
        store
    }

    /// The URL always reflects the state.
    fn sync_url(self) {
        Effect::new(move |_| write_query(&self.state.with(|s| s.to_query())));
    }

    fn find_device(self) {
        spawn_local(async move {
            let pref = self.state.with_untracked(|s| s.device);
            if pref != DevicePref::Cpu {
                if let Some(d) = runtime::webgpu_device(pref == DevicePref::Gpu).await {
                    self.gpu.set(Some(d));
                }
            }
            // Decided only after a turn of the event loop, even where there is nothing to ask
            // (the CPU build, or no navigator.gpu): flipped within the start-up task, the plan's
            // resource never saw it and a ?weights= load was never started (e2e: bring-your-own
            // weights). The WebGPU query always took that turn.
            runtime::yield_now().await;
            self.device_ready.set(true);
        });
    }

    fn load_manifest(self) {
        spawn_local(async move {
            match runtime::load_manifest().await {
                Ok(m) => {
                    let _ = self.dispatch(Action::Manifest(m.clone()));
                    self.manifest.set(Some(m));
                }
                Err(e) => self.problem(Where::Site, e),
            }
        });
    }

    /// Fetch the current dataset's samples once; later visits use the kept copy.
    fn load_samples(self) {
        let dataset = self.dataset;
        Effect::new(move |_| {
            let d = dataset.get();
            if self.samples.with_untracked(|m| m.contains_key(&d)) {
                self.clear(Where::Samples);
                return;
            }
            spawn_local(async move {
                match fetch_samples(d).await {
                    Ok(Some(set)) => {
                        let i = self.state.with_untracked(|s| s.sample);
                        if i >= set.len() && dataset.get_untracked() == d {
                            self.notes.update(|n| n.push(format!("there is no sample {i}; showing sample 0")));
                            let _ = self.dispatch(Action::Sample(0));
                        }
                        self.samples.update(|m| {
                            m.insert(d, set);
                        });
                        if dataset.get_untracked() == d {
                            self.clear(Where::Samples);
                        }
                    }
                    Ok(None) => self.clear(Where::Samples),
                    Err(e) if dataset.get_untracked() == d => self.problem(Where::Samples, format!("the bundled {} samples could not be loaded: {e}", d.label())),
                    Err(_) => {}
                }
            });
        });
    }

    /// Run the plan: a local resource keyed by the planned source, so a source is fetched once
    /// (a failure waits for "retry", it is not re-requested), and the result becomes the engine.
    fn run_plan(self) {
        let wanted = Memo::new(move |_| match (self.device_ready.get(), self.plan.get()) {
            (true, Plan::Use(src @ (Source::Bundled(_) | Source::Site(_)))) => Some(src),
            _ => None,
        });
        let load = LocalResource::new(move || {
            let src = wanted.get();
            self.reload.track();
            let gpu = self.gpu.get_untracked();
            let preferred = self.state.with_untracked(|s| s.dataset);
            let loaded = self.engine.with_untracked(|e| e.as_ref().map(|e| e.source.clone()));
            let kept = src.as_ref().and_then(|s| self.kept.with_value(|k| k.iter().find(|e| &e.source == s).cloned()));
            async move {
                match src {
                    Some(src) if loaded.as_ref() != Some(&src) => {
                        if let Some(engine) = kept {
                            return Some((src, Ok(engine)));
                        }
                        let result = runtime::load(src.clone(), preferred, gpu).await;
                        Some((src, result))
                    }
                    _ => None,
                }
            }
        });
        Effect::new(move |_| {
            let Some(Some((src, result))) = load.get() else { return };
            if wanted.get_untracked().as_ref() != Some(&src) {
                return; // no longer wanted
            }
            match result {
                Ok(engine) => {
                    let d = Dataset::of(engine.entry.architecture);
                    if matches!(src, Source::Site(_)) && d != self.state.with_untracked(|s| s.dataset) {
                        self.notes.update(|n| n.push(format!("{} holds {} weights: switched to {}", src.id(), engine.entry.architecture.name(), d.label())));
                        let _ = self.dispatch(Action::OwnWeights { dataset: d, file: None });
                    }
                    if matches!(src, Source::Site(_)) {
                        self.clear(Where::Address);
                    }
                    self.kept.update_value(|k| {
                        k.retain(|e| e.source != engine.source);
                        k.insert(0, engine.clone());
                        k.truncate(KEPT_MODELS);
                    });
                    self.engine.set(Some(engine));
                    self.failed.set(None);
                    self.clear(Where::Weights);
                }
                Err(e) => {
                    let (at, text) = match &src {
                        Source::Site(path) => (Where::Address, format!("Could not use weights={path}: {e}.{}", self.still_using())),
                        _ => (Where::Weights, format!("Could not load model {}: {e}.{}", src.id(), self.still_using())),
                    };
                    self.problem(at, text.clone());
                    if matches!(src, Source::Site(_)) {
                        // The bundled model takes over.
                        let _ = self.dispatch(Action::DropSiteWeights);
                    } else {
                        self.failed.set(Some((src, text)));
                    }
                }
            }
        });
        // Back to the model in use (e.g. from a view whose load failed): that failure's message
        // is about a model no longer asked for.
        Effect::new(move |_| {
            let Some(src) = wanted.get() else { return };
            if self.engine.with_untracked(|e| e.as_ref().map(|e| e.source == src)).unwrap_or(false) {
                self.clear(Where::Weights);
            }
        });
                // No bundled weights for the dataset: nothing is in use.
        Effect::new(move |_| {
            if matches!(self.plan.get(), Plan::NoWeights(_)) && self.engine.with_untracked(|e| e.is_some()) {
                self.engine.set(None);
            }
        });
    }
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
