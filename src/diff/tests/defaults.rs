//! The default response (no selection pattern), one per method: a second waits for the
//! first to go or get a pattern, a failed swap puts the old one back, and the write that
//! frees the default runs first.

use super::*;

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
