//! The matcher: Java's recursive node matcher (Pattern.java's `Node.match` methods and
//! Matcher.java's search/match) run as an explicit-stack machine, so that deep inputs cannot
//! overflow the native stack and a step budget can stop runaway backtracking.
//!
//! Translation rules, applied node by node so that the sequence of state changes is Java's:
//! * `return next.match(i)` is a jump (`Flow::Go`);
//! * "if `next.match` fails, try something else" pushes a `Choice` before jumping;
//! * "restore a register when the call returns false" pushes `Undo`; when Java also
//!   restores on success (GroupHead, Loop.matchInit) the undo is `always` and is applied
//!   while unwinding a successful atom too;
//! * an atom called for its own answer (`atom.match(...)` whose chain ends at
//!   Pattern.accept: Ques/Curly atoms, lookaround conditions, GroupCurly bodies) pushes an
//!   `Atom` marker; when the atom reaches Accept everything above the marker is dropped
//!   (Java's call returned true: its choice points are gone, its state changes stay), and
//!   when failure pops the marker the caller's "atom failed" branch runs.

use std::collections::HashSet;
use std::time::Instant;

use super::classes::ascii_to_lower;
use super::parse::{BOUND_LEFT, BOUND_NONE, BOUND_RIGHT, Kind, NONE, Program, Qtype, SliceMode};
use super::unicode as u;

/// Work budget of one matching call, in machine steps (node visits and backtracks).
pub const DEFAULT_STEP_BUDGET: u64 = 1_000_000;

/// The backtrack stack's most frames (64 bytes each: 32 MiB), whatever the step budget.
const MAX_STACK_FRAMES: u64 = 1 << 19;

/// Steps between two looks at the clock: reading it costs about as much as 20 steps.
const CLOCK_EVERY: u64 = 1 << 14;

#[derive(Clone, Copy, Debug)]
enum Flow {
    Go(usize, usize),
    Fail,
    /// An atom chain reached Pattern.accept (or GroupTail in atom mode / LookBehindEnd).
    AtomOk,
    /// The whole pattern reached lastAccept.
    Matched,
}

#[derive(Clone, Copy, Debug)]
enum Cont {
    /// `atom.match(i) && next.match(last)`.
    Then {
        next: usize,
    },
    /// Ques POSSESSIVE: `if (atom.match(i)) i = last; return next.match(i)`.
    QuesPoss {
        next: usize,
        i: usize,
    },
    CurlyMin {
        node: usize,
        j: i32,
    },
    C0First {
        node: usize,
        i: usize,
        j: i32,
        bl: i32,
    },
    C0Iter {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        bl: i32,
    },
    C1Atom {
        node: usize,
        i: usize,
        j: i32,
    },
    C2Atom {
        node: usize,
        i: usize,
        j: i32,
    },
    GcMin {
        node: usize,
        i: usize,
        j: i32,
    },
    Gc0First {
        node: usize,
        i: usize,
        j: i32,
        min: i32,
        s0: i64,
        s1: i64,
    },
    Gc0Inner {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        min: i32,
        s0: i64,
        s1: i64,
    },
    Gc1Atom {
        node: usize,
        i: usize,
        j: i32,
    },
    Gc2Atom {
        node: usize,
        i: usize,
        j: i32,
    },
    Pos {
        next: usize,
        i: usize,
    },
    Neg {
        next: usize,
        i: usize,
    },
    Behind {
        node: usize,
        i: usize,
        j: i64,
        from: i64,
        saved: i64,
    },
}

#[derive(Clone, Copy, Debug)]
enum Choice {
    Branch {
        node: usize,
        n: usize,
        i: usize,
    },
    Go {
        pc: usize,
        i: usize,
    },
    QuesLazy {
        node: usize,
        i: usize,
    },
    Cpg {
        node: usize,
        i: usize,
        n: i64,
    },
    C0BackNext {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        bl: i32,
    },
    C0BackResume {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        bl: i32,
    },
    C1Alt {
        node: usize,
        i: usize,
        j: i32,
    },
    Gc0BackNext {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        min: i32,
        s0: i64,
        s1: i64,
    },
    Gc0BackResume {
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        min: i32,
        s0: i64,
        s1: i64,
    },
    Gc1Alt {
        node: usize,
        i: usize,
        j: i32,
    },
    LoopAlt {
        node: usize,
        i: usize,
        count: i64,
    },
    LazyLoopAlt {
        node: usize,
        i: usize,
        count: i64,
    },
    LazyInitAlt {
        node: usize,
        i: usize,
    },
}

#[derive(Clone, Copy, Debug)]
enum Frame {
    UndoGroup { idx: usize, val: i64 },
    UndoLocal { idx: usize, val: i64, always: bool },
    Atom(Cont),
    Choice(Choice),
}

/// Why the matcher stopped before an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Exhausted {
    /// The step budget (or the backtrack stack's bound) ran out.
    Steps,
    /// The deadline passed.
    Deadline,
}

/// Java's Matcher state for one input.
pub(super) struct Vm<'a> {
    prog: &'a Program,
    input: &'a [u32],
    to: usize,
    pub groups: Vec<i64>,
    locals: Vec<i64>,
    memo: Vec<HashSet<usize>>,
    pub first: i64,
    pub last: i64,
    pub old_last: i64,
    lookbehind_to: i64,
    end_anchor: bool,
    stack: Vec<Frame>,
    /// Steps taken by this machine (all its calls).
    pub steps: u64,
    budget: u64,
    deadline: Option<Instant>,
    next_clock: u64,
}

fn is_line_term(ch: u32) -> bool {
    ch == 0x0a || ch == 0x0d || (ch | 1) == 0x2029 || ch == 0x85
}

impl<'a> Vm<'a> {
    /// A machine that may take `budget` steps in all and must stop at `deadline`.
    pub fn new(
        prog: &'a Program,
        input: &'a [u32],
        budget: u64,
        deadline: Option<Instant>,
    ) -> Self {
        Vm {
            prog,
            input,
            to: input.len(),
            // Java sizes groups for at least 10 groups: `\8` with fewer groups reads -1.
            groups: vec![-1; prog.group_count.max(10) * 2],
            locals: vec![-1; prog.local_count],
            memo: vec![HashSet::new(); prog.memo_count],
            first: -1,
            last: 0,
            old_last: -1,
            lookbehind_to: 0,
            end_anchor: false,
            stack: Vec::new(),
            // Setting up the registers is work too (a pattern may have 60,000 groups).
            steps: (prog.group_count + prog.local_count + prog.memo_count) as u64 / 8,
            budget,
            deadline,
            next_clock: CLOCK_EVERY,
        }
    }

    /// Capturing groups including group 0.
    pub fn group_count(&self) -> usize {
        self.prog.group_count
    }

    fn prepare(&mut self, from: usize) {
        self.steps += (self.groups.len() + self.memo.len()) as u64 / 8;
        self.first = from as i64;
        self.old_last = if self.old_last < 0 {
            from as i64
        } else {
            self.old_last
        };
        self.groups.iter_mut().for_each(|g| *g = -1);
        self.memo.iter_mut().for_each(HashSet::clear);
    }

    /// Matcher.match(from, ENDANCHOR) (`matches()`).
    pub fn matches(&mut self) -> Result<bool, Exhausted> {
        self.prepare(0);
        self.end_anchor = true;
        let r = self.run(self.prog.match_root, 0)?;
        if r {
            self.groups[0] = 0;
            self.groups[1] = self.last;
        } else {
            self.first = -1;
        }
        self.old_last = self.last;
        Ok(r)
    }

    /// Matcher.search(from) (the Start node loop).
    pub fn search(&mut self, from: usize) -> Result<bool, Exhausted> {
        self.prepare(from);
        self.end_anchor = false;
        let mut found = false;
        let guard = (self.to as i32).wrapping_sub(self.prog.min_length) as i64;
        let mut i = from;
        while (i as i64) <= guard {
            if self.run(self.prog.match_root, i)? {
                self.first = i as i64;
                self.groups[0] = self.first;
                self.groups[1] = self.last;
                found = true;
                break;
            }
            i += 1;
        }
        if !found {
            self.first = -1;
        }
        self.old_last = self.last;
        Ok(found)
    }

    /// Matcher.find() after a previous find()/reset().
    pub fn find_next(&mut self) -> Result<bool, Exhausted> {
        let mut next = self.last;
        if next == self.first {
            next += 1;
        }
        if next < 0 {
            next = 0;
        }
        if next as usize > self.to {
            self.groups.iter_mut().for_each(|g| *g = -1);
            return Ok(false);
        }
        self.search(next as usize)
    }

    /// Counts a step; also bounds the backtrack stack (64-byte frames) to half the budget
    /// and to [`MAX_STACK_FRAMES`], so the matcher's memory stays under 32 MiB; looks at
    /// the clock every [`CLOCK_EVERY`] steps.
    #[inline]
    fn tick(&mut self) -> Result<(), Exhausted> {
        self.steps += 1;
        let stack = self.stack.len() as u64;
        if self.steps > self.budget || stack > self.budget / 2 || stack > MAX_STACK_FRAMES {
            return Err(Exhausted::Steps);
        }
        if self.steps >= self.next_clock {
            self.next_clock = self.steps + CLOCK_EVERY;
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Exhausted::Deadline);
            }
        }
        Ok(())
    }

    fn run(&mut self, pc: usize, i: usize) -> Result<bool, Exhausted> {
        self.stack.clear();
        let mut flow = Flow::Go(pc, i);
        loop {
            self.tick()?;
            flow = match flow {
                Flow::Go(pc, i) => self.exec(pc, i),
                Flow::Fail => match self.backtrack()? {
                    Some(f) => f,
                    None => return Ok(false),
                },
                Flow::AtomOk => self.atom_ok(),
                Flow::Matched => {
                    // Apply the writes Java performs while returning true (GroupCurly).
                    while let Some(f) = self.stack.pop() {
                        self.on_success_unwind(f);
                    }
                    return Ok(true);
                }
            };
        }
    }

    fn on_success_unwind(&mut self, f: Frame) {
        match f {
            Frame::UndoLocal {
                idx,
                val,
                always: true,
            } => self.locals[idx] = val,
            Frame::Choice(Choice::Gc0BackNext { node, i, k, .. }) => {
                if let Kind::GroupCurly {
                    capture: true,
                    group,
                    ..
                } = self.prog.nodes[node].kind
                {
                    self.groups[group + 1] = i as i64;
                    self.groups[group] = i as i64 - k as i64;
                }
            }
            _ => {}
        }
    }

    fn atom_ok(&mut self) -> Flow {
        while let Some(f) = self.stack.pop() {
            if let Frame::Atom(c) = f {
                return self.atom_success(c);
            }
            self.on_success_unwind(f);
        }
        // Accept reached outside any atom: cannot happen for well-formed programs.
        Flow::Fail
    }

    fn backtrack(&mut self) -> Result<Option<Flow>, Exhausted> {
        loop {
            let Some(f) = self.stack.pop() else {
                return Ok(None);
            };
            match f {
                Frame::UndoGroup { idx, val } => self.groups[idx] = val,
                Frame::UndoLocal { idx, val, .. } => self.locals[idx] = val,
                Frame::Atom(c) => {
                    if let Some(fl) = self.atom_failure(c) {
                        return Ok(Some(fl));
                    }
                }
                Frame::Choice(c) => {
                    self.tick()?;
                    if let Some(fl) = self.choice(c) {
                        return Ok(Some(fl));
                    }
                }
            }
        }
    }

    fn push(&mut self, f: Frame) {
        self.stack.push(f);
    }

    fn call_atom(&mut self, atom: usize, i: usize, c: Cont) -> Flow {
        self.push(Frame::Atom(c));
        Flow::Go(atom, i)
    }

    fn set_group(&mut self, g: usize, s: i64, e: i64) {
        self.groups[g] = s;
        self.groups[g + 1] = e;
    }

    // ------------------------------------------------------------ node dispatch

    fn exec(&mut self, pc: usize, i: usize) -> Flow {
        let prog = self.prog;
        let node = &prog.nodes[pc];
        let next = node.next;
        let to = self.to;
        let input = self.input;
        match &node.kind {
            Kind::Accept => {
                self.last = i as i64;
                Flow::AtomOk
            }
            Kind::LastAccept => {
                if self.end_anchor && i != to {
                    return Flow::Fail;
                }
                self.last = i as i64;
                Flow::Matched
            }
            Kind::Begin => {
                if i == 0 {
                    Flow::Go(next, i)
                } else {
                    Flow::Fail
                }
            }
            Kind::End => {
                if i == to {
                    Flow::Go(next, i)
                } else {
                    Flow::Fail
                }
            }
            Kind::Caret => {
                if i >= to {
                    return Flow::Fail;
                }
                if i > 0 {
                    let ch = input[i - 1];
                    if !is_line_term(ch) {
                        return Flow::Fail;
                    }
                    if ch == 0x0d && input[i] == 0x0a {
                        return Flow::Fail;
                    }
                }
                Flow::Go(next, i)
            }
            Kind::UnixCaret => {
                if i >= to {
                    return Flow::Fail;
                }
                if i > 0 && input[i - 1] != 0x0a {
                    return Flow::Fail;
                }
                Flow::Go(next, i)
            }
            Kind::LastMatch => {
                if i as i64 != self.old_last {
                    Flow::Fail
                } else {
                    Flow::Go(next, i)
                }
            }
            Kind::Dollar(multiline) => {
                if i > to {
                    return Flow::Fail;
                }
                if !multiline {
                    if i + 2 < to {
                        return Flow::Fail;
                    }
                    if i + 2 == to && (input[i] != 0x0d || input[i + 1] != 0x0a) {
                        return Flow::Fail;
                    }
                }
                if i < to {
                    let ch = input[i];
                    if ch == 0x0a {
                        if i > 0 && input[i - 1] == 0x0d {
                            return Flow::Fail;
                        }
                        if *multiline {
                            return Flow::Go(next, i);
                        }
                    } else if ch == 0x0d || ch == 0x85 || (ch | 1) == 0x2029 {
                        if *multiline {
                            return Flow::Go(next, i);
                        }
                    } else {
                        return Flow::Fail;
                    }
                }
                Flow::Go(next, i)
            }
            Kind::UnixDollar(multiline) => {
                if i > to {
                    return Flow::Fail;
                }
                if i < to {
                    if input[i] == 0x0a {
                        if !multiline && i != to - 1 {
                            return Flow::Fail;
                        }
                        if *multiline {
                            return Flow::Go(next, i);
                        }
                    } else {
                        return Flow::Fail;
                    }
                }
                Flow::Go(next, i)
            }
            Kind::LineEnding => {
                if i < to {
                    let ch = input[i];
                    if matches!(ch, 0x0a | 0x0b | 0x0c | 0x85 | 0x2028 | 0x2029) {
                        return Flow::Go(next, i + 1);
                    }
                    if ch == 0x0d {
                        if i + 1 < to && input[i + 1] == 0x0a {
                            self.push(Frame::Choice(Choice::Go { pc: next, i: i + 1 }));
                            return Flow::Go(next, i + 2);
                        }
                        return Flow::Go(next, i + 1);
                    }
                }
                Flow::Fail
            }
            Kind::CharProperty(p) | Kind::NfcCharProperty(p) => {
                self.steps += u64::from(self.prog.nodes[pc].cost);
                if i < to && p.is(input[i]) {
                    Flow::Go(next, i + 1)
                } else {
                    Flow::Fail
                }
            }
            Kind::XGrapheme => {
                if i < to {
                    Flow::Go(next, u::next_boundary(input, i, to))
                } else {
                    Flow::Fail
                }
            }
            Kind::GraphemeBound => {
                if i > to {
                    return Flow::Fail;
                }
                if i != 0 && i < to {
                    let last = self.last;
                    if last >= 0
                        && (last as usize) < to
                        && u::next_boundary(input, last as usize, to) > i
                    {
                        return Flow::Fail;
                    }
                }
                Flow::Go(next, i)
            }
            Kind::Slice(buf, mode) => {
                if i + buf.len() > to {
                    return Flow::Fail;
                }
                for (j, &b) in buf.iter().enumerate() {
                    let c = input[i + j];
                    let ok = match mode {
                        SliceMode::Exact => b == c,
                        SliceMode::AsciiCi => b == c || b == ascii_to_lower(c),
                        SliceMode::UnicodeCi => b == c || b == u::to_lower(u::to_upper(c)),
                    };
                    if !ok {
                        return Flow::Fail;
                    }
                }
                Flow::Go(next, i + buf.len())
            }
            Kind::Ques { atom, qtype } => match qtype {
                Qtype::Greedy => {
                    self.push(Frame::Choice(Choice::Go { pc: next, i }));
                    self.call_atom(*atom, i, Cont::Then { next })
                }
                Qtype::Lazy => {
                    self.push(Frame::Choice(Choice::QuesLazy { node: pc, i }));
                    Flow::Go(next, i)
                }
                Qtype::Possessive => self.call_atom(*atom, i, Cont::QuesPoss { next, i }),
                Qtype::Independent => self.call_atom(*atom, i, Cont::Then { next }),
            },
            Kind::CharPropertyGreedy { pred, cmin } => {
                let cost = u64::from(self.prog.nodes[pc].cost);
                let mut j = i;
                if cost == 0 {
                    while j < to && pred.is(input[j]) {
                        j += 1;
                    }
                    self.steps += (j - i) as u64 / 16;
                } else {
                    // An expensive class pays per character, and stops at the budget
                    // (the next tick reports it).
                    while j < to && self.steps <= self.budget && pred.is(input[j]) {
                        self.steps += cost;
                        j += 1;
                    }
                }
                let n = (j - i) as i64;
                if n < *cmin as i64 {
                    return Flow::Fail;
                }
                if n > *cmin as i64 {
                    self.push(Frame::Choice(Choice::Cpg { node: pc, i: j, n }));
                }
                Flow::Go(next, j)
            }
            Kind::Curly { .. } => self.curly_min(pc, i, 0),
            Kind::GroupCurly {
                local,
                group,
                capture,
                ..
            } => {
                let (local, group, capture) = (*local, *group, *capture);
                self.push(Frame::UndoLocal {
                    idx: local,
                    val: self.locals[local],
                    always: false,
                });
                if capture {
                    self.push(Frame::UndoGroup {
                        idx: group,
                        val: self.groups[group],
                    });
                    self.push(Frame::UndoGroup {
                        idx: group + 1,
                        val: self.groups[group + 1],
                    });
                }
                self.locals[local] = -1;
                self.gc_min(pc, i, 0)
            }
            Kind::BranchConn => Flow::Go(next, i),
            Kind::Branch { .. } => self.branch(pc, 0, i),
            Kind::GroupHead { local } => {
                self.push(Frame::UndoLocal {
                    idx: *local,
                    val: self.locals[*local],
                    always: true,
                });
                self.locals[*local] = i as i64;
                Flow::Go(next, i)
            }
            Kind::GroupTail { local, group } => {
                let tmp = self.locals[*local];
                if tmp >= 0 {
                    let g = *group;
                    self.push(Frame::UndoGroup {
                        idx: g,
                        val: self.groups[g],
                    });
                    self.push(Frame::UndoGroup {
                        idx: g + 1,
                        val: self.groups[g + 1],
                    });
                    self.set_group(g, tmp, i as i64);
                    Flow::Go(next, i)
                } else {
                    self.last = i as i64;
                    Flow::AtomOk
                }
            }
            Kind::Prolog { lp } => self.loop_init(*lp, i),
            Kind::Loop {
                body,
                count,
                begin,
                cmin,
                cmax,
                pos_index,
                lazy,
            } => {
                if i as i64 > self.locals[*begin] {
                    let c = self.locals[*count];
                    if c < *cmin as i64 {
                        self.push(Frame::UndoLocal {
                            idx: *count,
                            val: c,
                            always: false,
                        });
                        self.locals[*count] = c + 1;
                        return Flow::Go(*body, i);
                    }
                    if *lazy {
                        self.push(Frame::Choice(Choice::LazyLoopAlt {
                            node: pc,
                            i,
                            count: c,
                        }));
                        return Flow::Go(next, i);
                    }
                    if c < *cmax as i64 {
                        if let Some(p) = pos_index
                            && self.memo[*p].contains(&i)
                        {
                            return Flow::Go(next, i);
                        }
                        self.push(Frame::Choice(Choice::LoopAlt {
                            node: pc,
                            i,
                            count: c,
                        }));
                        self.locals[*count] = c + 1;
                        return Flow::Go(*body, i);
                    }
                }
                Flow::Go(next, i)
            }
            Kind::BackRef { group } => {
                let j = self.groups[*group];
                let k = self.groups[*group + 1];
                if j < 0 {
                    return Flow::Fail;
                }
                if k < j || i + (k - j) as usize > to {
                    return Flow::Fail;
                }
                let size = (k - j) as usize;
                let j = j as usize;
                if input[i..i + size] != input[j..j + size] {
                    return Flow::Fail;
                }
                Flow::Go(next, i + size)
            }
            Kind::CiBackRef { group, unicode } => {
                let j = self.groups[*group];
                let k = self.groups[*group + 1];
                if j < 0 {
                    return Flow::Fail;
                }
                if k < j || i + (k - j) as usize > to {
                    return Flow::Fail;
                }
                let size = (k - j) as usize;
                let j = j as usize;
                for x in 0..size {
                    let c1 = input[i + x];
                    let c2 = input[j + x];
                    if c1 != c2 {
                        if *unicode {
                            let cc1 = u::to_upper(c1);
                            let cc2 = u::to_upper(c2);
                            if cc1 != cc2 && u::to_lower(cc1) != u::to_lower(cc2) {
                                return Flow::Fail;
                            }
                        } else if ascii_to_lower(c1) != ascii_to_lower(c2) {
                            return Flow::Fail;
                        }
                    }
                }
                Flow::Go(next, i + size)
            }
            Kind::Pos { cond } => self.call_atom(*cond, i, Cont::Pos { next, i }),
            Kind::Neg { cond } => self.call_atom(*cond, i, Cont::Neg { next, i }),
            Kind::Behind { rmax, rmin, .. } => {
                let from = ((i as i32).wrapping_sub(*rmax) as i64).max(0);
                let saved = self.lookbehind_to;
                self.lookbehind_to = i as i64;
                let j = (i as i32).wrapping_sub(*rmin) as i64;
                self.behind_try(pc, i, j, from, saved)
            }
            Kind::LookBehindEnd => {
                if i as i64 == self.lookbehind_to {
                    Flow::AtomOk
                } else {
                    Flow::Fail
                }
            }
            Kind::Bound { ty, uword } => {
                if i > to {
                    return Flow::Fail;
                }
                if self.bound_check(i, *uword) & *ty > 0 {
                    Flow::Go(next, i)
                } else {
                    Flow::Fail
                }
            }
        }
    }

    fn is_word(ch: u32, uword: bool) -> bool {
        if uword {
            super::classes::prop_is(super::classes::Prop::Word, ch)
        } else {
            ch == '_' as u32 || u::is_letter_or_digit(ch)
        }
    }

    fn has_base_character(&self, i: usize) -> bool {
        let mut x = i as i64;
        while x >= 0 {
            let ch = self.input[x as usize];
            if u::is_letter_or_digit(ch) {
                return true;
            }
            if u::get_type(ch) == u::NON_SPACING_MARK {
                x -= 1;
                continue;
            }
            return false;
        }
        false
    }

    fn bound_check(&self, i: usize, uword: bool) -> u8 {
        let mut left = false;
        if i > 0 {
            let ch = self.input[i - 1];
            left = Self::is_word(ch, uword)
                || (u::get_type(ch) == u::NON_SPACING_MARK && self.has_base_character(i - 1));
        }
        let mut right = false;
        if i < self.to {
            let ch = self.input[i];
            right = Self::is_word(ch, uword)
                || (u::get_type(ch) == u::NON_SPACING_MARK && self.has_base_character(i));
        }
        if left ^ right {
            if right { BOUND_LEFT } else { BOUND_RIGHT }
        } else {
            BOUND_NONE
        }
    }

    fn branch(&mut self, pc: usize, n: usize, i: usize) -> Flow {
        let Kind::Branch { atoms, conn } = &self.prog.nodes[pc].kind else {
            return Flow::Fail;
        };
        if n + 1 < atoms.len() {
            self.push(Frame::Choice(Choice::Branch {
                node: pc,
                n: n + 1,
                i,
            }));
        }
        match atoms[n] {
            None => Flow::Go(self.prog.nodes[*conn].next, i),
            Some(a) => Flow::Go(a, i),
        }
    }

    fn behind_try(&mut self, node: usize, i: usize, j: i64, from: i64, saved: i64) -> Flow {
        let Kind::Behind { cond, neg, .. } = self.prog.nodes[node].kind else {
            return Flow::Fail;
        };
        let next = self.prog.nodes[node].next;
        // Positions past the end cannot start a match (Java would index out of range).
        let mut j = j;
        while j > self.to as i64 && j >= from {
            j -= 1;
        }
        if j >= from {
            return self.call_atom(
                cond,
                j as usize,
                Cont::Behind {
                    node,
                    i,
                    j,
                    from,
                    saved,
                },
            );
        }
        self.lookbehind_to = saved;
        if neg { Flow::Go(next, i) } else { Flow::Fail }
    }

    fn loop_init(&mut self, lp: usize, i: usize) -> Flow {
        let Kind::Loop {
            body,
            count,
            cmin,
            cmax,
            lazy,
            ..
        } = self.prog.nodes[lp].kind
        else {
            return Flow::Fail;
        };
        let next = self.prog.nodes[lp].next;
        self.push(Frame::UndoLocal {
            idx: count,
            val: self.locals[count],
            always: true,
        });
        if lazy {
            if 0 < cmin {
                self.locals[count] = 1;
                return Flow::Go(body, i);
            }
            self.push(Frame::Choice(Choice::LazyInitAlt { node: lp, i }));
            return Flow::Go(next, i);
        }
        if 0 < cmin {
            self.locals[count] = 1;
            Flow::Go(body, i)
        } else if 0 < cmax {
            self.locals[count] = 1;
            self.push(Frame::Choice(Choice::Go { pc: next, i }));
            Flow::Go(body, i)
        } else {
            Flow::Go(next, i)
        }
    }

    // ------------------------------------------------------------ Curly

    fn curly_parts(&self, node: usize) -> (usize, i32, i32, Qtype, usize) {
        match self.prog.nodes[node].kind {
            Kind::Curly {
                atom,
                cmin,
                cmax,
                qtype,
            } => (atom, cmin, cmax, qtype, self.prog.nodes[node].next),
            _ => (NONE, 0, 0, Qtype::Greedy, NONE),
        }
    }

    fn curly_min(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let (atom, cmin, _, qtype, _) = self.curly_parts(node);
        if j < cmin {
            return self.call_atom(atom, i, Cont::CurlyMin { node, j });
        }
        match qtype {
            Qtype::Greedy => self.c0(node, i, j),
            Qtype::Lazy => self.c1(node, i, j),
            _ => self.c2(node, i, j),
        }
    }

    fn c0(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let (atom, _, cmax, _, next) = self.curly_parts(node);
        if j >= cmax {
            return Flow::Go(next, i);
        }
        self.call_atom(atom, i, Cont::C0First { node, i, j, bl: j })
    }

    fn c0_loop(&mut self, node: usize, i: usize, j: i32, k: usize, bl: i32) -> Flow {
        let (atom, _, cmax, _, _) = self.curly_parts(node);
        if j < cmax {
            return self.call_atom(atom, i, Cont::C0Iter { node, i, j, k, bl });
        }
        self.c0_back(node, i, j, k, bl)
    }

    fn c0_back(&mut self, node: usize, i: usize, j: i32, k: usize, bl: i32) -> Flow {
        if j >= bl {
            let next = self.prog.nodes[node].next;
            self.push(Frame::Choice(Choice::C0BackNext { node, i, j, k, bl }));
            return Flow::Go(next, i);
        }
        Flow::Fail
    }

    fn c1(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let next = self.prog.nodes[node].next;
        self.push(Frame::Choice(Choice::C1Alt { node, i, j }));
        Flow::Go(next, i)
    }

    fn c2(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let (atom, _, cmax, _, next) = self.curly_parts(node);
        if j >= cmax {
            return Flow::Go(next, i);
        }
        self.call_atom(atom, i, Cont::C2Atom { node, i, j })
    }

    // ------------------------------------------------------------ GroupCurly

    fn gc_parts(&self, node: usize) -> (usize, i32, i32, Qtype, usize, bool, usize) {
        match self.prog.nodes[node].kind {
            Kind::GroupCurly {
                atom,
                cmin,
                cmax,
                qtype,
                group,
                capture,
                ..
            } => (
                atom,
                cmin,
                cmax,
                qtype,
                group,
                capture,
                self.prog.nodes[node].next,
            ),
            _ => (NONE, 0, 0, Qtype::Greedy, 0, false, NONE),
        }
    }

    fn gc_min(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let (atom, cmin, _, qtype, _, _, _) = self.gc_parts(node);
        if j < cmin {
            return self.call_atom(atom, i, Cont::GcMin { node, i, j });
        }
        match qtype {
            Qtype::Greedy => self.gc0_start(node, i, j, j),
            Qtype::Lazy => self.gc1(node, i, j),
            _ => self.gc2(node, i, j),
        }
    }

    fn gc0_start(&mut self, node: usize, i: usize, j: i32, min: i32) -> Flow {
        let (atom, _, cmax, _, group, capture, _) = self.gc_parts(node);
        let (s0, s1) = if capture {
            (self.groups[group], self.groups[group + 1])
        } else {
            (0, 0)
        };
        if j >= cmax {
            return self.gc0_final(node, i, s0, s1);
        }
        self.call_atom(
            atom,
            i,
            Cont::Gc0First {
                node,
                i,
                j,
                min,
                s0,
                s1,
            },
        )
    }

    fn gc0_final(&mut self, node: usize, i: usize, s0: i64, s1: i64) -> Flow {
        let (_, _, _, _, group, capture, next) = self.gc_parts(node);
        if capture {
            self.set_group(group, s0, s1);
        }
        Flow::Go(next, i)
    }

    #[allow(clippy::too_many_arguments)]
    fn gc0_inner(
        &mut self,
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        min: i32,
        s0: i64,
        s1: i64,
    ) -> Flow {
        let (atom, _, cmax, _, group, capture, _) = self.gc_parts(node);
        if capture {
            self.set_group(group, i as i64, (i + k) as i64);
        }
        let i = i + k;
        let j = j + 1;
        if j >= cmax {
            return self.gc0_back(node, i, j, k, min, s0, s1);
        }
        self.call_atom(
            atom,
            i,
            Cont::Gc0Inner {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn gc0_back(
        &mut self,
        node: usize,
        i: usize,
        j: i32,
        k: usize,
        min: i32,
        s0: i64,
        s1: i64,
    ) -> Flow {
        if j > min {
            let next = self.prog.nodes[node].next;
            self.push(Frame::Choice(Choice::Gc0BackNext {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            }));
            return Flow::Go(next, i);
        }
        self.gc0_final(node, i, s0, s1)
    }

    fn gc1(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let next = self.prog.nodes[node].next;
        self.push(Frame::Choice(Choice::Gc1Alt { node, i, j }));
        Flow::Go(next, i)
    }

    fn gc2(&mut self, node: usize, i: usize, j: i32) -> Flow {
        let (atom, _, cmax, _, _, _, next) = self.gc_parts(node);
        if j >= cmax {
            return Flow::Go(next, i);
        }
        self.call_atom(atom, i, Cont::Gc2Atom { node, i, j })
    }

    // ------------------------------------------------------------ continuations

    fn atom_success(&mut self, c: Cont) -> Flow {
        let last = self.last.max(0) as usize;
        match c {
            Cont::Then { next } => Flow::Go(next, last),
            Cont::QuesPoss { next, .. } => Flow::Go(next, last),
            Cont::CurlyMin { node, j, .. } => self.curly_min(node, last, j + 1),
            Cont::C0First { node, i, j, bl } => {
                let k = last.saturating_sub(i);
                if last <= i {
                    let next = self.prog.nodes[node].next;
                    return Flow::Go(next, i);
                }
                self.c0_loop(node, last, j + 1, k, bl)
            }
            Cont::C0Iter { node, i, j, k, bl } => {
                if i + k != last {
                    self.push(Frame::Choice(Choice::C0BackResume { node, i, j, k, bl }));
                    return self.c0(node, last, j + 1);
                }
                self.c0_loop(node, i + k, j + 1, k, bl)
            }
            Cont::C1Atom { node, i, j } => {
                if i == last {
                    return Flow::Fail;
                }
                self.c1(node, last, j + 1)
            }
            Cont::C2Atom { node, i, j } => {
                if i == last {
                    let next = self.prog.nodes[node].next;
                    return Flow::Go(next, i);
                }
                self.c2(node, last, j + 1)
            }
            Cont::GcMin { node, i, j } => {
                let (_, _, _, _, group, capture, _) = self.gc_parts(node);
                if capture {
                    self.set_group(group, i as i64, last as i64);
                }
                self.gc_min(node, last, j + 1)
            }
            Cont::Gc0First {
                node,
                i,
                j,
                min,
                s0,
                s1,
            } => {
                if last <= i {
                    // k <= 0: record the (empty) iteration, then fall to the tail.
                    let (_, _, _, _, group, capture, _) = self.gc_parts(node);
                    if capture {
                        self.set_group(group, i as i64, last as i64);
                    }
                    return self.gc0_final(node, last, s0, s1);
                }
                self.gc0_inner(node, i, j, last - i, min, s0, s1)
            }
            Cont::Gc0Inner {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            } => {
                if i + k != last {
                    self.push(Frame::Choice(Choice::Gc0BackResume {
                        node,
                        i,
                        j,
                        k,
                        min,
                        s0,
                        s1,
                    }));
                    return self.gc0_start(node, i, j, j);
                }
                self.gc0_inner(node, i, j, k, min, s0, s1)
            }
            Cont::Gc1Atom { node, i, j } => {
                if i == last {
                    return Flow::Fail;
                }
                let (_, _, _, _, group, capture, _) = self.gc_parts(node);
                if capture {
                    self.set_group(group, i as i64, last as i64);
                }
                self.gc1(node, last, j + 1)
            }
            Cont::Gc2Atom { node, i, j } => {
                let (_, _, _, _, group, capture, next) = self.gc_parts(node);
                if capture {
                    self.set_group(group, i as i64, last as i64);
                }
                if i == last {
                    return Flow::Go(next, i);
                }
                self.gc2(node, last, j + 1)
            }
            Cont::Pos { next, i } => Flow::Go(next, i),
            Cont::Neg { .. } => Flow::Fail,
            Cont::Behind { node, i, saved, .. } => {
                self.lookbehind_to = saved;
                let Kind::Behind { neg, .. } = self.prog.nodes[node].kind else {
                    return Flow::Fail;
                };
                if neg {
                    Flow::Fail
                } else {
                    Flow::Go(self.prog.nodes[node].next, i)
                }
            }
        }
    }

    fn atom_failure(&mut self, c: Cont) -> Option<Flow> {
        match c {
            Cont::QuesPoss { next, i } => Some(Flow::Go(next, i)),
            Cont::C0First { node, i, .. } => Some(Flow::Go(self.prog.nodes[node].next, i)),
            Cont::C0Iter { node, i, j, k, bl } => Some(self.c0_back(node, i, j, k, bl)),
            Cont::C2Atom { node, i, .. } => Some(Flow::Go(self.prog.nodes[node].next, i)),
            Cont::Gc0First {
                node, i, s0, s1, ..
            } => Some(self.gc0_final(node, i, s0, s1)),
            Cont::Gc0Inner {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            } => Some(self.gc0_back(node, i, j, k, min, s0, s1)),
            Cont::Gc2Atom { node, i, .. } => Some(Flow::Go(self.prog.nodes[node].next, i)),
            Cont::Neg { next, i } => Some(Flow::Go(next, i)),
            Cont::Behind {
                node,
                i,
                j,
                from,
                saved,
            } => {
                // lookbehind_to is still i here (the failed attempt restored everything else).
                Some(self.behind_try(node, i, j - 1, from, saved))
            }
            Cont::Then { .. }
            | Cont::CurlyMin { .. }
            | Cont::C1Atom { .. }
            | Cont::GcMin { .. }
            | Cont::Gc1Atom { .. }
            | Cont::Pos { .. } => None,
        }
        .filter(|f| !matches!(f, Flow::Fail))
    }

    fn choice(&mut self, c: Choice) -> Option<Flow> {
        let f = match c {
            Choice::Branch { node, n, i } => self.branch(node, n, i),
            Choice::Go { pc, i } => Flow::Go(pc, i),
            Choice::QuesLazy { node, i } => {
                let Kind::Ques { atom, .. } = self.prog.nodes[node].kind else {
                    return None;
                };
                let next = self.prog.nodes[node].next;
                self.call_atom(atom, i, Cont::Then { next })
            }
            Choice::Cpg { node, i, n } => {
                let Kind::CharPropertyGreedy { cmin, .. } = self.prog.nodes[node].kind else {
                    return None;
                };
                let (i, n) = (i - 1, n - 1);
                if n > cmin as i64 {
                    self.push(Frame::Choice(Choice::Cpg { node, i, n }));
                }
                Flow::Go(self.prog.nodes[node].next, i)
            }
            Choice::C0BackNext { node, i, j, k, bl } => {
                if j > bl {
                    self.c0_back(node, i - k, j - 1, k, bl)
                } else {
                    Flow::Fail
                }
            }
            Choice::C0BackResume { node, i, j, k, bl } => self.c0_back(node, i, j, k, bl),
            Choice::C1Alt { node, i, j } => {
                let (atom, _, cmax, _, _) = self.curly_parts(node);
                if j >= cmax {
                    return None;
                }
                self.call_atom(atom, i, Cont::C1Atom { node, i, j })
            }
            Choice::Gc0BackNext {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            } => {
                let i = i - k;
                let (_, _, _, _, group, capture, _) = self.gc_parts(node);
                if capture {
                    self.set_group(group, i as i64 - k as i64, i as i64);
                }
                self.gc0_back(node, i, j - 1, k, min, s0, s1)
            }
            Choice::Gc0BackResume {
                node,
                i,
                j,
                k,
                min,
                s0,
                s1,
            } => self.gc0_back(node, i, j, k, min, s0, s1),
            Choice::Gc1Alt { node, i, j } => {
                let (atom, _, cmax, _, _, _, _) = self.gc_parts(node);
                if j >= cmax {
                    return None;
                }
                self.call_atom(atom, i, Cont::Gc1Atom { node, i, j })
            }
            Choice::LoopAlt { node, i, count } => {
                let Kind::Loop {
                    count: ci,
                    pos_index,
                    ..
                } = self.prog.nodes[node].kind
                else {
                    return None;
                };
                self.locals[ci] = count;
                if let Some(p) = pos_index {
                    self.memo[p].insert(i);
                }
                Flow::Go(self.prog.nodes[node].next, i)
            }
            Choice::LazyLoopAlt { node, i, count } => {
                let Kind::Loop {
                    count: ci,
                    cmax,
                    body,
                    ..
                } = self.prog.nodes[node].kind
                else {
                    return None;
                };
                if count < cmax as i64 {
                    self.push(Frame::UndoLocal {
                        idx: ci,
                        val: count,
                        always: false,
                    });
                    self.locals[ci] = count + 1;
                    Flow::Go(body, i)
                } else {
                    Flow::Fail
                }
            }
            Choice::LazyInitAlt { node, i } => {
                let Kind::Loop {
                    count: ci,
                    cmax,
                    body,
                    ..
                } = self.prog.nodes[node].kind
                else {
                    return None;
                };
                if 0 < cmax {
                    self.locals[ci] = 1;
                    Flow::Go(body, i)
                } else {
                    Flow::Fail
                }
            }
        };
        if matches!(f, Flow::Fail) {
            None
        } else {
            Some(f)
        }
    }
}
