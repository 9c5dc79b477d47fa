//! One `kind: IntegrationResponse` document and the rules of its fields.

use super::cache::regex_error;
use super::method::{MethodFields, read_method};
use super::shape::{Report, read_doc};
use super::template;
use crate::desired::document::{IntegrationResponseDoc, PresentOrAbsent};
use crate::desired::{Location, Spec, State};
use crate::model::Settings;
use crate::vecmap::VecMap;
use crate::yaml::Node;

/// One `kind: IntegrationResponse` document: serde reads its shape
/// ([`IntegrationResponseDoc`]), then every domain rule is checked here, each error at
/// the position of the value it is about.
pub(super) fn parse_spec(
    doc: &Node,
    location: Location,
    source: &str,
    keep_templates: bool,
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

    let method = read_method(doc.pos, MethodFields::from(&d), report);

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
    // Each value's place, kept in the map's (sorted) order beside it.
    let mut template_places = VecMap::new();
    let mut parsed = VecMap::new();
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
        let tree = if text.is_empty() {
            None
        } else {
            template::check(source, &k.value, v, &text, keep_templates).unwrap_or_else(
                |(pos, message)| {
                    report(pos, message);
                    None
                },
            )
        };
        response_templates.insert(k.value.clone(), text);
        template_places.insert(k.value.as_str(), v.pos);
        parsed.insert(k.value.as_str(), tree);
    }

    if failed {
        return None;
    }
    let method = method?;
    Some(Spec {
        api: method.api,
        resource: method.resource,
        http_method: method.http_method,
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
        template_places: template_places.values().copied().collect(),
        parsed: crate::desired::ParsedTemplates(if keep_templates {
            parsed.into_iter().map(|(_, tree)| tree).collect()
        } else {
            Box::default()
        }),
    })
}

pub(super) fn is_status_code(s: &str) -> bool {
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
