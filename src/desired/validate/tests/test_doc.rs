//! The fields of a `kind: ResponseTest` document.

use super::*;
use crate::desired::document::IntegrationKind;

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
        t.expect.json.as_ref().map(|j| j.value()),
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
        parse(&format!("{without}expect:\n  {one}\n")).unwrap_or_else(|e| panic!("{one}: {e:?}"));
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
        ["d/x.yaml:10:3: in `backend`: unknown field `errorMesage` (did you mean `errorMessage`?)"]
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
