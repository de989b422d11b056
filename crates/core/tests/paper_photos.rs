//! Photos of digits written on paper come out like MNIST digits: generated photos of committed
//! MNIST test digits (dark blue or graphite ink on textured paper, a shadow across the sheet, a
//! slight rotation, some digits touching the edge) go through the app's recipe
//! (`preprocess::mnist_from_image`) and the shipped p = 0.25 model classifies them.

mod common;

use common::{shipped, subset};
use image::{DynamicImage, Rgb, RgbImage};
use quiver_core::attacks::{argmax_of, probabilities};
use quiver_core::preprocess::mnist_from_image;

/// A small deterministic generator for the paper's texture.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Bilinear sample of a 28×28 digit (0 outside).
fn sample(digit: &[f32], x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| {
        if xi < 0.0 || yi < 0.0 || xi > 27.0 || yi > 27.0 {
            0.0
        } else {
            digit[yi as usize * 28 + xi as usize]
        }
    };
    at(x0, y0) * (1.0 - fx) * (1.0 - fy) + at(x0 + 1.0, y0) * fx * (1.0 - fy) + at(x0, y0 + 1.0) * (1.0 - fx) * fy + at(x0 + 1.0, y0 + 1.0) * fx * fy
}

/// How one photo is taken.
#[derive(Clone, Copy, Debug)]
struct Shot {
    /// Degrees, counter-clockwise.
    rotation: f32,
    /// Ink colour.
    ink: [f32; 3],
    /// How much darker the far side of the sheet is (0: even light).
    shadow: f32,
    /// Where the digit's box sits: 0.5 centred, near 0 or 1 at an edge.
    at: (f32, f32),
}

/// A 240×240 photo of `digit` (28×28, white on black) written on paper.
fn photo(digit: &[f32], shot: Shot, noise: &mut Noise) -> RgbImage {
    const SIDE: u32 = 240;
    // The digit is 170 px tall on the sheet (28 px → 170 px).
    let scale = 170.0 / 28.0;
    let box_side = 28.0 * scale;
    let (ox, oy) = (shot.at.0 * (SIDE as f32 - box_side), shot.at.1 * (SIDE as f32 - box_side));
    let (s, c) = shot.rotation.to_radians().sin_cos();
    let centre = (ox + box_side / 2.0, oy + box_side / 2.0);
    let paper = [0.93, 0.91, 0.85];
    RgbImage::from_fn(SIDE, SIDE, |x, y| {
        // Inverse rotation about the digit's centre, into digit coordinates.
        let (dx, dy) = (x as f32 - centre.0, y as f32 - centre.1);
        let (rx, ry) = (c * dx + s * dy, -s * dx + c * dy);
        let ink = sample(digit, (rx + box_side / 2.0) / scale - 0.5, (ry + box_side / 2.0) / scale - 0.5);
        let light = 1.0 - shot.shadow * (x as f32 / SIDE as f32) * (0.6 + 0.4 * y as f32 / SIDE as f32);
        let grain = (noise.next() - 0.5) * 0.08;
        let px: Vec<u8> = (0..3)
            .map(|k| {
                let v = (paper[k] + grain) * (1.0 - ink) + shot.ink[k] * ink;
                ((v * light).clamp(0.0, 1.0) * 255.0).round() as u8
            })
            .collect();
        Rgb([px[0], px[1], px[2]])
    })
}

#[test]
fn photos_of_digits_on_paper_are_classified_like_the_digits() {
    let model = shipped("mnist_cnn_p025");
    let set = subset();
    let blue = [0.12, 0.16, 0.55];
    let graphite = [0.25, 0.25, 0.27];
    let shots = [
        Shot { rotation: 6.0, ink: blue, shadow: 0.45, at: (0.5, 0.5) },
        Shot { rotation: -8.0, ink: graphite, shadow: 0.35, at: (0.5, 0.4) },
        Shot { rotation: 3.0, ink: blue, shadow: 0.25, at: (1.0, 0.5) }, // touches the right edge
    ];
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let (mut right, mut total) = (0, 0);
    let mut wrong = Vec::new();
    for class in 0..10 {
        // The first two subset digits of each class that the model gets right as they are: the
        // photo, not the digit, is what is tested.
        let digits: Vec<usize> = (0..set.len()).filter(|&i| set.label(i) == class && argmax_of(&probabilities(&model, &set.image(i))) == class).take(2).collect();
        for &i in &digits {
            for shot in shots {
                let img = DynamicImage::ImageRgb8(photo(&set.image(i), shot, &mut noise));
                let prepared = mnist_from_image(&img);
                assert_eq!(prepared.note, None, "a photo is not blank");
                let predicted = argmax_of(&probabilities(&model, &prepared.pixels));
                total += 1;
                if predicted == class {
                    right += 1;
                } else {
                    wrong.push(format!("subset #{i} (a {class}) {shot:?} → {predicted}"));
                }
            }
        }
    }
    println!("paper photos classified correctly: {right} of {total}; wrong: {wrong:#?}");
    // The background must come out as MNIST's black: every value of the paper around the digit
    // is 0 in the model's input (checked on one photo with the strongest shadow).
    let img = DynamicImage::ImageRgb8(photo(&set.image(0), shots[0], &mut noise));
    let x = mnist_from_image(&img).pixels;
    let corners: Vec<f32> = [0usize, 27, 27 * 28, 28 * 28 - 1, 28 + 1, 2 * 28 - 2].iter().map(|&i| x[i]).collect();
    assert!(corners.iter().all(|&v| v == 0.0), "the paper is black in the model's input: {corners:?}");
    assert!(right * 10 >= total * 9, "{right} of {total} photos classified correctly: {wrong:#?}");
}
