//! All user-visible state in one typed struct that round-trips through the URL query string
//! (TensorFlow Playground's habit): every view can be shared and embedded. Reading is forgiving:
//! unknown keys are ignored, malformed or out-of-range values fall back to their defaults, and
//! each such fallback produces a short note for the user.

use std::collections::BTreeMap;

use quiver_core::attacks::{Attack, Fgsm, Iaa, Lbfgs};
use quiver_core::mc_dropout::{MAX_P, MAX_PASSES};
use quiver_core::model::Architecture;

/// Largest FGSM ε offered.
pub const MAX_EPS: f32 = 0.5;

/// Which device runs the models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevicePref {
    /// WebGPU when the browser offers an adapter, else CPU.
    Auto,
    /// Always the CPU (Flex) backend.
    Cpu,
}

/// The image collection being explored; it decides the model architecture, the class names and
/// the bundled samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    Mnist,
    Cifar10,
    Stl10,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Mnist, Dataset::Cifar10, Dataset::Stl10];

    pub fn key(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Cifar10 => "cifar10",
            Dataset::Stl10 => "stl10",
        }
    }

    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == k)
    }

    pub fn label(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST digits (CNN)",
            Dataset::Cifar10 => "CIFAR-10 (AlexNet)",
            Dataset::Stl10 => "STL-10 (AlexNet, your weights)",
        }
    }

    pub fn architecture(self) -> Architecture {
        match self {
            Dataset::Mnist => Architecture::MnistCnn,
            Dataset::Cifar10 => Architecture::AlexnetCifar10,
            Dataset::Stl10 => Architecture::AlexnetStl10,
        }
    }

    pub fn of(arch: Architecture) -> Self {
        match arch {
            Architecture::MnistCnn => Dataset::Mnist,
            Architecture::AlexnetCifar10 => Dataset::Cifar10,
            Architecture::AlexnetStl10 => Dataset::Stl10,
        }
    }
}

/// Is `path` a file of this site: relative, no scheme, no host, no way up out of the site?
pub fn is_site_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 256
        && !path.starts_with('/')
        && !path.starts_with('\\')
        && !path.contains("://")
        && !path.contains(':')
        && !path.split(['/', '\\']).any(|seg| seg == "..")
        && path.chars().all(|c| !c.is_control() && c != '?' && c != '#')
}

/// Benchmark modes (`?bench=1`: timings of forward / MC / FGSM; `?bench=attacks`: the attack
/// table over 100 fixed MNIST test digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchMode {
    Off,
    Speed,
    Attacks,
}

/// The attack the attack panel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttackKind {
    Fgsm,
    Lbfgs,
    Iaa,
}

impl AttackKind {
    pub const ALL: [AttackKind; 3] = [AttackKind::Fgsm, AttackKind::Lbfgs, AttackKind::Iaa];

    /// The URL / `<select>` value.
    pub fn key(self) -> &'static str {
        match self {
            AttackKind::Fgsm => "fgsm",
            AttackKind::Lbfgs => "lbfgs",
            AttackKind::Iaa => "iaa",
        }
    }

    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == k)
    }

    pub fn label(self) -> &'static str {
        match self {
            AttackKind::Fgsm => "FGSM (one signed-gradient step, L∞)",
            AttackKind::Lbfgs => "L-BFGS (smallest L2 perturbation, box-constrained)",
            AttackKind::Iaa => "IAA (imperceptible: perturbs busy regions first)",
        }
    }
}

/// What the attack aims for: core's type, whose text form (`none`, `auto`, a class) is the
/// URL value and the `<select>` value.
pub use quiver_core::attacks::Target as TargetChoice;

#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub dataset: Dataset,
    /// Model id from `weights/manifest.json`.
    pub model: String,
    /// Your own weights: a `.safetensors` path on this site (`?weights=`), used instead of
    /// `model`.
    pub weights: Option<String>,
    /// Index into the bundled sample gallery.
    pub sample: usize,
    /// MC-dropout passes T.
    pub passes: usize,
    /// Inference dropout rate p.
    pub p: f32,
    /// Seed of the dropout masks.
    pub seed: u64,
    /// The attack the attack panel runs, and each attack's parameters (core's own structs,
    /// validated by core's rules).
    pub attack: AttackKind,
    pub fgsm: Fgsm,
    pub lbfgs: Lbfgs,
    pub iaa: Iaa,
    pub target: TargetChoice,
    pub device: DevicePref,
    /// Benchmark mode.
    pub bench: BenchMode,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            dataset: Dataset::Mnist,
            model: "mnist_cnn_p025".into(),
            weights: None,
            sample: 0,
            passes: 50,
            p: 0.25,
            seed: 0,
            attack: AttackKind::Fgsm,
            fgsm: Fgsm::default(),
            lbfgs: Lbfgs::default(),
            iaa: Iaa::default(),
            target: TargetChoice::Untargeted,
            device: DevicePref::Auto,
            bench: BenchMode::Off,
        }
    }
}

const NUMBER: &str = "not a number";
const WHOLE: &str = "not a whole number";

fn finite(x: &f32) -> bool {
    x.is_finite()
}

fn any<T>(_: &T) -> bool {
    true
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
                "dataset" => match Dataset::from_key(&v) {
                    Some(d) => s.dataset = d,
                    None => n.push(format!("ignored dataset={v:?}: use mnist, cifar10 or stl10")),
                },
                "weights" => {
                    if is_site_path(&v) {
                        s.weights = Some(v)
                    } else {
                        n.push(format!("ignored weights={v:?}: give a path on this site, e.g. weights=my/alexnet_stl10.safetensors"))
                    }
                }
                "sample" => s.sample = parse(n, &k, &v, |x: &usize| *x < 10_000, "a sample number").unwrap_or(s.sample),
                "T" | "passes" => {
                    s.passes = parse(n, &k, &v, |x: &usize| (1..=MAX_PASSES).contains(x), "T must be 1–500").unwrap_or(s.passes)
                }
                "p" => s.p = parse(n, &k, &v, |x: &f32| (0.0..=MAX_P).contains(x), "p must be in [0, 0.5]").unwrap_or(s.p),
                "seed" => s.seed = parse(n, &k, &v, |_: &u64| true, "the seed must be a whole number").unwrap_or(s.seed),
                "attack" => match AttackKind::from_key(&v) {
                    Some(a) => s.attack = a,
                    None => n.push(format!("ignored attack={v:?}: use fgsm, lbfgs or iaa")),
                },
                "eps" => s.fgsm.eps = parse(n, &k, &v, |x: &f32| (0.0..=MAX_EPS).contains(x), "ε must be in [0, 0.5]").unwrap_or(s.fgsm.eps),
                "lbfgs_c" => s.lbfgs.c_init = parse(n, &k, &v, finite, NUMBER).unwrap_or(s.lbfgs.c_init),
                "lbfgs_steps" => s.lbfgs.c_steps = parse(n, &k, &v, any, WHOLE).unwrap_or(s.lbfgs.c_steps),
                "lbfgs_iter" => s.lbfgs.max_iter = parse(n, &k, &v, any, WHOLE).unwrap_or(s.lbfgs.max_iter),
                "lbfgs_mem" => s.lbfgs.memory = parse(n, &k, &v, any, WHOLE).unwrap_or(s.lbfgs.memory),
                "iaa_n" => s.iaa.n = parse(n, &k, &v, any, WHOLE).unwrap_or(s.iaa.n),
                "iaa_m" => s.iaa.m = parse(n, &k, &v, any, WHOLE).unwrap_or(s.iaa.m),
                "iaa_delta" => s.iaa.delta = parse(n, &k, &v, finite, NUMBER).unwrap_or(s.iaa.delta),
                "iaa_dmax" => s.iaa.d_max = parse(n, &k, &v, finite, NUMBER).unwrap_or(s.iaa.d_max),
                "iaa_kappa" => s.iaa.margin = parse(n, &k, &v, finite, NUMBER).unwrap_or(s.iaa.margin),
                "iaa_iter" => s.iaa.max_iter = parse(n, &k, &v, any, WHOLE).unwrap_or(s.iaa.max_iter),
                "target" => match v.parse::<TargetChoice>().ok().filter(|t| !matches!(t, TargetChoice::Class(k) if *k >= 10)) {
                    Some(t) => s.target = t,
                    None => n.push(format!("ignored target={v:?}: the target must be none, auto or a class 0–9")),
                },
                "device" => match v.as_str() {
                    "auto" => s.device = DevicePref::Auto,
                    "cpu" => s.device = DevicePref::Cpu,
                    _ => n.push(format!("ignored device={v:?}: use auto or cpu")),
                },
                "bench" => match v.as_str() {
                    "1" | "true" => s.bench = BenchMode::Speed,
                    "attacks" => s.bench = BenchMode::Attacks,
                    "" | "0" | "false" => s.bench = BenchMode::Off,
                    _ => n.push(format!("ignored bench={v:?}: use 1 or attacks")),
                },
                _ => {}
            }
        }
        // Out-of-range attack parameters: core's own rule is the message.
        let d = Self::default();
        if let Err(e) = s.lbfgs.validate() {
            notes.push(format!("ignored the L-BFGS parameters in the address: {e}"));
            s.lbfgs = d.lbfgs;
        }
        if let Err(e) = s.iaa.validate() {
            notes.push(format!("ignored the IAA parameters in the address: {e}"));
            s.iaa = d.iaa;
        }
        (s, notes)
    }

    /// The query string for this state (defaults omitted, keys sorted, without `?`).
    pub fn to_query(&self) -> String {
        let d = Self::default();
        let mut m: BTreeMap<&str, String> = BTreeMap::new();
        if self.dataset != d.dataset {
            m.insert("dataset", self.dataset.key().into());
        }
        if let Some(w) = &self.weights {
            m.insert("weights", w.clone());
        }
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
        if self.attack != d.attack {
            m.insert("attack", self.attack.key().into());
        }
        if self.fgsm.eps != d.fgsm.eps {
            m.insert("eps", self.fgsm.eps.to_string());
        }
        let (l, dl) = (&self.lbfgs, &d.lbfgs);
        let (i, di) = (&self.iaa, &d.iaa);
        for (key, value, default) in [
            ("lbfgs_c", l.c_init.to_string(), dl.c_init.to_string()),
            ("lbfgs_steps", l.c_steps.to_string(), dl.c_steps.to_string()),
            ("lbfgs_iter", l.max_iter.to_string(), dl.max_iter.to_string()),
            ("lbfgs_mem", l.memory.to_string(), dl.memory.to_string()),
            ("iaa_n", i.n.to_string(), di.n.to_string()),
            ("iaa_m", i.m.to_string(), di.m.to_string()),
            ("iaa_delta", i.delta.to_string(), di.delta.to_string()),
            ("iaa_dmax", i.d_max.to_string(), di.d_max.to_string()),
            ("iaa_kappa", i.margin.to_string(), di.margin.to_string()),
            ("iaa_iter", i.max_iter.to_string(), di.max_iter.to_string()),
        ] {
            if value != default {
                m.insert(key, value);
            }
        }
        if self.target != d.target {
            m.insert("target", self.target.to_string());
        }
        if self.device != d.device {
            m.insert("device", "cpu".into());
        }
        if self.bench != BenchMode::Off {
            m.insert("bench", if self.bench == BenchMode::Speed { "1" } else { "attacks" }.into());
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
            dataset: Dataset::Cifar10,
            weights: Some("uploads/my model.safetensors".into()),
            model: "mnist_cnn_p030".into(),
            sample: 7,
            passes: 120,
            p: 0.3,
            seed: 42,
            attack: AttackKind::Iaa,
            fgsm: Fgsm::new(0.15),
            lbfgs: Lbfgs { c_init: 0.5, c_steps: 3, max_iter: 20, memory: 5, ..Lbfgs::default() },
            iaa: Iaa { n: 5, m: 4, delta: 0.1, d_max: 0.2, margin: 0.1, max_iter: 50 },
            target: TargetChoice::Class(3),
            device: DevicePref::Cpu,
            bench: BenchMode::Attacks,
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

    #[test]
    fn weights_must_be_a_path_on_this_site() {
        for ok in ["w.safetensors", "my/alexnet_stl10.safetensors", "a b/c.safetensors"] {
            assert!(is_site_path(ok), "{ok}");
            let (s, notes) = AppState::from_query(&AppState { weights: Some(ok.into()), ..AppState::default() }.to_query());
            assert_eq!(s.weights.as_deref(), Some(ok));
            assert!(notes.is_empty());
        }
        for bad in ["", "https://evil.example/w.safetensors", "//evil.example/w", "/etc/passwd", "../secret", "a/../../b", "javascript:alert(1)", "w?x=1"] {
            assert!(!is_site_path(bad), "{bad}");
            let (s, notes) = AppState::from_query(&format!("weights={}", urlencode(bad)));
            assert_eq!(s.weights, None, "{bad}");
            assert!(bad.is_empty() || notes.iter().any(|n| n.contains("a path on this site")), "{bad}: {notes:?}");
        }
        let (s, notes) = AppState::from_query("dataset=stl10");
        assert_eq!((s.dataset, notes.len()), (Dataset::Stl10, 0));
        let (s, notes) = AppState::from_query("dataset=imagenet");
        assert_eq!((s.dataset, notes.len()), (Dataset::Mnist, 1));
        for d in Dataset::ALL {
            assert_eq!(Dataset::of(d.architecture()), d);
        }
    }

    fn urlencode(s: &str) -> String {
        serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
    }

    #[test]
    fn targets_and_attacks_round_trip() {
        for target in [TargetChoice::Untargeted, TargetChoice::RunnerUp, TargetChoice::Class(0), TargetChoice::Class(9)] {
            for attack in AttackKind::ALL {
                let s = AppState { target, attack, ..AppState::default() };
                let (back, notes) = AppState::from_query(&s.to_query());
                assert_eq!(back, s);
                assert!(notes.is_empty(), "{notes:?}");
            }
        }
    }

    #[test]
    fn out_of_range_attack_parameters_are_ignored_with_core_s_message() {
        let (s, notes) = AppState::from_query("attack=iaa&iaa_m=0&iaa_n=4&lbfgs_steps=0&attack=pgd&iaa_delta=x");
        assert_eq!(s.attack, AttackKind::Iaa);
        assert_eq!(s.iaa, Iaa::default());
        assert_eq!(s.lbfgs, Lbfgs::default());
        assert!(notes.iter().any(|n| n.contains("iaa_delta") && n.contains("not a number")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("attack=\"pgd\"")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("IAA") && n.contains("odd")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("L-BFGS") && n.contains("c steps")), "{notes:?}");
        // Valid values are kept.
        let (s, notes) = AppState::from_query("iaa_n=5&iaa_m=3&lbfgs_c=2");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((s.iaa.n, s.iaa.m, s.lbfgs.c_init), (5, 3, 2.0));
    }
}
