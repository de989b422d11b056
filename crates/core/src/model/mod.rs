//! The classifiers. Each model owns its input definition: images come in as pixels in [0, 1],
//! shaped `[batch, channels, height, width]`; any normalisation happens inside `forward`.

pub mod mnist_cnn;

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use mnist_cnn::MnistCnn;

/// The architectures Quiver knows, as named in `weights/manifest.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// The seed report's MNIST CNN (§2.2.1).
    MnistCnn,
}

impl Architecture {
    /// `[channels, height, width]` of one input image.
    pub fn input_shape(self) -> [usize; 3] {
        match self {
            Architecture::MnistCnn => [1, 28, 28],
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
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Architecture::MnistCnn => "mnist_cnn",
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
    /// `[T, ..dropout_shapes()[l]]` and holds 0 or 1/(1-p). Layers before the first dropout are
    /// computed once for all passes. Returns logits `[T, K]`.
    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2>;

    /// Training forward with fresh Bernoulli dropout of rate `p` (for the autodiff device).
    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2>;

    fn device(&self) -> Device;
}

/// A loaded model of any supported architecture.
#[derive(Clone, Debug)]
pub enum Model {
    MnistCnn(MnistCnn),
}

impl Model {
    pub fn init(arch: Architecture, device: &Device) -> Self {
        match arch {
            Architecture::MnistCnn => Model::MnistCnn(MnistCnn::init(device)),
        }
    }

    fn inner(&self) -> &dyn Classifier {
        match self {
            Model::MnistCnn(m) => m,
        }
    }

    /// The same model with its parameters on another device.
    pub fn to_device(self, device: &Device) -> Self {
        use burn::module::Module;
        match self {
            Model::MnistCnn(m) => Model::MnistCnn(m.to_device(device)),
        }
    }
}

impl Classifier for Model {
    fn architecture(&self) -> Architecture {
        self.inner().architecture()
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.inner().forward(x)
    }
    fn dropout_shapes(&self) -> Vec<Vec<usize>> {
        self.inner().dropout_shapes()
    }
    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2> {
        self.inner().forward_masked(x, masks)
    }
    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2> {
        self.inner().forward_train(x, p)
    }
    fn device(&self) -> Device {
        self.inner().device()
    }
}
