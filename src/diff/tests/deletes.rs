//! Unit tests of the diff and of executing its plans, over the in-memory fake.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::desired::SourceFile;
use crate::diff::*;
use crate::executor::{self, Outcome, RetryPolicy};
use crate::live::memory::{MemoryApiGateway, method_declaring};
use crate::live::{ApiError, FailureKind, LiveMethod};
use crate::vecmap::VecMap;
use crate::yaml::Pos;

fn spec(method: &str, status: &str, settings: Settings) -> Spec {
    Spec {
        api: ApiRef::Name("Shop".into()),
        resource: ResourceRef::Path("/orders".into()),
        http_method: method.into(),
        status_code: status.into(),
        settings,
        state: State::Present,
        location: Location {
            file: Arc::from("desired/shop.yaml"),
            pos: Pos { line: 1, col: 1 },
        },
    }
}

fn templates(pairs: &[(&str, &str)]) -> Settings {
    Settings {
        response_templates: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Settings::default()
    }
}

fn set(specs: Vec<Spec>) -> DesiredSet {
    DesiredSet::new(specs)
}

/// Shop (api1) with /orders (r1): GET and POST with method responses 200, 400, 500
/// (declaring headers A and B).
fn live_with(get: &[(&str, Settings)]) -> LiveSnapshot {
    let mut get_method = method_declaring(&["200", "400", "500"], &["A", "B"]);
    for (code, s) in get {
        get_method
            .integration_responses
            .insert(code.to_string(), s.clone());
    }
    LiveSnapshot {
        rest_apis: vec![RestApiSummary {
            id: "api1".into(),
            name: "Shop".into(),
        }],
        resources: BTreeMap::from([(
            "api1".to_owned(),
            vec![
                LiveResource {
                    id: "root".into(),
                    path: "/".into(),
                    methods: Default::default(),
                },
                LiveResource {
                    id: "r1".into(),
                    path: "/orders".into(),
                    methods: VecMap::from([
                        ("GET".to_owned(), get_method),
                        (
                            "POST".to_owned(),
                            method_declaring(&["200", "400", "500"], &["A", "B"]),
                        ),
                    ]),
                },
            ],
        )]),
    }
}

fn kinds(plan: &Plan) -> Vec<(ActionKind, String)> {
    plan.actions
        .iter()
        .map(|a| (a.kind, a.key.to_string()))
        .collect()
}

fn opts() -> DiffOptions {
    DiffOptions::default()
}

#[test]
fn missing_response_is_a_create_with_resolved_ids() {
    let plan = diff(
        &set(vec![spec("GET", "200", Settings::default())]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Create, "api1/r1/GET/200".to_owned())]
    );
    assert_eq!(plan.actions[0].api_name.as_deref(), Some("Shop"));
    assert_eq!(plan.actions[0].resource_path.as_deref(), Some("/orders"));
}

#[test]
fn ids_resolve_like_names_and_paths() {
    let mut s = spec("GET", "200", Settings::default());
    s.api = ApiRef::Id("api1".into());
    s.resource = ResourceRef::Id("r1".into());
    let plan = diff(&set(vec![s]), &live_with(&[]), &opts()).unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Create, "api1/r1/GET/200".to_owned())]
    );
}

#[test]
fn every_normalisation_makes_equal_settings_a_no_op() {
    let live_default = Settings::default();
    let cases: Vec<(&str, Settings, Settings)> = vec![
        (
            "empty selection pattern",
            Settings {
                selection_pattern: Some(String::new()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
        (
            "dash selection pattern",
            Settings {
                selection_pattern: Some("-".into()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
        (
            "passthrough entry vs a null read back as passthrough",
            templates(&[("application/json", "")]),
            templates(&[("application/json", "")]),
        ),
        ("empty maps", Settings::default(), Settings::default()),
        (
            "empty content handling",
            Settings {
                content_handling: Some(String::new()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
    ];
    for (name, desired, live) in cases {
        let plan = diff(
            &set(vec![spec("GET", "200", desired)]),
            &live_with(&[("200", live)]),
            &opts(),
        )
        .unwrap();
        assert!(plan.is_converged(), "{name}: {:?}", plan.actions);
    }
}

#[test]
fn a_passthrough_entry_is_a_real_entry_both_ways() {
    // Terraform's acceptance tests against AWS: `{"application/json" = ""}` is kept as a
    // key, so it differs from no entry and from a template.
    let passthrough = templates(&[("application/json", "")]);
    for (name, desired, live) in [
        (
            "add a passthrough entry",
            passthrough.clone(),
            Settings::default(),
        ),
        (
            "remove a passthrough entry",
            Settings::default(),
            passthrough.clone(),
        ),
        (
            "template to passthrough",
            passthrough.clone(),
            templates(&[("application/json", "{}")]),
        ),
        (
            "passthrough under another type",
            templates(&[("text/plain", "")]),
            passthrough.clone(),
        ),
    ] {
        let plan = diff(
            &set(vec![spec("GET", "200", desired.clone())]),
            &live_with(&[("200", live)]),
            &opts(),
        )
        .unwrap();
        assert_eq!(
            kinds(&plan),
            vec![(ActionKind::Update, "api1/r1/GET/200".to_owned())],
            "{name}"
        );
        assert_eq!(plan.actions[0].desired.as_ref(), Some(&desired), "{name}");
    }
}

#[test]
fn a_mapping_to_an_undeclared_header_is_blocked_with_the_header_to_declare() {
    let mut s = Settings::default();
    s.response_parameters
        .insert("method.response.header.A".into(), "'a'".into());
    s.response_parameters
        .insert("method.response.header.X-Trace".into(), "'t'".into());
    let plan = diff(
        &set(vec![spec("GET", "200", s.clone())]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Blocked, "api1/r1/GET/200".to_owned())]
    );
    let reason = plan.actions[0].reason.clone().unwrap();
    assert!(
        reason.contains("method response 200 does not declare method.response.header.X-Trace;"),
        "{reason}"
    );
    assert!(!reason.contains("header.A"), "A is declared: {reason}");
    assert_eq!(
        plan.actions[0].desired.as_ref(),
        Some(&s),
        "the plan shows what waits"
    );
    // Declared: a create.
    s.response_parameters
        .remove("method.response.header.X-Trace");
    let plan = diff(&set(vec![spec("GET", "200", s)]), &live_with(&[]), &opts()).unwrap();
    assert_eq!(kinds(&plan)[0].0, ActionKind::Create);
}

#[test]
fn each_field_change_is_an_update() {
    let base = Settings {
        selection_pattern: Some("4\\d{2}".into()),
        response_parameters: VecMap::from([("method.response.header.A".into(), "'a'".into())]),
        response_templates: VecMap::from([("application/json".into(), "{}".into())]),
        content_handling: Some("CONVERT_TO_TEXT".into()),
    };
    let mut changes: Vec<(&str, Settings)> = Vec::new();
    let mut s = base.clone();
    s.selection_pattern = Some("5\\d{2}".into());
    changes.push(("pattern", s));
    let mut s = base.clone();
    s.selection_pattern = None;
    changes.push(("pattern removed", s));
    let mut s = base.clone();
    s.response_parameters
        .insert("method.response.header.A".into(), "'b'".into());
    changes.push(("parameter value", s));
    let mut s = base.clone();
    s.response_parameters.clear();
    changes.push(("parameters removed", s));
    let mut s = base.clone();
    s.response_templates
        .insert("application/json".into(), "{\"a\":1}".into());
    changes.push(("template body", s));
    let mut s = base.clone();
    s.response_templates
        .insert("application/xml".into(), "<a/>".into());
    changes.push(("template added", s));
    let mut s = base.clone();
    s.content_handling = Some("CONVERT_TO_BINARY".into());
    changes.push(("content handling", s));
    let mut s = base.clone();
    s.content_handling = None;
    changes.push(("content handling removed", s));
    for (name, desired) in changes {
        let plan = diff(
            &set(vec![spec("GET", "400", desired.clone())]),
            &live_with(&[("400", base.clone())]),
            &opts(),
        )
        .unwrap();
        assert_eq!(
            kinds(&plan),
            vec![(ActionKind::Update, "api1/r1/GET/400".to_owned())],
            "{name}"
        );
        assert_eq!(plan.actions[0].desired.as_ref(), Some(&desired), "{name}");
        assert_eq!(plan.actions[0].live.as_ref(), Some(&base), "{name}");
    }
}

#[test]
fn missing_dependencies_are_blocked_with_a_reason() {
    let mut snapshot = live_with(&[]);
    let resource = &mut snapshot.resources.get_mut("api1").unwrap()[1];
    resource.methods.insert("PUT".into(), LiveMethod::default());
    let cases = [
        (
            spec("GET", "201", Settings::default()),
            "has no method response with status 201",
        ),
        (
            spec("PUT", "200", Settings::default()),
            "has no integration",
        ),
        (
            spec("PATCH", "200", Settings::default()),
            "has no PATCH method",
        ),
        (
            Spec {
                resource: ResourceRef::Path("/nope".into()),
                ..spec("GET", "200", Settings::default())
            },
            "has no resource /nope",
        ),
        (
            Spec {
                api: ApiRef::Name("Other".into()),
                ..spec("GET", "200", Settings::default())
            },
            "no REST API with restApiName Other",
        ),
    ];
    for (s, reason) in cases {
        let plan = diff(&set(vec![s]), &snapshot, &opts()).unwrap();
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].kind, ActionKind::Blocked);
        let got = plan.actions[0].reason.clone().unwrap();
        assert!(got.contains(reason), "{got}");
    }
}

#[test]
fn converged_responses_are_not_blocked_by_missing_method_responses() {
    // Only a write needs its dependencies.
    let plan = diff(
        &set(vec![spec("POST", "201", Settings::default())]),
        &{
            let mut l = live_with(&[]);
            let r = &mut l.resources.get_mut("api1").unwrap()[1];
            r.methods
                .get_mut("POST")
                .unwrap()
                .integration_responses
                .insert("201".into(), Settings::default());
            l
        },
        &opts(),
    )
    .unwrap();
    assert!(plan.is_converged());
}

#[test]
fn state_absent_deletes_only_what_exists() {
    let mut absent = spec("GET", "500", Settings::default());
    absent.state = State::Absent;
    let plan = diff(
        &set(vec![absent.clone()]),
        &live_with(&[("500", Settings::default())]),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Delete, "api1/r1/GET/500".to_owned())]
    );
    assert_eq!(plan.actions[0].reason.as_deref(), Some("state: absent"));
    assert!(
        diff(&set(vec![absent.clone()]), &live_with(&[]), &opts())
            .unwrap()
            .is_converged()
    );
    absent.http_method = "PATCH".into();
    assert!(
        diff(&set(vec![absent]), &live_with(&[]), &opts())
            .unwrap()
            .is_converged()
    );
}

#[test]
fn prune_deletes_only_on_managed_methods() {
    let mut live = live_with(&[("200", Settings::default()), ("500", Settings::default())]);
    live.resources.get_mut("api1").unwrap()[1]
        .methods
        .get_mut("POST")
        .unwrap()
        .integration_responses
        .insert("400".into(), Settings::default());
    let desired = set(vec![spec("GET", "200", Settings::default())]);

    let kept = diff(&desired, &live, &opts()).unwrap();
    assert!(kept.is_converged());
    assert_eq!(kept.unmanaged_kept, 1);

    let pruned = diff(
        &desired,
        &live,
        &DiffOptions {
            prune: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        kinds(&pruned),
        vec![(ActionKind::Delete, "api1/r1/GET/500".to_owned())]
    );
}

#[test]
fn a_status_code_change_with_prune_is_delete_plus_create() {
    let live = live_with(&[("200", Settings::default())]);
    let desired = set(vec![spec("GET", "400", Settings::default())]);
    let plan = diff(
        &desired,
        &live,
        &DiffOptions {
            prune: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::Delete, "api1/r1/GET/200".to_owned()),
            (ActionKind::Create, "api1/r1/GET/400".to_owned()),
        ]
    );
}

fn prune() -> DiffOptions {
    DiffOptions {
        prune: true,
        ..opts()
    }
}

fn with_pattern(p: &str) -> Settings {
    Settings {
        selection_pattern: Some(p.into()),
        ..Settings::default()
    }
}

#[test]
fn a_blocked_replacement_holds_the_prune_delete_of_what_it_replaces() {
    // 200 -> 201, but GET has no method response 201: deleting 200 now would leave
    // every client of GET with a 500.
    let live = live_with(&[("200", Settings::default())]);
    let plan = diff(
        &set(vec![spec("GET", "201", Settings::default())]),
        &live,
        &prune(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::Blocked, "api1/r1/GET/200".to_owned()),
            (ActionKind::Blocked, "api1/r1/GET/201".to_owned()),
        ]
    );
    let held = plan.actions[0].reason.clone().unwrap();
    assert!(
        held.starts_with("prune held: a write on this method is blocked"),
        "{held}"
    );
    // Prune on other methods is not held.
    let mut live = live;
    live.resources.get_mut("api1").unwrap()[1]
        .methods
        .get_mut("POST")
        .unwrap()
        .integration_responses
        .insert("400".into(), with_pattern("4.*"));
    let plan = diff(
        &set(vec![
            spec("GET", "201", Settings::default()),
            spec("POST", "200", Settings::default()),
        ]),
        &live,
        &prune(),
    )
    .unwrap();
    assert!(
        kinds(&plan).contains(&(ActionKind::Delete, "api1/r1/POST/400".to_owned())),
        "{:?}",
        kinds(&plan)
    );
}

#[test]
fn a_second_default_response_is_blocked_unless_the_first_goes_or_gets_a_pattern() {
    let live = live_with(&[("200", Settings::default())]);
    let desired = set(vec![spec("GET", "400", Settings::default())]);
    // Prune off: 200 stays the default, API Gateway would answer 409.
    let plan = diff(&desired, &live, &opts()).unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Blocked, "api1/r1/GET/400".to_owned())]
    );
    let reason = plan.actions[0].reason.clone().unwrap();
    assert!(
        reason.starts_with("status 200 is already the default response"),
        "{reason}"
    );
    // Prune on: the old default is deleted and the new one written (a swap).
    let plan = diff(&desired, &live, &prune()).unwrap();
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::Delete, "api1/r1/GET/200".to_owned()),
            (ActionKind::Create, "api1/r1/GET/400".to_owned()),
        ]
    );
    // The old default given a pattern: both writes go ahead.
    let plan = diff(
        &set(vec![
            spec("GET", "200", with_pattern("2\\d{2}")),
            spec("GET", "400", Settings::default()),
        ]),
        &live,
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::Update, "api1/r1/GET/200".to_owned()),
            (ActionKind::Create, "api1/r1/GET/400".to_owned()),
        ]
    );
    // The mass-deletion guard holds the delete, so the new default waits too.
    let guarded = DiffOptions {
        max_deletes: 0,
        ..prune()
    };
    let plan = diff(&desired, &live, &guarded).unwrap();
    assert_eq!(plan.count(ActionKind::Blocked), 2, "{:?}", kinds(&plan));
}

fn rejected() -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(400),
        code: Some("BadRequestException".into()),
        message: "Invalid mapping expression specified".into(),
        kind: FailureKind::Rejected,
    }
}

#[test]
fn a_failed_new_default_puts_the_old_default_back() {
    let old = templates(&[("application/json", "{\"old\": true}")]);
    let fake = MemoryApiGateway::new(live_with(&[("200", old.clone())]));
    let desired = set(vec![spec("GET", "400", Settings::default())]);
    let plan = diff(&desired, &fake.state(), &prune()).unwrap();
    let new_key = plan.actions[1].key.clone();
    fake.fail_next(&new_key, vec![rejected()]);
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    let by_status: BTreeMap<_, _> = report
        .results
        .iter()
        .map(|r| (r.action.key.status_code.as_str(), &r.outcome))
        .collect();
    assert!(matches!(by_status["400"], Outcome::Failed(_)), "{report:?}");
    assert!(
        matches!(by_status["200"], Outcome::Held(why) if why.contains("put back")),
        "{report:?}"
    );
    let get = &fake.state().resources["api1"][1].methods["GET"];
    assert_eq!(get.integration_responses.get("200"), Some(&old), "restored");
    assert!(!get.integration_responses.contains_key("400"));
    // Without the failure the swap goes through.
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    assert!(report.converged(), "{report:?}");
    assert!(
        diff(&desired, &fake.state(), &prune())
            .unwrap()
            .is_converged()
    );
}

#[test]
fn prune_waits_while_a_write_on_its_method_fails() {
    let fake = MemoryApiGateway::new(live_with(&[
        ("200", templates(&[("application/json", "x")])),
        ("500", with_pattern("5.*")),
    ]));
    let desired = set(vec![spec(
        "GET",
        "200",
        templates(&[("application/json", "y")]),
    )]);
    let plan = diff(&desired, &fake.state(), &prune()).unwrap();
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::Update, "api1/r1/GET/200".to_owned()),
            (ActionKind::Delete, "api1/r1/GET/500".to_owned()),
        ]
    );
    fake.fail_next(&plan.actions[0].key, vec![rejected()]);
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    assert_eq!(report.failed(), 1);
    assert_eq!(report.held(), 1, "{report:?}");
    assert!(
        fake.state().resources["api1"][1].methods["GET"]
            .integration_responses
            .contains_key("500")
    );
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    assert!(report.converged(), "{report:?}");
}

#[test]
fn an_update_that_frees_the_default_runs_before_the_new_default() {
    // Plan order is by key (200 before 500); API Gateway needs 500 to stop being the
    // default before 200 becomes it.
    let fake = MemoryApiGateway::new(live_with(&[("500", Settings::default())]));
    let desired = set(vec![
        spec("GET", "200", Settings::default()),
        spec("GET", "500", with_pattern("5\\d{2}")),
    ]);
    let plan = diff(&desired, &fake.state(), &opts()).unwrap();
    assert_eq!(plan.actions[0].key.status_code, "200");
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    assert!(report.converged(), "{report:?}");
    assert_eq!(report.results[0].action.key.status_code, "500", "ran first");
}

#[test]
fn the_mass_deletion_guard_blocks_every_delete() {
    let live = live_with(&[
        ("200", Settings::default()),
        ("400", Settings::default()),
        ("500", Settings::default()),
    ]);
    let desired = set(vec![spec("POST", "200", Settings::default()), {
        let mut s = spec("GET", "200", Settings::default());
        s.state = State::Absent;
        s
    }]);
    let options = DiffOptions {
        prune: true,
        max_deletes: 2,
        ..opts()
    };
    let plan = diff(&desired, &live, &options).unwrap();
    assert_eq!(plan.count(ActionKind::Delete), 0);
    assert_eq!(plan.count(ActionKind::Blocked), 3);
    assert_eq!(plan.count(ActionKind::Create), 1);
    assert!(plan.actions.iter().any(|a| {
        a.reason
            .as_deref()
            .unwrap_or("")
            .contains("maxDeletesPerCycle (2)")
    }));
    let within = DiffOptions {
        max_deletes: 3,
        ..options
    };
    assert_eq!(
        diff(&desired, &live, &within)
            .unwrap()
            .count(ActionKind::Delete),
        3
    );
}

#[test]
fn two_apis_with_one_name_are_an_error() {
    let mut live = live_with(&[]);
    live.rest_apis.push(RestApiSummary {
        id: "api2".into(),
        name: "Shop".into(),
    });
    let err = diff(
        &set(vec![spec("GET", "200", Settings::default())]),
        &live,
        &opts(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2 REST APIs are named `Shop` (ids api1, api2)"),
        "{text}"
    );
    assert!(text.contains("use `restApi: <id>`"), "{text}");
}

#[test]
fn a_name_and_an_id_for_the_same_response_are_a_duplicate() {
    let mut by_id = spec("GET", "200", Settings::default());
    by_id.api = ApiRef::Id("api1".into());
    let err = diff(
        &set(vec![spec("GET", "200", Settings::default()), by_id]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(err, DiffError::DuplicateKey { .. }), "{err}");
}

#[test]
fn the_allow_list_blocks_apis_out_of_scope_and_limits_fetching() {
    let options = DiffOptions {
        allowed_apis: Some(vec!["Billing".into()]),
        ..opts()
    };
    let desired = set(vec![spec("GET", "200", Settings::default())]);
    let live = live_with(&[]);
    assert!(apis_to_fetch(&desired, &live.rest_apis, &options).is_empty());
    let plan = diff(&desired, &live, &options).unwrap();
    assert_eq!(plan.actions[0].kind, ActionKind::Blocked);
    assert!(
        plan.actions[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("not in the config's `restApis` list")
    );
    assert_eq!(apis_to_fetch(&desired, &live.rest_apis, &opts()).len(), 1);
}

#[test]
fn specs_naming_apis_by_id_need_no_listing() {
    let mut by_id = spec("GET", "200", Settings::default());
    by_id.api = ApiRef::Id("api1".into());
    let named = spec("POST", "200", Settings::default());
    assert_eq!(
        ids_without_listing(&set(vec![by_id.clone()]), &opts()),
        Some(["api1".to_owned()].into())
    );
    assert_eq!(
        ids_without_listing(&set(vec![by_id.clone(), named]), &opts()),
        None
    );
    let allow = DiffOptions {
        allowed_apis: Some(vec!["api1".into()]),
        ..opts()
    };
    assert_eq!(ids_without_listing(&set(vec![by_id]), &allow), None);
}

#[test]
fn fetching_by_id_reads_no_list_and_leaves_missing_apis_out() {
    let fake = MemoryApiGateway::new(live_with(&[]));
    let query =
        crate::live::ApiQuery::<fn(&[RestApiSummary]) -> std::collections::BTreeSet<String>>::Ids(
            ["api1".to_owned(), "gone".to_owned()].into(),
        );
    let snapshot = run(crate::live::fetch(&fake, query)).unwrap();
    assert_eq!(snapshot.resources.keys().collect::<Vec<_>>(), ["api1"]);
    assert_eq!(snapshot.rest_apis[0].name, "");
    let mut s = spec("GET", "200", Settings::default());
    s.api = ApiRef::Id("gone".into());
    let plan = diff(&set(vec![s]), &snapshot, &opts()).unwrap();
    assert!(
        plan.actions[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("no REST API with restApi gone")
    );
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn executing_a_plan_on_the_fake_converges() {
    let desired_text = "kind: IntegrationResponse\nrestApiName: Shop\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: 400\n\
        selectionPattern: '4\\d{2}'\nresponseTemplates:\n  application/json: '{\"e\": 1}'\n  text/plain: ''\n---\n\
        kind: IntegrationResponse\nrestApiName: Shop\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: '200'\nselectionPattern: '-'\n";
    let desired = crate::desired::parse_files(&[SourceFile {
        display_name: "d.yaml".into(),
        bytes: desired_text.as_bytes().to_vec(),
    }])
    .unwrap();
    let fake = MemoryApiGateway::new(live_with(&[("500", Settings::default())]));
    let options = DiffOptions {
        prune: true,
        ..opts()
    };
    let plan = diff(&desired, &fake.state(), &options).unwrap();
    assert_eq!(plan.actions.len(), 3);
    let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
    assert!(report.converged(), "{report:?}");
    assert!(
        diff(&desired, &fake.state(), &options)
            .unwrap()
            .is_converged()
    );
}

fn conflict(message: &str) -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(409),
        code: Some("ConflictException".into()),
        message: message.into(),
        kind: if message.contains("try again later") {
            FailureKind::RetryLater
        } else {
            FailureKind::Other
        },
    }
}

#[test]
fn retry_later_conflicts_are_retried_and_other_failures_do_not_stop_the_rest() {
    let fake = MemoryApiGateway::new(live_with(&[]));
    let desired = set(vec![
        spec("GET", "200", Settings::default()),
        spec("POST", "200", Settings::default()),
        spec("POST", "400", templates(&[("a/b", "x")])),
    ]);
    let plan = diff(&desired, &fake.state(), &opts()).unwrap();
    let retry_key = plan.actions[0].key.clone();
    let fail_key = plan.actions[1].key.clone();
    let later =
        "Unable to complete operation due to concurrent modification. Please try again later.";
    fake.fail_next(&retry_key, vec![conflict(later), conflict(later)]);
    fake.fail_next(&fail_key, vec![conflict("Conflict: something else")]);
    let policy = RetryPolicy {
        initial: std::time::Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let report = run(executor::execute(&fake, &plan, &policy));
    let by_key: BTreeMap<_, _> = report
        .results
        .iter()
        .map(|r| (r.action.key.clone(), r))
        .collect();
    assert_eq!(by_key[&retry_key].outcome, Outcome::Applied);
    assert_eq!(by_key[&retry_key].attempts, 3);
    assert!(matches!(by_key[&fail_key].outcome, Outcome::Failed(_)));
    assert_eq!(
        by_key[&fail_key].attempts, 1,
        "a plain conflict is not retried"
    );
    assert_eq!(report.applied(ActionKind::Create), 2);
    assert!(!report.converged());
}

#[test]
fn retry_later_gives_up_after_the_policy_attempts() {
    let fake = MemoryApiGateway::new(live_with(&[]));
    let plan = diff(
        &set(vec![spec("GET", "200", Settings::default())]),
        &fake.state(),
        &opts(),
    )
    .unwrap();
    let later = "Please try again later";
    fake.fail_next(&plan.actions[0].key, vec![conflict(later); 10]);
    let policy = RetryPolicy {
        attempts: 3,
        initial: std::time::Duration::from_millis(1),
        max: std::time::Duration::from_millis(2),
    };
    let report = run(executor::execute(&fake, &plan, &policy));
    assert_eq!(report.results[0].attempts, 3);
    assert!(matches!(report.results[0].outcome, Outcome::Failed(_)));
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn settings() -> impl Strategy<Value = Settings> {
        (
            prop::sample::select(vec![
                None,
                Some(""),
                Some("-"),
                Some("4\\d{2}"),
                Some("5.*"),
            ]),
            prop::collection::btree_map(
                prop::sample::select(vec!["method.response.header.A", "method.response.header.B"]),
                prop::sample::select(vec!["'x'", "integration.response.body"]),
                0..2,
            ),
            prop::collection::btree_map(
                prop::sample::select(vec!["application/json", "text/html; charset=utf-8"]),
                prop::sample::select(vec!["", "a", "b\nc", "ü/é"]),
                0..2,
            ),
            prop::sample::select(vec![
                None,
                Some("CONVERT_TO_TEXT"),
                Some("CONVERT_TO_BINARY"),
            ]),
        )
            .prop_map(|(pattern, params, templates, handling)| Settings {
                selection_pattern: pattern.map(str::to_owned),
                response_parameters: params
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                response_templates: templates
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                content_handling: handling.map(str::to_owned),
            })
    }

    /// Resources /p0../p2 with GET and POST (integration, method responses 200, 400,
    /// 500 declaring headers A and B) and random live integration responses, at most one
    /// default per method (API Gateway refuses a second).
    fn live() -> impl Strategy<Value = LiveSnapshot> {
        prop::collection::vec(
            prop::collection::btree_map(
                prop::sample::select(vec!["200", "400", "500"]),
                settings(),
                0..3,
            ),
            6,
        )
        .prop_map(|irs| {
            let mut irs = irs.into_iter();
            let resources = (0..3)
                .map(|i| LiveResource {
                    id: format!("r{i}"),
                    path: format!("/p{i}"),
                    methods: ["GET", "POST"]
                        .iter()
                        .map(|m| {
                            let mut method = method_declaring(&["200", "400", "500"], &["A", "B"]);
                            let mut has_default = false;
                            method.integration_responses = irs
                                .next()
                                .unwrap()
                                .into_iter()
                                .map(|(k, mut v)| {
                                    if v.is_default() && std::mem::replace(&mut has_default, true) {
                                        v.selection_pattern = Some(format!("{k}y"));
                                    }
                                    (k.to_owned(), v)
                                })
                                .collect();
                            (m.to_string(), method)
                        })
                        .collect(),
                })
                .collect();
            LiveSnapshot {
                rest_apis: vec![RestApiSummary {
                    id: "api1".into(),
                    name: "Shop".into(),
                }],
                resources: [("api1".to_owned(), resources)].into(),
            }
        })
    }

    /// Specs over existing and missing resources, methods and method responses; one
    /// per identity, at most one present default per method (what validation allows).
    fn desired() -> impl Strategy<Value = DesiredSet> {
        prop::collection::vec(
            (
                0..4usize,
                prop::sample::select(vec!["GET", "POST", "PUT"]),
                prop::sample::select(vec!["200", "400", "500", "201"]),
                settings(),
                prop::bool::weighted(0.2),
            ),
            0..12,
        )
        .prop_map(|raw| {
            let mut seen = BTreeSet::new();
            let mut defaults = BTreeSet::new();
            let mut specs = Vec::new();
            for (resource, method, status, mut settings, absent) in raw {
                if !seen.insert((resource, method, status)) {
                    continue;
                }
                if !absent && settings.is_default() && !defaults.insert((resource, method)) {
                    settings.selection_pattern = Some(format!("{status}x"));
                }
                let mut s = spec(method, status, settings);
                s.resource = ResourceRef::Path(format!("/p{resource}"));
                s.state = if absent {
                    State::Absent
                } else {
                    State::Present
                };
                specs.push(s);
            }
            set(specs)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn applying_a_plan_converges_and_deletes_only_on_managed_methods(
            live in live(),
            desired in desired(),
            prune in any::<bool>(),
        ) {
            let options = DiffOptions { prune, max_deletes: usize::MAX, ..DiffOptions::default() };
            let plan = diff(&desired, &live, &options).unwrap();

            let managed: BTreeSet<(String, String)> = desired
                .specs
                .iter()
                .map(|s| match &s.resource {
                    ResourceRef::Path(p) => (p.replace("/p", "r"), s.http_method.clone()),
                    ResourceRef::Id(id) => (id.clone(), s.http_method.clone()),
                })
                .collect();
            for action in plan.actions.iter().filter(|a| a.kind == ActionKind::Delete) {
                prop_assert!(
                    managed.contains(&(action.key.resource_id.clone(), action.key.http_method.clone())),
                    "delete outside managed methods: {action:?}"
                );
                prop_assert!(prune || action.reason.as_deref() == Some("state: absent"));
            }

            // A method with a blocked write loses nothing to prune: the response a blocked
            // replacement would replace stays.
            let blocked_writes: BTreeSet<(String, String)> = plan
                .actions
                .iter()
                .filter(|a| a.kind == ActionKind::Blocked && a.desired.is_some())
                .map(|a| (a.key.resource_id.clone(), a.key.http_method.clone()))
                .collect();
            for action in plan.actions.iter().filter(|a| a.kind == ActionKind::Delete && a.source.is_none()) {
                prop_assert!(
                    !blocked_writes.contains(&(action.key.resource_id.clone(), action.key.http_method.clone())),
                    "prune delete on a method whose write is blocked: {action:?}\n{:?}", plan.actions
                );
            }

            let fake = MemoryApiGateway::new(live.clone());
            let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
            prop_assert_eq!(report.failed(), 0, "{:?}", report);
            prop_assert_eq!(report.held(), 0, "{:?}", report);
            let after = diff(&desired, &fake.state(), &options).unwrap();
            prop_assert!(
                after.actions.iter().all(|a| a.kind == ActionKind::Blocked),
                "not converged: {:?}", after.actions
            );
            let blocked = |p: &Plan| p.actions.iter().filter(|a| a.kind == ActionKind::Blocked).map(|a| a.key.clone()).collect::<Vec<_>>();
            prop_assert_eq!(blocked(&after), blocked(&plan));
            // Live responses on methods no spec names are untouched.
            for (i, resource) in fake.state().resources["api1"].iter().enumerate() {
                for (name, method) in &resource.methods {
                    if !managed.contains(&(resource.id.clone(), name.clone())) {
                        prop_assert_eq!(method, &live.resources["api1"][i].methods[name]);
                    }
                }
            }
        }
    }
}
