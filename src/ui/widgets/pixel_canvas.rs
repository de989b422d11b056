//! Pixel images on a canvas (nearest-neighbour scaled by CSS).

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, ImageData};

/// How pixel values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shade {
    /// Values in [0, 1] as grey (one channel) or RGB (three).
    Image,
    /// Signed values around mid-grey, scaled so that the largest magnitude is full range.
    Diverging,
}

/// RGBA bytes for CHW `pixels`.
pub fn rgba(pixels: &[f32], channels: usize, shade: Shade) -> Vec<u8> {
    let n = pixels.len() / channels.max(1);
    let scale = match shade {
        Shade::Image => 1.0,
        Shade::Diverging => {
            let m = pixels.iter().fold(0f32, |m, v| m.max(v.abs()));
            if m > 0.0 { 0.5 / m } else { 0.0 }
        }
    };
    let byte = |v: f32| {
        let v = match shade {
            Shade::Image => v,
            Shade::Diverging => 0.5 + v * scale,
        };
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    };
    let mut out = Vec::with_capacity(n * 4);
    for i in 0..n {
        let (r, g, b) = if channels == 3 {
            (byte(pixels[i]), byte(pixels[n + i]), byte(pixels[2 * n + i]))
        } else {
            let v = byte(pixels[i]);
            (v, v, v)
        };
        out.extend([r, g, b, 255]);
    }
    out
}

pub fn draw(canvas: &web_sys::HtmlCanvasElement, pixels: &[f32], channels: usize, width: u32, height: u32, shade: Shade) {
    canvas.set_width(width);
    canvas.set_height(height);
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let data = rgba(pixels, channels, shade);
    if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&data), width, height) {
        let _ = ctx.put_image_data(&img, 0.0, 0.0);
    }
}

/// A canvas that shows `pixels` whenever they change.
#[component]
pub fn PixelCanvas(
    #[prop(into)] pixels: Signal<Option<Vec<f32>>>,
    #[prop(default = 28)] size: u32,
    #[prop(default = 1)] channels: usize,
    #[prop(default = Shade::Image)] shade: Shade,
    #[prop(into)] id: String,
    #[prop(into, default = String::new())] title: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let px = pixels.get();
        match (canvas.get(), px) {
            (Some(c), Some(px)) => draw(&c, &px, channels, size, size, shade),
            // Nothing (yet): an empty canvas (the page's placeholder shade), not a stale image.
            (Some(c), None) => c.set_width(c.width()),
            _ => {}
        }
    });
    view! {
        <figure class="pixel-figure">
            <canvas node_ref=canvas id=id class="pixels" width=size height=size></canvas>
            <figcaption>{title}</figcaption>
        </figure>
    }
}
