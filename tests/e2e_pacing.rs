//! The client-side rate limiter (`src/live/limited.rs`) seen from the wire: the real
//! binary runs `apply` against moto through the loopback proxy of tests/faults, whose
//! records (arrival time of every request) are the ground truth.
//!
//! These are properties of the spacing of requests, lower bounds on gaps and upper
//! bounds on counts per window, not timing targets: nothing here fails because the
//! machine is slow.

mod common;
mod faults;

use std::time::{Duration, Instant};

use common::*;
use faults::{FaultPlan, Op, Proxy};

/// CreateDeployment is paced at 1 per 5 s (API Gateway's quota for it): two stages to
/// deploy in one `apply` are deployed at least ~5 s apart.
#[tokio::test(flavor = "multi_thread")]
async fn create_deployment_requests_are_at_least_five_seconds_apart() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let proxy = Proxy::start(&moto.endpoint, 5, FaultPlan::none());
    let desired = desired_dir(&[("api.yaml", &seed_spec("v1"))]);
    // The overall budget is generous: only CreateDeployment's own may space them.
    let config = "region: us-east-1\nrateLimit: {requestsPerSecond: 100, burst: 100}\ndeployments:\n  - {restApiName: MyDemoAPI, stage: prod}\n  - {restApiName: MyDemoAPI, stage: beta}\n";
    let apply = run_cli(&proxy.url, desired.path(), config, &["apply"], &[]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    for stage in ["prod", "beta"] {
        assert!(
            stdout(&apply).contains(&format!("deployed stage {stage} of MyDemoAPI")),
            "{}",
            show(&apply)
        );
    }
    let stats = proxy.stats();
    let deployments = stats.of(Op::CreateDeployment);
    assert_eq!(deployments.len(), 2, "{deployments:#?}");
    let gap = deployments[1].at - deployments[0].at;
    // 5 s between the limiter's releases; measured at arrival, less the little time
    // the first request took to arrive.
    assert!(
        gap >= Duration::from_millis(4900),
        "two CreateDeployment requests only {gap:?} apart"
    );
}

/// The largest number of `at` instants in any window [t, t + 1 s) that starts at one of
/// them.
fn max_in_one_second(at: &[Instant]) -> usize {
    at.iter()
        .map(|&start| {
            at.iter()
                .filter(|&&t| t >= start && t - start < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn the_window_count_counts_what_falls_in_one_second() {
    let t0 = Instant::now();
    let at: Vec<Instant> = [0, 10, 20, 990, 1000, 1500, 1600, 1990]
        .iter()
        .map(|ms| t0 + Duration::from_millis(*ms))
        .collect();
    // [0, 1000) holds 0, 10, 20, 990 (1000 is out); [990, 1990) holds 990, 1000, 1500,
    // 1600 (1990 is out); [1000, 2000) holds 1000, 1500, 1600, 1990; none holds 5.
    assert_eq!(max_in_one_second(&at), 4);
    assert_eq!(max_in_one_second(&at[..4]), 4);
    assert_eq!(max_in_one_second(&[]), 0);
}

/// `rateLimit: {requestsPerSecond: r, burst: b}`: any 1 s window holds at most b + r
/// requests (the burst at once, then one every 1/r s), over a run long enough to need
/// several windows.
#[tokio::test(flavor = "multi_thread")]
async fn no_one_second_window_holds_more_than_burst_plus_rate_requests() {
    const RATE: usize = 10;
    const BURST: usize = 3;
    const RESOURCES: usize = 10;
    const CODES: [&str; 4] = ["200", "400", "404", "500"];
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Paced").await;
    let mut docs = Vec::new();
    for i in 0..RESOURCES {
        let id = create_resource(&client, &api.api_id, &api.root_id, &format!("r{i}")).await;
        create_method(&client, &api.api_id, &id, "GET", &CODES).await;
        for code in CODES {
            let pattern = if code == "200" {
                String::new()
            } else {
                format!("selectionPattern: \"{code}\"\n")
            };
            docs.push(spec(
                "Paced",
                &format!("/r{i}"),
                "GET",
                code,
                &format!("{pattern}responseTemplates: {{application/json: \"t-{i}-{code}\"}}\n"),
            ));
        }
    }
    let desired = desired_dir(&[("api.yaml", &docs.join("---\n"))]);
    let proxy = Proxy::start(&moto.endpoint, 10, FaultPlan::none());
    let config =
        format!("region: us-east-1\nrateLimit: {{requestsPerSecond: {RATE}, burst: {BURST}}}\n");
    let apply = run_cli(&proxy.url, desired.path(), &config, &["apply"], &[]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    assert!(
        stdout(&apply).contains(&format!(
            "Apply: {} created, 0 updated, 0 deleted, 0 failed",
            RESOURCES * CODES.len()
        )),
        "{}",
        show(&apply)
    );

    let stats = proxy.stats();
    let at: Vec<Instant> = stats.records.iter().map(|r| r.at).collect();
    let puts = stats.of(Op::PutIntegrationResponse).len();
    assert_eq!(puts, RESOURCES * CODES.len(), "one PUT per write");
    let span = *at.last().unwrap() - at[0];
    let most = max_in_one_second(&at);
    eprintln!(
        "{} requests over {span:?}; at most {most} in any 1 s window (bound {})",
        at.len(),
        BURST + RATE
    );
    assert!(
        most <= BURST + RATE,
        "{most} requests in one 1 s window; the limit is burst {BURST} + rate {RATE}"
    );
    // The bound was exercised: more requests than one window may hold, over more
    // than one window.
    assert!(at.len() > BURST + RATE, "{} requests", at.len());
    assert!(span > Duration::from_secs(1), "all in {span:?}");
}
