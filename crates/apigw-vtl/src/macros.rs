//! Velocity 1.7's macros and blocks over the engine of `eval.rs`: a macro call's
//! context (ProxyVMContext: variables seen through the frames of the calls, arguments
//! passed by name), `#macro` calls and block calls (RuntimeMacro, VelocimacroProxy),
//! `#define` blocks (Block.Reference), `#evaluate`, and `#include`/`#parse`, which API
//! Gateway has no files for. The settings are 1.7's defaults (docs/semantics.md §8).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use super::MAX_TEMPLATE_CHARS;
use super::eval::{Engine, Flow, R, err, not_simulated};
use super::parse::{self, CallNode, DefineNode, Expr, LoadNode, MacroDef, Pos};
use super::value::{self, BlockRef, FxMap, Value};

/// Velocity 1.7's default `velocimacro.max.depth`: a macro call nested deeper fails
/// (MacroOverflowException; real Velocity 1.7 allows 20 nested calls, the 21st fails).
pub(crate) const MAX_MACRO_DEPTH: usize = 20;
/// Velocity 1.7's default `directive.define.max.depth`: a `#define` block rendering
/// itself renders as a null reference beyond two levels (seen with real Velocity 1.7).
const MAX_DEFINE_DEPTH: usize = 2;
/// Velocity 1.7's default `velocimacro.body.reference`.
const BODY_CONTENT: &str = "bodyContent";

/// A macro call's context (Velocity 1.7's ProxyVMContext with its defaults:
/// `velocimacro.context.localscope = false`, arguments passed by name).
#[derive(Debug, Default)]
pub(crate) struct Frame {
    /// What was set during the call, and the arguments that are constants (numbers,
    /// booleans), evaluated once.
    local: RefCell<FxMap<Rc<str>, Value>>,
    /// The other arguments (references, strings, lists, maps, ranges): evaluated in the
    /// caller's context each time the parameter is read ("pass by name").
    args: RefCell<FxMap<Rc<str>, ByName>>,
    /// The caller's text of each by-name argument: what a null parameter prints.
    literals: FxMap<Rc<str>, Box<str>>,
    /// The caller's frame (`None`: the template's top level).
    parent: Option<Rc<Frame>>,
}

/// An argument passed by name: the call's arguments and which of them.
type ByName = (Arc<[Expr]>, usize);

/// ProxyVMContext.isConstant: arguments of these kinds are evaluated once, at the call.
fn is_constant(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Word(_)
    )
}

impl Engine<'_> {
    // ------------------------------------------------------------ variables

    /// The variable `key` as the current macro call sees it (ProxyVMContext.get): what
    /// the call set or was given as a constant, else its argument of that name
    /// evaluated in the caller's context, else what the caller sees.
    pub(crate) fn get_var(&mut self, key: &str) -> R<Option<Value>> {
        let mut frame = self.cur.clone();
        while let Some(f) = frame {
            if let Some(v) = f.local.borrow().get(key)
                && !v.is_null()
            {
                return Ok(Some(v.clone()));
            }
            let by_name = f.args.borrow().get(key).cloned();
            if let Some((args, i)) = by_name {
                let saved = std::mem::replace(&mut self.cur, f.parent.clone());
                let v = self.value(&args[i]);
                self.cur = saved;
                return v.map(Some);
            }
            frame = f.parent.clone();
        }
        Ok(self.vars.get(key).cloned())
    }

    /// `#set` and the loop variables: with 1.7's `velocimacro.context.localscope =
    /// false` a value set inside a macro is set for every caller and the template.
    pub(crate) fn put_var(&mut self, key: Rc<str>, v: Value) {
        let mut frame = self.cur.as_deref();
        while let Some(f) = frame {
            f.local.borrow_mut().insert(key.clone(), v.clone());
            frame = f.parent.as_deref();
        }
        self.vars.insert(key, v);
    }

    /// ProxyVMContext.remove: also forgets an argument of that name.
    pub(crate) fn remove_var(&mut self, key: &str) {
        let mut frame = self.cur.as_deref();
        while let Some(f) = frame {
            f.local.borrow_mut().remove(key);
            f.args.borrow_mut().remove(key);
            frame = f.parent.as_deref();
        }
        self.vars.remove(key);
    }

    /// What a null `$name` inside a macro prints in stock Velocity: the caller's text
    /// of the argument (ASTReference.getNullString's `.literal.$name`).
    pub(crate) fn argument_literal(&self, name: &str) -> Option<Box<str>> {
        let mut frame = self.cur.as_deref();
        while let Some(f) = frame {
            if let Some(l) = f.literals.get(name) {
                return Some(l.clone());
            }
            frame = f.parent.as_deref();
        }
        None
    }

    // ------------------------------------------------------------ macros and blocks

    pub(crate) fn find_macro(&self, name: &str) -> Option<Arc<MacroDef>> {
        self.macros
            .get(name)
            .or_else(|| self.evaluated_macros.get(name))
            .cloned()
    }

    /// Define.render: `$name` becomes a block that renders the body when printed.
    // The directives below are kept out of `render_node`, which stays small for the
    // common nodes (text, references, #set, #if, #foreach).
    #[inline(never)]
    pub(crate) fn define(&mut self, d: &DefineNode) -> R<()> {
        self.step(d.pos)?;
        let block = BlockRef {
            body: d.body.clone(),
            depth: Cell::new(0),
        };
        self.put_var(Rc::from(&*d.var), Value::Block(Rc::new(block)));
        Ok(())
    }

    /// RuntimeMacro.render and VelocimacroProxy.render.
    #[inline(never)]
    pub(crate) fn call(&mut self, c: &CallNode) -> R<()> {
        self.step(c.pos)?;
        // a block call #@name(...) calls the macro `name`
        let name = c.name.strip_prefix('@').unwrap_or(&c.name);
        let Some(def) = self.find_macro(name) else {
            // no such macro: the call renders as written
            return self.emit(&c.literal, c.pos);
        };
        if let Some((w, at)) = &c.bad_word {
            // Velocity 1.7 throws TemplateInitException with this message
            return err(
                *at,
                format!(
                    "Invalid arg '{w}' in macro #{} (a bare word is no argument: quote it or make it a $reference)",
                    name
                ),
            );
        }
        if self.macro_depth >= MAX_MACRO_DEPTH {
            return err(
                c.pos,
                format!(
                    "Max calling depth of {MAX_MACRO_DEPTH} was exceeded in macro '{}' (Velocity's velocimacro.max.depth: MacroOverflowException)",
                    name
                ),
            );
        }
        let mut frame = Frame {
            parent: self.cur.clone(),
            ..Frame::default()
        };
        // velocimacro.arguments.strict = false: missing arguments are not set (the
        // parameter reads what the caller sees), extra ones are ignored
        for (i, (param, arg)) in def.params.iter().zip(c.args.iter()).enumerate() {
            let key: Rc<str> = Rc::from(&**param);
            if is_constant(arg) {
                let v = self.value(arg)?;
                if !v.is_null() {
                    frame.local.get_mut().insert(key, v);
                }
            } else {
                frame
                    .args
                    .get_mut()
                    .insert(key.clone(), (c.args.clone(), i));
                frame.literals.insert(key, arg.literal().into());
            }
        }
        if let Some(body) = &c.body {
            let block = BlockRef {
                body: body.clone(),
                depth: Cell::new(0),
            };
            frame
                .local
                .get_mut()
                .insert(Rc::from(BODY_CONTENT), Value::Block(Rc::new(block)));
        }
        self.alloc_slots(def.params.len() + 1, value::MAP_ENTRY_BYTES, c.pos)?;
        let saved = self.cur.replace(Rc::new(frame));
        self.macro_depth += 1;
        let r = self.render(&def.body);
        self.macro_depth -= 1;
        self.cur = saved;
        match r {
            // a #break without a scope ends the nearest loop, macro or #evaluate
            Err(Flow::Break(None)) => Ok(()),
            other => other,
        }
    }

    /// Block.Reference.render: false when the block is already rendering itself as
    /// deep as allowed (the reference then renders as null).
    pub(crate) fn render_block(&mut self, b: &Rc<BlockRef>, at: Pos) -> R<bool> {
        self.step(at)?;
        if b.depth.get() >= MAX_DEFINE_DEPTH {
            return Ok(false);
        }
        b.depth.set(b.depth.get() + 1);
        let r = self.render(&b.body);
        b.depth.set(b.depth.get() - 1);
        match r {
            Ok(()) | Err(Flow::Break(None)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// A block's text (its `toString()`).
    pub(crate) fn block_text(&mut self, b: &Rc<BlockRef>, at: Pos) -> R<String> {
        let saved = std::mem::take(&mut self.out);
        let r = self.render_block(b, at);
        let text = std::mem::replace(&mut self.out, saved);
        r?;
        self.alloc(text.len(), at)?;
        Ok(text)
    }

    /// Evaluate.render: the argument's text parsed as a template and rendered here.
    /// Macros it defines stay defined; a `#stop` or `#break` in it ends only it.
    #[inline(never)]
    pub(crate) fn evaluate_directive(&mut self, arg: &Expr, pos: Pos) -> R<()> {
        self.step(pos)?;
        let v = self.value(arg)?;
        if v.is_null() {
            return Ok(());
        }
        let text = self.text_of(&v, pos)?;
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_TEMPLATE_CHARS {
            return err(
                pos,
                format!("#evaluate: the text is longer than {MAX_TEMPLATE_CHARS} characters"),
            );
        }
        // parsing is paid as work over the text, and what it builds as memory
        self.work(text.len().saturating_mul(8), pos)?;
        let mut p = parse::Parser::new(&chars, 0, 0);
        let mut nodes = p.process().or_else(|e| {
            let (line, col) = super::line_col(&chars, e.offset);
            err(
                pos,
                format!(
                    "#evaluate: its text does not parse at its line {line}:{col}: {} (Velocity: ParseErrorException)",
                    e.message
                ),
            )
        })?;
        // the text has no place in the template: everything in it is placed at the
        // directive
        parse::place_nodes(&mut nodes, pos);
        for (name, def) in p.macros {
            if self.find_macro(&name).is_some() {
                continue;
            }
            let mut def = Arc::into_inner(def).expect("a new macro has one owner");
            parse::place_nodes(&mut def.body, pos);
            self.alloc(text.len(), pos)?;
            self.evaluated_macros.insert(name, Arc::new(def));
        }
        match self.render(&nodes) {
            Ok(()) | Err(Flow::Stop) | Err(Flow::Break(None)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Include.render and Parse.render: API Gateway has no template files to load.
    #[inline(never)]
    pub(crate) fn load(&mut self, l: &LoadNode) -> R<()> {
        self.step(l.pos)?;
        let Some(arg) = l.args.first() else {
            return if l.directive == "parse" {
                // Velocity 1.7 throws VelocityException "#parse(): argument missing"
                err(l.pos, "#parse(): argument missing")
            } else {
                Ok(())
            };
        };
        let v = self.value(arg)?;
        if v.is_null() {
            // Velocity logs "null argument" and renders nothing
            return Ok(());
        }
        // the name is the template's text: its control characters are shown, not
        // written, in a message that reaches reports and logs
        let name = self.text_of(&v, l.pos)?.escape_debug().to_string();
        not_simulated(
            l.pos,
            format!(
                "#{}('{name}') loads a template file, and API Gateway has none to load: what it answers is not recorded (Velocity without the file fails with ResourceNotFoundException: Unable to find resource '{name}')",
                l.directive
            ),
        )
    }
}
