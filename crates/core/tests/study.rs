//! The study's per-image records with a real model: the per-image seed makes them independent
//! of how the images are chunked (the app runs one image at a time), and they agree with
//! `mc_dropout` run directly.

mod common;

use quiver_core::mc_dropout::{mc_dropout, McConfig};
use quiver_core::study::{image_seed, record_for_image, tables, ImageRecord, DEFAULT_BINS};

#[test]
fn records_do_not_depend_on_chunking_or_order() {
    let model = common::shipped("mnist_cnn_p025");
    let set = common::subset();
    let cfg = McConfig { passes: 8, p: 0.25, seed: 42 };
    let n = 12;
    let all: Vec<ImageRecord> = (0..n).map(|i| record_for_image(&model, &set.image(i), set.label(i), i, &cfg).unwrap()).collect();
    for chunk in [1, 5, 7] {
        let mut got = Vec::new();
        // Chunks processed last-first, each image on its own: same records, once sorted.
        let starts: Vec<usize> = (0..n).step_by(chunk).collect();
        for &s in starts.iter().rev() {
            for i in s..(s + chunk).min(n) {
                got.push(record_for_image(&model, &set.image(i), set.label(i), i, &cfg).unwrap());
            }
        }
        got.sort_by_key(|r| r.index);
        assert_eq!(got, all, "chunk {chunk}");
    }
    assert_eq!(tables(&all, 10, DEFAULT_BINS), tables(&all.clone(), 10, DEFAULT_BINS));
    // The record is MC dropout with seed study_seed + index, as `quiver eval` seeds it.
    let i = 5;
    let x = quiver_core::attacks::image_tensor(&model, &set.image(i));
    let s = mc_dropout(&model, x, &McConfig { seed: image_seed(42, i), ..cfg }).unwrap();
    assert_eq!(all[i].mean, s.mean);
    assert_eq!(all[i].variance, s.variance);
    // A different study seed gives different masks.
    let other = record_for_image(&model, &set.image(i), set.label(i), i, &McConfig { seed: 43, ..cfg }).unwrap();
    assert_ne!(other.variance, all[i].variance);
    for r in &all {
        assert!(r.variance.iter().all(|&v| v >= 0.0));
        assert!(r.mutual_information >= 0.0 && r.mutual_information <= r.entropy + 1e-6);
    }
}
