//! Budgets for rendering untrusted templates: whoever can open a pull request on the specs
//! writes them, and `validate`, `plan`, `test` and the daemon render them.
//!
//! A [`Meter`] counts the cost of one render (or one response test: the selection
//! patterns and the render) in work done, not in calls, so calling a method again cannot
//! renew a budget:
//! - evaluation steps (directives, references, operators, method calls, loop iterations);
//! - regular expression steps for the whole render, compiling included (a
//!   [`java_regex::Meter`] shared by every `matches`/`replaceAll`/`split` call and by the
//!   test's selection patterns);
//! - bytes produced, copied and scanned: output, string building, string methods (a
//!   `length()` of an 8 MiB string scans 8 MiB), comparisons, JSON parsing and printing;
//! - live bytes of the strings and collections the template holds at once, checked
//!   *before* an allocation that could exceed it (a `replace` result's size is computed
//!   first);
//! - a deadline (the one for the whole desired set), looked at every few thousand steps.
//!
//! Exceeding any of them stops the render with a [`super::RenderError`] whose `limit`
//! says which, never a hang or an abort.

use std::cell::Cell;
use std::fmt;
use std::time::Instant;

/// What one render (or one response test) may use. The defaults are far above what a
/// mapping template API Gateway runs needs (API Gateway's own quotas: a 10 MB payload,
/// 1,000 `#foreach` iterations, 29 s for the whole integration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps.
    pub steps: u64,
    /// Regular expression steps, compiling included.
    pub regex_steps: u64,
    /// Bytes produced, copied and scanned.
    pub work_bytes: u64,
    /// Live bytes of strings and collections at once.
    pub memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: 5_000_000,
            regex_steps: 20_000_000,
            work_bytes: 512 << 20,
            memory_bytes: 128 << 20,
        }
    }
}

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Steps(u64),
    RegexSteps(u64),
    WorkBytes(u64),
    MemoryBytes(u64),
    Deadline,
}

impl Exceeded {
    /// The config key (under `limits:`) that sets it.
    pub fn config_key(&self) -> &'static str {
        match self {
            Exceeded::Steps(_) => "templateSteps",
            Exceeded::RegexSteps(_) => "regexSteps",
            Exceeded::WorkBytes(_) => "workBytes",
            Exceeded::MemoryBytes(_) => "memoryBytes",
            Exceeded::Deadline => "deadline",
        }
    }

    pub fn from_regex(e: java_regex::MatchError) -> Exceeded {
        match e {
            java_regex::MatchError::Steps { budget } => Exceeded::RegexSteps(budget),
            java_regex::MatchError::Deadline => Exceeded::Deadline,
        }
    }
}

/// `512 MiB`, `1.5 KiB`, `300 B`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.config_key();
        match *self {
            Exceeded::Steps(n) => write!(
                f,
                "the template took more than {n} evaluation steps (limits.{key})"
            ),
            Exceeded::RegexSteps(n) => write!(
                f,
                "regular expressions took more than {n} steps in all, compiling included \
                 (catastrophic backtracking or much matching over large input; limits.{key})"
            ),
            Exceeded::WorkBytes(n) => write!(
                f,
                "the template produced, copied or scanned more than {} (limits.{key})",
                bytes(n)
            ),
            Exceeded::MemoryBytes(n) => write!(
                f,
                "the template's strings and collections would hold more than {} at once \
                 (limits.{key})",
                bytes(n)
            ),
            Exceeded::Deadline => write!(
                f,
                "the deadline for evaluating the desired set passed (limits.{key})"
            ),
        }
    }
}

/// Steps between two looks at the clock.
const CLOCK_EVERY: u64 = 1 << 12;

/// The cost of one render or test so far, against its [`Limits`].
#[derive(Clone, Debug)]
pub struct Meter {
    limits: Limits,
    steps: u64,
    work: u64,
    /// [`live_bytes`] when the meter was made: what the template holds is the excess.
    live_base: i64,
    peak: i64,
    deadline: Option<Instant>,
    next_clock: u64,
    regex: java_regex::Meter,
}

impl Default for Meter {
    fn default() -> Self {
        Meter::new(Limits::default(), None)
    }
}

/// What a render or test used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub steps: u64,
    pub regex_steps: u64,
    pub work_bytes: u64,
    /// The most live bytes held at once (as seen at the checks).
    pub peak_memory_bytes: u64,
}

impl Meter {
    /// A meter for one render or test, stopping at `deadline` too.
    pub fn new(limits: Limits, deadline: Option<Instant>) -> Meter {
        let live = live_bytes();
        Meter {
            limits,
            steps: 0,
            work: 0,
            live_base: live,
            peak: 0,
            deadline,
            next_clock: CLOCK_EVERY.min(limits.steps.saturating_add(1)),
            regex: java_regex::Meter::new(limits.regex_steps).with_deadline(deadline),
        }
    }

    /// The regular expression meter, for a test's selection patterns.
    pub fn regex(&mut self) -> &mut java_regex::Meter {
        &mut self.regex
    }

    pub fn usage(&self) -> Usage {
        Usage {
            steps: self.steps,
            regex_steps: self.regex.used(),
            work_bytes: self.work,
            peak_memory_bytes: self.peak.max(0) as u64,
        }
    }

    /// One evaluation step; looks at the clock and the memory now and then.
    #[inline(always)]
    pub(crate) fn step(&mut self) -> Result<(), Exceeded> {
        self.steps += 1;
        if self.steps >= self.next_clock {
            return self.every_few_steps();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn every_few_steps(&mut self) -> Result<(), Exceeded> {
        if self.steps > self.limits.steps {
            return Err(Exceeded::Steps(self.limits.steps));
        }
        self.next_clock = (self.steps + CLOCK_EVERY).min(self.limits.steps.saturating_add(1));
        self.check_deadline()?;
        self.check_live(0)
    }

    pub(crate) fn check_deadline(&self) -> Result<(), Exceeded> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Exceeded::Deadline);
        }
        Ok(())
    }

    /// `bytes` scanned or copied without keeping them.
    #[inline(always)]
    pub(crate) fn work(&mut self, bytes: usize) -> Result<(), Exceeded> {
        self.work = self.work.saturating_add(bytes as u64);
        if self.work > self.limits.work_bytes {
            return Err(Exceeded::WorkBytes(self.limits.work_bytes));
        }
        Ok(())
    }

    /// Before allocating `bytes` that the template will hold: counts them as work and
    /// checks that the live total stays within the memory budget.
    #[inline]
    pub(crate) fn alloc(&mut self, bytes: usize) -> Result<(), Exceeded> {
        self.work(bytes)?;
        self.check_live(bytes)
    }

    /// Before a collection grows by `n` elements that each hold `live_each` bytes:
    /// writing them is work of their size, holding them is checked against the memory.
    #[inline]
    pub(crate) fn alloc_slots(&mut self, n: usize, live_each: usize) -> Result<(), Exceeded> {
        self.work(n.saturating_mul(super::value::VALUE_BYTES))?;
        self.check_live(n.saturating_mul(live_each))
    }

    /// Before appending `more` bytes to a buffer already holding `held` (not yet a
    /// template value): counts `more` as work and checks the live total with the buffer.
    #[inline]
    pub(crate) fn grow(&mut self, held: usize, more: usize) -> Result<(), Exceeded> {
        self.work(more)?;
        self.check_live(held.saturating_add(more))
    }

    #[inline]
    fn check_live(&mut self, more: usize) -> Result<(), Exceeded> {
        let held = live_bytes() - self.live_base;
        self.peak = self.peak.max(held);
        if held.saturating_add(more as i64) > self.limits.memory_bytes as i64 {
            return Err(Exceeded::MemoryBytes(self.limits.memory_bytes));
        }
        Ok(())
    }
}

thread_local! {
    /// Bytes of template strings and collection slots alive on this thread. Template
    /// values are `Rc`s, never sent to another thread, so a render's values are created
    /// and dropped on the thread that renders.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

/// Live bytes of template values on this thread.
pub(crate) fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

/// Counts `delta` bytes coming alive (or, negative, being freed).
#[inline]
pub(crate) fn account(delta: i64) {
    LIVE.with(|l| l.set(l.get() + delta));
}
