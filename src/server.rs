//! The daemon's HTTP endpoints (loopback by default): `/healthz`, `/readyz`,
//! `/metrics`, `/status` and `POST /reconcile`. The only code that touches sockets.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::status::{Shared, Trigger};

/// Largest request body accepted (none of the endpoints needs one).
const MAX_BODY_BYTES: usize = 1024;
/// Most connections served at once; more wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 32;

/// A TCP listener that holds a permit per open connection, so a flood of clients
/// (or idle keep-alive connections) cannot exhaust the daemon.
struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

/// A connection and the permit it holds until it closes.
struct LimitedStream {
    inner: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (inner, addr) = Listener::accept(&mut self.inner).await;
        (
            LimitedStream {
                inner,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/reconcile", post(reconcile))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_large_bodies))
        .with_state(shared)
}

/// Serve until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = LimitedListener {
        inner: listener,
        permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
    };
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

/// No endpoint reads a body, so the extractor limit alone would never fire: refuse
/// announced oversized or unsized (chunked) bodies before any handler runs.
async fn refuse_large_bodies(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|n| n > MAX_BODY_BYTES) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return (
            StatusCode::LENGTH_REQUIRED,
            "send Content-Length (at most 1024 bytes)\n",
        )
            .into_response();
    }
    next.run(request).await
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
