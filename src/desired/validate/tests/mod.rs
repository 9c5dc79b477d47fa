//! The rules of both document kinds, through `parse_files` as the loader reads them,
//! one concern a file.

mod file;
mod method;
mod set;
mod spec;
mod template;
mod test_doc;

use super::*;
use crate::desired::{ApiRef, ResourceRef, State};

const GOOD: &str = "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"200\"\n";

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile {
        display_name: name.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn parse(text: &str) -> Result<DesiredSet, Vec<SpecError>> {
    parse_files(&[file("d/x.yaml", text)])
}

/// The single error `text` produces, as `file:line:col: message`.
fn error(text: &str) -> String {
    let errors = parse(text).expect_err("should be invalid");
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors[0].to_string()
}

/// GOOD with `field: value` replaced (or appended).
fn with(field: &str, value: &str) -> String {
    let mut lines: Vec<String> = GOOD
        .lines()
        .filter(|l| !l.starts_with(&format!("{field}:")))
        .map(str::to_owned)
        .collect();
    lines.push(format!("{field}: {value}"));
    lines.join("\n") + "\n"
}

/// A minimal valid response test: line 6 is `integration`, line 7 `expect:`.
const TEST: &str = "kind: ResponseTest\nname: t\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nintegration: lambda\nexpect:\n  statusCode: \"200\"\n";

/// The errors of `text` as `file:line:col: message`, sorted by place.
fn errors(text: &str) -> Vec<String> {
    parse(text)
        .expect_err("should be invalid")
        .iter()
        .map(ToString::to_string)
        .collect()
}
