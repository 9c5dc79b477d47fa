#!/usr/bin/env bash
# Regenerates tests/golden/java-string-methods.json: what real Java returns or throws for
# String.matches / replaceAll / replaceFirst / split(regex) / split(regex, limit) on every
# case of cases.txt (the methods VTL templates call, src/vtl/regex.rs on src/jregex).
#
#   scripts/golden/java-string-methods/generate.sh [CASES OUT.json]
#
# Reads   scripts/golden/java-string-methods/cases.txt   (edit it to add cases)
# Writes  tests/golden/java-string-methods.json           (committed; CI has no Java)
# Then `cargo test --lib vtl::regex` runs every case through the template engine.
#
# Needs a JDK (javac + java; 17 is what the committed file was made with, as its
# "java_version" says); installs Debian's default JDK with apt-get if javac is missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

if ! command -v javac >/dev/null 2>&1; then
    echo "generate.sh: javac not found, installing default-jdk-headless" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless >/dev/null
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -d "$build" "$here/JavaStringMethodsGolden.java"
cases="${1:-$here/cases.txt}"
out="${2:-$root/tests/golden/java-string-methods.json}"
java -Xss64m -cp "$build" JavaStringMethodsGolden "$cases" "$out"
echo "generate.sh: wrote $out ($(grep -c '"id":' "$out") cases; $(java -version 2>&1 | head -1))"
