#!/usr/bin/env python3
"""Writes tests/fixtures/yaml/core-schema.json: YAML 1.2.2 core-schema cases for the
free-form values of response tests (expect.json, request.context), computed from the
tag resolution table of the spec (https://yaml.org/spec/1.2.2/#1032-tag-resolution),
which this script transcribes, over inputs it builds from the table's own alternatives
and from near misses (other schemas' booleans, YAML 1.1 forms, underscores, signs).

    python3 scripts/yaml/core-schema-cases.py      # from the repository root

The cases are ours; the YAML test suite's own core-schema data (yaml-test-schema) is
held against the same reader by an ignored test, `yaml::de::core_schema::
yaml_test_schema_data_agrees` (see there)."""
import json
import re

# The core schema's tag resolution (YAML 1.2.2, 10.3.2), in the spec's order.
NULL = re.compile(r"null|Null|NULL|~|")
BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
INT10 = re.compile(r"[-+]?[0-9]+")
INT8 = re.compile(r"0o[0-7]+")
INT16 = re.compile(r"0x[0-9a-fA-F]+")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
INF = re.compile(r"[-+]?(\.inf|\.Inf|\.INF)")
NAN = re.compile(r"\.nan|\.NaN|\.NAN")


def resolve(text):
    """(type, JSON value) of a plain scalar, as the table resolves it."""
    if NULL.fullmatch(text):
        return "null", None
    if BOOL.fullmatch(text):
        return "bool", text.lower() == "true"
    if INT10.fullmatch(text):
        return "int", int(text, 10)
    if INT8.fullmatch(text):
        return "int", int(text[2:], 8)
    if INT16.fullmatch(text):
        return "int", int(text[2:], 16)
    if FLOAT.fullmatch(text):
        return "float", float(text)
    if INF.fullmatch(text):
        return "inf", None
    if NAN.fullmatch(text):
        return "nan", None
    return "str", text


def tagged(tag, text):
    """A scalar with an explicit core tag: its text must fit the tag's rule."""
    kind, value = resolve(text)
    if tag == "str":
        return "str", text
    fits = {
        "null": kind == "null",
        "bool": kind == "bool",
        "int": kind == "int",
        "float": kind in ("float", "int", "inf", "nan"),
    }[tag]
    if not fits:
        return "error", None
    if tag == "float" and kind == "int":
        return "float", float(value)
    return kind, value


plain = [
    # null
    "null", "Null", "NULL", "~", "#empty", "nULL", "nil", "None",
    # bool, and the booleans of other schemas (YAML 1.1's yes/no/on/off)
    "true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "fALSE", "yes", "no",
    "Yes", "NO", "on", "off", "On", "OFF", "y", "n",
    # int
    "0", "7", "-7", "+7", "007", "-0", "+0", "12345678901234", "0o17", "0o0", "0o8",
    "-0o7", "+0o7", "0O17", "0x1F", "0x0", "0xff", "0XFF", "-0x1", "0x", "0o", "1_000",
    "0b101", "1:30",
    # float
    "1.0", "-1.5", "+2.25", "3.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1e-3",
    "-1.5e-3", "2.5E+10", "0.0", "-0.0", "1.e2", ".5e1", "e3", "1e", "1.2.3", "1,5",
    "249.99", "3.14159265358979", "1_000.5",
    # inf and nan
    ".inf", ".Inf", ".INF", "-.inf", "+.inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN",
    ".iNF", "inf", "-inf", "nan", "NaN", ".Nan",
    # strings that look like something
    ".", "+", "+-1", "1 2", "0.1.2", "12abc", "x1",
]
tags = {
    "str": ["1", "true", "null", "#empty", "1.5", ".inf"],
    "int": ["1", "-1", "0x1F", "0o17", "1.5", "true", "x"],
    "float": ["1", "1.5", "1e3", ".inf", "-.inf", ".nan", "x", "true"],
    "bool": ["true", "False", "yes", "1"],
    "null": ["null", "~", "#empty", "0"],
}

scalars = []
for text in plain:
    kind, value = resolve("" if text == "#empty" else text)
    case = {"yaml": text, "type": kind}
    if kind not in ("inf", "nan"):
        case["json"] = value
    scalars.append(case)
for tag, texts in tags.items():
    for text in texts:
        kind, value = tagged(tag, "" if text == "#empty" else text)
        case = {"yaml": f"!!{tag} {text}", "type": kind}
        if kind not in ("inf", "nan", "error"):
            case["json"] = value
        scalars.append(case)

# Whole documents: free-form values in the shapes response tests use.
documents = [
    {
        "name": "an expect.json body",
        "yaml": "id: 42\nprice: 249.99\nratio: 1e-3\ntags: [a, b]\nactive: true\nnote: ~\n",
        "json": {"id": 42, "price": 249.99, "ratio": 0.001, "tags": ["a", "b"],
                 "active": True, "note": None},
    },
    {
        "name": "quoted and block scalars stay strings",
        "yaml": "a: '249.99'\nb: \"true\"\nc: |\n  42\nd: >\n  null\n",
        "json": {"a": "249.99", "b": "true", "c": "42\n", "d": "null\n"},
    },
    {
        "name": "a flow sequence of mixed scalars",
        "yaml": "[1, -2.5, .5, 0x10, 0o10, True, NULL, x]\n",
        "json": [1, -2.5, 0.5, 16, 8, True, None, "x"],
    },
    {
        "name": "nested mappings in a request context",
        "yaml": "identity:\n  sourceIp: 10.0.0.1\n  port: 443\nauthorizer:\n  claims: {score: 0.75, admin: false}\n",
        "json": {"identity": {"sourceIp": "10.0.0.1", "port": 443},
                 "authorizer": {"claims": {"score": 0.75, "admin": False}}},
    },
    {
        "name": "YAML 1.1 forms are strings in 1.2",
        "yaml": "- yes\n- off\n- 1_000\n- 0b11\n- 12:30\n",
        "json": ["yes", "off", "1_000", "0b11", "12:30"],
    },
]

doc = {
    "about": "YAML 1.2.2 core schema cases (tag resolution, 10.3.2) for the free-form "
    "values of response tests (expect.json, request.context), made by "
    "scripts/yaml/core-schema-cases.py from the spec's table: `scalars` are read as the "
    "value of `v: <yaml>` (`#empty` stands for nothing after the colon), `documents` as "
    "whole documents. Do not edit by hand.",
    "scalars": scalars,
    "documents": documents,
}
with open("tests/fixtures/yaml/core-schema.json", "w", encoding="utf-8") as f:
    f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
print(f"{len(scalars)} scalars, {len(documents)} documents")
