//! One form field for one parameter table entry: label, range, step and help come from the
//! table; the value is read from the state and written through the store, whose refusal (the
//! table's message) is shown by the caller.

use leptos::prelude::*;
use quiver_core::attacks::kinds::ParamInfo;
use quiver_core::params::Domain;

use crate::state::Action;
use crate::store::Store;

/// How a field looks: a number box, or a slider with its value beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    Number,
    Slider,
}

/// Decimals that show a value at the entry's step (0.01 → 2).
pub fn decimals(domain: &Domain) -> usize {
    match domain {
        Domain::Real { step, .. } => {
            let mut d = 0;
            let mut s = *step as f64;
            while d < 6 && (s - s.round()).abs() > 1e-6 * s.max(1.0) {
                s *= 10.0;
                d += 1;
            }
            d
        }
        Domain::Whole { .. } => 0,
    }
}

/// A field for `info`; `text` reads its current value from the state; a refused value goes to
/// `invalid`.
pub fn param_field(store: Store, info: ParamInfo, look: Look, text: impl Fn() -> String + Send + Sync + 'static, invalid: RwSignal<Option<String>>) -> impl IntoView {
    // Attribute text: f32 values by their shortest text ("0.01", not 0.009999999776…), or a
    // range input would snap to multiples of the widened step.
    let attr = |x: f64| match info.domain {
        Domain::Real { .. } => (x as f32).to_string(),
        Domain::Whole { .. } => (x as u64).to_string(),
    };
    let (min, max) = info.domain.bounds();
    let (min, max, step) = (attr(min), attr(max), attr(info.domain.step()));
    let key = info.key;
    let title = if info.unit.is_empty() {
        format!("{} ({})", info.help, info.domain.rule())
    } else {
        format!("{} ({}, {})", info.help, info.domain.rule(), info.unit)
    };
    // A refused value does not stay in the field: the field goes back to the value in use (the
    // state's, which the URL and the results follow), is marked invalid, and the table's message
    // says what was refused and what is still used.
    let refused = RwSignal::new(false);
    let text = Signal::derive(text);
    let commit = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        match store.dispatch(Action::Param { key: key.to_string(), text: v }) {
            Ok(()) => {
                refused.set(false);
                invalid.set(None);
            }
            Err(e) => {
                let in_use = text.get_untracked();
                event_target::<web_sys::HtmlInputElement>(&ev).set_value(&in_use);
                refused.set(true);
                invalid.set(Some(format!("{e}; still using {in_use}")));
            }
        }
    };
    let id = key.to_lowercase().replace('_', "-");
    match look {
        Look::Slider => {
            let shown = move || {
                let t = text.get();
                t.parse::<f64>().map(|x| format!("{x:.*}", decimals(&info.domain))).unwrap_or(t)
            };
            view! {
                <label title=title>{info.label} " "
                    <input id=id type="range" data-param=key min=min max=max step=step aria-invalid=move || refused.get().to_string() prop:value=move || text.get() on:input=commit/>
                    <output data-param-value=key>{shown}</output>
                </label>
            }
            .into_any()
        }
        Look::Number => view! {
            <label title=title>{info.label} " "
                <input id=id type="number" class="param" data-param=key min=min max=max step=step aria-invalid=move || refused.get().to_string() prop:value=move || text.get() on:change=commit/>
            </label>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_step() {
        assert_eq!(decimals(&Domain::closed(0.0, 1.0, 0.01)), 2);
        assert_eq!(decimals(&Domain::closed(0.0, 0.5, 0.05)), 2);
        assert_eq!(decimals(&Domain::closed(0.0, 1.0, 0.1)), 1);
        assert_eq!(decimals(&Domain::whole(1, 9)), 0);
    }
}
