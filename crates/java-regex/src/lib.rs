//! A regular expression engine with the syntax and semantics of `java.util.regex` (OpenJDK
//! 17), for API Gateway's integration-response `selectionPattern` and the VTL
//! `String.matches/replaceAll/replaceFirst/split` methods.
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
//! * For untrusted input, [`Meter`] is one budget (and a deadline) across calls:
//!   [`Pattern::compile_metered`], [`Pattern::matches_metered`] and [`Pattern::searcher`]
//!   (an input decoded once, for many finds) all pay from the meter they are given;
//!   [`Pattern::replace_metered`] (`replaceAll`/`replaceFirst`) and
//!   [`Pattern::split_metered`] (`split` with a limit) pay from a [`Budget`]: a meter,
//!   and the caller's check before each piece of the result is kept. These are the
//!   only implementations: the unmetered methods and the VTL String methods
//!   (the `apigw-vtl` crate) call them.
//!
//! Agreement with Java is checked against `crates/java-regex/golden/java-regex.json`, made by real Java
//! from `crates/java-regex/golden/corpus.txt` (`crates/java-regex/golden/generate.sh`),
//! and, for the String methods with a limit, replaceFirst and `${name}` through a
//! template, `crates/apigw-vtl/golden/java-string-methods.json`
//! (`crates/apigw-vtl/golden/java-string-methods/generate.sh`, checked in `crates/apigw-vtl/src/regex`).
//!
//! Where this differs from Java (none of it shows in `java-regex.json`):
//! * Java strings are UTF-16; Rust strings hold Unicode scalar values, so unpaired
//!   surrogates cannot occur in input, and a pattern that can only match a lone surrogate
//!   (`\uD800`) never matches. Positions inside the engine are code points; Java's
//!   lookbehind and `find()` restart arithmetic counts UTF-16 units, which can differ only
//!   for inputs with supplementary characters next to a lookbehind or an empty match.
//!   After an empty match Java's `find()` steps one UTF-16 unit, into the middle of a
//!   following surrogate pair (`"\u{1F600}".replaceAll("", "-")` is `-\uD83D-\uDE00-` in
//!   Java), which no Rust string can hold; here it steps one code point (`-\u{1F600}-`).
//!   The String-method goldens record these cases and do not compare them.
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
use std::time::Instant;

pub use matcher::DEFAULT_STEP_BUDGET;

/// Unicode data version the tables were generated from (the JDK's `java.version`).
pub const JAVA_VERSION: &str = tables::JAVA_VERSION;

/// Steps charged per byte of input decoded for a matching call (decoding and
/// allocating the code point array costs about an eighth of a matcher step per byte).
const DECODE_BYTES_PER_STEP: u64 = 8;

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

/// A budget ran out before the matcher had an answer (Java would keep going, or
/// overflow its stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchError {
    /// The [`Meter`]'s steps were used up (catastrophic backtracking, or a lot of
    /// matching over large inputs).
    Steps { budget: u64 },
    /// The [`Meter`]'s deadline passed.
    Deadline,
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchError::Steps { budget } => write!(
                f,
                "regular expression matching used up its budget of {budget} steps (catastrophic \
                 backtracking, or much matching over large input)"
            ),
            MatchError::Deadline => {
                f.write_str("the deadline passed while a regular expression was matching")
            }
        }
    }
}

impl std::error::Error for MatchError {}

/// Work done by compiling and matching, counted across calls: give one meter to every
/// call made for one piece of untrusted input (a whole template render, a whole test),
/// so that a budget cannot be renewed by calling again. Counts the matcher's steps (node
/// visits, backtracks, character class tests weighted by the class's size), decoding
/// the input, setting up the registers, and compiling (proportional to the pattern's
/// length and node count). Also carries a deadline, looked at every few thousand steps.
#[derive(Clone, Debug)]
pub struct Meter {
    limit: u64,
    used: u64,
    deadline: Option<Instant>,
}

impl Meter {
    /// A meter allowing `limit` steps in all, with no deadline.
    pub fn new(limit: u64) -> Meter {
        Meter {
            limit,
            used: 0,
            deadline: None,
        }
    }

    /// The same meter, stopping work at `deadline` too.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Meter {
        self.deadline = deadline;
        self
    }

    /// Steps counted so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    fn exceeded(&self) -> MatchError {
        MatchError::Steps { budget: self.limit }
    }

    /// Counts `steps` of work done outside the matcher; an error once the budget is
    /// used up or the deadline has passed.
    pub fn charge(&mut self, steps: u64) -> Result<(), MatchError> {
        self.used = self.used.saturating_add(steps);
        if self.used > self.limit {
            return Err(self.exceeded());
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(MatchError::Deadline);
        }
        Ok(())
    }
}

/// Why [`Pattern::compile_metered`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// Java would refuse the pattern too.
    Syntax(PatternError),
    /// Compiling it would exceed the meter's budget.
    Budget(MatchError),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Syntax(e) => e.fmt(f),
            CompileError::Budget(e) => write!(f, "compiling the pattern: {e}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// Why a replace failed ([`Pattern::replace_all`], [`Pattern::replace_metered`]): the
/// replacement string, or what the caller's [`Budget`] stops with (`E`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplaceError<E = MatchError> {
    /// The replacement string is invalid for this pattern: Java throws `exception`
    /// (`IllegalArgumentException` or `IndexOutOfBoundsException`) with `message`. As in
    /// Java this is only detected when the pattern matches somewhere.
    Replacement {
        exception: &'static str,
        message: String,
    },
    Budget(E),
}

impl<E: fmt::Display> fmt::Display for ReplaceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplaceError::Replacement { exception, message } => write!(f, "{exception}: {message}"),
            ReplaceError::Budget(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ReplaceError<E> {}

impl<E: From<MatchError>> From<MatchError> for ReplaceError<E> {
    fn from(e: MatchError) -> Self {
        ReplaceError::Budget(e.into())
    }
}

/// What a replace or split ([`Pattern::replace_metered`], [`Pattern::split_metered`]) is
/// paid from: the [`Meter`] for matching, and a check before each piece of the result is
/// kept, so that a caller holding untrusted input can refuse a result too big to hold
/// before it is built. A [`Meter`] is a budget that checks nothing else.
pub trait Budget {
    /// What stops the call: a [`MatchError`] from the meter, or the caller's own reason.
    type Error: From<MatchError>;
    /// The meter that matching is paid from.
    fn meter(&mut self) -> &mut Meter;
    /// Before a replace's result, holding `held` bytes, grows by `more`.
    fn grow(&mut self, held: usize, more: usize) -> Result<(), Self::Error> {
        let _ = (held, more);
        Ok(())
    }
    /// Before a split keeps its next part, of `len` bytes.
    fn part(&mut self, len: usize) -> Result<(), Self::Error> {
        let _ = len;
        Ok(())
    }
}

impl Budget for Meter {
    type Error = MatchError;
    fn meter(&mut self) -> &mut Meter {
        self
    }
}

/// `replaceAll` or `replaceFirst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    All,
    First,
}

/// Why a closure run on the matcher stopped: the matcher's budget, or the caller's.
enum Halt<E> {
    Vm(matcher::Exhausted),
    Caller(E),
}

impl<E> From<matcher::Exhausted> for Halt<E> {
    fn from(e: matcher::Exhausted) -> Self {
        Halt::Vm(e)
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

    /// [`Pattern::compile`] paid from `meter`: compiling is linear in the pattern's
    /// length, which is charged before any work, and its node count after.
    pub fn compile_metered(pattern: &str, meter: &mut Meter) -> Result<Pattern, CompileError> {
        meter
            .charge(pattern.len() as u64)
            .map_err(CompileError::Budget)?;
        let compiled = Pattern::compile(pattern).map_err(CompileError::Syntax)?;
        meter
            .charge(compiled.prog.nodes.len() as u64)
            .map_err(CompileError::Budget)?;
        Ok(compiled)
    }

    /// The same pattern with another per-call step budget (for the methods that take no
    /// [`Meter`]).
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
        self.prog.named_groups.get(name).copied()
    }

    /// A meter for one call of the methods that take none.
    fn own_meter(&self) -> Meter {
        Meter::new(self.budget)
    }

    /// Runs `f` on one machine (one Java Matcher: `find()` continues from the previous
    /// match) paid from `budget`'s meter; `f` may also stop with the caller's error.
    fn run<B: Budget + ?Sized, T, E: From<MatchError>>(
        &self,
        cps: &[u32],
        budget: &mut B,
        f: impl FnOnce(&mut matcher::Vm<'_>, &mut B) -> Result<T, Halt<E>>,
    ) -> Result<T, E> {
        let meter = budget.meter();
        let mut vm = matcher::Vm::new(&self.prog, cps, meter.remaining(), meter.deadline);
        let result = f(&mut vm, budget);
        let meter = budget.meter();
        meter.used = meter.used.saturating_add(vm.steps);
        result.map_err(|e| match e {
            Halt::Vm(matcher::Exhausted::Steps) => meter.exceeded().into(),
            Halt::Vm(matcher::Exhausted::Deadline) => MatchError::Deadline.into(),
            Halt::Caller(e) => e,
        })
    }

    /// Java's `Pattern.matcher(input).matches()`: must match the whole input.
    pub fn matches(&self, input: &str) -> Result<bool, MatchError> {
        self.matches_metered(input, &mut self.own_meter())
    }

    /// [`Pattern::matches`] paid from `meter`.
    pub fn matches_metered(&self, input: &str, meter: &mut Meter) -> Result<bool, MatchError> {
        meter.charge(input.len() as u64 / DECODE_BYTES_PER_STEP)?;
        let cps: Vec<u32> = input.chars().map(|c| c as u32).collect();
        self.run(&cps, meter, |vm, _| {
            Ok::<_, Halt<MatchError>>(vm.matches()?)
        })
    }

    /// Java's `Matcher.find(start)`: the first match starting at or after byte offset
    /// `start` (rounded up to a character boundary), with group spans as byte offsets.
    /// `\G` matches at `start`. Returns `None` when `start > input.len()` (Java throws).
    pub fn find_at(&self, input: &str, start: usize) -> Result<Option<Captures>, MatchError> {
        let mut meter = self.own_meter();
        self.searcher(input, &mut meter)?.find_at(start, &mut meter)
    }

    /// A [`Searcher`] over `input` (decoded once, paid from `meter`), for many finds.
    pub fn searcher<'a>(
        &'a self,
        input: &'a str,
        meter: &mut Meter,
    ) -> Result<Searcher<'a>, MatchError> {
        meter.charge(input.len() as u64 / DECODE_BYTES_PER_STEP)?;
        Ok(Searcher {
            pattern: self,
            text: Text::new(input),
        })
    }

    /// Every match of Java's `while (m.find())` loop over `input`.
    pub fn find_all(&self, input: &str) -> Result<Vec<Captures>, MatchError> {
        let text = Text::new(input);
        let mut out = Vec::new();
        self.run(&text.cps, &mut self.own_meter(), |vm, _| {
            while vm.find_next()? {
                out.push(captures(vm, &text));
            }
            Ok::<_, Halt<MatchError>>(())
        })?;
        Ok(out)
    }

    /// Java's `input.replaceAll(pattern, replacement)` (`Matcher.replaceAll`): `$n`,
    /// `${name}` and `\x` in `replacement` as Java reads them, with Java's errors.
    pub fn replace_all(&self, input: &str, replacement: &str) -> Result<String, ReplaceError> {
        self.replace_metered(input, replacement, Replace::All, &mut self.own_meter())
    }

    /// Java's `input.replaceAll(pattern, replacement)` or `replaceFirst` (Matcher's
    /// `replaceAll`/`replaceFirst`: `appendReplacement` for each match, then
    /// `appendTail`), paid from `budget`. As in Java, a bad replacement is an error only
    /// once the pattern matches, and nothing matching gives the input itself.
    pub fn replace_metered<B: Budget + ?Sized>(
        &self,
        input: &str,
        replacement: &str,
        which: Replace,
        budget: &mut B,
    ) -> Result<String, ReplaceError<B::Error>> {
        budget
            .meter()
            .charge(input.len() as u64 / DECODE_BYTES_PER_STEP)?;
        let text = Text::new(input);
        let caller = |e: B::Error| Halt::Caller(ReplaceError::Budget(e));
        self.run(&text.cps, budget, |vm, budget| {
            let mut out = String::new();
            let mut last_append = 0usize;
            while vm.find_next()? {
                // appendReplacement: the text since the last match, then the expansion
                // (Java expands first; when expanding throws, the result is dropped
                // either way).
                let before = &input[last_append..text.byte(vm.first)];
                budget.grow(out.len(), before.len()).map_err(caller)?;
                out.push_str(before);
                self.expand(replacement, vm, input, &text, &mut out, budget)?;
                last_append = text.byte(vm.last);
                if which == Replace::First {
                    break;
                }
            }
            // appendTail (all of the input when nothing matched).
            let rest = &input[last_append..];
            budget.grow(out.len(), rest.len()).map_err(caller)?;
            out.push_str(rest);
            Ok(out)
        })
    }

    /// Matcher.appendExpandedReplacement (Java 17), appending to `out`. Java reads the
    /// replacement by UTF-16 unit; reading it by code point gives the same result (a
    /// supplementary character is never a digit, a name character, `$`, `\` or `}`).
    fn expand<B: Budget + ?Sized>(
        &self,
        rep: &str,
        vm: &matcher::Vm<'_>,
        input: &str,
        text: &Text,
        out: &mut String,
        budget: &mut B,
    ) -> Result<(), Halt<ReplaceError<B::Error>>> {
        let iae = |m: String| {
            Halt::Caller(ReplaceError::Replacement {
                exception: "IllegalArgumentException",
                message: m,
            })
        };
        let mut grow = |out: &mut String, s: &str| {
            budget
                .grow(out.len(), s.len())
                .map_err(|e| Halt::Caller(ReplaceError::Budget(e)))?;
            out.push_str(s);
            Ok::<(), Halt<ReplaceError<B::Error>>>(())
        };
        let chars: Vec<char> = rep.chars().collect();
        let group_count = self.group_count();
        let mut cursor = 0;
        while cursor < chars.len() {
            let c = chars[cursor];
            if c == '\\' {
                cursor += 1;
                if cursor == chars.len() {
                    return Err(iae("character to be escaped is missing".into()));
                }
                grow(out, chars[cursor].encode_utf8(&mut [0; 4]))?;
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
                    // "The first number is always a group", then more digits while the
                    // number stays a group: with 2 groups `$12` is group 1 and a "2".
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
                    // Matcher.start(int) throws for a group that does not exist.
                    return Err(Halt::Caller(ReplaceError::Replacement {
                        exception: "IndexOutOfBoundsException",
                        message: format!("No group {ref_num}"),
                    }));
                }
                let (s, e) = (vm.groups[2 * ref_num], vm.groups[2 * ref_num + 1]);
                if s != -1 && e != -1 && s <= e {
                    grow(out, &input[text.byte(s)..text.byte(e)])?;
                }
            } else {
                grow(out, c.encode_utf8(&mut [0; 4]))?;
                cursor += 1;
            }
        }
        Ok(())
    }

    /// Java's `input.split(pattern)` (`Pattern.split(input, 0)`): no leading empty string
    /// for a zero-width match at the start, trailing empty strings removed, the input
    /// itself when nothing matches.
    pub fn split(&self, input: &str) -> Result<Vec<String>, MatchError> {
        self.split_metered(input, 0, &mut self.own_meter())
    }

    /// Java's `input.split(pattern, limit)` (`Pattern.split`, Java 17), paid from
    /// `budget`: at most `limit` parts when `limit > 0` (the last one holds the rest of
    /// the input), every part when it is negative, and when it is 0 every part but the
    /// trailing empty ones. "A zero-width match at the beginning however never produces
    /// such empty leading substring" (String.split's Javadoc, since Java 8); nothing
    /// matching gives the input itself.
    ///
    /// `String.split` has a fast path for a one-character pattern that is not a
    /// metacharacter (and for a backslash and one that is not a letter or digit); it
    /// gives what the pattern gives, so there is one path here.
    pub fn split_metered<B: Budget + ?Sized>(
        &self,
        input: &str,
        limit: i32,
        budget: &mut B,
    ) -> Result<Vec<String>, B::Error> {
        budget
            .meter()
            .charge(input.len() as u64 / DECODE_BYTES_PER_STEP)?;
        let text = Text::new(input);
        let limited = limit > 0;
        // Parts before the last: `limit - 1` when limited.
        let cap = if limited {
            limit as usize - 1
        } else {
            usize::MAX
        };
        self.run(&text.cps, budget, |vm, budget| {
            let mut part = |list: &mut Vec<String>, s: &str| {
                budget.part(s.len()).map_err(Halt::Caller)?;
                list.push(s.to_string());
                Ok::<(), Halt<B::Error>>(())
            };
            let mut index = 0usize;
            let mut list: Vec<String> = Vec::new();
            while vm.find_next()? {
                let (start, end) = (text.byte(vm.first), text.byte(vm.last));
                if list.len() < cap {
                    if index == 0 && start == 0 && start == end {
                        // no empty leading substring for a zero-width match at 0
                        continue;
                    }
                    part(&mut list, &input[index..start])?;
                    index = end;
                } else {
                    // The last part: the rest of the input. Java goes on finding without
                    // keeping anything; stopping here gives the same parts.
                    part(&mut list, &input[index..])?;
                    index = end;
                    break;
                }
            }
            if index == 0 {
                // No match (or only a zero-width one at the start): the input itself.
                // (`list` can hold it already when limit is 1; it is rebuilt.)
                return Ok(vec![input.to_string()]);
            }
            if list.len() <= cap {
                part(&mut list, &input[index..])?;
            }
            if limit == 0 {
                while list.last().is_some_and(String::is_empty) {
                    list.pop();
                }
            }
            Ok(list)
        })
    }
}

/// An input decoded once for many finds (`Matcher.find(int)` called again and again),
/// each paid from the caller's [`Meter`].
pub struct Searcher<'a> {
    pattern: &'a Pattern,
    text: Text,
}

impl Searcher<'_> {
    /// `Matcher.find(start)`: the first match starting at or after byte offset `start`
    /// (rounded up to a character boundary); `None` when `start` is past the end.
    pub fn find_at(&self, start: usize, meter: &mut Meter) -> Result<Option<Captures>, MatchError> {
        let text = &self.text;
        if start > *text.offsets.last().unwrap_or(&0) {
            return Ok(None);
        }
        let from = text.offsets.partition_point(|&o| o < start);
        self.pattern.run(&text.cps, meter, |vm, _| {
            Ok::<_, Halt<MatchError>>(vm.search(from)?.then(|| captures(vm, text)))
        })
    }
}

#[cfg(test)]
mod golden_tests;

#[cfg(test)]
mod budget_tests;
