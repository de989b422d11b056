//! The attack form: which attack, its goal, and its parameters, every field made from the
//! attack's table in core.

use leptos::prelude::*;
use quiver_core::attacks::{AttackKind, Target};

use crate::state::Action;
use crate::store::use_store;
use crate::ui::widgets::param_field::{param_field, Look};

#[component]
pub fn AttackForm(invalid: RwSignal<Option<String>>) -> impl IntoView {
    let store = use_store();
    let set_attack = move |ev| {
        if let Ok(a) = event_target_value(&ev).parse::<AttackKind>() {
            invalid.set(None);
            let _ = store.dispatch(Action::Attack(a));
        }
    };
    let set_target = move |ev| {
        let t = event_target_value(&ev).parse::<Target>().unwrap_or_default();
        let _ = store.dispatch(Action::Target(t));
    };
    let target_options = move || {
        let classes = store.class_names();
        let current = store.with_untracked(|s| s.target);
        [(Target::Untargeted, "untargeted (any wrong class)".to_string()), (Target::RunnerUp, "targeted: runner-up class".to_string())]
            .into_iter()
            .chain(classes.into_iter().enumerate().map(|(k, c)| (Target::Class(k), format!("target {c}"))))
            .map(|(t, text)| view! { <option value=t.to_string() selected=current == t>{text}</option> })
            .collect::<Vec<_>>()
    };
    let attack_options = move || {
        let current = store.with_untracked(|s| s.attack);
        AttackKind::ALL.into_iter().map(|a| view! { <option value=a.key() selected=current == a>{a.about().label}</option> }).collect::<Vec<_>>()
    };
    let kind = Memo::new(move |_| store.with(|s| s.attack));
    let params = move || {
        let k = kind.get();
        let fields = k
            .params()
            .into_iter()
            .map(|info| {
                // A coarse real parameter with a closed range of at most 1 is a slider, the rest
                // number boxes.
                let look = match info.domain {
                    quiver_core::params::Domain::Real { min, max, open_min: false, open_max: false, step } if max - min <= 1.0 && step >= 0.01 => Look::Slider,
                    _ => Look::Number,
                };
                param_field(store, info, look, move || store.with(|s| s.attacks.text(info.key).unwrap_or_default()), invalid)
            })
            .collect::<Vec<_>>();
        view! { <div class="params" id=format!("params-{}", k.key())>{fields}</div> }
    };
    // IAA's distance, stated honestly: how far one iteration can move D, next to D_max.
    let iaa_bound = move || {
        (kind.get() == AttackKind::Iaa).then(|| {
            let iaa = store.with(|s| s.attacks.iaa);
            let n: usize = store.input_shape().iter().product();
            let end = if iaa.fit_last {
                "the iteration that would pass D_max is scaled so that D ends at D_max"
            } else {
                "with “end at D_max” off (the paper's loop) D may end up to that much past D_max"
            };
            view! {
                <p class="hint" id="iaa-bound" data-bound=iaa.step_bound(n)>
                    {format!("One iteration can add up to m·δ·255/N = {:.3} to D (N = {n} values; D_max = {}): {end}.", iaa.step_bound(n), iaa.d_max)}
                </p>
            }
        })
    };
        view! {
        <p class="hint">{move || kind.get().about().summary}" Does the attack also change how uncertain the model is?"</p>
        <div class="controls">
            <label>"attack " <select id="attack-select" on:change=set_attack>{attack_options}</select></label>
            <label>"goal " <select id="target" on:change=set_target>{target_options}</select></label>
        </div>
        <div class="controls">{params}</div>
        {iaa_bound}
        <Show when=move || invalid.with(|i| i.is_some())>
            <p id="attack-invalid" class="error" role="alert">{move || invalid.get()}</p>
        </Show>
    }
}
