//! Explanations in place: a "?" next to a panel or a measure opens a short text (the browser's
//! own popover: light dismiss, Escape, no script), and a three-step guide on the first visit.
//! Plain words; the formulas are the ones the code computes (`quiver_core::mc_dropout`,
//! `quiver_core::metrics`, the attack files).

use leptos::prelude::*;
use quiver_core::attacks::AttackKind;

/// Something the page explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    McDropout,
    Variance,
    Entropy,
    MutualInformation,
    Margin,
    Agreement,
    Attack(AttackKind),
    Distances,
    Ensembles,
}

impl Topic {
    /// The element id of its text.
    pub fn id(self) -> String {
        match self {
            Topic::Attack(k) => format!("help-attack-{}", k.key()),
            t => format!("help-{}", t.key()),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Topic::McDropout => "mc-dropout",
            Topic::Variance => "variance",
            Topic::Entropy => "entropy",
            Topic::MutualInformation => "mutual-information",
            Topic::Margin => "margin",
            Topic::Agreement => "agreement",
            Topic::Attack(_) => "attack",
            Topic::Distances => "distances",
            Topic::Ensembles => "ensembles",
        }
    }

    /// Its name and its text.
    pub fn text(self) -> (&'static str, &'static str) {
        match self {
            Topic::McDropout => ("Monte-Carlo dropout", "Dropout switches off a random share p of the network's units. It is normally used only while training; left on when predicting, every pass is a slightly different network. The model runs T such passes on the same image: where the passes agree the model is sure, where they differ it is not (Gal & Ghahramani 2016). The seed makes the passes repeatable."),
            Topic::Variance => ("Variance", "For each class, how much its probability varies over the T passes: Var = (1/T) Σₜ (pₜ − p̄)². The seed report uses it as the model's confidence measure: near 0 when every pass gives the class the same probability. The headline gives it for the predicted class."),
            Topic::Entropy => ("Predictive entropy", "How spread out the mean prediction p̄ is: H = −Σₖ p̄ₖ ln p̄ₖ, in nats. 0 when one class has all the probability; ln 10 ≈ 2.30 when all ten classes are equally likely. It rises with any kind of doubt: an ambiguous image or a model that does not know."),
            Topic::MutualInformation => ("Mutual information", "The part of the entropy that comes from the passes disagreeing: MI = H(p̄) − (1/T) Σₜ H(pₜ) (BALD). High when the passes give different answers: the model's own uncertainty (epistemic), which more training data would reduce. Low while the entropy is high: every pass is equally unsure, so the doubt is in the image itself (aleatoric)."),
            Topic::Margin => ("Margin", "The mean probability of the predicted class minus that of the runner-up: 1 when the model is certain, near 0 when two classes are tied."),
            Topic::Agreement => ("Agreement", "The share of the T passes whose own top class is the predicted class."),
            Topic::Attack(k) => (k.about().label, attack_text(k)),
            Topic::Ensembles => ("Ensembles", "The seed report's alternative to MC dropout (§3.1.1; Lakshminarayanan et al. 2017): train K models apart — here from different random seeds, or each on a different random half of the training images — and average their softmaxes. Where the members disagree the ensemble is unsure. The measures are those of MC dropout with the K members in place of the T passes; the members' votes list each one's top class."),
            Topic::Distances => ("Distances", "How far the adversarial image is from the original, measured on the 8-bit image you download, with pixel values in [0, 1]. L0: how many values changed. L2: √Σ(x′ − x)², the overall size of the change. L∞: the largest change of any one value. D: the seed report's perceptual distance, (1/N) Σ |x′ − x| · Sen, which weighs a change by 1 / the standard deviation of its n×n neighbourhood, so changes in flat regions count more than in busy ones."),
        }
    }
}

/// Each attack in two sentences, with its paper.
fn attack_text(k: AttackKind) -> &'static str {
    match k {
        AttackKind::Fgsm => "One step: every pixel moves by ε in the sign of the loss gradient, the direction that hurts the model most (Goodfellow, Shlens & Szegedy 2015, \"Explaining and harnessing adversarial examples\"). Fast, and the classic first test of robustness.",
        AttackKind::Pgd => "FGSM repeated in small steps, each projected back into the ε-ball around the image (L∞), from a random start (Madry et al. 2018, \"Towards deep learning models resistant to adversarial attacks\"; without the random start it is BIM, Kurakin et al. 2017). The standard strong first-order attack.",
        AttackKind::PgdL2 => "PGD in the L2 ball: each step follows the normalised gradient and is projected back to distance ε (Madry et al. 2018). It spreads the change over many pixels instead of moving each by the same amount.",
        AttackKind::Cw => "Minimises the size of the change plus c times a margin loss on the logits, through a change of variables that keeps pixels in [0, 1], with a binary search over c (Carlini & Wagner 2017, \"Towards evaluating the robustness of neural networks\"). It finds small L2 changes where FGSM fails.",
        AttackKind::DeepFool => "Treats the network as locally linear and steps to the nearest class boundary, again and again until the label flips, with a small overshoot (Moosavi-Dezfooli, Fawzi & Frossard 2016, \"DeepFool\"). It estimates how close the image is to being misclassified.",
        AttackKind::Jsma => "Changes a few pixels at a time, those whose saliency (from the Jacobian) pushes most towards the target class, up to a share γ of the image (Papernot et al. 2016, \"The limitations of deep learning in adversarial settings\"). Few pixels change, each by a lot: a small L0.",
        AttackKind::Lbfgs => "Searches for the smallest L2 change that makes the model say the target, by minimising c·|δ|² plus the loss with box-constrained L-BFGS and a search over c (Szegedy et al. 2013, \"Intriguing properties of neural networks\"). The first adversarial-example method.",
        AttackKind::Iaa => "The seed report's imperceptible attack (§4.4): it changes the m pixels with the highest gradient-of-gap divided by sensitivity (busy regions, where the eye notices least) by δ per step, until the gap passes κ or the perceptual distance D reaches D_max. The sensitivity map shows where it prefers to work.",
    }
}

/// A "?" that opens the topic's text.
#[component]
pub fn Help(topic: Topic, #[prop(optional)] label: Option<&'static str>) -> impl IntoView {
    let (title, text) = topic.text();
    let id = topic.id();
    view! {
        <button type="button" class="help" popovertarget=id.clone() aria-label=format!("What is {title}?") title=format!("What is {title}?")>
            {label.map(|l| view! { <span class="help-label">{l}</span> })}
            <span class="help-mark" aria-hidden="true">"?"</span>
        </button>
        <div popover="auto" id=id class="help-text" role="note">
            <strong>{title}</strong>
            <p>{text}</p>
        </div>
    }
}

/// `localStorage` without the web-sys `Storage` binding (a flag of one key).
mod seen {
    use wasm_bindgen::JsCast;

    const KEY: &str = "quiver-guide-seen";

    fn call(method: &str, args: &[&str]) -> Option<wasm_bindgen::JsValue> {
        let w = web_sys::window()?;
        // Reading localStorage throws where storage is blocked (some sandboxes): then no flag.
        let store = js_sys::Reflect::get(&w, &"localStorage".into()).ok().filter(|s| s.is_object())?;
        let f: js_sys::Function = js_sys::Reflect::get(&store, &method.into()).ok()?.dyn_into().ok()?;
        let a: Vec<wasm_bindgen::JsValue> = args.iter().map(|s| (*s).into()).collect();
        match a.as_slice() {
            [k] => f.call1(&store, k).ok(),
            [k, v] => f.call2(&store, k, v).ok(),
            _ => None,
        }
    }

    pub fn get() -> bool {
        call("getItem", &[KEY]).and_then(|v| v.as_string()).is_some()
    }

    pub fn set() {
        let _ = call("setItem", &[KEY, "1"]);
    }
}

/// The first-visit guide's switch, for the header's "guide" button (the shell provides it).
#[derive(Clone, Copy)]
pub struct GuideOpen(pub RwSignal<bool>);

/// The first-visit guide: three steps, dismissed once for this browser (not in the embed
/// layout: an instructor's page says what to do). "guide" in the header shows it again.
#[component]
pub fn Guide(open: RwSignal<bool>) -> impl IntoView {
    let close = move |_| {
        seen::set();
        open.set(false);
    };
    view! {
        <Show when=move || open.get()>
            <aside id="guide" class="guide" aria-label="How to use Quiver in three steps">
                <ol>
                    <li><strong>"Pick an image"</strong>" — a test digit, your own picture, or draw one."</li>
                    <li><strong>"Read the uncertainty"</strong>" — the model runs T times with dropout on; the spread of its answers (variance, entropy, mutual information) is how unsure it is."</li>
                    <li><strong>"Attack it"</strong>" — a small change the eye hardly sees can flip the answer. Does the model become less sure, or confidently wrong?"</li>
                </ol>
                <button id="guide-close" on:click=close>"got it"</button>
            </aside>
        </Show>
    }
}

/// Whether the guide opens on this visit.
pub fn first_visit(embed: bool) -> bool {
    !embed && !seen::get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_name_a_text_and_its_own_id() {
        let topics: Vec<Topic> = [Topic::McDropout, Topic::Variance, Topic::Entropy, Topic::MutualInformation, Topic::Margin, Topic::Agreement, Topic::Distances, Topic::Ensembles]
            .into_iter()
            .chain(AttackKind::ALL.into_iter().map(Topic::Attack))
            .collect();
        let mut ids: Vec<String> = topics.iter().map(|t| t.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), topics.len(), "ids are unique");
        for t in topics {
            let (name, text) = t.text();
            assert!(!name.is_empty() && text.len() > 60, "{t:?}");
        }
        // Each attack's text names its paper's year.
        for k in AttackKind::ALL {
            assert!(attack_text(k).chars().filter(|c| c.is_ascii_digit()).count() >= 4 || k == AttackKind::Iaa, "{k:?}");
        }
    }
}
