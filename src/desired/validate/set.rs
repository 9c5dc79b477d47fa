//! The rules over the whole set, once every file is read.

/// Keyed by spec text, so seeded per process (foldhash's `RandomState`), and fast.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Arc;

use crate::desired::{ApiRef, ResourceRef, ResponseTest, Spec, SpecError, State};

/// Rules over the whole set: one document per identity, one default response per method.
pub(super) fn check_set(specs: &[Arc<Spec>], errors: &mut Vec<SpecError>) {
    let mut by_identity: HashMap<(&ApiRef, &ResourceRef, &str, &str), &Spec> = HashMap::default();
    let mut defaults: HashMap<(&ApiRef, &ResourceRef, &str), &Spec> = HashMap::default();
    for spec in specs {
        let identity = (
            &spec.api,
            &spec.resource,
            spec.http_method.as_str(),
            spec.status_code.as_str(),
        );
        if let Some(first) = by_identity.insert(identity, spec) {
            errors.push(SpecError {
                location: spec.location.clone(),
                message: format!(
                    "duplicate integration response {} {} {} {}: already defined at {}; keep one of the two",
                    spec.api, spec.resource, spec.http_method, spec.status_code, first.location
                ),
            });
            continue;
        }
        if spec.state == State::Present && spec.settings.is_default() {
            let method = (&spec.api, &spec.resource, spec.http_method.as_str());
            if let Some(first) = defaults.insert(method, spec) {
                errors.push(SpecError {
                    location: spec.location.clone(),
                    message: format!(
                        "{} {} {} has more than one default response (no selectionPattern): status {} here and {} at {}; \
                         give all but one a selectionPattern",
                        spec.api, spec.resource, spec.http_method, spec.status_code, first.status_code, first.location
                    ),
                });
            }
        }
    }
}

/// Test names are unique (they are how a person finds a failure).
pub(super) fn check_tests(tests: &[Arc<ResponseTest>], errors: &mut Vec<SpecError>) {
    let mut seen: HashMap<&str, &ResponseTest> = HashMap::default();
    for test in tests {
        if let Some(first) = seen.insert(&test.name, test) {
            errors.push(SpecError {
                location: test.location.clone(),
                message: format!(
                    "response test `{}` is also defined at {}; test names must be unique",
                    test.name, first.location
                ),
            });
        }
    }
}
