//! Closed forms and invariants of the study's tables (no model needed).

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn round6_keeps_six_significant_digits() {
    assert_eq!(round6(0.123456789), 0.123457);
    assert_eq!(round6(123456.789), 123457.0);
    assert_eq!(round6(-0.000012345678), -0.0000123457);
    assert_eq!(round6(0.0), 0.0);
}

#[test]
fn auroc_closed_forms() {
    assert_eq!(auroc(&[0.9, 0.8], &[0.1, 0.2, 0.3]), 1.0, "separable");
    assert_eq!(auroc(&[0.1, 0.2], &[0.8, 0.9]), 0.0, "reversed");
    assert_eq!(auroc(&[0.5, 0.5], &[0.5, 0.5, 0.5]), 0.5, "all tied");
    assert!(auroc(&[], &[0.1]).is_nan());
}

/// Hand-worked: positives {0.9, 0.5}, negatives {0.5, 0.1}.
/// Descending: 0.9 (P), 0.5 (P and N, tied), 0.1 (N). Thresholds +∞, 0.9, 0.5, 0.1 give
/// (fpr, tpr) = (0, 0), (0, ½), (½, 1), (1, 1). AUROC by pairs: (0.9,0.5)=1, (0.9,0.1)=1,
/// (0.5,0.5)=½, (0.5,0.1)=1 → 3.5/4 = 0.875; by trapezoids: ½·(½+1)/2 + ½·1 = 0.875.
/// scikit-learn 1.x agrees (see notes/study.md): `roc_curve([1,1,0,0], [.9,.5,.5,.1],
/// drop_intermediate=False)` → fpr [0, 0, .5, 1], tpr [0, .5, 1, 1], thresholds [inf, .9, .5, .1];
/// `roc_auc_score` → 0.875.
#[test]
fn hand_worked_four_point_roc() {
    let pos = [0.9f32, 0.5];
    let neg = [0.5f32, 0.1];
    let roc = roc_curve(&pos, &neg);
    assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 1.0]);
    assert_eq!(roc.tpr, vec![0.0, 0.5, 1.0, 1.0]);
    assert_eq!(roc.thresholds, vec![None, Some(0.9f32 as f64), Some(0.5f32 as f64), Some(0.1f32 as f64)]);
    assert_eq!(auroc(&pos, &neg), 0.875);
    // The area under the curve's points equals the Mann–Whitney form.
    let area: f64 = roc.fpr.windows(2).zip(roc.tpr.windows(2)).map(|(f, t)| (f[1] - f[0]) * (t[0] + t[1]) / 2.0).sum();
    assert!(close(area, 0.875));
}

#[test]
fn auroc_is_the_trapezoid_area_of_the_roc_on_random_scores() {
    // Deterministic pseudo-random scores with many ties (quantised to 0.05).
    let mut x = 12345u64;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 33) % 21) as f32 * 0.05
    };
    let pos: Vec<f32> = (0..37).map(|_| next()).collect();
    let neg: Vec<f32> = (0..53).map(|_| (next() * 0.8).min(1.0)).collect();
    let roc = roc_curve(&pos, &neg);
    let area: f64 = roc.fpr.windows(2).zip(roc.tpr.windows(2)).map(|(f, t)| (f[1] - f[0]) * (t[0] + t[1]) / 2.0).sum();
    assert!(close(area, auroc(&pos, &neg)), "{area} vs {}", auroc(&pos, &neg));
    assert_eq!((roc.fpr.last(), roc.tpr.last()), (Some(&1.0), Some(&1.0)));
    assert!(roc.fpr.windows(2).all(|w| w[0] <= w[1]) && roc.tpr.windows(2).all(|w| w[0] <= w[1]));
    let thin = roc.thinned(5);
    assert_eq!(thin.fpr.len(), 5);
    assert_eq!((thin.fpr[0], thin.tpr[0]), (0.0, 0.0));
    assert_eq!((*thin.fpr.last().unwrap(), *thin.tpr.last().unwrap()), (1.0, 1.0));
}

#[test]
fn ece_of_a_calibrated_set_is_zero_and_of_an_overconfident_one_is_the_gap() {
    // Bin (0.6, 0.667]: confidence 0.65 on 20 images, 13 correct → calibrated.
    // Bin (0.933, 1]: confidence 0.95 on 20 images, 19 correct → calibrated.
    let mut pairs: Vec<(f32, bool)> = (0..20).map(|i| (0.65, i < 13)).collect();
    pairs.extend((0..20).map(|i| (0.95, i < 19)));
    let r = reliability(pairs, DEFAULT_BINS);
    assert!(r.ece.abs() < 1e-6, "{}", r.ece);
    assert_eq!(r.bins.iter().map(|b| b.count).sum::<usize>(), 40);
    assert_eq!(r.bins[9].count, 20);
    assert_eq!(r.bins[14].count, 20);
    // Confidence 0.9 always, half correct: ECE = 0.4.
    let r = reliability((0..10).map(|i| (0.9f32, i % 2 == 0)), DEFAULT_BINS);
    assert!((r.ece - 0.4).abs() < 1e-6);
    // 0 and 0.06 fall in bin 0 ((0, 1/15] plus 0), 0.1 in bin 1, 1 in the last.
    let r = reliability([(0.0f32, true), (0.06, true), (0.1, false), (1.0, true)], DEFAULT_BINS);
    assert_eq!(r.bins[0].count, 2);
    assert_eq!(r.bins[1].count, 1);
    assert_eq!(r.bins[14].count, 1);
}

#[test]
fn histogram_counts_sum_to_each_group_and_share_edges() {
    let b = [0.0f32, 0.1, 0.2, 0.2, 0.9];
    let a = [0.5f32, 1.0, 1.0];
    let h = histograms(&b, &a, 4);
    assert_eq!(h.edges, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(h.benign, vec![4, 0, 0, 1]);
    assert_eq!(h.adversarial, vec![0, 0, 1, 2]);
    let flat = histograms(&[0.3, 0.3], &[0.3], 3);
    assert_eq!(flat.benign.iter().sum::<usize>(), 2);
    assert_eq!(flat.adversarial.iter().sum::<usize>(), 1);
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|&l| (l - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn ensemble_of_identical_members_has_no_spread() {
    let p = softmax(&[2.0, 0.5, -1.0, 0.0]);
    let r = ImageRecord::from_members(0, 0, &[p.clone(), p.clone(), p.clone(), p.clone(), p.clone()]);
    assert!(r.variance.iter().all(|&v| v.abs() < 1e-12), "{:?}", r.variance);
    assert!(r.mutual_information.abs() < 1e-6, "{}", r.mutual_information);
    assert!(r.entropy > 0.5);
    assert_eq!(r.predicted, 0);
    assert_eq!(r.det_probs, p);
}

#[test]
fn ensemble_record_matches_closed_forms_for_two_members() {
    // Members [1, 0] and [0, 1]: mean ½, variance ¼ each, entropy ln 2, MI ln 2 − 0 = ln 2.
    let r = ImageRecord::from_members(3, 1, &[vec![1.0, 0.0], vec![0.0, 1.0]]);
    assert_eq!(r.mean, vec![0.5, 0.5]);
    assert_eq!(r.variance, vec![0.25, 0.25]);
    assert!((r.entropy as f64 - 2f64.ln()).abs() < 1e-6);
    assert!((r.mutual_information as f64 - 2f64.ln()).abs() < 1e-6);
    assert_eq!((r.index, r.label, r.predicted, r.correct), (3, 1, 0, false), "ties go to the lowest class");
    assert_eq!(r.true_prob, 0.5);
}

#[test]
fn records_respect_the_invariants() {
    let mut x = 7u64;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
    };
    for k in 0..50 {
        let members: Vec<Vec<f32>> = (0..(1 + k % 7)).map(|_| softmax(&(0..10).map(|_| next()).collect::<Vec<_>>())).collect();
        let r = ImageRecord::from_members(k, k % 10, &members);
        assert!(r.variance.iter().all(|&v| v >= 0.0));
        assert!(r.mutual_information >= 0.0);
        assert!(r.mutual_information <= r.entropy + 1e-6);
        assert!(r.entropy <= (10f32).ln() + 1e-5);
        assert!((r.mean.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn tables_average_per_class_and_count_every_image() {
    let recs = vec![
        ImageRecord::from_members(0, 0, &[vec![0.9, 0.1], vec![0.7, 0.3]]),
        ImageRecord::from_members(1, 0, &[vec![0.2, 0.8], vec![0.4, 0.6]]),
        ImageRecord::from_members(2, 1, &[vec![0.5, 0.5], vec![0.1, 0.9]]),
    ];
    let t = tables(&recs, 2, DEFAULT_BINS);
    assert_eq!(t.images, 3);
    assert_eq!(t.per_class[0].count, 2);
    assert_eq!(t.per_class[1].count, 1);
    // Class 0: true-class means 0.8 and 0.3; variances 0.01 and 0.01.
    assert!((t.per_class[0].true_prob - 0.55).abs() < 1e-6);
    assert!((t.per_class[0].variance - 0.01).abs() < 1e-6);
    assert_eq!(t.per_class[0].top1, 0.5);
    // Deterministic = member 1: image 0 right, image 1 wrong, image 2 tie → class 0 (wrong).
    assert_eq!(t.per_class[0].det_top1, 0.5);
    assert_eq!(t.per_class[1].det_top1, 0.0);
    assert!((t.top1 - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(t.reliability.bins.iter().map(|b| b.count).sum::<usize>(), 3);
    assert_eq!(t.det_reliability.bins.iter().map(|b| b.count).sum::<usize>(), 3);
}

#[test]
fn image_seed_is_the_eval_rule() {
    assert_eq!(image_seed(0, 0), 0);
    assert_eq!(image_seed(10, 5), 15);
    assert_eq!(image_seed(u64::MAX, 1), 0);
}

#[test]
fn study_file_round_trips_through_json() {
    let recs = vec![ImageRecord::from_members(0, 0, &[vec![0.9, 0.1], vec![0.6, 0.4]]), ImageRecord::from_members(1, 1, &[vec![0.3, 0.7], vec![0.2, 0.8]])];
    let adv = vec![ImageRecord::from_members(0, 0, &[vec![0.4, 0.6], vec![0.6, 0.4]]), ImageRecord::from_members(1, 1, &[vec![0.5, 0.5], vec![0.6, 0.4]])];
    let study = Study {
        meta: StudyMeta {
            method: "ensemble".into(),
            models: vec!["a".into(), "b".into()],
            ensemble: Some("g".into()),
            dataset: "MNIST".into(),
            passes: 2,
            p: 0.0,
            seed: 0,
            images: 2,
            set_images: 2,
            partial: false,
        },
        clean: tables(&recs, 2, DEFAULT_BINS),
        points: Some(scatter(&recs)),
        attacks: vec![attack_study("fgsm", serde_json::json!({"eps": 0.1}), &recs, &adv, &[true, false], 2)],
    };
    let file = StudyFile { version: 1, command: "quiver study".into(), studies: vec![study] };
    let text = file.to_json();
    assert!(!text.contains('\n'), "compact");
    assert_eq!(StudyFile::from_json(&text).unwrap(), file);
    assert_eq!(file.studies[0].attacks[0].success_rate, 0.5);
    assert_eq!(file.studies[0].attacks[0].detection.len(), 3);
}
