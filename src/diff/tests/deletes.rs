//! Deletes: `state: absent` and prune, only on managed methods, held while a write on
//! the method waits, and the mass-deletion guard.

use super::*;

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
