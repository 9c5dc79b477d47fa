#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo fuzz (libFuzzer), for a bounded time, of one target:
#
#   scripts/fuzz.sh [SECONDS] [TARGET]       default 60 s, target load_validate
#
#   load_validate   spec load + validate (and the config parser), any bytes as a file
#                   (fuzz/, on the reconciler)
#   vtl_parse       the VTL template parser, and the renderer on what parses
#                   (crates/apigw-vtl/fuzz, on the template engine alone)
#   regex           Java regex compile, match, search, replace and split
#                   (crates/java-regex/fuzz, on the regex engine alone)
#
# The machine has only a stable toolchain; cargo fuzz needs -Z flags, which
# RUSTC_BOOTSTRAP=1 allows on stable. Each target's fuzz directory is a workspace of its
# own, so no crate's build ever sees it.
#
# Corpus: <fuzz dir>/corpus/<TARGET>/ (kept in git), seeded on every run, read-only:
# load_validate from desired/, config/ and tests/bad-inputs/ (the `bytes` inputs of its
# `generate` files included); vtl_parse from the templates of the Velocity goldens and
# of the specs under desired/; regex from the patterns and inputs of the Java regex
# goldens. New inputs that add coverage are merged into the kept corpus (minimised
# with `cargo fuzz cmin`) at the end. A panic stops the run: the input is in
# <fuzz dir>/artifacts/<TARGET>/ and `cargo fuzz run --fuzz-dir <fuzz dir> <TARGET>
# <file>` replays it; the script then exits non-zero.
#
# Environment: FUZZ_SANITIZER (none | address; default none: the code under test is
# safe Rust, and without ASan it runs several times faster), FUZZ_JOBS (default 1),
# FUZZ_MAX_LEN (default 16384 bytes), CARGO_TARGET_DIR (default <fuzz dir>/target).
set -euo pipefail

seconds="${1:-60}"
target="${2:-load_validate}"
case "$target" in
load_validate) fuzz_dir=fuzz ;;
vtl_parse) fuzz_dir=crates/apigw-vtl/fuzz ;;
regex) fuzz_dir=crates/java-regex/fuzz ;;
*)
    echo "fuzz.sh: unknown target '$target' (load_validate | vtl_parse | regex)" >&2
    exit 2
    ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

corpus="$fuzz_dir/corpus/$target"
mkdir -p "$corpus"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT

n=0
if [ "$target" = load_validate ]; then
    # Seeds: every spec and config file of the repository and of the bad-input corpus.
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        cp "$f" "$seeds/seed-$n-$(basename "$f")"
    done < <(find desired config tests/bad-inputs -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
    # All of desired/ as one file: specs with the response tests that run against them.
    n=$((n + 1))
    find desired -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z |
        xargs -0 awk 'FNR == 1 && NR > 1 { print "---" } { print }' > "$seeds/seed-$n-desired.yaml"
    # The inputs tests/bad-inputs/*/generate spells as escaped bytes (non-UTF-8, NUL, BOM).
    while IFS= read -r -d '' g; do
        while read -r word file text; do
            if [ "$word" = bytes ]; then
                n=$((n + 1))
                printf '%b' "$text" > "$seeds/seed-$n-$(basename "$file")"
            fi
        done < "$g"
    done < <(find tests/bad-inputs -name generate -print0)
elif [ "$target" = regex ]; then
    # Seeds: each pattern of the Java regex goldens with its first input, NUL between.
    n="$(python3 - "$seeds" <<'PY'
import json, os, sys
cases = json.load(open("crates/java-regex/golden/java-regex.json"))["cases"]
for i, c in enumerate(cases):
    text = c["matches"][0][0] if c.get("matches") else ""
    with open(os.path.join(sys.argv[1], f"seed-{i}"), "w", encoding="utf-8") as f:
        f.write(c["pattern"] + "\0" + text)
print(len(cases))
PY
)"
else
    # Seeds: every template of the golden VTL corpus and of the specs (PyYAML reads
    # the specs when it is installed; the golden corpus alone is plenty otherwise).
    n="$(python3 - "$seeds" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
templates = [c["template"] for c in json.load(open("crates/apigw-vtl/golden/vtl.json"))["cases"]]
try:
    import yaml
    for path in sorted(glob.glob("desired/**/*.y*ml", recursive=True)):
        for doc in yaml.safe_load_all(open(path, encoding="utf-8")):
            if isinstance(doc, dict) and isinstance(doc.get("responseTemplates"), dict):
                templates += [t for t in doc["responseTemplates"].values() if t]
except ImportError:
    print("fuzz.sh: PyYAML missing, desired/ templates not seeded", file=sys.stderr)
for i, t in enumerate(templates):
    with open(os.path.join(out, f"seed-{i}"), "w", encoding="utf-8") as f:
        f.write(t)
print(len(templates))
PY
)"
fi
echo "fuzz.sh: $n seed files, $(find "$corpus" -type f | wc -l) inputs in $corpus" >&2

sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"
parallel=()
if [ "$jobs" -gt 1 ]; then
    parallel=(-jobs="$jobs" -workers="$jobs")
fi
status=0
cargo fuzz run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" --debug-assertions "$target" "$corpus" "$seeds" -- \
    -max_total_time="$seconds" \
    -max_len="${FUZZ_MAX_LEN:-16384}" \
    -timeout=10 \
    -print_final_stats=1 \
    "${parallel[@]}" || status=$?

if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: the fuzzer stopped with status $status: see $fuzz_dir/artifacts/$target/" >&2
    exit "$status"
fi

# Keep the corpus small: only inputs that reach an edge no other input reaches (hit
# counts ignored: with them the corpus is about five times larger for the same edges).
cargo fuzz cmin --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" --debug-assertions "$target" "$corpus" -- -use_counters=0 >/dev/null 2>&1 ||
    echo "fuzz.sh: cmin failed; the corpus was left as it is" >&2
echo "fuzz.sh: corpus $(find "$corpus" -type f | wc -l) files, $(du -sk --apparent-size "$corpus" | cut -f1) KiB" >&2
