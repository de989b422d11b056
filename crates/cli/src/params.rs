//! The CLI's parameter flags, made from core's parameter tables: one flag per table entry
//! (`--` + the entry's flag), with its help, range and default, checked by the entry itself.
//! Nothing here names a parameter.

use clap::error::ErrorKind;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use quiver_core::attacks::kinds::{infos, ParamInfo};
use quiver_core::attacks::{AttackKind, AttackSet};
use quiver_core::mc_dropout::McConfig;
use quiver_core::params::Tunable;

fn add(cmd: Command, params: &[ParamInfo], heading: &'static str) -> Command {
    params.iter().fold(cmd, |cmd, p| {
        let info = *p;
        let unit = if p.unit.is_empty() { String::new() } else { format!(", {}", p.unit) };
        cmd.arg(
            Arg::new(p.key)
                .long(p.flag())
                .value_name(p.key.to_uppercase())
                .help(format!("{}: {} ({}{unit})", p.label, p.help, p.domain.rule()))
                .default_value(p.default.to_string())
                .help_heading(heading)
                .value_parser(move |s: &str| info.parse(s).map(|v| v.to_string())),
        )
    })
}

fn read(m: &ArgMatches, params: &[ParamInfo], mut set: impl FnMut(&str, &str) -> Result<bool, quiver_core::params::ParamError>) -> Result<(), clap::Error> {
    for p in params {
        if let Some(text) = m.get_one::<String>(p.key) {
            set(p.key, text).map_err(|e| clap::Error::raw(ErrorKind::ValueValidation, e))?;
        }
    }
    Ok(())
}

/// MC-dropout settings (`--passes`, `--p`, `--seed`), from [`McConfig`]'s table.
#[derive(Clone, Copy, Debug)]
pub struct McFlags(pub McConfig);

impl FromArgMatches for McFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut c = McConfig::default();
        read(m, &infos::<McConfig>(), |k, t| c.set_text(k, t))?;
        Ok(Self(c))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for McFlags {
    fn augment_args(cmd: Command) -> Command {
        add(cmd, &infos::<McConfig>(), "MC dropout")
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// Every attack's parameters (`--eps`, `--lbfgs-c`, `--iaa-n`, …), from each attack's table.
#[derive(Clone, Copy, Debug)]
pub struct AttackFlags(pub AttackSet);

impl FromArgMatches for AttackFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut set = AttackSet::default();
        for k in AttackKind::ALL {
            read(m, &k.params(), |key, t| set.set_text(key, t))?;
        }
        Ok(Self(set))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for AttackFlags {
    fn augment_args(cmd: Command) -> Command {
        AttackKind::ALL.into_iter().fold(cmd, |cmd, k| add(cmd, &k.params(), k.about().label))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        attacks: AttackFlags,
        #[command(flatten)]
        mc: McFlags,
    }

    #[test]
    fn every_table_entry_is_a_flag_with_its_default() {
        let cli = Cli::try_parse_from(["quiver"]).unwrap();
        assert_eq!(cli.attacks.0, AttackSet::default());
        assert_eq!(cli.mc.0, McConfig::default());
        let cmd = <Cli as clap::CommandFactory>::command();
        let longs: Vec<String> = cmd.get_arguments().filter_map(|a| a.get_long().map(str::to_string)).collect();
        let mut want: Vec<String> = AttackKind::ALL.iter().flat_map(|k| k.params()).map(|p| p.flag()).collect();
        want.extend(infos::<McConfig>().iter().map(|p| p.flag()));
        assert_eq!(longs, want);
        assert!(longs.contains(&"passes".to_string()) && longs.contains(&"iaa-dmax".to_string()));
    }

    #[test]
    fn flags_set_the_table_values_and_refuse_with_the_table_message() {
        let cli = Cli::try_parse_from(["quiver", "--eps", "0.3", "--iaa-n", "5", "--lbfgs-mem", "7", "--passes", "20", "--seed", "9"]).unwrap();
        assert_eq!((cli.attacks.0.fgsm.eps, cli.attacks.0.iaa.n, cli.attacks.0.lbfgs.memory), (0.3, 5, 7));
        assert_eq!((cli.mc.0.passes, cli.mc.0.seed), (20, 9));
        let e = Cli::try_parse_from(["quiver", "--iaa-n", "4"]).err().unwrap().to_string();
        assert!(e.contains("neighbourhood n must be an odd whole number from 1 to 27, got 4"), "{e}");
        let e = Cli::try_parse_from(["quiver", "--eps=1.5"]).err().unwrap().to_string();
        assert!(e.contains("ε must be in [0, 1], got 1.5"), "{e}");
    }
}
