//! serde over the positioned tree: `#[derive(Deserialize)]` models (specs, response
//! tests, the config) are read from a [`Node`], so serde does the type checking and the
//! field matching while every problem keeps its `line:col`.
//!
//! Why not a YAML crate's own serde deserializer: serde-saphyr was evaluated (issue 11)
//! and does all of this, but reading 100k specs cost 1.6-2.3x the instructions of
//! yaml-rust2's event parser plus this tree (callgrind, 5,000 documents), which breaks
//! the 100k load budget; the tree also already carries our limits (depth, alias
//! expansion, node count, duplicate keys) and positions.
//!
//! Problems are collected, not only the first: a value of the wrong type, a bad enum
//! value and an unknown field are recorded with their position and deserialization
//! goes on with a neutral value, so one run reports every such problem of a document
//! (as a person fixing a file wants). Unknown fields are refused for every struct, the
//! equivalent of `#[serde(deny_unknown_fields)]` (which the models also carry, for the
//! JSON Schema), but all of them, each with a "did you mean" hint.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Visitor};

use super::{Core, Node, Pos, Style, Value, edit_distance};

/// Styles by index, as [`Spanned`]'s private struct carries them.
const STYLES: [Style; 6] = [
    Style::Plain,
    Style::SingleQuoted,
    Style::DoubleQuoted,
    Style::Literal,
    Style::Folded,
    Style::None,
];

/// One problem in a document, at the node it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
}

/// Deserialize `node` into `T`: the value, or every problem found (with positions).
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, Vec<Problem>> {
    match read_node(node) {
        (Some(value), problems) if problems.is_empty() => Ok(value),
        (_, problems) => Err(problems),
    }
}

/// Deserialize `node` into `T`, going on after the problems it can step over: the value
/// (with a neutral value where a problem was, so domain checks can still run on the
/// rest), if serde could build one, and every problem found.
pub fn read_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> (Option<T>, Vec<Problem>) {
    let problems = RefCell::new(Vec::new());
    let result = T::deserialize(NodeDe {
        node,
        problems: &problems,
        path: &Path::Root,
    });
    let mut problems = problems.into_inner();
    match result {
        Ok(value) => (Some(value), problems),
        Err(e) => {
            problems.push(Problem {
                pos: e.pos.unwrap_or(node.pos),
                message: e.message,
            });
            (None, problems)
        }
    }
}

/// A value and the position of the YAML node it was read from. Only [`from_node`] can
/// fill it (it answers a private struct name); its JSON Schema is `T`'s.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spanned<T> {
    pub pos: Pos,
    /// How a scalar value was written (`Style::None` for lists and maps).
    pub style: Style,
    pub value: T,
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

const SPANNED: &str = "$apigw_reconciler::Spanned";
const SPANNED_FIELDS: [&str; 4] = ["$line", "$col", "$style", "$value"];

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Spanned<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value with its position")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let missing = || de::Error::custom("a position, then a value");
                map.next_key::<de::IgnoredAny>()?.ok_or_else(missing)?;
                let line = map.next_value()?;
                map.next_key::<de::IgnoredAny>()?.ok_or_else(missing)?;
                let col = map.next_value()?;
                map.next_key::<de::IgnoredAny>()?.ok_or_else(missing)?;
                let style: u8 = map.next_value()?;
                map.next_key::<de::IgnoredAny>()?.ok_or_else(missing)?;
                let value = map.next_value()?;
                Ok(Spanned {
                    pos: Pos { line, col },
                    style: STYLES
                        .get(usize::from(style))
                        .copied()
                        .unwrap_or(Style::None),
                    value,
                })
            }
        }
        deserializer.deserialize_struct(
            SPANNED,
            &SPANNED_FIELDS,
            SpannedVisitor(std::marker::PhantomData),
        )
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// The error type serde's visitors build; it learns its position on the way out.
#[derive(Debug)]
pub struct Error {
    pos: Option<Pos>,
    message: String,
}

impl Error {
    fn at(mut self, pos: Pos) -> Error {
        self.pos.get_or_insert(pos);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(msg: M) -> Error {
        Error {
            pos: None,
            message: msg.to_string(),
        }
    }
}

/// Where in the document a value sits, for messages (`responseTemplates.text/html`).
enum Path<'a> {
    Root,
    /// A struct field.
    Field(&'a Path<'a>, &'a str),
    /// The value of a map entry ("value of `responseTemplates.text/html`").
    Entry(&'a Path<'a>, &'a str),
    /// A map's key ("keys of `responseTemplates`").
    Key(&'a Path<'a>),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("the document"),
            Path::Field(Path::Root, name) | Path::Entry(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) | Path::Entry(parent, name) => write!(f, "{parent}.{name}"),
            Path::Key(parent) => write!(f, "{parent}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

struct NodeDe<'de, 'a> {
    node: &'de Node,
    problems: &'a RefCell<Vec<Problem>>,
    path: &'a Path<'a>,
}

impl<'de> NodeDe<'de, '_> {
    fn problem(&self, message: String) {
        self.problems.borrow_mut().push(Problem {
            pos: self.node.pos,
            message,
        });
    }

    /// What a message says the node is: "`expect.json`", "value of `context.a`".
    fn subject(&self) -> String {
        match self.path {
            Path::Entry(..) => format!("value of `{}`", self.path),
            Path::Key(_) => format!("keys of `{}`", self.path),
            _ => format!("`{}`", self.path),
        }
    }

    /// Record "`path` must be <what the visitor expects>, found <kind>".
    fn wrong_type(&self, expected: &dyn Expected) {
        self.problem(format!(
            "{} must be {expected}, found {}",
            self.subject(),
            self.node.kind_name()
        ));
    }

    fn scalar(&self) -> Option<&'de str> {
        match &self.node.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

macro_rules! number {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.scalar().and_then(|s| s.parse::<$ty>().ok()) {
                Some(n) if !self.node.is_null() => visitor.$visit::<Error>(n),
                _ => {
                    self.wrong_type(&visitor);
                    visitor.$visit::<Error>(<$ty>::default())
                }
            }
            .map_err(|e| e.at(self.node.pos))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = Error;

    /// A free-form value (`expect.json`, `request.context`): scalars are typed by YAML
    /// 1.2's core schema, so `249.99` is a number and `'249.99'` a string. The target is
    /// JSON, which has no infinity or NaN: `.inf`, `.nan` (and floats too large for a
    /// double) are refused at their place rather than read as something else.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let pos = self.node.pos;
        let Some(core) = self.node.resolve() else {
            return match &self.node.value {
                Value::Seq(_) => self.deserialize_seq(visitor),
                _ => self.deserialize_map(visitor),
            };
        };
        match core {
            Ok(Core::Null) => visitor.visit_unit(),
            Ok(Core::Bool(b)) => visitor.visit_bool(b),
            Ok(Core::Int(i)) => visitor.visit_i64(i),
            Ok(Core::UInt(u)) => visitor.visit_u64(u),
            Ok(Core::Float(f)) if f.is_finite() => visitor.visit_f64(f),
            Ok(Core::Float(_)) => {
                let text = self.scalar().unwrap_or_default();
                self.problem(format!(
                    "{} is `{text}`, which YAML reads as a number JSON cannot hold (infinite \
                     or not a number); quote it ('{text}') if you mean the text",
                    self.subject()
                ));
                visitor.visit_unit()
            }
            Ok(Core::Str(text)) => visitor.visit_borrowed_str(text),
            Err(why) => {
                self.problem(format!("{} {why}", self.subject()));
                visitor.visit_unit()
            }
        }
        .map_err(|e: Error| e.at(pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Scalar {
                text, plain: true, ..
            } if super::is_bool(text) => visitor.visit_bool(text.eq_ignore_ascii_case("true")),
            _ => {
                self.wrong_type(&"true or false");
                visitor.visit_bool(false)
            }
        }
        .map_err(|e: Error| e.at(self.node.pos))
    }

    number!(deserialize_i8, visit_i8, i8);
    number!(deserialize_i16, visit_i16, i16);
    number!(deserialize_i32, visit_i32, i32);
    number!(deserialize_i64, visit_i64, i64);
    number!(deserialize_u8, visit_u8, u8);
    number!(deserialize_u16, visit_u16, u16);
    number!(deserialize_u32, visit_u32, u32);
    number!(deserialize_u64, visit_u64, u64);
    number!(deserialize_f32, visit_f32, f32);
    number!(deserialize_f64, visit_f64, f64);

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    /// Any scalar but a null or a boolean reads as its text (`statusCode: 200` is the
    /// string "200"; YAML types follow the target, as the spec format says).
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.as_str() {
            Some(text) => visitor.visit_borrowed_str(text),
            None => {
                self.wrong_type(&visitor);
                visitor.visit_borrowed_str("")
            }
        }
        .map_err(|e: Error| e.at(self.node.pos))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            visitor.visit_none()
        } else {
            let pos = self.node.pos;
            visitor.visit_some(self).map_err(|e| e.at(pos))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !self.node.is_null() {
            self.wrong_type(&visitor);
        }
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let items: &[Node] = match &self.node.value {
            Value::Seq(items) => items,
            _ => {
                self.wrong_type(&visitor);
                &[]
            }
        };
        visitor
            .visit_seq(Items {
                items: items.iter().enumerate(),
                problems: self.problems,
                path: self.path,
            })
            .map_err(|e| e.at(self.node.pos))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.entries(None, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess {
                de: Some(self),
                step: 0,
            });
        }
        self.entries(Some(fields), visitor)
    }

    /// A scalar naming one of `variants` (unit variants only).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let text = self.node.as_str();
        let variant = match text {
            Some(t) if variants.contains(&t) => t,
            _ => {
                let listed: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
                let options = match listed.as_slice() {
                    [a, b] => format!("{a} or {b}"),
                    _ => format!("one of {}", listed.join(", ")),
                };
                let found =
                    text.map_or_else(|| self.node.kind_name().to_owned(), |t| format!("`{t}`"));
                self.problem(format!("`{}` must be {options}, found {found}", self.path));
                variants.first().copied().unwrap_or_default()
            }
        };
        visitor
            .visit_enum(variant.into_deserializer())
            .map_err(|e: Error| e.at(self.node.pos))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

impl<'de> NodeDe<'de, '_> {
    /// A map (`fields` None) or a struct: keys are checked against `fields`, and
    /// unknown ones are recorded and skipped.
    fn entries<V: Visitor<'de>>(
        self,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let pairs: &[(Node, Node)] = match &self.node.value {
            Value::Map(pairs) => pairs,
            _ => {
                self.wrong_type(&visitor);
                &[]
            }
        };
        visitor
            .visit_map(Entries {
                pairs: pairs.iter(),
                value: None,
                fields,
                problems: self.problems,
                path: self.path,
            })
            .map_err(|e| e.at(self.node.pos))
    }
}

struct Items<'de, 'a, I: Iterator<Item = (usize, &'de Node)>> {
    items: I,
    problems: &'a RefCell<Vec<Problem>>,
    path: &'a Path<'a>,
}

impl<'de, I: Iterator<Item = (usize, &'de Node)>> de::SeqAccess<'de> for Items<'de, '_, I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, node)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(self.path, i);
        seed.deserialize(NodeDe {
            node,
            problems: self.problems,
            path: &path,
        })
        .map(Some)
        .map_err(|e| e.at(node.pos))
    }
}

struct Entries<'de, 'a> {
    pairs: std::slice::Iter<'de, (Node, Node)>,
    value: Option<(&'de Node, &'de Node)>,
    fields: Option<&'static [&'static str]>,
    problems: &'a RefCell<Vec<Problem>>,
    path: &'a Path<'a>,
}

impl<'de> de::MapAccess<'de> for Entries<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.pairs.by_ref() {
            if let Some(fields) = self.fields {
                let name = key.as_str().unwrap_or_default();
                if !fields.contains(&name) {
                    let message = match self.path {
                        Path::Root => unknown_field(name, fields),
                        path => format!("in `{path}`: {}", unknown_field(name, fields)),
                    };
                    self.problems.borrow_mut().push(Problem {
                        pos: key.pos,
                        message,
                    });
                    continue;
                }
            }
            self.value = Some((key, value));
            let path = Path::Key(self.path);
            return seed
                .deserialize(NodeDe {
                    node: key,
                    problems: self.problems,
                    path: &path,
                })
                .map(Some)
                .map_err(|e| e.at(key.pos));
        }
        Ok(None)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("value asked before its key"))?;
        let name = key.as_str().unwrap_or("<key>");
        let path = match self.fields {
            Some(_) => Path::Field(self.path, name),
            None => Path::Entry(self.path, name),
        };
        seed.deserialize(NodeDe {
            node: value,
            problems: self.problems,
            path: &path,
        })
        .map_err(|e| e.at(value.pos))
    }
}

/// `unknown field `x`` with the closest known name, or the list of known ones.
pub fn unknown_field(name: &str, known: &[&str]) -> String {
    let hint = known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_else(|| format!("; known fields: {}", known.join(", ")));
    format!("unknown field `{name}`{hint}")
}

/// Feeds [`Spanned`]'s visitor: line, column, then the value itself.
struct SpannedAccess<'de, 'a> {
    de: Option<NodeDe<'de, 'a>>,
    step: usize,
}

impl<'de> de::MapAccess<'de> for SpannedAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.step >= SPANNED_FIELDS.len() {
            return Ok(None);
        }
        seed.deserialize(SPANNED_FIELDS[self.step].into_deserializer())
            .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        self.step += 1;
        let de = self.de.as_ref().expect("value before the end");
        match self.step {
            1 => seed.deserialize((de.node.pos.line as u64).into_deserializer()),
            2 => seed.deserialize((de.node.pos.col as u64).into_deserializer()),
            3 => {
                let style = de.node.style();
                let index = STYLES.iter().position(|s| *s == style).unwrap_or(0) as u8;
                seed.deserialize(index.into_deserializer())
            }
            _ => seed.deserialize(self.de.take().expect("the value once")),
        }
    }
}

/// A YAML map read as its entries in source order, each key with its position (the
/// tree builder already refused duplicate keys). Its JSON Schema is an object whose
/// values are `V`'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairs<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: de::Deserialize<'de>> de::Deserialize<'de> for Pairs<V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: de::Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key()? {
                    pairs.push((key, map.next_value()?));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

impl<V: schemars::JsonSchema> schemars::JsonSchema for Pairs<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>(),
        })
    }
    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod core_schema;
