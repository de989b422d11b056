//! STL-10 (Coates et al. 2011) in its official binary layout: `*_X.bin` holds uint8 images of
//! 3×96×96, stored channel by channel (R, G, B) and each channel **column-major** (as written by
//! MATLAB); `*_y.bin` holds one uint8 label per image, 1..10. Images come out CHW row-major,
//! labels 0..9.

use thiserror::Error;

use super::images::ImageSet;

pub const SIDE: usize = 96;
pub const IMAGE_BYTES: usize = 3 * SIDE * SIDE;

#[derive(Debug, Error, PartialEq)]
pub enum Stl10Error {
    #[error("STL-10 image file has {0} bytes, not a multiple of {IMAGE_BYTES} (3×96×96)")]
    ImageSize(usize),
    #[error("STL-10 files disagree: {images} images but {labels} labels")]
    Count { images: usize, labels: usize },
    #[error("STL-10 label {label} at index {index} is outside 1..10")]
    Label { index: usize, label: u8 },
}

/// Parse `*_X.bin` and `*_y.bin`.
pub fn parse(x: &[u8], y: &[u8]) -> Result<ImageSet, Stl10Error> {
    if !x.len().is_multiple_of(IMAGE_BYTES) {
        return Err(Stl10Error::ImageSize(x.len()));
    }
    let n = x.len() / IMAGE_BYTES;
    if y.len() != n {
        return Err(Stl10Error::Count { images: n, labels: y.len() });
    }
    let mut labels = Vec::with_capacity(n);
    for (index, &label) in y.iter().enumerate() {
        if !(1..=10).contains(&label) {
            return Err(Stl10Error::Label { index, label });
        }
        labels.push(label - 1);
    }
    let mut images = vec![0u8; x.len()];
    for (src, dst) in x.chunks_exact(IMAGE_BYTES).zip(images.chunks_exact_mut(IMAGE_BYTES)) {
        for c in 0..3 {
            let plane = c * SIDE * SIDE;
            // Source index: column-major (x·96 + y); destination: row-major (y·96 + x).
            for col in 0..SIDE {
                for row in 0..SIDE {
                    dst[plane + row * SIDE + col] = src[plane + col * SIDE + row];
                }
            }
        }
    }
    Ok(ImageSet { channels: 3, height: SIDE, width: SIDE, images, labels })
}

/// The inverse of [`parse`]: write images (CHW row-major, labels 0..9) in the official layout.
pub fn write(set: &ImageSet) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(set.shape(), [3, SIDE, SIDE], "STL-10 images are 3×96×96");
    let mut x = vec![0u8; set.len() * IMAGE_BYTES];
    for (i, dst) in x.chunks_exact_mut(IMAGE_BYTES).enumerate() {
        let src = set.image_bytes(i);
        for c in 0..3 {
            let plane = c * SIDE * SIDE;
            for col in 0..SIDE {
                for row in 0..SIDE {
                    dst[plane + col * SIDE + row] = src[plane + row * SIDE + col];
                }
            }
        }
    }
    (x, set.labels.iter().map(|l| l + 1).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test pattern, not symmetric under transposition: byte = f(image, channel, row, col).
    fn value(img: usize, c: usize, row: usize, col: usize) -> u8 {
        ((img * 7 + c * 50 + row * 3 + col) % 251) as u8
    }

    /// Two images in the official byte layout, written by hand (not with `write`).
    fn official_files() -> (Vec<u8>, Vec<u8>) {
        let mut x = Vec::new();
        for img in 0..2 {
            for c in 0..3 {
                for col in 0..SIDE {
                    for row in 0..SIDE {
                        x.push(value(img, c, row, col));
                    }
                }
            }
        }
        (x, vec![1, 10])
    }

    #[test]
    fn reads_the_official_column_major_layout() {
        let (x, y) = official_files();
        let set = parse(&x, &y).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.labels, vec![0, 9]);
        let img = set.image_bytes(1);
        // CHW row-major: pixel (c=2, row=5, col=40) of image 1.
        assert_eq!(img[2 * SIDE * SIDE + 5 * SIDE + 40], value(1, 2, 5, 40));
        // A transposed read would put (row=40, col=5) there instead, which differs.
        assert_ne!(value(1, 2, 5, 40), value(1, 2, 40, 5));
        // Row 0 runs along the columns: bytes increase by 1 from left to right.
        assert_eq!(img[1], img[0] + 1);
        assert_eq!(img[SIDE], img[0] + 3);
        let (x2, y2) = write(&set);
        assert_eq!((x2, y2), (x, y), "write is the inverse of parse");
    }

    #[test]
    fn rejects_bad_files() {
        let (x, y) = official_files();
        assert_eq!(parse(&x[..x.len() - 1], &y), Err(Stl10Error::ImageSize(x.len() - 1)));
        assert_eq!(parse(&x, &[1]), Err(Stl10Error::Count { images: 2, labels: 1 }));
        assert_eq!(parse(&x, &[1, 11]), Err(Stl10Error::Label { index: 1, label: 11 }));
        assert_eq!(parse(&x, &[0, 1]), Err(Stl10Error::Label { index: 0, label: 0 }));
        assert!(parse(&x, &[1, 0]).unwrap_err().to_string().contains("outside 1..10"));
    }
}
