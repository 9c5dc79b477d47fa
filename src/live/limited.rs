//! A client-side rate limiter in front of any [`ApiGateway`], so the daemon never
//! exceeds the account's quota by itself: one budget for every call
//! (`rateLimit.requestsPerSecond`, `burst`), GetResources' own (5 per 2 s) and
//! CreateDeployment's (1 per 5 s).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{ApiError, ApiGateway, CallCounts, LiveResource, RestApiSummary};
use crate::model::{Key, Settings};

pub struct RateLimited<C> {
    inner: C,
    all: DefaultDirectRateLimiter,
    get_resources: DefaultDirectRateLimiter,
    deployments: DefaultDirectRateLimiter,
}

fn quota(per_second: f64, burst: u32) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
    Quota::with_period(period)
        .expect("period is positive")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("burst is positive"))
}

impl<C: ApiGateway> RateLimited<C> {
    pub fn new(inner: C, requests_per_second: f64, burst: u32) -> Self {
        RateLimited {
            inner,
            all: RateLimiter::direct(quota(requests_per_second, burst)),
            get_resources: RateLimiter::direct(quota(2.5, 5)),
            deployments: RateLimiter::direct(quota(0.2, 1)),
        }
    }
}

impl<C: ApiGateway> ApiGateway for RateLimited<C> {
    fn call_counts(&self) -> CallCounts {
        self.inner.call_counts()
    }

    async fn rest_apis(&self) -> Result<Vec<RestApiSummary>, ApiError> {
        self.all.until_ready().await;
        self.inner.rest_apis().await
    }

    async fn resources(&self, rest_api_id: &str) -> Result<Vec<LiveResource>, ApiError> {
        self.get_resources.until_ready().await;
        self.all.until_ready().await;
        self.inner.resources(rest_api_id).await
    }

    async fn put_integration_response(
        &self,
        key: &Key,
        settings: &Settings,
    ) -> Result<(), ApiError> {
        self.all.until_ready().await;
        self.inner.put_integration_response(key, settings).await
    }

    async fn delete_integration_response(&self, key: &Key) -> Result<(), ApiError> {
        self.all.until_ready().await;
        self.inner.delete_integration_response(key).await
    }

    async fn stage_deployments(
        &self,
        rest_api_id: &str,
        stages: &[String],
    ) -> Result<std::collections::BTreeMap<String, Option<String>>, ApiError> {
        // GetStages, then one GetDeployment per stage: each costs from the budget.
        for _ in 0..=stages.len() {
            self.all.until_ready().await;
        }
        self.inner.stage_deployments(rest_api_id, stages).await
    }

    async fn create_deployment(
        &self,
        rest_api_id: &str,
        stage: &str,
        description: &str,
    ) -> Result<(), ApiError> {
        self.deployments.until_ready().await;
        self.all.until_ready().await;
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
        assert!(limited.all.check().is_ok(), "the fifth call fits the burst");
        assert!(
            limited.all.check().is_err(),
            "the sixth must wait for the rate"
        );
    }

    #[tokio::test]
    async fn create_deployment_has_a_budget_of_one() {
        let limited = RateLimited::new(MemoryApiGateway::default(), 100.0, 100);
        limited.create_deployment("a", "prod", "d").await.unwrap();
        assert!(
            limited.deployments.check().is_err(),
            "a second deployment must wait for the rate (1 per 5 s)"
        );
        assert!(limited.all.check().is_ok(), "other calls need not wait");
    }

    #[tokio::test]
    async fn get_resources_has_its_own_smaller_budget() {
        let limited = RateLimited::new(MemoryApiGateway::default(), 100.0, 100);
        for _ in 0..5 {
            let _ = limited.resources("a").await;
        }
        assert!(limited.get_resources.check().is_err());
        assert!(limited.all.check().is_ok());
    }
}
