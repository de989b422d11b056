//! What Quiver accepts from a user, in one place: the largest image file, image side and weights
//! file, how a size is written in a message, and what a file's first bytes say it is. The app
//! checks a file's size against these *before* reading it; the CLI and the decoders check the
//! bytes they are given.

/// Largest accepted image file, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 32_000_000;
/// Largest accepted image side, in pixels (decoding allocates width × height × 4 bytes).
pub const MAX_SIDE: u32 = 8192;
/// Largest accepted weights file, in bytes (the bundled AlexNets are 3.8 MB; an STL-10 AlexNet
/// in F32 is about 15 MB).
pub const MAX_WEIGHTS_BYTES: u64 = 256_000_000;

/// A byte count the way people write it: "812 bytes", "45 kB", "3.8 MB", "32 MB", "1.9 GB"
/// (SI units; one decimal below ten).
pub fn size_text(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let (v, unit) = match bytes as f64 {
        b if b < 1e6 => (b / 1e3, "kB"),
        b if b < 1e9 => (b / 1e6, "MB"),
        b => (b / 1e9, "GB"),
    };
    if v < 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

/// An image format, recognised from a file's first bytes (its magic number), whether or not
/// this build can decode it.
pub fn image_kind(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x89, b'P', b'N', b'G', ..] => Some("PNG"),
        [0xFF, 0xD8, 0xFF, ..] => Some("JPEG"),
        [b'G', b'I', b'F', b'8', ..] => Some("GIF"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("WebP"),
        [b'B', b'M', ..] => Some("BMP"),
        [0, 0, 1, 0, ..] => Some("ICO"),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some("TIFF"),
        [_, _, _, _, b'f', b't', b'y', b'p', b'a', b'v', b'i', b'f', ..] => Some("AVIF"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(size_text(999), "999 bytes");
        assert_eq!(size_text(45_300), "45 kB");
        assert_eq!(size_text(1_500), "1.5 kB");
        assert_eq!(size_text(3_791_456), "3.8 MB");
        assert_eq!(size_text(MAX_IMAGE_BYTES), "32 MB");
        assert_eq!(size_text(MAX_WEIGHTS_BYTES), "256 MB");
        assert_eq!(size_text(1_900_000_000), "1.9 GB");
    }

    #[test]
    fn image_kinds_from_magic_numbers() {
        assert_eq!(image_kind(b"\x89PNG\r\n\x1a\n...."), Some("PNG"));
        assert_eq!(image_kind(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("JPEG"));
        assert_eq!(image_kind(b"GIF89a"), Some("GIF"));
        assert_eq!(image_kind(b"RIFF\x10\0\0\0WEBPVP8 "), Some("WebP"));
        assert_eq!(image_kind(b"RIFF\x10\0\0\0WAVEfmt "), None, "a RIFF that is not WebP");
        assert_eq!(image_kind(b"BM\x36\0\0\0"), Some("BMP"));
        assert_eq!(image_kind(b"\x10\0\0\0\0\0\0\0{\"__metadata__\""), None, "safetensors is no image");
        assert_eq!(image_kind(b""), None);
    }
}
