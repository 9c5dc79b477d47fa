//! The JSON Schemas (`apigw-reconciler schema`, committed under `config/schema/`):
//! the committed files are what the types generate, every valid document of the
//! repository passes them under a real JSON Schema validator, and the bad inputs whose
//! rule a schema can express (unknown key, wrong type, bad enum, bad status code) fail.

use std::path::{Path, PathBuf};

use apigw_reconciler::schema::{self, Kind};
use apigw_reconciler::yaml::{self, Node, Value};
use serde_json::Value as J;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(kind: Kind) -> jsonschema::Validator {
    let schema: J = serde_json::from_str(&schema::schema(kind)).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
}

/// A YAML node as the JSON a YAML-aware schema tool sees (YAML 1.2 core types).
fn to_json(node: &Node) -> J {
    match &node.value {
        _ if node.is_null() => J::Null,
        Value::Scalar {
            text, plain: true, ..
        } => {
            if matches!(text.as_str(), "true" | "True" | "TRUE") {
                J::Bool(true)
            } else if matches!(text.as_str(), "false" | "False" | "FALSE") {
                J::Bool(false)
            } else if let Ok(i) = text.parse::<i64>() {
                J::from(i)
            } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                J::from(f)
            } else {
                J::String(text.clone())
            }
        }
        Value::Scalar { text, .. } => J::String(text.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(pairs) => J::Object(
            pairs
                .iter()
                .map(|(k, v)| {
                    let key = match &k.value {
                        Value::Scalar { text, .. } => text.clone(),
                        _ => String::new(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}

/// The documents of a YAML file, with the schema of each by its `kind`.
fn documents(path: &Path) -> Vec<(Kind, J)> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    yaml::parse_documents(text)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
        .into_iter()
        .flatten()
        .map(|n| {
            let json = to_json(&n);
            let kind = if json["kind"] == "ResponseTest" {
                Kind::Test
            } else {
                Kind::Spec
            };
            (kind, json)
        })
        .collect()
}

fn errors(kind: Kind, doc: &J) -> Vec<String> {
    validator(kind)
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn the_committed_schemas_are_what_the_types_generate() {
    for kind in Kind::ALL {
        let path = root().join("config/schema").join(kind.file_name());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema::schema(kind),
            "{} is out of date: regenerate it with `apigw-reconciler schema {}` > {}",
            path.display(),
            format!("{kind:?}").to_lowercase(),
            path.display()
        );
    }
}

#[test]
fn every_valid_document_of_the_repository_passes_its_schema() {
    let mut files = Vec::new();
    yaml_files(&root().join("desired"), &mut files);
    for case in ["58-empty-file", "59-comments-only", "67-utf8-bom"] {
        yaml_files(&root().join("tests/bad-inputs").join(case), &mut files);
    }
    let mut checked = 0;
    for file in &files {
        for (kind, doc) in documents(file) {
            let problems = errors(kind, &doc);
            assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 2, "the seed spec and its response test at least");
    for config in ["config/reconciler.yaml", "config/local.yaml"] {
        for (_, doc) in documents(&root().join(config)) {
            let problems = errors(Kind::Config, &doc);
            assert!(problems.is_empty(), "{config}: {problems:#?}");
        }
    }
}

#[test]
fn bad_inputs_a_schema_can_express_fail_it() {
    let cases = [
        "07-unknown-field",
        "08-misspelt-field",
        "09-misspelt-case",
        "11-kind-wrong",
        "12-type-status-list",
        "13-type-status-bool",
        "14-type-templates-string",
        "15-type-template-value-list",
        "16-type-params-list",
        "17-type-pattern-map",
        "19-document-is-list",
        "26-neither-api-id-nor-name",
        "25-both-api-id-and-name",
        "29-resource-path-relative",
        "31-bad-method",
        "33-status-2OO",
        "34-status-99",
        "35-status-600",
        "36-status-four-digits",
        "39-param-key-request",
        "44-content-handling-bad",
        "45-content-handling-lowercase",
        "46-state-bad",
        "69-template-key-not-media-type",
    ];
    for case in cases {
        let mut files = Vec::new();
        yaml_files(&root().join("tests/bad-inputs").join(case), &mut files);
        let failing = files
            .iter()
            .flat_map(|f| documents(f))
            .filter(|(kind, doc)| !errors(*kind, doc).is_empty())
            .count();
        assert!(failing > 0, "{case}: every document passes the schema");
    }
    // And the config schema refuses an unknown key and a bad enum.
    let bad: J = serde_json::json!({"intervall": "5m"});
    assert!(!errors(Kind::Config, &bad).is_empty());
    let bad: J = serde_json::json!({"log": {"format": "xml"}});
    assert!(!errors(Kind::Config, &bad).is_empty());
}
