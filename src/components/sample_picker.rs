//! Choosing the input: a bundled test digit, or a dropped / picked image file.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::preprocess::mnist_from_bytes;

use crate::app::{use_ctx, Ctx, InputImage};
use crate::components::image_view::{draw, PixelCanvas, Shade};

async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("could not read {}", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Preprocess a user's file MNIST-style; on failure the previous input stays.
pub fn use_file(ctx: Ctx, file: web_sys::File) {
    spawn_local(async move {
        let name = file.name();
        let result = file_bytes(&file).await.and_then(|b| mnist_from_bytes(&b).map_err(|e| e.to_string()));
        match result {
            Ok(pixels) => {
                ctx.error.set(None);
                ctx.input.set(Some(InputImage { pixels, label: None, source: format!("your image {name}") }));
            }
            Err(e) => ctx.error.set(Some(format!("{name}: {e}. The previous image is still in use."))),
        }
    });
}

#[component]
fn Thumb(index: usize, pixels: Vec<f32>, label: usize) -> impl IntoView {
    let ctx = use_ctx();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    canvas.on_load(move |c| draw(&c, &pixels, 1, 28, 28, Shade::Image));
    let pick = move |_| {
        if let Some(set) = ctx.samples.get_untracked() {
            ctx.state.update(|s| s.sample = index);
            ctx.input.set(Some(InputImage { pixels: set.image(index), label: Some(label), source: format!("MNIST test image #{index}") }));
        }
    };
    let selected = move || ctx.input.with(|i| i.as_ref().map(|i| i.source == format!("MNIST test image #{index}")).unwrap_or(false));
    view! {
        <button class="sample" class:selected=selected data-index=index data-label=label title=format!("test image #{index}, label {label}") on:click=pick>
            <canvas node_ref=canvas class="thumb" width="28" height="28"></canvas>
        </button>
    }
}

#[component]
pub fn SamplePicker() -> impl IntoView {
    let ctx = use_ctx();
    let dragging = RwSignal::new(false);
    let thumbs = move || {
        ctx.samples.get().map(|set| {
            (0..set.len())
                .map(|i| view! { <Thumb index=i pixels=set.image(i) label=set.label(i)/> })
                .collect::<Vec<_>>()
        })
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            use_file(ctx, file);
        }
        input.set_value("");
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            use_file(ctx, file);
        }
    };
    let pixels = Signal::derive(move || ctx.input.with(|i| i.as_ref().map(|i| i.pixels.clone())));
    let caption = move || {
        ctx.input.with(|i| match i {
            Some(i) => match i.label {
                Some(l) => format!("{} (label {l})", i.source),
                None => i.source.clone(),
            },
            None => "loading samples…".into(),
        })
    };
    view! {
        <section class="panel" id="sample-panel">
            <h2>"1. Pick an image"</h2>
            <div class="gallery" id="gallery">{thumbs}</div>
            <div
                id="drop-zone"
                class="drop-zone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop a PNG or JPEG of a digit here, or "
                    <label class="file-label">"choose a file"
                        <input id="file-input" type="file" accept="image/png,image/jpeg" on:change=on_pick/>
                    </label>
                </p>
                <p class="hint">"Any size: it is turned grey, inverted if the background is light, cropped to the digit, scaled to 20×20 and centred by mass in 28×28, like MNIST."</p>
            </div>
            <div class="input-preview">
                <PixelCanvas pixels=pixels id="input-preview" title="The model's exact 28×28 input"/>
                <p id="input-caption">{caption}</p>
            </div>
        </section>
    }
}

