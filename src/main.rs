//! Quiver's web app: a Leptos (CSR) single-page app built with Trunk.
//!
//! `state` (the URL-backed state and its actions) → `store` (the one writer; loads what `plan`
//! decides) → `ui` (one component per panel, reading the store). `runtime` is the browser side of
//! the models: device, fetching, checking weights; `worker` runs them off the page's thread.

mod files;
#[cfg(target_arch = "wasm32")]
mod heap;
mod plan;
mod runtime;
mod state;
mod store;
mod ui;
mod worker;

// The WebGPU stack registers plugins with `inventory`, whose static constructors wasm-ld runs
// through `__wasm_call_ctors`. When nothing calls that function explicitly, wasm-ld makes a
// "command" module and runs every constructor again at the start of *every* export call: each
// call from JavaScript into the wasm (an event handler, a closure, each JS value handed in) then
// cost ~0.27 ms. One explicit call, here, first, makes wasm-ld leave the exports alone.
#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

fn main() {
    // SAFETY: called once, before anything else runs in the module.
    #[cfg(target_arch = "wasm32")]
    unsafe {
        __wasm_call_ctors();
    }
    console_error_panic_hook::set_once();
    // In the compute worker (src/worker) the same module starts without a page: it waits for
    // public/worker.mjs to call `quiverWorkerStart`.
    if web_sys::window().is_none() {
        return;
    }
    // The worker starts now, beside the app's first fetches.
    worker::client::spawn();
    leptos::mount::mount_to_body(ui::shell::App);
}
