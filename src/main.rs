//! Quiver's web app: a Leptos (CSR) single-page app built with Trunk.
//!
//! `state` (the URL-backed state and its actions) → `store` (the one writer; loads what `plan`
//! decides) → `ui` (one component per panel, reading the store). `runtime` is the browser side of
//! the models: device, fetching, checking weights.

mod plan;
mod runtime;
mod state;
mod store;
mod ui;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::shell::App);
}
