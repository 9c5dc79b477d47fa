//! Velocity 1.7's grammar (the productions of `Parser.jjt`) over the token manager of
//! `lexer.rs`, producing the AST that `eval.rs` renders.
//!
//! Each function below is named after the production it implements; the lookaheads are
//! the grammar's. What Velocity's node classes compute once at init time (a reference's
//! escape prefix and null text, a string literal's interpolation template, a comment's
//! visible prefix) is computed here, so rendering needs no tokens.

use std::collections::HashMap;
use std::sync::Arc;

use super::lexer::{Kind, LexError, Lexer, State, Token};
use super::{MAX_NESTING, PErr};

/// A place in the template: character offset (converted to line:col on demand).
pub(crate) type Pos = usize;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Text rendered as is (text, comments' visible prefixes, escapes, unknown directives).
    Text(Box<str>),
    Ref(Box<Ref>),
    Set(Box<SetNode>),
    If(Box<IfNode>),
    Foreach(Box<ForeachNode>),
    Break(Option<Box<Expr>>, Pos),
    Stop(Option<Box<Expr>>, Pos),
    /// `#name(args)`, `#name` or `#@name(args) body #end`: a velocimacro call, resolved
    /// when rendered (Velocity 1.7's RuntimeMacro); undefined, its own text renders.
    Call(Box<CallNode>),
    /// `#define($name) body #end`
    Define(Box<DefineNode>),
    /// `#evaluate(arg)`: the argument's text parsed and rendered in place.
    Evaluate(Box<Expr>, Pos),
    /// `#include(args)` or `#parse(arg)`: both load template files.
    Load(Box<LoadNode>),
}

#[derive(Debug, Clone)]
pub(crate) struct CallNode {
    pub name: Box<str>,
    /// Shared with the frames of the calls, which evaluate them by name.
    pub args: Arc<[Expr]>,
    /// The last bare-word argument: a defined macro refuses it when called.
    pub bad_word: Option<(Box<str>, Pos)>,
    /// What renders when no macro of this name is defined (the call as written).
    pub literal: Box<str>,
    /// A block call's body, `$bodyContent` in the macro.
    pub body: Option<Arc<[Node]>>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(crate) struct DefineNode {
    pub var: Box<str>,
    pub body: Arc<[Node]>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(crate) struct LoadNode {
    /// "include" or "parse"
    pub directive: &'static str,
    pub args: Vec<Expr>,
    pub pos: Pos,
}

/// A `#macro(name $param ...) body #end`, registered when the template is parsed.
#[derive(Debug)]
pub(crate) struct MacroDef {
    pub params: Vec<Box<str>>,
    pub body: Vec<Node>,
}

/// The macros a template defines, by name. Velocity 1.7 registers each `#macro` while
/// parsing, wherever it stands (even in a branch never taken or inside a string
/// literal), and with its default settings
/// (`velocimacro.permissions.allow.inline.to.replace.global = false`) the first
/// definition of a name is the one every call uses (real Velocity 1.7 shows it; see
/// the `macro/` cases of crates/apigw-vtl/golden/vtl.json).
pub(crate) type Macros = HashMap<Box<str>, Arc<MacroDef>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    Normal,
    Formal,
    Quiet,
    /// A bare word where a reference was expected (e.g. a method argument `foo`):
    /// Velocity renders its text and evaluates it to null.
    Runt,
}

#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub kind: RefKind,
    pub root: Box<str>,
    pub parts: Vec<Part>,
    pub escaped: bool,
    pub esc_prefix: Box<str>,
    pub more_prefix: Box<str>,
    /// What renders when the value is null (the reference's own text, "" for `$!`).
    pub null_string: Box<str>,
    /// The reference's text (Velocity's `literal()`).
    pub literal: Box<str>,
    /// false for the odd `$\!foo` form, whose value is always null.
    pub computable: bool,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Prop(Box<str>, Pos),
    Method(Box<str>, Vec<Expr>, Pos),
    Index(Box<Expr>, Pos),
}

#[derive(Debug, Clone)]
pub(crate) struct SetNode {
    pub lhs: Ref,
    pub rhs: Expr,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(crate) struct IfNode {
    /// `#if` and each `#elseif`, in order.
    pub branches: Vec<(Expr, Vec<Node>)>,
    pub otherwise: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ForeachNode {
    pub var: Box<str>,
    pub iterable: Expr,
    pub body: Vec<Node>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub(crate) enum IntLit {
    Int(i32),
    Long(i64),
    Big(i128),
}

#[derive(Debug, Clone)]
pub(crate) struct StrLit {
    /// The text between the quotes after Velocity's unescaping.
    pub value: Box<str>,
    /// The parsed template when the literal is interpolated ("..." containing $ or #).
    pub interp: Option<Vec<Node>>,
    pub has_line_comment: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Str(Box<StrLit>),
    Int(IntLit),
    Float(f64),
    Bool(bool),
    Ref(Box<Ref>),
    Range(Box<Expr>, Box<Expr>, Pos),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>, Pos),
    /// A bare word argument of a directive (`in` of #foreach).
    Word(Box<str>),
}

impl Expr {
    /// Velocity's `literal()` of an operand, used when `+` concatenates a null.
    pub fn literal(&self) -> String {
        match self {
            Expr::Ref(r) => r.literal.to_string(),
            Expr::Str(s) => s.value.to_string(),
            Expr::Word(w) => w.to_string(),
            _ => String::new(),
        }
    }
}

const DIRECTIVES: &[&str] = &[
    "foreach", "include", "parse", "macro", "literal", "evaluate", "break", "define", "stop",
];

fn is_directive(name: &str) -> bool {
    DIRECTIVES.contains(&name)
}

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The template's characters (tokens' images are slices of them).
    src: &'a [char],
    toks: Vec<Token>,
    idx: usize,
    depth: usize,
    /// Offset added to positions (for string literals parsed as templates).
    base: usize,
    /// The first lexical error: once the token manager fails, every fetch fails.
    lex_failed: Option<PErr>,
    /// The `#macro`s met so far.
    pub macros: Macros,
}

type PResult<T> = Result<T, PErr>;

impl<'a> Parser<'a> {
    pub fn new(src: &'a [char], base: usize, depth: usize) -> Self {
        Parser {
            lexer: Lexer::new(src),
            src,
            toks: Vec::new(),
            idx: 0,
            depth,
            base,
            lex_failed: None,
            macros: Macros::new(),
        }
    }

    // ------------------------------------------------------------ token plumbing

    fn err_at(&self, offset: usize, message: impl Into<String>) -> PErr {
        PErr {
            offset: offset + self.base,
            message: message.into(),
            opened: None,
        }
    }

    fn lex_error(&self, e: LexError) -> PErr {
        let msg = match (e.found, e.state) {
            (None, State::InTextblock) => "unclosed #[[ ... ]]# block".to_string(),
            (None, State::InMultiLineComment | State::InFormalComment) => {
                "unclosed #* ... *# comment".to_string()
            }
            (None, State::Reference | State::RefModifier) => {
                "the template ends with a '$' (escape it as \\$ or write ${'$'})".to_string()
            }
            (None, State::PreDirective) => {
                "the template ends with a '#' (escape it as \\#)".to_string()
            }
            (None, _) => "unexpected end of template".to_string(),
            (Some(c @ ('"' | '\'')), _) => {
                return self.err_at(e.offset, format!("unclosed string (opened with {c})"));
            }
            (Some(c), State::Directive) => {
                format!("unexpected character '{c}' in a directive's arguments")
            }
            (Some(c), State::RefMod2) => {
                format!("unexpected character '{c}' in a method's arguments")
            }
            (Some(c), State::RefIndex) => {
                format!("unexpected character '{c}' in an index [ ]")
            }
            (Some(c), _) => format!("unexpected character '{c}'"),
        };
        self.err_at(e.offset, msg)
    }

    fn fill(&mut self, k: usize) -> PResult<()> {
        while self.toks.len() <= self.idx + k {
            if let Some(e) = &self.lex_failed {
                return Err(e.clone());
            }
            match self.lexer.next_token() {
                Ok(t) => self.toks.push(t),
                Err(e) => {
                    let e = self.lex_error(e);
                    self.lex_failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn peek(&mut self, k: usize) -> PResult<Kind> {
        self.fill(k)?;
        Ok(self.toks[self.idx + k].kind)
    }

    fn tok(&mut self, k: usize) -> PResult<&Token> {
        self.fill(k)?;
        Ok(&self.toks[self.idx + k])
    }

    fn next(&mut self) -> PResult<Token> {
        self.fill(0)?;
        let t = self.toks[self.idx].clone();
        self.idx += 1;
        Ok(t)
    }

    /// [`Parser::next`] without the copy, where the token is not needed.
    fn skip(&mut self) -> PResult<()> {
        self.fill(0)?;
        self.idx += 1;
        Ok(())
    }

    fn expect(&mut self, k: Kind, what: &str) -> PResult<Token> {
        if self.peek(0)? == k {
            self.next()
        } else {
            Err(self.unexpected(what)?)
        }
    }

    /// <END> closing the block opened by `name` at `opened` (absolute offset).
    fn expect_end(&mut self, name: &'static str, opened: Pos) -> PResult<()> {
        if self.peek(0)? == Kind::End {
            self.skip()?;
            return Ok(());
        }
        let t = self.tok(0)?.clone();
        if t.kind == Kind::Eof {
            let mut e = self.err_at(t.begin, format!("{name} without #end"));
            e.opened = Some((name, opened));
            return Err(e);
        }
        Err(self.unexpected("#end")?)
    }

    fn unexpected(&mut self, what: &str) -> PResult<PErr> {
        let t = self.tok(0)?.clone();
        if t.kind == Kind::Eof {
            return Ok(self.err_at(
                t.begin,
                format!("unexpected end of template, expected {what}"),
            ));
        }
        let shown: String = t.image(self.src).chars().take(20).collect();
        let msg = match t.kind {
            Kind::End => "#end without a matching #if or #foreach".to_string(),
            Kind::ElseDirective => "#else without a matching #if".to_string(),
            Kind::ElseIfDirective => "#elseif without a matching #if".to_string(),
            _ => format!("unexpected {:?}, expected {what}", shown),
        };
        Ok(self.err_at(t.begin, msg))
    }

    fn enter(&mut self, at: Pos) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err_at(
                at,
                format!("the template nests deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ------------------------------------------------------------ statements

    /// process : ( Statement() )* <EOF>
    pub fn process(&mut self) -> PResult<Vec<Node>> {
        let nodes = self.statements()?;
        if self.peek(0)? != Kind::Eof {
            return Err(self.unexpected("text or a directive")?);
        }
        Ok(nodes)
    }

    fn starts_statement(&mut self) -> PResult<bool> {
        use Kind::*;
        Ok(matches!(
            self.peek(0)?,
            IfDirective
                | Identifier
                | LCurly
                | SingleLineCommentStart
                | MultiLineComment
                | FormalComment
                | Textblock
                | SetDirective
                | EscapeDirective
                | DoubleEscape
                | Word
                | BracketedWord
                | Text
                | Dot
                | RParen
                | LParen
                | IntegerLiteral
                | FloatingPointLiteral
                | StringLiteral
                | Escape
                | RCurly
                | EmptyIndex
        ))
    }

    /// `( Statement() )*`. Parsing recurses once per nesting level: the stack grows
    /// on the heap when little is left (see `eval::grow`), whatever thread parses.
    fn statements(&mut self) -> PResult<Vec<Node>> {
        if self.depth.is_multiple_of(super::eval::GROW_EVERY) {
            super::eval::grow(|| self.statements_here())
        } else {
            self.statements_here()
        }
    }

    fn statements_here(&mut self) -> PResult<Vec<Node>> {
        let mut out: Vec<Node> = Vec::new();
        while self.starts_statement()? {
            if let Some(n) = self.statement()? {
                // merge adjacent text
                if let (Some(Node::Text(prev)), Node::Text(t)) = (out.last_mut(), &n) {
                    let mut s = String::with_capacity(prev.len() + t.len());
                    s.push_str(prev);
                    s.push_str(t);
                    *prev = s.into_boxed_str();
                    continue;
                }
                out.push(n);
            }
        }
        Ok(out)
    }

    fn statement(&mut self) -> PResult<Option<Node>> {
        use Kind::*;
        let k = self.peek(0)?;
        if k == IfDirective {
            return self.if_statement().map(Some);
        }
        if k == Identifier || (k == LCurly && self.peek(1)? == Identifier) {
            let r = self.reference()?;
            return Ok(Some(Node::Ref(Box::new(r))));
        }
        match k {
            SingleLineCommentStart | MultiLineComment | FormalComment => self.comment(),
            Textblock => {
                let t = self.next()?;
                let cs = t.chars(self.src);
                let inner: String = cs[3..cs.len() - 3].iter().collect();
                Ok(Some(Node::Text(inner.into())))
            }
            SetDirective => self.set_directive().map(Some),
            EscapeDirective => {
                let t = self.next()?;
                Ok(Some(Node::Text(
                    escaped_directive(&t.image(self.src)).into(),
                )))
            }
            DoubleEscape => self.escape().map(Some),
            Word | BracketedWord => self.directive(),
            _ => {
                // Text()
                let t = self.next()?;
                Ok(Some(Node::Text(t.literal(self.src).into())))
            }
        }
    }

    /// Comment : <SINGLE_LINE_COMMENT_START> [<SINGLE_LINE_COMMENT>] | <MULTI_LINE_COMMENT>
    /// | <FORMAL_COMMENT>; renders what precedes "##"/"#*" in its first token (a glued
    /// MORE prefix such as the `$` of `$## ...`).
    fn comment(&mut self) -> PResult<Option<Node>> {
        let t = self.next()?;
        if t.kind == Kind::SingleLineCommentStart && self.peek(0)? == Kind::SingleLineComment {
            self.skip()?;
        }
        let img = &t.image(self.src);
        let cut = match (img.find("##"), img.find("#*")) {
            (None, None) => return Ok(None),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(_)) => a,
        };
        if cut == 0 {
            Ok(None)
        } else {
            Ok(Some(Node::Text(img[..cut].into())))
        }
    }

    /// Escape : ( LOOKAHEAD(2) <DOUBLE_ESCAPE> )+ — `\\` before a directive renders as
    /// `\`, elsewhere as `\\`.
    fn escape(&mut self) -> PResult<Node> {
        let mut count = 0;
        loop {
            self.skip()?;
            count += 1;
            if self.peek(0)? != Kind::DoubleEscape {
                break;
            }
        }
        let next = self.tok(0)?.clone();
        let mut control = matches!(
            next.kind,
            Kind::IfDirective | Kind::ElseDirective | Kind::ElseIfDirective | Kind::End
        );
        let tag: String = next.image(self.src).chars().skip(1).collect();
        if is_directive(&tag) {
            control = true;
        }
        let unit = if control { "\\" } else { "\\\\" };
        Ok(Node::Text(unit.repeat(count).into()))
    }

    /// IfStatement : <IF_DIRECTIVE> [<WHITESPACE>] <LPAREN> Expression() <RPAREN>
    /// ( Statement() )* [ ( ElseIfStatement() )+ ] [ ElseStatement() ] <END>
    fn if_statement(&mut self) -> PResult<Node> {
        let t = self.next()?;
        self.enter(t.begin)?;
        let cond = self.directive_condition()?;
        let body = self.statements()?;
        let mut branches = vec![(cond, body)];
        while self.peek(0)? == Kind::ElseIfDirective {
            self.skip()?;
            let c = self.directive_condition()?;
            let b = self.statements()?;
            branches.push((c, b));
        }
        let mut otherwise = None;
        if self.peek(0)? == Kind::ElseDirective {
            self.skip()?;
            otherwise = Some(self.statements()?);
        }
        self.expect_end("#if", t.begin + self.base)?;
        self.leave();
        Ok(Node::If(Box::new(IfNode {
            branches,
            otherwise,
        })))
    }

    /// [<WHITESPACE>] <LPAREN> Expression() <RPAREN>
    fn directive_condition(&mut self) -> PResult<Expr> {
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        self.expect(Kind::LParen, "'('")?;
        let e = self.expression()?;
        self.expect(Kind::RParen, "')'")?;
        Ok(e)
    }

    /// SetDirective : <SET_DIRECTIVE> [<WHITESPACE>] Reference() [<WHITESPACE>] <EQUALS>
    /// Expression() <RPAREN> [<NEWLINE>]
    fn set_directive(&mut self) -> PResult<Node> {
        let t = self.next()?;
        let pos = t.begin + t.image(self.src).find('#').unwrap_or(0);
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        if !(self.peek(0)? == Kind::Identifier
            || (self.peek(0)? == Kind::LCurly && self.peek(1)? == Kind::Identifier))
        {
            return Err(self.unexpected("a reference to set, as in #set($name = ...)")?);
        }
        let lhs = self.reference()?;
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        self.expect(Kind::Equals, "'=' in #set")?;
        let rhs = self.expression()?;
        self.expect(Kind::RParen, "')' closing #set")?;
        self.lexer.in_set = false;
        if self.peek(0)? == Kind::Newline {
            self.skip()?;
        }
        Ok(Node::Set(Box::new(SetNode { lhs, rhs, pos })))
    }

    /// Directive : (<WORD> | <BRACKETED_WORD>) [ [<WHITESPACE>] <LPAREN> args <RPAREN> ]
    /// [ ( Statement() )* <END> ]
    fn directive(&mut self) -> PResult<Option<Node>> {
        let first_idx = self.idx;
        let t = self.next()?;
        let name: String = if t.kind == Kind::BracketedWord {
            let cs = t.chars(self.src);
            cs[2..cs.len() - 1].iter().collect()
        } else {
            t.chars(self.src)[1..].iter().collect()
        };
        let known = is_directive(&name);
        let block = match name.as_str() {
            "foreach" | "macro" | "literal" | "define" => true,
            _ => !known && name.starts_with('@'),
        };
        self.lexer.switch_to(State::Directive);
        if !self.lexer.is_left_parenthesis() {
            // not a directive call: the lexer drops back and the text stays
            self.lexer.state_stack_pop();
            self.lexer.in_directive = false;
            return match name.as_str() {
                "break" => Ok(Some(Node::Break(None, t.begin))),
                "stop" => Ok(Some(Node::Stop(None, t.begin))),
                _ if known => Err(self.err_at(
                    t.begin,
                    format!("#{name} needs its arguments in parentheses"),
                )),
                // any other name is a macro call without arguments (1.7 resolves it when
                // rendering, so a macro defined further down is called too)
                _ => Ok(Some(Node::Call(Box::new(CallNode {
                    name: name.into(),
                    args: Arc::from(Vec::new()),
                    bad_word: None,
                    literal: t.image(self.src).into(),
                    body: None,
                    pos: t.begin,
                })))),
            };
        }
        // ([<WHITESPACE>] <LPAREN>) ( LOOKAHEAD(2) [<WHITESPACE>] [<COMMA> [<WHITESPACE>]]
        //   DirectiveArg() )* [<WHITESPACE>] <RPAREN>
        self.enter(t.begin)?;
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        self.expect(Kind::LParen, "'('")?;
        let mut args: Vec<(Expr, Pos)> = Vec::new();
        // the arguments as written (`#literal(arg)` renders the first; a macro's
        // parameters are named by them)
        let mut arg_texts: Vec<String> = Vec::new();
        loop {
            let k0 = self.peek(0)?;
            let go = match k0 {
                Kind::Whitespace => {
                    let k1 = self.peek(1)?;
                    k1 == Kind::Comma || self.starts_directive_arg(1)?
                }
                Kind::Comma => {
                    let k1 = self.peek(1)?;
                    k1 == Kind::Whitespace || self.starts_directive_arg(1)?
                }
                _ => self.starts_directive_arg(0)?,
            };
            if !go {
                break;
            }
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            if self.peek(0)? == Kind::Comma {
                self.skip()?;
                if self.peek(0)? == Kind::Whitespace {
                    self.skip()?;
                }
            }
            let at = self.tok(0)?.begin;
            let arg_idx = self.idx;
            let arg = self.directive_arg()?;
            arg_texts.push(
                self.toks[arg_idx..self.idx]
                    .iter()
                    .map(|tk| tk.image(self.src))
                    .collect(),
            );
            if let Expr::Word(w) = &arg {
                let ok = !known
                    || (name == "foreach" && args.len() == 1)
                    || (name == "macro" && args.is_empty());
                if !ok {
                    return Err(self.err_at(
                        at,
                        format!("invalid argument '{w}' to #{name} (a bare word)"),
                    ));
                }
            }
            args.push((arg, at));
        }
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        self.expect(Kind::RParen, "')' closing the directive's arguments")?;
        if !known {
            // Any other #name(...) calls a velocimacro, found when rendered; undefined,
            // Velocity renders the call's text (the tokens' images, from the name to the
            // ')' or, for a block call, to its #end).
            let bad_word = args.iter().rev().find_map(|(a, at)| match a {
                Expr::Word(w) => Some((w.clone(), *at)),
                _ => None,
            });
            let body = if block {
                let body = self.statements()?;
                self.expect_end("a block macro call", t.begin + self.base)?;
                Some(Arc::from(body))
            } else {
                None
            };
            self.leave();
            let literal: String = self.toks[first_idx..self.idx]
                .iter()
                .map(|tk| tk.image(self.src))
                .collect();
            let args: Vec<Expr> = args.into_iter().map(|(a, _)| a).collect();
            return Ok(Some(Node::Call(Box::new(CallNode {
                name: name.into(),
                args: Arc::from(args),
                bad_word,
                literal: literal.into(),
                body,
                pos: t.begin,
            }))));
        }
        let node = match name.as_str() {
            "foreach" => {
                if args.len() != 3 {
                    return Err(self.err_at(
                        t.begin,
                        "#foreach needs three arguments, as in #foreach($item in $list)",
                    ));
                }
                let mut it = args.into_iter();
                let (var, vat) = it.next().expect("three");
                let var = match var {
                    Expr::Ref(r) => r.root.clone(),
                    _ => {
                        return Err(self.err_at(
                            vat,
                            "#foreach's first argument must be a reference, as in $item",
                        ));
                    }
                };
                let _in = it.next();
                let (iterable, _) = it.next().expect("three");
                let body = self.statements()?;
                self.expect_end("#foreach", t.begin + self.base)?;
                Node::Foreach(Box::new(ForeachNode {
                    var,
                    iterable,
                    body,
                    pos: t.begin,
                }))
            }
            "break" | "stop" => {
                if args.len() > 1 {
                    return Err(self.err_at(t.begin, format!("#{name} takes at most one argument")));
                }
                let arg = args.into_iter().next().map(|(e, _)| Box::new(e));
                if name == "break" {
                    Node::Break(arg, t.begin)
                } else {
                    Node::Stop(arg, t.begin)
                }
            }
            "macro" => {
                let def = self.macro_definition(&t, args, arg_texts)?;
                self.leave();
                return Ok(def);
            }
            "define" => {
                let var = match args.as_slice() {
                    [(Expr::Ref(r), _)] => r.root.clone(),
                    _ => {
                        return Err(self.err_at(
                            t.begin,
                            "#define needs one argument, the reference to define, as in #define($name)",
                        ));
                    }
                };
                let body = self.statements()?;
                self.expect_end("#define", t.begin + self.base)?;
                Node::Define(Box::new(DefineNode {
                    var,
                    body: Arc::from(body),
                    pos: t.begin,
                }))
            }
            "literal" => {
                // Velocity 1.7's Literal renders its first child's literal text: the
                // body as written, or the first argument when it has one
                let body_from = self.tok(0)?.begin;
                self.statements()?;
                let body_to = self.tok(0)?.begin;
                self.expect_end("#literal", t.begin + self.base)?;
                let text: String = match arg_texts.into_iter().next() {
                    None => self.src[body_from..body_to].iter().collect(),
                    Some(first) => first,
                };
                Node::Text(text.into())
            }
            "evaluate" => match args.len() {
                1 if matches!(args[0].0, Expr::Str(_) | Expr::Ref(_)) => {
                    let (arg, _) = args.into_iter().next().expect("one");
                    Node::Evaluate(Box::new(arg), t.begin)
                }
                // Velocity 1.7's own message
                _ => {
                    return Err(self.err_at(
                        t.begin,
                        "#evaluate() argument must be a string literal or reference",
                    ));
                }
            },
            "include" | "parse" => Node::Load(Box::new(LoadNode {
                directive: if name == "include" {
                    "include"
                } else {
                    "parse"
                },
                args: args.into_iter().map(|(a, _)| a).collect(),
                pos: t.begin,
            })),
            _ => unreachable!("every directive of DIRECTIVES is handled"),
        };
        self.leave();
        Ok(Some(node))
    }

    /// Macro.processAndRegister: `#macro(name $param ...) body #end`, registered now
    /// (it renders nothing). The checks and messages are Velocity 1.7's.
    fn macro_definition(
        &mut self,
        t: &Token,
        args: Vec<(Expr, Pos)>,
        texts: Vec<String>,
    ) -> PResult<Option<Node>> {
        let mut it = args.into_iter();
        let name = match it.next() {
            Some((Expr::Word(w), _)) => w,
            Some((_, at)) => {
                return Err(self.err_at(
                    at,
                    "Invalid first arg in #macro() directive - must be a word token (no ' or \" surrounding)",
                ));
            }
            None => {
                return Err(self.err_at(t.begin, "First argument to #macro() must be  macro name"));
            }
        };
        // Macro.getArgArray: each parameter is named by its text without the `$` (a
        // parameter such as 'x' is a name no reference can read)
        let params: Vec<Box<str>> = it
            .zip(texts.into_iter().skip(1))
            .map(|((a, _), text)| match a {
                Expr::Ref(r) => r.root,
                _ => text.into(),
            })
            .collect();
        let body = self.statements()?;
        self.expect_end("#macro", t.begin + self.base)?;
        self.macros
            .entry(name)
            .or_insert_with(|| Arc::new(MacroDef { params, body }));
        Ok(None)
    }

    fn starts_directive_arg(&mut self, k: usize) -> PResult<bool> {
        use Kind::*;
        Ok(match self.peek(k)? {
            Identifier | Word | StringLiteral | IntegerLiteral | LBracket
            | FloatingPointLiteral | LeftCurley | True | False => true,
            LCurly => self.peek(k + 1)? == Identifier,
            _ => false,
        })
    }

    /// DirectiveArg : Reference | Word | StringLiteral | IntegerLiteral | IntegerRange
    /// | FloatingPointLiteral | Map | ObjectArray | True | False
    fn directive_arg(&mut self) -> PResult<Expr> {
        use Kind::*;
        match self.peek(0)? {
            Identifier | LCurly => Ok(Expr::Ref(Box::new(self.reference()?))),
            Word => {
                let t = self.next()?;
                Ok(Expr::Word(t.image(self.src).into()))
            }
            StringLiteral => self.string_literal(),
            IntegerLiteral => self.integer_literal(),
            LBracket => {
                if self.range_ahead()? {
                    self.integer_range()
                } else {
                    self.object_array()
                }
            }
            FloatingPointLiteral => self.float_literal(),
            LeftCurley => self.map(),
            True => {
                self.skip()?;
                Ok(Expr::Bool(true))
            }
            False => {
                self.skip()?;
                Ok(Expr::Bool(false))
            }
            _ => Err(self.unexpected("an argument")?),
        }
    }

    // ------------------------------------------------------------ references

    /// Reference : ( <IDENTIFIER> (Index())* ( LOOKAHEAD(2) <DOT> ( LOOKAHEAD(3) Method()
    /// | Identifier() ) (Index())* )* ) | ( <LCURLY> <IDENTIFIER> ... <RCURLY> )
    fn reference(&mut self) -> PResult<Ref> {
        // The reference's tokens are the ones consumed from here on (its literal text
        // is made of them all, nested references and arguments included).
        let first_idx = self.idx;
        let first = self.next()?;
        let formal = first.kind == Kind::LCurly;
        let mut parts = Vec::new();
        let root_tok = if formal {
            Some(self.expect(Kind::Identifier, "a name after ${")?)
        } else {
            None
        };
        self.enter(first.begin)?;
        self.indexes(&mut parts)?;
        while self.peek(0)? == Kind::Dot && self.peek(1)? == Kind::Identifier {
            self.skip()?;
            let id = self.next()?;
            if self.peek(0)? == Kind::LParen && self.method_ahead()? {
                self.skip()?;
                let mut args = Vec::new();
                if self.starts_parameter(0)? {
                    args.push(self.parameter()?);
                    while self.peek(0)? == Kind::Comma {
                        self.skip()?;
                        args.push(self.parameter()?);
                    }
                }
                self.expect(Kind::RefMod2RParen, "')' closing the method call")?;
                parts.push(Part::Method(id.image(self.src).into(), args, id.begin));
            } else {
                parts.push(Part::Prop(id.image(self.src).into(), id.begin));
            }
            self.indexes(&mut parts)?;
        }
        if formal {
            let t = self.tok(0)?;
            if t.kind != Kind::RCurly {
                let at = t.begin;
                return Err(self.err_at(at, "unclosed ${ reference (missing '}')"));
            }
            self.skip()?;
        }
        self.leave();
        Ok(make_ref(
            self.src,
            first,
            root_tok,
            parts,
            &self.toks[first_idx + 1..self.idx],
        ))
    }

    fn indexes(&mut self, parts: &mut Vec<Part>) -> PResult<()> {
        while self.peek(0)? == Kind::IndexLBracket {
            let lb_begin = self.tok(0)?.begin;
            self.skip()?;
            // IndexParameter : [WS] (StringLiteral | IntegerLiteral | True | False |
            // Reference) [WS]
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            let e = match self.peek(0)? {
                Kind::StringLiteral => self.string_literal()?,
                Kind::IntegerLiteral => self.integer_literal()?,
                Kind::True => {
                    self.skip()?;
                    Expr::Bool(true)
                }
                Kind::False => {
                    self.skip()?;
                    Expr::Bool(false)
                }
                Kind::Identifier | Kind::LCurly => Expr::Ref(Box::new(self.reference()?)),
                _ => return Err(self.unexpected("an index value")?),
            };
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            self.expect(Kind::IndexRBracket, "']'")?;
            parts.push(Part::Index(Box::new(e), lb_begin));
        }
        Ok(())
    }

    /// LOOKAHEAD(3) Method(): IDENTIFIER (already consumed) <LPAREN> then a token that
    /// can start a Parameter or close the call.
    fn method_ahead(&mut self) -> PResult<bool> {
        if self.peek(1)? == Kind::RefMod2RParen {
            return Ok(true);
        }
        self.starts_parameter(1)
    }

    fn starts_parameter(&mut self, k: usize) -> PResult<bool> {
        use Kind::*;
        Ok(matches!(
            self.peek(k)?,
            Whitespace
                | StringLiteral
                | IntegerLiteral
                | LBracket
                | LeftCurley
                | True
                | False
                | Identifier
                | LCurly
                | FloatingPointLiteral
        ))
    }

    /// Parameter : [WS] (StringLiteral | IntegerLiteral | IntegerRange | Map | ObjectArray
    /// | True | False | Reference | FloatingPointLiteral) [WS]
    fn parameter(&mut self) -> PResult<Expr> {
        use Kind::*;
        if self.peek(0)? == Whitespace {
            self.skip()?;
        }
        let at = self.tok(0)?.begin;
        self.enter(at)?;
        let e = match self.peek(0)? {
            StringLiteral => self.string_literal()?,
            IntegerLiteral => self.integer_literal()?,
            LBracket => {
                if self.range_ahead()? {
                    self.integer_range()?
                } else {
                    self.object_array()?
                }
            }
            LeftCurley => self.map()?,
            True => {
                self.skip()?;
                Expr::Bool(true)
            }
            False => {
                self.skip()?;
                Expr::Bool(false)
            }
            Identifier | LCurly => Expr::Ref(Box::new(self.reference()?)),
            FloatingPointLiteral => self.float_literal()?,
            _ => return Err(self.unexpected("a value")?),
        };
        self.leave();
        if self.peek(0)? == Whitespace {
            self.skip()?;
        }
        Ok(e)
    }

    /// LOOKAHEAD( <LBRACKET> [<WHITESPACE>] ( Reference() | IntegerLiteral() )
    /// [<WHITESPACE>] <DOUBLEDOT> )
    fn range_ahead(&mut self) -> PResult<bool> {
        let save = self.idx;
        let depth = self.depth;
        let r = (|| -> PResult<bool> {
            self.next()?; // [
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            match self.peek(0)? {
                Kind::IntegerLiteral => {
                    self.skip()?;
                }
                Kind::Identifier => {
                    self.reference()?;
                }
                Kind::LCurly if self.peek(1)? == Kind::Identifier => {
                    self.reference()?;
                }
                _ => return Ok(false),
            }
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            Ok(self.peek(0)? == Kind::DoubleDot)
        })();
        self.idx = save;
        self.depth = depth;
        match r {
            Ok(b) => Ok(b),
            // a lexical error is an error whichever way the parse goes
            Err(e) if self.lex_failed.is_some() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// IntegerRange : <LBRACKET> [WS] (Reference | IntegerLiteral) [WS] <DOUBLEDOT> [WS]
    /// (Reference | IntegerLiteral) [WS] <RBRACKET>
    fn integer_range(&mut self) -> PResult<Expr> {
        let lb = self.next()?;
        let a = self.range_end()?;
        self.expect(Kind::DoubleDot, "'..'")?;
        let b = self.range_end()?;
        self.expect(Kind::RBracket, "']' closing the range")?;
        Ok(Expr::Range(Box::new(a), Box::new(b), lb.begin))
    }

    fn range_end(&mut self) -> PResult<Expr> {
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        let e = match self.peek(0)? {
            Kind::IntegerLiteral => self.integer_literal()?,
            Kind::Identifier | Kind::LCurly => Expr::Ref(Box::new(self.reference()?)),
            _ => return Err(self.unexpected("an integer or a reference in the range")?),
        };
        if self.peek(0)? == Kind::Whitespace {
            self.skip()?;
        }
        Ok(e)
    }

    /// ObjectArray : <LBRACKET> [ Parameter() ( <COMMA> Parameter() )* ] <RBRACKET>
    fn object_array(&mut self) -> PResult<Expr> {
        let lb = self.next()?;
        self.enter(lb.begin)?;
        let mut items = Vec::new();
        if self.starts_parameter(0)? {
            items.push(self.parameter()?);
            while self.peek(0)? == Kind::Comma {
                self.skip()?;
                items.push(self.parameter()?);
            }
        }
        self.expect(Kind::RBracket, "']' closing the list")?;
        self.leave();
        Ok(Expr::List(items))
    }

    /// Map : <LEFT_CURLEY> ( LOOKAHEAD(2) Parameter() <COLON> Parameter() ( <COMMA>
    /// Parameter() <COLON> Parameter() )* | [<WHITESPACE>] ) ( <RIGHT_CURLEY> | <RCURLY> )
    fn map(&mut self) -> PResult<Expr> {
        let lb = self.next()?;
        self.enter(lb.begin)?;
        let mut pairs = Vec::new();
        let k0 = self.peek(0)?;
        let entries = match k0 {
            Kind::Whitespace => self.starts_parameter(1)? && self.peek(1)? != Kind::Whitespace,
            _ => self.starts_parameter(0)?,
        };
        if entries {
            loop {
                let k = self.parameter()?;
                self.expect(Kind::Colon, "':' in the map")?;
                let v = self.parameter()?;
                pairs.push((k, v));
                if self.peek(0)? == Kind::Comma {
                    self.skip()?;
                } else {
                    break;
                }
            }
        } else if k0 == Kind::Whitespace {
            self.skip()?;
        }
        match self.peek(0)? {
            Kind::RightCurley | Kind::RCurly => {
                self.skip()?;
            }
            _ => return Err(self.unexpected("'}' closing the map")?),
        }
        self.leave();
        Ok(Expr::Map(pairs))
    }

    // ------------------------------------------------------------ literals

    fn string_literal(&mut self) -> PResult<Expr> {
        let t = self.next()?;
        let img = t.chars(self.src);
        let quote = img[0];
        let mut image: String = img[1..img.len() - 1].iter().collect();
        if quote == '"' {
            image = unescape_u(&image);
        }
        let doubled: String = [quote, quote].iter().collect();
        if image.contains(&doubled) {
            image = image.replace(&doubled, &quote.to_string());
        }
        let has_line_comment = image.contains("##");
        let interpolate = quote == '"' && img.iter().any(|c| matches!(c, '$' | '#'));
        let interp = if interpolate {
            let mut text = image.clone();
            if !has_line_comment {
                text.push(' ');
            }
            let cs: Vec<char> = text.chars().collect();
            self.enter(t.begin)?;
            let mut p = Parser::new(&cs, self.base + t.begin + 1, self.depth);
            let mut nodes = p.process()?;
            self.leave();
            // The string's nodes are placed within it: place them in this source, so
            // that errors met while rendering them point into the template.
            let by = t.begin + 1;
            shift_nodes(&mut nodes, by);
            // a #macro inside the string is registered as the template's
            for (name, def) in p.macros {
                let mut def = Arc::into_inner(def).expect("a new macro has one owner");
                shift_nodes(&mut def.body, by);
                self.macros.entry(name).or_insert_with(|| Arc::new(def));
            }
            Some(nodes)
        } else {
            None
        };
        Ok(Expr::Str(Box::new(StrLit {
            value: image.into(),
            interp,
            has_line_comment,
        })))
    }

    fn integer_literal(&mut self) -> PResult<Expr> {
        let t = self.next()?;
        let image = t.image(self.src);
        let s = image.as_str();
        if let Ok(v) = s.parse::<i32>() {
            return Ok(Expr::Int(IntLit::Int(v)));
        }
        if let Ok(v) = s.parse::<i64>() {
            return Ok(Expr::Int(IntLit::Long(v)));
        }
        match s.parse::<i128>() {
            Ok(v) => Ok(Expr::Int(IntLit::Big(v))),
            Err(_) => Err(self.err_at(t.begin, format!("integer {s} is too large"))),
        }
    }

    fn float_literal(&mut self) -> PResult<Expr> {
        let t = self.next()?;
        match t.image(self.src).parse::<f64>() {
            Ok(v) => Ok(Expr::Float(v)),
            Err(_) => Err(self.err_at(t.begin, format!("bad number {}", t.image(self.src)))),
        }
    }

    // ------------------------------------------------------------ expressions

    /// Expression : ConditionalOrExpression
    fn expression(&mut self) -> PResult<Expr> {
        if self.depth.is_multiple_of(super::eval::GROW_EVERY) {
            super::eval::grow(|| self.expression_here())
        } else {
            self.expression_here()
        }
    }

    fn expression_here(&mut self) -> PResult<Expr> {
        let at = self.tok(0)?.begin;
        self.enter(at)?;
        let e = self.or_expr()?;
        self.leave();
        Ok(e)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut l = self.and_expr()?;
        while self.peek(0)? == Kind::LogicalOr {
            let t = self.next()?;
            let r = self.and_expr()?;
            l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r), t.begin);
        }
        Ok(l)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut l = self.eq_expr()?;
        while self.peek(0)? == Kind::LogicalAnd {
            let t = self.next()?;
            let r = self.eq_expr()?;
            l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r), t.begin);
        }
        Ok(l)
    }

    fn eq_expr(&mut self) -> PResult<Expr> {
        let mut l = self.rel_expr()?;
        loop {
            let op = match self.peek(0)? {
                Kind::LogicalEquals => BinOp::Eq,
                Kind::LogicalNotEquals => BinOp::Ne,
                _ => return Ok(l),
            };
            let t = self.next()?;
            let r = self.rel_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r), t.begin);
        }
    }

    fn rel_expr(&mut self) -> PResult<Expr> {
        let mut l = self.add_expr()?;
        loop {
            let op = match self.peek(0)? {
                Kind::LogicalLt => BinOp::Lt,
                Kind::LogicalGt => BinOp::Gt,
                Kind::LogicalLe => BinOp::Le,
                Kind::LogicalGe => BinOp::Ge,
                _ => return Ok(l),
            };
            let t = self.next()?;
            let r = self.add_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r), t.begin);
        }
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let mut l = self.mul_expr()?;
        loop {
            let op = match self.peek(0)? {
                Kind::Plus => BinOp::Add,
                Kind::Minus => BinOp::Sub,
                _ => return Ok(l),
            };
            let t = self.next()?;
            let r = self.mul_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r), t.begin);
        }
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        let mut l = self.unary_expr()?;
        loop {
            let op = match self.peek(0)? {
                Kind::Multiply => BinOp::Mul,
                Kind::Divide => BinOp::Div,
                Kind::Modulus => BinOp::Mod,
                _ => return Ok(l),
            };
            let t = self.next()?;
            let r = self.unary_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r), t.begin);
        }
    }

    /// UnaryExpression : LOOKAHEAD(2) [<WHITESPACE>] <LOGICAL_NOT> UnaryExpression()
    /// | PrimaryExpression()
    fn unary_expr(&mut self) -> PResult<Expr> {
        let not = match self.peek(0)? {
            Kind::LogicalNot => true,
            Kind::Whitespace => self.peek(1)? == Kind::LogicalNot,
            _ => false,
        };
        if not {
            if self.peek(0)? == Kind::Whitespace {
                self.skip()?;
            }
            let t = self.next()?;
            self.enter(t.begin)?;
            let e = self.unary_expr()?;
            self.leave();
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary_expr()
    }

    /// PrimaryExpression : [WS] ( StringLiteral | Reference | IntegerLiteral | IntegerRange
    /// | FloatingPointLiteral | Map | ObjectArray | True | False | <LPAREN> Expression()
    /// <RPAREN> ) [WS]
    fn primary_expr(&mut self) -> PResult<Expr> {
        use Kind::*;
        if self.peek(0)? == Whitespace {
            self.skip()?;
        }
        let e = match self.peek(0)? {
            StringLiteral => self.string_literal()?,
            Identifier => Expr::Ref(Box::new(self.reference()?)),
            LCurly if self.peek(1)? == Identifier => Expr::Ref(Box::new(self.reference()?)),
            IntegerLiteral => self.integer_literal()?,
            LBracket => {
                if self.range_ahead()? {
                    self.integer_range()?
                } else {
                    self.object_array()?
                }
            }
            FloatingPointLiteral => self.float_literal()?,
            LeftCurley => self.map()?,
            True => {
                self.skip()?;
                Expr::Bool(true)
            }
            False => {
                self.skip()?;
                Expr::Bool(false)
            }
            LParen => {
                self.skip()?;
                let e = self.expression()?;
                self.expect(RParen, "')'")?;
                e
            }
            _ => return Err(self.unexpected("a value")?),
        };
        if self.peek(0)? == Whitespace {
            self.skip()?;
        }
        Ok(e)
    }
}

/// ASTReference.getRoot and init: the escape prefix, glued prefix, null text and root name
/// from the reference's first token.
/// `rest`: the reference's tokens after `first`.
fn make_ref(
    src: &[char],
    first: Token,
    root_tok: Option<Token>,
    parts: Vec<Part>,
    rest: &[Token],
) -> Ref {
    let mut image = first.image(src).clone();
    let mut esc_prefix = String::new();
    let mut more_prefix = String::new();
    let mut escaped = false;
    let literal_with = |img: &str| -> String {
        let mut s = String::new();
        first.push_literal(img, &mut s);
        for t in rest {
            t.push_literal(&t.image(src), &mut s);
        }
        s
    };
    if image.contains("\\!") {
        // `$\!foo`: rendered as `$!foo`, never evaluated
        let cs: Vec<char> = image.chars().collect();
        let mut i = cs.iter().position(|&c| c == '$').unwrap_or(0);
        while i < cs.len() && cs[i] != '\\' {
            i += 1;
        }
        let start = i;
        let mut count = 0;
        while i < cs.len() && cs[i] == '\\' {
            count += 1;
            i += 1;
        }
        let mut ns: String = cs[..start].iter().collect();
        ns.extend(&cs[start..start + count - 1]);
        ns.extend(&cs[start + count..]);
        return Ref {
            kind: RefKind::Normal,
            root: ns.clone().into(),
            parts,
            escaped: false,
            esc_prefix: "".into(),
            more_prefix: "".into(),
            null_string: ns.clone().into(),
            literal: literal_with(&image).into(),
            computable: false,
            pos: first.begin,
        };
    }
    if image.starts_with('\\') {
        let n = image.chars().take_while(|&c| c == '\\').count();
        escaped = n % 2 == 1;
        esc_prefix = "\\".repeat(n / 2);
        image = image[n..].to_string();
    }
    if let Some(loc) = image.rfind('$')
        && loc > 0
    {
        more_prefix.push_str(&image[..loc]);
        image = image[loc..].to_string();
    }
    let literal = literal_with(&image);
    let mut null_string = literal.clone();
    let (kind, root) = if image.starts_with("$!") {
        if !escaped {
            null_string = String::new();
        }
        let root = match image.strip_prefix("$!") {
            Some(rest) if !rest.starts_with('{') => rest.to_string(),
            _ => root_tok.map(|t| t.image(src)).unwrap_or_default(),
        };
        (RefKind::Quiet, root)
    } else if image == "${" {
        (
            RefKind::Formal,
            root_tok.map(|t| t.image(src)).unwrap_or_default(),
        )
    } else if let Some(r) = image.strip_prefix('$') {
        (RefKind::Normal, r.to_string())
    } else {
        (RefKind::Runt, image.clone())
    };
    Ref {
        kind,
        root: root.into(),
        parts,
        escaped,
        esc_prefix: esc_prefix.into(),
        more_prefix: more_prefix.into(),
        null_string: null_string.into(),
        literal: literal.into(),
        computable: true,
        pos: first.begin,
    }
}

/// Parser.escapedDirective: `\#if` renders `#if`; an odd backslash run before an
/// unknown word stays as it is.
fn escaped_directive(image: &str) -> String {
    let i_last = image.rfind('\\').unwrap_or(0);
    let directive = &image[i_last + 1..];
    let mut tag = &directive[1..];
    if tag.starts_with('{') {
        tag = &tag[1..tag.len() - 1];
    }
    let recognized = is_directive(tag) || matches!(tag, "if" | "end" | "set" | "else" | "elseif");
    if recognized {
        format!("{}{}", &image[..i_last / 2], directive)
    } else {
        image.to_string()
    }
}

/// ASTStringLiteral.unescape: only `\uXXXX` sequences are decoded.
fn unescape_u(s: &str) -> String {
    if !s.contains("\\u") {
        return s.to_string();
    }
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut units: Vec<u16> = Vec::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        if !units.is_empty() {
            out.push_str(&String::from_utf16_lossy(units));
            units.clear();
        }
    };
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '\\' && cs.get(i + 1) == Some(&'u') && i + 6 <= cs.len() {
            let hex: String = cs[i + 2..i + 6].iter().collect();
            if let Ok(v) = u16::from_str_radix(&hex, 16) {
                units.push(v);
                i += 6;
                continue;
            }
        }
        flush(&mut units, &mut out);
        out.push(cs[i]);
        i += 1;
    }
    flush(&mut units, &mut out);
    out
}

/// Moves every position of `nodes` by `by` (a string literal's nodes into the template).
pub(crate) fn shift_nodes(nodes: &mut [Node], by: usize) {
    map_nodes(nodes, &|p| p + by);
}

/// Puts every position of `nodes` at `at` (the text of an `#evaluate`, which has no
/// place in the template but its directive's).
pub(crate) fn place_nodes(nodes: &mut [Node], at: Pos) {
    map_nodes(nodes, &|_| at);
}

type PosMap<'f> = &'f dyn Fn(Pos) -> Pos;

fn map_nodes(nodes: &mut [Node], f: PosMap) {
    for n in nodes {
        match n {
            Node::Text(_) => {}
            Node::Ref(r) => map_ref(r, f),
            Node::Set(s) => {
                s.pos = f(s.pos);
                map_ref(&mut s.lhs, f);
                map_expr(&mut s.rhs, f);
            }
            Node::If(i) => {
                for (cond, body) in &mut i.branches {
                    map_expr(cond, f);
                    map_nodes(body, f);
                }
                if let Some(body) = &mut i.otherwise {
                    map_nodes(body, f);
                }
            }
            Node::Foreach(fe) => {
                fe.pos = f(fe.pos);
                map_expr(&mut fe.iterable, f);
                map_nodes(&mut fe.body, f);
            }
            Node::Break(arg, pos) | Node::Stop(arg, pos) => {
                *pos = f(*pos);
                if let Some(e) = arg {
                    map_expr(e, f);
                }
            }
            Node::Call(c) => {
                c.pos = f(c.pos);
                if let Some((_, at)) = &mut c.bad_word {
                    *at = f(*at);
                }
                map_exprs(&mut c.args, f);
                if let Some(body) = &mut c.body {
                    map_shared(body, f);
                }
            }
            Node::Define(d) => {
                d.pos = f(d.pos);
                map_shared(&mut d.body, f);
            }
            Node::Evaluate(e, pos) => {
                *pos = f(*pos);
                map_expr(e, f);
            }
            Node::Load(l) => {
                l.pos = f(l.pos);
                l.args.iter_mut().for_each(|a| map_expr(a, f));
            }
        }
    }
}

/// Bodies are shared once rendering starts; while parsing, each has one owner.
fn map_shared(body: &mut Arc<[Node]>, f: PosMap) {
    map_nodes(Arc::make_mut(body), f);
}

fn map_exprs(args: &mut Arc<[Expr]>, f: PosMap) {
    Arc::make_mut(args).iter_mut().for_each(|a| map_expr(a, f));
}

fn map_ref(r: &mut Ref, f: PosMap) {
    r.pos = f(r.pos);
    for p in &mut r.parts {
        match p {
            Part::Prop(_, pos) => *pos = f(*pos),
            Part::Method(_, args, pos) => {
                *pos = f(*pos);
                for a in args {
                    map_expr(a, f);
                }
            }
            Part::Index(e, pos) => {
                *pos = f(*pos);
                map_expr(e, f);
            }
        }
    }
}

fn map_expr(e: &mut Expr, f: PosMap) {
    match e {
        Expr::Str(s) => {
            if let Some(nodes) = &mut s.interp {
                map_nodes(nodes, f);
            }
        }
        Expr::Ref(r) => map_ref(r, f),
        Expr::Range(a, b, pos) | Expr::Bin(_, a, b, pos) => {
            *pos = f(*pos);
            map_expr(a, f);
            map_expr(b, f);
        }
        Expr::List(items) => items.iter_mut().for_each(|i| map_expr(i, f)),
        Expr::Map(pairs) => {
            for (k, v) in pairs {
                map_expr(k, f);
                map_expr(v, f);
            }
        }
        Expr::Not(x) => map_expr(x, f),
        Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Word(_) => {}
    }
}
