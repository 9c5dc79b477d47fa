//! Security properties of the daemon and the CLI: no secret in any output, a small
//! and bounded HTTP surface, and no way to pile up cycles through POST /reconcile.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use apigw_reconciler::server::MAX_CONNECTIONS;
use common::*;

const WAIT: Duration = Duration::from_secs(20);
const CANARY: &str = "CanarySecretKey/0123456789abcdefABCDEF+zz";

#[tokio::test(flavor = "multi_thread")]
async fn the_secret_access_key_never_appears_in_logs_or_endpoints() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let blocked =
        seed_spec("b").replace("\"200\"", "\"201\"") + "selectionPattern: \"2\\\\d{2}\"\n";
    let desired = desired_dir(&[("ok.yaml", &seed_spec("x")), ("blocked.yaml", &blocked)]);
    let env = [("AWS_SECRET_ACCESS_KEY", CANARY), ("RUST_LOG", "trace")];
    let mut seen = String::new();

    for args in [
        &["validate"][..],
        &["plan"],
        &["plan", "--output", "json"],
        &["apply"],
        &["-vv", "apply"],
    ] {
        let out = moto.cli_with_env(desired.path(), "region: us-east-1\n", args, &env);
        seen.push_str(&show(&out));
    }
    let daemon = moto.daemon_with_env(
        desired.path(),
        "region: us-east-1\ninterval: 1s\n",
        &["-vv"],
        &env,
    );
    daemon.wait_next_cycle();
    daemon.request("POST", "/reconcile");
    daemon.wait_next_cycle();
    for path in ["/healthz", "/readyz", "/metrics", "/status"] {
        seen.push_str(&daemon.request("GET", path).1);
    }
    seen.push_str(&daemon.log());
    assert!(
        seen.contains("no method response with status 201"),
        "the runs did real work:\n{seen}"
    );
    assert!(
        seen.len() > 10_000,
        "trace logging was on ({} bytes)",
        seen.len()
    );
    assert!(!seen.contains(CANARY), "the secret access key leaked");
    assert!(
        !seen.contains(&CANARY[..16]),
        "part of the secret access key leaked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn request_bodies_are_limited_and_unknown_routes_refused() {
    let moto = Moto::start();
    let desired = desired_dir(&[]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1h\n", &[]);
    let body = "x".repeat(64 * 1024);
    let answer = daemon.raw(
        format!(
            "POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(daemon.request("GET", "/admin").0, 404);
    assert_eq!(daemon.request("DELETE", "/status").0, 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_connections_are_capped() {
    let moto = Moto::start();
    let desired = desired_dir(&[]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1h\n", &[]);
    // Hold every slot with idle connections. The kernel hands connections to
    // accept() in order, so these are taken before the one below.
    let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(("127.0.0.1", daemon.port)).unwrap())
        .collect();
    use std::io::{Read, Write};
    let mut waiting = TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    // Not served while all of them are held (observed for a second, well inside
    // the header-read timeout that will close them; an answer at any time within
    // that second would be a failure, a second is how long we look).
    waiting
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut first = [0u8; 1];
    match waiting.read(&mut first) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!(
            "a connection beyond the {MAX_CONNECTIONS} held must wait for a free slot, got {other:?}"
        ),
    }
    // Queued, not refused: the same connection is served once the daemon's
    // header-read timeout closes the idle ones (still held open by this test).
    waiting.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = String::new();
    waiting.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    drop(idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_post_reconcile_never_runs_cycles_concurrently() {
    let moto = Moto::start();
    let client = moto.client().await;
    seed_scaffold(&client).await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("x"))]);
    let daemon = moto.daemon(desired.path(), "region: us-east-1\ninterval: 1h\n", &[]);
    wait_until(WAIT, "ready", || daemon.request("GET", "/readyz").0 == 200);
    let cycles = daemon.metric("apigw_reconciler_cycles_total");
    let lists = daemon.metric("apigw_reconciler_api_calls_total{operation=\"GetRestApis\"}");

    let port = daemon.port;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut accepted = 0;
                for _ in 0..25 {
                    use std::io::{Read, Write};
                    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.write_all(b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .unwrap();
                    let mut out = String::new();
                    s.read_to_string(&mut out).unwrap();
                    // Beyond a small rate the daemon refuses (tests/e2e_hostile_http.rs).
                    if out.starts_with("HTTP/1.1 202") {
                        accepted += 1;
                    } else {
                        assert!(out.starts_with("HTTP/1.1 429"), "{out}");
                    }
                }
                accepted
            })
        })
        .collect();
    let accepted: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(accepted >= 1, "none of 200 requests accepted");
    // Every queued request coalesces into the next cycle: 200 requests, few cycles.
    let ran = daemon.requested_cycles_since(cycles, lists, WAIT);
    assert!(
        ran <= f64::from(accepted),
        "200 requests, {accepted} accepted, ran {ran} cycles"
    );
}
