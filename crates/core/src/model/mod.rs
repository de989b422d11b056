//! The classifiers. Each model owns its input definition: images come in as pixels in [0, 1],
//! shaped `[batch, channels, height, width]`; any normalisation happens inside `forward`.

pub mod alexnet;
pub mod ensemble;
pub mod mnist_cnn;
pub(crate) mod mnist_kernel;

use std::sync::{Arc, OnceLock};

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use alexnet::AlexNet;
pub use ensemble::{Ensemble, EnsembleError};
pub use mnist_cnn::MnistCnn;

/// The architectures Quiver knows, as named in `weights/manifest.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// The seed report's MNIST CNN (§2.2.1).
    MnistCnn,
    /// AlexNet (§2.2.2) scaled down, for 3×32×32 CIFAR-10 images.
    AlexnetCifar10,
    /// AlexNet (§2.2.2) scaled down, for 3×96×96 STL-10 images (11×11/4 stem).
    AlexnetStl10,
}

/// CIFAR-10 classes in the official label order 0..9.
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
/// STL-10 classes in the official label order (labels 1..10 in the files map to 0..9).
pub const STL10_CLASSES: [&str; 10] =
    ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"];
/// MNIST digits.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

impl Architecture {
    /// Every architecture, in declaration order.
    pub const ALL: [Architecture; 3] = [Architecture::MnistCnn, Architecture::AlexnetCifar10, Architecture::AlexnetStl10];

    /// Parse the manifest/CLI name (`mnist_cnn`, `alexnet_cifar10`, `alexnet_stl10`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Class names in label order.
    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            Architecture::MnistCnn => MNIST_CLASSES,
            Architecture::AlexnetCifar10 => CIFAR10_CLASSES,
            Architecture::AlexnetStl10 => STL10_CLASSES,
        }
    }

    /// `[channels, height, width]` of one input image.
    pub fn input_shape(self) -> [usize; 3] {
        match self {
            Architecture::MnistCnn => [1, 28, 28],
            Architecture::AlexnetCifar10 => alexnet::CIFAR10.input,
            Architecture::AlexnetStl10 => alexnet::STL10.input,
        }
    }

    pub fn num_classes(self) -> usize {
        10
    }

    /// Every tensor a weights file for this architecture must hold, with its shape, in the
    /// PyTorch `state_dict` naming and layout.
    pub fn tensor_specs(self) -> Vec<(&'static str, Vec<usize>)> {
        match self {
            Architecture::MnistCnn => mnist_cnn::TENSOR_SPECS
                .iter()
                .map(|(n, s)| (*n, s.to_vec()))
                .collect(),
            Architecture::AlexnetCifar10 => alexnet::CIFAR10_TENSOR_SPECS
                .iter()
                .map(|(n, s)| (*n, s.to_vec()))
                .collect(),
            Architecture::AlexnetStl10 => alexnet::STL10_TENSOR_SPECS
                .iter()
                .map(|(n, s)| (*n, s.to_vec()))
                .collect(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Architecture::MnistCnn => "mnist_cnn",
            Architecture::AlexnetCifar10 => "alexnet_cifar10",
            Architecture::AlexnetStl10 => "alexnet_stl10",
        }
    }
}

/// What every classifier offers to MC dropout, the attacks and the app.
pub trait Classifier {
    fn architecture(&self) -> Architecture;

    /// Deterministic forward (dropout off): pixels `[B, C, H, W]` in [0, 1] → logits `[B, K]`.
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;

    /// Shapes (without the leading pass dimension) of the activations each dropout layer masks,
    /// in forward order.
    fn dropout_shapes(&self) -> Vec<Vec<usize>>;

    /// `T` stochastic passes of ONE image `[1, C, H, W]`, batched: `masks[l]` has shape
    /// `[T, ..dropout_shapes()[l]]` padded with trailing 1s to four dimensions (an FC layer's
    /// mask is `[T, units, 1, 1]`) and holds 0 or 1/(1-p). Layers before the first dropout are
    /// computed once for all passes. Returns logits `[T, K]`.
    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2>;

    /// [`forward_masked`](Self::forward_masked) with the masks as host values (row-major, shape
    /// alongside). A model with a host kernel uses them as they are; others upload them.
    fn forward_masked_values(&self, x: Tensor<4>, masks: Vec<(Vec<f32>, [usize; 4])>) -> Tensor<2> {
        let device = x.device();
        let masks: Vec<Tensor<4>> =
            masks.into_iter().map(|(v, shape)| Tensor::from_data(TensorData::new(v, shape), &device)).collect();
        self.forward_masked(x, &masks)
    }

    /// Training forward with fresh Bernoulli dropout of rate `p` (for the autodiff device).
    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2>;

    fn device(&self) -> Device;
}

/// A loaded model of any supported architecture.
// Few models exist at a time and they are moved, not stored in bulk: no need to box the larger one.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Model {
    /// The MNIST CNN and its CPU kernel, built on first use from these weights (a `Model`'s
    /// weights never change: a trained or reloaded network is a new `Model`).
    MnistCnn(MnistCnn, KernelCache),
    /// Either AlexNet preset (the architecture is part of the model).
    AlexNet(AlexNet),
    /// K models whose prediction is the mean of their softmaxes (see [`Ensemble`]).
    Ensemble(Ensemble),
}

impl Model {
    pub fn init(arch: Architecture, device: &Device) -> Self {
        match arch {
            Architecture::MnistCnn => Model::mnist(MnistCnn::init(device)),
            Architecture::AlexnetCifar10 | Architecture::AlexnetStl10 => Model::AlexNet(AlexNet::init(arch, device)),
        }
    }

    /// The MNIST CNN as a `Model`.
    pub fn mnist(m: MnistCnn) -> Self {
        Model::MnistCnn(m, KernelCache::default())
    }

    /// The host kernel, where one serves tensors on `device`: the MNIST CNN on the CPU (Flex),
    /// without autodiff.
    pub(crate) fn kernel(&self, device: &Device) -> Option<&mnist_kernel::MnistKernel> {
        match self {
            Model::MnistCnn(m, cache) if !device.is_autodiff() && *device == Device::flex() => {
                Some(cache.0.get_or_init(|| mnist_kernel::MnistKernel::new(m)))
            }
            _ => None,
        }
    }

    fn inner(&self) -> &dyn Classifier {
        match self {
            Model::MnistCnn(m, _) => m,
            Model::AlexNet(m) => m,
            Model::Ensemble(m) => m,
        }
    }

    /// The same model with its parameters on another device.
    pub fn to_device(self, device: &Device) -> Self {
        use burn::module::Module;
        match self {
            Model::MnistCnn(m, _) => Model::mnist(m.to_device(device)),
            Model::AlexNet(m) => Model::AlexNet(m.to_device(device)),
            Model::Ensemble(e) => Model::Ensemble(Ensemble::new(e.members().iter().map(|m| m.clone().to_device(device)).collect()).expect("the members were an ensemble")),
        }
    }
}

impl Classifier for Model {
    fn architecture(&self) -> Architecture {
        self.inner().architecture()
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let device = x.device();
        let Some(kernel) = self.kernel(&device) else { return self.inner().forward(x) };
        let n = x.dims()[0];
        let pixels = host(x);
        let per = pixels.len() / n.max(1);
        let logits: Vec<f32> = pixels.chunks(per).flat_map(|image| *kernel.forward(image).logits()).collect();
        Tensor::from_data(TensorData::new(logits, [n, 10]), &device)
    }
    fn dropout_shapes(&self) -> Vec<Vec<usize>> {
        self.inner().dropout_shapes()
    }
    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2> {
        if self.kernel(&x.device()).is_some() {
            let values = masks.iter().map(|m| (host(m.clone()), m.dims())).collect();
            return self.forward_masked_values(x, values);
        }
        self.inner().forward_masked(x, masks)
    }
    fn forward_masked_values(&self, x: Tensor<4>, masks: Vec<(Vec<f32>, [usize; 4])>) -> Tensor<2> {
        let device = x.device();
        let Some(kernel) = self.kernel(&device) else { return self.inner().forward_masked_values(x, masks) };
        assert_eq!(x.dims()[0], 1, "MC dropout takes one image");
        let [(m1, s1), (m2, _)] = &masks[..] else { panic!("the MNIST CNN has two dropout layers") };
        let logits = kernel.masked(&host(x), m1, m2);
        Tensor::from_data(TensorData::new(logits, [s1[0], 10]), &device)
    }
    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2> {
        self.inner().forward_train(x, p)
    }
    fn device(&self) -> Device {
        self.inner().device()
    }
}

/// See [`Model::MnistCnn`]. Clones share the kernel (the weights are the same).
#[derive(Clone, Debug, Default)]
pub struct KernelCache(Arc<OnceLock<mnist_kernel::MnistKernel>>);

/// A tensor's values on the host, row-major.
pub(crate) fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 tensor")
}
