#!/usr/bin/env bash
# All tests: installs the moto server (the API Gateway emulator the end-to-end tests
# start on free loopback ports), pre-commit (the hooks' test) and Chromium (the status
# page test's browser) if missing, then runs every Rust test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-moto.sh
# pre-commit for the test of .pre-commit-hooks.yaml (tests/pre_commit_hooks.rs).
bash scripts/ensure-pre-commit.sh
# Debian's chromium for the status page test (tests/e2e_status_page.rs); apt-get only when missing.
bash scripts/ensure-chromium.sh
export AWS_EC2_METADATA_DISABLED=true
# Benches are compiled by clippy --all-targets in CI and run with `cargo bench`.
cargo test --workspace --lib --bins --tests "$@"
