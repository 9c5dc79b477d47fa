//! The daemon end to end: the real binary as a child process against a moto server,
//! every wait bounded by a deadline on an observable condition.

mod common;

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
    assert_eq!(
        daemon.metric("apigw_reconciler_api_calls_total{operation=\"PutIntegrationResponse\"}"),
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
async fn sigterm_exits_zero_promptly() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let mut daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    daemon.signal("TERM");
    assert_eq!(
        daemon.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        daemon.log()
    );
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
