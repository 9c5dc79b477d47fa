//! A regular expression engine with the syntax and semantics of `java.util.regex` (OpenJDK
//! 17), for API Gateway's integration-response `selectionPattern` and, later, the VTL
//! `String.matches/replaceAll/split` methods.
//!
//! API Gateway compiles a selection pattern with `Pattern.compile` and applies it with
//! `matcher(input).matches()`; [`Pattern::compile`] accepts exactly the patterns Java
//! accepts (same error description and index otherwise) and [`Pattern::matches`] gives
//! Java's verdict. The parser is a port of Pattern.java's and builds the same node graph; the
//! matcher runs Java's node semantics on an explicit stack (see `matcher.rs`), so deep inputs
//! cannot overflow the native stack, and a step budget ([`DEFAULT_STEP_BUDGET`]) turns
//! catastrophic backtracking into a [`MatchError`] instead of a hang. Unicode data (general
//! categories, scripts, blocks, case mappings, `java.lang.Character` predicates) comes from
//! `tables.rs`, generated from the JDK, so it is Java 17's Unicode 13, not Rust's.
//!
//! API (all offsets are byte offsets into the input):
//! * [`Pattern::compile`] → `Result<Pattern, PatternError>`; [`PatternError`] carries Java's
//!   `getDescription()`/`getIndex()` and displays like `getMessage()`.
//! * [`Pattern::matches`] (whole input), [`Pattern::find_at`] (`Matcher.find(start)`),
//!   [`Pattern::find_all`] (the `while (m.find())` loop), [`Pattern::replace_all`]
//!   (`String.replaceAll`, Java's `$n`/`${name}`/`\x` replacement syntax and errors) and
//!   [`Pattern::split`] (`String.split`, limit 0). Each call has a step budget
//!   ([`DEFAULT_STEP_BUDGET`], [`Pattern::with_step_budget`]) covering all the work of that
//!   call (every find of a replace/split); running out gives [`MatchError`].
//!
//! Agreement with Java is checked against `tests/golden/java-regex.json`, made by real Java
//! from `scripts/golden/java-regex/corpus.txt` (`scripts/golden/java-regex/generate.sh`).
//!
//! Where this differs from Java (none of it shows in the golden corpus):
//! * Java strings are UTF-16; Rust strings hold Unicode scalar values, so unpaired
//!   surrogates cannot occur in input, and a pattern that can only match a lone surrogate
//!   (`\uD800`) never matches. Positions inside the engine are code points; Java's
//!   lookbehind and `find()` restart arithmetic counts UTF-16 units, which can differ only
//!   for inputs with supplementary characters next to a lookbehind or an empty match.
//!   Byte offsets are returned to callers.
//! * `\N{name}` (Character.codePointOf) is refused as an unknown name: the Unicode name
//!   table is not carried.
//! * The `(?c)` flag (CANON_EQ) is accepted but matching does not normalise input.
//! * Patterns nesting groups or classes deeper than 128 levels are refused ("Pattern
//!   nesting too deep"), where Java's limit is its thread stack.
//! * Character-class intersections whose right side is empty and whose left side ends
//!   with a plain character (`[[a]b&&]`) make Java throw NullPointerException at match
//!   time; here those characters simply do not match.

mod classes;
mod matcher;
mod parse;
#[rustfmt::skip]
mod tables;
mod unicode;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use matcher::DEFAULT_STEP_BUDGET;

/// Unicode data version the tables were generated from (the JDK's `java.version`).
pub const JAVA_VERSION: &str = tables::JAVA_VERSION;

/// A compiled Java regular expression. Cheap to clone (the program is shared); `Send` and
/// `Sync`.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    prog: Arc<parse::Program>,
    budget: u64,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// `java.util.regex.PatternSyntaxException`: what Java's `getDescription()` and
/// `getIndex()` return for the same pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub description: String,
    /// Java's error index (code points into the pattern after `\Q..\E` quoting was
    /// expanded, as Java computes it); -1 when Java gives none.
    pub index: i64,
    pub pattern: String,
}

impl fmt::Display for PatternError {
    /// Java's `PatternSyntaxException.getMessage()`: description, " near index N", the
    /// pattern on the next line and a caret line under the index when it is inside it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.description)?;
        if self.index >= 0 {
            write!(f, " near index {}", self.index)?;
        }
        write!(f, "\n{}", self.pattern)?;
        let units: Vec<u16> = self.pattern.encode_utf16().collect();
        if self.index >= 0 && (self.index as usize) < units.len() {
            let pad: String = units[..self.index as usize]
                .iter()
                .map(|&c| if c == u16::from(b'\t') { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternError {}

/// The step budget of one call was exhausted (catastrophic backtracking); Java would keep
/// going (or overflow its stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchError {
    pub budget: u64,
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "regular expression gave up after {} steps (too much backtracking)",
            self.budget
        )
    }
}

impl std::error::Error for MatchError {}

/// Why [`Pattern::replace_all`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplaceError {
    /// The replacement string is invalid for this pattern: Java throws `exception`
    /// (`IllegalArgumentException` or `IndexOutOfBoundsException`) with `message`. As in
    /// Java this is only detected when the pattern matches somewhere.
    Replacement {
        exception: &'static str,
        message: String,
    },
    Budget(MatchError),
}

impl fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplaceError::Replacement { exception, message } => write!(f, "{exception}: {message}"),
            ReplaceError::Budget(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplaceError {}

impl From<MatchError> for ReplaceError {
    fn from(e: MatchError) -> Self {
        ReplaceError::Budget(e)
    }
}

/// One match: byte ranges into the input for group 0 (the whole match) and each
/// capturing group (`None` when the group did not participate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captures {
    groups: Vec<Option<Range<usize>>>,
}

impl Captures {
    /// The span of group `i` (0 is the whole match).
    pub fn get(&self, i: usize) -> Option<Range<usize>> {
        self.groups.get(i).cloned().flatten()
    }
    /// Start of the whole match (byte offset).
    pub fn start(&self) -> usize {
        self.groups[0].as_ref().map_or(0, |r| r.start)
    }
    /// End of the whole match (byte offset).
    pub fn end(&self) -> usize {
        self.groups[0].as_ref().map_or(0, |r| r.end)
    }
    /// Number of groups including group 0.
    pub fn len(&self) -> usize {
        self.groups.len()
    }
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// An input decoded to code points, with the byte offset of every code point.
struct Text {
    cps: Vec<u32>,
    offsets: Vec<usize>,
}

impl Text {
    fn new(s: &str) -> Self {
        let mut cps = Vec::with_capacity(s.len());
        let mut offsets = Vec::with_capacity(s.len() + 1);
        for (o, c) in s.char_indices() {
            cps.push(c as u32);
            offsets.push(o);
        }
        offsets.push(s.len());
        Text { cps, offsets }
    }
    fn byte(&self, i: i64) -> usize {
        self.offsets[i as usize]
    }
}

fn captures(vm: &matcher::Vm<'_>, text: &Text) -> Captures {
    let groups = vm.groups[..vm.group_count() * 2]
        .chunks(2)
        .map(|g| {
            if g[0] < 0 || g[1] < 0 {
                None
            } else {
                Some(text.byte(g[0])..text.byte(g[1]))
            }
        })
        .collect();
    Captures { groups }
}

impl Pattern {
    /// `Pattern.compile(pattern)` (no flags: use inline flags such as `(?i)`).
    pub fn compile(pattern: &str) -> Result<Pattern, PatternError> {
        let prog = parse::compile(pattern)?;
        Ok(Pattern {
            source: pattern.to_string(),
            prog: Arc::new(prog),
            budget: DEFAULT_STEP_BUDGET,
        })
    }

    /// The same pattern with another per-call step budget.
    pub fn with_step_budget(mut self, steps: u64) -> Pattern {
        self.budget = steps;
        self
    }

    /// The pattern as given to [`Pattern::compile`].
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Java's `groupCount()`: capturing groups, not counting group 0.
    pub fn group_count(&self) -> usize {
        self.prog.group_count - 1
    }

    /// The group number of a named group `(?<name>...)`.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.prog
            .named_groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, g)| *g)
    }

    fn err(&self) -> MatchError {
        MatchError {
            budget: self.budget,
        }
    }

    /// Java's `Pattern.matcher(input).matches()`: must match the whole input.
    pub fn matches(&self, input: &str) -> Result<bool, MatchError> {
        let cps: Vec<u32> = input.chars().map(|c| c as u32).collect();
        let mut vm = matcher::Vm::new(&self.prog, &cps, self.budget);
        vm.matches().map_err(|_| self.err())
    }

    /// Java's `Matcher.find(start)`: the first match starting at or after byte offset
    /// `start` (rounded up to a character boundary), with group spans as byte offsets.
    /// `\G` matches at `start`. Returns `None` when `start > input.len()` (Java throws).
    pub fn find_at(&self, input: &str, start: usize) -> Result<Option<Captures>, MatchError> {
        if start > input.len() {
            return Ok(None);
        }
        let text = Text::new(input);
        let from = text.offsets.partition_point(|&o| o < start);
        let mut vm = matcher::Vm::new(&self.prog, &text.cps, self.budget);
        if vm.search(from).map_err(|_| self.err())? {
            Ok(Some(captures(&vm, &text)))
        } else {
            Ok(None)
        }
    }

    /// Every match of Java's `while (m.find())` loop over `input`.
    pub fn find_all(&self, input: &str) -> Result<Vec<Captures>, MatchError> {
        let text = Text::new(input);
        let mut vm = matcher::Vm::new(&self.prog, &text.cps, self.budget);
        let mut out = Vec::new();
        while vm.find_next().map_err(|_| self.err())? {
            out.push(captures(&vm, &text));
        }
        Ok(out)
    }

    /// Java's `input.replaceAll(pattern, replacement)` (`Matcher.replaceAll`): `$n`,
    /// `${name}` and `\x` in `replacement` as Java reads them, with Java's errors.
    pub fn replace_all(&self, input: &str, replacement: &str) -> Result<String, ReplaceError> {
        let text = Text::new(input);
        let mut vm = matcher::Vm::new(&self.prog, &text.cps, self.budget);
        let mut out = String::new();
        let mut last_append = 0usize;
        let mut any = false;
        while vm.find_next().map_err(|_| self.err())? {
            any = true;
            let expanded = self.expand(replacement, &vm, input, &text)?;
            out.push_str(&input[last_append..text.byte(vm.first)]);
            out.push_str(&expanded);
            last_append = text.byte(vm.last);
        }
        if !any {
            return Ok(input.to_string());
        }
        out.push_str(&input[last_append..]);
        Ok(out)
    }

    /// Matcher.appendExpandedReplacement.
    fn expand(
        &self,
        rep: &str,
        vm: &matcher::Vm<'_>,
        input: &str,
        text: &Text,
    ) -> Result<String, ReplaceError> {
        let iae = |m: String| ReplaceError::Replacement {
            exception: "IllegalArgumentException",
            message: m,
        };
        let chars: Vec<char> = rep.chars().collect();
        let group_count = self.group_count();
        let mut out = String::new();
        let mut cursor = 0;
        while cursor < chars.len() {
            let c = chars[cursor];
            if c == '\\' {
                cursor += 1;
                if cursor == chars.len() {
                    return Err(iae("character to be escaped is missing".into()));
                }
                out.push(chars[cursor]);
                cursor += 1;
            } else if c == '$' {
                cursor += 1;
                if cursor == chars.len() {
                    return Err(iae("Illegal group reference: group index is missing".into()));
                }
                let mut next = chars[cursor];
                let ref_num: usize;
                if next == '{' {
                    cursor += 1;
                    let mut name = String::new();
                    while cursor < chars.len() {
                        next = chars[cursor];
                        if next.is_ascii_alphanumeric() {
                            name.push(next);
                            cursor += 1;
                        } else {
                            break;
                        }
                    }
                    if name.is_empty() {
                        return Err(iae("named capturing group has 0 length name".into()));
                    }
                    if next != '}' {
                        return Err(iae("named capturing group is missing trailing '}'".into()));
                    }
                    if name.as_bytes()[0].is_ascii_digit() {
                        return Err(iae(format!(
                            "capturing group name {{{name}}} starts with digit character"
                        )));
                    }
                    let Some(g) = self.group_index(&name) else {
                        return Err(iae(format!("No group with name {{{name}}}")));
                    };
                    ref_num = g;
                    cursor += 1;
                } else {
                    let Some(d) = next.to_digit(10).filter(|_| next.is_ascii_digit()) else {
                        return Err(iae("Illegal group reference".into()));
                    };
                    let mut r = d as usize;
                    cursor += 1;
                    while cursor < chars.len() {
                        let Some(d) = chars[cursor]
                            .to_digit(10)
                            .filter(|_| chars[cursor].is_ascii_digit())
                        else {
                            break;
                        };
                        let new_ref = r * 10 + d as usize;
                        if group_count < new_ref {
                            break;
                        }
                        r = new_ref;
                        cursor += 1;
                    }
                    ref_num = r;
                }
                if ref_num > group_count {
                    return Err(ReplaceError::Replacement {
                        exception: "IndexOutOfBoundsException",
                        message: format!("No group {ref_num}"),
                    });
                }
                let (s, e) = (vm.groups[2 * ref_num], vm.groups[2 * ref_num + 1]);
                if s != -1 && e != -1 && s <= e {
                    out.push_str(&input[text.byte(s)..text.byte(e)]);
                }
            } else {
                out.push(c);
                cursor += 1;
            }
        }
        Ok(out)
    }

    /// Java's `input.split(pattern)` (`Pattern.split(input, 0)`): no leading empty string
    /// for a zero-width match at the start, trailing empty strings removed, the input
    /// itself when nothing matches.
    pub fn split(&self, input: &str) -> Result<Vec<String>, MatchError> {
        let text = Text::new(input);
        let mut vm = matcher::Vm::new(&self.prog, &text.cps, self.budget);
        let mut index = 0usize;
        let mut list: Vec<String> = Vec::new();
        while vm.find_next().map_err(|_| self.err())? {
            let (start, end) = (text.byte(vm.first), text.byte(vm.last));
            if index == 0 && start == 0 && start == end {
                continue;
            }
            list.push(input[index..start].to_string());
            index = end;
        }
        if index == 0 {
            return Ok(vec![input.to_string()]);
        }
        list.push(input[index..].to_string());
        while list.last().is_some_and(String::is_empty) {
            list.pop();
        }
        Ok(list)
    }
}

#[cfg(test)]
mod golden_tests;
