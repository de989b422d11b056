//! The compute worker: the models, MC dropout and the attacks run off the page's thread.
//!
//! The page starts one dedicated worker (`public/worker.mjs`) and hands it the app's own compiled
//! WebAssembly module (`wasm_bindgen::module()`), so the worker costs no second download and no
//! second compile: it instantiates the same module with a memory of its own and calls
//! `quiverWorkerStart` ([`host::start`]) instead of mounting the page. [`client`] is the page's side (it sends the weights
//! once, then requests, and answers each with a future); [`host`] is the worker's side;
//! [`protocol`] is what travels between them.
//!
//! Where no worker can start (a browser or sandbox without module workers, a build whose page
//! runs on WebGPU), every request answers `None` and the caller computes on the page as before.
//!
//! Why not `gloo-worker`: it builds the worker as a second binary that the page downloads and
//! compiles again (about 1.8 MB gzip and a second LTO link here), while the worker needs exactly
//! the code the page already has.

pub mod client;
pub mod host;
pub mod protocol;
