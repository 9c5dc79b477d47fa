//! The rules over all files: one document per identity, one default per method,
//! unique test names.

use super::*;

#[test]
fn the_same_identity_twice_names_both_places() {
    let errors = parse_files(&[
        file("d/a.yaml", GOOD),
        file("d/b.yaml", &format!("# other\n{GOOD}")),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "d/b.yaml:2:1: duplicate integration response restApiName A /r GET 200: already defined at d/a.yaml:1:1; keep one of the two"
    );
}

#[test]
fn two_default_responses_on_one_method_are_errors() {
    let second = GOOD.replace("\"200\"", "\"500\"");
    let e = parse(&format!("{GOOD}---\n{second}")).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].to_string()
            .starts_with("d/x.yaml:7:1: restApiName A /r GET has more than one default response"),
        "{}",
        e[0]
    );
    // A pattern on one of them, or state: absent, makes it fine.
    parse(&format!(
        "{GOOD}---\n{second}selectionPattern: \"5\\\\d{{2}}\"\n"
    ))
    .unwrap();
    parse(&format!("{GOOD}---\n{second}state: absent\n")).unwrap();
}

#[test]
fn response_test_names_are_unique_and_both_places_are_named() {
    let errors = parse_files(&[
        file("d/a.yaml", TEST),
        file("d/b.yaml", &format!("{GOOD}---\n{TEST}")),
    ])
    .unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "d/b.yaml:7:1: response test `t` is also defined at d/a.yaml:1:1; test names must be unique"
        ]
    );
    // Another name is fine.
    parse_files(&[
        file("d/a.yaml", TEST),
        file("d/b.yaml", &TEST.replace("name: t", "name: u")),
    ])
    .unwrap();
}
