//! Any bytes, as UTF-8 (lossily), through the VTL parser (`vtl::parse`), and what
//! parses through `vtl::render` with small fixed inputs (a JSON body, parameters,
//! context, stage variables), once within the default budgets and once within small
//! ones (so the budget paths are fuzzed too). Neither may panic, an error's line and
//! column must name a place inside the template: a line it has (or the one after a
//! final line break, where an unclosed `#if` is reported) and a column on that line (or
//! just after its last character), and a budget error must say which `limits` key it
//! is; within the small budgets the work and memory counted stay within them.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use apigw_vtl::{self as vtl, Inputs, Params};
use libfuzzer_sys::fuzz_target;

/// The inputs every render gets: the golden corpus's body and variables, trimmed.
fn inputs() -> &'static Inputs {
    static INPUTS: OnceLock<Inputs> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let context = serde_json::json!({
            "requestId": "req-1",
            "stage": "prod",
            "httpMethod": "GET",
            "resourcePath": "/orders/{id}",
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/8.0"}
        });
        Inputs {
            body: r#"{"id":42,"name":"Widget","price":9.5,"tags":["a","b"],"owner":{"name":"Ann","email":"ann@example.com"},"errorMessage":"Not found: order 42","empty":null}"#.into(),
            params: Params {
                path: BTreeMap::from([("id".into(), "42".into())]),
                querystring: BTreeMap::from([("q".into(), "a b".into())]),
                header: BTreeMap::from([("Accept".into(), "application/json".into())]),
            },
            context: context.as_object().cloned().unwrap_or_default(),
            stage_variables: BTreeMap::from([("origin".into(), "https://example.com".into())]),
        }
    })
}

/// The length in characters of each line of `text`, lines ending at `\n`, `\r\n` or a
/// lone `\r` (as the parser counts them); a final line break is followed by an empty
/// line.
fn line_lengths(text: &str) -> Vec<usize> {
    let mut lengths = vec![0];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => lengths.push(0),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lengths.push(0);
            }
            _ => *lengths.last_mut().expect("never empty") += 1,
        }
    }
    lengths
}

/// `line`:`col` is a place in `text`.
fn check_place(text: &str, line: usize, col: usize, what: &str) {
    let lengths = line_lengths(text);
    assert!(
        line >= 1 && line <= lengths.len(),
        "{what} at line {line}, but the template has {} line(s): {text:?}",
        lengths.len()
    );
    let width = lengths[line - 1];
    assert!(
        col >= 1 && col <= width + 1,
        "{what} at {line}:{col}, but line {line} has {width} character(s): {text:?}"
    );
}

/// An error has a message and names a place in `text`.
fn check_error(text: &str, line: usize, col: usize, message: &str, what: &str) {
    assert!(!message.is_empty(), "empty message for {text:?}");
    check_place(text, line, col, &format!("{what} {message:?}"));
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match vtl::parse(&text) {
        Err(e) => check_error(&text, e.line, e.col, &e.message, "syntax error"),
        Ok(template) => {
            let small = vtl::Limits {
                steps: 20_000,
                regex_steps: 20_000,
                work_bytes: 1 << 20,
                memory_bytes: 1 << 20,
            };
            for limits in [vtl::Limits::default(), small] {
                let mut meter = vtl::Meter::new(limits, None);
                match vtl::render_metered(&template, inputs(), &mut meter) {
                    Ok(rendered) => {
                        assert!(rendered.body.len() <= vtl::MAX_OUTPUT_BYTES, "{text:?}");
                    }
                    Err(e) => {
                        check_error(&text, e.line, e.col, &e.message, "render error");
                        if let Some(limit) = e.limit {
                            let key = format!("limits.{}", limit.config_key());
                            assert!(e.message.contains(&key), "{:?} lacks {key}", e.message);
                        }
                    }
                }
                let used = meter.usage();
                if limits == small {
                    // A budget may be passed by the one step that found it out, never by
                    // more than what one step can do (bounded by the output cap).
                    assert!(used.steps <= small.steps + 1, "{used:?} {text:?}");
                    assert!(
                        used.peak_memory_bytes <= small.memory_bytes + vtl::MAX_OUTPUT_BYTES as u64,
                        "{used:?} {text:?}"
                    );
                }
            }
        }
    }
});
