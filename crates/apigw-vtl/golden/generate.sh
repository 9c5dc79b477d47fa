#!/usr/bin/env bash
# Regenerates crates/apigw-vtl/golden/vtl.json: every case of cases.json rendered by the real
# Apache Velocity 1.7 (Debian's "velocity" package) with API Gateway's variables as
# implemented in VtlGolden.java (JSON through Jayway JsonPath over json-smart, Debian's
# libjsonpath-java / libjson-smart-java, as API Gateway's printing of JSON shows it uses).
#
#   crates/apigw-vtl/golden/generate.sh            # from anywhere in the repository
#
# Needs a JDK (javac/java 17) and apt for the packages below (installed only if missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
J=/usr/share/java

need=()
[ -f "$J/velocity-1.7.jar" ] || need+=(velocity)
[ -f "$J/commons-lang.jar" ] || need+=(libcommons-lang-java)
[ -f "$J/commons-collections3.jar" ] || need+=(libcommons-collections3-java)
[ -f "$J/json-path.jar" ] || need+=(libjsonpath-java)
[ -f "$J/json-smart.jar" ] || need+=(libjson-smart-java)
[ -f "$J/slf4j-nop.jar" ] || need+=(libslf4j-java)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
command -v javac >/dev/null || { echo "generate.sh: javac (a JDK) is required" >&2; exit 1; }

cp="$J/velocity-1.7.jar:$J/commons-collections3.jar:$J/commons-lang.jar"
cp="$cp:$J/json-path.jar:$J/json-smart.jar:$J/accessors-smart.jar:$J/asm.jar"
cp="$cp:$J/slf4j-api.jar:$J/slf4j-nop.jar"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -nowarn -encoding UTF-8 -d "$build" -cp "$cp" "$here/VtlGolden.java"
java -Dfile.encoding=UTF-8 -cp "$build:$cp" VtlGolden golden "$here/cases.json" "$root/crates/apigw-vtl/golden/vtl.json"
