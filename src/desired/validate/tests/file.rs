//! A file as a whole: encoding, control characters, YAML syntax, its documents.

use super::*;

#[test]
fn yaml_syntax_errors_have_their_position() {
    let e = error("kind: IntegrationResponse\nrestApiName: [A\n");
    assert!(e.starts_with("d/x.yaml:2:"), "{e}");
    assert!(e.contains("YAML syntax error"), "{e}");
}

#[test]
fn tabs_for_indentation_are_syntax_errors() {
    let e = error("kind: IntegrationResponse\nresponseTemplates:\n\tapplication/json: x\n");
    assert!(e.starts_with("d/x.yaml:3:"), "{e}");
    assert!(e.contains("YAML syntax error"), "{e}");
}

#[test]
fn duplicate_keys_in_a_map_are_errors() {
    assert_eq!(
        error(&format!("{GOOD}httpMethod: POST\n")),
        "d/x.yaml:6:1: duplicate key `httpMethod` (first at line 4)"
    );
}

#[test]
fn non_utf8_files_are_errors_with_the_line() {
    let mut bytes = b"kind: IntegrationResponse\nrestApiName: \"".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    let errors = parse_files(&[SourceFile {
        display_name: "d/x.yaml".into(),
        bytes,
    }])
    .unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("d/x.yaml:2:15: file is not valid UTF-8"),
        "{}",
        errors[0]
    );
}

#[test]
fn control_characters_are_errors_where_they_stand() {
    let e = error("kind: IntegrationResponse\nrestApiName: Bad\u{0}Inputs\n");
    assert!(
        e.starts_with("d/x.yaml:2:17: control character U+0000 is not allowed in YAML"),
        "{e}"
    );
    // Nothing after a NUL may vanish: the second document's error is still found.
    let errors = parse(&format!(
        "{GOOD}\u{0}\n---\n{}",
        GOOD.replace("\"200\"", "\"2OO\"")
    ))
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("d/x.yaml:6:1: control character"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_byte_order_mark_is_allowed() {
    assert_eq!(parse(&format!("\u{feff}{GOOD}")).unwrap().specs.len(), 1);
}

#[test]
fn syntax_errors_never_point_past_the_last_line() {
    let e = error("kind: IntegrationResponse\nresponseTemplates:\n  a/b: x\n  text/plain\n");
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
    assert_eq!(line, 4, "{e}");
}

#[test]
fn alias_bombs_are_errors() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(error(&text).contains("alias bomb"));
}

#[test]
fn empty_and_comment_only_files_hold_no_specs() {
    assert!(parse("").unwrap().specs.is_empty());
    assert!(
        parse("# nothing yet\n---\n# still nothing\n")
            .unwrap()
            .specs
            .is_empty()
    );
}

#[test]
fn every_document_of_a_file_is_read_and_every_error_reported() {
    let two = format!("{GOOD}---\n{}", GOOD.replace("GET", "POST"));
    assert_eq!(parse(&two).unwrap().specs.len(), 2);
    let errors = parse(&format!(
        "{}---\n{}",
        with("state", "x"),
        with("httpMethod", "Y")
    ))
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[1].location.pos.line, 12);
}
