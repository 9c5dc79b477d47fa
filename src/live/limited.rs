//! A client-side rate limiter in front of any [`ApiGateway`], so the daemon never
//! exceeds the account's quota by itself: one budget for every call
//! (`rateLimit.requestsPerSecond`, `burst`), GetResources' own (5 per 2 s) and
//! CreateDeployment's (1 per 5 s).
//!
//! API Gateway's quotas are per account and region, so the budget is too: clients of
//! targets in one account and region share one [`Budget`] ([`Budgets`] hands it out),
//! and targets elsewhere have their own.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{ApiError, ApiGateway, CallCounts, LiveResource, RestApiSummary};
use crate::model::{Key, Settings};

pub struct RateLimited<C> {
    inner: C,
    budget: Arc<Budget>,
}

/// The request budget of one account and region: every call, GetResources' own and
/// CreateDeployment's.
pub struct Budget {
    all: DefaultDirectRateLimiter,
    get_resources: DefaultDirectRateLimiter,
    deployments: DefaultDirectRateLimiter,
    /// `rateLimit` as this budget was made with.
    pub requests_per_second: f64,
    pub burst: u32,
}

impl Budget {
    pub fn new(requests_per_second: f64, burst: u32) -> Self {
        Budget {
            all: RateLimiter::direct(quota(requests_per_second, burst)),
            get_resources: RateLimiter::direct(quota(2.5, 5)),
            deployments: RateLimiter::direct(quota(0.2, 1)),
            requests_per_second,
            burst,
        }
    }
}

/// Where a quota applies: the endpoint (an emulator, or AWS's own), the region and
/// the account (or, when the default credentials' account is unknown, those
/// credentials).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub endpoint: Option<String>,
    pub region: String,
    pub account: String,
}

/// One [`Budget`] per [`Scope`], made with the strictest `rateLimit` any target of the
/// scope asks for (they share the account's quota, so the most careful one wins).
#[derive(Default)]
pub struct Budgets {
    budgets: BTreeMap<Scope, Arc<Budget>>,
}

impl Budgets {
    /// The budgets for these wishes: each a scope and the `rateLimit` asked for there.
    pub fn new(wishes: impl IntoIterator<Item = (Scope, f64, u32)>) -> Self {
        let mut strictest = BTreeMap::<Scope, (f64, u32)>::new();
        for (scope, rate, burst) in wishes {
            let e = strictest.entry(scope).or_insert((rate, burst));
            *e = (e.0.min(rate), e.1.min(burst));
        }
        Budgets {
            budgets: strictest
                .into_iter()
                .map(|(scope, (rate, burst))| (scope, Arc::new(Budget::new(rate, burst))))
                .collect(),
        }
    }

    /// The budget of `scope` (a new one, unshared, for a scope not wished for).
    pub fn get(&self, scope: &Scope, rate: f64, burst: u32) -> Arc<Budget> {
        self.budgets
            .get(scope)
            .cloned()
            .unwrap_or_else(|| Arc::new(Budget::new(rate, burst)))
    }
}

fn quota(per_second: f64, burst: u32) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
    Quota::with_period(period)
        .expect("period is positive")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("burst is positive"))
}

impl<C: ApiGateway> RateLimited<C> {
    /// A client with a budget of its own.
    pub fn new(inner: C, requests_per_second: f64, burst: u32) -> Self {
        Self::sharing(inner, Arc::new(Budget::new(requests_per_second, burst)))
    }

    /// A client spending from `budget`, which other clients may share.
    pub fn sharing(inner: C, budget: Arc<Budget>) -> Self {
        RateLimited { inner, budget }
    }

    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C: ApiGateway> ApiGateway for RateLimited<C> {
    fn call_counts(&self) -> CallCounts {
        self.inner.call_counts()
    }

    async fn rest_apis(&self) -> Result<Vec<RestApiSummary>, ApiError> {
        self.budget.all.until_ready().await;
        self.inner.rest_apis().await
    }

    async fn resources(&self, rest_api_id: &str) -> Result<Vec<LiveResource>, ApiError> {
        self.budget.get_resources.until_ready().await;
        self.budget.all.until_ready().await;
        self.inner.resources(rest_api_id).await
    }

    async fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> Result<(), ApiError> {
        self.budget.all.until_ready().await;
        self.inner.put_integration_response(key, settings).await
    }

    async fn delete_integration_response(&self, key: &Key) -> Result<(), ApiError> {
        self.budget.all.until_ready().await;
        self.inner.delete_integration_response(key).await
    }

    async fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> Result<std::collections::BTreeMap<String, Option<String>>, ApiError> {
        // GetStages, then one GetDeployment per stage: each costs from the budget.
        for _ in 0..=stages.len() {
            self.budget.all.until_ready().await;
        }
        self.inner.stage_deployments(rest_api_id, stages).await
    }

    async fn create_deployment(
        &self,
        rest_api_id: &str,
        stage: &str,
        description: &str,
    ) -> Result<(), ApiError> {
        self.budget.deployments.until_ready().await;
        self.budget.all.until_ready().await;
        self.inner
            .create_deployment(rest_api_id, stage, description)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::memory::MemoryApiGateway;

    #[tokio::test]
    async fn the_burst_is_spent_then_calls_must_wait() {
        let limited = RateLimited::new(MemoryApiGateway::default(), 0.01, 5);
        for _ in 0..4 {
            limited.rest_apis().await.unwrap();
        }
        assert!(
            limited.budget.all.check().is_ok(),
            "the fifth call fits the burst"
        );
        assert!(
            limited.budget.all.check().is_err(),
            "the sixth must wait for the rate"
        );
    }

    #[tokio::test]
    async fn create_deployment_has_a_budget_of_one() {
        let limited = RateLimited::new(MemoryApiGateway::default(), 100.0, 100);
        limited.create_deployment("a", "prod", "d").await.unwrap();
        assert!(
            limited.budget.deployments.check().is_err(),
            "a second deployment must wait for the rate (1 per 5 s)"
        );
        assert!(
            limited.budget.all.check().is_ok(),
            "other calls need not wait"
        );
    }

    #[tokio::test]
    async fn get_resources_has_its_own_smaller_budget() {
        let limited = RateLimited::new(MemoryApiGateway::default(), 100.0, 100);
        for _ in 0..5 {
            let _ = limited.resources("a").await;
        }
        assert!(limited.budget.get_resources.check().is_err());
        assert!(limited.budget.all.check().is_ok());
    }

    #[tokio::test]
    async fn clients_of_one_scope_share_a_budget_made_with_the_strictest_wish() {
        let scope = |region: &str| Scope {
            endpoint: None,
            region: region.into(),
            account: "123456789012".into(),
        };
        let budgets = Budgets::new([
            (scope("us-east-1"), 5.0, 10),
            (scope("us-east-1"), 8.0, 2),
            (scope("eu-west-1"), 0.01, 1),
        ]);
        let us = budgets.get(&scope("us-east-1"), 100.0, 100);
        assert_eq!((us.requests_per_second, us.burst), (5.0, 2));
        let a = RateLimited::sharing(MemoryApiGateway::default(), us.clone());
        let b = RateLimited::sharing(MemoryApiGateway::default(), us);
        a.rest_apis().await.unwrap();
        b.rest_apis().await.unwrap();
        assert!(
            a.budget.all.check().is_err(),
            "two calls, one from each client, spent the shared burst of 2"
        );
        let eu = RateLimited::sharing(
            MemoryApiGateway::default(),
            budgets.get(&scope("eu-west-1"), 100.0, 100),
        );
        assert!(eu.budget.all.check().is_ok(), "another region has its own");
    }
}
