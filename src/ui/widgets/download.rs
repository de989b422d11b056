//! Save what was measured through the browser's download: pixels as an 8-bit PNG, tables as
//! text (CSV, JSON).

use quiver_core::preprocess::to_png;

/// Offer `bytes` as a file named `name` of MIME type `mime`.
pub fn download_bytes(bytes: &[u8], mime: &str, name: &str) -> Result<(), String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(|_| format!("could not create {name}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| format!("could not create {name}"))?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = wasm_bindgen::JsCast::unchecked_into(doc.create_element("a").map_err(|_| "no anchor")?);
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Offer CHW `pixels` in [0, 1] of `shape` as an 8-bit PNG named `name`.
pub fn download_png(pixels: &[f32], shape: [usize; 3], name: &str) -> Result<(), String> {
    let [c, h, w] = shape;
    download_bytes(&to_png(pixels, c, w as u32, h as u32), "image/png", name)
}
