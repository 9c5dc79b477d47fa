//! The status page (`GET /`) in a real browser: the daemon runs against a moto server
//! (through the fault proxy of tests/faults, which refuses one key's writes) with
//! keys in sync, blocked and failed, and headless Chromium (Debian's `chromium`,
//! installed by scripts/ensure-chromium.sh when missing) loads the page. The test
//! reads the DOM Chromium built (`--dump-dom`): every key's row and state, the filter
//! links, a spec template holding `<script>` shown as text with no injected element.
//! Screenshots (wide and narrow) are saved under `target/` for people to look at:
//! `target/status-page.png`, `target/status-page-narrow.png`,
//! `target/status-page-not-ready.png`, `target/status-page-dry-run.png`.
//!
//! Every wait is a condition with a deadline; Chromium runs with no network but the
//! loopback page (no background networking, no component updates, a fresh profile).

mod common;
mod faults;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use faults::{Fault, FaultPlan, Op, Proxy, Rule};

const WAIT: Duration = Duration::from_secs(40);
const CONFIG: &str = "region: us-east-1\ninterval: 1s\nbackoff:\n  initial: 100ms\n  max: 1s\ntimeouts:\n  connect: 1s\n  attempt: 2s\n";
/// A template that would run a script and add an element if the page did not escape it.
const XSS_TEMPLATE: &str = "<script>document.title='pwned'</script><b id=\"injected\">x</b>";
/// How the escaped template reads in the DOM Chromium serialises (text nodes escape
/// `<`, `>` and `&`, not quotes).
const XSS_AS_TEXT: &str =
    "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b id=\"injected\"&gt;x&lt;/b&gt;";

// ---------------------------------------------------------------------------------
// Chromium.

/// The Chromium binary: `$CHROMIUM` or `chromium`, installed by
/// scripts/ensure-chromium.sh when missing. A machine where it cannot be installed
/// fails the test, saying so: this test never passes without a browser.
fn chromium() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = repo_root().join("scripts/ensure-chromium.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .expect("run scripts/ensure-chromium.sh");
        assert!(
            out.status.success(),
            "Chromium is not installed and {} could not install it, so the status page \
             cannot be tested in a real browser. Install Debian's `chromium` package \
             (apt-get install chromium, as root, with access to Debian's mirror) or set \
             CHROMIUM to a Chromium binary.\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into())
    })
}

/// Run headless Chromium on `url` with `args` (`--dump-dom`, `--screenshot=...`);
/// returns its stdout. Fails the test when Chromium fails or takes over 90 s.
fn chromium_run(url: &str, args: &[String]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            // Root (CI) cannot use Chromium's sandbox; the page is our own.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chromium()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium did not finish {args:?} {url} within 90 s\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "Chromium {args:?} {url} failed ({status})\n{}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout_path).unwrap()
}

/// The DOM Chromium built from `url`, serialised.
fn dump_dom(url: &str) -> String {
    let dom = chromium_run(url, &["--dump-dom".to_owned()]);
    assert!(dom.contains("</html>"), "no DOM from {url}:\n{dom}");
    dom
}

/// Save a screenshot of `url` at `width`x`height` to `target/<name>` and check it is
/// a PNG that wide. Returns the path.
fn screenshot(url: &str, name: &str, width: u32, height: u32) -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(name);
    let _ = std::fs::remove_file(&path);
    chromium_run(
        url,
        &[
            format!("--screenshot={}", path.display()),
            format!("--window-size={width},{height}"),
        ],
    );
    let png =
        std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let png_width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(
        png_width,
        width,
        "{} is {png_width} px wide",
        path.display()
    );
    eprintln!("screenshot: {}", path.display());
    path
}

// ---------------------------------------------------------------------------------
// Reading the DOM.

/// The text of an HTML fragment: tags dropped, the serialiser's entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in an opening tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let value = &tag[start..];
    Some(text(&value[..value.find('"')?]))
}

/// One key's row on the page.
#[derive(Debug)]
struct Row {
    /// `data-state`.
    state: String,
    /// The text of each cell: API, path, method, status, state, last error, next retry.
    cells: Vec<String>,
}

/// The key rows of the page, by `data-key` (`api/resource/METHOD/status`).
fn key_rows(dom: &str) -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for chunk in dom.split("<tr").skip(1) {
        let (tag, body) = chunk.split_once('>').unwrap();
        if attr(tag, "class").as_deref() != Some("key") {
            continue;
        }
        let body = &body[..body.find("</tr>").expect("a closed row")];
        let cells = body
            .split("<td")
            .skip(1)
            .map(|cell| {
                let (_, inner) = cell.split_once('>').unwrap();
                text(&inner[..inner.find("</td>").unwrap()])
                    .trim()
                    .to_owned()
            })
            .collect();
        let key = attr(tag, "data-key").expect("a key row has data-key");
        let state = attr(tag, "data-state").expect("a key row has data-state");
        assert!(
            rows.insert(key.clone(), Row { state, cells }).is_none(),
            "{key} listed twice"
        );
    }
    rows
}

/// The fragment of `dom` inside the element with `id`.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page:\n{dom}"));
    let rest = &dom[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// No element came from a value: no script at all (the page has none), no `<b
/// id="injected">`, and the title is the page's own.
#[track_caller]
fn assert_nothing_injected(dom: &str) {
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "a <script> element is in the page:\n{dom}"
    );
    assert!(
        !dom.contains("<b id=\"injected\""),
        "an element from a spec template is in the page:\n{dom}"
    );
    let title = text(&dom[dom.find("<title>").unwrap()..dom.find("</title>").unwrap()]);
    assert!(title.ends_with("apigw-reconciler"), "title {title:?}");
}

/// Each key's state in `/status`, by `resourcePath statusCode`.
fn states(daemon: &Daemon) -> BTreeMap<String, String> {
    daemon.status()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                format!(
                    "{} {} {}",
                    k["resourcePath"].as_str().unwrap_or("?"),
                    k["httpMethod"].as_str().unwrap(),
                    k["statusCode"].as_str().unwrap()
                ),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn template_spec(path: &str, method: &str, code: &str, template: &str) -> String {
    spec(
        "Shop",
        path,
        method,
        code,
        &format!("responseTemplates:\n  application/json: {template:?}\n"),
    )
}

// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn status_page_shows_every_key_state_drift_and_escapes_spec_values() {
    chromium();
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Shop").await;
    let orders = create_resource(&client, &api.api_id, &api.root_id, "orders").await;
    create_method(&client, &api.api_id, &orders, "GET", &["200", "400"]).await;
    let xss = create_resource(&client, &api.api_id, &api.root_id, "xss").await;
    create_method(&client, &api.api_id, &xss, "GET", &["200"]).await;
    // GET /cart has no method response 404: its spec is blocked.
    let cart = create_resource(&client, &api.api_id, &api.root_id, "cart").await;
    create_method(&client, &api.api_id, &cart, "GET", &["200"]).await;
    // POST /pay 500: the proxy answers its writes 400 BadRequestException: failed.
    let pay = create_resource(&client, &api.api_id, &api.root_id, "pay").await;
    create_method(&client, &api.api_id, &pay, "POST", &["500"]).await;
    let desired = desired_dir(&[
        (
            "orders.yaml",
            &format!(
                "{}---\n{}",
                template_spec("/orders", "GET", "200", "{\"orders\": $input.json('$')}"),
                template_spec("/orders", "GET", "400", "{\"error\": \"bad order\"}")
                    + "selectionPattern: \"4\\\\d{2}\"\n"
            ),
        ),
        (
            "xss.yaml",
            &template_spec("/xss", "GET", "200", XSS_TEMPLATE),
        ),
        (
            "cart.yaml",
            &template_spec("/cart", "GET", "404", "{\"error\": \"no cart\"}"),
        ),
        (
            "pay.yaml",
            &template_spec("/pay", "POST", "500", "{\"error\": \"payment failed\"}"),
        ),
    ]);
    let pay_key = format!("{}/{pay}/POST/500", api.api_id);
    let proxy = Proxy::start(
        &moto.endpoint,
        0x57A7,
        FaultPlan::none().rule(Rule::key(
            Op::PutIntegrationResponse,
            &pay_key,
            Fault::BadRequest,
        )),
    );
    let daemon = start_daemon(&proxy.url, desired.path(), CONFIG, &[], &[]);
    let settled = expect(&[
        ("/orders GET 200", "in_sync"),
        ("/orders GET 400", "in_sync"),
        ("/xss GET 200", "in_sync"),
        ("/cart GET 404", "blocked"),
        ("/pay POST 500", "failed"),
    ]);
    wait_until(WAIT, "every key in its expected state", || {
        states(&daemon) == settled
    });

    // Drift on the key whose template holds <script>: changed behind the daemon's
    // back (directly on moto), found by the next cycle, corrected. The correction is
    // seen where it happens, on the live API (the key's state cannot show it: it was
    // in sync before the drift and stays so if nothing is written).
    put_live(&client, &api.api_id, &xss, "GET", "200", None).await;
    let live_template = || async {
        get_ir(&client, &api.api_id, &xss, "GET", "200")
            .await
            .and_then(|ir| ir.response_templates)
            .and_then(|t| t.get("application/json").cloned())
    };
    assert_eq!(
        live_template().await.as_deref(),
        Some("{\"live\": true}"),
        "the drift is on the live API"
    );
    wait_live(
        WAIT,
        "the drifted template restored on the live API",
        || async { live_template().await.as_deref() == Some(XSS_TEMPLATE) },
    )
    .await;
    // The cycle that wrote it publishes the event; by then the write has succeeded, so
    // it says so.
    wait_until(WAIT, "the drift event", || {
        daemon.status()["driftEvents"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    });
    let status = daemon.status();
    let event = &status["driftEvents"][0];
    assert!(
        event["key"].as_str().unwrap().contains("/xss GET 200"),
        "{event}"
    );
    assert_eq!(event["correction"], "corrected", "{event}");
    assert_eq!(states(&daemon), settled);
    // One more cycle so the history holds several.
    daemon.wait_next_cycle();

    // The headers: HTML, a CSP that allows nothing external, nosniff.
    let answer = daemon.raw(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'none'; style-src 'unsafe-inline'"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");

    let url = format!("http://127.0.0.1:{}/", daemon.port);
    let dom = dump_dom(&url);
    assert_nothing_injected(&dom);
    assert!(dom.contains("data-ready=\"true\""), "{dom}");

    // Every key's row shows its state, API, path, method and status.
    let rows = key_rows(&dom);
    let expected = [
        (&orders, "GET", "200", "/orders", "in_sync", "in sync"),
        (&orders, "GET", "400", "/orders", "in_sync", "in sync"),
        (&xss, "GET", "200", "/xss", "in_sync", "in sync"),
        (&cart, "GET", "404", "/cart", "blocked", "blocked"),
        (&pay, "POST", "500", "/pay", "failed", "failed"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (res, method, code, path, state, label) in expected {
        let key = format!("{}/{res}/{method}/{code}", api.api_id);
        let row = rows
            .get(&key)
            .unwrap_or_else(|| panic!("no row for {key}: {rows:#?}"));
        assert_eq!(row.state, state, "{key}: {row:?}");
        assert!(row.cells[0].starts_with("Shop"), "{key}: {row:?}");
        assert_eq!(
            row.cells[1..5],
            [path, method, code, label],
            "{key}: {row:?}"
        );
    }
    let failed = &rows[&pay_key];
    assert!(
        failed.cells[5].contains("BadRequestException"),
        "{failed:?}"
    );
    assert!(failed.cells[6].contains("spec changes"), "{failed:?}");
    let blocked = &rows[&format!("{}/{cart}/GET/404", api.api_id)];
    assert!(
        blocked.cells[5].contains("no method response with status 404"),
        "{blocked:?}"
    );
    // The filter links, with counts.
    let nav = &dom[dom.find("<nav").unwrap()..dom.find("</nav>").unwrap()];
    for (state, n) in [
        ("failed", 1),
        ("blocked", 1),
        ("pending", 0),
        ("in_sync", 3),
    ] {
        let link = &nav[nav
            .find(&format!("href=\"?state={state}\""))
            .unwrap_or_else(|| panic!("no link for {state}: {nav}"))..];
        let link = &link[..link.find("</a>").unwrap()];
        assert!(
            text(&format!("<a {link}")).ends_with(&format!(" {n}")),
            "{link}"
        );
    }

    // The drift event: the template diff, the <script> shown as text.
    let drift = section(&dom, "drift");
    assert!(drift.contains("/xss GET 200"), "{drift}");
    assert!(
        drift.contains("<span class=\"correction\" data-correction=\"corrected\">corrected</span>"),
        "{drift}"
    );
    assert!(
        drift.contains("-{\"live\": true}") && drift.contains(&format!("+{XSS_AS_TEXT}")),
        "the drift diff does not show the template as text:\n{drift}"
    );
    // The cycles.
    let cycles = section(&dom, "cycles");
    assert!(
        cycles.matches("<tr class=\"cycle\"").count() >= 3,
        "{cycles}"
    );
    // Why each ran: the startup cycle, unless (on a loaded machine, with a 1 s interval)
    // ten interval cycles have pushed it out of the history the page shows.
    assert!(
        cycles.contains("<td data-label=\"Why\">startup")
            || cycles.contains("<td data-label=\"Why\">interval"),
        "{cycles}"
    );

    // The filter: only the blocked key, and its link marked as the current one.
    let blocked_dom = dump_dom(&format!("{url}?state=blocked"));
    assert_nothing_injected(&blocked_dom);
    let rows = key_rows(&blocked_dom);
    assert_eq!(
        rows.keys().cloned().collect::<Vec<_>>(),
        [format!("{}/{cart}/GET/404", api.api_id)],
        "{rows:#?}"
    );
    assert!(
        blocked_dom.contains(
            "href=\"?state=blocked\" class=\"pill p-blocked current\" aria-current=\"page\""
        ),
        "{blocked_dom}"
    );
    let failed_dom = dump_dom(&format!("{url}?state=failed"));
    assert_eq!(key_rows(&failed_dom).keys().collect::<Vec<_>>(), [&pay_key]);

    // For people: wide and narrow.
    screenshot(&url, "status-page.png", 1280, 1400);
    screenshot(&url, "status-page-narrow.png", 400, 2600);

    // A broken spec file: not ready, and the page says which file and line.
    std::fs::write(
        desired.path().join("pay.yaml"),
        template_spec("/pay", "POST", "500", "{}") + "bogusKey: 1\n",
    )
    .unwrap();
    wait_until(WAIT, "not ready", || {
        daemon.request("GET", "/readyz").0 == 503
    });
    let dom = dump_dom(&url);
    assert_nothing_injected(&dom);
    assert!(dom.contains("data-ready=\"false\""), "{dom}");
    let alert = section(&dom, "not-ready");
    assert!(
        alert.contains("pay.yaml:8:1: unknown field") && alert.contains("bogusKey"),
        "the reason does not name the file, line and key:\n{alert}"
    );
    assert!(
        alert.contains("The last valid set (5 specs) stays in use"),
        "{alert}"
    );
    screenshot(&url, "status-page-not-ready.png", 1280, 800);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_page_shows_the_pending_plan_as_text() {
    chromium();
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Shop").await;
    let xss = create_resource(&client, &api.api_id, &api.root_id, "xss").await;
    create_method(&client, &api.api_id, &xss, "GET", &["200"]).await;
    let cart = create_resource(&client, &api.api_id, &api.root_id, "cart").await;
    create_method(&client, &api.api_id, &cart, "GET", &["200"]).await;
    let desired = desired_dir(&[
        (
            "xss.yaml",
            &template_spec("/xss", "GET", "200", XSS_TEMPLATE),
        ),
        ("cart.yaml", &template_spec("/cart", "GET", "404", "{}")),
    ]);
    let daemon = moto.daemon(desired.path(), CONFIG, &["--dry-run"]);
    wait_until(WAIT, "the dry-run plan", || {
        states(&daemon) == expect(&[("/xss GET 200", "pending"), ("/cart GET 404", "blocked")])
    });

    let url = format!("http://127.0.0.1:{}/", daemon.port);
    let dom = dump_dom(&url);
    assert_nothing_injected(&dom);
    let rows = key_rows(&dom);
    let pending = &rows[&format!("{}/{xss}/GET/200", api.api_id)];
    assert_eq!(pending.state, "pending");
    assert_eq!(pending.cells[4], "pending");
    assert_eq!(pending.cells[6], "not written: dry-run");
    let plan = section(&dom, "pending-plan");
    assert!(plan.contains(XSS_AS_TEXT), "{plan}");
    assert!(
        plan.contains("Plan: 1 to create, 0 to update, 0 to delete, 1 blocked."),
        "{plan}"
    );
    assert!(dom.contains("dry-run</span>"), "{dom}");
    screenshot(&url, "status-page-dry-run.png", 1280, 1000);
    // Nothing was written.
    assert!(
        get_ir(&client, &api.api_id, &xss, "GET", "200")
            .await
            .is_none()
    );
}
