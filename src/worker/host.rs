//! The worker's side: keeps the models the page sent, answers MC and prediction requests at once
//! (each is a few milliseconds) and runs attacks in slices of [`SLICE_MS`], between which it reads
//! its messages (a cancel, an MC request of the page) and reports progress.

use std::cell::RefCell;
use std::collections::HashMap;

use burn::tensor::Device;
use quiver_core::attacks::{argmax_of, image_tensor, probabilities, run_attack, Clock, Flow, Goal, Slice, Slicer};
use quiver_core::mc_dropout::mc_probabilities;
use quiver_core::study::{record_for_image, ImageRecord};
use quiver_core::{weights, Model};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::protocol::{AttackDone, AttackRecordsRequest, AttackRequest, ModelId, Reply, Request};
use crate::runtime::{now_ms, yield_now};

/// Longest stretch of attack steps between two looks at the worker's messages (ms): a cancel
/// waits at most this long. Shorter than the page's slices: nothing is painted here, a yield
/// only costs the timer's few milliseconds.
pub const SLICE_MS: f64 = 20.0;

thread_local! {
    /// Models by their weights' SHA-256, and the loads that failed (with why).
    static MODELS: RefCell<HashMap<ModelId, Result<Model, String>>> = RefCell::new(HashMap::new());
    /// Cancel requests not yet seen by their run: id → when the worker read the request.
    static CANCELS: RefCell<HashMap<u64, f64>> = RefCell::new(HashMap::new());
}

struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> f64 {
        now_ms()
    }
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(reply: &Reply) {
    match serde_wasm_bindgen::to_value(reply) {
        Ok(v) => {
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"msg".into(), &v);
            let _ = scope().post_message(&msg);
        }
        Err(e) => web_sys::console::error_1(&format!("quiver worker: could not send a reply: {e}").into()),
    }
}

/// Called by `public/worker.mjs` once the module is instantiated in the worker: take requests.
#[wasm_bindgen(js_name = quiverWorkerStart)]
pub fn start() {
    let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|ev: web_sys::MessageEvent| {
        let data = ev.data();
        let msg = js_sys::Reflect::get(&data, &"msg".into()).unwrap_or(JsValue::UNDEFINED);
        match serde_wasm_bindgen::from_value::<Request>(msg) {
            Ok(req) => {
                let bytes = js_sys::Reflect::get(&data, &"bytes".into()).ok().and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok());
                handle(req, bytes);
            }
            Err(e) => web_sys::console::error_1(&format!("quiver worker: a request it cannot read: {e}").into()),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&Reply::Ready);
}

fn model(id: &ModelId) -> Result<Model, String> {
    MODELS.with(|m| match m.borrow().get(id) {
        Some(Ok(model)) => Ok(model.clone()),
        Some(Err(e)) => Err(e.clone()),
        None => Err("the worker holds no such model".to_string()),
    })
}

/// Count a request served, in `self.quiverServed` (the e2e tests read it through the worker).
fn served(what: &str) {
    let global = js_sys::global();
    let key: JsValue = "quiverServed".into();
    let mut counts = js_sys::Reflect::get(&global, &key).unwrap_or(JsValue::UNDEFINED);
    if !counts.is_object() {
        counts = js_sys::Object::new().into();
        let _ = js_sys::Reflect::set(&global, &key, &counts);
    }
    let n = js_sys::Reflect::get(&counts, &what.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let _ = js_sys::Reflect::set(&counts, &what.into(), &(n + 1.0).into());
}

fn handle(req: Request, bytes: Option<js_sys::Uint8Array>) {
    match req {
        Request::Load { model, architecture } => {
            let built = match bytes {
                Some(b) => weights::load(&b.to_vec(), architecture, &Device::flex()).map_err(|e| e.to_string()),
                None => Err("no weights came with the model".to_string()),
            };
            MODELS.with(|m| m.borrow_mut().insert(model, built));
        }
        Request::Forget { model } => {
            MODELS.with(|m| m.borrow_mut().remove(&model));
        }
        Request::Mc { id, model: m, pixels, cfg } => {
            let t0 = now_ms();
            let result = model(&m).and_then(|model| {
                let probs = mc_probabilities(&model, image_tensor(&model, &pixels), &cfg).map_err(|e| e.to_string())?;
                probs.into_data().try_to_vec::<f32>().map_err(|e| format!("reading results: {e:?}"))
            });
            let compute_ms = now_ms() - t0;
            served("mc");
            post(&Reply::Values { id, result, compute_ms });
        }
        Request::Predict { id, model: m, pixels } => {
            let t0 = now_ms();
            let result = model(&m).map(|model| probabilities(&model, &pixels));
            let compute_ms = now_ms() - t0;
            served("predict");
            post(&Reply::Values { id, result, compute_ms });
        }
        Request::Records { id, model: m, cfg, first, labels, pixels } => {
            let t0 = now_ms();
            let result = model(&m).and_then(|model| {
                let n = pixels.len() / labels.len().max(1);
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, &label)| record_for_image(&model, &pixels[i * n..(i + 1) * n], label, first + i, &cfg).map_err(|e| format!("image {}: {e}", first + i)))
                    .collect::<Result<Vec<_>, _>>()
            });
            let compute_ms = now_ms() - t0;
            served("records");
            post(&Reply::Records { id, result, compute_ms });
        }
        Request::AttackRecords(a) => {
            let t0 = now_ms();
            let result = attack_records(&a);
            let compute_ms = now_ms() - t0;
            served("attack_records");
            post(&Reply::AttackRecords { id: a.id, result, compute_ms });
        }
        Request::Attack(a) => wasm_bindgen_futures::spawn_local(attack(a)),
        Request::Cancel { id } => {
            CANCELS.with(|c| c.borrow_mut().insert(id, now_ms()));
        }
    }
}

/// Each image attacked to its end, then its adversarial image recorded (see
/// [`Request::AttackRecords`](super::protocol::Request::AttackRecords)).
fn attack_records(a: &AttackRecordsRequest) -> Result<Vec<Option<(ImageRecord, bool)>>, String> {
    let (kind, set) = super::protocol::attack_of(&a.kind, &a.params)?;
    let model = model(&a.model)?;
    let n = a.pixels.len() / a.images.len().max(1);
    Ok(a.images
        .iter()
        .enumerate()
        .map(|(i, &(index, label))| {
            let image = &a.pixels[i * n..(i + 1) * n];
            let goal = Goal::for_image(&model, image, Some(label), a.target).ok()?;
            let outcome = run_attack(set.get(kind), &model, image, goal, |_| Flow::Continue).ok()?;
            let record = record_for_image(&model, &outcome.adversarial, label, index, &a.cfg).ok()?;
            Some((record, outcome.success))
        })
        .collect())
}

async fn attack(a: AttackRequest) {
    let id = a.id;
    let result = run_one(a).await;
    served("attack");
    CANCELS.with(|c| c.borrow_mut().remove(&id));
    post(&Reply::Attack { id, result });
}

async fn run_one(a: AttackRequest) -> Result<AttackDone, String> {
    let (kind, set) = super::protocol::attack_of(&a.kind, &a.params)?;
    let model = model(&a.model)?;
    let predicted_before = argmax_of(&probabilities(&model, &a.pixels));
    let run = Goal::for_image(&model, &a.pixels, a.label, a.target)
        .and_then(|goal| set.get(kind).start(&model, &a.pixels, goal))
        .map_err(|e| format!("{} cannot run: {e}", kind.key().to_uppercase()))?;
    let mut slicer = Slicer::new(run, move |p| set.get(kind).progress(p), SLICE_MS, a.flush_ms);
    loop {
        if let Some(t) = CANCELS.with(|c| c.borrow_mut().remove(&a.id)) {
            slicer.cancel(t);
        }
        match slicer.next(&WorkerClock) {
            Slice::Yield { progress, iteration, points } => {
                post(&Reply::Progress { id: a.id, progress, iteration, points });
                yield_now().await;
            }
            Slice::Done { outcome, points, cancelled, compute_ms, .. } => {
                return Ok(AttackDone { outcome, points, predicted_before, compute_ms, cancelled });
            }
        }
    }
}
