//! Character predicates: java.util.regex's `CharPredicate` lambdas as data
//! (Pattern.java's Single/Range/BitClass/... and CharPredicates.java's property lookups).

use super::unicode as u;

/// One of `java.lang.Character`'s (or CharPredicates') named predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Prop {
    Alphabetic,
    Digit,
    Letter,
    Ideographic,
    LowerCase,
    UpperCase,
    TitleCase,
    /// CharPredicates.WHITE_SPACE (Unicode White_Space).
    WhiteSpace,
    Control,
    Punctuation,
    HexDigit,
    Assigned,
    NoncharacterCodePoint,
    Alnum,
    Blank,
    Graph,
    Print,
    JoinControl,
    Word,
    Defined,
    LetterOrDigit,
    JavaIdentifierStart,
    JavaIdentifierPart,
    UnicodeIdentifierStart,
    UnicodeIdentifierPart,
    IdentifierIgnorable,
    SpaceChar,
    /// Character.isWhitespace.
    JavaWhitespace,
    IsoControl,
    Mirrored,
}

#[derive(Clone, Debug)]
pub(super) enum Pred {
    All,
    Dot,
    UnixDot,
    VertWs,
    HorizWs,
    Single(u32),
    SingleI(u32, u32),
    SingleU(u32),
    Range(u32, u32),
    CiRange(u32, u32),
    CiRangeU(u32, u32),
    /// BitClass: code points below 256.
    Bits(Box<[u64; 4]>),
    /// Mask of `1 << Character.getType`.
    Category(u32),
    /// ASCII ctype mask (`ch < 128 && ASCII.isType(ch, mask)`).
    Ctype(u32),
    Prop(Prop),
    Script(u32),
    Block(u32),
    Union(Vec<Pred>),
    /// Sorted, disjoint, inclusive code point ranges: a large union of characters and
    /// ranges merged by [`Pred::optimize`] (a union is a pure "or", so any order works).
    Set(Box<[(u32, u32)]>),
    And(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
}

// ASCII.java ctype bits.
pub(super) const UPPER: u32 = 0x100;
pub(super) const LOWER: u32 = 0x200;
pub(super) const DIGIT: u32 = 0x400;
pub(super) const SPACE: u32 = 0x800;
pub(super) const PUNCT: u32 = 0x1000;
pub(super) const CNTRL: u32 = 0x2000;
pub(super) const BLANK: u32 = 0x4000;
pub(super) const HEX: u32 = 0x8000;
pub(super) const UNDER: u32 = 0x10000;
pub(super) const ALPHA: u32 = UPPER | LOWER;
pub(super) const ALNUM: u32 = UPPER | LOWER | DIGIT;
pub(super) const GRAPH: u32 = PUNCT | UPPER | LOWER | DIGIT;
pub(super) const WORD: u32 = UPPER | LOWER | UNDER | DIGIT;

/// ASCII.getType.
pub(super) fn ascii_type(ch: i32) -> u32 {
    if !(0..128).contains(&ch) {
        return 0;
    }
    let c = ch as u8;
    match c {
        0x09 => SPACE | CNTRL | BLANK,
        0x0a..=0x0d => SPACE | CNTRL,
        0x00..=0x1f | 0x7f => CNTRL,
        b' ' => SPACE | BLANK,
        b'0'..=b'9' => DIGIT | HEX,
        b'A'..=b'F' => UPPER | HEX,
        b'G'..=b'Z' => UPPER,
        b'a'..=b'f' => LOWER | HEX,
        b'g'..=b'z' => LOWER,
        b'_' => PUNCT | UNDER,
        _ => PUNCT,
    }
}

pub(super) fn ascii_is(ch: i32, mask: u32) -> bool {
    ascii_type(ch) & mask != 0
}
pub(super) fn ascii_to_lower(ch: u32) -> u32 {
    if (b'A' as u32..=b'Z' as u32).contains(&ch) {
        ch + 0x20
    } else {
        ch
    }
}
pub(super) fn ascii_to_upper(ch: u32) -> u32 {
    if (b'a' as u32..=b'z' as u32).contains(&ch) {
        ch - 0x20
    } else {
        ch
    }
}

const fn cat(types: &[u32]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < types.len() {
        m |= 1 << types[i];
        i += 1;
    }
    m
}

const LETTERS: u32 = cat(&[
    u::UPPERCASE_LETTER,
    u::LOWERCASE_LETTER,
    u::TITLECASE_LETTER,
    u::MODIFIER_LETTER,
    u::OTHER_LETTER,
]);
const CASED: u32 = cat(&[
    u::UPPERCASE_LETTER,
    u::LOWERCASE_LETTER,
    u::TITLECASE_LETTER,
]);
const PUNCTUATION: u32 = cat(&[
    u::CONNECTOR_PUNCTUATION,
    u::DASH_PUNCTUATION,
    u::START_PUNCTUATION,
    u::END_PUNCTUATION,
    u::OTHER_PUNCTUATION,
    u::INITIAL_QUOTE_PUNCTUATION,
    u::FINAL_QUOTE_PUNCTUATION,
]);
const SEPARATORS: u32 = cat(&[
    u::SPACE_SEPARATOR,
    u::LINE_SEPARATOR,
    u::PARAGRAPH_SEPARATOR,
]);

pub(super) fn prop_is(p: Prop, ch: u32) -> bool {
    match p {
        Prop::Alphabetic => u::is_alphabetic(ch),
        Prop::Digit => u::is_digit(ch),
        Prop::Letter => u::is_letter(ch),
        Prop::Ideographic => u::is_ideographic(ch),
        Prop::LowerCase => u::is_lower_case(ch),
        Prop::UpperCase => u::is_upper_case(ch),
        Prop::TitleCase => u::is_title_case(ch),
        Prop::WhiteSpace => {
            u::in_categories(SEPARATORS, ch) || (0x9..=0xd).contains(&ch) || ch == 0x85
        }
        Prop::Control => u::get_type(ch) == u::CONTROL,
        Prop::Punctuation => u::in_categories(PUNCTUATION, ch),
        Prop::HexDigit => {
            u::is_digit(ch)
                || (0x30..=0x39).contains(&ch)
                || (0x41..=0x46).contains(&ch)
                || (0x61..=0x66).contains(&ch)
                || (0xff10..=0xff19).contains(&ch)
                || (0xff21..=0xff26).contains(&ch)
                || (0xff41..=0xff46).contains(&ch)
        }
        Prop::Assigned => u::get_type(ch) != u::UNASSIGNED,
        Prop::NoncharacterCodePoint => (ch & 0xfffe) == 0xfffe || (0xfdd0..=0xfdef).contains(&ch),
        Prop::Alnum => u::is_alphabetic(ch) || u::is_digit(ch),
        Prop::Blank => u::get_type(ch) == u::SPACE_SEPARATOR || ch == 0x9,
        Prop::Graph => !u::in_categories(
            cat(&[
                u::SPACE_SEPARATOR,
                u::LINE_SEPARATOR,
                u::PARAGRAPH_SEPARATOR,
                u::CONTROL,
                u::SURROGATE,
                u::UNASSIGNED,
            ]),
            ch,
        ),
        Prop::Print => {
            (prop_is(Prop::Graph, ch) || prop_is(Prop::Blank, ch)) && !prop_is(Prop::Control, ch)
        }
        Prop::JoinControl => ch == 0x200c || ch == 0x200d,
        Prop::Word => {
            u::is_alphabetic(ch)
                || u::in_categories(
                    cat(&[
                        u::NON_SPACING_MARK,
                        u::ENCLOSING_MARK,
                        u::COMBINING_SPACING_MARK,
                        u::DECIMAL_DIGIT_NUMBER,
                        u::CONNECTOR_PUNCTUATION,
                    ]),
                    ch,
                )
                || ch == 0x200c
                || ch == 0x200d
        }
        Prop::Defined => u::is_defined(ch),
        Prop::LetterOrDigit => u::is_letter_or_digit(ch),
        Prop::JavaIdentifierStart => u::is_java_identifier_start(ch),
        Prop::JavaIdentifierPart => u::is_java_identifier_part(ch),
        Prop::UnicodeIdentifierStart => u::is_unicode_identifier_start(ch),
        Prop::UnicodeIdentifierPart => u::is_unicode_identifier_part(ch),
        Prop::IdentifierIgnorable => u::is_identifier_ignorable(ch),
        Prop::SpaceChar => u::is_space_char(ch),
        Prop::JavaWhitespace => u::is_whitespace(ch),
        Prop::IsoControl => u::is_iso_control(ch),
        Prop::Mirrored => u::is_mirrored(ch),
    }
}

fn in_range(lower: u32, ch: u32, upper: u32) -> bool {
    lower <= ch && ch <= upper
}

impl Pred {
    pub(super) fn is(&self, ch: u32) -> bool {
        match self {
            Pred::All => true,
            Pred::Dot => ch != 0x0a && ch != 0x0d && (ch | 1) != 0x2029 && ch != 0x85,
            Pred::UnixDot => ch != 0x0a,
            Pred::VertWs => {
                (0x0a..=0x0d).contains(&ch) || ch == 0x85 || ch == 0x2028 || ch == 0x2029
            }
            Pred::HorizWs => {
                ch == 0x09
                    || ch == 0x20
                    || ch == 0xa0
                    || ch == 0x1680
                    || ch == 0x180e
                    || (0x2000..=0x200a).contains(&ch)
                    || ch == 0x202f
                    || ch == 0x205f
                    || ch == 0x3000
            }
            Pred::Single(c) => ch == *c,
            Pred::SingleI(lower, upper) => ch == *lower || ch == *upper,
            Pred::SingleU(lower) => *lower == ch || *lower == u::to_lower(u::to_upper(ch)),
            Pred::Range(lo, hi) => in_range(*lo, ch, *hi),
            Pred::CiRange(lo, hi) => {
                in_range(*lo, ch, *hi)
                    || (ch < 128
                        && (in_range(*lo, ascii_to_upper(ch), *hi)
                            || in_range(*lo, ascii_to_lower(ch), *hi)))
            }
            Pred::CiRangeU(lo, hi) => {
                if in_range(*lo, ch, *hi) {
                    return true;
                }
                let up = u::to_upper(ch);
                in_range(*lo, up, *hi) || in_range(*lo, u::to_lower(up), *hi)
            }
            Pred::Bits(bits) => ch < 256 && bits[(ch >> 6) as usize] & (1u64 << (ch & 63)) != 0,
            Pred::Category(mask) => u::in_categories(*mask, ch),
            Pred::Ctype(mask) => ch < 128 && ascii_is(ch as i32, *mask),
            Pred::Prop(p) => prop_is(*p, ch),
            Pred::Script(s) => u::script_of(ch) == Some(*s),
            Pred::Block(b) => u::block_of(ch) == Some(*b),
            Pred::Union(ps) => ps.iter().any(|p| p.is(ch)),
            Pred::Set(ranges) => {
                let i = ranges.partition_point(|&(_, hi)| hi < ch);
                ranges.get(i).is_some_and(|&(lo, _)| lo <= ch)
            }
            Pred::And(a, b) => a.is(ch) && b.is(ch),
            Pred::Not(p) => !p.is(ch),
        }
    }

    /// The same predicate, cheaper to test: a union of more than a few members is
    /// flattened, its characters, ranges and bit classes merged into one sorted
    /// [`Pred::Set`] and its general categories into one mask. Java tests a class of
    /// 450,000 characters member by member; this tests it in about 20 comparisons.
    pub(super) fn optimize(self) -> Pred {
        match self {
            Pred::Union(members) if members.len() > 8 => {
                let mut ranges: Vec<(u32, u32)> = Vec::new();
                let mut categories = 0u32;
                let mut others = Vec::new();
                let mut todo = members;
                while let Some(p) = todo.pop() {
                    match p {
                        Pred::Union(inner) => todo.extend(inner),
                        Pred::Single(c) => ranges.push((c, c)),
                        Pred::SingleI(a, b) => ranges.extend([(a, a), (b, b)]),
                        Pred::Range(lo, hi) if lo <= hi => ranges.push((lo, hi)),
                        Pred::Range(..) => {}
                        Pred::Bits(bits) => {
                            for ch in 0..256u32 {
                                if bits[(ch >> 6) as usize] & (1u64 << (ch & 63)) != 0 {
                                    ranges.push((ch, ch));
                                }
                            }
                        }
                        Pred::Set(rs) => ranges.extend(rs.iter().copied()),
                        Pred::Category(mask) => categories |= mask,
                        other => others.push(other.optimize()),
                    }
                }
                ranges.sort_unstable();
                let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
                for (lo, hi) in ranges {
                    match merged.last_mut() {
                        Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                        _ => merged.push((lo, hi)),
                    }
                }
                let mut out = Vec::new();
                if !merged.is_empty() {
                    out.push(Pred::Set(merged.into_boxed_slice()));
                }
                if categories != 0 {
                    out.push(Pred::Category(categories));
                }
                out.append(&mut others);
                if out.len() == 1 {
                    out.pop().expect("one member")
                } else {
                    Pred::Union(out)
                }
            }
            Pred::Union(members) => Pred::Union(members.into_iter().map(Pred::optimize).collect()),
            Pred::And(a, b) => Pred::And(Box::new(a.optimize()), Box::new(b.optimize())),
            Pred::Not(p) => Pred::Not(Box::new(p.optimize())),
            p => p,
        }
    }

    /// What one test of this predicate costs, in matcher steps (1 for a simple one):
    /// the matcher counts it, so a huge class that cannot be merged is paid for.
    pub(super) fn cost(&self) -> u64 {
        match self {
            Pred::Union(ps) => ps.iter().map(Pred::cost).sum(),
            Pred::Set(rs) => 1 + u64::from(rs.len().max(1).ilog2()) / 4,
            Pred::And(a, b) => a.cost() + b.cost(),
            Pred::Not(p) => p.cost(),
            _ => 1,
        }
    }

    pub(super) fn union(self, other: Pred) -> Pred {
        match self {
            Pred::Union(mut v) => {
                v.push(other);
                Pred::Union(v)
            }
            p => Pred::Union(vec![p, other]),
        }
    }

    pub(super) fn and(self, other: Pred) -> Pred {
        Pred::And(Box::new(self), Box::new(other))
    }

    pub(super) fn negate(self) -> Pred {
        Pred::Not(Box::new(self))
    }
}

fn cased_union(first: Prop) -> Pred {
    let mut v = vec![Pred::Prop(first)];
    for p in [Prop::LowerCase, Prop::UpperCase, Prop::TitleCase] {
        if p != first {
            v.push(Pred::Prop(p));
        }
    }
    Pred::Union(v)
}

/// CharPredicates.getPosixPredicate (names already upper-cased).
fn posix_predicate(name: &str, ci: bool) -> Option<Pred> {
    Some(match name {
        "ALPHA" => Pred::Prop(Prop::Alphabetic),
        "LOWER" if ci => cased_union(Prop::LowerCase),
        "LOWER" => Pred::Prop(Prop::LowerCase),
        "UPPER" if ci => cased_union(Prop::UpperCase),
        "UPPER" => Pred::Prop(Prop::UpperCase),
        "SPACE" => Pred::Prop(Prop::WhiteSpace),
        "PUNCT" => Pred::Prop(Prop::Punctuation),
        "XDIGIT" => Pred::Prop(Prop::HexDigit),
        "ALNUM" => Pred::Prop(Prop::Alnum),
        "CNTRL" => Pred::Prop(Prop::Control),
        "DIGIT" => Pred::Prop(Prop::Digit),
        "BLANK" => Pred::Prop(Prop::Blank),
        "GRAPH" => Pred::Prop(Prop::Graph),
        "PRINT" => Pred::Prop(Prop::Print),
        _ => return None,
    })
}

/// CharPredicates.getUnicodePredicate (names already upper-cased).
fn unicode_predicate(name: &str, ci: bool) -> Option<Pred> {
    Some(match name {
        "ALPHABETIC" => Pred::Prop(Prop::Alphabetic),
        "ASSIGNED" => Pred::Prop(Prop::Assigned),
        "CONTROL" => Pred::Prop(Prop::Control),
        "HEXDIGIT" | "HEX_DIGIT" => Pred::Prop(Prop::HexDigit),
        "IDEOGRAPHIC" => Pred::Prop(Prop::Ideographic),
        "JOINCONTROL" | "JOIN_CONTROL" => Pred::Prop(Prop::JoinControl),
        "LETTER" => Pred::Prop(Prop::Letter),
        "LOWERCASE" if ci => cased_union(Prop::LowerCase),
        "LOWERCASE" => Pred::Prop(Prop::LowerCase),
        "NONCHARACTERCODEPOINT" | "NONCHARACTER_CODE_POINT" => {
            Pred::Prop(Prop::NoncharacterCodePoint)
        }
        "TITLECASE" if ci => cased_union(Prop::TitleCase),
        "TITLECASE" => Pred::Prop(Prop::TitleCase),
        "PUNCTUATION" => Pred::Prop(Prop::Punctuation),
        "UPPERCASE" if ci => cased_union(Prop::UpperCase),
        "UPPERCASE" => Pred::Prop(Prop::UpperCase),
        "WHITESPACE" | "WHITE_SPACE" => Pred::Prop(Prop::WhiteSpace),
        "WORD" => Pred::Prop(Prop::Word),
        _ => return None,
    })
}

/// Java's String.toUpperCase(Locale.ROOT/ENGLISH) for the property names we look up.
fn upper(name: &str) -> String {
    name.to_uppercase()
}

/// CharPredicates.forUnicodeProperty.
pub(super) fn for_unicode_property(name: &str, ci: bool) -> Option<Pred> {
    let name = upper(name);
    unicode_predicate(&name, ci).or_else(|| posix_predicate(&name, ci))
}

/// CharPredicates.forPOSIXName.
pub(super) fn for_posix_name(name: &str, ci: bool) -> Option<Pred> {
    posix_predicate(&upper(name), ci)
}

pub(super) fn for_unicode_script(name: &str) -> Option<Pred> {
    u::script_for_name(name).map(Pred::Script)
}

pub(super) fn for_unicode_block(name: &str) -> Option<Pred> {
    u::block_for_name(name).map(Pred::Block)
}

/// CharPredicates.forProperty (case-sensitive names).
pub(super) fn for_property(name: &str, ci: bool) -> Option<Pred> {
    use u::*;
    let c = |types: &[u32]| Pred::Category(cat(types));
    let cased = || Pred::Category(CASED);
    Some(match name {
        "Cn" => c(&[UNASSIGNED]),
        "Lu" if ci => cased(),
        "Lu" => c(&[UPPERCASE_LETTER]),
        "Ll" if ci => cased(),
        "Ll" => c(&[LOWERCASE_LETTER]),
        "Lt" if ci => cased(),
        "Lt" => c(&[TITLECASE_LETTER]),
        "Lm" => c(&[MODIFIER_LETTER]),
        "Lo" => c(&[OTHER_LETTER]),
        "Mn" => c(&[NON_SPACING_MARK]),
        "Me" => c(&[ENCLOSING_MARK]),
        "Mc" => c(&[COMBINING_SPACING_MARK]),
        "Nd" => c(&[DECIMAL_DIGIT_NUMBER]),
        "Nl" => c(&[LETTER_NUMBER]),
        "No" => c(&[OTHER_NUMBER]),
        "Zs" => c(&[SPACE_SEPARATOR]),
        "Zl" => c(&[LINE_SEPARATOR]),
        "Zp" => c(&[PARAGRAPH_SEPARATOR]),
        "Cc" => c(&[CONTROL]),
        "Cf" => c(&[FORMAT]),
        "Co" => c(&[PRIVATE_USE]),
        "Cs" => c(&[SURROGATE]),
        "Pd" => c(&[DASH_PUNCTUATION]),
        "Ps" => c(&[START_PUNCTUATION]),
        "Pe" => c(&[END_PUNCTUATION]),
        "Pc" => c(&[CONNECTOR_PUNCTUATION]),
        "Po" => c(&[OTHER_PUNCTUATION]),
        "Sm" => c(&[MATH_SYMBOL]),
        "Sc" => c(&[CURRENCY_SYMBOL]),
        "Sk" => c(&[MODIFIER_SYMBOL]),
        "So" => c(&[OTHER_SYMBOL]),
        "Pi" => c(&[INITIAL_QUOTE_PUNCTUATION]),
        "Pf" => c(&[FINAL_QUOTE_PUNCTUATION]),
        "L" => Pred::Category(LETTERS),
        "M" => c(&[NON_SPACING_MARK, ENCLOSING_MARK, COMBINING_SPACING_MARK]),
        "N" => c(&[DECIMAL_DIGIT_NUMBER, LETTER_NUMBER, OTHER_NUMBER]),
        "Z" => Pred::Category(SEPARATORS),
        "C" => c(&[CONTROL, FORMAT, PRIVATE_USE, SURROGATE, UNASSIGNED]),
        "P" => Pred::Category(PUNCTUATION),
        "S" => c(&[MATH_SYMBOL, CURRENCY_SYMBOL, MODIFIER_SYMBOL, OTHER_SYMBOL]),
        "LC" => cased(),
        "LD" => Pred::Category(LETTERS | (1 << DECIMAL_DIGIT_NUMBER)),
        "L1" => Pred::Range(0x00, 0xff),
        "all" => Pred::All,
        "ASCII" => Pred::Range(0x00, 0x7f),
        "Alnum" => Pred::Ctype(ALNUM),
        "Alpha" => Pred::Ctype(ALPHA),
        "Blank" => Pred::Ctype(BLANK),
        "Cntrl" => Pred::Ctype(CNTRL),
        "Digit" => Pred::Range(b'0' as u32, b'9' as u32),
        "Graph" => Pred::Ctype(GRAPH),
        "Lower" if ci => Pred::Ctype(ALPHA),
        "Lower" => Pred::Range(b'a' as u32, b'z' as u32),
        "Print" => Pred::Range(0x20, 0x7e),
        "Punct" => Pred::Ctype(PUNCT),
        "Space" => Pred::Ctype(SPACE),
        "Upper" if ci => Pred::Ctype(ALPHA),
        "Upper" => Pred::Range(b'A' as u32, b'Z' as u32),
        "XDigit" => Pred::Ctype(HEX),
        "javaLowerCase" if ci => cased_union(Prop::LowerCase),
        "javaLowerCase" => Pred::Prop(Prop::LowerCase),
        "javaUpperCase" if ci => cased_union(Prop::UpperCase),
        "javaUpperCase" => Pred::Prop(Prop::UpperCase),
        "javaAlphabetic" => Pred::Prop(Prop::Alphabetic),
        "javaIdeographic" => Pred::Prop(Prop::Ideographic),
        "javaTitleCase" if ci => cased_union(Prop::TitleCase),
        "javaTitleCase" => Pred::Prop(Prop::TitleCase),
        "javaDigit" => Pred::Prop(Prop::Digit),
        "javaDefined" => Pred::Prop(Prop::Defined),
        "javaLetter" => Pred::Prop(Prop::Letter),
        "javaLetterOrDigit" => Pred::Prop(Prop::LetterOrDigit),
        "javaJavaIdentifierStart" => Pred::Prop(Prop::JavaIdentifierStart),
        "javaJavaIdentifierPart" => Pred::Prop(Prop::JavaIdentifierPart),
        "javaUnicodeIdentifierStart" => Pred::Prop(Prop::UnicodeIdentifierStart),
        "javaUnicodeIdentifierPart" => Pred::Prop(Prop::UnicodeIdentifierPart),
        "javaIdentifierIgnorable" => Pred::Prop(Prop::IdentifierIgnorable),
        "javaSpaceChar" => Pred::Prop(Prop::SpaceChar),
        "javaWhitespace" => Pred::Prop(Prop::JavaWhitespace),
        "javaISOControl" => Pred::Prop(Prop::IsoControl),
        "javaMirrored" => Pred::Prop(Prop::Mirrored),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn member() -> impl Strategy<Value = Pred> {
        prop_oneof![
            (0u32..600).prop_map(Pred::Single),
            (0u32..600, 0u32..600).prop_map(|(a, b)| Pred::SingleI(a, b)),
            (0u32..600, 0u32..60).prop_map(|(a, n)| Pred::Range(a, a + n)),
            (0u32..600, 0u32..60).prop_map(|(a, n)| Pred::Range(a + n, a)),
            any::<[u64; 4]>().prop_map(|b| Pred::Bits(Box::new(b))),
            (0u32..30).prop_map(|c| Pred::Category(1 << c)),
            (0u32..600, 0u32..60).prop_map(|(a, n)| Pred::CiRangeU(a, a + n)),
            (0u32..600).prop_map(|c| Pred::Not(Box::new(Pred::Single(c)))),
        ]
    }

    proptest! {
        /// Merging a union never changes which characters it matches.
        #[test]
        fn an_optimized_union_matches_the_same_characters(
            members in prop::collection::vec(member(), 0..40),
            nested in prop::collection::vec(member(), 0..12),
        ) {
            let mut all = members;
            all.push(Pred::Union(nested));
            let plain = Pred::Union(all);
            let fast = plain.clone().optimize();
            for ch in (0..700).chain([0x2028, 0x10ffff, 0x1f600]) {
                prop_assert_eq!(plain.is(ch), fast.is(ch), "U+{:04X}", ch);
            }
        }
    }

    #[test]
    fn a_huge_class_becomes_one_sorted_set_and_costs_little() {
        let members: Vec<Pred> = (0..450_000u32)
            .map(|i| Pred::Single(0x4e00 + i * 2))
            .collect();
        let p = Pred::Union(members).optimize();
        assert!(
            matches!(p, Pred::Set(_)),
            "{:?}",
            std::mem::discriminant(&p)
        );
        assert!(p.is(0x4e00) && !p.is(0x4e01) && p.is(0x4e00 + 2 * 449_999));
        assert!(p.cost() <= 5, "{}", p.cost());
        // What cannot be merged is paid member by member.
        let members: Vec<Pred> = (0..1000u32).map(|i| Pred::CiRangeU(i, i)).collect();
        assert_eq!(Pred::Union(members).optimize().cost(), 1000);
    }
}
