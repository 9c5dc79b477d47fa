//! The server over real sockets: headers of the status page, the header-read and idle
//! timeouts and the connection cap (on a paused clock where timers decide), the
//! `POST /reconcile` bucket and graceful shutdown.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Serve `shared` on a free loopback port; GET `path` and return the raw answer.
async fn get(shared: Arc<Shared>, path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Shutdown::new();
    let server = tokio::spawn(serve(listener, Fleet::single(shared), stop.clone()));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    stop.trigger();
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

/// A server on a free loopback port with its own [`Shared`].
struct TestServer {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    triggers: mpsc::Receiver<Trigger>,
    stop: Shutdown,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: Limits) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, triggers) = mpsc::channel(64);
    let shared = Shared::new(tx);
    let stop = Shutdown::new();
    let task = tokio::spawn(serve_with(
        listener,
        Fleet::single(shared.clone()),
        stop.clone(),
        limits,
    ));
    TestServer {
        addr,
        shared,
        triggers,
        stop,
        task,
    }
}

impl TestServer {
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// A connection that sent one keep-alive `GET /healthz`, was answered and stays open.
    async fn idle_keep_alive(&self) -> TcpStream {
        let mut stream = self.connect().await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut stream).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        stream
    }

    /// `method path` on a fresh connection (`Connection: close`): the raw answer.
    async fn request(&self, method: &str, path: &str) -> String {
        let mut stream = self.connect().await;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    async fn stop(self) {
        self.stop.trigger();
        self.task.await.unwrap().unwrap();
    }
}

/// Read one answer framed by Content-Length, leaving the connection open.
async fn read_answer(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = header_value(&text, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no Content-Length: {head}"));
            if body.len() >= length {
                return Ok(text);
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Wait for the server to close `stream` (EOF or a reset), within `deadline`.
async fn closed_by_server(stream: &mut TcpStream, deadline: Duration) {
    let mut rest = Vec::new();
    match tokio::time::timeout(deadline, stream.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Ok(Err(e)) => panic!("reading until the server closes: {e}"),
        Err(_) => panic!("the server did not close the connection within {deadline:?}"),
    }
}

/// Open, as far as a read that must not wait can tell.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let server = start(Limits::default()).await;
    let mut stream = server.connect().await;
    let connected = Instant::now();
    closed_by_server(&mut stream, 3 * IDLE_TIMEOUT).await;
    let after = Instant::now() - connected;
    // The paused clock moves only to the next timer: this says which one fired.
    assert!(
        after >= HEADER_READ_TIMEOUT && after < IDLE_TIMEOUT,
        "closed after {after:?}"
    );
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_connection_idle_after_its_answer_is_closed_after_the_header_read_timeout() {
    let server = start(Limits::default()).await;
    let mut stream = server.idle_keep_alive().await;
    let answered = Instant::now();
    assert!(still_open(&stream), "keep-alive: open after the answer");
    closed_by_server(&mut stream, 3 * IDLE_TIMEOUT).await;
    let after = Instant::now() - answered;
    assert!(
        after >= HEADER_READ_TIMEOUT && after < IDLE_TIMEOUT,
        "closed after {after:?}"
    );
    server.stop().await;
}

/// Real time: the idle connections are opened and the probe answered in
/// milliseconds, well inside the 5 s the connections may stay.
#[tokio::test]
async fn many_half_open_and_idle_keep_alive_connections_do_not_delay_healthz() {
    let server = start(Limits::default()).await;
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(server.connect().await);
    }
    for _ in 0..64 {
        held.push(server.idle_keep_alive().await);
    }
    let answer = tokio::time::timeout(Duration::from_secs(2), server.request("GET", "/healthz"))
        .await
        .expect("GET /healthz answered within 2 s while 128 connections idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
    let open = held.iter().filter(|s| still_open(s)).count();
    assert_eq!(open, 128, "the idle connections were open during the probe");
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn when_idle_connections_hold_every_slot_the_timeout_frees_one_for_the_probe() {
    let server = start(Limits {
        max_connections: 4,
        ..Limits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(server.connect().await);
    }
    let asked = Instant::now();
    let answer = tokio::time::timeout(3 * IDLE_TIMEOUT, server.request("GET", "/healthz"))
        .await
        .expect("GET /healthz answered once a slot was freed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // It waited for the slots (the cap holds), and no longer than their timeout.
    let waited = Instant::now() - asked;
    assert!(
        waited >= HEADER_READ_TIMEOUT && waited < IDLE_TIMEOUT,
        "waited {waited:?}"
    );
    for mut stream in held {
        closed_by_server(&mut stream, Duration::ZERO).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_reconcile_flood_beyond_the_burst_is_answered_429_and_queues_nothing() {
    let refill = Duration::from_secs(3600);
    let mut server = start(Limits {
        reconcile_burst: 3,
        reconcile_refill: refill,
        ..Limits::default()
    })
    .await;
    for n in 0..3 {
        let answer = server.request("POST", "/reconcile").await;
        assert!(answer.starts_with("HTTP/1.1 202"), "#{n}: {answer}");
    }
    for _ in 0..2 {
        let answer = server.request("POST", "/reconcile").await;
        assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
        let retry: u64 = header_value(&answer, "retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("Retry-After in seconds: {answer}"));
        // The next token comes one refill after the burst was taken (rounded up).
        assert!(
            (refill.as_secs() - 60..=refill.as_secs()).contains(&retry),
            "Retry-After {retry}"
        );
        assert_eq!(
            header_value(&answer, "content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(
            answer.ends_with(&format!(
                "too many reconcile requests: 3 at once, then one every 1h; retry in {retry} s\n"
            )),
            "{answer}"
        );
    }
    let mut queued = 0;
    while server.triggers.try_recv().is_ok() {
        queued += 1;
    }
    assert_eq!(queued, 3, "only the accepted requests queued a trigger");
    assert!(
        server
            .shared
            .metrics
            .all()
            .render()
            .contains("apigw_reconciler_reconcile_requests_refused_total 2\n"),
        "{}",
        server.shared.metrics.all().render()
    );
    // Other endpoints are not rate limited.
    let answer = server.request("GET", "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_idle_connections_at_once() {
    let server = start(Limits::default()).await;
    let mut half_open = server.connect().await;
    let mut keep_alive = server.idle_keep_alive().await;
    // The half-open one is accepted before the stop (it is served in order).
    assert!(
        server
            .request("GET", "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let stopping = Instant::now();
    server.stop().await;
    let took = Instant::now() - stopping;
    assert!(took < SHUTDOWN_GRACE, "shutdown took {took:?}");
    closed_by_server(&mut half_open, Duration::ZERO).await;
    closed_by_server(&mut keep_alive, Duration::ZERO).await;
}
