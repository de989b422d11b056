//! "Share / embed": the current address, and an `<iframe>` snippet for a course page with the
//! compact layout (`embed=1`) and the parts an instructor chooses to hide (`hide=`, the
//! [`Part`] table). Copy buttons use the clipboard where the browser allows it (a sandboxed
//! iframe may not): then the text is selected for the user to copy.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::state::{AppState, Part};
use crate::store::use_store;

/// The page's address without its query (works from any sub-path).
fn base_url() -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default()
}

fn with_query(base: &str, q: &str) -> String {
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

/// An `<iframe>` for `url` (a URL-encoded address: only `&` needs escaping in the attribute).
pub fn iframe_snippet(url: &str) -> String {
    format!(
        r#"<iframe src="{}" width="800" height="600" style="border:0" sandbox="allow-scripts allow-same-origin" title="Quiver: uncertainty and adversarial attacks" loading="lazy"></iframe>"#,
        url.replace('&', "&amp;").replace('"', "&quot;")
    )
}

/// The embed address of `state` with `hide`.
pub fn embed_query(state: &AppState, hide: &[Part]) -> String {
    let mut s = state.clone();
    s.embed = true;
    s.hide = hide.to_vec();
    s.hide.sort();
    s.hide.dedup();
    s.to_query()
}

async fn copy_text(text: String) -> bool {
    let Some(w) = web_sys::window() else { return false };
    let nav = w.navigator();
    let Ok(clip) = js_sys::Reflect::get(&nav, &"clipboard".into()) else { return false };
    let Ok(write) = js_sys::Reflect::get(&clip, &"writeText".into()).and_then(|f| f.dyn_into::<js_sys::Function>().map_err(Into::into)) else {
        return false;
    };
    let Ok(promise) = write.call1(&clip, &text.into()).and_then(|p| p.dyn_into::<js_sys::Promise>().map_err(Into::into)) else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Select the text of the field `id` (for copying by hand).
fn select_field(id: &str) {
    let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) else { return };
    if let Ok(f) = js_sys::Reflect::get(&el, &"select".into()).and_then(|f| f.dyn_into::<js_sys::Function>().map_err(Into::into)) {
        let _ = f.call0(&el);
    }
}

#[component]
pub fn ShareButton() -> impl IntoView {
    let store = use_store();
    let open = RwSignal::new(false);
    let hide = RwSignal::new(store.with_untracked(|s| s.hide.clone()));
    let copied = RwSignal::new(String::new());
    let page_url = move || with_query(&base_url(), &store.with(|s| s.to_query()));
    let embed_url = move || with_query(&base_url(), &store.with(|s| embed_query(s, &hide.get())));
    let snippet = move || iframe_snippet(&embed_url());
    let copy = move |id: &'static str, text: String| {
        spawn_local(async move {
            if copy_text(text).await {
                copied.set(format!("copied the {}", if id == "share-url" { "link" } else { "snippet" }));
            } else {
                select_field(id);
                copied.set("the browser does not allow copying here: the text is selected, press Ctrl+C (⌘C)".into());
            }
        });
    };
    let parts = move || {
        Part::ALL
        .into_iter()
        .map(|part| {
            let checked = move || hide.with(|h| h.contains(&part));
            let toggle = move |_| {
                hide.update(|h| {
                    if let Some(i) = h.iter().position(|p| *p == part) {
                        h.remove(i);
                    } else {
                        h.push(part);
                    }
                });
                copied.set(String::new());
            };
            view! {
                <label class="hide-part"><input type="checkbox" data-part=part.key() prop:checked=checked on:change=toggle/>{part.help()}</label>
            }
        })
        .collect::<Vec<_>>()
    };
    view! {
        <button id="share" aria-expanded=move || open.get().to_string() aria-controls="share-dialog" on:click=move |_| open.update(|o| *o = !*o)>"Share / embed"</button>
        <Show when=move || open.get()>
            <div id="share-dialog" class="share" role="dialog" aria-label="Share or embed this view"
                on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
                <label>"Link to this view "
                    <input id="share-url" readonly prop:value=page_url/>
                </label>
                <button id="copy-url" on:click=move |_| copy("share-url", page_url())>"copy link"</button>
                <label>"Embed in a course page (compact layout for 800×600) "
                    <textarea id="share-snippet" readonly rows="3" prop:value=snippet></textarea>
                </label>
                <button id="copy-snippet" on:click=move |_| copy("share-snippet", snippet())>"copy snippet"</button>
                <fieldset>
                    <legend>"In the embed, hide:"</legend>
                    {parts}
                </fieldset>
                <p class="hint" role="status" id="share-status">{move || copied.get()}</p>
                <button on:click=move |_| open.set(false)>"close"</button>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippet_embeds_the_state_with_embed_and_hide() {
        let (s, _) = AppState::from_query("attack=iaa&T=20");
        let q = embed_query(&s, &[Part::Compare, Part::Samples, Part::Compare]);
        let (back, notes) = AppState::from_query(&q);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(back.embed && back.hide == vec![Part::Samples, Part::Compare]);
        assert_eq!((back.attack, back.mc.passes), (s.attack, s.mc.passes));
        let snippet = iframe_snippet(&with_query("https://example.org/quiver/", &q));
        assert!(snippet.starts_with(r#"<iframe src="https://example.org/quiver/?"#), "{snippet}");
        assert!(snippet.contains("&amp;") && !snippet.contains("&hide") && !snippet.contains("&embed"), "ampersands escaped: {snippet}");
        assert!(snippet.contains(r#"sandbox="allow-scripts allow-same-origin""#) && snippet.contains(r#"width="800" height="600""#));
    }
}
