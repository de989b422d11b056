//! Reading what the user brings, without reading more than needed or holding up the page.
//!
//! An image file is refused by its size before anything is read and by its declared width and
//! height before anything is decoded (core's [`limits`](quiver_core::limits)); the browser then
//! decodes it with `createImageBitmap`, off the main thread, upright by its EXIF orientation,
//! in any format an `<img>` shows (PNG, JPEG, GIF's first frame, WebP, BMP, AVIF…), and scales
//! it down so that its longer side is at most [`WORKING_SIDE`] before its pixels are copied
//! into the wasm (a 4000×3000 photo becomes 512×384, 0.8 MB instead of 48 MB). Core's recipe
//! ([`image_for_architecture`]) turns those pixels into the model's input, the same recipe the
//! CLI applies to the file. When the browser cannot decode the file, core decodes it to say why
//! in the user's words.
//!
//! A weights file is refused by its size before it is read.

use image::{DynamicImage, RgbaImage};
use quiver_core::model::Architecture;
use quiver_core::preprocess::{check_dimensions, check_size, declared_dimensions, for_architecture, image_for_architecture, ImageError, Prepared};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The longest side an image is scaled to before its pixels reach the wasm: far more than the
/// models' inputs (28, 32, 96) and the digit crop need.
pub const WORKING_SIDE: u32 = 512;
/// How much of a file is read to find its declared size (a JPEG's frame header comes after its
/// EXIF block, which holds a thumbnail).
const HEAD_BYTES: f64 = 256.0 * 1024.0;

/// Read a file, or a slice of one.
async fn read(blob: &web_sys::Blob) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(blob.array_buffer()).await.map_err(|_| "the browser could not read the file".to_string())?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Read a whole weights file, after checking its size.
pub async fn weights_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    quiver_core::weights::check_size(file.size() as u64).map_err(|e| e.to_string())?;
    read(file).await
}

/// The model input for `arch` from an image file (see the module's text). Errors are the
/// user's words, without the file name.
pub async fn image_input(file: &web_sys::File, arch: Architecture) -> Result<Prepared, String> {
    check_size(file.size() as u64).map_err(|e| e.to_string())?;
    let head = read(&file.slice_with_f64_and_f64(0.0, HEAD_BYTES).map_err(|_| "the browser could not read the file".to_string())?).await?;
    if let Some((w, h)) = declared_dimensions(&head).map_err(|e| e.to_string())? {
        check_dimensions(w, h).map_err(|e| e.to_string())?;
    }
    match browser_decode(file).await {
        Ok(img) => Ok(image_for_architecture(&img, arch)),
        // The browser could not decode it: core says why (the file is at most 32 MB here). A
        // format only the browser reads (GIF, WebP…) that it could not decode is damaged.
        Err(_) => {
            let bytes = read(file).await?;
            match for_architecture(&bytes, arch) {
                Ok(prepared) => Ok(prepared),
                Err(ImageError::Unsupported(kind)) => Err(ImageError::Damaged(kind).to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Decode with the browser, upright, scaled to at most [`WORKING_SIDE`], as RGBA pixels.
async fn browser_decode(blob: &web_sys::Blob) -> Result<DynamicImage, String> {
    let window = web_sys::window().ok_or("no window")?;
    let opts = web_sys::ImageBitmapOptions::new();
    opts.set_image_orientation(web_sys::ImageOrientation::FromImage);
    opts.set_color_space_conversion(web_sys::ColorSpaceConversion::None);
    opts.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
    let promise = window.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &opts).map_err(js_text)?;
    let full: web_sys::ImageBitmap = JsFuture::from(promise).await.map_err(js_text)?.unchecked_into();
    let (w, h) = (full.width(), full.height());
    if let Err(e) = check_dimensions(w as u64, h as u64) {
        full.close();
        return Err(e.to_string());
    }
    if w == 0 || h == 0 {
        full.close();
        return Err("the image has no pixels".into());
    }
    let scale = (WORKING_SIDE as f64 / w.max(h) as f64).min(1.0);
    let (sw, sh) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
    let small = if (sw, sh) == (w, h) {
        full
    } else {
        let opts = web_sys::ImageBitmapOptions::new();
        opts.set_resize_width(sw);
        opts.set_resize_height(sh);
        opts.set_resize_quality(web_sys::ResizeQuality::High);
        opts.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
        let promise = window.create_image_bitmap_with_image_bitmap_and_image_bitmap_options(&full, &opts).map_err(js_text);
        let small = match promise {
            Ok(p) => JsFuture::from(p).await.map_err(js_text),
            Err(e) => Err(e),
        };
        full.close();
        small?.unchecked_into()
    };
    let canvas = web_sys::OffscreenCanvas::new(sw, sh).map_err(js_text)?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d =
        canvas.get_context("2d").map_err(js_text)?.ok_or("no 2d context")?.unchecked_into();
    ctx.draw_image_with_image_bitmap(&small, 0.0, 0.0).map_err(js_text)?;
    small.close();
    let data = ctx.get_image_data(0.0, 0.0, sw as f64, sh as f64).map_err(js_text)?;
    RgbaImage::from_raw(sw, sh, data.data().0).map(DynamicImage::ImageRgba8).ok_or_else(|| "unexpected pixel buffer".to_string())
}

fn js_text(e: wasm_bindgen::JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "unknown error".into())
}
