//! Creates and updates: what differs is written, what only looks different (every
//! normalisation) is not, and a passthrough entry is a real entry.

use super::*;

#[test]
fn missing_response_is_a_create_with_resolved_ids() {
    let plan = diff(
        &set(vec![spec("GET", "200", Settings::default())]),
        &live_with(&[]),
        &opts(),
    )
    .unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Create, "api1/r1/GET/200".to_owned())]
    );
    assert_eq!(plan.actions[0].api_name.as_deref(), Some("Shop"));
    assert_eq!(plan.actions[0].resource_path.as_deref(), Some("/orders"));
}

#[test]
fn ids_resolve_like_names_and_paths() {
    let mut s = spec("GET", "200", Settings::default());
    s.api = ApiRef::Id("api1".into());
    s.resource = ResourceRef::Id("r1".into());
    let plan = diff(&set(vec![s]), &live_with(&[]), &opts()).unwrap();
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::Create, "api1/r1/GET/200".to_owned())]
    );
}

#[test]
fn every_normalisation_makes_equal_settings_a_no_op() {
    let live_default = Settings::default();
    let cases: Vec<(&str, Settings, Settings)> = vec![
        (
            "empty selection pattern",
            Settings {
                selection_pattern: Some(String::new()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
        (
            "dash selection pattern",
            Settings {
                selection_pattern: Some("-".into()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
        (
            "passthrough entry vs a null read back as passthrough",
            templates(&[("application/json", "")]),
            templates(&[("application/json", "")]),
        ),
        ("empty maps", Settings::default(), Settings::default()),
        (
            "empty content handling",
            Settings {
                content_handling: Some(String::new()),
                ..Settings::default()
            },
            live_default.clone(),
        ),
    ];
    for (name, desired, live) in cases {
        let plan = diff(
            &set(vec![spec("GET", "200", desired)]),
            &live_with(&[("200", live)]),
            &opts(),
        )
        .unwrap();
        assert!(plan.is_converged(), "{name}: {:?}", plan.actions);
    }
}

#[test]
fn a_passthrough_entry_is_a_real_entry_both_ways() {
    // Terraform's acceptance tests against AWS: `{"application/json" = ""}` is kept as a
    // key, so it differs from no entry and from a template.
    let passthrough = templates(&[("application/json", "")]);
    for (name, desired, live) in [
        (
            "add a passthrough entry",
            passthrough.clone(),
            Settings::default(),
        ),
        (
            "remove a passthrough entry",
            Settings::default(),
            passthrough.clone(),
        ),
        (
            "template to passthrough",
            passthrough.clone(),
            templates(&[("application/json", "{}")]),
        ),
        (
            "passthrough under another type",
            templates(&[("text/plain", "")]),
            passthrough.clone(),
        ),
    ] {
        let plan = diff(
            &set(vec![spec("GET", "200", desired.clone())]),
            &live_with(&[("200", live)]),
            &opts(),
        )
        .unwrap();
        assert_eq!(
            kinds(&plan),
            vec![(ActionKind::Update, "api1/r1/GET/200".to_owned())],
            "{name}"
        );
        assert_eq!(plan.actions[0].desired.as_ref(), Some(&desired), "{name}");
    }
}

#[test]
fn each_field_change_is_an_update() {
    let base = Settings {
        selection_pattern: Some("4\\d{2}".into()),
        response_parameters: VecMap::from([("method.response.header.A".into(), "'a'".into())]),
        response_templates: VecMap::from([("application/json".into(), "{}".into())]),
        content_handling: Some("CONVERT_TO_TEXT".into()),
    };
    let mut changes: Vec<(&str, Settings)> = Vec::new();
    let mut s = base.clone();
    s.selection_pattern = Some("5\\d{2}".into());
    changes.push(("pattern", s));
    let mut s = base.clone();
    s.selection_pattern = None;
    changes.push(("pattern removed", s));
    let mut s = base.clone();
    s.response_parameters
        .insert("method.response.header.A".into(), "'b'".into());
    changes.push(("parameter value", s));
    let mut s = base.clone();
    s.response_parameters.clear();
    changes.push(("parameters removed", s));
    let mut s = base.clone();
    s.response_templates
        .insert("application/json".into(), "{\"a\":1}".into());
    changes.push(("template body", s));
    let mut s = base.clone();
    s.response_templates
        .insert("application/xml".into(), "<a/>".into());
    changes.push(("template added", s));
    let mut s = base.clone();
    s.content_handling = Some("CONVERT_TO_BINARY".into());
    changes.push(("content handling", s));
    let mut s = base.clone();
    s.content_handling = None;
    changes.push(("content handling removed", s));
    for (name, desired) in changes {
        let plan = diff(
            &set(vec![spec("GET", "400", desired.clone())]),
            &live_with(&[("400", base.clone())]),
            &opts(),
        )
        .unwrap();
        assert_eq!(
            kinds(&plan),
            vec![(ActionKind::Update, "api1/r1/GET/400".to_owned())],
            "{name}"
        );
        assert_eq!(plan.actions[0].desired.as_ref(), Some(&desired), "{name}");
        assert_eq!(plan.actions[0].live.as_ref(), Some(&base), "{name}");
    }
}
