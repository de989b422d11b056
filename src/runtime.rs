//! Where the models run and how they get here: device choice (WebGPU when the browser offers an
//! adapter, else CPU), fetching the manifest and weights from the site's own `weights/` folder,
//! and the async read-backs WebGPU requires.

use burn::tensor::Device;
use quiver_core::attacks::image_tensor;
use quiver_core::manifest::{sha256_hex, Manifest, ModelEntry};
use quiver_core::mc_dropout::{mc_probabilities, McConfig, McSummary};
use quiver_core::model::Architecture;
use quiver_core::{weights, Classifier, Dataset, Model};

use crate::plan::{custom_id, Source};

/// The compute device in use, as shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compute {
    Cpu,
    WebGpu,
}

impl Compute {
    pub fn label(self) -> &'static str {
        match self {
            Compute::Cpu => "CPU (Flex, wasm SIMD)",
            Compute::WebGpu => "WebGPU",
        }
    }
}

/// A loaded model: always on the CPU (attacks need synchronous gradients and read-backs), and
/// also on WebGPU when that is in use (MC dropout runs there).
#[derive(Clone, Debug)]
pub struct Engine {
    pub entry: ModelEntry,
    /// Where the weights came from.
    pub source: Source,
    pub cpu: Model,
    pub gpu: Option<Model>,
    /// The weights file, for the compute worker (which builds its own copy of the model).
    pub weights: crate::worker::client::Weights,
}

impl Engine {
    /// Weights the user brought (not from the manifest).
    pub fn custom(&self) -> bool {
        !matches!(self.source, Source::Bundled(_))
    }

    pub fn compute(&self) -> Compute {
        if self.gpu.is_some() {
            Compute::WebGpu
        } else {
            Compute::Cpu
        }
    }

    fn mc_model(&self) -> &Model {
        self.gpu.as_ref().unwrap_or(&self.cpu)
    }

    /// MC dropout on one image (CHW pixels): in the compute worker when there is one (and no
    /// WebGPU device), else here, read back asynchronously (required on WebGPU).
    pub async fn mc(&self, pixels: &[f32], cfg: &McConfig) -> Result<McSummary, String> {
        if self.gpu.is_none() {
            if let Some((r, _)) = crate::worker::client::mc(&self.weights, pixels, cfg).await {
                let k = self.entry.architecture.num_classes();
                return r.map(|values| McSummary::from_probs(values, cfg.passes, k));
            }
        }
        let model = self.mc_model();
        let x = image_tensor(model, pixels);
        let probs = mc_probabilities(model, x, cfg).map_err(|e| e.to_string())?;
        let k = probs.dims()[1];
        let data = probs.into_data_async().await.map_err(|e| format!("reading results: {e:?}"))?;
        let values = data.try_to_vec::<f32>().map_err(|e| format!("reading results: {e:?}"))?;
        Ok(McSummary::from_probs(values, cfg.passes, k))
    }

    /// Deterministic softmax of one image.
    pub async fn predict(&self, pixels: &[f32]) -> Result<Vec<f32>, String> {
        let model = self.mc_model();
        if self.gpu.is_none() {
            if let Some((r, _)) = crate::worker::client::predict(&self.weights, pixels).await {
                return r;
            }
            // On the CPU, straight from the host values (the MNIST CNN's kernel where it applies).
            return Ok(quiver_core::attacks::probabilities(model, pixels));
        }
        let p = burn::tensor::activation::softmax(model.forward(image_tensor(model, pixels)), 1);
        let d = p.into_data_async().await.map_err(|e| format!("{e:?}"))?;
        d.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
    }
}

/// Load an ensemble's members (CPU models), in member order. The error names the member.
pub async fn load_members(entries: &[ModelEntry]) -> Result<Vec<Model>, LoadError> {
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        out.push(load_engine(e.clone(), None).await.map_err(|err| format!("member {}: {err}", e.id))?.cpu);
    }
    Ok(out)
}

/// An error on the way to a usable model, worded for the user.
pub type LoadError = String;

/// Fetch a file of the site's own (relative URL, so the site works from any sub-path).
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, LoadError> {
    let resp = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| format!("could not fetch {url}: {e}"))?;
    if !resp.ok() {
        return Err(format!("could not fetch {url}: HTTP {} {}", resp.status(), resp.status_text()));
    }
    resp.binary().await.map_err(|e| format!("could not read {url}: {e}"))
}

pub async fn load_manifest() -> Result<Manifest, LoadError> {
    let bytes = fetch_bytes("weights/manifest.json").await?;
    let text = String::from_utf8(bytes).map_err(|_| "weights/manifest.json is not text".to_string())?;
    let mut m = Manifest::from_json(&text).map_err(|e| format!("weights/manifest.json is malformed: {e}"))?;
    // Ensemble members (the study's alternative to MC dropout) are not models to pick one by one.
    let members = quiver_core::manifest::ensemble_tags(&text).map_err(|e| format!("weights/manifest.json is malformed: {e}"))?;
    m.models.retain(|e| !members.iter().any(|(id, _)| *id == e.id));
    Ok(m)
}

/// Check and build a model from bytes, on the CPU and, when given, on the GPU device.
/// `entry.sha256` is the SHA-256 of `bytes` (its callers computed or checked it), which names the
/// model in the compute worker: the file is not hashed again.
fn build_engine(entry: ModelEntry, source: Source, bytes: &[u8], gpu: Option<&Device>) -> Result<Engine, LoadError> {
    debug_assert_eq!(entry.sha256, sha256_hex(bytes), "the entry's checksum is the file's");
    let cpu = weights::load(bytes, entry.architecture, &Device::flex()).map_err(|e| e.to_string())?;
    let gpu = gpu.map(|d| cpu.clone().to_device(d));
    let weights = crate::worker::client::Weights { id: entry.sha256.clone(), architecture: entry.architecture, bytes: bytes.into() };
    Ok(Engine { entry, source, cpu, gpu, weights })
}

/// The architecture a weights file is for: `preferred` when the file matches it exactly, else
/// the one its metadata names or any it matches exactly. Otherwise the error lists every
/// mismatch against the architecture the file claims (or `preferred`).
pub fn detect_architecture(bytes: &[u8], preferred: Architecture) -> Result<Architecture, weights::WeightsError> {
    let first = match weights::validate(bytes, preferred) {
        Ok(()) => return Ok(preferred),
        Err(e @ (weights::WeightsError::NotSafetensors(_) | weights::WeightsError::IsImage(_) | weights::WeightsError::TooLarge(_))) => return Err(e),
        Err(e) => e,
    };
    let claimed = weights::architecture_of(bytes);
    let candidates = claimed.into_iter().chain(Architecture::ALL).filter(|a| *a != preferred);
    for arch in candidates {
        if weights::validate(bytes, arch).is_ok() {
            return Ok(arch);
        }
    }
    match claimed {
        Some(c) if c != preferred => Err(weights::validate(bytes, c).expect_err("checked above")),
        _ => Err(first),
    }
}

/// What to do about tensors with other names (e.g. a PyTorch tutorial's `fc1`, `fc2`) or a model
/// trained on normalised inputs.
pub fn naming_hint(arch: Architecture) -> String {
    let names: Vec<String> = arch.tensor_specs().into_iter().map(|(n, s)| format!("{n} {s:?}")).collect();
    format!(
        "Quiver reads the PyTorch state_dict names of its own architectures; for {} they are: {}. Rename your tensors to these \
         (in PyTorch: save {{new_name: state_dict[old_name]}} with safetensors). The models take raw pixels in [0, 1] and \
         normalise nothing: fold any mean/std normalisation your model was trained with into its first layer",
        arch.name(),
        names.join(", ")
    )
}

/// Check weights the user brought and build an engine for them (see [`detect_architecture`]).
pub fn custom_engine(bytes: &[u8], source: Source, name: &str, preferred: Architecture, gpu: Option<&Device>) -> Result<Engine, LoadError> {
    let arch = detect_architecture(bytes, preferred).map_err(|e| match &e {
        weights::WeightsError::Mismatch { .. } => format!("{e}. {}", naming_hint(weights::architecture_of(bytes).unwrap_or(preferred))),
        _ => e.to_string(),
    })?;
    let entry = ModelEntry {
        id: custom_id(name),
        file: name.to_string(),
        architecture: arch,
        dataset: Dataset::of(arch).label().to_string(),
        class_names: arch.class_names().iter().map(|c| c.to_string()).collect(),
        train_dropout: f32::NAN,
        test_accuracy: f32::NAN,
        test_images: 0,
        report_passes: 0,
        report_dropout: f32::NAN,
        per_class: Vec::new(),
        sha256: sha256_hex(bytes),
        bytes: bytes.len(),
        command: String::new(),
        epochs: 0,
        train_seconds: 0.0,
        backend: String::new(),
        subset: None,
    };
    build_engine(entry, source, bytes, gpu)
}

/// Fetch a manifest entry's weights, verify their checksum and build the engine.
pub async fn load_engine(entry: ModelEntry, gpu: Option<Device>) -> Result<Engine, LoadError> {
    let url = format!("weights/{}", entry.file);
    let bytes = fetch_bytes(&url).await?;
    // Structure first (it names the exact tensor that is wrong), then the checksum.
    weights::validate(&bytes, entry.architecture).map_err(|e| format!("{url}: {e}"))?;
    let sum = sha256_hex(&bytes);
    if sum != entry.sha256 {
        return Err(format!(
            "{url} is damaged or not the file the manifest lists (sha256 {}…, expected {}…)",
            &sum[..12],
            &entry.sha256[..12.min(entry.sha256.len())]
        ));
    }
    build_engine(entry.clone(), Source::Bundled(entry), &bytes, gpu.as_ref())
}

/// Fetch and build what a plan names; your weights are read as `preferred`'s architecture when
/// they fit it. (A dropped file is built from its bytes, not here.)
pub async fn load(source: Source, preferred: Dataset, gpu: Option<Device>) -> Result<Engine, LoadError> {
    match &source {
        Source::Bundled(entry) => load_engine(entry.clone(), gpu).await,
        Source::Site(path) => {
            let bytes = fetch_bytes(path).await?;
            custom_engine(&bytes, source.clone(), path, preferred.architecture(), gpu.as_ref())
        }
        Source::File(name) => Err(format!("{name} is read from the file itself")),
    }
}

/// A WebGPU device when the browser offers an adapter; `None` otherwise (CPU fallback). A
/// software fallback adapter is taken only when `software` is set.
#[cfg(feature = "webgpu")]
pub async fn webgpu_device(software: bool) -> Option<Device> {
    use wasm_bindgen::JsCast;
    let navigator = web_sys::window()?.navigator();
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).ok()?;
    if gpu.is_undefined() || gpu.is_null() {
        return None;
    }
    let request = js_sys::Reflect::get(&gpu, &"requestAdapter".into()).ok()?;
    let request: js_sys::Function = request.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    // `adapter.info.isFallbackAdapter` (older browsers: `adapter.isFallbackAdapter`).
    let flag = |o: &wasm_bindgen::JsValue| js_sys::Reflect::get(o, &"isFallbackAdapter".into()).ok().and_then(|v| v.as_bool());
    let fallback = js_sys::Reflect::get(&adapter, &"info".into()).ok().filter(|i| i.is_object()).and_then(|i| flag(&i)).or_else(|| flag(&adapter)).unwrap_or(false);
    if fallback && !software {
        return None;
    }
    // An adapter exists: bring up Burn's wgpu runtime on it (async, as browsers require).
    Device::wgpu_options().init_async().await.ok()
}

#[cfg(not(feature = "webgpu"))]
pub async fn webgpu_device(_software: bool) -> Option<Device> {
    None
}

/// Let the browser paint and handle input before the next piece of work.
pub async fn yield_now() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// Resolve after the next frame (an animation frame, whose rendering paints what was just set,
/// then a task after it, so more work starts only after that paint). Returns the time of the
/// frame: when what was set reached the screen.
pub async fn painted() -> f64 {
    let Some(w) = web_sys::window() else { return now_ms() };
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let _ = w.request_animation_frame(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    let at = now_ms();
    yield_now().await;
    at
}

/// `performance.now()` of the page or of the worker this runs in.
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    thread_local! {
        static PERFORMANCE: Option<web_sys::Performance> =
            js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok().and_then(|p| p.dyn_into().ok());
    }
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now()).unwrap_or(0.0))
}

/// The ensembles shipped for `dataset` (`weights/ensembles/manifest.json`: members tagged with
/// their group), as (group, members' entries in member order). None when the site has none.
pub async fn ensembles(dataset: quiver_core::Dataset) -> Vec<(String, Vec<quiver_core::manifest::ModelEntry>)> {
    let Ok(bytes) = fetch_bytes("weights/ensembles/manifest.json").await else { return Vec::new() };
    let Ok(text) = String::from_utf8(bytes) else { return Vec::new() };
    let (Ok(m), Ok(tags)) = (quiver_core::manifest::Manifest::from_json(&text), quiver_core::manifest::ensemble_tags(&text)) else { return Vec::new() };
    let mut groups: std::collections::BTreeMap<String, Vec<(usize, quiver_core::manifest::ModelEntry)>> = Default::default();
    for (id, tag) in tags {
        if let Some(e) = m.get(&id).filter(|e| quiver_core::Dataset::of(e.architecture) == dataset) {
            // The member files sit beside that manifest.
            let mut e = e.clone();
            e.file = format!("ensembles/{}", e.file);
            groups.entry(tag.group).or_default().push((tag.member, e));
        }
    }
    groups.into_iter().map(|(g, mut v)| {
        v.sort_by_key(|(k, _)| *k);
        (g, v.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
    }).filter(|(_, v)| v.len() >= 2).collect()
}
