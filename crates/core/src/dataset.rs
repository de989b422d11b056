//! The image collections Quiver knows: each decides the model architecture, the class names and
//! the bundled samples. The URL's `dataset=`, the CLI and the app all name a dataset with this
//! type.

use std::fmt;
use std::str::FromStr;

use crate::model::Architecture;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dataset {
    #[default]
    Mnist,
    Cifar10,
    Stl10,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Mnist, Dataset::Cifar10, Dataset::Stl10];

    /// The URL value.
    pub fn key(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Cifar10 => "cifar10",
            Dataset::Stl10 => "stl10",
        }
    }

    /// The dataset's own name ("CIFAR-10").
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST",
            Dataset::Cifar10 => "CIFAR-10",
            Dataset::Stl10 => "STL-10",
        }
    }

    /// What a picker shows.
    pub fn label(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST digits (CNN)",
            Dataset::Cifar10 => "CIFAR-10 (AlexNet)",
            Dataset::Stl10 => "STL-10 (AlexNet, your weights)",
        }
    }

    /// The architecture that reads this dataset's images.
    pub fn architecture(self) -> Architecture {
        match self {
            Dataset::Mnist => Architecture::MnistCnn,
            Dataset::Cifar10 => Architecture::AlexnetCifar10,
            Dataset::Stl10 => Architecture::AlexnetStl10,
        }
    }

    /// The dataset an architecture was made for.
    pub fn of(arch: Architecture) -> Self {
        match arch {
            Architecture::MnistCnn => Dataset::Mnist,
            Architecture::AlexnetCifar10 => Dataset::Cifar10,
            Architecture::AlexnetStl10 => Dataset::Stl10,
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Dataset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|d| d.key() == s.trim()).ok_or_else(|| "use mnist, cifar10 or stl10".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_architectures_round_trip() {
        for d in Dataset::ALL {
            assert_eq!(d.key().parse::<Dataset>(), Ok(d));
            assert_eq!(Dataset::of(d.architecture()), d);
        }
        assert!("imagenet".parse::<Dataset>().is_err());
    }
}
