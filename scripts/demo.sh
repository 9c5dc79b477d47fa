#!/usr/bin/env bash
# The main job end to end on this machine: start a local API Gateway emulator (moto
# server, installed if missing) on a free loopback port, create the seed example's
# API (MyDemoAPI, /mydemoresource, GET, MOCK integration, method response 200), then
# validate, run the response tests (what a client would get, offline), plan, apply and
# plan again with apigw-reconciler and the specs in desired/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-moto.sh
cargo build --quiet
bin=target/debug/apigw-reconciler

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
log=$(mktemp)
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  sleep 0.1
done

# The emulator accepts any credentials; never reach for a real account's.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
run() { echo; echo "\$ apigw-reconciler $*"; "$bin" --config config/local.yaml --endpoint-url "$endpoint" "$@"; }

echo "== local API Gateway emulator at $endpoint"
python3 scripts/seed_emulator.py "$endpoint"
run validate
run test                      # the response tests in desired/, offline
run plan || [ $? -eq 2 ]      # exit 2: changes pending, as expected before apply
run apply
run plan                      # exit 0: nothing left to do
echo
echo "== done: the seed example is applied and a second plan reports no changes"
