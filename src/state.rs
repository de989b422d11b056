//! All user-visible state in one typed struct that round-trips through the URL query string
//! (TensorFlow Playground's habit): every view can be shared and embedded. Reading is forgiving:
//! unknown keys are ignored, malformed or out-of-range values fall back to their defaults, and
//! each such fallback produces a short note for the user.

use std::collections::BTreeMap;

use quiver_core::mc_dropout::{MAX_P, MAX_PASSES};
use serde::{Deserialize, Serialize};

/// Largest FGSM ε offered.
pub const MAX_EPS: f32 = 0.5;

/// Which device runs the models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevicePref {
    /// WebGPU when the browser offers an adapter, else CPU.
    Auto,
    /// Always the CPU (Flex) backend.
    Cpu,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppState {
    /// Model id from `weights/manifest.json`.
    pub model: String,
    /// Index into the bundled sample gallery.
    pub sample: usize,
    /// MC-dropout passes T.
    pub passes: usize,
    /// Inference dropout rate p.
    pub p: f32,
    /// Seed of the dropout masks.
    pub seed: u64,
    /// FGSM ε.
    pub eps: f32,
    /// Target class of the attack; `None` = untargeted.
    pub target: Option<usize>,
    pub device: DevicePref,
    /// Benchmark mode.
    pub bench: bool,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            model: "mnist_cnn_p025".into(),
            sample: 0,
            passes: 50,
            p: 0.25,
            seed: 0,
            eps: 0.1,
            target: None,
            device: DevicePref::Auto,
            bench: false,
        }
    }
}

fn parse<T: std::str::FromStr>(notes: &mut Vec<String>, key: &str, v: &str, ok: impl Fn(&T) -> bool, rule: &str) -> Option<T> {
    match v.parse::<T>() {
        Ok(x) if ok(&x) => Some(x),
        _ => {
            notes.push(format!("ignored {key}={v:?}: {rule}"));
            None
        }
    }
}

impl AppState {
    /// Read a query string (with or without the leading `?`). Returns the state and notes about
    /// every value that was ignored.
    pub fn from_query(query: &str) -> (Self, Vec<String>) {
        let mut s = Self::default();
        let mut notes = Vec::new();
        let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(query.trim_start_matches('?')) {
            Ok(p) => p,
            Err(_) => {
                notes.push("the address has a malformed query string; using defaults".into());
                return (s, notes);
            }
        };
        let n = &mut notes;
        for (k, v) in pairs {
            match k.as_str() {
                "model" => {
                    if !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        s.model = v
                    } else {
                        n.push(format!("ignored model={v:?}: not a model name"))
                    }
                }
                "sample" => s.sample = parse(n, &k, &v, |x: &usize| *x < 10_000, "a sample number").unwrap_or(s.sample),
                "T" | "passes" => {
                    s.passes = parse(n, &k, &v, |x: &usize| (1..=MAX_PASSES).contains(x), "T must be 1–500").unwrap_or(s.passes)
                }
                "p" => s.p = parse(n, &k, &v, |x: &f32| (0.0..=MAX_P).contains(x), "p must be in [0, 0.5]").unwrap_or(s.p),
                "seed" => s.seed = parse(n, &k, &v, |_: &u64| true, "the seed must be a whole number").unwrap_or(s.seed),
                "eps" => s.eps = parse(n, &k, &v, |x: &f32| (0.0..=MAX_EPS).contains(x), "ε must be in [0, 0.5]").unwrap_or(s.eps),
                "target" => {
                    if v.is_empty() || v == "none" {
                        s.target = None
                    } else {
                        s.target = parse(n, &k, &v, |x: &usize| *x < 10, "the target must be a class 0–9").or(s.target)
                    }
                }
                "device" => match v.as_str() {
                    "auto" => s.device = DevicePref::Auto,
                    "cpu" => s.device = DevicePref::Cpu,
                    _ => n.push(format!("ignored device={v:?}: use auto or cpu")),
                },
                "bench" => s.bench = v == "1" || v == "true",
                _ => {}
            }
        }
        (s, notes)
    }

    /// The query string for this state (defaults omitted, keys sorted, without `?`).
    pub fn to_query(&self) -> String {
        let d = Self::default();
        let mut m: BTreeMap<&str, String> = BTreeMap::new();
        if self.model != d.model {
            m.insert("model", self.model.clone());
        }
        if self.sample != d.sample {
            m.insert("sample", self.sample.to_string());
        }
        if self.passes != d.passes {
            m.insert("T", self.passes.to_string());
        }
        if self.p != d.p {
            m.insert("p", self.p.to_string());
        }
        if self.seed != d.seed {
            m.insert("seed", self.seed.to_string());
        }
        if self.eps != d.eps {
            m.insert("eps", self.eps.to_string());
        }
        if let Some(t) = self.target {
            m.insert("target", t.to_string());
        }
        if self.device != d.device {
            m.insert("device", "cpu".into());
        }
        if self.bench {
            m.insert("bench", "1".into());
        }
        serde_urlencoded::to_string(m.into_iter().collect::<Vec<_>>()).expect("plain pairs encode")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_the_query_string() {
        let s = AppState {
            model: "mnist_cnn_p030".into(),
            sample: 7,
            passes: 120,
            p: 0.3,
            seed: 42,
            eps: 0.15,
            target: Some(3),
            device: DevicePref::Cpu,
            bench: true,
        };
        let q = s.to_query();
        let (back, notes) = AppState::from_query(&format!("?{q}"));
        assert_eq!(back, s);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(AppState::default().to_query(), "");
    }

    #[test]
    fn malformed_values_fall_back_with_a_note() {
        let (s, notes) = AppState::from_query("T=0&p=0.9&eps=abc&target=12&model=../etc&device=tpu&sample=-1&seed=x&unknown=1");
        assert_eq!(s, AppState::default());
        assert_eq!(notes.len(), 8, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("T must be 1–500")));
        let (s, notes) = AppState::from_query("%%%&&==");
        assert!(s == AppState::default() && notes.len() <= 1);
    }
}
