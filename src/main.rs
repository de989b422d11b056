//! Quiver's web app: a Leptos client-side single-page app built with Trunk.

mod app;
mod components;
mod runtime;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
