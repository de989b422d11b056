//! One component per panel.

pub mod attack_bench;
pub mod attack_panel;
pub mod bench;
pub mod charts;
pub mod image_view;
pub mod mc_panel;
pub mod sample_picker;
