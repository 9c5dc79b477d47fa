//! Any bytes, as UTF-8 (lossily), split at the first NUL into a pattern and a text
//! (or, without one, the whole input as both): the pattern compiled within a step
//! budget, then matched against the text (`matches`), searched (a `Searcher`), replaced
//! (`replace_metered` with a replacement that uses groups) and split, each within its
//! own budget. Nothing may panic; a syntax error's index must be -1 or lie within the
//! pattern and the two sentinels Java's parser reads after it; every match's span and
//! group spans must lie on character boundaries of the text, in order.
#![no_main]

use java_regex::{CompileError, Meter, Pattern, Replace};
use libfuzzer_sys::fuzz_target;

const STEPS: u64 = 200_000;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let (pattern, text) = match input.split_once('\0') {
        Some((p, t)) => (p, t),
        None => (&*input, &*input),
    };
    let compiled = match Pattern::compile_metered(pattern, &mut Meter::new(STEPS)) {
        Ok(p) => p,
        Err(CompileError::Syntax(e)) => {
            let len = pattern.chars().count() as i64;
            assert!(e.index >= -1, "index {} for {pattern:?}", e.index);
            // Java parses a copy of the pattern ending in two NUL sentinels, and reports
            // some errors there (`(\` is "Unclosed group" at index 3); it counts after
            // \Q..\E expansion, which can only lengthen the pattern
            if !pattern.contains("\\Q") {
                assert!(e.index <= len + 2, "index {} past {len} for {pattern:?}", e.index);
            }
            return;
        }
        Err(CompileError::Budget(_)) => return,
    };
    let _ = compiled.matches_metered(text, &mut Meter::new(STEPS));
    let mut meter = Meter::new(STEPS);
    if let Ok(searcher) = compiled.searcher(text, &mut meter) {
        let mut at = 0;
        while at <= text.len() {
            let Ok(Some(m)) = searcher.find_at(at, &mut meter) else {
                break;
            };
            assert!(m.start() >= at && m.start() <= m.end() && m.end() <= text.len());
            for i in 0..m.len() {
                if let Some(r) = m.get(i) {
                    assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                    assert!(r.start <= r.end);
                }
            }
            at = if m.end() > m.start() {
                m.end()
            } else {
                // an empty match: go on after the next character
                match text[m.end()..].chars().next() {
                    Some(c) => m.end() + c.len_utf8(),
                    None => break,
                }
            };
        }
    }
    let replacement = if compiled.group_count() > 0 { "[$1]" } else { "[$0]" };
    let _ = compiled.replace_metered(text, replacement, Replace::All, &mut Meter::new(STEPS));
    let _ = compiled.split_metered(text, -1, &mut Meter::new(STEPS));
});
