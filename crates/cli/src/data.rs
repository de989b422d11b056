//! Reading MNIST from disk and writing the committed subsets.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use quiver_core::data::mnist::{maybe_gunzip, MnistSet};

/// Load `train` or `t10k` from a directory of IDX files (gzip or raw).
pub fn load_mnist(dir: &Path, split: &str) -> Result<MnistSet> {
    let read = |kind: &str| -> Result<Vec<u8>> {
        for ext in ["-ubyte.gz", "-ubyte", ".idx.gz", ".idx"] {
            let p = dir.join(format!("{split}-{kind}{ext}"));
            if p.exists() {
                let raw = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
                return maybe_gunzip(&raw).with_context(|| format!("decompressing {}", p.display()));
            }
        }
        anyhow::bail!("no {split}-{kind} IDX file in {}", dir.display())
    };
    let images = read("images-idx3")?;
    let labels = read("labels-idx1")?;
    MnistSet::from_idx(&images, &labels).with_context(|| format!("parsing MNIST {split} in {}", dir.display()))
}

#[derive(Args)]
pub struct MakeSamplesArgs {
    /// Directory with the official MNIST IDX files.
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// How many test images (the first N, in official order) go into the test subset.
    #[arg(long, default_value_t = 1000)]
    pub test_count: usize,
    /// How many go into the app's sample gallery.
    #[arg(long, default_value_t = 24)]
    pub app_count: usize,
}

pub fn make_samples(a: MakeSamplesArgs) -> Result<()> {
    let test = load_mnist(&a.data, "t10k")?;
    let write = |set: &MnistSet, dir: &str| -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let (im, lb) = set.to_idx();
        std::fs::write(format!("{dir}/t10k-images-idx3-ubyte"), im)?;
        std::fs::write(format!("{dir}/t10k-labels-idx1-ubyte"), lb)?;
        println!("wrote {} images to {dir}", set.len());
        Ok(())
    };
    write(&test.take(a.test_count), "tests/fixtures/mnist-test-subset")?;
    write(&test.take(a.app_count), "public/samples/mnist")?;
    Ok(())
}
