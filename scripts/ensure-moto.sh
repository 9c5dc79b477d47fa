#!/usr/bin/env bash
# Make sure the moto server (the API Gateway emulator the tests and the demo talk to)
# can be started with `python3 -m moto.server`; install it from PyPI if it cannot.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1; then
  echo "installing moto[server] (API Gateway emulator) with pip..." >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
fi
"$PYTHON" -c 'import moto; print("moto", moto.__version__, "ready")' >&2
