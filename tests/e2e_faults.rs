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
use common::{
    Daemon, Moto, create_api, create_method, create_resource, metric, metric_or_zero, show,
    wait_until,
};
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

/// No faults; a DELETE of what is already gone is answered as AWS answers it (404
/// NotFoundException), not with moto's 500.
fn no_faults() -> FaultPlan {
    FaultPlan::none().aws_missing_delete()
}

/// `rate` of every operation's calls faulted, uniformly over the retryable kinds;
/// slow answers held `slow_for` (longer than the client's attempt timeout). A retried
/// DELETE that finds its response already gone (an earlier attempt landed) gets AWS's
/// 404.
fn retryable_faults(rate: f64, slow_for: Duration) -> FaultPlan {
    no_faults()
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
    let proxy = Proxy::start(&moto.endpoint, 0xA11CE, no_faults());
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
    proxy.set_plan(no_faults());
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
    proxy.set_plan(no_faults());
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
        // 500s that are moto's own are counted too.
        (errors("http_500"), stats.answered_with(500) as f64),
        // A DELETE retried after its first attempt landed (a slow one) finds the
        // response gone: AWS's 404, which the executor takes as done.
        (errors("http_404"), stats.answered_with(404) as f64),
        (errors("http_502"), injected(Fault::Status502)),
        (errors("http_503"), injected(Fault::Status503)),
        (errors("timeout"), injected(Fault::Slow)),
        (errors("connection"), injected(Fault::Reset)),
        (errors("bad_response"), stats.truncated_successes() as f64),
        // Every attempt the proxy saw was counted by the client.
        (
            "apigw_reconciler_api_calls_total".to_owned(),
            stats.received() as f64,
        ),
        ("apigw_reconciler_failing ".to_owned(), 0.0),
        ("apigw_reconciler_blocked ".to_owned(), 0.0),
    ];
    // A kind never seen has no sample yet (0); its metric family must exist.
    let mismatches: Vec<String> = expected
        .iter()
        .filter(|(name, want)| metric_or_zero(&m, name) != *want)
        .map(|(name, want)| {
            format!(
                "{}: /metrics: {}; expected from the proxy: {want}",
                name.trim(),
                metric_or_zero(&m, name)
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

/// The attempts of each SDK call (one `amz-sdk-invocation-id`) of `op`, in order of
/// the call's first attempt: (attempt number, arrival) of each.
fn calls_of(stats: &Stats, op: Op) -> Vec<Vec<(u32, Instant)>> {
    let mut order: Vec<String> = Vec::new();
    let mut calls: BTreeMap<String, Vec<(u32, Instant)>> = BTreeMap::new();
    for r in stats.of(op) {
        let id = r
            .invocation
            .clone()
            .unwrap_or_else(|| panic!("no amz-sdk-invocation-id on {r:?}"));
        let attempt = r
            .attempt
            .unwrap_or_else(|| panic!("no amz-sdk-request attempt on {r:?}"));
        if !calls.contains_key(&id) {
            order.push(id.clone());
        }
        calls.entry(id).or_default().push((attempt, r.at));
    }
    order
        .into_iter()
        .map(|id| calls.remove(&id).unwrap())
        .collect()
}

/// A call the SDK retried to its limit: attempts 1..=5, each throttled.
#[track_caller]
fn assert_retried_to_the_limit(call: &[(u32, Instant)], what: &str) {
    let attempts: Vec<u32> = call.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        attempts,
        [1, 2, 3, 4, 5],
        "{what}: the SDK retries a throttled call, at most 5 attempts in all"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_exceeded_storm_backs_off_then_converges() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res, dir) = small_fixture(&client, "storm", "v1").await;
    let storm = |ops: &[Op]| FaultPlan::none().rule(Rule::ops(ops, 1.0, &[Fault::LimitExceeded]));
    let proxy = Proxy::start(&moto.endpoint, 0xD00D, storm(&[]));
    // A failed key waits backoff.initial x 50..100% before its next try: at least 2 s,
    // well over the interval tick (1 s, jitter 10%).
    let config = "region: us-east-1\ninterval: 1s\nbackoff:\n  initial: 4s\n  max: 4s\nrateLimit:\n  requestsPerSecond: 200\n  burst: 200\ntimeouts:\n  connect: 1s\n  attempt: 1s\n";
    // Hang guards only: each storm ends on a condition.
    let deadline = Duration::from_secs(120);
    let template = |method: &str, code: &str| {
        let client = client.clone();
        let (api, res) = (api.clone(), res.clone());
        let (method, code) = (method.to_owned(), code.to_owned());
        async move {
            common::get_ir(&client, &api, &res, &method, &code)
                .await
                .and_then(|ir| ir.response_templates()?.get("application/json").cloned())
                .unwrap_or_default()
        }
    };

    // Storm 1: every call throttled from the daemon's start, so every cycle's first
    // call (GetRestApis) fails. It lasts until a second cycle has started under it.
    let daemon = start_daemon(&proxy.url, dir.path(), config);
    wait_until(deadline, "a second cycle under the storm", || {
        calls_of(&proxy.stats(), Op::GetRestApis).len() >= 2
    });
    let storm1 = proxy.stats();
    proxy.set_plan(FaultPlan::none());
    let lists = calls_of(&storm1, Op::GetRestApis);
    assert!(
        storm1.records.iter().all(|r| r.op == Op::GetRestApis),
        "a failed list ends the cycle: {}",
        describe_stats(&storm1)
    );
    // The first cycle's call was retried (lower bound) and given up after 5 attempts
    // (upper bound); the next cycle waited for its interval tick (1 s, jitter 10%)
    // instead of starting at once.
    assert_retried_to_the_limit(&lists[0], "GetRestApis under the storm");
    let tick_wait = lists[1][0].1 - lists[0].last().unwrap().1;
    assert!(
        tick_wait >= Duration::from_millis(900),
        "the next cycle started {tick_wait:?} after the failed one"
    );
    common::wait_live(deadline, "convergence after the storm", || async {
        for method in ["GET", "POST"] {
            for code in ["200", "400", "500"] {
                if !template(method, code).await.contains("\"v\":\"v1\"") {
                    return false;
                }
            }
        }
        true
    })
    .await;

    // Storm 2: reads pass, every write throttled, after a spec edit that changes one
    // response (GET 200). It lasts until that key's write has been tried by a second
    // cycle.
    proxy.set_plan(storm(&[
        Op::PutIntegrationResponse,
        Op::DeleteIntegrationResponse,
    ]));
    let before = proxy.stats().received();
    let key = format!("{api}/{res}/GET/200");
    let text = std::fs::read_to_string(dir.path().join("api.yaml")).unwrap();
    let edited = text.replace(
        r#"\"method\":\"GET\",\"code\":200,\"v\":\"v1\""#,
        r#"\"method\":\"GET\",\"code\":200,\"v\":\"v2\""#,
    );
    assert_ne!(edited, text);
    std::fs::write(dir.path().join("api.yaml"), edited).unwrap();
    let puts_of_key = |stats: &Stats| {
        let only = Stats {
            records: stats.records[before..]
                .iter()
                .filter(|r| r.key.as_deref() == Some(key.as_str()))
                .cloned()
                .collect(),
        };
        calls_of(&only, Op::PutIntegrationResponse)
    };
    wait_until(
        deadline,
        "the throttled write tried again by a later cycle",
        || puts_of_key(&proxy.stats()).len() >= 2,
    );
    let storm2 = proxy.stats();
    proxy.set_plan(FaultPlan::none());
    let puts = puts_of_key(&storm2);
    assert_retried_to_the_limit(&puts[0], "the throttled PUT");
    // The key then waited for its own backoff (at least 2 s) before it was tried again,
    // not only for the next tick.
    let key_wait = puts[1][0].1 - puts[0].last().unwrap().1;
    assert!(
        key_wait >= Duration::from_secs(2),
        "the failed key was tried again {key_wait:?} after it failed"
    );
    // Only that key was written.
    assert!(
        storm2.records[before..]
            .iter()
            .filter(|r| r.op == Op::PutIntegrationResponse)
            .all(|r| r.key.as_deref() == Some(key.as_str())),
        "{}",
        describe_stats(&storm2)
    );
    common::wait_live(deadline, "convergence after the write storm", || async {
        template("GET", "200").await.contains("\"v\":\"v2\"")
    })
    .await;

    wait_two_cycles(&daemon, Duration::from_secs(30));
    let stats = proxy.stats();
    let m = daemon.metrics();
    eprintln!(
        "storm 1: {} requests; storm 2: {} requests\n{}\nthrottles_total {}",
        storm1.received(),
        storm2.received() - before,
        describe_stats(&stats),
        metric(&m, "apigw_reconciler_throttles_total")
    );
    let injected = stats.injected(Fault::LimitExceeded);
    assert!(injected >= 10, "two storms of 5 attempts each at least");
    assert_eq!(
        metric(&m, "apigw_reconciler_throttles_total"),
        injected as f64,
        "every throttled answer is counted\n{m}"
    );
}

// ---------------------------------------------------------------------------------
// e. Deleting what is already gone: API Gateway answers 404 NotFoundException, and
// the delete counts as applied.

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_whose_answer_was_lost_is_retried_finds_it_gone_and_counts_as_applied() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = common::seed_scaffold(&client).await;
    let api = api.api_id;
    common::add_method_response(&client, &api, &res, "GET", "500").await;
    let stale = format!("{api}/{res}/GET/500");
    // The first DELETE of the stale response reaches moto (it is deleted), then its
    // answer is lost (connection reset); the SDK retries, and moto no longer has it.
    let lose_first_delete = || {
        no_faults()
            .rule(Rule::key(Op::DeleteIntegrationResponse, &stale, Fault::LostAnswer).times(1))
    };
    let proxy = Proxy::start(&moto.endpoint, 0x404, lose_first_delete());
    let desired = common::desired_dir(&[("api.yaml", &common::seed_spec("v1"))]);
    let config = "region: us-east-1\nprune: true\ntimeouts:\n  connect: 1s\n  attempt: 10s\n";
    let deletes_from = |stats: &Stats, from: usize| -> Vec<faults::Record> {
        stats.records[from..]
            .iter()
            .filter(|r| r.op == Op::DeleteIntegrationResponse)
            .cloned()
            .collect()
    };
    #[track_caller]
    fn assert_lost_then_gone(deletes: &[faults::Record]) {
        assert_eq!(deletes.len(), 2, "{deletes:#?}");
        let (lost, retry) = (&deletes[0], &deletes[1]);
        assert_eq!(lost.fault, Some(Fault::LostAnswer));
        assert!(
            lost.upstream_status
                .is_some_and(|s| (200..300).contains(&s)),
            "the first attempt deleted it: {lost:?}"
        );
        assert_eq!(
            (retry.upstream_status, retry.rewritten_status),
            (Some(500), Some(404)),
            "the retry found it gone (moto's 500, answered as AWS's 404): {retry:?}"
        );
        assert_eq!(
            (lost.attempt, retry.attempt),
            (Some(1), Some(2)),
            "one call, retried by the SDK"
        );
        assert_eq!(lost.invocation, retry.invocation);
    }

    // `apply`: exit 0, the delete reported as done.
    common::put_live(&client, &api, &res, "GET", "500", Some("5\\d{2}")).await;
    let out = cli(&proxy.url, desired.path(), config, &["apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = common::stdout(&out);
    assert!(
        text.contains("Apply: 1 created, 0 updated, 1 deleted, 0 failed, 0 blocked"),
        "{}",
        show(&out)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("deleted") && l.contains("/mydemoresource GET 500")),
        "{}",
        show(&out)
    );
    assert_lost_then_gone(&deletes_from(&proxy.stats(), 0));
    assert!(
        common::get_ir(&client, &api, &res, "GET", "500")
            .await
            .is_none()
    );

    // The daemon: the same, in its metrics.
    common::put_live(&client, &api, &res, "GET", "500", Some("5\\d{2}")).await;
    proxy.set_plan(lose_first_delete());
    let from = proxy.stats().received();
    let daemon = start_daemon(
        &proxy.url,
        desired.path(),
        &format!("{config}interval: 1h\n"),
    );
    let actions = |outcome: &str| {
        format!("apigw_reconciler_actions_total{{kind=\"delete\",outcome=\"{outcome}\"}}")
    };
    // The prune delete runs once a second evaluation of the unchanged files wants it.
    wait_until(Duration::from_secs(30), "the prune delete", || {
        daemon.metric_or_zero(&actions("applied")) + daemon.metric_or_zero(&actions("failed"))
            >= 1.0
    });
    let status = daemon.status();
    assert_eq!(status["lastCycle"]["result"], "converged", "{status:#}");
    assert_eq!(status["lastCycle"]["deleted"], 1, "{status:#}");
    assert_lost_then_gone(&deletes_from(&proxy.stats(), from));
    let m = daemon.metrics();
    assert_eq!(metric(&m, &actions("applied")), 1.0, "{m}");
    assert_eq!(metric_or_zero(&m, &actions("failed")), 0.0, "{m}");
    assert_eq!(
        metric(&m, "apigw_reconciler_api_errors_total{kind=\"http_404\"}"),
        1.0,
        "{m}"
    );
    assert!(
        common::get_ir(&client, &api, &res, "GET", "500")
            .await
            .is_none()
    );
}
