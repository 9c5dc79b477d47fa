//! Turning source texts into validated [`Spec`]s: every rule of the spec format,
//! each error pinned to the line and column it is about.

use std::collections::HashMap;

use crate::vecmap::VecMap;
use std::sync::Arc;

use super::{ApiRef, DesiredSet, Location, ResourceRef, SourceFile, Spec, SpecError, State};
use crate::model::{CONTENT_HANDLINGS, HTTP_METHODS, Settings};
use crate::yaml::{self, Node, Pos, Value};

const FIELDS: [&str; 12] = [
    "kind",
    "restApi",
    "restApiName",
    "resourceId",
    "resourcePath",
    "httpMethod",
    "statusCode",
    "selectionPattern",
    "responseParameters",
    "responseTemplates",
    "contentHandling",
    "state",
];

/// Parse and validate every document of every file; all errors, or the whole set.
pub fn parse_files(files: &[SourceFile]) -> Result<DesiredSet, Vec<SpecError>> {
    let parsed: Vec<_> = files.iter().map(parse_file).collect();
    assemble(&parsed, Vec::new())
}

/// The specs of one file, or all of its errors.
pub type FileResult = Result<Vec<Arc<Spec>>, Vec<SpecError>>;

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
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for doc in docs.into_iter().flatten() {
        let mut doc_errors = Vec::new();
        let spec = parse_spec(&doc, at(doc.pos), &mut |pos, message| {
            doc_errors.push(SpecError {
                location: at(pos),
                message,
            })
        });
        match spec {
            Some(spec) if doc_errors.is_empty() => specs.push(Arc::new(spec)),
            _ => errors.extend(doc_errors),
        }
    }
    if errors.is_empty() {
        Ok(specs)
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
    for result in parsed {
        match result {
            Ok(file_specs) => specs.extend(file_specs.iter().cloned()),
            Err(file_errors) => errors.extend(file_errors.iter().cloned()),
        }
    }
    check_set(&specs, &mut errors);
    if errors.is_empty() {
        Ok(DesiredSet { specs })
    } else {
        errors.sort();
        errors.dedup();
        Err(errors)
    }
}

type Report<'a> = dyn FnMut(Pos, String) + 'a;

fn parse_spec(doc: &Node, location: Location, report: &mut Report<'_>) -> Option<Spec> {
    let Some(map) = doc.as_map() else {
        report(
            doc.pos,
            format!(
                "a spec document must be a map of fields (kind, restApiName, ...), found {}",
                doc.kind_name()
            ),
        );
        return None;
    };
    for e in yaml::unknown_fields(map, &FIELDS) {
        report(e.pos, e.message);
    }
    let get = |name: &str| yaml::field(map, name).filter(|n| !n.is_null());

    match get("kind") {
        None => report(
            doc.pos,
            "missing required field `kind` (kind: IntegrationResponse)".into(),
        ),
        Some(n) if n.as_str() == Some("IntegrationResponse") => {}
        Some(n) => report(
            n.pos,
            format!(
                "`kind` must be `IntegrationResponse`, found {}",
                describe(n)
            ),
        ),
    }

    let api = one_of(
        doc.pos,
        get("restApi"),
        get("restApiName"),
        ("restApi", "restApiName"),
        report,
    )
    .map(|(is_first, v)| {
        if is_first {
            ApiRef::Id(v)
        } else {
            ApiRef::Name(v)
        }
    });
    let resource = one_of(
        doc.pos,
        get("resourceId"),
        get("resourcePath"),
        ("resourceId", "resourcePath"),
        report,
    )
    .and_then(|(is_first, v)| {
        if is_first {
            Some(ResourceRef::Id(v))
        } else if !v.starts_with('/') {
            let n = get("resourcePath").expect("present");
            report(
                n.pos,
                format!("`resourcePath` must start with `/`, found `{v}` (the root is `/`)"),
            );
            None
        } else {
            Some(ResourceRef::Path(v))
        }
    });

    let http_method = match get("httpMethod") {
        None => {
            report(doc.pos, "missing required field `httpMethod`".into());
            None
        }
        Some(n) => match n.as_str().map(str::to_ascii_uppercase) {
            Some(m) if HTTP_METHODS.contains(&m.as_str()) => Some(m),
            _ => {
                report(
                    n.pos,
                    format!(
                        "`httpMethod` must be one of {}, found {}",
                        HTTP_METHODS.join(" "),
                        describe(n)
                    ),
                );
                None
            }
        },
    };

    let status_code = match get("statusCode") {
        None => {
            report(doc.pos, "missing required field `statusCode`".into());
            None
        }
        Some(n) => match n.as_str() {
            Some(s) if is_status_code(s) => Some(s.to_owned()),
            _ => {
                report(
                    n.pos,
                    format!(
                        "`statusCode` must be a three-digit HTTP status from 100 to 599, found {}",
                        describe(n)
                    ),
                );
                None
            }
        },
    };

    let selection_pattern = string_field(get("selectionPattern"), "selectionPattern", report);
    if let (Some(p), Some(n)) = (&selection_pattern, get("selectionPattern"))
        && !p.is_empty()
        && p != "-"
        && let Some(e) = regex_error(p)
    {
        report(
            n.pos,
            format!("`selectionPattern` is not a valid regular expression: {e}"),
        );
    }

    let response_parameters = string_map(
        get("responseParameters"),
        "responseParameters",
        false,
        report,
    );
    if let Some(n) = get("responseParameters").and_then(Node::as_map) {
        for (k, v) in n {
            if let Some(key) = k.as_str()
                && !is_parameter_target(key)
            {
                report(
                    k.pos,
                    format!(
                        "response parameter `{key}` must be of the form `method.response.header.<name>`"
                    ),
                );
            }
            if let Some(value) = v.as_str()
                && !is_parameter_source(value)
            {
                report(
                    v.pos,
                    format!(
                        "response parameter value `{value}` must be one of the sources API Gateway maps into \
                         an integration response: `integration.response.header.<name>`, \
                         `integration.response.multivalueheader.<name>`, `integration.response.body`, \
                         `integration.response.body.<JSONPath>`, `context.<variable>`, `stageVariables.<name>`, \
                         or a quoted static value like `'text'`"
                    ),
                );
            }
        }
    }
    let response_templates =
        string_map(get("responseTemplates"), "responseTemplates", true, report);
    if let Some(n) = get("responseTemplates").and_then(Node::as_map) {
        for (k, _) in n {
            if let Some(key) = k.as_str()
                && !key.is_empty()
                && !is_media_type(key)
            {
                report(
                    k.pos,
                    format!(
                        "response template key `{key}` must be a media type like `application/json` \
                         (type/subtype); API Gateway refuses others with 400 \"Invalid content type specified\""
                    ),
                );
            }
        }
    }

    let content_handling = string_field(get("contentHandling"), "contentHandling", report);
    if let (Some(c), Some(n)) = (&content_handling, get("contentHandling"))
        && !CONTENT_HANDLINGS.contains(&c.as_str())
    {
        report(
            n.pos,
            format!("`contentHandling` must be CONVERT_TO_BINARY or CONVERT_TO_TEXT, found `{c}`"),
        );
    }

    let state = match get("state") {
        None => Some(State::Present),
        Some(n) => match n.as_str() {
            Some("present") => Some(State::Present),
            Some("absent") => Some(State::Absent),
            _ => {
                report(
                    n.pos,
                    format!(
                        "`state` must be `present` or `absent`, found {}",
                        describe(n)
                    ),
                );
                None
            }
        },
    };

    Some(Spec {
        api: api?,
        resource: resource?,
        http_method: http_method?,
        status_code: status_code?,
        settings: Settings {
            selection_pattern,
            response_parameters: response_parameters?,
            response_templates: response_templates?,
            content_handling,
        },
        state: state?,
        location,
    })
}

/// Exactly one of an id/name pair, as (is_first, value).
fn one_of(
    doc: Pos,
    first: Option<&Node>,
    second: Option<&Node>,
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
        (Some(n), None) => non_empty_string(n, a, report).map(|v| (true, v)),
        (None, Some(n)) => non_empty_string(n, b, report).map(|v| (false, v)),
    }
}

fn non_empty_string(n: &Node, name: &str, report: &mut Report<'_>) -> Option<String> {
    match n.as_str() {
        Some(s) if !s.trim().is_empty() => Some(s.to_owned()),
        _ => {
            report(
                n.pos,
                format!("`{name}` must be a non-empty string, found {}", describe(n)),
            );
            None
        }
    }
}

fn string_field(n: Option<&Node>, name: &str, report: &mut Report<'_>) -> Option<String> {
    let n = n?;
    match (&n.value, n.as_str()) {
        (Value::Scalar { .. }, Some(s)) => Some(s.to_owned()),
        _ => {
            report(
                n.pos,
                format!("`{name}` must be a string, found {}", n.kind_name()),
            );
            None
        }
    }
}

/// A map of strings; with `null_is_empty`, null values stand for "" (passthrough templates).
fn string_map(
    n: Option<&Node>,
    name: &str,
    null_is_empty: bool,
    report: &mut Report<'_>,
) -> Option<VecMap<String, String>> {
    let Some(n) = n else {
        return Some(VecMap::new());
    };
    let Some(pairs) = n.as_map() else {
        report(
            n.pos,
            format!("`{name}` must be a map, found {}", n.kind_name()),
        );
        return None;
    };
    let mut out = VecMap::new();
    let mut ok = true;
    for (k, v) in pairs {
        let key = match k.as_str() {
            Some(key) if !key.is_empty() => key.to_owned(),
            _ => {
                report(
                    k.pos,
                    format!(
                        "keys of `{name}` must be non-empty strings, found {}",
                        k.kind_name()
                    ),
                );
                ok = false;
                continue;
            }
        };
        match (&v.value, v.as_str()) {
            _ if null_is_empty && v.is_null() => {
                out.insert(key, String::new());
            }
            (Value::Scalar { .. }, Some(s)) => {
                out.insert(key, s.to_owned());
            }
            _ => {
                report(
                    v.pos,
                    format!(
                        "value of `{name}.{key}` must be a string, found {}",
                        v.kind_name()
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn describe(n: &Node) -> String {
    match n.as_str() {
        Some(s) => format!("`{s}`"),
        None => n.kind_name().to_owned(),
    }
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
            "d/x.yaml:5:7: `kind` must be `IntegrationResponse`, found `Integration`"
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
            "d/x.yaml:6:18: `contentHandling` must be CONVERT_TO_BINARY or CONVERT_TO_TEXT, found `CONVERT_TO_XML`"
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
}
