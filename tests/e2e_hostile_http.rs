//! Hostile and careless HTTP clients against the built daemon: connections that
//! send nothing, or idle after one keep-alive request, must not starve the liveness
//! probe; a flood of `POST /reconcile` is refused beyond a small rate instead of
//! driving reads of the account's shared API Gateway quota.
//!
//! Every wait is a deadline on an observable condition; no duration is asserted.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use apigw_reconciler::server::{HEADER_READ_TIMEOUT, RECONCILE_BURST, RECONCILE_REFILL};
use common::*;

/// Connections of each kind held open at once: twice the old cap of 32 per kind.
const HOLD: usize = 64;
/// A guard against a hang, not a timing target: the old server left `/healthz`
/// unanswered for 30 s and more while idle connections held every slot.
const ANSWER_DEADLINE: Duration = Duration::from_secs(5);
const WAIT: Duration = Duration::from_secs(30);

/// True while the server has not closed `stream` (nothing to read yet); false once
/// it reads EOF or an error. Never blocks.
fn still_open(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let open = matches!(stream.peek(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    open
}

/// `GET /healthz` on a fresh connection answers 200 within [`ANSWER_DEADLINE`] while
/// the connections described by `open` are held.
fn probe(daemon: &Daemon, open: &str) {
    let answer = daemon
        .exchange("GET", "/healthz", ANSWER_DEADLINE)
        .unwrap_or_else(|e| {
            panic!(
                "GET /healthz with {open} connections open: no answer within \
                 {ANSWER_DEADLINE:?}: {e}\n{}",
                daemon.log()
            )
        });
    assert_eq!(answer.code, 200, "{answer:?}");
    assert_eq!(answer.body, "ok\n");
}

#[test]
fn idle_and_half_open_connections_do_not_starve_healthz() {
    let moto = Moto::start();
    let desired = desired_dir(&[]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1h\n", &[]);
    let opened = Instant::now();

    // Half-open: connected, never a byte sent (a client that died, or a slowloris).
    let half_open: Vec<TcpStream> = (0..HOLD).map(|_| daemon.connect()).collect();
    probe(&daemon, &format!("{HOLD} half-open"));

    // Keep-alive: one request answered, then the connection idles (a client's pool).
    let mut keep_alive = Vec::with_capacity(HOLD);
    for n in 0..HOLD {
        let mut stream = daemon.connect();
        stream.set_read_timeout(Some(ANSWER_DEADLINE)).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut stream).unwrap_or_else(|e| {
            panic!(
                "keep-alive connection {} (with {HOLD} half-open and {n} idle keep-alive ones \
                 open) got no answer within {ANSWER_DEADLINE:?}: {e}",
                n + 1
            )
        });
        assert_eq!(answer.code, 200, "{answer:?}");
        keep_alive.push(stream);
    }

    // While all of them are open, a probe on a fresh connection is answered.
    probe(
        &daemon,
        &format!("{HOLD} half-open and {HOLD} idle keep-alive"),
    );

    // They really were all open while the probe was answered (not closed early).
    let open = half_open
        .iter()
        .chain(&keep_alive)
        .filter(|s| still_open(s))
        .count();
    assert_eq!(
        open,
        2 * HOLD,
        "connections closed before the probe, {:?} after the first was opened: the \
         probe proved nothing",
        opened.elapsed()
    );

    // And the daemon closes every one of them by itself (header-read and idle
    // timeouts), so they give their slots back.
    for (n, mut stream) in half_open.into_iter().chain(keep_alive).enumerate() {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("idle connection {n} was not closed within {WAIT:?}: {e}"),
        }
    }
    assert!(
        opened.elapsed() >= HEADER_READ_TIMEOUT,
        "closed before the header-read timeout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_reconcile_flood_is_refused_beyond_a_small_rate() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1h\n", &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    let cycles = daemon.metric("apigw_reconciler_cycles_total");
    let lists = daemon.metric("apigw_reconciler_api_calls_total{operation=\"GetRestApis\"}");

    let started = Instant::now();
    let answers: Vec<Answer> = (0..50)
        .map(|n| {
            daemon
                .exchange("POST", "/reconcile", ANSWER_DEADLINE)
                .unwrap_or_else(|e| panic!("POST /reconcile #{n}: {e}\n{}", daemon.log()))
        })
        .collect();
    let flood = started.elapsed();
    let accepted = answers.iter().filter(|a| a.code == 202).count() as u32;
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.code == 429).collect();
    assert_eq!(
        accepted as usize + refused.len(),
        answers.len(),
        "every answer is 202 or 429: {answers:#?}"
    );
    assert!(
        !refused.is_empty(),
        "50 POST /reconcile in {flood:?}: all accepted, none refused with 429"
    );
    for answer in &refused {
        let retry: u64 = answer
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("429 without a Retry-After in seconds: {answer:?}"));
        assert!(
            (1..=RECONCILE_REFILL.as_secs()).contains(&retry),
            "Retry-After {retry}: {answer:?}"
        );
        assert!(answer.body.contains("too many"), "{answer:?}");
    }
    // The bucket was full: the first requests pass; after that about one per refill.
    assert!(accepted >= RECONCILE_BURST, "{accepted} accepted");
    let refills = (flood.as_secs_f64() / RECONCILE_REFILL.as_secs_f64()).ceil() as u32;
    assert!(
        accepted <= RECONCILE_BURST + refills,
        "{accepted} accepted in {flood:?} (burst {RECONCILE_BURST}, one per {RECONCILE_REFILL:?})"
    );
    assert_eq!(
        daemon.metric("apigw_reconciler_reconcile_requests_refused_total"),
        refused.len() as f64
    );

    // The accepted ones run cycles, one at a time (each read the API list once), and
    // never more cycles than triggers accepted.
    let ran = daemon.requested_cycles_since(cycles, lists, WAIT);
    assert!(
        ran <= accepted as f64,
        "{ran} cycles for {accepted} accepted requests"
    );
    eprintln!(
        "50 POST /reconcile in {flood:?}: {accepted} accepted, {} refused (429); {ran} cycles",
        refused.len()
    );

    // Refused is not forever: after the Retry-After it is accepted again.
    let retry: u64 = refused
        .last()
        .and_then(|a| a.header("retry-after"))
        .and_then(|v| v.parse().ok())
        .unwrap();
    std::thread::sleep(Duration::from_secs(retry));
    let again = daemon
        .exchange("POST", "/reconcile", ANSWER_DEADLINE)
        .unwrap();
    assert_eq!(again.code, 202, "after Retry-After {retry}: {again:?}");
    let ran = daemon.metric("apigw_reconciler_cycles_total") - cycles;
    assert!(
        ran <= accepted as f64 + 1.0,
        "{ran} cycles for {} accepted requests",
        accepted + 1
    );
}
