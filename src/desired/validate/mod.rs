//! Turning source texts into validated [`Spec`](super::Spec)s and
//! [`ResponseTest`](super::ResponseTest)s: every rule of the two document kinds, each
//! error pinned to the line and column it is about.
//!
//! Here: the checks on a whole file (UTF-8, control characters, YAML syntax) and the
//! routing of each document by its `kind`. The rest is one concern a file: `shape`
//! (serde's reading of a document), `method` (the method reference both kinds share),
//! `spec` and `test_doc` (the rules of each kind), `template` (a VTL template that does
//! not parse, placed on its own line), `cache` (verdicts remembered per thread), `set`
//! (the rules over all files).

mod cache;
mod method;
mod set;
mod shape;
mod spec;
mod template;
mod test_doc;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use set::{check_set, check_tests};
use spec::parse_spec;
use test_doc::parse_test;

use super::{DesiredSet, Location, ResponseTest, Spec, SpecError};
use crate::yaml::{self, Node, Pos};

/// A spec file's raw bytes and the name errors use for it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display_name: String,
    pub bytes: Vec<u8>,
}

/// Parse and validate every document of every file; all errors, or the whole set.
pub fn parse_files(files: &[SourceFile]) -> Result<DesiredSet, Vec<SpecError>> {
    let parsed: Vec<_> = files.iter().map(|f| parse_file(f, false)).collect();
    assemble(&parsed, Vec::new())
}

/// What one file holds: integration responses and response tests.
#[derive(Clone, Debug, Default)]
pub struct FileDocs {
    pub specs: Vec<Arc<Spec>>,
    pub tests: Vec<Arc<ResponseTest>>,
}

/// The documents of one file, or all of its errors.
pub type FileResult = Result<FileDocs, Vec<SpecError>>;

/// Parse and validate one file on its own (the rules over all files come later); with
/// `keep_templates`, each spec keeps its templates' trees ([`super::ParsedTemplates`]).
pub fn parse_file(file: &SourceFile, keep_templates: bool) -> FileResult {
    let name: Arc<str> = Arc::from(file.display_name.as_str());
    let at = |pos: Pos| Location {
        file: name.clone(),
        pos,
    };
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        let valid = &file.bytes[..e.valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        let col = 1 + valid.iter().rev().take_while(|b| **b != b'\n').count();
        vec![SpecError {
            location: at(Pos { line, col }),
            message: format!(
                "file is not valid UTF-8 (bad byte at offset {}); save it as UTF-8",
                e.valid_up_to()
            ),
        }]
    })?;
    // A byte order mark (what some Windows editors save) is allowed before YAML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // YAML allows no control characters but tab, line breaks and NEL; the parser would
    // take a NUL as the end of the input and silently drop what follows it.
    if let Some((offset, c)) = first_control_character(text) {
        let before = &text[..offset];
        let line = 1 + before.matches('\n').count();
        let col = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
        return Err(vec![SpecError {
            location: at(Pos { line, col }),
            message: format!(
                "control character U+{:04X} is not allowed in YAML; remove it (a NUL would otherwise cut the file short)",
                u32::from(c)
            ),
        }]);
    }
    let docs = yaml::parse_documents(text).map_err(|e| {
        vec![SpecError {
            location: at(e.pos),
            message: e.message,
        }]
    })?;
    let mut found = FileDocs::default();
    let mut errors = Vec::new();
    for doc in docs.into_iter().flatten() {
        let mut doc_errors = Vec::new();
        let mut report = |pos, message| {
            doc_errors.push(SpecError {
                location: at(pos),
                message,
            })
        };
        let kind = doc
            .as_map()
            .and_then(|m| yaml::field(m, "kind"))
            .and_then(Node::as_str);
        if kind == Some("ResponseTest") {
            let test = parse_test(&doc, at(doc.pos), &mut report);
            match test {
                Some(test) if doc_errors.is_empty() => found.tests.push(Arc::new(test)),
                _ => errors.extend(doc_errors),
            }
        } else {
            let spec = parse_spec(&doc, at(doc.pos), text, keep_templates, &mut report);
            match spec {
                Some(spec) if doc_errors.is_empty() => found.specs.push(Arc::new(spec)),
                _ => errors.extend(doc_errors),
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The first control character but tab, line breaks and NEL, and its byte offset.
/// Read byte by byte: control characters are C0 and DEL (one byte each) and C1
/// (U+0080 to U+009F: 0xC2 then 0x80 to 0x9F in UTF-8), so only bytes below 0x20, DEL
/// and 0xC2 need a closer look (a spec file is megabytes, nearly all plain text).
fn first_control_character(text: &str) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b < 0x20 || b == 0x7f || b == 0xc2)
        .find_map(|(i, _)| {
            let c = text[i..].chars().next()?;
            (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}')).then_some((i, c))
        })
}

#[cfg(test)]
#[test]
fn the_byte_scan_finds_what_a_scan_of_every_character_finds() {
    let slow = |text: &str| {
        text.char_indices()
            .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}'))
    };
    let mut texts = vec![String::new(), "a\tb\r\nc\u{85}é€😀".to_owned()];
    for c in (0u32..0x20).chain(0x7f..0xa1).chain([0xad, 0x2028, 0xfeff]) {
        let c = char::from_u32(c).unwrap();
        texts.push(format!("ab\u{85}é{c}x"));
        texts.push(format!("{c}"));
    }
    for text in &texts {
        assert_eq!(first_control_character(text), slow(text), "{text:?}");
    }
}

/// The whole set from per-file results (and errors found before parsing): every
/// error, or the set once the rules over all files hold.
pub fn assemble<'a>(
    parsed: impl IntoIterator<Item = &'a FileResult>,
    mut errors: Vec<SpecError>,
) -> Result<DesiredSet, Vec<SpecError>> {
    let mut specs = Vec::new();
    let mut tests = Vec::new();
    for result in parsed {
        match result {
            Ok(docs) => {
                specs.extend(docs.specs.iter().cloned());
                tests.extend(docs.tests.iter().cloned());
            }
            Err(file_errors) => errors.extend(file_errors.iter().cloned()),
        }
    }
    check_set(&specs, &mut errors);
    check_tests(&tests, &mut errors);
    if errors.is_empty() {
        Ok(DesiredSet { specs, tests })
    } else {
        errors.sort();
        errors.dedup();
        Err(errors)
    }
}
