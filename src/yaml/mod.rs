//! A YAML document tree that remembers where every node came from.
//!
//! Specs and the config file are read into [`Node`]s so that every later error can
//! say `file:line:col`. The builder is iterative and bounded: nesting deeper than
//! [`MAX_DEPTH`] and alias expansion beyond [`MAX_NODES`] are refused, which is what
//! keeps "billion laughs" files and deeply nested garbage from hurting the daemon.

pub mod de;
pub mod trace;

use std::collections::HashMap;

use yaml_rust2::parser::{self, Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting of sequences and maps accepted in one document.
pub const MAX_DEPTH: usize = 64;
/// Most nodes one file may expand to, aliases included.
pub const MAX_NODES: usize = 100_000;

/// A position in a source text: 1-based line, 1-based column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// How a scalar was written; with its position, it maps a place in the scalar's text
/// back to the file (a template's own line inside a block scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Style {
    #[default]
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`: the position is the first content line, at the content's indentation.
    Literal,
    /// `>`: likewise.
    Folded,
    /// Not a scalar.
    None,
}

/// One YAML node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// The tag a scalar was written with, as far as YAML 1.2's core schema (10.3) reads
/// it; tags on lists and maps are not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tag {
    /// No tag: a plain scalar's type is resolved from its text, any other is a string.
    #[default]
    None,
    /// `!!str`, or the non-specific `!` (a string whatever its text looks like).
    Str,
    Int,
    Float,
    Bool,
    Null,
    /// Any other tag (`!local`, `!!binary`, ...): no core type, read as its text.
    Other,
}

impl Tag {
    fn from_parser(tag: Option<&parser::Tag>) -> Tag {
        let Some(tag) = tag else {
            return Tag::None;
        };
        // `!!x` arrives as handle "tag:yaml.org,2002:" and suffix "x"; a verbatim
        // `!<tag:yaml.org,2002:x>` as an empty handle and the whole tag; `!` alone as an
        // empty handle and suffix "!".
        let core = if tag.handle.is_empty() {
            tag.suffix.strip_prefix("tag:yaml.org,2002:")
        } else if tag.handle == "tag:yaml.org,2002:" {
            Some(tag.suffix.as_str())
        } else {
            None
        };
        match core {
            Some("str") => Tag::Str,
            Some("int") => Tag::Int,
            Some("float") => Tag::Float,
            Some("bool") => Tag::Bool,
            Some("null") => Tag::Null,
            _ if tag.handle.is_empty() && tag.suffix == "!" => Tag::Str,
            _ => Tag::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Bool => "!!bool",
            Tag::Null => "!!null",
            Tag::None | Tag::Str | Tag::Other => "!!str",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar with its text, whether it was written plain (unquoted, not a block),
    /// how, and its tag.
    Scalar {
        text: String,
        plain: bool,
        style: Style,
        tag: Tag,
    },
    Seq(Vec<Node>),
    /// Pairs in source order; duplicate keys are rejected while building.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `null`, `~` or nothing at all, written plain (or tagged `!!null`).
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar {
                text, plain, tag, ..
            } => match tag {
                Tag::None => *plain && is_null_text(text),
                Tag::Null => is_null_text(text),
                _ => false,
            },
            _ => false,
        }
    }

    /// `true`, `False`, ... written plain (or tagged `!!bool`).
    fn is_bool(&self) -> bool {
        match &self.value {
            Value::Scalar {
                text, plain, tag, ..
            } => match tag {
                Tag::None => *plain && is_bool(text),
                Tag::Bool => is_bool(text),
                _ => false,
            },
            _ => false,
        }
    }

    /// A scalar as YAML 1.2's core schema reads it (10.3.2, "Tag Resolution"): a plain
    /// scalar by its text, a tagged one by its tag, any other as a string. `None` for
    /// lists and maps; `Err` (saying why) for a tagged scalar its tag does not fit.
    pub fn resolve(&self) -> Option<Result<Core<'_>, String>> {
        match &self.value {
            Value::Scalar {
                text, plain, tag, ..
            } => Some(resolve(text, *plain, *tag)),
            _ => None,
        }
    }

    /// A short name of the node's kind for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match self.resolve() {
            Some(Ok(Core::Null)) => "null",
            Some(Ok(Core::Bool(_))) => "a boolean",
            Some(Ok(Core::Int(_) | Core::UInt(_))) => "an integer",
            Some(Ok(Core::Float(_))) => "a number",
            Some(Ok(Core::Str(_)) | Err(_)) => "a string",
            None if matches!(self.value, Value::Seq(_)) => "a list",
            None => "a map",
        }
    }

    /// The scalar's text when it can stand for a string (not null, not a boolean).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            _ if self.is_null() || self.is_bool() => None,
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// How the node was written (`Style::None` for lists and maps).
    pub fn style(&self) -> Style {
        match &self.value {
            Value::Scalar { style, .. } => *style,
            _ => Style::None,
        }
    }

    fn count(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(pairs) => {
                1 + pairs
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

fn is_bool(text: &str) -> bool {
    matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A scalar's value under YAML 1.2's core schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Core<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that fits 64 bits.
    UInt(u64),
    /// A float, or an integer too large for 64 bits (as serde_json reads such digits
    /// in a JSON body). May be infinite or NaN (`.inf`, `.nan`).
    Float(f64),
    Str(&'a str),
}

/// YAML 1.2 core schema tag resolution (10.3.2): `plain` scalars without a tag are
/// null, booleans, integers (decimal, `0o` octal, `0x` hex) or floats (`1.5`, `1e3`,
/// `.inf`, `.nan`) by the spec's regular expressions, else strings; quoted and block
/// scalars are strings; an explicit core tag must fit its text.
pub fn resolve(text: &str, plain: bool, tag: Tag) -> Result<Core<'_>, String> {
    let implicit = tag == Tag::None && plain;
    if (implicit || tag == Tag::Null) && is_null_text(text) {
        return Ok(Core::Null);
    }
    if (implicit || tag == Tag::Bool) && is_bool(text) {
        return Ok(Core::Bool(text.starts_with(['t', 'T'])));
    }
    if (implicit || tag == Tag::Int)
        && let Some(n) = core_int(text)
    {
        return Ok(n);
    }
    // A float's expression also matches decimal integers: `!!float 3` is 3.0.
    if (implicit || tag == Tag::Float)
        && let Some(f) = core_float(text)
    {
        return Ok(Core::Float(f));
    }
    match tag {
        Tag::None | Tag::Str | Tag::Other => Ok(Core::Str(text)),
        Tag::Int | Tag::Float | Tag::Bool | Tag::Null => {
            let what = match tag {
                Tag::Int => "an integer (decimal, 0o octal or 0x hexadecimal)",
                Tag::Float => "a number (like 1.5, -2e3, .inf or .nan)",
                Tag::Bool => "true or false (or True, TRUE, False, FALSE)",
                _ => "null (or Null, NULL, ~ or nothing)",
            };
            Err(format!(
                "is tagged {} but `{text}` is not {what} in YAML 1.2's core schema; fix the value or drop the tag",
                tag.name()
            ))
        }
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
fn core_int(text: &str) -> Option<Core<'static>> {
    let (digits, radix) = if let Some(d) = text.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = text.strip_prefix("0x") {
        (d, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(if let Ok(i) = text.parse::<i64>() {
            Core::Int(i)
        } else if let Some(u) = unsigned
            .parse::<u64>()
            .ok()
            .filter(|_| !text.starts_with('-'))
        {
            Core::UInt(u)
        } else {
            Core::Float(text.parse().ok()?)
        });
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(match u64::from_str_radix(digits, radix) {
        Ok(u) => i64::try_from(u).map_or(Core::UInt(u), Core::Int),
        Err(_) => Core::Float(
            digits
                .chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0.0, |acc, d| acc * f64::from(radix) + f64::from(d)),
        ),
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.(inf|Inf|INF)` or
/// `\.(nan|NaN|NAN)`.
fn core_float(text: &str) -> Option<f64> {
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    // Rust's grammar for f64 takes every string the expression above matches.
    text.parse().ok()
}

/// A YAML syntax or structure error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// A parsed document: its root node, or `None` for an empty document (only comments).
pub type Document = Option<Node>;

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        pairs: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

/// Lines of `text` that hold something: line breaks are `\n`, `\r\n` or a lone `\r`
/// (as YAML counts them), and nothing after a final break is a line. At least 1.
fn line_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    let ends_with_break = text.ends_with('\n') || text.ends_with('\r');
    (breaks + usize::from(!ends_with_break)).max(1)
}

/// Parse every document of a YAML stream.
///
/// The parser places empty values and some syntax errors at the next token, which can
/// be past the last line; such positions are moved to the start of the last line so
/// that every error names a line of the file.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    let last_line = line_count(text);
    let clamp = |pos: Pos| {
        if pos.line > last_line {
            Pos {
                line: last_line,
                col: 1,
            }
        } else {
            pos
        }
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;

    loop {
        let (event, marker) = parser.next_token().map_err(|e| YamlError {
            pos: clamp(Pos::from_marker(e.marker())),
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        let pos = clamp(Pos::from_marker(&marker));
        let finished: Option<(Node, usize)> = match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing => None,
            Event::DocumentStart => {
                root = None;
                anchors.clear();
                None
            }
            Event::DocumentEnd => {
                // A document of only comments parses as one empty scalar: no document.
                docs.push(root.take().filter(|n| !n.is_null()));
                None
            }
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == TScalarStyle::Plain;
                let style = match style {
                    TScalarStyle::Plain => Style::Plain,
                    TScalarStyle::SingleQuoted => Style::SingleQuoted,
                    TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    TScalarStyle::Literal => Style::Literal,
                    TScalarStyle::Folded => Style::Folded,
                };
                Some((
                    Node {
                        value: Value::Scalar {
                            text,
                            plain,
                            style,
                            tag: Tag::from_parser(tag.as_ref()),
                        },
                        pos,
                    },
                    anchor,
                ))
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos,
                    message: "alias refers to an unknown anchor".into(),
                })?;
                nodes += node.count();
                if nodes > MAX_NODES {
                    return Err(YamlError {
                        pos,
                        message: format!(
                            "aliases expand to more than {MAX_NODES} nodes (an alias bomb?); write the values out or split the file"
                        ),
                    });
                }
                Some((node, 0))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        pos,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        pos,
                        anchor,
                        pairs: Vec::new(),
                        pending_key: None,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => Some((
                    Node {
                        value: Value::Seq(items),
                        pos,
                    },
                    anchor,
                )),
                Some(Frame::Map {
                    pos, anchor, pairs, ..
                }) => Some((
                    Node {
                        // A block map's start marker sits after its first key: point
                        // at the first key instead, where a person sees the map begin.
                        pos: pairs.first().map_or(pos, |(k, _)| k.pos.min(pos)),
                        value: Value::Map(pairs),
                    },
                    anchor,
                )),
                None => None,
            },
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!("file has more than {MAX_NODES} YAML nodes; split it"),
            });
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                pairs, pending_key, ..
            }) => match pending_key.take() {
                None => {
                    if let Some((first, _)) = pairs.iter().find(|(k, _)| same_key(k, &node)) {
                        return Err(YamlError {
                            pos: node.pos,
                            message: format!(
                                "duplicate key `{}` (first at line {})",
                                key_text(&node),
                                first.pos.line
                            ),
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => pairs.push((key, node)),
            },
        }
    }
    Ok(docs)
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar { text: x, .. }, Value::Scalar { text: y, .. }) => x == y,
        _ => false,
    }
}

fn key_text(node: &Node) -> &str {
    match &node.value {
        Value::Scalar { text, .. } => text,
        _ => "<complex key>",
    }
}

/// The value of field `name` in `map`, if present.
pub fn field<'a>(map: &'a [(Node, Node)], name: &str) -> Option<&'a Node> {
    map.iter()
        .find(|(k, _)| key_text(k) == name)
        .map(|(_, v)| v)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut prev = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let cur = row[j];
            row[j] = (row[j] + 1)
                .min(row[j - 1] + 1)
                .min(prev + usize::from(a[i - 1] != b[j - 1]));
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_documents_and_values() {
        let docs = parse_documents("a: 1\n---\n# only a comment\nb:\n  c: 'x'\n").unwrap();
        assert_eq!(docs.len(), 2);
        let second = docs[1].as_ref().unwrap().as_map().unwrap();
        assert_eq!(second[0].0.pos, Pos { line: 4, col: 1 });
        let inner = second[0].1.as_map().unwrap();
        assert_eq!(inner[0].1.pos, Pos { line: 5, col: 6 });
        assert_eq!(inner[0].1.as_str(), Some("x"));
    }

    #[test]
    fn empty_and_comment_only_streams_have_no_document_roots() {
        assert!(parse_documents("").unwrap().is_empty());
        let docs = parse_documents("# nothing here\n").unwrap();
        assert!(docs.iter().all(Option::is_none));
    }

    #[test]
    fn duplicate_keys_are_refused_with_both_lines() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(err.message.contains("duplicate key `a` (first at line 1)"));
    }

    #[test]
    fn positions_never_pass_the_last_line() {
        // An empty value is placed at the next token: the end of the stream.
        let docs = parse_documents("a:\n  b: # comment").unwrap();
        let inner = docs[0].as_ref().unwrap().as_map().unwrap()[0]
            .1
            .as_map()
            .unwrap();
        assert_eq!(inner[0].1.pos.line, 2);
        assert_eq!(line_count("a\r\nb\rc\n"), 3);
        assert_eq!(line_count(""), 1);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(200) + &"]".repeat(200);
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("nesting deeper"), "{}", err.message);
    }

    #[test]
    fn small_aliases_are_expanded() {
        let docs = parse_documents("t: &t hello\nu: *t\n").unwrap();
        let map = docs[0].as_ref().unwrap().as_map().unwrap();
        assert_eq!(map[1].1.as_str(), Some("hello"));
    }
}
