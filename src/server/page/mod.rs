//! `GET /`: the status page for people. One server-rendered HTML page from the same
//! [`Status`] as `/status`: readiness (and why not), per-key state with a filter by
//! state (plain links, `?state=blocked`), the last cycles, recent drift events with
//! their diffs and what became of their correction, and in dry-run the pending plan.
//!
//! No script at all and nothing external: the CSS is inline, the page reloads itself
//! with `<meta http-equiv="refresh">`, and [`CSP`] forbids everything else. Every
//! value that comes from specs, errors or the API goes through maud's escaping
//! (`(value)` splices); the only unescaped text is the constant stylesheet.

use std::time::{Duration, UNIX_EPOCH};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::render::targets::TargetInfo;
use crate::status::{
    Correction, CycleResult, CycleSummary, DriftEvent, KeyState, KeyStatus, Status,
};

/// The page's `Content-Security-Policy`: nothing may load or run, but the inline
/// stylesheet. No `script-src`: the page has no script.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Seconds between reloads.
pub const REFRESH_SECONDS: u32 = 5;

/// Most key rows on one page (problems first); the rest are counted, not listed, so
/// the page stays small with 100,000 keys.
pub const MAX_ROWS: usize = 500;

/// Which keys the page lists (`?state=...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    State(KeyState),
    /// A `state` value that names no state (shown back, escaped, with the choices).
    Unknown(String),
}

impl Filter {
    /// From the request's query string: `state=in_sync|pending|blocked|failed`; no
    /// `state`, `state=` or `state=all` is every key.
    pub fn from_query(query: Option<&str>) -> Filter {
        let value = query
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("state="));
        match value {
            None | Some("" | "all") => Filter::All,
            Some(v) => match KeyState::parse(v) {
                Some(state) => Filter::State(state),
                None => Filter::Unknown(v.chars().take(64).collect()),
            },
        }
    }

    fn admits(&self, state: KeyState) -> bool {
        match self {
            Filter::State(s) => *s == state,
            Filter::All | Filter::Unknown(_) => true,
        }
    }
}

fn label(state: KeyState) -> &'static str {
    match state {
        KeyState::InSync => "in sync",
        KeyState::Pending => "pending",
        KeyState::Blocked => "blocked",
        KeyState::Failed => "failed",
    }
}

/// What became of a drift event's correction, in words: "corrected" only once the
/// write that undoes it succeeded.
fn correction(d: &DriftEvent) -> String {
    match d.correction {
        Correction::ReportedOnly => "reported only (dry-run)".to_owned(),
        Correction::Pending => "correcting: not written yet".to_owned(),
        Correction::Failed => "correction failed (see the key's last error)".to_owned(),
        Correction::Corrected => match d.corrected_in_cycle {
            Some(c) if c != d.cycle => format!("corrected in cycle #{c}"),
            _ => "corrected".to_owned(),
        },
        Correction::InSyncAgain => "in sync again, not by a write of ours".to_owned(),
    }
}

/// `2026-11-25 10:31:02 UTC`.
fn timestamp(unix: f64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

/// `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`.
fn ago(now: f64, then: f64) -> String {
    let s = (now - then).max(0.0) as u64;
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86400),
    }
}

/// `in 4 s`, `in 2 min`.
fn within(seconds: f64) -> String {
    let s = seconds.ceil().max(1.0) as u64;
    if s < 120 {
        format!("in {s} s")
    } else {
        format!("in {} min", s.div_ceil(60))
    }
}

/// The time (the date hidden on narrow screens) and how long ago.
fn when(unix: f64, now: f64) -> Markup {
    let rfc3339 =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs_f64(unix.max(0.0)))
            .to_string();
    let (date, time) = rfc3339.split_once('T').unwrap_or(("", &rfc3339));
    html! {
        time datetime=(rfc3339) title=(timestamp(unix)) {
            span.date { (date) " " } (time.trim_end_matches('Z')) " UTC"
            span.meta { " · " (ago(now, unix)) }
        }
    }
}

/// When the key's next attempt is, in words.
fn next_retry(key: &KeyStatus, status: &Status, now: f64) -> String {
    match key.state {
        KeyState::InSync => "—".to_owned(),
        KeyState::Blocked => "each cycle, until the dependency exists".to_owned(),
        KeyState::Pending if status.dry_run => "not written: dry-run".to_owned(),
        KeyState::Pending => "next cycle".to_owned(),
        KeyState::Failed => match key.retry_in_seconds {
            None => "not retried until its spec changes (or SIGHUP, POST /reconcile)".to_owned(),
            Some(wait) => {
                // retry_in_seconds was measured when the cycle ended.
                let published = status
                    .last_cycle
                    .as_ref()
                    .map(|c| c.started_at_unix + c.duration_ms as f64 / 1000.0)
                    .unwrap_or(now);
                let left = published + wait - now;
                if left > 0.0 {
                    format!("{} (after backoff)", within(left))
                } else {
                    "next cycle".to_owned()
                }
            }
        },
    }
}

/// Text-plan lines, coloured by their first character (`+`, `-`, `@@`, `~`, `!`).
fn plan_text(text: &str) -> Markup {
    html! {
        pre.plan {
            @for line in text.lines() {
                @let t = line.trim_start();
                @let class = if t.starts_with("@@") {
                    "hunk"
                } else if t.starts_with("+++") || t.starts_with("---") {
                    "meta"
                } else if t.starts_with('+') {
                    "add"
                } else if t.starts_with('-') {
                    "del"
                } else if t.starts_with('~') {
                    "chg"
                } else if t.starts_with('!') {
                    "blk"
                } else {
                    ""
                };
                @if class.is_empty() { (line) } @else { span class=(class) { (line) } }
                "\n"
            }
        }
    }
}

fn result_class(result: CycleResult) -> &'static str {
    match result {
        CycleResult::Converged => "s-in_sync",
        CycleResult::Pending => "s-pending",
        _ => "s-failed",
    }
}

fn cycle_counts(c: &CycleSummary) -> String {
    let parts: Vec<String> = [
        (c.created, "created"),
        (c.updated, "updated"),
        (c.deleted, "deleted"),
        (c.failed, "failed"),
        (c.blocked, "blocked"),
        (c.waiting, "waiting"),
        (c.drift, "drift"),
        (c.deployed, "deployed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "no changes".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// [`render_for`] of a config without `targets` (the tests' shorthand).
#[cfg(test)]
pub fn render(status: &Status, filter: &Filter, now: f64) -> String {
    render_for(status, filter, now, None)
}

/// The whole page for `status`, listing the keys `filter` admits; `now` (Unix
/// seconds) is for "ago" and "in" texts. For one target of several
/// (`/targets/<name>/`) the target is named in the title and header, with a link back
/// to the overview.
pub fn render_for(
    status: &Status,
    filter: &Filter,
    now: f64,
    target: Option<&TargetInfo>,
) -> String {
    // The target's page is two levels down; the shared endpoints are at the root.
    let root = if target.is_some() { "../../" } else { "" };
    let not_ready = status.not_ready_reason();
    let count = |state: KeyState| status.keys.iter().filter(|k| k.state == state).count();
    let mut keys: Vec<&KeyStatus> = status
        .keys
        .iter()
        .filter(|k| filter.admits(k.state))
        .collect();
    // Problems first, then by name.
    keys.sort_by_cached_key(|k| {
        (
            KeyState::ALL.iter().position(|s| *s == k.state),
            k.rest_api_name
                .clone()
                .unwrap_or_else(|| k.rest_api_id.clone()),
            k.resource_path
                .clone()
                .unwrap_or_else(|| k.resource_id.clone()),
            k.http_method.clone(),
            k.status_code.clone(),
        )
    });
    let listed = keys.len();
    keys.truncate(MAX_ROWS);
    let title = format!(
        "{}{} · apigw-reconciler",
        if not_ready.is_some() {
            "NOT READY"
        } else {
            "ready"
        },
        target.map(|t| format!(" · {}", t.name)).unwrap_or_default()
    );
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title))
            body {
                header {
                    h1 {
                        "apigw-reconciler"
                        @if let Some(t) = target { " · target " code #target { (t.name) } }
                    }
                    @if not_ready.is_some() {
                        span.badge.not-ready #readiness data-ready="false" { "not ready" }
                    } @else {
                        span.badge.ready #readiness data-ready="true" { "ready" }
                    }
                    @if status.dry_run {
                        span.badge.dry title="nothing is written; see the pending plan" { "dry-run" }
                    }
                    span.meta {
                        (status.desired_specs) " specs · "
                        @if let Some(c) = &status.last_cycle {
                            "last cycle #" (c.id) " " (ago(now, c.started_at_unix)) " · "
                        }
                        @if let Some(t) = target {
                            (t.region) " · account " (t.account.as_deref().unwrap_or("unknown")) " · "
                            a href=(root) { "all targets" } " · "
                        }
                        "refreshes every " (REFRESH_SECONDS) " s · "
                        a href="status" { "/status" } " · " a href={ (root) "metrics" } { "/metrics" }
                    }
                }

                @if let Some(reason) = &not_ready {
                    section.alert #not-ready {
                        strong { "Not ready: " }
                        @if let Some(error) = status.desired_set_error.as_deref().filter(|_| !status.desired_set_valid && status.last_cycle.is_some()) {
                            "the desired set is invalid. "
                            @if status.desired_specs > 0 {
                                "The last valid set (" (status.desired_specs) " specs) stays in use; nothing from the broken files is applied."
                            } @else {
                                "Nothing is applied until it loads."
                            }
                            pre.reason { (error) }
                        } @else {
                            (reason) "."
                            @if let Some(error) = status.last_cycle.as_ref().and_then(|c| c.error.as_deref()) {
                                pre.reason { (error) }
                            }
                        }
                    }
                }

                section #keys {
                    h2 { "Managed keys" }
                    nav.filter aria-label="filter by state" {
                        @let all = *filter == Filter::All;
                        a href="./" class=(if all { "pill current" } else { "pill" })
                            aria-current=[all.then_some("page")] {
                            "all " span.n { (status.keys.len()) }
                        }
                        @for state in KeyState::ALL {
                            @let current = *filter == Filter::State(state);
                            a href={ "?state=" (state.as_str()) }
                                class={ "pill p-" (state.as_str()) (if current { " current" } else { "" }) }
                                aria-current=[current.then_some("page")] {
                                (label(state)) " " span.n { (count(state)) }
                            }
                        }
                    }
                    @if let Filter::Unknown(value) = filter {
                        p.alert #bad-filter {
                            "Unknown state " code { (value) } ": use one of "
                            @for (i, state) in KeyState::ALL.iter().enumerate() {
                                @if i > 0 { ", " }
                                code { (state.as_str()) }
                            }
                            ". Showing every key."
                        }
                    }
                    @if keys.is_empty() {
                        p.empty {
                            @match filter {
                                Filter::State(state) => { "No key is " (label(*state)) "." }
                                _ if status.last_cycle.is_none() => { "No keys yet: the first cycle has not finished." }
                                _ => { "No managed keys." }
                            }
                        }
                    } @else {
                        table.cards #key-table {
                            thead { tr {
                                th { "API" } th { "Path" } th { "Method" } th { "Status" }
                                th { "State" } th { "Last error" } th { "Next retry" }
                            } }
                            tbody {
                                @for k in &keys {
                                    tr.key data-state=(k.state.as_str())
                                        data-key={ (k.rest_api_id) "/" (k.resource_id) "/" (k.http_method) "/" (k.status_code) } {
                                        td.id data-label="API" {
                                            @if let Some(name) = &k.rest_api_name {
                                                (name) " " span.meta { "(" (k.rest_api_id) ")" }
                                            } @else { (k.rest_api_id) }
                                        }
                                        td.id data-label="Path" {
                                            @if let Some(path) = &k.resource_path { code { (path) } } @else { code { (k.resource_id) } }
                                        }
                                        td.id data-label="Method" { (k.http_method) }
                                        td.id data-label="Status" { (k.status_code) }
                                        td data-label="State" {
                                            span class={ "badge state s-" (k.state.as_str()) } { (label(k.state)) }
                                            @if k.failures > 1 { " " span.meta { "×" (k.failures) } }
                                        }
                                        @if let Some(e) = &k.last_error {
                                            td.err data-label="Last error" { (e) }
                                        } @else {
                                            td.err.none data-label="Last error" { span.meta { "—" } }
                                        }
                                        td.none[k.state == KeyState::InSync] data-label="Next retry" {
                                            (next_retry(k, status, now))
                                        }
                                    }
                                }
                            }
                        }
                        @if listed > keys.len() {
                            p.meta #more {
                                "Showing the first " (keys.len()) " of " (listed)
                                " keys, problems first; filter by state to narrow, or read "
                                a href="status" { "/status" } " for all."
                            }
                        }
                    }
                }

                @if status.dry_run {
                    section #pending-plan {
                        h2 { "Pending plan " span.meta { "(dry-run: what would be written)" } }
                        @if let Some(plan) = &status.pending_plan {
                            (plan_text(plan))
                        } @else {
                            p.empty { "No plan: the last cycle could not make one." }
                        }
                    }
                }

                section #cycles {
                    h2 { "Recent cycles" }
                    @if status.recent_cycles.is_empty() {
                        p.empty { "No cycle has finished yet." }
                    } @else {
                        table.cards.compact {
                            thead { tr {
                                th { "Cycle" } th { "Started" } th { "Why" } th { "Result" }
                                th { "Took" } th { "Counts" }
                            } }
                            tbody {
                                @for c in &status.recent_cycles {
                                    tr.cycle data-result=(c.result.as_str()) {
                                        td data-label="Cycle" { "#" (c.id) }
                                        td data-label="Started" { (when(c.started_at_unix, now)) }
                                        td data-label="Why" { (c.reasons.join(", ")) }
                                        td data-label="Result" {
                                            span class={ "badge " (result_class(c.result)) } { (c.result.as_str()) }
                                        }
                                        td data-label="Took" { (c.duration_ms) " ms" }
                                        td.err data-label="Counts" {
                                            (cycle_counts(c))
                                            @if let Some(e) = &c.error { div { (e) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }

                section #drift {
                    h2 { "Drift " span.meta { "(changed outside apigw-reconciler, newest first)" } }
                    @if status.drift_events.is_empty() {
                        p.empty { "No drift seen since the daemon started." }
                    }
                    @for (i, d) in status.drift_events.iter().enumerate() {
                        details.drift open[i == 0] {
                            summary {
                                code { (d.key) }
                                span.meta {
                                    " · cycle #" (d.cycle) " · " (timestamp(d.at_unix)) " (" (ago(now, d.at_unix)) ") · "
                                    span.correction data-correction=(d.correction.as_str()) { (correction(d)) }
                                }
                            }
                            (plan_text(&d.plan))
                        }
                    }
                }

                footer.meta {
                    "Rendered " (timestamp(now)) ". JSON: " a href="status" { "/status" } "."
                }
            }
        }
    };
    markup.into_string()
}

const CSS: &str = r#"
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--soft:#f6f8fa;--line:#d0d7de;--muted:#59636e;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--blk:#8250df}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--soft:#161b22;--line:#30363d;
--muted:#9198a1;--ok:#2ea043;--warn:#bb8009;--bad:#da3633;--blk:#8957e5}}
*{box-sizing:border-box}
body{margin:0 auto;padding:1rem;max-width:90rem;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem .8rem;padding-bottom:.6rem;border-bottom:1px solid var(--line)}
h1{font-size:1.25rem;margin:0}
h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:inherit}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.85em}
.meta{color:var(--muted);font-size:.85rem;font-weight:normal}
.badge{display:inline-block;padding:.05rem .55rem;border-radius:1rem;font-weight:600;font-size:.8rem;
color:#fff;white-space:nowrap;background:var(--muted)}
.ready,.s-in_sync{background:var(--ok)}.s-pending{background:var(--warn)}
.s-blocked{background:var(--blk)}.not-ready,.s-failed{background:var(--bad)}
.alert{border-left:4px solid var(--bad);background:var(--soft);padding:.6rem .8rem;margin:1rem 0}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.6rem .7rem;
margin:.4rem 0;overflow-x:auto;line-height:1.4}
pre.reason{white-space:pre-wrap;overflow-wrap:anywhere;margin-bottom:0}
.add{color:var(--ok)}.del{color:var(--bad)}.chg{color:var(--warn)}.blk,.hunk{color:var(--blk)}
nav.filter{display:flex;flex-wrap:wrap;gap:.4rem;margin:.3rem 0 .6rem}
.pill{text-decoration:none;border:1px solid var(--line);border-radius:1rem;padding:.15rem .7rem;font-size:.9rem}
.pill .n{font-weight:600}
.pill.current{background:var(--fg);color:var(--bg);border-color:var(--fg)}
.p-failed .n{color:var(--bad)}.p-blocked .n{color:var(--blk)}.p-pending .n{color:var(--warn)}.p-in_sync .n{color:var(--ok)}
.pill.current .n{color:inherit}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
td.err{overflow-wrap:anywhere;max-width:34rem}
tr.key[data-state=failed] td:first-child{box-shadow:inset 3px 0 var(--bad)}
tr.key[data-state=blocked] td:first-child{box-shadow:inset 3px 0 var(--blk)}
tr.key[data-state=pending] td:first-child{box-shadow:inset 3px 0 var(--warn)}
.empty{color:var(--muted)}
details.drift{margin:.4rem 0}
details.drift summary{cursor:pointer;overflow-wrap:anywhere}
.correction[data-correction=failed]{color:var(--bad)}.correction[data-correction=pending]{color:var(--warn)}
footer{margin-top:1.5rem;padding-top:.5rem;border-top:1px solid var(--line)}
@media (max-width:720px){
body{padding:.6rem}
table.cards thead{display:none}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:auto;max-width:none}
table.cards tr{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;padding:.3rem .6rem}
table.cards td{display:flex;gap:.6rem;border:0;padding:.15rem 0}
table.cards td::before{content:attr(data-label);flex:0 0 5.5rem;color:var(--muted);font-size:.8rem}
table.cards td.id{display:inline-block;padding-right:.35rem;font-weight:600}
table.cards td.id::before,table.compact td::before{content:none}
table.cards td.none{display:none}
table.compact td{display:inline;padding-right:.5rem;white-space:nowrap}
table.compact td.err{display:block;white-space:normal}
pre.plan{white-space:pre-wrap;overflow-wrap:anywhere}
.date{display:none}
tr.key[data-state] td:first-child{box-shadow:none}
tr.key[data-state=failed]{border-left:4px solid var(--bad)}
tr.key[data-state=blocked]{border-left:4px solid var(--blk)}
tr.key[data-state=pending]{border-left:4px solid var(--warn)}
pre{font-size:.75rem}
}
"#;

/// The `<head>` every page has: refresh, no referrer, the inline stylesheet.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta http-equiv="refresh" content=(REFRESH_SECONDS);
            meta name="referrer" content="no-referrer";
            title { (title) }
            style { (PreEscaped(CSS)) }
        }
    }
}

/// `/` with several targets: one row per target (readiness and why not, the last
/// cycle, keys by state), each linking to its own page.
pub fn overview(targets: &[(TargetInfo, Status)], now: f64) -> String {
    let not_ready = targets
        .iter()
        .filter(|(_, s)| s.not_ready_reason().is_some())
        .count();
    let title = if not_ready > 0 {
        format!(
            "NOT READY ({not_ready} of {}) · apigw-reconciler",
            targets.len()
        )
    } else {
        "ready · apigw-reconciler".to_owned()
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title))
            body {
                header {
                    h1 { "apigw-reconciler" }
                    @if not_ready > 0 {
                        span.badge.not-ready #readiness data-ready="false" { "not ready" }
                    } @else {
                        span.badge.ready #readiness data-ready="true" { "ready" }
                    }
                    span.meta {
                        (targets.len()) " targets · refreshes every " (REFRESH_SECONDS) " s · "
                        a href="status" { "/status" } " · " a href="metrics" { "/metrics" }
                    }
                }
                section #targets {
                    h2 { "Targets" }
                    table.cards #target-table {
                        thead { tr {
                            th { "Target" } th { "Region" } th { "Account" } th { "Ready" }
                            th { "Last cycle" } th { "Keys" }
                        } }
                        tbody {
                            @for (t, status) in targets {
                                @let reason = status.not_ready_reason();
                                tr.target data-target=(t.name) data-ready=(reason.is_none()) {
                                    td data-label="Target" {
                                        a href={ "targets/" (t.name) "/" } { code { (t.name) } }
                                        @if status.dry_run { " " span.badge.dry { "dry-run" } }
                                    }
                                    td data-label="Region" { (t.region) }
                                    td data-label="Account" { (t.account.as_deref().unwrap_or("unknown")) }
                                    @if let Some(why) = &reason {
                                        td.err data-label="Ready" {
                                            span.badge.not-ready { "not ready" } " " (why)
                                        }
                                    } @else {
                                        td data-label="Ready" { span.badge.ready { "ready" } }
                                    }
                                    td data-label="Last cycle" {
                                        @if let Some(c) = &status.last_cycle {
                                            "#" (c.id) " "
                                            span class={ "badge " (result_class(c.result)) } { (c.result.as_str()) }
                                            " " (ago(now, c.started_at_unix))
                                        } @else { span.meta { "none yet" } }
                                    }
                                    td data-label="Keys" {
                                        @for state in KeyState::ALL {
                                            @let n = status.keys.iter().filter(|k| k.state == state).count();
                                            @if n > 0 {
                                                span class={ "badge state s-" (state.as_str()) } { (label(state)) " " (n) } " "
                                            }
                                        }
                                        span.meta { (status.desired_specs) " specs" }
                                    }
                                }
                            }
                        }
                    }
                }
                footer.meta {
                    "Rendered " (timestamp(now)) ". JSON: " a href="status" { "/status" } "."
                }
            }
        }
    };
    markup.into_string()
}

#[cfg(test)]
mod tests;
