//! The fields of a `kind: IntegrationResponse` document.

use super::*;

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
        e.starts_with("d/x.yaml:6:48: response parameter value `integration.response.foo` must be"),
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
        e.ends_with("value of `responseTemplates.application/json` must be a string, found a list"),
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
fn each_template_is_placed_at_its_value_in_the_maps_order() {
    // Written out of order: the places follow the map's sorted keys, as the templates do.
    let set = parse(&format!(
        "{GOOD}responseTemplates:\n  text/plain: 'hi'\n  application/json: |\n    {{}}\n  application/xml: \"<a/>\"\n"
    ))
    .unwrap();
    let spec = &set.specs[0];
    let keys: Vec<&str> = spec
        .settings
        .response_templates
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["application/json", "application/xml", "text/plain"]);
    let places: Vec<String> = (0..3)
        .map(|i| spec.template_location(i).to_string())
        .collect();
    assert_eq!(places, ["d/x.yaml:9:5", "d/x.yaml:10:20", "d/x.yaml:7:15"]);
    // Past the end (a spec built by hand has none): the spec's own place.
    assert_eq!(spec.template_location(3).to_string(), "d/x.yaml:1:1");
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
