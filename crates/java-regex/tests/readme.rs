//! The README's example, kept true.
use java_regex::Pattern;

#[test]
fn the_readme_example_answers_as_it_says() {
    let p = Pattern::compile(r"Not found: (?<what>\w+) \d+").unwrap();
    assert!(p.matches("Not found: order 42").unwrap());
    assert_eq!(
        p.replace_all("Not found: order 42", "${what}!").unwrap(),
        "order!"
    );
    assert!(Pattern::compile("(").is_err());
}
