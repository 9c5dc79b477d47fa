#!/usr/bin/env bash
# Regenerates the Java regex goldens and the Unicode tables of crates/java-regex from real Java.
#
#   crates/java-regex/golden/generate.sh [CORPUS OUT.json]
#
# Reads   crates/java-regex/golden/corpus.txt   (patterns and inputs; edit it to add cases)
# Writes  crates/java-regex/golden/java-regex.json            (java.util.regex verdicts, committed)
#         crates/java-regex/src/tables.rs                    (java.lang.Character data, committed)
# Then `cargo test jregex` compares the Rust engine against the goldens.
#
# With CORPUS and OUT.json (e.g. a random corpus from random_corpus.py) it writes OUT.json
# only; compare with `JREGEX_GOLDEN=OUT.json cargo test --lib jregex -- --ignored --nocapture`.
#
# Needs a JDK (javac + java): the Java the committed files were made with (their
# "java_version"; scripts/same-java.sh refuses another unless GOLDEN_NEW_JAVA=1);
# installs Debian's default JDK with apt-get if javac is missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

if ! command -v javac >/dev/null 2>&1; then
    echo "generate.sh: javac not found, installing default-jdk-headless" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless >/dev/null
fi

# the committed goldens and tables come from one Java: refuse another
bash "$root/scripts/same-java.sh" "$root/crates/java-regex/golden/java-regex.json"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -d "$build" "$here/JavaRegexGolden.java"
corpus="${1:-$here/corpus.txt}"
out="${2:-$root/crates/java-regex/golden/java-regex.json}"
tables="$root/crates/java-regex/src/tables.rs"
[ $# -ge 2 ] && tables="$build/tables.rs"
java -Xss64m \
    --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/java.util.regex=ALL-UNNAMED \
    -cp "$build" JavaRegexGolden "$corpus" "$out" "$tables"
echo "generate.sh: wrote $out${2:+ only} ($(java -version 2>&1 | head -1))"
