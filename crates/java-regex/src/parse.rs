//! The pattern parser: a line-by-line port of the recursive-descent parser in OpenJDK 17's
//! java/util/regex/Pattern.java (`compile`, `RemoveQEQuoting`, `expr`, `sequence`, `atom`,
//! `escape`, `clazz`, `range`, `family`, `group0`, `closure`, ...), building the same node
//! graph (`Node`/`Kind` mirror Pattern's inner `Node` classes) so that error messages, error
//! indices and match semantics come out as Java's. Cursor arithmetic is kept as in Java
//! (code points after `\Q..\E` rewriting, two zero code points terminating the pattern).

use super::PatternError;
use super::classes::{self as cls, Pred};
use super::unicode as u;

// Pattern flag bits.
pub(super) const UNIX_LINES: u32 = 0x01;
pub(super) const CASE_INSENSITIVE: u32 = 0x02;
pub(super) const COMMENTS: u32 = 0x04;
pub(super) const MULTILINE: u32 = 0x08;
pub(super) const DOTALL: u32 = 0x20;
pub(super) const UNICODE_CASE: u32 = 0x40;
pub(super) const CANON_EQ: u32 = 0x80;
pub(super) const UNICODE_CHARACTER_CLASS: u32 = 0x100;

pub(super) const MAX_REPS: i32 = 0x7FFF_FFFF;
pub(super) const NONE: usize = usize::MAX;
/// Index of Pattern.accept (ends atoms, lookarounds, ...).
pub(super) const ACCEPT: usize = 0;
/// Index of Pattern.lastAccept (ends the whole pattern).
pub(super) const LAST_ACCEPT: usize = 1;

/// Nesting depth (groups and classes) beyond which we refuse a pattern instead of
/// risking the native stack. Java's own limit is its thread stack size; real patterns
/// stay far below this.
const MAX_NESTING: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Qtype {
    Greedy,
    Lazy,
    Possessive,
    Independent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SliceMode {
    Exact,
    /// SliceI: ASCII case-insensitive, buffer lower-cased.
    AsciiCi,
    /// SliceU: Unicode case-insensitive, buffer as toLowerCase(toUpperCase(c)).
    UnicodeCi,
}

#[derive(Clone, Debug)]
pub(super) enum Kind {
    Accept,
    LastAccept,
    Begin,
    End,
    Caret,
    UnixCaret,
    LastMatch,
    Dollar(bool),
    UnixDollar(bool),
    LineEnding,
    CharProperty(Pred),
    /// CANON_EQ's NFCCharProperty: matched like CharProperty (see KNOWN limitations).
    NfcCharProperty(Pred),
    XGrapheme,
    GraphemeBound,
    Slice(Box<[u32]>, SliceMode),
    Ques {
        atom: usize,
        qtype: Qtype,
    },
    CharPropertyGreedy {
        pred: Pred,
        cmin: i32,
    },
    Curly {
        atom: usize,
        cmin: i32,
        cmax: i32,
        qtype: Qtype,
    },
    GroupCurly {
        atom: usize,
        cmin: i32,
        cmax: i32,
        qtype: Qtype,
        local: usize,
        group: usize,
        capture: bool,
    },
    BranchConn,
    Branch {
        atoms: Vec<Option<usize>>,
        conn: usize,
    },
    GroupHead {
        local: usize,
    },
    GroupTail {
        local: usize,
        group: usize,
    },
    Prolog {
        lp: usize,
    },
    Loop {
        body: usize,
        count: usize,
        begin: usize,
        cmin: i32,
        cmax: i32,
        pos_index: Option<usize>,
        lazy: bool,
    },
    BackRef {
        group: usize,
    },
    CiBackRef {
        group: usize,
        unicode: bool,
    },
    Pos {
        cond: usize,
    },
    Neg {
        cond: usize,
    },
    Behind {
        cond: usize,
        rmax: i32,
        rmin: i32,
        neg: bool,
    },
    LookBehindEnd,
    Bound {
        ty: u8,
        uword: bool,
    },
}

pub(super) const BOUND_LEFT: u8 = 1;
pub(super) const BOUND_RIGHT: u8 = 2;
pub(super) const BOUND_BOTH: u8 = 3;
pub(super) const BOUND_NONE: u8 = 4;

#[derive(Clone, Debug)]
pub(super) struct Node {
    pub kind: Kind,
    pub next: usize,
    /// Matcher steps one visit costs beyond the first (a large character class).
    pub cost: u32,
}

/// A compiled pattern: the node graph and what the matcher needs to size its state.
#[derive(Clone, Debug)]
pub(super) struct Program {
    pub nodes: Vec<Node>,
    pub match_root: usize,
    /// Start node's minLength (TreeInfo of matchRoot), for find().
    pub min_length: i32,
    /// capturingGroupCount (group 0 included).
    pub group_count: usize,
    pub local_count: usize,
    pub memo_count: usize,
    pub named_groups: std::collections::HashMap<String, usize>,
}

#[derive(Clone, Copy, Debug)]
struct TreeInfo {
    min_length: i32,
    max_length: i32,
    max_valid: bool,
    deterministic: bool,
}

impl TreeInfo {
    fn new() -> Self {
        TreeInfo {
            min_length: 0,
            max_length: 0,
            max_valid: true,
            deterministic: true,
        }
    }
    fn reset(&mut self) {
        *self = TreeInfo::new();
    }
}

type R<T> = Result<T, PatternError>;

struct Parser<'a> {
    pattern: &'a str,
    temp: Vec<i32>,
    cursor: usize,
    pattern_length: usize,
    flags0: u32,
    nodes: Vec<Node>,
    root: usize,
    predicate: Option<Pred>,
    buffer: Vec<i32>,
    capturing_group_count: usize,
    local_count: usize,
    named_groups: std::collections::HashMap<String, usize>,
    has_group_ref: bool,
    top_closure_nodes: Vec<usize>,
    depth: usize,
}

pub(super) fn compile(pattern: &str) -> R<Program> {
    let mut p = Parser {
        pattern,
        temp: Vec::new(),
        cursor: 0,
        pattern_length: 0,
        flags0: 0,
        nodes: vec![
            Node {
                kind: Kind::Accept,
                next: NONE,
                cost: 0,
            },
            Node {
                kind: Kind::LastAccept,
                next: ACCEPT,
                cost: 0,
            },
        ],
        root: NONE,
        predicate: None,
        buffer: Vec::new(),
        capturing_group_count: 1,
        local_count: 0,
        named_groups: std::collections::HashMap::new(),
        has_group_ref: false,
        top_closure_nodes: Vec::new(),
        depth: 0,
    };
    let match_root = if pattern.is_empty() {
        LAST_ACCEPT
    } else {
        p.compile()?
    };
    let mut info = TreeInfo::new();
    p.study(match_root, &mut info, 0)?;
    let mut memo_count = 0;
    if !p.has_group_ref {
        for &n in &p.top_closure_nodes {
            if let Kind::Loop {
                pos_index,
                lazy: false,
                ..
            } = &mut p.nodes[n].kind
            {
                *pos_index = Some(memo_count);
                memo_count += 1;
            }
        }
    }
    Ok(Program {
        nodes: p.nodes,
        match_root,
        min_length: info.min_length,
        group_count: p.capturing_group_count,
        local_count: p.local_count,
        memo_count,
        named_groups: p.named_groups,
    })
}

fn ch_str(ch: i32) -> String {
    // Java's (char) cast of a code point, as used in some messages.
    let unit = (ch as u32) & 0xffff;
    char::from_u32(unit)
        .map(String::from)
        .unwrap_or_else(|| "\u{fffd}".to_string())
}

fn is_ascii_digit(ch: i32) -> bool {
    (b'0' as i32..=b'9' as i32).contains(&ch)
}

fn is_hex(ch: i32) -> bool {
    cls::ascii_is(ch, cls::HEX)
}

fn to_digit(ch: i32) -> i32 {
    match ch as u8 {
        b'0'..=b'9' => ch - b'0' as i32,
        b'a'..=b'f' => ch - b'a' as i32 + 10,
        _ => ch - b'A' as i32 + 10,
    }
}

impl Parser<'_> {
    fn has(&self, f: u32) -> bool {
        self.flags0 & f != 0
    }

    fn t(&self, i: usize) -> i32 {
        self.temp.get(i).copied().unwrap_or(0)
    }

    fn error(&self, s: impl Into<String>) -> PatternError {
        PatternError {
            description: s.into(),
            index: self.cursor as i64 - 1,
            pattern: self.pattern.to_string(),
        }
    }

    fn add(&mut self, mut kind: Kind) -> usize {
        let mut cost = 0;
        if let Kind::CharProperty(p)
        | Kind::NfcCharProperty(p)
        | Kind::CharPropertyGreedy { pred: p, .. } = &mut kind
        {
            *p = std::mem::replace(p, Pred::All).optimize();
            cost = u32::try_from(p.cost() - 1).unwrap_or(u32::MAX);
        }
        self.nodes.push(Node {
            kind,
            next: ACCEPT,
            cost,
        });
        self.nodes.len() - 1
    }

    fn accept(&mut self, ch: i32, s: &str) -> R<()> {
        let mut test = self.t(self.cursor);
        self.cursor += 1;
        if self.has(COMMENTS) {
            test = self.parse_past_whitespace(test);
        }
        if ch != test {
            return Err(self.error(s));
        }
        Ok(())
    }

    fn mark(&mut self, c: i32) {
        let i = self.pattern_length;
        if i < self.temp.len() {
            self.temp[i] = c;
        }
    }

    fn peek(&mut self) -> i32 {
        let ch = self.t(self.cursor);
        if self.has(COMMENTS) {
            self.peek_past_whitespace(ch)
        } else {
            ch
        }
    }

    fn read(&mut self) -> i32 {
        let ch = self.t(self.cursor);
        self.cursor += 1;
        if self.has(COMMENTS) {
            self.parse_past_whitespace(ch)
        } else {
            ch
        }
    }

    fn next(&mut self) -> i32 {
        self.cursor += 1;
        let ch = self.t(self.cursor);
        if self.has(COMMENTS) {
            self.peek_past_whitespace(ch)
        } else {
            ch
        }
    }

    fn next_escaped(&mut self) -> i32 {
        self.cursor += 1;
        self.t(self.cursor)
    }

    fn peek_past_whitespace(&mut self, mut ch: i32) -> i32 {
        while cls::ascii_is(ch, cls::SPACE) || ch == '#' as i32 {
            while cls::ascii_is(ch, cls::SPACE) {
                self.cursor += 1;
                ch = self.t(self.cursor);
            }
            if ch == '#' as i32 {
                ch = self.peek_past_line();
            }
        }
        ch
    }

    fn parse_past_whitespace(&mut self, mut ch: i32) -> i32 {
        while cls::ascii_is(ch, cls::SPACE) || ch == '#' as i32 {
            while cls::ascii_is(ch, cls::SPACE) {
                ch = self.t(self.cursor);
                self.cursor += 1;
            }
            if ch == '#' as i32 {
                ch = self.parse_past_line();
            }
        }
        ch
    }

    fn parse_past_line(&mut self) -> i32 {
        let mut ch = self.t(self.cursor);
        self.cursor += 1;
        while ch != 0 && !self.is_line_separator(ch) {
            ch = self.t(self.cursor);
            self.cursor += 1;
        }
        if ch == 0 && self.cursor > self.pattern_length {
            self.cursor = self.pattern_length;
            ch = self.t(self.cursor);
            self.cursor += 1;
        }
        ch
    }

    fn peek_past_line(&mut self) -> i32 {
        self.cursor += 1;
        let mut ch = self.t(self.cursor);
        while ch != 0 && !self.is_line_separator(ch) {
            self.cursor += 1;
            ch = self.t(self.cursor);
        }
        if ch == 0 && self.cursor > self.pattern_length {
            self.cursor = self.pattern_length;
            ch = self.t(self.cursor);
        }
        ch
    }

    fn is_line_separator(&self, ch: i32) -> bool {
        if self.has(UNIX_LINES) {
            ch == '\n' as i32
        } else {
            ch == '\n' as i32 || ch == '\r' as i32 || (ch | 1) == 0x2029 || ch == 0x85
        }
    }

    fn skip(&mut self) -> i32 {
        let i = self.cursor;
        let ch = self.t(i + 1);
        self.cursor = i + 2;
        ch
    }

    fn unread(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    fn remove_qe_quoting(&mut self) {
        let p_len = self.pattern_length;
        let temp = &self.temp;
        let mut i = 0;
        while i + 1 < p_len {
            if temp[i] != '\\' as i32 {
                i += 1;
            } else if temp[i + 1] != 'Q' as i32 {
                i += 2;
            } else {
                break;
            }
        }
        if i + 1 >= p_len {
            return;
        }
        let mut j = i;
        i += 2;
        let mut newtemp: Vec<i32> = Vec::with_capacity(j + 2 + 3 * (p_len - i));
        newtemp.extend_from_slice(&temp[..j]);
        let t = |k: usize| temp.get(k).copied().unwrap_or(0);
        let mut in_quote = true;
        let mut begin_quote = true;
        while i < p_len {
            let c = t(i);
            i += 1;
            if !(0..128).contains(&c) || cls::ascii_is(c, cls::ALPHA) {
                newtemp.push(c);
            } else if is_ascii_digit(c) {
                if begin_quote {
                    newtemp.extend_from_slice(&['\\' as i32, 'x' as i32, '3' as i32]);
                }
                newtemp.push(c);
            } else if c != '\\' as i32 {
                if in_quote {
                    newtemp.push('\\' as i32);
                }
                newtemp.push(c);
            } else if in_quote {
                if t(i) == 'E' as i32 {
                    i += 1;
                    in_quote = false;
                } else {
                    newtemp.push('\\' as i32);
                    newtemp.push('\\' as i32);
                }
            } else if t(i) == 'Q' as i32 {
                i += 1;
                in_quote = true;
                begin_quote = true;
                continue;
            } else {
                newtemp.push(c);
                if i != p_len {
                    newtemp.push(t(i));
                    i += 1;
                }
            }
            begin_quote = false;
        }
        j = newtemp.len();
        self.pattern_length = j;
        newtemp.push(0);
        newtemp.push(0);
        self.temp = newtemp;
    }

    fn compile(&mut self) -> R<usize> {
        self.temp = self.pattern.chars().map(|c| c as i32).collect();
        self.pattern_length = self.temp.len();
        self.temp.push(0);
        self.temp.push(0);
        self.remove_qe_quoting();
        let match_root = self.expr(LAST_ACCEPT)?;
        if self.pattern_length != self.cursor {
            if self.peek() == ')' as i32 {
                return Err(self.error("Unmatched closing ')'"));
            }
            return Err(self.error("Unexpected internal error"));
        }
        Ok(match_root)
    }

    fn expr(&mut self, end: usize) -> R<usize> {
        let mut prev: usize = NONE;
        let mut first_tail: usize = NONE;
        let mut branch: usize = NONE;
        let mut branch_conn: usize = NONE;
        loop {
            let node = self.sequence(end)?;
            let node_tail = self.root;
            if prev == NONE {
                prev = node;
                first_tail = node_tail;
            } else {
                if branch_conn == NONE {
                    branch_conn = self.add(Kind::BranchConn);
                    self.nodes[branch_conn].next = end;
                }
                let atom = if node == end {
                    None
                } else {
                    self.nodes[node_tail].next = branch_conn;
                    Some(node)
                };
                if prev == branch {
                    if let Kind::Branch { atoms, .. } = &mut self.nodes[branch].kind {
                        atoms.push(atom);
                    }
                } else {
                    let first = if prev == end {
                        None
                    } else {
                        self.nodes[first_tail].next = branch_conn;
                        Some(prev)
                    };
                    branch = self.add(Kind::Branch {
                        atoms: vec![first, atom],
                        conn: branch_conn,
                    });
                    prev = branch;
                }
            }
            if self.peek() != '|' as i32 {
                return Ok(prev);
            }
            self.next();
        }
    }

    fn char_property(&mut self, pred: Pred) -> usize {
        if self.has(CANON_EQ) {
            self.add(Kind::NfcCharProperty(pred))
        } else {
            self.add(Kind::CharProperty(pred))
        }
    }

    fn sequence(&mut self, end: usize) -> R<usize> {
        let mut head = NONE;
        let mut tail = NONE;
        loop {
            let ch = self.peek();
            let node;
            match ch {
                0x28 /* ( */ => {
                    let Some(n) = self.group0()? else { continue };
                    if head == NONE {
                        head = n;
                    } else {
                        self.nodes[tail].next = n;
                    }
                    tail = self.root;
                    continue;
                }
                0x5b /* [ */ => {
                    self.depth_enter()?;
                    let p = self.clazz(true)?;
                    self.depth -= 1;
                    node = self.char_property(p);
                }
                0x5c /* \ */ => {
                    let c = self.next_escaped();
                    if c == 'p' as i32 || c == 'P' as i32 {
                        let mut one_letter = true;
                        let comp = c == 'P' as i32;
                        let c2 = self.next();
                        if c2 != '{' as i32 {
                            self.unread();
                        } else {
                            one_letter = false;
                        }
                        let p = self.family(one_letter, comp)?;
                        node = self.char_property(p);
                    } else {
                        self.unread();
                        node = self.atom()?;
                    }
                }
                0x5e /* ^ */ => {
                    self.next();
                    node = if self.has(MULTILINE) {
                        if self.has(UNIX_LINES) { self.add(Kind::UnixCaret) } else { self.add(Kind::Caret) }
                    } else {
                        self.add(Kind::Begin)
                    };
                }
                0x24 /* $ */ => {
                    self.next();
                    let m = self.has(MULTILINE);
                    node = if self.has(UNIX_LINES) {
                        self.add(Kind::UnixDollar(m))
                    } else {
                        self.add(Kind::Dollar(m))
                    };
                }
                0x2e /* . */ => {
                    self.next();
                    let p = if self.has(DOTALL) {
                        Pred::All
                    } else if self.has(UNIX_LINES) {
                        Pred::UnixDot
                    } else {
                        Pred::Dot
                    };
                    node = self.add(Kind::CharProperty(p));
                }
                0x7c | 0x29 /* | ) */ => break,
                0x5d | 0x7d /* ] } */ => node = self.atom()?,
                0x3f | 0x2a | 0x2b /* ? * + */ => {
                    self.next();
                    return Err(self.error(format!("Dangling meta character '{}'", ch_str(ch))));
                }
                0 if self.cursor >= self.pattern_length => break,
                _ => node = self.atom()?,
            }
            let node = self.closure(node)?;
            if head == NONE {
                head = node;
                tail = node;
            } else {
                self.nodes[tail].next = node;
                tail = node;
            }
        }
        if head == NONE {
            return Ok(end);
        }
        self.nodes[tail].next = end;
        self.root = tail;
        Ok(head)
    }

    fn depth_enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("Pattern nesting too deep"));
        }
        Ok(())
    }

    fn atom(&mut self) -> R<usize> {
        let mut first = 0usize;
        let mut prev: usize = NONE;
        let mut ch = self.peek();
        self.buffer.clear();
        loop {
            match ch {
                0x2a | 0x2b | 0x3f | 0x7b /* * + ? { */ => {
                    if first > 1 {
                        self.cursor = prev;
                        first -= 1;
                        self.buffer.truncate(first);
                    }
                    break;
                }
                0x24 | 0x2e | 0x5e | 0x28 | 0x5b | 0x7c | 0x29 => break,
                0x5c /* \ */ => {
                    ch = self.next_escaped();
                    if ch == 'p' as i32 || ch == 'P' as i32 {
                        if first > 0 {
                            self.unread();
                            break;
                        }
                        let comp = ch == 'P' as i32;
                        let mut one_letter = true;
                        ch = self.next();
                        if ch != '{' as i32 {
                            self.unread();
                        } else {
                            one_letter = false;
                        }
                        let p = self.family(one_letter, comp)?;
                        return Ok(self.char_property(p));
                    }
                    self.unread();
                    prev = self.cursor;
                    ch = self.escape(false, first == 0, false)?;
                    if ch >= 0 {
                        self.buffer.push(ch);
                        first += 1;
                        ch = self.peek();
                        continue;
                    } else if first == 0 {
                        return Ok(self.root);
                    }
                    self.cursor = prev;
                    break;
                }
                0 if self.cursor >= self.pattern_length => break,
                _ => {
                    prev = self.cursor;
                    self.buffer.push(ch);
                    first += 1;
                    ch = self.next();
                    continue;
                }
            }
        }
        if first == 1 {
            let p = self.single(self.buffer[0]);
            Ok(self.char_property(p))
        } else {
            let buf = std::mem::take(&mut self.buffer);
            Ok(self.new_slice(&buf[..first]))
        }
    }

    fn new_slice(&mut self, buf: &[i32]) -> usize {
        let (mode, tmp): (SliceMode, Vec<u32>) = if self.has(CASE_INSENSITIVE) {
            if self.has(UNICODE_CASE) {
                (
                    SliceMode::UnicodeCi,
                    buf.iter()
                        .map(|&c| u::to_lower(u::to_upper(c as u32)))
                        .collect(),
                )
            } else {
                (
                    SliceMode::AsciiCi,
                    buf.iter().map(|&c| cls::ascii_to_lower(c as u32)).collect(),
                )
            }
        } else {
            (SliceMode::Exact, buf.iter().map(|&c| c as u32).collect())
        };
        self.add(Kind::Slice(tmp.into_boxed_slice(), mode))
    }

    fn ref_(&mut self, mut ref_num: usize) -> usize {
        loop {
            let ch = self.peek();
            if !is_ascii_digit(ch) {
                break;
            }
            let new_ref = ref_num * 10 + (ch - '0' as i32) as usize;
            if self.capturing_group_count - 1 < new_ref {
                break;
            }
            ref_num = new_ref;
            self.read();
        }
        self.has_group_ref = true;
        if self.has(CASE_INSENSITIVE) {
            let unicode = self.has(UNICODE_CASE);
            self.add(Kind::CiBackRef {
                group: ref_num * 2,
                unicode,
            })
        } else {
            self.add(Kind::BackRef { group: ref_num * 2 })
        }
    }

    fn set_pred(&mut self, p: Pred, inclass: bool) {
        if !inclass {
            self.root = self.char_property_plain(p.clone());
        }
        self.predicate = Some(p);
    }

    fn char_property_plain(&mut self, p: Pred) -> usize {
        self.add(Kind::CharProperty(p))
    }

    fn escape(&mut self, inclass: bool, create: bool, isrange: bool) -> R<i32> {
        let ch = self.skip();
        let uc = self.has(UNICODE_CHARACTER_CLASS);
        let c = ch as u32;
        let ok = |n: i32| -> R<i32> { Ok(n) };
        match char::from_u32(c).unwrap_or('\0') {
            '0' => return self.o(),
            '1'..='9' => {
                if !inclass {
                    if create {
                        self.root = self.ref_((ch - '0' as i32) as usize);
                    }
                    return ok(-1);
                }
            }
            'A' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::Begin);
                    }
                    return ok(-1);
                }
            }
            'B' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::Bound {
                            ty: BOUND_NONE,
                            uword: uc,
                        });
                    }
                    return ok(-1);
                }
            }
            'D' | 'S' | 'W' | 'd' | 's' | 'w' | 'H' | 'h' | 'V' => {
                if create {
                    let p = match c as u8 {
                        b'd' | b'D' => {
                            if uc {
                                Pred::Prop(cls::Prop::Digit)
                            } else {
                                Pred::Ctype(cls::DIGIT)
                            }
                        }
                        b's' | b'S' => {
                            if uc {
                                Pred::Prop(cls::Prop::WhiteSpace)
                            } else {
                                Pred::Ctype(cls::SPACE)
                            }
                        }
                        b'w' | b'W' => {
                            if uc {
                                Pred::Prop(cls::Prop::Word)
                            } else {
                                Pred::Ctype(cls::WORD)
                            }
                        }
                        b'h' | b'H' => Pred::HorizWs,
                        _ => Pred::VertWs,
                    };
                    let p = if (c as u8).is_ascii_uppercase() {
                        p.negate()
                    } else {
                        p
                    };
                    self.set_pred(p, inclass);
                }
                return ok(-1);
            }
            'v' => {
                if isrange {
                    return ok(0x0b);
                }
                if create {
                    self.set_pred(Pred::VertWs, inclass);
                }
                return ok(-1);
            }
            'G' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::LastMatch);
                    }
                    return ok(-1);
                }
            }
            'N' => return self.n_escape(),
            'R' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::LineEnding);
                    }
                    return ok(-1);
                }
            }
            'X' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::XGrapheme);
                    }
                    return ok(-1);
                }
            }
            'Z' => {
                if !inclass {
                    if create {
                        self.root = if self.has(UNIX_LINES) {
                            self.add(Kind::UnixDollar(false))
                        } else {
                            self.add(Kind::Dollar(false))
                        };
                    }
                    return ok(-1);
                }
            }
            'a' => return ok(0x07),
            'b' => {
                if !inclass {
                    if create {
                        if self.peek() == '{' as i32 {
                            if self.skip() == 'g' as i32 {
                                if self.read() == '}' as i32 {
                                    self.root = self.add(Kind::GraphemeBound);
                                    return ok(-1);
                                }
                                return Err(self.error("Illegal/unsupported escape sequence"));
                            }
                            self.unread();
                            self.unread();
                        }
                        self.root = self.add(Kind::Bound {
                            ty: BOUND_BOTH,
                            uword: uc,
                        });
                    }
                    return ok(-1);
                }
            }
            'c' => return self.c(),
            'e' => return ok(0x1b),
            'f' => return ok(0x0c),
            'k' => {
                if !inclass {
                    if self.read() != '<' as i32 {
                        return Err(
                            self.error("\\k is not followed by '<' for named capturing group")
                        );
                    }
                    let c0 = self.read();
                    let name = self.groupname(c0)?;
                    let Some(&g) = self.named_groups.get(&name) else {
                        return Err(
                            self.error(format!("named capturing group <{name}> does not exist"))
                        );
                    };
                    if create {
                        self.has_group_ref = true;
                        self.root = if self.has(CASE_INSENSITIVE) {
                            let unicode = self.has(UNICODE_CASE);
                            self.add(Kind::CiBackRef {
                                group: g * 2,
                                unicode,
                            })
                        } else {
                            self.add(Kind::BackRef { group: g * 2 })
                        };
                    }
                    return ok(-1);
                }
            }
            'n' => return ok(0x0a),
            'r' => return ok(0x0d),
            't' => return ok(0x09),
            'u' => return self.u_escape(),
            'x' => return self.x(),
            'z' => {
                if !inclass {
                    if create {
                        self.root = self.add(Kind::End);
                    }
                    return ok(-1);
                }
            }
            'C' | 'E' | 'F' | 'I' | 'J' | 'K' | 'L' | 'M' | 'O' | 'P' | 'Q' | 'T' | 'U' | 'Y'
            | 'g' | 'i' | 'j' | 'l' | 'm' | 'o' | 'p' | 'q' | 'y' => {}
            _ => return ok(ch),
        }
        Err(self.error("Illegal/unsupported escape sequence"))
    }

    fn clazz(&mut self, consume: bool) -> R<Pred> {
        let mut prev: Option<Pred> = None;
        // Java's `curr`; `None` is Java's null (a BitClass-consumed range).
        let mut curr: Option<Pred> = None;
        let mut bits = [0u64; 4];
        let mut has_bits = false;
        let mut is_neg = false;
        let mut ch = self.next();
        if ch == '^' as i32 && self.t(self.cursor - 1) == '[' as i32 {
            ch = self.next();
            is_neg = true;
        }
        loop {
            match ch {
                0x5b /* [ */ => {
                    self.depth_enter()?;
                    let c = self.clazz(true)?;
                    self.depth -= 1;
                    curr = Some(c.clone());
                    prev = Some(match prev {
                        None => c,
                        Some(p) => p.union(c),
                    });
                    ch = self.peek();
                    continue;
                }
                0x26 /* & */ => {
                    ch = self.next();
                    if ch == '&' as i32 {
                        ch = self.next();
                        let mut right: Option<Pred> = None;
                        while ch != ']' as i32 && ch != '&' as i32 {
                            self.depth_enter()?;
                            let c = if ch == '[' as i32 {
                                self.clazz(true)?
                            } else {
                                self.unread();
                                self.clazz(false)?
                            };
                            self.depth -= 1;
                            right = Some(match right {
                                None => c,
                                Some(r) => r.union(c),
                            });
                            ch = self.peek();
                        }
                        if has_bits {
                            let b = Pred::Bits(Box::new(bits));
                            match prev {
                                None => {
                                    prev = Some(b.clone());
                                    curr = Some(b);
                                }
                                Some(p) => prev = Some(p.union(b)),
                            }
                            has_bits = false;
                        }
                        if let Some(r) = &right {
                            curr = Some(r.clone());
                        }
                        match prev.take() {
                            None => match right {
                                None => return Err(self.error("Bad class syntax")),
                                Some(r) => prev = Some(r),
                            },
                            Some(p) => {
                                // Java: prev.and(curr); a null curr would throw at match
                                // time, which we approximate by matching nothing there.
                                let c = curr.clone().unwrap_or_else(|| Pred::All.negate());
                                prev = Some(p.and(c));
                            }
                        }
                        continue;
                    }
                    self.unread();
                }
                0 if self.cursor >= self.pattern_length => {
                    return Err(self.error("Unclosed character class"));
                }
                0x5d /* ] */ if prev.is_some() || has_bits => {
                    if consume {
                        self.next();
                    }
                    let mut p = match prev {
                        None => Pred::Bits(Box::new(bits)),
                        Some(p) if has_bits => p.union(Pred::Bits(Box::new(bits))),
                        Some(p) => p,
                    };
                    if is_neg {
                        p = p.negate();
                    }
                    return Ok(p);
                }
                _ => {}
            }
            curr = self.range(&mut bits)?;
            match &curr {
                None => has_bits = true,
                Some(c) => {
                    prev = Some(match prev {
                        None => c.clone(),
                        Some(p) => p.union(c.clone()),
                    })
                }
            }
            ch = self.peek();
        }
    }

    fn bits_or_single(&mut self, bits: &mut [u64; 4], ch: i32) -> Option<Pred> {
        let ci = self.has(CASE_INSENSITIVE);
        let uc = self.has(UNICODE_CASE);
        if ch < 256
            && !(ci
                && uc
                && matches!(
                    ch,
                    0xff | 0xb5 | 0x49 | 0x69 | 0x53 | 0x73 | 0x4b | 0x6b | 0xc5 | 0xe5
                ))
        {
            let mut set = |c: u32| bits[(c >> 6) as usize] |= 1u64 << (c & 63);
            let c = ch as u32;
            if ci {
                if c < 128 {
                    set(cls::ascii_to_upper(c));
                    set(cls::ascii_to_lower(c));
                } else if uc {
                    set(u::to_lower(c));
                    set(u::to_upper(c));
                }
            }
            set(c);
            return None;
        }
        Some(self.single(ch))
    }

    fn single(&self, ch: i32) -> Pred {
        let c = ch as u32;
        if self.has(CASE_INSENSITIVE) {
            if self.has(UNICODE_CASE) {
                let upper = u::to_upper(c);
                let lower = u::to_lower(upper);
                if upper != lower {
                    return Pred::SingleU(lower);
                }
            } else if c < 128 {
                let lower = cls::ascii_to_lower(c);
                let upper = cls::ascii_to_upper(c);
                if lower != upper {
                    return Pred::SingleI(lower, upper);
                }
            }
        }
        Pred::Single(c)
    }

    fn range(&mut self, bits: &mut [u64; 4]) -> R<Option<Pred>> {
        let mut ch = self.peek();
        if ch == '\\' as i32 {
            ch = self.next_escaped();
            if ch == 'p' as i32 || ch == 'P' as i32 {
                let comp = ch == 'P' as i32;
                let mut one_letter = true;
                ch = self.next();
                if ch != '{' as i32 {
                    self.unread();
                } else {
                    one_letter = false;
                }
                return Ok(Some(self.family(one_letter, comp)?));
            }
            let isrange = self.t(self.cursor + 1) == '-' as i32;
            self.unread();
            ch = self.escape(true, true, isrange)?;
            if ch == -1 {
                return Ok(self.predicate.take());
            }
        } else {
            self.next();
        }
        if ch >= 0 {
            if self.peek() == '-' as i32 {
                let end_range = self.t(self.cursor + 1);
                if end_range == '[' as i32 {
                    return Ok(self.bits_or_single(bits, ch));
                }
                if end_range != ']' as i32 {
                    self.next();
                    let mut m = self.peek();
                    if m == '\\' as i32 {
                        m = self.escape(true, false, true)?;
                    } else {
                        self.next();
                    }
                    if m < ch {
                        return Err(self.error("Illegal character range"));
                    }
                    let (lo, hi) = (ch as u32, m as u32);
                    return Ok(Some(if self.has(CASE_INSENSITIVE) {
                        if self.has(UNICODE_CASE) {
                            Pred::CiRangeU(lo, hi)
                        } else {
                            Pred::CiRange(lo, hi)
                        }
                    } else {
                        Pred::Range(lo, hi)
                    }));
                }
            }
            return Ok(self.bits_or_single(bits, ch));
        }
        Err(self.error(format!("Unexpected character '{}'", ch_str(ch))))
    }

    fn family(&mut self, single_letter: bool, is_complement: bool) -> R<Pred> {
        self.next();
        let name: String;
        if single_letter {
            let c = self.t(self.cursor);
            name = char::from_u32(c as u32)
                .map(String::from)
                .unwrap_or_default();
            self.read();
        } else {
            let i = self.cursor;
            self.mark('}' as i32);
            while self.read() != '}' as i32 {}
            self.mark(0);
            let j = self.cursor;
            if j > self.pattern_length {
                return Err(self.error("Unclosed character family"));
            }
            if i + 1 >= j {
                return Err(self.error("Empty character family"));
            }
            name = self.temp[i..j - 1]
                .iter()
                .map(|&c| char::from_u32(c as u32).unwrap_or('\u{fffd}'))
                .collect();
        }
        let ci = self.has(CASE_INSENSITIVE);
        let p: Option<Pred>;
        if let Some(eq) = name.find('=') {
            let value = &name[eq + 1..];
            let key = name[..eq].to_lowercase();
            p = match key.as_str() {
                "sc" | "script" => cls::for_unicode_script(value),
                "blk" | "block" => cls::for_unicode_block(value),
                "gc" | "general_category" => cls::for_property(value, ci),
                _ => None,
            };
            if p.is_none() {
                return Err(self.error(format!(
                    "Unknown Unicode property {{name=<{key}>, value=<{value}>}}"
                )));
            }
        } else {
            if let Some(rest) = name.strip_prefix("In") {
                p = cls::for_unicode_block(rest);
            } else if let Some(short) = name.strip_prefix("Is") {
                p = cls::for_unicode_property(short, ci)
                    .or_else(|| cls::for_property(short, ci))
                    .or_else(|| cls::for_unicode_script(short));
            } else {
                let mut q = None;
                if self.has(UNICODE_CHARACTER_CLASS) {
                    q = cls::for_posix_name(&name, ci);
                }
                p = q.or_else(|| cls::for_property(&name, ci));
            }
            if p.is_none() {
                return Err(self.error(format!("Unknown character property name {{{name}}}")));
            }
        }
        let p = p.expect("checked above");
        Ok(if is_complement { p.negate() } else { p })
    }

    fn groupname(&mut self, mut ch: i32) -> R<String> {
        let mut sb = String::new();
        if !cls::ascii_is(ch, cls::ALPHA) {
            return Err(self.error("capturing group name does not start with a Latin letter"));
        }
        loop {
            sb.push(ch as u8 as char);
            ch = self.read();
            if !cls::ascii_is(ch, cls::ALNUM) {
                break;
            }
        }
        if ch != '>' as i32 {
            return Err(self.error("named capturing group is missing trailing '>'"));
        }
        Ok(sb)
    }

    fn create_group(&mut self, anonymous: bool) -> usize {
        let local = self.local_count;
        self.local_count += 1;
        let mut group = 0;
        if !anonymous {
            group = self.capturing_group_count;
            self.capturing_group_count += 1;
        }
        let head = self.add(Kind::GroupHead { local });
        self.root = self.add(Kind::GroupTail {
            local,
            group: group * 2,
        });
        head
    }

    fn group0(&mut self) -> R<Option<usize>> {
        self.depth_enter()?;
        let r = self.group0_inner();
        self.depth -= 1;
        r
    }

    fn group0_inner(&mut self) -> R<Option<usize>> {
        let mut capturing_group = false;
        let mut head: usize;
        let mut tail: usize;
        let save = self.flags0;
        let save_tcn = self.top_closure_nodes.len();
        self.root = NONE;
        let mut ch = self.next();
        if ch == '?' as i32 {
            ch = self.skip();
            match ch {
                0x3a /* : */ => {
                    head = self.create_group(true);
                    tail = self.root;
                    let e = self.expr(tail)?;
                    self.nodes[head].next = e;
                }
                0x3d | 0x21 /* = ! */ => {
                    head = self.create_group(true);
                    tail = self.root;
                    let e = self.expr(tail)?;
                    self.nodes[head].next = e;
                    head = if ch == '=' as i32 {
                        self.add(Kind::Pos { cond: head })
                    } else {
                        self.add(Kind::Neg { cond: head })
                    };
                    tail = head;
                }
                0x3e /* > */ => {
                    head = self.create_group(true);
                    tail = self.root;
                    let e = self.expr(tail)?;
                    self.nodes[head].next = e;
                    head = self.add(Kind::Ques { atom: head, qtype: Qtype::Independent });
                    tail = head;
                }
                0x3c /* < */ => {
                    ch = self.read();
                    if ch != '=' as i32 && ch != '!' as i32 {
                        let name = self.groupname(ch)?;
                        if self.named_groups.contains_key(&name) {
                            return Err(self.error(format!("Named capturing group <{name}> is already defined")));
                        }
                        capturing_group = true;
                        head = self.create_group(false);
                        tail = self.root;
                        self.named_groups.insert(name, self.capturing_group_count - 1);
                        let e = self.expr(tail)?;
                        self.nodes[head].next = e;
                    } else {
                        head = self.create_group(true);
                        tail = self.root;
                        let e = self.expr(tail)?;
                        self.nodes[head].next = e;
                        let lbe = self.add(Kind::LookBehindEnd);
                        self.nodes[tail].next = lbe;
                        let mut info = TreeInfo::new();
                        self.study(head, &mut info, 0)?;
                        if !info.max_valid {
                            return Err(self.error("Look-behind group does not have an obvious maximum length"));
                        }
                        head = self.add(Kind::Behind {
                            cond: head,
                            rmax: info.max_length,
                            rmin: info.min_length,
                            neg: ch == '!' as i32,
                        });
                        tail = head;
                        self.top_closure_nodes.truncate(save_tcn);
                    }
                }
                0x24 | 0x40 /* $ @ */ => return Err(self.error("Unknown group type")),
                _ => {
                    self.unread();
                    self.add_flag();
                    ch = self.read();
                    if ch == ')' as i32 {
                        return Ok(None);
                    }
                    if ch != ':' as i32 {
                        return Err(self.error("Unknown inline modifier"));
                    }
                    head = self.create_group(true);
                    tail = self.root;
                    let e = self.expr(tail)?;
                    self.nodes[head].next = e;
                }
            }
        } else {
            capturing_group = true;
            head = self.create_group(false);
            tail = self.root;
            let e = self.expr(tail)?;
            self.nodes[head].next = e;
        }
        self.accept(')' as i32, "Unclosed group")?;
        self.flags0 = save;

        let node = self.closure(head)?;
        if node == head {
            self.root = tail;
            return Ok(Some(node));
        }
        if head == tail {
            self.root = node;
            return Ok(Some(node));
        }
        self.top_closure_nodes.truncate(save_tcn);
        match self.nodes[node].kind.clone() {
            Kind::Ques { qtype, .. } => {
                if qtype == Qtype::Possessive {
                    self.root = node;
                    return Ok(Some(node));
                }
                let conn = self.add(Kind::BranchConn);
                self.nodes[tail].next = conn;
                tail = conn;
                let atoms = if qtype == Qtype::Greedy {
                    vec![Some(head), None]
                } else {
                    vec![None, Some(head)]
                };
                let b = self.add(Kind::Branch { atoms, conn: tail });
                self.root = tail;
                Ok(Some(b))
            }
            Kind::Curly {
                cmin, cmax, qtype, ..
            } => {
                if qtype == Qtype::Possessive {
                    self.root = node;
                    return Ok(Some(node));
                }
                let mut info = TreeInfo::new();
                if self.study(head, &mut info, 0)? {
                    let Kind::GroupTail { local, group } = self.nodes[tail].kind else {
                        return Err(self.error("Internal logic error"));
                    };
                    let atom = self.nodes[head].next;
                    let gc = self.add(Kind::GroupCurly {
                        atom,
                        cmin,
                        cmax,
                        qtype,
                        local,
                        group,
                        capture: capturing_group,
                    });
                    self.root = gc;
                    Ok(Some(gc))
                } else {
                    let Kind::GroupHead { local: begin } = self.nodes[head].kind else {
                        return Err(self.error("Internal logic error"));
                    };
                    let count = self.local_count;
                    self.local_count += 1;
                    let lp = self.add(Kind::Loop {
                        body: head,
                        count,
                        begin,
                        cmin,
                        cmax,
                        pos_index: None,
                        lazy: qtype != Qtype::Greedy,
                    });
                    if qtype == Qtype::Greedy && cmax == MAX_REPS {
                        self.top_closure_nodes.push(lp);
                    }
                    let prolog = self.add(Kind::Prolog { lp });
                    self.nodes[tail].next = lp;
                    self.root = lp;
                    Ok(Some(prolog))
                }
            }
            _ => Err(self.error("Internal logic error")),
        }
    }

    fn add_flag(&mut self) {
        let mut ch = self.peek();
        loop {
            match ch as u8 {
                _ if !(0..128).contains(&ch) => return,
                b'i' => self.flags0 |= CASE_INSENSITIVE,
                b'm' => self.flags0 |= MULTILINE,
                b's' => self.flags0 |= DOTALL,
                b'd' => self.flags0 |= UNIX_LINES,
                b'u' => self.flags0 |= UNICODE_CASE,
                b'c' => self.flags0 |= CANON_EQ,
                b'x' => self.flags0 |= COMMENTS,
                b'U' => self.flags0 |= UNICODE_CHARACTER_CLASS | UNICODE_CASE,
                b'-' => {
                    self.next();
                    self.sub_flag();
                    return;
                }
                _ => return,
            }
            ch = self.next();
        }
    }

    fn sub_flag(&mut self) {
        let mut ch = self.peek();
        loop {
            match ch as u8 {
                _ if !(0..128).contains(&ch) => return,
                b'i' => self.flags0 &= !CASE_INSENSITIVE,
                b'm' => self.flags0 &= !MULTILINE,
                b's' => self.flags0 &= !DOTALL,
                b'd' => self.flags0 &= !UNIX_LINES,
                b'u' => self.flags0 &= !UNICODE_CASE,
                b'c' => self.flags0 &= !CANON_EQ,
                b'x' => self.flags0 &= !COMMENTS,
                b'U' => self.flags0 &= !(UNICODE_CHARACTER_CLASS | UNICODE_CASE),
                _ => return,
            }
            ch = self.next();
        }
    }

    fn qtype(&mut self) -> Qtype {
        let ch = self.next();
        if ch == '?' as i32 {
            self.next();
            Qtype::Lazy
        } else if ch == '+' as i32 {
            self.next();
            Qtype::Possessive
        } else {
            Qtype::Greedy
        }
    }

    fn curly(&mut self, prev: usize, cmin: i32) -> usize {
        let qtype = self.qtype();
        if qtype == Qtype::Greedy
            && let Kind::CharProperty(p) = &self.nodes[prev].kind
        {
            let pred = p.clone();
            return self.add(Kind::CharPropertyGreedy { pred, cmin });
        }
        self.add(Kind::Curly {
            atom: prev,
            cmin,
            cmax: MAX_REPS,
            qtype,
        })
    }

    fn closure(&mut self, prev: usize) -> R<usize> {
        let ch = self.peek();
        match ch {
            0x3f /* ? */ => {
                let qtype = self.qtype();
                Ok(self.add(Kind::Ques { atom: prev, qtype }))
            }
            0x2a /* * */ => Ok(self.curly(prev, 0)),
            0x2b /* + */ => Ok(self.curly(prev, 1)),
            0x7b /* { */ => {
                let mut ch = self.skip();
                if is_ascii_digit(ch) {
                    let mut cmin: i32 = 0;
                    let cmax: i32;
                    let overflow = |s: &Self| s.error("Illegal repetition range");
                    loop {
                        cmin = cmin
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(ch - '0' as i32))
                            .ok_or_else(|| overflow(self))?;
                        ch = self.read();
                        if !is_ascii_digit(ch) {
                            break;
                        }
                    }
                    if ch == ',' as i32 {
                        ch = self.read();
                        if ch == '}' as i32 {
                            self.unread();
                            return Ok(self.curly(prev, cmin));
                        }
                        let mut m: i32 = 0;
                        while is_ascii_digit(ch) {
                            m = m
                                .checked_mul(10)
                                .and_then(|v| v.checked_add(ch - '0' as i32))
                                .ok_or_else(|| overflow(self))?;
                            ch = self.read();
                        }
                        cmax = m;
                    } else {
                        cmax = cmin;
                    }
                    if ch != '}' as i32 {
                        return Err(self.error("Unclosed counted closure"));
                    }
                    if cmax < cmin {
                        return Err(self.error("Illegal repetition range"));
                    }
                    self.unread();
                    let qtype = self.qtype();
                    Ok(if cmin == 0 && cmax == 1 {
                        self.add(Kind::Ques { atom: prev, qtype })
                    } else {
                        self.add(Kind::Curly { atom: prev, cmin, cmax, qtype })
                    })
                } else {
                    Err(self.error("Illegal repetition"))
                }
            }
            _ => Ok(prev),
        }
    }

    fn c(&mut self) -> R<i32> {
        if self.cursor < self.pattern_length {
            return Ok(self.read() ^ 64);
        }
        Err(self.error("Illegal control escape sequence"))
    }

    fn o(&mut self) -> R<i32> {
        let is_oct = |c: i32| (b'0' as i32..=b'7' as i32).contains(&c);
        let n = self.read();
        if is_oct(n) {
            let m = self.read();
            if is_oct(m) {
                let o = self.read();
                if is_oct(o) && (b'0' as i32..=b'3' as i32).contains(&n) {
                    return Ok((n - 48) * 64 + (m - 48) * 8 + (o - 48));
                }
                self.unread();
                return Ok((n - 48) * 8 + (m - 48));
            }
            self.unread();
            return Ok(n - 48);
        }
        Err(self.error("Illegal octal escape sequence"))
    }

    fn x(&mut self) -> R<i32> {
        let n = self.read();
        if is_hex(n) {
            let m = self.read();
            if is_hex(m) {
                return Ok(to_digit(n) * 16 + to_digit(m));
            }
        } else if n == '{' as i32 && is_hex(self.peek()) {
            let mut ch: i32 = 0;
            let mut n;
            loop {
                n = self.read();
                if !is_hex(n) {
                    break;
                }
                ch = (ch << 4) + to_digit(n);
                if ch > 0x10FFFF {
                    return Err(self.error("Hexadecimal codepoint is too big"));
                }
            }
            if n != '}' as i32 {
                return Err(self.error("Unclosed hexadecimal escape sequence"));
            }
            return Ok(ch);
        }
        Err(self.error("Illegal hexadecimal escape sequence"))
    }

    fn uxxxx(&mut self) -> R<i32> {
        let mut n = 0;
        for _ in 0..4 {
            let ch = self.read();
            if !is_hex(ch) {
                return Err(self.error("Illegal Unicode escape sequence"));
            }
            n = n * 16 + to_digit(ch);
        }
        Ok(n)
    }

    fn u_escape(&mut self) -> R<i32> {
        let n = self.uxxxx()?;
        if (0xd800..=0xdbff).contains(&n) {
            let cur = self.cursor;
            if self.read() == '\\' as i32 && self.read() == 'u' as i32 {
                let n2 = self.uxxxx()?;
                if (0xdc00..=0xdfff).contains(&n2) {
                    return Ok(0x10000 + ((n - 0xd800) << 10) + (n2 - 0xdc00));
                }
            }
            self.cursor = cur;
        }
        Ok(n)
    }

    /// `\N{name}`: Java looks the name up with Character.codePointOf. We do not carry the
    /// Unicode name table; names are refused as unknown (see KNOWN limitations in mod.rs).
    fn n_escape(&mut self) -> R<i32> {
        if self.read() == '{' as i32 {
            let i = self.cursor;
            while self.read() != '}' as i32 {
                if self.cursor >= self.pattern_length {
                    return Err(self.error("Unclosed character name escape sequence"));
                }
            }
            let name: String = self.temp[i..self.cursor - 1]
                .iter()
                .map(|&c| char::from_u32(c as u32).unwrap_or('?'))
                .collect();
            return Err(self.error(format!("Unknown character name [{name}]")));
        }
        Err(self.error("Illegal character name escape sequence"))
    }

    // ------------------------------------------------------------------ study

    /// Node.study over the chain starting at `node` (TreeInfo with Java's int arithmetic).
    /// Java recurses into `conn.next` after a Branch and adjusts the result on return; the
    /// adjustments are kept in `pending` and applied at the end of the chain instead, so a
    /// long sequence of alternations needs no native stack.
    fn study(&self, mut node: usize, info: &mut TreeInfo, depth: usize) -> R<bool> {
        if depth > 4 * MAX_NESTING + 100 {
            return Err(PatternError {
                description: "Pattern too complex".into(),
                index: -1,
                pattern: self.pattern.to_string(),
            });
        }
        let mut pending: Vec<(i32, i32, bool)> = Vec::new();
        loop {
            if node == NONE {
                break;
            }
            let n = &self.nodes[node];
            match &n.kind {
                Kind::LineEnding => {
                    info.min_length = info.min_length.wrapping_add(1);
                    info.max_length = info.max_length.wrapping_add(2);
                }
                Kind::CharProperty(_) => {
                    info.min_length = info.min_length.wrapping_add(1);
                    info.max_length = info.max_length.wrapping_add(1);
                }
                Kind::NfcCharProperty(_) | Kind::XGrapheme => {
                    info.min_length = info.min_length.wrapping_add(1);
                    info.deterministic = false;
                }
                Kind::Slice(buf, _) => {
                    info.min_length = info.min_length.wrapping_add(buf.len() as i32);
                    info.max_length = info.max_length.wrapping_add(buf.len() as i32);
                }
                Kind::Ques { atom, qtype } => {
                    if *qtype != Qtype::Independent {
                        let min_l = info.min_length;
                        self.study(*atom, info, depth + 1)?;
                        info.min_length = min_l;
                        info.deterministic = false;
                    } else {
                        self.study(*atom, info, depth + 1)?;
                    }
                }
                Kind::CharPropertyGreedy { cmin, .. } => {
                    info.min_length = info.min_length.wrapping_add(*cmin);
                    if info.max_valid {
                        info.max_length = info.max_length.wrapping_add(MAX_REPS);
                    }
                    info.deterministic = false;
                }
                Kind::Curly {
                    atom, cmin, cmax, ..
                }
                | Kind::GroupCurly {
                    atom, cmin, cmax, ..
                } => {
                    let min_l = info.min_length;
                    let max_l = info.max_length;
                    let max_v = info.max_valid;
                    let detm = info.deterministic;
                    info.reset();
                    self.study(*atom, info, depth + 1)?;
                    let mut temp = info.min_length.wrapping_mul(*cmin).wrapping_add(min_l);
                    if temp < min_l {
                        temp = 0xFFFFFFF;
                    }
                    info.min_length = temp;
                    if max_v & info.max_valid {
                        let temp = info.max_length.wrapping_mul(*cmax).wrapping_add(max_l);
                        info.max_length = temp;
                        if temp < max_l {
                            info.max_valid = false;
                        }
                    } else {
                        info.max_valid = false;
                    }
                    if info.deterministic && cmin == cmax {
                        info.deterministic = detm;
                    } else {
                        info.deterministic = false;
                    }
                }
                Kind::BranchConn => break,
                Kind::Branch { atoms, conn } => {
                    let mut min_l = info.min_length;
                    let mut max_l = info.max_length;
                    let mut max_v = info.max_valid;
                    let mut min_l2 = i32::MAX;
                    let mut max_l2 = -1i32;
                    for a in atoms {
                        info.reset();
                        if let Some(a) = a {
                            self.study(*a, info, depth + 1)?;
                        }
                        min_l2 = min_l2.min(info.min_length);
                        max_l2 = max_l2.max(info.max_length);
                        max_v &= info.max_valid;
                    }
                    min_l = min_l.wrapping_add(min_l2);
                    max_l = max_l.wrapping_add(max_l2);
                    info.reset();
                    pending.push((min_l, max_l, max_v));
                    node = self.nodes[*conn].next;
                    continue;
                }
                Kind::Prolog { .. } | Kind::Loop { .. } => {
                    info.max_valid = false;
                    info.deterministic = false;
                    break;
                }
                Kind::BackRef { .. } | Kind::CiBackRef { .. } => {
                    info.max_valid = false;
                }
                _ => {}
            }
            node = n.next;
        }
        while let Some((min_l, max_l, max_v)) = pending.pop() {
            info.min_length = info.min_length.wrapping_add(min_l);
            info.max_length = info.max_length.wrapping_add(max_l);
            info.max_valid &= max_v;
            info.deterministic = false;
        }
        Ok(info.deterministic)
    }
}
