//! Save pixels as a PNG file through the browser's download.

use quiver_core::preprocess::to_png;

/// Offer CHW `pixels` in [0, 1] of `shape` as an 8-bit PNG named `name`.
pub fn download_png(pixels: &[f32], shape: [usize; 3], name: &str) -> Result<(), String> {
    let [c, h, w] = shape;
    let bytes = to_png(pixels, c, w as u32, h as u32);
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/png");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(|_| "could not create the PNG")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "could not create the PNG")?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = wasm_bindgen::JsCast::unchecked_into(doc.create_element("a").map_err(|_| "no anchor")?);
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}
