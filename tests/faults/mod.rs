//! A fault-injecting HTTP/1.1 proxy for the end-to-end tests, on loopback, between the
//! AWS SDK (inside the `apigw-reconciler` binary) and the moto server.
//!
//! Every request is parsed (request line, headers, `Content-Length` or chunked body),
//! classified as an API Gateway operation from its method and path, and then either
//! answered with an injected fault or forwarded to moto on a fresh connection
//! (`Connection: close` upstream; the answer is relayed with a correct
//! `Content-Length` on the client's keep-alive connection).
//!
//! Which request is faulted is decided by a seeded xorshift generator against the first
//! [`Rule`] of the current [`FaultPlan`] that matches the request (operation and,
//! optionally, the integration-response key), so runs are repeatable up to thread
//! interleaving. The plan can be swapped at runtime ([`Proxy::set_plan`]). Every request
//! is recorded ([`Record`]): the ground truth for what was injected and what reached moto.
//!
//! Moto answers a DELETE of an integration response it no longer has with a bare 500;
//! API Gateway answers 404 `NotFoundException` ("Invalid Response status code
//! specified", tests/fixtures/aws/delete-integration-response-missing-status.json).
//! With [`FaultPlan::aws_missing_delete`] the proxy gives AWS's answer instead (after
//! asking moto, with a GET of the same path, that the response is indeed gone).
//!
//! Every loop is bounded: reads time out and check the stop flag, and the proxy stops by
//! itself when dropped.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The API Gateway operations the reconciler uses, recognised from method and path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    GetRestApis,
    GetResources,
    PutIntegrationResponse,
    DeleteIntegrationResponse,
    CreateDeployment,
    Other,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::GetRestApis,
        Op::GetResources,
        Op::PutIntegrationResponse,
        Op::DeleteIntegrationResponse,
        Op::CreateDeployment,
        Op::Other,
    ];
}

/// What the proxy can do instead of (or to) a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// 429 `TooManyRequestsException` (the rate quota), AWS's JSON error shape.
    TooManyRequests,
    /// 429 `LimitExceededException`.
    LimitExceeded,
    /// 409 `ConflictException` "... Please try again later." (retryable).
    ConflictRetryLater,
    /// 409 `ConflictException` with another message (terminal).
    Conflict,
    /// 400 `BadRequestException` (terminal).
    BadRequest,
    Status500,
    Status502,
    Status503,
    /// The request is half read, then the connection is reset (RST), never answered.
    Reset,
    /// Forwarded and answered only after [`FaultPlan::slow_for`] (longer than the
    /// client's attempt timeout).
    Slow,
    /// Forwarded; the answer's headers promise the whole body, half of it is sent, then
    /// the connection is closed.
    Truncated,
    /// Forwarded (moto carries the request out), then the connection is reset before
    /// any answer: the call happened, the client cannot know it did.
    LostAnswer,
}

impl Fault {
    /// The faults a client must survive by retrying.
    pub const RETRYABLE: [Fault; 9] = [
        Fault::TooManyRequests,
        Fault::LimitExceeded,
        Fault::ConflictRetryLater,
        Fault::Status500,
        Fault::Status502,
        Fault::Status503,
        Fault::Reset,
        Fault::Slow,
        Fault::Truncated,
    ];

    /// The HTTP status the client sees, when it sees one.
    pub fn status(self) -> Option<u16> {
        match self {
            Fault::TooManyRequests | Fault::LimitExceeded => Some(429),
            Fault::ConflictRetryLater | Fault::Conflict => Some(409),
            Fault::BadRequest => Some(400),
            Fault::Status500 => Some(500),
            Fault::Status502 => Some(502),
            Fault::Status503 => Some(503),
            Fault::Reset | Fault::Slow | Fault::Truncated | Fault::LostAnswer => None,
        }
    }

    /// Whether the request reaches moto.
    pub fn forwards(self) -> bool {
        matches!(self, Fault::Slow | Fault::Truncated | Fault::LostAnswer)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which requests a rule applies to and how often it faults them.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Operations the rule matches; empty = every operation.
    pub ops: Vec<Op>,
    /// Only this integration-response key (`api/resource/METHOD/status`), if set.
    pub key: Option<String>,
    /// Probability in [0, 1] that a matching request is faulted.
    pub rate: f64,
    /// Faults to choose from, uniformly.
    pub faults: Vec<Fault>,
    /// How many more requests the rule may fault (`None`: no limit); a rule that is
    /// used up no longer matches.
    pub times: Option<usize>,
}

impl Rule {
    pub fn all(rate: f64, faults: &[Fault]) -> Rule {
        Rule {
            ops: Vec::new(),
            key: None,
            rate,
            faults: faults.to_vec(),
            times: None,
        }
    }

    pub fn ops(ops: &[Op], rate: f64, faults: &[Fault]) -> Rule {
        Rule {
            ops: ops.to_vec(),
            ..Rule::all(rate, faults)
        }
    }

    /// Every request of `op` on one key gets `fault`.
    pub fn key(op: Op, key: &str, fault: Fault) -> Rule {
        Rule {
            ops: vec![op],
            key: Some(key.to_owned()),
            rate: 1.0,
            faults: vec![fault],
            times: None,
        }
    }

    /// Fault at most `n` requests, then stop matching.
    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }

    fn matches(&self, op: Op, key: Option<&str>) -> bool {
        (self.ops.is_empty() || self.ops.contains(&op))
            && self.key.as_deref().is_none_or(|k| Some(k) == key)
            && self.times != Some(0)
    }
}

/// The current fault plan: the first matching rule decides.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub rules: Vec<Rule>,
    /// How long a [`Fault::Slow`] answer is held back.
    pub slow_for: Duration,
    /// Answer a DELETE of an integration response moto no longer has as API Gateway
    /// does (404 `NotFoundException`) instead of with moto's 500.
    pub aws_missing_delete: bool,
}

impl FaultPlan {
    /// Forward everything.
    pub fn none() -> FaultPlan {
        FaultPlan {
            rules: Vec::new(),
            slow_for: Duration::from_millis(1500),
            aws_missing_delete: false,
        }
    }

    /// Deleting an integration response that is gone answers 404 `NotFoundException`,
    /// as AWS does, not moto's 500.
    pub fn aws_missing_delete(mut self) -> FaultPlan {
        self.aws_missing_delete = true;
        self
    }

    pub fn rule(mut self, rule: Rule) -> FaultPlan {
        self.rules.push(rule);
        self
    }

    pub fn slow_for(mut self, d: Duration) -> FaultPlan {
        self.slow_for = d;
        self
    }
}

/// One request the proxy received.
#[derive(Clone, Debug)]
pub struct Record {
    pub at: Instant,
    pub op: Op,
    pub method: String,
    pub path: String,
    /// `api/resource/METHOD/status` for integration-response calls.
    pub key: Option<String>,
    pub fault: Option<Fault>,
    /// The status moto answered, when the request was forwarded and answered.
    pub upstream_status: Option<u16>,
    /// The status the proxy answered instead of moto's (see
    /// [`FaultPlan::aws_missing_delete`]).
    pub rewritten_status: Option<u16>,
    /// A [`Fault::Truncated`] answer really lost bytes (an answer with a body of 0 or
    /// 1 byte has no half to cut and reaches the client whole).
    pub cut: bool,
    /// The SDK's attempt number for this call (`amz-sdk-request: attempt=N; max=M`).
    pub attempt: Option<u32>,
    /// The SDK's id of the call the attempt belongs to (`amz-sdk-invocation-id`): all
    /// attempts of one call share it.
    pub invocation: Option<String>,
}

/// Everything the proxy saw, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub records: Vec<Record>,
}

impl Stats {
    /// Requests received (faulted or not).
    pub fn received(&self) -> usize {
        self.records.len()
    }

    /// Faults of this kind injected, any operation.
    pub fn injected(&self, fault: Fault) -> usize {
        self.records
            .iter()
            .filter(|r| r.fault == Some(fault))
            .count()
    }

    /// Faults injected by (kind, operation).
    pub fn injected_by_kind_and_op(&self) -> BTreeMap<(Fault, Op), usize> {
        let mut out = BTreeMap::new();
        for r in &self.records {
            if let Some(f) = r.fault {
                *out.entry((f, r.op)).or_default() += 1;
            }
        }
        out
    }

    /// Faults injected by kind.
    pub fn injected_by_kind(&self) -> BTreeMap<Fault, usize> {
        let mut out = BTreeMap::new();
        for r in &self.records {
            if let Some(f) = r.fault {
                *out.entry(f).or_default() += 1;
            }
        }
        out
    }

    /// Faults injected, all kinds.
    pub fn injected_total(&self) -> usize {
        self.records.iter().filter(|r| r.fault.is_some()).count()
    }

    /// Answers with `status` the client was sent: injected ones, moto's own and
    /// moto's rewritten to AWS's.
    pub fn answered_with(&self, status: u16) -> usize {
        self.records
            .iter()
            .filter(|r| {
                let answered = r.rewritten_status.or(r.upstream_status);
                match r.fault {
                    // A truncated error answer still shows its status to the client,
                    // which counts the status, not a bad response.
                    Some(Fault::Truncated) => answered == Some(status) && status >= 400,
                    Some(f) => f.status() == Some(status),
                    None => answered == Some(status),
                }
            })
            .count()
    }

    /// Truncated answers the client can only see as unreadable: those of successful
    /// requests that really lost bytes (an error status is counted as that status; see
    /// `answered_with`).
    pub fn truncated_successes(&self) -> usize {
        self.records
            .iter()
            .filter(|r| {
                r.fault == Some(Fault::Truncated)
                    && r.cut
                    && r.rewritten_status
                        .or(r.upstream_status)
                        .is_none_or(|s| s < 400)
            })
            .count()
    }

    /// Records of one operation, in arrival order.
    pub fn of(&self, op: Op) -> Vec<&Record> {
        self.records.iter().filter(|r| r.op == op).collect()
    }

    /// Requests that reached moto, by operation (slow and truncated ones included).
    pub fn forwarded_by_op(&self) -> BTreeMap<Op, usize> {
        let mut out = BTreeMap::new();
        for r in self.records.iter().filter(|r| r.is_forwarded()) {
            *out.entry(r.op).or_default() += 1;
        }
        out
    }

    /// Keys of the DeleteIntegrationResponse requests that reached moto.
    pub fn forwarded_deletes(&self) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| r.op == Op::DeleteIntegrationResponse && r.is_forwarded())
            .filter_map(|r| r.key.clone())
            .collect()
    }

    /// Requests of `op` on `key`, faulted or not.
    pub fn requests_for(&self, op: Op, key: &str) -> usize {
        self.records
            .iter()
            .filter(|r| r.op == op && r.key.as_deref() == Some(key))
            .count()
    }

    /// Requests that arrived in [from, to).
    pub fn received_between(&self, from: Instant, to: Instant) -> usize {
        self.records
            .iter()
            .filter(|r| r.at >= from && r.at < to)
            .count()
    }
}

impl Record {
    pub fn is_forwarded(&self) -> bool {
        self.fault.is_none_or(Fault::forwards)
    }
}

/// xorshift64*: deterministic, no crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Inner {
    upstream: SocketAddr,
    plan: Mutex<FaultPlan>,
    rng: Mutex<Rng>,
    stats: Mutex<Stats>,
    stop: AtomicBool,
}

/// The running proxy; stops on drop.
pub struct Proxy {
    pub url: String,
    inner: Arc<Inner>,
    accept: Option<JoinHandle<()>>,
}

/// Idle keep-alive connections are dropped after this long without a request.
const IDLE_LIMIT: Duration = Duration::from_secs(120);
const READ_TICK: Duration = Duration::from_millis(100);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

impl Proxy {
    /// Listen on a free loopback port and forward to `upstream` (`http://host:port`).
    pub fn start(upstream: &str, seed: u64, plan: FaultPlan) -> Proxy {
        let host_port = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/');
        let upstream = host_port
            .to_socket_addrs()
            .expect("upstream address")
            .next()
            .expect("upstream resolves");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("nonblocking accept");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            upstream,
            plan: Mutex::new(plan),
            rng: Mutex::new(Rng(seed.max(1))),
            stats: Mutex::new(Stats::default()),
            stop: AtomicBool::new(false),
        });
        let accept_inner = inner.clone();
        let accept = std::thread::spawn(move || accept_loop(listener, accept_inner));
        Proxy {
            url,
            inner,
            accept: Some(accept),
        }
    }

    /// Replace the fault plan; requests already being handled keep their decision.
    pub fn set_plan(&self, plan: FaultPlan) {
        *self.inner.plan.lock().unwrap() = plan;
    }

    /// A copy of everything recorded so far.
    pub fn stats(&self) -> Stats {
        self.inner.stats.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    while !inner.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let inner = inner.clone();
                std::thread::spawn(move || serve_connection(stream, &inner));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// A parsed request: head as received, body decoded.
struct Request {
    method: String,
    path: String,
    headers: Headers,
    body: Vec<u8>,
}

/// A byte stream with a buffer, reading with short timeouts so the stop flag is seen.
struct Conn<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    stop: &'a AtomicBool,
}

enum ReadEnd {
    Closed,
    Stopped,
    Invalid,
}

impl Conn<'_> {
    /// Read more bytes into the buffer; gives up after `limit` without data.
    fn fill(&mut self, limit: Duration) -> Result<(), ReadEnd> {
        let start = Instant::now();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(ReadEnd::Stopped);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadEnd::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if start.elapsed() > limit {
                        return Err(ReadEnd::Closed);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(ReadEnd::Closed),
            }
        }
    }

    /// Read a start line and headers (consumed from the buffer); `first_byte` is how
    /// long to wait for the message to begin.
    fn read_head(&mut self, first_byte: Duration) -> Result<(String, Headers), ReadEnd> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadEnd::Invalid);
            }
            let limit = if self.buf.is_empty() {
                first_byte
            } else {
                Duration::from_secs(10)
            };
            self.fill(limit)?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let (start, rest) = head.split_once("\r\n").unwrap_or((&head, ""));
        let headers = rest
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Ok((start.to_owned(), headers))
    }

    /// The body a head announces: chunked, `Content-Length`, or none.
    fn read_body(&mut self, headers: &Headers) -> Result<Vec<u8>, ReadEnd> {
        if header(headers, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            self.read_chunked()
        } else {
            self.read_exact(content_length(headers))
        }
    }

    /// Take exactly `n` bytes.
    fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, ReadEnd> {
        if n > MAX_BODY {
            return Err(ReadEnd::Invalid);
        }
        while self.buf.len() < n {
            self.fill(Duration::from_secs(10))?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_line(&mut self) -> Result<String, ReadEnd> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadEnd::Invalid);
            }
            self.fill(Duration::from_secs(10))?;
        }
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ReadEnd> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| ReadEnd::Invalid)?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.read_exact(size)?);
            self.read_exact(2)?;
            if body.len() > MAX_BODY {
                return Err(ReadEnd::Invalid);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

type Headers = Vec<(String, String)>;

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn content_length(headers: &Headers) -> usize {
    header(headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Headers that describe one hop's framing; the proxy sets its own.
fn is_hop_header(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// The operation and integration-response key of a request.
pub fn classify(method: &str, path: &str) -> (Op, Option<String>) {
    let path = path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["restapis"]) => (Op::GetRestApis, None),
        ("GET", ["restapis", _, "resources"]) => (Op::GetResources, None),
        ("POST", ["restapis", _, "deployments"]) => (Op::CreateDeployment, None),
        (
            "PUT" | "DELETE",
            [
                "restapis",
                api,
                "resources",
                res,
                "methods",
                m,
                "integration",
                "responses",
                code,
            ],
        ) => {
            let op = if method == "PUT" {
                Op::PutIntegrationResponse
            } else {
                Op::DeleteIntegrationResponse
            };
            (op, Some(format!("{api}/{res}/{m}/{code}")))
        }
        _ => (Op::Other, None),
    }
}

fn serve_connection(stream: TcpStream, inner: &Inner) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(READ_TICK));
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        stop: &inner.stop,
    };
    // One request per iteration; the connection ends on close, error, stop, an idle
    // limit, or a fault that closes it.
    while let Ok((start, headers)) = conn.read_head(IDLE_LIMIT) {
        let mut words = start.split(' ');
        let method = words.next().unwrap_or_default().to_owned();
        let path = words.next().unwrap_or_default().to_owned();
        let (op, key) = classify(&method, &path);
        let fault = decide(inner, op, key.as_deref());
        let attempt = header(&headers, "amz-sdk-request").and_then(|v| {
            v.split(';')
                .find_map(|part| part.trim().strip_prefix("attempt="))
                .and_then(|n| n.parse().ok())
        });
        let invocation = header(&headers, "amz-sdk-invocation-id").map(str::to_owned);
        let index = {
            let mut stats = inner.stats.lock().unwrap();
            stats.records.push(Record {
                at: Instant::now(),
                op,
                method: method.clone(),
                path: path.clone(),
                key,
                fault,
                upstream_status: None,
                rewritten_status: None,
                cut: false,
                attempt,
                invocation,
            });
            stats.records.len() - 1
        };
        if fault == Some(Fault::Reset) {
            // Half the body (when there is one) read, the rest left unread: RST.
            let _ = conn.read_exact(content_length(&headers) / 2);
            reset(conn.stream);
            return;
        }
        let Ok(body) = conn.read_body(&headers) else {
            return;
        };
        let request = Request {
            method,
            path,
            headers,
            body,
        };
        let keep_alive = !header(&request.headers, "connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let slow_for = inner.plan.lock().unwrap().slow_for;
        let stream = &mut conn.stream;
        let connection_usable = match fault {
            Some(Fault::Slow) => {
                sleep_unless_stopped(slow_for, &inner.stop);
                if let Some(response) = forward(inner, &request, index) {
                    let _ = stream.write_all(&response.encode());
                }
                false
            }
            Some(Fault::Truncated) => {
                if let Some(response) = forward(inner, &request, index) {
                    let full = response.encode();
                    let cut = full.len() - response.body.len() / 2;
                    inner.stats.lock().unwrap().records[index].cut = cut < full.len();
                    let _ = stream.write_all(&full[..cut]);
                    let _ = stream.flush();
                    let _ = stream.shutdown(Shutdown::Both);
                }
                false
            }
            Some(Fault::LostAnswer) => {
                let _ = forward(inner, &request, index);
                reset(conn.stream);
                return;
            }
            Some(f) => {
                let (status, reason, error_type, body) = fault_response(f);
                let response = error_response(status, reason, error_type.as_deref(), body);
                stream.write_all(&response).is_ok()
            }
            None => match forward(inner, &request, index) {
                Some(response) => stream.write_all(&response.encode()).is_ok(),
                None => {
                    let response = error_response(502, "Bad Gateway", None, "upstream unavailable");
                    let _ = stream.write_all(&response);
                    false
                }
            },
        };
        if !connection_usable || !keep_alive {
            return;
        }
    }
}

fn decide(inner: &Inner, op: Op, key: Option<&str>) -> Option<Fault> {
    let mut plan = inner.plan.lock().unwrap();
    let rule = plan.rules.iter_mut().find(|r| r.matches(op, key))?;
    if rule.faults.is_empty() {
        return None;
    }
    let mut rng = inner.rng.lock().unwrap();
    if rng.unit() >= rule.rate {
        return None;
    }
    let i = (rng.next() % rule.faults.len() as u64) as usize;
    if let Some(n) = &mut rule.times {
        *n -= 1;
    }
    Some(rule.faults[i])
}

/// Status, reason phrase, `x-amzn-ErrorType` and body of an injected error, shaped
/// like API Gateway's (restJson1: the type in the header, with the namespace suffix
/// the service adds, the message in `message`).
fn fault_response(fault: Fault) -> (u16, &'static str, Option<String>, &'static str) {
    let aws = |name: &str| {
        Some(format!(
            "{name}:http://internal.amazon.com/coral/com.amazonaws.backplane.controlplane/"
        ))
    };
    match fault {
        Fault::TooManyRequests => (
            429,
            "Too Many Requests",
            aws("TooManyRequestsException"),
            r#"{"message":"Too Many Requests"}"#,
        ),
        Fault::LimitExceeded => (
            429,
            "Too Many Requests",
            aws("LimitExceededException"),
            r#"{"message":"Rate exceeded"}"#,
        ),
        Fault::ConflictRetryLater => (
            409,
            "Conflict",
            aws("ConflictException"),
            r#"{"message":"Unable to complete operation due to concurrent modification. Please try again later."}"#,
        ),
        Fault::Conflict => (
            409,
            "Conflict",
            aws("ConflictException"),
            r#"{"message":"Another integration response already uses this selection pattern"}"#,
        ),
        Fault::BadRequest => (
            400,
            "Bad Request",
            aws("BadRequestException"),
            r#"{"message":"Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.response.header.X-Fault]"}"#,
        ),
        Fault::Status500 => (
            500,
            "Internal Server Error",
            None,
            r#"{"message":"Internal server error"}"#,
        ),
        Fault::Status502 => (
            502,
            "Bad Gateway",
            None,
            "<html><body>502 Bad Gateway</body></html>",
        ),
        Fault::Status503 => (
            503,
            "Service Unavailable",
            aws("ServiceUnavailableException"),
            r#"{"message":"Service Unavailable"}"#,
        ),
        Fault::Reset | Fault::Slow | Fault::Truncated | Fault::LostAnswer => {
            unreachable!("not an error answer")
        }
    }
}

fn error_response(status: u16, reason: &str, error_type: Option<&str>, body: &str) -> Vec<u8> {
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "text/html"
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: 00000000-fau1-7000-8000-{status:012}\r\n",
        body.len()
    );
    if let Some(t) = error_type {
        head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// An upstream answer, body decoded, ready to be re-sent on a keep-alive connection.
struct Response {
    status: u16,
    reason: String,
    headers: Headers,
    body: Vec<u8>,
}

impl Response {
    fn encode(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (n, v) in self.headers.iter().filter(|(n, _)| !is_hop_header(n)) {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Send `request` to moto on a fresh connection and read the whole answer; records
/// moto's status on the request's record, and answers as AWS would where the plan
/// asks for it ([`FaultPlan::aws_missing_delete`]).
fn forward(inner: &Inner, request: &Request, index: usize) -> Option<Response> {
    let response = send_upstream(inner, request)?;
    inner.stats.lock().unwrap().records[index].upstream_status = Some(response.status);
    let aws_missing_delete = inner.plan.lock().unwrap().aws_missing_delete;
    if aws_missing_delete
        && response.status == 500
        && classify(&request.method, &request.path).0 == Op::DeleteIntegrationResponse
        && let Some(not_found) = missing_on_moto(inner, request)
    {
        inner.stats.lock().unwrap().records[index].rewritten_status = Some(not_found.status);
        return Some(not_found);
    }
    Some(response)
}

/// When moto's GET of the request's path answers 404 `NotFoundException` (the thing is
/// gone), API Gateway's answer to deleting it: 404 with the same message.
fn missing_on_moto(inner: &Inner, request: &Request) -> Option<Response> {
    let get = Request {
        method: "GET".into(),
        path: request.path.clone(),
        headers: request
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
            .cloned()
            .collect(),
        body: Vec::new(),
    };
    let answer = send_upstream(inner, &get)?;
    let error_type = header(&answer.headers, "x-amzn-errortype").unwrap_or_default();
    if answer.status != 404 || !error_type.starts_with("NotFoundException") {
        return None;
    }
    let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()?
        .get("message")?
        .as_str()?
        .to_owned();
    let body = serde_json::json!({ "message": message }).to_string();
    Some(Response {
        status: 404,
        reason: "Not Found".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("x-amzn-ErrorType".into(), "NotFoundException".into()),
            (
                "x-amzn-RequestId".into(),
                "00000000-fau1-7000-8000-000000000404".into(),
            ),
        ],
        body: body.into_bytes(),
    })
}

/// Send `request` to moto on a fresh connection and read the whole answer.
fn send_upstream(inner: &Inner, request: &Request) -> Option<Response> {
    let mut upstream = TcpStream::connect_timeout(&inner.upstream, Duration::from_secs(5)).ok()?;
    upstream.set_read_timeout(Some(READ_TICK)).ok()?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (n, v) in request.headers.iter().filter(|(n, _)| !is_hop_header(n)) {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    upstream.write_all(head.as_bytes()).ok()?;
    upstream.write_all(&request.body).ok()?;
    let mut conn = Conn {
        stream: upstream,
        buf: Vec::new(),
        stop: &inner.stop,
    };
    let (start, headers) = conn.read_head(Duration::from_secs(30)).ok()?;
    let mut words = start.splitn(3, ' ');
    let _version = words.next();
    let status: u16 = words.next()?.parse().ok()?;
    let reason = words.next().unwrap_or_default().to_owned();
    let framed = header(&headers, "transfer-encoding").is_some()
        || header(&headers, "content-length").is_some();
    let body = if framed {
        conn.read_body(&headers).ok()?
    } else if status == 204 || status == 304 || request.method == "HEAD" {
        Vec::new()
    } else {
        // Until the server closes (we asked for Connection: close).
        loop {
            match conn.fill(Duration::from_secs(30)) {
                Ok(()) if conn.buf.len() <= MAX_BODY => {}
                Ok(()) => return None,
                Err(ReadEnd::Closed) => break,
                Err(_) => return None,
            }
        }
        std::mem::take(&mut conn.buf)
    };
    Some(Response {
        status,
        reason,
        headers,
        body,
    })
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let start = Instant::now();
    while start.elapsed() < d && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
}

/// Close with RST (SO_LINGER 0) instead of FIN: a connection reset by peer.
fn reset(stream: TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        #[repr(C)]
        struct Linger {
            onoff: i32,
            linger: i32,
        }
        unsafe extern "C" {
            fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
        }
        const SOL_SOCKET: i32 = 1;
        const SO_LINGER: i32 = 13;
        let linger = Linger {
            onoff: 1,
            linger: 0,
        };
        // SAFETY: a valid open socket descriptor and a correctly sized `struct linger`.
        unsafe {
            setsockopt(
                stream.as_raw_fd(),
                SOL_SOCKET,
                SO_LINGER,
                &linger,
                std::mem::size_of::<Linger>() as u32,
            );
        }
    }
    drop(stream);
}
