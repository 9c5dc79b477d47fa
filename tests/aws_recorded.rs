//! Real API Gateway answers, served by a local stub to our real client.
//!
//! The end-to-end tests run against moto, which answers differently from AWS (it never
//! stores a passthrough template as `null`, its error bodies and codes differ). The
//! fixtures in `tests/fixtures/aws/` are answers recorded against real AWS (LocalStack's
//! snapshot files) or, where no recording exists, rebuilt from what AWS is documented or
//! observed to send; each file says which (see its `source`, `provenance` and `note`, and
//! the README there). Each test starts a tiny HTTP/1.1 stub on loopback that answers
//! with a fixture (or a sequence of them) and records what it was sent, points
//! `SdkApiGateway` at it, and checks what the client read, how it classified a failure,
//! and what it sent.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use apigw_reconciler::diff::{Action, ActionKind, Plan};
use apigw_reconciler::executor::{self, Outcome, RetryPolicy};
use apigw_reconciler::live::sdk::{ConnectOptions, SdkApiGateway};
use apigw_reconciler::live::{
    ApiError, ApiGateway, ApiQuery, FailureKind, LiveResource, RestApiSummary, fetch,
};
use apigw_reconciler::model::{Key, Settings};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The ids the composed fixtures use.
const API: &str = "k2dx1wb7ra";
const ROOT: &str = "0gd5xkq3r1";

/// How each error fixture must be classified. Every error fixture must be listed: a new
/// recording has to come with the contract it pins down.
const CLASSIFIED: &[(&str, FailureKind)] = &[
    (
        "delete-integration-response-missing-status",
        FailureKind::NotFound,
    ),
    (
        "delete-integration-response-missing-integration",
        FailureKind::NotFound,
    ),
    (
        "delete-integration-response-missing-resource",
        FailureKind::NotFound,
    ),
    (
        "delete-integration-response-missing-api",
        FailureKind::NotFound,
    ),
    ("get-resources-missing-api", FailureKind::NotFound),
    (
        "put-integration-response-missing-method",
        FailureKind::NotFound,
    ),
    (
        "put-integration-response-missing-api",
        FailureKind::NotFound,
    ),
    (
        "put-integration-response-undeclared-header",
        FailureKind::Rejected,
    ),
    (
        "put-integration-response-invalid-content-type",
        FailureKind::Rejected,
    ),
    (
        "put-integration-response-invalid-status-code",
        FailureKind::Rejected,
    ),
    ("put-integration-response-conflict", FailureKind::Rejected),
    (
        "put-integration-response-conflict-try-again-later",
        FailureKind::RetryLater,
    ),
    (
        "put-integration-response-too-many-requests",
        FailureKind::Throttled,
    ),
];

/// The DeleteIntegrationResponse answers meaning "it is not there", each recorded for a
/// DELETE (no recording of another operation stands in for one).
const DELETE_NOT_FOUND: [&str; 4] = [
    "delete-integration-response-missing-status",
    "delete-integration-response-missing-integration",
    "delete-integration-response-missing-resource",
    "delete-integration-response-missing-api",
];

/// The 400 answers to PutIntegrationResponse.
const BAD_REQUESTS: [&str; 3] = [
    "put-integration-response-undeclared-header",
    "put-integration-response-invalid-content-type",
    "put-integration-response-invalid-status-code",
];

/// Operations our client calls (what a fixture can be served as).
const OPERATIONS: [&str; 5] = [
    "GetRestApis",
    "GetResources",
    "PutIntegrationResponse",
    "DeleteIntegrationResponse",
    "CreateDeployment",
];

// ------------------------------------------------------------------------ fixtures

/// One recorded exchange: what AWS answered (see tests/fixtures/aws/README.md).
#[derive(Clone, Debug)]
struct Fixture {
    name: String,
    /// The operation the answer was recorded for.
    operation: String,
    /// The operation the tests serve it as, when that differs.
    served_as: Option<String>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    raw: Value,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws")
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let path = fixtures_dir().join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let raw: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |k: &str| {
            raw.get(k)
                .unwrap_or_else(|| panic!("{name}: no `{k}`"))
                .clone()
        };
        let headers = field("headers")
            .as_object()
            .unwrap_or_else(|| panic!("{name}: `headers` is not an object"))
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: header {k} is not a string"));
                (k.clone(), v.to_owned())
            })
            .collect();
        Fixture {
            name: name.to_owned(),
            operation: field("operation").as_str().expect("operation").to_owned(),
            served_as: raw
                .get("served_as")
                .map(|v| v.as_str().expect("served_as").to_owned()),
            status: u16::try_from(field("status").as_u64().expect("status")).expect("status"),
            headers,
            body: Some(field("body")).filter(|b| !b.is_null()),
            raw,
        }
    }

    fn all() -> Vec<Fixture> {
        let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
            .expect("read tests/fixtures/aws")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.iter().map(|n| Fixture::load(n)).collect()
    }

    /// The operation this answer is served to.
    fn op(&self) -> &str {
        self.served_as.as_deref().unwrap_or(&self.operation)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// AWS's error message (the body's `message`).
    fn message(&self) -> &str {
        self.body
            .as_ref()
            .and_then(|b| b["message"].as_str())
            .unwrap_or_else(|| panic!("{}: no body message", self.name))
    }

    fn is_error(&self) -> bool {
        self.status >= 400
    }

    /// The bytes of the HTTP answer.
    fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            headers: self.headers.clone(),
            body: self
                .body
                .as_ref()
                .map(|b| serde_json::to_vec(b).expect("serialise body"))
                .unwrap_or_default(),
        }
    }
}

// ------------------------------------------------------------------------ the stub

/// One HTTP answer the stub sends.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn encode(&self, request_no: usize) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            204 => "No Content",
            400 => "Bad Request",
            404 => "Not Found",
            409 => "Conflict",
            429 => "Too Many Requests",
            _ => "Status",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "x-amzn-RequestId: 00000000-0000-4000-8000-{request_no:012}\r\n"
        ));
        if self.status != 204 {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// One request the stub received.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    /// Path and query, as sent.
    target: String,
    body: String,
}

impl Received {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body))
    }
}

/// A loopback HTTP/1.1 server answering the n-th request with the n-th answer (the
/// last one again once they run out), recording every request. Stops when dropped.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Stub {
    async fn serve(answers: Vec<Answer>) -> Stub {
        assert!(!answers.is_empty(), "a stub needs an answer");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(answers);
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(connection(stream, answers.clone(), seen.clone()));
                }
            })
        };
        Stub { url, seen, task }
    }

    async fn fixtures(fixtures: &[&Fixture]) -> Stub {
        Stub::serve(fixtures.iter().map(|f| f.answer()).collect()).await
    }

    fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connection(
    mut stream: TcpStream,
    answers: Arc<Vec<Answer>>,
    seen: Arc<Mutex<Vec<Received>>>,
) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        let n = {
            let mut seen = seen.lock().unwrap();
            seen.push(request);
            seen.len() - 1
        };
        let answer = &answers[n.min(answers.len() - 1)];
        if stream.write_all(&answer.encode(n)).await.is_err() {
            return;
        }
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Read one request (head, then a `Content-Length` or chunked body); `None` when the
/// client closed the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Received> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if !fill(stream, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut start = lines.next()?.split(' ');
    let method = start.next()?.to_owned();
    let target = start.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                if !fill(stream, buf).await {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                if !fill(stream, buf).await {
                    return None;
                }
            }
            body.extend(buf.drain(..size));
            buf.drain(..2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            if !fill(stream, buf).await {
                return None;
            }
        }
        buf.drain(..len).collect()
    };
    Some(Received {
        method,
        target,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

// ------------------------------------------------------------------------ the client

static CREDENTIALS: Once = Once::new();

/// Test credentials for the SDK's default chain (the client reads them from the
/// environment, as in production), set once before any client exists.
fn test_credentials() {
    CREDENTIALS.call_once(|| {
        // SAFETY: every test calls this before anything in the process reads the
        // environment concurrently (the Once makes the others wait until it is done).
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            std::env::remove_var("AWS_PROFILE");
            std::env::remove_var("AWS_SESSION_TOKEN");
        }
    });
}

async fn client(stub: &Stub, max_attempts: u32) -> SdkApiGateway {
    test_credentials();
    SdkApiGateway::connect(&ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(stub.url.clone()),
        max_attempts: Some(max_attempts),
        connect_timeout: Some(Duration::from_secs(2)),
        attempt_timeout: Some(Duration::from_secs(10)),
        assume_role: None,
    })
    .await
    .expect("connect the SDK client")
}

fn key() -> Key {
    Key {
        rest_api_id: API.into(),
        resource_id: ROOT.into(),
        http_method: "GET".into(),
        status_code: "200".into(),
    }
}

fn passthrough() -> Settings {
    Settings {
        response_templates: [("application/json".to_owned(), String::new())].into(),
        ..Default::default()
    }
}

/// What an error's Display must name for a call on `op`.
fn target(op: &str) -> String {
    match op {
        "PutIntegrationResponse" | "DeleteIntegrationResponse" => key().to_string(),
        _ => API.to_owned(),
    }
}

/// Make the call `op` through the trait.
async fn call(client: &SdkApiGateway, op: &str) -> Result<(), ApiError> {
    match op {
        "GetRestApis" => client.rest_apis().await.map(drop),
        "GetResources" => client.resources(API).await.map(drop),
        "PutIntegrationResponse" => {
            client
                .put_integration_response(&key(), &passthrough())
                .await
        }
        "DeleteIntegrationResponse" => client.delete_integration_response(&key()).await,
        "CreateDeployment" => client.create_deployment(API, "prod", "aws_recorded").await,
        other => panic!("no call for operation {other}"),
    }
}

fn one_action(kind: ActionKind, desired: Option<Settings>) -> Plan {
    Plan {
        actions: vec![Action {
            kind,
            key: key(),
            api_name: None,
            resource_path: None,
            desired,
            live: None,
            reason: None,
            source: None,
        }],
        ..Default::default()
    }
}

/// The (unused) picker of an `ApiQuery::Ids` query.
type PickApis = fn(&[RestApiSummary]) -> BTreeSet<String>;

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
    }
}

fn by_path<'a>(resources: &'a [LiveResource], path: &str) -> &'a LiveResource {
    resources
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no resource {path} in {resources:#?}"))
}

// ------------------------------------------------------------------------ tests

#[test]
fn every_fixture_says_where_it_comes_from_and_what_aws_sent() {
    let all = Fixture::all();
    assert!(all.len() >= 15, "fixtures missing: {}", all.len());
    let readme = std::fs::read_to_string(fixtures_dir().join("README.md")).expect("README.md");
    for f in &all {
        let n = &f.name;
        let source = &f.raw["source"];
        assert!(
            source.is_object() || source.as_array().is_some_and(|s| !s.is_empty()),
            "{n}: `source` must say where the answer comes from"
        );
        let provenance = f.raw["provenance"].as_str().unwrap_or_default();
        assert!(
            ["recorded", "composed", "reconstructed"].contains(&provenance),
            "{n}: provenance {provenance:?}"
        );
        assert!(
            f.raw["note"].as_str().is_some_and(|s| s.len() > 20),
            "{n}: `note` must say how the wire form was rebuilt"
        );
        assert!(
            OPERATIONS.contains(&f.op()),
            "{n}: recorded for {}, so `served_as` must name one of {OPERATIONS:?}",
            f.operation
        );
        assert!(
            readme.contains(&format!("{n}.json")),
            "{n}: not described in tests/fixtures/aws/README.md"
        );
        if f.is_error() {
            assert!(
                f.header("x-amzn-ErrorType").is_some(),
                "{n}: an error answer carries x-amzn-ErrorType"
            );
            let _ = f.message();
            assert!(
                CLASSIFIED.iter().any(|(c, _)| c == n),
                "{n}: add it to CLASSIFIED with the FailureKind it must get"
            );
        } else {
            assert!(
                f.status == 204 || f.body.is_some(),
                "{n}: a {} answer has a body",
                f.status
            );
        }
    }
    for (name, _) in CLASSIFIED {
        assert!(
            all.iter().any(|f| &f.name == name),
            "CLASSIFIED names {name}, which is not a fixture"
        );
    }
    // Another operation's answer stands in only where the operation's own is not
    // recorded: a recording of the operation with the same answer replaces it.
    for f in all.iter().filter(|f| f.served_as.is_some()) {
        let own = all.iter().find(|g| {
            g.operation == f.op()
                && g.served_as.is_none()
                && (g.status, &g.body) == (f.status, &f.body)
        });
        assert!(
            own.is_none(),
            "{}: recorded for {}, served as {}, whose own answer is recorded in {}",
            f.name,
            f.operation,
            f.op(),
            own.unwrap().name
        );
    }
}

#[tokio::test]
async fn every_error_is_classified_and_explained_as_aws_sent_it() {
    for (name, kind) in CLASSIFIED {
        let f = Fixture::load(name);
        let stub = Stub::fixtures(&[&f]).await;
        let client = client(&stub, 1).await;
        let err = call(&client, f.op())
            .await
            .expect_err(&format!("{name}: the call must fail"));
        assert_eq!(err.kind, *kind, "{name}: {err}");
        assert_eq!(err.status, Some(f.status), "{name}: {err}");
        let code = f.header("x-amzn-ErrorType").unwrap();
        assert_eq!(err.code.as_deref(), Some(code), "{name}: {err}");
        assert_eq!(err.message, f.message(), "{name}: {err}");
        assert_eq!(err.operation, f.op(), "{name}");
        let shown = err.to_string();
        for part in [
            f.op().to_owned(),
            target(f.op()),
            format!("HTTP {}", f.status),
            f.message().to_owned(),
        ] {
            assert!(shown.contains(&part), "{name}: {shown:?} lacks {part:?}");
        }
        assert_eq!(stub.requests().len(), 1, "{name}: one attempt allowed");
    }
}

#[tokio::test]
async fn a_null_template_is_read_as_a_passthrough_entry() {
    let f = Fixture::load("get-resources-embed-methods-passthrough");
    let stub = Stub::fixtures(&[&f]).await;
    let resources = client(&stub, 1)
        .await
        .resources(API)
        .await
        .expect("GetResources with a null template must be read");
    let root = by_path(&resources, "/");
    assert_eq!(root.id, ROOT);
    let method = &root.methods["GET"];
    assert!(method.has_integration);
    let ir = &method.integration_responses["200"];
    assert_eq!(
        ir.response_templates
            .get("application/json")
            .map(String::as_str),
        Some(""),
        "AWS's {{\"application/json\": null}} is a present key with an empty template: {ir:?}"
    );
    assert_eq!(ir.response_templates.len(), 1, "{ir:?}");
    assert!(
        ir.is_default(),
        "selectionPattern \"\" is the default response"
    );

    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(sent[0].path(), format!("/restapis/{API}/resources"));
    assert!(
        sent[0].query().split('&').any(|p| p == "embed=methods"),
        "{}",
        sent[0].target
    );
}

#[tokio::test]
async fn embedded_methods_and_their_integration_responses_are_read() {
    let f = Fixture::load("get-resources-embed-methods-cors");
    let stub = Stub::fixtures(&[&f]).await;
    let resources = client(&stub, 1)
        .await
        .resources(API)
        .await
        .expect("GetResources");
    assert_eq!(
        resources
            .iter()
            .map(|r| r.path.as_str())
            .collect::<Vec<_>>(),
        ["/", "/product", "/product/{product_id}"]
    );
    assert!(by_path(&resources, "/").methods.is_empty());
    for path in ["/product", "/product/{product_id}"] {
        let r = by_path(&resources, path);
        assert_eq!(
            r.methods.keys().map(String::as_str).collect::<Vec<_>>(),
            ["GET", "OPTIONS"],
            "{path}"
        );
        let get = &r.methods["GET"];
        assert!(
            get.has_integration,
            "{path} GET is an AWS_PROXY integration"
        );
        assert!(get.integration_responses.is_empty(), "{path} GET: {get:?}");
        assert!(get.method_responses.is_empty(), "{path} GET: {get:?}");

        let options = &r.methods["OPTIONS"];
        assert!(options.has_integration);
        assert!(options.method_responses.contains_key("200"), "{options:?}");
        let ir = &options.integration_responses["200"];
        let expected = Settings {
            selection_pattern: None,
            response_parameters: [
                (
                    "method.response.header.Access-Control-Allow-Headers".to_owned(),
                    "'Content-Type'".to_owned(),
                ),
                (
                    "method.response.header.Access-Control-Allow-Methods".to_owned(),
                    "'OPTIONS,POST,GET'".to_owned(),
                ),
                (
                    "method.response.header.Access-Control-Allow-Origin".to_owned(),
                    "'http://localhost:8080'".to_owned(),
                ),
            ]
            .into(),
            response_templates: [("application/json".to_owned(), "{}\n".to_owned())].into(),
            content_handling: None,
        };
        assert_eq!(ir, &expected, "{path} OPTIONS 200");
    }
}

#[tokio::test]
async fn method_responses_declared_headers_are_read() {
    // `responseParameters` of a method response: `{"method.response.header.X": false}`
    // declares header X (false = not required). LiveMethod::method_responses holds, per
    // status code, the declared header names without the prefix.
    let f = Fixture::load("get-resources-embed-methods-cors");
    let stub = Stub::fixtures(&[&f]).await;
    let resources = client(&stub, 1).await.resources(API).await.unwrap();
    let options = &by_path(&resources, "/product").methods["OPTIONS"];
    let declared: BTreeSet<&str> = options
        .method_responses
        .get("200")
        .expect("method response 200")
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        declared,
        BTreeSet::from([
            "Access-Control-Allow-Headers",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Origin",
        ])
    );

    let f = Fixture::load("get-resources-embed-methods-passthrough");
    let stub = Stub::fixtures(&[&f]).await;
    let resources = client(&stub, 1).await.resources(API).await.unwrap();
    let get = &by_path(&resources, "/").methods["GET"];
    let declared: Vec<&str> = get
        .method_responses
        .get("200")
        .expect("method response 200")
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(declared, ["my-header"], "declared with true (required)");
}

#[tokio::test]
async fn a_passthrough_entry_is_sent_as_an_empty_string_and_aws_null_echo_is_accepted() {
    let f = Fixture::load("put-integration-response-passthrough");
    let stub = Stub::fixtures(&[&f]).await;
    client(&stub, 1)
        .await
        .put_integration_response(&key(), &passthrough())
        .await
        .expect("AWS's 201 with {\"application/json\": null} is a success");
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "PUT");
    assert_eq!(
        sent[0].path(),
        format!("/restapis/{API}/resources/{ROOT}/methods/GET/integration/responses/200")
    );
    assert_eq!(
        sent[0].json()["responseTemplates"],
        json!({"application/json": ""}),
        "the passthrough entry must be sent, as \"\": {}",
        sent[0].body
    );
}

#[tokio::test]
async fn deleting_what_is_already_gone_is_not_found_and_counts_as_applied() {
    for name in DELETE_NOT_FOUND {
        let f = Fixture::load(name);
        assert_eq!(
            (f.operation.as_str(), f.served_as.as_deref()),
            ("DeleteIntegrationResponse", None),
            "{name}: the answer replayed to a DELETE must be one AWS gave a DELETE"
        );
        assert_eq!(f.raw["request"]["method"], "DELETE", "{name}");
        let stub = Stub::fixtures(&[&f]).await;
        let client = client(&stub, 3).await;
        let err = client
            .delete_integration_response(&key())
            .await
            .expect_err(name);
        assert_eq!(err.kind, FailureKind::NotFound, "{name}: {err}");
        assert_eq!(stub.requests().len(), 1, "{name}: a 404 is not retried");

        let report = executor::execute(
            &client,
            &one_action(ActionKind::Delete, None),
            &quick_retries(),
        )
        .await;
        assert_eq!(report.results.len(), 1);
        assert_eq!(
            report.results[0].outcome,
            Outcome::Applied,
            "{name}: already gone is what the delete wanted"
        );
        assert_eq!(report.results[0].attempts, 1, "{name}");
        let sent = stub.requests();
        assert_eq!(sent.len(), 2, "{name}");
        assert_eq!(sent[1].method, "DELETE");
        assert_eq!(
            sent[1].path(),
            format!("/restapis/{API}/resources/{ROOT}/methods/GET/integration/responses/200")
        );
    }
}

#[tokio::test]
async fn a_bad_request_is_rejected_after_one_request_with_the_whole_story() {
    for name in BAD_REQUESTS {
        let f = Fixture::load(name);
        let stub = Stub::fixtures(&[&f]).await;
        let client = client(&stub, 5).await;
        let err = client
            .put_integration_response(&key(), &passthrough())
            .await
            .expect_err(name);
        assert_eq!(err.kind, FailureKind::Rejected, "{name}: {err}");
        assert_eq!(stub.requests().len(), 1, "{name}: a 400 is never retried");
        let shown = err.to_string();
        for part in [
            "PutIntegrationResponse".to_owned(),
            key().to_string(),
            "HTTP 400".to_owned(),
            f.message().to_owned(),
        ] {
            assert!(shown.contains(&part), "{name}: {shown:?} lacks {part:?}");
        }

        let report = executor::execute(
            &client,
            &one_action(ActionKind::Update, Some(passthrough())),
            &quick_retries(),
        )
        .await;
        match &report.results[0].outcome {
            Outcome::Failed(e) => assert_eq!(e.kind, FailureKind::Rejected, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(report.results[0].attempts, 1, "{name}: not retried");
        assert_eq!(stub.requests().len(), 2, "{name}");
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_reported_as_throttled() {
    let f = Fixture::load("put-integration-response-too-many-requests");
    let stub = Stub::fixtures(&[&f]).await;
    let client = client(&stub, 3).await;
    let err = client
        .put_integration_response(&key(), &passthrough())
        .await
        .expect_err("429 every time");
    assert_eq!(err.kind, FailureKind::Throttled, "{err}");
    assert_eq!(err.status, Some(429));
    assert_eq!(stub.requests().len(), 3, "max_attempts 3: the SDK retried");
    assert_eq!(client.call_counts().throttled, 3);
    assert!(err.to_string().contains("HTTP 429"), "{err}");
}

#[tokio::test]
async fn a_429_then_an_answer_succeeds() {
    let throttled = Fixture::load("put-integration-response-too-many-requests");
    let ok = Fixture::load("put-integration-response-passthrough");
    let stub = Stub::fixtures(&[&throttled, &ok]).await;
    client(&stub, 3)
        .await
        .put_integration_response(&key(), &passthrough())
        .await
        .expect("the retry gets the 201");
    assert_eq!(stub.requests().len(), 2);

    // Reads too (the 429 body is the same whatever the operation).
    let read = Fixture::load("get-resources-embed-methods-cors");
    let stub = Stub::fixtures(&[&throttled, &read]).await;
    let resources = client(&stub, 3)
        .await
        .resources(API)
        .await
        .expect("the retry gets the resources");
    assert_eq!(resources.len(), 3);
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn a_try_again_later_conflict_is_retried_by_the_executor() {
    let conflict = Fixture::load("put-integration-response-conflict-try-again-later");
    let stub = Stub::fixtures(&[&conflict]).await;
    let err = client(&stub, 5)
        .await
        .put_integration_response(&key(), &passthrough())
        .await
        .expect_err("409");
    assert_eq!(err.kind, FailureKind::RetryLater, "{err}");
    assert_eq!(stub.requests().len(), 1, "the SDK does not retry a 409");

    let ok = Fixture::load("put-integration-response-passthrough");
    let stub = Stub::fixtures(&[&conflict, &ok]).await;
    let client = client(&stub, 5).await;
    let report = executor::execute(
        &client,
        &one_action(ActionKind::Update, Some(passthrough())),
        &quick_retries(),
    )
    .await;
    assert_eq!(report.results[0].outcome, Outcome::Applied);
    assert_eq!(report.results[0].attempts, 2);
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn a_missing_api_reads_as_not_found_and_a_fetch_by_id_leaves_it_out() {
    let f = Fixture::load("get-resources-missing-api");
    let stub = Stub::fixtures(&[&f]).await;
    let client = client(&stub, 3).await;
    let err = client
        .resources("test-fake-rest-id")
        .await
        .expect_err("404");
    assert_eq!(err.kind, FailureKind::NotFound, "{err}");

    let ids = BTreeSet::from(["test-fake-rest-id".to_owned()]);
    let query: ApiQuery<PickApis> = ApiQuery::Ids(ids);
    let snapshot = fetch(&client, query)
        .await
        .expect("a missing API is left out, not an error");
    assert!(snapshot.resources.is_empty(), "{snapshot:?}");
    assert!(snapshot.rest_apis.is_empty(), "{snapshot:?}");
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn rest_apis_deployments_and_deletes_are_read() {
    let f = Fixture::load("get-rest-apis");
    let stub = Stub::fixtures(&[&f]).await;
    let apis = client(&stub, 1)
        .await
        .rest_apis()
        .await
        .expect("GetRestApis");
    assert_eq!(
        apis,
        [RestApiSummary {
            id: API.into(),
            name: "test-api-5b2c81f0".into(),
        }]
    );
    let sent = stub.requests();
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path()),
        ("GET", "/restapis")
    );

    let f = Fixture::load("create-deployment");
    let stub = Stub::fixtures(&[&f]).await;
    client(&stub, 1)
        .await
        .create_deployment(API, "prod", "aws_recorded")
        .await
        .expect("CreateDeployment");
    let sent = stub.requests();
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path(), format!("/restapis/{API}/deployments"));
    assert_eq!(sent[0].json()["stageName"], "prod");

    // A DELETE's own recorded answer: 204, no body, as the API reference documents
    // (https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteIntegrationResponse.html:
    // "the service sends back an HTTP 204 response with an empty HTTP body").
    let f = Fixture::load("delete-integration-response");
    assert_eq!(
        (f.operation.as_str(), f.served_as.as_deref(), f.status),
        ("DeleteIntegrationResponse", None, 204)
    );
    assert!(f.body.is_none(), "{:?}", f.body);
    let stub = Stub::fixtures(&[&f]).await;
    client(&stub, 1)
        .await
        .delete_integration_response(&key())
        .await
        .expect("204");
    let sent = stub.requests();
    assert_eq!(sent[0].method, "DELETE");
    assert_eq!(
        sent[0].path(),
        format!("/restapis/{API}/resources/{ROOT}/methods/GET/integration/responses/200")
    );
}

#[tokio::test]
async fn the_error_code_is_read_in_every_form_aws_uses() {
    // The recorded answer carries the code in x-amzn-ErrorType. AWS services also send
    // it with a Coral namespace suffix, or only in the body's `__type`; the SDK reads
    // all three (header first). Variants of one recording, built here.
    let f = Fixture::load("delete-integration-response-missing-status");
    let suffixed = Answer {
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            (
                "x-amzn-ErrorType".into(),
                "NotFoundException:http://internal.amazon.com/coral/com.amazonaws.backplane.controlplane/"
                    .into(),
            ),
        ],
        ..f.answer()
    };
    let in_body = Answer {
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(&json!({"__type": "NotFoundException", "message": f.message()}))
            .unwrap(),
        ..f.answer()
    };
    for (form, answer) in [
        ("header", f.answer()),
        ("suffixed header", suffixed),
        ("body __type", in_body),
    ] {
        let stub = Stub::serve(vec![answer]).await;
        let err = client(&stub, 1)
            .await
            .delete_integration_response(&key())
            .await
            .expect_err(form);
        assert_eq!(err.code.as_deref(), Some("NotFoundException"), "{form}");
        assert_eq!(err.kind, FailureKind::NotFound, "{form}");
        assert_eq!(err.message, f.message(), "{form}");
    }
}
