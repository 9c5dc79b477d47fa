#!/usr/bin/env bash
# Regenerates crates/apigw-vtl/golden/java-string-methods.json: what real Java returns or throws for
# String.matches / replaceAll / replaceFirst / split(regex) / split(regex, limit) on every
# case of cases.txt (the methods VTL templates call, crates/apigw-vtl/src/regex.rs on crates/java-regex).
#
#   crates/apigw-vtl/golden/java-string-methods/generate.sh [CASES OUT.json]
#
# Reads   crates/apigw-vtl/golden/java-string-methods/cases.txt   (edit it to add cases)
# Writes  crates/apigw-vtl/golden/java-string-methods.json           (committed; CI has no Java)
# Then `cargo test -p apigw-vtl regex` runs every case through the template engine.
#
# Needs a JDK (javac + java): the Java the committed file was made with (its
# "java_version", the same as the regex engine's goldens and tables; scripts/same-java.sh
# refuses another unless GOLDEN_NEW_JAVA=1); installs Debian's default JDK if missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"

if ! command -v javac >/dev/null 2>&1; then
    echo "generate.sh: javac not found, installing default-jdk-headless" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless >/dev/null
fi

# one Java for every Java golden: refuse another (see scripts/same-java.sh)
bash "$root/scripts/same-java.sh" "$root/crates/apigw-vtl/golden/java-string-methods.json"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -d "$build" "$here/JavaStringMethodsGolden.java"
cases="${1:-$here/cases.txt}"
out="${2:-$root/crates/apigw-vtl/golden/java-string-methods.json}"
java -Xss64m -cp "$build" JavaStringMethodsGolden "$cases" "$out"
echo "generate.sh: wrote $out ($(grep -c '"id":' "$out") cases; $(java -version 2>&1 | head -1))"
