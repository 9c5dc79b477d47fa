//! YAML 1.2's core schema on free-form values, against the cases of
//! tests/fixtures/yaml/core-schema.json (made from the spec's tag resolution table by
//! scripts/yaml/core-schema-cases.py) and, when a copy is at hand, the YAML test suite
//! maintainers' own core-schema data (`yaml_test_schema_data_agrees`).

use super::*;

const FIXTURE: &str = include_str!("../../../tests/fixtures/yaml/core-schema.json");

fn fixture() -> serde_json::Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

/// `text` read as a free-form value: the value, or the problems' messages.
fn free_form(text: &str) -> Result<serde_json::Value, Vec<String>> {
    let docs = super::super::parse_documents(text).map_err(|e| vec![e.message])?;
    let node = docs
        .into_iter()
        .next()
        .flatten()
        .ok_or(vec!["empty".into()])?;
    from_node::<serde_json::Value>(&node).map_err(|ps| ps.into_iter().map(|p| p.message).collect())
}

/// JSON values, numbers compared by kind (integer or float) and value.
fn same(got: &serde_json::Value, want: &serde_json::Value, float: bool) -> bool {
    match (got, want) {
        (serde_json::Value::Number(g), serde_json::Value::Number(w)) => {
            g.is_f64() == float && g.as_f64() == w.as_f64()
        }
        _ => got == want,
    }
}

/// JSON values equal as JSON: numbers by value (the suite writes `450.00` as 450).
fn same_json(got: &serde_json::Value, want: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (got, want) {
        (J::Number(g), J::Number(w)) => g.as_f64() == w.as_f64(),
        (J::Array(g), J::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(g, w)| same_json(g, w))
        }
        (J::Object(g), J::Object(w)) => {
            g.len() == w.len()
                && g.iter()
                    .all(|(k, g)| w.get(k).is_some_and(|w| same_json(g, w)))
        }
        _ => got == want,
    }
}

#[test]
fn scalars_resolve_as_the_core_schema_says() {
    let doc = fixture();
    let cases = doc["scalars"].as_array().expect("scalars");
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let failures = scalar_disagreements(cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The cases of yaml-test-schema's `data/schema-core.yaml` (by the YAML test
/// suite's maintainer: every input with its core-schema type and value), which are
/// not kept in this repository: `YAML_TEST_SCHEMA=<a checkout of
/// github.com/perlpunk/yaml-test-schema> cargo test yaml_test_schema -- --ignored`.
#[test]
#[ignore = "needs a checkout of perlpunk/yaml-test-schema in YAML_TEST_SCHEMA"]
fn yaml_test_schema_data_agrees() {
    let Ok(dir) = std::env::var("YAML_TEST_SCHEMA") else {
        panic!("set YAML_TEST_SCHEMA to a checkout of perlpunk/yaml-test-schema");
    };
    let path = std::path::Path::new(&dir).join("data/schema-core.yaml");
    let text = std::fs::read_to_string(&path).expect("data/schema-core.yaml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("YAML");
    let map = docs[0].as_hash().expect("a mapping of cases");
    // each case is `input: error` or `input: [type, value as Perl prints it, ...]`
    let cases: Vec<serde_json::Value> = map
        .iter()
        .map(|(k, v)| {
            let input = k.as_str().expect("an input").to_owned();
            let Some(v) = v.as_vec() else {
                return serde_json::json!({"yaml": input, "type": "error"});
            };
            let kind = v[0].as_str().expect("a type");
            let shown = v[1].as_str().unwrap_or_default();
            let json = match kind {
                "bool" => serde_json::json!(shown == "true()"),
                "null" => serde_json::Value::Null,
                "int" => serde_json::json!(shown.parse::<i64>().expect("an integer")),
                "float" => serde_json::json!(shown.parse::<f64>().expect("a float")),
                _ => serde_json::json!(shown),
            };
            serde_json::json!({"yaml": input, "type": kind, "json": json})
        })
        .collect();
    assert!(cases.len() > 250, "{} cases", cases.len());
    let failures = scalar_disagreements(&cases);
    eprintln!(
        "{} of {} cases of {} agree",
        cases.len() - failures.len(),
        cases.len(),
        path.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn scalar_disagreements(cases: &[serde_json::Value]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let input = case["yaml"].as_str().expect("yaml");
        let kind = case["type"].as_str().expect("type");
        let text = format!("v: {}\n", input.replace("#empty", ""));
        let got = free_form(&text).map(|v| v["v"].clone());
        let ok = match (kind, &got) {
            ("int" | "float" | "bool" | "null" | "str", Ok(v)) => {
                same(v, &case["json"], kind == "float")
            }
            // JSON has no infinity or NaN: refused, and the message says so.
            ("inf" | "nan", Err(m)) => {
                let written = input.rsplit(' ').next().unwrap_or(input);
                m.len() == 1
                    && m[0].contains("JSON cannot hold")
                    && m[0].contains(&format!("quote it ('{written}')"))
            }
            ("error", Err(m)) => m.len() == 1 && m[0].contains("is tagged !!"),
            _ => false,
        };
        if !ok {
            failures.push(format!("{input:?} ({kind} {}): got {got:?}", case["json"]));
        }
    }
    failures
}

#[test]
fn documents_read_as_their_json() {
    let doc = fixture();
    let cases = doc["documents"].as_array().expect("documents");
    let mut failures = Vec::new();
    for case in cases {
        let got = free_form(case["yaml"].as_str().expect("yaml"));
        if !got.as_ref().is_ok_and(|g| same_json(g, &case["json"])) {
            failures.push(format!(
                "{}: got {got:?}, want {}",
                case["name"], case["json"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
