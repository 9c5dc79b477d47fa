//! Fault injection end to end: the real binary talks to a moto server through a
//! fault-injecting proxy (tests/faults) that answers a share of the calls with
//! API Gateway's throttling and conflict errors, 5xx, connection resets, answers slower
//! than the client's attempt timeout and truncated bodies.
//!
//! Fixtures are built and the live state is read back with the SDK directly against
//! moto, never through the proxy. The proxy's records are the ground truth for what
//! was injected and for which requests reached moto. Every wait is bounded by a
//! deadline on an observable condition.

mod common;
mod faults;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use common::{Daemon, Moto, create_api, create_method, create_resource, metric, show, wait_until};
use faults::{Fault, FaultPlan, Op, Proxy, Rule, Stats};

// ---------------------------------------------------------------------------------
// Running the binary against the proxy.

fn cli(endpoint: &str, desired: &Path, config_yaml: &str, args: &[&str]) -> Output {
    common::run_cli(endpoint, desired, config_yaml, args, &[])
}

fn start_daemon(endpoint: &str, desired: &Path, config_yaml: &str) -> Daemon {
    common::start_daemon(endpoint, desired, config_yaml, &[], &[])
}

/// Wait until two more cycles have finished: the second one started after now.
fn wait_two_cycles(daemon: &Daemon, deadline: Duration) {
    let seen = daemon.cycle_id();
    wait_until(deadline, "a new cycle", || daemon.cycle_id() > seen + 1);
}

// ---------------------------------------------------------------------------------
// The fixture: several APIs, 200 desired integration responses, live responses to
// update, to prune and to leave alone.

/// The comparable part of an integration response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Ir {
    selection_pattern: Option<String>,
    templates: BTreeMap<String, String>,
    parameters: BTreeMap<String, String>,
    content_handling: Option<String>,
}

impl Ir {
    fn spec(&self, api: &str, path: &str, method: &str, code: &str) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let mut doc = format!(
            "kind: IntegrationResponse\nrestApiName: {api}\nresourcePath: {path}\nhttpMethod: {method}\nstatusCode: \"{code}\"\n"
        );
        if let Some(p) = &self.selection_pattern {
            doc += &format!("selectionPattern: {}\n", q(p));
        }
        if !self.parameters.is_empty() {
            doc += "responseParameters:\n";
            for (k, v) in &self.parameters {
                doc += &format!("  {k}: {}\n", q(v));
            }
        }
        if !self.templates.is_empty() {
            doc += "responseTemplates:\n";
            for (k, v) in &self.templates {
                doc += &format!("  {k}: {}\n", q(v));
            }
        }
        if let Some(c) = &self.content_handling {
            doc += &format!("contentHandling: {c}\n");
        }
        doc
    }

    async fn put(&self, client: &Client, key: &str) {
        let [api, res, method, code] = split_key(key);
        client
            .put_integration_response()
            .rest_api_id(api)
            .resource_id(res)
            .http_method(method)
            .status_code(code)
            .set_selection_pattern(self.selection_pattern.clone())
            .set_response_templates(
                (!self.templates.is_empty()).then(|| self.templates.clone().into_iter().collect()),
            )
            .set_response_parameters(
                (!self.parameters.is_empty())
                    .then(|| self.parameters.clone().into_iter().collect()),
            )
            .send()
            .await
            .unwrap();
    }
}

fn split_key(key: &str) -> [&str; 4] {
    let parts: Vec<&str> = key.split('/').collect();
    [parts[0], parts[1], parts[2], parts[3]]
}

fn json_template(api: &str, path: &str, method: &str, code: &str, version: &str) -> Ir {
    Ir {
        templates: BTreeMap::from([(
            "application/json".to_owned(),
            format!(
                "{{\"api\":\"{api}\",\"path\":\"{path}\",\"method\":\"{method}\",\"code\":{code},\"v\":\"{version}\"}}"
            ),
        )]),
        ..Ir::default()
    }
}

/// Keys are `apiId/resourceId/METHOD/status`, the proxy's format.
struct Scenario {
    desired_dir: tempfile::TempDir,
    api_ids: Vec<String>,
    desired: BTreeMap<String, Ir>,
    managed_methods: BTreeSet<String>,
    unmanaged: BTreeMap<String, Ir>,
    expected_deletes: BTreeSet<String>,
    expected_updates: usize,
}

const DESIRED_CODES: [&str; 4] = ["200", "400", "404", "500"];

/// 3 APIs, 25 resources with GET and POST (50 managed methods) and 4 desired
/// responses each: 200 desired. Before the run: 30 of them live with an old template
/// (updates), 20 live and already right, 20 stale 503 responses on managed methods
/// (pruned), and 9 responses on methods no spec names (left alone).
async fn scenario(client: &Client) -> Scenario {
    let mut desired = BTreeMap::new();
    let mut managed_methods = BTreeSet::new();
    let mut unmanaged = BTreeMap::new();
    let mut expected_deletes = BTreeSet::new();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut api_ids = Vec::new();
    let mut method_index = 0;
    let mut expected_updates = 0;
    for (name, resources) in [("faults-a", 9), ("faults-b", 8), ("faults-c", 8)] {
        let api = create_api(client, name).await;
        api_ids.push(api.api_id.clone());
        let file = files.entry(format!("{name}.yaml")).or_default();
        for r in 0..resources {
            let path = format!("/r{r}");
            let res = create_resource(client, &api.api_id, &api.root_id, &path[1..]).await;
            for method in ["GET", "POST"] {
                create_method(
                    client,
                    &api.api_id,
                    &res,
                    method,
                    &["200", "400", "404", "500", "503"],
                )
                .await;
                if method == "POST" {
                    common::declare_headers(
                        client,
                        &api.api_id,
                        &res,
                        method,
                        "200",
                        &["X-Request-Id"],
                    )
                    .await;
                }
                let i = method_index;
                method_index += 1;
                managed_methods.insert(format!("{}/{res}/{method}", api.api_id));
                for code in DESIRED_CODES {
                    let key = format!("{}/{res}/{method}/{code}", api.api_id);
                    let mut ir = json_template(name, &path, method, code, "desired");
                    match code {
                        "200" if method == "POST" => {
                            ir.parameters.insert(
                                "method.response.header.X-Request-Id".into(),
                                "integration.response.header.x-amzn-RequestId".into(),
                            );
                        }
                        "200" => {}
                        "500" => {
                            ir.selection_pattern = Some("5\\d{2}".into());
                            ir.content_handling = Some("CONVERT_TO_TEXT".into());
                        }
                        other => ir.selection_pattern = Some(other.into()),
                    }
                    if !file.is_empty() {
                        file.push_str("---\n");
                    }
                    file.push_str(&ir.spec(name, &path, method, code));
                    // Live before the run: 30 outdated, 20 already right.
                    if code == "200" && i < 30 {
                        json_template(name, &path, method, code, "old")
                            .put(client, &key)
                            .await;
                        expected_updates += 1;
                    }
                    if code == "404" && i >= 30 {
                        ir.put(client, &key).await;
                    }
                    desired.insert(key, ir);
                }
                // Stale responses on managed methods: pruned.
                if i < 20 {
                    let key = format!("{}/{res}/{method}/503", api.api_id);
                    let mut stale = json_template(name, &path, method, "503", "stale");
                    stale.selection_pattern = Some("503".into());
                    stale.put(client, &key).await;
                    expected_deletes.insert(key);
                }
            }
            // A method no spec names on a managed resource: left alone.
            if r == 0 {
                create_method(client, &api.api_id, &res, "OPTIONS", &["200"]).await;
                let key = format!("{}/{res}/OPTIONS/200", api.api_id);
                let ir = json_template(name, &path, "OPTIONS", "200", "unmanaged");
                ir.put(client, &key).await;
                unmanaged.insert(key, ir);
            }
        }
        // A resource no spec names: left alone.
        let res = create_resource(client, &api.api_id, &api.root_id, "unmanaged").await;
        create_method(client, &api.api_id, &res, "GET", &["200", "500"]).await;
        for code in ["200", "500"] {
            let key = format!("{}/{res}/GET/{code}", api.api_id);
            let mut ir = json_template(name, "/unmanaged", "GET", code, "unmanaged");
            if code == "500" {
                ir.selection_pattern = Some("5\\d{2}".into());
            }
            ir.put(client, &key).await;
            unmanaged.insert(key, ir);
        }
    }
    assert_eq!(desired.len(), 200);
    let desired_dir = tempfile::tempdir().unwrap();
    for (name, text) in &files {
        std::fs::write(desired_dir.path().join(name), text).unwrap();
    }
    Scenario {
        desired_dir,
        api_ids,
        desired,
        managed_methods,
        unmanaged,
        expected_deletes,
        expected_updates,
    }
}

/// Every integration response of the scenario's APIs, read directly from moto.
async fn live_state(client: &Client, api_ids: &[String]) -> BTreeMap<String, Ir> {
    let mut out = BTreeMap::new();
    for api in api_ids {
        let resources = client
            .get_resources()
            .rest_api_id(api)
            .embed("methods")
            .limit(500)
            .send()
            .await
            .unwrap();
        for r in resources.items() {
            let res = r.id().unwrap();
            for (method, m) in r.resource_methods().into_iter().flatten() {
                let responses = m
                    .method_integration()
                    .and_then(|i| i.integration_responses())
                    .into_iter()
                    .flatten();
                for (code, ir) in responses {
                    let sorted = |m: Option<&std::collections::HashMap<String, String>>| {
                        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default()
                    };
                    out.insert(
                        format!("{api}/{res}/{method}/{code}"),
                        Ir {
                            selection_pattern: ir
                                .selection_pattern()
                                .filter(|p| !p.is_empty())
                                .map(str::to_owned),
                            templates: sorted(ir.response_templates()),
                            parameters: sorted(ir.response_parameters()),
                            content_handling: ir.content_handling().map(|c| c.as_str().to_owned()),
                        },
                    );
                }
            }
        }
    }
    out
}

impl Scenario {
    /// Differences between the live state and what it must be: exactly the desired
    /// responses on managed methods, the unmanaged ones untouched. Empty = converged.
    async fn differences(&self, client: &Client) -> Vec<String> {
        let live = live_state(client, &self.api_ids).await;
        let mut problems = Vec::new();
        for (key, want) in &self.desired {
            match live.get(key) {
                None => problems.push(format!("{key}: missing")),
                Some(got) if got != want => {
                    problems.push(format!("{key}: live {got:?} != desired {want:?}"))
                }
                Some(_) => {}
            }
        }
        for (key, want) in &self.unmanaged {
            if live.get(key) != Some(want) {
                problems.push(format!(
                    "{key}: unmanaged response changed: {:?}",
                    live.get(key)
                ));
            }
        }
        for key in live.keys() {
            let method = key.rsplit_once('/').unwrap().0;
            if self.managed_methods.contains(method) && !self.desired.contains_key(key) {
                problems.push(format!("{key}: live on a managed method but not desired"));
            }
        }
        problems
    }

    /// Prune on, room for the 20 deletes, a 1 s connect timeout, `attempt` per try.
    fn config(&self, attempt: &str, extra: &str) -> String {
        format!(
            "region: us-east-1\nprune: true\nmaxDeletesPerCycle: 100\ntimeouts:\n  connect: 1s\n  attempt: {attempt}\n{extra}"
        )
    }
}

/// The plan's actions as (action, key).
fn plan_actions(out: &Output) -> (serde_json::Value, BTreeSet<(String, String)>) {
    let doc: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", show(out)));
    let actions = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |f: &str| a[f].as_str().unwrap().to_owned();
            (
                s("action"),
                format!(
                    "{}/{}/{}/{}",
                    s("restApiId"),
                    s("resourceId"),
                    s("httpMethod"),
                    s("statusCode")
                ),
            )
        })
        .collect();
    (doc["summary"].clone(), actions)
}

/// `rate` of every operation's calls faulted, uniformly over the retryable kinds;
/// slow answers held `slow_for` (longer than the client's attempt timeout).
fn retryable_faults(rate: f64, slow_for: Duration) -> FaultPlan {
    FaultPlan::none()
        .rule(Rule::all(rate, &Fault::RETRYABLE))
        .slow_for(slow_for)
}

/// One line per fault kind and operation, for the logs and the report.
fn describe_stats(stats: &Stats) -> String {
    let mut out = format!(
        "received {} requests, injected {} faults\n",
        stats.received(),
        stats.injected_total()
    );
    for ((fault, op), n) in stats.injected_by_kind_and_op() {
        out += &format!("  {fault:?} on {op:?}: {n}\n");
    }
    for (op, n) in stats.forwarded_by_op() {
        out += &format!("  forwarded {op:?}: {n}\n");
    }
    out
}

/// Every DELETE that reached moto was one the plan asked for.
fn assert_deletes_planned(stats: &Stats, planned: &BTreeSet<String>) {
    let forwarded = stats.forwarded_deletes();
    let unplanned: Vec<&String> = forwarded.iter().filter(|k| !planned.contains(*k)).collect();
    assert!(
        unplanned.is_empty(),
        "DELETEs reached moto outside the plan: {unplanned:?}"
    );
    let reached: BTreeSet<&String> = forwarded.iter().collect();
    assert_eq!(
        reached.len(),
        planned.len(),
        "every planned delete reached moto at least once"
    );
}

#[track_caller]
fn assert_every_kind_injected(stats: &Stats, kinds: &[Fault]) {
    let by_kind = stats.injected_by_kind();
    for kind in kinds {
        assert!(
            by_kind.get(kind).copied().unwrap_or(0) >= 1,
            "{kind:?} was never injected: {}",
            describe_stats(stats)
        );
    }
}

// ---------------------------------------------------------------------------------
// a. `apply` repeated through 20% faults converges to exactly the desired state.

#[tokio::test(flavor = "multi_thread")]
async fn apply_repeated_through_twenty_percent_faults_converges_exactly() {
    let moto = Moto::start();
    let client = moto.client().await;
    let s = scenario(&client).await;
    let proxy = Proxy::start(&moto.endpoint, 0xA11CE, FaultPlan::none());
    // The one-shot commands honour rateLimit too; the default (5/s, API Gateway's
    // account quota) would make 250 calls take 50 s.
    let config = s.config("1s", "rateLimit:\n  requestsPerSecond: 200\n  burst: 200\n");
    let dir = s.desired_dir.path();

    // The plan, without faults: what may be deleted.
    let out = cli(&proxy.url, dir, &config, &["plan", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let (summary, actions) = plan_actions(&out);
    assert_eq!(
        summary,
        serde_json::json!({"create": 150, "update": s.expected_updates, "delete": 20, "blocked": 0}),
        "{}",
        show(&out)
    );
    let planned_deletes: BTreeSet<String> = actions
        .iter()
        .filter(|(a, _)| a == "delete")
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(planned_deletes, s.expected_deletes);

    // 20% of every operation's calls faulted.
    proxy.set_plan(retryable_faults(0.2, Duration::from_millis(1500)));
    let started = Instant::now();
    let mut exits = Vec::new();
    for _ in 0..15 {
        let out = cli(&proxy.url, dir, &config, &["apply"]);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "apply crashed or gave an unexpected exit code:\n{}",
            show(&out)
        );
        exits.push(code.unwrap());
        if code == Some(0) {
            break;
        }
    }
    let elapsed = started.elapsed();
    let stats = proxy.stats();
    eprintln!(
        "apply runs: {exits:?} in {elapsed:?}\n{}",
        describe_stats(&stats)
    );
    assert_eq!(
        exits.last(),
        Some(&0),
        "apply did not converge in 15 runs: {exits:?}\n{}",
        describe_stats(&stats)
    );

    // Converged: a plan without faults shows nothing to do, and moto agrees.
    proxy.set_plan(FaultPlan::none());
    let out = cli(&proxy.url, dir, &config, &["plan", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let problems = s.differences(&client).await;
    assert!(problems.is_empty(), "live != desired:\n{problems:#?}");
    assert_deletes_planned(&stats, &planned_deletes);
    assert_every_kind_injected(&stats, &Fault::RETRYABLE);
    let faulted = stats.injected_total() as f64 / stats.received() as f64;
    assert!(
        (0.12..0.28).contains(&faulted),
        "about 20% faulted: {faulted}"
    );
}

// ---------------------------------------------------------------------------------
// b. The daemon through 20% faults: converges, and every fault is in the metrics.

#[tokio::test(flavor = "multi_thread")]
async fn daemon_through_twenty_percent_faults_converges_and_counts_every_fault() {
    let moto = Moto::start();
    let client = moto.client().await;
    let s = scenario(&client).await;
    // A 2 s attempt timeout (slow answers held 2.5 s): the metrics are compared one
    // for one with the injected faults, so a loaded machine must not add timeouts of
    // its own.
    let proxy = Proxy::start(
        &moto.endpoint,
        0xB0B,
        retryable_faults(0.2, Duration::from_millis(2500)),
    );
    let config = s.config(
        "2s",
        "interval: 1s\nbackoff:\n  initial: 100ms\n  max: 1s\nrateLimit:\n  requestsPerSecond: 200\n  burst: 200\n",
    );
    let started = Instant::now();
    let daemon = start_daemon(&proxy.url, s.desired_dir.path(), &config);
    let deadline = Duration::from_secs(120);
    loop {
        let status = daemon.status();
        if status["lastCycle"]["result"] == "converged" && s.differences(&client).await.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < deadline,
            "not converged after {deadline:?}: {}\n{:#?}\n{}\n{}",
            status["lastCycle"],
            s.differences(&client).await,
            describe_stats(&proxy.stats()),
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let converged_after = started.elapsed();

    // Faults off; two more cycles so that every request made under faults has been
    // answered and counted by a finished cycle.
    proxy.set_plan(FaultPlan::none());
    wait_two_cycles(&daemon, Duration::from_secs(30));
    let stats = proxy.stats();
    let m = daemon.metrics();
    eprintln!(
        "daemon converged after {converged_after:?}\n{}\n{}",
        describe_stats(&stats),
        m.lines()
            .filter(|l| l.contains("api_errors")
                || l.contains("throttles")
                || l.contains("api_calls")
                || l.contains("actions_total")
                || l.contains("cycles_total"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let status = daemon.status();
    assert_eq!(status["lastCycle"]["result"], "converged", "{status:#}");
    let problems = s.differences(&client).await;
    assert!(problems.is_empty(), "live != desired:\n{problems:#?}");
    assert_deletes_planned(&stats, &s.expected_deletes);
    assert_every_kind_injected(&stats, &Fault::RETRYABLE);

    // Every fault shows in the metrics, one for one; all mismatches reported at once.
    let injected = |f: Fault| stats.injected(f) as f64;
    let n429 = injected(Fault::TooManyRequests) + injected(Fault::LimitExceeded);
    let errors = |kind: &str| format!("apigw_reconciler_api_errors_total{{kind=\"{kind}\"}}");
    let expected = [
        ("apigw_reconciler_throttles_total".to_owned(), n429),
        (errors("http_429"), n429),
        (errors("http_409"), injected(Fault::ConflictRetryLater)),
        // moto's own 500s (deleting a response a late, slow DELETE already removed)
        // are counted too.
        (errors("http_500"), stats.answered_with(500) as f64),
        (errors("http_502"), injected(Fault::Status502)),
        (errors("http_503"), injected(Fault::Status503)),
        (errors("timeout"), injected(Fault::Slow)),
        (errors("connection"), injected(Fault::Reset)),
        (errors("bad_response"), injected(Fault::Truncated)),
        // Every attempt the proxy saw was counted by the client.
        (
            "apigw_reconciler_api_calls_total".to_owned(),
            stats.received() as f64,
        ),
        ("apigw_reconciler_failing ".to_owned(), 0.0),
        ("apigw_reconciler_blocked ".to_owned(), 0.0),
    ];
    let mismatches: Vec<String> = expected
        .iter()
        .filter(|(name, want)| metric(&m, name) != *want)
        .map(|(name, want)| {
            let got = if m.lines().any(|l| l.starts_with(name.as_str())) {
                metric(&m, name).to_string()
            } else {
                "no such sample".to_owned()
            };
            format!(
                "{}: /metrics: {got}; expected from the proxy: {want}",
                name.trim()
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "metrics disagree with the faults injected:\n{}\n\n{}",
        mismatches.join("\n"),
        describe_stats(&stats)
    );
}

// ---------------------------------------------------------------------------------
// c. Terminal refusals are not retried forever and are reported per key.

/// One API `terminal` with /t, GET and POST, method responses 200/400/500, and the
/// specs of the six integration responses. Returns (api id, resource id, dir).
async fn small_fixture(
    client: &Client,
    name: &str,
    version: &str,
) -> (String, String, tempfile::TempDir) {
    let api = create_api(client, name).await;
    let res = create_resource(client, &api.api_id, &api.root_id, "t").await;
    let mut docs = Vec::new();
    for method in ["GET", "POST"] {
        create_method(client, &api.api_id, &res, method, &["200", "400", "500"]).await;
        for code in ["200", "400", "500"] {
            let mut ir = json_template(name, "/t", method, code, version);
            if code != "200" {
                ir.selection_pattern = Some(code.into());
            }
            docs.push(ir.spec(name, "/t", method, code));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), docs.join("---\n")).unwrap();
    (api.api_id, res, dir)
}

fn key_status<'a>(status: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    let [api, res, method, code] = split_key(key);
    status["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| {
            k["restApiId"] == api
                && k["resourceId"] == res
                && k["httpMethod"] == method
                && k["statusCode"] == code
        })
        .unwrap_or_else(|| panic!("{key} not in /status: {status:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_writes_are_terminal_per_key_not_retried_forever() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res, dir) = small_fixture(&client, "terminal", "v1").await;
    let conflict = format!("{api}/{res}/GET/400");
    let bad = format!("{api}/{res}/POST/500");
    let plan = FaultPlan::none()
        .rule(Rule::key(
            Op::PutIntegrationResponse,
            &conflict,
            Fault::Conflict,
        ))
        .rule(Rule::key(
            Op::PutIntegrationResponse,
            &bad,
            Fault::BadRequest,
        ));
    let proxy = Proxy::start(&moto.endpoint, 0xC0FFEE, plan);
    let config = "region: us-east-1\ninterval: 1s\nbackoff:\n  initial: 100ms\n  max: 1s\nrateLimit:\n  requestsPerSecond: 200\n  burst: 200\ntimeouts:\n  connect: 1s\n  attempt: 1s\n";
    let daemon = start_daemon(&proxy.url, dir.path(), config);
    wait_until(Duration::from_secs(40), "10 cycles", || {
        daemon.cycle_id() >= 10
    });

    let stats = proxy.stats();
    let status = daemon.status();
    let m = daemon.metrics();
    let conflict_puts = stats.requests_for(Op::PutIntegrationResponse, &conflict);
    let bad_puts = stats.requests_for(Op::PutIntegrationResponse, &bad);
    eprintln!(
        "over {} cycles: {conflict_puts} PUTs answered 409 ConflictException, {bad_puts} answered 400 BadRequestException\n{}",
        status["lastCycle"]["id"],
        describe_stats(&stats)
    );
    // The other four converged.
    for method in ["GET", "POST"] {
        for code in ["200", "400", "500"] {
            let key = format!("{api}/{res}/{method}/{code}");
            if key == conflict || key == bad {
                continue;
            }
            assert_eq!(key_status(&status, &key)["state"], "in_sync", "{status:#}");
            assert!(
                common::get_ir(&client, &api, &res, method, code)
                    .await
                    .is_some()
            );
        }
    }
    // The refused two: failed, with API Gateway's error.
    for (key, code) in [
        (&conflict, "ConflictException"),
        (&bad, "BadRequestException"),
    ] {
        let k = key_status(&status, key);
        assert_eq!(k["state"], "failed", "{status:#}");
        assert!(
            k["lastError"].as_str().unwrap_or("").contains(code),
            "{key}: {k:#}"
        );
    }
    assert_eq!(metric(&m, "apigw_reconciler_failing "), 2.0, "{m}");
    let log = daemon.log();
    let log_summary = format!(
        "daemon log: {} \"will retry\" lines, {} \"rejected, not retried\" lines",
        log.matches("will retry").count(),
        log.matches("rejected, not retried").count()
    );
    drop(daemon);

    // `apply` exits 1 and names both keys and the errors.
    let out = cli(&proxy.url, dir.path(), config, &["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "terminal (",
        "/t GET 400",
        "ConflictException",
        "/t POST 500",
        "BadRequestException",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{}", show(&out));
    }
    // And not written again each cycle: the SDK does not retry 400/409 and the daemon
    // keeps a refusal until the spec changes (or SIGHUP / POST /reconcile), so one PUT
    // each is the design; 2 is the "small bounded number", far below one per cycle.
    assert!(
        conflict_puts <= 2 && bad_puts <= 2,
        "refused writes retried over {} cycles: {conflict_puts} PUTs of {conflict} (409 ConflictException), \
         {bad_puts} PUTs of {bad} (400 BadRequestException)\n{}",
        status["lastCycle"]["id"],
        log_summary
    );
}

// ---------------------------------------------------------------------------------
// d. A LimitExceededException storm: the daemon backs off instead of hammering.

#[tokio::test(flavor = "multi_thread")]
async fn limit_exceeded_storm_backs_off_then_converges() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res, dir) = small_fixture(&client, "storm", "v1").await;
    let storm = |ops: &[Op]| FaultPlan::none().rule(Rule::ops(ops, 1.0, &[Fault::LimitExceeded]));
    let proxy = Proxy::start(&moto.endpoint, 0xD00D, storm(&[]));
    let config = "region: us-east-1\ninterval: 1s\nbackoff:\n  initial: 100ms\n  max: 1s\nrateLimit:\n  requestsPerSecond: 200\n  burst: 200\ntimeouts:\n  connect: 1s\n  attempt: 1s\n";
    let window = Duration::from_secs(6);

    // Window 1: every call throttled, from the daemon's start (the fetch fails).
    let t0 = Instant::now();
    let daemon = start_daemon(&proxy.url, dir.path(), config);
    std::thread::sleep(window.saturating_sub(t0.elapsed()));
    proxy.set_plan(FaultPlan::none());
    let fetch_storm = proxy.stats().received_between(t0, t0 + window);
    let all_in = |version: &'static str| {
        let client = client.clone();
        let (api, res) = (api.clone(), res.clone());
        async move {
            for method in ["GET", "POST"] {
                for code in ["200", "400", "500"] {
                    let got = common::get_ir(&client, &api, &res, method, code)
                        .await
                        .and_then(|ir| ir.response_templates()?.get("application/json").cloned());
                    if !got.is_some_and(|t| t.contains(&format!("\"v\":\"{version}\""))) {
                        return false;
                    }
                }
            }
            true
        }
    };
    let recovered = Instant::now();
    common::wait_live(
        Duration::from_secs(60),
        "convergence after the storm",
        || all_in("v1"),
    )
    .await;
    let recovery1 = recovered.elapsed();

    // Window 2: reads pass, every write throttled: the executor's writes are the
    // ones that must not hammer.
    proxy.set_plan(storm(&[
        Op::PutIntegrationResponse,
        Op::DeleteIntegrationResponse,
    ]));
    let t1 = Instant::now();
    let text = std::fs::read_to_string(dir.path().join("api.yaml")).unwrap();
    std::fs::write(
        dir.path().join("api.yaml"),
        text.replace(r#"\"v1\""#, r#"\"v2\""#),
    )
    .unwrap();
    std::thread::sleep(window);
    proxy.set_plan(FaultPlan::none());
    let write_storm = proxy.stats().received_between(t1, t1 + window);
    let recovered = Instant::now();
    common::wait_live(
        Duration::from_secs(90),
        "convergence after the write storm",
        || all_in("v2"),
    )
    .await;
    let recovery2 = recovered.elapsed();
    wait_two_cycles(&daemon, Duration::from_secs(30));
    let stats = proxy.stats();
    let m = daemon.metrics();
    eprintln!(
        "storm windows of {window:?}: {fetch_storm} requests with every call throttled (recovered in {recovery1:?}), \
         {write_storm} with every write throttled (recovered in {recovery2:?}); hammering at rateLimit would be {}\n{}\nthrottles_total {}",
        200 * window.as_secs(),
        describe_stats(&stats),
        metric(&m, "apigw_reconciler_throttles_total")
    );
    // Bounds. The SDK makes at most 5 attempts per call, spaced by its throttling
    // backoff (full jitter on 1 s, 2 s, 4 s, 8 s: 7.5 s expected per call).
    // Window 1: a failed fetch ends the cycle and the next waits for the tick (1 s,
    // jitter 10%), so even with zero backoff at most 7 cycles x 5 attempts = 35 fit in
    // 6 s; expected ~5. Window 2: the reads of one cycle, then each write's 5 attempts
    // spaced by the same backoff, and the failed key waits for its per-key backoff;
    // expected ~5 in 6 s, 35 is seven times that. A client that hammered would send
    // up to 1200 (rateLimit 200/s).
    assert!(
        fetch_storm <= 35,
        "{fetch_storm} requests in {window:?}\n{}",
        daemon.log()
    );
    assert!(
        write_storm <= 35,
        "{write_storm} requests in {window:?}\n{}",
        daemon.log()
    );
    assert_eq!(
        metric(&m, "apigw_reconciler_throttles_total"),
        stats.injected(Fault::LimitExceeded) as f64,
        "every throttled answer is counted\n{m}"
    );
}
