//! Quiver core: models, Monte-Carlo dropout, adversarial attacks, metrics and weight I/O.
//!
//! Nothing here knows about the web. Every computation is written once over Burn's runtime
//! [`Device`](burn::tensor::Device) and runs natively (CLI, tests) and in the browser (Flex on
//! wasm, or WebGPU).
//!
//! Data flows one way: bytes → core types → core computations → plain result structs.

pub mod attacks;
pub mod chacha8;
pub mod data;
pub mod dataset;
pub mod limits;
pub mod mc_dropout;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod params;
pub mod preprocess;
pub mod study;
pub mod weights;

pub use dataset::Dataset;
pub use model::{Architecture, Classifier, Model};
