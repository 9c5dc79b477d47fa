//! Blocked writes: a write whose method, integration, method response or declared
//! header is missing waits, saying what is missing; a converged response needs none.

use super::*;

#[test]
fn a_mapping_to_an_undeclared_header_is_blocked_with_the_header_to_declare() {
    let mut s = Settings::default();
    s.response_parameters
        .insert("method.response.header.A".into(), "'a'".into());
    s.response_parameters
        .insert("method.response.header.X-Trace".into(), "'t'".into());
    let plan = diff(
        &set(vec![spec("GET", "200", s.clone())]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Blocked, "api1/r1/GET/200".to_owned())]
    );
    let reason = plan.actions[0].reason.clone().unwrap();
    assert!(
        reason.contains("method response 200 does not declare method.response.header.X-Trace;"),
        "{reason}"
    );
    assert!(!reason.contains("header.A"), "A is declared: {reason}");
    assert_eq!(
        plan.actions[0].desired.as_ref(),
        Some(&s),
        "the plan shows what waits"
    );
    // Declared: a create.
    s.response_parameters
        .remove("method.response.header.X-Trace");
    let plan = diff(&set(vec![spec("GET", "200", s)]), &live_with(&[]), &opts()).unwrap();
    assert_eq!(kinds(&plan)[0].0, ActionKind::Create);
}

#[test]
fn missing_dependencies_are_blocked_with_a_reason() {
    let mut snapshot = live_with(&[]);
    let resource = &mut snapshot.resources.get_mut("api1").unwrap()[1];
    resource.methods.insert("PUT".into(), LiveMethod::default());
    let cases = [
        (
            spec("GET", "201", Settings::default()),
            "has no method response with status 201",
        ),
        (
            spec("PUT", "200", Settings::default()),
            "has no integration",
        ),
        (
            spec("PATCH", "200", Settings::default()),
            "has no PATCH method",
        ),
        (
            Spec {
                resource: ResourceRef::Path("/nope".into()),
                ..spec("GET", "200", Settings::default())
            },
            "has no resource /nope",
        ),
        (
            Spec {
                api: ApiRef::Name("Other".into()),
                ..spec("GET", "200", Settings::default())
            },
            "no REST API with restApiName Other",
        ),
    ];
    for (s, reason) in cases {
        let plan = diff(&set(vec![s]), &snapshot, &opts()).unwrap();
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].kind, ActionKind::Blocked);
        let got = plan.actions[0].reason.clone().unwrap();
        assert!(got.contains(reason), "{got}");
    }
}

#[test]
fn converged_responses_are_not_blocked_by_missing_method_responses() {
    // Only a write needs its dependencies.
    let plan = diff(
        &set(vec![spec("POST", "201", Settings::default())]),
        &{
            let mut l = live_with(&[]);
            let r = &mut l.resources.get_mut("api1").unwrap()[1];
            r.methods
                .get_mut("POST")
                .unwrap()
                .integration_responses
                .insert("201".into(), Settings::default());
            l
        },
        &opts(),
    )
    .unwrap();
    assert!(plan.is_converged());
}
