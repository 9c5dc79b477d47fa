//! Real API Gateway behaviour that the emulator does not enforce or hides, checked end
//! to end against moto: passthrough template entries survive both ways, every mapping
//! source AWS documents round-trips through export -> validate -> plan, and a mapping
//! to a header the method response does not declare is blocked, never written.

mod common;

use common::*;

const CONFIG: &str = "region: us-east-1\n";

/// A live integration response made through the SDK, as another tool would make it.
struct LiveIr {
    code: &'static str,
    pattern: Option<&'static str>,
    parameters: &'static [(&'static str, &'static str)],
    templates: &'static [(&'static str, &'static str)],
    handling: Option<&'static str>,
}

/// One of every valid kind: each mapping source of AWS's reference, static values with
/// quotes and commas, multi-line, CRLF and trailing-space templates, both content
/// handlings and passthrough entries.
const KINDS: &[LiveIr] = &[
    LiveIr {
        code: "200",
        pattern: None,
        parameters: &[
            (
                "method.response.header.X-Header",
                "integration.response.header.X-Up",
            ),
            (
                "method.response.header.Set-Cookie",
                "integration.response.multivalueheader.Set-Cookie",
            ),
            ("method.response.header.X-Body", "integration.response.body"),
            (
                "method.response.header.X-Id",
                "integration.response.body.order.id",
            ),
            ("method.response.header.X-Request", "context.requestId"),
            ("method.response.header.X-Ip", "context.identity.sourceIp"),
            (
                "method.response.header.Access-Control-Allow-Origin",
                "stageVariables.origin",
            ),
            (
                "method.response.header.Access-Control-Allow-Methods",
                "'GET,POST,OPTIONS'",
            ),
            (
                "method.response.header.WWW-Authenticate",
                "'Bearer realm=\"api\", charset=\"UTF-8\"'",
            ),
        ],
        templates: &[
            ("application/json", ""),
            (
                "application/xml",
                "#set($root = $input.path('$'))\n<order>\n  <id>$root.id</id>\n</order>\n",
            ),
            ("text/plain", "line one\r\nline two\r\n"),
            ("text/html", "<p>trailing spaces</p>   \n   "),
        ],
        handling: None,
    },
    LiveIr {
        code: "400",
        pattern: Some("(\\n|.)*[Bb]ad [Rr]equest(\\n|.)*"),
        parameters: &[],
        templates: &[("application/json", "")],
        handling: Some("CONVERT_TO_TEXT"),
    },
    LiveIr {
        code: "500",
        pattern: Some("5\\d{2}"),
        parameters: &[("method.response.header.Retry-After", "'30'")],
        templates: &[
            (
                "application/json",
                "{\"message\": $input.json('$.errorMessage')}",
            ),
            ("application/octet-stream", ""),
        ],
        handling: Some("CONVERT_TO_BINARY"),
    },
];

async fn put(client: &aws_sdk_apigateway::Client, api: &str, res: &str, ir: &LiveIr) {
    let mut put = client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(res)
        .http_method("GET")
        .status_code(ir.code)
        .set_selection_pattern(ir.pattern.map(str::to_owned))
        .set_content_handling(
            ir.handling
                .map(aws_sdk_apigateway::types::ContentHandlingStrategy::from),
        );
    for (k, v) in ir.parameters {
        put = put.response_parameters(*k, *v);
    }
    for (k, v) in ir.templates {
        put = put.response_templates(*k, *v);
    }
    // A passthrough entry is answered as `null`, which the plain SDK cannot parse (the
    // reason for the reconciler's interceptor): the write itself succeeded.
    if let Err(e) = put.send().await {
        assert!(
            e.raw_response().is_some_and(|r| r.status().is_success()),
            "{e:?}"
        );
    }
}

/// GET /kinds with method responses for every code, declaring every mapped header.
async fn scaffold(client: &aws_sdk_apigateway::Client, name: &str) -> (String, String) {
    let api = create_api(client, name).await;
    let res = create_resource(client, &api.api_id, &api.root_id, "kinds").await;
    create_method(client, &api.api_id, &res, "GET", &[]).await;
    for ir in KINDS {
        let headers: Vec<&str> = ir
            .parameters
            .iter()
            .map(|(k, _)| k.trim_start_matches("method.response.header."))
            .collect();
        declare_headers(client, &api.api_id, &res, "GET", ir.code, &headers).await;
    }
    (api.api_id, res)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_valid_kind_of_live_response_exports_validates_and_plans_clean() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = scaffold(&client, "Kinds").await;
    for ir in KINDS {
        put(&client, &api, &res, ir).await;
    }

    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("desired");
    let empty = desired_dir(&[]);
    run(
        &moto,
        empty.path(),
        CONFIG,
        &[
            "export",
            "--rest-api",
            "Kinds",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        0,
    );
    let text = std::fs::read_to_string(out_dir.join("kinds.yaml")).unwrap();
    assert_eq!(
        text.matches("application/json: \"\"\n").count(),
        2,
        "passthrough entries are exported as empty strings:\n{text}"
    );
    assert!(text.contains("application/octet-stream: \"\"\n"), "{text}");
    assert!(
        text.contains("integration.response.multivalueheader.Set-Cookie"),
        "{text}"
    );

    let validate = run(&moto, &out_dir, CONFIG, &["validate"], 0);
    assert!(
        stdout(&validate).contains("3 integration response(s)"),
        "{}",
        show(&validate)
    );
    let plan = run(&moto, &out_dir, CONFIG, &["plan"], 0);
    assert!(
        stdout(&plan).contains("Plan: 0 to create, 0 to update, 0 to delete, 0 blocked."),
        "{}\n--- exported\n{text}",
        show(&plan)
    );

    // Deleted and applied from the export, the live state plans clean again.
    for ir in KINDS {
        client
            .delete_integration_response()
            .rest_api_id(&api)
            .resource_id(&res)
            .http_method("GET")
            .status_code(ir.code)
            .send()
            .await
            .unwrap();
    }
    let plan = run(&moto, &out_dir, CONFIG, &["plan"], 2);
    assert!(
        stdout(&plan).contains("Plan: 3 to create, 0 to update, 0 to delete, 0 blocked."),
        "{}",
        show(&plan)
    );
    run(&moto, &out_dir, CONFIG, &["apply"], 0);
    run(&moto, &out_dir, CONFIG, &["plan"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passthrough_entry_is_written_and_read_as_a_real_entry_both_ways() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = scaffold(&client, "Cors").await;
    let with_entry = spec(
        "Cors",
        "/kinds",
        "GET",
        "200",
        "responseTemplates:\n  application/json: \"\"\n",
    );
    let without = spec("Cors", "/kinds", "GET", "200", "");

    // Ours: the entry is written (API Gateway and moto answer it as null) and then
    // read back as present, so the plan is clean; the spec without it differs.
    let dir = desired_dir(&[("cors.yaml", &with_entry)]);
    let apply = run(&moto, dir.path(), CONFIG, &["apply"], 0);
    assert!(stdout(&apply).contains("created"), "{}", show(&apply));
    run(&moto, dir.path(), CONFIG, &["plan"], 0);
    std::fs::write(dir.path().join("cors.yaml"), &without).unwrap();
    let plan = run(&moto, dir.path(), CONFIG, &["plan"], 2);
    assert!(
        stdout(&plan).contains("responseTemplates[\"application/json\"]: - passthrough entry"),
        "{}",
        show(&plan)
    );

    // Another tool's: a live entry made through the SDK is seen by a spec without it.
    put(
        &client,
        &api,
        &res,
        &LiveIr {
            code: "200",
            pattern: None,
            parameters: &[],
            templates: &[("text/plain", "")],
            handling: None,
        },
    )
    .await;
    let plan = run(&moto, dir.path(), CONFIG, &["plan", "--output", "json"], 2);
    let json: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let action = &json["actions"][0];
    assert_eq!(action["action"], "update", "{json}");
    assert_eq!(
        action["before"]["responseTemplates"],
        serde_json::json!({"text/plain": ""}),
        "{json}"
    );
    assert_eq!(
        action["after"]["responseTemplates"],
        serde_json::json!({}),
        "{json}"
    );
    run(&moto, dir.path(), CONFIG, &["apply"], 0);
    run(&moto, dir.path(), CONFIG, &["plan"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapping_to_an_undeclared_header_is_blocked_until_it_is_declared() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Undeclared").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
    let dir = desired_dir(&[(
        "things.yaml",
        &spec(
            "Undeclared",
            "/things",
            "GET",
            "200",
            "responseParameters:\n  method.response.header.X-Trace: integration.response.header.X-Trace\n",
        ),
    )]);

    // moto would accept the write; real API Gateway answers 400, so nothing is promised.
    let plan = run(&moto, dir.path(), CONFIG, &["plan"], 2);
    let text = stdout(&plan);
    assert!(
        text.contains("Plan: 0 to create, 0 to update, 0 to delete, 1 blocked."),
        "{text}"
    );
    assert!(
        text.contains("method response 200 does not declare method.response.header.X-Trace"),
        "{text}"
    );
    let apply = run(&moto, dir.path(), CONFIG, &["apply"], 1);
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none(),
        "nothing was written:\n{}",
        show(&apply)
    );

    declare_headers(&client, &api.api_id, &res, "GET", "200", &["X-Trace"]).await;
    run(&moto, dir.path(), CONFIG, &["apply"], 0);
    let ir = get_ir(&client, &api.api_id, &res, "GET", "200")
        .await
        .unwrap();
    assert_eq!(
        ir.response_parameters()
            .and_then(|p| p.get("method.response.header.X-Trace"))
            .map(String::as_str),
        Some("integration.response.header.X-Trace")
    );
}
