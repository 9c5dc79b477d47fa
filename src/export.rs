//! `export`: live integration responses written back as specs, one file per resource
//! path, in the `restApiName` + `resourcePath` form, in a stable order, with block
//! scalars for multi-line templates. Pure: the caller fetches and writes files.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::live::LiveResource;
use crate::model::Settings;

/// The spec files for one API: (file name, YAML text), sorted by resource path.
pub fn export_specs(api_name: &str, resources: &[LiveResource]) -> Vec<(String, String)> {
    let mut sorted: Vec<&LiveResource> = resources.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut files: Vec<(String, String)> = Vec::new();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for resource in sorted {
        let mut docs = Vec::new();
        for (method, m) in &resource.methods {
            for (status, settings) in &m.integration_responses {
                docs.push(document(api_name, &resource.path, method, status, settings));
            }
        }
        if docs.is_empty() {
            continue;
        }
        let mut name = file_stem(&resource.path);
        let n = taken.entry(name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            name = format!("{name}-{n}");
        }
        files.push((format!("{name}.yaml"), docs.join("---\n")));
    }
    files
}

/// `/` -> `root`, `/pets/{id}` -> `pets_{id}`.
fn file_stem(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return "root".into();
    }
    trimmed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.{}+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn document(api: &str, path: &str, method: &str, status: &str, settings: &Settings) -> String {
    let s = settings.normalized();
    let mut out = String::new();
    let _ = writeln!(out, "kind: IntegrationResponse");
    let _ = writeln!(out, "restApiName: {}", scalar(api, 0));
    let _ = writeln!(out, "resourcePath: {}", scalar(path, 0));
    let _ = writeln!(out, "httpMethod: {method}");
    let _ = writeln!(out, "statusCode: \"{status}\"");
    if let Some(p) = &s.selection_pattern {
        let _ = writeln!(out, "selectionPattern: {}", scalar(p, 0));
    }
    if !s.response_parameters.is_empty() {
        out.push_str("responseParameters:\n");
        for (k, v) in &s.response_parameters {
            let _ = writeln!(out, "  {}: {}", scalar(k, 2), scalar(v, 2));
        }
    }
    if !s.response_templates.is_empty() {
        out.push_str("responseTemplates:\n");
        for (k, v) in &s.response_templates {
            let _ = writeln!(out, "  {}: {}", scalar(k, 2), scalar(v, 2));
        }
    }
    if let Some(c) = &s.content_handling {
        let _ = writeln!(out, "contentHandling: {c}");
    }
    out
}

/// A YAML scalar for `text` as the value of a key at `key_indent`: a literal block for
/// multi-line text when it reads back identically, otherwise a double-quoted string
/// (JSON escapes are valid YAML).
fn scalar(text: &str, key_indent: usize) -> String {
    let plain_safe = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-+".contains(c));
    if plain_safe && reads_back(text, text, key_indent) {
        return text.to_owned();
    }
    if text.contains('\n') {
        let block = literal_block(text, key_indent + 2);
        if reads_back(&block, text, key_indent) {
            return block;
        }
    }
    serde_json::to_string(text).expect("strings always serialise")
}

/// A literal block whose content sits at `indent` (two more than its key).
fn literal_block(text: &str, indent: usize) -> String {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    // A first line starting with a space needs an explicit indentation indicator,
    // counted from the key's indentation.
    let indicator = if body.starts_with(' ') { "2" } else { "" };
    let pad = " ".repeat(indent);
    let mut out = format!("|{indicator}{chomp}\n");
    for line in text.split_inclusive('\n').map(|l| l.trim_end_matches('\n')) {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
    if trailing == 0 {
        out.pop();
    }
    out.trim_end_matches('\n').to_owned()
}

/// Whether `block`, as the value of a key at `key_indent`, parses back to `text`.
fn reads_back(block: &str, text: &str, key_indent: usize) -> bool {
    let doc = if key_indent == 0 {
        format!("v: {block}\n")
    } else {
        format!("m:\n{}v: {block}\n", " ".repeat(key_indent))
    };
    let first_value = |node: &crate::yaml::Node| {
        node.as_map()
            .and_then(|m| m.first())
            .map(|(_, v)| v.clone())
    };
    crate::yaml::parse_documents(&doc)
        .ok()
        .and_then(|docs| docs.into_iter().next().flatten())
        .and_then(|root| first_value(&root))
        .and_then(|v| {
            if key_indent == 0 {
                Some(v)
            } else {
                first_value(&v)
            }
        })
        .is_some_and(|v| v.as_str() == Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::memory::method_with_responses;
    use crate::spec::{SourceFile, parse_files};
    use proptest::prelude::*;

    fn resource(path: &str, settings: Vec<(&str, Settings)>) -> LiveResource {
        let mut method = method_with_responses(&["200"]);
        for (code, s) in settings {
            method.integration_responses.insert(code.into(), s);
        }
        LiveResource {
            id: format!("id{path}"),
            path: path.into(),
            methods: [("GET".to_owned(), method)].into(),
        }
    }

    fn reparse(files: &[(String, String)]) -> Vec<Settings> {
        let sources: Vec<SourceFile> = files
            .iter()
            .map(|(name, text)| SourceFile {
                display_name: name.clone(),
                bytes: text.as_bytes().to_vec(),
            })
            .collect();
        parse_files(&sources)
            .unwrap_or_else(|e| panic!("{e:?}\n{files:?}"))
            .specs
            .iter()
            .map(|s| s.settings.clone())
            .collect()
    }

    #[test]
    fn one_file_per_path_with_block_scalars_and_stable_names() {
        let mut s = Settings::default();
        s.response_templates
            .insert("application/xml".into(), "<a>\n  $x\n</a>\n".into());
        s.response_parameters
            .insert("method.response.header.X".into(), "'v'".into());
        let files = export_specs(
            "Shop",
            &[
                resource("/pets/{id}", vec![("200", s.clone())]),
                resource("/", vec![("200", Settings::default())]),
                resource("/empty", vec![]),
            ],
        );
        let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["root.yaml", "pets_{id}.yaml"]);
        assert!(
            files[1].1.contains("resourcePath: /pets/{id}\n")
                || files[1].1.contains("resourcePath: \"/pets/{id}\"\n"),
            "{}",
            files[1].1
        );
        assert!(
            files[1]
                .1
                .contains("  application/xml: |\n    <a>\n      $x\n    </a>\n"),
            "{}",
            files[1].1
        );
        assert_eq!(reparse(&files)[1], s);
    }

    #[test]
    fn passthrough_entries_are_exported_as_empty_strings_and_read_back() {
        let mut s = Settings::default();
        s.response_templates
            .insert("application/json".into(), String::new());
        let files = export_specs("Shop", &[resource("/cors", vec![("200", s.clone())])]);
        assert!(
            files[0]
                .1
                .contains("responseTemplates:\n  application/json: \"\"\n"),
            "{}",
            files[0].1
        );
        assert_eq!(reparse(&files)[0], s);
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "a", " ", "\n", "\t", "ü", "#", ":", "'", "\"", "|", "-", "\\\\", "{", "😀", "  x",
                "\r",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn any_template_reads_back_identically(body in text(), pattern in "[a-z0-9 ]{0,6}(\\.\\*)?") {
            let mut s = Settings::default();
            s.response_templates.insert("text/plain".into(), body.clone());
            s.selection_pattern = Some(pattern);
            let files = export_specs("A", &[resource("/r", vec![("200", s.clone())])]);
            prop_assert_eq!(reparse(&files)[0].normalized(), s.normalized());
        }
    }
}
