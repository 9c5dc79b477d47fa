//! Response tests (`kind: ResponseTest`): what a client would get from a method,
//! computed offline from the *desired* integration responses the way API Gateway
//! computes it (`simulate`), compared with what the test expects (`report`).
//!
//! A failing test makes the desired set invalid, exactly like a validation error, so
//! nothing reaches AWS that a test proves wrong; `apigw-reconciler test` prints each
//! test with its place and, on failure, the selected integration response and a diff,
//! then what the tests left uncovered (`coverage`).

pub mod coverage;
mod report;
mod simulate;
#[cfg(test)]
mod tests;

pub use coverage::Coverage;
pub use report::{
    Outcome, Selection, TestRun, run_all, run_all_within, run_selected_within, selected,
};
pub use simulate::{Response, Simulation, Used, simulate, simulate_recording};

/// A validated test is a document of the desired set; named here too, where it runs.
pub use crate::desired::{Backend, Expect, Request, ResponseTest};
