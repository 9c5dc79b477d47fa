use super::*;
use crate::model::Key;
use crate::status::{
    Correction, CycleResult, CycleSummary, DriftEvent, KeyState, KeyStatus, Status,
};

const NOW: f64 = 1_795_000_000.0;

fn key(api: &str, path: &str, method: &str, code: &str, state: KeyState) -> KeyStatus {
    KeyStatus {
        rest_api_id: format!("id-{api}"),
        resource_id: format!("res{}", path.len()),
        http_method: method.into(),
        status_code: code.into(),
        rest_api_name: Some(api.into()),
        resource_path: Some(path.into()),
        state,
        last_error: None,
        failures: 0,
        retry_in_seconds: None,
    }
}

fn cycle(id: u64, result: CycleResult) -> CycleSummary {
    CycleSummary {
        id,
        reasons: vec!["interval"],
        started_at_unix: NOW - 10.0,
        duration_ms: 1000,
        result,
        ..CycleSummary::default()
    }
}

fn ready_status() -> Status {
    let mut failed = key("Shop", "/orders", "POST", "500", KeyState::Failed);
    failed.last_error = Some("PutIntegrationResponse: 400 BadRequestException".into());
    failed.failures = 3;
    failed.retry_in_seconds = Some(30.0);
    let mut blocked = key("Shop", "/cart", "GET", "404", KeyState::Blocked);
    blocked.last_error = Some("method response 404 does not exist".into());
    let last = cycle(7, CycleResult::Failed);
    Status {
        ready: true,
        desired_set_valid: true,
        desired_specs: 4,
        last_cycle: Some(last.clone()),
        recent_cycles: vec![last, cycle(6, CycleResult::Converged)],
        keys: vec![
            key("Shop", "/orders", "GET", "200", KeyState::InSync),
            failed,
            blocked,
            key("Shop", "/items", "GET", "200", KeyState::Pending),
        ],
        ..Status::default()
    }
}

/// A drift event found in cycle 7, its correction as `correction` says.
fn drift_event(key: &str, correction: Correction, plan: &str) -> DriftEvent {
    DriftEvent {
        cycle: 7,
        at_unix: NOW - 5.0,
        key: key.into(),
        identity: Key {
            rest_api_id: "id-Shop".into(),
            resource_id: "res7".into(),
            http_method: "GET".into(),
            status_code: "200".into(),
        },
        correcting: correction != Correction::ReportedOnly,
        correction,
        corrected_in_cycle: (correction == Correction::Corrected).then_some(7),
        plan: plan.into(),
    }
}

/// The count on the filter link of `state` (`all` for the link to every key).
fn link_count(html: &str, state: &str) -> usize {
    let href = if state == "all" {
        "href=\"./\"".to_owned()
    } else {
        format!("href=\"?state={state}\"")
    };
    let link = &html[html
        .find(&href)
        .unwrap_or_else(|| panic!("no link for {state}: {html}"))..];
    let link = &link[..link.find("</a>").unwrap()];
    let n = &link[link.find("<span class=\"n\">").expect("a count") + 16..];
    n[..n.find('<').unwrap()].parse().unwrap()
}

/// The `data-key` and `data-state` of every key row, in page order.
fn rows(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..].split('"').next()?.to_owned())
    };
    html.split("<tr ")
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap())
        .filter(|tag| tag.starts_with("class=\"key\""))
        .map(|tag| {
            (
                attr(tag, "data-key").unwrap(),
                attr(tag, "data-state").unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_key_has_a_row_with_its_state_problems_first() {
    let html = render(&ready_status(), &Filter::All, NOW);
    let states: Vec<String> = rows(&html).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        states,
        ["failed", "blocked", "pending", "in_sync"],
        "{html}"
    );
    assert!(
        html.contains("id=\"readiness\" data-ready=\"true\""),
        "{html}"
    );
    assert!(!html.contains("id=\"not-ready\""), "{html}");
    // The failed key: its error, failures and when it is retried (30 s after the
    // cycle ended 9 s ago).
    assert!(html.contains("PutIntegrationResponse: 400 BadRequestException"));
    assert!(html.contains("×3"), "{html}");
    assert!(html.contains("in 21 s (after backoff)"), "{html}");
    assert!(html.contains("method response 404 does not exist"));
    // The cycles, newest first.
    let (c7, c6) = (html.find("#7</td>").unwrap(), html.find("#6</td>").unwrap());
    assert!(c7 < c6, "{html}");
    // No script and nothing external.
    assert!(!html.contains("<script"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
}

#[test]
fn values_from_specs_errors_and_the_api_are_escaped() {
    let mut status = ready_status();
    status.dry_run = true;
    let mut evil = key(
        "<script>alert('api')</script>",
        "/<b>x</b>",
        "GET",
        "200",
        KeyState::Failed,
    );
    evil.resource_id = "r\" onmouseover=\"alert(1)".into();
    evil.last_error = Some("<img src=x onerror=alert(1)>".into());
    status.keys.push(evil);
    status.drift_events.push(drift_event(
        "Shop (id) /<i>p</i> GET 200",
        Correction::Corrected,
        "~ update Shop\n-      {\"live\": true}\n+      <script>document.title='pwned'</script><b id=\"injected\">x</b>\n",
    ));
    status.pending_plan = Some("+ create Shop\n  </pre><script>alert(2)</script>\n".into());
    status.last_cycle.as_mut().unwrap().error = Some("<svg onload=alert(3)>".into());
    status.recent_cycles[0].error = Some("<svg onload=alert(3)>".into());
    let html = render(&status, &Filter::Unknown("<x>".into()), NOW);

    for injected in [
        "<script",
        "<img",
        "<svg",
        "<b>",
        "<i>",
        "<b id",
        "<x>",
        "onmouseover=\"",
        "</pre><script",
    ] {
        assert!(
            !html.contains(injected),
            "{injected:?} reached the page unescaped:\n{html}"
        );
    }
    for shown in [
        "&lt;script&gt;alert('api')&lt;/script&gt;",
        "/&lt;b&gt;x&lt;/b&gt;",
        "r&quot; onmouseover=&quot;alert(1)",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b id=&quot;injected&quot;&gt;x&lt;/b&gt;",
        "&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
        "&lt;svg onload=alert(3)&gt;",
        "<code>&lt;x&gt;</code>",
    ] {
        assert!(html.contains(shown), "{shown:?} not shown as text:\n{html}");
    }
}

/// A value that is already an entity (`&lt;img&gt;`) or a forged summary stays text:
/// `&` is escaped too, so no entity from a value decodes to markup.
#[test]
fn entities_in_values_stay_text() {
    let mut status = ready_status();
    let mut evil = key(
        "Shop &lt;img src=x onerror=alert(1)&gt; &#60;b&#62;",
        "/things",
        "GET",
        "200",
        KeyState::Failed,
    );
    evil.last_error = Some("**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**\n&#x3C;svg onload=alert(1)&#x3E;".into());
    status.keys.push(evil);
    let html = render(&status, &Filter::All, NOW);
    assert!(
        html.contains("Shop &amp;lt;img src=x onerror=alert(1)&amp;gt; &amp;#60;b&amp;#62;"),
        "{html}"
    );
    assert!(
        html.contains("&amp;#x3C;svg onload=alert(1)&amp;#x3E;"),
        "{html}"
    );
    assert!(
        !html.contains("&lt;img") && !html.contains("&lt;svg"),
        "{html}"
    );
}

#[test]
fn the_filter_lists_only_keys_in_that_state() {
    let mut status = ready_status();
    // Three in sync, so no count is another's by accident.
    for path in ["/a", "/bb"] {
        status
            .keys
            .push(key("Shop", path, "GET", "200", KeyState::InSync));
    }
    let html = render(&status, &Filter::State(KeyState::Blocked), NOW);
    let rows = rows(&html);
    assert_eq!(rows.len(), 1, "{html}");
    assert_eq!(rows[0].1, "blocked");
    assert!(
        html.contains(
            "href=\"?state=blocked\" class=\"pill p-blocked current\" aria-current=\"page\""
        ),
        "{html}"
    );
    // Every state has its link, with its count: of every key, not of the rows shown.
    for (state, n) in [
        ("all", 6),
        ("in_sync", 3),
        ("pending", 1),
        ("blocked", 1),
        ("failed", 1),
    ] {
        assert_eq!(link_count(&html, state), n, "{state}");
    }
    let html = render(&status, &Filter::State(KeyState::InSync), NOW);
    assert_eq!(super::tests::rows(&html).len(), 3);
    let mut none_failed = status.clone();
    none_failed.keys.retain(|k| k.state != KeyState::Failed);
    let html = render(&none_failed, &Filter::State(KeyState::Failed), NOW);
    assert!(super::tests::rows(&html).is_empty());
    assert!(html.contains("No key is failed."), "{html}");
    // An unknown state: every key, and the choices.
    let html = render(&status, &Filter::Unknown("stuck".into()), NOW);
    assert_eq!(super::tests::rows(&html).len(), 6);
    assert!(html.contains("Unknown state <code>stuck</code>"), "{html}");
}

#[test]
fn the_query_string_picks_the_filter() {
    assert_eq!(Filter::from_query(None), Filter::All);
    assert_eq!(Filter::from_query(Some("")), Filter::All);
    assert_eq!(Filter::from_query(Some("state=all")), Filter::All);
    assert_eq!(
        Filter::from_query(Some("state=blocked")),
        Filter::State(KeyState::Blocked)
    );
    assert_eq!(
        Filter::from_query(Some("x=1&state=in_sync")),
        Filter::State(KeyState::InSync)
    );
    assert_eq!(
        Filter::from_query(Some("state=%3Cb%3E")),
        Filter::Unknown("%3Cb%3E".into())
    );
}

#[test]
fn not_ready_says_why() {
    // An invalid desired set: the file:line message, and what stays in use.
    let mut status = ready_status();
    status.ready = false;
    status.desired_set_valid = false;
    status.desired_set_error = Some("desired/shop.yaml:3:5: unknown key `statusCod`".into());
    let html = render(&status, &Filter::All, NOW);
    assert!(
        html.contains("id=\"readiness\" data-ready=\"false\""),
        "{html}"
    );
    let alert = &html[html.find("id=\"not-ready\"").expect("a not-ready section")..];
    let alert = &alert[..alert.find("</section>").unwrap()];
    assert!(
        alert.contains("desired/shop.yaml:3:5: unknown key `statusCod`"),
        "{alert}"
    );
    assert!(
        alert.contains("The last valid set (4 specs) stays in use"),
        "{alert}"
    );
    assert!(html.contains("<title>NOT READY"), "{html}");

    // Before the first cycle.
    let html = render(&Status::default(), &Filter::All, NOW);
    assert!(html.contains("first cycle not finished"), "{html}");
    assert!(html.contains("No keys yet"), "{html}");

    // The live state could not be read: the cycle's error.
    let mut status = ready_status();
    status.ready = false;
    status.last_cycle.as_mut().unwrap().error = Some("GetResources: connection refused".into());
    let html = render(&status, &Filter::All, NOW);
    let alert = &html[html.find("id=\"not-ready\"").unwrap()..];
    assert!(
        alert.contains("last cycle could not read the live state")
            && alert.contains("GetResources: connection refused"),
        "{alert}"
    );
}

#[test]
fn dry_run_shows_the_pending_plan_and_drift_shows_its_diff() {
    let mut status = ready_status();
    status.dry_run = true;
    status.pending_plan = Some("+ create  Shop (id) /items GET 200\nPlan: 1 to create, 0 to update, 0 to delete, 0 blocked.\n".into());
    status.drift_events = vec![drift_event(
        "Shop (id-Shop) /orders GET 200",
        Correction::ReportedOnly,
        "~ update  Shop (id-Shop) /orders GET 200\n-{\"live\": true}\n+{\"ok\": true}\n",
    )];
    let html = render(&status, &Filter::All, NOW);
    let plan = &html[html.find("id=\"pending-plan\"").expect("a pending plan")..];
    assert!(plan.contains("Plan: 1 to create"), "{plan}");
    assert!(html.contains("dry-run</span>"), "{html}");
    let drift = &html[html.find("id=\"drift\"").unwrap()..];
    assert!(
        drift.contains("<span class=\"del\">-{&quot;live&quot;: true}</span>"),
        "{drift}"
    );
    assert!(
        drift.contains("<span class=\"add\">+{&quot;ok&quot;: true}</span>"),
        "{drift}"
    );
    assert!(drift.contains("reported only (dry-run)"), "{drift}");

    // Not in dry-run: no pending-plan section.
    status.dry_run = false;
    let html = render(&status, &Filter::All, NOW);
    assert!(!html.contains("id=\"pending-plan\""), "{html}");
}

#[test]
fn a_drift_event_says_corrected_only_once_its_write_succeeded() {
    let label = |correction: Correction, corrected_in: Option<u64>| {
        let mut status = ready_status();
        let mut event = drift_event("Shop (id-Shop) /orders GET 200", correction, "~ update\n");
        event.corrected_in_cycle = corrected_in;
        status.drift_events = vec![event];
        let html = render(&status, &Filter::All, NOW);
        let drift = &html[html.find("id=\"drift\"").unwrap()..];
        let span = &drift[drift.find("<span class=\"correction\"").expect("a label")..];
        let span = &span[..span.find("</span>").unwrap() + 7];
        assert!(
            span.contains(&format!("data-correction=\"{}\"", correction.as_str())),
            "{span}"
        );
        span[span.find('>').unwrap() + 1..span.len() - 7].to_owned()
    };
    assert_eq!(
        label(Correction::Pending, None),
        "correcting: not written yet"
    );
    assert_eq!(
        label(Correction::Failed, None),
        "correction failed (see the key's last error)"
    );
    assert_eq!(label(Correction::Corrected, Some(7)), "corrected");
    assert_eq!(
        label(Correction::Corrected, Some(9)),
        "corrected in cycle #9"
    );
    assert_eq!(
        label(Correction::InSyncAgain, None),
        "in sync again, not by a write of ours"
    );
    assert_eq!(
        label(Correction::ReportedOnly, None),
        "reported only (dry-run)"
    );
}

#[test]
fn a_large_set_lists_problems_first_up_to_the_row_limit() {
    let mut status = ready_status();
    for i in 0..MAX_ROWS + 100 {
        status.keys.push(key(
            "Big",
            &format!("/r{i}"),
            "GET",
            "200",
            KeyState::InSync,
        ));
    }
    let html = render(&status, &Filter::All, NOW);
    let rows = rows(&html);
    assert_eq!(rows.len(), MAX_ROWS);
    assert_eq!(rows[0].1, "failed");
    assert_eq!(rows[1].1, "blocked");
    assert!(
        html.contains(&format!(
            "Showing the first {MAX_ROWS} of {} keys",
            MAX_ROWS + 104
        )),
        "{html}"
    );
    // The counts on the filter links are of every key.
    assert!(html.contains(&format!(
        "in sync <span class=\"n\">{}</span>",
        MAX_ROWS + 101
    )));
    let html = render(&ready_status(), &Filter::All, NOW);
    assert!(!html.contains("id=\"more\""));
}
