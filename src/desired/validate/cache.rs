//! Verdicts remembered per thread: large sets repeat a few templates and selection
//! patterns many times, and each is parsed or compiled once (bounded).

/// Keyed by spec text, so seeded per process (foldhash's `RandomState`), and fast.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A template parsed as VTL: its tree when `keep` asks for it (`Ok(None)`: it parses,
/// the tree was not asked for), or why it does not parse. Large sets repeat a few
/// templates (CORS, error mappings) many times, so verdicts (and kept trees, which
/// share their nodes) are remembered per thread (bounded), by the template's text.
pub(super) fn parse_template(
    template: &str,
    keep: bool,
) -> Result<Option<crate::vtl::Template>, crate::vtl::SyntaxError> {
    type Verdict = Result<Option<crate::vtl::Template>, crate::vtl::SyntaxError>;
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, Verdict>> = Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        match seen.get(template) {
            // A tree asked for and not remembered: parse again, below.
            Some(Ok(None)) if keep => {}
            Some(Ok(tree)) => return Ok(tree.clone().filter(|_| keep)),
            Some(Err(e)) => return Err(e.clone()),
            None => {}
        }
        let verdict = crate::vtl::parse(template).map(|tree| keep.then_some(tree));
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(template.to_owned(), verdict.clone());
        verdict
    })
}

/// Why `pattern` is not a valid regular expression, if it is not: API Gateway compiles
/// selection patterns with `java.util.regex.Pattern`, so Java's verdict (and its
/// description and index) decides, from [`crate::jregex`]. Large sets repeat a few
/// patterns ("4\\d{2}", "5\\d{2}") thousands of times, so verdicts are remembered
/// (bounded).
pub(super) fn regex_error(pattern: &str) -> Option<String> {
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, Option<String>>> = Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(verdict) = seen.get(pattern) {
            return verdict.clone();
        }
        let verdict = crate::jregex::Pattern::compile(pattern).err().map(|e| {
            format!(
                "{} near index {} (Java's java.util.regex, which API Gateway uses)",
                e.description, e.index
            )
        });
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(pattern.to_owned(), verdict.clone());
        verdict
    })
}
