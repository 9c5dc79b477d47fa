//! Tracing a scalar back to its source: the file position of each character of a
//! scalar's value (quotes and escapes decoded, folded and joined lines aligned), and
//! the place of a line and column of that value in the file. Validation uses it to put
//! an error inside a value (a template that does not parse) on the file line and
//! column a person sees in an editor.

use super::{Pos, Style};

/// Where, in `source`, line `line` column `col` of a scalar's value `text` stands
/// (the scalar starting at `start`, written in `style`), and whether that place is
/// exact. Every character of the scalar is traced back to the file
/// ([`scalar_positions`]: folded and plain scalars join lines, quoted ones have
/// escapes); when that fails, a literal block (`|`) keeps the value's lines as file
/// lines, so the arithmetic is exact (and checked against the file); other styles look
/// the value line's text up in the file after the scalar's start; failing that, the
/// scalar's own position. A line past the value's last (an error at its very end) is
/// placed after the last line's last character.
pub fn position_in_scalar(
    source: &str,
    start: Pos,
    style: Style,
    text: &str,
    line: usize,
    col: usize,
) -> (Pos, bool) {
    // A place at the very end (after the last line) is after the last character.
    let count = text.lines().count().max(1);
    let (line, col) = if line > count {
        let last = text.lines().last().unwrap_or("");
        (count, last.chars().count() + 1)
    } else {
        (line, col)
    };
    if let Some(positions) = scalar_positions(source, start, style, text) {
        let offset = char_offset(text, line, col).min(positions.len() - 1);
        return (positions[offset], true);
    }
    let wanted = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let lines: Vec<&str> = source.lines().collect();
    let column_of = |haystack: &str, at: usize| haystack[..at].chars().count() + 1;
    if style == Style::Literal {
        let y = start.line + line - 1;
        let x = start.col + col - 1;
        let fits = lines.get(y - 1).is_some_and(|l| {
            wanted.is_empty()
                || l.char_indices()
                    .nth(start.col - 1)
                    .is_some_and(|(i, _)| l[i..].starts_with(wanted))
        });
        if fits {
            return (Pos { line: y, col: x }, true);
        }
    }
    let trimmed = wanted.trim_start();
    let lead = wanted.chars().count() - trimmed.chars().count();
    let trimmed = trimmed.trim_end();
    if !trimmed.is_empty() {
        let last = (start.line + text.lines().count() * 2 + 2).min(lines.len());
        for y in start.line..=last {
            let l = lines[y - 1];
            // On the scalar's first line, only what follows its start counts.
            let from = if y == start.line {
                l.char_indices()
                    .nth(start.col - 1)
                    .map_or(l.len(), |(i, _)| i)
            } else {
                0
            };
            if let Some(i) = l[from..].find(trimmed) {
                let found = column_of(l, from + i);
                let x = found + col.saturating_sub(1).saturating_sub(lead);
                return (Pos { line: y, col: x }, true);
            }
        }
    }
    (start, false)
}

/// The character offset of 1-based `line`/`col` in `text`, counting line breaks as
/// YAML and the template engine do (`\n`, `\r\n`, a lone `\r`); a column past a
/// line's end is that line's end, a line past the last is the end of the text.
fn char_offset(text: &str, line: usize, col: usize) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let (mut l, mut c) = (1, 1);
    for (i, &ch) in chars.iter().enumerate() {
        if l == line && (c == col || matches!(ch, '\n' | '\r')) {
            return i;
        }
        if l > line {
            return i.saturating_sub(1);
        }
        match ch {
            '\n' => (l, c) = (l + 1, 1),
            '\r' if chars.get(i + 1) != Some(&'\n') => (l, c) = (l + 1, 1),
            '\r' => {}
            _ => c += 1,
        }
    }
    chars.len()
}

/// The file position of each character of a scalar's `value` (and one more: just
/// after the last), or `None` when the scalar's source cannot be traced.
///
/// The source is read from the scalar's start (the opening quote, the first character
/// of a plain scalar, the first content line of a block scalar), quotes and escapes
/// decoded (`''` in single quotes; `\n`, `\"`, `\x41`, an escaped line break... in
/// double quotes), and aligned with the value: YAML only adds, drops or changes
/// whitespace (indentation, folded line breaks), so every other character of the value
/// is matched, in order, with the same character of the source, and a whitespace
/// character the source does not have (a line break folded into a space) takes the
/// place of the character before it. A non-whitespace character that does not match
/// means the trace went wrong: `None`. Lines are counted at `\n`, as `source.lines()`
/// does; only the scalar and the whitespace after it are read.
pub fn scalar_positions(source: &str, start: Pos, style: Style, value: &str) -> Option<Vec<Pos>> {
    use Style::{DoubleQuoted, Folded, Literal, SingleQuoted};
    let mut offset = 0;
    for _ in 1..start.line {
        offset += source[offset..].find('\n')? + 1;
    }
    let line = &source[offset..];
    let (skip, _) = line.char_indices().nth(start.col.checked_sub(1)?)?;
    if line[..skip].contains('\n') {
        return None;
    }
    let mut walk = Walk {
        chars: source[offset + skip..].chars().peekable(),
        pos: start,
    };
    match style {
        SingleQuoted | DoubleQuoted => {
            let quote = if style == SingleQuoted { '\'' } else { '"' };
            if walk.next()?.0 != quote {
                return None;
            }
        }
        // Placed on the `|`/`>` header: the content starts on the next line.
        Literal | Folded if matches!(walk.peek(), Some('|' | '>')) => {
            while walk.next()?.0 != '\n' {}
        }
        _ => {}
    }
    let space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    // The scalar's characters, quotes and escapes decoded, up to one more than the
    // value's non-whitespace characters (more cannot be aligned).
    let wanted = value.chars().filter(|c| !space(*c)).count() + 1;
    let mut content: Vec<(char, Pos)> = Vec::new();
    let mut solid = 0;
    while solid < wanted {
        let Some((c, pos)) = walk.next() else { break };
        let decoded = match (style, c) {
            (SingleQuoted, '\'') if walk.peek() == Some('\'') => {
                walk.next();
                '\''
            }
            (SingleQuoted, '\'') | (DoubleQuoted, '"') => break,
            (DoubleQuoted, '\\') => {
                let (e, _) = walk.next()?;
                let mut hex = |n: usize| {
                    let digits: String =
                        (0..n).filter_map(|_| walk.next().map(|(c, _)| c)).collect();
                    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                };
                match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' | '"' | '/' | '\\' => e,
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(2)?,
                    'u' => hex(4)?,
                    'U' => hex(8)?,
                    // An escaped line break goes, with the next line's indentation
                    // (which the alignment skips anyway).
                    '\r' | '\n' => continue,
                    _ => return None,
                }
            }
            _ => c,
        };
        if !space(decoded) {
            solid += 1;
        }
        content.push((decoded, pos));
    }
    let mut out = Vec::with_capacity(value.len() + 1);
    let mut next = content.iter().peekable();
    let mut last = content.first().map_or(start, |(_, p)| *p);
    for c in value.chars() {
        loop {
            match next.peek() {
                Some((d, p)) if *d == c => {
                    out.push(*p);
                    last = *p;
                    next.next();
                    break;
                }
                Some((d, _)) if space(*d) => {
                    next.next();
                }
                _ if space(c) => {
                    out.push(last);
                    break;
                }
                _ => return None,
            }
        }
    }
    out.push(match value.chars().last() {
        // After a final line break: where that break is.
        Some('\n') => last,
        _ => Pos {
            line: last.line,
            col: last.col + 1,
        },
    });
    Some(out)
}

/// Characters of a source with their positions (lines end at `\n`).
struct Walk<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    pos: Pos,
}

impl Walk<'_> {
    fn next(&mut self) -> Option<(char, Pos)> {
        let c = self.chars.next()?;
        let at = self.pos;
        if c == '\n' {
            self.pos = Pos {
                line: at.line + 1,
                col: 1,
            };
        } else {
            self.pos.col += 1;
        }
        Some((c, at))
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{self, Value};

    /// The value of `v:` in `source`, with where it starts and how it is written.
    fn scalar(source: &str) -> (String, Pos, Style) {
        let docs = yaml::parse_documents(source).unwrap();
        let doc = docs.into_iter().next().flatten().unwrap();
        let node = yaml::field(doc.as_map().unwrap(), "v").unwrap().clone();
        match node.value {
            Value::Scalar { text, style, .. } => (text, node.pos, style),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    /// The file place of each of `wanted`'s characters in the value of `v:`.
    fn places(source: &str, wanted: char) -> Vec<(usize, usize)> {
        let (text, start, style) = scalar(source);
        let positions = scalar_positions(source, start, style, &text).expect("traced");
        assert_eq!(positions.len(), text.chars().count() + 1);
        text.chars()
            .zip(positions)
            .filter(|(c, _)| *c == wanted)
            .map(|(_, p)| (p.line, p.col))
            .collect()
    }

    #[test]
    fn each_character_of_a_scalar_is_traced_to_the_file() {
        // Plain, joined over two lines.
        assert_eq!(places("v: a\n  b x\n", 'x'), [(2, 5)]);
        // Double quotes: `\n` and `\"` are two file columns, one character of the value.
        assert_eq!(places("v: \"a\\n\\\"x\"\n", 'x'), [(1, 10)]);
        // Single quotes: `''` is one quote.
        assert_eq!(places("v: 'a''x'\n", 'x'), [(1, 8)]);
        // Literal and folded blocks, from their first content line.
        assert_eq!(places("v: |\n  a\n    x\n", 'x'), [(3, 5)]);
        assert_eq!(places("v: >\n  a\n  x\n", 'x'), [(3, 3)]);
    }

    #[test]
    fn a_line_and_column_of_the_value_is_placed_in_the_file() {
        let source = "v: >\n  ok\n  x y\n";
        let (text, start, style) = scalar(source);
        // Folding joins the lines: value line 1 is "ok x y", the `y` at its column 6.
        assert_eq!(text, "ok x y\n");
        assert_eq!(
            position_in_scalar(source, start, style, &text, 1, 6),
            (Pos { line: 3, col: 5 }, true)
        );
        // Past the last line: after the last character.
        assert_eq!(
            position_in_scalar(source, start, style, &text, 9, 1),
            (Pos { line: 3, col: 6 }, true)
        );
    }
}
