//! Header mappings and what API Gateway does to them; overrides and body mappings.

use super::*;

/// The headers a 200 default response with these mappings gives for `backend`/`request`.
fn mapped(mappings: &[(&str, &str)], extra: &str) -> Vec<(String, String)> {
    let mut spec = ir("200", "responseParameters:\n");
    for (name, source) in mappings {
        spec.push_str(&format!("  method.response.header.{name}: {source:?}\n"));
    }
    let s = sim(&spec, &test_doc("t", "http", extra));
    let mut headers: Vec<_> = s
        .response
        .headers
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
        .collect();
    headers.sort();
    headers
}

/// Header pairs, sorted as [`mapped`] sorts them.
fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<_> = p
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    p.sort();
    p
}

#[test]
fn header_mapping_from_an_integration_response_header_ignores_case() {
    let got = mapped(
        &[
            ("X-Trace", "integration.response.header.X-TRACE"),
            ("X-Missing", "integration.response.header.X-Nope"),
        ],
        "backend:\n  headers:\n    x-trace: abc\n",
    );
    assert_eq!(got, pairs(&[("X-Trace", "abc")]));
}

#[test]
fn header_mapping_from_a_multivalue_header_joins_with_commas() {
    let got = mapped(
        &[(
            "Set-Cookie",
            "integration.response.multivalueheader.set-cookie",
        )],
        "backend:\n  multiValueHeaders:\n    Set-Cookie: [a=1, b=2, c=3]\n",
    );
    assert_eq!(got, pairs(&[("Set-Cookie", "a=1,b=2,c=3")]));
}

#[test]
fn header_mapping_from_the_whole_body() {
    let got = mapped(
        &[("X-Body", "integration.response.body")],
        "backend:\n  body: '{\"a\": 1}'\n",
    );
    assert_eq!(got, pairs(&[("X-Body", "{\"a\": 1}")]));
}

#[test]
fn header_mapping_from_a_body_json_path() {
    let got = mapped(
        &[
            ("X-Code", "integration.response.body.error.code"),
            ("X-Detail", "integration.response.body.error.detail"),
            ("X-Count", "integration.response.body.count"),
            ("X-Missing", "integration.response.body.error.nope"),
        ],
        "backend:\n  body: '{\"error\": {\"code\": \"E1\", \"detail\": {\"x\": [1, 2]}}, \"count\": 3}'\n",
    );
    assert_eq!(
        got,
        pairs(&[
            ("X-Code", "E1"),
            ("X-Detail", "{\"x\":[1,2]}"),
            ("X-Count", "3")
        ])
    );
    // A body that is not JSON has no paths: the header is not set.
    let got = mapped(
        &[("X-Code", "integration.response.body.error.code")],
        "backend:\n  body: 'not json'\n",
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn header_mapping_from_context_variables_nested_or_not() {
    let got = mapped(
        &[
            ("X-Ip", "context.identity.sourceIp"),
            ("X-Request", "context.requestId"),
            ("X-Nope", "context.identity.nope"),
        ],
        "request:\n  context:\n    requestId: r-1\n    identity:\n      sourceIp: 192.0.2.1\n",
    );
    assert_eq!(got, pairs(&[("X-Ip", "192.0.2.1"), ("X-Request", "r-1")]));
}

#[test]
fn header_mapping_from_stage_variables_and_static_values() {
    let got = mapped(
        &[
            ("Access-Control-Allow-Origin", "stageVariables.origin"),
            ("Access-Control-Allow-Methods", "'GET,OPTIONS'"),
            ("X-Unset", "stageVariables.nope"),
        ],
        "request:\n  stageVariables:\n    origin: https://example.com\n",
    );
    assert_eq!(
        got,
        pairs(&[
            ("Access-Control-Allow-Origin", "https://example.com"),
            ("Access-Control-Allow-Methods", "GET,OPTIONS"),
        ])
    );
}

#[test]
fn mappings_to_reserved_headers_are_renamed() {
    // docs/semantics.md §6's list, written out here rather than taken from the code.
    let reserved = [
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
    let mappings: Vec<(&str, &str)> = reserved.iter().map(|h| (*h, "'v'")).collect();
    let got = mapped(&mappings, "");
    let mut want: Vec<(String, String)> = reserved
        .iter()
        .map(|h| (format!("x-amzn-Remapped-{h}"), "v".to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Any case of the name is reserved.
    let got = mapped(&[("server", "'v'")], "");
    assert_eq!(got, pairs(&[("x-amzn-Remapped-server", "v")]));
}

#[test]
fn mappings_to_via_and_transfer_encoding_are_dropped() {
    let got = mapped(
        &[
            ("Via", "'1.1 proxy'"),
            ("Transfer-Encoding", "'chunked'"),
            ("transfer-encoding", "'gzip'"),
            ("X-Kept", "'yes'"),
        ],
        "",
    );
    assert_eq!(got, pairs(&[("X-Kept", "yes")]));
}

// ------------------------------------------------------------------- overrides, body mappings

#[test]
fn lambda_custom_error_json_is_read_by_body_to_header_mappings() {
    // "Handle custom Lambda errors in API Gateway" (AWS developer guide), its example
    // error, mappings and headers as the guide gives them.
    let error = r#"{"errorType":"InternalServerError","httpStatus":500,"requestId":"e5849002-39a0-11e7-a419-5bb5807c9fb2","trace":{"function":"abc()","line":123,"file":"abc.js"}}"#;
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.error_trace_function: integration.response.body.errorMessage.trace.function\n  method.response.header.error_status: integration.response.body.errorMessage.httpStatus\n  method.response.header.error_type: integration.response.body.errorMessage.errorType\n  method.response.header.error_trace: integration.response.body.errorMessage.trace\n",
    );
    let s = sim(&spec, &test_doc("t", "lambda", &lambda_error(error)));
    let header = |n| s.response.header(n);
    assert_eq!(header("error_trace_function"), Some("abc()"));
    assert_eq!(header("error_status"), Some("500"));
    assert_eq!(header("error_type"), Some("InternalServerError"));
    assert_eq!(
        header("error_trace"),
        Some(r#"{"function":"abc()","line":123,"file":"abc.js"}"#)
    );
    // Only header mappings deserialize it: the body passes through as Lambda sent it.
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({ "errorMessage": error }));
    // A message that is not JSON has no paths below it.
    let s = sim(
        &spec,
        &test_doc("t", "lambda", &lambda_error("Malformed input ...")),
    );
    assert_eq!(s.response.header("error_type"), None);
    // A successful call's body is not an error: its errorMessage stays a string.
    let ok = format!(
        "backend:\n  body: {:?}\n",
        serde_json::json!({ "errorMessage": error }).to_string()
    );
    let s = sim(&spec, &test_doc("t", "lambda", &ok));
    assert_eq!(s.response.header("error_type"), None);
}

#[test]
fn the_whole_empty_body_maps_to_a_header_as_an_empty_object() {
    // As `$input.body` reads it (LocalStack's test_parameters_mapping.py,
    // test_body_mapping_empty, response side).
    let got = mapped(&[("X-Body", "integration.response.body")], "");
    assert_eq!(got, pairs(&[("X-Body", "{}")]));
    let got = mapped(
        &[("X-Body", "integration.response.body")],
        "backend:\n  body: ''\n",
    );
    assert_eq!(got, pairs(&[("X-Body", "{}")]));
}

#[test]
fn a_status_override_outside_100_to_599_is_ignored() {
    // LocalStack: integration_response.py ("AWS ignores the status if the override
    // isn't an integer between 100 and 599") and its test_status_code (600, 99).
    let spec = |value: &str| {
        ir(
            "201",
            &format!(
                "responseTemplates:\n  application/json: '#set($context.responseOverride.status = {value})done'\n"
            ),
        )
    };
    for (value, want) in [
        ("600", "201"),
        ("99", "201"),
        ("0", "201"),
        ("1000", "201"),
        ("-404", "201"),
        ("404.5", "201"),
        ("100", "100"),
        ("599", "599"),
        ("''404''", "404"),
    ] {
        let s = sim(&spec(value), &test_doc("t", "mock", ""));
        assert_eq!(s.response.status, want, "override {value}");
        assert_eq!(s.response.body, "done");
        let warned = s.warnings.iter().any(|w| w.contains("ignores"));
        assert_eq!(warned, want == "201", "override {value}: {:?}", s.warnings);
    }
}
