//! What a test's YAML gives the engine: typed values in `expect.json` and the
//! context, `$input` and `$util` over them.

use super::*;

/// The errors of a set, as `file:line:col: message`.
fn set_errors(files: &[(&str, &str)]) -> Vec<String> {
    match parse_files(&source_files(files)) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The AWS guide's pet-store transformation ("Mapping template examples": askingPrice
/// from the integration response's price).
const PETS: &str = "responseTemplates:\n  application/json: |\n    #set($inputRoot = $input.path('$'))\n    [\n    #foreach($elem in $inputRoot)\n      {\"description\": \"Item $elem.id is a $elem.type.\", \"askingPrice\": $elem.price}#if($foreach.hasNext),#end\n    #end\n    ]\n";
const PETS_BODY: &str = "backend:\n  body: '[{\"id\": 1, \"type\": \"dog\", \"price\": 249.99}, {\"id\": 2, \"type\": \"cat\", \"price\": 1e3}]'\n";

#[test]
fn plain_yaml_numbers_in_expect_json_are_numbers() {
    // Plain scalars are typed by YAML 1.2's core schema: 249.99 and 1e3 are numbers
    // (1e3 is the body's 1e3, and would be its 1000 too: numbers compare by value).
    let pass = test_doc(
        "t",
        "http",
        &format!(
            "{PETS_BODY}expect:\n  json:\n    - {{description: Item 1 is a dog., askingPrice: 249.99}}\n    - {{description: Item 2 is a cat., askingPrice: 1e3}}\n"
        ),
    );
    let got = outcome(&ir("200", PETS), &pass);
    assert!(matches!(got, Outcome::Passed(_)), "{got:?}");
    let thousand = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"n\": 1000, \"f\": 0.5}'\nexpect:\n  json: {n: 1e3, f: .5}\n",
    );
    assert!(matches!(
        outcome(&ir("200", ""), &thousand),
        Outcome::Passed(_)
    ));
    // Quoted, it is the text, and the number in the body is not.
    let quoted = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"price\": 249.99}'\nexpect:\n  json: {price: '249.99'}\n",
    );
    let Outcome::Failed { summary, .. } = outcome(&ir("200", ""), &quoted) else {
        panic!("a quoted number is a string")
    };
    assert_eq!(summary, "body (as JSON)");
}

#[test]
fn plain_yaml_numbers_in_the_request_context_are_numbers() {
    // A string is not greater than 2.5 in Velocity; the number 3.5 is.
    let spec = ir(
        "200",
        "responseTemplates:\n  application/json: '#if($context.limit > 2.5)big#{else}small#end $context.limit'\n",
    );
    for (limit, want) in [
        ("3.5", "big 3.5"),
        ("'3.5'", "small 3.5"),
        ("0x10", "big 16"),
    ] {
        let s = sim(
            &spec,
            &test_doc(
                "t",
                "mock",
                &format!("request:\n  context: {{limit: {limit}}}\n"),
            ),
        );
        assert_eq!(s.response.body, want, "limit: {limit}");
    }
}

#[test]
fn infinity_and_nan_in_free_form_values_are_errors_at_their_place() {
    // JSON cannot hold them, so no body can match them: refused, not read as text.
    let t = test_doc(
        "t",
        "mock",
        "request:\n  context:\n    rate: .nan\nexpect:\n  json:\n    max: -.inf\n    label: '.inf'\n",
    );
    assert_eq!(
        set_errors(&[(SPECS, &ir("200", "")), (TESTS, &t)]),
        [
            "d/api.tests.yaml:9:11: value of `request.context.rate` is `.nan`, which YAML reads as a number JSON cannot hold (infinite or not a number); quote it ('.nan') if you mean the text",
            "d/api.tests.yaml:12:10: value of `expect.json.max` is `-.inf`, which YAML reads as a number JSON cannot hold (infinite or not a number); quote it ('-.inf') if you mean the text",
        ]
    );
    // A core tag its text does not fit is refused too; `!!str` keeps the text.
    let t = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"a\": \"12\", \"b\": 12}'\nexpect:\n  json: {a: !!str 12, b: !!int 12}\n",
    );
    assert!(matches!(outcome(&ir("200", ""), &t), Outcome::Passed(_)));
    let t = test_doc("t", "mock", "expect:\n  json: {b: !!int twelve}\n");
    let errors = set_errors(&[(SPECS, &ir("200", "")), (TESTS, &t)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("d/api.tests.yaml:8:19: value of `expect.json.b` is tagged !!int but `twelve` is not an integer"),
        "{errors:?}"
    );
}

// ------------------------------------------------------------------- $input and $util

#[test]
fn url_encode_of_null_renders_as_nothing() {
    // The template of LocalStack's test_input_body_formatting, recorded against AWS:
    // `$input.body` is a string, so `.testAccess` is null, and AWS renders
    // `EncodedBodyAccess=` (java.net.URLEncoder would throw: API Gateway's 500).
    let spec = ir(
        "200",
        "responseTemplates:\n  application/json: 'EncodedBodyAccess=$util.urlEncode($input.body.testAccess)'\n",
    );
    let t = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"some\": \"value\"}'\nexpect:\n  body: EncodedBodyAccess=\n",
    );
    let got = outcome(&spec, &t);
    assert!(matches!(got, Outcome::Passed(_)), "{got:?}");
}

#[test]
fn a_body_that_is_not_json_has_nothing_at_any_path() {
    // An HTTP backend's plain-text 503: $input.path finds nothing (null, rendered as
    // nothing) and $input.json gives the JSON of an empty string, as for a JSON body
    // without the path (LocalStack's test_template_mapping.py, from the AWS console).
    let specs = docs(&[
        ir("200", ""),
        ir(
            "502",
            "selectionPattern: \"5\\\\d{2}\"\nresponseTemplates:\n  application/json: '{\"message\": $input.json(''$.message''), \"code\": \"$input.path(''$.code'')\"}'\n",
        ),
    ]);
    for body in ["Service Unavailable", "{\"error\": \"busy\"}"] {
        let t = test_doc(
            "t",
            "http",
            &format!(
                "backend:\n  statusCode: 503\n  body: {body:?}\nexpect:\n  statusCode: \"502\"\n  json: {{message: '', code: ''}}\n"
            ),
        );
        let got = outcome(&specs, &t);
        assert!(matches!(got, Outcome::Passed(_)), "{body}: {got:?}");
    }
}
