//! The page header: dataset and model pickers, "use your own weights", the device and model
//! status, and below it the problems and notes, each with where it arose.

use leptos::prelude::*;
use leptos::task::spawn_local;
use quiver_core::Dataset;

use crate::files::weights_bytes;
use crate::plan::{models_of, Plan, Status};
use crate::runtime::Compute;
use crate::state::{Action, Part};
use crate::store::{use_store, Store, Where};
use crate::ui::share::ShareButton;

/// Use a weights file the user picked or dropped.
pub fn use_weights_file(store: Store, file: web_sys::File) {
    spawn_local(async move {
        let name = file.name();
        match weights_bytes(&file).await {
            Ok(bytes) => store.use_weights_file(bytes, name),
            Err(e) => store.problem(Where::Weights, format!("Could not use {name}: {e}.")),
        }
    });
}

#[component]
pub fn Header() -> impl IntoView {
    let store = use_store();
    let place = crate::worker::client::place();
    let compute = move || {
        if !store.device_ready().get() {
            "detecting…"
        } else if store.gpu().with(|g| g.is_some()) {
            Compute::WebGpu.label()
        } else {
            Compute::Cpu.label()
        }
    };
    let model_options = move || {
        let dataset = store.with(|s| s.dataset);
        let current = store.engine().with(|e| e.as_ref().map(|e| e.entry.id.clone()));
        let planned = match store.plan.get() {
            Plan::Use(src) => Some(src.id()),
            _ => None,
        };
        let mut options: Vec<(String, String)> = store
            .manifest()
            .with(|m| {
                m.as_ref().map(|m| {
                    models_of(m, dataset)
                        .map(|e| (e.id.clone(), format!("{} — trained p = {}, {} epochs ({:.2} % test accuracy, {})", e.id, e.train_dropout, e.epochs, e.test_accuracy * 100.0, e.dataset)))
                        .collect()
                })
            })
            .unwrap_or_default();
        // Your own weights, while they are in use.
        if let Some((id, file)) = store.engine().with(|e| e.as_ref().filter(|e| e.custom()).map(|e| (e.entry.id.clone(), e.entry.file.clone()))) {
            options.push((id, format!("your weights: {file}")));
        }
        if options.is_empty() {
            options.push((String::new(), "no bundled weights for this dataset".into()));
        }
        let selected = planned.or(current).unwrap_or_default();
        options
            .into_iter()
            .map(|(id, label)| {
                let is = id == selected;
                view! { <option value=id selected=is>{label}</option> }
            })
            .collect::<Vec<_>>()
    };
    let dataset_options = move || {
        let current = store.with(|s| s.dataset);
        Dataset::ALL.into_iter().map(|d| view! { <option value=d.key() selected=d == current>{d.label()}</option> }).collect::<Vec<_>>()
    };
    let set_dataset = move |ev| {
        if let Ok(d) = event_target_value(&ev).parse::<Dataset>() {
            let _ = store.dispatch(Action::Dataset(d));
        }
    };
    let set_model = move |ev| {
        let v = event_target_value(&ev);
        if !v.is_empty() && !v.starts_with("your-") {
            let _ = store.dispatch(Action::Model(v));
        }
    };
    let on_weights = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            use_weights_file(store, file);
        }
        input.set_value("");
    };
    let status = Memo::new(move |_| store.status());
    let loaded_id = move || store.engine().with(|e| e.as_ref().map(|e| e.entry.id.clone())).unwrap_or_default();

    view! {
        <header>
            <h1>"Quiver"</h1>
            <p class="tagline">"How uncertain is an image classifier, and how do adversarial attacks break it? Everything runs in your browser."</p>
            <div class="status">
                <span>"Device: " <strong id="device">{compute}</strong></span>
                <span>"Models run " <strong id="compute-place">{move || place.get()}</strong></span>
                <span id="weights-status" data-state=move || status.with(|s| s.key()) data-model=move || if status.with(|s| matches!(s, Status::Ready(_))) { loaded_id() } else { String::new() }>
                    {move || match status.get() {
                        Status::Starting => view! { <span class="loading">"Loading the model list…"</span> }.into_any(),
                        Status::Loading(msg) => view! { <span class="loading">{msg}</span> }.into_any(),
                        Status::Ready(id) => view! { <span class="ready">"Model ready: " {id}</span> }.into_any(),
                        Status::Failed(_) => view! {
                            <span class="failed">"Could not load the model. "</span>
                            <button id="weights-retry" on:click=move |_| store.retry()>"retry"</button>
                        }.into_any(),
                        Status::Empty => view! { <span>"No model loaded"</span> }.into_any(),
                    }}
                </span>
            </div>
            <div class="controls">
                <label class:hidden=store.hides(Part::Dataset)>"Dataset " <select id="dataset-select" on:change=set_dataset>{dataset_options}</select></label>
                <label class:hidden=store.hides(Part::Model)>"Model " <select id="model-select" on:change=set_model>{model_options}</select></label>
                <ShareButton/>
                {(!store.with_untracked(|s| s.embed)).then(|| {
                    let guide = use_context::<crate::ui::help::GuideOpen>();
                    view! { <button id="guide-open" on:click=move |_| if let Some(g) = guide { g.0.set(true) }>"guide"</button> }
                })}
                <label class="file-label" class:hidden=store.hides(Part::Weights) title="a .safetensors file with PyTorch state_dict names for mnist_cnn, alexnet_cifar10 or alexnet_stl10">
                    "use your own weights (.safetensors)"
                    <input id="weights-input" type="file" accept=".safetensors" on:change=on_weights/>
                </label>
            </div>
        </header>
        <Show when=move || !store.problems().is_empty()>
            <div id="error" role="alert" class="error">
                {move || store.problems().into_iter().map(|(at, text)| view! { <p data-where=format!("{at:?}").to_lowercase()>{text}</p> }).collect::<Vec<_>>()}
                <button class="dismiss" on:click=move |_| store.dismiss()>"×"</button>
            </div>
        </Show>
        <Show when=move || store.notes().with(|n| !n.is_empty())>
            <ul id="notes" class="notes">
                {move || store.notes().get().into_iter().map(|n| view! { <li>{n}</li> }).collect::<Vec<_>>()}
            </ul>
        </Show>
    }
}

/// No bundled model for the dataset and none brought: say how to get one.
#[component]
pub fn NoWeights() -> impl IntoView {
    let store = use_store();
    let missing = move || match store.plan.get() {
        Plan::NoWeights(d) if store.engine().with(|e| e.is_none()) => Some(d),
        _ => None,
    };
    move || {
        missing().map(|d| {
            let arch = d.architecture();
            let [c, h, w] = arch.input_shape();
            view! {
                <section class="panel notice" id="no-weights">
                    <h2>{format!("No {} weights are bundled", d.label())}</h2>
                    <p>{format!(
                        "Quiver ships no weights for {} ({}×{}×{} input, classes: {}). Bring your own: drop a .safetensors file with PyTorch state_dict names on the page or use the button above, or serve it with the site and open ?dataset={}&weights=<path>. To train one with Quiver's CLI:",
                        d.label(), c, h, w, arch.class_names().join(", "), d.key()
                    )}</p>
                    <pre>{match d {
                        Dataset::Stl10 => "cargo run --release -p quiver-cli -- train --arch alexnet_stl10 --data <folder with train_X.bin train_y.bin test_X.bin test_y.bin> --dropout 0.25 --out alexnet_stl10.safetensors",
                        Dataset::Cifar10 => "cargo run --release -p quiver-cli -- train --arch alexnet_cifar10 --data <folder with train/<class>/*.jpg and test/<class>/*.jpg> --dropout 0.25 --out alexnet_cifar10.safetensors",
                        Dataset::Mnist => "cargo run --release -p quiver-cli -- train --data <folder with the MNIST IDX files> --dropout 0.25 --out mnist_cnn.safetensors",
                    }}</pre>
                </section>
            }
        })
    }
}
