//! Unit tests of the diff and of executing its plans, over the in-memory fake, one
//! file per concern: creates and updates (`changes`), writes that wait for what they
//! need (`blocked`), deletes and prune (`deletes`), the one default response per method
//! (`defaults`), which APIs are read and written (`apis`), execution and retries
//! (`execute`), and properties over random states (`properties`). The fixtures they
//! share are here.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::desired::SourceFile;
use crate::executor::{self, Outcome, RetryPolicy};
use crate::live::memory::{MemoryApiGateway, method_declaring};
use crate::live::{ApiError, FailureKind, LiveMethod};
use crate::vecmap::VecMap;
use crate::yaml::Pos;

mod apis;
mod blocked;
mod changes;
mod defaults;
mod deletes;
mod execute;
mod properties;

fn spec(method: &str, status: &str, settings: Settings) -> Spec {
    Spec {
        api: ApiRef::Name("Shop".into()),
        resource: ResourceRef::Path("/orders".into()),
        http_method: method.into(),
        status_code: status.into(),
        settings,
        state: State::Present,
        location: Location {
            file: Arc::from("desired/shop.yaml"),
            pos: Pos { line: 1, col: 1 },
        },
        template_places: Box::default(),
        parsed: Default::default(),
    }
}

fn templates(pairs: &[(&str, &str)]) -> Settings {
    Settings {
        response_templates: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Settings::default()
    }
}

fn set(specs: Vec<Spec>) -> DesiredSet {
    DesiredSet::new(specs)
}

/// Shop (api1) with /orders (r1): GET and POST with method responses 200, 400, 500
/// (declaring headers A and B).
fn live_with(get: &[(&str, Settings)]) -> LiveSnapshot {
    let mut get_method = method_declaring(&["200", "400", "500"], &["A", "B"]);
    for (code, s) in get {
        get_method
            .integration_responses
            .insert(code.to_string(), s.clone());
    }
    LiveSnapshot {
        rest_apis: vec![RestApiSummary {
            id: "api1".into(),
            name: "Shop".into(),
        }],
        resources: BTreeMap::from([(
            "api1".to_owned(),
            vec![
                LiveResource {
                    id: "root".into(),
                    path: "/".into(),
                    methods: Default::default(),
                },
                LiveResource {
                    id: "r1".into(),
                    path: "/orders".into(),
                    methods: VecMap::from([
                        ("GET".to_owned(), get_method),
                        (
                            "POST".to_owned(),
                            method_declaring(&["200", "400", "500"], &["A", "B"]),
                        ),
                    ]),
                },
            ],
        )]),
    }
}

fn kinds(plan: &Plan) -> Vec<(ActionKind, String)> {
    plan.actions
        .iter()
        .map(|a| (a.kind, a.key.to_string()))
        .collect()
}

fn opts() -> DiffOptions {
    DiffOptions::default()
}

fn prune() -> DiffOptions {
    DiffOptions {
        prune: true,
        ..opts()
    }
}

fn with_pattern(p: &str) -> Settings {
    Settings {
        selection_pattern: Some(p.into()),
        ..Settings::default()
    }
}

fn rejected() -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(400),
        code: Some("BadRequestException".into()),
        message: "Invalid mapping expression specified".into(),
        kind: FailureKind::Rejected,
    }
}

fn conflict(message: &str) -> ApiError {
    ApiError {
        operation: "PutIntegrationResponse",
        target: "t".into(),
        status: Some(409),
        code: Some("ConflictException".into()),
        message: message.into(),
        kind: if message.contains("try again later") {
            FailureKind::RetryLater
        } else {
            FailureKind::Other
        },
    }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
