//! Weights as safetensors with PyTorch `state_dict` names and layouts (conv `[out, in, kh, kw]`,
//! linear `[out, in]`), so a file loads into the equivalent `nn.Module` unchanged. Tensors may be
//! stored as F32 or F16 (computation is F32). Every failure says exactly what is wrong with the
//! file.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use thiserror::Error;

use crate::model::{AlexNet, Architecture, MnistCnn, Model};

#[derive(Debug, Error, PartialEq)]
pub enum WeightsError {
    #[error("this is a {0} image, not a weights file (weights are a .safetensors file; drop an image on the image area instead)")]
    IsImage(&'static str),
    #[error("the file is {}; the limit for weights is {}", crate::limits::size_text(*.0), crate::limits::size_text(crate::limits::MAX_WEIGHTS_BYTES))]
    TooLarge(u64),
    #[error("this is not a safetensors file ({0})")]
    NotSafetensors(String),
    #[error("the weights do not match the {arch} architecture: {}", .problems.join("; "))]
    Mismatch { arch: &'static str, problems: Vec<String> },
    #[error("tensor {name} has dtype {dtype}; only F32 and F16 are supported")]
    Dtype { name: String, dtype: String },
    #[error("tensor {0} holds NaN or infinite values")]
    NotFinite(String),
}

/// Check a file against an architecture and list every problem: missing tensors, wrong
/// shapes, unexpected tensors, unsupported dtypes.
pub fn validate(bytes: &[u8], arch: Architecture) -> Result<(), WeightsError> {
    let st = parse(bytes)?;
    check(&st, arch)
}

/// Refuse a weights file by its size alone, before reading it.
pub fn check_size(bytes: u64) -> Result<(), WeightsError> {
    if bytes > crate::limits::MAX_WEIGHTS_BYTES {
        return Err(WeightsError::TooLarge(bytes));
    }
    Ok(())
}

fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, WeightsError> {
    check_size(bytes.len() as u64)?;
    if let Some(kind) = crate::limits::image_kind(bytes) {
        return Err(WeightsError::IsImage(kind));
    }
    SafeTensors::deserialize(bytes).map_err(|e| WeightsError::NotSafetensors(safetensors_words(&e)))
}

/// What a safetensors parse error means, for a person holding the file.
fn safetensors_words(e: &safetensors::SafeTensorError) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::HeaderTooSmall | E::InvalidHeaderLength | E::HeaderTooLarge => {
            "it does not start with a safetensors header".into()
        }
        E::InvalidHeader(_) | E::InvalidHeaderDeserialization(_) | E::JsonError(_) => "its header is not valid safetensors JSON".into(),
        E::MetadataIncompleteBuffer | E::InvalidOffset(_) => "it is incomplete: it ends before the tensors its header lists".into(),
        other => format!("its tensors are not laid out as safetensors requires ({other})"),
    }
}

fn check(st: &SafeTensors<'_>, arch: Architecture) -> Result<(), WeightsError> {
    let specs = arch.tensor_specs();
    let mut problems = Vec::new();
    for (name, shape) in &specs {
        match st.tensor(name) {
            Err(_) => problems.push(format!("missing tensor {name} (expected shape {shape:?})")),
            Ok(t) if t.shape() != shape.as_slice() => {
                problems.push(format!("{name} has shape {:?}, expected {shape:?}", t.shape()))
            }
            Ok(t) if !matches!(t.dtype(), Dtype::F32 | Dtype::F16) => {
                return Err(WeightsError::Dtype { name: name.to_string(), dtype: format!("{:?}", t.dtype()) })
            }
            Ok(_) => {}
        }
    }
    let mut extra: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| !specs.iter().any(|(s, _)| s == n))
        .map(|n| n.to_string())
        .collect();
    extra.sort();
    for n in extra {
        problems.push(format!("unexpected tensor {n}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WeightsError::Mismatch { arch: arch.name(), problems })
    }
}

fn to_f32(name: &str, t: &TensorView<'_>) -> Result<Vec<f32>, WeightsError> {
    let data = t.data();
    let values: Vec<f32> = match t.dtype() {
        Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => return Err(WeightsError::Dtype { name: name.into(), dtype: format!("{other:?}") }),
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(WeightsError::NotFinite(name.into()));
    }
    Ok(values)
}

struct Reader<'a> {
    st: SafeTensors<'a>,
    device: Device,
}

impl Reader<'_> {
    fn tensor<const D: usize>(&self, name: &str) -> Result<Tensor<D>, WeightsError> {
        let t = self.st.tensor(name).expect("checked");
        let values = to_f32(name, &t)?;
        Ok(Tensor::from_data(TensorData::new(values, t.shape().to_vec()), &self.device))
    }
    /// A PyTorch linear weight `[out, in]` as Burn's `[in, out]`.
    fn linear(&self, name: &str) -> Result<Tensor<2>, WeightsError> {
        Ok(self.tensor::<2>(name)?.transpose())
    }
}

/// The architecture named in the file's `__metadata__` (`architecture`), if any.
pub fn architecture_of(bytes: &[u8]) -> Option<Architecture> {
    let (_, meta) = SafeTensors::read_metadata(bytes).ok()?;
    Architecture::from_name(meta.metadata().as_ref()?.get("architecture")?)
}

/// Build a model from a safetensors file after checking it against `arch`.
pub fn load(bytes: &[u8], arch: Architecture, device: &Device) -> Result<Model, WeightsError> {
    let st = parse(bytes)?;
    check(&st, arch)?;
    let r = Reader { st, device: device.clone() };
    match arch {
        Architecture::MnistCnn => {
            let mut m = MnistCnn::init(device);
            m.conv1.weight = Param::from_tensor(r.tensor("conv1.weight")?);
            m.conv1.bias = Some(Param::from_tensor(r.tensor("conv1.bias")?));
            m.conv2.weight = Param::from_tensor(r.tensor("conv2.weight")?);
            m.conv2.bias = Some(Param::from_tensor(r.tensor("conv2.bias")?));
            m.fc.weight = Param::from_tensor(r.linear("fc.weight")?);
            m.fc.bias = Some(Param::from_tensor(r.tensor("fc.bias")?));
            Ok(Model::mnist(m))
        }
        Architecture::AlexnetCifar10 | Architecture::AlexnetStl10 => {
            let mut m = AlexNet::init(arch, device);
            for (name, conv) in m.convs_mut() {
                conv.weight = Param::from_tensor(r.tensor(&format!("{name}.weight"))?);
                conv.bias = Some(Param::from_tensor(r.tensor(&format!("{name}.bias"))?));
            }
            for (name, fc) in m.linears_mut() {
                fc.weight = Param::from_tensor(r.linear(&format!("{name}.weight"))?);
                fc.bias = Some(Param::from_tensor(r.tensor(&format!("{name}.bias"))?));
            }
            Ok(Model::AlexNet(m))
        }
    }
}

fn host<const D: usize>(t: Tensor<D>) -> (Vec<usize>, Vec<f32>) {
    let data = t.into_data();
    let shape = data.shape().to_vec();
    (shape, data.convert::<f32>().try_to_vec::<f32>().expect("f32"))
}

/// How the tensors of a saved file are stored. Computation is always F32; F16 halves the file
/// (loading converts back to F32).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreDtype {
    #[default]
    F32,
    F16,
}

/// Serialise a model to safetensors (F32) with PyTorch names and layouts. `metadata` goes into
/// the file's `__metadata__`.
pub fn save(model: &Model, metadata: BTreeMap<String, String>) -> Vec<u8> {
    save_as(model, metadata, StoreDtype::F32)
}

/// [`save`] with a choice of storage dtype.
pub fn save_as(model: &Model, metadata: BTreeMap<String, String>, dtype: StoreDtype) -> Vec<u8> {
    let mut tensors: Vec<(String, (Vec<usize>, Vec<f32>))> = Vec::new();
    let bias = |b: &Option<Param<Tensor<1>>>| host(b.as_ref().expect("bias").val());
    match model {
        Model::MnistCnn(m, _) => {
            tensors.push(("conv1.weight".into(), host(m.conv1.weight.val())));
            tensors.push(("conv1.bias".into(), bias(&m.conv1.bias)));
            tensors.push(("conv2.weight".into(), host(m.conv2.weight.val())));
            tensors.push(("conv2.bias".into(), bias(&m.conv2.bias)));
            tensors.push(("fc.weight".into(), host(m.fc.weight.val().transpose())));
            tensors.push(("fc.bias".into(), bias(&m.fc.bias)));
        }
        Model::AlexNet(m) => {
            for (name, conv) in m.convs() {
                tensors.push((format!("{name}.weight"), host(conv.weight.val())));
                tensors.push((format!("{name}.bias"), bias(&conv.bias)));
            }
            for (name, fc) in m.linears() {
                tensors.push((format!("{name}.weight"), host(fc.weight.val().transpose())));
                tensors.push((format!("{name}.bias"), bias(&fc.bias)));
            }
        }
        // Members are trained and saved one by one (`quiver train --ensemble`); nothing builds
        // an ensemble before saving.
        Model::Ensemble(_) => panic!("an ensemble is saved member by member, not as one file"),
    }
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(n, (shape, v))| {
            let b = match dtype {
                StoreDtype::F32 => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                StoreDtype::F16 => v.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect(),
            };
            (n, shape, b)
        })
        .collect();
    let st_dtype = match dtype {
        StoreDtype::F32 => Dtype::F32,
        StoreDtype::F16 => Dtype::F16,
    };
    let views: Vec<(String, TensorView<'_>)> = bytes
        .iter()
        .map(|(n, s, b)| (n.clone(), TensorView::new(st_dtype, s.clone(), b).expect("valid view")))
        .collect();
    let meta: std::collections::HashMap<String, String> = metadata.into_iter().collect();
    safetensors::serialize(views, Some(meta)).expect("serialise safetensors")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_oversized_files_are_named_as_such() {
        let png = crate::preprocess::to_png(&[0.0; 4], 1, 2, 2);
        let e = validate(&png, Architecture::MnistCnn).unwrap_err();
        assert_eq!(e, WeightsError::IsImage("PNG"));
        assert!(e.to_string().starts_with("this is a PNG image, not a weights file"), "{e}");
        assert_eq!(check_size(300_000_000).unwrap_err().to_string(), "the file is 300 MB; the limit for weights is 256 MB");
        assert_eq!(check_size(3_791_456), Ok(()));
        // Text and a truncated header get plain words, not the parser's enum names.
        let e = validate(b"hello, this is text", Architecture::MnistCnn).unwrap_err().to_string();
        assert_eq!(e, "this is not a safetensors file (it does not start with a safetensors header)");
        let mut st = 40u64.to_le_bytes().to_vec();
        st.extend_from_slice(br#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#);
        let e = validate(&st[..8 + 20], Architecture::MnistCnn).unwrap_err().to_string();
        assert!(!e.contains("HeaderTooLarge") && !e.contains("InvalidHeader"), "{e}");
    }
}
