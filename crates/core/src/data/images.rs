//! Labelled colour (or grey) images held as bytes in CHW order, and the image-folder layout
//! `split/<class>/*.jpg|png`.

use thiserror::Error;

use super::mnist::MnistSet;

/// Labelled images: `images` holds `len × channels × height × width` bytes, each image in CHW
/// (channel-major) order; labels are class indices.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

#[derive(Debug, Error, PartialEq)]
pub enum ImageSetError {
    #[error("missing class folder {0}")]
    MissingClass(String),
    #[error("class folder {0} holds no .jpg or .png images")]
    EmptyClass(String),
    #[error("{path}: cannot decode the image ({reason})")]
    Decode { path: String, reason: String },
    #[error("{path}: image is {found_w}×{found_h}, expected {width}×{height}")]
    Size { path: String, width: usize, height: usize, found_w: usize, found_h: usize },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

impl ImageSet {
    pub fn empty(channels: usize, height: usize, width: usize) -> Self {
        Self { channels, height, width, images: Vec::new(), labels: Vec::new() }
    }

    /// Bytes per image.
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// Image `i` as bytes, CHW.
    pub fn image_bytes(&self, i: usize) -> &[u8] {
        let n = self.pixels();
        &self.images[i * n..(i + 1) * n]
    }

    /// Image `i` as pixels in [0, 1], CHW.
    pub fn image(&self, i: usize) -> Vec<f32> {
        self.image_bytes(i).iter().map(|&b| b as f32 / 255.0).collect()
    }

    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// Keep the first `n` examples.
    pub fn take(&self, n: usize) -> Self {
        self.select(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// The examples at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Self {
        let mut out = Self::empty(self.channels, self.height, self.width);
        for &i in idx {
            out.images.extend_from_slice(self.image_bytes(i));
            out.labels.push(self.labels[i]);
        }
        out
    }

    /// The first `per_class` examples of every class in `0..classes`, grouped by class, each
    /// group in the set's order.
    pub fn first_per_class(&self, classes: usize, per_class: usize) -> Self {
        let mut idx = Vec::new();
        for c in 0..classes {
            idx.extend((0..self.len()).filter(|&i| self.label(i) == c).take(per_class));
        }
        self.select(&idx)
    }

    /// Decode one PNG or JPEG (any colour type) into CHW bytes with `channels` channels (1: luma,
    /// 3: RGB), checking its size.
    pub fn decode(&self, path: &str, bytes: &[u8]) -> Result<Vec<u8>, ImageSetError> {
        let img = image::load_from_memory(bytes)
            .map_err(|e| ImageSetError::Decode { path: path.into(), reason: e.to_string() })?;
        if img.width() as usize != self.width || img.height() as usize != self.height {
            return Err(ImageSetError::Size {
                path: path.into(),
                width: self.width,
                height: self.height,
                found_w: img.width() as usize,
                found_h: img.height() as usize,
            });
        }
        let hw = self.width * self.height;
        Ok(match self.channels {
            1 => img.to_luma8().into_raw(),
            _ => {
                let rgb = img.to_rgb8().into_raw();
                let mut chw = vec![0u8; 3 * hw];
                for p in 0..hw {
                    for c in 0..3 {
                        chw[c * hw + p] = rgb[p * 3 + c];
                    }
                }
                chw
            }
        })
    }

    /// Append one encoded image with its label.
    pub fn push_encoded(&mut self, path: &str, bytes: &[u8], label: usize) -> Result<(), ImageSetError> {
        let px = self.decode(path, bytes)?;
        self.images.extend(px);
        self.labels.push(label as u8);
        Ok(())
    }

    /// Encode image `i` as a PNG (RGB or grey).
    pub fn encode_png(&self, i: usize) -> Vec<u8> {
        let hw = self.width * self.height;
        let src = self.image_bytes(i);
        let (raw, color) = if self.channels == 1 {
            (src.to_vec(), image::ExtendedColorType::L8)
        } else {
            let mut rgb = vec![0u8; 3 * hw];
            for p in 0..hw {
                for c in 0..3 {
                    rgb[p * 3 + c] = src[c * hw + p];
                }
            }
            (rgb, image::ExtendedColorType::Rgb8)
        };
        let mut out = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut out),
            &raw,
            self.width as u32,
            self.height as u32,
            color,
        )
        .expect("PNG encoding into memory");
        out
    }

    /// All images as one PNG grid, `per_row` images per row, for committed fixtures: the set
    /// must hold `per_row` images of class 0, then `per_row` of class 1, … (as
    /// [`first_per_class`](Self::first_per_class) makes it), so row `r` is class `r` and the
    /// labels need no storage. Lossless: the pixels come back exactly.
    pub fn to_grid_png(&self, per_row: usize) -> Vec<u8> {
        assert_eq!(self.len() % per_row, 0, "whole rows only");
        for (i, &l) in self.labels.iter().enumerate() {
            assert_eq!(l as usize, i / per_row, "image {i}: row {} must hold class {}", i / per_row, i / per_row);
        }
        let rows = self.len() / per_row;
        let (gw, gh) = (per_row * self.width, rows * self.height);
        let c = if self.channels == 1 { 1 } else { 3 };
        let mut raw = vec![0u8; gw * gh * c];
        let hw = self.width * self.height;
        for i in 0..self.len() {
            let (ox, oy) = ((i % per_row) * self.width, (i / per_row) * self.height);
            let src = self.image_bytes(i);
            for y in 0..self.height {
                for x in 0..self.width {
                    for ch in 0..c {
                        raw[((oy + y) * gw + ox + x) * c + ch] = src[ch * hw + y * self.width + x];
                    }
                }
            }
        }
        let color = if c == 1 { image::ExtendedColorType::L8 } else { image::ExtendedColorType::Rgb8 };
        let mut out = Vec::new();
        image::ImageEncoder::write_image(image::codecs::png::PngEncoder::new(&mut out), &raw, gw as u32, gh as u32, color)
            .expect("PNG encoding into memory");
        out
    }

    /// The inverse of [`to_grid_png`](Self::to_grid_png): tiles of `shape` (`[c, h, w]`),
    /// `per_row` per row, row `r` labelled `r`.
    pub fn from_grid_png(bytes: &[u8], shape: [usize; 3], per_row: usize) -> Result<Self, ImageSetError> {
        let [c, h, w] = shape;
        let path = "image grid";
        let img = image::load_from_memory(bytes).map_err(|e| ImageSetError::Decode { path: path.into(), reason: e.to_string() })?;
        let (gw, gh) = (img.width() as usize, img.height() as usize);
        if gw != per_row * w || gh % h != 0 || gh == 0 {
            return Err(ImageSetError::Size { path: path.into(), width: per_row * w, height: h, found_w: gw, found_h: gh });
        }
        let raw = if c == 1 { img.to_luma8().into_raw() } else { img.to_rgb8().into_raw() };
        let cc = if c == 1 { 1 } else { 3 };
        let rows = gh / h;
        let mut set = Self::empty(c, h, w);
        for i in 0..rows * per_row {
            let (ox, oy) = ((i % per_row) * w, (i / per_row) * h);
            for ch in 0..c {
                for y in 0..h {
                    for x in 0..w {
                        set.images.push(raw[((oy + y) * gw + ox + x) * cc + ch]);
                    }
                }
            }
            set.labels.push((i / per_row) as u8);
        }
        Ok(set)
    }
}

impl From<MnistSet> for ImageSet {
    fn from(m: MnistSet) -> Self {
        Self { channels: 1, height: m.rows, width: m.cols, images: m.images, labels: m.labels }
    }
}

/// Read `dir/<class>/*.{jpg,jpeg,png}` for every class in `classes` (label = position in
/// `classes`), files in name order within a class, classes in the given order. Native only.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_image_folder(
    dir: &std::path::Path,
    classes: &[&str],
    shape: [usize; 3],
) -> Result<ImageSet, ImageSetError> {
    let mut set = ImageSet::empty(shape[0], shape[1], shape[2]);
    for (label, class) in classes.iter().enumerate() {
        let cdir = dir.join(class);
        if !cdir.is_dir() {
            return Err(ImageSetError::MissingClass(cdir.display().to_string()));
        }
        let io = |e: std::io::Error| ImageSetError::Io { path: cdir.display().to_string(), reason: e.to_string() };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&cdir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
                matches!(ext.as_str(), "jpg" | "jpeg" | "png")
            })
            .collect();
        if files.is_empty() {
            return Err(ImageSetError::EmptyClass(cdir.display().to_string()));
        }
        files.sort();
        set.images.reserve(files.len() * set.pixels());
        for f in files {
            let path = f.display().to_string();
            let bytes = std::fs::read(&f).map_err(|e| ImageSetError::Io { path: path.clone(), reason: e.to_string() })?;
            set.push_encoded(&path, &bytes, label)?;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×4×5 (C×H×W) image whose every byte differs, so channel or axis swaps show.
    fn pattern(seed: u8) -> ImageSet {
        let mut s = ImageSet::empty(3, 4, 5);
        s.images = (0..60u32).map(|i| (i as u8).wrapping_mul(4).wrapping_add(seed)).collect();
        s.labels = vec![seed % 10];
        s
    }

    #[test]
    fn image_folder_keeps_class_order_layout_and_reports_errors() {
        let dir = std::env::temp_dir().join(format!("quiver-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let classes = ["zebra", "apple", "mango"];
        let mut originals = Vec::new();
        for (c, class) in classes.iter().enumerate() {
            std::fs::create_dir_all(dir.join(class)).unwrap();
            for k in 0..2u8 {
                let img = pattern(c as u8 * 2 + k);
                std::fs::write(dir.join(class).join(format!("{k:04}.png")), img.encode_png(0)).unwrap();
                originals.push((c, img.images));
            }
        }
        // A non-image file is ignored.
        std::fs::write(dir.join("apple").join("notes.txt"), b"x").unwrap();
        let set = load_image_folder(&dir, &classes, [3, 4, 5]).unwrap();
        assert_eq!(set.len(), 6);
        for (i, (c, px)) in originals.iter().enumerate() {
            assert_eq!(set.label(i), *c, "labels follow the given class order, not the alphabet");
            assert_eq!(set.image_bytes(i), px.as_slice(), "image {i} comes back CHW, unchanged (PNG is lossless)");
        }
        assert!((set.image(0)[1] - 4.0 / 255.0).abs() < 1e-7);
        // JPEG decodes too (lossy: close, not equal).
        let mut jpg = Vec::new();
        let rgb: Vec<u8> = vec![200; 4 * 5 * 3];
        image::ImageEncoder::write_image(image::codecs::jpeg::JpegEncoder::new(&mut jpg), &rgb, 5, 4, image::ExtendedColorType::Rgb8).unwrap();
        std::fs::write(dir.join("mango").join("0009.jpg"), &jpg).unwrap();
        let set = load_image_folder(&dir, &classes, [3, 4, 5]).unwrap();
        assert_eq!(set.len(), 7);
        assert!(set.image_bytes(6).iter().all(|&b| (b as i32 - 200).abs() <= 3));
        // Errors name the problem.
        let e = load_image_folder(&dir, &["zebra", "kiwi"], [3, 4, 5]).unwrap_err();
        assert!(matches!(&e, ImageSetError::MissingClass(p) if p.ends_with("kiwi")), "{e}");
        let e = load_image_folder(&dir, &classes, [3, 8, 8]).unwrap_err();
        assert!(e.to_string().contains("expected 8×8"), "{e}");
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        let e = load_image_folder(&dir, &["empty"], [3, 4, 5]).unwrap_err();
        assert!(matches!(e, ImageSetError::EmptyClass(_)));
        std::fs::write(dir.join("zebra").join("0005.png"), b"not a png").unwrap();
        let e = load_image_folder(&dir, &classes, [3, 4, 5]).unwrap_err();
        assert!(matches!(e, ImageSetError::Decode { .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn grid_png_round_trips_and_subsets_per_class() {
        let mut s = ImageSet::empty(3, 4, 5);
        for k in 0..9u8 {
            s.images.extend(pattern(k * 3).images);
            s.labels.push(k % 3);
        }
        let sub = s.first_per_class(3, 2);
        assert_eq!(sub.labels, vec![0, 0, 1, 1, 2, 2]);
        assert_eq!(sub.image_bytes(2), s.image_bytes(1));
        assert_eq!(sub.image_bytes(3), s.image_bytes(4));
        let png = sub.to_grid_png(2);
        let back = ImageSet::from_grid_png(&png, [3, 4, 5], 2).unwrap();
        assert_eq!(back, sub);
        assert!(ImageSet::from_grid_png(&png, [3, 4, 5], 3).is_err(), "a wrong tile count is caught");
        assert!(ImageSet::from_grid_png(b"nope", [3, 4, 5], 2).is_err());
    }
}
