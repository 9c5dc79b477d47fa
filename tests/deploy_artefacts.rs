//! Checks of the deployment artefacts under `deploy/` against the code they deploy:
//!
//! - the IAM policy grants exactly the API Gateway (verb, resource) pairs of the SDK
//!   operations that `src/` calls, nothing more and nothing less;
//! - every Kubernetes manifest parses; the Deployment is a single `Recreate` writer whose
//!   probes and Service hit the port of the ConfigMap's `listen` and paths the binary
//!   serves; the git-sync sidecar feeds `desiredDir` through a shared volume; the
//!   ServiceAccount is annotated for IRSA; the ConfigMap's config passes `validate`;
//!   the NetworkPolicy selects the Deployment's pods and admits only Prometheus to
//!   the daemon's port, and only DNS and HTTPS out;
//! - the systemd unit has its hardening and restart settings (and passes
//!   `systemd-analyze verify` where that tool exists);
//! - the Dockerfile is a multi-stage build ending in a non-root image.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apigw_reconciler::jregex::Pattern;
use yaml_rust2::{Yaml, YamlLoader};

const BIN: &str = env!("CARGO_BIN_EXE_apigw-reconciler");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------
// IAM policy <-> SDK operations called by the code
// ---------------------------------------------------------------------------------

const INTEGRATION_RESPONSES: &str =
    "arn:aws:apigateway:*::/restapis/*/resources/*/methods/*/integration/responses/*";

/// Every SDK operation the code may call, with the IAM action verb and resource ARN
/// API Gateway authorises it against (`apigateway:<HTTP verb>` on the REST path).
/// A call to an operation missing here fails the test: add its row, then the policy.
/// Operations no IAM policy can grant or deny: STS GetCallerIdentity ("No permissions
/// are required to perform this operation", its API reference), which names the
/// account of the default credentials for `targets`.
const NEEDS_NO_PERMISSION: &[&str] = &["get_caller_identity"];

const OPERATIONS: &[(&str, &str, &str)] = &[
    ("get_rest_apis", "GET", "arn:aws:apigateway:*::/restapis"),
    (
        "get_resources",
        "GET",
        "arn:aws:apigateway:*::/restapis/*/resources",
    ),
    ("put_integration_response", "PUT", INTEGRATION_RESPONSES),
    (
        "delete_integration_response",
        "DELETE",
        INTEGRATION_RESPONSES,
    ),
    (
        "create_deployment",
        "POST",
        "arn:aws:apigateway:*::/restapis/*/deployments",
    ),
    (
        "get_stages",
        "GET",
        "arn:aws:apigateway:*::/restapis/*/stages",
    ),
    (
        "get_deployment",
        "GET",
        "arn:aws:apigateway:*::/restapis/*/deployments/*",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Source with full-line `//` comments blanked (line numbers kept), so documentation
/// that mentions a call does not count as one.
fn without_line_comments(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Source files are scanned whole: the step budget meant for hostile selection
/// patterns would stop these scans.
const UNLIMITED: u64 = 1 << 40;

/// The SDK operations called in `text`: `client.<op>()` (or `sdk().<op>()`), any
/// whitespace or newlines between the parts (builder chains are split over lines),
/// whose chain reaches `.send()` before the statement ends. Returns (op, line).
fn sdk_calls(text: &str) -> Vec<(String, usize)> {
    let text = without_line_comments(text);
    let call = Pattern::compile(r"(?:\bclient|\bsdk\(\s*\))\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)")
        .unwrap()
        .with_step_budget(UNLIMITED);
    let send = Pattern::compile(r"\.\s*send\s*\(\s*\)")
        .unwrap()
        .with_step_budget(UNLIMITED);
    let mut out = Vec::new();
    for caps in call.find_all(&text).unwrap() {
        let rest = &text[caps.end()..];
        let statement_end = rest.find(';').unwrap_or(rest.len());
        let sends = send
            .find_at(rest, 0)
            .unwrap()
            .is_some_and(|m| m.start() < statement_end);
        if sends {
            let op = caps.get(1).unwrap();
            let line = text[..op.start].matches('\n').count() + 1;
            out.push((text[op].to_owned(), line));
        }
    }
    out
}

/// Every SDK operation called under `src/`, with where.
fn operations_called() -> BTreeMap<String, Vec<String>> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let send = Pattern::compile(r"\.\s*send\s*\(\s*\)")
        .unwrap()
        .with_step_budget(UNLIMITED);
    let mut ops: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut sends, mut recognised) = (0, 0);
    for file in &files {
        let text = read(file);
        let rel = file.strip_prefix(root()).unwrap().display().to_string();
        sends += send.find_all(&without_line_comments(&text)).unwrap().len();
        for (op, line) in sdk_calls(&text) {
            recognised += 1;
            ops.entry(op).or_default().push(format!("{rel}:{line}"));
        }
    }
    // A request sent through a receiver the scan does not recognise would escape the
    // policy check: insist that every `.send()` belongs to a recognised call.
    assert_eq!(
        sends, recognised,
        "src/ has {sends} `.send()` calls but the scan recognised {recognised} SDK operations \
         ({ops:?}); call the SDK as `self.client.<operation>()...send()` so this test sees it"
    );
    ops
}

/// The (verb, resource) pairs a policy grants, refusing anything that is not a plain
/// least-privilege allow list: one statement per verb, explicit actions and ARNs.
fn granted_pairs(policy: &serde_json::Value) -> Result<BTreeSet<(String, String)>, String> {
    if policy["Version"] != "2012-10-17" {
        return Err("Version must be \"2012-10-17\"".into());
    }
    let statements = policy["Statement"]
        .as_array()
        .ok_or("Statement must be a list")?;
    let strings = |v: &serde_json::Value, what: &str| -> Result<Vec<String>, String> {
        match v {
            serde_json::Value::String(s) => Ok(vec![s.clone()]),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("{what} entries must be strings"))
                })
                .collect(),
            _ => Err(format!("{what} must be a string or a list of strings")),
        }
    };
    let mut verbs_seen = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for (i, st) in statements.iter().enumerate() {
        let sid = st["Sid"].as_str().unwrap_or("?");
        let at = format!("statement {i} ({sid})");
        for key in ["NotAction", "NotResource", "Principal", "NotPrincipal"] {
            if st.get(key).is_some() {
                return Err(format!("{at}: `{key}` widens or misplaces the grant"));
            }
        }
        if st["Effect"] != "Allow" {
            return Err(format!("{at}: Effect must be Allow"));
        }
        let actions = strings(&st["Action"], "Action").map_err(|e| format!("{at}: {e}"))?;
        let [action] = actions.as_slice() else {
            return Err(format!(
                "{at}: one action per statement (one statement per verb), found {actions:?}"
            ));
        };
        let verb = action
            .strip_prefix("apigateway:")
            .filter(|v| matches!(*v, "GET" | "PUT" | "POST" | "PATCH" | "DELETE"))
            .ok_or_else(|| {
                format!("{at}: action {action:?} is not apigateway:GET|PUT|POST|PATCH|DELETE")
            })?;
        if !verbs_seen.insert(verb.to_owned()) {
            return Err(format!(
                "{at}: a second statement for {verb}; use one per verb"
            ));
        }
        for resource in strings(&st["Resource"], "Resource").map_err(|e| format!("{at}: {e}"))? {
            if !resource.starts_with("arn:aws:apigateway:") || resource.ends_with("::*") {
                return Err(format!(
                    "{at}: resource {resource:?} is not an API Gateway path ARN"
                ));
            }
            pairs.insert((verb.to_owned(), resource));
        }
    }
    Ok(pairs)
}

/// Compare a policy with the operations the code calls.
fn check_policy(policy_text: &str, ops: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    let policy: serde_json::Value =
        serde_json::from_str(policy_text).map_err(|e| format!("not JSON: {e}"))?;
    let granted = granted_pairs(&policy)?;
    let mut needed: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for op in ops.keys() {
        if NEEDS_NO_PERMISSION.contains(&op.as_str()) {
            continue;
        }
        let Some((_, verb, resource)) = OPERATIONS.iter().find(|(name, ..)| name == op) else {
            return Err(format!(
                "the code calls the SDK operation `{op}` ({}), which the table in \
                 tests/deploy_artefacts.rs does not know: add its IAM verb and resource \
                 there and grant it in deploy/iam-policy.json",
                ops[op].join(", ")
            ));
        };
        needed
            .entry((verb.to_string(), resource.to_string()))
            .or_default()
            .push(op);
    }
    let mut problems = Vec::new();
    for ((verb, resource), by) in &needed {
        if !granted.contains(&(verb.clone(), resource.clone())) {
            problems.push(format!(
                "missing: apigateway:{verb} on {resource} (needed by {})",
                by.join(", ")
            ));
        }
    }
    for (verb, resource) in &granted {
        if !needed.contains_key(&(verb.clone(), resource.clone())) {
            problems.push(format!(
                "not used by the code: apigateway:{verb} on {resource}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn policy_text() -> String {
    read(&root().join("deploy/iam-policy.json"))
}

#[test]
fn iam_policy_grants_exactly_the_operations_the_code_calls() {
    let ops = operations_called();
    assert!(
        ops.contains_key("get_resources") && ops.contains_key("put_integration_response"),
        "the scan of src/ found too little, is it broken? {ops:?}"
    );
    if let Err(e) = check_policy(&policy_text(), &ops) {
        panic!(
            "deploy/iam-policy.json does not match the SDK operations in src/ ({:?}):\n{e}",
            ops.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_operation_scan_reads_builder_chains_and_skips_other_calls() {
    let text = "
        let page = self
            .client
            .get_rest_apis()
            .limit(PAGE_SIZE)
            .set_position(position.clone())
            .send()
            .await?;
        let counts = self.client.call_counts();
        // self.client.delete_rest_api().send().await
        self.client.put_integration_response(&key, &settings).await?;
        self.client
            .create_deployment ( )
            .rest_api_id(id)
            .send()
            .await
    ";
    let found: Vec<_> = sdk_calls(text).into_iter().map(|(op, _)| op).collect();
    assert_eq!(found, ["get_rest_apis", "create_deployment"]);
    assert_eq!(sdk_calls(text)[0].1, 4, "line of the operation");
}

#[test]
fn the_policy_check_fails_on_an_extra_a_missing_or_a_wildcard_grant() {
    let ops = operations_called();
    let policy: serde_json::Value = serde_json::from_str(&policy_text()).unwrap();

    let mut extra = policy.clone();
    extra["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Effect": "Allow",
            "Action": "apigateway:PATCH",
            "Resource": "arn:aws:apigateway:*::/restapis/*",
        }));
    let err = check_policy(&extra.to_string(), &ops).unwrap_err();
    assert!(
        err.contains("not used by the code: apigateway:PATCH"),
        "{err}"
    );

    let mut missing = policy.clone();
    let statements = missing["Statement"].as_array_mut().unwrap();
    let put = statements
        .iter()
        .position(|s| s["Action"].to_string().contains("apigateway:PUT"))
        .expect("a PUT statement");
    statements.remove(put);
    let err = check_policy(&missing.to_string(), &ops).unwrap_err();
    assert!(err.contains("missing: apigateway:PUT"), "{err}");

    let mut wildcard = policy.clone();
    wildcard["Statement"][0]["Action"] = serde_json::json!("apigateway:*");
    assert!(check_policy(&wildcard.to_string(), &ops).is_err());

    let mut unknown = ops.clone();
    unknown.insert("delete_rest_api".into(), vec!["src/x.rs:1".into()]);
    let err = check_policy(&policy_text(), &unknown).unwrap_err();
    assert!(err.contains("`delete_rest_api`"), "{err}");
}

// ---------------------------------------------------------------------------------
// Kubernetes manifests
// ---------------------------------------------------------------------------------

fn kube_dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

/// Every document of every YAML file under deploy/kubernetes, with its file name.
fn manifests() -> Vec<(String, Yaml)> {
    let mut files: Vec<_> = std::fs::read_dir(kube_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in deploy/kubernetes");
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let docs = YamlLoader::load_from_str(&read(&file))
            .unwrap_or_else(|e| panic!("deploy/kubernetes/{name} does not parse: {e}"));
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            out.push((name.clone(), doc));
        }
    }
    out
}

fn one_of_kind(kind: &str) -> Yaml {
    let found: Vec<_> = manifests()
        .into_iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind} manifest");
    found.into_iter().next().unwrap().1
}

fn pod_spec() -> Yaml {
    one_of_kind("Deployment")["spec"]["template"]["spec"].clone()
}

fn list(y: &Yaml) -> Vec<Yaml> {
    y.as_vec().cloned().unwrap_or_default()
}

fn strings(y: &Yaml) -> Vec<String> {
    list(y)
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// The daemon's container: the one whose arguments end with the `run` command.
fn reconciler_container() -> Yaml {
    let found: Vec<_> = list(&pod_spec()["containers"])
        .into_iter()
        .filter(|c| strings(&c["args"]).last().map(String::as_str) == Some("run"))
        .collect();
    assert_eq!(found.len(), 1, "expected one container running `run`");
    found.into_iter().next().unwrap()
}

/// The git-sync containers: (container, is an init container).
fn git_sync_containers() -> Vec<(Yaml, bool)> {
    let spec = pod_spec();
    let is_git_sync = |c: &Yaml| c["image"].as_str().is_some_and(|i| i.contains("git-sync"));
    list(&spec["initContainers"])
        .into_iter()
        .filter(is_git_sync)
        .map(|c| (c, true))
        .chain(
            list(&spec["containers"])
                .into_iter()
                .filter(is_git_sync)
                .map(|c| (c, false)),
        )
        .collect()
}

/// `--flag=value` from a container's arguments.
fn flag(container: &Yaml, name: &str) -> Option<String> {
    let prefix = format!("--{name}=");
    strings(&container["args"])
        .iter()
        .find_map(|a| a.strip_prefix(&prefix).map(str::to_owned))
}

/// The text of the ConfigMap's `reconciler.yaml` and its parsed form.
fn configmap_config() -> (String, Yaml) {
    let text = one_of_kind("ConfigMap")["data"]["reconciler.yaml"]
        .as_str()
        .expect("the ConfigMap has a `reconciler.yaml` key")
        .to_owned();
    let doc = YamlLoader::load_from_str(&text)
        .expect("reconciler.yaml in the ConfigMap parses")
        .remove(0);
    (text, doc)
}

/// (host, port) of the ConfigMap's `listen`.
fn listen() -> (String, i64) {
    let (_, config) = configmap_config();
    let listen = config["listen"]
        .as_str()
        .expect("the ConfigMap config sets `listen`");
    let (host, port) = listen.rsplit_once(':').expect("listen is host:port");
    (
        host.to_owned(),
        port.parse().expect("listen port is a number"),
    )
}

/// A port reference (a number or a container port's name) as a number.
fn resolve_port(container: &Yaml, port: &Yaml) -> i64 {
    if let Some(n) = port.as_i64() {
        return n;
    }
    let name = port.as_str().expect("a port is a number or a name");
    list(&container["ports"])
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .and_then(|p| p["containerPort"].as_i64())
        .unwrap_or_else(|| panic!("no container port named {name:?}"))
}

#[test]
fn every_manifest_parses_and_kustomization_lists_them_all() {
    let docs = manifests();
    for (file, doc) in &docs {
        assert!(
            doc["apiVersion"].as_str().is_some() && doc["kind"].as_str().is_some(),
            "{file}: a document without apiVersion/kind"
        );
        if doc["kind"].as_str() != Some("Kustomization") {
            assert!(
                doc["metadata"]["name"].as_str().is_some(),
                "{file}: no metadata.name"
            );
        }
    }
    let kinds: BTreeSet<_> = docs
        .iter()
        .filter_map(|(_, d)| d["kind"].as_str())
        .collect();
    for kind in [
        "Deployment",
        "ConfigMap",
        "ServiceAccount",
        "Service",
        "NetworkPolicy",
    ] {
        assert!(kinds.contains(kind), "no {kind} in deploy/kubernetes");
    }
    let kustomization = one_of_kind("Kustomization");
    let listed: BTreeSet<String> = strings(&kustomization["resources"]).into_iter().collect();
    let files: BTreeSet<String> = docs
        .iter()
        .filter(|(_, d)| d["kind"].as_str() != Some("Kustomization"))
        .map(|(f, _)| f.clone())
        .collect();
    assert_eq!(listed, files, "kustomization.yaml must list every manifest");
}

#[test]
fn deployment_is_one_recreated_writer_probed_on_the_listen_port() {
    let deployment = one_of_kind("Deployment");
    assert_eq!(deployment["spec"]["replicas"].as_i64(), Some(1));
    assert_eq!(
        deployment["spec"]["strategy"]["type"].as_str(),
        Some("Recreate"),
        "two daemons must never write at once"
    );

    let (host, port) = listen();
    assert!(
        host == "0.0.0.0" || host == "[::]",
        "in a pod `listen` must not be loopback, found {host}"
    );
    let c = reconciler_container();
    let container_ports: Vec<_> = list(&c["ports"])
        .iter()
        .filter_map(|p| p["containerPort"].as_i64())
        .collect();
    assert_eq!(
        container_ports,
        [port],
        "containerPort must be the port of `listen`"
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe} path");
        assert_eq!(resolve_port(&c, &get["port"]), port, "{probe} port");
    }
    for name in ["cpu", "memory"] {
        assert!(
            !c["resources"]["requests"][name].is_badvalue(),
            "the reconciler requests no {name}"
        );
    }
    assert_eq!(
        strings(&c["args"]),
        ["--config", "/etc/apigw-reconciler/reconciler.yaml", "run"]
    );
    let config_mount = list(&c["volumeMounts"])
        .into_iter()
        .find(|m| m["mountPath"].as_str() == Some("/etc/apigw-reconciler"))
        .expect("the config is mounted at /etc/apigw-reconciler");
    let volume = list(&pod_spec()["volumes"])
        .into_iter()
        .find(|v| v["name"] == config_mount["name"])
        .expect("the config volume exists");
    assert_eq!(
        volume["configMap"]["name"],
        one_of_kind("ConfigMap")["metadata"]["name"],
        "the config volume is the ConfigMap"
    );
}

#[test]
fn service_exposes_the_metrics_port() {
    let service = one_of_kind("Service");
    let (_, port) = listen();
    let c = reconciler_container();
    let ports = list(&service["spec"]["ports"]);
    assert!(!ports.is_empty());
    for p in &ports {
        assert_eq!(
            resolve_port(&c, &p["targetPort"]),
            port,
            "Service targetPort"
        );
    }
    let pod_labels = &one_of_kind("Deployment")["spec"]["template"]["metadata"]["labels"];
    let selector = service["spec"]["selector"].as_hash().expect("a selector");
    assert!(!selector.is_empty());
    for (k, v) in selector {
        assert_eq!(&pod_labels[k.as_str().unwrap()], v, "selector {k:?}");
    }
    if let Some(path) = service["metadata"]["annotations"]["prometheus.io/path"].as_str() {
        assert_eq!(path, "/metrics");
    }
}

/// What is wrong with a NetworkPolicy for the daemon: it must select exactly the
/// Deployment's pods, deny by default both ways, admit ingress only from named
/// peers (a selector with labels, no ipBlock) to the daemon's port, and egress only
/// to DNS (UDP and TCP 53) and HTTPS (TCP 443).
fn network_policy_problems(policy: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    let deployment = one_of_kind("Deployment");
    let (_, listen_port) = listen();
    let container = reconciler_container();
    if policy["apiVersion"].as_str() != Some("networking.k8s.io/v1") {
        problems.push(format!("apiVersion {:?}", policy["apiVersion"]));
    }
    if policy["metadata"]["namespace"] != deployment["metadata"]["namespace"] {
        problems.push("not in the Deployment's namespace".to_owned());
    }
    let spec = &policy["spec"];
    let selector = &spec["podSelector"]["matchLabels"];
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    if *selector != deployment["spec"]["selector"]["matchLabels"] {
        problems.push(format!(
            "podSelector {selector:?} is not the Deployment's selector"
        ));
    }
    match selector.as_hash() {
        Some(labels) if !labels.is_empty() => {
            for (k, v) in labels {
                if &pod_labels[k.as_str().unwrap_or("")] != v {
                    problems.push(format!("podSelector {k:?}: not a label of the pods"));
                }
            }
        }
        _ => problems.push("podSelector selects no labels (every pod)".to_owned()),
    }
    if !spec["podSelector"]["matchExpressions"].is_badvalue() {
        problems.push("podSelector matchExpressions: use matchLabels".to_owned());
    }
    let types: BTreeSet<String> = strings(&spec["policyTypes"]).into_iter().collect();
    if types != BTreeSet::from(["Ingress".to_owned(), "Egress".to_owned()]) {
        problems.push(format!(
            "policyTypes {types:?}: both Ingress and Egress, so both default to deny"
        ));
    }
    let protocol = |p: &Yaml| p["protocol"].as_str().unwrap_or("TCP").to_owned();

    let ingress = list(&spec["ingress"]);
    if ingress.is_empty() {
        problems.push("no ingress rule: Prometheus cannot scrape".to_owned());
    }
    for (i, rule) in ingress.iter().enumerate() {
        let from = list(&rule["from"]);
        if from.is_empty() {
            problems.push(format!("ingress {i}: no `from`, admits every source"));
        }
        for peer in &from {
            if !peer["ipBlock"].is_badvalue() {
                problems.push(format!("ingress {i}: an ipBlock peer"));
            }
            let labelled = ["namespaceSelector", "podSelector"].iter().any(|k| {
                peer[*k]["matchLabels"]
                    .as_hash()
                    .is_some_and(|l| !l.is_empty())
            });
            let open = ["namespaceSelector", "podSelector"].iter().any(|k| {
                !peer[*k].is_badvalue()
                    && peer[*k]["matchLabels"]
                        .as_hash()
                        .is_none_or(|l| l.is_empty())
            });
            if !labelled || open {
                problems.push(format!(
                    "ingress {i}: a peer without labels to select by admits everyone"
                ));
            }
        }
        let ports = list(&rule["ports"]);
        if ports.is_empty() {
            problems.push(format!("ingress {i}: no `ports`, admits every port"));
        }
        for p in &ports {
            let number = match &p["port"] {
                Yaml::Integer(n) => Some(*n),
                Yaml::String(name) => list(&container["ports"])
                    .iter()
                    .find(|c| c["name"].as_str() == Some(name))
                    .and_then(|c| c["containerPort"].as_i64()),
                _ => None,
            };
            if number != Some(listen_port) || protocol(p) != "TCP" {
                problems.push(format!(
                    "ingress {i}: port {:?}/{} is not the daemon's port {listen_port}/TCP",
                    p["port"],
                    protocol(p)
                ));
            }
        }
    }

    let mut egress_ports = BTreeSet::new();
    for (i, rule) in list(&spec["egress"]).iter().enumerate() {
        let ports = list(&rule["ports"]);
        if ports.is_empty() {
            problems.push(format!("egress {i}: no `ports`, admits every port"));
        }
        for p in &ports {
            match p["port"].as_i64() {
                Some(n) if p["endPort"].is_badvalue() => {
                    egress_ports.insert((protocol(p), n));
                }
                _ => problems.push(format!(
                    "egress {i}: port {:?} is not one number",
                    p["port"]
                )),
            }
        }
    }
    let wanted = BTreeSet::from([
        ("TCP".to_owned(), 53),
        ("UDP".to_owned(), 53),
        ("TCP".to_owned(), 443),
    ]);
    if egress_ports != wanted {
        problems.push(format!(
            "egress ports {egress_ports:?}, expected DNS and HTTPS only {wanted:?}"
        ));
    }
    problems
}

fn network_policy_text() -> String {
    read(&kube_dir().join("networkpolicy.yaml"))
}

fn parse_one(text: &str) -> Yaml {
    YamlLoader::load_from_str(text)
        .expect("the policy parses")
        .remove(0)
}

#[test]
fn network_policy_admits_prometheus_to_the_daemon_port_and_dns_and_https_out() {
    let policy = one_of_kind("NetworkPolicy");
    assert_eq!(
        policy,
        parse_one(&network_policy_text()),
        "the NetworkPolicy is networkpolicy.yaml"
    );
    let problems = network_policy_problems(&policy);
    assert!(
        problems.is_empty(),
        "deploy/kubernetes/networkpolicy.yaml:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_network_policy_check_fails_on_other_pods_ports_or_open_rules() {
    let text = network_policy_text();
    let selector =
        "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: apigw-reconciler\n";
    assert!(text.contains(selector), "the pod selector as written");
    for (what, from, to, expected) in [
        (
            "other pods",
            selector.to_owned(),
            selector.replace("apigw-reconciler", "apigw-reconciler-old"),
            "not the Deployment's selector",
        ),
        (
            "every pod",
            selector.to_owned(),
            "  podSelector: {}\n".to_owned(),
            "selects no labels",
        ),
        (
            "another port",
            "        - port: http\n".to_owned(),
            "        - port: 8080\n".to_owned(),
            "is not the daemon's port",
        ),
        (
            "an unknown port name",
            "        - port: http\n".to_owned(),
            "        - port: metrics\n".to_owned(),
            "is not the daemon's port",
        ),
        (
            "ingress from anywhere",
            "  ingress:\n".to_owned(),
            "  ingress:\n    - ports: [{port: http}]\n".to_owned(),
            "no `from`, admits every source",
        ),
        (
            "ingress from every namespace",
            "        - namespaceSelector:\n".to_owned(),
            "        - namespaceSelector: {}\n        - namespaceSelector:\n".to_owned(),
            "admits everyone",
        ),
        (
            "egress anywhere",
            "  egress:\n".to_owned(),
            "  egress:\n    - {}\n".to_owned(),
            "admits every port",
        ),
        (
            "egress to port 80",
            "        - port: 443\n".to_owned(),
            "        - port: 80\n".to_owned(),
            "expected DNS and HTTPS only",
        ),
        (
            "no default deny out",
            "    - Egress\n".to_owned(),
            String::new(),
            "policyTypes",
        ),
    ] {
        assert!(text.contains(&from), "{what}: {from:?} not in the file");
        let problems = network_policy_problems(&parse_one(&text.replacen(&from, &to, 1)));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{what}: expected a problem with {expected:?}, got {problems:?}"
        );
    }
}

#[test]
fn git_sync_feeds_desired_dir_through_a_shared_read_only_volume() {
    let git_syncs = git_sync_containers();
    assert!(
        git_syncs.iter().any(|(_, init)| !init),
        "a git-sync sidecar runs beside the reconciler"
    );
    let (_, config) = configmap_config();
    let desired = config["desiredDir"].as_str().expect("desiredDir is set");
    let reconciler = reconciler_container();
    let volumes = list(&pod_spec()["volumes"]);
    for (git_sync, init) in &git_syncs {
        let name = git_sync["name"].as_str().unwrap_or("?");
        assert!(
            git_sync["image"]
                .as_str()
                .unwrap()
                .starts_with("registry.k8s.io/git-sync/git-sync:v4"),
            "{name}: git-sync v4"
        );
        assert_eq!(
            strings(&git_sync["args"]).iter().any(|a| a == "--one-time"),
            *init,
            "{name}: only the init container syncs once"
        );
        let git_root = flag(git_sync, "root").expect("--root");
        let link = flag(git_sync, "link").expect("--link");
        let published = format!("{}/{link}", git_root.trim_end_matches('/'));
        assert!(
            desired == published || desired.starts_with(&format!("{published}/")),
            "desiredDir {desired} is not under git-sync's {published}"
        );
        let mount = list(&git_sync["volumeMounts"])
            .into_iter()
            .find(|m| m["mountPath"].as_str() == Some(git_root.as_str()))
            .unwrap_or_else(|| panic!("{name}: nothing mounted at --root {git_root}"));
        assert_ne!(mount["readOnly"].as_bool(), Some(true), "{name} writes");
        let shared = list(&reconciler["volumeMounts"])
            .into_iter()
            .find(|m| m["name"] == mount["name"])
            .unwrap_or_else(|| panic!("the reconciler does not mount {name}'s volume"));
        assert_eq!(
            shared["mountPath"].as_str(),
            Some(git_root.as_str()),
            "the reconciler sees the volume where desiredDir expects it"
        );
        assert_eq!(
            shared["readOnly"].as_bool(),
            Some(true),
            "the reconciler mounts the specs read-only"
        );
        let volume = volumes
            .iter()
            .find(|v| v["name"] == mount["name"])
            .expect("the shared volume is declared");
        assert!(
            !volume["emptyDir"].is_badvalue(),
            "the shared volume is an emptyDir"
        );
    }
}

#[test]
fn every_container_is_locked_down() {
    let spec = pod_spec();
    let pod_non_root = spec["securityContext"]["runAsNonRoot"].as_bool() == Some(true);
    let containers = list(&spec["containers"])
        .into_iter()
        .chain(list(&spec["initContainers"]));
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?").to_owned();
        let sc = &c["securityContext"];
        assert!(
            pod_non_root || sc["runAsNonRoot"].as_bool() == Some(true),
            "{name}: runAsNonRoot"
        );
        assert_ne!(sc["runAsUser"].as_i64(), Some(0), "{name}: runs as root");
        assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
        assert_eq!(
            sc["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}"
        );
        assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"], "{name}");
        assert!(
            !c["resources"]["requests"]["memory"].is_badvalue(),
            "{name}: resource requests"
        );
    }
}

#[test]
fn service_account_is_annotated_for_irsa_and_used() {
    let sa = one_of_kind("ServiceAccount");
    let role = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .expect("eks.amazonaws.com/role-arn annotation");
    assert!(
        role.starts_with("arn:aws:iam::") && role.contains(":role/"),
        "{role}"
    );
    assert_eq!(
        pod_spec()["serviceAccountName"],
        sa["metadata"]["name"],
        "the pod runs as the annotated ServiceAccount"
    );
}

fn desired_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("desired/mydemoresource.yaml"),
        dir.path().join("mydemoresource.yaml"),
    )
    .unwrap();
    dir
}

#[test]
fn configmap_config_passes_validate() {
    let (text, _) = configmap_config();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reconciler.yaml");
    std::fs::write(&config, &text).unwrap();
    let desired = desired_copy();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--desired")
        .arg(desired.path())
        .arg("validate")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "validate refused the ConfigMap's config:\n{stdout}{stderr}"
    );
    assert!(stdout.contains("1 integration response(s)"), "{stdout}");

    // The same check does fail on a config the binary rejects.
    std::fs::write(&config, format!("{text}\nlistenn: 1\n")).unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--desired")
        .arg(desired.path())
        .arg("validate")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The two-target example (`deploy/kubernetes/two-targets`): an overlay of the base
/// whose ConfigMap patch replaces the config; that config passes `validate` (its
/// directories made in a scratch root); the target role's trust policy asks for the
/// external id the config sends, and the daemon's own policy lets it assume exactly
/// the roles the config names.
#[test]
fn the_two_target_example_validates_and_its_iam_documents_fit_its_roles() {
    let dir = root().join("deploy/kubernetes/two-targets");
    let kustomization = YamlLoader::load_from_str(&read(&dir.join("kustomization.yaml")))
        .unwrap()
        .remove(0);
    assert_eq!(kustomization["resources"][0].as_str(), Some("../"));
    assert_eq!(
        kustomization["patches"][0]["path"].as_str(),
        Some("configmap.yaml")
    );
    let patch = YamlLoader::load_from_str(&read(&dir.join("configmap.yaml")))
        .unwrap()
        .remove(0);
    let base = one_of_kind("ConfigMap");
    for field in ["name", "namespace"] {
        assert_eq!(
            patch["metadata"][field], base["metadata"][field],
            "the patch replaces the base ConfigMap ({field})"
        );
    }
    let text = patch["data"]["reconciler.yaml"].as_str().unwrap();
    let config = YamlLoader::load_from_str(text).unwrap().remove(0);
    let targets = config["targets"].as_vec().expect("targets");
    assert_eq!(targets.len(), 2);
    let scratch = tempfile::tempdir().unwrap();
    for t in targets {
        let desired = t["desiredDir"].as_str().unwrap();
        let rel = desired
            .strip_prefix("/git/specs/desired/")
            .expect("each target's specs are a directory of the specs repository");
        std::fs::create_dir_all(scratch.path().join(rel)).unwrap();
        std::fs::copy(
            root().join("desired/mydemoresource.yaml"),
            scratch.path().join(rel).join("mydemoresource.yaml"),
        )
        .unwrap();
    }
    let local = text.replace("/git/specs/desired", &scratch.path().display().to_string());
    let config_path = scratch.path().join("reconciler.yaml");
    std::fs::write(&config_path, local).unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .arg("validate")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "validate (no credentials) refused the two-target config:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in targets {
        let name = t["name"].as_str().unwrap();
        assert!(stdout.contains(&format!("target {name}: ")), "{stdout}");
    }

    let json = |path: &str| -> serde_json::Value {
        serde_json::from_str(&read(&root().join(path))).unwrap()
    };
    let trust = json("deploy/iam/target-role-trust-policy.json");
    let assume = json("deploy/iam/assume-target-roles-policy.json");
    let roles: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["assumeRole"].as_str())
        .collect();
    assert_eq!(roles.len(), 1, "one target assumes a role");
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRole");
    let external_ids: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["externalId"].as_str())
        .collect();
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"].as_str(),
        external_ids.first().copied(),
        "the trust policy asks for the external id the config sends"
    );
    assert_eq!(assume["Statement"][0]["Action"], "sts:AssumeRole");
    let allowed: Vec<&str> = assume["Statement"][0]["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(
        allowed, roles,
        "the daemon may assume exactly the config's roles"
    );
}

fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Wait for `liveness` to answer 200, then check that `readiness` and /metrics are served.
fn probe(port: u16, liveness: &str, readiness: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match http_get(port, liveness) {
            Ok((200, _)) => break,
            _ if Instant::now() > deadline => {
                return Err(format!("{liveness} never answered 200 on port {port}"));
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    // Not ready (API Gateway unreachable) but served: 503, not 404.
    let (status, _) = http_get(port, readiness).map_err(|e| e.to_string())?;
    if status != 200 && status != 503 {
        return Err(format!("{readiness} answered {status}"));
    }
    let (status, body) = http_get(port, "/metrics").map_err(|e| e.to_string())?;
    if status != 200 || !body.contains("apigw_reconciler_") {
        return Err(format!("/metrics answered {status}: {body:.200}"));
    }
    Ok(())
}

/// Run the daemon with the ConfigMap's config (on a free loopback port instead of
/// 0.0.0.0:9479, against an endpoint that refuses connections) and request the paths
/// the manifests name: the binary must serve them.
#[test]
fn the_daemon_serves_the_paths_the_manifests_probe_and_stops_in_time() {
    let (text, _) = configmap_config();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("listen:") {
                format!("listen: 127.0.0.1:{port}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reconciler.yaml");
    std::fs::write(&config, text).unwrap();
    let desired = desired_copy();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--desired")
        .arg(desired.path())
        .arg("--endpoint-url")
        .arg(format!("http://127.0.0.1:{refused}"))
        .arg("run")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let c = reconciler_container();
    let liveness = c["livenessProbe"]["httpGet"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let readiness = c["readinessProbe"]["httpGet"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let result = probe(port, &liveness, &readiness);

    // SIGTERM must end it well within systemd's TimeoutStopSec (15 s) and the pod's
    // terminationGracePeriodSeconds (30 s).
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let stop_deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > stop_deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    result.unwrap();
    let status = status.expect("the daemon did not stop within 15 s of SIGTERM");
    assert!(status.success(), "exit after SIGTERM: {status}");
}

// ---------------------------------------------------------------------------------
// systemd unit
// ---------------------------------------------------------------------------------

fn unit_path() -> PathBuf {
    root().join("deploy/systemd/apigw-reconciler.service")
}

/// (section, key) -> values, in order (a key may repeat).
fn parse_unit(text: &str) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut section = String::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with(';'))
        {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        if let Some(name) = entry.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {entry:?}"));
        out.entry((section.clone(), key.trim().to_owned()))
            .or_default()
            .push(value.trim().to_owned());
    }
    out
}

#[test]
fn systemd_unit_is_hardened_and_restarts() {
    let unit = parse_unit(&read(&unit_path()));
    let get = |key: &str| -> Vec<String> {
        unit.get(&("Service".to_owned(), key.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    let one = |key: &str| -> String {
        let values = get(key);
        assert_eq!(
            values.len(),
            1,
            "[Service] {key}= set once, found {values:?}"
        );
        values[0].clone()
    };
    let user_ok = one("DynamicUser") == "yes" || get("User").iter().any(|u| u != "root");
    assert!(user_ok, "a dedicated user or DynamicUser=yes");
    for (key, value) in [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("Restart", "on-failure"),
        ("KillSignal", "SIGTERM"),
        ("ConfigurationDirectory", "apigw-reconciler"),
    ] {
        assert_eq!(one(key), value, "[Service] {key}");
    }
    let families: BTreeSet<String> = one("RestrictAddressFamilies")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        families,
        ["AF_INET", "AF_INET6", "AF_UNIX"]
            .map(str::to_owned)
            .into_iter()
            .collect()
    );
    for key in ["RestartSec", "TimeoutStopSec"] {
        humantime::parse_duration(&one(key)).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    assert!(
        one("ExecReload").contains("-HUP $MAINPID"),
        "reload = SIGHUP"
    );
    let exec = one("ExecStart");
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert!(args[0].starts_with('/') && args[0].ends_with("/apigw-reconciler"));
    assert_eq!(
        &args[1..],
        ["--config", "/etc/apigw-reconciler/reconciler.yaml", "run"],
        "the config lives in the ConfigurationDirectory"
    );
    for value in get("Environment") {
        for secret in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SESSION_TOKEN",
        ] {
            assert!(
                !value.contains(secret),
                "no inline credentials in Environment=: {value}"
            );
        }
    }
    assert!(get("Environment").iter().any(|v| v.contains("AWS_REGION")));
    assert_eq!(
        unit.get(&("Install".to_owned(), "WantedBy".to_owned())),
        Some(&vec!["multi-user.target".to_owned()])
    );
}

fn systemd_analyze_available() -> bool {
    Command::new("systemd-analyze")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    if !systemd_analyze_available() {
        eprintln!("systemd-analyze not installed: skipping `systemd-analyze verify`");
        return;
    }
    // verify checks that ExecStart exists: point it at the binary just built.
    let text = read(&unit_path()).replace("/usr/local/bin/apigw-reconciler", BIN);
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("apigw-reconciler.service");
    std::fs::write(&unit, text).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Warnings about our unit (unknown keys, bad values) name the file; warnings about
    // other units on the host do not concern us.
    let ours: Vec<_> = output
        .lines()
        .filter(|l| l.contains("apigw-reconciler.service"))
        .collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify:\n{output}"
    );
}

// ---------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------

/// (instruction, arguments) with continuation lines joined and comments dropped.
fn dockerfile() -> Vec<(String, String)> {
    let text = read(&root().join("deploy/container/Dockerfile"));
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || (logical.is_empty() && line.is_empty()) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let (instruction, args) = entry
            .split_once(char::is_whitespace)
            .unwrap_or((&entry, ""));
        out.push((instruction.to_ascii_uppercase(), args.trim().to_owned()));
    }
    out
}

#[test]
fn dockerfile_builds_in_one_stage_and_runs_non_root_in_another() {
    let instructions = dockerfile();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| i == "FROM")
        .map(|(n, _)| n)
        .collect();
    assert!(stages.len() >= 2, "a multi-stage build");
    let from = |n: usize| -> Vec<String> {
        instructions[n]
            .1
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let builder = stages
        .iter()
        .copied()
        .find(|&n| {
            let f = from(n);
            f.len() == 3 && f[1].eq_ignore_ascii_case("AS") && f[2] == "builder"
        })
        .expect("FROM <image> AS builder");
    assert!(from(builder)[0].starts_with("rust:"), "{:?}", from(builder));
    let last = *stages.last().unwrap();
    assert_ne!(builder, last, "the runtime stage is not the builder");
    let builder_stage = &instructions[builder..*stages.iter().find(|&&n| n > builder).unwrap()];
    assert!(
        builder_stage
            .iter()
            .any(|(i, a)| i == "RUN" && a.contains("cargo build --release --locked")),
        "cargo build --release --locked in the builder"
    );
    for (i, a) in builder_stage {
        if i == "COPY" && !a.starts_with("--") {
            let parts: Vec<_> = a.split_whitespace().collect();
            for source in &parts[..parts.len() - 1] {
                assert!(
                    root().join(source).exists(),
                    "COPY {source}: not in the repository"
                );
            }
        }
    }
    let runtime = &instructions[last..];
    assert!(
        runtime
            .iter()
            .any(|(i, a)| i == "COPY" && a.starts_with("--from=builder ")),
        "COPY --from=builder in the runtime stage"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(i, _)| i == "USER")
        .map(|(_, a)| a.clone())
        .expect("USER in the runtime stage");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid == "nonroot" || uid.parse::<u32>().is_ok_and(|n| n != 0),
        "USER {user} is not a non-root user"
    );
    let json = |instruction: &str| -> Vec<String> {
        let (_, a) = runtime
            .iter()
            .find(|(i, _)| i == instruction)
            .unwrap_or_else(|| panic!("{instruction} in the runtime stage"));
        serde_json::from_str(a).unwrap_or_else(|e| panic!("{instruction} in exec form: {e}"))
    };
    let entrypoint = json("ENTRYPOINT");
    assert_eq!(entrypoint.len(), 1);
    assert!(entrypoint[0].ends_with("apigw-reconciler"));
    assert_eq!(
        json("CMD"),
        ["--config", "/etc/apigw-reconciler/reconciler.yaml", "run"]
    );
    let (_, port) = listen();
    assert!(
        runtime
            .iter()
            .any(|(i, a)| i == "EXPOSE" && a.split_whitespace().any(|p| p == port.to_string())),
        "EXPOSE {port}"
    );
}
