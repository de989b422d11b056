//! Every number a user can set is declared once, here in core, next to the computation that uses
//! it: its key, label, range, unit and one-line help, with accessors into the struct that holds
//! it (the TensorFlow Playground habit of one typed state, made a table).
//!
//! Each attack file declares its own table (`Fgsm::PARAMS`, …) and the MC-dropout settings
//! declare theirs ([`crate::mc_dropout::McConfig`]). Everything else is derived from the tables:
//!
//! * the URL keys of the app (`key`, plus `aliases` accepted when reading);
//! * the CLI flags (`--` + [`Param::flag`]: the key in lower case with `_` → `-`, unless the
//!   entry names its own flag);
//! * the app's form fields (label, range, step, help as the tooltip) and their messages;
//! * validation: [`Tunable::check`] tests every entry against its [`Domain`], so an attack's
//!   `validate` is its table (plus any rule that ties two parameters together);
//! * defaults: the struct's `Default`, read through the table ([`Param::default_text`]).
//!
//! Adding a parameter to an attack is one field, one table entry and a test, in the attack's
//! own file.

use std::fmt;

use thiserror::Error;

/// A parameter's value, as the table reads and writes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Real(f32),
    Whole(u64),
}

impl Value {
    /// The real value (a whole value widened).
    pub fn real(self) -> f32 {
        match self {
            Value::Real(x) => x,
            Value::Whole(n) => n as f32,
        }
    }

    /// The whole value (a real value truncated; the domain check has already run).
    pub fn whole(self) -> u64 {
        match self {
            Value::Real(x) => x as u64,
            Value::Whole(n) => n,
        }
    }

    /// `usize` view of a whole value, saturating on 32-bit targets.
    pub fn size(self) -> usize {
        usize::try_from(self.whole()).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // f32's Display is the shortest text that reads back to the same value ("0.1").
            Value::Real(x) => write!(f, "{x}"),
            Value::Whole(n) => write!(f, "{n}"),
        }
    }
}

/// The values a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain {
    /// A finite real number between `min` and `max`; an open end excludes its bound. `step` is
    /// the granularity a form offers (any value in range is accepted).
    Real { min: f32, max: f32, open_min: bool, open_max: bool, step: f32 },
    /// A whole number in `[min, max]`; `odd`: odd values only.
    Whole { min: u64, max: u64, odd: bool },
}

impl Domain {
    /// `[min, max]`, both ends included.
    pub const fn closed(min: f32, max: f32, step: f32) -> Self {
        Domain::Real { min, max, open_min: false, open_max: false, step }
    }

    /// `(min, max]`.
    pub const fn open_closed(min: f32, max: f32, step: f32) -> Self {
        Domain::Real { min, max, open_min: true, open_max: false, step }
    }

    /// `[min, max)`.
    pub const fn closed_open(min: f32, max: f32, step: f32) -> Self {
        Domain::Real { min, max, open_min: false, open_max: true, step }
    }

    /// Whole numbers in `[min, max]`.
    pub const fn whole(min: u64, max: u64) -> Self {
        Domain::Whole { min, max, odd: false }
    }

    /// Does `v` lie in the domain?
    pub fn contains(&self, v: Value) -> bool {
        match (*self, v) {
            (Domain::Real { min, max, open_min, open_max, .. }, Value::Real(x)) => {
                x.is_finite()
                    && if open_min { x > min } else { x >= min }
                    && if open_max { x < max } else { x <= max }
            }
            (Domain::Whole { min, max, odd }, Value::Whole(n)) => (min..=max).contains(&n) && (!odd || n % 2 == 1),
            _ => false,
        }
    }

    /// The rule in words, as it ends "… must be {rule}".
    pub fn rule(&self) -> String {
        match *self {
            Domain::Real { min, max, open_min, open_max, .. } => {
                format!("in {}{min}, {max}{}", if open_min { "(" } else { "[" }, if open_max { ")" } else { "]" })
            }
            Domain::Whole { min, max, odd } => {
                let kind = if odd { "an odd whole number" } else { "a whole number" };
                match (min, max) {
                    (0, u64::MAX) => kind.to_string(),
                    (_, u64::MAX) => format!("{kind} ≥ {min}"),
                    _ => format!("{kind} from {min} to {max}"),
                }
            }
        }
    }

    /// Read text as a value of this domain (not yet checked against the range). `-0` reads as
    /// `0`.
    pub fn parse(&self, text: &str) -> Option<Value> {
        let t = text.trim();
        match self {
            Domain::Real { .. } => t.parse::<f32>().ok().filter(|x| x.is_finite()).map(|x| Value::Real(x + 0.0)),
            Domain::Whole { .. } => t.parse::<u64>().ok().map(Value::Whole),
        }
    }

    /// Check `v`; the error names the parameter `label`.
    pub fn check(&self, label: &'static str, v: Value) -> Result<(), ParamError> {
        if self.contains(v) {
            Ok(())
        } else {
            Err(ParamError::OutOfRange { label, rule: self.rule(), value: v.to_string() })
        }
    }

    /// Read and check `text`; the error names the parameter `label`.
    pub fn read(&self, label: &'static str, text: &str) -> Result<Value, ParamError> {
        let v = self.parse(text).ok_or_else(|| ParamError::NotANumber { label, rule: self.rule(), text: text.to_string() })?;
        self.check(label, v)?;
        Ok(v)
    }

    /// Smallest and largest accepted value (an open end's bound itself), for form attributes.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Domain::Real { min, max, .. } => (min as f64, max as f64),
            Domain::Whole { min, max, .. } => (min as f64, max as f64),
        }
    }

    /// Form step: the real step, 2 for odd whole numbers, else 1.
    pub fn step(&self) -> f64 {
        match *self {
            Domain::Real { step, .. } => step as f64,
            Domain::Whole { odd: true, .. } => 2.0,
            Domain::Whole { .. } => 1.0,
        }
    }
}

/// Why a value was refused; the text is what the user reads.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ParamError {
    #[error("{label} must be {rule}, got {value}")]
    OutOfRange { label: &'static str, rule: String, value: String },
    #[error("{label} must be {rule}, got {text:?}")]
    NotANumber { label: &'static str, rule: String, text: String },
    #[error("there is no parameter {0:?}")]
    Unknown(String),
}

/// The CLI flag (without `--`) of a key: `cli` when given, else the key in lower case with
/// `_` → `-`.
pub fn flag(key: &str, cli: Option<&str>) -> String {
    match cli {
        Some(f) => f.to_string(),
        None => key.to_lowercase().replace('_', "-"),
    }
}

/// One parameter of the struct `S`.
pub struct Param<S> {
    /// The URL key, unique across every table of a front end.
    pub key: &'static str,
    /// Other keys accepted when reading (older URLs).
    pub aliases: &'static [&'static str],
    /// The CLI flag without `--`, when it is not the key in lower case with `_` → `-`.
    pub cli: Option<&'static str>,
    /// Short label, as in the paper ("ε", "D_max").
    pub label: &'static str,
    /// Unit, if any ("pixel units", "nats").
    pub unit: &'static str,
    /// One line: what it does.
    pub help: &'static str,
    pub domain: Domain,
    pub get: fn(&S) -> Value,
    pub set: fn(&mut S, Value),
}

impl<S> Param<S> {
    /// An entry with its key, label, domain and accessors; [`Self::help`] (required: a test
    /// checks every entry has one), [`Self::unit`], [`Self::aliases`] and [`Self::cli`] add the
    /// rest.
    pub const fn new(key: &'static str, label: &'static str, domain: Domain, get: fn(&S) -> Value, set: fn(&mut S, Value)) -> Self {
        Self { key, aliases: &[], cli: None, label, unit: "", help: "", domain, get, set }
    }

    pub const fn help(self, help: &'static str) -> Self {
        Self { help, ..self }
    }

    pub const fn unit(self, unit: &'static str) -> Self {
        Self { unit, ..self }
    }

    pub const fn aliases(self, aliases: &'static [&'static str]) -> Self {
        Self { aliases, ..self }
    }

    pub const fn cli(self, flag: &'static str) -> Self {
        Self { cli: Some(flag), ..self }
    }

    /// The CLI flag, without `--`.
    pub fn flag(&self) -> String {
        flag(self.key, self.cli)
    }

    /// Does `key` name this parameter?
    pub fn answers_to(&self, key: &str) -> bool {
        self.key == key || self.aliases.contains(&key)
    }

    /// Check a value against the domain; the error is the user's message.
    pub fn check(&self, v: Value) -> Result<(), ParamError> {
        self.domain.check(self.label, v)
    }

    /// Read `text` and check it.
    pub fn parse(&self, text: &str) -> Result<Value, ParamError> {
        self.domain.read(self.label, text)
    }

    /// The current value as text.
    pub fn text(&self, s: &S) -> String {
        (self.get)(s).to_string()
    }
}

impl<S: Default> Param<S> {
    pub fn default_value(&self) -> Value {
        (self.get)(&S::default())
    }

    pub fn default_text(&self) -> String {
        self.default_value().to_string()
    }
}

/// A struct of parameters described by a table.
pub trait Tunable: Sized + Default + 'static {
    /// Every parameter, in the order a form shows them.
    const PARAMS: &'static [Param<Self>];

    fn param(key: &str) -> Option<&'static Param<Self>> {
        Self::PARAMS.iter().find(|p| p.answers_to(key))
    }

    /// Every value against its domain, in table order; the first failure is returned.
    fn check(&self) -> Result<(), ParamError> {
        Self::PARAMS.iter().try_for_each(|p| p.check((p.get)(self)))
    }

    /// Set the parameter `key` from text, after checking it. `Ok(false)`: no such key here.
    fn set_text(&mut self, key: &str, text: &str) -> Result<bool, ParamError> {
        match Self::param(key) {
            Some(p) => {
                let v = p.parse(text)?;
                (p.set)(self, v);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// `(key, text)` of every value that differs from the default, in table order.
    fn changed(&self) -> Vec<(&'static str, String)> {
        let d = Self::default();
        Self::PARAMS
            .iter()
            .filter(|p| (p.get)(self) != (p.get)(&d))
            .map(|p| (p.key, p.text(self)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Demo {
        x: f32,
        n: usize,
    }

    impl Tunable for Demo {
        const PARAMS: &'static [Param<Self>] = &[
            Param::<Self>::new("demo_x", "x", Domain::open_closed(0.0, 1.0, 0.1), |s| Value::Real(s.x), |s, v| s.x = v.real())
                .help("a real in (0, 1]")
                .aliases(&["x"]),
            Param::<Self>::new("demo_n", "n", Domain::Whole { min: 1, max: 9, odd: true }, |s| Value::Whole(s.n as u64), |s, v| s.n = v.size())
                .help("odd, 1 to 9")
                .cli("count"),
        ];
    }

    #[test]
    fn domains_check_their_ends_and_say_their_rule() {
        let d = Domain::open_closed(0.0, 1.0, 0.1);
        assert!(!d.contains(Value::Real(0.0)) && d.contains(Value::Real(1.0)) && !d.contains(Value::Real(f32::NAN)));
        assert_eq!(d.rule(), "in (0, 1]");
        assert_eq!(Domain::closed_open(0.0, 1.0, 0.1).rule(), "in [0, 1)");
        assert!(!Domain::closed_open(0.0, 1.0, 0.1).contains(Value::Real(1.0)));
        assert_eq!(Domain::whole(1, 50).rule(), "a whole number from 1 to 50");
        assert_eq!(Domain::whole(0, u64::MAX).rule(), "a whole number");
        assert_eq!(Domain::whole(1, u64::MAX).rule(), "a whole number ≥ 1");
        let odd = Domain::Whole { min: 1, max: 27, odd: true };
        assert!(odd.contains(Value::Whole(27)) && !odd.contains(Value::Whole(4)) && !odd.contains(Value::Whole(29)));
        assert_eq!(odd.step(), 2.0);
        // -0 reads as 0 and shows as "0", not "-0".
        assert_eq!(d.parse("-0").map(|v| v.to_string()).as_deref(), Some("0"));
        assert_eq!(d.parse("inf"), None);
        assert_eq!(Domain::whole(0, 9).parse("-1"), None);
    }

    #[test]
    fn a_table_reads_writes_checks_and_lists_changes() {
        let mut s = Demo { x: 0.5, n: 3 };
        assert_eq!(s.check(), Ok(()));
        assert_eq!(s.set_text("x", "0.25"), Ok(true));
        assert_eq!(s.set_text("demo_n", "7"), Ok(true));
        assert_eq!(s, Demo { x: 0.25, n: 7 });
        assert_eq!(s.set_text("other", "1"), Ok(false));
        let err = s.set_text("demo_n", "4").unwrap_err();
        assert_eq!(err.to_string(), "n must be an odd whole number from 1 to 9, got 4");
        assert_eq!(s.set_text("demo_x", "abc").unwrap_err().to_string(), "x must be in (0, 1], got \"abc\"");
        assert_eq!(s, Demo { x: 0.25, n: 7 }, "refused values leave the struct as it was");
        // The default (0, 0) is out of range for both: check names the first.
        assert_eq!(Demo::default().check().unwrap_err().to_string(), "x must be in (0, 1], got 0");
        assert_eq!(s.changed(), vec![("demo_x", "0.25".to_string()), ("demo_n", "7".to_string())]);
        assert_eq!(Demo::PARAMS[0].flag(), "demo-x");
        assert_eq!(Demo::PARAMS[1].flag(), "count");
    }
}
