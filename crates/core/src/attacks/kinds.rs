//! The attacks a front end offers, by key, and one value of each attack's parameters: what the
//! app's state and the CLI hold. Adding an attack adds a variant here; adding a parameter to an
//! attack touches only the attack's file (its field and its table entry).

use std::fmt;
use std::str::FromStr;

use super::{About, Attack, CarliniWagner, DeepFool, Fgsm, Iaa, Jsma, Lbfgs, Pgd, PgdL2};
use crate::params::{Domain, Param, ParamError, Tunable, Value};

/// Which attack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AttackKind {
    #[default]
    Fgsm,
    Lbfgs,
    Iaa,
    Pgd,
    PgdL2,
    DeepFool,
    Cw,
    Jsma,
}

impl AttackKind {
    pub const ALL: [AttackKind; 8] = [
        AttackKind::Fgsm,
        AttackKind::Lbfgs,
        AttackKind::Iaa,
        AttackKind::Pgd,
        AttackKind::PgdL2,
        AttackKind::DeepFool,
        AttackKind::Cw,
        AttackKind::Jsma,
    ];

    pub fn about(self) -> &'static About {
        match self {
            AttackKind::Fgsm => &Fgsm::ABOUT,
            AttackKind::Lbfgs => &Lbfgs::ABOUT,
            AttackKind::Iaa => &Iaa::ABOUT,
            AttackKind::Pgd => &Pgd::ABOUT,
            AttackKind::PgdL2 => &PgdL2::ABOUT,
            AttackKind::DeepFool => &DeepFool::ABOUT,
            AttackKind::Cw => &CarliniWagner::ABOUT,
            AttackKind::Jsma => &Jsma::ABOUT,
        }
    }

    /// The URL / CLI value.
    pub fn key(self) -> &'static str {
        self.about().key
    }

    /// The attack's parameter table, without its type.
    pub fn params(self) -> Vec<ParamInfo> {
        match self {
            AttackKind::Fgsm => infos::<Fgsm>(),
            AttackKind::Lbfgs => infos::<Lbfgs>(),
            AttackKind::Iaa => infos::<Iaa>(),
            AttackKind::Pgd => infos::<Pgd>(),
            AttackKind::PgdL2 => infos::<PgdL2>(),
            AttackKind::DeepFool => infos::<DeepFool>(),
            AttackKind::Cw => infos::<CarliniWagner>(),
            AttackKind::Jsma => infos::<Jsma>(),
        }
    }
}

impl fmt::Display for AttackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for AttackKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.key() == s.trim()).ok_or_else(|| {
            let keys: Vec<&str> = Self::ALL.iter().map(|k| k.key()).collect();
            format!("use {}", keys.join(", "))
        })
    }
}

/// A table entry without its struct type: what forms, URLs and CLIs need to show and read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamInfo {
    pub key: &'static str,
    pub aliases: &'static [&'static str],
    pub label: &'static str,
    pub unit: &'static str,
    pub help: &'static str,
    pub domain: Domain,
    /// The value of the struct's `Default`.
    pub default: Value,
    cli: Option<&'static str>,
}

impl ParamInfo {
    pub fn of<S: Default>(p: &Param<S>) -> Self {
        Self {
            key: p.key,
            aliases: p.aliases,
            label: p.label,
            unit: p.unit,
            help: p.help,
            domain: p.domain,
            default: p.default_value(),
            cli: p.cli,
        }
    }

    /// Does `key` name this parameter?
    pub fn answers_to(&self, key: &str) -> bool {
        self.key == key || self.aliases.contains(&key)
    }

    /// The CLI flag without `--` (see [`Param::flag`]).
    pub fn flag(&self) -> String {
        crate::params::flag(self.key, self.cli)
    }

    /// Read and check `text` (the table's messages).
    pub fn parse(&self, text: &str) -> Result<Value, ParamError> {
        self.domain.read(self.label, text)
    }
}

/// Every entry of `S`'s table, without its type.
pub fn infos<S: Tunable>() -> Vec<ParamInfo> {
    S::PARAMS.iter().map(ParamInfo::of).collect()
}

/// One value of every attack's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AttackSet {
    pub fgsm: Fgsm,
    pub lbfgs: Lbfgs,
    pub iaa: Iaa,
    pub pgd: Pgd,
    pub pgdl2: PgdL2,
    pub deepfool: DeepFool,
    pub cw: CarliniWagner,
    pub jsma: Jsma,
}

impl AttackSet {
    /// The attack `kind` with its current parameters.
    pub fn get(&self, kind: AttackKind) -> &dyn Attack {
        match kind {
            AttackKind::Fgsm => &self.fgsm,
            AttackKind::Lbfgs => &self.lbfgs,
            AttackKind::Iaa => &self.iaa,
            AttackKind::Pgd => &self.pgd,
            AttackKind::PgdL2 => &self.pgdl2,
            AttackKind::DeepFool => &self.deepfool,
            AttackKind::Cw => &self.cw,
            AttackKind::Jsma => &self.jsma,
        }
    }

    /// Put the attack `kind`'s parameters back to their defaults (e.g. after its values in an
    /// address failed its cross-parameter rules).
    pub fn reset(&mut self, kind: AttackKind) {
        let d = AttackSet::default();
        match kind {
            AttackKind::Fgsm => self.fgsm = d.fgsm,
            AttackKind::Lbfgs => self.lbfgs = d.lbfgs,
            AttackKind::Iaa => self.iaa = d.iaa,
            AttackKind::Pgd => self.pgd = d.pgd,
            AttackKind::PgdL2 => self.pgdl2 = d.pgdl2,
            AttackKind::DeepFool => self.deepfool = d.deepfool,
            AttackKind::Cw => self.cw = d.cw,
            AttackKind::Jsma => self.jsma = d.jsma,
        }
    }

    /// Which attack's table holds `key`.
    pub fn owner(key: &str) -> Option<AttackKind> {
        AttackKind::ALL.into_iter().find(|k| k.params().iter().any(|p| p.answers_to(key)))
    }

    /// The current value of `key` as text.
    pub fn text(&self, key: &str) -> Option<String> {
        fn t<S: Tunable>(s: &S, key: &str) -> Option<String> {
            S::param(key).map(|p| p.text(s))
        }
        t(&self.fgsm, key)
            .or_else(|| t(&self.lbfgs, key))
            .or_else(|| t(&self.iaa, key))
            .or_else(|| t(&self.pgd, key))
            .or_else(|| t(&self.pgdl2, key))
            .or_else(|| t(&self.deepfool, key))
            .or_else(|| t(&self.cw, key))
            .or_else(|| t(&self.jsma, key))
    }

    /// Set `key` from text after checking it against its table entry. `Ok(false)`: no attack
    /// has this key.
    pub fn set_text(&mut self, key: &str, text: &str) -> Result<bool, ParamError> {
        Ok(self.fgsm.set_text(key, text)?
            || self.lbfgs.set_text(key, text)?
            || self.iaa.set_text(key, text)?
            || self.pgd.set_text(key, text)?
            || self.pgdl2.set_text(key, text)?
            || self.deepfool.set_text(key, text)?
            || self.cw.set_text(key, text)?
            || self.jsma.set_text(key, text)?)
    }

    /// `(key, text)` of every parameter that differs from its default.
    pub fn changed(&self) -> Vec<(&'static str, String)> {
        let mut v = self.fgsm.changed();
        v.extend(self.lbfgs.changed());
        v.extend(self.iaa.changed());
        v.extend(self.pgd.changed());
        v.extend(self.pgdl2.changed());
        v.extend(self.deepfool.changed());
        v.extend(self.cw.changed());
        v.extend(self.jsma.changed());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc_dropout::McConfig;

    #[test]
    fn keys_are_unique_across_every_table_and_defaults_are_in_range() {
        let mut keys: Vec<&str> = AttackKind::ALL.iter().flat_map(|k| k.params()).flat_map(|p| std::iter::once(p.key).chain(p.aliases.iter().copied())).collect();
        keys.extend(infos::<McConfig>().iter().flat_map(|p| std::iter::once(p.key).chain(p.aliases.iter().copied())));
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key or alias appears twice: {keys:?}");
        let set = AttackSet::default();
        for k in AttackKind::ALL {
            assert_eq!(set.get(k).validate(), Ok(()), "{k}'s defaults");
            assert_eq!(k.key().parse::<AttackKind>(), Ok(k));
            for p in k.params() {
                let text = set.text(p.key).unwrap();
                assert!(p.parse(&text).is_ok(), "{}: default {text} out of its own range", p.key);
                assert!(!p.help.is_empty() && !p.label.is_empty());
            }
        }
        assert_eq!(McConfig::default().check(), Ok(()));
        assert!("bim".parse::<AttackKind>().unwrap_err().contains("fgsm, lbfgs, iaa, pgd"));
    }

    #[test]
    fn every_parameter_round_trips_through_text_and_refuses_its_ends() {
        for k in AttackKind::ALL {
            for p in k.params() {
                let mut set = AttackSet::default();
                let (lo, hi) = p.domain.bounds();
                // A value inside the range, other than the default, is kept exactly.
                let inside = match p.domain {
                    Domain::Real { min, max, .. } => Value::Real(min + (max - min) * 0.375),
                    Domain::Whole { min, max, odd } => {
                        let v = min + (max.min(min + 40) - min) / 2;
                        Value::Whole(if odd && v % 2 == 0 { v + 1 } else { v })
                    }
                };
                assert_eq!(set.set_text(p.key, &inside.to_string()), Ok(true), "{}", p.key);
                assert_eq!(set.text(p.key), Some(inside.to_string()));
                assert_eq!(AttackSet::owner(p.key), Some(k));
                // Just outside either end is refused with the table's rule, and nothing changes.
                let before = set;
                for outside in [lo - 1.0, hi * 2.0 + 1.0] {
                    let e = set.set_text(p.key, &outside.to_string()).unwrap_err().to_string();
                    assert!(e.starts_with(p.label) && e.contains(&p.domain.rule()), "{}: {e}", p.key);
                }
                assert_eq!(set, before);
            }
        }
    }

    #[test]
    fn fgsm_eps_has_one_limit_everywhere() {
        // The table is the only place that says ε ≤ 1: validate, the URL and the CLI follow it.
        let p = Fgsm::param("eps").unwrap();
        assert_eq!(p.domain.bounds(), (0.0, 1.0));
        assert!(Fgsm::new(1.0).validate().is_ok());
        assert_eq!(Fgsm::new(1.01).validate().unwrap_err().to_string(), "ε must be in [0, 1], got 1.01");
    }

    #[test]
    fn iaa_d_max_bound_is_the_largest_possible_distance() {
        let p = Iaa::param("iaa_dmax").unwrap();
        assert!((p.domain.bounds().1 - 1.0 / crate::metrics::SD_FLOOR as f64).abs() < 1e-3);
    }
}
