//! Templates that do not parse, each error placed on its own line of the file.

use super::*;

/// The one error of GOOD with these `responseTemplates` lines (the first on line 7).
fn template_error(templates: &str) -> String {
    error(&format!("{GOOD}responseTemplates:\n{templates}"))
}

const SET_ERROR: &str = "does not parse: unexpected \"1\", expected '=' in #set";

#[test]
fn a_template_error_in_a_literal_block_is_placed_on_its_file_line() {
    // Template line 2, column 9 (the `1`): file line 9, four columns of indentation.
    for header in ["|", "|-", "|+", "|2", "| # a comment"] {
        assert_eq!(
            template_error(&format!(
                "  application/json: {header}\n    ok\n    #set($a 1)\n"
            )),
            format!("d/x.yaml:9:13: the `application/json` template {SET_ERROR}"),
            "{header}"
        );
    }
    // A blank first line is a template line too.
    assert_eq!(
        template_error("  application/json: |\n\n    ok\n    #set($a 1)\n"),
        format!("d/x.yaml:10:13: the `application/json` template {SET_ERROR}")
    );
    // Deeper indentation inside the block is the template's own.
    assert_eq!(
        template_error("  application/json: |\n    ok\n      #set($a 1)\n"),
        format!("d/x.yaml:9:15: the `application/json` template {SET_ERROR}")
    );
}

#[test]
fn a_template_error_in_a_folded_block_is_placed_on_its_file_line() {
    // A blank line keeps the line break: template line 2 is file line 10.
    assert_eq!(
        template_error("  application/json: >\n    ok\n\n    #set($a 1)\n"),
        format!("d/x.yaml:10:13: the `application/json` template {SET_ERROR}")
    );
    // Folding joins "ok" and "x #set($a 1)" into template line 1 ("ok x #set($a 1)",
    // the `1` at its column 14); the `1` stands on file line 9, column 15.
    assert_eq!(
        template_error("  application/json: >\n    ok\n    x #set($a 1)\n"),
        format!("d/x.yaml:9:15: the `application/json` template {SET_ERROR}")
    );
}

#[test]
fn a_template_error_in_a_double_quoted_scalar_is_placed_on_its_file_line() {
    // `"` is column 21 of line 7; `\n` is two characters in the file, one in the
    // template.
    assert_eq!(
        template_error("  application/json: \"ok\\n#set($a 1)\"\n"),
        format!("d/x.yaml:7:34: the `application/json` template {SET_ERROR}")
    );
    // Escapes before the error on the same line: `\"` is two file columns.
    assert_eq!(
        template_error("  application/json: \"#set($a = \\\"x\\\") #set($b 1)\"\n"),
        format!("d/x.yaml:7:47: the `application/json` template {SET_ERROR}")
    );
    assert_eq!(
        template_error("  application/json: \"\\u00e9\\t#set($a 1)\"\n"),
        format!("d/x.yaml:7:38: the `application/json` template {SET_ERROR}")
    );
    // A line break inside the quotes folds into a space: the `#set` is on line 8.
    assert_eq!(
        template_error("  application/json: \"ok\n    #set($a 1)\"\n"),
        format!("d/x.yaml:8:13: the `application/json` template {SET_ERROR}")
    );
    // An escaped line break joins without a space.
    assert_eq!(
        template_error("  application/json: \"ok \\\n    #set($a 1)\"\n"),
        format!("d/x.yaml:8:13: the `application/json` template {SET_ERROR}")
    );
}

#[test]
fn a_template_error_in_a_single_quoted_scalar_is_placed_on_its_file_line() {
    let amp = "does not parse: unexpected character '&' in a directive's arguments";
    assert_eq!(
        template_error("  application/json: 'ok #if($a & $b)x#end'\n"),
        format!("d/x.yaml:7:32: the `application/json` template {amp}")
    );
    // `''` is one quote in the template, two columns in the file.
    assert_eq!(
        template_error("  application/json: '#set($a = ''x'') #if($a & $b)x#end'\n"),
        format!("d/x.yaml:7:46: the `application/json` template {amp}")
    );
    // A blank line is a line break: template line 2 is file line 9.
    assert_eq!(
        template_error("  application/json: 'ok\n\n    #if($a & $b)x#end'\n"),
        format!("d/x.yaml:9:12: the `application/json` template {amp}")
    );
    // Columns count characters, not bytes.
    assert_eq!(
        template_error("  application/json: 'é ü #if($a & $b)x#end'\n"),
        format!("d/x.yaml:7:33: the `application/json` template {amp}")
    );
}

#[test]
fn a_template_error_is_placed_in_a_file_with_crlf_line_breaks() {
    let text = format!(
        "{GOOD}responseTemplates:\n  application/json: |\n    ok\n    #set($a 1)\n  text/plain: >\n    ok\n    x #set($a 1)\n"
    )
    .replace('\n', "\r\n");
    let shown: Vec<String> = parse(&text)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        shown,
        [
            format!("d/x.yaml:9:13: the `application/json` template {SET_ERROR}"),
            format!("d/x.yaml:12:15: the `text/plain` template {SET_ERROR}"),
        ]
    );
}

#[test]
fn a_template_error_in_a_plain_scalar_is_placed_on_its_file_line() {
    let end = "does not parse: #end without a matching #if or #foreach";
    assert_eq!(
        template_error("  application/json: x#end\n"),
        format!("d/x.yaml:7:22: the `application/json` template {end}")
    );
    // "line one x#end": one template line, two file lines.
    assert_eq!(
        template_error("  application/json: line one\n    x#end\n"),
        format!("d/x.yaml:8:6: the `application/json` template {end}")
    );
    // In a flow map too.
    assert_eq!(
        template_error("  {application/json: x#end}\n"),
        format!("d/x.yaml:7:23: the `application/json` template {end}")
    );
}

#[test]
fn an_unclosed_directive_is_placed_at_the_templates_end_and_names_its_file_line() {
    let unclosed = |line| {
        format!(
            "the `application/json` template does not parse: #if without #end (opened at line {line})"
        )
    };
    // After the last character of the last line.
    assert_eq!(
        template_error("  application/json: |\n    ok\n    #if(true)\n"),
        format!("d/x.yaml:9:14: {}", unclosed(9))
    );
    // Folded: template line 1 is "ok #if(true)", the #if on file line 9.
    assert_eq!(
        template_error("  application/json: >\n    ok\n    #if(true)\n"),
        format!("d/x.yaml:9:14: {}", unclosed(9))
    );
    assert_eq!(
        template_error("  application/json: \"ok\\n  #if(true)\"\n"),
        format!("d/x.yaml:7:37: {}", unclosed(7))
    );
    // The second template of two, after the first.
    assert_eq!(
        template_error(
            "  text/plain: fine\n  application/json: |\n    a\n    #{if}(true)\n    b\n"
        ),
        format!("d/x.yaml:11:6: {}", unclosed(10))
    );
}

#[test]
fn every_template_that_does_not_parse_is_reported() {
    let errors = errors(&format!(
        "{GOOD}responseTemplates:\n  application/json: x#end\n  text/plain: |\n    #set($a 1)\n"
    ));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("d/x.yaml:7:22: the `application/json`"));
    assert!(errors[1].starts_with("d/x.yaml:9:13: the `text/plain`"));
}
