//! The Java methods and bean properties templates call, resolved the way Velocity's
//! introspection does for the classes a mapping template can hold (String, the boxed
//! numbers, ArrayList/JSONArray, LinkedHashMap, Map.Entry, `$foreach`, `$input`, `$util`).
//!
//! Velocity picks a method by name and by the runtime classes of the arguments, with
//! its conversions: an `int` parameter takes an Integer only, `long` takes
//! Integer/Long, `double` any number, `String`/`CharSequence` a String or null, `Object`
//! anything. No applicable method means null (the reference then renders as written);
//! an exception inside the method is a render error.

use std::rc::Rc;

use super::aws;
use super::eval::{Engine, R, err, over};
use super::parse::Pos;
use super::regex::{MatchError, Pattern};
use super::value::{self, ListKind, Value};

/// An argument as a Java `int` (Integer only).
fn int(v: &Value) -> Option<i32> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// An argument as a `String` parameter: Some(None) for null.
fn string(v: &Value) -> Option<Option<&str>> {
    match v {
        Value::Str(s) => Some(Some(s)),
        Value::Null => Some(None),
        _ => None,
    }
}

fn npe<T>(pos: Pos, method: &str) -> R<T> {
    err(
        pos,
        format!("{method}: NullPointerException (argument is null)"),
    )
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from16(u: &[u16]) -> String {
    String::from_utf16_lossy(u)
}

/// The first `i >= from` where `needle` occurs in `hay` (Knuth-Morris-Pratt: linear in
/// both lengths, so a hostile needle cannot make a search quadratic).
fn index_of(hay: &[u16], needle: &[u16], from: i32) -> i32 {
    let from = from.max(0) as usize;
    if needle.is_empty() {
        return from.min(hay.len()) as i32;
    }
    if from >= hay.len() {
        return -1;
    }
    kmp_first(hay[from..].iter().copied(), needle).map_or(-1, |i| (from + i) as i32)
}

/// The last `i <= from` where `needle` occurs in `hay`: the first match of the
/// reversed needle in the reversed text, searched from the right.
fn last_index_of(hay: &[u16], needle: &[u16], from: i32) -> i32 {
    if from < 0 || needle.len() > hay.len() {
        return -1;
    }
    let start = (from as usize).min(hay.len() - needle.len());
    if needle.is_empty() {
        return start as i32;
    }
    let reversed: Vec<u16> = needle.iter().rev().copied().collect();
    let end = start + needle.len();
    kmp_first(hay[..end].iter().rev().copied(), &reversed)
        .map_or(-1, |i| (end - i - needle.len()) as i32)
}

/// Where `needle` (not empty) first occurs in `hay`, by Knuth-Morris-Pratt.
fn kmp_first(hay: impl Iterator<Item = u16>, needle: &[u16]) -> Option<usize> {
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = fail[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut k = 0;
    for (i, c) in hay.enumerate() {
        while k > 0 && c != needle[k] {
            k = fail[k - 1];
        }
        if c == needle[k] {
            k += 1;
        }
        if k == needle.len() {
            return Some(i + 1 - needle.len());
        }
    }
    None
}

fn char_units(c: i32) -> Vec<u16> {
    match char::from_u32(c as u32) {
        Some(ch) => {
            let mut b = [0u16; 2];
            ch.encode_utf16(&mut b).to_vec()
        }
        None => vec![c as u16],
    }
}

fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn compare_to(a: &str, b: &str) -> i32 {
    let (x, y) = (utf16(a), utf16(b));
    for (p, q) in x.iter().zip(y.iter()) {
        if p != q {
            return *p as i32 - *q as i32;
        }
    }
    x.len() as i32 - y.len() as i32
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    let (x, y) = (utf16(a), utf16(b));
    x.len() == y.len()
        && x.iter().zip(y.iter()).all(|(&p, &q)| {
            if p == q {
                return true;
            }
            let (cp, cq) = (
                char::from_u32(p as u32).unwrap_or('\0'),
                char::from_u32(q as u32).unwrap_or('\0'),
            );
            let up = |c: char| c.to_uppercase().next().unwrap_or(c);
            let lo = |c: char| c.to_lowercase().next().unwrap_or(c);
            up(cp) == up(cq) || lo(up(cp)) == lo(up(cq))
        })
}

/// `Pattern.compile` for `method`'s regular expression argument.
fn regex(e: &mut Engine, method: &str, pattern: &str, pos: Pos) -> R<Pattern> {
    Pattern::compile(pattern, &mut e.meter).or_else(|m| regex_failed(method, m, pos))
}

/// A regular expression call failed: a Java exception (the render error names the
/// method, the exception's class and its message, as Velocity's
/// MethodInvocationException does), or a budget ran out.
fn regex_failed<T>(method: &str, m: MatchError, pos: Pos) -> R<T> {
    match m {
        MatchError::Java(message) => err(pos, format!("{method}: {message}")),
        MatchError::Budget(limit) => Err(over(pos, limit)),
    }
}

fn out_of_range<T>(pos: Pos, what: String) -> R<T> {
    err(pos, format!("index out of range: {what}"))
}

// ---------------------------------------------------------------- properties

/// `$obj.name`: Velocity tries getName()/getname(), then Map.get("name"), then
/// get("name"), then isName().
pub(crate) fn property(e: &mut Engine, obj: &Value, name: &str, pos: Pos) -> R<Value> {
    // bean getter names match with the first letter in either case
    let is = |p: &str| -> bool {
        name == p || {
            let mut c = name.chars();
            match c.next() {
                Some(f) => {
                    let flipped: String = if f.is_lowercase() {
                        f.to_uppercase().chain(c).collect()
                    } else {
                        f.to_lowercase().chain(c).collect()
                    };
                    flipped == p
                }
                None => false,
            }
        }
    };
    match obj {
        Value::Map(m) => Ok(m.borrow().get_str(name).cloned().unwrap_or(Value::Null)),
        Value::Scope(s) => {
            if is("index") {
                return Ok(Value::Int(s.index.get()));
            }
            if is("count") {
                return Ok(Value::Int(s.index.get() + 1));
            }
            if is("hasNext") {
                return Ok(Value::Bool(s.has_next.get()));
            }
            if is("first") {
                return Ok(Value::Bool(s.index.get() < 1));
            }
            if is("last") {
                return Ok(Value::Bool(!s.has_next.get()));
            }
            if is("parent") {
                return Ok(s.parent.clone().map_or(Value::Null, Value::Scope));
            }
            if is("topmost") {
                return Ok(Value::Scope(s.topmost()));
            }
            // Scope.get: its storage, then its parent's
            let mut cur = Some(s.clone());
            while let Some(sc) = cur {
                if let Some(v) = sc.storage.borrow().get_str(name) {
                    return Ok(v.clone());
                }
                cur = sc.parent.clone();
            }
            Ok(Value::Null)
        }
        Value::Entry(en) => {
            if is("key") {
                Ok(en.0.clone())
            } else if is("value") {
                Ok(en.1.clone())
            } else {
                Ok(Value::Null)
            }
        }
        Value::Input if is("body") => Ok(Value::string(e.aws.body().to_string())),
        Value::Str(s) if is("empty") => Ok(Value::Bool(s.is_empty())),
        Value::List(l, _) if is("empty") => Ok(Value::Bool(l.borrow().is_empty())),
        _ => {
            let _ = pos;
            Ok(Value::Null)
        }
    }
}

/// `#set($obj.name = v)`: a setter, else Map.put("name", v).
pub(crate) fn set_property(e: &mut Engine, obj: &Value, name: &str, v: Value, pos: Pos) -> R<()> {
    match obj {
        Value::Map(m) => {
            e.alloc_slots(1, value::MAP_ENTRY_BYTES + name.len(), pos)?;
            m.borrow_mut().put(Value::str(name), v);
            m.recount();
        }
        Value::Scope(s) => {
            s.storage.borrow_mut().put(Value::str(name), v);
        }
        _ => {}
    }
    Ok(())
}

/// `$obj[arg]`: obj.get(arg).
pub(crate) fn index(e: &mut Engine, obj: &Value, arg: Value, pos: Pos) -> R<Value> {
    call(e, obj, "get", vec![arg], pos)
}

/// `#set($obj[arg] = v)`: obj.set(arg, v), else obj.put(arg, v).
pub(crate) fn set_index(e: &mut Engine, obj: &Value, arg: Value, v: Value, pos: Pos) -> R<()> {
    match obj {
        Value::List(..) => {
            call(e, obj, "set", vec![arg, v], pos)?;
        }
        Value::Map(_) | Value::Scope(_) => {
            call(e, obj, "put", vec![arg, v], pos)?;
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------- methods

/// `$obj.name(args)`. Null when no such method applies to these arguments.
pub(crate) fn call(
    e: &mut Engine,
    obj: &Value,
    name: &str,
    args: Vec<Value>,
    pos: Pos,
) -> R<Value> {
    // methods of java.lang.Object
    match (name, args.len()) {
        ("toString", 0) => return Ok(Value::string(e.text_of(obj, pos)?)),
        ("equals", 1) => {
            if let (Value::Str(a), Value::Str(b)) = (obj, &args[0]) {
                e.work(a.len().min(b.len()), pos)?;
            }
            return Ok(Value::Bool(value::java_equals(obj, &args[0])));
        }
        ("hashCode", 0) if !matches!(obj, Value::Input | Value::Util) => {
            if let Value::Str(a) = obj {
                e.work(a.len(), pos)?;
            }
            return Ok(Value::Int(value::java_hash(obj)));
        }
        _ => {}
    }
    match obj {
        Value::Str(s) => string_method(e, s, name, &args, pos),
        Value::List(l, kind) => {
            let len = l.borrow().len();
            e.work(scan_cost(name, len, &args) * value::VALUE_BYTES, pos)?;
            let r = list_method(e, l, *kind, obj, name, args, pos);
            l.recount();
            r
        }
        Value::Map(m) => {
            let len = m.borrow().len();
            e.work(scan_cost(name, len, &args) * 2 * value::VALUE_BYTES, pos)?;
            let added = match (name, args.first()) {
                ("put" | "putIfAbsent", _) => 1,
                ("putAll", Some(Value::Map(o))) => o.borrow().len(),
                _ => 0,
            };
            e.alloc_slots(added, value::MAP_ENTRY_BYTES, pos)?;
            let r = map_method(m, obj, name, args, pos);
            m.recount();
            r
        }
        Value::Scope(s) => {
            let v = match (name, args.len()) {
                ("getIndex", 0) => Value::Int(s.index.get()),
                ("getCount", 0) => Value::Int(s.index.get() + 1),
                ("hasNext" | "getHasNext", 0) => Value::Bool(s.has_next.get()),
                ("isFirst" | "getFirst", 0) => Value::Bool(s.index.get() < 1),
                ("isLast" | "getLast", 0) => Value::Bool(!s.has_next.get()),
                ("getParent", 0) => s.parent.clone().map_or(Value::Null, Value::Scope),
                ("getTopmost", 0) => Value::Scope(s.topmost()),
                ("get", 1) => {
                    let name = e.text_of(&args[0], pos)?;
                    property(e, obj, &name, pos)?
                }
                ("put", 2) => {
                    let mut it = args.into_iter();
                    let (k, v) = (
                        it.next().unwrap_or(Value::Null),
                        it.next().unwrap_or(Value::Null),
                    );
                    s.storage.borrow_mut().put(k, v)
                }
                ("size", 0) => Value::Int(s.storage.borrow().len() as i32),
                ("isEmpty", 0) => Value::Bool(s.storage.borrow().is_empty()),
                _ => Value::Null,
            };
            Ok(v)
        }
        Value::Entry(en) => Ok(match (name, args.len()) {
            ("getKey", 0) => en.0.clone(),
            ("getValue", 0) => en.1.clone(),
            _ => Value::Null,
        }),
        Value::Int(_) | Value::Long(_) | Value::Big(_) | Value::Double(_) => {
            let n = value::Num::of(obj).expect("a number");
            Ok(match (name, args.len()) {
                ("compareTo", 1) => {
                    // Comparable<T>.compareTo(Object): another class throws
                    let Some(m) = value::Num::of(&args[0]) else {
                        return match &args[0] {
                            Value::Null => npe(pos, name),
                            _ => err(
                                pos,
                                format!("compareTo: ClassCastException ({})", args[0].class_name()),
                            ),
                        };
                    };
                    if std::mem::discriminant(obj) != std::mem::discriminant(&args[0]) {
                        return err(
                            pos,
                            format!("compareTo: ClassCastException ({})", args[0].class_name()),
                        );
                    }
                    Value::Int(value::compare(n, m).or_else(|x| err(pos, x))?)
                }
                ("intValue", 0) => Value::Int(n.int_value()),
                ("longValue", 0) => match obj {
                    Value::Int(i) => Value::Long(*i as i64),
                    Value::Long(i) => Value::Long(*i),
                    Value::Big(i) => Value::Long(*i as i64),
                    Value::Double(d) => Value::Long(*d as i64),
                    _ => Value::Null,
                },
                ("doubleValue", 0) => match obj {
                    Value::Int(i) => Value::Double(*i as f64),
                    Value::Long(i) => Value::Double(*i as f64),
                    Value::Big(i) => Value::Double(*i as f64),
                    Value::Double(d) => Value::Double(*d),
                    _ => Value::Null,
                },
                _ => Value::Null,
            })
        }
        Value::Bool(b) => Ok(match (name, args.len()) {
            ("booleanValue", 0) => Value::Bool(*b),
            ("compareTo", 1) => match &args[0] {
                Value::Bool(o) => Value::Int((*b as i32) - (*o as i32)),
                Value::Null => return npe(pos, name),
                x => {
                    return err(
                        pos,
                        format!("compareTo: ClassCastException ({})", x.class_name()),
                    );
                }
            },
            _ => Value::Null,
        }),
        Value::Char(c) => Ok(match (name, args.len()) {
            ("charValue", 0) => Value::Char(*c),
            _ => Value::Null,
        }),
        Value::Input => aws::input_method(e, name, &args, pos),
        Value::Util => aws::util_method(e, name, &args, pos),
        // Block.Reference has only render() and toString()
        Value::Null | Value::Block(_) => Ok(Value::Null),
    }
}

fn string_method(
    e: &mut Engine,
    s: &value::JStr,
    name: &str,
    args: &[Value],
    pos: Pos,
) -> R<Value> {
    let a0 = args.first();
    let a1 = args.get(1);
    // Every method but these scans the string (Java's are O(1)): pay for it.
    if !matches!(name, "isEmpty" | "intern") {
        e.work(s.len(), pos)?;
        for a in args {
            if let Value::Str(t) = a {
                e.work(t.len(), pos)?;
            }
        }
    }
    let v = match (name, args.len()) {
        ("length", 0) => Value::Int(s.encode_utf16().count() as i32),
        ("isEmpty", 0) => Value::Bool(s.is_empty()),
        ("toUpperCase" | "toLowerCase", 0) => {
            // Case mapping can lengthen a string (ß -> SS): at most three times.
            e.alloc(s.len().saturating_mul(3), pos)?;
            Value::string(if name == "toUpperCase" {
                s.to_uppercase()
            } else {
                s.to_lowercase()
            })
        }
        ("trim", 0) => {
            let t = java_trim(s);
            e.alloc(t.len(), pos)?;
            Value::str(t)
        }
        ("intern", 0) => Value::Str(s.clone()),
        ("charAt", 1) => {
            let Some(i) = int(&args[0]) else {
                return Ok(Value::Null);
            };
            let u = utf16(s);
            if i < 0 || i as usize >= u.len() {
                return out_of_range(
                    pos,
                    format!("charAt({i}) of a string of length {}", u.len()),
                );
            }
            let c = char::from_u32(u[i as usize] as u32).unwrap_or('\u{fffd}');
            Value::Char(c)
        }
        ("substring", 1 | 2) => {
            let Some(b) = int(&args[0]) else {
                return Ok(Value::Null);
            };
            let u = utf16(s);
            let end = match a1 {
                Some(x) => match int(x) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                None => u.len() as i32,
            };
            if b < 0 || end > u.len() as i32 || b > end {
                return out_of_range(
                    pos,
                    format!("substring: begin {b}, end {end}, length {}", u.len()),
                );
            }
            e.alloc(3 * (end - b) as usize, pos)?;
            Value::string(from16(&u[b as usize..end as usize]))
        }
        ("indexOf" | "lastIndexOf", 1 | 2) => {
            let u = utf16(s);
            let needle: Vec<u16> = match &args[0] {
                Value::Int(c) => char_units(*c),
                Value::Str(t) => utf16(t),
                Value::Null => return npe(pos, name),
                _ => return Ok(Value::Null),
            };
            let last = name == "lastIndexOf";
            let from = match a1 {
                Some(x) => match int(x) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                None => {
                    if last {
                        u.len() as i32
                    } else {
                        0
                    }
                }
            };
            Value::Int(if last {
                last_index_of(&u, &needle, from)
            } else {
                index_of(&u, &needle, from)
            })
        }
        ("contains", 1) => match string(&args[0]) {
            Some(Some(t)) => Value::Bool(s.contains(t)),
            Some(None) => return npe(pos, name),
            None => Value::Null,
        },
        ("startsWith", 1 | 2) => {
            let Some(p) = string(&args[0]) else {
                return Ok(Value::Null);
            };
            let Some(p) = p else { return npe(pos, name) };
            let off = match a1 {
                Some(x) => match int(x) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                None => 0,
            };
            let u = utf16(s);
            let pu = utf16(p);
            let ok = off >= 0 && (off as usize) <= u.len() && u[off as usize..].starts_with(&pu);
            Value::Bool(ok)
        }
        ("endsWith", 1) => match string(&args[0]) {
            Some(Some(t)) => Value::Bool(s.ends_with(t)),
            Some(None) => return npe(pos, name),
            None => Value::Null,
        },
        ("equalsIgnoreCase", 1) => match string(&args[0]) {
            Some(Some(t)) => Value::Bool(eq_ignore_case(s, t)),
            Some(None) => Value::Bool(false),
            None => Value::Null,
        },
        ("compareTo", 1) => match string(&args[0]) {
            Some(Some(t)) => Value::Int(compare_to(s, t)),
            Some(None) => return npe(pos, name),
            // Comparable<String>.compareTo(Object) with another class throws
            None => {
                return err(
                    pos,
                    format!("compareTo: ClassCastException ({})", args[0].class_name()),
                );
            }
        },
        ("compareToIgnoreCase", 1) => match string(&args[0]) {
            Some(Some(t)) => Value::Int(compare_to(&s.to_lowercase(), &t.to_lowercase())),
            Some(None) => return npe(pos, name),
            None => Value::Null,
        },
        ("concat", 1) => match string(&args[0]) {
            Some(Some(t)) => {
                e.alloc_str(s.len() + t.len(), pos)?;
                Value::string(format!("{}{t}", &**s))
            }
            Some(None) => return npe(pos, name),
            None => Value::Null,
        },
        ("replace", 2) => match (&args[0], &args[1]) {
            (Value::Char(a), Value::Char(b)) => {
                e.alloc(s.len() / a.len_utf8().max(1) * b.len_utf8(), pos)?;
                Value::string(s.chars().map(|c| if c == *a { *b } else { c }).collect())
            }
            (x, y) => match (string(x), string(y)) {
                (Some(Some(from)), Some(Some(to))) => {
                    // The result's size first: `$s.replace("a", $s)` must not be built.
                    let matches = if from.is_empty() {
                        s.chars().count() + 1
                    } else {
                        s.matches(from).count()
                    };
                    let size = (s.len() - matches * from.len())
                        .saturating_add(matches.saturating_mul(to.len()));
                    e.alloc_str(size, pos)?;
                    Value::string(java_replace(s, from, to))
                }
                (Some(_), Some(_)) => return npe(pos, name),
                _ => Value::Null,
            },
        },
        ("replaceAll" | "replaceFirst", 2) => match (string(&args[0]), string(&args[1])) {
            (Some(Some(re)), Some(Some(rep))) => {
                let p = regex(e, name, re, pos)?;
                let r = p
                    .replace(s, rep, name == "replaceAll", &mut e.meter)
                    .or_else(|m| regex_failed(name, m, pos))?;
                e.check_len(r.len(), pos)?;
                Value::string(r)
            }
            (Some(_), Some(_)) => return npe(pos, name),
            _ => Value::Null,
        },
        ("matches", 1) => match string(&args[0]) {
            Some(Some(re)) => {
                let p = regex(e, name, re, pos)?;
                Value::Bool(
                    p.matches(s, &mut e.meter)
                        .or_else(|m| regex_failed(name, m, pos))?,
                )
            }
            Some(None) => return npe(pos, name),
            None => Value::Null,
        },
        ("split", 1 | 2) => {
            let Some(re) = string(&args[0]) else {
                return Ok(Value::Null);
            };
            let Some(re) = re else { return npe(pos, name) };
            let limit = match a1 {
                Some(x) => match int(x) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                None => 0,
            };
            let p = regex(e, name, re, pos)?;
            let parts = p
                .split_limit(s, limit, &mut e.meter)
                .or_else(|m| regex_failed(name, m, pos))?;
            Value::list(
                parts.into_iter().map(Value::string).collect(),
                ListKind::StrArray,
            )
        }
        _ => {
            let _ = a0;
            Value::Null
        }
    };
    Ok(v)
}

/// String.replace(CharSequence, CharSequence): literal, all occurrences; an empty target
/// inserts the replacement between every character.
fn java_replace(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        let mut out = String::from(to);
        for c in s.chars() {
            out.push(c);
            out.push_str(to);
        }
        return out;
    }
    s.replace(from, to)
}

fn list_method(
    e: &mut Engine,
    l: &Rc<value::ListCell>,
    kind: ListKind,
    obj: &Value,
    name: &str,
    args: Vec<Value>,
    pos: Pos,
) -> R<Value> {
    let fixed = matches!(kind, ListKind::StrArray | ListKind::View);
    let read_only = kind == ListKind::View;
    let unsupported = |pos| err(pos, format!("{name}: UnsupportedOperationException"));
    let len = l.borrow().len();
    let check_index = |i: i32, upto: usize| -> R<usize> {
        if i < 0 || i as usize >= upto {
            out_of_range(pos, format!("Index {i} out of bounds for length {len}"))
        } else {
            Ok(i as usize)
        }
    };
    let v = match (name, args.len()) {
        ("size", 0) => Value::Int(len as i32),
        ("isEmpty", 0) => Value::Bool(len == 0),
        ("get", 1) => {
            let Some(i) = int(&args[0]) else {
                return Ok(Value::Null);
            };
            let i = check_index(i, len)?;
            l.borrow()[i].clone()
        }
        ("contains", 1) => Value::Bool(l.borrow().iter().any(|x| value::java_equals(x, &args[0]))),
        ("indexOf", 1) => Value::Int(
            l.borrow()
                .iter()
                .position(|x| value::java_equals(x, &args[0]))
                .map_or(-1, |i| i as i32),
        ),
        ("lastIndexOf", 1) => Value::Int(
            l.borrow()
                .iter()
                .rposition(|x| value::java_equals(x, &args[0]))
                .map_or(-1, |i| i as i32),
        ),
        ("containsAll", 1) => match &args[0] {
            Value::List(o, _) => {
                let o = o.borrow().clone();
                let me = l.borrow();
                Value::Bool(
                    o.iter()
                        .all(|x| me.iter().any(|y| value::java_equals(x, y))),
                )
            }
            _ => Value::Null,
        },
        ("add", 1) => {
            if fixed {
                return unsupported(pos);
            }
            grow(e, len, len + 1, pos)?;
            let a = args.into_iter().next().unwrap_or(Value::Null);
            l.borrow_mut().push(a);
            Value::Bool(true)
        }
        ("add", 2) => {
            let Some(i) = int(&args[0]) else {
                return Ok(Value::Null);
            };
            if fixed {
                return unsupported(pos);
            }
            let i = check_index(i, len + 1)?;
            grow(e, len, len + 1, pos)?;
            let a = args.into_iter().nth(1).unwrap_or(Value::Null);
            l.borrow_mut().insert(i, a);
            Value::str("")
        }
        ("set", 2) => {
            let Some(i) = int(&args[0]) else {
                return Ok(Value::Null);
            };
            if read_only {
                return unsupported(pos);
            }
            let i = check_index(i, len)?;
            let a = args.into_iter().nth(1).unwrap_or(Value::Null);
            std::mem::replace(&mut l.borrow_mut()[i], a)
        }
        ("remove", 1) => {
            if fixed {
                return unsupported(pos);
            }
            match &args[0] {
                // an Integer picks remove(int): by index
                Value::Int(i) => {
                    let i = check_index(*i, len)?;
                    l.borrow_mut().remove(i)
                }
                x => {
                    let p = l.borrow().iter().position(|y| value::java_equals(x, y));
                    match p {
                        Some(i) => {
                            l.borrow_mut().remove(i);
                            Value::Bool(true)
                        }
                        None => Value::Bool(false),
                    }
                }
            }
        }
        ("clear", 0) => {
            if fixed {
                return unsupported(pos);
            }
            l.borrow_mut().clear();
            Value::str("")
        }
        ("addAll", 1) => {
            if fixed {
                return unsupported(pos);
            }
            let items: Vec<Value> = match &args[0] {
                Value::List(o, _) => o.borrow().clone(),
                Value::Null => return npe(pos, name),
                _ => return Ok(Value::Null),
            };
            grow(e, len, len + items.len(), pos)?;
            let changed = !items.is_empty();
            l.borrow_mut().extend(items);
            Value::Bool(changed)
        }
        ("subList", 2) => {
            let (Some(a), Some(b)) = (int(&args[0]), int(&args[1])) else {
                return Ok(Value::Null);
            };
            if a < 0 || b as usize > len || a > b {
                return out_of_range(pos, format!("subList({a}, {b}) of size {len}"));
            }
            let v = l.borrow()[a as usize..b as usize].to_vec();
            Value::list(v, ListKind::Array)
        }
        ("toJSONString", 0) if kind == ListKind::Json => Value::string(
            value::to_json_smart(obj, super::MAX_OUTPUT_BYTES)
                .or_else(|()| err(pos, "a value's text is too large"))?,
        ),
        _ => Value::Null,
    };
    Ok(v)
}

/// Elements a collection method visits (0 for those that visit one or none): paid as
/// work, so a loop of `contains` over a million-element list is not free.
fn scan_cost(name: &str, len: usize, args: &[Value]) -> usize {
    match name {
        "containsAll" => match args.first() {
            Some(Value::List(o, _)) => len.saturating_mul(o.borrow().len().max(1)),
            _ => len,
        },
        "contains" | "indexOf" | "lastIndexOf" | "remove" | "subList" | "addAll" | "keySet"
        | "values" | "entrySet" | "containsValue" | "equals" | "hashCode" | "putAll"
        | "toJSONString" | "clone" => len,
        _ => 0,
    }
}

/// Before a list grows from `len` to `n` elements.
fn grow(e: &mut Engine, len: usize, n: usize, pos: Pos) -> R<()> {
    e.alloc_slots(n.saturating_sub(len), value::SLOT_BYTES, pos)?;
    if n > super::MAX_COLLECTION {
        return err(
            pos,
            format!(
                "a list or map would hold more than {} elements",
                super::MAX_COLLECTION
            ),
        );
    }
    Ok(())
}

fn map_method(
    m: &Rc<value::MapCell>,
    _obj: &Value,
    name: &str,
    args: Vec<Value>,
    pos: Pos,
) -> R<Value> {
    if name == "replace" && args.len() == 2 {
        // Map.replace(key, value): only an existing key, returns the old value
        let mut it = args.into_iter();
        let (k, v) = (
            it.next().unwrap_or(Value::Null),
            it.next().unwrap_or(Value::Null),
        );
        let has = m.borrow().contains_key(&k);
        return Ok(if has {
            m.borrow_mut().put(k, v)
        } else {
            Value::Null
        });
    }
    let arity = match name {
        "get" | "containsKey" | "containsValue" | "remove" | "putAll" => 1,
        "put" | "getOrDefault" | "putIfAbsent" => 2,
        _ => 0,
    };
    if args.len() != arity {
        return Ok(Value::Null);
    }
    let mut args = args.into_iter();
    let mut a = || args.next().unwrap_or(Value::Null);
    let n = m.borrow().len();
    let v = match name {
        "get" => {
            let k = a();
            m.borrow().get(&k).cloned().unwrap_or(Value::Null)
        }
        "getOrDefault" => {
            let k = a();
            let d = a();
            m.borrow().get(&k).cloned().unwrap_or(d)
        }
        "put" => {
            let k = a();
            let v = a();
            if n + 1 > super::MAX_COLLECTION {
                return err(pos, "a map would hold too many entries");
            }
            m.borrow_mut().put(k, v)
        }
        "putIfAbsent" => {
            let k = a();
            let v = a();
            let cur = m.borrow().get(&k).cloned();
            match cur {
                Some(c) if !c.is_null() => c,
                _ => {
                    m.borrow_mut().put(k, v);
                    Value::Null
                }
            }
        }
        "containsKey" => Value::Bool(m.borrow().contains_key(&a())),
        "containsValue" => {
            let x = a();
            Value::Bool(
                m.borrow()
                    .entries()
                    .iter()
                    .any(|(_, v)| value::java_equals(v, &x)),
            )
        }
        "remove" => {
            let k = a();
            m.borrow_mut().remove(&k)
        }
        "size" => Value::Int(n as i32),
        "isEmpty" => Value::Bool(n == 0),
        "clear" => {
            m.borrow_mut().clear();
            Value::str("")
        }
        "keySet" => Value::list(
            m.borrow()
                .entries()
                .iter()
                .map(|(k, _)| k.clone())
                .collect(),
            ListKind::View,
        ),
        "values" => Value::list(
            m.borrow()
                .entries()
                .iter()
                .map(|(_, v)| v.clone())
                .collect(),
            ListKind::View,
        ),
        "entrySet" => Value::list(
            m.borrow()
                .entries()
                .iter()
                .map(|(k, v)| Value::Entry(Rc::new((k.clone(), v.clone()))))
                .collect(),
            ListKind::View,
        ),
        "putAll" => match a() {
            Value::Map(o) => {
                let entries: Vec<(Value, Value)> = o.borrow().entries().to_vec();
                if n + entries.len() > super::MAX_COLLECTION {
                    return err(pos, "a map would hold too many entries");
                }
                let mut me = m.borrow_mut();
                for (k, v) in entries {
                    me.put(k, v);
                }
                Value::str("")
            }
            _ => Value::Null,
        },
        _ => Value::Null,
    };
    Ok(v)
}
