//! Stage redeploys: integration-response changes reach clients only after a new
//! deployment of a stage. With `deployments` in the config, every cycle that changed
//! an API deploys each stage listed for it, once per cycle (coalesced), paced by the
//! CreateDeployment quota (1 per 5 s, in `live::limited`), never when nothing changed.

use std::collections::BTreeSet;

use crate::config::Deployment;
use crate::live::{ApiError, ApiGateway, LiveSnapshot};

/// One stage to deploy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StageDeployment {
    pub rest_api_id: String,
    /// The API's name when it was read.
    pub api_name: Option<String>,
    pub stage: String,
    pub description: String,
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

/// The configured stages of the APIs whose ids are in `changed`; a deployment entry
/// names its API by id or by name.
pub fn stages_for(
    deployments: &[Deployment],
    changed: &BTreeSet<&str>,
    live: &LiveSnapshot,
) -> Vec<StageDeployment> {
    let mut out = BTreeSet::new();
    for id in changed {
        let name = live
            .rest_apis
            .iter()
            .find(|a| a.id == *id && !a.name.is_empty())
            .map(|a| a.name.clone());
        for d in deployments {
            if d.rest_api == *id || Some(&d.rest_api) == name.as_ref() {
                out.insert(StageDeployment {
                    rest_api_id: id.to_string(),
                    api_name: name.clone(),
                    stage: d.stage.clone(),
                    description: d
                        .description
                        .clone()
                        .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
                });
            }
        }
    }
    out.into_iter().collect()
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

    #[test]
    fn stages_of_changed_apis_by_id_or_name_once_each() {
        let live = LiveSnapshot {
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
            ..LiveSnapshot::default()
        };
        let d = |api: &str, stage: &str| Deployment {
            rest_api: api.into(),
            stage: stage.into(),
            description: None,
        };
        let deployments = [
            d("Shop", "prod"),
            d("a1", "prod"),
            d("a1", "beta"),
            d("Billing", "prod"),
        ];
        let stages = stages_for(&deployments, &BTreeSet::from(["a1"]), &live);
        let names: Vec<String> = stages.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["stage beta of Shop (a1)", "stage prod of Shop (a1)"]
        );
        assert!(
            stages_for(&deployments, &BTreeSet::new(), &live).is_empty(),
            "nothing changed"
        );
    }
}
