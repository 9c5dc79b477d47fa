//! The golden corpus (crates/apigw-vtl/golden/vtl.json, rendered by real Velocity 1.7), syntax
//! errors with their positions, and the limits.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value as J;

use super::*;

const GOLDEN: &str = include_str!("../golden/vtl.json");

fn string_map(v: Option<&J>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(J::Object(o)) = v {
        for (k, v) in o {
            let s = match v {
                J::String(s) => s.clone(),
                other => other.to_string(),
            };
            m.insert(k.clone(), s);
        }
    }
    m
}

/// The case's inputs; Err when a map's keys are not sorted (the engine's maps are
/// BTreeMaps, so the Java side must iterate them in the same order).
fn inputs_of(v: &J) -> Result<Inputs, String> {
    let sorted = |o: Option<&J>| -> bool {
        match o {
            Some(J::Object(m)) => m.keys().zip(m.keys().skip(1)).all(|(a, b)| a <= b),
            _ => true,
        }
    };
    let params = v.get("params");
    for kind in ["path", "querystring", "header"] {
        if !sorted(params.and_then(|p| p.get(kind))) {
            return Err(format!("params.{kind} keys are not sorted"));
        }
    }
    if !sorted(v.get("stageVariables")) {
        return Err("stageVariables keys are not sorted".into());
    }
    Ok(Inputs {
        body: v.get("body").and_then(J::as_str).unwrap_or("").to_string(),
        params: Params {
            path: string_map(params.and_then(|p| p.get("path"))),
            querystring: string_map(params.and_then(|p| p.get("querystring"))),
            header: string_map(params.and_then(|p| p.get("header"))),
        },
        context: match v.get("context") {
            Some(J::Object(o)) => o.clone(),
            _ => serde_json::Map::new(),
        },
        stage_variables: string_map(v.get("stageVariables")),
    })
}

/// Whitespace made visible for failure messages.
fn visible(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' => out.push('·'),
            '\t' => out.push('→'),
            '\r' => out.push('␍'),
            '\n' => out.push_str("␤\n"),
            c => out.push(c),
        }
    }
    out
}

/// What the engine gives for a template, as text comparable to the corpus:
/// Ok(rendered) or Err("parse"/"render" and the message).
fn run(template: &str, inputs: &Inputs, dialect: Dialect) -> Result<Rendered, (String, String)> {
    let t = parse(template).map_err(|e| ("parse".to_string(), e.to_string()))?;
    render_as(&t, inputs, dialect, &mut super::Meter::default()).map_err(|e| {
        // Velocity throws ParseErrorException for an #evaluate whose text does not
        // parse, although the template itself did
        let kind = if e.message.contains("(Velocity: ParseErrorException)") {
            "parse"
        } else {
            "render"
        };
        (kind.to_string(), e.to_string())
    })
}

fn describe(r: &Result<Rendered, (String, String)>) -> String {
    match r {
        Ok(x) => {
            let mut s = format!("output:\n{}", visible(&x.body));
            if let Some(st) = &x.status_override {
                let _ = write!(s, "\n[status {st}]");
            }
            if !x.header_overrides.is_empty() {
                let _ = write!(s, "\n[headers {:?}]", x.header_overrides);
            }
            s
        }
        Err((k, m)) => format!("{k} error: {m}"),
    }
}

/// Compares an engine result with a corpus expectation (`{"output", "status",
/// "headers"}` or `{"error": kind}`); None when they agree.
fn disagreement(got: &Result<Rendered, (String, String)>, want: &J) -> Option<String> {
    let ok = match (got, want.get("error").and_then(J::as_str)) {
        (Err((kind, _)), Some(wk)) => kind == wk,
        (Ok(r), None) => {
            let out = want.get("output").and_then(J::as_str).unwrap_or("");
            let status = want.get("status").and_then(J::as_str).map(str::to_string);
            let headers = string_map(want.get("headers"));
            r.body == out && r.status_override == status && r.header_overrides == headers
        }
        _ => false,
    };
    if ok {
        return None;
    }
    let expected = match want.get("error").and_then(J::as_str) {
        Some(k) => format!(
            "{k} error: {}",
            want.get("message").and_then(J::as_str).unwrap_or("")
        ),
        None => {
            let mut s = format!(
                "output:\n{}",
                visible(want.get("output").and_then(J::as_str).unwrap_or(""))
            );
            if let Some(st) = want.get("status").and_then(J::as_str) {
                let _ = write!(s, "\n[status {st}]");
            }
            if let Some(h) = want.get("headers") {
                let _ = write!(s, "\n[headers {h}]");
            }
            s
        }
    };
    Some(format!(
        "--- expected {expected}\n--- actual {}",
        describe(got)
    ))
}

#[test]
fn golden_corpus_agrees_with_velocity_and_aws() {
    let doc: J = serde_json::from_str(GOLDEN).expect("crates/apigw-vtl/golden/vtl.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 200, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    let mut aws_cases = 0;
    for c in cases {
        let name = c["name"].as_str().unwrap_or("?");
        let template = c["template"].as_str().expect("template");
        let inputs = match inputs_of(&c["inputs"]) {
            Ok(i) => i,
            Err(m) => {
                failures.push(format!("case {name}: {m}"));
                continue;
            }
        };
        let header = format!("=== case {name}\ntemplate:\n{}", visible(template));
        // 1. as stock Velocity: byte for byte what Velocity 1.7 rendered
        let got = run(template, &inputs, Dialect::Velocity);
        if let Some(d) = disagreement(&got, &c["velocity"]) {
            failures.push(format!("{header}\n[as Velocity 1.7]\n{d}"));
        }
        // 2. as API Gateway: the AWS expectation where it differs, else Velocity's
        let got = run(template, &inputs, Dialect::ApiGateway);
        let want = match c.get("aws") {
            Some(a) => {
                aws_cases += 1;
                if a.get("how").and_then(J::as_str) == Some("hand-written")
                    && a.get("source")
                        .and_then(J::as_str)
                        .is_none_or(str::is_empty)
                {
                    failures.push(format!("case {name}: the aws expectation has no source"));
                }
                if a.get("output").is_some() && a.get("output") == c["velocity"].get("output") {
                    failures.push(format!("case {name}: marked as differing, but is the same"));
                }
                a.clone()
            }
            None => c["velocity"].clone(),
        };
        if let Some(d) = disagreement(&got, &want) {
            failures.push(format!("{header}\n[as API Gateway]\n{d}"));
        }
    }
    assert!(aws_cases > 0, "no case records an AWS difference");
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("{f}\n");
        }
        panic!(
            "{} disagreement(s) with the golden corpus ({} cases)",
            failures.len(),
            cases.len()
        );
    }
}

/// Differential run against Velocity's output for ad-hoc templates:
/// `VTL_EXPLORE=results.jsonl cargo test explore -- --ignored --nocapture`, where the
/// file is the output of `java VtlGolden explore`. Without the file it fails (an
/// ignored test run on purpose that passes without comparing anything proves
/// nothing); it prints every disagreement, then fails if there was one.
#[test]
#[ignore = "needs VTL_EXPLORE=<results.jsonl made by `java VtlGolden explore`>"]
fn explore() {
    let path = std::env::var("VTL_EXPLORE").unwrap_or_else(|_| {
        panic!(
            "set VTL_EXPLORE=results.jsonl, the output of `java VtlGolden explore` \
             (crates/apigw-vtl/golden/VtlGolden.java): nothing to compare without it"
        )
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("VTL_EXPLORE={path}: cannot read it: {e}"));
    let (mut bad, mut n) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let c: J = serde_json::from_str(line).expect("json line");
        let t = c["t"].as_str().expect("t");
        let inputs = inputs_of(&c["inputs"]).expect("inputs");
        let want = match c.get("out") {
            Some(o) => serde_json::json!({ "output": o }),
            None => {
                let e = c["err"].as_str().unwrap_or("");
                let kind = e.split(':').next().unwrap_or("");
                serde_json::json!({ "error": kind, "message": e })
            }
        };
        n += 1;
        let got = run(t, &inputs, Dialect::Velocity);
        if let Some(d) = disagreement(&got, &want) {
            bad += 1;
            eprintln!("=== template:\n{}\n{d}\n", visible(t));
        }
    }
    assert!(n > 0, "VTL_EXPLORE={path}: no template in it");
    assert_eq!(
        bad, 0,
        "{bad} of {n} templates differ from Velocity (printed above)"
    );
    eprintln!("all {n} templates agree with Velocity");
}

// ---------------------------------------------------------------- syntax errors

fn syntax_error(t: &str) -> SyntaxError {
    match parse(t) {
        Ok(_) => panic!("{t:?} parsed"),
        Err(e) => e,
    }
}

#[test]
fn unclosed_blocks_name_where_they_opened() {
    let e = syntax_error("a\n#if(true)\nyes\n");
    assert_eq!((e.line, e.col), (4, 1));
    assert_eq!(e.message, "#if without #end (opened at line 2)");
    let e = syntax_error("#set($l = [1])\n\n  #foreach($x in $l)$x");
    assert_eq!(e.message, "#foreach without #end (opened at line 3)");
    let e = syntax_error("#if(true)#foreach($x in [1])#end");
    assert_eq!(e.message, "#if without #end (opened at line 1)");
}

#[test]
fn stray_block_ends() {
    let e = syntax_error("text\n  #end more");
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (2, 3, "#end without a matching #if or #foreach")
    );
    let e = syntax_error("a #else b");
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (1, 3, "#else without a matching #if")
    );
    let e = syntax_error("#foreach($x in [1])#elseif(true)#end");
    assert_eq!(e.message, "#elseif without a matching #if");
}

#[test]
fn unclosed_string() {
    let e = syntax_error("ok\n#set($a = \"abc)\nx");
    assert_eq!((e.line, e.col), (2, 11));
    assert_eq!(e.message, "unclosed string (opened with \")");
    let e = syntax_error("#if('abc == $x)x#end");
    assert_eq!((e.line, e.col), (1, 5));
    assert!(e.message.starts_with("unclosed string"), "{}", e.message);
}

#[test]
fn other_syntax_errors_are_placed() {
    let e = syntax_error("#if($a & $b)x#end");
    assert_eq!((e.line, e.col), (1, 8));
    assert_eq!(
        e.message,
        "unexpected character '&' in a directive's arguments"
    );
    let e = syntax_error("line\n${context.stage");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("unclosed ${"), "{}", e.message);
    let e = syntax_error("#set($a 1)");
    assert_eq!((e.line, e.col), (1, 9));
    assert!(e.message.contains("expected '=' in #set"), "{}", e.message);
    let e = syntax_error("#if(true\nyes#end");
    assert_eq!(e.line, 2);
    let e = syntax_error("price: $");
    assert!(e.message.contains("ends with a '$'"), "{}", e.message);
    // Velocity 1.7's own checks of #macro and #evaluate, with its messages
    let e = syntax_error("ok\n#macro()x#end");
    assert_eq!(
        (e.line, e.message.as_str()),
        (2, "First argument to #macro() must be  macro name")
    );
    let e = syntax_error("#macro('m')x#end");
    assert_eq!((e.line, e.col), (1, 8));
    assert!(
        e.message.starts_with("Invalid first arg in #macro()"),
        "{e}"
    );
    let e = syntax_error("#macro(m)x");
    assert!(e.message.contains("#macro without #end"), "{e}");
    let e = syntax_error("#evaluate(5)");
    assert!(
        e.message.contains("must be a string literal or reference"),
        "{e}"
    );
    // positions inside an interpolated string point into the template
    let e = syntax_error("#set($s = \"x #if(true) y\")");
    assert_eq!(e.line, 1);
    assert!(e.col > 10, "{e}");
}

#[test]
fn syntax_error_displays_line_and_column() {
    let e = syntax_error("\n\n #end");
    assert_eq!(
        e.to_string(),
        "3:2: #end without a matching #if or #foreach"
    );
}

// ---------------------------------------------------------------- limits

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 10_000;
    let t = "#if(true)".repeat(n) + &"#end".repeat(n);
    let e = syntax_error(&t);
    assert!(e.message.contains("nests deeper than"), "{}", e.message);
    let t = format!("#set($a = {}1{})", "(".repeat(n), ")".repeat(n));
    assert!(syntax_error(&t).message.contains("nests deeper than"));
    let t = format!("#set($a = {}1{})", "[".repeat(n), "]".repeat(n));
    assert!(syntax_error(&t).message.contains("nests deeper than"));
    let t = format!("#set($a = {}true)", "!".repeat(n));
    assert!(syntax_error(&t).message.contains("nests deeper than"));
    let t = "#foreach($i in [1])".repeat(n) + &"#end".repeat(n);
    assert!(syntax_error(&t).message.contains("nests deeper than"));
    // reasonable nesting is fine
    let t = "#if(true)".repeat(30) + "x" + &"#end".repeat(30);
    assert_eq!(
        render(&parse(&t).unwrap(), &Inputs::default())
            .unwrap()
            .body,
        "x"
    );
}

fn render_err(t: &str) -> RenderError {
    let tpl = parse(t).expect("parses");
    match render(&tpl, &Inputs::default()) {
        Ok(r) => panic!("rendered {} bytes", r.body.len()),
        Err(e) => e,
    }
}

#[test]
fn huge_ranges_are_refused() {
    let e = render_err("#foreach($i in [1..1000000000])#end");
    assert!(
        e.message.contains("more than 100000 elements"),
        "{}",
        e.message
    );
    assert_eq!((e.line, e.col), (1, 16));
    let e = render_err("#set($r = [-2147483648..2147483647])");
    assert!(e.message.contains("elements"), "{}", e.message);
}

#[test]
fn foreach_stops_after_1000_iterations() {
    let t = parse("#set($n = 0)#foreach($i in [1..5000])#set($n = $n + 1)#end$n").unwrap();
    assert_eq!(render(&t, &Inputs::default()).unwrap().body, "1000");
}

#[test]
fn evaluation_steps_are_bounded() {
    let e = render_err(
        "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])x#end#end#end",
    );
    assert!(e.message.contains("evaluation steps"), "{}", e.message);
}

#[test]
fn output_is_bounded() {
    let e = render_err(
        "#set($s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')\
         #foreach($a in [1..1000])#foreach($b in [1..1000])$s#end#end",
    );
    assert!(e.message.contains("output exceeds 10 MiB"), "{}", e.message);
}

#[test]
fn strings_and_collections_are_bounded() {
    let e = render_err("#set($s = 'ab')#foreach($i in [1..64])#set($s = \"$s$s\")#end");
    assert!(e.message.contains("10 MiB"), "{}", e.message);
    let e = render_err("#set($s = 'ab')#foreach($i in [1..64])#set($s = $s.concat($s))#end");
    assert!(e.message.contains("10 MiB"), "{}", e.message);
    let e = render_err("#set($l = [1])#foreach($i in [1..64])#set($d = $l.addAll($l))#end");
    assert!(
        e.message.contains("more than 1000000 elements"),
        "{}",
        e.message
    );
}

#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    // a million nested lists: printing refuses, freeing does not recurse
    let t =
        "#set($a = [])#foreach($i in [1..1000])#foreach($j in [1..1000])#set($a = [$a])#end#end$a";
    let e = render_err(t);
    assert!(e.message.contains("nests too deeply"), "{}", e.message);
    let t = "#set($a = [])#foreach($i in [1..1000])#foreach($j in [1..1000])#set($a = [$a])#end#end\
             #if($a == $a)same#end";
    let r = render(&parse(t).unwrap(), &Inputs::default()).unwrap();
    assert_eq!(r.body, "same");
}

#[test]
fn templates_are_bounded_in_size() {
    let t = "x".repeat(MAX_TEMPLATE_CHARS + 1);
    assert!(syntax_error(&t).message.contains("longer than"));
}

#[test]
fn pathological_lexing_is_linear() {
    // long runs of backslashes, blanks and hashes
    let t = "\\".repeat(200_000) + "$x" + &" ".repeat(200_000) + &"#".repeat(1000) + "x";
    let start = std::time::Instant::now();
    let _ = parse(&t);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

// ---------------------------------------------------------------- API

#[test]
fn template_is_send_sync_clone_and_renders_many_times() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Template>();
    let t = parse("#set($context.responseOverride.status = 201)#set($context.responseOverride.header.Location = \"/o/$input.params('id')\")$input.path('$.name')").unwrap();
    let mut inputs = Inputs {
        body: r#"{"name": "w"}"#.into(),
        ..Inputs::default()
    };
    inputs.params.path.insert("id".into(), "7".into());
    let t2 = t.clone();
    let h = std::thread::spawn(move || render(&t2, &Inputs::default()).unwrap().body);
    assert_eq!(h.join().unwrap(), "");
    for _ in 0..3 {
        let r = render(&t, &inputs).unwrap();
        assert_eq!(r.body, "w");
        assert_eq!(r.status_override.as_deref(), Some("201"));
        assert_eq!(
            r.header_overrides.get("Location").map(String::as_str),
            Some("/o/7")
        );
    }
}

#[test]
fn render_errors_are_placed() {
    let e = render_err("#set($s = 'abc')\n  $s.substring(5)");
    assert_eq!((e.line, e.col), (2, 6));
    assert!(e.message.contains("substring"), "{}", e.message);
    // (A body that is not JSON is no error: $input.path finds nothing in it.)
    let t = parse("x\n#set($x = $util.parseJson($input.body))").unwrap();
    let inputs = Inputs {
        body: "not json".into(),
        ..Inputs::default()
    };
    let e = render(&t, &inputs).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("not JSON"), "{}", e.message);
}

// ---------------------------------------------------------------- hostile templates
// The budgets count work done, not calls (issue 17): each of these hung the process,
// or aborted it on a failed allocation, before the budgets existed.

/// `$s` of 8 MiB, built by doubling.
const EIGHT_MIB: &str = "#set($s = 'a')#foreach($i in [1..23])#set($s = \"$s$s\")#end";

fn limit_of(t: &str) -> Exceeded {
    let e = render_err(t);
    e.limit
        .unwrap_or_else(|| panic!("not a budget error: {}", e.message))
}

#[test]
fn a_replace_whose_result_would_not_fit_is_refused_before_it_is_built() {
    // 8 Mi × 8 MiB = 64 TiB: the size is computed first, and is over the 10 MiB a
    // string may have.
    let e = render_err(&format!("{EIGHT_MIB}#set($t = $s.replace('a', $s))"));
    assert!(
        e.message.contains("a string exceeds 10 MiB"),
        "{}",
        e.message
    );
    // Within the string cap but over the memory budget: refused before it is built too.
    let limits = Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    };
    let t = "#set($s = 'a')#foreach($i in [1..20])#set($s = \"$s$s\")#end\
             #set($t = $s.replace('a', 'bbbb'))";
    let mut meter = Meter::new(limits, None);
    let e = render_metered(&parse(t).unwrap(), &Inputs::default(), &mut meter).unwrap_err();
    assert_eq!(
        e.limit,
        Some(Exceeded::MemoryBytes(4 << 20)),
        "{}",
        e.message
    );
    assert!(
        meter.usage().peak_memory_bytes < 4 << 20,
        "{:?}",
        meter.usage()
    );
}

#[test]
fn keeping_many_large_strings_runs_into_the_memory_budget() {
    // 1,000 distinct 8 MiB strings would be 8 GiB.
    let t = format!(
        "{EIGHT_MIB}#set($keep = [])#foreach($i in [1..1000])#set($d = $keep.add(\"$s$i\"))#end"
    );
    assert_eq!(limit_of(&t), Exceeded::MemoryBytes(128 << 20));
    // Strings dropped along the way are not counted: the same loop keeping nothing ends.
    let t = format!("{EIGHT_MIB}#foreach($i in [1..16])#set($t = \"$s$i\")#end$t.length()");
    let r = render(&parse(&t).unwrap(), &Inputs::default()).unwrap();
    assert_eq!(r.body, (8 << 20 | 2).to_string());
}

#[test]
fn scanning_a_large_string_again_and_again_runs_into_the_work_budget() {
    let t = format!(
        "{EIGHT_MIB}#foreach($i in [1..1000])#foreach($j in [1..1000])#set($n = $s.length())#end#end"
    );
    assert_eq!(limit_of(&t), Exceeded::WorkBytes(512 << 20));
}

#[test]
fn regular_expression_steps_are_one_budget_for_the_whole_render() {
    // Each replaceAll is cheap on its own (a few thousand steps over a 1 KiB string); a
    // hundred of them are not, within a budget of 100,000 steps.
    let t = parse(
        "#set($s = 'ab')#foreach($i in [1..9])#set($s = \"$s$s\")#end\
         #foreach($i in [1..100])#set($t = $s.replaceAll('a', 'b'))#end",
    )
    .unwrap();
    let meter = |regex_steps| {
        Meter::new(
            Limits {
                regex_steps,
                ..Limits::default()
            },
            None,
        )
    };
    let mut small = meter(100_000);
    let e = render_metered(&t, &Inputs::default(), &mut small).unwrap_err();
    assert_eq!(
        e.limit,
        Some(Exceeded::RegexSteps(100_000)),
        "{}",
        e.message
    );
    // The same template within a larger budget renders: it was the total that counted.
    let mut large = meter(u64::MAX);
    render_metered(&t, &Inputs::default(), &mut large).unwrap();
    assert!(large.usage().regex_steps > 100_000, "{:?}", large.usage());
}

#[test]
fn a_deadline_stops_a_render_that_is_within_its_budgets() {
    let limits = Limits {
        steps: u64::MAX,
        work_bytes: u64::MAX,
        ..Limits::default()
    };
    let past = std::time::Instant::now();
    let mut meter = Meter::new(limits, Some(past));
    let t = parse("#foreach($i in [1..1000])#foreach($j in [1..1000])x#end#end").unwrap();
    let e = render_metered(&t, &Inputs::default(), &mut meter).unwrap_err();
    assert_eq!(e.limit, Some(Exceeded::Deadline), "{}", e.message);
    assert!(e.message.contains("limits.deadline"), "{}", e.message);
}

#[test]
fn budget_errors_name_the_config_key_and_the_template_line() {
    let t = format!(
        "{EIGHT_MIB}\n\n#set($k = [])#foreach($i in [1..1000])#set($d = $k.add(\"$s$i\"))#end"
    );
    let e = render_err(&t);
    assert_eq!(e.line, 3, "{e:?}");
    assert!(e.message.contains("limits.memoryBytes"), "{}", e.message);
}

/// Macro calls, #evaluate and blocks nest at run time beyond what parsing bounds; the
/// deepest renders must end (with their output or an error), never overflow the stack
/// of whatever thread renders them, here one of 256 KiB (an eighth of a test thread's).
#[test]
fn deep_renders_fit_any_thread_stack() {
    let nested_loops = format!("{}x{}", "#foreach($i in [1])".repeat(60), "#end".repeat(60));
    let cases: Vec<(String, bool)> = vec![
        // 20 nested calls, each in a loop in an #if: allowed
        (
            format!(
                "#macro(f $n)#foreach($i in [1])#if($n < 20)#set($n1 = $n + 1)#f($n1)#else$n#end#end#end#f(1){nested_loops}"
            ),
            true,
        ),
        // an #evaluate of itself: ends with an error at the nesting bound
        ("#set($t = '#evaluate($t)')#evaluate($t)".to_string(), false),
        // a block macro whose body calls it again
        (
            "#macro(b)#@b()$bodyContent#end#end#@b()x#end".to_string(),
            false,
        ),
    ];
    for (t, ok) in cases {
        let handle = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let tpl = parse(&t).expect("parses");
                render(&tpl, &Inputs::default())
                    .map(|r| r.body)
                    .map_err(|e| e.message)
            })
            .expect("thread");
        let r = handle
            .join()
            .expect("the render finished without overflowing its stack");
        assert_eq!(r.is_ok(), ok, "{r:?}");
    }
}

/// Macros and #evaluate are paid like the rest: a macro calling itself twice at each of
/// its 20 allowed levels (a million calls) runs into the step budget, and #evaluate of
/// a large text in a loop into the work budget.
#[test]
fn macro_fan_out_and_repeated_evaluate_run_into_budgets() {
    // (a depth counter of its own: an argument passed by name would follow the
    // variable it names, and the recursion would not fan out)
    let fan_out = parse(
        "#macro(f)#if($d < 19)#set($d = $d + 1)#f()#f()#set($d = $d - 1)#end#end\
         #set($d = 0)#f()",
    )
    .unwrap();
    let mut meter = Meter::new(
        Limits {
            steps: 100_000,
            ..Limits::default()
        },
        None,
    );
    let e = render_metered(&fan_out, &Inputs::default(), &mut meter).unwrap_err();
    assert_eq!(e.limit, Some(Exceeded::Steps(100_000)), "{e}");
    let evaluate = "#set($s = 'a')#foreach($i in [1..19])#set($s = \"$s$s\")#end\
         #set($t = '#if(false)' + $s + '#end')#foreach($i in [1..1000])#evaluate($t)#end";
    assert_eq!(limit_of(evaluate), Exceeded::WorkBytes(512 << 20));
}
