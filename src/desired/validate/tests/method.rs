//! The method reference (API, resource, method) of a spec and of a response test.

use super::*;
use crate::desired::validate::method::resource_path_problem;

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

/// Resource paths API Gateway created, as recorded against AWS in LocalStack's
/// API Gateway snapshots (`tests/aws/services/apigateway/*.snapshot.json`: the
/// `path` of resources AWS answered with, imports of real OpenAPI files included),
/// then the seed's, AWS's examples' (`/pets/{petId}`, `/orders/{id}`), and the
/// characters past AWS's message that [`resource_path_problem`] cites (`:`, `$`).
const REAL_PATHS: [&str; 40] = [
    "/",
    "/base",
    "/base-url",
    "/base-url/part",
    "/base-url/part/test",
    "/base-var/test",
    "/base/test",
    "/default-no-scope",
    "/default-scope-override",
    "/dogs",
    "/echo/{data}",
    "/foobar",
    "/non-default-authorizer",
    "/parent/child",
    "/parent/child/{proxy+}",
    "/parent/{child+}",
    "/parent/{child}",
    "/parent/{child}/{proxy+}",
    "/parent/{proxy+}",
    "/part/test",
    "/person",
    "/pets",
    "/pets/subpets/pets",
    "/pets/{petId}",
    "/product/{product_id}",
    "/test-path",
    "/test/foobar",
    "/testing/sqs",
    "/{proxy+}",
    "/mydemoresource",
    "/v1/users/{id}/orders",
    "/orders/{id}",
    "/pets/{petId}/photos",
    "/2015-03-31/functions",
    "/v1/events:batchGet",
    "/$test",
    "/{id}",
    "/a.b_c-d/E9",
    "/users/{user_id}/{proxy+}",
    "/v1/{name}",
];

#[test]
fn resource_paths_api_gateway_creates_are_valid() {
    for path in REAL_PATHS {
        assert_eq!(resource_path_problem(path), None, "{path}");
        let spec = with("resourcePath", &format!("{path:?}"));
        assert!(parse(&spec).is_ok(), "{path}: {:?}", parse(&spec));
    }
    // The seed's path, through a response test too.
    let test = TEST.replace("resourcePath: /r", "resourcePath: \"/{proxy+}\"");
    assert!(parse(&test).is_ok(), "{:?}", parse(&test));
}

#[test]
fn resource_paths_api_gateway_refuses_are_refused_on_the_value() {
    let refused = |path: &str| error(&with("resourcePath", &format!("{path:?}")));
    assert_eq!(
        refused("/a//b"),
        "d/x.yaml:5:15: `resourcePath` `/a//b` has an empty path part (`//`); API Gateway refuses it (\"Resource's path part must be specified\")"
    );
    assert_eq!(
        refused("/pets/"),
        "d/x.yaml:5:15: `resourcePath` `/pets/` ends with `/`: only the root is `/`; write `/pets`"
    );
    assert_eq!(
        refused("/{proxy+}/child"),
        "d/x.yaml:5:15: `resourcePath` `/{proxy+}/child`: the greedy path variable `{proxy+}` must be the last part; API Gateway refuses children of a greedy resource (\"Cannot create a child of a resource with a greedy path variable\")"
    );
    assert_eq!(
        refused("/a`b`"),
        "d/x.yaml:5:15: `resourcePath` part `a`b`` of `/a`b`` is not one API Gateway accepts: a path part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{name}` or greedy `{name+}` whose name is made of those"
    );
    for bad in [
        "/<img src=x onerror=alert(1)>",
        "/a b",
        "/a|b",
        "/a\nb",
        "/a\rb",
        "/a*",
        "/us{er",
        "/us+er",
        "/{}",
        "/{+}",
        "/{a}b",
        "/{{a}}",
        "/{a+b}",
        "/caf\u{e9}",
        "/a&b",
        "/a%20b",
    ] {
        let e = refused(bad);
        assert!(
            e.starts_with("d/x.yaml:5:15: `resourcePath` part `"),
            "{bad:?}: {e}"
        );
        assert!(
            !e.contains(['\n', '\r']),
            "the value is quoted escaped: {e:?}"
        );
    }
    assert!(refused("//").contains("empty path part"));
    // A response test's path follows the same rules and must start with `/`.
    assert_eq!(
        errors(&TEST.replace("resourcePath: /r", "resourcePath: r")),
        ["d/x.yaml:4:15: `resourcePath` must start with `/`, found `r` (the root is `/`)"]
    );
    assert_eq!(
        errors(&TEST.replace("resourcePath: /r", "resourcePath: \"/a/<b>\"")),
        [
            "d/x.yaml:4:15: `resourcePath` part `<b>` of `/a/<b>` is not one API Gateway accepts: a path part is letters, digits and `.` `_` `-` `:` `$`, or a path variable `{name}` or greedy `{name+}` whose name is made of those"
        ]
    );
}

#[test]
fn api_names_are_anything_on_one_line() {
    for name in [
        "MyDemoAPI",
        "PetStore",
        "Example Pet Store",
        "Simple PetStore (Swagger)",
        "My Demo API v1.2",
        "B\u{fc}cher-API \u{1f4da}",
        "Shop `x` <img src=x> | **y** & co",
        " padded ",
    ] {
        let spec = with("restApiName", &format!("{name:?}"));
        assert!(parse(&spec).is_ok(), "{name}: {:?}", parse(&spec));
        let test = TEST.replace("restApiName: A", &format!("restApiName: {name:?}"));
        assert!(parse(&test).is_ok(), "{name}: {:?}", parse(&test));
    }
    assert_eq!(
        error(&with("restApiName", "\"Bad\\rInputs\"")),
        "d/x.yaml:5:14: `restApiName` must not contain control characters or line breaks, found U+000D at character 4 of `Bad\\rInputs`; remove it (or name the API by its id with `restApi`)"
    );
    for bad in [
        "a\\nb",
        "a\\tb",
        "a\\eb",
        "a\\u2028b",
        "a\\u202Eb",
        "a\\x85b",
    ] {
        let e = error(&with("restApiName", &format!("\"{bad}\"")));
        assert!(
            e.starts_with("d/x.yaml:5:14: `restApiName` must not contain control characters"),
            "{bad}: {e}"
        );
        assert!(!e.contains(['\n', '\t', '\u{1b}', '\u{2028}']), "{e:?}");
    }
    // A literal block keeps its line break: refused too, at the value.
    assert!(
        error(&GOOD.replace("restApiName: A\n", "restApiName: |\n  A\n  B\n"))
            .starts_with("d/x.yaml:3:3: `restApiName` must not contain control characters")
    );
    // Response tests name their API the same way.
    assert_eq!(
        errors(&TEST.replace("restApiName: A", "restApiName: \"A\\nB\"")),
        [
            "d/x.yaml:3:14: `restApiName` must not contain control characters or line breaks, found U+000A at character 2 of `A\\nB`; remove it (or name the API by its id with `restApi`)"
        ]
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

/// The method reference (restApi|restApiName, resourceId|resourcePath, httpMethod)
/// has one reader: every problem of it is reported alike, at the same place and in
/// the same words, in a spec and in a response test (issue 19: a test's
/// `resourcePath` was once never checked to start with `/`).
#[test]
fn a_method_reference_is_read_alike_in_specs_and_response_tests() {
    let spec = |block: &str| format!("kind: IntegrationResponse\n{block}statusCode: \"200\"\n");
    let test = |block: &str| {
        format!(
            "kind: ResponseTest\n{block}name: t\nintegration: lambda\nexpect:\n  statusCode: \"200\"\n"
        )
    };
    let shown = |text: String| match parse(&text) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(ToString::to_string).collect::<Vec<_>>(),
    };
    let blocks = [
        "restApiName: A\nresourcePath: /r\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: r\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: \"\"\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: /a//b\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: /pets/\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: \"/{proxy+}/x\"\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: /a b\nhttpMethod: GET\n",
        "restApiName: A\nresourceId: x\nresourcePath: /r\nhttpMethod: GET\n",
        "restApiName: A\nhttpMethod: GET\n",
        "restApi: a\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\n",
        "resourcePath: /r\nhttpMethod: GET\n",
        "restApiName: \"A\\nB\"\nresourcePath: /r\nhttpMethod: GET\n",
        "restApiName: \" \"\nresourceId: \"\"\nhttpMethod: GET\n",
        "restApiName: A\nresourcePath: /r\nhttpMethod: FETCH\n",
        "restApiName: A\nresourcePath: /r\n",
        "restApiName: A\nresourcePath: [/r]\nhttpMethod: get\n",
    ];
    for (i, block) in blocks.iter().enumerate() {
        let (s, t) = (shown(spec(block)), shown(test(block)));
        assert_eq!(s, t, "{block:?}: the spec's errors, then the test's");
        assert_eq!(s.is_empty(), i == 0, "{block:?}: {s:?}");
    }
}
