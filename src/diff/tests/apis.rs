//! Which REST APIs a plan reads and may write: names and ids, the `restApis` allow-list,
//! fetching by id without listing.

use super::*;

#[test]
fn two_apis_with_one_name_are_an_error() {
    let mut live = live_with(&[]);
    live.rest_apis.push(RestApiSummary {
        id: "api2".into(),
        name: "Shop".into(),
    });
    let err = diff(
        &set(vec![spec("GET", "200", Settings::default())]),
        &live,
        &opts(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2 REST APIs are named `Shop` (ids api1, api2)"),
        "{text}"
    );
    assert!(text.contains("use `restApi: <id>`"), "{text}");
}

#[test]
fn a_name_and_an_id_for_the_same_response_are_a_duplicate() {
    let mut by_id = spec("GET", "200", Settings::default());
    by_id.api = ApiRef::Id("api1".into());
    let err = diff(
        &set(vec![spec("GET", "200", Settings::default()), by_id]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(err, DiffError::DuplicateKey { .. }), "{err}");
}

#[test]
fn the_allow_list_blocks_apis_out_of_scope_and_limits_fetching() {
    let options = DiffOptions {
        allowed_apis: Some(vec!["Billing".into()]),
        ..opts()
    };
    let desired = set(vec![spec("GET", "200", Settings::default())]);
    let live = live_with(&[]);
    assert!(apis_to_fetch(&desired, &live.rest_apis, &options).is_empty());
    let plan = diff(&desired, &live, &options).unwrap();
    assert_eq!(plan.actions[0].kind, ActionKind::Blocked);
    assert!(
        plan.actions[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("not in the config's `restApis` list")
    );
    assert_eq!(apis_to_fetch(&desired, &live.rest_apis, &opts()).len(), 1);
}

#[test]
fn specs_naming_apis_by_id_need_no_listing() {
    let mut by_id = spec("GET", "200", Settings::default());
    by_id.api = ApiRef::Id("api1".into());
    let named = spec("POST", "200", Settings::default());
    assert_eq!(
        ids_without_listing(&set(vec![by_id.clone()]), &opts()),
        Some(["api1".to_owned()].into())
    );
    assert_eq!(
        ids_without_listing(&set(vec![by_id.clone(), named]), &opts()),
        None
    );
    let allow = DiffOptions {
        allowed_apis: Some(vec!["api1".into()]),
        ..opts()
    };
    assert_eq!(ids_without_listing(&set(vec![by_id]), &allow), None);
}

#[test]
fn fetching_by_id_reads_no_list_and_leaves_missing_apis_out() {
    let fake = MemoryApiGateway::new(live_with(&[]));
    let query =
        crate::live::ApiQuery::<fn(&[RestApiSummary]) -> std::collections::BTreeSet<String>>::Ids(
            ["api1".to_owned(), "gone".to_owned()].into(),
        );
    let snapshot = run(crate::live::fetch(&fake, query)).unwrap();
    assert_eq!(snapshot.resources.keys().collect::<Vec<_>>(), ["api1"]);
    assert_eq!(snapshot.rest_apis[0].name, "");
    let mut s = spec("GET", "200", Settings::default());
    s.api = ApiRef::Id("gone".into());
    let plan = diff(&set(vec![s]), &snapshot, &opts()).unwrap();
    assert!(
        plan.actions[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("no REST API with restApi gone")
    );
}
