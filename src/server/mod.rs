//! The daemon's HTTP endpoints (loopback by default): `/` (the status page for
//! people, [`page`]), `/healthz`, `/readyz`, `/metrics`, `/status` and
//! `POST /reconcile`. The only code that touches sockets.
//!
//! Connections are served with hyper directly, for what `axum::serve` does not
//! offer: a header-read timeout (also closing idle keep-alive connections), an idle
//! timeout on the socket ([`idle`]) and a cap on open connections, so clients that
//! connect and send nothing cannot starve the liveness probe; and `POST /reconcile`
//! is rate limited, since each cycle spends the account's API Gateway quota.

mod idle;
mod page;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::extract::{DefaultBodyLimit, FromRef, Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::render::targets::TargetInfo;
use crate::shutdown::Shutdown;
use crate::status::{Fleet, Shared, Trigger};

/// Largest request body accepted (none of the endpoints needs one).
const MAX_BODY_BYTES: usize = 1024;

/// Most connections served at once; more wait in the kernel's accept queue until one
/// closes. Idle and half-open connections hold a slot only until
/// [`HEADER_READ_TIMEOUT`] or [`IDLE_TIMEOUT`] closes them, so keeping every slot
/// taken means opening 512 new connections every 5 s (over 100 a second), without
/// end, where 32 idle ones used to be enough for good. 512 connections, each with a
/// 15 KB unfinished head buffered (see [`MAX_BUFFER_BYTES`]), were measured at 12 MiB
/// of RSS (31 -> 43 MiB) against the pod's 128 MiB limit, and 512 file descriptors
/// stay under the usual soft limit of 1024.
pub const MAX_CONNECTIONS: usize = 512;

/// How long a client has to send a whole request head (request line and headers),
/// counted from when it connects or from when its previous answer was written.
///
/// This is hyper's `header_read_timeout`. hyper 1.12 (`proto/h1/conn.rs`: `idle()`
/// asks for another read, which starts the timer again in `poll_read_head`) restarts
/// it when a keep-alive connection goes idle, so it is also the keep-alive idle
/// timeout: a connection that sends nothing, or nothing more, is closed after 5 s.
/// Kubelet probes, Prometheus and curl send their head at once, within
/// milliseconds; 5 s leaves room for a slow network and still frees a slot quickly.
/// Keep-alive clients (Prometheus between scrapes) just connect again.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection on which no byte has moved either way for this long is closed: what
/// [`HEADER_READ_TIMEOUT`] does not cover, a client that stops reading our answer
/// (hyper then waits to write, not to read a head) or stalls inside a request. Every
/// answer is ready in milliseconds, so 10 s of silence is a dead or hostile peer.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// hyper's read and write buffer limit per connection; a request head larger than
/// this is refused (431). Our requests are a few hundred bytes; hyper's default of
/// about 400 KiB, times [`MAX_CONNECTIONS`], could exceed the pod's memory limit.
const MAX_BUFFER_BYTES: usize = 16 * 1024;

/// On shutdown idle connections close at once; one still busy after this is left to
/// end with the process (the daemon waits 3 s for the server, then exits).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// `POST /reconcile` accepted at once, from a full bucket.
///
/// Each accepted request queues a cycle (coalesced while one is queued), and a cycle
/// reads the account's API Gateway quota, shared with everyone else using the
/// account (10 requests/s): GetRestApis, GetResources per REST API, GetStages and
/// GetDeployment per stage with `deployments`. A flood used to drive about 6 reads a
/// second. An operator's click or a CI job's webhook needs a few at once, not a
/// stream: file changes, SIGHUP and the interval have triggers of their own.
pub const RECONCILE_BURST: u32 = 3;

/// After the burst, one more `POST /reconcile` every this long; the others are
/// answered 429 with `Retry-After` and queue nothing. At one cycle every 5 s a
/// flood costs about 0.4 reads/s for one REST API (2 reads a cycle), 4% of the
/// account's quota, and GetResources stays far below its own 5 per 2 s.
pub const RECONCILE_REFILL: Duration = Duration::from_secs(5);

/// The numbers above, as one value, so tests can serve with others (a cap of 4, a
/// refill of an hour).
#[derive(Clone, Debug)]
struct Limits {
    max_connections: usize,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    shutdown_grace: Duration,
    reconcile_burst: u32,
    reconcile_refill: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: MAX_CONNECTIONS,
            header_read_timeout: HEADER_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
            reconcile_burst: RECONCILE_BURST,
            reconcile_refill: RECONCILE_REFILL,
        }
    }
}

/// What the handlers read: every target's shared state and the `POST /reconcile`
/// bucket.
#[derive(Clone)]
struct AppState {
    fleet: Arc<Fleet>,
    reconcile: Arc<ReconcileLimit>,
}

impl FromRef<AppState> for Arc<Fleet> {
    fn from_ref(state: &AppState) -> Arc<Fleet> {
        state.fleet.clone()
    }
}

/// The token bucket of `POST /reconcile` (one for every client: the quota it
/// protects is the account's, not the caller's).
struct ReconcileLimit {
    bucket: DefaultDirectRateLimiter,
    burst: u32,
    refill: Duration,
}

impl ReconcileLimit {
    fn new(burst: u32, refill: Duration) -> Self {
        let burst = burst.max(1);
        let quota = Quota::with_period(refill)
            .expect("the refill period is not zero")
            .allow_burst(NonZeroU32::new(burst).expect("burst is at least 1"));
        ReconcileLimit {
            bucket: RateLimiter::direct(quota),
            burst,
            refill,
        }
    }

    /// `Ok` when a request may pass (and takes its token), else the whole seconds
    /// until one may (at least 1, as `Retry-After` counts).
    fn take(&self) -> Result<(), u64> {
        self.bucket.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.bucket.clock().now());
            (wait.as_secs_f64().ceil() as u64).max(1)
        })
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    app(Fleet::single(shared), &Limits::default())
}

fn app(fleet: Arc<Fleet>, limits: &Limits) -> Router {
    let state = AppState {
        fleet,
        reconcile: Arc::new(ReconcileLimit::new(
            limits.reconcile_burst,
            limits.reconcile_refill,
        )),
    };
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/reconcile", post(reconcile))
        .route("/targets/{name}", get(target_page_slash))
        .route("/targets/{name}/", get(target_page))
        .route("/targets/{name}/status", get(target_status))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_large_bodies))
        .with_state(state)
}

/// Serve until shutdown is asked for, then close idle connections and give busy ones
/// [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    listener: TcpListener,
    fleet: Arc<Fleet>,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    serve_with(listener, fleet, shutdown, Limits::default()).await
}

async fn serve_with(
    listener: TcpListener,
    fleet: Arc<Fleet>,
    shutdown: Shutdown,
    limits: Limits,
) -> std::io::Result<()> {
    let service = TowerToHyperService::new(app(fleet, &limits));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_BUFFER_BYTES);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown.recv());
    loop {
        // A slot first, then a connection: beyond the cap, clients wait in the
        // kernel's accept queue rather than in our memory.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => {
                permit.expect("the semaphore is never closed")
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let io = TokioIo::new(idle::IdleTimeout::new(stream, limits.idle_timeout));
        let connection = graceful.watch(http.serve_connection(io, service.clone()));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // A client that timed out or went away: nothing for people to act on.
                tracing::debug!(%peer, "HTTP connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "HTTP connections still busy {} after shutdown began; leaving them",
            humantime::format_duration(limits.shutdown_grace)
        );
    }
    Ok(())
}

/// `accept` failed: a connection that went away before we took it is nothing; out of
/// file descriptors (or another resource) is logged, and we wait a little for one to
/// free up instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot accept HTTP connections: {e}; retrying in 1s");
    tokio::time::sleep(Duration::from_secs(1)).await;
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

/// `GET /healthz`: the process and its reconcile loops are alive (each target's loop
/// beats every second, whatever it is doing; a loop stuck for
/// [`crate::status::HEARTBEAT_STALE`] fails, so Kubernetes restarts the pod).
async fn healthz(State(fleet): State<Arc<Fleet>>) -> impl IntoResponse {
    match fleet.liveness(std::time::Instant::now()) {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not alive: {why}\n"),
        ),
    }
}

/// `GET /readyz`: 503 while any target is not ready, naming each such target.
async fn readyz(State(fleet): State<Arc<Fleet>>) -> impl IntoResponse {
    match fleet.readiness(std::time::Instant::now()) {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn metrics(State(fleet): State<Arc<Fleet>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        fleet.metrics.render(),
    )
}

/// `GET /status`: the one target's status as before; with several targets
/// `{"ready": all ready, "targets": [{"name", "region", "account", ...its status}]}`.
async fn status(State(fleet): State<Arc<Fleet>>) -> Response {
    if let Some(shared) = fleet.single_target() {
        return axum::Json(shared.status()).into_response();
    }
    let targets: Vec<serde_json::Value> = fleet
        .targets
        .iter()
        .map(|t| target_json(t.info.as_ref(), &t.shared))
        .collect();
    axum::Json(serde_json::json!({
        "ready": fleet.readiness(std::time::Instant::now()).is_ok(),
        "targets": targets,
    }))
    .into_response()
}

/// A target's status with its name, region and account first.
fn target_json(info: Option<&TargetInfo>, shared: &Shared) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let Some(info) = info {
        out.insert("name".into(), info.name.clone().into());
        out.insert("region".into(), info.region.clone().into());
        out.insert("account".into(), info.account.clone().into());
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(shared.status()) {
        out.extend(fields);
    }
    serde_json::Value::Object(out)
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An HTML page with the status page's headers (strict CSP, no caching or framing).
fn html_page(code: StatusCode, body: String) -> Response {
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

/// `GET /`: the status page (HTML, no script, nothing external; see [`page`]); with
/// several targets, their overview.
async fn status_page(State(fleet): State<Arc<Fleet>>, uri: Uri) -> Response {
    let Some(shared) = fleet.single_target() else {
        let targets: Vec<_> = fleet
            .targets
            .iter()
            .filter_map(|t| Some((t.info.clone()?, t.shared.status())))
            .collect();
        return html_page(StatusCode::OK, page::overview(&targets, now_unix()));
    };
    key_page(&shared.status(), &uri, None)
}

/// A status page of keys (one target's), filtered by the query's `state`; 400 when
/// that names no state.
fn key_page(status: &crate::status::Status, uri: &Uri, target: Option<&TargetInfo>) -> Response {
    let filter = page::Filter::from_query(uri.query());
    let code = match filter {
        page::Filter::Unknown(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    html_page(code, page::render_for(status, &filter, now_unix(), target))
}

fn no_target(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!(
            "no target named `{}`; see / for the targets\n",
            crate::escape::visible(name)
        ),
    )
        .into_response()
}

/// `GET /targets/<name>`: to `/targets/<name>/`, where the page's relative links work.
async fn target_page_slash(Path(name): Path<String>) -> Response {
    if !crate::config::valid_target_name(&name) {
        return no_target(&name);
    }
    axum::response::Redirect::permanent(&format!("/targets/{name}/")).into_response()
}

/// `GET /targets/<name>/`: one target's status page.
async fn target_page(
    State(fleet): State<Arc<Fleet>>,
    Path(name): Path<String>,
    uri: Uri,
) -> Response {
    let Some(t) = fleet.find(&name) else {
        return no_target(&name);
    };
    key_page(&t.shared.status(), &uri, t.info.as_ref())
}

/// `GET /targets/<name>/status`: one target's status as JSON.
async fn target_status(State(fleet): State<Arc<Fleet>>, Path(name): Path<String>) -> Response {
    match fleet.find(&name) {
        Some(t) => axum::Json(target_json(t.info.as_ref(), &t.shared)).into_response(),
        None => no_target(&name),
    }
}

/// Queue a cycle (every target's, or `?target=<name>`'s), within [`RECONCILE_BURST`]
/// and [`RECONCILE_REFILL`]: beyond them 429 with `Retry-After`, and nothing queued.
async fn reconcile(State(state): State<AppState>, uri: Uri) -> Response {
    let only = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("target="));
    let chosen = match only {
        Some(name) => match state.fleet.find(name) {
            Some(t) => Some(t),
            None => return no_target(name),
        },
        None => None,
    };
    let limit = &state.reconcile;
    if let Err(retry_after) = limit.take() {
        state.fleet.metrics.reconcile_refused.inc();
        let body = format!(
            "too many reconcile requests: {} at once, then one every {}; retry in {retry_after} s\n",
            limit.burst,
            humantime::format_duration(limit.refill)
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
            body,
        )
            .into_response();
    }
    match chosen {
        Some(t) => t.shared.request_cycle(Trigger::Http),
        None => state.fleet.request_cycle(Trigger::Http),
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"accepted": true})),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
