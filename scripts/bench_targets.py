"""How many targets one daemon carries: `run` with N targets against one moto server.

Each target has its own REST API (the seed scaffold: MyDemoAPI, /mydemoresource, GET,
MOCK, method response 200) in its own account and region: targets alternate between
us-east-1 and eu-west-1 of the default account (123456789012), and every third
target reaches account 222222222222 through a role (STS AssumeRole, which moto maps
to that account): 4 account-regions, whose targets share each one's request budget
(GetResources: 5 per 2 s). With --own-accounts every target assumes a role in an
account of its own, as in a landing zone. Each target's directory holds SPECS integration responses for its
API (status codes 200, 4xx, 5xx with selection patterns).

Measured, with N targets:
  - start to every target converged (the first cycle of each wrote its specs);
  - the daemon's resident memory then (VmRSS) and its peak (VmHWM);
  - a steady-state cycle of every target at once (POST /reconcile): wall time until
    every target finished it, and each target's own cycle duration (median, max);
  - the API calls of that round per target.
Prints the numbers; asserts nothing.

Usage: python3 scripts/bench_targets.py [--targets 50] [--specs 3] [--bin PATH]
Needs: a built binary (cargo build --release), moto[server], boto3.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
           AWS_EC2_METADATA_DISABLED="true")
ENV.pop("AWS_PROFILE", None)
ROLE = "arn:aws:iam::222222222222:role/apigw-reconciler"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(what, cond, deadline=300):
    start = time.time()
    while not cond():
        if time.time() - start > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


def client(endpoint, region, role):
    kw = dict(endpoint_url=endpoint, region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    if role:
        creds = boto3.client("sts", **kw).assume_role(
            RoleArn=role, RoleSessionName="bench")["Credentials"]
        kw.update(aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    return boto3.client("apigateway", **kw)


def scaffold(c, name, codes):
    api = c.create_rest_api(name=name)["id"]
    root = [r for r in c.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    res = c.create_resource(restApiId=api, parentId=root, pathPart="mydemoresource")["id"]
    c.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
    c.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="MOCK")
    for code in codes:
        c.put_method_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode=code)


def spec(api, code, pattern):
    extra = f"selectionPattern: {json.dumps(pattern)}\n" if pattern else ""
    return (f"kind: IntegrationResponse\nrestApiName: {api}\nresourcePath: /mydemoresource\n"
            f"httpMethod: GET\nstatusCode: \"{code}\"\n{extra}responseTemplates:\n"
            f"  application/json: '{{\"status\": {code}, \"api\": \"{api}\"}}'\n---\n")


def rss_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--specs", type=int, default=3, help="integration responses per target (1-3)")
    ap.add_argument("--own-accounts", action="store_true",
                    help="every target in an account of its own (a role in 2000000000NN), "
                         "as in a landing zone, instead of 4 shared account-regions")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "apigw-reconciler"))
    args = ap.parse_args()
    codes = [("200", None), ("400", "4\\d{2}"), ("500", "5\\d{2}")][: max(1, min(3, args.specs))]

    moto_port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{moto_port}"
    daemon = None
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", moto_port), timeout=1).close()
                return True
            except OSError:
                return False
        wait("moto", up, 60)
        work = tempfile.mkdtemp(prefix="bench-targets-")
        lines = [f"endpointUrl: {endpoint}", "interval: 1h", "debounce: 100ms",
                 "rateLimit: {requestsPerSecond: 1000, burst: 1000}", "targets:"]
        for i in range(args.targets):
            name = f"t{i:02d}"
            region = "us-east-1" if i % 2 == 0 else "eu-west-1"
            if args.own_accounts:
                role = f"arn:aws:iam::{200000000000 + i}:role/apigw-reconciler"
            else:
                role = ROLE if i % 3 == 2 else None
            api = f"api-{name}"
            scaffold(client(endpoint, region, role), api, [c for c, _ in codes])
            os.makedirs(os.path.join(work, name))
            with open(os.path.join(work, name, "api.yaml"), "w") as f:
                f.write("".join(spec(api, c, p) for c, p in codes))
            lines.append(f"- name: {name}\n  region: {region}\n  desiredDir: {name}")
            if role:
                lines.append(f"  assumeRole: {role}")
        port = free_port()
        lines.append(f"listen: 127.0.0.1:{port}")
        config = os.path.join(work, "reconciler.yaml")
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")

        started = time.time()
        daemon = subprocess.Popen([args.bin, "--config", config, "run"], cwd=work, env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "w"))

        def status():
            try:
                return json.loads(get(port, "/status"))
            except OSError:
                return None
        wait("every target converged", lambda: (s := status()) is not None and s["ready"])
        converged = time.time() - started
        mem = rss_kib(daemon.pid)
        before = {t["name"]: t["lastCycle"]["id"] for t in status()["targets"]}
        calls_before = get(port, "/metrics")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/reconcile", method="POST")
        t0 = time.time()
        urllib.request.urlopen(req, timeout=10).read()

        def round_done():
            s = status()
            return all(t["lastCycle"]["id"] > before[t["name"]] for t in s["targets"])
        wait("a cycle of every target", round_done)
        round_wall = time.time() - t0
        s = status()
        durations = [t["lastCycle"]["durationMs"] for t in s["targets"]]
        results = {t["lastCycle"]["result"] for t in s["targets"]}

        def total_calls(text):
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("apigw_reconciler_api_calls_total{"))
        round_calls = total_calls(get(port, "/metrics")) - total_calls(calls_before)
        mem_after = rss_kib(daemon.pid)
        print(json.dumps({
            "targets": args.targets,
            "own_accounts": args.own_accounts,
            "integration_responses": args.targets * len(codes),
            "start_to_all_converged_s": round(converged, 2),
            "rss_mib_converged": round(mem["VmRSS"] / 1024, 1),
            "rss_mib_after_round": round(mem_after["VmRSS"] / 1024, 1),
            "peak_rss_mib": round(mem_after["VmHWM"] / 1024, 1),
            "steady_round_wall_ms": round(round_wall * 1000),
            "cycle_ms_median": statistics.median(durations),
            "cycle_ms_max": max(durations),
            "round_results": sorted(results),
            "api_calls_per_target_in_round": round(round_calls / args.targets, 2),
        }, indent=2))
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(timeout=10)
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
