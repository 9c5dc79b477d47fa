//! Unit tests of the cycle's memory over the in-memory fake: backoff per key,
//! blocked keys, invalid sets, drift and dry-run.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;
use crate::config::Config;
use crate::live::memory::{MemoryApiGateway, method_with_responses};
use crate::live::{ApiError, FailureKind, LiveResource, LiveSnapshot, RestApiSummary};
use crate::model::{Key, Settings};
use crate::status::{Correction, CycleResult, KeyState, Shared, Trigger};

fn snapshot() -> LiveSnapshot {
    LiveSnapshot {
        rest_apis: vec![RestApiSummary {
            id: "api1".into(),
            name: "Shop".into(),
        }],
        resources: [(
            "api1".to_owned(),
            vec![LiveResource {
                id: "r1".into(),
                path: "/orders".into(),
                methods: [
                    ("GET".to_owned(), method_with_responses(&["200"])),
                    ("POST".to_owned(), method_with_responses(&["200"])),
                ]
                .into(),
            }],
        )]
        .into(),
    }
}

fn spec(method: &str, template: &str) -> String {
    format!(
        "kind: IntegrationResponse\nrestApiName: Shop\nresourcePath: /orders\nhttpMethod: {method}\nstatusCode: 200\n\
         responseTemplates: {{application/json: '{template}'}}\n"
    )
}

fn key(method: &str) -> Key {
    Key {
        rest_api_id: "api1".into(),
        resource_id: "r1".into(),
        http_method: method.into(),
        status_code: "200".into(),
    }
}

struct Setup {
    reconciler: Reconciler<MemoryApiGateway>,
    dir: tempfile::TempDir,
}

fn setup(files: &[(&str, &str)], dry_run: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let config = Config {
        desired_dir: dir.path().to_path_buf(),
        backoff: crate::config::Backoff {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(60),
        },
        // Files written just now are used at once (the settle time is for live edits).
        debounce: Duration::ZERO,
        ..Config::default()
    };
    let (tx, _rx) = mpsc::channel(4);
    let reconciler = Reconciler::new(
        config,
        dry_run,
        MemoryApiGateway::new(snapshot()),
        Shared::new(tx),
        Shutdown::new(),
    );
    Setup { reconciler, dir }
}

fn template_of(fake: &MemoryApiGateway, method: &str) -> Option<String> {
    fake.state().resources["api1"][0].methods[method]
        .integration_responses
        .get("200")
        .map(|s| s.response_templates["application/json"].clone())
}

fn interval() -> BTreeSet<Trigger> {
    BTreeSet::from([Trigger::Interval])
}

fn server_error() -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(503),
        code: Some("ServiceUnavailableException".into()),
        message: "Service Unavailable".into(),
        kind: FailureKind::Other,
    }
}

fn bad_request() -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(400),
        code: Some("BadRequestException".into()),
        message: "Invalid mapping expression".into(),
        kind: FailureKind::Rejected,
    }
}

#[tokio::test]
async fn a_failing_key_waits_for_its_backoff_while_others_proceed() {
    let mut s = setup(
        &[(
            "a.yaml",
            &format!("{}---\n{}", spec("GET", "g"), spec("POST", "p")),
        )],
        false,
    );
    s.reconciler
        .client
        .fail_next(&key("GET"), vec![server_error()]);

    let first = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        (first.created, first.failed, first.result),
        (1, 1, CycleResult::Failed)
    );
    assert_eq!(
        template_of(&s.reconciler.client, "POST").as_deref(),
        Some("p")
    );
    let status = s.reconciler.shared.status();
    let get = status.keys.iter().find(|k| k.http_method == "GET").unwrap();
    assert_eq!(get.state, KeyState::Failed);
    assert_eq!(get.failures, 1);
    assert!(get.retry_in_seconds.unwrap() > 20.0, "{get:?}");
    assert!(
        get.last_error
            .as_deref()
            .unwrap()
            .contains("ServiceUnavailableException")
    );

    // The injected error is spent: were GET retried now, it would succeed. It must wait.
    let second = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        (second.waiting, second.created, second.result),
        (1, 0, CycleResult::Pending)
    );
    assert_eq!(template_of(&s.reconciler.client, "GET"), None);

    // Once its time has come, it is retried and converges.
    s.reconciler
        .memory
        .keys
        .get_mut(&key("GET"))
        .unwrap()
        .retry_at = Some(Instant::now());
    let third = s.reconciler.cycle(&interval()).await;
    assert_eq!((third.created, third.result), (1, CycleResult::Converged));
    let status = s.reconciler.shared.status();
    assert!(
        status
            .keys
            .iter()
            .all(|k| k.state == KeyState::InSync && k.failures == 0)
    );
}

#[tokio::test]
async fn blocked_keys_are_retried_every_cycle_and_counted() {
    let text = spec("GET", "g").replace("statusCode: 200", "statusCode: 201");
    let mut s = setup(&[("a.yaml", &text)], false);
    for _ in 0..2 {
        let summary = s.reconciler.cycle(&interval()).await;
        assert_eq!((summary.blocked, summary.result), (1, CycleResult::Failed));
    }
    let status = s.reconciler.shared.status();
    assert_eq!(status.keys[0].state, KeyState::Blocked);
    assert!(
        status.keys[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no method response with status 201")
    );
    assert!(
        s.reconciler
            .shared
            .metrics
            .all()
            .render()
            .contains("apigw_reconciler_blocked 1")
    );
}

#[tokio::test]
async fn an_invalid_set_keeps_the_last_valid_one_and_is_not_ready() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    s.reconciler.config.prune = true;
    s.reconciler.cycle(&interval()).await;
    assert!(s.reconciler.shared.is_ready());

    std::fs::write(
        s.dir.path().join("a.yaml"),
        "kind: IntegrationResponse\nhttpMethod: [\n",
    )
    .unwrap();
    let summary = s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert_eq!(
        summary.result,
        CycleResult::Converged,
        "the last valid set is still in force"
    );
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("g"),
        "nothing deleted"
    );
    let status = s.reconciler.shared.status();
    assert!(!status.ready && !status.desired_set_valid);
    assert!(status.desired_set_error.unwrap().contains("a.yaml:2:1"));

    std::fs::write(s.dir.path().join("a.yaml"), spec("GET", "g2")).unwrap();
    s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert!(s.reconciler.shared.is_ready());
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("g2")
    );
}

/// Calls of `operation` the fake has seen.
fn calls(fake: &MemoryApiGateway, operation: &str) -> u64 {
    fake.call_counts()
        .by_operation
        .get(operation)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn no_valid_set_ever_means_no_writes() {
    let mut s = setup(&[("a.yaml", "kind: [\n")], false);
    for _ in 0..2 {
        let summary = s.reconciler.cycle(&interval()).await;
        assert_eq!(summary.result, CycleResult::Invalid);
    }
    // Not a single call: no read, no write.
    assert_eq!(s.reconciler.client.call_counts(), CallCounts::default());
    assert!(!s.reconciler.shared.is_ready());

    // The same fake counts once the set is valid: the reads, then the one write.
    std::fs::write(s.dir.path().join("a.yaml"), spec("GET", "g")).unwrap();
    let summary = s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert_eq!(
        (summary.created, summary.result),
        (1, CycleResult::Converged)
    );
    let counts = s.reconciler.client.call_counts();
    assert_eq!(
        counts.by_operation,
        [
            ("GetResources".to_owned(), 1),
            ("GetRestApis".to_owned(), 1),
            ("PutIntegrationResponse".to_owned(), 1),
        ]
        .into(),
        "{counts:?}"
    );
}

async fn drift_get(fake: &MemoryApiGateway) {
    let mut changed = Settings::default();
    changed
        .response_templates
        .insert("application/json".into(), "by hand".into());
    fake.put_integration_response(&key("GET"), &changed)
        .await
        .unwrap();
}

#[tokio::test]
async fn drift_is_detected_and_corrected() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    assert_eq!(
        s.reconciler.cycle(&interval()).await.drift,
        0,
        "the first apply is no drift"
    );
    drift_get(&s.reconciler.client).await;
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!((summary.drift, summary.updated), (1, 1));
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("g")
    );
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::Corrected, Some(summary.id))]
    );

    // A change of the spec itself is no drift.
    std::fs::write(s.dir.path().join("a.yaml"), spec("GET", "g2")).unwrap();
    let summary = s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert_eq!((summary.drift, summary.updated), (0, 1));
}

/// Each published drift event's correction and the cycle that corrected it, newest
/// first.
fn corrections(shared: &Shared) -> Vec<(Correction, Option<u64>)> {
    let status = shared.status();
    let events = status.drift_events.iter();
    events
        .map(|e| (e.correction, e.corrected_in_cycle))
        .collect()
}

#[tokio::test]
async fn a_drift_whose_write_fails_is_not_called_corrected_until_a_write_succeeds() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    s.reconciler.cycle(&interval()).await;
    drift_get(&s.reconciler.client).await;
    s.reconciler
        .client
        .fail_next(&key("GET"), vec![bad_request()]);
    let found = s.reconciler.cycle(&interval()).await;
    assert_eq!((found.drift, found.failed), (1, 1));
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("by hand")
    );
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::Failed, None)]
    );
    let event = &s.reconciler.shared.status().drift_events[0];
    assert!(event.correcting, "the daemon is correcting it, not dry-run");

    // POST /reconcile retries the refused write; it goes through now.
    let retried = s.reconciler.cycle(&BTreeSet::from([Trigger::Http])).await;
    assert_eq!((retried.drift, retried.updated), (0, 1));
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("g")
    );
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::Corrected, Some(retried.id))]
    );
}

#[tokio::test]
async fn a_drift_undone_by_hand_is_in_sync_again_not_corrected() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    s.reconciler.cycle(&interval()).await;
    drift_get(&s.reconciler.client).await;
    s.reconciler
        .client
        .fail_next(&key("GET"), vec![server_error()]);
    s.reconciler.cycle(&interval()).await;
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::Failed, None)]
    );
    // Someone puts the desired value back before the backoff (60 s) runs out.
    let desired = Settings {
        response_templates: [("application/json".to_owned(), "g".to_owned())].into(),
        ..Settings::default()
    };
    s.reconciler
        .client
        .put_integration_response(&key("GET"), &desired)
        .await
        .unwrap();
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(summary.updated, 0);
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::InSyncAgain, None)]
    );
}

#[tokio::test]
async fn dry_run_reports_drift_and_writes_nothing() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], true);
    s.reconciler
        .client
        .put_integration_response(
            &key("GET"),
            &Settings {
                response_templates: [("application/json".to_owned(), "g".to_owned())].into(),
                ..Settings::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.reconciler.cycle(&interval()).await.result,
        CycleResult::Converged
    );
    drift_get(&s.reconciler.client).await;
    // The two PUTs so far are this test's own.
    assert_eq!(calls(&s.reconciler.client, "PutIntegrationResponse"), 2);
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        (summary.drift, summary.updated, summary.result),
        (1, 0, CycleResult::Pending)
    );
    assert_eq!(calls(&s.reconciler.client, "PutIntegrationResponse"), 2);
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("by hand")
    );
    assert_eq!(
        corrections(&s.reconciler.shared),
        [(Correction::ReportedOnly, None)]
    );
    // Reported once, not every cycle.
    assert_eq!(s.reconciler.cycle(&interval()).await.drift, 0);
    assert_eq!(
        s.reconciler.shared.status().keys[0].state,
        KeyState::Pending
    );
}

#[tokio::test]
async fn a_rejected_write_is_not_retried_until_the_spec_changes_or_an_operator_asks() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    s.reconciler
        .client
        .fail_next(&key("GET"), vec![bad_request(), bad_request()]);
    assert_eq!(s.reconciler.cycle(&interval()).await.failed, 1);
    let status = s.reconciler.shared.status();
    assert_eq!(status.keys[0].state, KeyState::Failed);
    assert_eq!(
        status.keys[0].retry_in_seconds, None,
        "no retry is scheduled"
    );
    let fake = &s.reconciler.client;
    assert_eq!(calls(fake, "PutIntegrationResponse"), 1);
    assert_eq!(
        fake.call_counts().errors,
        [("http_400".to_owned(), 1)].into()
    );

    // Not retried on later cycles (the second injected error stays unused), though
    // every cycle reads the live state.
    let reads = calls(&s.reconciler.client, "GetResources");
    for _ in 0..3 {
        let summary = s.reconciler.cycle(&interval()).await;
        assert_eq!((summary.failed, summary.result), (1, CycleResult::Failed));
    }
    let fake = &s.reconciler.client;
    assert_eq!(calls(fake, "GetResources"), reads + 3, "three cycles read");
    assert_eq!(calls(fake, "PutIntegrationResponse"), 1, "and none wrote");
    assert_eq!(template_of(fake, "GET"), None);

    // POST /reconcile retries it once (and it is refused again).
    assert_eq!(
        s.reconciler
            .cycle(&BTreeSet::from([Trigger::Http]))
            .await
            .failed,
        1
    );
    assert_eq!(calls(&s.reconciler.client, "PutIntegrationResponse"), 2);
    // A changed spec is a new write: it goes through.
    std::fs::write(s.dir.path().join("a.yaml"), spec("GET", "fixed")).unwrap();
    let summary = s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert_eq!(
        (summary.created, summary.result),
        (1, CycleResult::Converged)
    );
    assert_eq!(calls(&s.reconciler.client, "PutIntegrationResponse"), 3);
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("fixed")
    );
}

fn prod_stage(api: &str) -> Vec<crate::config::Deployment> {
    vec![crate::config::Deployment {
        rest_api: api.into(),
        stage: "prod".into(),
        description: None,
    }]
}

#[tokio::test]
async fn changed_apis_get_their_stages_redeployed_once_per_cycle() {
    let mut s = setup(
        &[(
            "a.yaml",
            &format!("{}---\n{}", spec("GET", "g"), spec("POST", "p")),
        )],
        false,
    );
    s.reconciler.config.deployments = prod_stage("Shop");
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        (summary.created, summary.deployed),
        (2, 1),
        "two writes, one deployment"
    );
    assert_eq!(
        *s.reconciler.client.deployments.lock().unwrap(),
        [("api1".to_owned(), "prod".to_owned())]
    );
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(summary.deployed, 0, "nothing changed, nothing deployed");
    assert_eq!(s.reconciler.client.deployments.lock().unwrap().len(), 1);
    // A change made elsewhere and corrected is a change: deployed once more.
    std::fs::write(s.dir.path().join("a.yaml"), spec("GET", "g2")).unwrap();
    let summary = s.reconciler.cycle(&BTreeSet::from([Trigger::Files])).await;
    assert_eq!((summary.updated, summary.deployed), (1, 1));
}

#[tokio::test]
async fn a_deployment_lost_to_a_failure_or_a_crash_is_made_by_a_fresh_daemon_exactly_once() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], false);
    s.reconciler.config.deployments = prod_stage("api1");
    s.reconciler
        .client
        .deployment_failures
        .lock()
        .unwrap()
        .push(ApiError {
            operation: "CreateDeployment",
            target: "restApi api1 stage prod".into(),
            status: Some(503),
            code: None,
            message: "unavailable".into(),
            kind: FailureKind::Other,
        });
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        (summary.created, summary.deployed, summary.failed),
        (1, 0, 1)
    );
    assert_eq!(
        template_of(&s.reconciler.client, "GET").as_deref(),
        Some("g")
    );
    assert!(s.reconciler.client.deployments.lock().unwrap().is_empty());

    // The process dies: nothing of its memory survives, only the live API.
    let (config, client) = (s.reconciler.config.clone(), s.reconciler.client);
    let (tx, _rx) = mpsc::channel(4);
    let mut fresh = Reconciler::new(config, false, client, Shared::new(tx), Shutdown::new());
    let summary = fresh.cycle(&interval()).await;
    assert_eq!(
        (summary.created, summary.updated, summary.deployed),
        (0, 0, 1),
        "no write is needed, but the stage is owed a deployment"
    );
    let summary = fresh.cycle(&interval()).await;
    assert_eq!(summary.deployed, 0, "exactly once");
    assert_eq!(fresh.client.deployments.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn dry_run_never_deploys() {
    let mut s = setup(&[("a.yaml", &spec("GET", "g"))], true);
    s.reconciler.config.deployments = prod_stage("api1");
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(
        summary.result,
        CycleResult::Pending,
        "the write is only reported"
    );
    assert!(s.reconciler.client.deployments.lock().unwrap().is_empty());
    // Even with nothing to write, a stage owed a deployment is not deployed.
    s.reconciler.dry_run = false;
    s.reconciler.config.deployments.clear();
    s.reconciler.cycle(&interval()).await;
    s.reconciler.dry_run = true;
    s.reconciler.config.deployments = prod_stage("api1");
    let stage_reads = calls(&s.reconciler.client, "GetStages");
    let summary = s.reconciler.cycle(&interval()).await;
    assert_eq!(summary.deployed, 0);
    assert!(s.reconciler.client.deployments.lock().unwrap().is_empty());
    assert_eq!(calls(&s.reconciler.client, "CreateDeployment"), 0);
    assert_eq!(
        calls(&s.reconciler.client, "GetStages"),
        stage_reads + 1,
        "the stage was read"
    );
    // It was owed one: only dry-run held it back.
    s.reconciler.dry_run = false;
    assert_eq!(s.reconciler.cycle(&interval()).await.deployed, 1);
    assert_eq!(calls(&s.reconciler.client, "CreateDeployment"), 1);
}
