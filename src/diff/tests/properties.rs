//! Properties over random live states and desired sets: applying a plan converges,
//! deletes only on managed methods, never prunes behind a blocked write and leaves
//! unmanaged methods untouched.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn settings() -> impl Strategy<Value = Settings> {
    (
        prop::sample::select(vec![
            None,
            Some(""),
            Some("-"),
            Some("4\\d{2}"),
            Some("5.*"),
        ]),
        prop::collection::btree_map(
            prop::sample::select(vec!["method.response.header.A", "method.response.header.B"]),
            prop::sample::select(vec!["'x'", "integration.response.body"]),
            0..2,
        ),
        prop::collection::btree_map(
            prop::sample::select(vec!["application/json", "text/html; charset=utf-8"]),
            prop::sample::select(vec!["", "a", "b\nc", "ü/é"]),
            0..2,
        ),
        prop::sample::select(vec![
            None,
            Some("CONVERT_TO_TEXT"),
            Some("CONVERT_TO_BINARY"),
        ]),
    )
        .prop_map(|(pattern, params, templates, handling)| Settings {
            selection_pattern: pattern.map(str::to_owned),
            response_parameters: params
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            response_templates: templates
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            content_handling: handling.map(str::to_owned),
        })
}

/// Resources /p0../p2 with GET and POST (integration, method responses 200, 400,
/// 500 declaring headers A and B) and random live integration responses, at most one
/// default per method (API Gateway refuses a second).
fn live() -> impl Strategy<Value = LiveSnapshot> {
    prop::collection::vec(
        prop::collection::btree_map(
            prop::sample::select(vec!["200", "400", "500"]),
            settings(),
            0..3,
        ),
        6,
    )
    .prop_map(|irs| {
        let mut irs = irs.into_iter();
        let resources = (0..3)
            .map(|i| LiveResource {
                id: format!("r{i}"),
                path: format!("/p{i}"),
                methods: ["GET", "POST"]
                    .iter()
                    .map(|m| {
                        let mut method = method_declaring(&["200", "400", "500"], &["A", "B"]);
                        let mut has_default = false;
                        method.integration_responses = irs
                            .next()
                            .unwrap()
                            .into_iter()
                            .map(|(k, mut v)| {
                                if v.is_default() && std::mem::replace(&mut has_default, true) {
                                    v.selection_pattern = Some(format!("{k}y"));
                                }
                                (k.to_owned(), v)
                            })
                            .collect();
                        (m.to_string(), method)
                    })
                    .collect(),
            })
            .collect();
        LiveSnapshot {
            rest_apis: vec![RestApiSummary {
                id: "api1".into(),
                name: "Shop".into(),
            }],
            resources: [("api1".to_owned(), resources)].into(),
        }
    })
}

/// Specs over existing and missing resources, methods and method responses; one
/// per identity, at most one present default per method (what validation allows).
fn desired() -> impl Strategy<Value = DesiredSet> {
    prop::collection::vec(
        (
            0..4usize,
            prop::sample::select(vec!["GET", "POST", "PUT"]),
            prop::sample::select(vec!["200", "400", "500", "201"]),
            settings(),
            prop::bool::weighted(0.2),
        ),
        0..12,
    )
    .prop_map(|raw| {
        let mut seen = BTreeSet::new();
        let mut defaults = BTreeSet::new();
        let mut specs = Vec::new();
        for (resource, method, status, mut settings, absent) in raw {
            if !seen.insert((resource, method, status)) {
                continue;
            }
            if !absent && settings.is_default() && !defaults.insert((resource, method)) {
                settings.selection_pattern = Some(format!("{status}x"));
            }
            let mut s = spec(method, status, settings);
            s.resource = ResourceRef::Path(format!("/p{resource}"));
            s.state = if absent {
                State::Absent
            } else {
                State::Present
            };
            specs.push(s);
        }
        set(specs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_converges_and_deletes_only_on_managed_methods(
        live in live(),
        desired in desired(),
        prune in any::<bool>(),
    ) {
        let options = DiffOptions { prune, max_deletes: usize::MAX, ..DiffOptions::default() };
        let plan = diff(&desired, &live, &options).unwrap();

        let managed: BTreeSet<(String, String)> = desired
            .specs
            .iter()
            .map(|s| match &s.resource {
                ResourceRef::Path(p) => (p.replace("/p", "r"), s.http_method.clone()),
                ResourceRef::Id(id) => (id.clone(), s.http_method.clone()),
            })
            .collect();
        for action in plan.actions.iter().filter(|a| a.kind == ActionKind::Delete) {
            prop_assert!(
                managed.contains(&(action.key.resource_id.clone(), action.key.http_method.clone())),
                "delete outside managed methods: {action:?}"
            );
            prop_assert!(prune || action.reason.as_deref() == Some("state: absent"));
        }

        // A method with a blocked write loses nothing to prune: the response a blocked
        // replacement would replace stays.
        let blocked_writes: BTreeSet<(String, String)> = plan
            .actions
            .iter()
            .filter(|a| a.kind == ActionKind::Blocked && a.desired.is_some())
            .map(|a| (a.key.resource_id.clone(), a.key.http_method.clone()))
            .collect();
        for action in plan.actions.iter().filter(|a| a.kind == ActionKind::Delete && a.source.is_none()) {
            prop_assert!(
                !blocked_writes.contains(&(action.key.resource_id.clone(), action.key.http_method.clone())),
                "prune delete on a method whose write is blocked: {action:?}\n{:?}", plan.actions
            );
        }

        let fake = MemoryApiGateway::new(live.clone());
        let report = run(executor::execute(&fake, &plan, &RetryPolicy::default()));
        prop_assert_eq!(report.failed(), 0, "{:?}", report);
        prop_assert_eq!(report.held(), 0, "{:?}", report);
        let after = diff(&desired, &fake.state(), &options).unwrap();
        prop_assert!(
            after.actions.iter().all(|a| a.kind == ActionKind::Blocked),
            "not converged: {:?}", after.actions
        );
        let blocked = |p: &Plan| p.actions.iter().filter(|a| a.kind == ActionKind::Blocked).map(|a| a.key.clone()).collect::<Vec<_>>();
        prop_assert_eq!(blocked(&after), blocked(&plan));
        // Live responses on methods no spec names are untouched.
        for (i, resource) in fake.state().resources["api1"].iter().enumerate() {
            for (name, method) in &resource.methods {
                if !managed.contains(&(resource.id.clone(), name.clone())) {
                    prop_assert_eq!(method, &live.resources["api1"][i].methods[name]);
                }
            }
        }
    }
}
