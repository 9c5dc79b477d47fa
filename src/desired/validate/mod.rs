//! Turning source texts into validated [`Spec`]s: every rule of the spec format,
//! each error pinned to the line and column it is about.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::document::{IntegrationKind, IntegrationResponseDoc, PresentOrAbsent, ResponseTestDoc};
use super::{
    ApiRef, Backend, DesiredSet, Expect, Location, Request, ResourceRef, ResponseTest, Spec,
    SpecError, State,
};
use crate::model::{HTTP_METHODS, Settings};
use crate::render::escape;
use crate::vecmap::VecMap;
use crate::yaml::de::{self, Pairs, Spanned};
use crate::yaml::{self, Node, Pos};

/// A spec file's raw bytes and the name errors use for it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display_name: String,
    pub bytes: Vec<u8>,
}

/// Parse and validate every document of every file; all errors, or the whole set.
pub fn parse_files(files: &[SourceFile]) -> Result<DesiredSet, Vec<SpecError>> {
    let parsed: Vec<_> = files.iter().map(parse_file).collect();
    assemble(&parsed, Vec::new())
}

/// What one file holds: integration responses and response tests.
#[derive(Clone, Debug, Default)]
pub struct FileDocs {
    pub specs: Vec<Arc<Spec>>,
    pub tests: Vec<Arc<ResponseTest>>,
}

/// The documents of one file, or all of its errors.
pub type FileResult = Result<FileDocs, Vec<SpecError>>;

/// Parse and validate one file on its own (the rules over all files come later).
pub fn parse_file(file: &SourceFile) -> FileResult {
    let name: Arc<str> = Arc::from(file.display_name.as_str());
    let at = |pos: Pos| Location {
        file: name.clone(),
        pos,
    };
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        let valid = &file.bytes[..e.valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        let col = 1 + valid.iter().rev().take_while(|b| **b != b'\n').count();
        vec![SpecError {
            location: at(Pos { line, col }),
            message: format!(
                "file is not valid UTF-8 (bad byte at offset {}); save it as UTF-8",
                e.valid_up_to()
            ),
        }]
    })?;
    // A byte order mark (what some Windows editors save) is allowed before YAML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // YAML allows no control characters but tab, line breaks and NEL; the parser would
    // take a NUL as the end of the input and silently drop what follows it.
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}'))
    {
        let before = &text[..offset];
        let line = 1 + before.matches('\n').count();
        let col = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
        return Err(vec![SpecError {
            location: at(Pos { line, col }),
            message: format!(
                "control character U+{:04X} is not allowed in YAML; remove it (a NUL would otherwise cut the file short)",
                u32::from(c)
            ),
        }]);
    }
    let docs = yaml::parse_documents(text).map_err(|e| {
        vec![SpecError {
            location: at(e.pos),
            message: e.message,
        }]
    })?;
    let mut found = FileDocs::default();
    let mut errors = Vec::new();
    for doc in docs.into_iter().flatten() {
        let mut doc_errors = Vec::new();
        let mut report = |pos, message| {
            doc_errors.push(SpecError {
                location: at(pos),
                message,
            })
        };
        let kind = doc
            .as_map()
            .and_then(|m| yaml::field(m, "kind"))
            .and_then(Node::as_str);
        if kind == Some("ResponseTest") {
            let test = parse_test(&doc, at(doc.pos), &mut report);
            match test {
                Some(test) if doc_errors.is_empty() => found.tests.push(Arc::new(test)),
                _ => errors.extend(doc_errors),
            }
        } else {
            let spec = parse_spec(&doc, at(doc.pos), text, &mut report);
            match spec {
                Some(spec) if doc_errors.is_empty() => found.specs.push(Arc::new(spec)),
                _ => errors.extend(doc_errors),
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The whole set from per-file results (and errors found before parsing): every
/// error, or the set once the rules over all files hold.
pub fn assemble<'a>(
    parsed: impl IntoIterator<Item = &'a FileResult>,
    mut errors: Vec<SpecError>,
) -> Result<DesiredSet, Vec<SpecError>> {
    let mut specs = Vec::new();
    let mut tests = Vec::new();
    for result in parsed {
        match result {
            Ok(docs) => {
                specs.extend(docs.specs.iter().cloned());
                tests.extend(docs.tests.iter().cloned());
            }
            Err(file_errors) => errors.extend(file_errors.iter().cloned()),
        }
    }
    check_set(&specs, &mut errors);
    check_tests(&tests, &mut errors);
    if errors.is_empty() {
        Ok(DesiredSet { specs, tests })
    } else {
        errors.sort();
        errors.dedup();
        Err(errors)
    }
}

type Report<'a> = dyn FnMut(Pos, String) + 'a;

/// Read `doc` as `T` (its shape): every problem serde found is reported; returned are
/// the value (if serde could build one), whether there were problems, and the reporter
/// for the domain rules, which stays silent where serde already refused a value (a
/// list where a string goes stands in as a neutral value the rules have nothing more
/// to say about).
fn read_doc<'d, 'r, 'a: 'r, T: serde::Deserialize<'d>>(
    doc: &'d Node,
    report: &'r mut Report<'a>,
) -> (Option<T>, bool, impl FnMut(Pos, String) + 'r) {
    let (parsed, problems) = de::read_node::<T>(doc);
    let refused: HashSet<Pos> = problems.iter().map(|p| p.pos).collect();
    let failed = !problems.is_empty();
    for p in problems {
        report(p.pos, p.message);
    }
    let filtered = move |pos: Pos, message: String| {
        if !refused.contains(&pos) {
            report(pos, message);
        }
    };
    (parsed, failed, filtered)
}

/// One `kind: IntegrationResponse` document: serde reads its shape
/// ([`IntegrationResponseDoc`]), then every domain rule is checked here, each error at
/// the position of the value it is about.
fn parse_spec(
    doc: &Node,
    location: Location,
    source: &str,
    report: &mut Report<'_>,
) -> Option<Spec> {
    if doc.as_map().is_none() {
        report(
            doc.pos,
            format!(
                "a spec document must be a map of fields (kind, restApiName, ...), found {}",
                doc.kind_name()
            ),
        );
        return None;
    }
    let (d, failed, mut report) = read_doc::<IntegrationResponseDoc>(doc, report);
    let d = d?;
    let report: &mut Report<'_> = &mut report;

    match &d.kind {
        None => report(
            doc.pos,
            "missing required field `kind` (kind: IntegrationResponse)".into(),
        ),
        Some(k) if k.value == "IntegrationResponse" => {}
        Some(k) => report(
            k.pos,
            format!(
                "`kind` must be `IntegrationResponse` or `ResponseTest`, found `{}`",
                k.value
            ),
        ),
    }

    let api = API.read(doc.pos, &d.rest_api, &d.rest_api_name, report);
    let resource = RESOURCE.read(doc.pos, &d.resource_id, &d.resource_path, report);

    let http_method = http_method(doc.pos, d.http_method.as_ref(), report);

    let status_code = match &d.status_code {
        None => {
            report(doc.pos, "missing required field `statusCode`".into());
            None
        }
        Some(s) if is_status_code(&s.value.0) => Some(s.value.0.clone()),
        Some(s) => {
            report(
                s.pos,
                format!(
                    "`statusCode` must be a three-digit HTTP status from 100 to 599, found `{}`",
                    s.value.0
                ),
            );
            None
        }
    };

    let selection_pattern = d.selection_pattern.as_ref().map(|p| p.value.clone());
    if let Some(p) = &d.selection_pattern
        && !p.value.is_empty()
        && p.value != "-"
        && let Some(e) = regex_error(&p.value)
    {
        report(
            p.pos,
            format!("`selectionPattern` is not a valid regular expression: {e}"),
        );
    }

    let mut response_parameters = VecMap::new();
    for (k, v) in d.response_parameters.iter().flat_map(|m| &m.value.0) {
        if !is_parameter_target(&k.value) {
            report(
                k.pos,
                format!(
                    "response parameter `{}` must be of the form `method.response.header.<name>`",
                    k.value
                ),
            );
        }
        if !is_parameter_source(&v.value) {
            report(
                v.pos,
                format!(
                    "response parameter value `{}` must be one of the sources API Gateway maps into \
                     an integration response: `integration.response.header.<name>`, \
                     `integration.response.multivalueheader.<name>`, `integration.response.body`, \
                     `integration.response.body.<JSONPath>`, `context.<variable>`, `stageVariables.<name>`, \
                     or a quoted static value like `'text'`",
                    v.value
                ),
            );
        }
        response_parameters.insert(k.value.clone(), v.value.clone());
    }

    let mut response_templates = VecMap::new();
    for (k, v) in d.response_templates.iter().flat_map(|m| &m.value.0) {
        if !is_media_type(&k.value) {
            report(
                k.pos,
                format!(
                    "response template key `{}` must be a media type like `application/json` \
                     (type/subtype); API Gateway refuses others with 400 \"Invalid content type specified\"",
                    k.value
                ),
            );
        }
        // null and "" are both a passthrough entry: a present key with no template.
        let text = v.value.clone().unwrap_or_default();
        // API Gateway accepts a template that does not parse and fails each request
        // with a 500; refuse it here, at the template's own line in the file.
        if !text.is_empty()
            && let Some(e) = template_error(&text)
        {
            let at = |line, col| {
                yaml::trace::position_in_scalar(source, v.pos, v.style, &text, line, col)
            };
            let (pos, exact) = at(e.line, e.col);
            let place = if exact {
                String::new()
            } else {
                format!(" (template line {}, column {})", e.line, e.col)
            };
            // "#if without #end (opened at line N)": N is the template's; say the file's.
            let message = match e.message.rsplit_once(" (opened at line ") {
                Some((what, rest)) => match rest.trim_end_matches(')').parse::<usize>() {
                    Ok(n) => match at(n, opened_column(&text, n, what)) {
                        (pos, true) => format!("{what} (opened at line {})", pos.line),
                        _ => e.message.clone(),
                    },
                    _ => e.message.clone(),
                },
                None => e.message.clone(),
            };
            report(
                pos,
                format!(
                    "the `{}` template does not parse{place}: {message}",
                    k.value
                ),
            );
        }
        response_templates.insert(k.value.clone(), text);
    }

    if failed {
        return None;
    }
    Some(Spec {
        api: api?,
        resource: resource?,
        http_method: http_method?,
        status_code: status_code?,
        settings: Settings {
            selection_pattern,
            response_parameters,
            response_templates,
            content_handling: d.content_handling.map(|c| c.value.as_str().to_owned()),
        },
        state: match d.state.map(|s| s.value) {
            Some(PresentOrAbsent::Absent) => State::Absent,
            _ => State::Present,
        },
        location,
    })
}

/// A pair of fields naming one thing by id or by name (path), what each becomes, and
/// the rule the name follows.
struct NamedPair<T> {
    fields: (&'static str, &'static str),
    id: fn(String) -> T,
    named: fn(String) -> T,
    rule: fn(&str) -> Option<String>,
}

const API: NamedPair<ApiRef> = NamedPair {
    fields: ("restApi", "restApiName"),
    id: ApiRef::Id,
    named: ApiRef::Name,
    rule: api_name_problem,
};

const RESOURCE: NamedPair<ResourceRef> = NamedPair {
    fields: ("resourceId", "resourcePath"),
    id: ResourceRef::Id,
    named: ResourceRef::Path,
    rule: resource_path_problem,
};

impl<T> NamedPair<T> {
    /// Exactly one of the pair ([`one_of`]), the name checked by the rule (its problem
    /// reported at the value).
    fn read(
        &self,
        doc: Pos,
        id: &Option<Spanned<String>>,
        named: &Option<Spanned<String>>,
        report: &mut Report<'_>,
    ) -> Option<T> {
        let (is_id, v) = one_of(doc, id.as_ref(), named.as_ref(), self.fields, report)?;
        if is_id {
            return Some((self.id)(v));
        }
        if let Some(problem) = (self.rule)(&v) {
            report(named.as_ref().map_or(doc, |n| n.pos), problem);
            return None;
        }
        Some((self.named)(v))
    }
}

/// What is wrong with a REST API name, if anything.
///
/// AWS documents no character set for it: `CreateRestApi`'s `name` is a required
/// string with no pattern or length in the API reference, and API Gateway's "Important
/// notes" only warn that CloudWatch dimension values (API names among them) are limited
/// to 255 valid XML characters. So spaces, dots, `<`, backticks, `|` and any non-ASCII
/// text are names; the Markdown plan and the logs escape them (`render::escape`).
/// Refused are only the characters that break or disguise a line
/// ([`escape::breaks_lines`]: control characters such as CR and LF, U+2028/U+2029, the
/// bidirectional overrides): a name is shown on one line in plans, logs, the status
/// page and the console, and no recorded AWS answer for a name holding one was found.
/// An API whose name has one can still be managed: by its id, with `restApi`.
fn api_name_problem(name: &str) -> Option<String> {
    let (at, c) = name
        .chars()
        .enumerate()
        .find(|(_, c)| escape::breaks_lines(*c))?;
    Some(format!(
        "`restApiName` must not contain control characters or line breaks, found U+{:04X} at character {} of `{}`; remove it (or name the API by its id with `restApi`)",
        u32::from(c),
        at + 1,
        escape::visible(name)
    ))
}

/// What is wrong with a resource path, if anything, by API Gateway's own rules (it
/// refuses such a resource at `CreateResource`, so none exists live and an exported
/// path always passes):
///
/// - It starts with `/`; the root is `/` and is the only path that ends with `/`; no
///   part is empty (AWS: "Resource's path part must be specified").
/// - A part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{name}`,
///   or a greedy path variable `{name+}`, with the name of the same characters. AWS's
///   error says "Resource's path part only allow a-zA-Z0-9._- and curly braces at the
///   beginning and the end and an optional plus sign before the closing brace"
///   (BadRequestException, as recorded in claudiajs/claudia#11 and reproduced by moto's
///   `InvalidResourcePathException`), but it accepts more than it says: `:` (tested
///   against AWS in getmoto/moto#6148; aws-cdk#22477) and `$` (accepted by the CLI and
///   the console, aws-cdk#27083; aws-cdk's `validateResourcePathPart` now allows
///   `[a-zA-Z0-9:._-$]`). Never refusing what AWS accepts, we take that wider set.
/// - A greedy variable is the last part: AWS refuses a child of a greedy resource
///   ("Cannot create a child of a resource with a greedy path variable: {proxy+}",
///   recorded against AWS in LocalStack's `test_apigateway_api.snapshot.json`,
///   `test_create_proxy_resource_validation`).
fn resource_path_problem(path: &str) -> Option<String> {
    let shown = escape::visible(path);
    let Some(rest) = path.strip_prefix('/') else {
        return Some(format!(
            "`resourcePath` must start with `/`, found `{shown}` (the root is `/`)"
        ));
    };
    if rest.is_empty() {
        return None;
    }
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:$".contains(&b))
    };
    let parts: Vec<&str> = rest.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() && i > 0 && i + 1 == parts.len() {
            return Some(format!(
                "`resourcePath` `{shown}` ends with `/`: only the root is `/`; write `{}`",
                escape::visible(path.trim_end_matches('/'))
            ));
        }
        if part.is_empty() {
            return Some(format!(
                "`resourcePath` `{shown}` has an empty path part (`//`); API Gateway refuses it (\"Resource's path part must be specified\")"
            ));
        }
        let variable = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        let greedy = variable.and_then(|v| v.strip_suffix('+'));
        let ok = match (variable, greedy) {
            (_, Some(name)) => name_ok(name),
            (Some(name), None) => name_ok(name),
            (None, _) => name_ok(part),
        };
        if !ok {
            return Some(format!(
                "`resourcePath` part `{}` of `{shown}` is not one API Gateway accepts: a path part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{{name}}` or greedy `{{name+}}` whose name is made of those",
                escape::visible(part)
            ));
        }
        if greedy.is_some() && i + 1 < parts.len() {
            return Some(format!(
                "`resourcePath` `{shown}`: the greedy path variable `{part}` must be the last part; API Gateway refuses children of a greedy resource (\"Cannot create a child of a resource with a greedy path variable\")"
            ));
        }
    }
    None
}

/// Exactly one of an id/name pair, as (is_first, value).
fn one_of(
    doc: Pos,
    first: Option<&Spanned<String>>,
    second: Option<&Spanned<String>>,
    (a, b): (&str, &str),
    report: &mut Report<'_>,
) -> Option<(bool, String)> {
    match (first, second) {
        (Some(_), Some(n)) => {
            report(
                n.pos,
                format!("give exactly one of `{a}` and `{b}`, not both"),
            );
            None
        }
        (None, None) => {
            report(
                doc,
                format!("missing `{a}` or `{b}`: give exactly one of them"),
            );
            None
        }
        (Some(n), None) => non_empty(n, a, report).map(|v| (true, v)),
        (None, Some(n)) => non_empty(n, b, report).map(|v| (false, v)),
    }
}

fn non_empty(n: &Spanned<String>, name: &str, report: &mut Report<'_>) -> Option<String> {
    if n.value.trim().is_empty() {
        report(
            n.pos,
            format!(
                "`{name}` must be a non-empty string, found `{}`",
                escape::visible(&n.value)
            ),
        );
        None
    } else {
        Some(n.value.clone())
    }
}

/// The column of the directive `what` ("#if without #end") on line `line` of a
/// template: its first `#if` or `#{if}` there, else 1. A folded or plain scalar may
/// join that line to the one before it in the file, so the column decides the file line.
fn opened_column(text: &str, line: usize, what: &str) -> usize {
    let name = what
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('#');
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    if name.is_empty() {
        return 1;
    }
    [format!("#{name}"), format!("#{{{name}}}")]
        .iter()
        .filter_map(|d| l.find(d.as_str()))
        .min()
        .map_or(1, |i| l[..i].chars().count() + 1)
}

/// `httpMethod`, upper-cased, when it is one API Gateway knows.
fn http_method(doc: Pos, m: Option<&Spanned<String>>, report: &mut Report<'_>) -> Option<String> {
    let Some(m) = m else {
        report(doc, "missing required field `httpMethod`".into());
        return None;
    };
    let upper = m.value.to_ascii_uppercase();
    if HTTP_METHODS.contains(&upper.as_str()) {
        Some(upper)
    } else {
        report(
            m.pos,
            format!(
                "`httpMethod` must be one of {}, found `{}`",
                HTTP_METHODS.join(" "),
                m.value
            ),
        );
        None
    }
}

/// One `kind: ResponseTest` document.
fn parse_test(doc: &Node, location: Location, report: &mut Report<'_>) -> Option<ResponseTest> {
    let (d, failed, mut report) = read_doc::<ResponseTestDoc>(doc, report);
    let d = d?;
    let report: &mut Report<'_> = &mut report;

    let name = match &d.name {
        Some(n) if !n.value.trim().is_empty() => Some(n.value.clone()),
        Some(n) => {
            report(n.pos, "`name` must say what the test shows".into());
            None
        }
        None => {
            report(
                doc.pos,
                "missing required field `name` (what the test shows)".into(),
            );
            None
        }
    };
    let api = API.read(doc.pos, &d.rest_api, &d.rest_api_name, report);
    let resource = RESOURCE.read(doc.pos, &d.resource_id, &d.resource_path, report);
    let method = http_method(doc.pos, d.http_method.as_ref(), report);
    let integration = match &d.integration {
        Some(i) => Some(i.value),
        None => {
            report(
                doc.pos,
                "missing required field `integration` (lambda, http, aws or mock: how API Gateway selects the response)"
                    .into(),
            );
            None
        }
    };

    let mut backend = Backend::default();
    if let Some(b) = &d.backend {
        let b = &b.value;
        if let (Some(m), Some(kind)) = (&b.error_message, integration)
            && kind != IntegrationKind::Lambda
        {
            report(
                m.pos,
                "`backend.errorMessage` is for `integration: lambda`; http, aws and mock integrations are selected by `backend.statusCode`".into(),
            );
        }
        if let Some(code) = &b.status_code {
            if integration == Some(IntegrationKind::Lambda) {
                report(
                    code.pos,
                    "`backend.statusCode` is for http, aws and mock integrations; a lambda integration is selected by `backend.errorMessage` (absent: a successful call)".into(),
                );
            } else if !is_status_code(&code.value.0) {
                report(
                    code.pos,
                    format!(
                        "`backend.statusCode` must be a three-digit HTTP status from 100 to 599, found `{}`",
                        code.value.0
                    ),
                );
            }
        }
        backend = Backend {
            error_message: b.error_message.as_ref().map(|m| m.value.clone()),
            status_code: b.status_code.as_ref().map(|c| c.value.0.clone()),
            headers: pairs(b.headers.as_ref()),
            multi_value_headers: b
                .multi_value_headers
                .iter()
                .flat_map(|m| &m.0)
                .map(|(k, vs)| {
                    (
                        k.value.clone(),
                        vs.iter().map(|v| v.value.clone()).collect(),
                    )
                })
                .collect(),
            body: b.body.as_ref().map(|b| b.value.clone()),
        };
    }

    let mut request = Request::default();
    if let Some(r) = &d.request {
        let r = &r.value;
        let map = |p: Option<&Pairs<Spanned<String>>>| pairs(p).into_iter().collect();
        request = Request {
            accept: r.accept.as_ref().map(|a| a.value.clone()),
            context: r.context.clone().unwrap_or_default(),
            stage_variables: map(r.stage_variables.as_ref()),
            params: crate::vtl::Params {
                path: map(r.params.as_ref().and_then(|p| p.path.as_ref())),
                querystring: map(r.params.as_ref().and_then(|p| p.querystring.as_ref())),
                header: map(r.params.as_ref().and_then(|p| p.header.as_ref())),
            },
        };
    }

    let expect = match &d.expect {
        None => {
            report(
                doc.pos,
                "missing required field `expect` (statusCode, headers, body or json: what the client must get)"
                    .into(),
            );
            None
        }
        Some(e) => {
            let x = &e.value;
            if x.status_code.is_none()
                && x.headers.is_none()
                && x.body.is_none()
                && x.json.is_none()
            {
                report(
                    e.pos,
                    "`expect` compares nothing: give statusCode, headers, body or json".into(),
                );
            }
            if let (Some(_), Some(json)) = (&x.body, &x.json) {
                report(
                    json.pos,
                    "give `expect.body` (exact text) or `expect.json` (compared as JSON), not both"
                        .into(),
                );
            }
            if let Some(code) = &x.status_code
                && !is_status_code(&code.value.0)
            {
                report(
                    code.pos,
                    format!(
                        "`expect.statusCode` must be a three-digit HTTP status from 100 to 599, found `{}`",
                        code.value.0
                    ),
                );
            }
            Some(Expect {
                status_code: x.status_code.as_ref().map(|c| c.value.0.clone()),
                headers: pairs(x.headers.as_ref()),
                body: x.body.as_ref().map(|b| b.value.clone()),
                json: x.json.as_ref().map(|j| j.value.clone()),
            })
        }
    };
    if failed {
        return None;
    }
    Some(ResponseTest {
        name: name?,
        location,
        api: api?,
        resource: resource?,
        http_method: method?,
        integration: integration?,
        backend,
        request,
        expect: expect?,
    })
}

fn pairs(p: Option<&Pairs<Spanned<String>>>) -> Vec<(String, String)> {
    p.iter()
        .flat_map(|p| &p.0)
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

/// Test names are unique (they are how a person finds a failure).
fn check_tests(tests: &[Arc<ResponseTest>], errors: &mut Vec<SpecError>) {
    let mut seen: HashMap<&str, &ResponseTest> = HashMap::new();
    for test in tests {
        if let Some(first) = seen.insert(&test.name, test) {
            errors.push(SpecError {
                location: test.location.clone(),
                message: format!(
                    "response test `{}` is also defined at {}; test names must be unique",
                    test.name, first.location
                ),
            });
        }
    }
}

/// Why `template` does not parse as VTL, if it does not. Large sets repeat a few
/// templates (CORS, error mappings) many times, so verdicts are remembered per thread
/// (bounded), by the template's text.
fn template_error(template: &str) -> Option<crate::vtl::SyntaxError> {
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, Option<crate::vtl::SyntaxError>>> =
            Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(verdict) = seen.get(template) {
            return verdict.clone();
        }
        let verdict = crate::vtl::parse(template).err();
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(template.to_owned(), verdict.clone());
        verdict
    })
}

/// Why `pattern` is not a valid regular expression, if it is not: API Gateway compiles
/// selection patterns with `java.util.regex.Pattern`, so Java's verdict (and its
/// description and index) decides, from [`crate::jregex`]. Large sets repeat a few
/// patterns ("4\\d{2}", "5\\d{2}") thousands of times, so verdicts are remembered
/// (bounded).
fn regex_error(pattern: &str) -> Option<String> {
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, Option<String>>> = Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(verdict) = seen.get(pattern) {
            return verdict.clone();
        }
        let verdict = crate::jregex::Pattern::compile(pattern).err().map(|e| {
            format!(
                "{} near index {} (Java's java.util.regex, which API Gateway uses)",
                e.description, e.index
            )
        });
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(pattern.to_owned(), verdict.clone());
        verdict
    })
}

fn is_status_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

fn is_parameter_target(key: &str) -> bool {
    key.strip_prefix("method.response.header.")
        .is_some_and(is_header_name)
}

/// The sources AWS's mapping reference lists for integration-response header mappings
/// ("Parameter mapping source reference", API Gateway developer guide). Names after a
/// prefix are only checked for being present and free of whitespace: API Gateway, not
/// us, decides which context variables exist.
fn is_parameter_source(value: &str) -> bool {
    let named = |rest: &str| !rest.is_empty() && !rest.chars().any(char::is_whitespace);
    if let Some(name) = value
        .strip_prefix("integration.response.header.")
        .or_else(|| value.strip_prefix("integration.response.multivalueheader."))
    {
        return is_header_name(name);
    }
    if value == "integration.response.body" {
        return true;
    }
    if let Some(rest) = value
        .strip_prefix("integration.response.body.")
        .or_else(|| value.strip_prefix("context."))
        .or_else(|| value.strip_prefix("stageVariables."))
    {
        return named(rest);
    }
    value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'')
}

/// `type/subtype` with RFC 9110 token characters, optionally followed by parameters
/// (`; charset=utf-8`), which a media type may carry.
fn is_media_type(key: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
    };
    let (essence, params) = key.split_once(';').unwrap_or((key, ""));
    let Some((kind, subtype)) = essence.trim_end().split_once('/') else {
        return false;
    };
    token(kind)
        && token(subtype)
        && (params.is_empty()
            || params.split(';').all(|p| {
                p.trim()
                    .split_once('=')
                    .is_some_and(|(name, value)| token(name) && !value.is_empty())
            }))
}

/// Rules over the whole set: one document per identity, one default response per method.
fn check_set(specs: &[Arc<Spec>], errors: &mut Vec<SpecError>) {
    let mut by_identity: HashMap<(&ApiRef, &ResourceRef, &str, &str), &Spec> = HashMap::new();
    let mut defaults: HashMap<(&ApiRef, &ResourceRef, &str), &Spec> = HashMap::new();
    for spec in specs {
        let identity = (
            &spec.api,
            &spec.resource,
            spec.http_method.as_str(),
            spec.status_code.as_str(),
        );
        if let Some(first) = by_identity.insert(identity, spec) {
            errors.push(SpecError {
                location: spec.location.clone(),
                message: format!(
                    "duplicate integration response {} {} {} {}: already defined at {}; keep one of the two",
                    spec.api, spec.resource, spec.http_method, spec.status_code, first.location
                ),
            });
            continue;
        }
        if spec.state == State::Present && spec.settings.is_default() {
            let method = (&spec.api, &spec.resource, spec.http_method.as_str());
            if let Some(first) = defaults.insert(method, spec) {
                errors.push(SpecError {
                    location: spec.location.clone(),
                    message: format!(
                        "{} {} {} has more than one default response (no selectionPattern): status {} here and {} at {}; \
                         give all but one a selectionPattern",
                        spec.api, spec.resource, spec.http_method, spec.status_code, first.status_code, first.location
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"200\"\n";

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile {
            display_name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn parse(text: &str) -> Result<DesiredSet, Vec<SpecError>> {
        parse_files(&[file("d/x.yaml", text)])
    }

    /// The single error `text` produces, as `file:line:col: message`.
    fn error(text: &str) -> String {
        let errors = parse(text).expect_err("should be invalid");
        assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
        errors[0].to_string()
    }

    /// GOOD with `field: value` replaced (or appended).
    fn with(field: &str, value: &str) -> String {
        let mut lines: Vec<String> = GOOD
            .lines()
            .filter(|l| !l.starts_with(&format!("{field}:")))
            .map(str::to_owned)
            .collect();
        lines.push(format!("{field}: {value}"));
        lines.join("\n") + "\n"
    }

    #[test]
    fn a_good_spec_is_read_with_normalised_method_and_status() {
        let set = parse(&with("httpMethod", "get").replace("\"200\"", "200")).unwrap();
        let spec = &set.specs[0];
        assert_eq!(spec.http_method, "GET");
        assert_eq!(spec.status_code, "200");
        assert_eq!(spec.api, ApiRef::Name("A".into()));
        assert_eq!(spec.resource, ResourceRef::Path("/r".into()));
        assert_eq!(spec.state, State::Present);
        assert_eq!(spec.location.to_string(), "d/x.yaml:1:1");
    }

    #[test]
    fn yaml_syntax_errors_have_their_position() {
        let e = error("kind: IntegrationResponse\nrestApiName: [A\n");
        assert!(e.starts_with("d/x.yaml:2:"), "{e}");
        assert!(e.contains("YAML syntax error"), "{e}");
    }

    #[test]
    fn tabs_for_indentation_are_syntax_errors() {
        let e = error("kind: IntegrationResponse\nresponseTemplates:\n\tapplication/json: x\n");
        assert!(e.starts_with("d/x.yaml:3:"), "{e}");
        assert!(e.contains("YAML syntax error"), "{e}");
    }

    #[test]
    fn a_document_must_be_a_map() {
        assert_eq!(
            error("- a\n- b\n"),
            "d/x.yaml:1:1: a spec document must be a map of fields (kind, restApiName, ...), found a list"
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_a_suggestion() {
        assert_eq!(
            error(&with("selectonPattern", "x")),
            "d/x.yaml:6:1: unknown field `selectonPattern` (did you mean `selectionPattern`?)"
        );
    }

    #[test]
    fn kind_is_required_and_checked() {
        assert_eq!(
            error(&GOOD.replace("kind: IntegrationResponse\n", "")),
            "d/x.yaml:1:1: missing required field `kind` (kind: IntegrationResponse)"
        );
        assert_eq!(
            error(&with("kind", "Integration")),
            "d/x.yaml:5:7: `kind` must be `IntegrationResponse` or `ResponseTest`, found `Integration`"
        );
    }

    #[test]
    fn exactly_one_of_rest_api_and_rest_api_name() {
        assert_eq!(
            error(&format!("restApi: abc\n{GOOD}")),
            "d/x.yaml:3:14: give exactly one of `restApi` and `restApiName`, not both"
        );
        assert_eq!(
            error(&GOOD.replace("restApiName: A\n", "")),
            "d/x.yaml:1:1: missing `restApi` or `restApiName`: give exactly one of them"
        );
        assert_eq!(
            error(&with("restApiName", "\"\"")),
            "d/x.yaml:5:14: `restApiName` must be a non-empty string, found ``"
        );
    }

    /// Resource paths API Gateway created, as recorded against AWS in LocalStack's
    /// API Gateway snapshots (`tests/aws/services/apigateway/*.snapshot.json`: the
    /// `path` of resources AWS answered with, imports of real OpenAPI files included),
    /// then the seed's, AWS's examples' (`/pets/{petId}`, `/orders/{id}`), and the
    /// characters past AWS's message that [`resource_path_problem`] cites (`:`, `$`).
    const REAL_PATHS: [&str; 40] = [
        "/",
        "/base",
        "/base-url",
        "/base-url/part",
        "/base-url/part/test",
        "/base-var/test",
        "/base/test",
        "/default-no-scope",
        "/default-scope-override",
        "/dogs",
        "/echo/{data}",
        "/foobar",
        "/non-default-authorizer",
        "/parent/child",
        "/parent/child/{proxy+}",
        "/parent/{child+}",
        "/parent/{child}",
        "/parent/{child}/{proxy+}",
        "/parent/{proxy+}",
        "/part/test",
        "/person",
        "/pets",
        "/pets/subpets/pets",
        "/pets/{petId}",
        "/product/{product_id}",
        "/test-path",
        "/test/foobar",
        "/testing/sqs",
        "/{proxy+}",
        "/mydemoresource",
        "/v1/users/{id}/orders",
        "/orders/{id}",
        "/pets/{petId}/photos",
        "/2015-03-31/functions",
        "/v1/events:batchGet",
        "/$test",
        "/{id}",
        "/a.b_c-d/E9",
        "/users/{user_id}/{proxy+}",
        "/v1/{name}",
    ];

    #[test]
    fn resource_paths_api_gateway_creates_are_valid() {
        for path in REAL_PATHS {
            assert_eq!(resource_path_problem(path), None, "{path}");
            let spec = with("resourcePath", &format!("{path:?}"));
            assert!(parse(&spec).is_ok(), "{path}: {:?}", parse(&spec));
        }
        // The seed's path, through a response test too.
        let test = TEST.replace("resourcePath: /r", "resourcePath: \"/{proxy+}\"");
        assert!(parse(&test).is_ok(), "{:?}", parse(&test));
    }

    #[test]
    fn resource_paths_api_gateway_refuses_are_refused_on_the_value() {
        let refused = |path: &str| error(&with("resourcePath", &format!("{path:?}")));
        assert_eq!(
            refused("/a//b"),
            "d/x.yaml:5:15: `resourcePath` `/a//b` has an empty path part (`//`); API Gateway refuses it (\"Resource's path part must be specified\")"
        );
        assert_eq!(
            refused("/pets/"),
            "d/x.yaml:5:15: `resourcePath` `/pets/` ends with `/`: only the root is `/`; write `/pets`"
        );
        assert_eq!(
            refused("/{proxy+}/child"),
            "d/x.yaml:5:15: `resourcePath` `/{proxy+}/child`: the greedy path variable `{proxy+}` must be the last part; API Gateway refuses children of a greedy resource (\"Cannot create a child of a resource with a greedy path variable\")"
        );
        assert_eq!(
            refused("/a`b`"),
            "d/x.yaml:5:15: `resourcePath` part `a`b`` of `/a`b`` is not one API Gateway accepts: a path part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{name}` or greedy `{name+}` whose name is made of those"
        );
        for bad in [
            "/<img src=x onerror=alert(1)>",
            "/a b",
            "/a|b",
            "/a\nb",
            "/a\rb",
            "/a*",
            "/us{er",
            "/us+er",
            "/{}",
            "/{+}",
            "/{a}b",
            "/{{a}}",
            "/{a+b}",
            "/caf\u{e9}",
            "/a&b",
            "/a%20b",
        ] {
            let e = refused(bad);
            assert!(
                e.starts_with("d/x.yaml:5:15: `resourcePath` part `"),
                "{bad:?}: {e}"
            );
            assert!(
                !e.contains(['\n', '\r']),
                "the value is quoted escaped: {e:?}"
            );
        }
        assert!(refused("//").contains("empty path part"));
        // A response test's path follows the same rules and must start with `/`.
        assert_eq!(
            errors(&TEST.replace("resourcePath: /r", "resourcePath: r")),
            ["d/x.yaml:4:15: `resourcePath` must start with `/`, found `r` (the root is `/`)"]
        );
        assert_eq!(
            errors(&TEST.replace("resourcePath: /r", "resourcePath: \"/a/<b>\"")),
            [
                "d/x.yaml:4:15: `resourcePath` part `<b>` of `/a/<b>` is not one API Gateway accepts: a path part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{name}` or greedy `{name+}` whose name is made of those"
            ]
        );
    }

    #[test]
    fn api_names_are_anything_on_one_line() {
        for name in [
            "MyDemoAPI",
            "PetStore",
            "Example Pet Store",
            "Simple PetStore (Swagger)",
            "My Demo API v1.2",
            "B\u{fc}cher-API \u{1f4da}",
            "Shop `x` <img src=x> | **y** & co",
            " padded ",
        ] {
            let spec = with("restApiName", &format!("{name:?}"));
            assert!(parse(&spec).is_ok(), "{name}: {:?}", parse(&spec));
            let test = TEST.replace("restApiName: A", &format!("restApiName: {name:?}"));
            assert!(parse(&test).is_ok(), "{name}: {:?}", parse(&test));
        }
        assert_eq!(
            error(&with("restApiName", "\"Bad\\rInputs\"")),
            "d/x.yaml:5:14: `restApiName` must not contain control characters or line breaks, found U+000D at character 4 of `Bad\\rInputs`; remove it (or name the API by its id with `restApi`)"
        );
        for bad in [
            "a\\nb",
            "a\\tb",
            "a\\eb",
            "a\\u2028b",
            "a\\u202Eb",
            "a\\x85b",
        ] {
            let e = error(&with("restApiName", &format!("\"{bad}\"")));
            assert!(
                e.starts_with("d/x.yaml:5:14: `restApiName` must not contain control characters"),
                "{bad}: {e}"
            );
            assert!(!e.contains(['\n', '\t', '\u{1b}', '\u{2028}']), "{e:?}");
        }
        // A literal block keeps its line break: refused too, at the value.
        assert!(
            error(&GOOD.replace("restApiName: A\n", "restApiName: |\n  A\n  B\n"))
                .starts_with("d/x.yaml:3:3: `restApiName` must not contain control characters")
        );
        // Response tests name their API the same way.
        assert_eq!(
            errors(&TEST.replace("restApiName: A", "restApiName: \"A\\nB\"")),
            [
                "d/x.yaml:3:14: `restApiName` must not contain control characters or line breaks, found U+000A at character 2 of `A\\nB`; remove it (or name the API by its id with `restApi`)"
            ]
        );
    }

    #[test]
    fn exactly_one_of_resource_id_and_resource_path() {
        assert_eq!(
            error(&format!("resourceId: abc\n{GOOD}")),
            "d/x.yaml:4:15: give exactly one of `resourceId` and `resourcePath`, not both"
        );
        assert_eq!(
            error(&GOOD.replace("resourcePath: /r\n", "")),
            "d/x.yaml:1:1: missing `resourceId` or `resourcePath`: give exactly one of them"
        );
        assert_eq!(
            error(&with("resourcePath", "r")),
            "d/x.yaml:5:15: `resourcePath` must start with `/`, found `r` (the root is `/`)"
        );
    }

    #[test]
    fn http_method_must_be_known() {
        assert_eq!(
            error(&with("httpMethod", "FETCH")),
            "d/x.yaml:5:13: `httpMethod` must be one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY, found `FETCH`"
        );
        assert!(error(&with("httpMethod", "[GET]")).ends_with("found a list"));
        assert!(
            error(&GOOD.replace("httpMethod: GET\n", ""))
                .contains("missing required field `httpMethod`")
        );
    }

    #[test]
    fn status_code_must_be_a_three_digit_status() {
        for (bad, shown) in [
            ("\"2OO\"", "`2OO`"),
            ("99", "`99`"),
            ("600", "`600`"),
            ("true", "a boolean"),
        ] {
            assert_eq!(
                error(&with("statusCode", bad)),
                format!(
                    "d/x.yaml:5:13: `statusCode` must be a three-digit HTTP status from 100 to 599, found {shown}"
                )
            );
        }
        assert!(
            error(&GOOD.replace("statusCode: \"200\"\n", ""))
                .contains("missing required field `statusCode`")
        );
    }

    #[test]
    fn selection_pattern_must_be_a_regex() {
        let e = error(&with("selectionPattern", "\"5\\\\d{2}(\""));
        assert!(
            e.starts_with("d/x.yaml:6:19: `selectionPattern` is not a valid regular expression"),
            "{e}"
        );
        for ok in ["\"-\"", "\"\"", "\".*Not Found.*\"", "'(?!x)y'"] {
            parse(&with("selectionPattern", ok)).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        }
    }

    #[test]
    fn response_parameter_keys_and_values_are_checked() {
        assert_eq!(
            error(&with(
                "responseParameters",
                "{method.request.header.A: \"'x'\"}"
            )),
            "d/x.yaml:6:22: response parameter `method.request.header.A` must be of the form `method.response.header.<name>`"
        );
        let e = error(&with(
            "responseParameters",
            "{method.response.header.A: integration.response.foo}",
        ));
        assert!(
            e.starts_with(
                "d/x.yaml:6:48: response parameter value `integration.response.foo` must be"
            ),
            "{e}"
        );
        let e = error(&with(
            "responseParameters",
            "{method.response.header.A: static}",
        ));
        assert!(e.contains("`static` must be"), "{e}");
        for bad in [
            "context.",
            "stageVariables.",
            "integration.response.multivalueheader.",
            "method.request.header.A",
        ] {
            let e = error(&with(
                "responseParameters",
                &format!("{{method.response.header.A: {bad}}}"),
            ));
            assert!(e.contains(&format!("`{bad}` must be")), "{e}");
        }
        parse(&with(
            "responseParameters",
            "{method.response.header.A: integration.response.header.B, method.response.header.C: integration.response.body, \
             method.response.header.D: integration.response.body.error.message, method.response.header.E: \"'*'\"}",
        ))
        .unwrap();
        // Every source AWS's mapping reference lists for integration responses.
        parse(&with(
            "responseParameters",
            "{method.response.header.A: integration.response.multivalueheader.Set-Cookie, \
             method.response.header.B: context.requestId, method.response.header.C: context.identity.sourceIp, \
             method.response.header.D: stageVariables.origin, \
             method.response.header.E: \"'GET,POST,OPTIONS'\", method.response.header.F: \"'realm=\\\"x\\\"'\"}",
        ))
        .unwrap();
        assert!(
            error(&with("responseParameters", "[a]"))
                .ends_with("`responseParameters` must be a map, found a list")
        );
    }

    #[test]
    fn response_templates_must_map_content_types_to_strings() {
        assert!(
            error(&with("responseTemplates", "text"))
                .ends_with("`responseTemplates` must be a map, found a string")
        );
        let e = error(&with("responseTemplates", "{application/json: [x]}"));
        assert!(
            e.ends_with(
                "value of `responseTemplates.application/json` must be a string, found a list"
            ),
            "{e}"
        );
        let set = parse(&with(
            "responseTemplates",
            "{application/json: null, text/plain: \"\"}",
        ))
        .unwrap();
        assert_eq!(
            set.specs[0].settings.response_templates["application/json"],
            ""
        );
    }

    #[test]
    fn response_template_keys_must_be_media_types() {
        assert_eq!(
            error(&with("responseTemplates", "{json: x}")),
            "d/x.yaml:6:21: response template key `json` must be a media type like `application/json` \
             (type/subtype); API Gateway refuses others with 400 \"Invalid content type specified\""
        );
        for bad in ["\"application/\"", "\"a b/c\"", "\"/json\""] {
            let e = error(&with("responseTemplates", &format!("{{{bad}: x}}")));
            assert!(e.contains("must be a media type"), "{bad}: {e}");
        }
        parse(&with(
            "responseTemplates",
            "{application/json: x, application/vnd.api+json: y, text/html; charset=utf-8: z, \"*/*\": w}",
        ))
        .unwrap();
    }

    #[test]
    fn content_handling_must_be_known() {
        assert_eq!(
            error(&with("contentHandling", "CONVERT_TO_XML")),
            "d/x.yaml:6:18: `contentHandling` must be `CONVERT_TO_BINARY` or `CONVERT_TO_TEXT`, found `CONVERT_TO_XML`"
        );
        parse(&with("contentHandling", "CONVERT_TO_BINARY")).unwrap();
    }

    #[test]
    fn state_must_be_present_or_absent() {
        assert_eq!(
            error(&with("state", "gone")),
            "d/x.yaml:6:8: `state` must be `present` or `absent`, found `gone`"
        );
        assert_eq!(
            parse(&with("state", "absent")).unwrap().specs[0].state,
            State::Absent
        );
    }

    #[test]
    fn duplicate_keys_in_a_map_are_errors() {
        assert_eq!(
            error(&format!("{GOOD}httpMethod: POST\n")),
            "d/x.yaml:6:1: duplicate key `httpMethod` (first at line 4)"
        );
    }

    #[test]
    fn the_same_identity_twice_names_both_places() {
        let errors = parse_files(&[
            file("d/a.yaml", GOOD),
            file("d/b.yaml", &format!("# other\n{GOOD}")),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].to_string(),
            "d/b.yaml:2:1: duplicate integration response restApiName A /r GET 200: already defined at d/a.yaml:1:1; keep one of the two"
        );
    }

    #[test]
    fn two_default_responses_on_one_method_are_errors() {
        let second = GOOD.replace("\"200\"", "\"500\"");
        let e = parse(&format!("{GOOD}---\n{second}")).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].to_string().starts_with(
                "d/x.yaml:7:1: restApiName A /r GET has more than one default response"
            ),
            "{}",
            e[0]
        );
        // A pattern on one of them, or state: absent, makes it fine.
        parse(&format!(
            "{GOOD}---\n{second}selectionPattern: \"5\\\\d{{2}}\"\n"
        ))
        .unwrap();
        parse(&format!("{GOOD}---\n{second}state: absent\n")).unwrap();
    }

    #[test]
    fn non_utf8_files_are_errors_with_the_line() {
        let mut bytes = b"kind: IntegrationResponse\nrestApiName: \"".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        let errors = parse_files(&[SourceFile {
            display_name: "d/x.yaml".into(),
            bytes,
        }])
        .unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .starts_with("d/x.yaml:2:15: file is not valid UTF-8"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn control_characters_are_errors_where_they_stand() {
        let e = error("kind: IntegrationResponse\nrestApiName: Bad\u{0}Inputs\n");
        assert!(
            e.starts_with("d/x.yaml:2:17: control character U+0000 is not allowed in YAML"),
            "{e}"
        );
        // Nothing after a NUL may vanish: the second document's error is still found.
        let errors = parse(&format!(
            "{GOOD}\u{0}\n---\n{}",
            GOOD.replace("\"200\"", "\"2OO\"")
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("d/x.yaml:6:1: control character"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_byte_order_mark_is_allowed() {
        assert_eq!(parse(&format!("\u{feff}{GOOD}")).unwrap().specs.len(), 1);
    }

    #[test]
    fn syntax_errors_never_point_past_the_last_line() {
        let e = error("kind: IntegrationResponse\nresponseTemplates:\n  a/b: x\n  text/plain\n");
        let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
        assert_eq!(line, 4, "{e}");
    }

    #[test]
    fn alias_bombs_are_errors() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(error(&text).contains("alias bomb"));
    }

    #[test]
    fn empty_and_comment_only_files_hold_no_specs() {
        assert!(parse("").unwrap().specs.is_empty());
        assert!(
            parse("# nothing yet\n---\n# still nothing\n")
                .unwrap()
                .specs
                .is_empty()
        );
    }

    #[test]
    fn every_document_of_a_file_is_read_and_every_error_reported() {
        let two = format!("{GOOD}---\n{}", GOOD.replace("GET", "POST"));
        assert_eq!(parse(&two).unwrap().specs.len(), 2);
        let errors = parse(&format!(
            "{}---\n{}",
            with("state", "x"),
            with("httpMethod", "Y")
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[1].location.pos.line, 12);
    }

    // ------------------------------------------------------------- response tests

    /// A minimal valid response test: line 6 is `integration`, line 7 `expect:`.
    const TEST: &str = "kind: ResponseTest\nname: t\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nintegration: lambda\nexpect:\n  statusCode: \"200\"\n";

    /// The errors of `text` as `file:line:col: message`, sorted by place.
    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .expect_err("should be invalid")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_response_test_is_read_with_every_part() {
        let text = "kind: ResponseTest
name: a missing order is a 404
restApi: a1b2c3
resourceId: x9y8z7
httpMethod: get
integration: http
backend:
  statusCode: 404
  headers: {X-Trace: abc}
  multiValueHeaders: {Set-Cookie: [a=1, b=2]}
  body: '{\"id\": 42}'
request:
  accept: application/xml
  context: {requestId: r-1, identity: {sourceIp: 192.0.2.1}}
  stageVariables: {origin: 'https://example.com'}
  params: {path: {id: '42'}, querystring: {q: x}, header: {X-H: h}}
expect:
  statusCode: 404
  headers: {Access-Control-Allow-Origin: 'https://example.com'}
  json: {message: Not found, id: 42}
";
        let set = parse(text).unwrap();
        assert!(set.specs.is_empty());
        let t = &set.tests[0];
        assert_eq!(t.name, "a missing order is a 404");
        assert_eq!(t.location.to_string(), "d/x.yaml:1:1");
        assert_eq!(t.api, ApiRef::Id("a1b2c3".into()));
        assert_eq!(t.resource, ResourceRef::Id("x9y8z7".into()));
        assert_eq!(t.http_method, "GET");
        assert_eq!(t.integration, IntegrationKind::Http);
        assert_eq!(t.backend.status_code.as_deref(), Some("404"));
        assert_eq!(t.backend.error_message, None);
        assert_eq!(t.backend.headers, [("X-Trace".into(), "abc".into())]);
        assert_eq!(
            t.backend.multi_value_headers,
            [("Set-Cookie".into(), vec!["a=1".into(), "b=2".into()])]
        );
        assert_eq!(t.backend.body.as_deref(), Some("{\"id\": 42}"));
        assert_eq!(t.request.accept.as_deref(), Some("application/xml"));
        assert_eq!(
            serde_json::Value::Object(t.request.context.clone()),
            serde_json::json!({"requestId": "r-1", "identity": {"sourceIp": "192.0.2.1"}})
        );
        assert_eq!(t.request.stage_variables["origin"], "https://example.com");
        assert_eq!(t.request.params.path["id"], "42");
        assert_eq!(t.request.params.querystring["q"], "x");
        assert_eq!(t.request.params.header["X-H"], "h");
        assert_eq!(t.expect.status_code.as_deref(), Some("404"));
        assert_eq!(
            t.expect.json,
            Some(serde_json::json!({"message": "Not found", "id": 42}))
        );
        assert_eq!(t.expect.body, None);
    }

    #[test]
    fn a_response_test_needs_a_name_an_integration_and_an_expectation() {
        assert_eq!(
            errors(&TEST.replace("name: t\n", "")),
            ["d/x.yaml:1:1: missing required field `name` (what the test shows)"]
        );
        assert_eq!(
            errors(&TEST.replace("name: t\n", "name: \"  \"\n")),
            ["d/x.yaml:2:7: `name` must say what the test shows"]
        );
        assert_eq!(
            errors(&TEST.replace("integration: lambda\n", "")),
            [
                "d/x.yaml:1:1: missing required field `integration` (lambda, http, aws or mock: how API Gateway selects the response)"
            ]
        );
        assert_eq!(
            errors(&TEST.replace("expect:\n  statusCode: \"200\"\n", "")),
            [
                "d/x.yaml:1:1: missing required field `expect` (statusCode, headers, body or json: what the client must get)"
            ]
        );
        // All three at once, each reported.
        let bare = "kind: ResponseTest\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\n";
        assert_eq!(errors(bare).len(), 3, "{:?}", errors(bare));
        // The method refs are those of a spec.
        assert_eq!(
            errors(&TEST.replace("restApiName: A\n", "")),
            ["d/x.yaml:1:1: missing `restApi` or `restApiName`: give exactly one of them"]
        );
        assert_eq!(
            errors(&TEST.replace("httpMethod: GET", "httpMethod: FETCH")),
            [
                "d/x.yaml:5:13: `httpMethod` must be one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY, found `FETCH`"
            ]
        );
        assert_eq!(
            errors(&TEST.replace("integration: lambda", "integration: lambada")),
            [
                "d/x.yaml:6:14: `integration` must be one of `lambda`, `http`, `aws`, `mock`, found `lambada`"
            ]
        );
    }

    #[test]
    fn response_test_names_are_unique_and_both_places_are_named() {
        let errors = parse_files(&[
            file("d/a.yaml", TEST),
            file("d/b.yaml", &format!("{GOOD}---\n{TEST}")),
        ])
        .unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "d/b.yaml:7:1: response test `t` is also defined at d/a.yaml:1:1; test names must be unique"
            ]
        );
        // Another name is fine.
        parse_files(&[
            file("d/a.yaml", TEST),
            file("d/b.yaml", &TEST.replace("name: t", "name: u")),
        ])
        .unwrap();
    }

    #[test]
    fn backend_fields_must_fit_the_integration() {
        assert_eq!(
            errors(&format!("{TEST}backend:\n  statusCode: 404\n")),
            [
                "d/x.yaml:10:15: `backend.statusCode` is for http, aws and mock integrations; a lambda integration is selected by `backend.errorMessage` (absent: a successful call)"
            ]
        );
        let http = TEST.replace("integration: lambda", "integration: http");
        assert_eq!(
            errors(&format!("{http}backend:\n  errorMessage: boom\n")),
            [
                "d/x.yaml:10:17: `backend.errorMessage` is for `integration: lambda`; http, aws and mock integrations are selected by `backend.statusCode`"
            ]
        );
        for kind in ["aws", "mock"] {
            let t = TEST.replace("integration: lambda", &format!("integration: {kind}"));
            assert_eq!(
                errors(&format!("{t}backend:\n  errorMessage: boom\n")).len(),
                1,
                "{kind}"
            );
            // A status code, quoted or not, is what they take.
            parse(&format!("{t}backend:\n  statusCode: \"404\"\n")).unwrap();
        }
        assert_eq!(
            errors(&format!("{http}backend:\n  statusCode: 2000\n")),
            [
                "d/x.yaml:10:15: `backend.statusCode` must be a three-digit HTTP status from 100 to 599, found `2000`"
            ]
        );
        parse(&format!("{TEST}backend:\n  errorMessage: boom\n")).unwrap();
    }

    #[test]
    fn expect_must_compare_something_and_not_body_and_json_together() {
        let without = TEST.replace("expect:\n  statusCode: \"200\"\n", "");
        assert_eq!(
            errors(&format!("{without}expect: {{}}\n")),
            ["d/x.yaml:7:9: `expect` compares nothing: give statusCode, headers, body or json"]
        );
        assert_eq!(
            errors(&format!("{without}expect:\n  body: x\n  json: {{a: 1}}\n")),
            [
                "d/x.yaml:9:9: give `expect.body` (exact text) or `expect.json` (compared as JSON), not both"
            ]
        );
        assert_eq!(
            errors(&format!("{without}expect:\n  statusCode: \"20\"\n")),
            [
                "d/x.yaml:8:15: `expect.statusCode` must be a three-digit HTTP status from 100 to 599, found `20`"
            ]
        );
        for one in [
            "headers: {X-A: a}",
            "body: x",
            "json: [1, 2]",
            "statusCode: 201",
        ] {
            parse(&format!("{without}expect:\n  {one}\n"))
                .unwrap_or_else(|e| panic!("{one}: {e:?}"));
        }
    }

    #[test]
    fn unknown_fields_of_a_response_test_are_errors_at_their_place() {
        assert_eq!(
            errors(&format!("{TEST}expected:\n  body: x\n")),
            ["d/x.yaml:9:1: unknown field `expected` (did you mean `expect`?)"]
        );
        assert_eq!(
            errors(&format!("{TEST}backend:\n  errorMesage: boom\n")),
            [
                "d/x.yaml:10:3: in `backend`: unknown field `errorMesage` (did you mean `errorMessage`?)"
            ]
        );
        assert_eq!(
            errors(&TEST.replace("  statusCode: \"200\"\n", "  status: \"200\"\n")),
            [
                "d/x.yaml:8:3: in `expect`: unknown field `status`; known fields: statusCode, headers, body, json"
            ]
        );
        assert_eq!(
            errors(&format!("{TEST}request:\n  params: {{query: {{q: x}}}}\n")),
            [
                "d/x.yaml:10:12: in `request.params`: unknown field `query`; known fields: path, querystring, header"
            ]
        );
        // A spec's field in a test is unknown there too.
        assert_eq!(
            errors(&format!("{TEST}statusCode: \"200\"\n")),
            [
                "d/x.yaml:9:1: unknown field `statusCode`; known fields: kind, name, restApi, restApiName, resourceId, resourcePath, httpMethod, integration, backend, request, expect"
            ]
        );
    }

    // ------------------------------------------------------- templates that do not parse

    /// The one error of GOOD with these `responseTemplates` lines (the first on line 7).
    fn template_error(templates: &str) -> String {
        error(&format!("{GOOD}responseTemplates:\n{templates}"))
    }

    const SET_ERROR: &str = "does not parse: unexpected \"1\", expected '=' in #set";

    #[test]
    fn a_template_error_in_a_literal_block_is_placed_on_its_file_line() {
        // Template line 2, column 9 (the `1`): file line 9, four columns of indentation.
        for header in ["|", "|-", "|+", "|2", "| # a comment"] {
            assert_eq!(
                template_error(&format!(
                    "  application/json: {header}\n    ok\n    #set($a 1)\n"
                )),
                format!("d/x.yaml:9:13: the `application/json` template {SET_ERROR}"),
                "{header}"
            );
        }
        // A blank first line is a template line too.
        assert_eq!(
            template_error("  application/json: |\n\n    ok\n    #set($a 1)\n"),
            format!("d/x.yaml:10:13: the `application/json` template {SET_ERROR}")
        );
        // Deeper indentation inside the block is the template's own.
        assert_eq!(
            template_error("  application/json: |\n    ok\n      #set($a 1)\n"),
            format!("d/x.yaml:9:15: the `application/json` template {SET_ERROR}")
        );
    }

    #[test]
    fn a_template_error_in_a_folded_block_is_placed_on_its_file_line() {
        // A blank line keeps the line break: template line 2 is file line 10.
        assert_eq!(
            template_error("  application/json: >\n    ok\n\n    #set($a 1)\n"),
            format!("d/x.yaml:10:13: the `application/json` template {SET_ERROR}")
        );
        // Folding joins "ok" and "x #set($a 1)" into template line 1 ("ok x #set($a 1)",
        // the `1` at its column 14); the `1` stands on file line 9, column 15.
        assert_eq!(
            template_error("  application/json: >\n    ok\n    x #set($a 1)\n"),
            format!("d/x.yaml:9:15: the `application/json` template {SET_ERROR}")
        );
    }

    #[test]
    fn a_template_error_in_a_double_quoted_scalar_is_placed_on_its_file_line() {
        // `"` is column 21 of line 7; `\n` is two characters in the file, one in the
        // template.
        assert_eq!(
            template_error("  application/json: \"ok\\n#set($a 1)\"\n"),
            format!("d/x.yaml:7:34: the `application/json` template {SET_ERROR}")
        );
        // Escapes before the error on the same line: `\"` is two file columns.
        assert_eq!(
            template_error("  application/json: \"#set($a = \\\"x\\\") #set($b 1)\"\n"),
            format!("d/x.yaml:7:47: the `application/json` template {SET_ERROR}")
        );
        assert_eq!(
            template_error("  application/json: \"\\u00e9\\t#set($a 1)\"\n"),
            format!("d/x.yaml:7:38: the `application/json` template {SET_ERROR}")
        );
        // A line break inside the quotes folds into a space: the `#set` is on line 8.
        assert_eq!(
            template_error("  application/json: \"ok\n    #set($a 1)\"\n"),
            format!("d/x.yaml:8:13: the `application/json` template {SET_ERROR}")
        );
        // An escaped line break joins without a space.
        assert_eq!(
            template_error("  application/json: \"ok \\\n    #set($a 1)\"\n"),
            format!("d/x.yaml:8:13: the `application/json` template {SET_ERROR}")
        );
    }

    #[test]
    fn a_template_error_in_a_single_quoted_scalar_is_placed_on_its_file_line() {
        let amp = "does not parse: unexpected character '&' in a directive's arguments";
        assert_eq!(
            template_error("  application/json: 'ok #if($a & $b)x#end'\n"),
            format!("d/x.yaml:7:32: the `application/json` template {amp}")
        );
        // `''` is one quote in the template, two columns in the file.
        assert_eq!(
            template_error("  application/json: '#set($a = ''x'') #if($a & $b)x#end'\n"),
            format!("d/x.yaml:7:46: the `application/json` template {amp}")
        );
        // A blank line is a line break: template line 2 is file line 9.
        assert_eq!(
            template_error("  application/json: 'ok\n\n    #if($a & $b)x#end'\n"),
            format!("d/x.yaml:9:12: the `application/json` template {amp}")
        );
        // Columns count characters, not bytes.
        assert_eq!(
            template_error("  application/json: 'é ü #if($a & $b)x#end'\n"),
            format!("d/x.yaml:7:33: the `application/json` template {amp}")
        );
    }

    #[test]
    fn a_template_error_is_placed_in_a_file_with_crlf_line_breaks() {
        let text = format!(
            "{GOOD}responseTemplates:\n  application/json: |\n    ok\n    #set($a 1)\n  text/plain: >\n    ok\n    x #set($a 1)\n"
        )
        .replace('\n', "\r\n");
        let shown: Vec<String> = parse(&text)
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            shown,
            [
                format!("d/x.yaml:9:13: the `application/json` template {SET_ERROR}"),
                format!("d/x.yaml:12:15: the `text/plain` template {SET_ERROR}"),
            ]
        );
    }

    #[test]
    fn a_template_error_in_a_plain_scalar_is_placed_on_its_file_line() {
        let end = "does not parse: #end without a matching #if or #foreach";
        assert_eq!(
            template_error("  application/json: x#end\n"),
            format!("d/x.yaml:7:22: the `application/json` template {end}")
        );
        // "line one x#end": one template line, two file lines.
        assert_eq!(
            template_error("  application/json: line one\n    x#end\n"),
            format!("d/x.yaml:8:6: the `application/json` template {end}")
        );
        // In a flow map too.
        assert_eq!(
            template_error("  {application/json: x#end}\n"),
            format!("d/x.yaml:7:23: the `application/json` template {end}")
        );
    }

    #[test]
    fn an_unclosed_directive_is_placed_at_the_templates_end_and_names_its_file_line() {
        let unclosed = |line| {
            format!(
                "the `application/json` template does not parse: #if without #end (opened at line {line})"
            )
        };
        // After the last character of the last line.
        assert_eq!(
            template_error("  application/json: |\n    ok\n    #if(true)\n"),
            format!("d/x.yaml:9:14: {}", unclosed(9))
        );
        // Folded: template line 1 is "ok #if(true)", the #if on file line 9.
        assert_eq!(
            template_error("  application/json: >\n    ok\n    #if(true)\n"),
            format!("d/x.yaml:9:14: {}", unclosed(9))
        );
        assert_eq!(
            template_error("  application/json: \"ok\\n  #if(true)\"\n"),
            format!("d/x.yaml:7:37: {}", unclosed(7))
        );
        // The second template of two, after the first.
        assert_eq!(
            template_error(
                "  text/plain: fine\n  application/json: |\n    a\n    #{if}(true)\n    b\n"
            ),
            format!("d/x.yaml:11:6: {}", unclosed(10))
        );
    }

    #[test]
    fn every_template_that_does_not_parse_is_reported() {
        let errors = errors(&format!(
            "{GOOD}responseTemplates:\n  application/json: x#end\n  text/plain: |\n    #set($a 1)\n"
        ));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("d/x.yaml:7:22: the `application/json`"));
        assert!(errors[1].starts_with("d/x.yaml:9:13: the `text/plain`"));
    }
}
