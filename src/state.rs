//! All user-visible state in one typed struct that round-trips through the URL query string
//! (TensorFlow Playground's habit), and the actions that change it.
//!
//! The URL keys of the parameters come from core's tables ([`quiver_core::params`]): nothing
//! here names an attack parameter. Reading is forgiving: unknown keys are ignored, malformed or
//! out-of-range values keep their defaults, and each such value produces a note for the user.
//!
//! [`AppState::apply`] is the only way the app changes the state (the store calls it); it is a
//! plain function, tested natively below.

use std::collections::BTreeMap;

use quiver_core::attacks::{AttackKind, AttackSet, Target};
use quiver_core::manifest::Manifest;
use quiver_core::mc_dropout::McConfig;
use quiver_core::params::{ParamError, Tunable};
use quiver_core::Dataset;

/// Which device runs the models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DevicePref {
    /// WebGPU when the browser offers a hardware adapter, else CPU. A software fallback adapter
    /// (SwiftShader, `isFallbackAdapter`) is ~30× slower than the CPU path and is not taken.
    #[default]
    Auto,
    /// Always the CPU (Flex) backend.
    Cpu,
    /// WebGPU on any adapter the browser offers, a software one included (`device=webgpu`: to
    /// compare the backends).
    Gpu,
}

/// What the page shows: one image at a time, or the seed study over a test subset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Image,
    Study,
}

/// Most images a live study takes (the bundled subsets hold 1,000 MNIST and 500 CIFAR-10 images).
pub const STUDY_MAX: usize = 1000;

/// Benchmark modes (`?bench=1`: timings of forward / MC / FGSM; `?bench=attacks`: the attack
/// table over 100 MNIST test digits, in builds with the `attack-bench` feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BenchMode {
    #[default]
    Off,
    Speed,
    Attacks,
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

/// A part of the page that `?hide=` can take away (an instructor embedding Quiver shows only what
/// the lesson needs; TensorFlow Playground's `hide` habit). Declared once here: the URL, the
/// share dialog and the page all read this table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Dataset,
    Model,
    Weights,
    Samples,
    Upload,
    Draw,
    McSettings,
    Passes,
    Attack,
    AttackSettings,
    Trajectory,
    Compare,
    Ensembles,
}

impl Part {
    pub const ALL: [Part; 13] = [
        Part::Dataset,
        Part::Model,
        Part::Weights,
        Part::Samples,
        Part::Upload,
        Part::Draw,
        Part::McSettings,
        Part::Passes,
        Part::Attack,
        Part::AttackSettings,
        Part::Trajectory,
        Part::Compare,
        Part::Ensembles,
    ];

    /// The `?hide=` key.
    pub fn key(self) -> &'static str {
        match self {
            Part::Dataset => "dataset",
            Part::Model => "model",
            Part::Weights => "weights",
            Part::Samples => "samples",
            Part::Upload => "upload",
            Part::Draw => "draw",
            Part::McSettings => "mc-settings",
            Part::Passes => "passes",
            Part::Attack => "attack",
            Part::AttackSettings => "attack-settings",
            Part::Trajectory => "trajectory",
            Part::Compare => "compare",
            Part::Ensembles => "ensembles",
        }
    }

    /// What hiding it takes away.
    pub fn help(self) -> &'static str {
        match self {
            Part::Dataset => "the dataset picker",
            Part::Model => "the model picker",
            Part::Weights => "\"use your own weights\"",
            Part::Samples => "the gallery of test images",
            Part::Upload => "dropping, pasting or choosing an image",
            Part::Draw => "drawing a digit",
            Part::McSettings => "the T, p and seed fields (the MC result stays)",
            Part::Passes => "the chart of every pass",
            Part::Attack => "the whole attack panel",
            Part::AttackSettings => "the attack's choice, goal and parameters (its result stays)",
            Part::Trajectory => "the attack's trajectory chart",
            Part::Compare => "\"compare every attack\"",
            Part::Ensembles => "\"compare with ensembles\"",
        }
    }

    pub fn from_key(key: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.key() == key)
    }
}

fn is_model_id(v: &str) -> bool {
    !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    pub dataset: Dataset,
    /// A bundled model id from `weights/manifest.json`; `None`: the dataset's default model.
    pub model: Option<String>,
    /// Your own weights: a `.safetensors` path on this site (`?weights=`), used instead of
    /// `model`.
    pub weights: Option<String>,
    /// A weights file the user dropped or picked, while it is in use (never in the URL: a file
    /// cannot be shared by address).
    pub own_weights: Option<String>,
    /// Index into the bundled sample gallery.
    pub sample: usize,
    /// MC-dropout passes, rate and seed (core's struct and table).
    pub mc: McConfig,
    /// The attack the attack panel runs, and every attack's parameters (core's structs).
    pub attack: AttackKind,
    pub attacks: AttackSet,
    pub target: Target,
    pub device: DevicePref,
    pub bench: BenchMode,
    /// `?embed=1`: the compact layout for an iframe of about 800×600.
    pub embed: bool,
    /// `?view=study`: the test-set study instead of one image.
    pub view: View,
    /// `?study_n=`: how many images of the bundled subset the live study takes (`None`: all).
    pub study_n: Option<usize>,
    /// `?hide=a,b`: parts of the page not shown (sorted, no repeats).
    pub hide: Vec<Part>,
}

/// Everything the app can do to the state.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Another dataset: its default model, its first sample, untargeted.
    Dataset(Dataset),
    /// A bundled model from the picker.
    Model(String),
    /// An MC-dropout or attack parameter, as typed (checked by its table entry).
    Param { key: String, text: String },
    Attack(AttackKind),
    Target(Target),
    /// One image, or the study over a test subset.
    View(View),
    /// How many subset images the live study takes (`None`: all of them; capped at [`STUDY_MAX`]).
    StudyImages(Option<usize>),
    Sample(usize),
    /// Weights the user brought are in use. `file`: a dropped or picked file (else they came
    /// from `?weights=`).
    OwnWeights { dataset: Dataset, file: Option<String> },
    /// `?weights=` could not be used: forget it (the bundled model takes over).
    DropSiteWeights,
    /// The manifest arrived: a model of another dataset named in the address brings its dataset
    /// along; an unknown model gives way to the default.
    Manifest(Manifest),
}

/// `text` cut to at most `max` characters with "…" (a URL value can be 100 kB long; a note
/// echoes only its start).
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

impl AppState {
    /// Apply an action. `Ok(notes)`: done, with notes for the user; `Err`: refused (a parameter
    /// out of its range), nothing changed.
    pub fn apply(&mut self, action: Action) -> Result<Vec<String>, ParamError> {
        let mut notes = Vec::new();
        match action {
            Action::Dataset(d) => {
                self.dataset = d;
                self.model = None;
                self.weights = None;
                self.own_weights = None;
                self.sample = 0;
                self.target = Target::Untargeted;
            }
            Action::Model(id) => {
                self.model = Some(id);
                self.weights = None;
                self.own_weights = None;
            }
            Action::Param { key, text } => {
                let mut next = self.clone();
                let known = next.mc.set_text(&key, &text)? || next.attacks.set_text(&key, &text)?;
                if !known {
                    return Err(ParamError::Unknown(key));
                }
                // Rules that tie parameters together: core's validate, after the table.
                if let Some(kind) = AttackSet::owner(&key) {
                    if let Err(quiver_core::attacks::AttackError::Parameter(e)) = next.attacks.get(kind).validate() {
                        return Err(e);
                    }
                }
                *self = next;
            }
            Action::Attack(k) => self.attack = k,
            Action::View(v) => self.view = v,
            Action::StudyImages(n) => self.study_n = n.map(|n| n.clamp(1, STUDY_MAX)),
            Action::Target(t) => self.target = t,
            Action::Sample(i) => self.sample = i,
            Action::OwnWeights { dataset, file } => {
                if dataset != self.dataset {
                    self.sample = 0;
                    self.target = Target::Untargeted;
                }
                self.dataset = dataset;
                self.model = None;
                if file.is_some() {
                    self.weights = None;
                }
                self.own_weights = file;
            }
            Action::DropSiteWeights => self.weights = None,
            Action::Manifest(m) => {
                if let Some(id) = self.model.clone() {
                    match m.get(&id) {
                        Some(e) if Dataset::of(e.architecture) == self.dataset => {}
                        // The address named a model of another dataset and no dataset: the model
                        // brings its dataset.
                        Some(e) if self.dataset == Dataset::default() => self.dataset = Dataset::of(e.architecture),
                        Some(_) => {
                            notes.push(format!("{id} is not a {} model; using the default", self.dataset.name()));
                            self.model = None;
                        }
                        None => {
                            notes.push(format!("there is no model {id:?}; using the default"));
                            self.model = None;
                        }
                    }
                }
            }
        }
        Ok(notes)
    }

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
        for (k, v) in pairs {
            let mut ignore = |why: String| notes.push(clip(&format!("ignored {}={:?}: {why}", clip(&k, 40), clip(&v, 40)), 240));
            match k.as_str() {
                "dataset" => match v.parse() {
                    Ok(d) => s.dataset = d,
                    Err(e) => ignore(e),
                },
                "model" if is_model_id(&v) => s.model = Some(v),
                "model" => ignore("not a model name".into()),
                "weights" if is_site_path(&v) => s.weights = Some(v),
                "weights" => ignore("give a path on this site, e.g. weights=my/alexnet_stl10.safetensors".into()),
                "sample" => match v.parse::<usize>() {
                    Ok(i) if i < 10_000 => s.sample = i,
                    _ => ignore("a sample number".into()),
                },
                "attack" => match v.parse() {
                    Ok(a) => s.attack = a,
                    Err(e) => ignore(e),
                },
                "target" => match v.parse::<Target>().ok().filter(|t| !matches!(t, Target::Class(k) if *k >= 10)) {
                    Some(t) => s.target = t,
                    None => ignore("the target must be none, auto or a class 0–9".into()),
                },
                "device" => match v.as_str() {
                    "auto" => s.device = DevicePref::Auto,
                    "cpu" => s.device = DevicePref::Cpu,
                    "webgpu" => s.device = DevicePref::Gpu,
                    _ => ignore("use auto, cpu or webgpu".into()),
                },
                "bench" => match v.as_str() {
                    "1" | "true" => s.bench = BenchMode::Speed,
                    "attacks" => s.bench = BenchMode::Attacks,
                    "" | "0" | "false" => s.bench = BenchMode::Off,
                    _ => ignore("use 1 or attacks".into()),
                },
                "view" => match v.as_str() {
                    "image" => s.view = View::Image,
                    "study" => s.view = View::Study,
                    _ => ignore("use image or study".into()),
                },
                "study_n" => match v.parse::<usize>() {
                    Ok(n) if (1..=STUDY_MAX).contains(&n) => s.study_n = Some(n),
                    _ => ignore(format!("the study's image count is a whole number from 1 to {STUDY_MAX}")),
                },
                "embed" => match v.as_str() {
                    "1" | "true" => s.embed = true,
                    "" | "0" | "false" => s.embed = false,
                    _ => ignore("use 1 (the compact layout for an iframe) or 0".into()),
                },
                "hide" => {
                    for key in v.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                        match Part::from_key(key) {
                            Some(part) => s.hide.push(part),
                            None => notes.push(clip(
                                &format!("ignored hide={:?}: parts that can be hidden are {}", clip(key, 40), Part::ALL.map(Part::key).join(", ")),
                                400,
                            )),
                        }
                    }
                    s.hide.sort();
                    s.hide.dedup();
                }
                // Every parameter key comes from core's tables.
                _ => match s.mc.set_text(&k, &v).and_then(|known| Ok(known || s.attacks.set_text(&k, &v)?)) {
                    Ok(_) => {}
                    Err(e) => ignore(e.to_string()),
                },
            }
        }
        // Rules across parameters: core's validate; a failing attack keeps its defaults.
        for kind in AttackKind::ALL {
            if let Err(e) = s.attacks.get(kind).validate() {
                notes.push(format!("ignored the {} parameters in the address: {e}", kind.key().to_uppercase()));
                s.attacks.reset(kind);
            }
        }
        (s, notes)
    }

    /// Is this part of the page hidden (`?hide=`)?
    pub fn hides(&self, part: Part) -> bool {
        self.hide.contains(&part)
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
        if let Some(id) = &self.model {
            m.insert("model", id.clone());
        }
        if self.sample != d.sample {
            m.insert("sample", self.sample.to_string());
        }
        if self.attack != d.attack {
            m.insert("attack", self.attack.key().into());
        }
        if self.target != d.target {
            m.insert("target", self.target.to_string());
        }
        match self.device {
            DevicePref::Auto => {}
            DevicePref::Cpu => {
                m.insert("device", "cpu".into());
            }
            DevicePref::Gpu => {
                m.insert("device", "webgpu".into());
            }
        }
        if self.bench != BenchMode::Off {
            m.insert("bench", if self.bench == BenchMode::Speed { "1" } else { "attacks" }.into());
        }
        if self.embed {
            m.insert("embed", "1".into());
        }
        if self.view == View::Study {
            m.insert("view", "study".into());
        }
        if let Some(n) = self.study_n {
            m.insert("study_n", n.to_string());
        }
        if !self.hide.is_empty() {
            m.insert("hide", self.hide.iter().map(|p| p.key()).collect::<Vec<_>>().join(","));
        }
        m.extend(self.mc.changed());
        m.extend(self.attacks.changed());
        serde_urlencoded::to_string(m.into_iter().collect::<Vec<_>>()).expect("plain pairs encode")
    }
}

#[cfg(test)]
mod tests {
    use quiver_core::attacks::kinds::infos;
    use quiver_core::attacks::{Fgsm, Iaa, Jsma, Lbfgs, Pgd};
    use quiver_core::params::Domain;

    use super::*;

    fn shipped() -> Manifest {
        Manifest::from_json(include_str!("../weights/manifest.json")).unwrap()
    }

    #[test]
    fn round_trip_through_the_query_string() {
        let s = AppState {
            dataset: Dataset::Cifar10,
            weights: Some("uploads/my model.safetensors".into()),
            model: Some("mnist_cnn_p030".into()),
            own_weights: None,
            sample: 7,
            mc: McConfig { passes: 120, p: 0.3, seed: 42 },
            attack: AttackKind::Iaa,
            attacks: AttackSet {
                fgsm: Fgsm::new(0.15),
                lbfgs: Lbfgs { c_init: 0.5, c_steps: 3, max_iter: 20, memory: 5, tolerance: 1e-4 },
                iaa: Iaa { n: 5, m: 4, delta: 0.1, d_max: 0.2, margin: 0.1, max_iter: 50, fit_last: false },
                pgd: Pgd { eps: 0.2, steps: 7, random_start: false, ..Pgd::default() },
                jsma: Jsma { gamma: 0.3, ..Jsma::default() },
                ..AttackSet::default()
            },
            target: Target::Class(3),
            device: DevicePref::Cpu,
            bench: BenchMode::Attacks,
            embed: true,
            hide: vec![Part::Samples, Part::McSettings, Part::Compare],
            view: View::Study,
            study_n: Some(200),
        };
        let q = s.to_query();
        assert!(q.contains("embed=1") && q.contains("hide=samples%2Cmc-settings%2Ccompare"), "{q}");
        let (back, notes) = AppState::from_query(&format!("?{q}"));
        assert_eq!(back, s);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(AppState::default().to_query(), "");
    }

    #[test]
    fn every_table_parameter_is_a_url_key() {
        // Set each parameter to a value other than its default through the URL; it must come
        // back from to_query under the same key. Nothing in this file names a parameter.
        let all = AttackKind::ALL.iter().flat_map(|k| k.params()).chain(infos::<McConfig>());
        for p in all {
            let text = match p.domain {
                Domain::Real { min, max, .. } => (min + (max - min) * 0.375).to_string(),
                Domain::Whole { min, max, odd } => {
                    let v = min + (max.min(min + 40) - min) / 2;
                    (if odd && v % 2 == 0 { v + 1 } else { v }).to_string()
                }
            };
            assert_ne!(text, p.default.to_string());
            let (s, notes) = AppState::from_query(&format!("{}={text}", p.key));
            assert!(notes.is_empty(), "{}: {notes:?}", p.key);
            let q: Vec<(String, String)> = serde_urlencoded::from_str(&s.to_query()).unwrap();
            assert_eq!(q, vec![(p.key.to_string(), p.parse(&text).unwrap().to_string())], "{}", p.key);
            for alias in p.aliases {
                assert_eq!(AppState::from_query(&format!("{alias}={text}")).0, s);
            }
        }
    }

    #[test]
    fn the_readme_lists_every_url_key() {
        let readme = include_str!("../README.md");
        let all = AttackKind::ALL.iter().flat_map(|k| k.params()).chain(infos::<McConfig>());
        for p in all {
            assert!(readme.contains(&format!("`{}`", p.key)), "README's URL table lacks `{}`", p.key);
        }
    }

    #[test]
    fn malformed_values_fall_back_with_a_note() {
        let (s, notes) = AppState::from_query("T=0&p=0.9&eps=abc&target=12&model=../etc&device=tpu&sample=-1&seed=x&unknown=1");
        assert_eq!(s, AppState::default());
        assert_eq!(notes.len(), 8, "{notes:?}");
        assert!(notes.iter().any(|n| n == "ignored T=\"0\": passes T must be a whole number from 1 to 500, got 0"), "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("ignored eps=\"abc\": ε must be in [0, 1]")), "{notes:?}");
        let (s, notes) = AppState::from_query("%%%&&==");
        assert!(s == AppState::default() && notes.len() <= 1);
        // -0 is 0, and shows as such.
        let (s, notes) = AppState::from_query("eps=-0");
        assert!(notes.is_empty());
        assert_eq!(s.attacks.text("eps").as_deref(), Some("0"));
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
            let (s, notes) = AppState::from_query(&serde_urlencoded::to_string([("weights", bad)]).unwrap());
            assert_eq!(s.weights, None, "{bad}");
            assert!(notes.iter().any(|n| n.contains("a path on this site")), "{bad}: {notes:?}");
        }
        let (s, notes) = AppState::from_query("dataset=stl10");
        assert_eq!((s.dataset, notes.len()), (Dataset::Stl10, 0));
        let (s, notes) = AppState::from_query("dataset=imagenet");
        assert_eq!((s.dataset, notes.len()), (Dataset::Mnist, 1));
    }

    #[test]
    fn targets_and_attacks_round_trip() {
        for target in [Target::Untargeted, Target::RunnerUp, Target::Class(0), Target::Class(9)] {
            for attack in AttackKind::ALL {
                let s = AppState { target, attack, ..AppState::default() };
                let (back, notes) = AppState::from_query(&s.to_query());
                assert_eq!(back, s);
                assert!(notes.is_empty(), "{notes:?}");
            }
        }
    }

    #[test]
    fn device_values_round_trip() {
        for (text, want) in [("auto", DevicePref::Auto), ("cpu", DevicePref::Cpu), ("webgpu", DevicePref::Gpu)] {
            let (s, notes) = AppState::from_query(&format!("device={text}"));
            assert!(notes.is_empty() && s.device == want, "{text}");
            assert_eq!(AppState::from_query(&s.to_query()).0.device, want);
        }
        assert!(AppState::from_query("device=tpu").1[0].contains("use auto, cpu or webgpu"));
    }

    #[test]
    fn embed_and_hide_keys_come_from_the_part_table() {
        let all = Part::ALL.map(Part::key).join(",");
        let (s, notes) = AppState::from_query(&format!("embed=1&hide={all}"));
        assert!(notes.is_empty(), "{notes:?}");
        assert!(s.embed);
        assert_eq!(s.hide, Part::ALL.to_vec());
        for part in Part::ALL {
            assert!(s.hides(part));
            assert_eq!(Part::from_key(part.key()), Some(part));
            assert!(!part.help().is_empty());
        }
        // Repeats, spaces and order do not matter; unknown parts are named in a note.
        let (s, notes) = AppState::from_query("hide=compare, samples,compare,zoom&embed=yes");
        assert_eq!(s.hide, vec![Part::Samples, Part::Compare]);
        assert!(!s.embed);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("ignored hide=\"zoom\": parts that can be hidden are dataset, model")), "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("ignored embed=\"yes\"")), "{notes:?}");
        assert_eq!(AppState::from_query("embed=0&hide=").0, AppState::default());
    }

    #[test]
    fn huge_values_are_echoed_only_in_part() {
        let huge = "x".repeat(100 * 1024);
        let (_, notes) = AppState::from_query(&format!("eps={huge}&{huge}=1&model={huge}"));
        assert_eq!(notes.len(), 2, "{notes:?}"); // an unknown key is ignored silently
        for n in &notes {
            assert!(n.chars().count() <= 241, "a note of {} characters", n.chars().count());
            assert!(n.starts_with("ignored eps=\"xxx") || n.starts_with("ignored model=\"xxx"), "{n}");
        }
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("ab", 3), "ab");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn out_of_range_attack_parameters_are_ignored_with_the_table_s_message() {
        let (s, notes) = AppState::from_query("attack=iaa&iaa_m=0&iaa_n=4&lbfgs_steps=0&attack=pgx&iaa_delta=x");
        assert_eq!(s.attack, AttackKind::Iaa);
        assert_eq!(s.attacks, AttackSet::default());
        assert!(notes.iter().any(|n| n.contains("iaa_delta") && n.contains("δ must be in (0, 1]")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("attack=\"pgx\"") && n.contains("use fgsm, lbfgs, iaa, pgd, pgdl2, deepfool, cw, jsma")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("iaa_n") && n.contains("odd")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("lbfgs_steps") && n.contains("c steps")), "{notes:?}");
        let (s, notes) = AppState::from_query("iaa_n=5&iaa_m=3&lbfgs_c=2");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((s.attacks.iaa.n, s.attacks.iaa.m, s.attacks.lbfgs.c_init), (5, 3, 2.0));
    }

    #[test]
    fn actions_change_what_they_say_and_refuse_bad_parameters() {
        let mut s = AppState::from_query("sample=3&target=5&model=mnist_cnn_p030&weights=w.safetensors").0;
        s.apply(Action::Dataset(Dataset::Cifar10)).unwrap();
        assert_eq!((s.dataset, s.model.clone(), s.weights.clone(), s.sample, s.target), (Dataset::Cifar10, None, None, 0, Target::Untargeted));
        s.apply(Action::Param { key: "eps".into(), text: "0.3".into() }).unwrap();
        assert_eq!(s.attacks.fgsm.eps, 0.3);
        s.apply(Action::Param { key: "passes".into(), text: "20".into() }).unwrap();
        assert_eq!(s.mc.passes, 20);
        let before = s.clone();
        let e = s.apply(Action::Param { key: "lbfgs_steps".into(), text: "0".into() }).unwrap_err();
        assert_eq!(e.to_string(), "c steps must be a whole number from 1 to 50, got 0");
        assert_eq!(s.apply(Action::Param { key: "nope".into(), text: "1".into() }), Err(ParamError::Unknown("nope".into())));
        assert_eq!(s, before, "a refused action changes nothing");
        // A dropped file: its dataset, no site weights; picking a bundled model ends it.
        s.weights = Some("x.safetensors".into());
        s.apply(Action::OwnWeights { dataset: Dataset::Mnist, file: Some("mine.safetensors".into()) }).unwrap();
        assert_eq!((s.dataset, s.weights.clone(), s.own_weights.as_deref()), (Dataset::Mnist, None, Some("mine.safetensors")));
        s.apply(Action::Model("mnist_cnn_p020".into())).unwrap();
        assert_eq!((s.model.as_deref(), s.own_weights.clone()), (Some("mnist_cnn_p020"), None));
        assert!(!s.to_query().contains("mine"), "a dropped file never reaches the URL");
    }

    #[test]
    fn the_manifest_settles_model_and_dataset() {
        let m = shipped();
        // A CIFAR-10 model named without a dataset brings its dataset.
        let mut s = AppState::from_query("model=alexnet_cifar10_p020").0;
        assert!(s.apply(Action::Manifest(m.clone())).unwrap().is_empty());
        assert_eq!(s.dataset, Dataset::Cifar10);
        // A model of another dataset than the one named: the dataset wins, with a note.
        let mut s = AppState::from_query("dataset=stl10&model=mnist_cnn_p020").0;
        let notes = s.apply(Action::Manifest(m.clone())).unwrap();
        assert_eq!((s.dataset, s.model.clone(), notes.len()), (Dataset::Stl10, None, 1));
        // An unknown model: the default, with a note naming it.
        let mut s = AppState::from_query("model=resnet").0;
        let notes = s.apply(Action::Manifest(m)).unwrap();
        assert_eq!(s.model, None);
        assert!(notes[0].contains("\"resnet\""), "{notes:?}");
    }
}
