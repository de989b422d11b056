//! The seed report's MNIST CNN (§2.2.1):
//! conv 1→16 5×5 s1 p2 → ReLU → max-pool 2 → dropout(p) →
//! conv 16→32 5×5 s1 p2 → ReLU → max-pool 2 → dropout(p) → flatten → linear 1568→10.
//!
//! The PyTorch module with the same `state_dict`:
//! ```python
//! class MnistCnn(nn.Module):
//!     def __init__(self, p):
//!         super().__init__()
//!         self.conv1 = nn.Conv2d(1, 16, 5, 1, 2)
//!         self.conv2 = nn.Conv2d(16, 32, 5, 1, 2)
//!         self.fc = nn.Linear(32 * 7 * 7, 10)
//!         self.drop = nn.Dropout(p)
//!     def forward(self, x):                      # x: pixels in [0, 1]
//!         x = (x - 0.1307) / 0.3081
//!         x = self.drop(F.max_pool2d(F.relu(self.conv1(x)), 2))
//!         x = self.drop(F.max_pool2d(F.relu(self.conv2(x)), 2))
//!         return self.fc(x.flatten(1))
//! ```

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};

use super::{Architecture, Classifier};

/// MNIST mean and standard deviation; the model normalises its own input.
pub const MNIST_MEAN: f32 = 0.1307;
pub const MNIST_STD: f32 = 0.3081;

/// Tensor names and shapes, PyTorch `state_dict` convention.
pub const TENSOR_SPECS: [(&str, &[usize]); 6] = [
    ("conv1.weight", &[16, 1, 5, 5]),
    ("conv1.bias", &[16]),
    ("conv2.weight", &[32, 16, 5, 5]),
    ("conv2.bias", &[32]),
    ("fc.weight", &[10, 1568]),
    ("fc.bias", &[10]),
];

#[derive(Module, Debug)]
pub struct MnistCnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    /// Stored in Burn's `[in, out]` layout; weight I/O transposes to PyTorch's `[out, in]`.
    pub fc: Linear,
    pool: MaxPool2d,
}

impl MnistCnn {
    pub fn init(device: &Device) -> Self {
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [5, 5])
                .with_stride([1, 1])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device)
        };
        Self {
            conv1: conv(1, 16),
            conv2: conv(16, 32),
            fc: LinearConfig::new(32 * 7 * 7, 10).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
        }
    }

    /// Normalise, conv1, ReLU, pool: everything before the first dropout.
    fn block1(&self, x: Tensor<4>) -> Tensor<4> {
        let x = (x - MNIST_MEAN) / MNIST_STD;
        self.pool.forward(relu(self.conv1.forward(x)))
    }

    fn block2(&self, x: Tensor<4>) -> Tensor<4> {
        self.pool.forward(relu(self.conv2.forward(x)))
    }

    fn head(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc.forward(x.flatten(1, 3))
    }
}

fn bernoulli_dropout(x: Tensor<4>, p: f64) -> Tensor<4> {
    if p <= 0.0 {
        return x;
    }
    let keep = x.random_like(Distribution::Bernoulli(1.0 - p));
    x * keep / (1.0 - p)
}

impl Classifier for MnistCnn {
    fn architecture(&self) -> Architecture {
        Architecture::MnistCnn
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.head(self.block2(self.block1(x)))
    }

    fn dropout_shapes(&self) -> Vec<Vec<usize>> {
        vec![vec![16, 14, 14], vec![32, 7, 7]]
    }

    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2> {
        let passes = masks[0].dims()[0];
        // conv1 once, then broadcast to every pass through the first mask.
        let h = self.block1(x);
        let h = masks[0].clone() * h;
        let h = self.block2(h) * masks[1].clone();
        debug_assert_eq!(h.dims()[0], passes);
        self.head(h)
    }

    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2> {
        let h = bernoulli_dropout(self.block1(x), p);
        let h = bernoulli_dropout(self.block2(h), p);
        self.head(h)
    }

    fn device(&self) -> Device {
        self.conv1.weight.device()
    }
}
