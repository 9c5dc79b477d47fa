"""Benchmarks against a local moto server: prints numbers, asserts nothing.

0. Wall time of `plan` and `apply` for the seed example (median of N runs).
S. With --scale 1000,10000: a fixture of that many integration responses (1 API,
   resources x 2 methods x 2 responses, 10% drifted) and its specs; then API calls
   per steady-state cycle, `plan` wall time split load/fetch/diff/render, apply
   throughput under `rateLimit`, and the daemon's idle RSS holding them.
1. Latency from a spec file being saved to the change being readable through the
   SDK, with the default debounce (500ms): median and p90 over N saves.
2. Idle RSS and CPU of `run` managing 1,000 integration responses, measured over a
   quiet window after the first cycle converged.

Usage: python3 scripts/bench.py [--runs N] [--saves N] [--idle-seconds S] [--scale 1000,10000] [--only-scale]
Needs: cargo, moto[server] (scripts/ensure-moto.sh), boto3 (comes with moto).
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "apigw-reconciler")
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
           AWS_EC2_METADATA_DISABLED="true")
ENV.pop("AWS_PROFILE", None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, what, deadline=60.0, step=0.002):
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(step)
    return time.monotonic() - start


def start_moto():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "moto")
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("apigateway", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return proc, endpoint, client


def scaffold(client, name, resources, codes, path_part=lambda i: f"r{i}"):
    api = client.create_rest_api(name=name)["id"]
    root = client.get_resources(restApiId=api)["items"][0]["id"]
    ids = []
    for i in range(resources):
        rid = client.create_resource(restApiId=api, parentId=root, pathPart=path_part(i))["id"]
        client.put_method(restApiId=api, resourceId=rid, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api, resourceId=rid, httpMethod="GET", type="MOCK")
        for code in codes:
            client.put_method_response(restApiId=api, resourceId=rid, httpMethod="GET", statusCode=code)
        ids.append(rid)
    return api, ids


def spec(name, path, code, template, pattern=None):
    text = (f"kind: IntegrationResponse\nrestApiName: {name}\nresourcePath: {path}\nhttpMethod: GET\n"
            f"statusCode: \"{code}\"\nresponseTemplates:\n  application/json: {json.dumps(template)}\n")
    if pattern:
        text += f"selectionPattern: {json.dumps(pattern)}\n"
    return text


def start_daemon(endpoint, desired, extra=""):
    port = free_port()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write(f"region: us-east-1\ndesiredDir: {desired}\nlisten: 127.0.0.1:{port}\n"
              f"rateLimit: {{requestsPerSecond: 1000, burst: 1000}}\nlog: {{level: warn}}\n{extra}")
    cfg.close()
    proc = subprocess.Popen([BIN, "--config", cfg.name, "--endpoint-url", endpoint, "run"], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def status():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
                return json.load(r)
        except OSError:
            return None
    return proc, status


def bench_latency(saves):
    moto, endpoint, client = start_moto()
    try:
        api, (rid,) = scaffold(client, "LatencyAPI", 1, ["200"])
        desired = tempfile.mkdtemp()
        path = os.path.join(desired, "api.yaml")
        with open(path, "w") as f:
            f.write(spec("LatencyAPI", "/r0", "200", "v0"))
        daemon, status = start_daemon(endpoint, desired)
        try:
            def template():
                try:
                    ir = client.get_integration_response(restApiId=api, resourceId=rid, httpMethod="GET",
                                                         statusCode="200")
                    return ir.get("responseTemplates", {}).get("application/json")
                except Exception:
                    return None
            wait_for(lambda: template() == "v0", "first apply")
            latencies = []
            for i in range(1, saves + 1):
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    f.write(spec("LatencyAPI", "/r0", "200", f"v{i}"))
                start = time.monotonic()
                os.rename(tmp, path)  # an editor's atomic save
                wait_for(lambda: template() == f"v{i}", f"save {i}")
                latencies.append(time.monotonic() - start)
                time.sleep(0.7)  # let the debounce window close between saves
            latencies.sort()
            print(f"save -> readable through the SDK (debounce 500ms, {saves} saves): "
                  f"median {statistics.median(latencies) * 1000:.0f} ms, "
                  f"p90 {latencies[int(0.9 * (len(latencies) - 1))] * 1000:.0f} ms, "
                  f"min {latencies[0] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        finally:
            daemon.terminate()
            daemon.wait()
    finally:
        moto.terminate()


def bench_cli(runs):
    moto, endpoint, client = start_moto()
    try:
        api, (rid,) = scaffold(client, "MyDemoAPI", 1, ["200"], lambda i: "mydemoresource")
        base = [BIN, "--config", os.path.join(ROOT, "config", "local.yaml"), "--endpoint-url", endpoint,
                "--desired", os.path.join(ROOT, "desired")]

        def timed(command, expect):
            start = time.monotonic()
            done = subprocess.run(base + [command], env=ENV, capture_output=True)
            took = time.monotonic() - start
            if done.returncode != expect:
                raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()}")
            return took

        plans, applies, clean_plans = [], [], []
        for _ in range(runs):
            plans.append(timed("plan", 2))
            applies.append(timed("apply", 0))
            clean_plans.append(timed("plan", 0))
            client.delete_integration_response(restApiId=api, resourceId=rid, httpMethod="GET", statusCode="200")
        ms = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"
        print(f"seed example, {runs} runs (release build, whole process): plan with 1 to create {ms(plans)}; "
              f"apply {ms(applies)}; plan with no changes {ms(clean_plans)}")
    finally:
        moto.terminate()


def scale_fixture(client, responses, drift=0.1):
    """One API, responses/4 resources, GET and POST each with responses 200 and 500;
    every response live, `drift` of them with another template. Returns specs text."""
    resources = responses // 4
    api = client.create_rest_api(name=f"Scale{responses}")["id"]
    root = client.get_resources(restApiId=api)["items"][0]["id"]
    docs, n = [], 0
    for i in range(resources):
        rid = client.create_resource(restApiId=api, parentId=root, pathPart=f"r{i}")["id"]
        for method in ("GET", "POST"):
            client.put_method(restApiId=api, resourceId=rid, httpMethod=method, authorizationType="NONE")
            client.put_integration(restApiId=api, resourceId=rid, httpMethod=method, type="MOCK")
            for code in ("200", "500"):
                client.put_method_response(restApiId=api, resourceId=rid, httpMethod=method, statusCode=code)
                template = f"{method} {i} {code}"
                drifted = (n % int(1 / drift)) == 0
                kwargs = {"selectionPattern": "5\\d{2}"} if code == "500" else {}
                client.put_integration_response(restApiId=api, resourceId=rid, httpMethod=method, statusCode=code,
                                                responseTemplates={"application/json": "old" if drifted else template},
                                                **kwargs)
                docs.append(spec(f"Scale{responses}", f"/r{i}", code, template,
                                 "5\\d{2}" if code == "500" else None).replace("httpMethod: GET", f"httpMethod: {method}"))
                n += 1
    return "---\n".join(docs)


def bench_scale(sizes, idle_seconds):
    for responses in sizes:
        moto, endpoint, client = start_moto()
        try:
            started = time.monotonic()
            text = scale_fixture(client, responses)
            built = time.monotonic() - started
            desired = tempfile.mkdtemp()
            docs = text.split("---\n")
            for start in range(0, len(docs), 1000):  # spec files are limited to 1 MiB
                with open(os.path.join(desired, f"specs-{start // 1000:03}.yaml"), "w") as f:
                    f.write("---\n".join(docs[start:start + 1000]))
            cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
            rate = 25
            cfg.write(f"region: us-east-1\nrateLimit: {{requestsPerSecond: {rate}, burst: 10}}\n")
            cfg.close()
            base = [BIN, "--config", cfg.name, "--endpoint-url", endpoint, "--desired", desired, "-v"]

            def run(*args):
                start = time.monotonic()
                done = subprocess.run(base + list(args), env=ENV, capture_output=True, text=True)
                return done, time.monotonic() - start

            def line(done, prefix):
                return next((l for l in done.stderr.splitlines() if l.startswith(prefix)), "")

            plan, plan_time = run("plan")
            updates = plan.stdout.count("~ update")
            apply, apply_time = run("apply")
            stamps = []
            for l in apply.stderr.splitlines():
                if " applied " in l or l.rstrip().endswith(" applied"):
                    try:
                        stamps.append(time.mktime(time.strptime(l[:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + l[20:26]))
                    except ValueError:
                        pass
            stamps.sort()
            # After the first `burst` writes the bucket is empty: what follows is the
            # sustained rate.
            achieved = (len(stamps) - 11) / (stamps[-1] - stamps[10]) if len(stamps) > 20 else 0
            peak = max((sum(1 for t in stamps if s0 <= t < s0 + 1) for s0 in stamps), default=0)
            steady, steady_time = run("plan")
            times = [run("plan")[1] for _ in range(3)]
            print(f"\n## {responses} integration responses (fixture built in {built:.0f} s)")
            print(f"- first plan: exit {plan.returncode}, {updates} to update, {plan_time * 1000:.0f} ms; "
                  f"{line(plan, 'Timings:')}")
            print(f"- apply: exit {apply.returncode}, {apply_time:.1f} s; {len(stamps)} writes at "
                  f"a sustained {achieved:.1f}/s after the burst, with rateLimit {rate}/s burst 10 = {achieved / rate:.2f} of the limit; "
                  f"peak {peak} in any 1 s window (bucket allows burst + rate = {10 + rate})")
            print(f"- steady-state plan: exit {steady.returncode}; {line(steady, 'API calls:')}; "
                  f"{line(steady, 'Timings:')}; wall median {statistics.median(times) * 1000:.0f} ms")
            daemon, status = start_daemon(endpoint, desired, "interval: 5m\n")
            try:
                wait_for(lambda: (s := status()) is not None and s.get("lastCycle", {}).get("result") == "converged",
                         "daemon converged", deadline=300, step=0.1)
                _, cpu0 = proc_stats(daemon.pid)
                time.sleep(idle_seconds)
                rss, cpu1 = proc_stats(daemon.pid)
                print(f"- daemon idle holding {responses}: RSS {rss:.1f} MiB, CPU {100 * (cpu1 - cpu0) / idle_seconds:.2f}% "
                      f"over {idle_seconds} s")
            finally:
                daemon.terminate()
                daemon.wait()
        finally:
            moto.terminate()


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss / 1024.0, ticks / os.sysconf("SC_CLK_TCK")


def bench_idle(idle_seconds):
    moto, endpoint, client = start_moto()
    try:
        codes = ["200", "400", "404", "500"]
        api, ids = scaffold(client, "IdleAPI", 250, codes)
        desired = tempfile.mkdtemp()
        docs = []
        for i in range(250):
            for code in codes:
                pattern = None if code == "200" else code
                docs.append(spec("IdleAPI", f"/r{i}", code, f"t{i}-{code}", pattern))
        with open(os.path.join(desired, "specs.yaml"), "w") as f:
            f.write("---\n".join(docs))
        daemon, status = start_daemon(endpoint, desired, "interval: 5m\n")
        try:
            took = wait_for(lambda: (s := status()) is not None and s.get("lastCycle", {}).get("result") == "converged"
                            and len(s["keys"]) == 1000, "1,000 responses converged", deadline=300, step=0.05)
            rss_after, cpu0 = proc_stats(daemon.pid)
            time.sleep(idle_seconds)
            rss_idle, cpu1 = proc_stats(daemon.pid)
            print(f"first cycle creating 1,000 integration responses: {took:.1f} s")
            print(f"idle with 1,000 integration responses: RSS {rss_idle:.1f} MiB, "
                  f"CPU {100 * (cpu1 - cpu0) / idle_seconds:.2f}% over {idle_seconds} s")
        finally:
            daemon.terminate()
            daemon.wait()
    finally:
        moto.terminate()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--idle-seconds", type=int, default=20)
    parser.add_argument("--scale", default="", help="comma-separated sizes, e.g. 1000,10000")
    parser.add_argument("--only-scale", action="store_true", help="skip the seed, latency and idle benchmarks")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not args.only_scale:
        bench_cli(args.runs)
        bench_latency(args.saves)
        bench_idle(args.idle_seconds)
    if args.scale:
        bench_scale([int(n) for n in args.scale.split(",")], args.idle_seconds)


if __name__ == "__main__":
    main()
