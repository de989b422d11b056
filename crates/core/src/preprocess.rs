//! Turning a user's image file into a model input.
//!
//! MNIST-style (the recipe of the original dataset): grey-scale, invert when the background is
//! light, take the background away so that it is 0 as in MNIST (for photos of paper: the paper's
//! level is estimated at each pixel by a grey-level opening, which follows shadows and uneven
//! light, and Otsu's threshold separates the ink from the paper's texture), crop to the digit's
//! bounding box, scale the longer side to 20 px keeping the aspect ratio, and place it in 28×28
//! so that its centre of mass is at the centre.
//!
//! Colour models (CIFAR-10, STL-10): centre-crop to the model's aspect ratio (square), resize to
//! its input with a triangle (bilinear) filter, RGB in CHW order; transparency is composited on
//! white. [`for_architecture`] picks the recipe a model needs.

use image::{imageops::FilterType, DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits};
use std::io::Cursor;
use thiserror::Error;

use crate::limits::{image_kind, size_text, MAX_IMAGE_BYTES, MAX_SIDE};

/// Why an image cannot be used, in the user's words (no decoder internals).
#[derive(Debug, Error, PartialEq)]
pub enum ImageError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {}; the limit for an image is {}", size_text(*.0), size_text(MAX_IMAGE_BYTES))]
    TooLarge(u64),
    #[error("this file is not an image (it is not PNG, JPEG, GIF, WebP or BMP)")]
    UnknownFormat,
    #[error("this is a {0} image; here only PNG and JPEG can be read")]
    Unsupported(&'static str),
    #[error("the {0} image is damaged or incomplete and cannot be decoded")]
    Damaged(&'static str),
    #[error("the image is {0}×{1} pixels; the limit is {MAX_SIDE} pixels a side")]
    Dimensions(u64, u64),
}

/// A model input, and what the recipe could not do for this image (shown to the user).
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// CHW pixels in [0, 1].
    pub pixels: Vec<f32>,
    pub note: Option<String>,
}

/// What a blank image (one flat colour: white, black, grey, fully transparent, 1×1) becomes:
/// there is nothing to crop and centre, so the digit model sees an empty input. How the model
/// answers an empty input is worth seeing, so it is not refused.
pub const BLANK_NOTE: &str = "the image is one flat colour: there is no digit to crop and centre, so the model sees an empty (all-black) 28×28 input";

/// Refuse a file by its size alone, before reading it.
pub fn check_size(bytes: u64) -> Result<(), ImageError> {
    match bytes {
        0 => Err(ImageError::Empty),
        b if b > MAX_IMAGE_BYTES => Err(ImageError::TooLarge(b)),
        _ => Ok(()),
    }
}

/// Refuse an image by its size in pixels, before decoding it.
pub fn check_dimensions(width: u64, height: u64) -> Result<(), ImageError> {
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 {
        return Err(ImageError::Dimensions(width, height));
    }
    Ok(())
}

/// The width and height an image's header declares, read from its first bytes (the whole file is
/// not needed: PNG's IHDR is at the start, a JPEG's frame header follows its metadata).
/// `Ok(None)` when the header is not readable from `head` (a format this build does not parse,
/// or metadata longer than `head`); `Err` when the bytes are no image at all.
pub fn declared_dimensions(head: &[u8]) -> Result<Option<(u64, u64)>, ImageError> {
    if head.is_empty() {
        return Err(ImageError::Empty);
    }
    let Ok(mut reader) = ImageReader::new(Cursor::new(head)).with_guessed_format() else { return Ok(None) };
    if reader.format().is_none() {
        return if image_kind(head).is_some() { Ok(None) } else { Err(ImageError::UnknownFormat) };
    }
    reader.no_limits();
    match reader.into_dimensions() {
        Ok((w, h)) => Ok(Some((w as u64, h as u64))),
        Err(_) => Ok(png_header_dimensions(head)),
    }
}

/// A PNG's declared size straight from its IHDR chunk (bytes 16–23), for headers the decoder
/// refuses outright (a side over 2³¹ − 1).
fn png_header_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    if image_kind(bytes) != Some("PNG") || bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as u64;
    Some((be(16), be(20)))
}

/// Decode a PNG or JPEG with size limits, turned upright by its EXIF orientation (phone photos
/// are stored sideways with a tag that says so); never panics on bad bytes. The declared size is
/// checked before anything is allocated for the pixels.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    check_size(bytes.len() as u64)?;
    let kind = image_kind(bytes);
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| ImageError::UnknownFormat)?;
    let Some(format) = reader.format() else {
        return Err(kind.map_or(ImageError::UnknownFormat, ImageError::Unsupported));
    };
    let name = kind.unwrap_or(match format {
        image::ImageFormat::Png => "PNG",
        image::ImageFormat::Jpeg => "JPEG",
        _ => "image",
    });
    if let Some((w, h)) = declared_dimensions(bytes)? {
        check_dimensions(w, h)?;
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = reader;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| user_error(e, name))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| user_error(e, name))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The user's words for a decoder's error.
fn user_error(e: image::ImageError, format: &'static str) -> ImageError {
    match e {
        image::ImageError::Unsupported(_) => ImageError::Unsupported(format),
        // The declared size passed the check, so a limit hit while decoding is a lying header.
        _ => ImageError::Damaged(format),
    }
}

/// MNIST-style 28×28 input (row-major, values in [0, 1], white digit on black).
pub fn mnist_from_bytes(bytes: &[u8]) -> Result<Vec<f32>, ImageError> {
    Ok(mnist_from_image(&decode(bytes)?).pixels)
}

fn blank() -> Prepared {
    Prepared { pixels: vec![0.0; 28 * 28], note: Some(BLANK_NOTE.into()) }
}

/// The MNIST recipe on decoded pixels (see the module's text); a blank image gives an empty
/// input with [`BLANK_NOTE`].
pub fn mnist_from_image(img: &DynamicImage) -> Prepared {
    // The output is 28×28: 256 px a side is plenty for the crop, and keeps the filters cheap.
    let small;
    let img = if img.width().max(img.height()) > WORK_SIDE {
        small = img.resize(WORK_SIDE, WORK_SIDE, FilterType::Triangle);
        &small
    } else {
        img
    };
    // Composite transparency onto white (a transparent PNG of a dark stroke is a drawing).
    let rgba = img.to_rgba32f();
    let (w, h) = rgba.dimensions();
    let mut grey: Vec<f32> = rgba
        .pixels()
        .map(|p| {
            let l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            let a = p[3];
            l * a + (1.0 - a)
        })
        .collect();
    // Invert when the border (the background) is light: ink becomes bright, as in MNIST.
    let border: Vec<f32> = (0..w)
        .flat_map(|x| [grey[x as usize], grey[((h - 1) * w + x) as usize]])
        .chain((0..h).flat_map(|y| [grey[(y * w) as usize], grey[(y * w + w - 1) as usize]]))
        .collect();
    let mut sorted = border.clone();
    sorted.sort_by(f32::total_cmp);
    let background = sorted[sorted.len() / 2];
    if background > 0.5 {
        grey.iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    // Take the background away. A photo's paper is not one level (a shadow, uneven light): its
    // level at each pixel is estimated by a grey-level opening (a minimum then a maximum filter
    // over a window wider than any stroke), which keeps the slowly varying paper and drops the
    // thin ink. Small images (a drawing, a scan of one digit) use the border's level.
    let side = w.min(h);
    let ink: Vec<f32> = if side >= 64 {
        let k = ((side / 6) | 1) as usize;
        let bg = max_filter(&min_filter(&grey, w as usize, h as usize, k), w as usize, h as usize, k);
        grey.iter().zip(&bg).map(|(v, b)| (v - b).max(0.0)).collect()
    } else {
        let bg = if background > 0.5 { 1.0 - background } else { background };
        grey.iter().map(|v| (v - bg).max(0.0)).collect()
    };
    let max = ink.iter().cloned().fold(0.0f32, f32::max);
    if max < 0.1 {
        return blank();
    }
    // Ink against paper texture: Otsu's threshold on the ink map; what lies below it is paper
    // (set to 0, MNIST's background), and the ink is stretched so that its strong part (the 95th
    // percentile of what lies above) is 1.
    let t = otsu(&ink, max).max(0.05 * max);
    let mut strong: Vec<f32> = ink.iter().cloned().filter(|&v| v > t).collect();
    strong.sort_by(f32::total_cmp);
    let hi = strong.get(strong.len() * 95 / 100).copied().unwrap_or(max).max(t + 1e-3);
    let grey: Vec<f32> = ink.iter().map(|&v| ((v - t) / (hi - t)).clamp(0.0, 1.0)).collect();
    // Bounding box of the ink.
    let ink = 0.2;
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0u32, 0u32);
    for y in 0..h {
        for x in 0..w {
            if grey[(y * w + x) as usize] > ink {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x1 < x0 || y1 < y0 {
        return blank();
    }
    let (cw, ch) = (x1 - x0 + 1, y1 - y0 + 1);
    let crop = GrayImage::from_fn(cw, ch, |x, y| {
        image::Luma([(grey[((y0 + y) * w + x0 + x) as usize] * 255.0).round() as u8])
    });
    // Longer side to 20 px.
    let scale = 20.0 / cw.max(ch) as f32;
    let nw = ((cw as f32 * scale).round() as u32).clamp(1, 20);
    let nh = ((ch as f32 * scale).round() as u32).clamp(1, 20);
    let small = image::imageops::resize(&crop, nw, nh, FilterType::Triangle);
    // Centre of mass → (14, 14).
    let (mut mass, mut mx, mut my) = (0f32, 0f32, 0f32);
    for (x, y, p) in small.enumerate_pixels() {
        let v = p[0] as f32;
        mass += v;
        mx += v * x as f32;
        my += v * y as f32;
    }
    if mass == 0.0 {
        return blank();
    }
    let (cx, cy) = (mx / mass, my / mass);
    let ox = (14.0 - cx).round() as i32;
    let oy = (14.0 - cy).round() as i32;
    let ox = ox.clamp(0, 28 - nw as i32);
    let oy = oy.clamp(0, 28 - nh as i32);
    let mut out = vec![0f32; 28 * 28];
    for (x, y, p) in small.enumerate_pixels() {
        let (tx, ty) = (x as i32 + ox, y as i32 + oy);
        out[(ty * 28 + tx) as usize] = p[0] as f32 / 255.0;
    }
    Prepared { pixels: out, note: None }
}

/// The longest side the MNIST recipe works at (larger images are scaled down first).
pub const WORK_SIDE: u32 = 256;

/// Minimum over a `k`×`k` window (separable: rows, then columns; the window is cut at the edges).
fn min_filter(v: &[f32], w: usize, h: usize, k: usize) -> Vec<f32> {
    window_filter(v, w, h, k, f32::min, f32::INFINITY)
}

fn max_filter(v: &[f32], w: usize, h: usize, k: usize) -> Vec<f32> {
    window_filter(v, w, h, k, f32::max, f32::NEG_INFINITY)
}

fn window_filter(v: &[f32], w: usize, h: usize, k: usize, f: fn(f32, f32) -> f32, init: f32) -> Vec<f32> {
    let r = k / 2;
    let mut rows = vec![0f32; v.len()];
    for y in 0..h {
        for x in 0..w {
            rows[y * w + x] = (x.saturating_sub(r)..(x + r + 1).min(w)).map(|i| v[y * w + i]).fold(init, f);
        }
    }
    let mut out = vec![0f32; v.len()];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = (y.saturating_sub(r)..(y + r + 1).min(h)).map(|j| rows[j * w + x]).fold(init, f);
        }
    }
    out
}

/// Otsu's threshold of values in [0, `max`] (256 bins): the level that best splits them into two
/// groups (the largest between-group variance).
fn otsu(v: &[f32], max: f32) -> f32 {
    let mut hist = [0f64; 256];
    for &x in v {
        hist[((x / max * 255.0) as usize).min(255)] += 1.0;
    }
    let n = v.len() as f64;
    let total: f64 = hist.iter().enumerate().map(|(i, c)| i as f64 * c).sum();
    let (mut w0, mut sum0, mut best, mut at) = (0f64, 0f64, -1f64, 0usize);
    for (i, &c) in hist.iter().enumerate() {
        w0 += c;
        sum0 += i as f64 * c;
        let w1 = n - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (total - sum0) / w1);
        let between = w0 * w1 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            at = i;
        }
    }
    (at as f32 + 0.5) / 255.0 * max
}

/// The input `arch` expects, from an image file.
pub fn for_architecture(bytes: &[u8], arch: crate::model::Architecture) -> Result<Prepared, ImageError> {
    Ok(image_for_architecture(&decode(bytes)?, arch))
}

/// The input `arch` expects, from decoded pixels (the browser decodes with its own decoders and
/// hands RGBA here, so the recipe is the same as for [`for_architecture`]).
pub fn image_for_architecture(img: &DynamicImage, arch: crate::model::Architecture) -> Prepared {
    match arch.input_shape() {
        [1, 28, 28] => mnist_from_image(img),
        shape => Prepared { pixels: colour_from_image(img, shape), note: None },
    }
}

/// Centre-crop `img` to the aspect ratio of `[c, h, w]`, resize to `w×h` and return CHW pixels
/// in [0, 1] (`c` = 3: RGB; `c` = 1: luma).
pub fn colour_from_image(img: &DynamicImage, [c, h, w]: [usize; 3]) -> Vec<f32> {
    let (iw, ih) = (img.width() as u64, img.height() as u64);
    // Largest crop with the target aspect ratio w:h, centred.
    let (cw, ch) = if iw * h as u64 > ih * w as u64 { ((ih * w as u64 / h as u64).max(1), ih) } else { (iw, (iw * h as u64 / w as u64).max(1)) };
    let (x0, y0) = ((iw - cw) / 2, (ih - ch) / 2);
    let cropped = img.crop_imm(x0 as u32, y0 as u32, cw as u32, ch as u32);
    // Composite transparency onto white, then resize.
    let rgba = cropped.to_rgba8();
    let rgb = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y);
        let a = p[3] as u32;
        let mix = |v: u8| ((v as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    });
    let resized = image::imageops::resize(&rgb, w as u32, h as u32, FilterType::Triangle);
    let n = w * h;
    let mut out = vec![0f32; c * n];
    for (i, p) in resized.pixels().enumerate() {
        if c == 1 {
            out[i] = (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0;
        } else {
            for ch in 0..3 {
                out[ch * n + i] = p[ch] as f32 / 255.0;
            }
        }
    }
    out
}

/// Encode CHW pixels in [0, 1] as a PNG (grey for one channel, RGB for three).
pub fn to_png(pixels: &[f32], channels: usize, width: u32, height: u32) -> Vec<u8> {
    let n = (width * height) as usize;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let img = if channels == 1 {
        DynamicImage::ImageLuma8(GrayImage::from_fn(width, height, |x, y| {
            image::Luma([byte(pixels[(y * width + x) as usize])])
        }))
    } else {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            let i = (y * width + x) as usize;
            image::Rgb([byte(pixels[i]), byte(pixels[n + i]), byte(pixels[2 * n + i])])
        }))
    };
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("PNG encoding");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(img: DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn dark_on_light_digit_becomes_centred_white_on_black() {
        // A black vertical bar on a large white canvas, off-centre.
        let img = GrayImage::from_fn(300, 200, |x, y| {
            image::Luma([if (40..60).contains(&x) && (20..180).contains(&y) { 0 } else { 255 }])
        });
        let x = mnist_from_bytes(&png_of(DynamicImage::ImageLuma8(img))).unwrap();
        assert_eq!(x.len(), 784);
        // Background black, ink white.
        assert_eq!(x[0], 0.0);
        let (mut mass, mut mx, mut my, mut rows) = (0.0, 0.0, 0.0, vec![]);
        for y in 0..28 {
            for xx in 0..28 {
                let v = x[y * 28 + xx];
                mass += v;
                mx += v * xx as f32;
                my += v * y as f32;
                if v > 0.5 {
                    rows.push(y);
                }
            }
        }
        assert!((mx / mass - 14.0).abs() <= 1.0 && (my / mass - 14.0).abs() <= 1.0);
        // Longer side scaled to 20 px.
        let height = rows.iter().max().unwrap() - rows.iter().min().unwrap() + 1;
        assert!((19..=20).contains(&height), "digit height {height}");
    }

    #[test]
    fn blank_images_become_an_empty_input_with_a_note() {
        use image::{Rgba, RgbaImage};
        let cases = [
            ("white", DynamicImage::ImageLuma8(GrayImage::from_pixel(40, 30, image::Luma([255])))),
            ("black", DynamicImage::ImageLuma8(GrayImage::new(40, 30))),
            ("grey", DynamicImage::ImageLuma8(GrayImage::from_pixel(40, 30, image::Luma([128])))),
            ("transparent", DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 30, Rgba([0, 0, 0, 0])))),
            ("1×1", DynamicImage::ImageLuma8(GrayImage::from_pixel(1, 1, image::Luma([200])))),
            ("faint", DynamicImage::ImageLuma8(GrayImage::from_fn(40, 30, |x, _| image::Luma([250 - (x % 2) as u8 * 10])))),
        ];
        for (name, img) in cases {
            let p = mnist_from_image(&img);
            assert_eq!(p.pixels, vec![0.0; 784], "{name}");
            assert_eq!(p.note.as_deref(), Some(BLANK_NOTE), "{name}");
            // Decoded from a file too, and for the colour models (no note: nothing to centre).
            assert_eq!(for_architecture(&png_of(img.clone()), crate::model::Architecture::MnistCnn).unwrap().note.as_deref(), Some(BLANK_NOTE), "{name}");
            let colour = for_architecture(&png_of(img), crate::model::Architecture::AlexnetCifar10).unwrap();
            assert_eq!((colour.pixels.len(), colour.note), (3 * 32 * 32, None), "{name}");
        }
        // A digit is not blank.
        let mut digit = GrayImage::new(28, 28);
        for y in 6..22 {
            digit.put_pixel(14, y, image::Luma([255]));
        }
        assert_eq!(mnist_from_image(&DynamicImage::ImageLuma8(digit)).note, None);
    }

    #[test]
    fn bad_files_give_errors_not_panics() {
        assert_eq!(mnist_from_bytes(b""), Err(ImageError::Empty));
        assert_eq!(mnist_from_bytes(b"hello, this is text"), Err(ImageError::UnknownFormat));
        let mut png = png_of(DynamicImage::ImageLuma8(GrayImage::new(10, 10)));
        assert_eq!(mnist_from_bytes(&png), Ok(vec![0.0; 784]), "a blank image is an empty input");
        png.truncate(png.len() / 2);
        assert_eq!(mnist_from_bytes(&png), Err(ImageError::Damaged("PNG")));
    }

    #[test]
    fn colour_images_are_centre_cropped_and_resized_in_chw_order() {
        // 90×60: a red left third, a green middle third, a blue right third. The centred 60×60
        // crop drops half of the red and blue thirds: left quarter red, centre half green, right
        // quarter blue.
        let img = image::RgbImage::from_fn(90, 60, |x, _| match x {
            0..=29 => image::Rgb([255, 0, 0]),
            30..=59 => image::Rgb([0, 255, 0]),
            _ => image::Rgb([0, 0, 255]),
        });
        let bytes = png_of(DynamicImage::ImageRgb8(img));
        let x = for_architecture(&bytes, crate::model::Architecture::AlexnetCifar10).unwrap().pixels;
        assert_eq!(x.len(), 3 * 32 * 32);
        let at = |c: usize, row: usize, col: usize| x[c * 1024 + row * 32 + col];
        // Column 2 is red, columns 12–19 green, column 29 blue, in every row.
        for row in [0, 16, 31] {
            assert_eq!((at(0, row, 2), at(1, row, 2), at(2, row, 2)), (1.0, 0.0, 0.0));
            assert_eq!((at(0, row, 16), at(1, row, 16), at(2, row, 16)), (0.0, 1.0, 0.0));
            assert_eq!((at(0, row, 29), at(1, row, 29), at(2, row, 29)), (0.0, 0.0, 1.0));
        }
        // Red covers 15 of 60 crop columns = 8 of 32 output columns (±1 for the filter).
        let red_cols = (0..32).filter(|&c| at(0, 16, c) > 0.5).count();
        assert!((7..=9).contains(&red_cols), "{red_cols} red columns");
        // A tall image keeps its vertical centre; the 96×96 preset gets 96×96.
        let tall = image::RgbImage::from_fn(10, 40, |_, y| if (15..25).contains(&y) { image::Rgb([255, 255, 255]) } else { image::Rgb([0, 0, 0]) });
        let y = for_architecture(&png_of(DynamicImage::ImageRgb8(tall)), crate::model::Architecture::AlexnetStl10).unwrap().pixels;
        assert_eq!(y.len(), 3 * 96 * 96);
        assert_eq!(y[48 * 96 + 48], 1.0, "the centre stays white");
        // Bad files still give errors.
        assert_eq!(for_architecture(b"text", crate::model::Architecture::AlexnetCifar10), Err(ImageError::UnknownFormat));
    }

    /// A chunk with its length and CRC, for hand-made PNG headers.
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in kind.iter().chain(data) {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&(!crc).to_be_bytes());
        out
    }

    fn png_declaring(w: u32, h: u32) -> Vec<u8> {
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
        png.extend(chunk(b"IEND", &[]));
        png
    }

    #[test]
    fn messages_are_in_the_users_words() {
        // A truncated PNG: no decoder dump ("ChunkType { … }"), just what happened.
        let mut png = png_of(DynamicImage::ImageLuma8(GrayImage::from_fn(64, 64, |x, y| image::Luma([(x * y) as u8]))));
        png.truncate(png.len() - 40);
        let e = decode(&png).unwrap_err();
        assert_eq!(e, ImageError::Damaged("PNG"));
        assert_eq!(e.to_string(), "the PNG image is damaged or incomplete and cannot be decoded");
        // Huge declared sizes name the pixel limit, not a memory limit, before any allocation.
        for (w, h) in [(1u32 << 31, 1u32 << 31), (u32::MAX, 7), (20_000, 10), (8193, 8193)] {
            let e = decode(&png_declaring(w, h)).unwrap_err();
            assert_eq!(e, ImageError::Dimensions(w as u64, h as u64), "{w}×{h}");
            assert!(e.to_string().contains("the limit is 8192 pixels a side"), "{e}");
            assert_eq!(declared_dimensions(&png_declaring(w, h)[..40]), Ok(Some((w as u64, h as u64))), "from the head alone");
        }
        // Formats other builds decode are named, not called "not an image".
        assert_eq!(decode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Err(ImageError::Unsupported("GIF")));
        assert_eq!(declared_dimensions(b"GIF89a\x01\x00"), Ok(None), "the browser may decode it");
        assert_eq!(declared_dimensions(b"not an image"), Err(ImageError::UnknownFormat));
        // Sizes are checked before reading.
        assert_eq!(check_size(0), Err(ImageError::Empty));
        assert_eq!(check_size(1_900_000_000).unwrap_err().to_string(), "the file is 1.9 GB; the limit for an image is 32 MB");
        assert_eq!(check_size(crate::limits::MAX_IMAGE_BYTES), Ok(()));
    }

    /// A JPEG with an EXIF APP1 segment whose Orientation tag is `orientation`.
    fn jpeg_with_orientation(img: &DynamicImage, orientation: u16) -> Vec<u8> {
        let mut jpeg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
        let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
        tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
        tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
        let mut app1 = b"Exif\x00\x00".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec(); // SOI
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_orientation_turns_phone_photos_upright() {
        // 40×20, bright on its left half. Orientation 6 = stored rotated: show turned 90° clockwise.
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(40, 20, |x, _| image::Luma([if x < 20 { 250 } else { 5 }])));
        let plain = decode(&jpeg_with_orientation(&img, 1)).unwrap();
        assert_eq!((plain.width(), plain.height()), (40, 20));
        let turned = decode(&jpeg_with_orientation(&img, 6)).unwrap().to_luma8();
        assert_eq!((turned.width(), turned.height()), (20, 40), "rotated upright");
        // After a clockwise turn the bright (left) half is at the top.
        assert!(turned.get_pixel(10, 5)[0] > 200 && turned.get_pixel(10, 35)[0] < 50);
    }

    #[test]
    fn png_round_trip() {
        let px: Vec<f32> = (0..12).map(|i| i as f32 / 11.0).collect();
        let img = decode(&to_png(&px, 1, 4, 3)).unwrap().to_luma8();
        assert_eq!(img.get_pixel(3, 2)[0], 255);
        assert_eq!(img.get_pixel(0, 0)[0], 0);
    }
}
