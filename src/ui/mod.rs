//! The page, one component per panel: `shell` (layout), `header` (dataset and model pickers,
//! status, problems, notes), `samples` (the input), `draw` (draw a digit), `help` (the "?" texts and the first-visit guide), `mc` (MC dropout), `ensembles` (ensembles beside MC dropout), `attack/` (the attack
//! panel: form, run, result), `bench` (`?bench=1`), `share` (the link and the embed snippet), `study/` (the test-set study: `run.rs` the work, `charts.rs`, `attack.rs` over the set, `curve.rs` the robustness curve, `precomputed.rs` the CLI's figures), and small `widgets/`.

#[cfg(feature = "attack-bench")]
pub mod attack_bench;
pub mod attack;
pub mod bench;
pub mod draw;
pub mod ensembles;
pub mod header;
pub mod help;
pub mod mc;
pub mod samples;
pub mod share;
pub mod shell;
pub mod study;
pub mod widgets;
