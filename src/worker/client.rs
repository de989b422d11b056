//! The page's side of the compute worker: starts it, sends each model's weights once, and turns
//! requests into futures. Every call answers `None` when there is no worker (it could not start,
//! or it stopped): the caller then computes on the page.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::StreamExt;
use quiver_core::attacks::{AttackKind, AttackSet, Target};
use quiver_core::mc_dropout::McConfig;
use quiver_core::model::Architecture;
use quiver_core::study::ImageRecord;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::protocol::{AttackRequest, ModelId, Reply, Request};

/// How many models the worker holds at most (the store keeps 4 for going back, plus the one in
/// use and one being replaced).
const HELD_MODELS: usize = 6;

/// A weights file the worker can build a model from: named by its SHA-256.
#[derive(Clone)]
pub struct Weights {
    pub id: ModelId,
    pub architecture: Architecture,
    pub bytes: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Weights({}…, {} bytes)", &self.id[..12.min(self.id.len())], self.bytes.len())
    }
}

enum Phase {
    /// Waiting for the worker's `Ready`: messages wait here, in order.
    Starting(Vec<js_sys::Object>),
    Ready,
    /// No worker (it failed to start or stopped; the console says why).
    Gone,
}

struct Client {
    worker: web_sys::Worker,
    phase: RefCell<Phase>,
    next_id: Cell<u64>,
    pending: RefCell<HashMap<u64, UnboundedSender<Reply>>>,
    /// Models the worker holds, oldest first.
    held: RefCell<Vec<ModelId>>,
}

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
    /// Where the models run, for the page to show: "in a worker" once it answers, else "on the page".
    static PLACE: leptos::prelude::ArcRwSignal<&'static str> = leptos::prelude::ArcRwSignal::new("on the page");
}

fn client() -> Option<Rc<Client>> {
    CLIENT.with(|c| c.borrow().clone()).filter(|c| !matches!(*c.phase.borrow(), Phase::Gone))
}

/// Where the models run, as shown to the user (a signal: it changes when the worker answers or
/// stops).
pub fn place() -> leptos::prelude::ArcRwSignal<&'static str> {
    PLACE.with(|p| p.clone())
}

fn set_place(p: &'static str) {
    use leptos::prelude::Set;
    PLACE.with(|s| s.set(p));
}

/// The URL of the app's own wasm-bindgen module (`quiver-<hash>.js`), from Trunk's
/// `<link rel="modulepreload">` in index.html.
fn glue_url(doc: &web_sys::Document) -> Option<String> {
    let links = doc.query_selector_all("link[rel=modulepreload]").ok()?;
    (0..links.length())
        .filter_map(|i| links.item(i)?.dyn_into::<web_sys::HtmlLinkElement>().ok())
        .map(|l| l.href())
        .find(|h| h.rsplit('/').next().is_some_and(|f| f.starts_with("quiver-") && f.ends_with(".js")))
}

/// Start the worker (once, as the app starts). Not in the WebGPU build: there the page's MC
/// dropout runs on the GPU device, which belongs to the page.
pub fn spawn() {
    if cfg!(feature = "webgpu") || CLIENT.with(|c| c.borrow().is_some()) {
        return;
    }
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(glue) = glue_url(&doc) else {
        web_sys::console::warn_1(&"quiver: the app's module URL is not in the page; the models run on the page".into());
        return;
    };
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    opts.set_name("quiver-compute");
    let worker = match web_sys::Worker::new_with_options("worker.mjs", &opts) {
        Ok(w) => w,
        Err(e) => {
            web_sys::console::warn_2(&"quiver: no compute worker; the models run on the page:".into(), &e);
            return;
        }
    };
    let c = Rc::new(Client {
        worker,
        phase: RefCell::new(Phase::Starting(Vec::new())),
        next_id: Cell::new(1),
        pending: RefCell::new(HashMap::new()),
        held: RefCell::new(Vec::new()),
    });
    let on_message = {
        let c = c.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let msg = js_sys::Reflect::get(&ev.data(), &"msg".into()).unwrap_or(JsValue::UNDEFINED);
            match serde_wasm_bindgen::from_value::<Reply>(msg) {
                Ok(reply) => c.receive(reply),
                Err(e) => c.gone(format!("a reply it cannot read: {e}")),
            }
        })
    };
    let on_error = {
        let c = c.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let why = ev.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_else(|| ev.type_());
            c.gone(format!("it stopped: {why}"));
        })
    };
    c.worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    c.worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    c.worker.set_onmessageerror(Some(on_error.as_ref().unchecked_ref()));
    on_message.forget();
    on_error.forget();
    // The first message is the module itself: the worker instantiates it (no download, no compile).
    let boot = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&boot, &"glue".into(), &glue.into());
    let _ = js_sys::Reflect::set(&boot, &"module".into(), &wasm_bindgen::module());
    if let Err(e) = c.worker.post_message(&boot) {
        c.gone(format!("{e:?}"));
        return;
    }
    CLIENT.with(|slot| *slot.borrow_mut() = Some(c));
}

impl Client {
    fn receive(&self, reply: Reply) {
        match reply {
            Reply::Ready => {
                set_place("in a worker");
                let queued = match std::mem::replace(&mut *self.phase.borrow_mut(), Phase::Ready) {
                    Phase::Starting(q) => q,
                    _ => Vec::new(),
                };
                for m in queued {
                    if let Err(e) = self.worker.post_message(&m) {
                        self.gone(format!("{e:?}"));
                        return;
                    }
                }
            }
            Reply::Failed(why) => self.gone(why),
            reply => {
                let Some(id) = reply.id() else { return };
                let last = reply.is_last();
                let tx = if last { self.pending.borrow_mut().remove(&id) } else { self.pending.borrow().get(&id).cloned() };
                if let Some(tx) = tx {
                    let _ = tx.unbounded_send(reply);
                }
            }
        }
    }

    /// No worker from now on: what waits gets `None` (its receiver ends).
    fn gone(&self, why: String) {
        web_sys::console::warn_1(&format!("quiver: the compute worker is gone ({why}); the models run on the page").into());
        *self.phase.borrow_mut() = Phase::Gone;
        set_place("on the page");
        self.pending.borrow_mut().clear();
        self.worker.terminate();
    }

    fn send(&self, req: &Request, bytes: Option<&[u8]>) -> bool {
        let Ok(v) = serde_wasm_bindgen::to_value(req) else { return false };
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"msg".into(), &v);
        if let Some(b) = bytes {
            let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &js_sys::Uint8Array::from(b));
        }
        let mut phase = self.phase.borrow_mut();
        match &mut *phase {
            Phase::Starting(q) => {
                q.push(msg);
                true
            }
            Phase::Ready => {
                drop(phase);
                match self.worker.post_message(&msg) {
                    Ok(()) => true,
                    Err(e) => {
                        self.gone(format!("{e:?}"));
                        false
                    }
                }
            }
            Phase::Gone => false,
        }
    }

    /// Make sure the worker holds `w` (sent once; the oldest beyond [`HELD_MODELS`] is dropped).
    fn hold(&self, w: &Weights) -> bool {
        if self.held.borrow().contains(&w.id) {
            let mut held = self.held.borrow_mut();
            held.retain(|m| m != &w.id);
            held.push(w.id.clone());
            return true;
        }
        if !self.send(&Request::Load { model: w.id.clone(), architecture: w.architecture }, Some(&w.bytes)) {
            return false;
        }
        let old: Vec<ModelId> = {
            let mut held = self.held.borrow_mut();
            held.push(w.id.clone());
            let n = held.len().saturating_sub(HELD_MODELS);
            held.drain(..n).collect()
        };
        old.into_iter().all(|model| self.send(&Request::Forget { model }, None))
    }

    fn request(&self, make: impl FnOnce(u64) -> Request) -> Option<(u64, UnboundedReceiver<Reply>)> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (tx, rx) = unbounded();
        self.pending.borrow_mut().insert(id, tx);
        if !self.send(&make(id), None) {
            self.pending.borrow_mut().remove(&id);
            return None;
        }
        Some((id, rx))
    }
}

/// Send request `make(id)` about the model `w` (sending its weights first if the worker lacks
/// them): its id and the receiver of its replies, or `None` without a worker.
fn start(w: &Weights, make: impl FnOnce(u64) -> Request) -> Option<(u64, UnboundedReceiver<Reply>)> {
    let c = client()?;
    if !c.hold(w) {
        return None;
    }
    c.request(make)
}

/// [`start`] a request answered by one reply, and wait for it.
async fn ask(w: &Weights, make: impl FnOnce(u64) -> Request) -> Option<Reply> {
    let (_, mut rx) = start(w, make)?;
    rx.next().await
}

/// What the worker answered, and its own time on it (ms).
pub type Timed = (Result<Vec<f32>, String>, f64);

async fn values(w: &Weights, make: impl FnOnce(u64) -> Request) -> Option<Timed> {
    match ask(w, make).await? {
        Reply::Values { result, compute_ms, .. } => Some((result, compute_ms)),
        _ => None,
    }
}

/// MC dropout in the worker: the `T × K` softmax rows, or `None` without a worker.
pub async fn mc(w: &Weights, pixels: &[f32], cfg: &McConfig) -> Option<Timed> {
    values(w, |id| Request::Mc { id, model: w.id.clone(), pixels: pixels.to_vec(), cfg: *cfg }).await
}

/// The deterministic softmax in the worker, or `None` without a worker.
pub async fn predict(w: &Weights, pixels: &[f32]) -> Option<Timed> {
    values(w, |id| Request::Predict { id, model: w.id.clone(), pixels: pixels.to_vec() }).await
}

/// The study's records of images `first..first + labels.len()` in the worker (their pixels one
/// after the other), with the worker's time on them; `None` without a worker.
pub async fn records(w: &Weights, cfg: &McConfig, first: usize, labels: Vec<usize>, pixels: Vec<f32>) -> Option<(Result<Vec<ImageRecord>, String>, f64)> {
    match ask(w, |id| Request::Records { id, model: w.id.clone(), cfg: *cfg, first, labels, pixels }).await? {
        Reply::Records { result, compute_ms, .. } => Some((result, compute_ms)),
        _ => None,
    }
}

/// Attack images of the study in the worker (see [`Request::AttackRecords`]), with the worker's
/// time on them; `None` without a worker.
#[allow(clippy::too_many_arguments)]
pub async fn attack_records(w: &Weights, kind: AttackKind, set: &AttackSet, target: Target, cfg: &McConfig, images: Vec<(usize, usize)>, pixels: Vec<f32>) -> Option<(Result<Vec<Option<(ImageRecord, bool)>>, String>, f64)> {
    let params = super::protocol::params_of(kind, set);
    let reply = ask(w, |id| {
        Request::AttackRecords(super::protocol::AttackRecordsRequest { id, model: w.id.clone(), kind: kind.key().to_string(), params, target, cfg: *cfg, images, pixels })
    })
    .await?;
    match reply {
        Reply::AttackRecords { result, compute_ms, .. } => Some((result, compute_ms)),
        _ => None,
    }
}

/// An attack running in the worker: its replies arrive on `replies`.
pub struct AttackJob {
    pub id: u64,
    pub replies: UnboundedReceiver<Reply>,
}

/// Start an attack in the worker, or `None` without a worker. Trajectory points come at most
/// every `flush_ms`.
pub fn attack(w: &Weights, pixels: &[f32], label: Option<usize>, target: Target, kind: AttackKind, set: &AttackSet, flush_ms: f64) -> Option<AttackJob> {
    let params = super::protocol::params_of(kind, set);
    let (id, replies) = start(w, |id| {
        Request::Attack(AttackRequest { id, model: w.id.clone(), pixels: pixels.to_vec(), label, target, kind: kind.key().to_string(), params, flush_ms })
    })?;
    Some(AttackJob { id, replies })
}

/// Give up on the worker (it stopped answering): everything runs on the page from now on.
pub fn abandon(why: &str) {
    if let Some(c) = client() {
        c.gone(why.to_string());
    }
}

/// Stop attack `id` at its next slice.
pub fn cancel(id: u64) {
    if let Some(c) = client() {
        c.send(&Request::Cancel { id }, None);
    }
}
