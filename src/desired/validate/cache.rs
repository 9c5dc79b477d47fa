//! Verdicts remembered per thread: large sets repeat a few templates and selection
//! patterns many times, and each is parsed or compiled once (bounded).

use std::collections::HashMap;

/// Why `template` does not parse as VTL, if it does not. Large sets repeat a few
/// templates (CORS, error mappings) many times, so verdicts are remembered per thread
/// (bounded), by the template's text.
pub(super) fn template_error(template: &str) -> Option<crate::vtl::SyntaxError> {
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, Option<crate::vtl::SyntaxError>>> =
            Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(verdict) = seen.get(template) {
            return verdict.clone();
        }
        let verdict = crate::vtl::parse(template).err();
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
