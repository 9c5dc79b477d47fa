//! The README's example, kept true.
use apigw_vtl::{Inputs, parse, render};

#[test]
fn the_readme_example_renders_as_it_says() {
    let t = parse("#set($o = $input.path('$'))\n{\"id\": $o.id}").unwrap();
    let inputs = Inputs {
        body: r#"{"id": 42}"#.into(),
        ..Inputs::default()
    };
    assert_eq!(render(&t, &inputs).unwrap().body, "{\"id\": 42}");
}
