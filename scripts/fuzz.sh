#!/usr/bin/env bash
# Coverage-guided fuzzing of spec load + validate (and the config parser) with
# cargo fuzz (libFuzzer), for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        default 60
#
# The machine has only a stable toolchain; cargo fuzz needs -Z flags, which
# RUSTC_BOOTSTRAP=1 allows on stable. The target (fuzz/fuzz_targets/load_validate.rs)
# lives in its own workspace under fuzz/, so the main crate's build never sees it.
#
# Corpus: fuzz/corpus/load_validate/ (kept in git), seeded on every run, read-only,
# from desired/, config/ and tests/bad-inputs/ (the `bytes` inputs of its `generate`
# files included). New inputs that add coverage are merged into the kept corpus
# (minimised with `cargo fuzz cmin`) at the end. A panic stops the run: the input is
# in fuzz/artifacts/load_validate/ and `cargo fuzz run load_validate <file>` replays
# it; the script then exits non-zero.
#
# Environment: FUZZ_SANITIZER (none | address; default none: the code under test is
# safe Rust, and without ASan it runs several times faster), FUZZ_JOBS (default 1),
# FUZZ_MAX_LEN (default 16384 bytes), CARGO_TARGET_DIR (default fuzz/target).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

target=load_validate
corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT

# Seeds: every spec and config file of the repository and of the bad-input corpus.
n=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    cp "$f" "$seeds/seed-$n-$(basename "$f")"
done < <(find desired config tests/bad-inputs -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
# The inputs tests/bad-inputs/*/generate spells as escaped bytes (non-UTF-8, NUL, BOM).
while IFS= read -r -d '' g; do
    while read -r word file text; do
        if [ "$word" = bytes ]; then
            n=$((n + 1))
            printf '%b' "$text" > "$seeds/seed-$n-$(basename "$file")"
        fi
    done < "$g"
done < <(find tests/bad-inputs -name generate -print0)
echo "fuzz.sh: $n seed files, $(find "$corpus" -type f | wc -l) inputs in $corpus" >&2

sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"
parallel=()
if [ "$jobs" -gt 1 ]; then
    parallel=(-jobs="$jobs" -workers="$jobs")
fi
status=0
cargo fuzz run --sanitizer "$sanitizer" --debug-assertions "$target" "$corpus" "$seeds" -- \
    -max_total_time="$seconds" \
    -max_len="${FUZZ_MAX_LEN:-16384}" \
    -timeout=10 \
    -print_final_stats=1 \
    "${parallel[@]}" || status=$?

if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: the fuzzer stopped with status $status: see fuzz/artifacts/$target/" >&2
    exit "$status"
fi

# Keep the corpus small: only inputs that reach an edge no other input reaches (hit
# counts ignored: with them the corpus is about five times larger for the same edges).
cargo fuzz cmin --sanitizer "$sanitizer" --debug-assertions "$target" "$corpus" -- -use_counters=0 >/dev/null 2>&1 ||
    echo "fuzz.sh: cmin failed; the corpus was left as it is" >&2
echo "fuzz.sh: corpus $(find "$corpus" -type f | wc -l) files, $(du -sk --apparent-size "$corpus" | cut -f1) KiB" >&2
