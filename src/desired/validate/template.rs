//! A response template that does not parse, placed on the file line and column of the
//! error inside the template (the scalar traced back to the file by
//! [`crate::yaml::trace`]).

use super::cache::parse_template;
use crate::yaml::de::Spanned;
use crate::yaml::{self, Pos};

/// The template `text` (the value of `value`, under the media type `key`, in the file
/// `source`) parsed, its tree when `keep` asks for it; or why it does not parse, at the
/// place in the file the error is about.
pub(super) fn check(
    source: &str,
    key: &str,
    value: &Spanned<Option<String>>,
    text: &str,
    keep: bool,
) -> Result<Option<crate::vtl::Template>, (Pos, String)> {
    let e = match parse_template(text, keep) {
        Ok(tree) => return Ok(tree),
        Err(e) => e,
    };
    let at = |line, col| {
        yaml::trace::position_in_scalar(source, value.pos, value.style, text, line, col)
    };
    let (pos, exact) = at(e.line, e.col);
    let place = if exact {
        String::new()
    } else {
        format!(" (template line {}, column {})", e.line, e.col)
    };
    // "#if without #end (opened at line N)": N is the template's; say the file's.
    let message = match e.message.rsplit_once(" (opened at line ") {
        Some((what, rest)) => match rest.trim_end_matches(')').parse::<usize>() {
            Ok(n) => match at(n, opened_column(text, n, what)) {
                (pos, true) => format!("{what} (opened at line {})", pos.line),
                _ => e.message.clone(),
            },
            _ => e.message.clone(),
        },
        None => e.message.clone(),
    };
    Err((
        pos,
        format!("the `{key}` template does not parse{place}: {message}"),
    ))
}

/// The column of the directive `what` ("#if without #end") on line `line` of a
/// template: its first `#if` or `#{if}` there, else 1. A folded or plain scalar may
/// join that line to the one before it in the file, so the column decides the file line.
fn opened_column(text: &str, line: usize, what: &str) -> usize {
    let name = what
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('#');
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    if name.is_empty() {
        return 1;
    }
    [format!("#{name}"), format!("#{{{name}}}")]
        .iter()
        .filter_map(|d| l.find(d.as_str()))
        .min()
        .map_or(1, |i| l[..i].chars().count() + 1)
}
