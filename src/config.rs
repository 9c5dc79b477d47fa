//! The config file (`config/reconciler.yaml`): keys, defaults and validation.
//! Unknown keys are errors, reported as `file:line:col`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::desired::EvalLimits;
use crate::files::ReadError;
use crate::yaml::de::{self, Spanned};
use crate::yaml::{self, Pos};

/// Client-side request budget (API Gateway's account quota is 10 rps, burst 40).
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

/// Limits on each request to API Gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// One attempt, from sending to the whole response read (the SDK retries after it).
    pub attempt: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    pub format: LogFormat,
    pub level: String,
}

/// A stage to redeploy after a cycle changed its API.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pub rest_api: String,
    pub stage: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub desired_dir: PathBuf,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub rest_apis: Option<Vec<String>>,
    pub interval: Duration,
    pub debounce: Duration,
    pub prune: bool,
    pub max_deletes_per_cycle: usize,
    pub dry_run: bool,
    pub rate_limit: RateLimit,
    pub backoff: Backoff,
    pub timeouts: Timeouts,
    pub listen: String,
    pub log: Log,
    pub deployments: Vec<Deployment>,
    /// What evaluating the desired set may cost.
    pub limits: EvalLimits,
    /// This target's name: `None` for a config without `targets`, which is one
    /// target, named nowhere (every output as it was before targets existed).
    pub target: Option<String>,
    /// A role to assume (STS AssumeRole) with the default credentials, and its
    /// external id.
    pub assume_role: Option<AssumeRole>,
    /// The `targets` of the config, each a whole config: the top-level keys with the
    /// target's own over them. Empty without `targets` (see [`Config::targets`]).
    pub targets: Vec<Config>,
}

/// `assumeRole` (and `externalId`): the role API Gateway is reached through.
#[derive(Clone, Debug, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub external_id: Option<String>,
    /// The account in the role's ARN (`arn:aws:iam::<account>:role/...`).
    pub account: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            desired_dir: PathBuf::from("desired"),
            region: None,
            endpoint_url: None,
            rest_apis: None,
            interval: Duration::from_secs(300),
            debounce: Duration::from_millis(500),
            prune: false,
            max_deletes_per_cycle: 25,
            dry_run: false,
            rate_limit: RateLimit {
                requests_per_second: 5.0,
                burst: 10,
            },
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(300),
            },
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                attempt: Duration::from_secs(30),
            },
            listen: "127.0.0.1:9479".into(),
            log: Log {
                format: LogFormat::Text,
                level: "info".into(),
            },
            deployments: Vec::new(),
            limits: EvalLimits::default(),
            target: None,
            assume_role: None,
            targets: Vec::new(),
        }
    }
}

impl Config {
    /// The targets this config reconciles: its `targets`, or itself alone when it has
    /// none.
    pub fn targets(&self) -> Vec<Config> {
        if self.targets.is_empty() {
            vec![self.clone()]
        } else {
            self.targets.clone()
        }
    }

    /// The name logs, metrics, status and plans give this target (`None`: the config
    /// has no `targets`).
    pub fn target_name(&self) -> Option<&str> {
        self.target.as_deref()
    }
}

/// A config problem, `file:line:col: message`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {message}")]
    Read { path: String, message: String },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// The config file as written: serde reads the shape (keys, types, enums; unknown keys
/// are errors), `Config::parse` checks ranges and fills defaults. The JSON Schema
/// (`apigw-reconciler schema config`) comes from these types.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "apigw-reconciler config")]
pub struct ConfigDoc {
    /// The spec directory, relative to the working directory (default `desired`).
    pub desired_dir: Option<Spanned<String>>,
    /// The AWS region (default: the AWS chain).
    pub region: Option<Spanned<String>>,
    /// An API Gateway endpoint override, for emulators.
    pub endpoint_url: Option<Spanned<String>>,
    /// Names or ids of the REST APIs in scope (default: all).
    pub rest_apis: Option<Vec<Spanned<String>>>,
    /// Daemon: full re-read of the live state, 1s-1 day (default `5m`).
    pub interval: Option<Spanned<Text>>,
    /// Daemon: quiet time after file changes, 10ms-60s (default `500ms`).
    pub debounce: Option<Spanned<Text>>,
    /// Delete live responses of managed methods that no spec desires (default false).
    pub prune: Option<bool>,
    /// A plan with more deletes has all of them blocked, 0-100000 (default 25).
    pub max_deletes_per_cycle: Option<Spanned<Text>>,
    /// Daemon: observe and report only (default false).
    pub dry_run: Option<bool>,
    pub rate_limit: Option<RateLimitDoc>,
    pub backoff: Option<Spanned<BackoffDoc>>,
    pub timeouts: Option<TimeoutsDoc>,
    /// Daemon HTTP endpoints (default `127.0.0.1:9479`).
    pub listen: Option<Spanned<String>>,
    pub log: Option<LogDoc>,
    /// Stages to redeploy after a cycle changed their API.
    pub deployments: Option<Vec<Spanned<DeploymentDoc>>>,
    pub limits: Option<LimitsDoc>,
    /// Reach API Gateway through this IAM role (`arn:aws:iam::<account>:role/<name>`),
    /// assumed with STS from the default credentials and refreshed before it expires.
    pub assume_role: Option<Spanned<String>>,
    /// The external id the role's trust policy asks for (needs `assumeRole`).
    pub external_id: Option<Spanned<String>>,
    /// Several accounts and regions from one process: each entry a target with a
    /// `name` ([a-z0-9-], at most 40), its own keys over the top-level ones (any key
    /// but `listen`, `log` and `targets`).
    pub targets: Option<Vec<Spanned<ConfigDoc>>>,
    /// A target's name (only in a `targets` entry): the label of its logs, metrics,
    /// status and plans.
    pub name: Option<Spanned<String>>,
}

/// Bounds on evaluating the desired set, which is untrusted input (whoever can open a
/// pull request writes it): exceeding one makes the set invalid with the reason and
/// the place; nothing hangs or aborts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsDoc {
    /// Reading, validating and testing one desired set, 1s-1h (default `30s`).
    pub deadline: Option<Spanned<Text>>,
    /// Template evaluation steps per response test, 1000-10000000000 (default 5000000).
    pub template_steps: Option<Spanned<Text>>,
    /// Regular expression steps per response test, compiling included (selection
    /// patterns and template string methods together), 1000-100000000000 (default
    /// 20000000).
    pub regex_steps: Option<Spanned<Text>>,
    /// Bytes a response test's template may produce, copy and scan, 1 MiB-64 GiB
    /// (default 536870912, 512 MiB).
    pub work_bytes: Option<Spanned<Text>>,
    /// Bytes of strings and collections a response test's template may hold at once,
    /// 1 MiB-16 GiB (default 134217728, 128 MiB).
    pub memory_bytes: Option<Spanned<Text>>,
}

/// Client-side budget for all calls.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitDoc {
    /// 0.1-1000 (default 5); API Gateway's account quota is 10 per second.
    pub requests_per_second: Option<Spanned<Text>>,
    /// A whole number 1-1000 (default 10); keep burst + rate within 40 against AWS.
    pub burst: Option<Spanned<Text>>,
}

/// Daemon: per-key wait after a failed write, doubling with jitter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackoffDoc {
    /// 10ms-1 day (default `1s`).
    pub initial: Option<Spanned<Text>>,
    /// 10ms-1 day, at least `initial` (default `5m`).
    pub max: Option<Spanned<Text>>,
}

/// Per request to API Gateway.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeoutsDoc {
    /// 100ms-5m (default `5s`).
    pub connect: Option<Spanned<Text>>,
    /// 1s-15m (default `30s`).
    pub attempt: Option<Spanned<Text>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogDoc {
    pub format: Option<LogFormatDoc>,
    pub level: Option<LogLevelDoc>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormatDoc {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevelDoc {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A stage of an API to redeploy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("required" = ["stage"]))]
pub struct DeploymentDoc {
    pub rest_api: Option<Spanned<String>>,
    pub rest_api_name: Option<Spanned<String>>,
    pub stage: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
}

/// A scalar read as its text (a number or a duration, checked by `Config::parse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a duration like \"500ms\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl JsonSchema for Text {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NumberOrDuration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number"] })
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // `--config /dev/null`, the usual way to say "no config": the defaults. Other
        // devices (`/dev/zero`, a terminal) and FIFOs are refused below.
        if std::fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null")) {
            return Ok(Config::default());
        }
        let read_error = |message: String| ConfigError::Read {
            path: path.display().to_string(),
            message,
        };
        let bytes = crate::files::read_regular(path, limits::CONFIG_BYTES).map_err(|e| {
            read_error(match e {
                ReadError::TooLarge(n) => format!("it is larger than {n} bytes (1 MiB)"),
                ReadError::NotRegular(what) => {
                    format!("it is {what}, not a regular file; point --config at a file")
                }
                ReadError::Io(e) => e.to_string(),
            })
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            read_error(format!(
                "it is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parse config text; `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let mut report =
            |pos: Pos, msg: String| errors.push(format!("{name}:{}:{}: {msg}", pos.line, pos.col));
        let docs = match yaml::parse_documents(text) {
            Ok(docs) => docs,
            Err(e) => {
                report(e.pos, e.message);
                return Err(ConfigError::Invalid(errors));
            }
        };
        let mut config = Config::default();
        let root = match docs.as_slice() {
            [] | [None] => return Ok(config),
            [Some(root)] => root,
            _ => {
                report(
                    Pos { line: 1, col: 1 },
                    "the config must be a single YAML document".into(),
                );
                return Err(ConfigError::Invalid(errors));
            }
        };
        if root.as_map().is_none() {
            report(
                root.pos,
                format!(
                    "the config must be a map of keys, found {}",
                    root.kind_name()
                ),
            );
            return Err(ConfigError::Invalid(errors));
        }
        let (doc, problems) = de::read_node::<ConfigDoc>(root);
        for p in &problems {
            report(p.pos, p.message.clone());
        }
        let Some(doc) = doc else {
            return Err(ConfigError::Invalid(errors));
        };
        let report: &mut dyn FnMut(Pos, String) = &mut report;
        if let Some(name) = &doc.name {
            report(
                name.pos,
                "`name` names a target: it belongs in an entry of `targets`".into(),
            );
        }
        apply_doc(&doc, &mut config, report);
        if let Some(targets) = &doc.targets {
            config.targets = read_targets(targets, &config, report);
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }
}

/// The `targets` entries, each over `defaults` (the top-level keys).
fn read_targets(
    targets: &[Spanned<ConfigDoc>],
    defaults: &Config,
    report: &mut dyn FnMut(Pos, String),
) -> Vec<Config> {
    if targets.is_empty() {
        // Caught here rather than read as "one target": an empty list is a mistake.
        report(
            Pos { line: 1, col: 1 },
            "`targets` is empty: list at least one target, or remove the key to reconcile \
             one target with the top-level keys"
                .into(),
        );
    }
    let mut seen = std::collections::BTreeMap::<String, Pos>::new();
    let mut out = Vec::new();
    for entry in targets {
        let doc = &entry.value;
        for (key, present) in [
            ("listen", doc.listen.as_ref().map(|v| v.pos)),
            ("targets", doc.targets.as_ref().map(|_| entry.pos)),
            ("log", doc.log.as_ref().map(|_| entry.pos)),
        ] {
            if let Some(pos) = present {
                report(
                    pos,
                    format!(
                        "`{key}` is for the whole daemon, not one target: move it to the top level"
                    ),
                );
            }
        }
        let Some(name) = &doc.name else {
            report(
                entry.pos,
                "each target needs a `name` ([a-z0-9-], at most 40 characters): the label of \
                 its logs, metrics, status and plans"
                    .into(),
            );
            continue;
        };
        if !valid_target_name(&name.value) {
            report(
                name.pos,
                format!(
                    "target name `{}` must be 1 to 40 of a-z, 0-9 and `-`",
                    crate::escape::visible(&name.value)
                ),
            );
        } else if let Some(first) = seen.get(&name.value) {
            report(
                name.pos,
                format!(
                    "target `{}` is named twice (first at line {}); give each target its own name",
                    name.value, first.line
                ),
            );
        } else {
            seen.insert(name.value.clone(), name.pos);
        }
        let mut config = Config {
            targets: Vec::new(),
            ..defaults.clone()
        };
        apply_doc(doc, &mut config, report);
        config.target = Some(name.value.clone());
        out.push(config);
    }
    out
}

/// `[a-z0-9-]{1,40}`: safe as a Prometheus label value, a Markdown heading and a
/// path segment without escaping.
pub fn valid_target_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The account of an IAM role ARN, `arn:<partition>:iam::<12 digits>:role/<name>`.
pub fn role_account(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let ok = partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|r| !r.is_empty());
    ok.then_some(account)
}

/// The keys of one level (the top or a target) over `config`: only those written
/// change it, so a target keeps every top-level key it does not set.
fn apply_doc(doc: &ConfigDoc, config: &mut Config, report: &mut dyn FnMut(Pos, String)) {
    let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.value.clone());
    if let Some(dir) = &doc.desired_dir {
        config.desired_dir = PathBuf::from(non_empty(dir, "desiredDir", report));
    }
    if doc.region.is_some() {
        config.region = text(&doc.region);
    }
    if doc.endpoint_url.is_some() {
        config.endpoint_url = text(&doc.endpoint_url);
    }
    if let Some(apis) = &doc.rest_apis {
        config.rest_apis = Some(apis.iter().map(|a| a.value.clone()).collect());
    }
    let mut duration = |v: &Option<Spanned<Text>>, key: &str, range, default| {
        v.as_ref()
            .and_then(|v| check_duration(v, key, range, report))
            .unwrap_or(default)
    };
    config.interval = duration(&doc.interval, "interval", limits::INTERVAL, config.interval);
    config.debounce = duration(&doc.debounce, "debounce", limits::DEBOUNCE, config.debounce);
    if let Some(b) = &doc.backoff {
        config.backoff.initial = duration(
            &b.value.initial,
            "backoff.initial",
            limits::BACKOFF,
            config.backoff.initial,
        );
        config.backoff.max = duration(
            &b.value.max,
            "backoff.max",
            limits::BACKOFF,
            config.backoff.max,
        );
    }
    if let Some(t) = &doc.timeouts {
        config.timeouts.connect = duration(
            &t.connect,
            "timeouts.connect",
            limits::CONNECT_TIMEOUT,
            config.timeouts.connect,
        );
        config.timeouts.attempt = duration(
            &t.attempt,
            "timeouts.attempt",
            limits::ATTEMPT_TIMEOUT,
            config.timeouts.attempt,
        );
    }
    if let Some(prune) = doc.prune {
        config.prune = prune;
    }
    if let Some(dry_run) = doc.dry_run {
        config.dry_run = dry_run;
    }
    if let Some(v) = &doc.max_deletes_per_cycle
        && let Some(n) = check_integer(v, "maxDeletesPerCycle", limits::MAX_DELETES, "", report)
    {
        config.max_deletes_per_cycle = n as usize;
    }
    if let Some(r) = &doc.rate_limit {
        if let Some(v) = &r.requests_per_second
            && let Some(rate) = check_number(
                v,
                "rateLimit.requestsPerSecond",
                limits::RATE,
                limits::QUOTA,
                report,
            )
        {
            config.rate_limit.requests_per_second = rate;
        }
        if let Some(v) = &r.burst
            && let Some(burst) =
                check_integer(v, "rateLimit.burst", limits::BURST, limits::QUOTA, report)
        {
            config.rate_limit.burst = burst as u32;
        }
    }
    if let Some(listen) = &doc.listen {
        config.listen = listen.value.clone();
    }
    if let Some(log) = &doc.log {
        if let Some(format) = log.format {
            config.log.format = match format {
                LogFormatDoc::Text => LogFormat::Text,
                LogFormatDoc::Json => LogFormat::Json,
            };
        }
        if let Some(level) = log.level {
            config.log.level = format!("{level:?}").to_lowercase();
        }
    }
    if doc.deployments.is_some() {
        // A target's `deployments` replace the top-level ones.
        config.deployments.clear();
    }
    for d in doc.deployments.iter().flatten() {
        let api = match (&d.value.rest_api, &d.value.rest_api_name) {
            (Some(id), None) => Some(id.value.clone()),
            (None, Some(name)) => Some(name.value.clone()),
            _ => None,
        };
        match (api, &d.value.stage) {
            (Some(rest_api), Some(stage)) => config.deployments.push(Deployment {
                rest_api,
                stage: stage.value.clone(),
                description: d.value.description.as_ref().map(|s| s.value.clone()),
            }),
            _ => report(
                d.pos,
                "each deployment needs `stage` and exactly one of `restApiName` and `restApi`"
                    .into(),
            ),
        }
    }
    if let Some(l) = &doc.limits {
        let d = &mut config.limits;
        if let Some(v) = &l.deadline {
            d.deadline = check_duration(v, "limits.deadline", limits::DEADLINE, report)
                .unwrap_or(d.deadline);
        }
        let e = &mut d.engine;
        for (v, key, range, slot) in [
            (
                &l.template_steps,
                "limits.templateSteps",
                limits::TEMPLATE_STEPS,
                &mut e.steps,
            ),
            (
                &l.regex_steps,
                "limits.regexSteps",
                limits::REGEX_STEPS,
                &mut e.regex_steps,
            ),
            (
                &l.work_bytes,
                "limits.workBytes",
                limits::WORK_BYTES,
                &mut e.work_bytes,
            ),
            (
                &l.memory_bytes,
                "limits.memoryBytes",
                limits::MEMORY_BYTES,
                &mut e.memory_bytes,
            ),
        ] {
            if let Some(v) = v
                && let Some(n) = check_integer(v, key, range, "", report)
            {
                *slot = n;
            }
        }
    }
    if config.backoff.max < config.backoff.initial
        && let Some(b) = &doc.backoff
    {
        report(
            b.pos,
            format!(
                "`backoff.max` ({}) is shorter than `backoff.initial` ({}); make max at least initial",
                humantime::format_duration(config.backoff.max),
                humantime::format_duration(config.backoff.initial)
            ),
        );
    }
    match (&doc.assume_role, &doc.external_id) {
        (Some(arn), external_id) => match role_account(&arn.value) {
            Some(account) => {
                config.assume_role = Some(AssumeRole {
                    role_arn: arn.value.clone(),
                    external_id: text(external_id),
                    account: account.to_owned(),
                })
            }
            None => report(
                arn.pos,
                format!(
                    "`assumeRole` must be an IAM role ARN like \
                     arn:aws:iam::222222222222:role/apigw-reconciler, found `{}`",
                    crate::escape::visible(&arn.value)
                ),
            ),
        },
        (None, Some(id)) => match &mut config.assume_role {
            // A target may change only the external id of the top-level role.
            Some(role) => role.external_id = Some(id.value.clone()),
            None => report(
                id.pos,
                "`externalId` needs `assumeRole`: it is sent when assuming that role".into(),
            ),
        },
        (None, None) => {}
    }
}

fn non_empty(v: &Spanned<String>, key: &str, report: &mut dyn FnMut(Pos, String)) -> String {
    if v.value.is_empty() {
        report(v.pos, format!("`{key}` must be a non-empty string"));
    }
    v.value.clone()
}

/// A number within `range`; `why` explains the range in the error.
fn check_number(
    v: &Spanned<Text>,
    key: &str,
    range: std::ops::RangeInclusive<f64>,
    why: &str,
    report: &mut dyn FnMut(Pos, String),
) -> Option<f64> {
    match v.value.0.parse::<f64>() {
        Ok(n) if range.contains(&n) => Some(n),
        Ok(n) => {
            report(
                v.pos,
                format!(
                    "`{key}` must be from {} to {}, found {n}{why}",
                    range.start(),
                    range.end()
                ),
            );
            None
        }
        Err(_) => {
            report(
                v.pos,
                format!("`{key}` must be a number, found `{}`", v.value.0),
            );
            None
        }
    }
}

/// A whole number within `range` (`2.9` or `1e3` are refused, not rounded).
fn check_integer(
    v: &Spanned<Text>,
    key: &str,
    range: std::ops::RangeInclusive<u64>,
    why: &str,
    report: &mut dyn FnMut(Pos, String),
) -> Option<u64> {
    match v.value.0.parse::<u64>() {
        Ok(n) if range.contains(&n) => Some(n),
        Ok(_) => {
            report(
                v.pos,
                format!(
                    "`{key}` must be from {} to {}, found {}{why}",
                    range.start(),
                    range.end(),
                    v.value.0
                ),
            );
            None
        }
        Err(_) => {
            report(
                v.pos,
                format!("`{key}` must be a whole number, found `{}`", v.value.0),
            );
            None
        }
    }
}

fn check_duration(
    v: &Spanned<Text>,
    key: &str,
    range: std::ops::RangeInclusive<Duration>,
    report: &mut dyn FnMut(Pos, String),
) -> Option<Duration> {
    match humantime::parse_duration(&v.value.0) {
        Ok(d) if range.contains(&d) => Some(d),
        Ok(d) => {
            report(
                v.pos,
                format!(
                    "`{key}` must be from {} to {}, found {}",
                    humantime::format_duration(*range.start()),
                    humantime::format_duration(*range.end()),
                    humantime::format_duration(d)
                ),
            );
            None
        }
        Err(_) => {
            report(
                v.pos,
                format!("`{key}` must be a duration like \"500ms\", \"30s\" or \"5m\""),
            );
            None
        }
    }
}

/// The range of every number in the config: values outside them would disable a
/// safety (an unlimited burst, a limiter that waits 1000 s per call) or make no sense.
pub mod limits {
    use std::ops::RangeInclusive;
    use std::time::Duration;

    /// API Gateway's account quota, quoted in rate-limit errors.
    pub const QUOTA: &str = " (API Gateway's account quota is 10 requests per second with bursts of 40, \
        shared by every caller of the account; any 1 s window may hold burst + rate requests, so against AWS \
        keep their sum within 40; the upper bound is for local emulators)";
    pub const RATE: RangeInclusive<f64> = 0.1..=1000.0;
    pub const BURST: RangeInclusive<u64> = 1..=1000;
    pub const MAX_DELETES: RangeInclusive<u64> = 0..=100_000;
    pub const INTERVAL: RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(24 * 3600);
    pub const DEBOUNCE: RangeInclusive<Duration> =
        Duration::from_millis(10)..=Duration::from_secs(60);
    pub const BACKOFF: RangeInclusive<Duration> =
        Duration::from_millis(10)..=Duration::from_secs(24 * 3600);
    pub const CONNECT_TIMEOUT: RangeInclusive<Duration> =
        Duration::from_millis(100)..=Duration::from_secs(300);
    pub const ATTEMPT_TIMEOUT: RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(900);
    pub const DEADLINE: RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(3600);
    pub const TEMPLATE_STEPS: RangeInclusive<u64> = 1_000..=10_000_000_000;
    pub const REGEX_STEPS: RangeInclusive<u64> = 1_000..=100_000_000_000;
    pub const WORK_BYTES: RangeInclusive<u64> = 1 << 20..=64 << 30;
    pub const MEMORY_BYTES: RangeInclusive<u64> = 1 << 20..=16 << 30;
    /// The config file is read only when it is a regular file of at most this size.
    pub const CONFIG_BYTES: u64 = 1 << 20;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_gives_defaults_and_the_server_binds_to_loopback() {
        let c = Config::parse("", "c.yaml").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.listen, "127.0.0.1:9479");
    }

    #[test]
    fn reads_every_key() {
        let c = Config::parse(
            "desiredDir: specs\nregion: eu-west-1\nendpointUrl: http://127.0.0.1:5000\nrestApis: [A]\n\
             interval: 1m\ndebounce: 200ms\nprune: true\nmaxDeletesPerCycle: 3\ndryRun: true\n\
             rateLimit: {requestsPerSecond: 8, burst: 20}\nbackoff: {initial: 2s, max: 1m}\n\
             timeouts: {connect: 1s, attempt: 2s}\n\
             listen: 127.0.0.1:1\nlog: {format: json, level: debug}\n\
             deployments: [{restApiName: A, stage: prod}]\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(c.desired_dir, PathBuf::from("specs"));
        assert_eq!(c.interval, Duration::from_secs(60));
        assert!(c.prune && c.dry_run);
        assert_eq!(c.max_deletes_per_cycle, 3);
        assert_eq!(c.rate_limit.burst, 20);
        assert_eq!(c.backoff.max, Duration::from_secs(60));
        assert_eq!(c.timeouts.attempt, Duration::from_secs(2));
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.deployments[0].stage, "prod");
    }

    #[test]
    fn numbers_are_checked_against_their_ranges_and_integers_are_whole() {
        let error = |text: &str| Config::parse(text, "c.yaml").unwrap_err().to_string();
        for (text, expected) in [
            (
                "rateLimit: {requestsPerSecond: 5, burst: 1e12}\n",
                "c.yaml:1:42: `rateLimit.burst` must be a whole number, found `1e12`",
            ),
            (
                "rateLimit: {requestsPerSecond: 5, burst: 5000}\n",
                "c.yaml:1:42: `rateLimit.burst` must be from 1 to 1000, found 5000 (API Gateway's account quota",
            ),
            (
                "rateLimit: {requestsPerSecond: 0.0001}\n",
                "c.yaml:1:32: `rateLimit.requestsPerSecond` must be from 0.1 to 1000, found 0.0001 (API Gateway's account quota",
            ),
            (
                "rateLimit: {burst: 0.5}\n",
                "c.yaml:1:20: `rateLimit.burst` must be a whole number, found `0.5`",
            ),
            (
                "maxDeletesPerCycle: 0.5\n",
                "c.yaml:1:21: `maxDeletesPerCycle` must be a whole number, found `0.5`",
            ),
            (
                "maxDeletesPerCycle: 2.9\n",
                "c.yaml:1:21: `maxDeletesPerCycle` must be a whole number, found `2.9`",
            ),
            (
                "maxDeletesPerCycle: -1\n",
                "c.yaml:1:21: `maxDeletesPerCycle` must be a whole number, found `-1`",
            ),
            (
                "interval: 100ms\n",
                "c.yaml:1:11: `interval` must be from 1s to 1day, found 100ms",
            ),
            (
                "timeouts: {attempt: 1h}\n",
                "c.yaml:1:21: `timeouts.attempt` must be from 1s to 15m, found 1h",
            ),
            (
                "backoff: {initial: 10s, max: 1s}\n",
                "c.yaml:1:10: `backoff.max` (1s) is shorter than `backoff.initial` (10s)",
            ),
        ] {
            let got = error(text);
            assert!(got.starts_with(expected), "{text}: {got}");
        }
        let c = Config::parse(
            "maxDeletesPerCycle: 0\nrateLimit: {requestsPerSecond: 0.1, burst: 1000}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(c.max_deletes_per_cycle, 0, "0 allows no deletes at all");
        assert_eq!(c.rate_limit.burst, 1000);
    }

    #[test]
    fn unknown_and_bad_keys_name_their_line() {
        let err = Config::parse("region: x\nintervall: 5m\nprune: maybe\n", "c.yaml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("c.yaml:2:1: unknown field `intervall` (did you mean `interval`?)"),
            "{text}"
        );
        assert!(
            text.contains("c.yaml:3:8: `prune` must be true or false"),
            "{text}"
        );
    }

    #[test]
    fn targets_take_the_top_level_keys_as_defaults_and_override_them() {
        let c = Config::parse(
            "endpointUrl: http://127.0.0.1:5000\nprune: false\nrateLimit: {requestsPerSecond: 5, burst: 10}\n\
             limits: {deadline: 10s}\ntargets:\n\
             - name: prod-us\n  region: us-east-1\n  desiredDir: desired/prod-us\n\
             - name: partner\n  region: eu-west-1\n  desiredDir: desired/partner\n  prune: true\n\
             \x20 assumeRole: arn:aws:iam::222222222222:role/apigw-reconciler\n  externalId: ext-1\n\
             \x20 rateLimit: {burst: 3}\n",
            "c.yaml",
        )
        .unwrap();
        let targets = c.targets();
        assert_eq!(targets.len(), 2);
        let (us, partner) = (&targets[0], &targets[1]);
        assert_eq!(us.target_name(), Some("prod-us"));
        assert_eq!(us.region.as_deref(), Some("us-east-1"));
        assert_eq!(us.desired_dir, PathBuf::from("desired/prod-us"));
        assert_eq!(us.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert!(!us.prune && partner.prune);
        assert_eq!(us.assume_role, None);
        let role = partner.assume_role.as_ref().unwrap();
        assert_eq!(role.account, "222222222222");
        assert_eq!(role.external_id.as_deref(), Some("ext-1"));
        assert_eq!(partner.rate_limit.burst, 3);
        assert_eq!(
            partner.rate_limit.requests_per_second, 5.0,
            "kept from the top"
        );
        assert_eq!(partner.limits.deadline, Duration::from_secs(10));
        assert!(us.targets.is_empty() && partner.targets.is_empty());
    }

    #[test]
    fn a_config_without_targets_is_one_unnamed_target() {
        let c = Config::parse("region: eu-west-1\n", "c.yaml").unwrap();
        let targets = c.targets();
        assert_eq!(targets, vec![c.clone()]);
        assert_eq!(targets[0].target_name(), None);
    }

    #[test]
    fn bad_targets_name_their_line() {
        let error = |text: &str| Config::parse(text, "c.yaml").unwrap_err().to_string();
        for (text, expected) in [
            ("targets: []\n", "`targets` is empty"),
            (
                "targets:\n- region: x\n",
                "c.yaml:2:3: each target needs a `name`",
            ),
            (
                "targets:\n- name: Prod_US\n",
                "c.yaml:2:9: target name `Prod_US` must be 1 to 40 of a-z, 0-9 and `-`",
            ),
            (
                "targets:\n- name: a\n- name: a\n",
                "c.yaml:3:9: target `a` is named twice (first at line 2)",
            ),
            (
                "targets:\n- name: a\n  listen: 0.0.0.0:1\n",
                "c.yaml:3:11: `listen` is for the whole daemon, not one target",
            ),
            (
                "name: a\n",
                "c.yaml:1:7: `name` names a target: it belongs in an entry of `targets`",
            ),
            (
                "targets:\n- name: a\n  assumeRole: arn:aws:iam::22:role/x\n",
                "c.yaml:3:15: `assumeRole` must be an IAM role ARN",
            ),
            (
                "targets:\n- name: a\n  externalId: x\n",
                "c.yaml:3:15: `externalId` needs `assumeRole`",
            ),
            (
                "targets:\n- name: a\n  intervall: 5m\n",
                "c.yaml:3:3: in `targets[0]`: unknown field `intervall` (did you mean `interval`?)",
            ),
        ] {
            let got = error(text);
            assert!(got.contains(expected), "{text}: {got}");
        }
    }

    #[test]
    fn role_accounts_come_from_iam_role_arns_only() {
        assert_eq!(
            role_account("arn:aws:iam::222222222222:role/a/b"),
            Some("222222222222")
        );
        assert_eq!(
            role_account("arn:aws-cn:iam::123456789012:role/x"),
            Some("123456789012")
        );
        for bad in [
            "arn:aws:iam::222222222222:user/x",
            "arn:aws:sts::222222222222:role/x",
            "arn:aws:iam::2222:role/x",
            "arn:aws:iam::222222222222:role/",
            "role/x",
        ] {
            assert_eq!(role_account(bad), None, "{bad}");
        }
    }
}
