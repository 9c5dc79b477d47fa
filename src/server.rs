//! The daemon's HTTP endpoints (loopback by default): `/healthz`, `/readyz`,
//! `/metrics`, `/status` and `POST /reconcile`. The only code that touches sockets.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::status::{Shared, Trigger};

/// Largest request body accepted (none of the endpoints needs one).
const MAX_BODY_BYTES: usize = 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/reconcile", post(reconcile))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// Serve until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn readyz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    if shared.is_ready() {
        return (StatusCode::OK, "ready\n".to_owned());
    }
    let status = shared.status();
    let why = if !status.desired_set_valid {
        format!(
            "not ready: desired set invalid: {}\n",
            status.desired_set_error.unwrap_or_default()
        )
    } else if status.last_cycle.is_none() {
        "not ready: first cycle not finished\n".to_owned()
    } else {
        "not ready: last cycle could not read the live state\n".to_owned()
    };
    (StatusCode::SERVICE_UNAVAILABLE, why)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
}

async fn status(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(shared.status())
}

async fn reconcile(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.request_cycle(Trigger::Http);
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"accepted": true})),
    )
}
