"""Issue 21's workload as a benchmark of our own: `test` on 1,000 distinct response
tests and `validate` on 100,000 distinct integration responses, whole process, against
one or more builds of apigw-reconciler and (with --jvm) Apache Velocity 1.7 on a JVM.

Workload 1, `test` (a desired directory, deterministic for a --seed):
  - 500 seed-like tests: a small template over a small JSON body. 250 render XML in
    the seed's shape (`#set($inputRoot = $input.path('$'))`, then text with a reference
    or two), expected as exact text (`expect.body`); 250 render a one-line JSON object,
    expected as JSON (`expect.json`).
  - 500 big tests: a 2.3-2.4 KiB template that loops with `#foreach` over the 100 items
    of `$input.path('$.items')` (a nested `#foreach` over each item's tags), with
    `#if/#elseif/#else`, `#set` counters and arithmetic, `$foreach.count/hasNext`,
    String methods (toUpperCase, toLowerCase, substring, replace, length, startsWith,
    indexOf, contains, isEmpty) and `$util.escapeJavaScript` (of notes with quotes,
    slashes, line breaks, tabs, non-ASCII and a character beyond the BMP), over a
    ~14 KB body. 400 print every item and are expected as a ~22 KB `expect.json`;
    100 print the items an `#if` keeps (7-13 KB of expected JSON).
    Each big resource also has a 500 response with selectionPattern `5\\d{2}`, which
    selection must try and skip.
  Every template differs from every other one (field names and constants vary per
  test). The expected bodies are computed here in Python by doing what the template
  does; the script checks that each contender passes all 1,000 before timing it.

Workload 2, `validate`: --validate-specs (100,000) distinct integration responses, 1,000
documents per file, in the layout of benches/core.rs (API Big, /r<i> x GET x 200, 400,
404, 500 with selection patterns, a response parameter, a template that differs per
response), no tests.

Contenders and measures (every contender is a whole process, timed from spawn to exit;
peak RSS and user+sys CPU from os.wait4's rusage):
  --bin PATH (repeatable, label with --label): `test` on workload 1 and `validate` on
    workload 2. The binaries are run alternately, --runs times after --warmup untimed
    runs, so a slow minute of the machine hits them alike.
  --jvm: scripts/bench_tests/VelocityTests.java, compiled here with javac, renders the
    same 1,000 tests with Apache Velocity 1.7 (Debian's package) and API Gateway's
    $input/$util as crates/apigw-vtl/golden/VtlGolden.java implements them, from a
    manifest written beside the specs (tests.jsonl: template, body, selection patterns,
    expectation): "new JVM" is one `java` process per run that loads, parses, renders
    and compares the 1,000 tests once; "warm JVM, in-process" is one process that runs
    that whole pass --jvm-warmup times, then --jvm-passes times, timing each pass with
    System.nanoTime; its median is the issue's "warm JVM (in-process)" figure.
    The JVM reads the same tests as JSON lines, not YAML, and checks the body and
    status (not the Content-Type header); its $input parses the body once per test.
  The binaries run with --config bench-config.yaml, written beside the workloads: the
  defaults, but limits.deadline 1h (a debug build needs more than 30 s for 100k specs).

Prints a Markdown table per command: median and every run of wall time, CPU and peak
RSS. Exit code 1 if any contender failed a test or a run failed.

Examples:
  python3 scripts/bench_tests.py --bin target/release/apigw-reconciler --jvm
  python3 scripts/bench_tests.py --bin /tmp/old/apigw-reconciler --label before \\
      --bin target/release/apigw-reconciler --label after --runs 5 --jvm
  python3 scripts/bench_tests.py --keep /tmp/w --only test --runs 1   # keep the workload

Needs Python 3.11 (stdlib only); --jvm needs a JDK (17) and installs Debian's velocity,
libcommons-lang-java, libcommons-collections3-java, libjsonpath-java,
libjson-smart-java and libslf4j-java with apt-get if they are missing (as
crates/apigw-vtl/golden/generate.sh does).
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAVA_SRC = os.path.join(ROOT, "scripts", "bench_tests", "VelocityTests.java")
J = "/usr/share/java"
JARS = {  # jar -> Debian package, as crates/apigw-vtl/golden/generate.sh
    "velocity-1.7.jar": "velocity",
    "commons-lang.jar": "libcommons-lang-java",
    "commons-collections3.jar": "libcommons-collections3-java",
    "json-path.jar": "libjsonpath-java",
    "json-smart.jar": "libjson-smart-java",
    "slf4j-nop.jar": "libslf4j-java",
}
CLASSPATH = ":".join(
    f"{J}/{j}"
    for j in [
        "velocity-1.7.jar", "commons-collections3.jar", "commons-lang.jar",
        "json-path.jar", "json-smart.jar", "accessors-smart.jar", "asm.jar",
        "slf4j-api.jar", "slf4j-nop.jar",
    ]
)

SMALL = 500
BIG = 500
BIG_FULL = 400  # of BIG: every item printed, ~20 KB expect.json
ITEMS = 100
# Tests (and their specs) per file of workload 1; a file may hold at most 1 MiB.
PER_FILE = {"small": 50, "big": 10}
DOCS_PER_FILE = 1_000  # workload 2, as benches/core.rs
CODES = ["200", "400", "404", "500"]

# ---------------------------------------------------------------------------- data

WORDS = [
    "blue", "steel", "widget", "gadget", "bolt", "nut", "washer", "spring", "coil",
    "panel", "frame", "hinge", "bracket", "lamp", "cable", "relay", "valve", "pump",
    "gear", "shaft", "seal", "filter", "hose", "clamp", "sensor", "switch", "plug",
]
PREFIXES = ["wid", "gad", "bol", "nut", "spr", "pan", "hin", "lam", "cab", "rel"]
# Notes go through $util.escapeJavaScript into a JSON string: every escape it makes
# must be JSON's too, so no single quote (escaped as \' , which JSON has not).
NOTES = [
    "plain note",
    'fits "M" and "L"',
    "path/to/part",
    "back\\slash",
    "two\nlines",
    "tab\there",
    "caf\u00e9 cr\u00e8me",
    "\u4e2d\u6587\u8bf4\u660e",
    "na\u00efve \u20ac 12",
    "\U0001f4e6 boxed",
    "costs $5 #1",
    "<b>bold</b> & co",
    "",
]
CUSTOMERS = ["Ann Lee", "Zo\u00eb M\u00fcller", "Bo Chen", "Ravi Rao", "Eva Nov\u00e1k", "Jon Doe"]
REGIONS = ["EU-West", "US-East", "AP-South", "SA-East"]
REPL = ["_", "-", "+", ".", "~", "="]


def yq(s):
    """A YAML single-quoted scalar (the text has no line breaks)."""
    assert "\n" not in s
    return "'" + s.replace("'", "''") + "'"


def yjson(v):
    """A JSON value as YAML flow (JSON is YAML 1.2; raw non-ASCII, escapes YAML shares)."""
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def block(text, indent):
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.rstrip("\n").split("\n")) + "\n"


# ---------------------------------------------------------------------------- small tests


def small_case(i, rng):
    name = f"s{i:04d}"
    field = rng.choice(["body", "text", "msg", "greeting"]) + str(i)
    sender = rng.choice(CUSTOMERS[:1] + CUSTOMERS[2:4] + CUSTOMERS[5:])
    value = f"Hello {rng.choice(WORDS)} {rng.randrange(10**6)} from the backend"
    n = rng.randrange(1000)
    body_obj = {field: value, "sender": sender, "n": n, "id": f"id-{i}"}
    body = json.dumps(body_obj)
    if i % 2 == 0:  # the seed's shape, exact text
        tag = rng.choice(["message", "note", "reply", "greeting"]) + str(i)
        template = (
            "#set($inputRoot = $input.path('$'))\n"
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<{tag}>\n"
            f"    $inputRoot.{field}\n"
            f"    <from>$inputRoot.sender</from>\n"
            f"</{tag}>\n"
        )
        expected = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<{tag}>\n"
            f"    {value}\n"
            f"    <from>{sender}</from>\n"
            f"</{tag}>\n"
        )
        return dict(name=name, path=f"/small/{name}", media="application/xml", template=template,
                    body=body, kind="body", expect=expected)
    key = rng.choice(["id", "ref", "key"]) + str(i)
    template = (
        "#set($inputRoot = $input.path('$'))\n"
        f'{{"{key}": "$inputRoot.id", "greeting": "$inputRoot.{field}", '
        f'"from": "$inputRoot.sender", "count": $inputRoot.n}}\n'
    )
    expected = {key: f"id-{i}", "greeting": value, "from": sender, "count": n}
    return dict(name=name, path=f"/small/{name}", media="application/json", template=template,
                body=body, kind="json", expect=expected)


# ---------------------------------------------------------------------------- big tests


def big_params(i, rng):
    return dict(
        s=f"{i:04d}",
        e=rng.randrange(3, 7),  # substring split of the sku
        t1=rng.randrange(10, 16),  # qty above: large
        t2=rng.randrange(3, 8),  # qty above: medium
        t3=rng.randrange(20000, 80000),  # cents above: discounted
        div=rng.choice([5, 10, 20, 25]),
        r=rng.choice(REPL),
        letter=rng.choice("bgswcfp"),
        ch=rng.choice("aeiou"),
        p=rng.choice(["X", "Q", "Z", "K"]) + str(i % 97),
        full=i < BIG_FULL,
    )


def big_template(i, q):
    s, e, t1, t2, t3, div, r, letter, ch, p = (
        q["s"], q["e"], q["t1"], q["t2"], q["t3"], q["div"], q["r"], q["letter"], q["ch"], q["p"])
    item = f"""\
    {{
      "n": $foreach.count,
      "sku_{s}": "$it.sku.toUpperCase()",
      "code": "{p}-$it.sku.substring(0, {e})/$it.sku.substring({e}).toLowerCase()",
      "label": "$it.name.replace(' ', '{r}')",
      "s_{letter}": $it.name.startsWith('{letter}'),
      "at_{ch}": $it.name.indexOf('{ch}'),
      "note": "$util.escapeJavaScript($it.note)",
      "qty": $it.qty,
#if($it.qty > {t1})
#set($large{s} = $large{s} + 1)
      "size": "large-{s}",
#elseif($it.qty > {t2})
      "size": "medium",
#else
      "size": "small",
#end
      "state": #if($it.active)"on"#else"off"#end,
      "tags": "#foreach($tag in $it.tags)#if($foreach.count > 1)|#end$tag.toUpperCase()#end",
#if($it.cents > {t3})
#set($off = $it.cents / {div})
      "off": $off,
#end
      "line": $line
    }}"""
    what = "every item" if q["full"] else f"the active items with qty over {t2}"
    head = f"""\
## Bench template {s}: the order's lines, one object for {what},
## then what the loop counted. Each test's template differs in its names and constants.
#set($root = $input.path('$'))
#set($items = $input.path('$.items'))
#set($units = 0)
#set($large{s} = 0)
#set($total{s} = 0)
#set($noted = 0)
#set($with_{ch} = 0)
#set($on = 0)
#set($maxq = -1)
#set($maxsku = "")
#set($note_units = 0)
#set($name_units = 0)
#set($sep = "")
{{
  "api": "bench-{s}",
  "order_{s}": "$root.order",
  "customer_{s}": "$util.escapeJavaScript($root.customer.name)",
  "region": "$root.customer.region.toLowerCase()",
  "channel": "#if($root.customer.vip)vip-{s}#{{else}}std-{s}#end",
  "lines_{s}": [
#foreach($it in $items)
#set($units = $units + $it.qty)
#set($line = $it.qty * $it.cents)
#set($total{s} = $total{s} + $line)
#set($name_units = $name_units + $it.name.length())
#if(!$it.note.isEmpty())
#set($noted = $noted + 1)
#set($note_units = $note_units + $it.note.length())
#end
#if($it.name.contains('{ch}'))
#set($with_{ch} = $with_{ch} + 1)
#end
#if($it.active)
#set($on = $on + 1)
#end
#if($it.qty > $maxq)
#set($maxq = $it.qty)
#set($maxsku = $it.sku.toUpperCase())
#end
"""
    if q["full"]:
        loop = item + "#if($foreach.hasNext),#end\n"
    else:
        loop = (f"#if($it.active && $it.qty > {t2})\n$sep\n" + item
                + '\n#set($sep = ",")\n#end\n')
    tail = f"""\
#end
  ],
  "units": $units,
  "large": $large{s},
  "total": $total{s},
  "count": $items.size(),
  "noted": $noted,
  "note_units": $note_units,
  "name_units": $name_units,
  "with_{ch}": $with_{ch},
  "active": $on,
  "inactive": #set($idle = $items.size() - $on)$idle,
  "top": {{"qty": $maxq, "sku": "$maxsku"#if($maxq > {t1}), "large": true#end}},
  "verdict": "#if($on > $idle)mostly active#elseif($on == $idle)even#{{else}}mostly idle#end"
}}
"""
    return head + loop + tail


def big_body(i, rng):
    items = []
    for k in range(ITEMS):
        words = rng.sample(WORDS, rng.randrange(1, 4))
        items.append({
            "sku": f"{rng.choice(PREFIXES)}{rng.randrange(10000):04d}-{k:02d}",
            "name": " ".join(words),
            "note": rng.choice(NOTES),
            "qty": rng.randrange(0, 21),
            "cents": rng.randrange(100, 100000),
            "active": rng.random() < 0.6,
            "tags": rng.sample(WORDS, rng.randrange(0, 4)),
        })
    return {
        "order": f"ORD-{i:05d}-{rng.randrange(10**6):06d}",
        "customer": {"name": rng.choice(CUSTOMERS), "region": rng.choice(REGIONS),
                     "vip": rng.random() < 0.5},
        "items": items,
    }


def big_expected(q, b):
    """What the template renders, as JSON: Velocity 1.7's integer arithmetic (every value
    here stays an int), Java's String methods on ASCII names and skus, and
    escapeJavaScript's escapes, which are all JSON escapes (so the string reads back as
    the note itself)."""
    s, e, t1, t2, t3, div, r, letter, ch, p = (
        q["s"], q["e"], q["t1"], q["t2"], q["t3"], q["div"], q["r"], q["letter"], q["ch"], q["p"])
    units = large = total = noted = note_units = name_units = with_ch = on = 0
    maxq, maxsku = -1, ""
    lines = []
    for n, it in enumerate(b["items"], start=1):
        units += it["qty"]
        line = it["qty"] * it["cents"]
        total += line
        name_units += len(it["name"])
        if it["note"]:
            noted += 1
            note_units += len(it["note"].encode("utf-16-le")) // 2  # Java's length(): UTF-16 units
        if ch in it["name"]:
            with_ch += 1
        if it["active"]:
            on += 1
        if it["qty"] > maxq:
            maxq, maxsku = it["qty"], it["sku"].upper()
        if not q["full"] and not (it["active"] and it["qty"] > t2):
            continue
        if it["qty"] > t1:
            large += 1
            size = f"large-{s}"
        elif it["qty"] > t2:
            size = "medium"
        else:
            size = "small"
        lines.append({
            "n": n,
            f"sku_{s}": it["sku"].upper(),
            "code": f"{p}-" + it["sku"][:e] + "/" + it["sku"][e:].lower(),
            "label": it["name"].replace(" ", r),
            f"s_{letter}": it["name"].startswith(letter),
            f"at_{ch}": it["name"].find(ch),
            "note": it["note"],
            "qty": it["qty"],
            "size": size,
            "state": "on" if it["active"] else "off",
            "tags": "|".join(t.upper() for t in it["tags"]),
            "line": line,
        })
        if it["cents"] > t3:
            lines[-1]["off"] = it["cents"] // div
    c = b["customer"]
    idle = len(b["items"]) - on
    top = {"qty": maxq, "sku": maxsku}
    if maxq > t1:
        top["large"] = True
    return {
        "api": f"bench-{s}",
        f"order_{s}": b["order"],
        f"customer_{s}": c["name"],
        "region": c["region"].lower(),
        "channel": f"vip-{s}" if c["vip"] else f"std-{s}",
        f"lines_{s}": lines,
        "units": units,
        "large": large,
        "total": total,
        "count": len(b["items"]),
        "noted": noted,
        "note_units": note_units,
        "name_units": name_units,
        f"with_{ch}": with_ch,
        "active": on,
        "inactive": idle,
        "top": top,
        "verdict": "mostly active" if on > idle else "even" if on == idle else "mostly idle",
    }


def big_case(i, rng):
    q = big_params(i, rng)
    b = big_body(i, rng)
    name = f"b{i:04d}"
    return dict(
        name=name, path=f"/big/{name}", media="application/json", template=big_template(i, q),
        body=json.dumps(b, ensure_ascii=False), kind="json", expect=big_expected(q, b),
        error_template=(f"#set($m = $input.path('$.errorMessage'))\n"
                        f'{{"error": "$util.escapeJavaScript($m)", "test": "{name}"}}\n'),
        full=q["full"],
    )


# ---------------------------------------------------------------------------- writing


def spec_doc(c):
    doc = (
        "kind: IntegrationResponse\n"
        "restApiName: Bench\n"
        f"resourcePath: {c['path']}\n"
        "httpMethod: GET\n"
        'statusCode: "200"\n'
        "responseTemplates:\n"
        f"  {c['media']}: |\n" + block(c["template"], 4)
    )
    if "error_template" in c:
        doc += (
            "---\n"
            "kind: IntegrationResponse\n"
            "restApiName: Bench\n"
            f"resourcePath: {c['path']}\n"
            "httpMethod: GET\n"
            'statusCode: "500"\n'
            'selectionPattern: "5\\\\d{2}"\n'
            "responseTemplates:\n"
            "  application/json: |\n" + block(c["error_template"], 4)
        )
    return doc


def test_doc(c):
    what = {"body": "exact text", "json": "JSON"}[c["kind"]]
    doc = (
        "kind: ResponseTest\n"
        f"name: {c['name']} renders {c['media']} ({what})\n"
        "restApiName: Bench\n"
        f"resourcePath: {c['path']}\n"
        "httpMethod: GET\n"
        "integration: mock\n"
        "backend:\n"
        "  statusCode: 200\n"
        f"  body: {yq(c['body'])}\n"
        "request:\n"
        f"  accept: {c['media']}\n"
        "expect:\n"
        '  statusCode: "200"\n'
        "  headers:\n"
        f"    Content-Type: {c['media']}\n"
    )
    if c["kind"] == "body":
        doc += "  body: |\n" + block(c["expect"], 4)
    else:
        doc += f"  json: {yjson(c['expect'])}\n"
    return doc


def write_test_workload(out, seed):
    """Workload 1 into out/desired (specs and tests) and out/tests.jsonl (the JVM's
    manifest of the same tests). Returns the cases."""
    rng = random.Random(seed)
    cases = [small_case(i, rng) for i in range(SMALL)] + [big_case(i, rng) for i in range(BIG)]
    templates = [c["template"] for c in cases]
    assert len(set(templates)) == len(templates), "two templates are the same text"
    desired = os.path.join(out, "desired")
    os.makedirs(desired, exist_ok=True)
    for group, part in [("small", cases[:SMALL]), ("big", cases[SMALL:])]:
        per = PER_FILE[group]
        for f in range(0, len(part), per):
            chunk = part[f:f + per]
            stem = os.path.join(desired, f"{group}-{f // per:02d}")
            with open(stem + ".yaml", "w", encoding="utf-8") as fh:
                fh.write("---\n".join(spec_doc(c) for c in chunk))
            with open(stem + ".tests.yaml", "w", encoding="utf-8") as fh:
                fh.write("---\n".join(test_doc(c) for c in chunk))
    with open(os.path.join(out, "tests.jsonl"), "w", encoding="utf-8") as fh:
        for c in cases:
            patterns = ["5\\d{2}"] if "error_template" in c else []
            expect = c["expect"] if c["kind"] == "body" else json.dumps(c["expect"], ensure_ascii=False)
            fh.write(json.dumps({
                "name": c["name"], "template": c["template"], "error_template": c.get("error_template", ""),
                "patterns": patterns, "status": "200", "body": c["body"], "kind": c["kind"],
                "expect": expect,
            }, ensure_ascii=False) + "\n")
    return cases


def core_template(i, code):
    """benches/core.rs's template()."""
    return f"#set($root = $input.path('$'))\n{{\"resource\": {i}, \"status\": \"{code}\", \"body\": $root.body}}\n"


def write_validate_workload(out, specs):
    """Workload 2 as benches/core.rs's write_specs: `specs` documents, 1,000 a file."""
    os.makedirs(out, exist_ok=True)
    buf = []
    docs = 0
    for i in range(specs // len(CODES)):
        for code in CODES:
            pattern = "" if code == "200" else f'selectionPattern: "{code}"\n'
            t = core_template(i, code).rstrip("\n").replace("\n", "\n    ")
            buf.append(
                f"---\nkind: IntegrationResponse\nrestApiName: Big\nresourcePath: /r{i}\nhttpMethod: GET\n"
                f'statusCode: "{code}"\n{pattern}responseParameters:\n'
                "  method.response.header.X-Id: integration.response.header.X-Id\n"
                f"responseTemplates:\n  application/json: |\n    {t}\n"
            )
            docs += 1
            if docs % DOCS_PER_FILE == 0:
                with open(os.path.join(out, f"specs-{docs // DOCS_PER_FILE:04d}.yaml"), "w") as fh:
                    fh.write("".join(buf))
                buf = []
    if buf:
        with open(os.path.join(out, "specs-last.yaml"), "w") as fh:
            fh.write("".join(buf))
    return docs


def write_config(path):
    # Only the deadline differs from the defaults: a debug build needs more than 30 s
    # for 100k specs; it bounds nothing a release build reaches.
    with open(path, "w") as fh:
        fh.write("# bench_tests.py: the defaults, but a deadline a debug build fits in\n"
                 "limits:\n  deadline: 1h\n")


# ---------------------------------------------------------------------------- running


class Run:
    def __init__(self, wall, cpu, rss_kib, rc, out):
        self.wall, self.cpu, self.rss_kib, self.rc, self.out = wall, cpu, rss_kib, rc, out


def measured(cmd, cwd):
    """Runs cmd to its end: wall time, user+sys CPU and peak RSS of that process."""
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0)
        se.seek(0)
        out = so.read().decode("utf-8", "replace") + se.read().decode("utf-8", "replace")
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode, out)


SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed", re.M)


def check_test(run, total):
    """None if the `test` report says every test passed, else what went wrong."""
    m = SUMMARY.findall(run.out)
    if run.rc == 0 and m and m[-1] == (str(total), "0"):
        return None
    failed = [line for line in run.out.splitlines() if "FAILED" in line]
    head = "\n".join(failed[:20]) or run.out[-3000:]
    return f"exit code {run.rc}, summary {m[-1] if m else 'missing'}\n{head}"


VALID = re.compile(r"(\d+) integration response\(s\) in (\d+) file\(s\) are valid")


def check_validate(run, specs):
    m = VALID.search(run.out)
    if run.rc == 0 and m and int(m.group(1)) == specs:
        return None
    return f"exit code {run.rc}, {m.group(0) if m else 'no valid line'}\n{run.out[-3000:]}"


JVM_LINE = re.compile(r"^(once|pass|warmup) (\d+) (\d+) passed (\d+) failed (\d+) ns$", re.M)


def check_jvm(run, total):
    lines = JVM_LINE.findall(run.out)
    if run.rc == 0 and lines and all(p == str(total) and f == "0" for _, _, p, f, _ in lines):
        return None
    failed = [line for line in run.out.splitlines() if line.startswith("FAILED ")]
    return f"exit code {run.rc}, " + (" / ".join(f"{p} passed {f} failed" for _, _, p, f, _ in lines)
                                     or "no result line") + "\n" + ("\n".join(failed) or run.out[-3000:])


def ensure_java():
    missing = sorted({pkg for jar, pkg in JARS.items() if not os.path.exists(f"{J}/{jar}")})
    if missing:
        print(f"installing: {' '.join(missing)}", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                       stdout=sys.stderr)
    if not shutil.which("javac") or not shutil.which("java"):
        sys.exit("bench_tests.py: --jvm needs a JDK (javac, java)")


def compile_java(build, opts):
    subprocess.run(["javac", "-nowarn", "-encoding", "UTF-8", "-d", build, "-cp", CLASSPATH, JAVA_SRC],
                   check=True)
    return ["java", *opts, "-Dfile.encoding=UTF-8", "-cp", f"{build}:{CLASSPATH}", "VelocityTests"]


# ---------------------------------------------------------------------------- report


def fmt_s(x):
    return f"{x:.2f} s" if x >= 1 else f"{x * 1000:.0f} ms"


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def table(title, rows):
    """rows: (label, [Run]) or (label, None, note)."""
    print(f"\n### {title}\n")
    print("| contender | wall median | wall, every run | CPU (user+sys) median | peak RSS median (max) |")
    print("|---|---:|---|---:|---:|")
    for row in rows:
        label, runs = row[0], row[1]
        if not runs:
            print(f"| {label} | {row[2]} | | | |")
            continue
        walls = [r.wall for r in runs]
        cpus = [r.cpu for r in runs]
        rss = [r.rss_kib for r in runs]
        print(f"| {label} | {fmt_s(statistics.median(walls))} | {' / '.join(fmt_s(w) for w in walls)} | "
              f"{fmt_s(statistics.median(cpus))} | {mib(statistics.median(rss))} ({mib(max(rss))}) |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", default=[], metavar="PATH",
                    help="an apigw-reconciler binary (repeatable)")
    ap.add_argument("--label", action="append", default=[], help="a label per --bin, in order (default: the path)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per contender and command (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first, each checked (default 1)")
    ap.add_argument("--only", choices=["test", "validate"], help="measure one command only")
    ap.add_argument("--jvm", action="store_true", help="also Apache Velocity 1.7 on a JVM (test workload)")
    ap.add_argument("--jvm-warmup", type=int, default=5, help="warm JVM: untimed passes first (default 5)")
    ap.add_argument("--jvm-passes", type=int, default=10, help="warm JVM: timed passes (default 10)")
    ap.add_argument("--java-opt", action="append", default=[], metavar="OPT",
                    help="an option for `java` (repeatable), e.g. --java-opt=-Xmx1g; default none")
    ap.add_argument("--seed", type=int, default=21, help="the workload's random seed (default 21)")
    ap.add_argument("--validate-specs", type=int, default=100_000,
                    help="integration responses of the validate workload (default 100000)")
    ap.add_argument("--keep", metavar="DIR", help="write the workloads into DIR and keep them")
    ap.add_argument("--generate-only", action="store_true", help="write the workloads (see --keep) and stop")
    a = ap.parse_args()

    if len(a.label) > len(a.bin):
        ap.error("more --label than --bin")
    bins = []
    for k, b in enumerate(a.bin):
        path = os.path.abspath(b)
        if not os.access(path, os.X_OK):
            ap.error(f"not an executable: {b}")
        bins.append((a.label[k] if k < len(a.label) else b, path))
    if not bins and not a.jvm and not a.generate_only:
        ap.error("nothing to measure: give --bin PATH and/or --jvm")

    if a.keep:
        work = os.path.abspath(a.keep)
        os.makedirs(work, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="bench-tests-")
        work = cleanup.name
    do_test = a.only in (None, "test")
    do_validate = a.only in (None, "validate") and bins
    config = os.path.join(work, "bench-config.yaml")
    write_config(config)

    t = time.perf_counter()
    if do_test:
        if os.path.exists(os.path.join(work, "desired")):
            shutil.rmtree(os.path.join(work, "desired"))
        cases = write_test_workload(work, a.seed)
        total = len(cases)
        big = [len(c["template"].encode()) for c in cases[SMALL:]]
        exp = [len(json.dumps(c["expect"], ensure_ascii=False).encode()) for c in cases[SMALL:SMALL + BIG_FULL]]
        print(f"test workload: {total} tests in {work}/desired; big templates {min(big)}-{max(big)} B, "
              f"full expect.json {min(exp) // 1024}-{max(exp) // 1024} KiB", file=sys.stderr)
    vdir = os.path.join(work, "validate")
    if do_validate or (a.generate_only and a.only != "test"):
        if os.path.exists(vdir):
            shutil.rmtree(vdir)
        n_specs = write_validate_workload(vdir, a.validate_specs)
        print(f"validate workload: {n_specs} specs in {vdir}", file=sys.stderr)
    print(f"generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if a.generate_only:
        return 0

    java = None
    if a.jvm and do_test:
        ensure_java()
        jbuild = os.path.join(work, "java-classes")
        os.makedirs(jbuild, exist_ok=True)
        java = compile_java(jbuild, a.java_opt)

    manifest = os.path.join(work, "tests.jsonl")
    contenders = []  # (label, command, kind, check)
    if do_test:
        for label, path in bins:
            cmd = [path, "--config", config, "--desired", "desired", "--color", "never", "test"]
            contenders.append(("test", label, cmd, check_test))
        if java:
            contenders.append(("test", "Apache Velocity 1.7, new JVM", java + ["once", manifest], check_jvm))
    if do_validate:
        for label, path in bins:
            cmd = [path, "--config", config, "--desired", "validate", "--color", "never", "validate"]
            contenders.append(("validate", label, cmd,
                               lambda r, _t, n=n_specs: check_validate(r, n)))

    results = {(c[0], c[1]): [] for c in contenders}
    failures = {}
    total = SMALL + BIG
    for k in range(a.warmup + a.runs):
        for cmdname, label, cmd, check in contenders:
            if (cmdname, label) in failures:
                continue
            r = measured(cmd, work)
            why = check(r, total)
            state = "ok" if why is None else "FAILED"
            print(f"{f'warm-up {k + 1}' if k < a.warmup else f'run {k + 1 - a.warmup}'}: {cmdname} {label}: "
                  f"{fmt_s(r.wall)}, {mib(r.rss_kib)} {state}", file=sys.stderr)
            if why is not None:
                failures[(cmdname, label)] = why
                print(why, file=sys.stderr)
                continue
            if k >= a.warmup:
                results[(cmdname, label)].append(r)

    warm = None
    if java:
        r = measured(java + ["warm", manifest, str(a.jvm_warmup), str(a.jvm_passes)], work)
        why = check_jvm(r, total)
        if why is not None:
            failures[("test", "warm JVM")] = why
            print(why, file=sys.stderr)
        else:
            passes = [int(ns) / 1e9 for kind, _, _, _, ns in JVM_LINE.findall(r.out) if kind == "pass"]
            warm = (passes, r)

    print(f"\n## bench_tests.py (seed {a.seed}; {a.runs} runs after {a.warmup} warm-up; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end)")

    def medians(cmdname):
        """label -> median wall time of that command's runs (contenders that passed)."""
        return {label: statistics.median(r.wall for r in results[(c, label)])
                for c, label, _, _ in contenders
                if c == cmdname and (c, label) not in failures and results[(c, label)]}

    bin_labels = [label for label, _ in bins]
    if do_test:
        rows = [(label, None, "FAILED") if (c, label) in failures else (label, results[(c, label)])
                for c, label, _, _ in contenders if c == "test"]
        table(f"`test`: {total} distinct response tests ({SMALL} small, {BIG} big; whole process)", rows)
        ref = dict(medians("test"))
        if java:
            if warm:
                passes, r = warm
                med = statistics.median(passes)
                ref["warm JVM, in-process"] = med
                print(f"| Apache Velocity 1.7, warm JVM, in-process (median of {len(passes)} passes after "
                      f"{a.jvm_warmup} warm-up) | {fmt_s(med)} | {' / '.join(fmt_s(p) for p in passes)} | "
                      f"{fmt_s(r.cpu)} for the whole process | {mib(r.rss_kib)} (whole process) |")
            else:
                print("| Apache Velocity 1.7, warm JVM, in-process | FAILED | | | |")
        others = [k for k in ref if k not in bin_labels]
        if others and any(b in ref for b in bin_labels):
            print("\nWall time of `test` against the JVM (below 1.00: the binary is faster):\n")
            for b in bin_labels:
                if b in ref:
                    print(f"- {b}: " + ", ".join(f"{ref[b] / ref[o]:.2f}x {o.replace('Apache Velocity 1.7, ', '')}"
                                                for o in others))
    if do_validate:
        rows = [(label, None, "FAILED") if (c, label) in failures else (label, results[(c, label)])
                for c, label, _, _ in contenders if c == "validate"]
        table(f"`validate`: {a.validate_specs:,} distinct integration responses "
              f"({DOCS_PER_FILE:,} a file; whole process)", rows)
    for cmdname in (["test"] if do_test else []) + (["validate"] if do_validate else []):
        m = medians(cmdname)
        present = [b for b in bin_labels if b in m]
        if len(present) >= 2:
            first = present[0]
            print(f"\n`{cmdname}` speed-up over {first} (its median wall time / each one's): "
                  + ", ".join(f"{b} {m[first] / m[b]:.2f}x" for b in present[1:]))
    if failures:
        print("\nFailures:")
        for (cmdname, label), why in failures.items():
            print(f"- {cmdname} {label}: {why.splitlines()[0]}")
    if cleanup:
        cleanup.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
