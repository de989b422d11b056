//! The attack panel's room: `panel` (state and layout), `params` (the form, from core's
//! tables), `driver` (runs core's stepper in time slices on the page), `result` (images, metrics,
//! before/after uncertainty), `compare` (every attack on one image, one table).

pub mod compare;
pub mod driver;
pub mod panel;
pub mod params;
pub mod result;
