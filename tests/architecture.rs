//! ARCHITECTURE.md's invariants, checked on the source: the reconciler's top-level
//! modules form no circle, the layers point the way the map says, and the crates that
//! do I/O are used only by their edge module. The graph is read from `crate::<module>`
//! paths in each module's non-test code (files named `tests.rs` or under `tests/`, and
//! everything after a `#[cfg(test)] mod`, are test code).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each file's non-test code, by the top-level module it belongs to.
fn sources() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    for path in files {
        let rel = path.strip_prefix(&src).expect("under src");
        let parts: Vec<&str> = rel.iter().map(|p| p.to_str().expect("UTF-8")).collect();
        let is_test =
            parts.last() == Some(&"tests.rs") || parts[..parts.len() - 1].contains(&"tests");
        let module = parts[0].trim_end_matches(".rs").to_string();
        if is_test || module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let code = match text.find("#[cfg(test)]\nmod ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        // comments may name modules without using them
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        out.entry(module).or_default().push((path, code));
    }
    out
}

/// The modules `code` reaches as `crate::<name>` or inside `crate::{...}`.
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    used.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

fn graph() -> Graph {
    let sources = sources();
    // what `crate::` reaches that is a module: ours, or an engine's re-export (a
    // nested `crate::{a::{B, c}}` or a re-exported item names no module)
    let is_module = |name: &str| sources.contains_key(name) || ["jregex", "vtl"].contains(&name);
    let mut g = Graph::new();
    for (module, files) in &sources {
        let deps = g.entry(module.clone()).or_default();
        for (_, code) in files {
            deps.extend(
                used_modules(code)
                    .into_iter()
                    .filter(|d| d != module && is_module(d)),
            );
        }
    }
    g
}

/// The circles of `g` (strongly connected components of more than one module).
fn circles(g: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm
    struct State<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.g.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("on the stack");
                s.on.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_modules_form_no_circle() {
    let g = graph();
    assert!(g.len() > 15, "only {} modules found: {g:?}", g.len());
    assert_eq!(
        circles(&g),
        Vec::<Vec<String>>::new(),
        "the module graph: {g:#?}"
    );
}

#[test]
fn the_layers_point_the_way_the_map_says() {
    let g = graph();
    let uses = |m: &str| g.get(m).cloned().unwrap_or_default();
    // documents and the desired set know nothing of the test engine, the loader step
    // above both, planning, the API, output or the daemon
    let below: BTreeSet<String> = [
        "escape", "files", "jregex", "model", "vecmap", "vtl", "yaml",
    ]
    .map(String::from)
    .into();
    assert!(
        uses("desired").is_subset(&below),
        "desired uses {:?}",
        uses("desired")
    );
    // the response-test engine sits on the desired set, the engines and escaping only
    let engine: BTreeSet<String> = ["desired", "escape", "jregex", "vtl"]
        .map(String::from)
        .into();
    assert!(
        uses("response_test").is_subset(&engine),
        "response_test uses {:?}",
        uses("response_test")
    );
    // only the loader step above them sees both
    let both: Vec<&String> = g
        .iter()
        .filter(|(_, d)| d.contains("desired") && d.contains("response_test"))
        .map(|(m, _)| m)
        .filter(|m| *m != "cli")
        .collect();
    assert_eq!(
        both,
        ["evaluate"],
        "modules using both the set and the engine"
    );
    // the pure core knows none of the edges that drive it
    for pure in [
        "yaml",
        "model",
        "diff",
        "render",
        "desired",
        "response_test",
        "escape",
    ] {
        for edge in ["cli", "daemon", "server", "watch"] {
            assert!(!uses(pure).contains(edge), "{pure} uses {edge}");
        }
    }
}

/// ARCHITECTURE.md's list of layers: a module uses only modules of its own layer or
/// of a layer above it.
const LAYERS: &[&[&str]] = &[
    &["vecmap", "files", "escape", "model", "yaml", "backoff"],
    &["desired"],
    &["response_test"],
    &["evaluate"],
    &["config"],
    &["live", "diff", "executor", "redeploy", "render"],
    &[
        "reconcile",
        "export",
        "schema",
        "metrics",
        "status",
        "shutdown",
    ],
    &["watch", "server", "daemon", "cli"],
];

#[test]
fn every_module_uses_only_its_layer_or_those_above() {
    let g = graph();
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let engines = ["jregex", "vtl"];
    for (module, deps) in &g {
        let Some(own) = layer(module) else {
            panic!("module `{module}` is in no layer of ARCHITECTURE.md: add it there and here");
        };
        for dep in deps.iter().filter(|d| !engines.contains(&d.as_str())) {
            match layer(dep) {
                Some(l) => assert!(
                    l <= own,
                    "`{module}` (layer {own}) uses `{dep}` (layer {l}), a layer below it"
                ),
                None => panic!("`{module}` uses `{dep}`, which is in no layer"),
            }
        }
    }
}

#[test]
fn io_crates_are_used_only_at_their_edge() {
    let edges = [
        ("aws_sdk_apigateway", "live"),
        ("aws_config", "live"),
        ("aws_sdk_sts", "live"),
        ("axum", "server"),
        ("hyper", "server"),
        ("notify", "watch"),
    ];
    for (module, files) in sources() {
        for (path, code) in files {
            for (krate, edge) in edges {
                let used =
                    code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}"));
                assert!(
                    !used || module == edge,
                    "{} uses {krate}, which only `{edge}` may",
                    path.display()
                );
            }
        }
    }
}
