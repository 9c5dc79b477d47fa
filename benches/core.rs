//! The pure core at scale: load + validate, diff and render for 1,000 / 10,000 /
//! 100,000 integration responses, with CPU time and peak memory. No network.
//!
//! `cargo bench --bench core` (prints a table; asserts nothing).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use apigw_reconciler::diff::{DiffOptions, diff};
use apigw_reconciler::evaluate::{LoadOptions, SpecCache, load_desired_cached};
use apigw_reconciler::live::memory::method_declaring;
use apigw_reconciler::live::{LiveResource, LiveSnapshot, RestApiSummary};
use apigw_reconciler::model::Settings;
use apigw_reconciler::render::{Style, render_text};

const CODES: [&str; 4] = ["200", "400", "404", "500"];
const DOCS_PER_FILE: usize = 1_000;

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

/// Peak resident memory of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    kib / 1024.0
}

fn template(i: usize, code: &str) -> String {
    format!(
        "#set($root = $input.path('$'))\n{{\"resource\": {i}, \"status\": \"{code}\", \"body\": $root.body}}\n"
    )
}

fn write_specs(dir: &std::path::Path, resources: usize) {
    let mut file = String::new();
    let mut docs = 0usize;
    for i in 0..resources {
        for code in CODES {
            let pattern = if code == "200" {
                String::new()
            } else {
                format!("selectionPattern: \"{code}\"\n")
            };
            let _ = write!(
                file,
                "---\nkind: IntegrationResponse\nrestApiName: Big\nresourcePath: /r{i}\nhttpMethod: GET\nstatusCode: \"{code}\"\n\
                 {pattern}responseParameters:\n  method.response.header.X-Id: integration.response.header.X-Id\n\
                 responseTemplates:\n  application/json: |\n    {}\n",
                template(i, code).trim_end().replace('\n', "\n    ")
            );
            docs += 1;
            if docs.is_multiple_of(DOCS_PER_FILE) {
                std::fs::write(
                    dir.join(format!("specs-{:04}.yaml", docs / DOCS_PER_FILE)),
                    &file,
                )
                .unwrap();
                file.clear();
            }
        }
    }
    if !file.is_empty() {
        std::fs::write(dir.join("specs-last.yaml"), &file).unwrap();
    }
}

/// The live state: every response present, one in ten with a drifted template.
fn live(resources: usize) -> LiveSnapshot {
    let items = (0..resources)
        .map(|i| {
            let mut method = method_declaring(&CODES, &["X-Id"]);
            for (k, code) in CODES.iter().copied().enumerate() {
                let drifted = (i * CODES.len() + k).is_multiple_of(10);
                let body = if drifted {
                    "drifted".to_owned()
                } else {
                    template(i, code)
                };
                method.integration_responses.insert(
                    code.to_owned(),
                    Settings {
                        selection_pattern: (code != "200").then(|| code.to_owned()),
                        response_parameters: [(
                            "method.response.header.X-Id".to_owned(),
                            "integration.response.header.X-Id".to_owned(),
                        )]
                        .into(),
                        response_templates: [("application/json".to_owned(), body)].into(),
                        content_handling: None,
                    },
                );
            }
            LiveResource {
                id: format!("id{i}"),
                path: format!("/r{i}"),
                methods: [("GET".to_owned(), method)].into(),
            }
        })
        .collect();
    LiveSnapshot {
        rest_apis: vec![RestApiSummary {
            id: "big".into(),
            name: "Big".into(),
        }],
        resources: [("big".to_owned(), items)].into(),
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmark skipped outside `cargo bench --bench core`");
        return;
    }
    println!(
        "| responses | load+validate (cold) | load (warm, cached) | diff | render | updates | CPU load+validate+diff | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    // BENCH_SIZES=100000 runs one size (peak RSS is per process).
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![1_000, 10_000, 100_000]);
    for responses in sizes {
        let resources = responses / CODES.len();
        let dir = tempfile::tempdir().unwrap();
        write_specs(dir.path(), resources);
        let live = live(resources);

        let cpu0 = cpu_time();
        let t = Instant::now();
        let mut cache = SpecCache::default();
        let set = load_desired_cached(dir.path(), &mut cache, &LoadOptions::default())
            .unwrap()
            .set;
        let cold = t.elapsed();
        let t = Instant::now();
        let plan = diff(&set, &live, &DiffOptions::default()).unwrap();
        let diff_time = t.elapsed();
        let cpu = cpu_time() - cpu0;

        let t = Instant::now();
        load_desired_cached(dir.path(), &mut cache, &LoadOptions::default()).unwrap();
        let warm = t.elapsed();
        let t = Instant::now();
        let text = render_text(&plan, &[], Style { color: false });
        let render = t.elapsed();
        assert_eq!(set.specs.len(), responses);
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {responses} | {} | {} | {} | {} ({} KiB) | {} | {} | {:.0} MiB |",
            ms(cold),
            ms(warm),
            ms(diff_time),
            ms(render),
            text.len() / 1024,
            plan.actions.len(),
            ms(cpu),
            peak_rss_mib()
        );
    }
}
