//! `java.lang.Character` as java.util.regex uses it, answered from the generated tables
//! (`tables.rs`, dumped from the JDK by crates/java-regex/golden/JavaRegexGolden.java).

use super::tables as t;

// java.lang.Character general category numbers (Character.getType).
pub(super) const UNASSIGNED: u32 = 0;
pub(super) const UPPERCASE_LETTER: u32 = 1;
pub(super) const LOWERCASE_LETTER: u32 = 2;
pub(super) const TITLECASE_LETTER: u32 = 3;
pub(super) const MODIFIER_LETTER: u32 = 4;
pub(super) const OTHER_LETTER: u32 = 5;
pub(super) const NON_SPACING_MARK: u32 = 6;
pub(super) const ENCLOSING_MARK: u32 = 7;
pub(super) const COMBINING_SPACING_MARK: u32 = 8;
pub(super) const DECIMAL_DIGIT_NUMBER: u32 = 9;
pub(super) const LETTER_NUMBER: u32 = 10;
pub(super) const OTHER_NUMBER: u32 = 11;
pub(super) const SPACE_SEPARATOR: u32 = 12;
pub(super) const LINE_SEPARATOR: u32 = 13;
pub(super) const PARAGRAPH_SEPARATOR: u32 = 14;
pub(super) const CONTROL: u32 = 15;
pub(super) const FORMAT: u32 = 16;
pub(super) const PRIVATE_USE: u32 = 18;
pub(super) const SURROGATE: u32 = 19;
pub(super) const DASH_PUNCTUATION: u32 = 20;
pub(super) const START_PUNCTUATION: u32 = 21;
pub(super) const END_PUNCTUATION: u32 = 22;
pub(super) const CONNECTOR_PUNCTUATION: u32 = 23;
pub(super) const OTHER_PUNCTUATION: u32 = 24;
pub(super) const MATH_SYMBOL: u32 = 25;
pub(super) const CURRENCY_SYMBOL: u32 = 26;
pub(super) const MODIFIER_SYMBOL: u32 = 27;
pub(super) const OTHER_SYMBOL: u32 = 28;
pub(super) const INITIAL_QUOTE_PUNCTUATION: u32 = 29;
pub(super) const FINAL_QUOTE_PUNCTUATION: u32 = 30;

/// `table` is `[start, end, start, end, ...]`, sorted, inclusive.
pub(super) fn in_ranges(table: &[u32], cp: u32) -> bool {
    let n = table.len() / 2;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if table[2 * mid] <= cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && cp <= table[2 * (lo - 1) + 1]
}

/// `table` is `[start, end, value, ...]`, sorted, inclusive.
fn range_value(table: &[u32], cp: u32) -> Option<u32> {
    let n = table.len() / 3;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if table[3 * mid] <= cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if lo > 0 && cp <= table[3 * (lo - 1) + 1] {
        Some(table[3 * (lo - 1) + 2])
    } else {
        None
    }
}

/// `table` is `[code point, mapped, ...]` sorted by code point.
fn mapped(table: &[u32], cp: u32) -> u32 {
    let n = table.len() / 2;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match table[2 * mid].cmp(&cp) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return table[2 * mid + 1],
        }
    }
    cp
}

/// Character.getType.
pub(super) fn get_type(cp: u32) -> u32 {
    if cp < 0x80 {
        // Fast path for ASCII, same values as the table.
        return match cp {
            0x00..=0x1f | 0x7f => CONTROL,
            0x20 => SPACE_SEPARATOR,
            0x30..=0x39 => DECIMAL_DIGIT_NUMBER,
            0x41..=0x5a => UPPERCASE_LETTER,
            0x61..=0x7a => LOWERCASE_LETTER,
            _ => range_value(t::GENERAL_CATEGORY, cp).unwrap_or(UNASSIGNED),
        };
    }
    range_value(t::GENERAL_CATEGORY, cp).unwrap_or(UNASSIGNED)
}

pub(super) fn in_categories(mask: u32, cp: u32) -> bool {
    mask & (1 << get_type(cp)) != 0
}

pub(super) fn to_upper(cp: u32) -> u32 {
    if cp < 0x80 {
        return if (b'a' as u32..=b'z' as u32).contains(&cp) {
            cp - 32
        } else {
            cp
        };
    }
    mapped(t::TO_UPPER, cp)
}

pub(super) fn to_lower(cp: u32) -> u32 {
    if cp < 0x80 {
        return if (b'A' as u32..=b'Z' as u32).contains(&cp) {
            cp + 32
        } else {
            cp
        };
    }
    mapped(t::TO_LOWER, cp)
}

pub(super) fn is_lower_case(cp: u32) -> bool {
    in_ranges(t::LOWERCASE, cp)
}
pub(super) fn is_upper_case(cp: u32) -> bool {
    in_ranges(t::UPPERCASE, cp)
}
pub(super) fn is_title_case(cp: u32) -> bool {
    get_type(cp) == TITLECASE_LETTER
}
pub(super) fn is_alphabetic(cp: u32) -> bool {
    in_ranges(t::ALPHABETIC, cp)
}
pub(super) fn is_ideographic(cp: u32) -> bool {
    in_ranges(t::IDEOGRAPHIC, cp)
}
pub(super) fn is_mirrored(cp: u32) -> bool {
    in_ranges(t::MIRRORED, cp)
}
pub(super) fn is_whitespace(cp: u32) -> bool {
    in_ranges(t::WHITESPACE, cp)
}
pub(super) fn is_java_identifier_start(cp: u32) -> bool {
    in_ranges(t::JAVA_IDENTIFIER_START, cp)
}
pub(super) fn is_java_identifier_part(cp: u32) -> bool {
    in_ranges(t::JAVA_IDENTIFIER_PART, cp)
}
pub(super) fn is_unicode_identifier_start(cp: u32) -> bool {
    in_ranges(t::UNICODE_IDENTIFIER_START, cp)
}
pub(super) fn is_unicode_identifier_part(cp: u32) -> bool {
    in_ranges(t::UNICODE_IDENTIFIER_PART, cp)
}
pub(super) fn is_identifier_ignorable(cp: u32) -> bool {
    in_ranges(t::IDENTIFIER_IGNORABLE, cp)
}
pub(super) fn is_digit(cp: u32) -> bool {
    get_type(cp) == DECIMAL_DIGIT_NUMBER
}
pub(super) fn is_letter(cp: u32) -> bool {
    (UPPERCASE_LETTER..=OTHER_LETTER).contains(&get_type(cp))
}
pub(super) fn is_letter_or_digit(cp: u32) -> bool {
    let ty = get_type(cp);
    (UPPERCASE_LETTER..=OTHER_LETTER).contains(&ty) || ty == DECIMAL_DIGIT_NUMBER
}
pub(super) fn is_defined(cp: u32) -> bool {
    get_type(cp) != UNASSIGNED
}
pub(super) fn is_space_char(cp: u32) -> bool {
    (SPACE_SEPARATOR..=PARAGRAPH_SEPARATOR).contains(&get_type(cp))
}
pub(super) fn is_iso_control(cp: u32) -> bool {
    cp <= 0x1f || (0x7f..=0x9f).contains(&cp)
}

fn lookup_name(table: &[(&str, u32)], name: &str) -> Option<u32> {
    table
        .binary_search_by(|(k, _)| (*k).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

/// Character.UnicodeScript.forName: the enum names and the four-letter aliases, upper-cased.
pub(super) fn script_for_name(name: &str) -> Option<u32> {
    lookup_name(t::SCRIPT_NAMES, &name.to_uppercase())
}

pub(super) fn script_of(cp: u32) -> Option<u32> {
    range_value(t::SCRIPT, cp)
}

/// Character.UnicodeBlock.forName: identifiers, canonical names and aliases, upper-cased.
pub(super) fn block_for_name(name: &str) -> Option<u32> {
    lookup_name(t::BLOCK_NAMES, &name.to_uppercase())
}

pub(super) fn block_of(cp: u32) -> Option<u32> {
    range_value(t::BLOCK, cp)
}

// java.util.regex.Grapheme types.
const G_OTHER: u32 = 0;
const G_CR: u32 = 1;
const G_LF: u32 = 2;
const G_CONTROL: u32 = 3;
const G_EXTEND: u32 = 4;
const G_ZWJ: u32 = 5;
const G_RI: u32 = 6;
const G_PREPEND: u32 = 7;
const G_SPACINGMARK: u32 = 8;
const G_L: u32 = 9;
const G_V: u32 = 10;
const G_T: u32 = 11;
const G_LV: u32 = 12;
const G_LVT: u32 = 13;
const G_EXT_PICT: u32 = 14;

fn grapheme_type(cp: u32) -> u32 {
    range_value(t::GRAPHEME_TYPE, cp).unwrap_or(G_OTHER)
}

/// Whether there is a grapheme cluster boundary between types `t0` and `t1`
/// (java.util.regex.Grapheme's rule table).
fn breaks(t0: u32, t1: u32) -> bool {
    if matches!(t0, G_CR | G_LF | G_CONTROL) || matches!(t1, G_CR | G_LF | G_CONTROL) {
        return !(t0 == G_CR && t1 == G_LF);
    }
    if t0 == G_PREPEND || matches!(t1, G_EXTEND | G_ZWJ | G_SPACINGMARK) {
        return false;
    }
    !matches!(
        (t0, t1),
        (G_L, G_L | G_V | G_LV | G_LVT) | (G_LV | G_V, G_V | G_T) | (G_LVT | G_T, G_T)
    )
}

/// Grapheme.nextBoundary over code points `src[off..limit]` (`off < limit`).
pub(super) fn next_boundary(src: &[u32], off: usize, limit: usize) -> usize {
    let ch0 = src[off];
    let mut ret = off + 1;
    let mut t0 = grapheme_type(ch0);
    let mut ri_count = u32::from(t0 == G_RI);
    let mut gb11 = t0 == G_EXT_PICT;
    while ret < limit {
        let t1 = grapheme_type(src[ret]);
        if gb11 && t0 == G_ZWJ && t1 == G_EXT_PICT {
            // GB11: no break
        } else if ri_count % 2 == 1 && t0 == G_RI && t1 == G_RI {
            // GB12/13: no break
        } else if breaks(t0, t1) {
            if ret > off {
                break;
            } else {
                gb11 = t1 == G_EXT_PICT;
                ri_count = 0;
            }
        }
        ri_count += u32::from(t1 == G_RI);
        t0 = t1;
        ret += 1;
    }
    ret
}
