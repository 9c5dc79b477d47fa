//! The String methods templates call with a regular expression — `matches`,
//! `replaceAll`, `replaceFirst`, `split(regex)` and `split(regex, limit)` — on
//! [`java_regex`], which implements them as Java 17 does (`$n`, `${name}` and `\`
//! in replacements, split's limit and empty strings) and is held against real Java.
//! This module only pays for them and names Java's exceptions; their agreement with
//! Java through a rendered template is checked against
//! crates/apigw-vtl/golden/java-string-methods.json (`golden_tests.rs`).
//!
//! Every call is paid from the render's [`Meter`]: compiling and matching from its
//! regular expression steps (one budget for the whole render), and what the results
//! hold from its memory budget, checked before each piece is appended.

use std::fmt;

use super::budget::{Exceeded, Meter};

/// Why a call failed: a Java exception (`Class: message`), or a budget.
#[derive(Debug, Clone)]
pub(crate) enum MatchError {
    Java(String),
    Budget(Exceeded),
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchError::Java(m) => f.write_str(m),
            MatchError::Budget(e) => e.fmt(f),
        }
    }
}

impl From<java_regex::MatchError> for MatchError {
    fn from(e: java_regex::MatchError) -> Self {
        MatchError::Budget(Exceeded::from_regex(e))
    }
}

impl From<Exceeded> for MatchError {
    fn from(e: Exceeded) -> Self {
        MatchError::Budget(e)
    }
}

impl From<java_regex::ReplaceError<MatchError>> for MatchError {
    fn from(e: java_regex::ReplaceError<MatchError>) -> Self {
        match e {
            java_regex::ReplaceError::Replacement { exception, message } => {
                MatchError::Java(format!("{exception}: {message}"))
            }
            java_regex::ReplaceError::Budget(e) => e,
        }
    }
}

/// The render's meter as jregex's [`java_regex::Budget`]: matching from its regex steps,
/// results from its memory.
struct Paid<'m> {
    meter: &'m mut Meter,
    /// What a split's parts so far hold (each also takes a list slot).
    parts: usize,
}

impl java_regex::Budget for Paid<'_> {
    type Error = MatchError;

    fn meter(&mut self) -> &mut java_regex::Meter {
        self.meter.regex()
    }

    fn grow(&mut self, held: usize, more: usize) -> Result<(), MatchError> {
        Ok(self.meter.grow(held, more)?)
    }

    fn part(&mut self, len: usize) -> Result<(), MatchError> {
        let more = len + super::value::SLOT_BYTES;
        self.meter.grow(self.parts, more)?;
        self.parts += more;
        Ok(())
    }
}

fn paid(meter: &mut Meter) -> Paid<'_> {
    Paid { meter, parts: 0 }
}

pub(crate) struct Pattern {
    re: java_regex::Pattern,
}

impl Pattern {
    /// `Pattern.compile`, paid from `meter`. A pattern Java refuses is Java's
    /// `PatternSyntaxException`, named with the first line of its message (description
    /// and index; the rest of the message repeats the pattern).
    pub fn compile(p: &str, meter: &mut Meter) -> Result<Pattern, MatchError> {
        java_regex::Pattern::compile_metered(p, meter.regex())
            .map(|re| Pattern { re })
            .map_err(|e| match e {
                java_regex::CompileError::Syntax(e) => {
                    let mut m = format!("PatternSyntaxException: {}", e.description);
                    if e.index >= 0 {
                        m.push_str(&format!(" near index {}", e.index));
                    }
                    MatchError::Java(m)
                }
                java_regex::CompileError::Budget(e) => e.into(),
            })
    }

    /// `String.matches`: the whole input must match.
    pub fn matches(&self, input: &str, meter: &mut Meter) -> Result<bool, MatchError> {
        Ok(self.re.matches_metered(input, meter.regex())?)
    }

    /// `String.replaceAll` (`all`) or `String.replaceFirst`.
    pub fn replace(
        &self,
        input: &str,
        rep: &str,
        all: bool,
        meter: &mut Meter,
    ) -> Result<String, MatchError> {
        let which = if all {
            java_regex::Replace::All
        } else {
            java_regex::Replace::First
        };
        Ok(self
            .re
            .replace_metered(input, rep, which, &mut paid(meter))?)
    }

    /// `String.split(regex, limit)` (`split(regex)` is limit 0).
    pub fn split_limit(
        &self,
        input: &str,
        limit: i32,
        meter: &mut Meter,
    ) -> Result<Vec<String>, MatchError> {
        self.re.split_metered(input, limit, &mut paid(meter))
    }
}

#[cfg(test)]
mod golden_tests;
