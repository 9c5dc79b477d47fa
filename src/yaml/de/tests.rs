use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Doc {
    name: Option<Spanned<String>>,
    count: Option<u32>,
    flag: Option<bool>,
    items: Option<Vec<String>>,
    map: Option<Spanned<Pairs<Spanned<String>>>>,
    mode: Option<Spanned<Mode>>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Slow,
}

fn parse(text: &str) -> Result<Doc, Vec<Problem>> {
    let docs = super::super::parse_documents(text).unwrap();
    let node = docs.into_iter().next().flatten().unwrap();
    // The tree is leaked so the borrowed document can be returned.
    from_node(Box::leak(Box::new(node)))
}

fn messages(text: &str) -> Vec<String> {
    parse(text)
        .unwrap_err()
        .iter()
        .map(|p| format!("{}:{}: {}", p.pos.line, p.pos.col, p.message))
        .collect()
}

#[test]
fn values_keep_their_positions() {
    let doc = parse("name: x\nmap:\n  a/b: |\n    text\n  c: 2\nmode: slow\ncount: 3\n").unwrap();
    let name = doc.name.unwrap();
    assert_eq!(
        (name.pos.line, name.pos.col, name.value.as_str()),
        (1, 7, "x")
    );
    let map = doc.map.unwrap();
    assert_eq!(map.pos.line, 3);
    let (k, v) = &map.value.0[0];
    assert_eq!((k.value.as_str(), k.pos.line, k.pos.col), ("a/b", 3, 3));
    // A block scalar is placed at its first content line.
    assert_eq!((v.value.as_str(), v.pos.line, v.pos.col), ("text\n", 4, 5));
    assert_eq!(map.value.0[1].1.value, "2", "a number read as text");
    assert_eq!(doc.mode.unwrap().value, Mode::Slow);
    assert_eq!(doc.count, Some(3));
}

#[test]
fn every_problem_of_a_document_is_reported_where_it_is() {
    assert_eq!(
        messages(
            "nane: x\ncount: lots\nflag: 3\nitems: {a: 1}\nmap: [x]\nmode: medium\nother: 1\n"
        ),
        [
            "1:1: unknown field `nane` (did you mean `name`?)",
            "2:8: `count` must be u32, found a string",
            "3:7: `flag` must be true or false, found an integer",
            "4:8: `items` must be a sequence, found a map",
            "5:6: `map` must be a map, found a list",
            "6:7: `mode` must be `fast` or `slow`, found `medium`",
            "7:1: unknown field `other`; known fields: name, count, flag, items, map, mode",
        ]
    );
    assert_eq!(
        messages("map:\n  k: [1]\n  true: x\n"),
        [
            "2:6: value of `map.k` must be a string, found a list",
            "3:3: keys of `map` must be a string, found a boolean",
        ]
    );
    assert_eq!(
        messages("name: true\n"),
        ["1:7: `name` must be a string, found a boolean"]
    );
}
