//! The token manager of Velocity 1.7's JavaCC grammar (`src/parser/Parser.jjt`), ported
//! state for state.
//!
//! Velocity's whitespace and newline rules live almost entirely in its lexer: `#set` eats
//! the spaces before it only when they start a token, a directive's `)` eats the spaces
//! and one newline after it, `#else`/`#end` eat a following newline, `$` and `#` are
//! "MORE" prefixes glued to whatever token follows, reference terminators are special
//! tokens whose `$`/`#` characters reappear in the next text. Rather than approximate
//! those rules, this module reproduces the token manager: the same lexical states, the
//! same regular expressions matched longest-first with ties going to the earlier
//! declaration, the same MORE/SKIP/SPECIAL_TOKEN handling and the same lexical actions
//! (the paren counting and the state stack). The parser drives it token by token and,
//! like Velocity's parser, switches its state in two places.

use std::fmt;

/// Lexical states (Parser.jjt names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Default,
    PreDirective,
    Directive,
    Reference,
    RefModifier,
    RefMod2,
    RefIndex,
    InSingleLineComment,
    InFormalComment,
    InMultiLineComment,
    InTextblock,
}

/// Token kinds, in the grammar's declaration order (which breaks ties between
/// equally long matches).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    IndexLBracket,
    IndexRBracket,
    LBracket,
    RBracket,
    Comma,
    DoubleDot,
    Colon,
    LeftCurley,
    RightCurley,
    LParen,
    RParen,
    RefMod2RParen,
    EscapeDirective,
    SetDirective,
    Dollar,
    DollarBang,
    TextblockStart,
    FormalCommentStart,
    MultiLineCommentStart,
    Hash,
    SingleLineCommentStart,
    DoubleEscape,
    Escape,
    Text,
    SingleLineComment,
    FormalComment,
    MultiLineComment,
    Textblock,
    SkipAny,
    MoreAny,
    Whitespace,
    StringLiteral,
    True,
    False,
    Newline,
    Minus,
    Plus,
    Multiply,
    Divide,
    Modulus,
    LogicalAnd,
    LogicalOr,
    LogicalLt,
    LogicalLe,
    LogicalGt,
    LogicalGe,
    LogicalEquals,
    LogicalNotEquals,
    LogicalNot,
    Equals,
    End,
    IfDirective,
    ElseIfDirective,
    ElseDirective,
    IntegerLiteral,
    FloatingPointLiteral,
    Word,
    BracketedWord,
    Identifier,
    Dot,
    LCurly,
    RCurly,
    ReferenceTerminator,
    DirectiveTerminator,
    EmptyIndex,
    Eof,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Token,
    Special,
    Skip,
    More,
}

fn class(k: Kind) -> Class {
    use Kind::*;
    match k {
        Dollar
        | DollarBang
        | TextblockStart
        | FormalCommentStart
        | MultiLineCommentStart
        | Hash
        | MoreAny => Class::More,
        SkipAny => Class::Skip,
        ReferenceTerminator | DirectiveTerminator => Class::Special,
        _ => Class::Token,
    }
}

/// The regular expressions active in each state, in declaration order.
fn candidates(s: State) -> &'static [Kind] {
    use Kind::*;
    match s {
        State::Default => &[
            EscapeDirective,
            SetDirective,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            SingleLineCommentStart,
            DoubleEscape,
            Escape,
            Text,
            EmptyIndex,
        ],
        State::PreDirective => &[
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            SingleLineCommentStart,
            End,
            IfDirective,
            ElseIfDirective,
            ElseDirective,
            IntegerLiteral,
            FloatingPointLiteral,
            Word,
            BracketedWord,
            DirectiveTerminator,
        ],
        State::Directive => &[
            LBracket,
            RBracket,
            Comma,
            DoubleDot,
            Colon,
            LeftCurley,
            RightCurley,
            LParen,
            RParen,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            SingleLineCommentStart,
            Whitespace,
            StringLiteral,
            True,
            False,
            Newline,
            Minus,
            Plus,
            Multiply,
            Divide,
            Modulus,
            LogicalAnd,
            LogicalOr,
            LogicalLt,
            LogicalLe,
            LogicalGt,
            LogicalGe,
            LogicalEquals,
            LogicalNotEquals,
            LogicalNot,
            Equals,
            IntegerLiteral,
            FloatingPointLiteral,
            Word,
            BracketedWord,
        ],
        State::Reference => &[
            IndexLBracket,
            SetDirective,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            SingleLineCommentStart,
            True,
            False,
            Identifier,
            Dot,
            LCurly,
            RCurly,
            ReferenceTerminator,
            EmptyIndex,
        ],
        State::RefModifier => &[
            IndexLBracket,
            LParen,
            SetDirective,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            True,
            False,
            Identifier,
            Dot,
            LCurly,
            RCurly,
            ReferenceTerminator,
        ],
        State::RefMod2 => &[
            LBracket,
            RBracket,
            Comma,
            DoubleDot,
            Colon,
            LeftCurley,
            RightCurley,
            RefMod2RParen,
            SetDirective,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            Whitespace,
            StringLiteral,
            True,
            False,
            IntegerLiteral,
            FloatingPointLiteral,
            Identifier,
            Dot,
        ],
        State::RefIndex => &[
            IndexRBracket,
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            Whitespace,
            StringLiteral,
            True,
            False,
            IntegerLiteral,
            FloatingPointLiteral,
        ],
        State::InSingleLineComment => &[
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            SingleLineComment,
            SkipAny,
        ],
        State::InFormalComment => &[
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            FormalComment,
            SkipAny,
        ],
        State::InMultiLineComment => &[
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            MultiLineComment,
            SkipAny,
        ],
        State::InTextblock => &[
            Dollar,
            DollarBang,
            TextblockStart,
            FormalCommentStart,
            MultiLineCommentStart,
            Hash,
            Textblock,
            MoreAny,
        ],
    }
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}
fn is_directive_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}
fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

const STATES: [State; 11] = [
    State::Default,
    State::PreDirective,
    State::Directive,
    State::Reference,
    State::RefModifier,
    State::RefMod2,
    State::RefIndex,
    State::InSingleLineComment,
    State::InFormalComment,
    State::InMultiLineComment,
    State::InTextblock,
];

/// Per lexical state and ASCII character, the candidates (bits: indexes into
/// [`candidates`], in declaration order) that [`may_start`] with that character.
static FIRST_CHAR: std::sync::LazyLock<[[u64; 128]; 11]> = std::sync::LazyLock::new(|| {
    let mut table = [[0u64; 128]; 11];
    for state in STATES {
        let all = candidates(state);
        assert!(all.len() <= 64, "a state has more candidates than bits");
        for (c, bits) in table[state as usize].iter_mut().enumerate() {
            for (i, &k) in all.iter().enumerate() {
                if may_start(k, Some(c as u8 as char)) {
                    *bits |= 1 << i;
                }
            }
        }
    }
    table
});

/// Whether `k`'s regular expression can match text starting with `c`: a cheap filter
/// before [`match_len`], which it must never contradict (`match_len > 0` implies
/// `may_start`; the test `may_start_never_hides_a_match` holds the two together).
fn may_start(k: Kind, c: Option<char>) -> bool {
    use Kind::*;
    let Some(c) = c else {
        return false;
    };
    match k {
        IndexLBracket | LBracket => c == '[',
        IndexRBracket | RBracket | Textblock => c == ']',
        Comma => c == ',',
        DoubleDot | Dot => c == '.',
        Colon => c == ':',
        LeftCurley | LCurly | BracketedWord => c == '{',
        RightCurley | RCurly => c == '}',
        LParen => c == '(',
        RParen | RefMod2RParen => c == ')',
        EscapeDirective | DoubleEscape | Escape => c == '\\',
        SetDirective => matches!(c, ' ' | '\t' | '#'),
        Dollar | DollarBang => matches!(c, '\\' | '$'),
        TextblockStart
        | FormalCommentStart
        | MultiLineCommentStart
        | Hash
        | SingleLineCommentStart => c == '#',
        Text => !matches!(c, '$' | '#' | '\\'),
        SingleLineComment | Newline => matches!(c, '\n' | '\r'),
        FormalComment | MultiLineComment | Multiply => c == '*',
        SkipAny | MoreAny | ReferenceTerminator | DirectiveTerminator => true,
        Whitespace => matches!(c, ' ' | '\t' | '\n' | '\r'),
        StringLiteral => matches!(c, '"' | '\''),
        True => c == 't',
        False => c == 'f',
        Minus => c == '-',
        Plus => c == '+',
        Divide => c == '/',
        Modulus => c == '%',
        LogicalAnd => matches!(c, '&' | 'a'),
        LogicalOr => matches!(c, '|' | 'o'),
        LogicalLt | LogicalLe => matches!(c, '<' | 'l'),
        LogicalGt | LogicalGe => matches!(c, '>' | 'g'),
        LogicalEquals => matches!(c, '=' | 'e'),
        LogicalNotEquals | LogicalNot => matches!(c, '!' | 'n'),
        Equals => c == '=',
        End | ElseDirective | ElseIfDirective => matches!(c, 'e' | '{'),
        IfDirective => matches!(c, 'i' | '{'),
        IntegerLiteral | FloatingPointLiteral => c == '-' || c == '.' || is_digit(c),
        Word => is_letter(c) || c == '_' || c == '@',
        Identifier => is_letter(c) || c == '_',
        EmptyIndex => c == '$',
        Eof => false,
    }
}

/// Length of the longest match of `k`'s regular expression at `p` (0: no match).
fn match_len(k: Kind, s: &[char], p: usize) -> usize {
    use Kind::*;
    let at = |i: usize| s.get(i).copied();
    let lit = |t: &str| -> usize {
        let mut i = p;
        for c in t.chars() {
            if at(i) != Some(c) {
                return 0;
            }
            i += 1;
        }
        i - p
    };
    let alt = |ts: &[&str]| ts.iter().map(|t| lit(t)).max().unwrap_or(0);
    // (" " | "\t")* ("\n" | "\r" | "\r\n"), optional: the length it adds at `i`.
    let opt_ws_newline = |i: usize| -> usize {
        let mut j = i;
        while matches!(at(j), Some(' ' | '\t')) {
            j += 1;
        }
        match at(j) {
            Some('\n') => j + 1 - i,
            Some('\r') => {
                if at(j + 1) == Some('\n') {
                    j + 2 - i
                } else {
                    j + 1 - i
                }
            }
            _ => 0,
        }
    };
    let word_at = |i: usize| -> usize {
        // <WORD> | <BRACKETED_WORD>, longest
        let mut best = 0;
        if let Some(c) = at(i)
            && (is_letter(c) || c == '_' || c == '@')
        {
            let mut j = i + 1;
            while at(j).is_some_and(is_directive_char) {
                j += 1;
            }
            best = j - i;
        }
        if at(i) == Some('{')
            && let Some(c) = at(i + 1)
            && (is_letter(c) || c == '_')
        {
            let mut j = i + 2;
            while at(j).is_some_and(is_directive_char) {
                j += 1;
            }
            if at(j) == Some('}') {
                best = best.max(j + 1 - i);
            }
        }
        best
    };
    match k {
        IndexLBracket | LBracket => lit("["),
        IndexRBracket | RBracket => lit("]"),
        Comma => lit(","),
        DoubleDot => lit(".."),
        Colon => lit(":"),
        LeftCurley | LCurly => lit("{"),
        RightCurley | RCurly => lit("}"),
        LParen => lit("("),
        RParen => {
            if at(p) == Some(')') {
                1 + opt_ws_newline(p + 1)
            } else {
                0
            }
        }
        RefMod2RParen => lit(")"),
        EscapeDirective => {
            let mut j = p;
            while at(j) == Some('\\') {
                j += 1;
            }
            let n = j - p;
            if n % 2 == 1 && at(j) == Some('#') {
                let w = word_at(j + 1);
                if w > 0 { n + 1 + w } else { 0 }
            } else {
                0
            }
        }
        SetDirective => {
            let mut j = p;
            while matches!(at(j), Some(' ' | '\t')) {
                j += 1;
            }
            let l = alt_at(s, j, &["#set", "#{set}"]);
            if l == 0 {
                return 0;
            }
            j += l;
            while at(j) == Some(' ') {
                j += 1;
            }
            if at(j) == Some('(') { j + 1 - p } else { 0 }
        }
        Dollar => {
            let mut j = p;
            while at(j) == Some('\\') {
                j += 1;
            }
            if at(j) == Some('$') { j + 1 - p } else { 0 }
        }
        DollarBang => {
            let mut j = p;
            while at(j) == Some('\\') {
                j += 1;
            }
            if at(j) != Some('$') {
                return 0;
            }
            j += 1;
            while at(j) == Some('\\') {
                j += 1;
            }
            if at(j) == Some('!') { j + 1 - p } else { 0 }
        }
        TextblockStart => lit("#[["),
        FormalCommentStart => {
            if lit("#**") == 3 && at(p + 3).is_some_and(|c| c != '#') {
                4
            } else {
                0
            }
        }
        MultiLineCommentStart => lit("#*"),
        Hash => lit("#"),
        SingleLineCommentStart => lit("##"),
        DoubleEscape => lit("\\\\"),
        Escape => lit("\\"),
        Text => {
            let mut j = p;
            while at(j).is_some_and(|c| c != '$' && c != '#' && c != '\\') {
                j += 1;
            }
            j - p
        }
        SingleLineComment | Newline => opt_ws_newline_strict(s, p),
        FormalComment | MultiLineComment => lit("*#"),
        Textblock => lit("]]#"),
        SkipAny | MoreAny | ReferenceTerminator | DirectiveTerminator => {
            usize::from(at(p).is_some())
        }
        Whitespace => {
            let mut j = p;
            while matches!(at(j), Some(' ' | '\t' | '\n' | '\r')) {
                j += 1;
            }
            j - p
        }
        StringLiteral => string_literal_len(s, p),
        True => lit("true"),
        False => lit("false"),
        Minus => lit("-"),
        Plus => lit("+"),
        Multiply => lit("*"),
        Divide => lit("/"),
        Modulus => lit("%"),
        LogicalAnd => alt(&["&&", "and"]),
        LogicalOr => alt(&["||", "or"]),
        LogicalLt => alt(&["<", "lt"]),
        LogicalLe => alt(&["<=", "le"]),
        LogicalGt => alt(&[">", "gt"]),
        LogicalGe => alt(&[">=", "ge"]),
        LogicalEquals => alt(&["==", "eq"]),
        LogicalNotEquals => alt(&["!=", "ne"]),
        LogicalNot => alt(&["!", "not"]),
        Equals => lit("="),
        End | ElseDirective => {
            let (a, b) = if k == End {
                ("end", "{end}")
            } else {
                ("else", "{else}")
            };
            let l = lit(a).max(lit(b));
            if l == 0 { 0 } else { l + opt_ws_newline(p + l) }
        }
        IfDirective => alt(&["if", "{if}"]),
        ElseIfDirective => alt(&["elseif", "{elseif}"]),
        IntegerLiteral => {
            let mut j = p;
            if at(j) == Some('-') {
                j += 1;
            }
            let d = j;
            while at(j).is_some_and(is_digit) {
                j += 1;
            }
            if j == d {
                return 0;
            }
            if at(j) == Some('.') && at(j + 1) == Some('.') {
                j += 2;
            }
            j - p
        }
        FloatingPointLiteral => float_len(s, p),
        Word => {
            if at(p).is_some_and(|c| is_letter(c) || c == '_' || c == '@') {
                let mut j = p + 1;
                while at(j).is_some_and(is_directive_char) {
                    j += 1;
                }
                j - p
            } else {
                0
            }
        }
        BracketedWord => {
            if at(p) == Some('{') && at(p + 1).is_some_and(|c| is_letter(c) || c == '_') {
                let mut j = p + 2;
                while at(j).is_some_and(is_directive_char) {
                    j += 1;
                }
                if at(j) == Some('}') { j + 1 - p } else { 0 }
            } else {
                0
            }
        }
        Identifier => {
            if at(p).is_some_and(|c| is_letter(c) || c == '_') {
                let mut j = p + 1;
                while at(j).is_some_and(is_identifier_char) {
                    j += 1;
                }
                j - p
            } else {
                0
            }
        }
        Dot => {
            if at(p) == Some('.') && at(p + 1).is_some_and(is_letter) {
                2
            } else {
                0
            }
        }
        EmptyIndex => alt(&["$[", "$![", "$\\![", "$."]),
        Eof => 0,
    }
}

fn alt_at(s: &[char], p: usize, ts: &[&str]) -> usize {
    ts.iter()
        .map(|t| {
            let n = t.chars().count();
            if s.len() >= p + n && t.chars().zip(&s[p..p + n]).all(|(a, b)| a == *b) {
                n
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

/// "\n" | "\r" | "\r\n"
fn opt_ws_newline_strict(s: &[char], p: usize) -> usize {
    match s.get(p) {
        Some('\n') => 1,
        Some('\r') => {
            if s.get(p + 1) == Some(&'\n') {
                2
            } else {
                1
            }
        }
        _ => 0,
    }
}

/// `"` ( ~["\""] | `""` )* `"` or the same with `'` (the grammar's escape alternatives
/// are all covered by "any character but the quote"), longest match.
fn string_literal_len(s: &[char], p: usize) -> usize {
    let q = match s.get(p) {
        Some(&c @ ('"' | '\'')) => c,
        _ => return 0,
    };
    // NFA over {inside, after-first-quote-of-a-doubled-pair}.
    let mut inside = true;
    let mut half = false;
    let mut best = 0;
    let mut i = p + 1;
    while i < s.len() && (inside || half) {
        let c = s[i];
        let (mut ni, mut nh) = (false, false);
        if inside {
            if c == q {
                best = i + 1 - p; // closing quote
                nh = true; // or the first of `""`
            } else {
                ni = true;
            }
        }
        if half && c == q {
            ni = true;
        }
        inside = ni;
        half = nh;
        i += 1;
    }
    best
}

fn float_len(s: &[char], p: usize) -> usize {
    let at = |i: usize| s.get(i).copied();
    let digits = |mut j: usize| {
        let st = j;
        while at(j).is_some_and(is_digit) {
            j += 1;
        }
        (j, j - st)
    };
    let exponent = |j: usize| -> usize {
        // length of <EXPONENT> at j, 0 if none
        if !matches!(at(j), Some('e' | 'E')) {
            return 0;
        }
        let mut k = j + 1;
        if matches!(at(k), Some('+' | '-')) {
            k += 1;
        }
        let (e, n) = digits(k);
        if n == 0 { 0 } else { e - j }
    };
    let mut start = p;
    if at(start) == Some('-') {
        start += 1;
    }
    let mut best = 0;
    let (j, n) = digits(start);
    if n > 0 {
        // DIGIT+ "." DIGIT* EXP?
        if at(j) == Some('.') {
            let (k, _) = digits(j + 1);
            best = best.max(k + exponent(k) - p);
        }
        // DIGIT+ EXP
        let e = exponent(j);
        if e > 0 {
            best = best.max(j + e - p);
        }
    }
    // "." DIGIT+ EXP?
    if at(start) == Some('.') {
        let (k, n2) = digits(start + 1);
        if n2 > 0 {
            best = best.max(k + exponent(k) - p);
        }
    }
    best
}

/// A token as the parser sees it.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Character offsets into the template (begin inclusive, end exclusive): the
    /// token's image, MORE prefixes included, is `src[begin..end]` (see [`Token::image`]);
    /// it is made only where the parser needs it, so copying a token allocates nothing.
    pub begin: usize,
    pub end: usize,
    /// `NodeUtils.getSpecialText` of the special tokens before this one, and whether the
    /// nearest of them starts with "##" (then Velocity ignores them).
    pub special: Option<(String, bool)>,
}

impl Token {
    /// The token's text. A `Dot` is `.` whatever prefix it was matched with (the
    /// lexical action of `<DOT>` replaces its image).
    pub fn image(&self, src: &[char]) -> String {
        if self.kind == Kind::Dot {
            return ".".to_owned();
        }
        src[self.begin..self.end].iter().collect()
    }

    /// The characters the token was matched from (for every kind but `Dot`, its image).
    pub fn chars<'s>(&self, src: &'s [char]) -> &'s [char] {
        debug_assert!(
            self.kind != Kind::Dot,
            "a Dot's image is not its characters"
        );
        &src[self.begin..self.end]
    }

    /// `NodeUtils.tokenLiteral`: how a token renders as text.
    pub fn literal(&self, src: &[char]) -> String {
        let mut s = String::new();
        self.push_literal(&self.image(src), &mut s);
        s
    }

    /// Appends the literal this token would have with `image` as its image.
    pub fn push_literal(&self, image: &str, out: &mut String) {
        if self.kind == Kind::MultiLineComment {
            return;
        }
        if let Some((sp, false)) = &self.special {
            out.push_str(sp);
        }
        out.push_str(image);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub offset: usize,
    pub state: State,
    pub found: Option<char>,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lexical error at {}", self.offset)
    }
}

pub(crate) struct Lexer<'a> {
    src: &'a [char],
    pub pos: usize,
    pub state: State,
    stack: Vec<(i32, i32, State)>,
    lparen: i32,
    rparen: i32,
    pub in_directive: bool,
    in_comment: bool,
    pub in_set: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [char]) -> Self {
        Lexer {
            src,
            pos: 0,
            state: State::Default,
            stack: Vec::new(),
            lparen: 0,
            rparen: 0,
            in_directive: false,
            in_comment: false,
            in_set: false,
        }
    }

    pub fn switch_to(&mut self, s: State) {
        self.state = s;
    }

    pub fn state_stack_pop(&mut self) -> bool {
        match self.stack.pop() {
            Some((l, r, s)) => {
                self.lparen = l;
                self.rparen = r;
                self.state = s;
                true
            }
            None => {
                self.lparen = 0;
                self.state = State::Default;
                false
            }
        }
    }

    fn state_stack_push(&mut self) {
        self.stack.push((self.lparen, self.rparen, self.state));
        self.lparen = 0;
    }

    /// Velocity's `isLeftParenthesis`: is the next non-blank character a '('?
    pub fn is_left_parenthesis(&self) -> bool {
        for &c in &self.src[self.pos.min(self.src.len())..] {
            match c {
                '(' => return true,
                ' ' | '\n' | '\r' | '\t' => {}
                _ => return false,
            }
        }
        false
    }

    fn rparen_handler(&mut self) {
        if self.in_comment {
            return;
        }
        loop {
            if self.lparen > 0 {
                if self.lparen == self.rparen + 1 {
                    self.state_stack_pop();
                } else {
                    self.rparen += 1;
                }
                return;
            } else if !self.state_stack_pop() {
                return;
            }
        }
    }

    fn best_match(&self) -> Option<(Kind, usize)> {
        // Fast path: in DEFAULT, a character that starts no other token (every other
        // candidate begins with `$`, `#`, `\`, or blanks before `#set`) starts TEXT.
        if self.state == State::Default
            && self
                .src
                .get(self.pos)
                .is_some_and(|c| !matches!(c, '$' | '#' | '\\' | ' ' | '\t'))
        {
            let n = match_len(Kind::Text, self.src, self.pos);
            if n > 0 {
                return Some((Kind::Text, n));
            }
        }
        let c = self.src.get(self.pos).copied();
        let all = candidates(self.state);
        let mut best: Option<(Kind, usize)> = None;
        let mut consider = |k: Kind| {
            let n = match_len(k, self.src, self.pos);
            if n > 0 && best.is_none_or(|(_, b)| n > b) {
                best = Some((k, n));
            }
        };
        match c {
            // ASCII: only the candidates that can start with `c`, from the table
            Some(a) if a.is_ascii() => {
                let mut bits = FIRST_CHAR[self.state as usize][a as usize];
                while bits != 0 {
                    consider(all[bits.trailing_zeros() as usize]);
                    bits &= bits - 1;
                }
            }
            _ => all
                .iter()
                .filter(|&&k| may_start(k, c))
                .for_each(|&k| consider(k)),
        }
        best
    }

    pub fn next_token(&mut self) -> Result<Token, LexError> {
        let mut specials: Vec<String> = Vec::new();
        loop {
            // a new token (MORE prefixes accumulate from here)
            let begin = self.pos;
            if self.pos >= self.src.len() {
                return Ok(Token {
                    kind: Kind::Eof,
                    begin,
                    end: begin,
                    special: special_text(&specials),
                });
            }
            loop {
                let Some((kind, n)) = self.best_match() else {
                    return Err(LexError {
                        offset: self.pos,
                        state: self.state,
                        found: self.src.get(self.pos).copied(),
                    });
                };
                let end = self.pos + n;
                self.pos = end;
                match class(kind) {
                    Class::More => {
                        self.more_action(kind);
                        if self.pos >= self.src.len() {
                            return Err(LexError {
                                offset: self.pos,
                                state: self.state,
                                found: None,
                            });
                        }
                    }
                    Class::Skip => break,
                    Class::Special => {
                        let image: String = self.src[begin..end].iter().collect();
                        // both special tokens back up one character and pop a state
                        self.pos -= 1;
                        if kind == Kind::DirectiveTerminator {
                            self.in_directive = false;
                        }
                        self.state_stack_pop();
                        specials.push(image);
                        break;
                    }
                    Class::Token => {
                        self.token_action(kind, begin);
                        return Ok(Token {
                            kind,
                            begin,
                            end: self.pos,
                            special: special_text(&specials),
                        });
                    }
                }
            }
        }
    }

    fn more_action(&mut self, kind: Kind) {
        if self.in_comment {
            return;
        }
        match kind {
            Kind::Dollar | Kind::DollarBang => {
                if self.state == State::Reference {
                    self.state_stack_pop();
                }
                self.state_stack_push();
                self.switch_to(State::Reference);
            }
            Kind::TextblockStart => {
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InTextblock);
            }
            Kind::FormalCommentStart => {
                self.pos -= 1;
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InFormalComment);
            }
            Kind::MultiLineCommentStart => {
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InMultiLineComment);
            }
            Kind::Hash => {
                if matches!(self.state, State::Reference | State::RefModifier) {
                    self.state_stack_pop();
                }
                self.in_directive = true;
                self.state_stack_push();
                self.switch_to(State::PreDirective);
            }
            _ => {}
        }
    }

    /// The lexical actions; `begin` is where the token (with its MORE prefixes) began.
    fn token_action(&mut self, kind: Kind, begin: usize) {
        use Kind::*;
        match kind {
            IndexLBracket => {
                self.state_stack_push();
                self.switch_to(State::RefIndex);
            }
            IndexRBracket => {
                self.state_stack_pop();
            }
            LParen => {
                if !self.in_comment {
                    self.lparen += 1;
                }
                if self.state == State::RefModifier {
                    self.switch_to(State::RefMod2);
                }
            }
            RParen => self.rparen_handler(),
            RefMod2RParen => self.switch_to(State::Reference),
            SetDirective if !self.in_comment => {
                self.in_directive = true;
                self.state_stack_push();
                self.in_set = true;
                self.switch_to(State::Directive);
                self.lparen += 1;
            }
            SingleLineCommentStart if !self.in_comment => {
                if self.state == State::Reference {
                    self.state_stack_pop();
                }
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InSingleLineComment);
            }
            SingleLineComment | FormalComment | MultiLineComment | Textblock => {
                self.in_comment = false;
                self.state_stack_pop();
            }
            StringLiteral if self.state == State::Directive && !self.in_set && self.lparen == 0 => {
                self.state_stack_pop();
            }
            Newline => {
                self.state_stack_pop();
                self.in_set = false;
                self.in_directive = false;
            }
            End | ElseDirective => {
                self.in_directive = false;
                self.state_stack_pop();
            }
            IfDirective | ElseIfDirective => self.switch_to(State::Directive),
            IntegerLiteral => {
                // `1..` is matched whole, then gives its `..` back
                if self.pos - begin >= 2 && self.src[self.pos - 2..self.pos] == ['.', '.'] {
                    self.pos -= 2;
                }
                if self.lparen == 0
                    && !self.in_set
                    && self.state != State::RefMod2
                    && self.state != State::RefIndex
                {
                    self.state_stack_pop();
                }
            }
            FloatingPointLiteral
                if self.lparen == 0 && !self.in_set && self.state != State::RefMod2 =>
            {
                self.state_stack_pop();
            }
            Dot => {
                self.pos -= 1;
                self.switch_to(State::RefModifier);
            }
            RCurly => {
                self.state_stack_pop();
            }
            _ => {}
        }
    }
}

/// `NodeUtils.getSpecialText` over the special tokens in order, keeping only `#`, `$`
/// and runs of backslashes that end in `$` (the character after such a `$` is skipped,
/// as Velocity's loop does).
fn special_text(specials: &[String]) -> Option<(String, bool)> {
    let last = specials.last()?;
    let starts_comment = last.starts_with("##");
    let mut sb = String::new();
    for st in specials {
        let cs: Vec<char> = st.chars().collect();
        let mut i = 0;
        while i < cs.len() {
            let c = cs[i];
            if c == '#' || c == '$' {
                sb.push(c);
            }
            if c == '\\' {
                let mut j = i;
                let mut term = false;
                while j < cs.len() {
                    let cc = cs[j];
                    j += 1;
                    if cc == '\\' {
                        continue;
                    }
                    if cc == '$' {
                        term = true;
                    }
                    break;
                }
                if term {
                    sb.extend(&cs[i..j]);
                    i = j;
                }
            }
            i += 1;
        }
    }
    Some((sb, starts_comment))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first-character filter never hides a match: over every lexical state's
    /// candidates, at every position of many short strings built from the characters
    /// the grammar names (xorshift, fixed seed), a match implies `may_start`.
    #[test]
    fn may_start_never_hides_a_match() {
        let alphabet: Vec<char> =
            "$#\\ \t\n\r[](){}.,:*!&|<>=-+/%\"'0123456789aeflnorstgiudq_@xE{}"
                .chars()
                .collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut matches = 0usize;
        for _ in 0..20_000 {
            let len = 1 + (next() % 10) as usize;
            let s: Vec<char> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            for state in STATES {
                for &k in candidates(state) {
                    for p in 0..=s.len() {
                        if match_len(k, &s, p) > 0 {
                            matches += 1;
                            let text: String = s.iter().collect();
                            assert!(
                                may_start(k, s.get(p).copied()),
                                "{k:?} matches {text:?} at {p} but may_start says no"
                            );
                        }
                    }
                }
            }
        }
        assert!(
            matches > 100_000,
            "the strings matched too little: {matches}"
        );
    }

    fn kinds(t: &str) -> Vec<(Kind, String)> {
        let cs: Vec<char> = t.chars().collect();
        let mut l = Lexer::new(&cs);
        let mut out = Vec::new();
        loop {
            let tok = l.next_token().expect("lexes");
            if tok.kind == Kind::Eof {
                return out;
            }
            out.push((tok.kind, tok.image(&cs)));
        }
    }

    #[test]
    fn set_eats_leading_blanks_only_at_token_start() {
        let k = kinds("  #set($a = 1)\nx");
        assert_eq!(k[0], (Kind::SetDirective, "  #set(".to_string()));
        assert_eq!(k.last().unwrap(), &(Kind::Text, "x".to_string()));
        let k = kinds("a  #set($a = 1)");
        assert_eq!(k[0], (Kind::Text, "a  ".to_string()));
    }

    #[test]
    fn dollar_is_a_prefix() {
        let k = kinds("$foo.bar(1)");
        assert_eq!(k[0], (Kind::Identifier, "$foo".to_string()));
        assert_eq!(k[1], (Kind::Dot, ".".to_string()));
        assert_eq!(k[2], (Kind::Identifier, "bar".to_string()));
        assert_eq!(k[3], (Kind::LParen, "(".to_string()));
        assert_eq!(k[4], (Kind::IntegerLiteral, "1".to_string()));
        assert_eq!(k[5], (Kind::RefMod2RParen, ")".to_string()));
    }

    #[test]
    fn string_literals() {
        let s: Vec<char> = "\"a\"\"b\" x".chars().collect();
        assert_eq!(string_literal_len(&s, 0), 6);
        let s: Vec<char> = "'a' + 'b'".chars().collect();
        assert_eq!(string_literal_len(&s, 0), 3);
        let s: Vec<char> = "\"abc".chars().collect();
        assert_eq!(string_literal_len(&s, 0), 0);
    }
}
