//! The test harness itself must be able to fail: reading a metric that does not exist
//! and reading an integration response back through a failing API are errors, not
//! "0" or "absent".

mod common;
mod faults;

use common::*;
use faults::{Fault, FaultPlan, Op, Proxy, Rule};

const TEXT: &str = "# TYPE apigw_reconciler_cycles counter\n\
                    apigw_reconciler_cycles_total{result=\"converged\"} 2\n\
                    apigw_reconciler_cycles_total{result=\"failed\"} 1\n\
                    # EOF\n";

#[test]
fn a_metric_read_fails_on_a_series_that_does_not_exist() {
    assert_eq!(metric(TEXT, "apigw_reconciler_cycles_total"), 3.0);
    assert_eq!(
        metric(TEXT, "apigw_reconciler_cycles_total{result=\"failed\"}"),
        1.0
    );
    // A misspelt or renamed metric is not 0.
    assert!(std::panic::catch_unwind(|| metric(TEXT, "apigw_reconciler_cycle_total")).is_err());
    // A registered family without that label set yet is 0 when asked for explicitly...
    assert_eq!(
        metric_or_zero(
            TEXT,
            "apigw_reconciler_actions_total{kind=\"delete\",outcome=\"failed\"}"
        ),
        0.0
    );
    assert_eq!(
        metric_or_zero(TEXT, "apigw_reconciler_cycles_total{result=\"failed\"}"),
        1.0
    );
    // ...but a family the daemon does not register is still an error.
    assert!(
        std::panic::catch_unwind(|| metric_or_zero(
            TEXT,
            "apigw_reconciler_action_total{kind=\"delete\",outcome=\"failed\"}"
        ))
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ir_is_absent_only_on_not_found_and_fails_on_any_other_error() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none(),
        "404 NotFoundException is absent"
    );
    put_live(&client, &api.api_id, &res, "GET", "200", None).await;
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_some()
    );

    // The same read through a proxy that answers it 400 (not retried by the SDK):
    // the test fails, naming the error.
    let proxy = Proxy::start(
        &moto.endpoint,
        1,
        FaultPlan::none().rule(Rule::ops(&[Op::Other], 1.0, &[Fault::BadRequest])),
    );
    let failing = sdk_client(&proxy.url).await;
    let (api_id, res_id) = (api.api_id.clone(), res.clone());
    let read = tokio::spawn(async move { get_ir(&failing, &api_id, &res_id, "GET", "200").await });
    let err = read.await.expect_err("a 400 must fail the read");
    assert!(err.is_panic());
    let message = err.into_panic();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("BadRequestException"), "{message}");
    assert_eq!(proxy.stats().received(), 1);
}
