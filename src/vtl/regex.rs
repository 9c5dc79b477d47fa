//! Java regular expressions for `String.matches/replaceAll/replaceFirst/split`, on
//! [`crate::jregex`] (java.util.regex's syntax and semantics, held against real Java).
//! Only `compile`, `matches` and `find_at` touch the engine; Java's rules that do not
//! depend on it (replacement strings with `$n` and `\` escapes, `replaceFirst`, `split`
//! with its limit and its treatment of empty strings) are built here on `find_at`.
//!
//! Every call is paid from the render's [`Meter`]: compiling and matching from its
//! regular expression steps (one budget for the whole render), and what the results
//! hold from its memory budget, checked before each piece is appended.

use std::fmt;

use super::budget::{Exceeded, Meter};
use crate::jregex;

/// Why a call failed: a Java exception (its message), or a budget.
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

impl From<jregex::MatchError> for MatchError {
    fn from(e: jregex::MatchError) -> Self {
        MatchError::Budget(Exceeded::from_regex(e))
    }
}

impl From<Exceeded> for MatchError {
    fn from(e: Exceeded) -> Self {
        MatchError::Budget(e)
    }
}

fn java(m: impl Into<String>) -> MatchError {
    MatchError::Java(m.into())
}

pub(crate) struct Pattern {
    re: jregex::Pattern,
}

/// A match: byte offsets of the whole match and of each group (None when unset).
pub(crate) struct Match {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

impl Pattern {
    /// `Pattern.compile`, paid from `meter`. `Err(Ok(message))`: Java's
    /// PatternSyntaxException; `Err(Err(limit))`: a budget ran out.
    pub fn compile(p: &str, meter: &mut Meter) -> Result<Pattern, Result<String, Exceeded>> {
        jregex::Pattern::compile_metered(p, meter.regex())
            .map(|re| Pattern { re })
            .map_err(|e| match e {
                jregex::CompileError::Syntax(e) => {
                    Ok(format!("{} near index {}", e.description, e.index))
                }
                jregex::CompileError::Budget(e) => Err(Exceeded::from_regex(e)),
            })
    }

    /// `String.matches`: the whole input must match.
    pub fn matches(&self, input: &str, meter: &mut Meter) -> Result<bool, MatchError> {
        Ok(self.re.matches_metered(input, meter.regex())?)
    }

    /// Every `find(start)` over `input`, decoded once.
    fn finds<'a>(&'a self, input: &'a str, meter: &mut Meter) -> Result<Finds<'a>, MatchError> {
        Ok(Finds {
            searcher: self.re.searcher(input, meter.regex())?,
            len: input.len(),
        })
    }

    fn replace(
        &self,
        input: &str,
        rep: &str,
        all: bool,
        meter: &mut Meter,
    ) -> Result<String, MatchError> {
        let finds = self.finds(input, meter)?;
        let mut out = String::new();
        let mut last = 0;
        let mut pos = 0;
        while pos <= input.len() {
            let Some(m) = finds.find_at(pos, meter)? else {
                break;
            };
            meter.grow(out.len(), m.start - last)?;
            out.push_str(&input[last..m.start]);
            append_replacement(&mut out, input, &m, rep, meter)?;
            last = m.end;
            if !all {
                break;
            }
            pos = if m.end == m.start {
                // step over one character after an empty match
                match input[m.end..].chars().next() {
                    Some(c) => m.end + c.len_utf8(),
                    None => input.len() + 1,
                }
            } else {
                m.end
            };
        }
        let rest = &input[last.min(input.len())..];
        meter.grow(out.len(), rest.len())?;
        out.push_str(rest);
        Ok(out)
    }

    /// `Matcher.replaceAll`: `$n` inserts group n, `\x` inserts x literally.
    pub fn replace_all(
        &self,
        input: &str,
        rep: &str,
        meter: &mut Meter,
    ) -> Result<String, MatchError> {
        self.replace(input, rep, true, meter)
    }

    pub fn replace_first(
        &self,
        input: &str,
        rep: &str,
        meter: &mut Meter,
    ) -> Result<String, MatchError> {
        self.replace(input, rep, false, meter)
    }

    /// `String.split(regex, limit)`: a zero-width match at the start yields no leading
    /// empty string; limit > 0 caps the number of parts; limit 0 drops trailing empty
    /// strings.
    pub fn split_limit(
        &self,
        input: &str,
        limit: i32,
        meter: &mut Meter,
    ) -> Result<Vec<String>, MatchError> {
        // java.util.regex.Pattern.split, step for step
        let finds = self.finds(input, meter)?;
        let mut out: Vec<String> = Vec::new();
        let mut index = 0;
        let mut pos = 0;
        let limited = limit > 0;
        let mut held = 0usize;
        let mut part = |out: &mut Vec<String>, s: &str, meter: &mut Meter| {
            let more = s.len() + super::value::SLOT_BYTES;
            meter.grow(held, more)?;
            held += more;
            out.push(s.to_string());
            Ok::<(), MatchError>(())
        };
        while pos <= input.len() {
            let Some(m) = finds.find_at(pos, meter)? else {
                break;
            };
            if !limited || (out.len() as i32) < limit - 1 {
                if !(index == 0 && m.start == 0 && m.start == m.end) {
                    part(&mut out, &input[index..m.start], meter)?;
                    index = m.end;
                }
            } else if out.len() as i32 == limit - 1 {
                part(&mut out, &input[index..], meter)?;
                index = m.end;
                break;
            }
            pos = if m.end == m.start {
                match input[m.end..].chars().next() {
                    Some(c) => m.end + c.len_utf8(),
                    None => input.len() + 1,
                }
            } else {
                m.end
            };
        }
        if index == 0 {
            return Ok(vec![input.to_string()]);
        }
        if !limited || (out.len() as i32) < limit {
            part(&mut out, &input[index..], meter)?;
        }
        if limit == 0 {
            while out.last().is_some_and(|s| s.is_empty()) {
                out.pop();
            }
        }
        Ok(out)
    }
}

/// One input decoded for many finds.
struct Finds<'a> {
    searcher: jregex::Searcher<'a>,
    len: usize,
}

impl Finds<'_> {
    /// The first match starting at or after byte offset `start`.
    fn find_at(&self, start: usize, meter: &mut Meter) -> Result<Option<Match>, MatchError> {
        if start > self.len {
            return Ok(None);
        }
        let Some(c) = self.searcher.find_at(start, meter.regex())? else {
            return Ok(None);
        };
        let groups = (0..c.len())
            .map(|i| c.get(i).map(|r| (r.start, r.end)))
            .collect();
        Ok(Some(Match {
            start: c.start(),
            end: c.end(),
            groups,
        }))
    }
}

fn append_replacement(
    out: &mut String,
    input: &str,
    m: &Match,
    rep: &str,
    meter: &mut Meter,
) -> Result<(), MatchError> {
    let cs: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => {
                i += 1;
                match cs.get(i) {
                    Some(c) => out.push(*c),
                    None => {
                        return Err(java("character to be escaped is missing"));
                    }
                }
                i += 1;
            }
            '$' => {
                i += 1;
                let Some(d) = cs.get(i).and_then(|c| c.to_digit(10)) else {
                    return Err(java("Illegal group reference"));
                };
                let mut g = d as usize;
                if g >= m.groups.len() {
                    return Err(java(format!("No group {g}")));
                }
                i += 1;
                // Java takes more digits while the group number stays valid
                while let Some(d) = cs.get(i).and_then(|c| c.to_digit(10)) {
                    let ng = g * 10 + d as usize;
                    if ng < m.groups.len() {
                        g = ng;
                        i += 1;
                    } else {
                        break;
                    }
                }
                if let Some(Some((a, b))) = m.groups.get(g) {
                    meter.grow(out.len(), b - a)?;
                    out.push_str(&input[*a..*b]);
                }
            }
            c => {
                meter.grow(out.len(), c.len_utf8())?;
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}
