//! Rendering: Velocity 1.7's node semantics (ASTReference, ASTSetDirective, ASTIfStatement,
//! Foreach, the expression nodes and MathUtils) over the AST of `parse.rs`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::aws::AwsData;
use super::budget::{Exceeded, Meter};
use super::methods;
use std::sync::Arc;

use super::macros::Frame;
use super::parse::{
    BinOp, Expr, ForeachNode, IntLit, Macros, Node, Part, Pos, Ref, RefKind, SetNode,
};
use super::value::{self, FxMap, JMap, ListKind, Num, Scope, Value};
use super::{Dialect, MAX_FOREACH_ITERATIONS, MAX_OUTPUT_BYTES, MAX_RANGE_ELEMENTS};

/// Node lists being rendered one inside another (a multiple of [`GROW_EVERY`], where
/// it is checked). Parsing bounds a template's own nesting; macro calls, `#evaluate`
/// and blocks nest at run time, and this bounds that (and the stack it takes).
const MAX_RENDER_DEPTH: usize = 512;
/// Stack left below which rendering a node list moves to a new segment, and its size.
const STACK_RED_ZONE: usize = 256 << 10;
const STACK_SEGMENT: usize = 2 << 20;
/// How often (in levels of nesting) the stack left is checked: the red zone must hold
/// this many levels of the deepest kind (a `#foreach` in a debug build: ~8 KiB each).
pub(crate) const GROW_EVERY: usize = 8;
/// Runs `f` on a new stack segment when less than [`STACK_RED_ZONE`] is left.
#[inline]
pub(crate) fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, f)
}

/// A rendering error before it is placed (offset into the template).
#[derive(Debug, Clone)]
pub(crate) struct RErr {
    pub offset: usize,
    pub message: String,
    /// Set when a budget ran out (not a Java exception).
    pub limit: Option<Exceeded>,
    /// Set where what API Gateway does is not simulated (not a Java exception).
    pub not_simulated: bool,
}

/// Why rendering stopped early.
#[derive(Debug)]
pub(crate) enum Flow {
    /// `#break`: the nearest loop, or the loop of the given `$foreach` scope.
    Break(Option<Rc<Scope>>),
    /// `#stop` (and a `#break` outside any loop): rendering ends, output so far stands.
    Stop,
    Err(RErr),
}

pub(crate) type R<T> = Result<T, Flow>;

pub(crate) fn err<T>(offset: Pos, message: impl Into<String>) -> R<T> {
    Err(Flow::Err(RErr {
        offset,
        message: message.into(),
        limit: None,
        not_simulated: false,
    }))
}

/// Something API Gateway does that is not simulated, at `offset`.
pub(crate) fn not_simulated<T>(offset: Pos, message: impl Into<String>) -> R<T> {
    Err(Flow::Err(RErr {
        offset,
        message: message.into(),
        limit: None,
        not_simulated: true,
    }))
}

/// A budget ran out at `offset`.
pub(crate) fn over(offset: Pos, limit: Exceeded) -> Flow {
    Flow::Err(RErr {
        offset,
        message: limit.to_string(),
        limit: Some(limit),
        not_simulated: false,
    })
}

pub(crate) struct Engine<'a> {
    pub vars: FxMap<Rc<str>, Value>,
    pub out: String,
    pub meter: Meter,
    pub dialect: Dialect,
    pub aws: AwsData<'a>,
    /// Where the last step was: the place of a budget error met by a node that has
    /// none (plain text, a collection literal).
    at: Pos,
    /// The template's macros, and those `#evaluate` defined while rendering.
    pub(crate) macros: Arc<Macros>,
    pub(crate) evaluated_macros: Macros,
    /// The macro call being rendered; `None` at the template's top level.
    pub(crate) cur: Option<Rc<Frame>>,
    pub(crate) macro_depth: usize,
    render_depth: usize,
}

impl<'a> Engine<'a> {
    pub fn new(dialect: Dialect, aws: AwsData<'a>, meter: Meter, macros: Arc<Macros>) -> Self {
        Engine {
            vars: FxMap::default(),
            out: String::new(),
            meter,
            dialect,
            aws,
            at: 0,
            macros,
            evaluated_macros: Macros::new(),
            cur: None,
            macro_depth: 0,
            render_depth: 0,
        }
    }

    #[inline]
    pub(crate) fn step(&mut self, at: Pos) -> R<()> {
        self.at = at;
        self.meter.step().map_err(|e| over(at, e))
    }

    /// `at`, or where the last step was when `at` is unknown (0).
    fn place(&self, at: Pos) -> Pos {
        if at == 0 { self.at } else { at }
    }

    /// Counts `bytes` scanned or copied.
    #[inline]
    pub fn work(&mut self, bytes: usize, at: Pos) -> R<()> {
        self.meter.work(bytes).map_err(|e| over(self.place(at), e))
    }

    /// Before making something of `bytes` the template will hold (string bytes,
    /// collection slots): within the work budget and the memory budget.
    #[inline]
    pub fn alloc(&mut self, bytes: usize, at: Pos) -> R<()> {
        self.meter.alloc(bytes).map_err(|e| over(self.place(at), e))
    }

    /// Before a collection grows by `n` elements of `live_each` bytes.
    pub fn alloc_slots(&mut self, n: usize, live_each: usize, at: Pos) -> R<()> {
        self.meter
            .alloc_slots(n, live_each)
            .map_err(|e| over(self.place(at), e))
    }

    /// Before making a string of `bytes`: within the string cap too.
    pub fn alloc_str(&mut self, bytes: usize, at: Pos) -> R<()> {
        self.check_len(bytes, at)?;
        self.alloc(bytes, at)
    }

    #[inline]
    pub(crate) fn emit(&mut self, s: &str, at: Pos) -> R<()> {
        if self.out.len() + s.len() > MAX_OUTPUT_BYTES {
            return err(
                at,
                format!("the output exceeds {} MiB", MAX_OUTPUT_BYTES >> 20),
            );
        }
        // The output is capped above, so it needs no other budget; an interpolated
        // string's text is paid for when it becomes a value (`value`).
        self.out.push_str(s);
        Ok(())
    }

    /// `String.valueOf(v)`, bounded by the output limit and paid for.
    pub fn text_of(&mut self, v: &Value, at: Pos) -> R<String> {
        if let Value::Block(b) = v {
            return self.block_text(b, at);
        }
        let s = value::to_java_string(v, MAX_OUTPUT_BYTES).or_else(|()| {
            if value::holds_block(v) {
                return not_simulated(
                    at,
                    "printing a list or map that holds a #define block or $bodyContent is not simulated",
                );
            }
            err(
                at,
                format!(
                    "a value's text exceeds {} MiB or nests too deeply",
                    MAX_OUTPUT_BYTES >> 20
                ),
            )
        })?;
        self.work(s.len(), at)?;
        Ok(s)
    }

    pub fn check_len(&self, len: usize, at: Pos) -> R<()> {
        if len > MAX_OUTPUT_BYTES {
            return err(
                at,
                format!("a string exceeds {} MiB", MAX_OUTPUT_BYTES >> 20),
            );
        }
        Ok(())
    }

    // ------------------------------------------------------------ statements

    pub fn render(&mut self, nodes: &[Node]) -> R<()> {
        self.render_depth += 1;
        // each level takes kilobytes of stack (several in a debug build): every
        // GROW_EVERY levels, see that enough is left (the red zone holds GROW_EVERY
        // levels), so a deep render never overflows the thread's
        let r = if self.render_depth.is_multiple_of(GROW_EVERY) {
            self.render_deep(nodes)
        } else {
            self.render_each(nodes)
        };
        self.render_depth -= 1;
        r
    }

    /// [`Engine::render`] at a multiple of [`GROW_EVERY`] levels: bounded, and on a new
    /// stack segment when little stack is left.
    #[inline(never)]
    fn render_deep(&mut self, nodes: &[Node]) -> R<()> {
        if self.render_depth >= MAX_RENDER_DEPTH {
            let at = self.at;
            return err(
                at,
                format!(
                    "macro calls, #evaluate and #define blocks nest {MAX_RENDER_DEPTH} levels deep"
                ),
            );
        }
        grow(|| self.render_each(nodes))
    }

    fn render_each(&mut self, nodes: &[Node]) -> R<()> {
        for n in nodes {
            self.render_node(n)?;
        }
        Ok(())
    }

    fn render_node(&mut self, n: &Node) -> R<()> {
        match n {
            Node::Text(t) => self.emit(t, 0),
            Node::Ref(r) => {
                self.step(r.pos)?;
                self.render_ref(r)
            }
            Node::Set(s) => {
                self.step(s.pos)?;
                self.set(s)
            }
            Node::If(i) => {
                for (cond, body) in &i.branches {
                    if self.evaluate(cond)? {
                        return self.render(body);
                    }
                }
                if let Some(body) = &i.otherwise {
                    self.render(body)?;
                }
                Ok(())
            }
            Node::Foreach(f) => self.foreach(f),
            Node::Break(arg, pos) => {
                self.step(*pos)?;
                match arg {
                    None => Err(Flow::Break(None)),
                    Some(e) => match self.value(e)? {
                        Value::Scope(s) => Err(Flow::Break(Some(s))),
                        _ => err(*pos, "#break's argument is not a $foreach scope"),
                    },
                }
            }
            Node::Stop(arg, pos) => {
                self.step(*pos)?;
                if let Some(e) = arg {
                    self.value(e)?;
                }
                Err(Flow::Stop)
            }
            Node::Call(c) => self.call(c),
            Node::Define(d) => self.define(d),
            Node::Evaluate(e, pos) => self.evaluate_directive(e, *pos),
            Node::Load(l) => self.load(l),
        }
    }

    /// ASTReference.render
    fn render_ref(&mut self, r: &Ref) -> R<()> {
        if r.kind == RefKind::Runt {
            return self.emit(&r.root, r.pos);
        }
        let v = self.execute(r)?;
        if let Value::Block(b) = &v
            && !r.escaped
        {
            // a Renderable renders itself; one too deep renders as a null reference
            let mut s = String::from(&*r.esc_prefix);
            s.push_str(&r.more_prefix);
            self.emit(&s, r.pos)?;
            if self.render_block(&b.clone(), r.pos)? {
                return Ok(());
            }
            // the value was not null, so API Gateway's null-as-empty does not apply: the
            // reference's own text renders (real Velocity 1.7 with the AWS handler)
            return self.emit(&self.null_text(r), r.pos);
        }
        if r.escaped {
            let mut s = String::from(&*r.esc_prefix);
            if v.is_null() {
                s.push('\\');
            }
            s.push_str(&r.null_string);
            return self.emit(&s, r.pos);
        }
        let mut s = String::from(&*r.esc_prefix);
        if v.is_null() && self.dialect == Dialect::ApiGateway {
            // API Gateway renders a reference that resolves to nothing as empty text, as
            // if the value were "" (stock Velocity prints the reference itself)
            s.push_str(&r.more_prefix);
        } else if v.is_null() {
            s.push_str(&r.esc_prefix);
            s.push_str(&r.more_prefix);
            s.push_str(&self.null_text(r));
        } else {
            s.push_str(&r.more_prefix);
            s.push_str(&self.text_of(&v, r.pos)?);
        }
        self.emit(&s, r.pos)
    }

    /// What a null reference prints in stock Velocity: its own text, or inside a macro
    /// the caller's text of the argument it names.
    fn null_text(&self, r: &Ref) -> Box<str> {
        if self.cur.is_some()
            && r.parts.is_empty()
            && r.kind == RefKind::Normal
            && let Some(l) = self.argument_literal(&r.root)
        {
            return l;
        }
        r.null_string.clone()
    }

    /// ASTReference.execute: the value, or Null when any step yields null.
    pub fn execute(&mut self, r: &Ref) -> R<Value> {
        if r.kind == RefKind::Runt {
            return Ok(Value::Null);
        }
        let root = if self.cur.is_none() {
            self.vars.get(&*r.root).cloned()
        } else {
            self.get_var(&r.root)?
        };
        let mut v = match root {
            Some(v) => v,
            None => return Ok(Value::Null),
        };
        for p in &r.parts {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = self.apply(&v, p)?;
        }
        Ok(v)
    }

    fn apply(&mut self, v: &Value, p: &Part) -> R<Value> {
        match p {
            Part::Prop(name, pos) => methods::property(self, v, name, *pos),
            Part::Method(name, args, pos) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.value(a)?);
                }
                self.step(*pos)?;
                methods::call(self, v, name, vals, *pos)
            }
            Part::Index(e, pos) => {
                let arg = self.value(e)?;
                let arg = self.adjust_negative_index(v, arg, *pos)?;
                methods::index(self, v, arg, *pos)
            }
        }
    }

    /// ASTIndex.adjMinusIndexArg: `$list[-1]` counts from the end.
    fn adjust_negative_index(&mut self, obj: &Value, arg: Value, pos: Pos) -> R<Value> {
        if let Value::Int(i) = arg
            && i < 0
        {
            let size = methods::call(self, obj, "size", vec![], pos)?;
            return match size {
                Value::Int(n) => Ok(Value::Int(n.wrapping_add(i))),
                _ => err(
                    pos,
                    format!(
                        "a negative index needs a size() method, which {} lacks",
                        obj.class_name()
                    ),
                ),
            };
        }
        Ok(arg)
    }

    /// ASTSetDirective.render: a null right-hand side leaves the variable unchanged.
    fn set(&mut self, s: &SetNode) -> R<()> {
        let v = self.value(&s.rhs)?;
        if v.is_null() {
            return Ok(());
        }
        let lhs = &s.lhs;
        if lhs.parts.is_empty() {
            let key: Rc<str> = match lhs.kind {
                RefKind::Quiet => {
                    if lhs.literal.starts_with("$!{") {
                        Rc::from("!{")
                    } else {
                        Rc::from(format!("!{}", lhs.root))
                    }
                }
                RefKind::Formal => Rc::from("{"),
                _ => Rc::from(&*lhs.root),
            };
            self.put_var(key, v);
            return Ok(());
        }
        // ASTReference.setValue
        let Some(mut obj) = self.get_var(&lhs.root)? else {
            return Ok(());
        };
        let n = lhs.parts.len();
        for p in &lhs.parts[..n - 1] {
            obj = self.apply(&obj, p)?;
            if obj.is_null() {
                return Ok(());
            }
        }
        match &lhs.parts[n - 1] {
            Part::Index(e, pos) => {
                let arg = self.value(e)?;
                let arg = self.adjust_negative_index(&obj, arg, *pos)?;
                methods::set_index(self, &obj, arg, v, *pos)
            }
            Part::Prop(name, pos) | Part::Method(name, _, pos) => {
                methods::set_property(self, &obj, name, v, *pos)
            }
        }
    }

    /// Foreach.render
    fn foreach(&mut self, f: &ForeachNode) -> R<()> {
        self.step(f.pos)?;
        let list = self.value(&f.iterable)?;
        // what to iterate: a list, or a map's values (Velocity iterates map.values())
        enum Source {
            List(Rc<value::ListCell>),
            Map(Rc<value::MapCell>),
            Scope(Rc<Scope>),
        }
        let src = match &list {
            Value::Null => return Ok(()),
            Value::List(l, _) => Source::List(l.clone()),
            Value::Map(m) => Source::Map(m.clone()),
            Value::Scope(s) => Source::Scope(s.clone()),
            // not iterable: Velocity skips the loop
            _ => return Ok(()),
        };
        let src_len = |s: &Source| match s {
            Source::List(l) => l.borrow().len(),
            Source::Map(m) => m.borrow().len(),
            Source::Scope(s) => s.storage.borrow().len(),
        };
        let src_get = |s: &Source, i: usize| match s {
            Source::List(l) => l.borrow()[i].clone(),
            Source::Map(m) => m.borrow().entries()[i].1.clone(),
            Source::Scope(s) => s.storage.borrow().entries()[i].1.clone(),
        };
        let var: Rc<str> = Rc::from(&*f.var);
        let count_key: Rc<str> = Rc::from("velocityCount");
        let has_next_key: Rc<str> = Rc::from("velocityHasNext");
        let scope_key: Rc<str> = Rc::from("foreach");
        let saved_var = self.get_var(&var)?;
        let saved_count = self.get_var(&count_key)?;
        let saved_has_next = self.get_var(&has_next_key)?;
        let previous = self.get_var(&scope_key)?;
        let (parent, replaced) = match previous {
            Some(Value::Scope(s)) => (Some(s), None),
            Some(v) if !v.is_null() => (None, Some(v)),
            _ => (None, None),
        };
        let scope = Rc::new(Scope {
            index: Cell::new(-1),
            has_next: Cell::new(false),
            parent,
            replaced,
            storage: RefCell::new(JMap::new()),
        });
        self.put_var(scope_key.clone(), Value::Scope(scope.clone()));

        let mut result = Ok(());
        let mut cursor = 0usize;
        // Java's iterators fail fast: a collection that changed size under the loop
        // makes the next step throw ConcurrentModificationException
        let expected = src_len(&src);
        let mut counter: i32 = 1;
        loop {
            let len = src_len(&src);
            if cursor == len {
                break;
            }
            if len != expected {
                result = err(
                    f.pos,
                    "the collection changed while #foreach was iterating it (ConcurrentModificationException)",
                );
                break;
            }
            if let Err(e) = self.step(f.pos) {
                result = Err(e);
                break;
            }
            self.put_var(count_key.clone(), Value::Int(counter));
            let item = src_get(&src, cursor);
            cursor += 1;
            let has_next = cursor != src_len(&src);
            self.put_var(has_next_key.clone(), Value::Bool(has_next));
            if item.is_null() {
                self.remove_var(&var);
            } else {
                self.put_var(var.clone(), item);
            }
            scope.index.set(scope.index.get() + 1);
            scope.has_next.set(has_next);
            match self.render(&f.body) {
                Ok(()) => {}
                Err(Flow::Break(None)) => break,
                Err(Flow::Break(Some(s))) if Rc::ptr_eq(&s, &scope) => break,
                Err(other) => {
                    result = Err(other);
                    break;
                }
            }
            counter += 1;
            // API Gateway: at most 1,000 iterations per #foreach (Velocity's maxloops)
            if (counter - 1) as usize >= MAX_FOREACH_ITERATIONS {
                break;
            }
        }
        // Foreach.clean and Directive.postRender
        match saved_var {
            Some(v) if !v.is_null() => self.put_var(var, v),
            _ => self.remove_var(&var),
        }
        match saved_count {
            Some(v) => self.put_var(count_key, v),
            None => self.remove_var(&count_key),
        };
        match saved_has_next {
            Some(v) => self.put_var(has_next_key, v),
            None => self.remove_var(&has_next_key),
        };
        if let Some(Value::Scope(cur)) = self.get_var(&scope_key)? {
            if let Some(p) = &cur.parent {
                self.put_var(scope_key, Value::Scope(p.clone()));
            } else if let Some(r) = &cur.replaced {
                self.put_var(scope_key, r.clone());
            } else {
                self.remove_var(&scope_key);
            }
        }
        result
    }

    // ------------------------------------------------------------ expressions

    /// A node's `value()`.
    pub fn value(&mut self, e: &Expr) -> R<Value> {
        match e {
            Expr::Str(s) => match &s.interp {
                None => Ok(Value::str(&s.value)),
                Some(nodes) => {
                    let saved = std::mem::take(&mut self.out);
                    let r = self.render(nodes);
                    let mut text = std::mem::replace(&mut self.out, saved);
                    r?;
                    if !s.has_line_comment && !text.is_empty() {
                        text.pop();
                    }
                    self.alloc(text.len(), 0)?;
                    Ok(Value::string(text))
                }
            },
            Expr::Int(IntLit::Int(i)) => Ok(Value::Int(*i)),
            Expr::Int(IntLit::Long(i)) => Ok(Value::Long(*i)),
            Expr::Int(IntLit::Big(i)) => Ok(Value::Big(*i)),
            Expr::Float(f) => Ok(Value::Double(*f)),
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::Ref(r) => {
                if !r.computable {
                    return Ok(Value::Null);
                }
                self.execute(r)
            }
            Expr::Word(_) => Ok(Value::Null),
            Expr::Range(a, b, pos) => {
                let l = self.value(a)?;
                let r = self.value(b)?;
                let (Some(l), Some(r)) = (Num::of(&l), Num::of(&r)) else {
                    return Ok(Value::Null);
                };
                let (l, r) = (l.int_value() as i64, r.int_value() as i64);
                let n = (l - r).unsigned_abs() + 1;
                if n > MAX_RANGE_ELEMENTS as u64 {
                    return err(
                        *pos,
                        format!("the range [{l}..{r}] has more than {MAX_RANGE_ELEMENTS} elements"),
                    );
                }
                self.alloc_slots(n as usize, value::SLOT_BYTES, *pos)?;
                let v: Vec<Value> = if l <= r {
                    (l..=r).map(|i| Value::Int(i as i32)).collect()
                } else {
                    (r..=l).rev().map(|i| Value::Int(i as i32)).collect()
                };
                Ok(Value::list(v, ListKind::Array))
            }
            Expr::List(items) => {
                self.alloc_slots(items.len(), value::SLOT_BYTES, 0)?;
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.value(i)?);
                }
                Ok(Value::list(v, ListKind::Array))
            }
            Expr::Map(pairs) => {
                self.alloc_slots(pairs.len(), value::MAP_ENTRY_BYTES, 0)?;
                let mut m = JMap::new();
                for (k, v) in pairs {
                    let k = self.value(k)?;
                    let v = self.value(v)?;
                    m.put(k, v);
                }
                Ok(Value::map(m))
            }
            Expr::Not(x) => Ok(Value::Bool(!self.evaluate(x)?)),
            Expr::Bin(op, a, b, pos) => self.binary(*op, a, b, *pos),
        }
    }

    /// A node's `evaluate()` (truthiness): only references, booleans and the logical and
    /// comparison nodes can be true; any other literal or arithmetic node is false.
    pub fn evaluate(&mut self, e: &Expr) -> R<bool> {
        match e {
            Expr::Ref(r) => {
                let v = self.execute(r)?;
                Ok(match v {
                    Value::Null => false,
                    Value::Bool(b) => b,
                    _ => true,
                })
            }
            Expr::Bool(b) => Ok(*b),
            Expr::Not(x) => Ok(!self.evaluate(x)?),
            Expr::Bin(op, a, b, pos) => match op {
                BinOp::Or => Ok(self.evaluate(a)? || self.evaluate(b)?),
                BinOp::And => Ok(self.evaluate(a)? && self.evaluate(b)?),
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                    match self.binary(*op, a, b, *pos)? {
                        Value::Bool(v) => Ok(v),
                        _ => Ok(false),
                    }
                }
                _ => Ok(false),
            },
            _ => Ok(false),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, pos: Pos) -> R<Value> {
        self.step(pos)?;
        match op {
            BinOp::Or | BinOp::And => {
                let v = if op == BinOp::Or {
                    self.evaluate(a)? || self.evaluate(b)?
                } else {
                    self.evaluate(a)? && self.evaluate(b)?
                };
                Ok(Value::Bool(v))
            }
            BinOp::Eq | BinOp::Ne => {
                let l = self.value(a)?;
                let r = self.value(b)?;
                let eq = self.equals(&l, &r, pos)?;
                Ok(Value::Bool(if op == BinOp::Eq { eq } else { !eq }))
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let l = self.value(a)?;
                let r = self.value(b)?;
                let (Some(x), Some(y)) = (Num::of(&l), Num::of(&r)) else {
                    // null or not a number: Velocity logs and answers false
                    return Ok(Value::Bool(false));
                };
                let c = value::compare(x, y).or_else(|m| err(pos, m))?;
                Ok(Value::Bool(match op {
                    BinOp::Lt => c < 0,
                    BinOp::Gt => c > 0,
                    BinOp::Le => c <= 0,
                    _ => c >= 0,
                }))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let l = self.value(a)?;
                let r = self.value(b)?;
                if op == BinOp::Add && (matches!(l, Value::Str(_)) || matches!(r, Value::Str(_))) {
                    // ASTAddNode.handleSpecial: string concatenation; a null side shows
                    // its reference text
                    let ls = if l.is_null() {
                        a.literal()
                    } else {
                        self.text_of(&l, pos)?
                    };
                    let rs = if r.is_null() && !l.is_null() {
                        b.literal()
                    } else if r.is_null() {
                        "null".to_string()
                    } else {
                        self.text_of(&r, pos)?
                    };
                    self.alloc_str(ls.len() + rs.len(), pos)?;
                    return Ok(Value::string(ls + &rs));
                }
                let (Some(x), Some(y)) = (Num::of(&l), Num::of(&r)) else {
                    return Ok(Value::Null);
                };
                let res = match op {
                    BinOp::Add => value::add(x, y).map(Some),
                    BinOp::Sub => value::sub(x, y).map(Some),
                    BinOp::Mul => value::mul(x, y).map(Some),
                    BinOp::Div => value::div(x, y),
                    _ => value::modulo(x, y),
                };
                match res {
                    Ok(Some(n)) => Ok(n.value()),
                    Ok(None) => Ok(Value::Null),
                    Err(m) => err(pos, m),
                }
            }
        }
    }

    /// ASTEQNode.evaluate
    fn equals(&mut self, l: &Value, r: &Value, pos: Pos) -> R<bool> {
        if let (Some(x), Some(y)) = (Num::of(l), Num::of(r)) {
            return Ok(value::compare(x, y).or_else(|m| err(pos, m))? == 0);
        }
        if !l.is_null() && !r.is_null() && value::related_classes(l, r) {
            if let (Value::Str(a), Value::Str(b)) = (l, r) {
                self.work(a.len().min(b.len()), pos)?;
            }
            return Ok(value::java_equals(l, r));
        }
        match (l.is_null(), r.is_null()) {
            (true, true) => Ok(true),
            (true, false) | (false, true) => {
                // API Gateway: null == "" is true
                if self.dialect == Dialect::ApiGateway {
                    let other = if l.is_null() { r } else { l };
                    if let Value::Str(s) = other {
                        return Ok(s.is_empty());
                    }
                }
                Ok(false)
            }
            (false, false) => Ok(self.text_of(l, pos)? == self.text_of(r, pos)?),
        }
    }
}
