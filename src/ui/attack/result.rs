//! What an attack did: the verdict line, the metrics table, and the MC-dropout uncertainty of
//! the original and the adversarial image side by side.

use leptos::prelude::*;
use quiver_core::mc_dropout::McSummary;

use crate::ui::attack::driver::Finished;
use crate::ui::mc::{headline, McTable};

/// The rows of the metrics table: `(data-metric key, label, value)`. Every prediction row says
/// which prediction it is (deterministic or MC), before and after alike.
pub fn metric_rows(v: &Finished, before: Option<&McSummary>, after: Option<&McSummary>, classes: &[String]) -> Vec<(&'static str, String, String)> {
    let o = &v.outcome;
    let d = o.distances;
    let goal = match o.goal.target {
        Some(t) => format!("make it say {} (true: {})", classes[t], classes[o.goal.label]),
        None => format!("any class but {}", classes[o.goal.label]),
    };
    let mut rows = vec![
        ("attack", "attack".to_string(), o.attack.to_uppercase()),
        ("goal", "goal".to_string(), goal),
        ("success", "success (of the 8-bit image you download)".to_string(), o.success.to_string()),
        ("prediction", "deterministic prediction (original → adversarial)".to_string(), format!("{} → {}", classes[v.predicted_before], classes[o.predicted])),
        ("gap", "final gap (> 0: goal reached)".to_string(), format!("{:.4}", o.gap)),
        ("l0", "L0 (8-bit values changed)".to_string(), d.l0.to_string()),
        ("l2", "L2".to_string(), format!("{:.4}", d.l2)),
        ("linf", "L∞".to_string(), format!("{:.4}", d.linf)),
        ("d", "perceptual distance D".to_string(), format!("{:.4}", o.perceptual_distance)),
        ("iterations", "iterations".to_string(), o.iterations.to_string()),
        ("quantization", "before the 8-bit projection".to_string(), quantization_text(o)),
        ("time", "time (compute / wall)".to_string(), format!("{:.1} ms / {:.1} ms", v.compute_ms, v.wall_ms)),
    ];
    if let (Some(b), Some(a)) = (before, after) {
        rows.extend([
            ("mc-prediction", "MC-dropout prediction (original → adversarial)".to_string(), format!("{} → {}", classes[b.predicted], classes[a.predicted])),
            ("mc-mean", "MC mean p of each MC prediction".to_string(), format!("{:.4} → {:.4}", b.mean[b.predicted], a.mean[a.predicted])),
            ("mc-var", "MC variance of each MC prediction".to_string(), format!("{:.5} → {:.5}", b.variance[b.predicted], a.variance[a.predicted])),
            ("mc-entropy", "MC predictive entropy (nats)".to_string(), format!("{:.4} → {:.4}", b.entropy, a.entropy)),
        ]);
    }
    rows
}

/// What to try when an attack leaves the prediction as it was (a failed attack is a finding:
/// the model held within this budget).
pub fn failure_hint(attack: &str) -> &'static str {
    match attack {
        "fgsm" => "The model held against one step of this size: raise ε, or try an iterative attack (PGD, C&W, L-BFGS, IAA).",
        "pgd" | "pgdl2" => "The model held within this ε-ball: raise ε or the number of steps.",
        "iaa" => "The perceptual budget D_max ran out first: raise D_max or the iterations.",
        _ => "The attack ran out of iterations or budget: raise them in its parameters.",
    }
}

/// What the projection onto the 8-bit grid changed: the attack's own float result and whether
/// rounding had to be repaired to keep the goal.
pub fn quantization_text(o: &quiver_core::attacks::AttackOutcome) -> String {
    let q = &o.quantization;
    let mut t = format!(
        "float result: success {} · L0 {} · L2 {:.4} · L∞ {:.4}",
        q.float_success, q.float_distances.l0, q.float_distances.l2, q.float_distances.linf
    );
    if q.repaired {
        t.push_str(" · nearest rounding lost the goal; rounding away from the original kept it");
    }
    t
}

#[component]
pub fn AttackResult(finished: Finished, before: Option<McSummary>, after: Option<McSummary>, classes: Vec<String>) -> impl IntoView {
    let v = finished;
    let o = &v.outcome;
    let d = o.distances;
    let verdict = if v.cancelled {
        "cancelled — best so far"
    } else if o.success {
        "the attack succeeded"
    } else {
        "the attack failed"
    };
    let next = (!v.cancelled && !o.success).then(|| failure_hint(&o.attack));
    let rows = metric_rows(&v, before.as_ref(), after.as_ref(), &classes);
    let text = format!(
        "{verdict}: deterministic prediction {} → {} · L∞ {:.3} · L2 {:.3} · L0 {}",
        classes[v.predicted_before], classes[o.predicted], d.linf, d.l2, d.l0
    );
    view! {
        <p id="attack-result" data-success=o.success.to_string() data-before=v.predicted_before data-after=o.predicted
            data-attack=o.attack.clone() data-cancelled=v.cancelled.to_string() data-iterations=o.iterations
            data-cancel-ms=v.cancel_latency_ms.map(|l| format!("{l:.1}")).unwrap_or_default()>
            {text}
            {v.cancel_latency_ms.map(|l| format!(" · stopped {l:.0} ms after the click"))}
        </p>
        {next.map(|h| view! { <p class="hint" id="attack-next">{h}</p> })}
        <table id="attack-metrics" class="metrics">
            <tbody>
                {rows.into_iter().map(|(key, name, value)| view! { <tr data-metric=key><th>{name}</th><td class="num">{value}</td></tr> }).collect::<Vec<_>>()}
            </tbody>
        </table>
        {match (before, after) {
            (Some(b), Some(a)) => view! {
                <div class="compare">
                    <div><h3>"Original"</h3><p id="mc-before">{headline(&b, &classes)}</p><McTable summary=b.clone() classes=classes.clone() id="attack-table-before"/></div>
                    <div><h3>"Adversarial"</h3><p id="mc-after">{headline(&a, &classes)}</p><McTable summary=a.clone() classes=classes.clone() id="attack-table-after"/></div>
                </div>
            }.into_any(),
            _ => view! { <p class="busy">"computing the MC-dropout uncertainty…"</p> }.into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use quiver_core::attacks::{AttackOutcome, Goal};
    use quiver_core::metrics::Distances;

    use super::*;

    /// An MC summary whose passes all put `p` on class `k`.
    fn mc_on(k: usize) -> McSummary {
        let mut probs = vec![0.0f32; 10];
        probs[k] = 1.0;
        McSummary::from_probs(probs.repeat(3), 3, 10)
    }

    #[test]
    fn each_prediction_row_compares_like_with_like() {
        let outcome = AttackOutcome {
            attack: "fgsm".into(),
            adversarial: vec![0.5; 4],
            goal: Goal { label: 3, target: None },
            predicted: 5,
            success: true,
            iterations: 1,
            trajectory: vec![],
            distances: Distances::between(&[0.4; 4], &[0.5; 4]),
            perceptual_distance: 0.0,
            gap: 0.1,
            quantization: Default::default(),
        };
        // The deterministic prediction before (3) differs from the MC prediction before (7): the
        // deterministic row must not mix them.
        let f = Finished { original: vec![0.4; 4], outcome, predicted_before: 3, compute_ms: 1.0, wall_ms: 2.0, cancelled: false, cancel_latency_ms: None };
        let classes: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let rows = metric_rows(&f, Some(&mc_on(7)), Some(&mc_on(8)), &classes);
        let row = |key: &str| rows.iter().find(|r| r.0 == key).map(|r| r.2.clone()).unwrap();
        assert_eq!(row("prediction"), "3 → 5");
        assert_eq!(row("mc-prediction"), "7 → 8");
        assert_eq!(row("mc-mean"), "1.0000 → 1.0000");
        // Without the MC numbers yet, no MC row is shown.
        assert!(metric_rows(&f, None, None, &classes).iter().all(|r| !r.0.starts_with("mc-")));
    }
}
