//! AlexNet (Krizhevsky et al. 2012; seed report §2.2.2), scaled to CPU training.
//!
//! The seed's topology, layer for layer: five convolutions with ReLU, max-pooling after conv1,
//! conv2 and conv5 (3×3, stride 2: AlexNet's overlapping pooling), then three fully connected
//! layers with dropout after FC1 and FC2 (after their ReLU, as the seed lists them) and 10
//! outputs. Two presets:
//!
//! **`alexnet_stl10`** (3×96×96 input) keeps AlexNet's stem: conv1 is 11×11 with stride 4. With
//! torchvision's paddings (conv1 pad 2, conv2 pad 2, conv3–5 pad 1) and unpadded 3×3/2 pools the
//! shapes work at 96 without any adaptive pooling: 96 → conv1 23 → pool 11 → conv2 11 → pool 5 →
//! conv3–5 5 → pool 2, so FC1 sees `c5·2·2` features.
//!
//! **`alexnet_cifar10`** (3×32×32 input): an 11×11/4 stem would leave 7×7 after conv1 and
//! nothing after the third pool, so conv1 becomes 3×3 with stride 1 and pad 1 (the usual
//! small-image adaptation), and the 3×3/2 pools get pad 1 so each one halves the size:
//! 32 → conv1 32 → pool 16 → conv2 (5×5, pad 2) 16 → pool 8 → conv3–5 8 → pool 4, so FC1 sees
//! `c5·4·4` features. (After a ReLU every value is ≥ 0, so a padded pool is the same whether the
//! padding counts as 0 or −∞.)
//!
//! Widths: AlexNet's 96/256/384/384/256 conv channels and 4096/4096 FC units are scaled down to
//! **48/96/128/128/96** and **256/256** so that the CIFAR-10 model trains on two shared CPU
//! cores (Burn Flex) in about two hours. Measured with `quiver bench-backends --arch
//! alexnet_cifar10` (batch 128, forward + backward + Adam; the other core busy), seconds per step
//! for conv widths with FC widths: 64/128/192/192/128 with 512/512 2.0 s (13 min per 50k-image
//! epoch); 64/96/128/128/96 with 384/384 1.6 s; 48/96/128/128/96 with 256/256 **1.1 s (7 min per
//! epoch)**; 32/64/96/96/64 with 256/256 0.8 s. The chosen widths keep AlexNet's shape (narrow stem, widest conv3/conv4, FC head wider than
//! conv5's channels) at half its conv width ratio. Parameters (all F32: both files are far
//! below the 10 MB budget, so F16 storage is optional):
//!
//! | layer | cifar10 | stl10 |
//! |---|---|---|
//! | conv1 | 48·3·3·3 + 48 = 1,344 | 48·3·11·11 + 48 = 17,472 |
//! | conv2 | 96·48·5·5 + 96 = 115,296 | same |
//! | conv3 | 128·96·3·3 + 128 = 110,720 | same |
//! | conv4 | 128·128·3·3 + 128 = 147,584 | same |
//! | conv5 | 96·128·3·3 + 96 = 110,688 | same |
//! | fc1 | 256·1536 + 256 = 393,472 | 256·384 + 256 = 98,560 |
//! | fc2 | 256·256 + 256 = 65,792 | same |
//! | fc3 | 10·256 + 10 = 2,570 | same |
//! | total | 947,466 (3.8 MB as F32, 1.9 MB as F16) | 668,682 (2.7 MB F32) |
//!
//! The model normalises its own input: pixels in [0, 1] go through the per-channel mean and
//! standard deviation of its training set (constants, not parameters).
//!
//! The PyTorch module with the same `state_dict` (cifar10 preset; stl10 in the comments):
//! ```python
//! class AlexNet(nn.Module):
//!     def __init__(self, p, w=(48, 96, 128, 128, 96), fc=256):
//!         super().__init__()
//!         self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1)       # stl10: nn.Conv2d(3, w[0], 11, 4, 2)
//!         self.conv2 = nn.Conv2d(w[0], w[1], 5, 1, 2)
//!         self.conv3 = nn.Conv2d(w[1], w[2], 3, 1, 1)
//!         self.conv4 = nn.Conv2d(w[2], w[3], 3, 1, 1)
//!         self.conv5 = nn.Conv2d(w[3], w[4], 3, 1, 1)
//!         self.pool = nn.MaxPool2d(3, 2, 1)               # stl10: nn.MaxPool2d(3, 2)
//!         self.fc1 = nn.Linear(w[4] * 4 * 4, fc)          # stl10: w[4] * 2 * 2
//!         self.fc2 = nn.Linear(fc, fc)
//!         self.fc3 = nn.Linear(fc, 10)
//!         self.drop = nn.Dropout(p)
//!         self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
//!         self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
//!     def forward(self, x):                               # x: pixels in [0, 1]
//!         x = (x - self.mean) / self.std
//!         x = self.pool(F.relu(self.conv1(x)))
//!         x = self.pool(F.relu(self.conv2(x)))
//!         x = F.relu(self.conv3(x))
//!         x = F.relu(self.conv4(x))
//!         x = self.pool(F.relu(self.conv5(x)))
//!         x = self.drop(F.relu(self.fc1(x.flatten(1))))
//!         x = self.drop(F.relu(self.fc2(x)))
//!         return self.fc3(x)
//! ```
//!
//! Dropout sits only in the head, so MC dropout runs the convolutional trunk and FC1 once and
//! only FC2 and FC3 for all `T` passes ([`Classifier::forward_masked`]).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use super::{Architecture, Classifier};

/// Everything that differs between the presets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlexnetSpec {
    pub arch: Architecture,
    /// `[channels, height, width]` of the input.
    pub input: [usize; 3],
    /// conv1 kernel, stride and padding.
    pub conv1: (usize, usize, usize),
    /// Padding of the 3×3/2 max-pools.
    pub pool_pad: usize,
    /// Output channels of conv1..conv5.
    pub widths: [usize; 5],
    /// Units of FC1 and FC2.
    pub fc: [usize; 2],
    /// Side of conv5's pooled output.
    pub feature_side: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// CIFAR-10 channel statistics of the training set (pixels in [0, 1]).
pub const CIFAR10_MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
pub const CIFAR10_STD: [f32; 3] = [0.2470, 0.2435, 0.2616];
/// STL-10 channel statistics of the labelled training set.
pub const STL10_MEAN: [f32; 3] = [0.4467, 0.4398, 0.4066];
pub const STL10_STD: [f32; 3] = [0.2603, 0.2566, 0.2713];

/// Conv and FC widths of both presets.
pub const WIDTHS: [usize; 5] = [48, 96, 128, 128, 96];
pub const FC: [usize; 2] = [256, 256];

pub const CIFAR10: AlexnetSpec = AlexnetSpec {
    arch: Architecture::AlexnetCifar10,
    input: [3, 32, 32],
    conv1: (3, 1, 1),
    pool_pad: 1,
    widths: WIDTHS,
    fc: FC,
    feature_side: 4,
    mean: CIFAR10_MEAN,
    std: CIFAR10_STD,
};

pub const STL10: AlexnetSpec = AlexnetSpec {
    arch: Architecture::AlexnetStl10,
    input: [3, 96, 96],
    conv1: (11, 4, 2),
    pool_pad: 0,
    widths: WIDTHS,
    fc: FC,
    feature_side: 2,
    mean: STL10_MEAN,
    std: STL10_STD,
};

/// Tensor names and shapes of the cifar10 preset, PyTorch `state_dict` convention.
pub const CIFAR10_TENSOR_SPECS: [(&str, &[usize]); 16] = [
    ("conv1.weight", &[48, 3, 3, 3]),
    ("conv1.bias", &[48]),
    ("conv2.weight", &[96, 48, 5, 5]),
    ("conv2.bias", &[96]),
    ("conv3.weight", &[128, 96, 3, 3]),
    ("conv3.bias", &[128]),
    ("conv4.weight", &[128, 128, 3, 3]),
    ("conv4.bias", &[128]),
    ("conv5.weight", &[96, 128, 3, 3]),
    ("conv5.bias", &[96]),
    ("fc1.weight", &[256, 1536]),
    ("fc1.bias", &[256]),
    ("fc2.weight", &[256, 256]),
    ("fc2.bias", &[256]),
    ("fc3.weight", &[10, 256]),
    ("fc3.bias", &[10]),
];

/// Tensor names and shapes of the stl10 preset.
pub const STL10_TENSOR_SPECS: [(&str, &[usize]); 16] = [
    ("conv1.weight", &[48, 3, 11, 11]),
    ("conv1.bias", &[48]),
    ("conv2.weight", &[96, 48, 5, 5]),
    ("conv2.bias", &[96]),
    ("conv3.weight", &[128, 96, 3, 3]),
    ("conv3.bias", &[128]),
    ("conv4.weight", &[128, 128, 3, 3]),
    ("conv4.bias", &[128]),
    ("conv5.weight", &[96, 128, 3, 3]),
    ("conv5.bias", &[96]),
    ("fc1.weight", &[256, 384]),
    ("fc1.bias", &[256]),
    ("fc2.weight", &[256, 256]),
    ("fc2.bias", &[256]),
    ("fc3.weight", &[10, 256]),
    ("fc3.bias", &[10]),
];

pub const CONV_NAMES: [&str; 5] = ["conv1", "conv2", "conv3", "conv4", "conv5"];
pub const FC_NAMES: [&str; 3] = ["fc1", "fc2", "fc3"];

impl AlexnetSpec {
    pub fn for_arch(arch: Architecture) -> Option<Self> {
        match arch {
            Architecture::AlexnetCifar10 => Some(CIFAR10),
            Architecture::AlexnetStl10 => Some(STL10),
            _ => None,
        }
    }

    /// The same preset with other widths (for timing experiments).
    pub fn with_widths(mut self, widths: [usize; 5], fc: [usize; 2]) -> Self {
        self.widths = widths;
        self.fc = fc;
        self
    }

    /// Inputs of FC1.
    pub fn features(&self) -> usize {
        self.widths[4] * self.feature_side * self.feature_side
    }

    /// Every tensor with its shape, PyTorch layout, in `state_dict` order.
    pub fn tensor_specs(&self) -> Vec<(&'static str, Vec<usize>)> {
        let w = self.widths;
        let k1 = self.conv1.0;
        let ins = [self.input[0], w[0], w[1], w[2], w[3]];
        let kernels = [k1, 5, 3, 3, 3];
        let conv_w = ["conv1.weight", "conv2.weight", "conv3.weight", "conv4.weight", "conv5.weight"];
        let conv_b = ["conv1.bias", "conv2.bias", "conv3.bias", "conv4.bias", "conv5.bias"];
        let mut out = Vec::new();
        for i in 0..5 {
            out.push((conv_w[i], vec![w[i], ins[i], kernels[i], kernels[i]]));
            out.push((conv_b[i], vec![w[i]]));
        }
        let fc_in = [self.features(), self.fc[0], self.fc[1]];
        let fc_out = [self.fc[0], self.fc[1], 10];
        let fc_w = ["fc1.weight", "fc2.weight", "fc3.weight"];
        let fc_b = ["fc1.bias", "fc2.bias", "fc3.bias"];
        for i in 0..3 {
            out.push((fc_w[i], vec![fc_out[i], fc_in[i]]));
            out.push((fc_b[i], vec![fc_out[i]]));
        }
        out
    }
}

#[derive(Module, Debug)]
pub struct AlexNet {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub conv3: Conv2d,
    pub conv4: Conv2d,
    pub conv5: Conv2d,
    /// Linear layers are stored in Burn's `[in, out]` layout; weight I/O transposes to
    /// PyTorch's `[out, in]`.
    pub fc1: Linear,
    pub fc2: Linear,
    pub fc3: Linear,
    pool: MaxPool2d,
    #[module(skip)]
    spec: AlexnetSpec,
}

impl AlexNet {
    /// A freshly initialised model of one preset.
    pub fn init(arch: Architecture, device: &Device) -> Self {
        Self::with_spec(AlexnetSpec::for_arch(arch).expect("an AlexNet architecture"), device)
    }

    pub fn with_spec(spec: AlexnetSpec, device: &Device) -> Self {
        let w = spec.widths;
        let conv = |cin: usize, cout: usize, k: usize, s: usize, p: usize| {
            Conv2dConfig::new([cin, cout], [k, k])
                .with_stride([s, s])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init(device)
        };
        let (k1, s1, p1) = spec.conv1;
        let pp = spec.pool_pad;
        Self {
            conv1: conv(spec.input[0], w[0], k1, s1, p1),
            conv2: conv(w[0], w[1], 5, 1, 2),
            conv3: conv(w[1], w[2], 3, 1, 1),
            conv4: conv(w[2], w[3], 3, 1, 1),
            conv5: conv(w[3], w[4], 3, 1, 1),
            fc1: LinearConfig::new(spec.features(), spec.fc[0]).init(device),
            fc2: LinearConfig::new(spec.fc[0], spec.fc[1]).init(device),
            fc3: LinearConfig::new(spec.fc[1], 10).init(device),
            pool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(pp, pp, pp, pp))
                .init(),
            spec,
        }
    }

    pub fn spec(&self) -> &AlexnetSpec {
        &self.spec
    }

    pub fn convs(&self) -> [(&'static str, &Conv2d); 5] {
        [
            ("conv1", &self.conv1),
            ("conv2", &self.conv2),
            ("conv3", &self.conv3),
            ("conv4", &self.conv4),
            ("conv5", &self.conv5),
        ]
    }

    pub fn convs_mut(&mut self) -> [(&'static str, &mut Conv2d); 5] {
        [
            ("conv1", &mut self.conv1),
            ("conv2", &mut self.conv2),
            ("conv3", &mut self.conv3),
            ("conv4", &mut self.conv4),
            ("conv5", &mut self.conv5),
        ]
    }

    pub fn linears(&self) -> [(&'static str, &Linear); 3] {
        [("fc1", &self.fc1), ("fc2", &self.fc2), ("fc3", &self.fc3)]
    }

    pub fn linears_mut(&mut self) -> [(&'static str, &mut Linear); 3] {
        [("fc1", &mut self.fc1), ("fc2", &mut self.fc2), ("fc3", &mut self.fc3)]
    }

    fn normalise(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        let mean = Tensor::<4>::from_data(TensorData::new(self.spec.mean.to_vec(), [1, 3, 1, 1]), &device);
        let std = Tensor::<4>::from_data(TensorData::new(self.spec.std.to_vec(), [1, 3, 1, 1]), &device);
        (x - mean) / std
    }

    /// Normalisation and the five convolutions with their pools, flattened: `[B, features]`.
    pub fn trunk(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.normalise(x);
        let x = self.pool.forward(relu(self.conv1.forward(x)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let x = relu(self.conv3.forward(x));
        let x = relu(self.conv4.forward(x));
        let x = self.pool.forward(relu(self.conv5.forward(x)));
        x.flatten(1, 3)
    }

    /// FC1 and its ReLU: the activations the first dropout masks.
    pub fn fc1_act(&self, features: Tensor<2>) -> Tensor<2> {
        relu(self.fc1.forward(features))
    }

    /// Everything after the first dropout, with the second dropout's mask given.
    fn rest(&self, h1: Tensor<2>, mask2: Option<Tensor<2>>) -> Tensor<2> {
        let h2 = relu(self.fc2.forward(h1));
        let h2 = match mask2 {
            Some(m) => h2 * m,
            None => h2,
        };
        self.fc3.forward(h2)
    }

    /// The full network on a batch `[B, C, H, W]` with per-example dropout masks
    /// (`masks[l]` shaped `[B, units_l]`, entries 0 or 1/(1-p)): B independent full passes.
    pub fn forward_with_masks(&self, x: Tensor<4>, masks: [Tensor<2>; 2]) -> Tensor<2> {
        let [m1, m2] = masks;
        let h1 = self.fc1_act(self.trunk(x)) * m1;
        self.rest(h1, Some(m2))
    }
}

/// `[T, n, 1, 1]` (as drawn by `dropout_masks`) → `[T, n]`.
fn mask2d(mask: &Tensor<4>) -> Tensor<2> {
    let [t, n, a, b] = mask.dims();
    mask.clone().reshape([t, n * a * b])
}

fn bernoulli_dropout(x: Tensor<2>, p: f64) -> Tensor<2> {
    if p <= 0.0 {
        return x;
    }
    let keep = x.random_like(Distribution::Bernoulli(1.0 - p));
    x * keep / (1.0 - p)
}

impl Classifier for AlexNet {
    fn architecture(&self) -> Architecture {
        self.spec.arch
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.rest(self.fc1_act(self.trunk(x)), None)
    }

    fn dropout_shapes(&self) -> Vec<Vec<usize>> {
        vec![vec![self.spec.fc[0]], vec![self.spec.fc[1]]]
    }

    /// The trunk and FC1 run once on the single image; the `[1, fc1]` activations broadcast
    /// against the `[T, fc1]` mask, and only FC2 and FC3 run on all `T` passes as one batch.
    fn forward_masked(&self, x: Tensor<4>, masks: &[Tensor<4>]) -> Tensor<2> {
        let h1 = self.fc1_act(self.trunk(x)) * mask2d(&masks[0]);
        self.rest(h1, Some(mask2d(&masks[1])))
    }

    fn forward_train(&self, x: Tensor<4>, p: f64) -> Tensor<2> {
        let h1 = bernoulli_dropout(self.fc1_act(self.trunk(x)), p);
        let h2 = bernoulli_dropout(relu(self.fc2.forward(h1)), p);
        self.fc3.forward(h2)
    }

    fn device(&self) -> Device {
        self.conv1.weight.device()
    }
}
