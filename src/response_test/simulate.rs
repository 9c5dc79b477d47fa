//! What API Gateway answers a client, from the desired integration responses of one
//! method and what the backend returned. Pure.
//!
//! Sources, in order: AWS's developer guide ("Set up integration responses",
//! "Handle Lambda errors", the mapping template and parameter mapping references),
//! recorded behaviour, and where both are silent the rules of docs/semantics.md, noted inline.

use std::sync::Arc;

use super::{Backend, ResponseTest};
use crate::desired::document::IntegrationKind;
use crate::desired::{DesiredSet, Spec, State};
use crate::jregex;
use crate::vtl;

/// What the client gets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: String,
    /// Header names as mapped (compare them case-insensitively).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One test's run: the integration response selected (none: API Gateway's own 500),
/// the template used, the response, and warnings.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub selected: Option<Arc<Spec>>,
    /// The media type whose template rendered the body; `None`: the body passed through.
    pub template: Option<String>,
    pub response: Response,
    pub warnings: Vec<String>,
}

/// What a simulation used of the desired set, for coverage: recorded as it goes, so
/// a test that fails after selecting (its template does not render) still counts its
/// selection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Used {
    /// The selected integration response, as its index in the set's `specs`.
    pub response: Option<usize>,
    /// The template that rendered the body, as its index in that spec's
    /// `settings.response_templates`; `None` when none rendered (a passthrough, no
    /// template, or one that failed).
    pub template: Option<usize>,
}

/// API Gateway's answer when no integration response matches and there is no default.
const INTERNAL_ERROR: &str = "{\"message\": \"Internal server error\"}";

/// Run `test` against the desired integration responses of its method, paid from
/// `meter` (its selection patterns and its template share one budget).
pub fn simulate(
    test: &ResponseTest,
    desired: &DesiredSet,
    meter: &mut vtl::Meter,
) -> Result<Simulation, String> {
    simulate_recording(test, desired, meter, &mut Used::default())
}

/// [`simulate`], noting in `used` what it selected and rendered.
pub fn simulate_recording(
    test: &ResponseTest,
    desired: &DesiredSet,
    meter: &mut vtl::Meter,
    used: &mut Used,
) -> Result<Simulation, String> {
    // The method's integration responses with their indices in the set.
    let (indices, responses): (Vec<usize>, Vec<&Arc<Spec>>) = desired
        .specs
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.state == State::Present
                && s.api == test.api
                && s.resource == test.resource
                && s.http_method == test.http_method
        })
        .unzip();
    if responses.is_empty() {
        return Err(format!(
            "no integration response in the desired set for {} (a test names the API and resource \
             as the specs do: by id or by name and path)",
            test.method_label()
        ));
    }
    let mut warnings = Vec::new();
    let selected = select(test, &responses, &mut warnings, meter)?;
    let Some(spec) = selected.map(|i| {
        used.response = Some(indices[i]);
        responses[i]
    }) else {
        return Ok(Simulation {
            selected: None,
            template: None,
            response: Response {
                status: "500".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: INTERNAL_ERROR.into(),
            },
            warnings,
        });
    };
    let body = integration_body(test);
    let (template, rendered) = match render(test, spec, &body, meter)? {
        Some((i, media_type, rendered)) => {
            used.template = Some(i);
            (Some(media_type), Some(rendered))
        }
        None => (None, None),
    };
    let mut headers = map_headers(test, spec, &body);
    let content_type = template
        .clone()
        .unwrap_or_else(|| "application/json".into());
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), content_type));
    }
    let mut status = spec.status_code.clone();
    let mut body_out = body;
    if let Some(r) = rendered {
        body_out = r.body;
        match r.status_override {
            Some(s) if is_http_status(&s) => status = s,
            // API Gateway ignores an override outside 100-599 and keeps the integration
            // response's status (LocalStack: integration_response.py, "AWS ignores the
            // status if the override isn't an integer between 100 and 599", and its unit
            // test test_handler_integration_response.py test_status_code with 600 and 99).
            Some(s) => warnings.push(format!(
                "the template sets $context.responseOverride.status to {s:?}, which API Gateway \
                 ignores (only 100 to 599 counts): the status stays {status}"
            )),
            None => {}
        }
        for (name, value) in r.header_overrides {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        }
    }
    Ok(Simulation {
        selected: Some(spec.clone()),
        template,
        response: Response {
            status,
            headers,
            body: body_out,
        },
        warnings,
    })
}

/// The string the selection patterns are matched against: a Lambda function's error
/// message (a successful call is matched too, as an empty message, so `.*` selects
/// successes and `.+` does not), or the backend's status code.
fn selection_input(test: &ResponseTest) -> String {
    match test.integration {
        IntegrationKind::Lambda => test.backend.error_message.clone().unwrap_or_default(),
        _ => test
            .backend
            .status_code
            .clone()
            .unwrap_or_else(|| "200".into()),
    }
}

/// The integration response API Gateway picks: a pattern that matches the whole input
/// (Java regex), else the default (no pattern), else none (API Gateway's 500). AWS
/// documents no order among several matching patterns; recorded behaviour fits "the
/// lowest status code wins" (docs/semantics.md §4), so that is used, with a warning.
/// Returns the index in `responses`.
fn select(
    test: &ResponseTest,
    responses: &[&Arc<Spec>],
    warnings: &mut Vec<String>,
    meter: &mut vtl::Meter,
) -> Result<Option<usize>, String> {
    let input = selection_input(test);
    let mut matching: Vec<usize> = Vec::new();
    for (i, spec) in responses.iter().enumerate() {
        let Some(pattern) = spec
            .settings
            .selection_pattern
            .as_deref()
            .filter(|p| !p.is_empty() && *p != "-")
        else {
            continue;
        };
        let compiled = jregex::Pattern::compile_metered(pattern, meter.regex())
            .map_err(|e| format!("selectionPattern {pattern:?} at {}: {e}", spec.location))?;
        let matched = compiled
            .matches_metered(&input, meter.regex())
            .map_err(|e| {
                let limit = vtl::Exceeded::from_regex(e);
                format!(
                    "selectionPattern {pattern:?} at {} on this input: {limit}; simplify the pattern \
                     (API Gateway would time out on it too)",
                    spec.location
                )
            })?;
        if matched {
            matching.push(i);
        }
    }
    matching.sort_by(|&a, &b| responses[a].status_code.cmp(&responses[b].status_code));
    if matching.len() > 1 {
        let codes: Vec<String> = matching
            .iter()
            .map(|&i| {
                let s = responses[i];
                format!(
                    "{} ({:?})",
                    s.status_code,
                    s.settings.selection_pattern.as_deref().unwrap_or("")
                )
            })
            .collect();
        warnings.push(format!(
            "{:?} matches more than one selection pattern of {}: {}; AWS does not promise which one \
             wins (status {} is used here, the lowest, as recorded behaviour suggests): make the patterns exclusive",
            input,
            test.method_label(),
            codes.join(", "),
            responses[matching[0]].status_code
        ));
    }
    Ok(matching
        .first()
        .copied()
        .or_else(|| responses.iter().position(|s| s.settings.is_default())))
}

/// A status code API Gateway takes from `$context.responseOverride.status`: an integer
/// from 100 to 599 (as its text: `404`, or the string `'404'`).
fn is_http_status(s: &str) -> bool {
    s.len() == 3
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u16>().is_ok_and(|n| (100..=599).contains(&n))
}

/// The integration response body: the backend's, or for a failed Lambda function
/// without one, the error object Lambda returns (`{"errorMessage": ...}`; "Handle
/// Lambda errors in API Gateway").
fn integration_body(test: &ResponseTest) -> String {
    match (&test.backend.body, &test.backend.error_message) {
        (Some(body), _) => body.clone(),
        (None, Some(message)) if test.integration == IntegrationKind::Lambda => {
            serde_json::json!({ "errorMessage": message }).to_string()
        }
        _ => String::new(),
    }
}

/// The template the client's `Accept` header picks (its media type, parameters
/// ignored, case-insensitive); no match or no `Accept` falls back to
/// `application/json`, else to the first template. A passthrough entry (`""`), or no
/// template at all, passes the body through (`None`); else the template's index in
/// the map, its media type and what it rendered.
fn render(
    test: &ResponseTest,
    spec: &Spec,
    body: &str,
    meter: &mut vtl::Meter,
) -> Result<Option<(usize, String, vtl::Rendered)>, String> {
    let templates = &spec.settings.response_templates;
    let accept = test.request.accept.as_deref().map(|a| {
        a.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let chosen = accept
        .as_deref()
        .and_then(|a| {
            templates
                .iter()
                .position(|(k, _)| k.eq_ignore_ascii_case(a))
        })
        .or_else(|| templates.iter().position(|(k, _)| *k == "application/json"))
        .or_else(|| (!templates.is_empty()).then_some(0));
    let Some((index, (media_type, text))) =
        chosen.and_then(|i| Some((i, templates.iter().nth(i)?)))
    else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    // The tree validation kept, else parsed here (the set was loaded without keeping).
    let parsed;
    let template = match spec.parsed.get(index) {
        Some(tree) => tree,
        None => {
            parsed = vtl::parse(text).map_err(|e| {
                format!(
                    "the {media_type} template of {} does not parse at its line {}:{}: {}",
                    spec.location, e.line, e.col, e.message
                )
            })?;
            &parsed
        }
    };
    let inputs = vtl::Inputs {
        body: body.to_owned(),
        params: test.request.params.clone(),
        context: test.request.context.clone(),
        stage_variables: test.request.stage_variables.clone(),
    };
    let rendered = vtl::render_metered(template, &inputs, meter).map_err(|e| {
        let consequence = match e.limit {
            // Our budget, not a Java exception: say what to change.
            Some(_) => "; make the template cheaper or raise the limit in the config's `limits`",
            None if e.not_simulated => {
                "; the test cannot say what a client gets (remove the directive, or do not test this response)"
            }
            None => " (API Gateway answers 500 then)",
        };
        format!(
            "the {media_type} template of {} failed at its line {}:{}: {}{consequence}",
            spec.location, e.line, e.col, e.message
        )
    })?;
    Ok(Some((index, media_type.clone(), rendered)))
}

/// Headers API Gateway renames when a mapping sets them ("Reserved headers" in the
/// developer guide): the client sees `x-amzn-Remapped-<name>`.
const REMAPPED: [&str; 14] = [
    "Authorization",
    "Connection",
    "Content-Length",
    "Content-MD5",
    "Date",
    "Expect",
    "Host",
    "Max-Forwards",
    "Proxy-Authenticate",
    "Server",
    "Trailer",
    "Upgrade",
    "User-Agent",
    "WWW-Authenticate",
];
/// Mappings to these are dropped.
const DROPPED: [&str; 2] = ["Transfer-Encoding", "Via"];

/// The response headers the integration response's `responseParameters` map.
fn map_headers(test: &ResponseTest, spec: &Spec, body: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // An empty body maps as `{}`, as `$input.body` reads it in templates (LocalStack's
    // test_parameters_mapping.py test_body_mapping_empty, response side).
    let body = if body.is_empty() { "{}" } else { body };
    let custom_error = lambda_custom_error(test, body);
    let paths_body = custom_error.as_deref().unwrap_or(body);
    for (target, source) in &spec.settings.response_parameters {
        let Some(name) = target.strip_prefix("method.response.header.") else {
            continue;
        };
        let Some(value) = source_value(source, &test.backend, test, body, paths_body) else {
            continue;
        };
        if DROPPED.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            continue;
        }
        let name = if REMAPPED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            format!("x-amzn-Remapped-{name}")
        } else {
            name.to_owned()
        };
        out.push((name, value));
    }
    out
}

/// A failed Lambda function's body with its `errorMessage` deserialized, when that is a
/// JSON object or array as a string (a custom error): API Gateway "deserializes the
/// integration.response.body parameter when performing header mappings", for header
/// mappings only ("Handle custom Lambda errors in API Gateway": the mapping
/// `integration.response.body.errorMessage.trace.function` gives `abc()`).
fn lambda_custom_error(test: &ResponseTest, body: &str) -> Option<String> {
    if test.integration != IntegrationKind::Lambda || test.backend.error_message.is_none() {
        return None;
    }
    let mut doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = doc.get_mut("errorMessage")?;
    let inner: serde_json::Value = serde_json::from_str(message.as_str()?).ok()?;
    if !(inner.is_object() || inner.is_array()) {
        return None;
    }
    *message = inner;
    Some(doc.to_string())
}

/// The value of one mapping source; `None` when it has none (the header is not set).
/// `paths_body` is what `integration.response.body.<path>` reads: the body, or a Lambda
/// custom error's body with its `errorMessage` deserialized.
fn source_value(
    source: &str,
    backend: &Backend,
    test: &ResponseTest,
    body: &str,
    paths_body: &str,
) -> Option<String> {
    let lookup = |pairs: &[(String, String)], name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if let Some(name) = source.strip_prefix("integration.response.header.") {
        // With several values, the single-value form is the last one.
        return lookup(&backend.headers, name).or_else(|| {
            backend
                .multi_value_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, vs)| vs.last().cloned())
        });
    }
    if let Some(name) = source.strip_prefix("integration.response.multivalueheader.") {
        let values: Vec<String> = backend
            .multi_value_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, vs)| vs.clone())
            .or_else(|| lookup(&backend.headers, name).map(|v| vec![v]))?;
        return Some(values.join(","));
    }
    if source == "integration.response.body" {
        return Some(body.to_owned());
    }
    if let Some(path) = source.strip_prefix("integration.response.body.") {
        return vtl::body_path(paths_body, path);
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return test.request.stage_variables.get(name).cloned();
    }
    if let Some(path) = source.strip_prefix("context.") {
        let mut value = test.request.context.get(path.split('.').next()?)?;
        for part in path.split('.').skip(1) {
            value = value.get(part)?;
        }
        return Some(match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    source
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(str::to_owned)
}
