//! The live state of API Gateway and the only door to it.
//!
//! [`ApiGateway`] is the small trait the rest of the crate talks to; [`sdk`] implements
//! it with `aws-sdk-apigateway` (the only module that touches the SDK) and [`memory`]
//! is an in-memory stand-in for fast unit tests of the pure core.

pub mod limited;
pub mod memory;
pub mod sdk;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;

use crate::model::{Key, Settings};
use crate::vecmap::VecMap;

/// One REST API as GetRestApis lists it (`name` is empty when the API was read by
/// id without listing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestApiSummary {
    pub id: String,
    pub name: String,
}

/// One resource of an API, with the parts of its methods we depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveResource {
    pub id: String,
    pub path: String,
    pub methods: VecMap<String, LiveMethod>,
}

/// A method: whether it has an integration, its method responses and its integration
/// responses by status code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveMethod {
    pub has_integration: bool,
    /// Status code -> the header names the method response declares (its
    /// `method.response.header.<name>` response parameters, without the prefix).
    pub method_responses: VecMap<String, Vec<String>>,
    pub integration_responses: VecMap<String, Settings>,
}

/// What one fetch saw: all REST APIs (for name resolution) and the resources of the
/// APIs the desired set refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    pub rest_apis: Vec<RestApiSummary>,
    pub resources: BTreeMap<String, Vec<LiveResource>>,
}

/// How an API call failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// `ConflictException` saying "try again later": retry with backoff.
    RetryLater,
    /// The thing is not there (404 `NotFoundException`).
    NotFound,
    /// Throttled even after the SDK's own retries.
    Throttled,
    /// Refused for good (400 BadRequest, a plain 409 Conflict, 401/403): retrying the
    /// same request cannot help until the spec or the account changes.
    Rejected,
    /// Anything else: bad request, access denied, server error, network.
    Other,
}

/// A failed API call, with everything a person needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub operation: &'static str,
    /// The API, resource, method and status the call was about.
    pub target: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub kind: FailureKind,
}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} failed", self.operation, self.target)?;
        if let Some(status) = self.status {
            write!(f, ": HTTP {status}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        write!(f, ": {}", self.message)?;
        let hint = match (self.kind, self.status) {
            (FailureKind::Throttled, _) => {
                "; the account's API Gateway quota is exhausted: lower rateLimit or retry later"
            }
            (_, Some(401 | 403)) => {
                "; check the credentials and that the IAM policy allows this action (deploy/iam-policy.json)"
            }
            (FailureKind::NotFound, _) => {
                "; it was removed or renamed since it was read: the next cycle will see it"
            }
            (_, Some(400)) => {
                "; API Gateway refused the values: fix the spec (not retried until it changes, or on SIGHUP / POST /reconcile)"
            }
            (_, None) if self.message.starts_with(NO_CREDENTIALS) => "",
            (_, None) => "; check the network, the region and endpointUrl",
            _ => "",
        };
        f.write_str(hint)
    }
}

/// How an error without credentials starts (its own advice follows).
pub const NO_CREDENTIALS: &str = "no usable AWS credentials";

/// HTTP requests sent to API Gateway, by operation name (retries included: each
/// attempt costs quota), and how many were answered with 429.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub by_operation: BTreeMap<String, u64>,
    pub throttled: u64,
    /// Failed attempts by kind: `http_<status>`, `timeout`, `connection`,
    /// `bad_response` (a 2xx answer that could not be read), `other`.
    pub errors: BTreeMap<String, u64>,
}

/// The API Gateway operations the reconciler needs, and nothing else.
pub trait ApiGateway: Send + Sync {
    /// Requests made so far (clients that do not count report none).
    fn call_counts(&self) -> CallCounts {
        CallCounts::default()
    }
    /// All REST APIs of the account and region (all pages).
    fn rest_apis(&self) -> impl Future<Output = Result<Vec<RestApiSummary>, ApiError>> + Send;
    /// All resources of one API with their methods embedded (all pages).
    fn resources(
        &self,
        rest_api_id: &str,
    ) -> impl Future<Output = Result<Vec<LiveResource>, ApiError>> + Send;
    /// Create or fully replace one integration response.
    fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Delete one integration response.
    fn delete_integration_response(
        &self,
        key: &Key,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// For each of `stages` that exists, the description of the deployment it serves
    /// (`None` when it has no deployment); stages that do not exist are left out.
    fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, Option<String>>, ApiError>> + Send;
    /// Deploy the API's current state to `stage` (creating the stage if needed).
    fn create_deployment(
        &self,
        rest_api_id: &str,
        stage: &str,
        description: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// How many APIs' resources are read at once (the rate limiter still paces them).
const CONCURRENT_API_READS: usize = 4;

/// Which APIs a fetch reads.
pub enum ApiQuery<F> {
    /// These ids; no GetRestApis call (an id that does not exist is left out).
    Ids(BTreeSet<String>),
    /// List all APIs (names must be resolved), then read those `F` picks.
    Listed(F),
}

/// Read the resources of the APIs `query` selects, several APIs at a time.
pub async fn fetch<C, F>(client: &C, query: ApiQuery<F>) -> Result<LiveSnapshot, ApiError>
where
    C: ApiGateway,
    F: FnOnce(&[RestApiSummary]) -> BTreeSet<String>,
{
    use futures_util::stream::{self, StreamExt, TryStreamExt};

    let (rest_apis, ids, listed) = match query {
        ApiQuery::Ids(ids) => (Vec::new(), ids, false),
        ApiQuery::Listed(pick) => {
            let apis = client.rest_apis().await?;
            let ids = pick(&apis);
            (apis, ids, true)
        }
    };
    let read: Vec<(String, Option<Vec<LiveResource>>)> = stream::iter(ids)
        .map(|id| async move {
            match client.resources(&id).await {
                Ok(items) => Ok((id, Some(items))),
                // Without the list, a missing API shows up here: leave it out and let
                // the diff report the specs naming it as blocked.
                Err(e) if !listed && e.kind == FailureKind::NotFound => Ok((id, None)),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(CONCURRENT_API_READS)
        .try_collect()
        .await?;
    let mut snapshot = LiveSnapshot {
        rest_apis,
        resources: BTreeMap::new(),
    };
    for (id, items) in read {
        let Some(items) = items else { continue };
        if !listed {
            snapshot.rest_apis.push(RestApiSummary {
                id: id.clone(),
                name: String::new(),
            });
        }
        snapshot.resources.insert(id, items);
    }
    snapshot.rest_apis.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(snapshot)
}
