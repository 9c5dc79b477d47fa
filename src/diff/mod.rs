//! The pure heart: desired set + live snapshot -> [`Plan`].
//!
//! No I/O here. Names and paths are resolved against the snapshot, dependencies are
//! checked (a write that API Gateway would refuse becomes *blocked*), prune is limited
//! to managed methods, and the mass-deletion guard turns an oversized delete set into
//! blocked actions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::desired::{ApiRef, DesiredSet, Location, ResourceRef, Spec, State};
use crate::live::{LiveResource, LiveSnapshot, RestApiSummary};
use crate::model::{Key, Settings};

/// Settings of a diff that come from the config.
#[derive(Clone, Debug)]
pub struct DiffOptions {
    /// Delete live integration responses of managed methods that no spec desires.
    pub prune: bool,
    /// More deletes than this in one plan are refused (turned into blocked).
    pub max_deletes: usize,
    /// Names or ids of the REST APIs in scope; `None` means all.
    pub allowed_apis: Option<Vec<String>>,
    /// API names are needed even when every spec uses ids (stage redeploys by name).
    pub need_names: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            prune: false,
            max_deletes: 25,
            allowed_apis: None,
            need_names: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Create,
    Update,
    Delete,
    Blocked,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    /// The identity; for blocked actions whose API or resource could not be resolved,
    /// the unresolved parts hold the name or path as written.
    pub key: Key,
    pub api_name: Option<String>,
    pub resource_path: Option<String>,
    /// What will be written (create, update).
    pub desired: Option<Settings>,
    /// What is there now (update, delete).
    pub live: Option<Settings>,
    pub reason: Option<String>,
    /// The spec that asked for it (none for prune deletes).
    pub source: Option<Location>,
}

/// Everything one diff decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Live integration responses on managed methods that no spec names, kept because
    /// prune is off.
    pub unmanaged_kept: usize,
    /// Resolved spec keys that need nothing.
    pub in_sync: Vec<Key>,
    /// The methods the specs manage (API id, resource id, method), resolved.
    pub managed: BTreeSet<(String, String, String)>,
}

impl Plan {
    pub fn count(&self, kind: ActionKind) -> usize {
        self.actions.iter().filter(|a| a.kind == kind).count()
    }

    /// True when there is nothing to do and nothing blocked.
    pub fn is_converged(&self) -> bool {
        self.actions.is_empty()
    }

    /// The actions that would write (everything but blocked).
    pub fn writes(&self) -> Vec<&Action> {
        self.actions
            .iter()
            .filter(|a| a.kind != ActionKind::Blocked)
            .collect()
    }
}

/// Why no plan could be made at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiffError {
    #[error(
        "{location}: {count} REST APIs are named `{name}` (ids {ids}); a name must pick exactly one: use `restApi: <id>` instead of `restApiName`",
        count = ids.len(), ids = ids.join(", ")
    )]
    AmbiguousApiName {
        name: String,
        ids: Vec<String>,
        location: Location,
    },
    #[error(
        "{second}: integration response {key} is also defined at {first} (the same API, resource, method and status code once names and paths are resolved); keep one"
    )]
    DuplicateKey {
        key: Box<Key>,
        first: Location,
        second: Location,
    },
}

/// The REST API ids the desired set refers to and that are in scope: what to fetch.
pub fn apis_to_fetch(
    desired: &DesiredSet,
    rest_apis: &[RestApiSummary],
    options: &DiffOptions,
) -> BTreeSet<String> {
    desired
        .specs
        .iter()
        .filter_map(|spec| match &spec.api {
            ApiRef::Id(id) => rest_apis.iter().find(|a| &a.id == id),
            ApiRef::Name(name) => {
                let mut matching = rest_apis.iter().filter(|a| &a.name == name);
                match (matching.next(), matching.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                }
            }
        })
        .filter(|api| in_scope(api, options))
        .map(|api| api.id.clone())
        .collect()
}

/// When every spec names its API by id and no allow-list needs names, the ids to read
/// without listing all APIs (saves GetRestApis, one call per 500 APIs per cycle).
pub fn ids_without_listing(
    desired: &DesiredSet,
    options: &DiffOptions,
) -> Option<BTreeSet<String>> {
    if options.allowed_apis.is_some() || options.need_names {
        return None;
    }
    desired
        .specs
        .iter()
        .map(|spec| match &spec.api {
            ApiRef::Id(id) => Some(id.clone()),
            ApiRef::Name(_) => None,
        })
        .collect()
}

/// `Name (id)`, or the id alone when the name was not read.
fn label(api: &RestApiSummary) -> String {
    if api.name.is_empty() {
        api.id.clone()
    } else {
        format!("{} ({})", api.name, api.id)
    }
}

fn in_scope(api: &RestApiSummary, options: &DiffOptions) -> bool {
    options
        .allowed_apis
        .as_ref()
        .is_none_or(|allowed| allowed.iter().any(|a| a == &api.id || a == &api.name))
}

/// Where a spec landed after resolution.
struct Resolved<'a> {
    spec: &'a Spec,
    key: Key,
    /// None when the API was read by id without listing names.
    api_name: Option<String>,
    resource: &'a LiveResource,
}

/// Compute the plan that makes `live` match `desired`.
pub fn diff(
    desired: &DesiredSet,
    live: &LiveSnapshot,
    options: &DiffOptions,
) -> Result<Plan, DiffError> {
    let mut plan = Plan::default();
    let mut resolved: Vec<Resolved<'_>> = Vec::new();
    let index = Index::new(live);

    for spec in &desired.specs {
        match resolve(spec, &index, options)? {
            Ok(r) => resolved.push(r),
            // Nothing exists to delete when the API, resource or method is missing.
            Err(_) if spec.state == State::Absent => {}
            Err(blocked) => plan.actions.push(blocked),
        }
    }

    let mut desired_keys: HashMap<(&str, &str, &str, &str), &Location> =
        HashMap::with_capacity(resolved.len());
    for r in &resolved {
        let k = &r.key;
        let id = (
            &*k.rest_api_id,
            &*k.resource_id,
            &*k.http_method,
            &*k.status_code,
        );
        if let Some(first) = desired_keys.insert(id, &r.spec.location) {
            return Err(DiffError::DuplicateKey {
                key: Box::new(r.key.clone()),
                first: first.clone(),
                second: r.spec.location.clone(),
            });
        }
    }
    let mut managed: BTreeMap<(&str, &str, &str), &LiveResource> = BTreeMap::new();
    for r in &resolved {
        managed.insert(
            (&r.key.rest_api_id, &r.key.resource_id, &r.key.http_method),
            r.resource,
        );
        match action_for(r) {
            Some(action) => plan.actions.push(action),
            None => plan.in_sync.push(r.key.clone()),
        }
    }

    plan.managed = managed
        .keys()
        .map(|(a, r, m)| (a.to_string(), r.to_string(), m.to_string()))
        .collect();
    for ((api_id, _, method_name), resource) in managed {
        let method = &resource.methods[method_name];
        for (status, live_settings) in &method.integration_responses {
            if desired_keys.contains_key(&(api_id, &*resource.id, method_name, &**status)) {
                continue;
            }
            if !options.prune {
                plan.unmanaged_kept += 1;
                continue;
            }
            plan.actions.push(Action {
                kind: ActionKind::Delete,
                api_name: api_name(live, api_id),
                resource_path: Some(resource.path.clone()),
                key: Key {
                    rest_api_id: api_id.to_owned(),
                    resource_id: resource.id.clone(),
                    http_method: method_name.to_owned(),
                    status_code: status.clone(),
                },
                desired: None,
                live: Some(live_settings.clone()),
                reason: Some("prune: no spec desires it on a managed method".into()),
                source: None,
            });
        }
    }

    let deletes = plan.count(ActionKind::Delete);
    if deletes > options.max_deletes {
        for action in plan
            .actions
            .iter_mut()
            .filter(|a| a.kind == ActionKind::Delete)
        {
            action.kind = ActionKind::Blocked;
            action.reason = Some(format!(
                "mass-deletion guard: this plan would delete {deletes} integration responses, more than maxDeletesPerCycle ({}); \
                 nothing is deleted. Check the specs, or raise maxDeletesPerCycle if this is intended",
                options.max_deletes
            ));
        }
    }
    keep_methods_working(&mut plan, &index);
    plan.actions
        .sort_by(|a, b| (&a.key, a.kind).cmp(&(&b.key, b.kind)));
    Ok(plan)
}

/// A plan never leaves a managed method with fewer working integration responses
/// because a replacement cannot be made, and never promises a second default response:
///
/// - a write that makes a status code the method's default, while another status code
///   is the live default and the plan neither deletes it nor gives it a pattern, is
///   blocked: API Gateway refuses it with 409 "Integration response with selection
///   pattern default already exists" (reported by Terraform users against AWS);
/// - prune deletes on a method where a write is blocked are held (blocked, with the
///   reason), so an unreachable replacement never costs the response it replaces.
///
/// The two feed each other (a held delete can block a new default), so this runs to a
/// fixed point.
fn keep_methods_working(plan: &mut Plan, index: &Index<'_>) {
    type M<'k> = (&'k str, &'k str, &'k str);
    fn method(k: &Key) -> M<'_> {
        (&k.rest_api_id, &k.resource_id, &k.http_method)
    }
    loop {
        let mut changed = false;
        // New defaults whose method keeps another live default.
        let mut blocked_defaults: Vec<(usize, String)> = Vec::new();
        for (i, a) in plan.actions.iter().enumerate() {
            let new_default = matches!(a.kind, ActionKind::Create | ActionKind::Update)
                && a.desired.as_ref().is_some_and(Settings::is_default)
                && !a.live.as_ref().is_some_and(Settings::is_default);
            if !new_default {
                continue;
            }
            let Some(live_method) = index
                .resources
                .get(a.key.rest_api_id.as_str())
                .and_then(|r| r.by_id.get(a.key.resource_id.as_str()))
                .and_then(|r| r.methods.get(&a.key.http_method))
            else {
                continue;
            };
            for (status, settings) in &live_method.integration_responses {
                if *status == a.key.status_code || !settings.is_default() {
                    continue;
                }
                let freed = plan.actions.iter().any(|b| {
                    method(&b.key) == method(&a.key)
                        && b.key.status_code == *status
                        && (b.kind == ActionKind::Delete
                            || (b.kind == ActionKind::Update
                                && !b.desired.as_ref().is_some_and(Settings::is_default)))
                });
                if !freed {
                    blocked_defaults.push((i, status.clone()));
                }
            }
        }
        for (i, holder) in blocked_defaults {
            let a = &mut plan.actions[i];
            a.kind = ActionKind::Blocked;
            a.reason = Some(format!(
                "status {holder} is already the default response (no selectionPattern) of this method and stays so \
                 (prune is off, no spec changes it, or its delete is held); API Gateway allows one default per method \
                 (409 \"Integration response with selection pattern default already exists\"): give one of them a \
                 selectionPattern, add `state: absent` for {holder}, or enable prune"
            ));
            changed = true;
        }
        // Prune deletes on methods where a write is blocked.
        let waiting: BTreeSet<(String, String, String)> = plan
            .actions
            .iter()
            .filter(|a| a.kind == ActionKind::Blocked && a.desired.is_some())
            .map(|a| {
                let (x, y, z) = method(&a.key);
                (x.to_owned(), y.to_owned(), z.to_owned())
            })
            .collect();
        for a in plan.actions.iter_mut().filter(|a| {
            a.kind == ActionKind::Delete
                && a.source.is_none()
                && waiting.contains(&{
                    let (x, y, z) = method(&a.key);
                    (x.to_owned(), y.to_owned(), z.to_owned())
                })
        }) {
            a.kind = ActionKind::Blocked;
            a.reason = Some(
                "prune held: a write on this method is blocked; deleting this response now would leave the method \
                 with fewer working responses. It is deleted once the method's desired responses can be written"
                    .into(),
            );
            changed = true;
        }
        if !changed {
            return;
        }
    }
}

fn api_name(live: &LiveSnapshot, id: &str) -> Option<String> {
    live.rest_apis
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.name.clone())
}

/// The action one resolved spec needs, if any.
fn action_for(r: &Resolved<'_>) -> Option<Action> {
    let method = &r.resource.methods[&r.key.http_method];
    let current = method.integration_responses.get(&r.key.status_code);
    // The common case at scale: nothing to do, decided without allocating.
    match (r.spec.state, current) {
        (State::Absent, None) => return None,
        (State::Present, Some(live)) if live.same_as(&r.spec.settings) => return None,
        _ => {}
    }
    let base = Action {
        kind: ActionKind::Create,
        key: r.key.clone(),
        api_name: r.api_name.clone(),
        resource_path: Some(r.resource.path.clone()),
        desired: None,
        live: current.cloned(),
        reason: None,
        source: Some(r.spec.location.clone()),
    };
    let api = r.api_name.as_deref().unwrap_or(&r.key.rest_api_id);
    let target = format!("{api} {} {}", r.resource.path, r.key.http_method);
    match (r.spec.state, current) {
        (State::Absent, None) => None,
        (State::Absent, Some(_)) => Some(Action {
            kind: ActionKind::Delete,
            reason: Some("state: absent".into()),
            ..base
        }),
        (State::Present, Some(live)) if live.same_as(&r.spec.settings) => None,
        (State::Present, _) if !method.has_integration => Some(Action {
            kind: ActionKind::Blocked,
            reason: Some(format!(
                "{target} has no integration; create the integration first (PutIntegration), then the next cycle applies this"
            )),
            desired: Some(r.spec.settings.clone()),
            ..base
        }),
        (State::Present, _) if !method.method_responses.contains_key(&r.key.status_code) => {
            Some(Action {
                kind: ActionKind::Blocked,
                reason: Some(format!(
                    "{target} has no method response with status {}; create it first (PutMethodResponse), then the next cycle applies this",
                    r.key.status_code
                )),
                desired: Some(r.spec.settings.clone()),
                ..base
            })
        }
        (State::Present, _) if !undeclared_headers(method, r).is_empty() => {
            let missing = undeclared_headers(method, r);
            Some(Action {
                kind: ActionKind::Blocked,
                reason: Some(format!(
                    "{target} method response {} does not declare {}; API Gateway refuses such a mapping \
                     (400 \"Invalid mapping expression parameter specified\"): add {} to the method response's \
                     responseParameters (PutMethodResponse or UpdateMethodResponse), then the next cycle applies this",
                    r.key.status_code,
                    missing.join(", "),
                    if missing.len() == 1 { "it" } else { "them" }
                )),
                desired: Some(r.spec.settings.clone()),
                ..base
            })
        }
        (State::Present, live) => Some(Action {
            kind: if live.is_some() {
                ActionKind::Update
            } else {
                ActionKind::Create
            },
            desired: Some(r.spec.settings.clone()),
            ..base
        }),
    }
}

/// The `method.response.header.<name>` targets a spec maps that its method response
/// does not declare. API Gateway refuses the whole write for any of them with 400
/// "Invalid mapping expression specified: ... Invalid mapping expression parameter
/// specified: method.response.header.<name>" (the message quotes the key as written;
/// the check is taken to be exact, as a Java map lookup of the declared keys is).
fn undeclared_headers(method: &crate::live::LiveMethod, r: &Resolved<'_>) -> Vec<String> {
    let declared = method
        .method_responses
        .get(&r.key.status_code)
        .map(Vec::as_slice)
        .unwrap_or_default();
    r.spec
        .settings
        .response_parameters
        .keys()
        .filter(|target| {
            target
                .strip_prefix("method.response.header.")
                .is_some_and(|name| !declared.iter().any(|d| d == name))
        })
        .cloned()
        .collect()
}

/// Lookups into a snapshot by API id and name, and by resource id and path, built
/// once per diff so resolving N specs costs O(N), not O(N x resources).
struct Index<'a> {
    apis_by_id: HashMap<&'a str, &'a RestApiSummary>,
    apis_by_name: HashMap<&'a str, Vec<&'a RestApiSummary>>,
    /// Per API id: resources by id and by path.
    resources: HashMap<&'a str, ResourceIndex<'a>>,
}

#[derive(Default)]
struct ResourceIndex<'a> {
    by_id: HashMap<&'a str, &'a LiveResource>,
    by_path: HashMap<&'a str, &'a LiveResource>,
}

impl<'a> Index<'a> {
    fn new(live: &'a LiveSnapshot) -> Self {
        let mut index = Index {
            apis_by_id: HashMap::new(),
            apis_by_name: HashMap::new(),
            resources: HashMap::new(),
        };
        for api in &live.rest_apis {
            index.apis_by_id.insert(&api.id, api);
            index.apis_by_name.entry(&api.name).or_default().push(api);
        }
        for (api_id, resources) in &live.resources {
            let by = index.resources.entry(api_id).or_default();
            for r in resources {
                by.by_id.insert(&r.id, r);
                by.by_path.insert(&r.path, r);
            }
        }
        index
    }
}

/// Resolve a spec's API name/id and resource path/id against the snapshot.
/// `Ok(Err(action))` is a blocked action;
/// `Err` is an error that stops the whole plan.
fn resolve<'a>(
    spec: &'a Spec,
    live: &Index<'a>,
    options: &DiffOptions,
) -> Result<Result<Resolved<'a>, Action>, DiffError> {
    let written_api = match &spec.api {
        ApiRef::Id(id) | ApiRef::Name(id) => id.clone(),
    };
    let written_resource = match &spec.resource {
        ResourceRef::Id(id) | ResourceRef::Path(id) => id.clone(),
    };
    let blocked = |api_id: &str, resource_id: &str, reason: String| Action {
        kind: ActionKind::Blocked,
        key: Key {
            rest_api_id: api_id.to_owned(),
            resource_id: resource_id.to_owned(),
            http_method: spec.http_method.clone(),
            status_code: spec.status_code.clone(),
        },
        api_name: None,
        resource_path: None,
        desired: Some(spec.settings.clone()),
        live: None,
        reason: Some(reason),
        source: Some(spec.location.clone()),
    };

    let api = match &spec.api {
        ApiRef::Id(id) => live.apis_by_id.get(id.as_str()).copied(),
        ApiRef::Name(name) => {
            let matching = live
                .apis_by_name
                .get(name.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            if matching.len() > 1 {
                return Err(DiffError::AmbiguousApiName {
                    name: name.clone(),
                    ids: matching.iter().map(|a| a.id.clone()).collect(),
                    location: spec.location.clone(),
                });
            }
            matching.first().copied()
        }
    };
    let Some(api) = api else {
        return Ok(Err(blocked(
            &written_api,
            &written_resource,
            format!("no REST API with {} in this account and region", spec.api),
        )));
    };
    if !in_scope(api, options) {
        return Ok(Err(blocked(
            &api.id,
            &written_resource,
            format!(
                "REST API {} is not in the config's `restApis` list",
                label(api)
            ),
        )));
    }
    let resource = live
        .resources
        .get(api.id.as_str())
        .and_then(|by| match &spec.resource {
            ResourceRef::Id(id) => by.by_id.get(id.as_str()).copied(),
            ResourceRef::Path(path) => by.by_path.get(path.as_str()).copied(),
        });
    let Some(resource) = resource else {
        return Ok(Err(blocked(
            &api.id,
            &written_resource,
            format!(
                "REST API {} has no resource {}; create it first",
                label(api),
                spec.resource
            ),
        )));
    };
    if !resource.methods.contains_key(&spec.http_method) {
        let mut action = blocked(
            &api.id,
            &resource.id,
            format!(
                "{} {} has no {} method; create the method and its integration first (PutMethod, PutIntegration)",
                label(api),
                resource.path,
                spec.http_method
            ),
        );
        action.api_name = (!api.name.is_empty()).then(|| api.name.clone());
        action.resource_path = Some(resource.path.clone());
        return Ok(Err(action));
    }
    Ok(Ok(Resolved {
        spec,
        key: Key {
            rest_api_id: api.id.clone(),
            resource_id: resource.id.clone(),
            http_method: spec.http_method.clone(),
            status_code: spec.status_code.clone(),
        },
        api_name: (!api.name.is_empty()).then(|| api.name.clone()),
        resource,
    }))
}

#[cfg(test)]
mod tests;
