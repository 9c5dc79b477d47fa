//! Response tests (`kind: ResponseTest`): what a client would get from a method,
//! computed offline from the *desired* integration responses the way API Gateway
//! computes it (`simulate`), compared with what the test expects (`report`).
//!
//! A failing test makes the desired set invalid, exactly like a validation error, so
//! nothing reaches AWS that a test proves wrong; `apigw-reconciler test` prints each
//! test with its place and, on failure, the selected integration response and a diff.

mod report;
mod simulate;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use report::{Outcome, TestRun, run_all, run_all_within};
pub use simulate::{Response, Simulation, simulate};

use crate::desired::document::IntegrationKind;
use crate::desired::{ApiRef, Location, ResourceRef};

/// One validated `kind: ResponseTest` document.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseTest {
    pub name: String,
    pub location: Location,
    /// The API, resource and method, named as the integration responses name them.
    pub api: ApiRef,
    pub resource: ResourceRef,
    /// Upper case.
    pub http_method: String,
    pub integration: IntegrationKind,
    pub backend: Backend,
    pub request: Request,
    pub expect: Expect,
}

/// What the integration returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Backend {
    /// Lambda: the function failed with this message; `None` is a successful call.
    pub error_message: Option<String>,
    /// HTTP, AWS, MOCK: the backend's status code (200 when not given).
    pub status_code: Option<String>,
    pub headers: Vec<(String, String)>,
    pub multi_value_headers: Vec<(String, Vec<String>)>,
    pub body: Option<String>,
}

/// The client's request, as far as the response depends on it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    pub accept: Option<String>,
    pub context: serde_json::Map<String, serde_json::Value>,
    pub stage_variables: BTreeMap<String, String>,
    pub params: crate::vtl::Params,
}

/// What the client must get; `None`/empty parts are not compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    pub status_code: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub json: Option<serde_json::Value>,
}

impl ResponseTest {
    /// `restApiName MyDemoAPI /orders GET`: the method as the test names it.
    pub fn method_label(&self) -> String {
        format!("{} {} {}", self.api, self.resource, self.http_method)
    }
}

/// Shared, as the specs are.
pub type Tests = Vec<Arc<ResponseTest>>;
