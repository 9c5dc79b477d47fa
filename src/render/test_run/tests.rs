//! The CI reports with coverage: JUnit that still parses as JUnit (properties first,
//! system-out last, a failed testcase per uncovered response when required) and the
//! JSON `coverage` object.

use super::*;
use crate::desired::{DesiredSet, SourceFile, parse_files};
use crate::response_test::run_all;

/// A 200 default (two templates) and a 404 on `pattern`, in a file named `file`, and
/// one test of a successful call: the 404 and the XML template are left uncovered.
fn set(file: &str) -> DesiredSet {
    let ir = |code: &str, extra: &str| {
        format!(
            "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"{code}\"\n{extra}"
        )
    };
    let specs = [
        ir(
            "200",
            "responseTemplates:\n  application/json: '{}'\n  application/xml: <a/>\n",
        ),
        ir("404", "selectionPattern: \"Not found.*\"\n"),
    ]
    .join("---\n");
    let test = "kind: ResponseTest\nname: ok\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nintegration: lambda\nexpect:\n  statusCode: \"200\"\n";
    let files =
        [(file, specs.as_str()), ("d/api.tests.yaml", test)].map(|(name, text)| SourceFile {
            display_name: name.into(),
            bytes: text.as_bytes().to_vec(),
        });
    parse_files(&files).unwrap_or_else(|e| panic!("{e:?}"))
}

fn reports(file: &str, required: bool) -> (String, String) {
    let set = set(file);
    let run = run_all(&set);
    let coverage = Coverage::of(&set, &run).require(required);
    (junit(&run, &coverage), json(&run, &coverage))
}

/// The suite's element children by name, and the suite.
fn suite_children(doc: &roxmltree::Document) -> Vec<String> {
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    suite
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_owned())
        .collect()
}

fn properties(doc: &roxmltree::Document) -> Vec<(String, String)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("property"))
        .map(|p| {
            (
                p.attribute("name").unwrap().to_owned(),
                p.attribute("value").unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn junit_carries_coverage_as_properties_and_system_out_in_junits_order() {
    let (xml, _) = reports("d/api.yaml", false);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // properties?, testcase*, system-out?: the sequence of the JUnit schemas.
    assert_eq!(
        suite_children(&doc),
        ["properties", "testcase", "system-out"],
        "{xml}"
    );
    let props = properties(&doc);
    let get = |name: &str| {
        props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("coverage.tests"), Some("1"), "{xml}");
    assert_eq!(get("coverage.filteredOut"), Some("0"), "{xml}");
    assert_eq!(get("coverage.required"), Some("false"), "{xml}");
    assert_eq!(get("coverage.integrationResponses.selected"), Some("1"));
    assert_eq!(get("coverage.integrationResponses.total"), Some("2"));
    assert_eq!(get("coverage.templates.rendered"), Some("1"));
    assert_eq!(get("coverage.templates.total"), Some("2"));
    let out = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.contains("  not selected: d/api.yaml:10:1 (restApiName A /r GET 404)\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  not rendered: d/api.yaml:8:20 (restApiName A /r GET 200, template application/xml)\n"
        ),
        "{out}"
    );
    // Not required: no testcase for coverage, no failure counted.
    let root = doc.root_element();
    assert_eq!(root.attribute("tests"), Some("1"));
    assert_eq!(root.attribute("failures"), Some("0"));
}

#[test]
fn required_coverage_is_a_failed_testcase_per_response_no_test_selects() {
    // A file name XML must escape (and one character it cannot hold at all).
    let file = "d/<a&\"b'>\u{1}.yaml";
    let (xml, _) = reports(file, true);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(
        suite_children(&doc),
        ["properties", "testcase", "testcase", "system-out"],
        "{xml}"
    );
    for node in [
        doc.root_element(),
        doc.descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap(),
    ] {
        assert_eq!(node.attribute("tests"), Some("2"), "{xml}");
        assert_eq!(node.attribute("failures"), Some("1"), "{xml}");
        assert_eq!(node.attribute("errors"), Some("0"), "{xml}");
    }
    let case = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .nth(1)
        .unwrap();
    assert_eq!(
        case.attribute("name"),
        Some("no response test selects restApiName A /r GET 404")
    );
    assert_eq!(case.attribute("classname"), Some("restApiName A /r GET"));
    assert_eq!(case.attribute("file"), Some("d/<a&\"b'>\\x01.yaml"));
    assert_eq!(case.attribute("line"), Some("10"));
    let failure = case.first_element_child().unwrap();
    assert_eq!(failure.tag_name().name(), "failure");
    assert_eq!(failure.attribute("type"), Some("uncovered"));
    let text = failure.text().unwrap();
    assert!(
        text.contains("matches its selectionPattern \"Not found.*\""),
        "{text}"
    );
    assert!(
        properties(&doc).contains(&("coverage.required".into(), "true".into())),
        "{xml}"
    );
}

#[test]
fn json_has_a_coverage_object_with_every_uncovered_response_and_template() {
    let (_, json) = reports("d/api.yaml", true);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["coverage"],
        json!({
            "tests": 1,
            "filteredOut": 0,
            "required": true,
            "failures": 1,
            "integrationResponses": {
                "selected": 1,
                "total": 2,
                "notSelected": [{
                    "file": "d/api.yaml", "line": 10, "column": 1,
                    "method": "restApiName A /r GET", "statusCode": "404",
                    "selectionPattern": "Not found.*",
                }],
            },
            "templates": {
                "rendered": 1,
                "total": 2,
                "notRendered": [{
                    "file": "d/api.yaml", "line": 8, "column": 20,
                    "method": "restApiName A /r GET", "statusCode": "200",
                    "mediaType": "application/xml",
                }],
            },
        })
    );
    // The summary counts tests only.
    assert_eq!(
        report["summary"],
        json!({"passed": 1, "failed": 0, "errors": 0, "filteredOut": 0})
    );
    let (_, json) = reports("d/api.yaml", false);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["coverage"]["required"], false);
    assert_eq!(report["coverage"]["failures"], 0);
}
