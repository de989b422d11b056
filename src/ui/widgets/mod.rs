//! Small pieces the panels share.

pub mod charts;
pub mod download;
pub mod param_field;
pub mod pixel_canvas;
