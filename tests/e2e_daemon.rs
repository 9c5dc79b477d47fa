//! The daemon end to end: the real binary as a child process against a moto server,
//! every wait bounded by a deadline on an observable condition.

mod common;
mod faults;

use std::fs;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(20);
/// Only file events, signals and HTTP trigger cycles unless a test wants the tick.
const QUIET: &str = "region: us-east-1\ninterval: 1h\ndebounce: 100ms\n";

#[tokio::test(flavor = "multi_thread")]
async fn file_edits_and_atomic_rename_saves_are_applied() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("v1"))]);
    let daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_live(WAIT, "startup cycle applies v1", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("v1")
    })
    .await;

    // Plain in-place write.
    fs::write(desired.path().join("api.yaml"), seed_spec("v2")).unwrap();
    wait_live(WAIT, "edit applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("v2")
    })
    .await;

    // An editor's atomic save: write a temp file, rename it over the original.
    let tmp = desired.path().join(".api.yaml.swp");
    fs::write(&tmp, seed_spec("v3")).unwrap();
    fs::rename(&tmp, desired.path().join("api.yaml")).unwrap();
    wait_live(WAIT, "atomic save applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("v3")
    })
    .await;
    assert!(
        daemon.metric("apigw_reconciler_actions_total{kind=\"update\",outcome=\"applied\"}") >= 2.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configmap_symlink_swap_and_wholesale_directory_replacement_are_seen() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("specs");
    fs::create_dir_all(root.join("..2026_11_24_10_00_00.1")).unwrap();
    fs::write(
        root.join("..2026_11_24_10_00_00.1/api.yaml"),
        seed_spec("a"),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_11_24_10_00_00.1", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/api.yaml", root.join("api.yaml")).unwrap();
    let _daemon = moto.daemon(&root, QUIET, &[]);
    wait_live(WAIT, "startup applies a", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("a")
    })
    .await;

    // What kubelet and git-sync do: new timestamped dir, new link, rename over ..data.
    fs::create_dir_all(root.join("..2026_11_24_10_05_00.2")).unwrap();
    fs::write(
        root.join("..2026_11_24_10_05_00.2/api.yaml"),
        seed_spec("b"),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_11_24_10_05_00.2", root.join("..data_tmp")).unwrap();
    fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    wait_live(WAIT, "symlink swap applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("b")
    })
    .await;

    // The whole directory replaced: the new one must be watched too.
    let fresh = parent.path().join("specs.new");
    fs::create_dir_all(&fresh).unwrap();
    fs::write(fresh.join("api.yaml"), seed_spec("c")).unwrap();
    fs::rename(&root, parent.path().join("specs.old")).unwrap();
    fs::rename(&fresh, &root).unwrap();
    wait_live(WAIT, "replaced directory applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("c")
    })
    .await;
    fs::write(root.join("api.yaml"), seed_spec("d")).unwrap();
    wait_live(WAIT, "edit in the replaced directory applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("d")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_file_deletes_nothing_and_recovery_is_automatic() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    add_method_response(&client, &api.api_id, &res, "GET", "500").await;
    let error_spec =
        seed_spec("err").replace("\"200\"", "\"500\"") + "selectionPattern: \"5\\\\d{2}\"\n";
    let desired = desired_dir(&[("ok.yaml", &seed_spec("ok")), ("error.yaml", &error_spec)]);
    let config = format!("{QUIET}prune: true\n");
    let daemon = moto.daemon(desired.path(), &config, &[]);
    wait_live(WAIT, "both applied", || async {
        get_ir(&client, &api.api_id, &res, "GET", "500")
            .await
            .is_some()
            && seed_template(&client, &api, &res).await.as_deref() == Some("ok")
    })
    .await;
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);

    // Break one file: its response must not be pruned, the other stays managed.
    fs::write(
        desired.path().join("error.yaml"),
        error_spec.replace("\"500\"", "\"5OO\""),
    )
    .unwrap();
    wait_until(WAIT, "not ready", || {
        daemon.request("GET", "/readyz").0 == 503
    });
    let (_, why) = daemon.request("GET", "/readyz");
    assert!(why.contains("error.yaml:5:13"), "{why}");
    assert_eq!(daemon.metric("apigw_reconciler_desired_set_valid"), 0.0);
    daemon.request("POST", "/reconcile");
    daemon.wait_next_cycle();
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "500")
            .await
            .is_some(),
        "nothing deleted"
    );
    assert!(daemon.log().contains("error.yaml:5:13"), "{}", daemon.log());

    // Fix it: ready again, converged, and the edit applied.
    fs::write(
        desired.path().join("error.yaml"),
        error_spec.replace("err", "fixed"),
    )
    .unwrap();
    wait_until(WAIT, "ready again", || {
        daemon.request("GET", "/readyz").0 == 200
    });
    assert_eq!(daemon.metric("apigw_reconciler_desired_set_valid"), 1.0);
    let live = get_ir(&client, &api.api_id, &res, "GET", "500")
        .await
        .unwrap();
    assert_eq!(
        live.response_templates().unwrap()["application/json"],
        "fixed"
    );
}

async fn drift(client: &aws_sdk_apigateway::Client, api: &Fixture, res: &str) {
    client
        .put_integration_response()
        .rest_api_id(&api.api_id)
        .resource_id(res)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", "changed by hand")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_corrected_on_the_next_interval() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("desired"))]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1s\n", &[]);
    wait_live(WAIT, "applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("desired")
    })
    .await;
    drift(&client, &api, &res).await;
    wait_live(WAIT, "drift corrected", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("desired")
    })
    .await;
    wait_until(WAIT, "drift counted", || {
        daemon.metric("apigw_reconciler_drift_detected_total") >= 1.0
    });
    assert!(daemon.log().contains("drift detected"), "{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_only_reports_drift() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("desired"))]);
    let apply = moto.cli(desired.path(), "region: us-east-1\n", &["apply"]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    let daemon = moto.daemon(
        desired.path(),
        "region: us-east-1\ninterval: 1s\n",
        &["--dry-run"],
    );
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    drift(&client, &api, &res).await;
    wait_until(WAIT, "drift reported", || {
        daemon.metric("apigw_reconciler_drift_detected_total") >= 1.0
    });
    daemon.wait_next_cycle();
    assert_eq!(
        seed_template(&client, &api, &res).await.as_deref(),
        Some("changed by hand")
    );
    assert_eq!(daemon.status()["keys"][0]["state"], "pending");
    // The daemon's reads are counted; its writes would be too.
    assert!(daemon.metric("apigw_reconciler_api_calls_total{operation=\"GetResources\"}") >= 2.0);
    assert_eq!(
        daemon.metric_or_zero(
            "apigw_reconciler_api_calls_total{operation=\"PutIntegrationResponse\"}"
        ),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_config() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    add_method_response(&client, &api.api_id, &res, "GET", "404").await;
    client
        .put_integration_response()
        .rest_api_id(&api.api_id)
        .resource_id(&res)
        .http_method("GET")
        .status_code("404")
        .selection_pattern("404")
        .send()
        .await
        .unwrap();
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "404")
            .await
            .is_some(),
        "prune is off"
    );

    let config = fs::read_to_string(&daemon.config_path).unwrap();
    fs::write(&daemon.config_path, format!("{config}prune: true\n")).unwrap();
    daemon.signal("HUP");
    wait_live(WAIT, "pruned after reload", || async {
        get_ir(&client, &api.api_id, &res, "GET", "404")
            .await
            .is_none()
    })
    .await;
    assert!(daemon.log().contains("config reloaded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn post_reconcile_runs_a_cycle_and_metrics_parse_and_move() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("desired"))]);
    let daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    drift(&client, &api, &res).await;
    let cycles = daemon.metric("apigw_reconciler_cycles_total");
    let calls = daemon.metric("apigw_reconciler_api_calls_total");

    let (code, body) = daemon.request("POST", "/reconcile");
    assert_eq!(code, 202, "{body}");
    wait_live(WAIT, "corrected by the requested cycle", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("desired")
    })
    .await;
    wait_until(WAIT, "cycle counted", || {
        daemon.metric("apigw_reconciler_cycles_total") > cycles
    });
    assert!(daemon.metric("apigw_reconciler_api_calls_total") >= calls + 3.0);
    assert_eq!(
        daemon.request("GET", "/reconcile").0,
        405,
        "GET must not trigger"
    );

    // Every sample line parses as `name{labels} value` with the prefix.
    let (code, text) = daemon.request("GET", "/metrics");
    assert_eq!(code, 200);
    assert!(text.ends_with("# EOF\n"));
    let mut samples = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        assert!(name.starts_with("apigw_reconciler_"), "{line}");
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        samples += 1;
    }
    assert!(samples >= 10, "{text}");
    let status = daemon.status();
    assert_eq!(status["keys"][0]["state"], "in_sync", "{status}");
    assert_eq!(status["keys"][0]["restApiId"], api.api_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_with_an_invalid_config_keeps_the_running_one_and_stays_ready() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    add_method_response(&client, &api.api_id, &res, "GET", "404").await;
    put_live(&client, &api.api_id, &res, "GET", "404", Some("404")).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);

    // Broken: prune turned on, then a value of the wrong type. Were any of it taken,
    // the 404 (on a managed method, desired by no spec) would be pruned.
    let running = fs::read_to_string(&daemon.config_path).unwrap();
    let bad_line = running.lines().count() + 2;
    fs::write(
        &daemon.config_path,
        format!("{running}prune: true\nmaxDeletesPerCycle: lots\n"),
    )
    .unwrap();
    let seen = daemon.cycle_id();
    daemon.signal("HUP");
    wait_until(WAIT, "the cycle SIGHUP asked for", || {
        let status = daemon.status();
        status["lastCycle"]["id"].as_u64() > Some(seen)
            && status["lastCycle"]["reasons"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == "sighup"))
    });
    let log = daemon.log();
    assert!(
        log.contains("SIGHUP: config invalid, keeping the running one")
            && log.contains(&format!("reconciler.yaml:{bad_line}:")),
        "{log}"
    );
    assert!(!log.contains("config reloaded"), "{log}");
    let (code, body) = daemon.request("GET", "/readyz");
    assert_eq!(code, 200, "still ready: {body}");
    assert_eq!(daemon.status()["lastCycle"]["result"], "converged");
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "404")
            .await
            .is_some(),
        "the running config (prune off) is still in force"
    );

    // And still at work: drift is corrected on request.
    drift(&client, &api, &res).await;
    assert_eq!(daemon.request("POST", "/reconcile").0, 202);
    wait_live(WAIT, "drift corrected after the refused reload", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("x")
    })
    .await;

    // Fixed: the next SIGHUP takes it, so the file was read, refused, and kept out.
    fs::write(&daemon.config_path, format!("{running}prune: true\n")).unwrap();
    daemon.signal("HUP");
    wait_live(
        WAIT,
        "pruned after the fixed config is reloaded",
        || async {
            get_ir(&client, &api.api_id, &res, "GET", "404")
                .await
                .is_none()
        },
    )
    .await;
    assert!(daemon.log().contains("config reloaded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_when_idle_exits_zero() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let mut daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    daemon.signal("TERM");
    // The deadline only guards against a hang.
    assert_eq!(daemon.wait_exit(WAIT), Some(0), "{}", daemon.log());
    assert!(daemon.log().contains("shutting down"), "{}", daemon.log());
}

/// SIGTERM while a cycle is provably in flight: the proxy holds the cycle's first PUT
/// back when the signal is sent. That call finishes and reaches moto, no request starts
/// after the signal (the other two writes are never sent), and the exit code is 0.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_in_the_middle_of_a_cycle_finishes_the_call_in_flight_and_starts_no_other() {
    use faults::{Fault, FaultPlan, Op, Proxy, Rule};
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let codes = ["200", "400", "500"];
    let mut docs = Vec::new();
    for code in codes {
        if code != "200" {
            add_method_response(&client, &api.api_id, &res, "GET", code).await;
        }
        let pattern = if code == "200" {
            String::new()
        } else {
            format!("selectionPattern: \"{code}\"\n")
        };
        docs.push(spec(
            "MyDemoAPI",
            "/mydemoresource",
            "GET",
            code,
            &format!("{pattern}responseTemplates: {{application/json: \"t{code}\"}}\n"),
        ));
    }
    let desired = desired_dir(&[("api.yaml", &docs.join("---\n"))]);
    // Every PUT is held 4 s before it is forwarded; the attempt timeout is far longer,
    // so a held PUT is a call in flight, not a timeout.
    let proxy = Proxy::start(
        &moto.endpoint,
        15,
        FaultPlan::none()
            .rule(Rule::ops(
                &[Op::PutIntegrationResponse],
                1.0,
                &[Fault::Slow],
            ))
            .slow_for(Duration::from_secs(4)),
    );
    let config = format!("{QUIET}timeouts:\n  connect: 1s\n  attempt: 60s\n");
    let mut daemon = start_daemon(&proxy.url, desired.path(), &config, &[], &[]);
    let held = |stats: &faults::Stats| {
        stats
            .records
            .iter()
            .position(|r| r.op == Op::PutIntegrationResponse && r.upstream_status.is_none())
    };
    wait_until(
        WAIT,
        "the startup cycle's first PUT held at the proxy",
        || held(&proxy.stats()).is_some(),
    );
    daemon.signal("TERM");
    let at_signal = proxy.stats();
    let index = held(&at_signal).unwrap_or_else(|| {
        panic!(
            "premise: the PUT was answered before SIGTERM was sent (held 4 s): {:#?}",
            at_signal.records
        )
    });

    // The deadline only guards against a hang.
    assert_eq!(daemon.wait_exit(WAIT), Some(0), "{}", daemon.log());
    let after = proxy.stats();
    assert_eq!(
        after.received(),
        at_signal.received(),
        "requests started after SIGTERM: {:#?}",
        &after.records[at_signal.received()..]
    );
    let put = &after.records[index];
    assert!(
        put.upstream_status.is_some_and(|s| (200..300).contains(&s)),
        "the call in flight reached moto: {put:?}"
    );
    assert_eq!(after.of(Op::PutIntegrationResponse).len(), 1);
    let key = put.key.clone().unwrap();
    for code in codes {
        let live = get_ir(&client, &api.api_id, &res, "GET", code).await;
        if key.ends_with(&format!("/GET/{code}")) {
            let template = live
                .as_ref()
                .and_then(|ir| ir.response_templates()?.get("application/json").cloned());
            assert_eq!(template, Some(format!("t{code}")), "{key} written");
        } else {
            assert!(live.is_none(), "GET {code} was written after SIGTERM");
        }
    }
    // The daemon saw the call finish before it shut down.
    let log = daemon.log();
    let applied = log
        .lines()
        .position(|l| l.contains(" applied") && l.contains(&key))
        .unwrap_or_else(|| panic!("no `applied` line for {key}:\n{log}"));
    let signalled = log
        .lines()
        .position(|l| l.contains("SIGTERM: finishing the call in flight"))
        .unwrap_or_else(|| panic!("no SIGTERM line:\n{log}"));
    let shut = log
        .lines()
        .position(|l| l.contains("shutting down"))
        .unwrap_or_else(|| panic!("no `shutting down` line:\n{log}"));
    assert!(signalled < applied && applied < shut, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_checkout_touching_many_files_converges_in_few_cycles() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "ManyFiles").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = create_resource(&client, &api.api_id, &api.root_id, &format!("r{i}")).await;
        create_method(&client, &api.api_id, &id, "GET", &["200"]).await;
        ids.push(id);
    }
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let write_all = |version: &str| {
        for i in 0..20 {
            let text = format!(
                "kind: IntegrationResponse\nrestApiName: ManyFiles\nresourcePath: /r{i}\nhttpMethod: GET\nstatusCode: 200\n\
                 responseTemplates: {{application/json: '{version}'}}\n"
            );
            fs::write(repo.path().join(format!("r{i}.yaml")), text).unwrap();
        }
    };
    git(&["init", "-q", "-b", "main"]);
    write_all("old");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "old"]);
    git(&["checkout", "-q", "-b", "next"]);
    write_all("new");
    git(&["commit", "-q", "-am", "new"]);
    git(&["checkout", "-q", "main"]);

    let daemon = moto.daemon(repo.path(), QUIET, &[]);
    let all = |version: &'static str| {
        let (client, api, ids) = (&client, &api, &ids);
        move || async move {
            for id in ids {
                let ir = get_ir(client, &api.api_id, id, "GET", "200").await;
                if ir
                    .and_then(|ir| ir.response_templates()?.get("application/json").cloned())
                    .as_deref()
                    != Some(version)
                {
                    return false;
                }
            }
            true
        }
    };
    wait_live(WAIT, "old version applied", all("old")).await;
    let before = daemon.metric("apigw_reconciler_cycles_total");
    git(&["checkout", "-q", "next"]);
    wait_live(WAIT, "new version applied", all("new")).await;
    wait_until(WAIT, "status converged", || {
        daemon.status()["lastCycle"]["result"] == "converged"
    });
    let cycles = daemon.metric("apigw_reconciler_cycles_total") - before;
    assert!(
        (1.0..=3.0).contains(&cycles),
        "20 files in one checkout took {cycles} cycles"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line_with_the_cycle_and_each_action() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("json"))]);
    let daemon = moto.daemon(
        desired.path(),
        &format!("{QUIET}log: {{format: json, level: info}}\n"),
        &[],
    );
    wait_live(WAIT, "applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("json")
    })
    .await;
    wait_until(WAIT, "the cycle's summary line", || {
        daemon.log().contains("cycle done")
    });
    let lines: Vec<serde_json::Value> = daemon
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let applied = lines
        .iter()
        .find(|l| l["message"] == "applied")
        .expect("an action line");
    assert_eq!(applied["key"], format!("{}/{res}/GET/200", api.api_id));
    assert_eq!(applied["span"]["reasons"], "startup");
    assert_eq!(applied["span"]["id"], 1);
    let done = lines.iter().find(|l| l["message"] == "cycle done").unwrap();
    assert_eq!(done["result"], "converged");
}
