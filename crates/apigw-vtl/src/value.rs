//! The Java objects a template handles, with the Java behaviour Velocity exposes:
//! `toString()`, `equals()`, the numeric tower of Velocity's `MathUtils`, and the JSON text
//! json-smart writes for API Gateway's JSON arrays.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use super::budget;

/// A fast non-cryptographic hasher (FxHash) for the engine's own maps: keys come from the
/// template and the response being tested, not from an adversary across a network.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// Which `java.util.List` a list is; they differ in `toString()` (and mutability).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// `java.util.ArrayList` (list literals, ranges): `[a, b]`.
    Array,
    /// json-smart's `JSONArray` (arrays from `$input.path`/`$util.parseJson`): JSON text.
    Json,
    /// A `String[]` (from `split`): Velocity lets templates use it like a fixed-size list.
    StrArray,
    /// A read-only view (`keySet()`, `values()`, `entrySet()`): `[a, b]`.
    View,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// java.lang.Integer
    Int(i32),
    /// java.lang.Long
    Long(i64),
    /// java.math.BigInteger (bounded to i128 here)
    Big(i128),
    /// java.lang.Double
    Double(f64),
    /// java.lang.Character (from `charAt`)
    Char(char),
    Str(JStr),
    List(Rc<ListCell>, ListKind),
    /// java.util.LinkedHashMap
    Map(Rc<MapCell>),
    /// java.util.Map.Entry
    Entry(Rc<(Value, Value)>),
    /// `$foreach`
    Scope(Rc<Scope>),
    /// `$input`
    Input,
    /// `$util`
    Util,
    /// A `#define` block or a block macro call's `$bodyContent` (Velocity's
    /// `Block.Reference`): printing it renders its body.
    Block(Rc<BlockRef>),
}

/// What a [`Value::Block`] renders, and how deep it is rendering itself now.
#[derive(Debug)]
pub(crate) struct BlockRef {
    pub body: std::sync::Arc<[super::parse::Node]>,
    pub depth: Cell<usize>,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(JStr::new(Rc::from(s)))
    }

    pub fn string(s: String) -> Value {
        Value::Str(JStr::new(Rc::from(s)))
    }

    pub fn list(v: Vec<Value>, k: ListKind) -> Value {
        Value::List(Rc::new(ListCell::new(v)), k)
    }

    pub fn map(m: JMap) -> Value {
        Value::Map(Rc::new(MapCell::new(m)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Java class name (used in messages and for `equals` between classes).
    pub fn class_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "java.lang.Boolean",
            Value::Int(_) => "java.lang.Integer",
            Value::Long(_) => "java.lang.Long",
            Value::Big(_) => "java.math.BigInteger",
            Value::Double(_) => "java.lang.Double",
            Value::Char(_) => "java.lang.Character",
            Value::Str(_) => "java.lang.String",
            Value::List(_, ListKind::Array) => "java.util.ArrayList",
            Value::List(_, ListKind::Json) => "net.minidev.json.JSONArray",
            Value::List(_, ListKind::StrArray) => "java.lang.String[]",
            Value::List(_, ListKind::View) => "java.util.Collection",
            Value::Map(_) => "java.util.LinkedHashMap",
            Value::Entry(_) => "java.util.Map$Entry",
            Value::Scope(_) => "org.apache.velocity.runtime.directive.ForeachScope",
            Value::Input => "Input",
            Value::Util => "Util",
            Value::Block(_) => "org.apache.velocity.runtime.directive.Block$Reference",
        }
    }
}

/// Strings shorter than this are not counted one by one: the slot of the list, map
/// or variable holding one is priced to cover it (see [`SLOT_BYTES`]), which keeps
/// the accounting off the common path of small strings.
pub(crate) const SMALL_STRING: usize = 64;

/// A `java.lang.String`: shared text whose bytes count as live (see
/// [`budget::live_bytes`]) from its creation until its last clone is dropped.
#[derive(Debug)]
pub(crate) struct JStr(Rc<str>);

impl JStr {
    #[inline]
    pub fn new(s: Rc<str>) -> JStr {
        if s.len() >= SMALL_STRING {
            budget::account(s.len() as i64);
        }
        JStr(s)
    }
}

impl Clone for JStr {
    #[inline]
    fn clone(&self) -> Self {
        JStr(self.0.clone())
    }
}

impl Drop for JStr {
    #[inline]
    fn drop(&mut self) {
        if self.0.len() >= SMALL_STRING && Rc::strong_count(&self.0) == 1 {
            budget::account(-(self.0.len() as i64));
        }
    }
}

impl std::ops::Deref for JStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for JStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq for JStr {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl Eq for JStr {}

impl std::hash::Hash for JStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (*self.0).hash(state)
    }
}

/// Live bytes one element of a list costs: the value, and a small string's text and
/// header if it holds one (a map entry costs [`MAP_ENTRY_BYTES`]).
pub(crate) const SLOT_BYTES: usize = VALUE_BYTES + SMALL_STRING + 16;
/// The size of a value itself.
pub(crate) const VALUE_BYTES: usize = std::mem::size_of::<Value>();
/// A map entry: key, value and its index entry.
pub(crate) const MAP_ENTRY_BYTES: usize = 3 * SLOT_BYTES;

/// A list's storage. Dropping it does not recurse, so a hostile template that nests
/// lists a million deep cannot overflow the stack when they are freed. Its slots count
/// as live bytes: those it was made with and those [`ListCell::charge`]d as it grew.
#[derive(Debug)]
pub(crate) struct ListCell(pub RefCell<Vec<Value>>, Cell<usize>);

/// A map's storage (dropped without recursion, like [`ListCell`]; its entries counted
/// the same way).
#[derive(Debug)]
pub(crate) struct MapCell(pub RefCell<JMap>, Cell<usize>);

impl ListCell {
    pub fn new(items: Vec<Value>) -> ListCell {
        let n = items.len();
        if n > 0 {
            budget::account((n * SLOT_BYTES) as i64);
        }
        ListCell(RefCell::new(items), Cell::new(n))
    }

    /// Counts the slots it holds now (after it grew or shrank).
    pub fn recount(&self) {
        let n = self.0.borrow().len();
        if n != self.1.get() {
            budget::account((n as i64 - self.1.get() as i64) * SLOT_BYTES as i64);
            self.1.set(n);
        }
    }
}

impl MapCell {
    pub fn new(m: JMap) -> MapCell {
        let n = m.len();
        if n > 0 {
            budget::account((n * MAP_ENTRY_BYTES) as i64);
        }
        MapCell(RefCell::new(m), Cell::new(n))
    }

    /// Counts the entries it holds now.
    pub fn recount(&self) {
        let n = self.0.borrow().len();
        if n != self.1.get() {
            budget::account((n as i64 - self.1.get() as i64) * MAP_ENTRY_BYTES as i64);
            self.1.set(n);
        }
    }
}

impl std::ops::Deref for ListCell {
    type Target = RefCell<Vec<Value>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::Deref for MapCell {
    type Target = RefCell<JMap>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn drop_iteratively(mut stack: Vec<Value>) {
    while let Some(v) = stack.pop() {
        match v {
            Value::List(rc, _) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    stack.append(&mut cell.0.borrow_mut());
                }
            }
            Value::Map(rc) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    let mut m = cell.0.borrow_mut();
                    for (k, v) in m.entries.drain(..) {
                        stack.push(k);
                        stack.push(v);
                    }
                    m.index.clear();
                    m.strs.clear();
                }
            }
            _ => {}
        }
    }
}

impl Drop for ListCell {
    fn drop(&mut self) {
        if self.1.get() > 0 {
            budget::account(-((self.1.get() * SLOT_BYTES) as i64));
        }
        let items = std::mem::take(self.0.get_mut());
        if items
            .iter()
            .any(|v| matches!(v, Value::List(..) | Value::Map(_)))
        {
            drop_iteratively(items);
        }
    }
}

impl Drop for MapCell {
    fn drop(&mut self) {
        if self.1.get() > 0 {
            budget::account(-((self.1.get() * MAP_ENTRY_BYTES) as i64));
        }
        let m = self.0.get_mut();
        if m.entries.iter().any(|(k, v)| {
            matches!(k, Value::List(..) | Value::Map(_))
                || matches!(v, Value::List(..) | Value::Map(_))
        }) {
            let mut stack = Vec::new();
            for (k, v) in m.entries.drain(..) {
                stack.push(k);
                stack.push(v);
            }
            m.index.clear();
            m.strs.clear();
            drop_iteratively(stack);
        }
    }
}

/// `$foreach`: Velocity's ForeachScope.
#[derive(Debug)]
pub(crate) struct Scope {
    pub index: Cell<i32>,
    pub has_next: Cell<bool>,
    pub parent: Option<Rc<Scope>>,
    pub replaced: Option<Value>,
    pub storage: RefCell<JMap>,
}

impl Scope {
    pub fn topmost(self: &Rc<Scope>) -> Rc<Scope> {
        let mut s = self.clone();
        while let Some(p) = s.parent.clone() {
            s = p;
        }
        s
    }
}

/// Hashable form of the scalar keys other than strings (numbers, booleans, null).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HKey {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Big(i128),
    Double(u64),
    Char(char),
}

fn hkey(v: &Value) -> Option<HKey> {
    Some(match v {
        Value::Null => HKey::Null,
        Value::Bool(b) => HKey::Bool(*b),
        Value::Int(i) => HKey::Int(*i),
        Value::Long(i) => HKey::Long(*i),
        Value::Big(i) => HKey::Big(*i),
        Value::Double(d) => HKey::Double(if d.is_nan() {
            f64::NAN.to_bits()
        } else {
            d.to_bits()
        }),
        Value::Char(c) => HKey::Char(*c),
        _ => return None,
    })
}

/// An insertion-ordered map with Java `equals` keys (java.util.LinkedHashMap).
/// Up to [`INDEX_FROM`] entries it is searched in order (most maps a template meets,
/// JSON objects included, are that small, and hashing them costs more than it saves);
/// beyond that, keys are indexed.
#[derive(Clone, Debug, Default)]
pub(crate) struct JMap {
    entries: Vec<(Value, Value)>,
    /// String keys (looked up by `&str` without allocating), once indexed.
    strs: FxMap<JStr, usize>,
    /// Other scalar keys, once indexed.
    index: FxMap<HKey, usize>,
    indexed: bool,
}

/// Maps with more entries than this are indexed.
const INDEX_FROM: usize = 8;

/// Whether entry key `ek` is the key `k` (what the indexes would answer).
fn same_key(ek: &Value, k: &Value, hk: &Option<HKey>) -> bool {
    match (ek, k) {
        (Value::Str(a), Value::Str(b)) => **a == **b,
        (_, Value::Str(_)) => false,
        _ => match hk {
            Some(h) => hkey(ek).as_ref() == Some(h),
            None => java_equals(ek, k),
        },
    }
}

impl JMap {
    pub fn new() -> JMap {
        JMap::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }

    fn position(&self, k: &Value) -> Option<usize> {
        if !self.indexed {
            let hk = hkey(k);
            return self.entries.iter().position(|(ek, _)| same_key(ek, k, &hk));
        }
        if let Value::Str(s) = k {
            return self.strs.get(&**s).copied();
        }
        match hkey(k) {
            Some(h) => self.index.get(&h).copied(),
            None => self.entries.iter().position(|(ek, _)| java_equals(ek, k)),
        }
    }

    fn add_index(&mut self, k: &Value, i: usize) {
        if let Value::Str(s) = k {
            self.strs.insert(s.clone(), i);
        } else if let Some(h) = hkey(k) {
            self.index.insert(h, i);
        }
    }

    pub fn get(&self, k: &Value) -> Option<&Value> {
        self.position(k).map(|i| &self.entries[i].1)
    }

    pub fn get_str(&self, k: &str) -> Option<&Value> {
        if !self.indexed {
            return self
                .entries
                .iter()
                .find(|(ek, _)| matches!(ek, Value::Str(s) if **s == *k))
                .map(|(_, v)| v);
        }
        self.strs.get(k).map(|&i| &self.entries[i].1)
    }

    pub fn contains_key(&self, k: &Value) -> bool {
        self.position(k).is_some()
    }

    /// Java `put`: the previous value (Null if none); an existing key keeps its place.
    pub fn put(&mut self, k: Value, v: Value) -> Value {
        if let Some(i) = self.position(&k) {
            return std::mem::replace(&mut self.entries[i].1, v);
        }
        if self.indexed {
            self.add_index(&k, self.entries.len());
        }
        self.entries.push((k, v));
        if !self.indexed && self.entries.len() > INDEX_FROM {
            self.reindex();
        }
        Value::Null
    }

    pub fn remove(&mut self, k: &Value) -> Value {
        let Some(i) = self.position(k) else {
            return Value::Null;
        };
        let (_, v) = self.entries.remove(i);
        if self.indexed {
            self.reindex();
        }
        v
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.strs.clear();
        self.index.clear();
        self.indexed = false;
    }

    fn reindex(&mut self) {
        self.strs.clear();
        self.index.clear();
        self.indexed = true;
        let keys: Vec<Value> = self.entries.iter().map(|(k, _)| k.clone()).collect();
        for (i, k) in keys.iter().enumerate() {
            self.add_index(k, i);
        }
    }
}

// ---------------------------------------------------------------- equality

/// Java `equals` (used by collections and, between objects of related classes, by `==`).
pub(crate) fn java_equals(a: &Value, b: &Value) -> bool {
    equals_at(a, b, 0)
}

fn equals_at(a: &Value, b: &Value, depth: usize) -> bool {
    use Value::*;
    if depth > MAX_PRINT_DEPTH {
        return false;
    }
    match (a, b) {
        (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Long(x), Long(y)) => x == y,
        (Big(x), Big(y)) => x == y,
        (Double(x), Double(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Char(x), Char(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (List(x, kx), List(y, ky)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            // arrays compare by identity; views compare as sets/collections loosely
            if *kx == ListKind::StrArray || *ky == ListKind::StrArray {
                return false;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| equals_at(p, q, depth + 1))
        }
        (Map(x), Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.entries()
                    .iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equals_at(v, w, depth + 1)))
        }
        (Entry(x), Entry(y)) => {
            equals_at(&x.0, &y.0, depth + 1) && equals_at(&x.1, &y.1, depth + 1)
        }
        (Scope(x), Scope(y)) => Rc::ptr_eq(x, y),
        (Input, Input) | (Util, Util) => true,
        _ => false,
    }
}

/// Whether Velocity's `==` may call `equals` directly: one class is assignable from
/// the other (else it compares the `toString()`s).
pub(crate) fn related_classes(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (List(_, x), List(_, y)) => {
            // JSONArray extends ArrayList
            x == y
                || matches!(
                    (x, y),
                    (ListKind::Array, ListKind::Json) | (ListKind::Json, ListKind::Array)
                )
        }
        (Map(_), Map(_)) => true,
        (Scope(_), Scope(_)) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

// ---------------------------------------------------------------- toString

/// Java `String.valueOf(v)` (`toString()`), bounded in length; Err when over `limit`.
/// Whether printing `v` would print a [`Value::Block`] inside a collection.
pub(crate) fn holds_block(v: &Value) -> bool {
    fn at(v: &Value, depth: usize) -> bool {
        if depth > MAX_PRINT_DEPTH {
            return false;
        }
        match v {
            Value::Block(_) => true,
            Value::List(l, _) => l.borrow().iter().any(|x| at(x, depth + 1)),
            Value::Map(m) => m
                .borrow()
                .entries()
                .iter()
                .any(|(k, x)| at(k, depth + 1) || at(x, depth + 1)),
            Value::Entry(e) => at(&e.0, depth + 1) || at(&e.1, depth + 1),
            _ => false,
        }
    }
    at(v, 0)
}

pub(crate) fn to_java_string(v: &Value, limit: usize) -> Result<String, ()> {
    let mut out = String::new();
    write_java(v, &mut out, limit, 0)?;
    Ok(out)
}

const MAX_PRINT_DEPTH: usize = 200;

fn check(out: &str, limit: usize, depth: usize) -> Result<(), ()> {
    if out.len() > limit || depth > MAX_PRINT_DEPTH {
        Err(())
    } else {
        Ok(())
    }
}

pub(crate) fn write_java(
    v: &Value,
    out: &mut String,
    limit: usize,
    depth: usize,
) -> Result<(), ()> {
    check(out, limit, depth)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Long(i) => out.push_str(&i.to_string()),
        Value::Big(i) => out.push_str(&i.to_string()),
        Value::Double(d) => out.push_str(&java_double(*d)),
        Value::Char(c) => out.push(*c),
        Value::Str(s) => out.push_str(s),
        Value::List(l, ListKind::Json) => write_json(v, out, limit, depth, Some(l))?,
        Value::List(l, ListKind::StrArray) => {
            // Java prints an array's identity ("[Ljava.lang.String;@1b6d3586"), which no
            // test can match; we print the elements instead.
            let _ = l;
            write_collection(v, out, limit, depth)?
        }
        Value::List(..) => write_collection(v, out, limit, depth)?,
        Value::Map(m) => {
            out.push('{');
            let m = m.borrow();
            for (i, (k, val)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if same_object(k, v) {
                    out.push_str("(this Map)");
                } else {
                    write_java(k, out, limit, depth + 1)?;
                }
                out.push('=');
                if same_object(val, v) {
                    out.push_str("(this Map)");
                } else {
                    write_java(val, out, limit, depth + 1)?;
                }
                check(out, limit, depth)?;
            }
            out.push('}');
        }
        Value::Entry(e) => {
            write_java(&e.0, out, limit, depth + 1)?;
            out.push('=');
            write_java(&e.1, out, limit, depth + 1)?;
        }
        Value::Scope(s) => {
            // ForeachScope is an AbstractMap over its (usually empty) storage
            let m = Value::map(s.storage.borrow().clone());
            write_java(&m, out, limit, depth + 1)?;
        }
        Value::Input => out.push_str("$input"),
        Value::Util => out.push_str("$util"),
        // printing a block renders it, which needs the engine: `Engine::text_of`
        // renders one it is given; one inside a collection is not simulated
        Value::Block(_) => return Err(()),
    }
    check(out, limit, depth)
}

fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x, _), Value::List(y, _)) => Rc::ptr_eq(x, y),
        (Value::Map(x), Value::Map(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

fn write_collection(v: &Value, out: &mut String, limit: usize, depth: usize) -> Result<(), ()> {
    let Value::List(l, _) = v else { return Ok(()) };
    out.push('[');
    let items = l.borrow();
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if same_object(x, v) {
            out.push_str("(this Collection)");
        } else {
            write_java(x, out, limit, depth + 1)?;
        }
        check(out, limit, depth)?;
    }
    out.push(']');
    Ok(())
}

/// json-smart's `JSONValue.toJSONString(v)` with its default style (NO_COMPRESS): keys
/// and strings quoted, `/` escaped as `\/`, no spaces.
pub(crate) fn to_json_smart(v: &Value, limit: usize) -> Result<String, ()> {
    let mut out = String::new();
    write_json(v, &mut out, limit, 0, None)?;
    Ok(out)
}

fn write_json(
    v: &Value,
    out: &mut String,
    limit: usize,
    depth: usize,
    _list: Option<&Rc<ListCell>>,
) -> Result<(), ()> {
    check(out, limit, depth)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(_) | Value::Long(_) | Value::Big(_) | Value::Double(_) => {
            write_java(v, out, limit, depth)?
        }
        Value::Str(s) => json_smart_string(s, out),
        Value::Char(c) => json_smart_string(&c.to_string(), out),
        Value::List(l, _) => {
            out.push('[');
            for (i, x) in l.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out, limit, depth + 1, None)?;
                check(out, limit, depth)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.borrow().entries().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let ks = match k {
                    Value::Null => "null".to_string(),
                    _ => to_java_string(k, limit)?,
                };
                json_smart_string(&ks, out);
                out.push(':');
                write_json(x, out, limit, depth + 1, None)?;
                check(out, limit, depth)?;
            }
            out.push('}');
        }
        Value::Scope(s) => {
            let m = Value::map(s.storage.borrow().clone());
            write_json(&m, out, limit, depth + 1, None)?;
        }
        Value::Entry(_) | Value::Input | Value::Util | Value::Block(_) => {
            let s = to_java_string(v, limit)?;
            json_smart_string(&s, out);
        }
    }
    check(out, limit, depth)
}

/// json-smart's string escaping for the web (JStylerObj.ESCAPE4Web).
fn json_smart_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' => out.push_str("\\/"),
            c if (c <= '\u{1f}')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || ('\u{2000}'..='\u{20ff}').contains(&c) =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString(d)` as JDK 17 (and every JDK before 19) prints it.
///
/// Those JDKs print an integral double below 2^63 from its exact integer value (less a
/// few "insignificant" digits), so 0.1 * 9223372036854775807 prints as
/// 9.2233720368547763E17 where the shortest form is 9.223372036854776E17
/// (FloatingDecimal's "easy case"). Every other double uses the shortest digits that
/// round-trip, which is what those JDKs print in all but rare cases.
pub(crate) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (digits, dec_exp) = jdk_integer_digits(d.abs()).unwrap_or_else(|| {
        // shortest round-trip digits, as d.ddddde[-]x
        let sci = format!("{:e}", d.abs());
        let (mant, exp) = sci.split_once('e').expect("exponent form");
        let exp: i32 = exp.parse().expect("exponent");
        (mant.chars().filter(|c| *c != '.').collect(), exp + 1)
    });
    // FloatingDecimal.toJavaFormatString: the value is 0.DIGITS x 10^dec_exp
    let mut s = String::from(if d < 0.0 { "-" } else { "" });
    let n = digits.len() as i32;
    if dec_exp > 0 && dec_exp < 8 {
        let int_len = n.min(dec_exp) as usize;
        s.push_str(&digits[..int_len]);
        if (int_len as i32) < dec_exp {
            s.push_str(&"0".repeat((dec_exp - int_len as i32) as usize));
            s.push_str(".0");
        } else {
            s.push('.');
            if (int_len as i32) < n {
                s.push_str(&digits[int_len..]);
            } else {
                s.push('0');
            }
        }
    } else if dec_exp <= 0 && dec_exp > -3 {
        s.push_str("0.");
        s.push_str(&"0".repeat((-dec_exp) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        s.push('.');
        if n > 1 {
            s.push_str(&digits[1..]);
        } else {
            s.push('0');
        }
        s.push('E');
        s.push_str(&(dec_exp - 1).to_string());
    }
    s
}

/// FloatingDecimal.dtoa's easy case for an integral double in [1, 2^63): the digits of
/// its exact value, trailing zeros stripped, and the decimal exponent.
fn jdk_integer_digits(a: f64) -> Option<(String, i32)> {
    const INSIGNIFICANT: [i32; 64] = [
        0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8,
        9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15,
        16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
    ];
    if a.fract() != 0.0 || !(1.0..(1u64 << 63) as f64).contains(&a) {
        return None;
    }
    let bin_exp = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let insignificant = if bin_exp > 53 {
        let p2 = (bin_exp - 53 - 1) as usize;
        if p2 > 1 && p2 < INSIGNIFICANT.len() {
            INSIGNIFICANT[p2]
        } else {
            0
        }
    } else {
        0
    };
    let mut v = a as u64;
    let mut dec_exp = 0;
    if insignificant != 0 {
        let pow10 = 10u64.pow(insignificant as u32);
        let residue = v % pow10;
        v /= pow10;
        dec_exp += insignificant;
        if residue >= pow10 / 2 {
            v += 1;
        }
    }
    let mut digits = v.to_string();
    dec_exp += digits.len() as i32;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    Some((digits, dec_exp))
}

/// Java `hashCode()`.
pub(crate) fn java_hash(v: &Value) -> i32 {
    fn at(v: &Value, depth: usize) -> i32 {
        if depth > MAX_PRINT_DEPTH {
            return 0;
        }
        match v {
            Value::Null => 0,
            Value::Bool(b) => {
                if *b {
                    1231
                } else {
                    1237
                }
            }
            Value::Int(i) => *i,
            Value::Long(l) => (*l ^ ((*l as u64) >> 32) as i64) as i32,
            Value::Big(b) => *b as i32,
            Value::Double(d) => {
                let bits = if d.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    d.to_bits()
                };
                (bits ^ (bits >> 32)) as i32
            }
            Value::Char(c) => *c as i32,
            Value::Str(s) => s
                .encode_utf16()
                .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32)),
            Value::List(l, _) => l.borrow().iter().fold(1i32, |h, x| {
                h.wrapping_mul(31).wrapping_add(at(x, depth + 1))
            }),
            Value::Map(m) => m.borrow().entries().iter().fold(0i32, |h, (k, x)| {
                h.wrapping_add(at(k, depth + 1) ^ at(x, depth + 1))
            }),
            Value::Entry(e) => at(&e.0, depth + 1) ^ at(&e.1, depth + 1),
            Value::Scope(_) | Value::Input | Value::Util | Value::Block(_) => 0,
        }
    }
    at(v, 0)
}

// ---------------------------------------------------------------- numbers (MathUtils)

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(i32),
    Long(i64),
    Big(i128),
    Double(f64),
}

impl Num {
    pub fn of(v: &Value) -> Option<Num> {
        Some(match v {
            Value::Int(i) => Num::Int(*i),
            Value::Long(i) => Num::Long(*i),
            Value::Big(i) => Num::Big(*i),
            Value::Double(d) => Num::Double(*d),
            _ => return None,
        })
    }

    pub fn value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Long(i) => Value::Long(i),
            Num::Big(i) => Value::Big(i),
            Num::Double(d) => Value::Double(d),
        }
    }

    fn rank(self) -> u8 {
        match self {
            Num::Int(_) => 2,
            Num::Long(_) => 3,
            Num::Big(_) => 5,
            Num::Double(_) => 5,
        }
    }

    fn as_i128(self) -> i128 {
        match self {
            Num::Int(i) => i as i128,
            Num::Long(i) => i as i128,
            Num::Big(i) => i,
            Num::Double(d) => d as i128,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Long(i) => i as f64,
            Num::Big(i) => i as f64,
            Num::Double(d) => d,
        }
    }

    pub fn is_integer(self) -> bool {
        !matches!(self, Num::Double(_))
    }

    /// Java `intValue()`.
    pub fn int_value(self) -> i32 {
        match self {
            Num::Int(i) => i,
            Num::Long(i) => i as i32,
            Num::Big(i) => i as i32,
            Num::Double(d) => d as i32,
        }
    }
}

/// The calculation base of MathUtils.findCalculationBase.
enum Base {
    Long,
    Double,
    Big,
    /// BigDecimal arithmetic (a BigInteger mixed with a Double): not supported.
    Decimal,
}

fn base(a: Num, b: Num) -> Base {
    let ai = a.is_integer();
    let bi = b.is_integer();
    let big = matches!(a, Num::Big(_)) || matches!(b, Num::Big(_));
    if (!ai || !bi) && big {
        return Base::Decimal;
    }
    if ai && bi {
        return if big { Base::Big } else { Base::Long };
    }
    Base::Double
}

/// MathUtils.wrapPrimitive: the smallest of Integer/Long that holds `v`, at least as wide
/// as the wider operand.
fn wrap(v: i64, a: Num, b: Num) -> Num {
    let wide = a.rank().max(b.rank());
    if wide <= 2 && v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        Num::Int(v as i32)
    } else {
        Num::Long(v)
    }
}

fn big(v: i128) -> Result<Num, String> {
    Ok(Num::Big(v))
}

const BIG_OVERFLOW: &str = "integer arithmetic beyond 128 bits is not supported";
const DECIMAL: &str = "arithmetic mixing a BigInteger and a decimal is not supported";

pub(crate) fn add(a: Num, b: Num) -> Result<Num, String> {
    match base(a, b) {
        Base::Big => big(a.as_i128().checked_add(b.as_i128()).ok_or(BIG_OVERFLOW)?),
        Base::Long => {
            let (x, y) = (a.as_i128() as i64, b.as_i128() as i64);
            match x.checked_add(y) {
                Some(r) => Ok(wrap(r, a, b)),
                None => big(x as i128 + y as i128),
            }
        }
        Base::Double => Ok(Num::Double(a.as_f64() + b.as_f64())),
        Base::Decimal => Err(DECIMAL.into()),
    }
}

pub(crate) fn sub(a: Num, b: Num) -> Result<Num, String> {
    match base(a, b) {
        Base::Big => big(a.as_i128().checked_sub(b.as_i128()).ok_or(BIG_OVERFLOW)?),
        Base::Long => {
            let (x, y) = (a.as_i128() as i64, b.as_i128() as i64);
            match x.checked_sub(y) {
                Some(r) => Ok(wrap(r, a, b)),
                None => big(x as i128 - y as i128),
            }
        }
        Base::Double => Ok(Num::Double(a.as_f64() - b.as_f64())),
        Base::Decimal => Err(DECIMAL.into()),
    }
}

pub(crate) fn mul(a: Num, b: Num) -> Result<Num, String> {
    match base(a, b) {
        Base::Big => big(a.as_i128().checked_mul(b.as_i128()).ok_or(BIG_OVERFLOW)?),
        Base::Long => {
            let (x, y) = (a.as_i128() as i64, b.as_i128() as i64);
            match x.checked_mul(y) {
                Some(r) => Ok(wrap(r, a, b)),
                None => big(x as i128 * y as i128),
            }
        }
        Base::Double => Ok(Num::Double(a.as_f64() * b.as_f64())),
        Base::Decimal => Err(DECIMAL.into()),
    }
}

/// Division; `None` for a zero divisor (Velocity logs and yields null).
pub(crate) fn div(a: Num, b: Num) -> Result<Option<Num>, String> {
    if is_zero(b) {
        return Ok(None);
    }
    Ok(Some(match base(a, b) {
        Base::Big => Num::Big(a.as_i128() / b.as_i128()),
        Base::Long => {
            let (x, y) = (a.as_i128() as i64, b.as_i128() as i64);
            // Long.MIN_VALUE / -1 wraps in Java
            wrap(x.wrapping_div(y), a, b)
        }
        Base::Double => Num::Double(a.as_f64() / b.as_f64()),
        Base::Decimal => return Err(DECIMAL.into()),
    }))
}

pub(crate) fn modulo(a: Num, b: Num) -> Result<Option<Num>, String> {
    if is_zero(b) {
        return Ok(None);
    }
    Ok(Some(match base(a, b) {
        Base::Big => {
            // BigInteger.mod: never negative
            let m = b.as_i128();
            if m < 0 {
                return Err("BigInteger: modulus not positive".into());
            }
            Num::Big(a.as_i128().rem_euclid(m))
        }
        Base::Long => {
            let (x, y) = (a.as_i128() as i64, b.as_i128() as i64);
            wrap(x.wrapping_rem(y), a, b)
        }
        Base::Double => Num::Double(a.as_f64() % b.as_f64()),
        Base::Decimal => return Err("Cannot calculate the modulo of BigDecimals.".into()),
    }))
}

fn is_zero(n: Num) -> bool {
    match n {
        Num::Double(d) => d == 0.0,
        _ => n.as_i128() == 0,
    }
}

/// MathUtils.compare: -1, 0 or 1.
pub(crate) fn compare(a: Num, b: Num) -> Result<i32, String> {
    Ok(match base(a, b) {
        Base::Big | Base::Long => a.as_i128().cmp(&b.as_i128()) as i32,
        Base::Double => {
            let (x, y) = (a.as_f64(), b.as_f64());
            if x < y {
                -1
            } else if x > y {
                1
            } else {
                0
            }
        }
        Base::Decimal => return Err(DECIMAL.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(9.5), "9.5");
        assert_eq!(java_double(1000.0), "1000.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.25e-5), "1.25E-5");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(java_double(123456.789), "123456.789");
        assert_eq!(java_double(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(
            java_double(2147483648.0 * 123456789.123),
            "2.65121435876226752E17"
        );
        assert_eq!(
            java_double(0.1 * 9223372036854775807.0),
            "9.2233720368547763E17"
        );
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(12345678.0), "1.2345678E7");
    }

    mod map_index {
        use super::super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = Value> {
            prop_oneof![
                prop::sample::select(vec!["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
                    .prop_map(Value::str),
                (0i32..4).prop_map(Value::Int),
                (0i64..4).prop_map(Value::Long),
                prop::sample::select(vec![0.0, 1.0, f64::NAN]).prop_map(Value::Double),
                any::<bool>().prop_map(Value::Bool),
                Just(Value::Null),
                (0i32..3).prop_map(|i| Value::list(vec![Value::Int(i)], ListKind::Array)),
            ]
        }

        #[derive(Debug, Clone)]
        enum Op {
            Put(Value, i32),
            Remove(Value),
            Get(Value),
            Clear,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                6 => (key(), any::<i32>()).prop_map(|(k, v)| Op::Put(k, v)),
                2 => key().prop_map(Op::Remove),
                3 => key().prop_map(Op::Get),
                1 => Just(Op::Clear),
            ]
        }

        fn show(v: &Value) -> String {
            to_java_string(v, 1 << 20).unwrap()
        }

        proptest! {
            /// A small map searched in order answers as an indexed one.
            #[test]
            fn searching_in_order_and_by_index_agree(ops in prop::collection::vec(op(), 0..60)) {
                let mut plain = JMap::new();
                let mut indexed = JMap::new();
                indexed.reindex();
                for op in ops {
                    let (a, b) = match op {
                        Op::Put(k, v) => (
                            plain.put(k.clone(), Value::Int(v)),
                            indexed.put(k, Value::Int(v)),
                        ),
                        Op::Remove(k) => (plain.remove(&k), indexed.remove(&k)),
                        Op::Get(k) => (
                            plain.get(&k).cloned().unwrap_or(Value::Null),
                            indexed.get(&k).cloned().unwrap_or(Value::Null),
                        ),
                        Op::Clear => {
                            plain.clear();
                            indexed.clear();
                            indexed.reindex();
                            (Value::Null, Value::Null)
                        }
                    };
                    prop_assert_eq!(show(&a), show(&b));
                    let keys = |m: &JMap| m.entries().iter().map(|(k, v)| (show(k), show(v))).collect::<Vec<_>>();
                    prop_assert_eq!(keys(&plain), keys(&indexed));
                    prop_assert_eq!(
                        plain.get_str("a").map(show),
                        indexed.get_str("a").map(show)
                    );
                }
            }
        }
    }
}
