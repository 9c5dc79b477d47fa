//! Executing plans on the fake: a plan converges, retry-later conflicts are retried up to
//! the policy, other failures stop nothing else.

use super::*;

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
