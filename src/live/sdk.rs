//! [`ApiGateway`] over `aws-sdk-apigateway`: client set-up (region, endpoint,
//! timeouts, the SDK's retries), pagination, error translation and call counting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_sdk_apigateway::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::types::ContentHandlingStrategy;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::ser_de::{DeserializeResponse, SharedResponseDeserializer};
use aws_smithy_types::body::SdkBody;

use super::{
    ApiError, ApiGateway, CallCounts, FailureKind, LiveMethod, LiveResource, RestApiSummary,
};
use crate::model::{Key, Settings};
use crate::vecmap::VecMap;

/// Page size for GetRestApis and GetResources (the API's maximum).
const PAGE_SIZE: i32 = 500;

/// Where and how to connect.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call made by the SDK's standard retry (throttling, 5xx, network).
    pub max_attempts: Option<u32>,
    pub connect_timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    /// Reach API Gateway through this role (its ARN and external id), assumed with
    /// the default credentials by the SDK's own provider, which caches the session
    /// and renews it before it expires. STS is reached at `endpoint_url` when set.
    pub assume_role: Option<(String, Option<String>)>,
}

/// Counts of the requests this client sent (see [`CallCounts`]).
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<Mutex<CallCounts>>);

impl CallCounter {
    /// A copy of the counts.
    pub fn snapshot(&self) -> CallCounts {
        self.0.lock().expect("counter lock").clone()
    }

    fn update(&self, f: impl FnOnce(&mut CallCounts)) {
        f(&mut self.0.lock().expect("counter lock"));
    }
}

/// Counts every attempt the SDK makes, and the throttled answers.
#[derive(Debug)]
struct CountAttempts(CallCounter);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "CountAttempts"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or("unknown", Metadata::name)
            .to_owned();
        self.0
            .update(|c| *c.by_operation.entry(operation).or_default() += 1);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.response().status().as_u16() == 429 {
            self.0.update(|c| c.throttled += 1);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = context.output_or_error() else {
            return Ok(());
        };
        let kind = match context.response().map(|r| r.status().as_u16()) {
            Some(status) if status >= 400 => format!("http_{status}"),
            Some(_) => "bad_response".to_owned(),
            None if error.is_timeout_error() => "timeout".to_owned(),
            None if error.is_connector_error() => "connection".to_owned(),
            None => "other".to_owned(),
        };
        self.0.update(|c| *c.errors.entry(kind).or_default() += 1);
        Ok(())
    }
}

/// API Gateway answers with `null` map values, which the SDK's strict parser refuses
/// ("dense map cannot contain null values"), failing the read of the whole API. A
/// passthrough template is the common case: PutIntegrationResponse with
/// `{"application/json": ""}` is answered, and later read, as `{"application/json": null}`
/// (LocalStack's snapshot `test_apigateway_api.py::TestApigatewayIntegration::
/// test_put_integration_response_templates`, key `put-integration-response-template-empty`,
/// recorded against AWS; replayed in `tests/aws_recorded.rs`). When a successful
/// response failed to parse, rewrite it and parse again: a null *template* becomes
/// `""`, a present key (a passthrough entry, which changes what a client's `Accept`
/// header selects); any other null member is dropped, since null and absent mean the
/// same for every other field.
#[derive(Debug)]
struct NullMapValues;

/// Maps whose values are templates: a null value there is a passthrough entry.
const TEMPLATE_MAPS: [&str; 2] = ["responseTemplates", "requestTemplates"];

fn rewrite_nulls(value: &mut serde_json::Value, templates: bool) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            let mut changed = false;
            if templates {
                for v in map.values_mut().filter(|v| v.is_null()) {
                    *v = serde_json::Value::String(String::new());
                    changed = true;
                }
            } else {
                let before = map.len();
                map.retain(|_, v| !v.is_null());
                changed = map.len() != before;
            }
            for (k, v) in map.iter_mut() {
                changed |= rewrite_nulls(v, TEMPLATE_MAPS.contains(&k.as_str()));
            }
            changed
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, v| rewrite_nulls(v, false) | acc),
        _ => false,
    }
}

impl Intercept for NullMapValues {
    fn name(&self) -> &'static str {
        "NullMapValues"
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // An error with a 2xx status is a response the SDK could not parse.
        if !matches!(context.output_or_error(), Some(Err(_))) {
            return Ok(());
        }
        let Some(response) = context.response_mut() else {
            return Ok(());
        };
        if !response.status().is_success() {
            return Ok(());
        }
        let Some(mut json) = response
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        else {
            return Ok(());
        };
        if !rewrite_nulls(&mut json, false) {
            return Ok(());
        }
        *response.body_mut() = SdkBody::from(json.to_string());
        let Some(deserializer) = cfg.load::<SharedResponseDeserializer>() else {
            return Ok(());
        };
        let reparsed = deserializer.deserialize_nonstreaming_with_config(response, cfg);
        if let Some(slot) = context.output_or_error_mut() {
            *slot = reparsed;
        }
        Ok(())
    }
}

/// The real client.
#[derive(Clone, Debug)]
pub struct SdkApiGateway {
    client: Client,
    calls: CallCounter,
    /// The region and default credentials (for [`SdkApiGateway::default_account`]).
    base: aws_config::SdkConfig,
}

impl SdkApiGateway {
    /// Build a client from the standard AWS credential and region chain plus `options`.
    pub async fn connect(options: &ConnectOptions) -> Result<SdkApiGateway, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard().with_max_attempts(options.max_attempts.unwrap_or(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(options.connect_timeout.unwrap_or(Duration::from_secs(5)))
                    .operation_attempt_timeout(
                        options.attempt_timeout.unwrap_or(Duration::from_secs(30)),
                    )
                    .build(),
            );
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(
                "no AWS region: set `region` in the config, pass --region, or set AWS_REGION"
                    .into(),
            );
        }
        let calls = CallCounter::default();
        let mut sdk_config = aws_sdk_apigateway::config::Builder::from(&config)
            .interceptor(CountAttempts(calls.clone()))
            .interceptor(NullMapValues);
        if let Some((role_arn, external_id)) = &options.assume_role {
            let mut role = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("apigw-reconciler")
                .configure(&config);
            if let Some(id) = external_id {
                role = role.external_id(id);
            }
            sdk_config = sdk_config.credentials_provider(role.build().await);
        }
        Ok(SdkApiGateway {
            client: Client::from_conf(sdk_config.build()),
            calls,
            base: config,
        })
    }

    /// The region the client was made for.
    pub fn region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    /// The account the default credentials belong to (STS GetCallerIdentity, which
    /// needs no permission), within `within`.
    pub async fn default_account(&self, within: Duration) -> Result<String, String> {
        let client = aws_sdk_sts::Client::new(&self.base);
        let call = client.get_caller_identity().send();
        match tokio::time::timeout(within, call).await {
            Err(_) => Err(format!(
                "STS GetCallerIdentity did not answer within {}",
                humantime::format_duration(within)
            )),
            Ok(Err(e)) => Err(format!(
                "STS GetCallerIdentity failed: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )),
            Ok(Ok(identity)) => identity
                .account()
                .map(str::to_owned)
                .ok_or_else(|| "STS GetCallerIdentity named no account".to_owned()),
        }
    }
}

fn api_error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    target: String,
    err: SdkError<E>,
) -> ApiError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (code, message) = match &err {
        SdkError::ServiceError(e) => (
            e.err().code().map(str::to_owned),
            e.err().message().unwrap_or("no message").to_owned(),
        ),
        SdkError::TimeoutError(_) => (None, "timed out".to_owned()),
        other => {
            let detail = aws_smithy_types::error::display::DisplayErrorContext(other).to_string();
            if detail.contains("credentials") {
                (
                    None,
                    format!(
                        "{}: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                         or run with an IAM role (details with -v or RUST_LOG=debug)",
                        super::NO_CREDENTIALS
                    ),
                )
            } else {
                (None, detail)
            }
        }
    };
    let kind = classify(code.as_deref(), status, &message);
    ApiError {
        operation,
        target,
        status,
        code,
        message,
        kind,
    }
}

/// How a failed call should be treated, from its error code, HTTP status and message.
fn classify(code: Option<&str>, status: Option<u16>, message: &str) -> FailureKind {
    match (code, status) {
        (Some("ConflictException"), _)
            if message.to_ascii_lowercase().contains("try again later") =>
        {
            FailureKind::RetryLater
        }
        (Some("NotFoundException"), _) | (_, Some(404)) => FailureKind::NotFound,
        (Some("TooManyRequestsException" | "LimitExceededException"), _) | (_, Some(429)) => {
            FailureKind::Throttled
        }
        (_, Some(400..=499)) => FailureKind::Rejected,
        _ => FailureKind::Other,
    }
}

fn sorted_map(map: Option<&HashMap<String, String>>) -> VecMap<String, String> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn to_live_resource(r: &aws_sdk_apigateway::types::Resource) -> LiveResource {
    let methods = r
        .resource_methods()
        .into_iter()
        .flatten()
        .map(|(name, m)| {
            let integration = m.method_integration();
            let method = LiveMethod {
                has_integration: integration.is_some(),
                method_responses: m
                    .method_responses()
                    .into_iter()
                    .flatten()
                    .map(|(code, response)| {
                        let mut headers: Vec<String> = response
                            .response_parameters()
                            .into_iter()
                            .flatten()
                            .filter_map(|(name, _required)| {
                                name.strip_prefix("method.response.header.")
                                    .map(str::to_owned)
                            })
                            .collect();
                        headers.sort();
                        (code.clone(), headers)
                    })
                    .collect(),
                integration_responses: integration
                    .and_then(|i| i.integration_responses())
                    .into_iter()
                    .flatten()
                    .map(|(code, ir)| {
                        let settings = Settings {
                            selection_pattern: ir.selection_pattern().map(str::to_owned),
                            response_parameters: sorted_map(ir.response_parameters()),
                            response_templates: sorted_map(ir.response_templates()),
                            content_handling: ir.content_handling().map(|c| c.as_str().to_owned()),
                        };
                        (code.clone(), settings)
                    })
                    .collect(),
            };
            (name.to_ascii_uppercase(), method)
        })
        .collect();
    LiveResource {
        id: r.id().unwrap_or_default().to_owned(),
        path: r.path().unwrap_or_default().to_owned(),
        methods,
    }
}

impl ApiGateway for SdkApiGateway {
    fn call_counts(&self) -> CallCounts {
        self.calls.snapshot()
    }

    async fn rest_apis(&self) -> Result<Vec<RestApiSummary>, ApiError> {
        let mut out = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let page = self
                .client
                .get_rest_apis()
                .limit(PAGE_SIZE)
                .set_position(position.clone())
                .send()
                .await
                .map_err(|e| api_error("GetRestApis", "(all REST APIs)".into(), e))?;
            out.extend(page.items().iter().map(|api| RestApiSummary {
                id: api.id().unwrap_or_default().to_owned(),
                name: api.name().unwrap_or_default().to_owned(),
            }));
            match page.position() {
                Some(next) if !next.is_empty() && Some(next) != position.as_deref() => {
                    position = Some(next.to_owned())
                }
                _ => return Ok(out),
            }
        }
    }

    async fn resources(&self, rest_api_id: &str) -> Result<Vec<LiveResource>, ApiError> {
        let mut out = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let page = self
                .client
                .get_resources()
                .rest_api_id(rest_api_id)
                .embed("methods")
                .limit(PAGE_SIZE)
                .set_position(position.clone())
                .send()
                .await
                .map_err(|e| api_error("GetResources", format!("restApi {rest_api_id}"), e))?;
            out.extend(page.items().iter().map(to_live_resource));
            match page.position() {
                Some(next) if !next.is_empty() && Some(next) != position.as_deref() => {
                    position = Some(next.to_owned())
                }
                _ => return Ok(out),
            }
        }
    }

    async fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> Result<(), ApiError> {
        // Send the normalised form: the default response has no pattern. Passthrough
        // entries go as `""` (API Gateway keeps the key and stores the value as null).
        let s = settings.normalized();
        let non_empty = |m: VecMap<String, String>| {
            (!m.is_empty()).then(|| m.into_iter().collect::<HashMap<_, _>>())
        };
        self.client
            .put_integration_response()
            .rest_api_id(&key.rest_api_id)
            .resource_id(&key.resource_id)
            .http_method(&key.http_method)
            .status_code(&key.status_code)
            .set_selection_pattern(s.selection_pattern)
            .set_response_parameters(non_empty(s.response_parameters))
            .set_response_templates(non_empty(s.response_templates))
            .set_content_handling(
                s.content_handling
                    .map(|c| ContentHandlingStrategy::from(c.as_str())),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("PutIntegrationResponse", key.to_string(), e))
    }

    async fn delete_integration_response(&self, key: &Key) -> Result<(), ApiError> {
        self.client
            .delete_integration_response()
            .rest_api_id(&key.rest_api_id)
            .resource_id(&key.resource_id)
            .http_method(&key.http_method)
            .status_code(&key.status_code)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("DeleteIntegrationResponse", key.to_string(), e))
    }

    async fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> Result<std::collections::BTreeMap<String, Option<String>>, ApiError> {
        let all = self
            .client
            .get_stages()
            .rest_api_id(rest_api_id)
            .send()
            .await
            .map_err(|e| api_error("GetStages", format!("restApi {rest_api_id}"), e))?;
        let mut out = std::collections::BTreeMap::new();
        for stage in all.item() {
            let Some(name) = stage.stage_name().filter(|n| stages.iter().any(|s| s == n)) else {
                continue;
            };
            let description = match stage.deployment_id().filter(|id| !id.is_empty()) {
                None => None,
                Some(id) => Some(
                    self.client
                        .get_deployment()
                        .rest_api_id(rest_api_id)
                        .deployment_id(id)
                        .send()
                        .await
                        .map_err(|e| {
                            api_error(
                                "GetDeployment",
                                format!("restApi {rest_api_id} stage {name} deployment {id}"),
                                e,
                            )
                        })?
                        .description()
                        .unwrap_or_default()
                        .to_owned(),
                ),
            };
            out.insert(name.to_owned(), description);
        }
        Ok(out)
    }

    async fn create_deployment(
        &self,
        rest_api_id: &str,
        stage: &str,
        description: &str,
    ) -> Result<(), ApiError> {
        self.client
            .create_deployment()
            .rest_api_id(rest_api_id)
            .stage_name(stage)
            .description(description)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                api_error(
                    "CreateDeployment",
                    format!("restApi {rest_api_id} stage {stage}"),
                    e,
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_templates_become_passthrough_entries_and_other_nulls_go() {
        let mut body = serde_json::json!({"items": [{"resourceMethods": {"GET": {
            "methodResponses": {"200": {"responseModels": {"application/json": null}}},
            "methodIntegration": {"requestTemplates": {"application/json": null},
                "integrationResponses": {"200": {"selectionPattern": null,
                    "responseTemplates": {"application/json": null, "text/html": "<p/>"}}}}}}}]});
        assert!(rewrite_nulls(&mut body, false));
        let method = &body["items"][0]["resourceMethods"]["GET"];
        let ir = &method["methodIntegration"]["integrationResponses"]["200"];
        assert_eq!(
            ir["responseTemplates"],
            serde_json::json!({"application/json": "", "text/html": "<p/>"})
        );
        assert!(ir.get("selectionPattern").is_none());
        assert_eq!(
            method["methodIntegration"]["requestTemplates"]["application/json"],
            ""
        );
        assert_eq!(
            method["methodResponses"]["200"]["responseModels"],
            serde_json::json!({})
        );
        assert!(!rewrite_nulls(&mut body, false), "nothing left to rewrite");
    }

    #[test]
    fn failures_are_classified_for_retrying() {
        let later =
            "Unable to complete operation due to concurrent modification. Please try again later.";
        assert_eq!(
            classify(Some("ConflictException"), Some(409), later),
            FailureKind::RetryLater
        );
        assert_eq!(
            classify(Some("ConflictException"), Some(409), "Conflict"),
            FailureKind::Rejected
        );
        assert_eq!(
            classify(Some("BadRequestException"), Some(400), "Invalid"),
            FailureKind::Rejected
        );
        assert_eq!(
            classify(Some("AccessDeniedException"), Some(403), "no"),
            FailureKind::Rejected
        );
        assert_eq!(
            classify(Some("NotFoundException"), Some(404), "gone"),
            FailureKind::NotFound
        );
        assert_eq!(
            classify(Some("LimitExceededException"), Some(429), "quota"),
            FailureKind::Throttled
        );
        assert_eq!(
            classify(Some("TooManyRequestsException"), Some(429), "slow"),
            FailureKind::Throttled
        );
        assert_eq!(classify(None, Some(503), "unavailable"), FailureKind::Other);
        assert_eq!(classify(None, None, "connection reset"), FailureKind::Other);
    }
}
