//! The daemon's HTTP endpoints (loopback by default): `/` (the status page for
//! people, [`page`]), `/healthz`, `/readyz`, `/metrics`, `/status` and
//! `POST /reconcile`. The only code that touches sockets.

mod page;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::status::{Shared, Status, Trigger};

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
        .route("/", get(status_page))
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
    let status = Status {
        ready: false,
        ..shared.status()
    };
    let why = status.not_ready_reason().unwrap_or_default();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready: {why}\n"),
    )
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

/// `GET /`: the status page (HTML, no script, nothing external; see [`page`]).
async fn status_page(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let filter = page::Filter::from_query(uri.query());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let code = match filter {
        page::Filter::Unknown(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let body = page::render(&shared.status(), &filter, now);
    (
        code,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, page::CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

async fn reconcile(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.request_cycle(Trigger::Http);
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"accepted": true})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serve `shared` on a free loopback port; GET `path` and return the raw answer.
    async fn get(shared: Arc<Shared>, path: &str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, shared, async move {
            let _ = stopped.await;
        }));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let _ = stop.send(());
        server.await.unwrap().unwrap();
        answer
    }

    fn header_value<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
        let head = answer.split("\r\n\r\n").next().unwrap();
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    #[tokio::test]
    async fn status_page_is_html_with_a_csp_that_allows_nothing_external() {
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let shared = Shared::new(tx);
        let answer = get(shared.clone(), "/").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(
            header_value(&answer, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            header_value(&answer, "content-security-policy"),
            Some(
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "{answer}"
        );
        assert_eq!(
            header_value(&answer, "x-content-type-options"),
            Some("nosniff")
        );
        assert_eq!(header_value(&answer, "cache-control"), Some("no-store"));
        assert!(answer.contains("first cycle not finished"), "{answer}");

        let answer = get(shared.clone(), "/?state=blocked").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("aria-current=\"page\""), "{answer}");
        let answer = get(shared, "/?state=%3Cscript%3E").await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            header_value(&answer, "content-security-policy").is_some(),
            "{answer}"
        );
    }
}
