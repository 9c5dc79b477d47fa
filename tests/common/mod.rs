//! Test harness for the end-to-end tests: a real moto server on a free loopback
//! port, an AWS SDK client pointed at it for fixtures and read-back, and a runner
//! for the built `apigw-reconciler` binary.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;

pub const REGION: &str = "us-east-1";

static ENSURE_MOTO: Once = Once::new();

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Install moto[server] if it is missing (scripts/ensure-moto.sh), once per test binary.
fn ensure_moto() {
    ENSURE_MOTO.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-moto.sh");
        let status = Command::new("bash")
            .arg(script)
            .status()
            .expect("run scripts/ensure-moto.sh");
        assert!(
            status.success(),
            "scripts/ensure-moto.sh failed: cannot install the moto server"
        );
    });
}

/// A moto server process, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Start a fresh server on a free loopback port and wait until it accepts connections.
    pub fn start() -> Moto {
        ensure_moto();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the moto server (python3 -m moto.server)");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        wait_until(
            Duration::from_secs(60),
            "moto server to accept connections",
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        moto
    }

    /// An SDK client for fixtures and read-back (the tool itself runs as a process).
    pub async fn client(&self) -> Client {
        sdk_client(&self.endpoint).await
    }

    /// Run the binary with `args`, the given desired directory and config text.
    pub fn cli(&self, desired: &Path, config_yaml: &str, args: &[&str]) -> Output {
        self.cli_with_env(desired, config_yaml, args, &[])
    }

    /// [`Moto::cli`] with extra environment variables (set after the test credentials).
    pub fn cli_with_env(
        &self,
        desired: &Path,
        config_yaml: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        run_cli(&self.endpoint, desired, config_yaml, args, env)
    }
}

/// An SDK client with the test credentials for `endpoint` (moto, or a proxy).
pub async fn sdk_client(endpoint: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_apigateway::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    Client::new(&config)
}

/// The binary with `--config` (a file holding `config_yaml`, in the returned directory,
/// which must outlive the run) and `--desired`.
fn binary(desired: &Path, config_yaml: &str) -> (tempfile::TempDir, Command) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reconciler.yaml");
    std::fs::write(&config, config_yaml).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
    cmd.arg("--config")
        .arg(&config)
        .arg("--desired")
        .arg(desired);
    (dir, cmd)
}

/// Run the binary once against `endpoint` (moto, or a proxy in front of it) with the
/// given desired directory, config text, arguments and extra environment.
pub fn run_cli(
    endpoint: &str,
    desired: &Path,
    config_yaml: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let (_dir, mut cmd) = binary(desired, config_yaml);
    cmd.args([
        "--endpoint-url",
        endpoint,
        "--region",
        REGION,
        "--color",
        "never",
    ])
    .args(args);
    with_test_credentials(&mut cmd);
    cmd.envs(env.iter().copied());
    cmd.output().expect("run apigw-reconciler")
}

/// Run the binary with only `--config` (a file holding `config_yaml`; a config with
/// `targets` names its directories, regions and endpoint itself), in `cwd`.
pub fn run_config(cwd: &Path, config_yaml: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reconciler.yaml");
    std::fs::write(&config, config_yaml).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
    cmd.current_dir(cwd)
        .arg("--config")
        .arg(&config)
        .args(["--color", "never"])
        .args(args);
    with_test_credentials(&mut cmd);
    cmd.output().expect("run apigw-reconciler")
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fake credentials for the emulator; no instance-metadata lookups ever.
pub fn with_test_credentials(cmd: &mut Command) {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_LOG");
}

/// Poll `cond` until it holds, failing the test after `deadline`.
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// stdout and stderr of a run, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ids of what a fixture created.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub api_id: String,
    pub root_id: String,
}

/// Create a REST API and return its id and root resource id.
pub async fn create_api(client: &Client, name: &str) -> Fixture {
    let api = client.create_rest_api().name(name).send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let resources = client
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let root_id = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    Fixture { api_id, root_id }
}

/// Create `/path_part` under `parent` and return its id.
pub async fn create_resource(
    client: &Client,
    api_id: &str,
    parent: &str,
    path_part: &str,
) -> String {
    client
        .create_resource()
        .rest_api_id(api_id)
        .parent_id(parent)
        .path_part(path_part)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

/// A method with a MOCK integration and method responses for `codes`.
pub async fn create_method(
    client: &Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
    codes: &[&str],
) {
    client
        .put_method()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    for code in codes {
        add_method_response(client, api_id, resource_id, method, code).await;
    }
}

/// A method response for `code` on an existing method.
pub async fn add_method_response(
    client: &Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
    code: &str,
) {
    client
        .put_method_response()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .status_code(code)
        .send()
        .await
        .unwrap();
}

/// Declare response headers on the method response for `code` (replacing it): real
/// API Gateway refuses a mapping to `method.response.header.<name>` that the method
/// response does not declare, so fixtures that map headers declare them.
pub async fn declare_headers(
    client: &Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
    code: &str,
    headers: &[&str],
) {
    let mut put = client
        .put_method_response()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .status_code(code);
    for h in headers {
        put = put.response_parameters(format!("method.response.header.{h}"), false);
    }
    put.send().await.unwrap();
}

/// One spec document; `extra` is more YAML lines (each ending in a newline).
pub fn spec(api: &str, path: &str, method: &str, code: &str, extra: &str) -> String {
    format!(
        "kind: IntegrationResponse\nrestApiName: {api}\nresourcePath: {path}\nhttpMethod: {method}\nstatusCode: \"{code}\"\n{extra}"
    )
}

/// Run the CLI against moto and insist on its exit code.
#[track_caller]
pub fn run(moto: &Moto, dir: &Path, config: &str, args: &[&str], code: i32) -> Output {
    let out = moto.cli(dir, config, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "`{}` in {}:\n{}",
        args.join(" "),
        dir.display(),
        show(&out)
    );
    out
}

/// The seed example's scaffold: MyDemoAPI, /mydemoresource, GET, MOCK, method response 200.
pub async fn seed_scaffold(client: &Client) -> (Fixture, String) {
    let api = create_api(client, "MyDemoAPI").await;
    let res = create_resource(client, &api.api_id, &api.root_id, "mydemoresource").await;
    create_method(client, &api.api_id, &res, "GET", &["200"]).await;
    (api, res)
}

/// GET a path of the API Gateway REST API from moto as raw JSON, nulls included (the
/// SDK refuses null map values, which is how API Gateway returns passthrough template
/// entries). The Authorization header only names the service, so moto routes it.
pub fn raw_get(endpoint: &str, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to moto");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=testing/20260101/{REGION}/apigateway/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "GET {path}: {head}\n{body}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}\n{body}"))
}

/// Read one integration response back through the SDK: `None` only when the answer
/// is 404 `NotFoundException`; any other error (a 5xx, a connection error, an answer
/// the SDK cannot parse, such as a passthrough template entry's `null`: use
/// [`raw_get`] for those) fails the test with the error.
pub async fn get_ir(
    client: &Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
    code: &str,
) -> Option<aws_sdk_apigateway::operation::get_integration_response::GetIntegrationResponseOutput> {
    let result = client
        .get_integration_response()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .status_code(code)
        .send()
        .await;
    match result {
        Ok(out) => Some(out),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!(
            "GetIntegrationResponse {api_id}/{resource_id}/{method}/{code} failed: {}",
            aws_sdk_apigateway::error::DisplayErrorContext(&e)
        ),
    }
}

/// A temporary desired directory with the given files.
pub fn desired_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path: PathBuf = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The repository root (for desired/ and config/).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running `apigw-reconciler run` child process, killed on drop.
pub struct Daemon {
    child: Child,
    pub port: u16,
    pub config_path: PathBuf,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Start the daemon on `desired` with `config_yaml` (listen is added) and `args`
    /// after `run`; waits until /healthz answers.
    pub fn daemon(&self, desired: &Path, config_yaml: &str, args: &[&str]) -> Daemon {
        self.daemon_with_env(desired, config_yaml, args, &[])
    }

    /// [`Moto::daemon`] with extra environment variables (set after the test credentials).
    pub fn daemon_with_env(
        &self,
        desired: &Path,
        config_yaml: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        start_daemon(&self.endpoint, desired, config_yaml, args, env)
    }
}

/// Start `apigw-reconciler run` against `endpoint` (moto, or a proxy in front of it)
/// with `config_yaml` (a free loopback `listen` is added) and `args` after `run`;
/// waits until /healthz answers.
pub fn start_daemon(
    endpoint: &str,
    desired: &Path,
    config_yaml: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Daemon {
    let desired = desired.display().to_string();
    let mut all = vec![
        "--desired",
        &desired,
        "--endpoint-url",
        endpoint,
        "--region",
        REGION,
        "run",
    ];
    all.extend_from_slice(args);
    spawn_daemon(None, config_yaml, &all, env)
}

/// `apigw-reconciler --config <config_yaml + listen> run args...` in `cwd`: for a
/// config with `targets`, which names directories, regions and endpoint itself.
pub fn start_daemon_in(cwd: &Path, config_yaml: &str, args: &[&str]) -> Daemon {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    spawn_daemon(Some(cwd), config_yaml, &all, &[])
}

fn spawn_daemon(
    cwd: Option<&Path>,
    config_yaml: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config_path = dir.path().join("reconciler.yaml");
    std::fs::write(
        &config_path,
        format!("{config_yaml}\nlisten: 127.0.0.1:{port}\n"),
    )
    .unwrap();
    let log_path = dir.path().join("daemon.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd.arg("--config")
        .arg(&config_path)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log);
    with_test_credentials(&mut cmd);
    cmd.envs(env.iter().copied());
    let child = cmd.spawn().expect("start apigw-reconciler run");
    let daemon = Daemon {
        child,
        port,
        config_path,
        log_path,
        _dir: dir,
    };
    wait_until(Duration::from_secs(30), "the daemon's /healthz", || {
        daemon
            .try_request("GET", "/healthz")
            .is_some_and(|(code, _)| code == 200)
    });
    daemon
}

impl Daemon {
    pub fn try_request(&self, method: &str, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let code = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some((code, body))
    }

    /// An HTTP request to the daemon: (status code, body).
    pub fn request(&self, method: &str, path: &str) -> (u16, String) {
        self.try_request(method, path)
            .unwrap_or_else(|| panic!("{method} {path} failed\n{}", self.log()))
    }

    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.request("GET", "/status").1).unwrap()
    }

    /// Send raw bytes on a new connection and return whatever comes back before the
    /// server closes it or `timeout` passes (empty on timeout).
    pub fn raw(&self, bytes: &[u8], timeout: Duration) -> String {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(timeout)).unwrap();
        stream.write_all(bytes).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The id of the last finished cycle (0 before the first).
    pub fn cycle_id(&self) -> u64 {
        self.status()["lastCycle"]["id"].as_u64().unwrap_or(0)
    }

    /// The sum of a metric's samples whose line starts with `prefix` (name and labels);
    /// fails the test when there is none (see [`metric`]).
    #[track_caller]
    pub fn metric(&self, prefix: &str) -> f64 {
        metric(&self.metrics(), prefix)
    }

    /// [`Daemon::metric`], with a labelled series not created yet read as 0 (see
    /// [`metric_or_zero`]).
    #[track_caller]
    pub fn metric_or_zero(&self, prefix: &str) -> f64 {
        metric_or_zero(&self.metrics(), prefix)
    }

    /// The `/metrics` text, for reading several samples from one scrape.
    pub fn metrics(&self) -> String {
        self.request("GET", "/metrics").1
    }

    /// Wait for a cycle that starts after now to finish.
    pub fn wait_next_cycle(&self) {
        let seen = self.cycle_id();
        wait_until(Duration::from_secs(30), "a new cycle", || {
            self.cycle_id() > seen
        });
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Wait for the process to exit and return its exit code.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < deadline,
                "daemon did not exit within {deadline:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sum of the samples in metrics `text` whose line starts with `prefix` (name and
/// labels). Fails the test, naming the series and listing those that exist, when no
/// sample matches: a renamed or unregistered metric must not read as 0.
#[track_caller]
pub fn metric(text: &str, prefix: &str) -> f64 {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.starts_with(prefix))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("metric sample without a number: {l}"))
        })
        .collect();
    if values.is_empty() {
        let series: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' ').map(|(name, _)| name))
            .collect();
        panic!(
            "no metric sample starts with `{prefix}`; the samples are:\n  {}",
            series.join("\n  ")
        );
    }
    values.iter().sum()
}

/// Like [`metric`], but a labelled series that was never created (no sample with
/// these labels yet, e.g. no call of an operation) reads as 0. The metric family must
/// be one the daemon registers (`src/metrics.rs`; a family without samples is not
/// rendered at all), so a renamed metric still fails.
#[track_caller]
pub fn metric_or_zero(text: &str, prefix: &str) -> f64 {
    let name = prefix
        .split(['{', ' '])
        .next()
        .expect("split yields at least one part");
    let registered = registered_metric_families();
    let known = registered.iter().any(|family| {
        name == family
            || ["_total", "_bucket", "_count", "_sum", "_created"]
                .iter()
                .any(|suffix| name.strip_suffix(suffix) == Some(family.as_str()))
    });
    assert!(
        known,
        "`{prefix}`: no metric family of that name is registered; the families are {registered:?}"
    );
    if text
        .lines()
        .any(|l| !l.starts_with('#') && l.starts_with(prefix))
    {
        metric(text, prefix)
    } else {
        0.0
    }
}

/// The metric families `src/metrics.rs` registers, with their prefix.
fn registered_metric_families() -> Vec<String> {
    let source = std::fs::read_to_string(repo_root().join("src/metrics.rs")).unwrap();
    let prefix = source
        .split("Registry::with_prefix(\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("src/metrics.rs: Registry::with_prefix(\"...\")");
    let families: Vec<String> = source
        .split(".register(")
        .skip(1)
        .filter_map(|call| call.split('"').nth(1))
        .map(|name| format!("{prefix}_{name}"))
        .collect();
    assert!(families.len() >= 5, "src/metrics.rs: {families:?}");
    families
}

/// A live integration response made directly through the SDK (not by the tool), with
/// an `application/json` template `{"live": true}`.
pub async fn put_live(
    client: &Client,
    api: &str,
    res: &str,
    method: &str,
    code: &str,
    pattern: Option<&str>,
) {
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .status_code(code)
        .set_selection_pattern(pattern.map(str::to_owned))
        .response_templates("application/json", "{\"live\": true}")
        .send()
        .await
        .unwrap();
}

/// Wait (async-friendly: polls from a blocking thread) for the SDK to show `cond`.
pub async fn wait_live<F, Fut>(deadline: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A spec for the seed scaffold's GET /mydemoresource with one template.
pub fn seed_spec(template: &str) -> String {
    format!(
        "kind: IntegrationResponse\nrestApiName: MyDemoAPI\nresourcePath: /mydemoresource\nhttpMethod: GET\nstatusCode: \"200\"\nresponseTemplates:\n  application/json: {template:?}\n"
    )
}

/// The application/json template of GET /mydemoresource 200, if any.
pub async fn seed_template(client: &Client, api: &Fixture, resource_id: &str) -> Option<String> {
    get_ir(client, &api.api_id, resource_id, "GET", "200")
        .await?
        .response_templates()?
        .get("application/json")
        .cloned()
}

/// One HTTP answer read off a socket: status code, header lines and body.
#[derive(Clone, Debug)]
pub struct Answer {
    pub code: u16,
    /// The status line and header lines, as sent.
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// Read one answer framed by `Content-Length` from `stream` and leave the connection
/// open (keep-alive). Fails with the I/O error, a read timeout included, or with
/// `InvalidData` when what arrives is not an answer framed that way.
pub fn read_answer(stream: &mut TcpStream) -> std::io::Result<Answer> {
    use std::io::Read;
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "connection closed before a whole answer head: {:?}",
                    String::from_utf8_lossy(&bytes)
                ),
            ));
        }
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| invalid(format!("not an HTTP answer: {head:?}")))?;
    let mut answer = Answer {
        code,
        head,
        body: String::new(),
    };
    let length: usize = answer
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid(format!("no Content-Length: {:?}", answer.head)))?;
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a body",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    answer.body = String::from_utf8_lossy(&body).into_owned();
    Ok(answer)
}

impl Daemon {
    /// A TCP connection to the daemon that has sent nothing yet.
    pub fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("connect to the daemon: {e}\n{}", self.log()))
    }

    /// One request on a fresh connection (`Connection: close`), its answer read within
    /// `timeout`: the I/O error, a timeout included, is returned rather than a panic,
    /// for tests that guard against a hang with a deadline.
    pub fn exchange(&self, method: &str, path: &str, timeout: Duration) -> std::io::Result<Answer> {
        use std::io::Write;
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(timeout))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        read_answer(&mut stream)
    }
}

/// Run the binary offline (no emulator: `--endpoint-url` points nowhere) with the given
/// config text and arguments, killing it after `deadline`: `None` when it did not finish
/// in time. The deadline guards against a hang; it is not a timing target.
pub fn run_offline_within(
    deadline: Duration,
    desired: &Path,
    config_yaml: &str,
    args: &[&str],
) -> Option<Output> {
    let (_dir, mut cmd) = binary(desired, config_yaml);
    cmd.args(["--endpoint-url", "http://127.0.0.1:9", "--color", "never"]);
    cmd.args(args);
    run_within(deadline, cmd)
}

/// Run `cmd` to its end, or kill it after `deadline` (`None`).
pub fn run_within(deadline: Duration, mut cmd: Command) -> Option<Output> {
    with_test_credentials(&mut cmd);
    let out_dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start apigw-reconciler");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Some(Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    })
}

impl Daemon {
    /// After `POST /reconcile`s made when the daemon had run `cycles` cycles and read
    /// the API list `lists` times: waits for a requested cycle, and for every cycle to
    /// have read the list exactly once (no two overlapped); returns the cycles run.
    pub fn requested_cycles_since(&self, cycles: f64, lists: f64, deadline: Duration) -> f64 {
        let ran = || self.metric("apigw_reconciler_cycles_total") - cycles;
        wait_until(deadline, "a requested cycle", || ran() > 0.0);
        wait_until(deadline, "cycles and API reads to agree", || {
            let read =
                self.metric("apigw_reconciler_api_calls_total{operation=\"GetRestApis\"}") - lists;
            ran() == read
        });
        ran()
    }

    /// The process id, for /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}
