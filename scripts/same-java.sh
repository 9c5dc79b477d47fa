#!/usr/bin/env bash
# Refuses (exit 1) unless the `java` on PATH is the Java that made a committed golden
# file (its "java_version"), so regenerated goldens never mix two Javas' behaviour
# (Unicode tables, regex quirks) with the ones kept. GOLDEN_NEW_JAVA=1 allows another
# Java on purpose: then regenerate every golden of that Java (see the crates' READMEs).
#
#   scripts/same-java.sh GOLDEN.json
set -euo pipefail
golden="$1"
recorded="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["java_version"])' "$golden")"
running="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.version = //p')"
if [ "$running" != "$recorded" ]; then
    if [ "${GOLDEN_NEW_JAVA:-}" = 1 ]; then
        echo "same-java.sh: Java $running replaces $recorded for $golden (GOLDEN_NEW_JAVA=1)" >&2
        exit 0
    fi
    echo "same-java.sh: $golden was made with Java $recorded, this is Java $running;" >&2
    echo "  install that Java, or set GOLDEN_NEW_JAVA=1 and regenerate every golden of it" >&2
    exit 1
fi
