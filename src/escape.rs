//! Escaping values from specs and from the live API for the medium they reach. Every
//! name, path, id, header, mapping value, selection pattern, template, file name and
//! error message is untrusted text: whoever can open a pull request writes the specs,
//! and whoever can change the API writes what we read back. Plans are posted as
//! pull-request comments reviewers trust, and logs are read line by line, so no value
//! may end a line, a table row or a code block, or open an HTML tag or entity.
//!
//! One set of functions, used by every renderer:
//!
//! - [`visible`]: one line of plain text (text plans, reports, error messages, logs):
//!   the characters that break or disguise a line are shown as escapes (`\n`, `\r`,
//!   `\t`, `\x1b`, `\u{2028}`).
//! - [`code_span`]: Markdown inline code. Chosen over HTML entities because a code span
//!   is the one Markdown construct whose content is never interpreted: no emphasis, no
//!   links, no raw HTML, no entities (CommonMark 0.31, "Code spans"), and it shows the
//!   value as a value, set apart from our own words. It survives backticks by its
//!   fence: N+1 backticks where N is the longest backtick run inside, with a space of
//!   padding when the content starts or ends with a backtick (or a space, which
//!   CommonMark would otherwise strip). Inside a table, `|` is written `\|`: GitHub's
//!   table extension (cmark-gfm) splits a row at every `|` not preceded by a backslash
//!   *before* inline parsing, code spans included, then removes the backslash of each
//!   `\|`; so `\|` shows as `|` and any other backslash is kept as written.
//! - [`code_block`]: a fenced code block longer than any backtick run inside, so no
//!   line of the content can close it.
//! - [`html_text`]: text inside raw HTML (the `<summary>` of a collapsible block, where
//!   Markdown is not parsed): `&`, `<`, `>`, `"` and `'` as entities.
//! - [`xml_attr`] and [`xml_text`]: an XML 1.0 attribute value (on one line) and
//!   element content (lines kept), for the JUnit report: `& < > " '` as entities, and
//!   every character XML 1.0 does not allow (`Char`, §2.2: the C0 controls other than
//!   tab, LF and CR, U+FFFE, U+FFFF) shown as an escape like [`visible`]'s (`\x01`),
//!   because XML 1.0 has no way to encode them at all (`&#1;` is not well-formed
//!   either). The characters [`breaks_lines`] are escaped the same way (CR too, which
//!   a parser would turn into LF; in an attribute also LF and tab, which it would turn
//!   into spaces), so what a CI page shows is what the spec holds.
//!
//! Backslashes are kept as written everywhere (a selection pattern `5\d{2}` reads as
//! itself), so a literal `\n` in a value and an escaped line break look alike: the
//! escapes exist so that nothing can *act* as a line break, not to round-trip.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` can break or disguise a line: Unicode control characters (category
/// Cc: C0 with tab, LF, CR and ESC, DEL, C1 with NEL), the line and paragraph
/// separators U+2028/U+2029, and the bidirectional formatting characters that reorder
/// what a reader sees ("Trojan Source", CVE-2021-42574: U+061C, U+200E, U+200F,
/// U+202A..U+202E, U+2066..U+2069).
pub fn breaks_lines(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Append `c` as an escape: `\n`, `\r`, `\t`, `\xNN` below U+0080, `\u{N}` above.
pub fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `text` with every character that [`breaks_lines`] shown as an escape, except those
/// `keep` allows (a code block keeps its line feeds and tabs).
pub fn visible_except(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| breaks_lines(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if breaks_lines(c) && !keep(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` on one line: every character that [`breaks_lines`] shown as an escape.
pub fn visible(text: &str) -> Cow<'_, str> {
    visible_except(text, |_| false)
}

/// Where a code span goes: a table cell also escapes `|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Inline,
    TableCell,
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// `text` as a Markdown code span that shows it exactly (on one line, see
/// [`visible`]) whatever it holds; an empty value as `(empty)` in italics.
pub fn code_span(text: &str, context: Context) -> String {
    let mut content = visible(text).into_owned();
    if content.is_empty() {
        return "_(empty)_".into();
    }
    if context == Context::TableCell {
        content = content.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_run(&content, '`') + 1);
    // CommonMark strips one space from each end when both ends have one (and the
    // content is not all spaces); padding both ends keeps a leading or trailing
    // backtick off the fence and a leading or trailing space in the value.
    let pad = !content.chars().all(|c| c == ' ')
        && (content.starts_with(['`', ' ']) || content.ends_with(['`', ' ']));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// `body` as a fenced code block with `info` (`diff`): the fence is longer than any
/// backtick run in the body, so no line of it closes the block; line feeds and tabs
/// are kept, every other character that [`breaks_lines`] is escaped (a CR would be a
/// line ending to CommonMark).
pub fn code_block(body: &str, info: &str) -> String {
    let body = visible_except(body, |c| c == '\n' || c == '\t');
    let fence = "`".repeat((longest_run(&body, '`') + 1).max(3));
    let newline = if body.ends_with('\n') || body.is_empty() {
        ""
    } else {
        "\n"
    };
    format!("{fence}{info}\n{body}{newline}{fence}\n")
}

/// `text` for the inside of raw HTML: on one line, with `& < > " '` as entities, so it
/// opens no tag, no attribute and no entity.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as an XML 1.0 attribute value (inside `"..."` or `'...'`), on one line: see
/// the module documentation.
pub fn xml_attr(text: &str) -> String {
    xml(text, |_| false)
}

/// `text` as XML 1.0 element content: line feeds and tabs kept, otherwise as
/// [`xml_attr`].
pub fn xml_text(text: &str) -> String {
    xml(text, |c| c == '\n' || c == '\t')
}

fn xml(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not XML 1.0 characters (a Rust char is never a surrogate).
            '\u{fffe}' | '\u{ffff}' => push_escape(&mut out, c),
            c if breaks_lines(c) && !keep(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// The inline code and other events a CommonMark parser (with GitHub's tables)
    /// makes of `markdown`.
    fn events(markdown: &str) -> Vec<Event<'_>> {
        Parser::new_ext(markdown, Options::ENABLE_TABLES).collect()
    }

    /// What the one code span in `markdown` shows.
    fn shown(markdown: &str) -> String {
        let codes: Vec<String> = events(markdown)
            .into_iter()
            .filter_map(|e| match e {
                Event::Code(c) => Some(c.into_string()),
                _ => None,
            })
            .collect();
        assert_eq!(codes.len(), 1, "{markdown:?}: {:?}", events(markdown));
        codes[0].clone()
    }

    const HOSTILE: [&str; 12] = [
        "plain",
        "a`b",
        "``x```y`",
        "ends with a backtick`",
        "`starts with one",
        "`",
        " padded ",
        "<img src=x onerror=alert(1)>",
        "a|b",
        "**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**",
        "&lt;script&gt; &amp; [link](http://x) ![i](x)",
        "_em_ ~~s~~ # h",
    ];

    #[test]
    fn a_code_span_shows_any_value_as_it_is() {
        for value in HOSTILE {
            let md = format!("before {} after", code_span(value, Context::Inline));
            assert_eq!(shown(&md), value, "{md}");
            // Nothing but the code span and our words: no HTML, no emphasis.
            for e in events(&md) {
                assert!(
                    matches!(
                        e,
                        Event::Code(_)
                            | Event::Text(_)
                            | Event::Start(Tag::Paragraph)
                            | Event::End(TagEnd::Paragraph)
                    ),
                    "{md}: {e:?}"
                );
            }
        }
    }

    #[test]
    fn line_breaks_and_controls_are_shown_escaped_on_one_line() {
        assert_eq!(visible("a\r\nb\tc\u{1b}[2J"), "a\\r\\nb\\tc\\x1b[2J");
        assert_eq!(
            visible("x\u{2028}y\u{2029}z\u{85}"),
            "x\\u{2028}y\\u{2029}z\\u{85}"
        );
        assert_eq!(visible("rtl\u{202e}fdp.exe"), "rtl\\u{202e}fdp.exe");
        assert_eq!(visible("no\0nul\u{7f}"), "no\\x00nul\\x7f");
        assert!(matches!(visible("Grüße /pets/{id}"), Cow::Borrowed(_)));
        let forged = "x\n**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**\nNo changes.";
        let md = code_span(forged, Context::Inline);
        assert!(!md.contains('\n'), "{md}");
        assert_eq!(
            shown(&md),
            "x\\n**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**\\nNo changes."
        );
        assert_eq!(code_span("", Context::Inline), "_(empty)_");
    }

    #[test]
    fn in_a_table_cell_a_value_stays_in_its_cell() {
        for value in HOSTILE
            .iter()
            .copied()
            .chain(["a\\|b", "|", "x | y |\n| z"])
        {
            let md = format!(
                "| a | b |\n|---|---|\n| {} | after |\n",
                code_span(value, Context::TableCell)
            );
            let mut cells = Vec::new();
            let mut rows = 0;
            for e in events(&md) {
                match e {
                    Event::Start(Tag::TableRow) => rows += 1,
                    Event::Start(Tag::TableCell) => cells.push(String::new()),
                    Event::Code(t) | Event::Text(t) => cells.last_mut().unwrap().push_str(&t),
                    _ => {}
                }
            }
            assert_eq!(rows, 1, "{md}");
            assert_eq!(cells.len(), 4, "{md}: {cells:?}");
            assert_eq!(cells[2], visible(value), "{md}");
            assert_eq!(cells[3], "after", "{md}");
        }
    }

    #[test]
    fn a_code_block_is_closed_only_by_its_own_fence() {
        let body = "+```\n+````\n+~~~\n</details>\n<img src=x>\nNo changes.\nlone\rcr\ttab\n";
        let md = format!("{}after\n", code_block(body, "diff"));
        assert!(md.starts_with("`````diff\n"), "{md}");
        let mut inside = String::new();
        let mut blocks = 0;
        let mut after = String::new();
        let mut in_block = false;
        for e in events(&md) {
            match e {
                Event::Start(Tag::CodeBlock(_)) => {
                    blocks += 1;
                    in_block = true
                }
                Event::End(TagEnd::CodeBlock) => in_block = false,
                Event::Text(t) if in_block => inside.push_str(&t),
                Event::Text(t) => after.push_str(&t),
                Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
                other => panic!("{md}: {other:?}"),
            }
        }
        assert_eq!(blocks, 1);
        assert_eq!(inside, body.replace('\r', "\\r"));
        assert_eq!(after, "after");
        assert_eq!(code_block("x", "diff"), "```diff\nx\n```\n");
    }

    #[test]
    fn html_text_opens_no_tag_and_no_entity() {
        assert_eq!(
            html_text("<img src=\"x\" onerror='a'>&amp;\n"),
            "&lt;img src=&quot;x&quot; onerror=&#39;a&#39;&gt;&amp;amp;\\n"
        );
    }

    /// What a conforming XML parser reads from `value` as an attribute and as content.
    fn xml_read_back(value: &str) -> (String, String) {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><r a=\"{}\" b='{}'>{}</r>",
            xml_attr(value),
            xml_attr(value),
            xml_text(value)
        );
        let parsed = roxmltree::Document::parse(&doc)
            .unwrap_or_else(|e| panic!("{value:?} makes XML that does not parse: {e}\n{doc}"));
        let root = parsed.root_element();
        assert_eq!(root.attribute("a"), root.attribute("b"), "{doc}");
        assert_eq!(
            root.children().count(),
            usize::from(!value.is_empty()),
            "{doc}"
        );
        (
            root.attribute("a").unwrap().to_string(),
            root.text().unwrap_or_default().to_string(),
        )
    }

    /// What an attribute and content should read back as: [`visible`]'s escapes, and the
    /// two non-characters escaped too.
    fn xml_shown(value: &str) -> (String, String) {
        let non_chars = |s: Cow<'_, str>| {
            s.replace('\u{fffe}', "\\u{fffe}")
                .replace('\u{ffff}', "\\u{ffff}")
        };
        (
            non_chars(visible(value)),
            non_chars(visible_except(value, |c| c == '\n' || c == '\t')),
        )
    }

    #[test]
    fn xml_reads_back_as_written_and_opens_nothing() {
        for value in HOSTILE.iter().copied().chain([
            "</r><injected/>",
            "a\"b'c",
            "]]> <![CDATA[x]]>",
            "&amp; &#0; &#x1b; &unknown;",
            "<?pi x?><!-- c -->",
            "lines\nand\ttabs",
        ]) {
            assert_eq!(xml_read_back(value), xml_shown(value), "{value:?}");
        }
    }

    #[test]
    fn characters_xml_cannot_hold_are_shown_as_escapes() {
        let (attr, text) =
            xml_read_back("nul\0bel\u{7}esc\u{1b}cr\r\nlf\ttab\u{fffe}\u{ffff}\u{85}");
        assert_eq!(
            attr,
            "nul\\x00bel\\x07esc\\x1bcr\\r\\nlf\\ttab\\u{fffe}\\u{ffff}\\u{85}"
        );
        assert_eq!(
            text,
            "nul\\x00bel\\x07esc\\x1bcr\\r\nlf\ttab\\u{fffe}\\u{ffff}\\u{85}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_makes_well_formed_xml(value in "\\PC*|[\\x00-\\x20\\u{7f}-\\u{a0}\\u{fffe}\\u{ffff}&<>\"']*") {
            proptest::prop_assert_eq!(xml_read_back(&value), xml_shown(&value));
        }
    }
}
