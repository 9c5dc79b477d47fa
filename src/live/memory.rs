//! An in-memory [`ApiGateway`] for unit tests of the core (diff, executor, cycle).
//! It enforces what API Gateway enforces for integration responses: the method and
//! its integration must exist, and mapped headers must be declared. The end-to-end tests use the real SDK instead.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    ApiError, ApiGateway, FailureKind, LiveMethod, LiveResource, LiveSnapshot, RestApiSummary,
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
    async fn rest_apis(&self) -> Result<Vec<RestApiSummary>, ApiError> {
        Ok(self.state.lock().unwrap().rest_apis.clone())
    }

    async fn resources(&self, rest_api_id: &str) -> Result<Vec<LiveResource>, ApiError> {
        self.state
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
            })
    }

    async fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> Result<(), ApiError> {
        self.with_method(key, "PutIntegrationResponse", |m| {
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
            m.integration_responses
                .insert(key.status_code.clone(), settings.normalized());
            Ok(())
        })
    }

    async fn delete_integration_response(&self, key: &Key) -> Result<(), ApiError> {
        self.with_method(key, "DeleteIntegrationResponse", |m| {
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
        })
    }

    async fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> Result<BTreeMap<String, Option<String>>, ApiError> {
        Ok(self
            .stages
            .lock()
            .unwrap()
            .iter()
            .filter(|((api, stage), _)| api == rest_api_id && stages.contains(stage))
            .map(|((_, stage), description)| (stage.clone(), Some(description.clone())))
            .collect())
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
                return Err(failures.remove(0));
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
        Ok(())
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
