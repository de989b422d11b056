//! Dataset readers. Parsing works on bytes (the CLI reads files, the app fetches them); only
//! [`images::load_image_folder`] walks a directory, and it is native-only.

pub mod images;
pub mod mnist;
pub mod stl10;

pub use images::ImageSet;
