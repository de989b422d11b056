//! What travels between the page and the compute worker. Each message is `{ msg, bytes? }`:
//! `msg` is a [`Request`] or [`Reply`] through `serde-wasm-bindgen` (floats stay JS numbers, so
//! NaN and infinities survive), `bytes` a weights file as a `Uint8Array` beside a [`Request::Load`].

use quiver_core::attacks::{AttackKind, AttackOutcome, AttackSet, Target, TrajectoryPoint};
use quiver_core::mc_dropout::McConfig;
use quiver_core::model::Architecture;
use quiver_core::study::ImageRecord;
use serde::{Deserialize, Serialize};

/// A model in the worker is named by the SHA-256 of its weights file.
pub type ModelId = String;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Build a model from the weights sent beside this message (already checked by the page).
    Load { model: ModelId, architecture: Architecture },
    /// Drop a model the page no longer keeps.
    Forget { model: ModelId },
    /// MC dropout on one image (CHW pixels): answered with the `T × K` softmax rows.
    Mc { id: u64, model: ModelId, pixels: Vec<f32>, cfg: McConfig },
    /// Deterministic softmax of one image.
    Predict { id: u64, model: ModelId, pixels: Vec<f32> },
    /// The study's records of `labels.len()` images (their CHW pixels one after the other; the
    /// first is image `first` of the subset, which seeds its masks): answered with
    /// [`Reply::Records`].
    Records { id: u64, model: ModelId, cfg: McConfig, first: usize, labels: Vec<usize>, pixels: Vec<f32> },
    /// Attack images of the study (each to its end) and record each 8-bit adversarial image with
    /// the same MC dropout and per-image seed as its clean record: answered with
    /// [`Reply::AttackRecords`].
    AttackRecords(AttackRecordsRequest),
    /// Run an attack: answered with [`Reply::Progress`] after each slice of steps, then
    /// [`Reply::Attack`].
    Attack(AttackRequest),
    /// Stop attack `id` at its next slice (the best result so far is its answer).
    Cancel { id: u64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackRequest {
    pub id: u64,
    pub model: ModelId,
    pub pixels: Vec<f32>,
    pub label: Option<usize>,
    pub target: Target,
    /// The attack's key (`AttackKind`'s text form).
    pub kind: String,
    /// The attack's parameters as `(key, text)`, each through its table entry.
    pub params: Vec<(String, String)>,
    /// The shortest interval between two hand-outs of trajectory points (ms): how often the
    /// page redraws the chart.
    pub flush_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackRecordsRequest {
    pub id: u64,
    pub model: ModelId,
    pub kind: String,
    pub params: Vec<(String, String)>,
    pub target: Target,
    /// The clean images' MC settings (the model's p, the study's T and seed).
    pub cfg: McConfig,
    /// `(index in the subset, label)` of each image.
    pub images: Vec<(usize, usize)>,
    /// Their CHW pixels, one after the other.
    pub pixels: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// The worker has started and takes requests.
    Ready,
    /// The worker could not start (its message).
    Failed(String),
    /// The answer to [`Request::Mc`] (the softmax rows) or [`Request::Predict`] (one row), and
    /// the worker's time on it (the benchmark reports it beside the page's round trip).
    Values { id: u64, result: Result<Vec<f32>, String>, compute_ms: f64 },
    /// The answer to [`Request::Records`], and the worker's time on it.
    Records { id: u64, result: Result<Vec<ImageRecord>, String>, compute_ms: f64 },
    /// The answer to [`Request::AttackRecords`]: per image, the adversarial record and whether
    /// the attack reached its goal (`None` where the goal does not apply to the image).
    AttackRecords { id: u64, result: Result<Vec<Option<(ImageRecord, bool)>>, String>, compute_ms: f64 },
    /// An attack's state after a slice of steps.
    Progress { id: u64, progress: f64, iteration: usize, points: Vec<TrajectoryPoint> },
    /// An attack's end.
    Attack { id: u64, result: Result<AttackDone, String> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackDone {
    pub outcome: AttackOutcome,
    /// The trajectory points not sent in a [`Reply::Progress`] yet.
    pub points: Vec<TrajectoryPoint>,
    /// Deterministic prediction on the original image.
    pub predicted_before: usize,
    /// Time in steps, yields excluded.
    pub compute_ms: f64,
    pub cancelled: bool,
}

impl Reply {
    /// The request this answers (`None` for the worker's own news).
    pub fn id(&self) -> Option<u64> {
        match self {
            Reply::Ready | Reply::Failed(_) => None,
            Reply::Values { id, .. } | Reply::Records { id, .. } | Reply::AttackRecords { id, .. } | Reply::Progress { id, .. } | Reply::Attack { id, .. } => Some(*id),
        }
    }

    /// Does this end request `id` (a progress report does not)?
    pub fn is_last(&self) -> bool {
        !matches!(self, Reply::Progress { .. })
    }
}

/// Attack `kind`'s parameters in `set`, as `(key, text)` through their table entries.
pub fn params_of(kind: AttackKind, set: &AttackSet) -> Vec<(String, String)> {
    kind.params().iter().filter_map(|p| Some((p.key.to_string(), set.text(p.key)?))).collect()
}

/// The attack a request names, with its parameters read back through their table entries (the
/// other attacks keep their defaults).
pub fn attack_of(kind: &str, params: &[(String, String)]) -> Result<(AttackKind, AttackSet), String> {
    let kind: AttackKind = kind.parse().map_err(|e| format!("{e}"))?;
    let mut set = AttackSet::default();
    for (k, v) in params {
        match set.set_text(k, v) {
            Ok(true) => {}
            Ok(false) => return Err(format!("no attack has a parameter {k}")),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((kind, set))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quiver_core::params::{Domain, Value};

    /// A value in the domain other than the default, with many significant digits when real.
    fn other(domain: Domain, default: Value) -> String {
        match (domain, default) {
            (Domain::Whole { min, max, odd }, Value::Whole(d)) => {
                let step = if odd { 2 } else { 1 };
                let v = if d + step <= max { d + step } else { d.saturating_sub(step).max(min) };
                v.to_string()
            }
            (Domain::Real { min, max, .. }, d) => {
                let d = d.real();
                let v = if max.is_finite() { d + (max - d) * 0.318_309_9 } else { d * 1.718_281_8 + 0.1 };
                let v = if v > min && v != d { v } else { (min + d) / 2.0 };
                v.to_string()
            }
            (_, d) => d.real().to_string(),
        }
    }

    #[test]
    fn every_attack_reaches_the_worker_with_exactly_its_parameters() {
        for kind in AttackKind::ALL {
            let mut set = AttackSet::default();
            for p in kind.params() {
                let text = other(p.domain, p.default);
                set.set_text(p.key, &text).unwrap_or_else(|e| panic!("{}={text}: {e}", p.key));
            }
            if set.get(kind).validate().is_err() {
                // Cross-parameter rules (e.g. a step above the budget): the defaults travel too.
                set = AttackSet::default();
            }
            let sent = params_of(kind, &set);
            assert_eq!(sent.len(), kind.params().len(), "{kind}: every parameter is sent");
            let (k, got) = attack_of(kind.key(), &sent).unwrap();
            assert_eq!(k, kind);
            assert_eq!(got, set, "{kind}: the worker's parameters are the page's");
        }
    }

    #[test]
    fn an_unknown_attack_or_parameter_is_an_error_not_a_default() {
        assert!(attack_of("nope", &[]).is_err());
        assert!(attack_of("fgsm", &[("no_such_key".into(), "1".into())]).is_err());
        assert!(attack_of("fgsm", &[("eps".into(), "-3".into())]).is_err());
    }

    #[test]
    fn a_reply_says_which_request_it_ends() {
        assert!(Reply::Values { id: 4, result: Ok(vec![]), compute_ms: 0.1 }.is_last());
        assert!(!Reply::Progress { id: 4, progress: 0.5, iteration: 2, points: vec![] }.is_last());
        assert_eq!(Reply::Attack { id: 9, result: Err(String::new()) }.id(), Some(9));
        assert_eq!(Reply::Ready.id(), None);
    }
}
