//! Reading the datasets from disk and writing the committed subsets.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use quiver_core::data::images::load_image_folder;
use quiver_core::data::mnist::{maybe_gunzip, MnistSet};
use quiver_core::data::{stl10, ImageSet};
use quiver_core::model::Architecture;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// The dataset name recorded in the manifest.
pub fn dataset_name(arch: Architecture) -> &'static str {
    match arch {
        Architecture::MnistCnn => "MNIST",
        // The only CIFAR-10 copy here is the JPEG re-encoding (see its README).
        Architecture::AlexnetCifar10 => "CIFAR-10 (JPEG copy)",
        Architecture::AlexnetStl10 => "STL-10",
    }
}

/// Load one split for `arch`: MNIST IDX files, a CIFAR-10 image folder (`<dir>/train|test/<class>/`),
/// STL-10 binaries (`<dir>/train_X.bin` …), or — when `data` is a file — a committed subset
/// (grid PNG, test split only).
pub fn load_split(arch: Architecture, data: &Path, split: Split) -> Result<ImageSet> {
    if data.is_file() {
        anyhow::ensure!(split == Split::Test, "{} is a test subset, not a training set", data.display());
        let bytes = std::fs::read(data).with_context(|| format!("reading {}", data.display()))?;
        return ImageSet::from_grid_png(&bytes, arch.input_shape(), SUBSET_PER_CLASS)
            .with_context(|| format!("reading the subset {}", data.display()));
    }
    let name = match split {
        Split::Train => "train",
        Split::Test => "test",
    };
    match arch {
        Architecture::MnistCnn => Ok(load_mnist(data, if split == Split::Train { "train" } else { "t10k" })?.into()),
        Architecture::AlexnetCifar10 => {
            let dir = data.join(name);
            load_image_folder(&dir, &arch.class_names(), arch.input_shape())
                .with_context(|| format!("reading the CIFAR-10 image folder {}", dir.display()))
        }
        Architecture::AlexnetStl10 => {
            let read = |f: String| -> Result<Vec<u8>> {
                let p = data.join(&f);
                std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
            };
            let x = read(format!("{name}_X.bin"))?;
            let y = read(format!("{name}_y.bin"))?;
            stl10::parse(&x, &y).with_context(|| format!("parsing STL-10 {name} in {}", data.display()))
        }
    }
}

/// Images per class in a colour model's committed test subset.
pub const SUBSET_PER_CLASS: usize = 50;
/// Size of the committed MNIST test subset (the first N test images).
pub const MNIST_SUBSET_IMAGES: usize = 1000;

/// The committed test subset of a test set: MNIST's first 1000 images; for the colour sets the
/// first 50 test images of each class, grouped by class.
pub fn subset_of(arch: Architecture, test: &ImageSet) -> ImageSet {
    match arch {
        Architecture::MnistCnn => test.take(MNIST_SUBSET_IMAGES),
        _ => test.first_per_class(10, SUBSET_PER_CLASS),
    }
}

/// Where the committed test subset of a colour architecture lives.
pub fn subset_path(arch: Architecture) -> String {
    format!("tests/fixtures/{}-test-subset.png", arch.name().trim_start_matches("alexnet_"))
}

#[derive(Args)]
pub struct MakeSamplesArgs {
    /// mnist_cnn, alexnet_cifar10 or alexnet_stl10: whose dataset to sample.
    #[arg(long, default_value = "mnist_cnn", value_parser = |s: &str| Architecture::from_name(s).ok_or(format!("unknown architecture {s}")))]
    pub arch: Architecture,
    /// Directory with the dataset (as for `train`).
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// MNIST: how many test images (the first N, in official order) go into the test subset.
    #[arg(long, default_value_t = 1000)]
    pub test_count: usize,
    /// MNIST: how many go into the app's sample gallery.
    #[arg(long, default_value_t = 24)]
    pub app_count: usize,
}

pub fn make_samples(a: MakeSamplesArgs) -> Result<()> {
    if a.arch != Architecture::MnistCnn {
        let test = load_split(a.arch, &a.data, Split::Test)?;
        let sub = subset_of(a.arch, &test);
        let path = subset_path(a.arch);
        std::fs::create_dir_all("tests/fixtures")?;
        std::fs::write(&path, sub.to_grid_png(SUBSET_PER_CLASS))?;
        println!("wrote {} images ({} per class, one class per row) to {path}", sub.len(), SUBSET_PER_CLASS);
        return Ok(());
    }
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
