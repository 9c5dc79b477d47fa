//! The step budget and the meter: every call pays, and running out is an error.

use super::*;

#[test]
fn one_meter_is_one_budget_across_calls() {
    let p = Pattern::compile("(a|b)*c").unwrap();
    let input = "ab".repeat(2000);
    let mut probe = Meter::new(u64::MAX);
    assert!(!p.matches_metered(&input, &mut probe).unwrap());
    let one_call = probe.used();
    // A budget for one and a half calls: the first passes, the second runs out.
    let mut meter = Meter::new(one_call * 3 / 2);
    assert!(p.matches_metered(&input, &mut meter).is_ok());
    assert_eq!(
        p.matches_metered(&input, &mut meter),
        Err(MatchError::Steps {
            budget: one_call * 3 / 2
        })
    );
}

#[test]
fn many_finds_over_one_input_share_the_meter_and_decode_it_once() {
    let p = Pattern::compile("a").unwrap();
    let input = "a".repeat(100_000);
    let mut meter = Meter::new(u64::MAX);
    let searcher = p.searcher(&input, &mut meter).unwrap();
    let mut at = 0;
    let mut found = 0;
    while let Some(m) = searcher.find_at(at, &mut meter).unwrap() {
        found += 1;
        at = m.end();
    }
    assert_eq!(found, 100_000);
    // Linear: a few steps per find, not a decoding of the whole input per find.
    assert!(meter.used() < 2_000_000, "{}", meter.used());
}

#[test]
fn compiling_is_paid_for_and_linear() {
    // 60,000 named groups took 17 s when names were looked up in a list.
    let pattern: String = (0..60_000).map(|i| format!("(?<g{i}>x)")).collect();
    let mut meter = Meter::new(u64::MAX);
    let p = Pattern::compile_metered(&pattern, &mut meter).unwrap();
    assert_eq!(p.group_index("g59999"), Some(60_000));
    assert!(meter.used() >= pattern.len() as u64);
    let mut small = Meter::new(1_000);
    assert_eq!(
        Pattern::compile_metered(&pattern, &mut small).unwrap_err(),
        CompileError::Budget(MatchError::Steps { budget: 1_000 })
    );
}

#[test]
fn a_huge_character_class_is_matched_quickly_and_counted() {
    // ~450,000 members against 16,000 characters: 47 s of CPU as Java tests it.
    let class: String = (0..450_000u32)
        .filter_map(|i| char::from_u32(0x4e00 + i))
        .filter(|c| !"[]^-&\\".contains(*c))
        .collect();
    let pattern = format!("[{class}]*x");
    let p = Pattern::compile(&pattern).unwrap();
    let input = "\u{4e00}".repeat(16_000);
    let mut meter = Meter::new(u64::MAX);
    assert!(!p.matches_metered(&input, &mut meter).unwrap());
    assert!(meter.used() < 10_000_000, "{}", meter.used());
}

#[test]
fn a_past_deadline_stops_matching() {
    let p = Pattern::compile("(a|aa)*b").unwrap();
    let input = "a".repeat(64);
    let mut meter = Meter::new(u64::MAX).with_deadline(Some(Instant::now()));
    assert_eq!(
        p.matches_metered(&input, &mut meter),
        Err(MatchError::Deadline)
    );
}
