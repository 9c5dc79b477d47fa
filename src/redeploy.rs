//! Stage redeploys: integration-response changes reach clients only after a new
//! deployment of a stage. With `deployments` in the config, a stage is deployed when
//! the deployment it serves was not made from the API's current managed integration
//! responses, whoever wrote them and whenever.
//!
//! Stateless and crash-safe: each deployment's description carries a digest of the
//! managed integration responses it was made from (`apigw-reconciler state <digest>`),
//! and every cycle compares that stamp, read back from the stage, with the digest of
//! what is live after the cycle's writes. A write whose deployment never happened
//! (a crash, a failed CreateDeployment) leaves the stamp behind, so the next run, even
//! a fresh process, deploys the stage exactly once. Pacing (1 per 5 s) is in
//! `live::limited`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::config::Deployment;
use crate::diff::{Action, ActionKind};
use crate::live::{ApiError, ApiGateway, LiveResource, LiveSnapshot};
use crate::model::Settings;

/// A method the specs manage: (REST API id, resource id, HTTP method).
pub type MethodKey = (String, String, String);

/// Per REST API id, per stage name: the description of the deployment the stage
/// serves (`None` when it has none). Stages that do not exist are absent.
pub type StageStamps = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// One stage to deploy, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StageDeployment {
    pub rest_api_id: String,
    /// The API's name when it was read.
    pub api_name: Option<String>,
    pub stage: String,
    /// The deployment's description: the configured text and the state stamp.
    pub description: String,
    pub reason: String,
}

impl std::fmt::Display for StageDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.api_name {
            Some(name) => write!(f, "stage {} of {name} ({})", self.stage, self.rest_api_id),
            None => write!(f, "stage {} of {}", self.stage, self.rest_api_id),
        }
    }
}

const DEFAULT_DESCRIPTION: &str = "apigw-reconciler: integration responses changed";

/// What precedes the digest in a deployment's description.
const STAMP: &str = "apigw-reconciler state ";

/// The configured stages of the APIs that were read (those a spec names), by API id;
/// a deployment entry names its API by id or by name.
pub fn configured<'a>(
    deployments: &'a [Deployment],
    live: &LiveSnapshot,
) -> BTreeMap<String, Vec<&'a Deployment>> {
    let mut out: BTreeMap<String, Vec<&Deployment>> = BTreeMap::new();
    for id in live.resources.keys() {
        let name = live
            .rest_apis
            .iter()
            .find(|a| &a.id == id && !a.name.is_empty())
            .map(|a| a.name.as_str());
        for d in deployments {
            if d.rest_api == *id || Some(d.rest_api.as_str()) == name {
                out.entry(id.clone()).or_default().push(d);
            }
        }
    }
    out
}

/// The digest of an API's integration responses on managed methods, as they are
/// after `applied` (the writes that succeeded, or in a plan those that would run).
/// FNV-1a over a canonical, length-prefixed text: stable across versions and runs.
pub fn digest(
    api_id: &str,
    resources: &[LiveResource],
    managed: &BTreeSet<MethodKey>,
    applied: &[&Action],
) -> String {
    let mut state: BTreeMap<(&str, &str, &str), &Settings> = BTreeMap::new();
    for r in resources {
        for (method, m) in &r.methods {
            if !managed.contains(&(api_id.to_owned(), r.id.clone(), method.clone())) {
                continue;
            }
            for (status, settings) in &m.integration_responses {
                state.insert((&r.id, method, status), settings);
            }
        }
    }
    for a in applied.iter().filter(|a| a.key.rest_api_id == api_id) {
        let k = (
            a.key.resource_id.as_str(),
            a.key.http_method.as_str(),
            a.key.status_code.as_str(),
        );
        match (a.kind, &a.desired) {
            (ActionKind::Create | ActionKind::Update, Some(desired)) => {
                state.insert(k, desired);
            }
            (ActionKind::Delete, _) => {
                state.remove(&k);
            }
            _ => {}
        }
    }
    let mut text = String::new();
    let mut field = |s: &str| {
        let _ = write!(text, "{}:{s};", s.len());
    };
    for ((resource, method, status), settings) in state {
        let s = settings.normalized();
        field(resource);
        field(method);
        field(status);
        field(s.selection_pattern.as_deref().unwrap_or("\0default"));
        field(s.content_handling.as_deref().unwrap_or("\0none"));
        for (name, map) in [("p", &s.response_parameters), ("t", &s.response_templates)] {
            field(name);
            field(&map.len().to_string());
            for (k, v) in map {
                field(k);
                field(v);
            }
        }
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The digest a deployment description is stamped with, if any.
pub fn stamp_of(description: &str) -> Option<&str> {
    let (_, rest) = description.rsplit_once(STAMP)?;
    let digest = rest.get(..16)?;
    digest
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then_some(digest)
}

/// The configured stages whose deployment does not carry the digest of what is live
/// after `applied`.
pub fn due(
    deployments: &[Deployment],
    live: &LiveSnapshot,
    stamps: &StageStamps,
    managed: &BTreeSet<MethodKey>,
    applied: &[&Action],
) -> Vec<StageDeployment> {
    let mut out = BTreeSet::new();
    for (api_id, entries) in configured(deployments, live) {
        let resources = live.resources.get(&api_id).map_or(&[][..], Vec::as_slice);
        let now = digest(&api_id, resources, managed, applied);
        let name = live
            .rest_apis
            .iter()
            .find(|a| a.id == api_id && !a.name.is_empty())
            .map(|a| a.name.clone());
        let stages = stamps.get(&api_id);
        for d in entries {
            let reason = match stages.and_then(|s| s.get(&d.stage)) {
                None => "the stage does not exist yet".to_owned(),
                Some(None) => "the stage has no deployment".to_owned(),
                Some(Some(description)) => match stamp_of(description) {
                    Some(stamped) if stamped == now => continue,
                    Some(_) => "its deployment predates the current integration responses".to_owned(),
                    None => "its deployment was not made by apigw-reconciler, so it may predate the current integration responses".to_owned(),
                },
            };
            let base = d.description.as_deref().unwrap_or(DEFAULT_DESCRIPTION);
            out.insert(StageDeployment {
                rest_api_id: api_id.clone(),
                api_name: name.clone(),
                stage: d.stage.clone(),
                description: format!("{base} ({STAMP}{now})"),
                reason,
            });
        }
    }
    out.into_iter().collect()
}

/// Read the stamps of the configured stages of the APIs that were read: one GetStages
/// per such API and one GetDeployment per existing configured stage.
pub async fn read_stamps<C: ApiGateway>(
    client: &C,
    deployments: &[Deployment],
    live: &LiveSnapshot,
) -> Result<StageStamps, ApiError> {
    let mut stamps = StageStamps::new();
    for (api_id, entries) in configured(deployments, live) {
        let stages: Vec<String> = entries.iter().map(|d| d.stage.clone()).collect();
        let read = client.stage_deployments(&api_id, &stages).await?;
        stamps.insert(api_id, read);
    }
    Ok(stamps)
}

/// Deploy each stage; one failure does not stop the others.
pub async fn redeploy<C: ApiGateway>(
    client: &C,
    stages: &[StageDeployment],
) -> Vec<(StageDeployment, Result<(), ApiError>)> {
    let mut results = Vec::new();
    for stage in stages {
        let result = client
            .create_deployment(&stage.rest_api_id, &stage.stage, &stage.description)
            .await;
        match &result {
            Ok(()) => tracing::info!("deployed {stage}"),
            Err(e) => tracing::warn!("could not deploy {stage}: {e}"),
        }
        results.push((stage.clone(), result));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::RestApiSummary;
    use crate::live::memory::method_with_responses;
    use crate::model::Key;

    fn live() -> LiveSnapshot {
        let mut get = method_with_responses(&["200"]);
        get.integration_responses
            .insert("200".into(), Settings::default());
        let resource = LiveResource {
            id: "r1".into(),
            path: "/orders".into(),
            methods: [("GET".to_owned(), get)].into(),
        };
        LiveSnapshot {
            rest_apis: vec![
                RestApiSummary {
                    id: "a1".into(),
                    name: "Shop".into(),
                },
                RestApiSummary {
                    id: "b2".into(),
                    name: "Billing".into(),
                },
            ],
            resources: BTreeMap::from([("a1".to_owned(), vec![resource])]),
        }
    }

    fn d(api: &str, stage: &str) -> Deployment {
        Deployment {
            rest_api: api.into(),
            stage: stage.into(),
            description: None,
        }
    }

    fn managed() -> BTreeSet<MethodKey> {
        BTreeSet::from([("a1".to_owned(), "r1".to_owned(), "GET".to_owned())])
    }

    fn update(template: &str) -> Action {
        Action {
            kind: ActionKind::Update,
            key: Key {
                rest_api_id: "a1".into(),
                resource_id: "r1".into(),
                http_method: "GET".into(),
                status_code: "200".into(),
            },
            api_name: None,
            resource_path: None,
            desired: Some(Settings {
                response_templates: [("application/json".to_owned(), template.to_owned())].into(),
                ..Settings::default()
            }),
            live: None,
            reason: None,
            source: None,
        }
    }

    #[test]
    fn stages_of_read_apis_by_id_or_name_once_each() {
        let deployments = [
            d("Shop", "prod"),
            d("a1", "prod"),
            d("a1", "beta"),
            d("Billing", "prod"),
        ];
        let due = due(&deployments, &live(), &StageStamps::new(), &managed(), &[]);
        let names: Vec<String> = due.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["stage beta of Shop (a1)", "stage prod of Shop (a1)"]
        );
        assert!(
            due.iter()
                .all(|s| s.reason == "the stage does not exist yet")
        );
        assert!(due[0].description.starts_with(DEFAULT_DESCRIPTION));
    }

    #[test]
    fn a_stage_stamped_with_the_current_digest_is_not_deployed_again() {
        let deployments = [d("Shop", "prod")];
        let first = due(&deployments, &live(), &StageStamps::new(), &managed(), &[]);
        assert_eq!(first.len(), 1);
        let stamps = StageStamps::from([(
            "a1".to_owned(),
            BTreeMap::from([("prod".to_owned(), Some(first[0].description.clone()))]),
        )]);
        assert!(due(&deployments, &live(), &stamps, &managed(), &[]).is_empty());
        // A write that succeeded changes the digest: deployed again, once.
        let w = update("{}");
        let again = due(&deployments, &live(), &stamps, &managed(), &[&w]);
        assert_eq!(again.len(), 1);
        assert_eq!(
            again[0].reason,
            "its deployment predates the current integration responses"
        );
        assert_ne!(again[0].description, first[0].description);
    }

    #[test]
    fn a_deployment_not_made_by_us_is_replaced_once() {
        let stamps = StageStamps::from([(
            "a1".to_owned(),
            BTreeMap::from([("prod".to_owned(), Some("terraform".to_owned()))]),
        )]);
        let due = due(&[d("a1", "prod")], &live(), &stamps, &managed(), &[]);
        assert_eq!(due.len(), 1);
        assert!(
            due[0].reason.contains("not made by apigw-reconciler"),
            "{}",
            due[0].reason
        );
    }

    #[test]
    fn the_digest_covers_managed_methods_only_and_every_field() {
        let base = digest("a1", &live().resources["a1"], &managed(), &[]);
        assert_eq!(base.len(), 16);
        assert_eq!(stamp_of(&format!("x ({STAMP}{base})")), Some(base.as_str()));
        assert_eq!(stamp_of("x (apigw-reconciler state nothex!!!!!!!!!)"), None);
        // Unmanaged methods do not count.
        assert_ne!(
            base,
            digest("a1", &live().resources["a1"], &BTreeSet::new(), &[])
        );
        let (a, b, passthrough) = (update("{}"), update("{ }"), update(""));
        let digests: BTreeSet<String> = [&a, &b, &passthrough]
            .iter()
            .map(|w| digest("a1", &live().resources["a1"], &managed(), &[w]))
            .chain([base.clone()])
            .collect();
        assert_eq!(digests.len(), 4, "every change gives another digest");
        let mut delete = update("");
        delete.kind = ActionKind::Delete;
        assert_ne!(
            digest("a1", &live().resources["a1"], &managed(), &[&delete]),
            base
        );
        assert_eq!(
            digest("a1", &live().resources["a1"], &managed(), &[]),
            base,
            "stable"
        );
    }
}
