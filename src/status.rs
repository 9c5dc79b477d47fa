//! What the daemon knows about itself, shared between the loop (writer) and the HTTP
//! server (reader): readiness, the last cycle, per-key state, metrics, and the way to
//! ask for a cycle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::metrics::Metrics;

/// Why a cycle runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    Startup,
    Files,
    Interval,
    /// SIGHUP: reload the config, then the specs.
    Reload,
    Http,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Files => "file-change",
            Trigger::Interval => "interval",
            Trigger::Reload => "sighup",
            Trigger::Http => "http",
        }
    }
}

/// The state of one integration response as the daemon last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    InSync,
    /// A change is planned but not applied (dry-run, or shutdown came first).
    Pending,
    Blocked,
    /// The last write failed; retried after its backoff.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_api_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_path: Option<String>,
    pub state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_seconds: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    pub id: u64,
    pub reasons: Vec<&'static str>,
    pub started_at_unix: f64,
    pub duration_ms: u64,
    /// converged | pending | failed | error | invalid
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub failed: usize,
    pub blocked: usize,
    pub waiting: usize,
    pub drift: usize,
    /// Stage deployments made.
    pub deployed: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub ready: bool,
    pub dry_run: bool,
    pub desired_set_valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_set_error: Option<String>,
    pub desired_specs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_cycle: Option<CycleSummary>,
    pub keys: Vec<KeyStatus>,
}

/// The handle the loop and the server share.
pub struct Shared {
    pub metrics: Metrics,
    status: RwLock<Status>,
    ready: AtomicBool,
    triggers: mpsc::Sender<Trigger>,
}

impl Shared {
    pub fn new(triggers: mpsc::Sender<Trigger>) -> Arc<Shared> {
        Arc::new(Shared {
            metrics: Metrics::default(),
            status: RwLock::default(),
            ready: AtomicBool::new(false),
            triggers,
        })
    }

    pub fn status(&self) -> Status {
        self.status.read().expect("status lock").clone()
    }

    pub fn set_status(&self, status: Status) {
        self.ready.store(status.ready, Ordering::SeqCst);
        *self.status.write().expect("status lock") = status;
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Ask for a cycle. Requests made while one is queued coalesce into it.
    pub fn request_cycle(&self, trigger: Trigger) {
        // A full queue already holds a pending cycle: dropping is coalescing.
        let _ = self.triggers.try_send(trigger);
    }
}
