//! Which template renders the body (by `Accept`), passthrough, content types, the
//! response override; a failed Lambda's body.

use super::*;

/// A 200 default response with the given `responseTemplates` lines (indented by two).
fn templated(templates: &str) -> String {
    ir("200", &format!("responseTemplates:\n{templates}"))
}

/// application/json is neither first in the file nor first by media type.
const THREE: &str = "  text/plain: text\n  application/xml: xml\n  application/json: json\n  application/atom+xml: atom\n";

fn accept(a: &str) -> String {
    format!("request:\n  accept: {a:?}\n")
}

#[test]
fn accept_picks_the_template_ignoring_parameters_and_case() {
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("Application/XML; charset=UTF-8")),
    );
    assert_eq!(s.response.body, "xml");
    assert_eq!(s.template.as_deref(), Some("application/xml"));
    assert_eq!(s.response.header("Content-Type"), Some("application/xml"));
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("text/plain")),
    );
    assert_eq!(s.response.body, "text");
    // The template's key is a media type too: any case.
    let s = sim(
        &templated("  application/json: json\n  application/vnd.Example+JSON: vnd\n"),
        &test_doc("t", "mock", &accept("application/vnd.example+json")),
    );
    assert_eq!(s.response.body, "vnd");
}

#[test]
fn no_accept_or_an_unmatched_one_uses_application_json() {
    // Chosen by name, not by place (see THREE).
    let s = sim(&templated(THREE), &test_doc("t", "mock", ""));
    assert_eq!(s.response.body, "json");
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("image/png")),
    );
    assert_eq!(s.response.body, "json");
}

#[test]
fn without_an_application_json_template_the_first_one_is_used() {
    // "The first" is the first by media type: a spec's maps are order-free (API
    // Gateway stores a JSON object; reordering a file's templates plans no change),
    // so the file's order must not decide a test either. text/plain is written first
    // here and application/xml is still chosen.
    let two = "  text/plain: text\n  application/xml: xml\n";
    for a in ["", "image/png"] {
        let request = if a.is_empty() {
            String::new()
        } else {
            accept(a)
        };
        let s = sim(&templated(two), &test_doc("t", "mock", &request));
        assert_eq!(s.response.body, "xml", "accept {a:?}");
        assert_eq!(s.template.as_deref(), Some("application/xml"));
        assert_eq!(s.response.header("Content-Type"), Some("application/xml"));
    }
}

#[test]
fn a_passthrough_entry_passes_the_body_through_with_json_content_type() {
    let body = "backend:\n  body: '<raw>body</raw>'\n";
    // Picked by Accept over the application/json template: the entry is real.
    let templates = "  application/json: json\n  text/plain: \"\"\n";
    let s = sim(
        &templated(templates),
        &test_doc("t", "mock", &format!("{body}{}", accept("text/plain"))),
    );
    assert_eq!(s.response.body, "<raw>body</raw>");
    assert_eq!(s.template, None);
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
    // A null value is a passthrough entry too, and it is the fallback here.
    let s = sim(
        &templated("  application/json: null\n  text/plain: text\n"),
        &test_doc("t", "mock", body),
    );
    assert_eq!(s.response.body, "<raw>body</raw>");
}

#[test]
fn without_templates_the_body_passes_through() {
    let s = sim(
        &ir("200", ""),
        &test_doc(
            "t",
            "http",
            &format!("backend:\n  body: 'plain text'\n{}", accept("text/html")),
        ),
    );
    assert_eq!(s.response.body, "plain text");
    assert_eq!(s.template, None);
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
}

#[test]
fn a_content_type_mapping_replaces_the_passthrough_content_type() {
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.Content-Type: \"'text/csv'\"\n",
    );
    let s = sim(&spec, &test_doc("t", "http", "backend:\n  body: 'a,b'\n"));
    let content_types: Vec<_> = s
        .response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .collect();
    assert_eq!(
        content_types,
        [&("Content-Type".to_owned(), "text/csv".to_owned())]
    );
}

#[test]
fn a_content_type_mapping_also_replaces_the_templates_media_type() {
    // docs/semantics.md §5 names only the passthrough case; the code lets a mapping win over the
    // template's media type too (a mapped header is what the method response says).
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.content-type: \"'application/hal+json'\"\nresponseTemplates:\n  application/json: '{}'\n",
    );
    let s = sim(&spec, &test_doc("t", "http", ""));
    assert_eq!(s.template.as_deref(), Some("application/json"));
    assert_eq!(
        s.response.header("Content-Type"),
        Some("application/hal+json")
    );
    assert_eq!(s.response.headers.len(), 1, "{:?}", s.response.headers);
}

#[test]
fn response_override_sets_status_and_headers() {
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.X-Trace: \"'mapped'\"\nresponseTemplates:\n  application/json: |\n    #set($context.responseOverride.status = 404)\n    #set($context.responseOverride.header.x-trace = 'overridden')\n    #set($context.responseOverride.header.X-New = 'y')\n    gone\n",
    );
    let s = sim(&spec, &test_doc("t", "mock", ""));
    assert_eq!(selected_code(&s), Some("200"));
    assert_eq!(s.response.status, "404");
    assert_eq!(s.response.body, "gone\n");
    assert_eq!(s.response.header("X-New"), Some("y"));
    // The override replaces the mapped header of the same name (any case).
    let traces: Vec<_> = s
        .response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-trace"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(traces, ["overridden"]);
}

// ------------------------------------------------------------------- lambda body

#[test]
fn a_failed_lambda_without_a_body_has_its_error_object_as_the_body() {
    let specs = docs(&[
        ir("200", ""),
        ir(
            "404",
            "selectionPattern: \"Not found.*\"\nresponseTemplates:\n  application/json: '{\"message\": \"$input.path(''$.errorMessage'')\"}'\n  text/plain: \"\"\n",
        ),
    ]);
    let s = sim(
        &specs,
        &test_doc("t", "lambda", &lambda_error("Not found: order 42")),
    );
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({"message": "Not found: order 42"}));
    // Passed through, it is exactly the error object.
    let s = sim(
        &specs,
        &test_doc(
            "t",
            "lambda",
            &format!("{}{}", lambda_error("Not found: 1"), accept("text/plain")),
        ),
    );
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({"errorMessage": "Not found: 1"}));
    // A body the test gives wins.
    let s = sim(
        &specs,
        &test_doc(
            "t",
            "lambda",
            "backend:\n  errorMessage: 'Not found: 1'\n  body: 'custom'\nrequest:\n  accept: text/plain\n",
        ),
    );
    assert_eq!(s.response.body, "custom");
}
