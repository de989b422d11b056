//! Which weights the page should use, decided from the state and the manifest: a pure function,
//! tested natively. The store runs the plan (fetch, check, build) and shows its status; the state
//! holds only what the user asked for, the loaded engine only what was loaded.

use quiver_core::manifest::{Manifest, ModelEntry};
use quiver_core::Dataset;

use crate::state::AppState;

/// Where weights come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A model of `weights/manifest.json`.
    Bundled(ModelEntry),
    /// `?weights=<path>` on this site (read as the current dataset's architecture when it fits,
    /// else as the architecture it matches).
    Site(String),
    /// A file the user dropped or picked (already loaded from its bytes).
    File(String),
}

impl Source {
    /// The id the loaded model goes by.
    pub fn id(&self) -> String {
        match self {
            Source::Bundled(e) => e.id.clone(),
            Source::Site(path) => custom_id(path),
            Source::File(name) => custom_id(name),
        }
    }

    /// What the page says while it loads.
    pub fn loading_message(&self) -> String {
        match self {
            Source::Bundled(e) => format!("Loading weights {} ({:.0} kB)…", e.file, e.bytes as f64 / 1024.0),
            Source::Site(path) => format!("Loading your weights {path}…"),
            Source::File(name) => format!("Checking your weights {name}…"),
        }
    }
}

/// The model id of weights the user brought from `name` (a file name or a site path).
pub fn custom_id(name: &str) -> String {
    let clean: String = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .trim_end_matches(".safetensors")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .take(48)
        .collect();
    format!("your-{clean}")
}

#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The manifest is not here yet.
    Wait,
    /// Use these weights (loading them unless they are the loaded ones).
    Use(Source),
    /// No weights are bundled for the dataset and none were brought: say how to get some.
    NoWeights(Dataset),
}

/// The plan for `state`: a dropped file in use, else `?weights=`, else the named bundled model
/// when it belongs to the dataset, else the dataset's default model.
pub fn plan(state: &AppState, manifest: Option<&Manifest>) -> Plan {
    if let Some(name) = &state.own_weights {
        return Plan::Use(Source::File(name.clone()));
    }
    if let Some(path) = &state.weights {
        return Plan::Use(Source::Site(path.clone()));
    }
    let Some(m) = manifest else { return Plan::Wait };
    let named = state.model.as_deref().and_then(|id| m.get(id)).filter(|e| Dataset::of(e.architecture) == state.dataset);
    match named.or_else(|| default_model(m, state.dataset)) {
        Some(e) => Plan::Use(Source::Bundled(e.clone())),
        None => Plan::NoWeights(state.dataset),
    }
}

/// What the status line says, from the plan, the loaded model's source and the last failure.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// The manifest or the device is not ready.
    Starting,
    Loading(String),
    Ready(String),
    /// The planned weights could not be used (the message says why and what is still in use).
    Failed(String),
    /// Nothing to load (no bundled weights for the dataset).
    Empty,
}

impl Status {
    /// The `data-state` value the page exposes.
    pub fn key(&self) -> &'static str {
        match self {
            Status::Starting | Status::Loading(_) => "loading",
            Status::Ready(_) => "ready",
            Status::Failed(_) => "failed",
            Status::Empty => "none",
        }
    }
}

pub fn status(plan: &Plan, loaded: Option<&Source>, failed: Option<&(Source, String)>) -> Status {
    match plan {
        Plan::Wait => Status::Starting,
        Plan::NoWeights(_) => Status::Empty,
        Plan::Use(want) => match (loaded, failed) {
            (Some(have), _) if have == want => Status::Ready(have.id()),
            (_, Some((src, e))) if src == want => Status::Failed(e.clone()),
            _ => Status::Loading(want.loading_message()),
        },
    }
}

/// The model a dataset opens with: the one trained at the seed's middle rate p = 0.25, else the
/// first listed.
pub fn default_model(manifest: &Manifest, dataset: Dataset) -> Option<&ModelEntry> {
    models_of(manifest, dataset).find(|e| (e.train_dropout - 0.25).abs() < 1e-6).or_else(|| models_of(manifest, dataset).next())
}

/// The bundled models of one dataset, in manifest order.
pub fn models_of(manifest: &Manifest, dataset: Dataset) -> impl Iterator<Item = &ModelEntry> {
    manifest.models.iter().filter(move |e| Dataset::of(e.architecture) == dataset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Action;

    fn shipped() -> Manifest {
        Manifest::from_json(include_str!("../weights/manifest.json")).unwrap()
    }

    fn bundled(p: &Plan) -> Option<&str> {
        match p {
            Plan::Use(Source::Bundled(e)) => Some(&e.id),
            _ => None,
        }
    }

    #[test]
    fn each_dataset_opens_with_its_p025_model_else_its_first() {
        let m = shipped();
        let id = |m: &Manifest, d| default_model(m, d).map(|e| e.id.clone());
        assert_eq!(id(&m, Dataset::Mnist).as_deref(), Some("mnist_cnn_p025"));
        assert_eq!(id(&m, Dataset::Cifar10).as_deref(), Some("alexnet_cifar10_p025"));
        assert_eq!(id(&m, Dataset::Stl10), None, "no STL-10 weights are bundled");
        let mut other = m.clone();
        other.models.retain(|e| (e.train_dropout - 0.25).abs() > 1e-6);
        let first = models_of(&other, Dataset::Mnist).next().unwrap().id.clone();
        assert_eq!(id(&other, Dataset::Mnist), Some(first));
    }

    #[test]
    fn the_plan_follows_the_state() {
        let m = shipped();
        let plan_of = |q: &str| plan(&AppState::from_query(q).0, Some(&m));
        assert_eq!(plan(&AppState::default(), None), Plan::Wait);
        assert_eq!(bundled(&plan_of("")), Some("mnist_cnn_p025"));
        assert_eq!(bundled(&plan_of("model=mnist_cnn_p020")), Some("mnist_cnn_p020"));
        assert_eq!(bundled(&plan_of("dataset=cifar10")), Some("alexnet_cifar10_p025"));
        assert_eq!(bundled(&plan_of("dataset=cifar10&model=alexnet_cifar10_p030")), Some("alexnet_cifar10_p030"));
        // A model of another dataset never loads under this dataset's name.
        assert_eq!(bundled(&plan_of("dataset=cifar10&model=mnist_cnn_p020")), Some("alexnet_cifar10_p025"));
        assert_eq!(plan_of("dataset=stl10"), Plan::NoWeights(Dataset::Stl10));
        // ?weights= needs no manifest; a dropped file wins over everything.
        let s = AppState::from_query("dataset=stl10&weights=my/w.safetensors").0;
        assert_eq!(plan(&s, None), Plan::Use(Source::Site("my/w.safetensors".into())));
        let mut s = AppState::default();
        s.apply(Action::OwnWeights { dataset: Dataset::Mnist, file: Some("mine.safetensors".into()) }).unwrap();
        assert_eq!(plan(&s, Some(&m)), Plan::Use(Source::File("mine.safetensors".into())));
        // The dataset switch plans the new dataset's default; a failed ?weights= falls back.
        let mut s = AppState::from_query("weights=nowhere/w.safetensors").0;
        s.apply(Action::DropSiteWeights).unwrap();
        assert_eq!(bundled(&plan(&s, Some(&m))), Some("mnist_cnn_p025"));
    }

    #[test]
    fn the_status_says_what_is_loaded_loading_or_failed() {
        let m = shipped();
        let want = Plan::Use(Source::Bundled(m.get("mnist_cnn_p020").unwrap().clone()));
        let other = Source::Bundled(m.get("mnist_cnn_p025").unwrap().clone());
        let Plan::Use(src) = &want else { unreachable!() };
        assert!(matches!(status(&want, None, None), Status::Loading(msg) if msg.contains("mnist_cnn_p020.safetensors")));
        assert!(matches!(status(&want, Some(&other), None), Status::Loading(_)), "the old model is not the wanted one");
        assert_eq!(status(&want, Some(src), None), Status::Ready("mnist_cnn_p020".into()));
        let failed = (src.clone(), "HTTP 404".to_string());
        assert_eq!(status(&want, Some(&other), Some(&failed)), Status::Failed("HTTP 404".into()));
        assert_eq!(status(&want, Some(&other), Some(&failed)).key(), "failed");
        // A failure of something no longer wanted does not show.
        assert!(matches!(status(&Plan::Use(other.clone()), None, Some(&failed)), Status::Loading(_)));
        assert_eq!(status(&Plan::NoWeights(Dataset::Stl10), None, None).key(), "none");
        assert_eq!(status(&Plan::Wait, None, None), Status::Starting);
    }
}
