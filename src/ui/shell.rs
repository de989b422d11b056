//! The application shell: the store, the layout and the footer.

use leptos::prelude::*;

use crate::state::{Action, BenchMode, Part, View};
use crate::ui::study::run::{StudyEnsembles, StudyResults};
use crate::ui::study::StudyView;
use crate::store::{use_store, Store};
use crate::ui::attack::compare::ComparePanel;
use crate::ui::attack::panel::AttackPanel;
use crate::ui::bench::BenchPanel;
use crate::ui::header::{Header, NoWeights};
use crate::ui::help::{first_visit, Guide, GuideOpen};
use crate::ui::mc::McPanel;
use crate::ui::samples::SamplePicker;

#[component]
pub fn App() -> impl IntoView {
    // index.html's loading indicator has done its work.
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    let store = Store::start();
    let bench = store.with_untracked(|s| s.bench);
    let embed = store.with_untracked(|s| s.embed);
    let guide = RwSignal::new(first_visit(embed));
    provide_context(GuideOpen(guide));
    provide_context(StudyResults(RwSignal::new_local(Vec::new())));
    provide_context(StudyEnsembles::new(store));
    let study = move || store.with(|s| s.view) == View::Study;
    view! {
        <div class="app" class:embed=embed>
        <Header/>
        <Guide open=guide/>
        <NoWeights/>
        <ViewSwitch/>
        <Show when=study>
            <main class="study"><StudyView/></main>
        </Show>
        <main class:hidden=study>
            <SamplePicker/>
            <McPanel/>
            {(!store.hides(Part::Attack)).then(|| view! { <AttackPanel/> })}
            {(!store.hides(Part::Compare)).then(|| view! { <ComparePanel/> })}
            {(bench == BenchMode::Speed).then(|| view! { <BenchPanel/> })}
            {(bench == BenchMode::Attacks).then(attack_bench)}
        </main>
        <footer>
            "Quiver — MC dropout (Gal & Ghahramani 2016); FGSM (Goodfellow et al. 2015), PGD (Madry et al. 2018), C&W (Carlini & Wagner 2017), DeepFool (Moosavi-Dezfooli et al. 2016), JSMA (Papernot et al. 2016), L-BFGS (Szegedy et al. 2013) and IAA (seed report §4.4) on the seed report's MNIST CNN and AlexNet. "
            "Models: Burn; charts: plotly.js (vendored). No data leaves this page."
        </footer>
        </div>
    }
}

/// One image, or the study over the test set (a pair of tabs).
#[component]
fn ViewSwitch() -> impl IntoView {
    let store = use_store();
    let view_is = move |v: View| store.with(|s| s.view) == v;
    let tab = move |v: View, id: &'static str, text: &'static str| {
        view! {
            <button id=id role="tab" aria-selected=move || view_is(v).to_string() class:active=move || view_is(v) on:click=move |_| { let _ = store.dispatch(Action::View(v)); }>{text}</button>
        }
    };
    (!store.with_untracked(|s| s.embed)).then(|| view! {
        <nav class="view-switch" role="tablist" aria-label="What to look at">
            {tab(View::Image, "view-image", "one image")}
            {tab(View::Study, "view-study", "the test set (study)")}
        </nav>
    })
}

/// The attack benchmark is a tool, not part of the product: only builds with the
/// `attack-bench` feature have it (`scripts/bench.sh --attacks`).
#[cfg(feature = "attack-bench")]
fn attack_bench() -> AnyView {
    view! { <crate::ui::attack_bench::AttackBenchPanel/> }.into_any()
}

#[cfg(not(feature = "attack-bench"))]
fn attack_bench() -> AnyView {
    view! {
        <section class="panel" id="bench-panel">
            <p id="bench-status">"This build has no attack benchmark: run scripts/bench.sh --attacks, which builds one."</p>
        </section>
    }
    .into_any()
}
