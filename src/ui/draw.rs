//! Draw a digit: a canvas for mouse, touch and pen (pointer events), dark ink on white paper
//! like a pencil, with "clear". When a stroke ends, the drawing goes through core's MNIST recipe
//! (the same as for a dropped image: crop, scale to 20×20, centre by mass in 28×28), so a digit
//! drawn anywhere and at any size reaches the model as MNIST digits do.

use image::{DynamicImage, RgbaImage};
use leptos::html::Canvas;
use leptos::prelude::*;
use quiver_core::model::Architecture;
use quiver_core::preprocess::image_for_architecture;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, PointerEvent};

use crate::store::{use_store, InputImage};

/// The pad's size in canvas pixels (drawn at a smaller CSS size), and the pen's width: about
/// MNIST's stroke once the digit is scaled to 20 px.
const SIDE: u32 = 280;
const PEN: f64 = 20.0;

fn context(canvas: &web_sys::HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into().ok())
}

/// The pointer's position in canvas pixels.
fn at(canvas: &web_sys::HtmlCanvasElement, ev: &PointerEvent) -> (f64, f64) {
    let (sx, sy) = (SIDE as f64 / canvas.client_width().max(1) as f64, SIDE as f64 / canvas.client_height().max(1) as f64);
    (ev.offset_x() as f64 * sx, ev.offset_y() as f64 * sy)
}

#[component]
pub fn DrawPad() -> impl IntoView {
    let store = use_store();
    let canvas = NodeRef::<Canvas>::new();
    let last = StoredValue::new(None::<(f64, f64)>);
    let inked = RwSignal::new(false);
    let paper = move || {
        if let Some(g) = canvas.get_untracked().and_then(|c| context(&c)) {
            g.set_fill_style_str("#ffffff");
            g.fill_rect(0.0, 0.0, SIDE as f64, SIDE as f64);
        }
        inked.set(false);
    };
    canvas.on_load(move |_| paper());
    let stroke = move |to: (f64, f64)| {
        let Some(g) = canvas.get_untracked().and_then(|c| context(&c)) else { return };
        let from = last.get_value().unwrap_or(to);
        g.set_stroke_style_str("#111111");
        g.set_line_width(PEN);
        g.set_line_cap("round");
        g.set_line_join("round");
        g.begin_path();
        g.move_to(from.0, from.1);
        // A dot (pointer down without moving) is a very short line, which a round cap draws.
        g.line_to(to.0 + 0.01, to.1);
        g.stroke();
        last.set_value(Some(to));
        inked.set(true);
    };
    let down = move |ev: PointerEvent| {
        let Some(c) = canvas.get_untracked() else { return };
        ev.prevent_default();
        // Keep getting this pointer's moves when it leaves the pad mid-stroke.
        let _ = c.set_pointer_capture(ev.pointer_id());
        last.set_value(None);
        stroke(at(&c, &ev));
    };
    let move_ = move |ev: PointerEvent| {
        if last.get_value().is_none() {
            return;
        }
        if let Some(c) = canvas.get_untracked() {
            ev.prevent_default();
            stroke(at(&c, &ev));
        }
    };
    // The stroke ended: the drawing becomes the input.
    let up = move |_: PointerEvent| {
        if last.get_value().take().is_none() {
            return;
        }
        last.set_value(None);
        let Some(g) = canvas.get_untracked().and_then(|c| context(&c)) else { return };
        let Ok(data) = g.get_image_data(0.0, 0.0, SIDE as f64, SIDE as f64) else { return };
        let Some(img) = RgbaImage::from_raw(SIDE, SIDE, data.data().0) else { return };
        let prepared = image_for_architecture(&DynamicImage::ImageRgba8(img), Architecture::MnistCnn);
        store.use_image(InputImage { pixels: prepared.pixels, label: None, source: "your drawing".into() });
    };
    view! {
        <div class="draw" id="draw">
            <canvas node_ref=canvas id="draw-pad" width=SIDE height=SIDE aria-label="Draw a digit here with a mouse, a finger or a pen"
                on:pointerdown=down on:pointermove=move_ on:pointerup=up on:pointercancel=up></canvas>
            <div class="draw-side">
                <p>"…or draw a digit (mouse, finger or pen). It is cropped, scaled and centred like MNIST when you lift the pen."</p>
                <button id="draw-clear" on:click=move |_| paper() disabled=move || !inked.get()>"clear"</button>
            </div>
        </div>
    }
}
