//! MNIST IDX files (LeCun et al.): big-endian magic, dimensions, then uint8 data.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum IdxError {
    #[error("not an IDX file of unsigned bytes (magic {0:#010x})")]
    Magic(u32),
    #[error("IDX file is truncated: header says {expected} bytes of data, found {found}")]
    Truncated { expected: usize, found: usize },
    #[error("IDX file too short for its header")]
    Header,
    #[error("images and labels disagree: {0} images, {1} labels")]
    Count(usize, usize),
    #[error("gzip: {0}")]
    Gzip(String),
}

/// A decoded IDX array: dimensions and bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

pub fn parse_idx(bytes: &[u8]) -> Result<Idx, IdxError> {
    if bytes.len() < 4 {
        return Err(IdxError::Header);
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] == 0 || bytes[3] > 4 {
        return Err(IdxError::Magic(magic));
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if bytes.len() < header {
        return Err(IdxError::Header);
    }
    let dims: Vec<usize> = (0..nd)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected: usize = dims.iter().product();
    let found = bytes.len() - header;
    if found < expected {
        return Err(IdxError::Truncated { expected, found });
    }
    Ok(Idx { dims, data: bytes[header..header + expected].to_vec() })
}

/// Write an IDX array (used to commit sample subsets).
pub fn write_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend((*d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Decompress when the bytes are gzip (magic 1f 8b), else pass through.
#[cfg(feature = "data")]
pub fn maybe_gunzip(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    use std::io::Read;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| IdxError::Gzip(e.to_string()))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Labelled greyscale images, pixels scaled to [0, 1].
#[derive(Clone, Debug)]
pub struct MnistSet {
    pub rows: usize,
    pub cols: usize,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl MnistSet {
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, IdxError> {
        let im = parse_idx(images)?;
        let lb = parse_idx(labels)?;
        if im.dims.len() != 3 || lb.dims.len() != 1 || im.dims[0] != lb.dims[0] {
            return Err(IdxError::Count(im.dims[0], lb.dims.first().copied().unwrap_or(0)));
        }
        Ok(Self { rows: im.dims[1], cols: im.dims[2], images: im.data, labels: lb.data })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as pixels in [0, 1].
    pub fn image(&self, i: usize) -> Vec<f32> {
        let n = self.rows * self.cols;
        self.images[i * n..(i + 1) * n].iter().map(|&b| b as f32 / 255.0).collect()
    }

    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// Keep the first `n` examples.
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        let px = self.rows * self.cols;
        Self { rows: self.rows, cols: self.cols, images: self.images[..n * px].to_vec(), labels: self.labels[..n].to_vec() }
    }

    pub fn to_idx(&self) -> (Vec<u8>, Vec<u8>) {
        (write_idx(&[self.len(), self.rows, self.cols], &self.images), write_idx(&[self.len()], &self.labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_round_trip_and_errors() {
        let set = MnistSet { rows: 2, cols: 2, images: vec![0, 255, 10, 20, 1, 2, 3, 4], labels: vec![7, 3] };
        let (im, lb) = set.to_idx();
        let back = MnistSet::from_idx(&im, &lb).unwrap();
        assert_eq!(back.images, set.images);
        assert_eq!(back.label(1), 3);
        assert_eq!(back.image(0)[1], 1.0);
        assert!(matches!(parse_idx(&im[..im.len() - 1]), Err(IdxError::Truncated { .. })));
        assert!(matches!(parse_idx(b"PNG\x89...."), Err(IdxError::Magic(_))));
        assert!(matches!(MnistSet::from_idx(&im, &write_idx(&[3], &[1, 2, 3])), Err(IdxError::Count(2, 3))));
    }
}
