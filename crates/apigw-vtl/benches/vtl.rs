//! Template parse and render speed (`cargo bench -p apigw-vtl --bench vtl`): the seed example's XML
//! template and a ~10 KiB template with a `#foreach` over a 100-element array building
//! JSON, as `validate` (parse) and `test` (render) use them. Prints a Markdown table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use apigw_vtl::{self as vtl, Inputs};

const SEED: &str = "#set($inputRoot = $input.path('$'))\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<message>\n    $inputRoot.body\n</message>\n";

/// A 10 KiB template: static fields and `$root` mappings around a `#foreach` that builds
/// a JSON array of the body's 100 items.
fn foreach_template() -> String {
    let mut t = String::from("#set($root = $input.path('$'))\n{\n");
    let mut fields = 0;
    while t.len() < 10 * 1024 - 300 {
        t.push_str(&format!(
            "  \"meta{fields}\": \"$util.escapeJavaScript($root.body)-{fields}\",\n"
        ));
        fields += 1;
    }
    t.push_str("  \"items\": [\n#foreach($item in $root.items)\n    {\"id\": $item.id, \"name\": \"$util.escapeJavaScript($item.name)\"}#if($foreach.hasNext),#end\n\n#end\n  ]\n}\n");
    t
}

fn body(items: usize) -> String {
    let items: Vec<String> = (0..items)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"item '{i}'\"}}"))
        .collect();
    format!("{{\"body\": \"Hello\", \"items\": [{}]}}", items.join(","))
}

/// Runs `f` for at least `budget` and returns the rate per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmark skipped outside `cargo bench -p apigw-vtl --bench vtl`");
        return;
    }
    let budget = Duration::from_secs(2);
    let big = foreach_template();
    let cases = [
        ("seed (XML)", SEED.to_owned(), body(0)),
        ("10 KiB #foreach", big, body(100)),
    ];
    // A fixed amount of work instead of a timed rate, for instruction counts that do not
    // depend on the machine's load: `VTL_BENCH_ITERS=2000 valgrind --tool=callgrind
    // target/release/deps/vtl-* --bench`;
    // `VTL_BENCH_ONLY=seed` runs only the cases whose name contains it.
    if let Some(iters) = std::env::var("VTL_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
    {
        let only = std::env::var("VTL_BENCH_ONLY").unwrap_or_default();
        for (name, text, body) in cases.iter().filter(|(n, ..)| n.contains(only.as_str())) {
            let template = vtl::parse(text).unwrap();
            let inputs = Inputs {
                body: body.clone(),
                ..Inputs::default()
            };
            for _ in 0..iters {
                black_box(vtl::render(&template, black_box(&inputs)).unwrap());
            }
            println!("{name}: {iters} renders");
        }
        return;
    }
    println!("| template | size | parses/s | renders/s (parsed once) | output |");
    println!("|---|---:|---:|---:|---:|");
    for (name, text, body) in cases {
        let parses = rate(budget, || {
            black_box(vtl::parse(black_box(&text)).unwrap());
        });
        let template = vtl::parse(&text).unwrap();
        let inputs = Inputs {
            body,
            ..Inputs::default()
        };
        let out = vtl::render(&template, &inputs).unwrap().body.len();
        let renders = rate(budget, || {
            black_box(vtl::render(&template, black_box(&inputs)).unwrap());
        });
        println!(
            "| {name} | {} B | {parses:.0} | {renders:.0} | {out} B |",
            text.len()
        );
    }
}
