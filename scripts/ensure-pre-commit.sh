#!/usr/bin/env bash
# Make sure pre-commit (https://pre-commit.com, from PyPI) can be run with
# `python3 -m pre_commit`, for the test of .pre-commit-hooks.yaml
# (tests/pre_commit_hooks.rs); install it with pip if it cannot.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -m pre_commit --version >/dev/null 2>&1; then
  echo "installing pre-commit with pip..." >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check 'pre-commit>=3.2,<5'
fi
"$PYTHON" -m pre_commit --version >&2
