//! Choosing the input: a bundled test image, or a dropped / picked image file (a dropped
//! `.safetensors` file is taken as weights instead).

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::Dataset;

use crate::state::{Action, Part};
use crate::store::{use_store, InputImage, Store, Where};
use crate::files::image_input;
use crate::ui::draw::DrawPad;
use crate::ui::header::use_weights_file;
use crate::ui::widgets::pixel_canvas::{draw, PixelCanvas, Shade};

/// Preprocess a user's image for the current model (MNIST-style for the digit CNN, centre-crop
/// and resize for colour models; see `files`); on failure the previous input stays.
pub fn use_file(store: Store, file: web_sys::File) {
    if file.name().to_ascii_lowercase().ends_with(".safetensors") {
        return use_weights_file(store, file);
    }
    let arch = store
        .engine()
        .with_untracked(|e| e.as_ref().map(|e| e.entry.architecture))
        .unwrap_or_else(|| store.with_untracked(|s| s.dataset.architecture()));
    spawn_local(async move {
        let name = file.name();
        match image_input(&file, arch).await {
            Ok(p) => store.use_image(InputImage {
                pixels: p.pixels,
                label: None,
                source: match p.note {
                    Some(note) => format!("your image {name}: {note}"),
                    None => format!("your image {name}"),
                },
            }),
            Err(e) => store.problem(Where::Image, format!("{name}: {e}. The previous image is still in use.")),
        }
    });
}

#[component]
fn Thumb(index: usize, pixels: Vec<f32>, label: usize, shape: [usize; 3], dataset: Dataset, chosen: Memo<Option<usize>>) -> impl IntoView {
    let store = use_store();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let [c, h, w] = shape;
    canvas.on_load(move |cv| draw(&cv, &pixels, c, w as u32, h as u32, Shade::Image));
    let pick = move |_| {
        let _ = store.dispatch(Action::Sample(index));
    };
    let selected = move || chosen.get() == Some(index);
    let class_name = dataset.architecture().class_names()[label.min(9)];
    view! {
        <button class="sample" class:selected=selected data-index=index data-label=label title=format!("test image #{index}, label {label} ({class_name})") on:click=pick>
            <canvas node_ref=canvas class="thumb" width=w height=h></canvas>
        </button>
    }
}

#[component]
pub fn SamplePicker() -> impl IntoView {
    let store = use_store();
    let dragging = RwSignal::new(false);
    // The marked thumbnail, derived once: each thumbnail reads this memo, not the whole state,
    // so a change elsewhere in the state (a seed, an ε) re-runs none of them.
    let chosen = Memo::new(move |_| store.showing_sample().then(|| store.with(|s| s.sample)));
    // Rebuilt when the dataset or its samples change, never on other changes of the state.
    let thumbs = move || {
        let dataset = store.with_untracked(|s| s.dataset);
        store.samples().map(|set| {
            (0..set.len())
                .map(|i| view! { <Thumb index=i pixels=set.image(i) label=set.label(i) shape=set.shape() dataset=dataset chosen=chosen/> })
                .collect::<Vec<_>>()
        })
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            use_file(store, file);
        }
        input.set_value("");
    };
    // A file dropped anywhere on the page is taken (the browser would otherwise open it instead
    // of the app), and so is a pasted image; the dashed zone only shows where to drop.
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
    };
    let _ = window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default());
    let upload = !store.hides(Part::Upload);
    let _ = window_event_listener(leptos::ev::drop, move |ev| {
        ev.prevent_default();
        if !upload {
            return;
        }
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            use_file(store, file);
        }
    });
    let _ = window_event_listener(leptos::ev::paste, move |ev| {
        if !upload {
            return;
        }
        if let Some(file) = ev.clipboard_data().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            ev.prevent_default();
            use_file(store, file);
        }
    });
    let input = store.input();
    let pixels = Signal::derive(move || input.with(|i| i.as_ref().map(|i| i.pixels.clone())));
    let caption = move || {
        input.with(|i| match i {
            Some(i) => match i.label {
                Some(l) => match store.class_names().get(l) {
                    // Digits are their own names; other classes are named ("label 3: cat").
                    Some(name) if *name != l.to_string() => format!("{} (label {l}: {name})", i.source),
                    _ => format!("{} (label {l})", i.source),
                },
                None => i.source.clone(),
            },
            None => match store.with(|s| s.dataset) {
                Dataset::Stl10 => "no bundled STL-10 images: drop or choose one".into(),
                _ => "loading samples…".into(),
            },
        })
    };
    view! {
        <section class="panel" id="sample-panel">
            <h2>"1. Pick an image"</h2>
            <div class="gallery" id="gallery" class:hidden=store.hides(Part::Samples)>{thumbs}</div>
            <div class="input-preview">
                {move || {
                    let [c, h, w] = store.input_shape();
                    view! { <PixelCanvas pixels=pixels id="input-preview" size=h as u32 channels=c title=format!("The model's exact {w}×{h} input")/> }
                }}
                <p id="input-caption">{caption}</p>
            </div>
            <div
                id="drop-zone"
                class="drop-zone"
                class:hidden=store.hides(Part::Upload)
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop an image anywhere on the page (PNG, JPEG, GIF, WebP, BMP… or a .safetensors weights file), paste one, or "
                    <label class="file-label">"choose a file"
                        <input id="file-input" type="file" accept="image/*,.safetensors" on:change=on_pick/>
                    </label>
                </p>
                <p class="hint">{move || {
                    let [_, h, w] = store.input_shape();
                    if h == 28 {
                        "Any size: it is turned grey, inverted if the background is light, cropped to the digit, scaled to 20×20 and centred by mass in 28×28, like MNIST.".to_string()
                    } else {
                        format!("Any size: it is centre-cropped to a square and resized to {w}×{h} (bilinear), the model's input.")
                    }
                }}</p>
            </div>
            {move || (store.input_shape() == [1, 28, 28] && !store.hides(Part::Draw)).then(|| view! { <DrawPad/> })}
        </section>
    }
}
