//! An in-memory [`ApiGateway`] for unit tests of the core (diff, executor, cycle).
//! It enforces what API Gateway enforces for integration responses: the method and
//! its integration must exist, mapped headers must be declared, and a method has at
//! most one default response. The end-to-end tests use the real SDK instead.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    ApiError, ApiGateway, CallCounts, FailureKind, LiveMethod, LiveResource, LiveSnapshot,
    RestApiSummary,
};
use crate::model::{Key, Settings};

#[derive(Debug, Default)]
pub struct MemoryApiGateway {
    state: Mutex<LiveSnapshot>,
    /// Errors to return, once each, for writes to these keys.
    failures: Mutex<BTreeMap<Key, Vec<ApiError>>>,
    /// (api id, stage) of every deployment made.
    pub deployments: Mutex<Vec<(String, String)>>,
    /// (api id, stage) -> the description of the deployment the stage serves.
    pub stages: Mutex<BTreeMap<(String, String), String>>,
    /// Errors CreateDeployment returns, once each, before it succeeds again.
    pub deployment_failures: Mutex<Vec<ApiError>>,
    /// Every call made, as [`ApiGateway::call_counts`] reports it.
    calls: Mutex<CallCounts>,
}

impl MemoryApiGateway {
    pub fn new(state: LiveSnapshot) -> Self {
        MemoryApiGateway {
            state: Mutex::new(state),
            ..MemoryApiGateway::default()
        }
    }

    /// Make the next writes to `key` fail with these errors, in order.
    pub fn fail_next(&self, key: &Key, errors: Vec<ApiError>) {
        self.failures.lock().unwrap().insert(key.clone(), errors);
    }

    pub fn state(&self) -> LiveSnapshot {
        self.state.lock().unwrap().clone()
    }

    /// Count one call of `operation` and, when it failed, its failure.
    fn count<T>(&self, operation: &str, result: Result<T, ApiError>) -> Result<T, ApiError> {
        let mut calls = self.calls.lock().unwrap();
        *calls.by_operation.entry(operation.to_owned()).or_default() += 1;
        if let Err(e) = &result {
            let kind = e.status.map_or("other".to_owned(), |s| format!("http_{s}"));
            *calls.errors.entry(kind).or_default() += 1;
            if e.status == Some(429) {
                calls.throttled += 1;
            }
        }
        result
    }

    fn injected(&self, key: &Key) -> Option<ApiError> {
        let mut failures = self.failures.lock().unwrap();
        let queue = failures.get_mut(key)?;
        (!queue.is_empty()).then(|| queue.remove(0))
    }

    fn with_method<T>(
        &self,
        key: &Key,
        operation: &'static str,
        f: impl FnOnce(&mut LiveMethod) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if let Some(err) = self.injected(key) {
            return Err(err);
        }
        let not_found = |message: &str| ApiError {
            operation,
            target: key.to_string(),
            status: Some(404),
            code: Some("NotFoundException".into()),
            message: message.into(),
            kind: FailureKind::NotFound,
        };
        let mut state = self.state.lock().unwrap();
        let method = state
            .resources
            .get_mut(&key.rest_api_id)
            .and_then(|rs| rs.iter_mut().find(|r| r.id == key.resource_id))
            .and_then(|r| r.methods.get_mut(&key.http_method))
            .ok_or_else(|| not_found("Invalid Method identifier specified"))?;
        if !method.has_integration {
            return Err(not_found("Invalid Integration identifier specified"));
        }
        f(method)
    }
}

impl ApiGateway for MemoryApiGateway {
    fn call_counts(&self) -> CallCounts {
        self.calls.lock().unwrap().clone()
    }

    async fn rest_apis(&self) -> Result<Vec<RestApiSummary>, ApiError> {
        let apis = self.state.lock().unwrap().rest_apis.clone();
        self.count("GetRestApis", Ok(apis))
    }

    async fn resources(&self, rest_api_id: &str) -> Result<Vec<LiveResource>, ApiError> {
        let found = self
            .state
            .lock()
            .unwrap()
            .resources
            .get(rest_api_id)
            .cloned()
            .ok_or_else(|| ApiError {
                operation: "GetResources",
                target: format!("restApi {rest_api_id}"),
                status: Some(404),
                code: Some("NotFoundException".into()),
                message: "Invalid API identifier specified".into(),
                kind: FailureKind::NotFound,
            });
        self.count("GetResources", found)
    }

    async fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> Result<(), ApiError> {
        let result = self.with_method(key, "PutIntegrationResponse", |m| {
            // What API Gateway checks and moto does not: every mapped response header
            // is declared by the method response with the same status code.
            let declared = m.method_responses.get(&key.status_code);
            if let Some(target) = settings.response_parameters.keys().find(|target| {
                target
                    .strip_prefix("method.response.header.")
                    .is_some_and(|name| !declared.is_some_and(|d| d.iter().any(|h| h == name)))
            }) {
                return Err(ApiError {
                    operation: "PutIntegrationResponse",
                    target: key.to_string(),
                    status: Some(400),
                    code: Some("BadRequestException".into()),
                    message: format!(
                        "Invalid mapping expression specified: Validation Result: warnings : [], \
                         errors : [Invalid mapping expression parameter specified: {target}]"
                    ),
                    kind: FailureKind::Rejected,
                });
            }
            // One default response per method: a second is refused with 409
            // (reported by Terraform users against AWS; moto does not check).
            if settings.is_default()
                && m.integration_responses
                    .iter()
                    .any(|(code, s)| *code != key.status_code && s.is_default())
            {
                return Err(ApiError {
                    operation: "PutIntegrationResponse",
                    target: key.to_string(),
                    status: Some(409),
                    code: Some("ConflictException".into()),
                    message: "Integration response with selection pattern default already exists"
                        .into(),
                    kind: FailureKind::Rejected,
                });
            }
            m.integration_responses
                .insert(key.status_code.clone(), settings.normalized());
            Ok(())
        });
        self.count("PutIntegrationResponse", result)
    }

    async fn delete_integration_response(&self, key: &Key) -> Result<(), ApiError> {
        let result = self.with_method(key, "DeleteIntegrationResponse", |m| {
            m.integration_responses
                .remove(&key.status_code)
                .map(|_| ())
                .ok_or_else(|| ApiError {
                    operation: "DeleteIntegrationResponse",
                    target: key.to_string(),
                    status: Some(404),
                    code: Some("NotFoundException".into()),
                    message: "Invalid Response status code specified".into(),
                    kind: FailureKind::NotFound,
                })
        });
        self.count("DeleteIntegrationResponse", result)
    }

    async fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> Result<BTreeMap<String, Option<String>>, ApiError> {
        let found: BTreeMap<String, Option<String>> = self
            .stages
            .lock()
            .unwrap()
            .iter()
            .filter(|((api, stage), _)| api == rest_api_id && stages.contains(stage))
            .map(|((_, stage), description)| (stage.clone(), Some(description.clone())))
            .collect();
        // As the SDK client: GetStages, then GetDeployment for each stage asked about
        // that serves a deployment.
        self.count("GetStages", Ok(()))?;
        for _ in found.values().flatten() {
            self.count("GetDeployment", Ok(()))?;
        }
        Ok(found)
    }

    async fn create_deployment(
        &self,
        rest_api_id: &str,
        stage: &str,
        description: &str,
    ) -> Result<(), ApiError> {
        {
            let mut failures = self.deployment_failures.lock().unwrap();
            if !failures.is_empty() {
                let err = failures.remove(0);
                return self.count("CreateDeployment", Err(err));
            }
        }
        self.deployments
            .lock()
            .unwrap()
            .push((rest_api_id.to_owned(), stage.to_owned()));
        self.stages.lock().unwrap().insert(
            (rest_api_id.to_owned(), stage.to_owned()),
            description.to_owned(),
        );
        self.count("CreateDeployment", Ok(()))
    }
}

/// A method with an integration and method responses for `codes` (declaring no
/// headers), for fixtures.
pub fn method_with_responses(codes: &[&str]) -> LiveMethod {
    method_declaring(codes, &[])
}

/// A method with an integration and method responses for `codes`, each declaring the
/// response headers `headers`, for fixtures.
pub fn method_declaring(codes: &[&str], headers: &[&str]) -> LiveMethod {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    LiveMethod {
        has_integration: true,
        method_responses: codes
            .iter()
            .map(|c| (c.to_string(), headers.clone()))
            .collect(),
        integration_responses: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: &str) -> Key {
        Key {
            rest_api_id: "api1".into(),
            resource_id: "r1".into(),
            http_method: "GET".into(),
            status_code: code.into(),
        }
    }

    #[tokio::test]
    async fn every_call_is_counted_under_the_sdk_operation_name_failures_included() {
        let fake = MemoryApiGateway::new(LiveSnapshot {
            rest_apis: vec![RestApiSummary {
                id: "api1".into(),
                name: "Shop".into(),
            }],
            resources: [(
                "api1".to_owned(),
                vec![LiveResource {
                    id: "r1".into(),
                    path: "/".into(),
                    methods: [("GET".to_owned(), method_with_responses(&["200"]))].into(),
                }],
            )]
            .into(),
        });
        assert_eq!(fake.call_counts(), CallCounts::default());
        fake.rest_apis().await.unwrap();
        fake.resources("api1").await.unwrap();
        fake.resources("missing").await.unwrap_err();
        fake.put_integration_response(&key("200"), &Settings::default())
            .await
            .unwrap();
        fake.delete_integration_response(&key("200")).await.unwrap();
        fake.delete_integration_response(&key("200"))
            .await
            .unwrap_err();
        let stages = ["prod".to_owned(), "beta".to_owned()];
        fake.stage_deployments("api1", &stages).await.unwrap();
        fake.create_deployment("api1", "prod", "d").await.unwrap();
        fake.stage_deployments("api1", &stages).await.unwrap();
        let counts = fake.call_counts();
        let expect: BTreeMap<String, u64> = [
            ("GetRestApis", 1),
            ("GetResources", 2),
            ("PutIntegrationResponse", 1),
            ("DeleteIntegrationResponse", 2),
            // Two stage reads; only the second found a stage with a deployment.
            ("GetStages", 2),
            ("GetDeployment", 1),
            ("CreateDeployment", 1),
        ]
        .into_iter()
        .map(|(op, n)| (op.to_owned(), n))
        .collect();
        assert_eq!(counts.by_operation, expect);
        assert_eq!(counts.errors, [("http_404".to_owned(), 2)].into());
        assert_eq!(counts.throttled, 0);
    }
}
