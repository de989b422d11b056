//! Dataset readers. No file system here: callers pass bytes (the CLI reads files, the app
//! fetches them).

pub mod mnist;
