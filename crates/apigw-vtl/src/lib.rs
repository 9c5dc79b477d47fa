//! A VTL (Velocity Template Language) engine that renders API Gateway mapping templates
//! the way API Gateway does: Apache Velocity 1.7 plus API Gateway's `$input`, `$util`,
//! `$context` and `$stageVariables`.
//!
//! Faithfulness is proven against the real engine: `crates/apigw-vtl/golden/vtl.json` holds what
//! Velocity 1.7 rendered for each case (`crates/apigw-vtl/golden/generate.sh`), and the tests
//! render every case both as stock Velocity (must agree byte for byte) and as API Gateway
//! (must give the recorded AWS output where AWS differs).
//!
//! Where API Gateway is recorded to differ from stock Velocity, [`render`] follows API
//! Gateway:
//! - a reference that resolves to nothing renders as empty text (Velocity prints the
//!   reference, e.g. `$foo`), as if every reference were quiet (`$!foo`);
//! - `null == ""` is true (and `null != ""` false);
//! - `$input.path` objects print like Java maps (`{a=b, c=d}`), arrays as JSON
//!   (`["a","b"]`); `$util.escapeJavaScript` escapes `'` as `\'`; `$util.urlEncode` is
//!   `java.net.URLEncoder` (space → `+`); an empty body's `$input.body` is `{}` (these are
//!   properties of the objects API Gateway supplies, so the golden harness has them too).
//!
//! Limits (a hostile template must not hang or exhaust memory): the per-render budgets of
//! [`Limits`] and [`Meter`] (`budget.rs`: steps, regex steps, bytes of work, live bytes,
//! a deadline), and the `MAX_*` constants (output size, nesting, loop iterations).
//! Velocity's directives all render, `#macro` (with 1.7's default `velocimacro.*`
//! settings: arguments passed by name, no local scope, 20 nested calls), block macro
//! calls with `$bodyContent`, `#define`, `#evaluate` and `#literal` among them.
//! `#include` and `#parse` load template files, which API Gateway has none of: a
//! render that reaches one fails as not simulated ([`RenderError::not_simulated`]).
//! Not supported: calling arbitrary Java methods (only those of the classes a mapping
//! template holds are emulated, see `methods.rs`).

mod aws;
mod budget;
mod eval;
mod jsonpath;
mod lexer;
mod macros;
mod methods;
mod parse;
mod regex;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use eval::{Engine, Flow};
use value::Value;

pub use budget::{Exceeded, Limits, Meter, Usage};

/// API Gateway's quota: a `#foreach` loop runs at most 1,000 iterations; like Velocity's
/// `directive.foreach.maxloops`, the loop then ends (no error).
pub const MAX_FOREACH_ITERATIONS: usize = 1000;
/// Output (and any single string a template builds) is capped at 10 MiB, API Gateway's
/// payload limit.
pub const MAX_OUTPUT_BYTES: usize = 10 << 20;
/// Nesting of directives, expressions, collection literals and interpolated strings.
pub const MAX_NESTING: usize = 64;
/// Elements of one range literal `[n..m]`.
pub const MAX_RANGE_ELEMENTS: usize = 100_000;
/// Elements of one list or map built by a template.
pub const MAX_COLLECTION: usize = 1_000_000;
/// Template size, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 1 << 20;

/// A template that does not parse. `line` and `col` are 1-based, within the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// A template that failed while rendering (a method threw, a limit was hit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// The budget that ran out, when that is why (otherwise a Java exception API
    /// Gateway would answer 500 for).
    pub limit: Option<Exceeded>,
    /// The template does something whose outcome on API Gateway is not simulated (a
    /// `#parse` or `#include`): neither a Java exception nor a budget.
    pub not_simulated: bool,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for RenderError {}

/// A parsed template: parse once, render many times (also from several threads).
#[derive(Clone, Debug)]
pub struct Template {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    source: Vec<char>,
    nodes: Vec<parse::Node>,
    macros: Arc<parse::Macros>,
}

/// The request parameters API Gateway exposes as `$input.params()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    pub path: BTreeMap<String, String>,
    pub querystring: BTreeMap<String, String>,
    pub header: BTreeMap<String, String>,
}

/// What API Gateway puts in the context of an integration response template.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The integration response body.
    pub body: String,
    pub params: Params,
    /// `$context.*` (nested objects for `$context.identity.sourceIp` and the like).
    pub context: serde_json::Map<String, serde_json::Value>,
    pub stage_variables: BTreeMap<String, String>,
}

/// A rendered template: the body and what it set in `$context.responseOverride`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    /// `#set($context.responseOverride.status = ...)`
    pub status_override: Option<String>,
    /// `#set($context.responseOverride.header.<name> = ...)`
    pub header_overrides: BTreeMap<String, String>,
}

/// The two readings of a template: stock Velocity (used to prove the engine against the
/// real Velocity 1.7) and API Gateway's, which [`render`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Only the tests render as stock Velocity.
    #[cfg_attr(not(test), allow(dead_code))]
    Velocity,
    ApiGateway,
}

/// A parse error before it is placed.
#[derive(Debug, Clone)]
pub(crate) struct PErr {
    pub offset: usize,
    pub message: String,
    /// For "#if without #end": the directive and where it opened.
    pub opened: Option<(&'static str, usize)>,
}

/// 1-based line and column of a character offset ("\n", "\r\n" and "\r" end lines).
pub(crate) fn line_col(src: &[char], offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    let mut i = 0;
    while i < offset.min(src.len()) {
        match src[i] {
            '\n' => {
                line += 1;
                col = 1;
            }
            '\r' => {
                if src.get(i + 1) != Some(&'\n') {
                    line += 1;
                    col = 1;
                }
            }
            _ => col += 1,
        }
        i += 1;
    }
    (line, col)
}

/// Parses a template.
pub fn parse(template: &str) -> Result<Template, SyntaxError> {
    let source: Vec<char> = template.chars().collect();
    if source.len() > MAX_TEMPLATE_CHARS {
        return Err(SyntaxError {
            line: 1,
            col: 1,
            message: format!("the template is longer than {MAX_TEMPLATE_CHARS} characters"),
        });
    }
    let (nodes, macros) = {
        let mut p = parse::Parser::new(&source, 0, 0);
        let nodes = p.process().map_err(|e| {
            let (line, col) = line_col(&source, e.offset);
            let message = match e.opened {
                Some((_, at)) => {
                    let (l, _) = line_col(&source, at);
                    format!("{} (opened at line {l})", e.message)
                }
                None => e.message,
            };
            SyntaxError { line, col, message }
        })?;
        (nodes, p.macros)
    };
    Ok(Template {
        inner: Arc::new(Inner {
            source,
            nodes,
            macros: Arc::new(macros),
        }),
    })
}

/// Renders a template the way API Gateway does, within the default [`Limits`].
pub fn render(template: &Template, inputs: &Inputs) -> Result<Rendered, RenderError> {
    render_metered(template, inputs, &mut Meter::default())
}

/// [`render`] paid from `meter` (a test's meter also pays for its selection patterns).
pub fn render_metered(
    template: &Template,
    inputs: &Inputs,
    meter: &mut Meter,
) -> Result<Rendered, RenderError> {
    render_as(template, inputs, Dialect::ApiGateway, meter)
}

pub(crate) fn render_as(
    template: &Template,
    inputs: &Inputs,
    dialect: Dialect,
    meter: &mut Meter,
) -> Result<Rendered, RenderError> {
    let mut e = Engine::new(
        dialect,
        aws::AwsData::new(inputs),
        std::mem::take(meter),
        template.inner.macros.clone(),
    );
    let result = render_in(&mut e, template, inputs);
    *meter = std::mem::take(&mut e.meter);
    result
}

fn render_in(
    e: &mut Engine<'_>,
    template: &Template,
    inputs: &Inputs,
) -> Result<Rendered, RenderError> {
    if let Err(limit) = e.meter.alloc(inputs.body.len()) {
        return Err(RenderError {
            line: 1,
            col: 1,
            message: format!("the integration response body: {limit}"),
            limit: Some(limit),
            not_simulated: false,
        });
    }
    let mut context = match aws::context_map(&inputs.context, &mut e.meter) {
        Ok(m) => m,
        Err(limit) => {
            return Err(RenderError {
                line: 1,
                col: 1,
                message: format!("the request context: {limit}"),
                limit: Some(limit),
                not_simulated: false,
            });
        }
    };
    // $context.responseOverride.status / .header.<name>, which templates #set
    let mut ro = value::JMap::new();
    ro.put(Value::str("header"), Value::map(value::JMap::new()));
    context.put(Value::str("responseOverride"), Value::map(ro));
    let context = Value::map(context);
    let mut stage = value::JMap::new();
    for (k, v) in &inputs.stage_variables {
        stage.put(Value::str(k), Value::str(v));
    }
    e.vars.insert(Rc::from("input"), Value::Input);
    e.vars.insert(Rc::from("util"), Value::Util);
    e.vars.insert(Rc::from("context"), context.clone());
    e.vars.insert(Rc::from("stageVariables"), Value::map(stage));

    match e.render(&template.inner.nodes) {
        Ok(()) | Err(Flow::Stop) | Err(Flow::Break(_)) => {}
        Err(Flow::Err(x)) => {
            let (line, col) = line_col(&template.inner.source, x.offset);
            return Err(RenderError {
                line,
                col,
                message: x.message,
                limit: x.limit,
                not_simulated: x.not_simulated,
            });
        }
    }
    let mut out = Rendered {
        body: std::mem::take(&mut e.out),
        ..Rendered::default()
    };
    let Value::Map(cm) = &context else {
        unreachable!("context is a map")
    };
    let ro = cm.borrow().get_str("responseOverride").cloned();
    if let Some(Value::Map(ro)) = ro {
        let ro = ro.borrow();
        let text = |v: &Value| value::to_java_string(v, MAX_OUTPUT_BYTES).unwrap_or_default();
        if let Some(st) = ro.get_str("status")
            && !st.is_null()
        {
            out.status_override = Some(text(st));
        }
        if let Some(Value::Map(h)) = ro.get_str("header") {
            for (k, v) in h.borrow().entries() {
                if !v.is_null() {
                    out.header_overrides.insert(text(k), text(v));
                }
            }
        }
    }
    Ok(out)
}

/// The value a header mapping `integration.response.body.<path>` takes from a JSON
/// body: API Gateway evaluates `$.<path>` (the same JSONPath as `$input.json`) and maps
/// a string as its text and anything else as JSON. `None` when the body is not JSON or
/// the path finds nothing (the header is then not set).
pub fn body_path(body: &str, path: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let path = if path.starts_with('$') {
        path.to_owned()
    } else {
        format!("$.{path}")
    };
    let found = match jsonpath::select(&doc, &path).ok()? {
        jsonpath::Selection::Missing => return None,
        jsonpath::Selection::One(v) => v.clone(),
        jsonpath::Selection::Many(vs) => {
            serde_json::Value::Array(vs.into_iter().cloned().collect())
        }
    };
    Some(match found {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}
