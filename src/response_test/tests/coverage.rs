//! Coverage: which integration responses no test selected and which templates no test
//! rendered, from what the simulations recorded.

use super::*;

/// GET /r: a default 200 with a JSON and an XML template, a 404 with a JSON template,
/// a 500 with a passthrough entry (no template to render), and an absent 502.
fn four() -> String {
    docs(&[
        ir(
            "200",
            "responseTemplates:\n  application/json: '{\"ok\": true}'\n  application/xml: <ok/>\n",
        ),
        ir(
            "404",
            "selectionPattern: \"Not found.*\"\nresponseTemplates:\n  application/json: |\n    {\"missing\": true}\n",
        ),
        ir(
            "500",
            "selectionPattern: \"Internal.*\"\nresponseTemplates:\n  application/json: \"\"\n",
        ),
        ir("502", "selectionPattern: \"Bad.*\"\nstate: absent\n"),
    ])
}

fn lambda_test(name: &str, extra: &str) -> String {
    test_doc(name, "lambda", extra)
}

fn coverage_of(specs: &str, tests: &[String], selection: &Selection) -> Coverage {
    let set = set_of(&[(SPECS, specs), (TESTS, &docs(tests))]);
    let evaluation = crate::desired::Evaluation::start(Default::default());
    let run = run_selected_within(&set, &evaluation, selection);
    Coverage::of(&set, &run)
}

fn places(c: &Coverage) -> (Vec<String>, Vec<String>) {
    (
        c.not_selected
            .iter()
            .map(|s| format!("{} {}", s.location, s.status_code))
            .collect(),
        c.not_rendered
            .iter()
            .map(|t| format!("{} {} {}", t.location, t.spec.status_code, t.media_type))
            .collect(),
    )
}

#[test]
fn coverage_names_the_responses_no_test_selected_and_the_templates_none_rendered() {
    let tests = [
        lambda_test("success", ""),
        lambda_test(
            "missing",
            &format!(
                "{}expect:\n  statusCode: \"404\"\n",
                lambda_error("Not found: 1")
            ),
        ),
    ];
    let c = coverage_of(&four(), &tests, &Selection::default());
    // The absent 502 is not counted; the 500's passthrough entry is no template.
    assert_eq!((c.responses, c.selected()), (3, 2));
    assert_eq!((c.templates, c.rendered()), (3, 2));
    let (not_selected, not_rendered) = places(&c);
    // Each at its own place: the 500's document, the XML template's value.
    assert_eq!(not_selected, ["d/api.yaml:20:1 500"]);
    assert_eq!(not_rendered, ["d/api.yaml:8:20 200 application/xml"]);
    assert_eq!(c.failures(), 0, "coverage is not required");
    assert_eq!(
        c.render(),
        "coverage: 2/3 integration responses selected, 2/3 templates rendered\n\
         \x20 not selected: d/api.yaml:20:1 (restApiName A /r GET 500)\n\
         \x20 not rendered: d/api.yaml:8:20 (restApiName A /r GET 200, template application/xml)\n"
    );
}

#[test]
fn what_counts_is_what_the_simulation_picked_not_what_a_test_names() {
    // Both tests name the method and expect a 404; only the one whose backend answer
    // matches the 404's pattern selects it, and `Accept` decides the template.
    let tests = [
        lambda_test(
            "a 404 by name only",
            "backend:\n  errorMessage: \"Internal: x\"\nexpect:\n  statusCode: \"404\"\n",
        ),
        lambda_test("xml", "request:\n  accept: application/xml\n"),
    ];
    let c = coverage_of(&four(), &tests, &Selection::default());
    let (not_selected, not_rendered) = places(&c);
    // The first test fails (it gets the 500) and still counts: it selected the 500.
    assert_eq!(not_selected, ["d/api.yaml:10:1 404"]);
    assert_eq!(
        not_rendered,
        [
            "d/api.yaml:7:21 200 application/json",
            "d/api.yaml:18:5 404 application/json"
        ]
    );
}

#[test]
fn a_test_whose_template_fails_counts_its_selection_not_the_template() {
    let specs = ir(
        "200",
        "responseTemplates:\n  application/json: '$util.parseJson($input.body).a'\n",
    );
    let test = lambda_test("not json", "backend:\n  body: \"not json\"\n");
    let set = set_of(&[(SPECS, &specs), (TESTS, &test)]);
    let run = run_all(&set);
    assert!(
        matches!(run.results[0].1, Outcome::Error(_)),
        "{:?}",
        run.results[0].1
    );
    assert_eq!(
        run.used,
        [Used {
            response: Some(0),
            template: None
        }]
    );
    let c = Coverage::of(&set, &run);
    assert_eq!((c.selected(), c.responses), (1, 1));
    assert_eq!((c.rendered(), c.templates), (0, 1));
}

#[test]
fn with_a_filter_only_the_selected_tests_count_and_the_summary_says_so() {
    let tests = [
        lambda_test("success", ""),
        lambda_test(
            "missing",
            &format!(
                "{}expect:\n  statusCode: \"404\"\n",
                lambda_error("Not found: 1")
            ),
        ),
    ];
    let only = Selection {
        filters: vec!["success".into()],
        exact: false,
    };
    let c = coverage_of(&four(), &tests, &only);
    assert_eq!((c.tests, c.filtered_out), (1, 1));
    let (not_selected, _) = places(&c);
    assert_eq!(not_selected, ["d/api.yaml:10:1 404", "d/api.yaml:20:1 500"]);
    assert_eq!(
        c.summary(),
        "coverage of the 1 selected test (1 filtered out): 1/3 integration responses selected, \
         1/3 templates rendered"
    );
}

#[test]
fn required_coverage_makes_each_response_not_selected_a_failure() {
    let c = coverage_of(
        &four(),
        &[lambda_test("success", "")],
        &Selection::default(),
    );
    assert_eq!(c.failures(), 0);
    let c = c.require(true);
    assert_eq!(c.failures(), 2);
    let text = c.render();
    assert!(
        text.ends_with(
            "coverage FAILED (--require-coverage): 2 integration responses no test selects; \
             add a response test whose backend answer selects each\n"
        ),
        "{text}"
    );
    // Complete coverage fails nothing, required or not.
    let specs = ir("200", "");
    let c = coverage_of(&specs, &[lambda_test("success", "")], &Selection::default()).require(true);
    assert_eq!((c.failures(), c.not_selected.len()), (0, 0));
    assert!(!c.render().contains("FAILED"), "{}", c.render());
}

#[test]
fn spec_values_in_the_coverage_text_stay_on_one_visible_line() {
    // Names and paths refuse control characters, a file name does not: an escape
    // sequence and a line break in it could clear a terminal or forge a report line.
    let specs = ir("200", "responseTemplates:\n  text/plain: x\n");
    let set = set_of(&[("d/\x1b[2J\nok.yaml", &specs)]);
    let c = Coverage::of(&set, &run_all(&set));
    let text = c.render();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    assert!(
        text.contains(r"not selected: d/\x1b[2J\nok.yaml:1:1 (restApiName A /r GET 200)"),
        "{text}"
    );
}

#[test]
fn a_long_list_shows_its_first_twenty_and_counts_the_rest() {
    let specs = docs(
        &(0..25)
            .map(|i| {
                ir(
                    &format!("{}", 400 + i),
                    &format!("selectionPattern: \"e{i}\"\n"),
                )
            })
            .collect::<Vec<_>>(),
    );
    let set = set_of(&[(SPECS, &specs)]);
    let text = Coverage::of(&set, &run_all(&set)).render();
    assert_eq!(text.matches("not selected: ").count(), 20, "{text}");
    assert!(
        text.ends_with("  ... and 5 more not selected (`--output json` lists every one)\n"),
        "{text}"
    );
}

#[test]
fn the_simulation_records_indices_into_the_set_and_the_spec_s_sorted_templates() {
    // Another method's response first, so an index among the method's responses (0)
    // would name the wrong spec; templates written out of their sorted order.
    let post = ir("200", "").replace("httpMethod: GET", "httpMethod: POST");
    let get = ir(
        "200",
        "responseTemplates:\n  text/plain: t\n  application/json: j\n",
    );
    let test = test_doc("t", "mock", "request:\n  accept: text/plain\n");
    let set = set_of(&[(SPECS, &docs(&[post, get])), (TESTS, &test)]);
    let mut used = Used::default();
    let s = simulate_recording(
        &set.tests[0],
        &set,
        &mut crate::vtl::Meter::default(),
        &mut used,
    )
    .unwrap();
    assert_eq!(s.response.body, "t");
    // Spec 1 of the set; text/plain is template 1 (application/json sorts first).
    assert_eq!(
        used,
        Used {
            response: Some(1),
            template: Some(1)
        }
    );
}

#[test]
fn the_run_report_shows_coverage_before_its_last_line_which_counts_the_uncovered() {
    let set = set_of(&[(SPECS, &four()), (TESTS, &lambda_test("success", ""))]);
    let run = run_all(&set);
    let report = run.render_with(&Coverage::of(&set, &run));
    assert!(
        report.contains("\n\ncoverage: 1/3 integration responses selected"),
        "{report}"
    );
    assert!(report.ends_with("\n\n1 passed, 0 failed\n"), "{report}");
    let report = run.render_with(&Coverage::of(&set, &run).require(true));
    assert!(
        report.ends_with("\n\n1 passed, 0 failed, 2 uncovered (--require-coverage)\n"),
        "{report}"
    );
    // Without coverage, the report is what it was.
    assert!(
        run.render()
            .ends_with("ok  [d/api.tests.yaml:1:1]\n\n1 passed, 0 failed\n")
    );
}
