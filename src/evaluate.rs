//! Evaluating the desired directory: read and validate it ([`crate::desired`]), then run
//! its response tests over the set ([`crate::response_test`]); a failing test makes
//! the set invalid, exactly like a validation error. The step above both: documents,
//! the set and their validation know nothing of the test engine, the engine knows the
//! documents and the set, and only this step sees the two.

use std::path::Path;
use std::time::Duration;

use crate::desired::load::{FileCache, read_desired};
use crate::desired::{DesiredSet, EvalLimits, Evaluation, LoadError, Loaded, SpecError};
use crate::response_test;

/// How a load is done: within which limits, whether the response tests run, and how
/// long a changed file must have been still before it is used (the daemon's
/// `debounce`; `None` for one-shot commands, which read what is there).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    pub limits: EvalLimits,
    pub run_tests: bool,
    pub settle: Option<Duration>,
    /// Keep each template's tree from validation for the response tests (a one-shot
    /// load: see [`crate::desired::ParsedTemplates`]).
    pub keep_templates: bool,
}

/// Load and validate every spec under `dir`, and run its response tests: a failing
/// test makes the set invalid.
pub fn load_desired(dir: &Path, limits: EvalLimits) -> Result<Loaded, LoadError> {
    load_fresh(dir, limits, true)
}

/// Load and validate every document under `dir` without running the response tests
/// (for `test`, which runs and reports them itself).
pub fn load_untested(dir: &Path, limits: EvalLimits) -> Result<Loaded, LoadError> {
    load_fresh(dir, limits, false)
}

/// A one-shot load: no cache, files read as they are.
fn load_fresh(dir: &Path, limits: EvalLimits, run_tests: bool) -> Result<Loaded, LoadError> {
    let options = LoadOptions {
        limits,
        run_tests,
        settle: None,
        keep_templates: true,
    };
    load_desired_cached(dir, &mut SpecCache::default(), &options)
}

/// Parsed files by path, reused while a file's size, modification time and inode are
/// unchanged, so a cycle re-reads and re-parses only the files that changed; and the
/// response tests' verdict on the last set, reused while the set (its content and
/// places) and the limits are unchanged, so an interval cycle with no file change runs
/// no test.
#[derive(Debug, Default)]
pub struct SpecCache {
    files: FileCache,
    tested: Option<Tested>,
    /// Files read and parsed (cache misses) so far.
    pub parsed: u64,
    /// Response tests run so far.
    pub tests_run: u64,
}

/// The verdict of a set's response tests.
#[derive(Debug)]
struct Tested {
    set: DesiredSet,
    limits: EvalLimits,
    errors: Vec<SpecError>,
    warnings: Vec<String>,
}

/// [`load_desired`] reusing (and refreshing) `cache`.
pub fn load_desired_cached(
    dir: &Path,
    cache: &mut SpecCache,
    options: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let evaluation = Evaluation::start(options.limits);
    let read = read_desired(
        dir,
        &mut cache.files,
        options.settle,
        evaluation,
        options.keep_templates,
    );
    cache.parsed = cache.files.parsed;
    let mut loaded = read?;
    if options.run_tests && !loaded.set.tests.is_empty() {
        let (test_errors, test_warnings) = run_tests(&loaded.set, cache, &evaluation);
        if !test_errors.is_empty() {
            return Err(LoadError::Invalid(test_errors));
        }
        loaded.warnings.extend(test_warnings);
    }
    Ok(loaded)
}

/// The response tests' errors and warnings for `set`: the cached verdict when the set
/// and the limits are those it was given for, else a new run (cached unless the deadline
/// cut it short, which depends on the machine, not on the input).
fn run_tests(
    set: &DesiredSet,
    cache: &mut SpecCache,
    evaluation: &Evaluation,
) -> (Vec<SpecError>, Vec<String>) {
    if let Some(t) = &cache.tested
        && t.limits == evaluation.limits
        && t.set == *set
    {
        return (t.errors.clone(), t.warnings.clone());
    }
    let run = response_test::run_all_within(set, evaluation);
    cache.tests_run += run.results.len() as u64;
    let errors = run.errors();
    let warnings = run.warnings();
    cache.tested = (!evaluation.overrun()).then(|| Tested {
        set: set.clone(),
        limits: evaluation.limits,
        errors: errors.clone(),
        warnings: warnings.clone(),
    });
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const TESTED: LoadOptions = LoadOptions {
        limits: EvalLimits {
            deadline: Duration::from_secs(30),
            engine: crate::vtl::Limits {
                steps: 5_000_000,
                regex_steps: 20_000_000,
                work_bytes: 512 << 20,
                memory_bytes: 128 << 20,
            },
        },
        run_tests: true,
        settle: None,
        keep_templates: false,
    };

    const GOOD: &str = "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"200\"\n";

    #[test]
    fn the_cache_reparses_only_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.yaml"), GOOD).unwrap();
        fs::write(root.join("b.yaml"), GOOD.replace("GET", "POST")).unwrap();
        let mut cache = SpecCache::default();
        assert_eq!(
            load_desired_cached(root, &mut cache, &TESTED)
                .unwrap()
                .set
                .specs
                .len(),
            2
        );
        assert_eq!(cache.parsed, 2);
        load_desired_cached(root, &mut cache, &TESTED).unwrap();
        assert_eq!(cache.parsed, 2, "nothing changed, nothing re-read");

        // An in-place edit (other size) and an atomic rename save are both seen.
        fs::write(root.join("a.yaml"), GOOD.replace("GET", "PUT")).unwrap();
        fs::write(root.join(".b.tmp"), GOOD.replace("GET", "PATCH")).unwrap();
        fs::rename(root.join(".b.tmp"), root.join("b.yaml")).unwrap();
        let set = load_desired_cached(root, &mut cache, &TESTED).unwrap().set;
        assert_eq!(cache.parsed, 4);
        let methods: Vec<_> = set.specs.iter().map(|s| s.http_method.as_str()).collect();
        assert_eq!(methods, ["PUT", "PATCH"]);

        // A removed file leaves the set and the cache; set rules still see every file.
        fs::remove_file(root.join("a.yaml")).unwrap();
        assert_eq!(
            load_desired_cached(root, &mut cache, &TESTED)
                .unwrap()
                .set
                .specs
                .len(),
            1
        );
        assert_eq!(cache.files.len(), 1);
        fs::write(root.join("c.yaml"), GOOD.replace("GET", "PATCH")).unwrap();
        let LoadError::Invalid(errors) =
            load_desired_cached(root, &mut cache, &TESTED).unwrap_err()
        else {
            panic!("expected a duplicate")
        };
        assert!(
            errors[0].message.contains("duplicate integration response"),
            "{errors:?}"
        );
    }

    /// A one-shot load of a set with response tests keeps each template's tree for the
    /// tests, which render it unparsed again; a set without tests, and the daemon's
    /// loads (whose cache keeps files for good), keep none.
    #[test]
    fn templates_are_kept_parsed_only_for_a_one_shot_load_with_tests() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let spec = format!("{GOOD}responseTemplates:\n  application/json: '{{\"a\": 1}}'\n");
        fs::write(root.join("a.yaml"), &spec).unwrap();
        let kept = |set: &DesiredSet| set.specs[0].parsed.get(0).is_some();
        let limits = EvalLimits::default();
        assert!(!kept(&load_desired(root, limits).unwrap().set), "no tests");

        fs::write(
            root.join("a.tests.yaml"),
            "kind: ResponseTest\nname: t\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\n\
             integration: mock\nexpect:\n  json: {a: 1}\n",
        )
        .unwrap();
        let loaded = load_desired(root, limits).unwrap();
        assert!(kept(&loaded.set), "a one-shot load with a test");
        let run = response_test::run_all(&loaded.set);
        assert_eq!((run.passed(), run.failed()), (1, 0), "{}", run.render());

        let daemon = LoadOptions {
            keep_templates: false,
            ..TESTED
        };
        let set = load_desired_cached(root, &mut SpecCache::default(), &daemon)
            .unwrap()
            .set;
        assert!(!kept(&set), "the daemon's load");
        assert_eq!(response_test::run_all(&set).passed(), 1, "parsed when run");
    }
}
