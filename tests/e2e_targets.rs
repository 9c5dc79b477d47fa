//! Many accounts and regions from one config (`targets`), end to end against one moto
//! server, which keeps regions apart and maps the credentials AssumeRole returns to
//! the role's account: two regions of the default account (123456789012) and a role in
//! account 222222222222, each holding its own MyDemoAPI.

mod common;
mod faults;

use std::path::Path;
use std::time::Duration;

use aws_sdk_apigateway::Client;
use common::*;
use faults::{FaultPlan, Op, Proxy};

const PARTNER_ROLE: &str = "arn:aws:iam::222222222222:role/apigw-reconciler";

/// A fixture client in `region`, on the test credentials or the role they assume.
async fn client_in(endpoint: &str, region: &str, role: Option<&str>) -> Client {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_apigateway::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    match role {
        None => Client::new(&base),
        Some(arn) => {
            let provider = aws_config::sts::AssumeRoleProvider::builder(arn)
                .session_name("tests")
                .configure(&base)
                .build()
                .await;
            Client::from_conf(
                aws_sdk_apigateway::config::Builder::from(&base)
                    .credentials_provider(provider)
                    .build(),
            )
        }
    }
}

/// The three targets, their fixtures (the seed scaffold in each) and their desired
/// directories under one working directory.
struct Three {
    moto: Moto,
    cwd: tempfile::TempDir,
    /// (name, client, api, resource id)
    targets: Vec<(&'static str, Client, Fixture, String)>,
}

fn config(endpoint: &str) -> String {
    format!(
        "endpointUrl: {endpoint}\ninterval: 1h\ndebounce: 100ms\ntargets:\n\
         - name: prod-us\n  region: us-east-1\n  desiredDir: prod-us\n\
         - name: prod-eu\n  region: eu-west-1\n  desiredDir: prod-eu\n\
         - name: partner\n  region: us-east-1\n  desiredDir: partner\n\
         \x20 assumeRole: {PARTNER_ROLE}\n  externalId: partner-ext\n"
    )
}

impl Three {
    async fn start() -> Three {
        let moto = Moto::start();
        let cwd = tempfile::tempdir().unwrap();
        let mut targets = Vec::new();
        for (name, region, role) in [
            ("prod-us", "us-east-1", None),
            ("prod-eu", "eu-west-1", None),
            ("partner", "us-east-1", Some(PARTNER_ROLE)),
        ] {
            let client = client_in(&moto.endpoint, region, role).await;
            let (api, res) = seed_scaffold(&client).await;
            std::fs::create_dir(cwd.path().join(name)).unwrap();
            targets.push((name, client, api, res));
        }
        let three = Three { moto, cwd, targets };
        for name in ["prod-us", "prod-eu", "partner"] {
            three.write(name, &seed_spec(&format!("{name} v1")));
        }
        three
    }

    fn write(&self, target: &str, text: &str) {
        std::fs::write(self.cwd.path().join(target).join("api.yaml"), text).unwrap();
    }

    fn run(&self, args: &[&str], code: i32) -> std::process::Output {
        let out = run_config(self.cwd.path(), &config(&self.moto.endpoint), args);
        assert_eq!(out.status.code(), Some(code), "{args:?}\n{}", show(&out));
        out
    }

    /// Each target's live template of GET /mydemoresource 200, in config order.
    async fn live(&self) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for (_, client, api, res) in &self.targets {
            out.push(seed_template(client, api, res).await);
        }
        out
    }

    fn dir(&self) -> &Path {
        self.cwd.path()
    }
}

fn v(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn three_targets_are_applied_planned_clean_and_land_in_their_own_account_and_region() {
    let three = Three::start().await;
    let plan = three.run(&["plan"], 2);
    let text = stdout(&plan);
    for heading in [
        "Target prod-us (us-east-1, account 123456789012):",
        "Target prod-eu (eu-west-1, account 123456789012):",
        "Target partner (us-east-1, account 222222222222):",
    ] {
        assert!(text.contains(heading), "{heading}\n{}", show(&plan));
    }
    assert!(
        text.contains("All targets: 3 to create, 0 to update, 0 to delete, 0 blocked (3 targets, 3 with changes, 0 failed)."),
        "{}",
        show(&plan)
    );

    three.run(&["apply"], 0);
    assert_eq!(
        three.live().await,
        vec![v("prod-us v1"), v("prod-eu v1"), v("partner v1")],
        "each target's spec landed in its own account and region, and only there"
    );

    let clean = three.run(&["plan"], 0);
    assert!(
        stdout(&clean).contains("All targets: 0 to create, 0 to update, 0 to delete, 0 blocked (3 targets, 0 with changes, 0 failed)."),
        "{}",
        show(&clean)
    );

    three.write("partner", &seed_spec("partner v2"));
    let json = three.run(&["plan", "--output", "json"], 2);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["update"], 1, "{doc}");
    let targets: Vec<(&str, &str)> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["account"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        targets,
        vec![
            ("prod-us", "123456789012"),
            ("prod-eu", "123456789012"),
            ("partner", "222222222222")
        ]
    );
    assert_eq!(doc["targets"][2]["summary"]["update"], 1, "{doc}");
    let actions = doc["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{doc}");
    assert_eq!(actions[0]["target"], "partner", "{doc}");

    // --target: only that target is read and planned.
    let one = three.run(&["--target", "prod-eu", "plan"], 0);
    assert!(
        stdout(&one).contains("Target prod-eu") && !stdout(&one).contains("Target partner"),
        "{}",
        show(&one)
    );
    let unknown = three.run(&["--target", "nope", "plan"], 1);
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no target named `nope`; the config's targets are prod-us, prod-eu, partner"),
        "{}",
        show(&unknown)
    );
    let export = three.run(&["export", "--rest-api", "MyDemoAPI"], 1);
    assert!(
        String::from_utf8_lossy(&export.stderr).contains("name one with --target NAME"),
        "{}",
        show(&export)
    );
    let exported = three.run(
        &["--target", "partner", "export", "--rest-api", "MyDemoAPI"],
        0,
    );
    assert!(
        stdout(&exported).contains("partner v1"),
        "export reads the partner account: {}",
        show(&exported)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_targets_invalid_specs_do_not_stop_another_targets_change() {
    let three = Three::start().await;
    three.run(&["apply"], 0);
    three.write(
        "prod-eu",
        "kind: IntegrationResponse\nrestApiName: MyDemoAPI\nresourcePath: /mydemoresource\nhttpMethod: GET\nstatusCode: \"20x\"\n",
    );
    three.write("prod-us", &seed_spec("prod-us v2"));
    let apply = three.run(&["apply"], 1);
    let text = stdout(&apply);
    let eu = text.split("Target prod-eu").nth(1).unwrap_or_default();
    assert!(
        eu.contains("error:") && eu.contains("api.yaml:5:"),
        "prod-eu's part names its file and line:\n{}",
        show(&apply)
    );
    assert_eq!(
        three.live().await,
        vec![v("prod-us v2"), v("prod-eu v1"), v("partner v1")],
        "prod-us's change is applied; prod-eu is left as it was"
    );
    let validate = three.run(&["validate"], 1);
    let err = String::from_utf8_lossy(&validate.stderr);
    assert!(
        err.contains("error: target prod-eu:"),
        "{}",
        show(&validate)
    );
    assert!(
        stdout(&validate).contains("target prod-us: prod-us: 1 integration response(s)"),
        "{}",
        show(&validate)
    );
}

/// A target's entry of `/status`.
fn target<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name} in {status}"))
}

/// A fourth target whose API Gateway cannot be reached (a closed port).
const UNREACHABLE: &str = "- name: broken\n  region: us-east-1\n  desiredDir: prod-us\n\
     \x20 endpointUrl: http://127.0.0.1:9\n  timeouts: {connect: 1s, attempt: 1s}\n";

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_converges_every_target_and_a_file_change_touches_only_its_own() {
    let three = Three::start().await;
    let config = config(&three.moto.endpoint) + UNREACHABLE;
    let daemon = start_daemon_in(three.dir(), &config, &[]);
    wait_until(
        Duration::from_secs(60),
        "the three reachable targets ready",
        || {
            let status = daemon.status();
            ["prod-us", "prod-eu", "partner"]
                .iter()
                .all(|name| target(&status, name)["ready"] == true)
        },
    );
    assert_eq!(
        three.live().await,
        vec![v("prod-us v1"), v("prod-eu v1"), v("partner v1")],
        "an unreachable target held no other back"
    );
    wait_until(
        Duration::from_secs(60),
        "/readyz names the unreachable target",
        || {
            let (code, body) = daemon.request("GET", "/readyz");
            code == 503 && body.starts_with("not ready: target broken: ") && !body.contains("prod-")
        },
    );
    assert_eq!(daemon.status()["ready"], false);
    let metrics = daemon.metrics();
    for name in ["prod-us", "prod-eu", "partner"] {
        let series =
            format!("apigw_reconciler_cycles_total{{target=\"{name}\",result=\"converged\"}}");
        assert!(metric(&metrics, &series) >= 1.0, "{series}");
        let puts = format!(
            "apigw_reconciler_api_calls_total{{target=\"{name}\",operation=\"PutIntegrationResponse\"}}"
        );
        assert_eq!(metric(&metrics, &puts), 1.0, "{puts}");
    }

    let before = daemon.status();
    let id = |s: &serde_json::Value, name: &str| target(s, name)["lastCycle"]["id"].as_u64();
    three.write("prod-eu", &seed_spec("prod-eu v2"));
    wait_until(Duration::from_secs(30), "prod-eu's change applied", || {
        id(&daemon.status(), "prod-eu") > id(&before, "prod-eu")
            && target(&daemon.status(), "prod-eu")["lastCycle"]["result"] == "converged"
    });
    assert_eq!(
        three.live().await,
        vec![v("prod-us v1"), v("prod-eu v2"), v("partner v1")]
    );
    let after = daemon.status();
    let reasons = &target(&after, "prod-eu")["lastCycle"]["reasons"];
    assert!(
        reasons
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "file-change"),
        "{after}"
    );
    for other in ["prod-us", "partner"] {
        assert_eq!(
            id(&after, other),
            id(&before, other),
            "a change in prod-eu's directory ran no cycle of {other}"
        );
    }

    // A target whose specs break is not ready, by name; the others stay as they are.
    three.write("partner", "kind: IntegrationResponse\n");
    wait_until(Duration::from_secs(30), "/readyz names partner", || {
        let (code, body) = daemon.request("GET", "/readyz");
        code == 503 && body.contains("target partner: desired set invalid")
    });
    let page = daemon.request("GET", "/").1;
    for name in ["prod-us", "prod-eu", "partner", "broken"] {
        assert!(
            page.contains(&format!("href=\"targets/{name}/\"")),
            "the overview links {name}"
        );
    }
    let (code, own) = daemon.request("GET", "/targets/partner/");
    assert_eq!(code, 200);
    assert!(own.contains("desired set is invalid"), "{own}");
}

/// Two targets in one account and region share one request budget: at 2 requests a
/// second with a burst of 1, the requests of both, merged, arrive at least ~0.5 s
/// apart (two budgets would let both targets' first requests go at once).
#[tokio::test(flavor = "multi_thread")]
async fn two_targets_in_one_account_and_region_share_one_request_budget() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let proxy = Proxy::start(&moto.endpoint, 7, FaultPlan::none());
    let cwd = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        std::fs::create_dir(cwd.path().join(name)).unwrap();
        std::fs::write(cwd.path().join(name).join("api.yaml"), seed_spec("v1")).unwrap();
    }
    let config = format!(
        "endpointUrl: {}\nrateLimit: {{requestsPerSecond: 2, burst: 1}}\ntargets:\n\
         - {{name: a, region: us-east-1, desiredDir: a}}\n\
         - {{name: b, region: us-east-1, desiredDir: b}}\n",
        proxy.url
    );
    let plan = run_config(cwd.path(), &config, &["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    let stats = proxy.stats();
    let at: Vec<_> = stats
        .records
        .iter()
        .filter(|r| r.op != Op::Other)
        .map(|r| r.at)
        .collect();
    assert!(
        at.len() >= 4,
        "both targets read the API: {:#?}",
        stats.records
    );
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(450),
            "two requests of one account and region only {gap:?} apart: {:#?}",
            stats.records
        );
    }
}

/// SIGHUP gives each target its own entry of the new config: a target's new
/// `desiredDir` is used at once; a target no longer in the config keeps running, with
/// a warning that removing it needs a restart.
#[tokio::test(flavor = "multi_thread")]
async fn sighup_gives_each_target_its_own_entry_of_the_new_config() {
    let moto = Moto::start();
    let us = client_in(&moto.endpoint, "us-east-1", None).await;
    let eu = client_in(&moto.endpoint, "eu-west-1", None).await;
    let (us_api, us_res) = seed_scaffold(&us).await;
    seed_scaffold(&eu).await;
    let cwd = tempfile::tempdir().unwrap();
    for (dir, text) in [("a", "a v1"), ("a2", "a v2"), ("b", "b v1")] {
        std::fs::create_dir(cwd.path().join(dir)).unwrap();
        std::fs::write(cwd.path().join(dir).join("api.yaml"), seed_spec(text)).unwrap();
    }
    let config = format!(
        "endpointUrl: {}\ninterval: 1h\ntargets:\n\
         - {{name: a, region: us-east-1, desiredDir: a}}\n\
         - {{name: b, region: eu-west-1, desiredDir: b}}\n",
        moto.endpoint
    );
    let daemon = start_daemon_in(cwd.path(), &config, &[]);
    wait_until(Duration::from_secs(60), "both targets ready", || {
        daemon.status()["ready"] == true
    });
    let written = std::fs::read_to_string(&daemon.config_path).unwrap();
    let changed = written
        .replace("desiredDir: a}", "desiredDir: a2}")
        .replace("- {name: b, region: eu-west-1, desiredDir: b}\n", "");
    assert_ne!(changed, written);
    std::fs::write(&daemon.config_path, changed).unwrap();
    daemon.signal("HUP");
    wait_live(
        Duration::from_secs(30),
        "target a to use its new desiredDir",
        || async { seed_template(&us, &us_api, &us_res).await.as_deref() == Some("a v2") },
    )
    .await;
    wait_until(Duration::from_secs(10), "the warning about b", || {
        daemon
            .log()
            .contains("this target is no longer in the config; restart the daemon for that")
    });
    let status = daemon.status();
    assert_eq!(
        target(&status, "b")["ready"],
        true,
        "b keeps running: {status}"
    );
}

/// `test` runs every target's response tests offline: text under a heading per
/// target, JUnit a `<testsuite>` per target, JSON a list of targets; one target's
/// failing test fails the run, and the other's still passes.
#[test]
fn response_tests_run_per_target_in_every_report() {
    let cwd = tempfile::tempdir().unwrap();
    let specs = std::fs::read_to_string(repo_root().join("desired/mydemoresource.yaml")).unwrap();
    let tests =
        std::fs::read_to_string(repo_root().join("desired/mydemoresource.tests.yaml")).unwrap();
    for (name, tests) in [
        ("a", tests.clone()),
        (
            "b",
            tests.replace(
                "Hello from the backend\n    </message>",
                "Goodbye\n    </message>",
            ),
        ),
    ] {
        std::fs::create_dir(cwd.path().join(name)).unwrap();
        std::fs::write(cwd.path().join(name).join("api.yaml"), &specs).unwrap();
        std::fs::write(cwd.path().join(name).join("api.tests.yaml"), tests).unwrap();
    }
    let config = "targets:\n- {name: a, region: us-east-1, desiredDir: a}\n- {name: b, region: eu-west-1, desiredDir: b}\n";
    let text = run_config(cwd.path(), config, &["test"]);
    assert_eq!(text.status.code(), Some(1), "{}", show(&text));
    let out = stdout(&text);
    let (a, b) = out.split_once("Target b:").expect("a heading for b");
    assert!(
        a.starts_with("Target a:\n") && !a.contains("FAILED"),
        "{out}"
    );
    assert!(b.contains("FAILED"), "{out}");

    let junit = run_config(cwd.path(), config, &["test", "--output", "junit"]);
    let xml = stdout(&junit);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let suites: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| {
            (
                n.attribute("name").unwrap().to_owned(),
                n.attribute("failures").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        suites,
        vec![
            (
                "apigw-reconciler response tests: a".to_owned(),
                "0".to_owned()
            ),
            (
                "apigw-reconciler response tests: b".to_owned(),
                "1".to_owned()
            ),
        ]
    );
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));

    let json = run_config(cwd.path(), config, &["test", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["targets"][0]["name"], "a");
    assert_eq!(doc["targets"][1]["summary"]["failed"], 1);
    assert_eq!(doc["summary"]["failed"], 1, "{doc}");

    let only_a = run_config(cwd.path(), config, &["--target", "a", "test"]);
    assert_eq!(only_a.status.code(), Some(0), "{}", show(&only_a));
}
