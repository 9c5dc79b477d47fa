//! The JSONPath that `$input.path` and `$input.json` accept: the subset of Jayway JsonPath
//! (the library API Gateway's behaviour matches) that mapping templates use.
//!
//! Supported: `$`, `.name`, `['name']`/`["name"]`, `[n]` (negative counts from the end),
//! `[n,m]`, `[start:end]`, `[*]`/`.*`, `..name`/`..*` (deep scan, document order) and
//! filters `[?(@.a.b op value)]` with `== != < <= > >=`, existence `[?(@.a)]`, `&&`, `||`
//! and string/number/true/false/null literals. A path not starting with `$` gets `$.`
//! prepended, as Jayway does.
//!
//! Jayway's result shape: a *definite* path (names and single indexes only) yields the
//! value itself, or nothing when a step is missing (Jayway throws PathNotFoundException);
//! any other path yields the list of everything it matched.

use serde_json::Value as J;

#[derive(Debug)]
pub(crate) enum Selection<'j> {
    Missing,
    One(&'j J),
    Many(Vec<&'j J>),
}

#[derive(Debug, Clone)]
enum Seg {
    Name(String),
    Names(Vec<String>),
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Wild,
    Deep(Box<Seg>),
    Filter(Filter),
}

#[derive(Debug, Clone)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Exists(Vec<Seg>),
    Cmp(Vec<Seg>, String, Lit),
}

#[derive(Debug, Clone)]
enum Lit {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
}

struct P<'s> {
    s: &'s [char],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ') {
            self.i += 1;
        }
    }
    fn err<T>(&self, m: &str) -> Result<T, String> {
        let p: String = self.s.iter().collect();
        Err(format!(
            "invalid JSONPath {p:?}: {m} at position {}",
            self.i
        ))
    }

    fn name(&mut self) -> String {
        let st = self.i;
        while self
            .peek()
            .is_some_and(|c| c != '.' && c != '[' && c != ' ' && c != ')')
        {
            self.i += 1;
        }
        self.s[st..self.i].iter().collect()
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or("expected a quote")?;
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return self.err("unclosed quote"),
                Some('\\') => {
                    self.i += 1;
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.i += 1;
                    }
                }
                Some(c) if c == q => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        let st = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let t: String = self.s[st..self.i].iter().collect();
        t.parse().ok()
    }

    fn segments(&mut self, relative: bool) -> Result<Vec<Seg>, String> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.i += 1;
                    if self.eat('.') {
                        let inner = if self.eat('*') {
                            Seg::Wild
                        } else if self.peek() == Some('[') {
                            self.bracket()?
                        } else {
                            let n = self.name();
                            if n.is_empty() {
                                return self.err("expected a name after '..'");
                            }
                            Seg::Name(n)
                        };
                        out.push(Seg::Deep(Box::new(inner)));
                    } else if self.eat('*') {
                        out.push(Seg::Wild);
                    } else {
                        let n = self.name();
                        if n.is_empty() {
                            return self.err("expected a name after '.'");
                        }
                        out.push(Seg::Name(n));
                    }
                }
                Some('[') => out.push(self.bracket()?),
                None => return Ok(out),
                Some(_) if relative => return Ok(out),
                Some(_) => return self.err("unexpected character"),
            }
        }
    }

    fn bracket(&mut self) -> Result<Seg, String> {
        self.i += 1; // [
        self.ws();
        let seg = match self.peek() {
            Some('*') => {
                self.i += 1;
                Seg::Wild
            }
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                self.ws();
                while self.eat(',') {
                    self.ws();
                    names.push(self.quoted()?);
                    self.ws();
                }
                if names.len() == 1 {
                    Seg::Name(names.pop().expect("one"))
                } else {
                    Seg::Names(names)
                }
            }
            Some('?') => {
                self.i += 1;
                if !self.eat('(') {
                    return self.err("expected '(' after '?'");
                }
                let f = self.filter_or()?;
                self.ws();
                if !self.eat(')') {
                    return self.err("expected ')' closing the filter");
                }
                Seg::Filter(f)
            }
            _ => {
                let a = if self.peek() == Some(':') {
                    None
                } else {
                    self.int()
                };
                self.ws();
                if self.eat(':') {
                    self.ws();
                    let b = if self.peek() == Some(']') {
                        None
                    } else {
                        self.int()
                    };
                    Seg::Slice(a, b)
                } else {
                    let Some(a) = a else {
                        return self.err("expected an index");
                    };
                    let mut v = vec![a];
                    while self.eat(',') {
                        self.ws();
                        match self.int() {
                            Some(n) => v.push(n),
                            None => return self.err("expected an index"),
                        }
                        self.ws();
                    }
                    if v.len() == 1 {
                        Seg::Index(a)
                    } else {
                        Seg::Indexes(v)
                    }
                }
            }
        };
        self.ws();
        if !self.eat(']') {
            return self.err("expected ']'");
        }
        Ok(seg)
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut l = self.filter_and()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(&['|', '|']) {
                self.i += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut l = self.filter_atom()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(&['&', '&']) {
                self.i += 2;
                let r = self.filter_atom()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, String> {
        self.ws();
        if self.eat('(') {
            let f = self.filter_or()?;
            self.ws();
            if !self.eat(')') {
                return self.err("expected ')'");
            }
            return Ok(f);
        }
        if !self.eat('@') {
            return self.err("expected '@' in the filter");
        }
        let path = self.segments(true)?;
        self.ws();
        let ops = ["==", "!=", "<=", ">=", "<", ">"];
        for op in ops {
            let oc: Vec<char> = op.chars().collect();
            if self.s[self.i..].starts_with(&oc) {
                self.i += oc.len();
                self.ws();
                let lit = self.literal()?;
                return Ok(Filter::Cmp(path, op.to_string(), lit));
            }
        }
        Ok(Filter::Exists(path))
    }

    fn literal(&mut self) -> Result<Lit, String> {
        match self.peek() {
            Some('\'' | '"') => Ok(Lit::Str(self.quoted()?)),
            _ => {
                let st = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
                {
                    self.i += 1;
                }
                let t: String = self.s[st..self.i].iter().collect();
                match t.as_str() {
                    "true" => Ok(Lit::Bool(true)),
                    "false" => Ok(Lit::Bool(false)),
                    "null" => Ok(Lit::Null),
                    _ => t
                        .parse()
                        .map(Lit::Num)
                        .or_else(|_| self.err("expected a value")),
                }
            }
        }
    }
}

fn compile(path: &str) -> Result<Vec<Seg>, String> {
    let full = if path.starts_with('$') || path.starts_with('@') {
        path.to_string()
    } else {
        format!("$.{path}")
    };
    let cs: Vec<char> = full.trim().chars().collect();
    let mut p = P { s: &cs, i: 1 };
    p.segments(false)
}

fn definite(segs: &[Seg]) -> bool {
    segs.iter()
        .all(|s| matches!(s, Seg::Name(_) | Seg::Index(_)))
}

/// Evaluates `path` over `doc`.
pub(crate) fn select<'j>(doc: &'j J, path: &str) -> Result<Selection<'j>, String> {
    let segs = compile(path)?;
    if definite(&segs) {
        let mut cur = doc;
        for s in &segs {
            let next = match (s, cur) {
                (Seg::Name(n), J::Object(m)) => m.get(n),
                (Seg::Index(i), J::Array(a)) => {
                    let i = if *i < 0 { a.len() as i64 + i } else { *i };
                    if i < 0 { None } else { a.get(i as usize) }
                }
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return Ok(Selection::Missing),
            }
        }
        return Ok(Selection::One(cur));
    }
    let mut cur = vec![doc];
    for s in &segs {
        let mut next = Vec::new();
        for n in cur {
            step(s, n, &mut next);
        }
        cur = next;
    }
    Ok(Selection::Many(cur))
}

fn step<'j>(s: &Seg, n: &'j J, out: &mut Vec<&'j J>) {
    match s {
        Seg::Name(name) => {
            if let J::Object(m) = n
                && let Some(v) = m.get(name)
            {
                out.push(v);
            }
        }
        Seg::Names(names) => {
            if let J::Object(m) = n {
                for name in names {
                    if let Some(v) = m.get(name) {
                        out.push(v);
                    }
                }
            }
        }
        Seg::Index(i) => step(&Seg::Indexes(vec![*i]), n, out),
        Seg::Indexes(ix) => {
            if let J::Array(a) = n {
                for i in ix {
                    let i = if *i < 0 { a.len() as i64 + i } else { *i };
                    if i >= 0
                        && let Some(v) = a.get(i as usize)
                    {
                        out.push(v);
                    }
                }
            }
        }
        Seg::Slice(a, b) => {
            if let J::Array(arr) = n {
                let len = arr.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let from = a.map_or(0, norm);
                let to = b.map_or(len, norm);
                for i in from..to.max(from) {
                    out.push(&arr[i as usize]);
                }
            }
        }
        Seg::Wild => match n {
            J::Object(m) => out.extend(m.values()),
            J::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Seg::Deep(inner) => deep(inner, n, out),
        Seg::Filter(f) => match n {
            J::Array(a) => out.extend(a.iter().filter(|x| test(f, x))),
            J::Object(_) if test(f, n) => out.push(n),
            _ => {}
        },
    }
}

fn deep<'j>(inner: &Seg, n: &'j J, out: &mut Vec<&'j J>) {
    step(inner, n, out);
    match n {
        J::Object(m) => {
            for v in m.values() {
                if v.is_object() || v.is_array() {
                    deep(inner, v, out);
                }
            }
        }
        J::Array(a) => {
            for v in a {
                if v.is_object() || v.is_array() {
                    deep(inner, v, out);
                }
            }
        }
        _ => {}
    }
}

fn relative<'j>(segs: &[Seg], n: &'j J) -> Option<&'j J> {
    let mut cur = n;
    for s in segs {
        let mut v = Vec::new();
        step(s, cur, &mut v);
        cur = v.into_iter().next()?;
    }
    Some(cur)
}

fn test(f: &Filter, n: &J) -> bool {
    match f {
        Filter::Or(a, b) => test(a, n) || test(b, n),
        Filter::And(a, b) => test(a, n) && test(b, n),
        Filter::Exists(p) => relative(p, n).is_some(),
        Filter::Cmp(p, op, lit) => {
            let Some(v) = relative(p, n) else {
                return false;
            };
            let ord = match (v, lit) {
                (J::Number(x), Lit::Num(y)) => x.as_f64().and_then(|x| x.partial_cmp(y)),
                (J::String(x), Lit::Str(y)) => Some(x.as_str().cmp(y.as_str())),
                (J::Bool(x), Lit::Bool(y)) => {
                    if x == y {
                        Some(std::cmp::Ordering::Equal)
                    } else {
                        None
                    }
                }
                (J::Null, Lit::Null) => Some(std::cmp::Ordering::Equal),
                _ => None,
            };
            match op.as_str() {
                "==" => ord == Some(std::cmp::Ordering::Equal),
                "!=" => ord != Some(std::cmp::Ordering::Equal),
                "<" => ord == Some(std::cmp::Ordering::Less),
                "<=" => matches!(
                    ord,
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
                ">" => ord == Some(std::cmp::Ordering::Greater),
                ">=" => matches!(
                    ord,
                    Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                ),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(doc: &str, p: &str) -> String {
        let d: J = serde_json::from_str(doc).unwrap();
        match select(&d, p).unwrap() {
            Selection::Missing => "missing".into(),
            Selection::One(v) => v.to_string(),
            Selection::Many(v) => serde_json::to_string(&v).unwrap(),
        }
    }

    #[test]
    fn paths() {
        let d = r#"{"a":{"b":[1,2,{"c":3}]},"n":"x","l":[{"p":1,"q":"u"},{"p":5}]}"#;
        assert_eq!(sel(d, "$.a.b[1]"), "2");
        assert_eq!(sel(d, "$.a.b[-1].c"), "3");
        assert_eq!(sel(d, "$['n']"), "\"x\"");
        assert_eq!(sel(d, "n"), "\"x\"");
        assert_eq!(sel(d, "$.missing"), "missing");
        assert_eq!(sel(d, "$.l[*].p"), "[1,5]");
        assert_eq!(sel(d, "$..c"), "[3]");
        assert_eq!(sel(d, "$.l[?(@.p > 2)]"), r#"[{"p":5}]"#);
        assert_eq!(sel(d, "$.l[?(@.q)].p"), "[1]");
        assert_eq!(sel(d, "$.a.b[0:2]"), "[1,2]");
    }
}
