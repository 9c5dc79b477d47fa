//! Any bytes as one spec file through load + validate (`parse_files`), and, when they
//! are UTF-8, through the config parser. Neither may panic, and what they return must
//! hold together: errors point inside the file, valid specs and response tests obey the
//! format's rules. The response tests of a valid set are run too (selection by Java
//! regex, VTL rendering, header mappings): that may not panic either, and each failing
//! test is one error at the test's own place.
#![no_main]

use apigw_reconciler::config::Config;
use apigw_reconciler::model::HTTP_METHODS;
use apigw_reconciler::response_test::{Outcome, run_all};
use apigw_reconciler::desired::{SourceFile, parse_files};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files = [SourceFile {
        display_name: "f.yaml".into(),
        bytes: data.to_vec(),
    }];
    // Lines a position may name: every line of the text, and the empty one after a
    // final line break (where "unexpected end of stream" is reported). A line break is
    // `\n`, `\r\n` or a lone `\r`, as YAML counts them.
    let breaks = data
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    let last_line = 1 + breaks;
    match parse_files(&files) {
        Ok(set) => {
            for spec in &set.specs {
                assert!(
                    HTTP_METHODS.contains(&spec.http_method.as_str()),
                    "{spec:?}"
                );
                let code = spec.status_code.as_bytes();
                assert!(
                    code.len() == 3 && (b'1'..=b'5').contains(&code[0]),
                    "{spec:?}"
                );
                assert!(spec.location.pos.line <= last_line, "{spec:?}");
            }
            for test in &set.tests {
                assert!(!test.name.trim().is_empty(), "{test:?}");
                assert!(
                    HTTP_METHODS.contains(&test.http_method.as_str()),
                    "{test:?}"
                );
                assert!(test.location.pos.line <= last_line, "{test:?}");
            }
            let run = run_all(&set);
            assert_eq!(run.results.len(), set.tests.len());
            assert_eq!(run.passed() + run.failed(), set.tests.len());
            let errors = run.errors();
            assert_eq!(errors.len(), run.failed());
            for (e, (test, _)) in errors.iter().zip(
                run.results
                    .iter()
                    .filter(|(_, o)| !matches!(o, Outcome::Passed(_))),
            ) {
                assert_eq!(e.location, test.location);
            }
            let report = run.render();
            assert!(
                report.ends_with(&format!(
                    "{} passed, {} failed\n",
                    run.passed(),
                    run.failed()
                )),
                "{report}"
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                let shown = e.to_string();
                assert!(shown.starts_with("f.yaml:"), "{shown}");
                assert!(
                    e.location.pos.line >= 1 && e.location.pos.col >= 1,
                    "{shown}"
                );
                // Every error points at a line of the file (syntax errors the parser
                // notices after the end are clamped to the last line).
                assert!(
                    e.location.pos.line <= last_line,
                    "error past the end of a {last_line}-line file: {shown}"
                );
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match Config::parse(text, "reconciler.yaml") {
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
