//! One `kind: ResponseTest` document: the method it runs against, what the backend
//! returned, the client's request and what the client must get.

use super::method::{MethodFields, read_method};
use super::shape::{Report, read_doc};
use super::spec::is_status_code;
use crate::desired::document::{IntegrationKind, ResponseTestDoc};
use crate::desired::{Backend, Expect, ExpectedJson, Location, Request, ResponseTest};
use crate::yaml::Node;
use crate::yaml::de::{Pairs, Spanned};

/// One `kind: ResponseTest` document.
pub(super) fn parse_test(
    doc: &Node,
    location: Location,
    report: &mut Report<'_>,
) -> Option<ResponseTest> {
    let (d, failed, mut report) = read_doc::<ResponseTestDoc>(doc, report);
    let mut d = d?;
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
    let method = read_method(doc.pos, MethodFields::from(&d), report);
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

    let expect = match d.expect.take() {
        None => {
            report(
                doc.pos,
                "missing required field `expect` (statusCode, headers, body or json: what the client must get)"
                    .into(),
            );
            None
        }
        Some(e) => {
            let x = e.value;
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
                json: x.json.map(|j| ExpectedJson::new(&j.value)),
            })
        }
    };
    if failed {
        return None;
    }
    let method = method?;
    Some(ResponseTest {
        name: name?,
        location,
        api: method.api,
        resource: method.resource,
        http_method: method.http_method,
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
