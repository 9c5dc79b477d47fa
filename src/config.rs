//! The config file (`config/reconciler.yaml`): keys, defaults and validation.
//! Unknown keys are errors, reported as `file:line:col`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::yaml::{self, Node, Pos};

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
        }
    }
}

/// A config problem, `file:line:col: message`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

const KEYS: [&str; 15] = [
    "desiredDir",
    "region",
    "endpointUrl",
    "restApis",
    "interval",
    "debounce",
    "prune",
    "maxDeletesPerCycle",
    "dryRun",
    "rateLimit",
    "backoff",
    "timeouts",
    "listen",
    "log",
    "deployments",
];

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
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
        let Some(map) = root.as_map() else {
            report(
                root.pos,
                format!(
                    "the config must be a map of keys, found {}",
                    root.kind_name()
                ),
            );
            return Err(ConfigError::Invalid(errors));
        };
        for e in yaml::unknown_fields(map, &KEYS) {
            report(e.pos, e.message);
        }
        let get = |key: &str| yaml::field(map, key).filter(|n| !n.is_null());
        let mut r = Reader {
            report: &mut report,
        };
        if let Some(n) = get("desiredDir") {
            config.desired_dir = PathBuf::from(r.string(n, "desiredDir").unwrap_or_default());
        }
        config.region = get("region").and_then(|n| r.string(n, "region"));
        config.endpoint_url = get("endpointUrl").and_then(|n| r.string(n, "endpointUrl"));
        if let Some(n) = get("restApis") {
            config.rest_apis = r.string_list(n, "restApis");
        }
        if let Some(n) = get("interval") {
            config.interval = r.duration(n, "interval").unwrap_or(config.interval);
        }
        if let Some(n) = get("debounce") {
            config.debounce = r.duration(n, "debounce").unwrap_or(config.debounce);
        }
        if let Some(n) = get("prune") {
            config.prune = r.boolean(n, "prune").unwrap_or(false);
        }
        if let Some(n) = get("dryRun") {
            config.dry_run = r.boolean(n, "dryRun").unwrap_or(false);
        }
        if let Some(n) = get("maxDeletesPerCycle") {
            config.max_deletes_per_cycle =
                r.number(n, "maxDeletesPerCycle").unwrap_or(25.0) as usize;
        }
        if let Some(n) = get("listen") {
            config.listen = r.string(n, "listen").unwrap_or(config.listen);
        }
        if let Some(n) = get("rateLimit") {
            r.section(
                n,
                "rateLimit",
                &["requestsPerSecond", "burst"],
                |r, key, v| match key {
                    "requestsPerSecond" => {
                        config.rate_limit.requests_per_second = r.number(v, key).unwrap_or(5.0);
                    }
                    _ => config.rate_limit.burst = r.number(v, key).unwrap_or(10.0) as u32,
                },
            );
        }
        if let Some(n) = get("backoff") {
            r.section(n, "backoff", &["initial", "max"], |r, key, v| {
                let d = r.duration(v, key);
                match key {
                    "initial" => config.backoff.initial = d.unwrap_or(config.backoff.initial),
                    _ => config.backoff.max = d.unwrap_or(config.backoff.max),
                }
            });
        }
        if let Some(n) = get("timeouts") {
            r.section(n, "timeouts", &["connect", "attempt"], |r, key, v| {
                let d = r.duration(v, key);
                match key {
                    "connect" => config.timeouts.connect = d.unwrap_or(config.timeouts.connect),
                    _ => config.timeouts.attempt = d.unwrap_or(config.timeouts.attempt),
                }
            });
        }
        if let Some(n) = get("log") {
            r.section(n, "log", &["format", "level"], |r, key, v| {
                match (key, v.as_str()) {
                    ("format", Some("text")) => config.log.format = LogFormat::Text,
                    ("format", Some("json")) => config.log.format = LogFormat::Json,
                    ("format", _) => {
                        (r.report)(v.pos, "`log.format` must be `text` or `json`".into())
                    }
                    (_, Some(level))
                        if matches!(level, "trace" | "debug" | "info" | "warn" | "error") =>
                    {
                        config.log.level = level.to_owned();
                    }
                    _ => (r.report)(
                        v.pos,
                        "`log.level` must be trace, debug, info, warn or error".into(),
                    ),
                }
            });
        }
        if let Some(n) = get("deployments") {
            config.deployments = r.deployments(n);
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }
}

struct Reader<'a, 'b> {
    report: &'a mut (dyn FnMut(Pos, String) + 'b),
}

impl Reader<'_, '_> {
    fn string(&mut self, n: &Node, key: &str) -> Option<String> {
        match n.as_str() {
            Some(s) if !s.is_empty() => Some(s.to_owned()),
            _ => {
                (self.report)(
                    n.pos,
                    format!(
                        "`{key}` must be a non-empty string, found {}",
                        n.kind_name()
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, n: &Node, key: &str) -> Option<bool> {
        match n.as_str().or(match &n.value {
            yaml::Value::Scalar { text, plain: true } => Some(text.as_str()),
            _ => None,
        }) {
            Some("true" | "True" | "TRUE") => Some(true),
            Some("false" | "False" | "FALSE") => Some(false),
            _ => {
                (self.report)(
                    n.pos,
                    format!("`{key}` must be true or false, found {}", n.kind_name()),
                );
                None
            }
        }
    }

    fn number(&mut self, n: &Node, key: &str) -> Option<f64> {
        match n.as_str().and_then(|s| s.parse::<f64>().ok()) {
            Some(v) if v > 0.0 && v.is_finite() => Some(v),
            _ => {
                (self.report)(
                    n.pos,
                    format!("`{key}` must be a positive number, found {}", n.kind_name()),
                );
                None
            }
        }
    }

    fn duration(&mut self, n: &Node, key: &str) -> Option<Duration> {
        match n.as_str().map(humantime::parse_duration) {
            Some(Ok(d)) if !d.is_zero() => Some(d),
            _ => {
                (self.report)(
                    n.pos,
                    format!("`{key}` must be a duration like \"500ms\", \"30s\" or \"5m\""),
                );
                None
            }
        }
    }

    fn string_list(&mut self, n: &Node, key: &str) -> Option<Vec<String>> {
        let yaml::Value::Seq(items) = &n.value else {
            (self.report)(
                n.pos,
                format!("`{key}` must be a list of strings, found {}", n.kind_name()),
            );
            return None;
        };
        items.iter().map(|i| self.string(i, key)).collect()
    }

    fn section(
        &mut self,
        n: &Node,
        key: &str,
        known: &[&str],
        mut f: impl FnMut(&mut Self, &str, &Node),
    ) {
        let Some(map) = n.as_map() else {
            (self.report)(
                n.pos,
                format!("`{key}` must be a map, found {}", n.kind_name()),
            );
            return;
        };
        for e in yaml::unknown_fields(map, known) {
            (self.report)(e.pos, format!("in `{key}`: {}", e.message));
        }
        for name in known {
            if let Some(v) = yaml::field(map, name).filter(|v| !v.is_null()) {
                f(self, name, v);
            }
        }
    }

    fn deployments(&mut self, n: &Node) -> Vec<Deployment> {
        let yaml::Value::Seq(items) = &n.value else {
            (self.report)(n.pos, "`deployments` must be a list".into());
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let (mut api, mut stage, mut description) = (None, None, None);
            self.section(
                item,
                "deployments",
                &["restApi", "restApiName", "stage", "description"],
                |r, key, v| {
                    let value = r.string(v, key);
                    match key {
                        "stage" => stage = value,
                        "description" => description = value,
                        _ => api = value,
                    }
                },
            );
            match (api, stage) {
                (Some(rest_api), Some(stage)) => out.push(Deployment {
                    rest_api,
                    stage,
                    description,
                }),
                _ => (self.report)(
                    item.pos,
                    "each deployment needs `restApiName` (or `restApi`) and `stage`".into(),
                ),
            }
        }
        out
    }
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
}
