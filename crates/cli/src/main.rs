//! `quiver`: train, evaluate and attack Quiver's models natively. Every number the app shows can
//! be reproduced here.

mod attack;
mod data;
mod eval;
mod params;
mod study;
mod train;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "quiver", version, about = "Uncertainty and adversarial attacks on image classifiers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Backend {
    /// Burn's Flex CPU backend with rayon (the fastest here).
    Flex,
    /// Burn's deprecated NdArray backend (build with `--features ndarray`).
    Ndarray,
}

impl Backend {
    pub fn device(self) -> Result<burn::tensor::Device> {
        match self {
            Backend::Flex => Ok(burn::tensor::Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Backend::Ndarray => Ok(burn::tensor::Device::ndarray()),
            #[cfg(not(feature = "ndarray"))]
            Backend::Ndarray => anyhow::bail!("this build has no NdArray backend; rebuild with --features ndarray"),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train a model and record it in weights/manifest.json.
    Train(train::TrainArgs),
    /// Accuracy and the per-class MC-dropout uncertainty report, as JSON.
    Eval(eval::EvalArgs),
    /// Run an attack on a PNG or on test-set indices; writes PNGs and a JSON of metrics.
    Attack(attack::AttackArgs),
    /// The seed study over a test set: per-class tables, calibration and, under an attack, the
    /// uncertainty detector (MC dropout per model, or one ensemble); writes compact JSON.
    Study(study::StudyArgs),
    /// Write the committed sample subsets from the full test set.
    MakeSamples(data::MakeSamplesArgs),
    /// Score a shipped model on the committed test subset and record it in its manifest entry.
    RecordSubset(train::RecordArgs),
    /// Time training steps on each CPU backend.
    BenchBackends(train::BenchArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Attack(a) => attack::run(a),
        Command::Study(a) => study::run(a),
        Command::MakeSamples(a) => data::make_samples(a),
        Command::BenchBackends(a) => train::bench(a),
        Command::RecordSubset(a) => train::record_subset(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
