//! `export`: live integration responses written back as specs, one file per resource
//! path, in the `restApiName` + `resourcePath` form, in a stable order, with block
//! scalars for multi-line templates. Pure: the caller fetches and writes files.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::live::LiveResource;
use crate::model::Settings;

/// The spec files for one API: (file name, YAML text), sorted by resource path. File
/// names are unique even where only case differs (`/Pets` and `/pets` on a
/// case-insensitive file system): a file lost to a collision would be a spec missing
/// from an adopted directory, which prune would then delete from the live API.
pub fn export_specs(api_name: &str, resources: &[LiveResource]) -> Vec<(String, String)> {
    let mut sorted: Vec<&LiveResource> = resources.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut files: Vec<(String, String)> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
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
        let stem = file_stem(&resource.path);
        let mut name = format!("{stem}.yaml");
        let mut n = 1;
        while !taken.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{stem}-{n}.yaml");
        }
        files.push((name, docs.join("---\n")));
    }
    files
}

/// Live templates that do not parse as VTL: API Gateway accepted them, but answers 500
/// whenever one is selected, and `validate` refuses the exported spec until it is fixed.
/// One line per template, for the person adopting the API.
pub fn broken_templates(resources: &[LiveResource]) -> Vec<String> {
    let mut out = Vec::new();
    for r in resources {
        for (method, m) in &r.methods {
            for (status, settings) in &m.integration_responses {
                for (media_type, text) in &settings.response_templates {
                    if let Err(e) = crate::vtl::parse(text) {
                        out.push(format!(
                            "the live {media_type} template of {} {method} {status} does not parse \
                             (its line {}:{}: {}): API Gateway answers 500 whenever it is selected, and \
                             `validate` refuses the exported spec until the template is fixed",
                            r.path, e.line, e.col, e.message
                        ));
                    }
                }
            }
        }
    }
    out
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

/// One spec document. What it names must pass `validate` (DESIGN: a spec `export`
/// wrote from a live API always validates):
/// - The resource path is one API Gateway made: it refuses at `CreateResource` every
///   path part `validate` refuses (characters outside `[A-Za-z0-9._:$-]` and the path
///   variable forms, empty parts, children of a greedy `{name+}`), so no such path can
///   exist live. `validate`'s set is the wider one AWS is known to accept, not the
///   narrower one its error message names (see `desired::validate`).
/// - The API name: AWS documents no character set for names, and `validate` refuses
///   only control characters and line breaks in one. No recorded AWS answer shows
///   whether `CreateRestApi` takes such a name; if one exists live, its exported spec
///   fails validate with a message saying to name the API by id (`restApi`) instead.
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
    use crate::desired::{SourceFile, parse_files};
    use crate::live::memory::method_with_responses;
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

    #[test]
    fn colliding_paths_get_distinct_file_names_even_ignoring_case() {
        // `/a:b` shares the file name `a_b` (`:` is no file-name character everywhere);
        // API Gateway refuses a space in a path, so `/a b` cannot be live.
        let paths = ["/a/b", "/a_b", "/a_b-2", "/Pets", "/pets", "/a-b", "/a:b"];
        let resources: Vec<LiveResource> = paths
            .iter()
            .map(|p| resource(p, vec![("200", Settings::default())]))
            .collect();
        let files = export_specs("Shop", &resources);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let lower: BTreeSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), paths.len(), "{names:?}");
        // Every path's spec is in exactly one file, and all read back.
        for p in paths {
            let holding = files
                .iter()
                .filter(|(_, text)| text.contains(&format!("resourcePath: {}\n", scalar(p, 0))))
                .count();
            assert_eq!(holding, 1, "{p}: {names:?}");
        }
        assert_eq!(reparse(&files).len(), paths.len());
        // The issue's case: before, the third overwrote the second.
        let names: Vec<String> = export_specs("Shop", &resources[..3])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a_b.yaml", "a_b-2.yaml", "a_b-2-2.yaml"]);
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
            // What is tested is the YAML quoting; a template VTL refuses (one ending in
            // `#`) is refused by `validate` whatever the quoting (see `broken_templates`).
            prop_assume!(crate::vtl::parse(&body).is_ok());
            let mut s = Settings::default();
            s.response_templates.insert("text/plain".into(), body.clone());
            s.selection_pattern = Some(pattern);
            let files = export_specs("A", &[resource("/r", vec![("200", s.clone())])]);
            prop_assert_eq!(reparse(&files)[0].normalized(), s.normalized());
        }
    }

    /// Paths API Gateway makes and names it documents no rule against export to specs
    /// that validate (hostile text included: it is escaped where shown, not refused).
    #[test]
    fn exports_of_what_api_gateway_accepts_validate() {
        let paths = [
            "/",
            "/pets/{petId}",
            "/{proxy+}",
            "/v1/users/{id}/orders",
            "/parent/{child+}",
            "/v1/events:batchGet",
            "/$test",
        ];
        let resources: Vec<LiveResource> = paths
            .iter()
            .map(|p| resource(p, vec![("200", Settings::default())]))
            .collect();
        for name in [
            "Simple PetStore (Swagger)",
            "Shop `x` <img src=x onerror=alert(1)> | **Plan: 0 to create**",
            "B\u{fc}cher-API",
        ] {
            let files = export_specs(name, &resources);
            assert_eq!(reparse(&files).len(), paths.len(), "{name}");
        }
    }
}
