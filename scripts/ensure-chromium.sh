#!/usr/bin/env bash
# Make sure Debian's Chromium (the real browser tests/e2e_status_page.rs loads the
# daemon's status page in, headless) is installed; install it with apt-get only when
# it is missing. Needs root (CI runs as root) and Debian's package mirror; exits
# non-zero with a message saying what to do when it cannot install.
# CHROMIUM=/path/to/chromium uses that binary instead and installs nothing.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ]; then
  if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    echo "error: CHROMIUM=$CHROMIUM is not an executable Chromium" >&2
    exit 1
  fi
elif ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium (headless browser for the status page test) with apt-get..." >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root (or scripts/test.sh as root)" >&2
    exit 1
  fi
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >&2; then
    echo "error: could not install chromium with apt-get (no network to Debian's mirror?); the status page test needs it" >&2
    exit 1
  fi
fi
"${CHROMIUM:-chromium}" --version >&2
