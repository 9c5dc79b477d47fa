//! Templates' `matches`, `replaceAll`, `replaceFirst`, `split(regex)` and
//! `split(regex, limit)` against real Java: every case of
//! crates/apigw-vtl/golden/java-string-methods.json (made by
//! crates/apigw-vtl/golden/java-string-methods/generate.sh from its cases.txt) is rendered as a
//! template, the way API Gateway renders one, and must give Java's result, or fail with
//! Java's exception and message.

use serde_json::Value as J;

use crate::{Inputs, parse, render};

const GOLDEN: &str = include_str!("../../golden/java-string-methods.json");

/// Separates a split's parts in the rendered output (no golden input holds it).
const SEP: char = '\u{1}';

/// The template calling the case's method on `$stageVariables` (so any string, control
/// characters included, reaches the method as it is), and what Java's outcome renders as.
fn template(case: &J) -> (String, Result<String, String>) {
    let method = case["method"].as_str().expect("method");
    let call = match (method, case.get("limit")) {
        ("matches", _) => "$s.matches($re)".to_string(),
        ("replaceAll" | "replaceFirst", _) => format!("$s.{method}($re, $r)"),
        ("split", None) => "$s.split($re)".to_string(),
        ("split", Some(n)) => format!("$s.split($re, {})", n.as_i64().expect("limit")),
        (m, _) => panic!("unknown method {m}"),
    };
    let template = if method == "split" {
        format!("#set($p = {call})$p.size()#foreach($x in $p){SEP}$x#end")
    } else {
        format!("#set($v = {call})$v")
    };
    let template = format!(
        "#set($s = $stageVariables.s)#set($re = $stageVariables.re)\
         #set($r = $stageVariables.r){template}"
    );
    let want = match (&case["result"], case.get("error")) {
        (J::Bool(b), _) => Ok(b.to_string()),
        (J::String(s), _) => Ok(s.clone()),
        (J::Array(parts), _) => {
            let mut out = parts.len().to_string();
            for p in parts {
                out.push(SEP);
                out.push_str(p.as_str().expect("part"));
            }
            Ok(out)
        }
        // Java's exception as the render error names it: the method, the exception's
        // class and the first line of its message (a PatternSyntaxException's message
        // goes on with the pattern and a caret line under the index).
        (_, Some(e)) => Err(format!(
            "{method}: {}: {}",
            e["exception"].as_str().expect("exception"),
            e["message"]
                .as_str()
                .unwrap_or("null")
                .lines()
                .next()
                .unwrap_or("")
        )),
        _ => panic!("case {} has no result", case["id"]),
    };
    (template, want)
}

fn inputs(case: &J) -> Inputs {
    let mut inputs = Inputs::default();
    for (var, key) in [("s", "input"), ("re", "regex"), ("r", "replacement")] {
        if let Some(v) = case[key].as_str() {
            assert!(!v.contains(SEP), "case {}: holds U+0001", case["id"]);
            inputs
                .stage_variables
                .insert(var.to_string(), v.to_string());
        }
    }
    inputs
}

/// What Java did and what the template gave, for a failure message.
fn describe(case: &J, want: &Result<String, String>, got: &Result<String, String>) -> String {
    let mut call = format!(
        "{:?}.{}({:?}",
        case["input"].as_str().unwrap_or(""),
        case["method"].as_str().unwrap_or(""),
        case["regex"].as_str().unwrap_or("")
    );
    if let Some(r) = case["replacement"].as_str() {
        call.push_str(&format!(", {r:?}"));
    }
    if let Some(l) = case.get("limit") {
        call.push_str(&format!(", {l}"));
    }
    call.push(')');
    let show = |r: &Result<String, String>| match r {
        Ok(v) => format!("{:?}", v.replace(SEP, " | ")),
        Err(e) => format!("error {e:?}"),
    };
    format!(
        "case {} (cases.txt line {}, block {:?}): {call}\n    Java: {}\n    ours: {}",
        case["id"],
        case["line"],
        case["block"].as_str().unwrap_or(""),
        show(want),
        show(got)
    )
}

#[test]
fn string_methods_agree_with_java() {
    let golden: J = serde_json::from_str(GOLDEN).expect("golden file is JSON");
    let java = golden["java_version"].as_str().expect("java_version");
    // one Java for the regex engine's tables and goldens and for these
    assert_eq!(
        java,
        java_regex::JAVA_VERSION,
        "golden/java-string-methods.json and the regex engine's tables name different Javas"
    );
    let cases = golden["cases"].as_array().expect("cases");
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let (mut agree, mut unrepresentable, mut java_failed) = (0, 0, 0);
    let mut bad = Vec::new();
    for case in cases {
        if case.get("unpaired_surrogates").is_some() {
            // Java stepped over an empty match by one UTF-16 unit, into the middle of a
            // surrogate pair (Matcher.find: "starts at the first character not matched
            // by this match", a char being a UTF-16 unit). A Rust string cannot hold half
            // a pair; we step by code point (see crates/java-regex's module documentation).
            unrepresentable += 1;
            continue;
        }
        if case["error"]["exception"] == "StackOverflowError" {
            java_failed += 1;
            continue;
        }
        let (template, want) = template(case);
        let t = parse(&template).expect("the test's template parses");
        let got = render(&t, &inputs(case))
            .map(|r| r.body)
            .map_err(|e| e.message);
        if got == want {
            agree += 1;
        } else {
            bad.push(describe(case, &want, &got));
        }
    }
    println!(
        "String methods vs Java {java}: {agree} of {} cases agree, {} disagree; \
         {unrepresentable} not compared (Java's result splits a surrogate pair), \
         {java_failed} not compared (Java overflowed its stack)",
        cases.len(),
        bad.len()
    );
    for b in &bad {
        println!("DISAGREE {b}");
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases disagree with Java (listed above)",
        bad.len(),
        cases.len()
    );
    // The corpus holds what it is meant to: named groups, errors of each kind.
    for needle in [
        "${",
        "No group with name",
        "Illegal group reference",
        "No group 3",
        "PatternSyntaxException",
    ] {
        assert!(GOLDEN.contains(needle), "the corpus has no {needle:?} case");
    }
}
