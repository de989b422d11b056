//! The MNIST CNN's host kernel (`model/mnist_kernel.rs`, used for CPU tensors) against Burn's
//! layers on the same weights: the deterministic forward, the masked MC passes, and the input
//! gradient — the last also against central finite differences.

mod common;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use common::{shipped, subset};
use quiver_core::attacks::{image_tensor, loss_gradient};
use quiver_core::mc_dropout::{dropout_masks, mc_probabilities, McConfig};
use quiver_core::{Classifier, Model};

fn burn_net(model: &Model) -> &quiver_core::model::MnistCnn {
    match model {
        Model::MnistCnn(m, _) => m,
        _ => panic!("an MNIST model"),
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Test images: the first digits of the committed subset, a blank and a saturated image, and
/// random noise (every pixel in [0, 1]).
fn images() -> Vec<Vec<f32>> {
    let set = subset();
    let mut out: Vec<Vec<f32>> = (0..6).map(|i| set.image(i)).collect();
    out.push(vec![0.0; 784]);
    out.push(vec![1.0; 784]);
    let mut s = 12345u32;
    out.push(
        (0..784)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect(),
    );
    out
}

#[test]
fn forward_equals_burn_on_shipped_weights() {
    for id in ["mnist_cnn_p020", "mnist_cnn_p025"] {
        let model = shipped(id);
        let imgs = images();
        let batch: Vec<f32> = imgs.concat();
        let x = Tensor::<4>::from_data(TensorData::new(batch, [imgs.len(), 1, 28, 28]), &Device::flex());
        let fast = values(model.forward(x.clone()));
        let burn = values(burn_net(&model).forward(x));
        assert_eq!(fast.len(), imgs.len() * 10);
        let scale = burn.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = max_diff(&fast, &burn);
        assert!(d <= 1e-5 * scale.max(1.0), "{id}: logits differ by {d} (scale {scale})");
    }
}

#[test]
fn masked_passes_equal_burn_for_every_rate() {
    let model = shipped("mnist_cnn_p025");
    let device = Device::flex();
    for (i, image) in images().iter().enumerate().take(4) {
        for p in [0.0, 0.1, 0.25, 0.5] {
            let cfg = McConfig { passes: 13, p, seed: 7 + i as u64 };
            let masks = dropout_masks(&model, &cfg, &device);
            let x = image_tensor(&model, image);
            let burn = values(burn_net(&model).forward_masked(x.clone(), &masks));
            let fast = values(model.forward_masked(x.clone(), &masks));
            let d = max_diff(&fast, &burn);
            assert!(d <= 1e-4, "image {i}, p {p}: logits differ by {d}");
            // The MC entry point (host masks, no upload) gives the same probabilities.
            let probs = values(mc_probabilities(&model, x.clone(), &cfg).unwrap());
            let reference = values(burn::tensor::activation::softmax(Tensor::<2>::from_data(TensorData::new(burn.clone(), [13, 10]), &device), 1));
            assert!(max_diff(&probs, &reference) <= 1e-5, "image {i}, p {p}: probabilities differ");
        }
    }
    // Different masks give different passes (the masks are used, not ignored).
    let x = image_tensor(&model, &images()[0]);
    let cfg = McConfig { passes: 2, p: 0.5, seed: 1 };
    let rows = values(model.forward_masked(x.clone(), &dropout_masks(&model, &cfg, &device)));
    assert!(max_diff(&rows[..10], &rows[10..]) > 1e-3);
}

/// Burn's autodiff through the same layers: the reference gradient.
fn burn_gradient(model: &Model, image: &[f32], class: usize) -> (f32, Vec<f32>) {
    let x = image_tensor(model, image).autodiff().require_grad();
    let logits = burn_net(model).forward(x.clone());
    let mut onehot = vec![0f32; 10];
    onehot[class] = 1.0;
    let onehot = Tensor::<2>::from_data(TensorData::new(onehot, [1, 10]), &logits.device());
    let loss = -(log_softmax(logits, 1) * onehot).sum();
    let grads = loss.backward();
    let g = values(x.grad(&grads).unwrap());
    (values(loss)[0], g)
}

#[test]
fn gradient_equals_burn_autodiff() {
    let model = shipped("mnist_cnn_p025");
    for (i, image) in images().iter().enumerate() {
        for class in [0, 3, 7] {
            let (loss, g) = loss_gradient(&model, image, class);
            let (loss_ref, g_ref) = burn_gradient(&model, image, class);
            assert!((loss - loss_ref).abs() <= 1e-4 * loss_ref.abs().max(1.0), "image {i}: loss {loss} vs {loss_ref}");
            let scale = g_ref.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = max_diff(&g, &g_ref);
            // Where the class is predicted with p ≈ 1 the gradient is tiny and 1 − p cancels in
            // f32 in both paths: an absolute floor of 1e-6 covers that.
            assert!(d <= 1e-4 * scale.max(1e-2), "image {i}, class {class}: gradient differs by {d} (scale {scale})");
            // The sign pattern FGSM uses agrees wherever the gradient is not tiny.
            let flips = g.iter().zip(&g_ref).filter(|(a, b)| b.abs() > 1e-3 * scale && a.signum() != b.signum()).count();
            assert_eq!(flips, 0, "image {i}, class {class}");
        }
    }
}

#[test]
fn gradient_matches_finite_differences() {
    let model = shipped("mnist_cnn_p025");
    let image = &images()[1];
    let class = 2;
    let (_, g) = loss_gradient(&model, image, class);
    let loss_at = |x: &[f32]| -> f64 {
        let l = values(model.forward(image_tensor(&model, x)));
        let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
        let lse = m + l.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
        lse - l[class] as f64
    };
    // Directional derivatives along random directions, interior pixels only (no clipping).
    let mut s = 99u32;
    for _ in 0..5 {
        let dir: Vec<f32> = (0..784)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if (s >> 31) == 1 { 1.0 } else { -1.0 }
            })
            .collect();
        let h = 1e-3f32;
        let plus: Vec<f32> = image.iter().zip(&dir).map(|(x, d)| x + h * d).collect();
        let minus: Vec<f32> = image.iter().zip(&dir).map(|(x, d)| x - h * d).collect();
        let fd = (loss_at(&plus) - loss_at(&minus)) / (2.0 * h as f64);
        let analytic: f64 = g.iter().zip(&dir).map(|(a, d)| (a * d) as f64).sum();
        assert!((fd - analytic).abs() <= 0.02 * analytic.abs().max(0.05), "finite difference {fd} vs gradient {analytic}");
    }
}
