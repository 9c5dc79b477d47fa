//! The method reference a spec and a response test both begin with: the REST API
//! (`restApi` | `restApiName`), the resource (`resourceId` | `resourcePath`) and the
//! `httpMethod`, read by one reader so the two kinds cannot drift apart.

use super::shape::Report;
use crate::desired::document::{IntegrationResponseDoc, ResponseTestDoc};
use crate::desired::{ApiRef, ResourceRef};
use crate::escape;
use crate::model::HTTP_METHODS;
use crate::yaml::Pos;
use crate::yaml::de::Spanned;

/// The fields of a document that name its method, as both kinds have them.
pub(super) struct MethodFields<'a> {
    pub rest_api: Option<&'a Spanned<String>>,
    pub rest_api_name: Option<&'a Spanned<String>>,
    pub resource_id: Option<&'a Spanned<String>>,
    pub resource_path: Option<&'a Spanned<String>>,
    pub http_method: Option<&'a Spanned<String>>,
}

impl<'a> From<&'a IntegrationResponseDoc> for MethodFields<'a> {
    fn from(d: &'a IntegrationResponseDoc) -> Self {
        MethodFields {
            rest_api: d.rest_api.as_ref(),
            rest_api_name: d.rest_api_name.as_ref(),
            resource_id: d.resource_id.as_ref(),
            resource_path: d.resource_path.as_ref(),
            http_method: d.http_method.as_ref(),
        }
    }
}

impl<'a> From<&'a ResponseTestDoc> for MethodFields<'a> {
    fn from(d: &'a ResponseTestDoc) -> Self {
        MethodFields {
            rest_api: d.rest_api.as_ref(),
            rest_api_name: d.rest_api_name.as_ref(),
            resource_id: d.resource_id.as_ref(),
            resource_path: d.resource_path.as_ref(),
            http_method: d.http_method.as_ref(),
        }
    }
}

/// A method, named as a document names it.
pub(super) struct MethodRef {
    pub api: ApiRef,
    pub resource: ResourceRef,
    /// Upper case, one of [`HTTP_METHODS`].
    pub http_method: String,
}

/// The method `fields` name, every problem of them reported: at the value it is
/// about, or at the document (`doc`) for a missing field. The one reader of a method
/// reference, for specs and response tests alike.
pub(super) fn read_method(
    doc: Pos,
    fields: MethodFields<'_>,
    report: &mut Report<'_>,
) -> Option<MethodRef> {
    let api = API.read(doc, fields.rest_api, fields.rest_api_name, report);
    let resource = RESOURCE.read(doc, fields.resource_id, fields.resource_path, report);
    let http_method = http_method(doc, fields.http_method, report);
    Some(MethodRef {
        api: api?,
        resource: resource?,
        http_method: http_method?,
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
        id: Option<&Spanned<String>>,
        named: Option<&Spanned<String>>,
        report: &mut Report<'_>,
    ) -> Option<T> {
        let (is_id, v) = one_of(doc, id, named, self.fields, report)?;
        if is_id {
            return Some((self.id)(v));
        }
        if let Some(problem) = (self.rule)(&v) {
            report(named.map_or(doc, |n| n.pos), problem);
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
pub(super) fn resource_path_problem(path: &str) -> Option<String> {
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
