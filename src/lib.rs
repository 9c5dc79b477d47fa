//! apigw-reconciler: keep AWS API Gateway integration responses equal to a directory
//! of YAML specs. See ARCHITECTURE.md for the map of modules.

pub mod backoff;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod desired;
pub mod diff;
pub mod escape;
pub mod evaluate;
pub mod executor;
pub mod export;
pub mod files;
pub mod live;
pub mod metrics;
pub mod model;
pub mod reconcile;
pub mod redeploy;
pub mod render;
pub mod response_test;
pub mod schema;
pub mod server;
pub mod shutdown;
pub mod status;
pub mod vecmap;
pub mod watch;
pub mod yaml;

// The two engines live in crates of their own (crates/java-regex, crates/apigw-vtl);
// the reconciler reaches them under these short names.
pub use apigw_vtl as vtl;
pub use java_regex as jregex;
