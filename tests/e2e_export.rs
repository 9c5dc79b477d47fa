//! Export and adoption: live integration responses exported as specs plan to zero
//! changes, and applied to a fresh copy of the API reproduce the same live state.

mod common;

use std::collections::BTreeMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::ContentHandlingStrategy;
use common::*;

struct Ir {
    path: &'static str,
    method: &'static str,
    code: &'static str,
    pattern: Option<&'static str>,
    template: Option<&'static str>,
    parameter: Option<(&'static str, &'static str)>,
    handling: Option<ContentHandlingStrategy>,
}

fn responses() -> Vec<Ir> {
    vec![
        Ir {
            path: "/pets",
            method: "GET",
            code: "200",
            pattern: None,
            template: Some("#set($root = $input.path('$'))\n{\n  \"pets\": $root.items\n}\n"),
            parameter: Some((
                "method.response.header.X-Count",
                "integration.response.header.X-Count",
            )),
            handling: None,
        },
        Ir {
            path: "/pets",
            method: "GET",
            code: "500",
            pattern: Some("5\\d{2}"),
            template: Some("  leading spaces, no final newline\n\tand a tab: ünïcødé 😀"),
            parameter: Some(("method.response.header.Retry", "'30'")),
            handling: Some(ContentHandlingStrategy::ConvertToText),
        },
        Ir {
            path: "/pets/{petId}",
            method: "POST",
            code: "201",
            pattern: Some(".*created.*"),
            template: Some("{\"id\": \"$input.path('$.id')\"}"),
            parameter: None,
            handling: Some(ContentHandlingStrategy::ConvertToBinary),
        },
        Ir {
            path: "/",
            method: "ANY",
            code: "404",
            pattern: Some("Not Found: .*"),
            template: None,
            parameter: Some(("method.response.header.Content-Type", "'text/plain'")),
            handling: None,
        },
    ]
}

/// The API's resources, methods, integrations and method responses; with
/// `with_responses`, its integration responses too. Returns the API id.
async fn build(client: &Client, with_responses: bool) -> String {
    let api = create_api(client, "Adopt").await;
    let mut ids = BTreeMap::from([("/", api.root_id.clone())]);
    let pets = create_resource(client, &api.api_id, &api.root_id, "pets").await;
    let pet = create_resource(client, &api.api_id, &pets, "{petId}").await;
    ids.insert("/pets", pets);
    ids.insert("/pets/{petId}", pet);
    for (path, method, codes) in [
        ("/pets", "GET", &["200", "500"][..]),
        ("/pets/{petId}", "POST", &["201"]),
        ("/", "ANY", &["404"]),
    ] {
        create_method(client, &api.api_id, &ids[path], method, codes).await;
    }
    // Every mapped header is declared, as real API Gateway requires.
    for ir in responses() {
        if let Some((k, _)) = ir.parameter {
            let header = k.trim_start_matches("method.response.header.");
            declare_headers(
                client,
                &api.api_id,
                &ids[ir.path],
                ir.method,
                ir.code,
                &[header],
            )
            .await;
        }
    }
    if with_responses {
        for ir in responses() {
            let mut put = client
                .put_integration_response()
                .rest_api_id(&api.api_id)
                .resource_id(&ids[ir.path])
                .http_method(ir.method)
                .status_code(ir.code)
                .set_selection_pattern(ir.pattern.map(str::to_owned))
                .set_content_handling(ir.handling.clone());
            if let Some(t) = ir.template {
                put = put.response_templates("application/json", t);
            }
            if let Some((k, v)) = ir.parameter {
                put = put.response_parameters(k, v);
            }
            put.send().await.unwrap();
        }
    }
    api.api_id
}

type Snapshot = BTreeMap<(String, String, String), String>;

/// Every integration response of the API, by (path, method, code), as a debug string
/// of its fields (sorted maps).
async fn snapshot(client: &Client, api_id: &str) -> Snapshot {
    let resources = client
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in resources.items() {
        for (method, m) in r.resource_methods().into_iter().flatten() {
            let irs = m
                .method_integration()
                .and_then(|i| i.integration_responses());
            for (code, ir) in irs.into_iter().flatten() {
                let sorted = |m: Option<&std::collections::HashMap<String, String>>| {
                    m.map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<BTreeMap<_, _>>()
                    })
                };
                out.insert(
                    (r.path().unwrap().to_owned(), method.clone(), code.clone()),
                    format!(
                        "{:?} {:?} {:?} {:?}",
                        ir.selection_pattern(),
                        sorted(ir.response_parameters()),
                        sorted(ir.response_templates()),
                        ir.content_handling()
                    ),
                );
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn export_plans_clean_and_recreates_the_same_live_state_elsewhere() {
    let source = Moto::start();
    let client = source.client().await;
    let api_id = build(&client, true).await;
    let before = snapshot(&client, &api_id).await;
    assert_eq!(before.len(), 4);

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("adopted");
    let export = source.cli(
        &dir,
        "region: us-east-1\n",
        &[
            "export",
            "--rest-api",
            "Adopt",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(export.status.code(), Some(0), "{}", show(&export));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pets.yaml", "pets_{petId}.yaml", "root.yaml"]);
    let pets = std::fs::read_to_string(dir.join("pets.yaml")).unwrap();
    assert!(
        pets.contains("restApiName: Adopt\nresourcePath: /pets\n"),
        "{pets}"
    );
    assert!(
        pets.contains("  application/json: |\n    #set($root = $input.path('$'))\n"),
        "{pets}"
    );

    // Round trip 1: the same API plans to zero changes, and exporting again is stable.
    let plan = source.cli(&dir, "region: us-east-1\nprune: true\n", &["plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    let again = source.cli(
        &dir,
        "region: us-east-1\n",
        &["export", "--rest-api", &api_id],
    );
    let docs = |text: &str| {
        let mut d: Vec<String> = text.split("---\n").map(str::to_owned).collect();
        d.sort();
        d
    };
    let all: String = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    assert_eq!(
        docs(&stdout(&again)),
        docs(&all),
        "export by id to stdout equals the files"
    );

    // Round trip 2: a fresh copy of the API (no integration responses) gets the same.
    let target = Moto::start();
    let fresh = target.client().await;
    let copy_id = build(&fresh, false).await;
    assert!(snapshot(&fresh, &copy_id).await.is_empty());
    let apply = target.cli(&dir, "region: us-east-1\n", &["apply"]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    assert_eq!(snapshot(&fresh, &copy_id).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn exporting_an_unknown_api_is_a_clear_error() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let out = moto.cli(
        dir.path(),
        "region: us-east-1\n",
        &["export", "--rest-api", "Nope"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        show(&out).contains("no REST API named or with id `Nope`"),
        "{}",
        show(&out)
    );
}

/// Templates as API Gateway stores and runs them, each with a Velocity directive the
/// engine once refused: the Serverless Framework 0.5 default template's recursive
/// `#macro`, a block macro, `#define`, `#evaluate`, `#literal`, and `#include`/`#parse`
/// (which API Gateway stores too: there is no file for them to load).
const DIRECTIVE_TEMPLATES: &[(&str, &str)] = &[
    (
        "200",
        "#macro( loop $map )\n  #foreach($key in $map.keySet())\n    \"$key\": \"$util.escapeJavaScript($map.get($key))\"#if($foreach.hasNext),#end\n  #end\n#end\n{ #loop( $input.path('$') ) }\n",
    ),
    (
        "201",
        "#macro(wrap $tag)<$tag>$bodyContent</$tag>#end\n#define($name)$input.path('$.name')#end\n#@wrap('b')$name#end\n",
    ),
    (
        "202",
        "#set($t = '{\"stage\": \"$context.stage\"}')#evaluate($t)\n#literal()$not.rendered#end\n",
    ),
    (
        "203",
        "#if($input.path('$.legacy'))#parse('legacy.vm')#include('footer.vm')#end{}",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn an_api_whose_templates_use_velocity_directives_exports_validates_tests_and_plans_clean() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Directives").await;
    let codes: Vec<&str> = DIRECTIVE_TEMPLATES.iter().map(|(c, _)| *c).collect();
    create_method(&client, &api.api_id, &api.root_id, "GET", &codes).await;
    for (i, (code, template)) in DIRECTIVE_TEMPLATES.iter().enumerate() {
        client
            .put_integration_response()
            .rest_api_id(&api.api_id)
            .resource_id(&api.root_id)
            .http_method("GET")
            .status_code(*code)
            .set_selection_pattern((i > 0).then(|| code.to_string()))
            .response_templates("application/json", *template)
            .send()
            .await
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("adopted");
    let config = "region: us-east-1\nprune: true\n";
    let export = moto.cli(
        &dir,
        config,
        &[
            "export",
            "--rest-api",
            "Directives",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(export.status.code(), Some(0), "{}", show(&export));
    let validate = moto.cli(&dir, config, &["validate"]);
    assert_eq!(validate.status.code(), Some(0), "{}", show(&validate));
    let plan = moto.cli(&dir, config, &["plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    assert!(
        stdout(&plan).contains("Plan: 0 to create, 0 to update, 0 to delete"),
        "{}",
        show(&plan)
    );

    // The adopted templates also run offline: a response test of each.
    let test = |name: &str, status: &str, body: &str, expect: &str| {
        format!(
            "---\nkind: ResponseTest\nname: {name}\nrestApiName: Directives\nresourcePath: /\nhttpMethod: GET\nintegration: http\nbackend:\n  statusCode: \"{status}\"\n  body: '{body}'\nrequest:\n  context: {{stage: prod}}\nexpect:\n  body: {expect}\n"
        )
    };
    // the expected bodies are what real Velocity 1.7 renders for these templates
    // (crates/apigw-vtl/golden/VtlGolden.java explore)
    let tests = [
        test(
            "recursive macro",
            "200",
            r#"{"a": "x", "b": "y"}"#,
            r#""{       \"a\": \"x\",      \"b\": \"y\"   }\n""#,
        ),
        test(
            "block macro and define",
            "201",
            r#"{"name": "Ann"}"#,
            r#""<b>Ann</b>""#,
        ),
        test(
            "evaluate and literal",
            "202",
            "{}",
            r#""{\"stage\": \"prod\"}$not.rendered""#,
        ),
        test("parse not reached", "203", "{}", r#""{}""#),
    ]
    .concat();
    std::fs::write(dir.join("directives.tests.yaml"), tests).unwrap();
    let run = moto.cli(&dir, config, &["test"]);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    assert!(
        stdout(&run).contains("4 passed, 0 failed"),
        "{}",
        show(&run)
    );

    // Reaching #parse cannot be simulated: the test says so instead of guessing.
    std::fs::write(
        dir.join("directives.tests.yaml"),
        test("parse reached", "203", r#"{"legacy": true}"#, r#""{}""#),
    )
    .unwrap();
    let run = moto.cli(&dir, config, &["test"]);
    assert_eq!(run.status.code(), Some(1), "{}", show(&run));
    assert!(
        show(&run).contains("#parse('legacy.vm') loads a template file")
            && show(&run).contains("the test cannot say what a client gets"),
        "{}",
        show(&run)
    );
}
