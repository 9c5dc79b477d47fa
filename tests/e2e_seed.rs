//! The seed example end to end: plan shows one create, apply writes it, the template
//! reads back byte-identical through the SDK, and a second plan is clean.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn seed_example_goes_from_one_create_to_applied_and_clean() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, resource_id) = seed_scaffold(&client).await;
    let desired = repo_root().join("desired");
    let config = "region: us-east-1\n";

    let plan = moto.cli(&desired, config, &["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    assert!(
        stdout(&plan).contains("Plan: 1 to create, 0 to update, 0 to delete, 0 blocked."),
        "{}",
        show(&plan)
    );
    assert!(
        get_ir(&client, &api.api_id, &resource_id, "GET", "200")
            .await
            .is_none()
    );

    let apply = moto.cli(&desired, config, &["apply"]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    assert!(
        stdout(&apply).contains("Apply: 1 created"),
        "{}",
        show(&apply)
    );

    let live = get_ir(&client, &api.api_id, &resource_id, "GET", "200")
        .await
        .expect("applied");
    let expected = "#set($inputRoot = $input.path('$'))\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<message>\n    $inputRoot.body\n</message>\n";
    assert_eq!(
        live.response_templates().unwrap()["application/xml"],
        expected
    );
    assert_eq!(live.selection_pattern(), None);

    let again = moto.cli(&desired, config, &["plan"]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(stdout(&again).contains("Plan: 0 to create, 0 to update, 0 to delete, 0 blocked."));

    let json = moto.cli(&desired, config, &["plan", "--output", "json"]);
    assert_eq!(
        stdout(&json).trim(),
        r#"{"summary":{"create":0,"update":0,"delete":0,"blocked":0},"actions":[]}"#
    );
}
