#!/usr/bin/env python3
"""`make bench`: figures, printed, never asserted.

- the islands wasm (raw and gzip -9 sizes) and its ten biggest contributors by crate
  (`twiggy top` on the build's wasm before wasm-opt, which still has names);
- what the first load of each console page transfers, as served to a browser that accepts
  brotli (`Accept-Encoding: br, gzip`): the wasm, JS and CSS files the page links, their
  bytes on the wire and the total against the 250 KB goal;
- the server's time to render a project's Network Security page (full SSR response, signed
  in as the demo admin), over repeated requests on one keep-alive connection;
- on a 10,000-organization data set (`enclave scale-seed`): p50/p99 of the REST list and
  detail routes and of the organization and Network Security pages' server render, and REST
  read throughput against a bare axum handler in the same binary, with its ratio;
- new Postgres connections per second through `enclave proxy` (startup, access decision,
  relay to the local Postgres on 127.0.0.1:5432, trust auth) and straight to that Postgres,
  in the same run, with their ratio; then pgbench through the proxy and direct: `-C` (a new
  connection per transaction) with 1 and 16 clients and `-S` with 16 clients on established
  connections, each with its ratio. The proxy runs as in production: its own process, no
  database, only the control plane's URL and token. Skipped when no Postgres listens there.

Usage: bench.py <enclave binary> <site root>
"""
import gzip
import http.client
import json
import socket
import struct
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse


def wasm_sizes(site_root):
    """The wasm bundle's size (raw, gzip -9), and how many wasm files there are in all (one,
    unless the build is split) with their raw total."""
    pkg = os.path.join(site_root, "pkg")
    wasm = sorted(n for n in os.listdir(pkg) if n.endswith(".wasm"))
    main = next(n for n in wasm if n.startswith("enclave."))
    raw = open(os.path.join(pkg, main), "rb").read()
    total = sum(os.path.getsize(os.path.join(pkg, n)) for n in wasm)
    return len(raw), len(gzip.compress(raw, compresslevel=9)), len(wasm), total


class Client:
    """One keep-alive connection with a cookie jar."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.cookies = {}

    def request(self, method, path, body=None):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Accept": "text/html",
        }
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, data


def startup(user, database, endpoint=None):
    params = [("user", user), ("database", database)]
    if endpoint:
        params.append(("options", f"endpoint={endpoint}"))
    body = struct.pack("!I", 196608)
    for k, v in params:
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def connect_once(port, first):
    """One connection: send `first`, read until ReadyForQuery, say goodbye."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(first)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError(f"closed early: {data[:200]!r}")
            data += chunk
            # Messages: type byte, 4-byte length. Walk them to find 'Z' (or 'E').
            i = 0
            while i + 5 <= len(data):
                kind = data[i:i + 1]
                length = struct.unpack("!I", data[i + 1:i + 5])[0]
                if i + 1 + length > len(data):
                    break
                if kind == b"E":
                    raise RuntimeError(data[i:i + 1 + length].decode("utf-8", "replace"))
                if kind == b"Z":
                    s.sendall(b"X\0\0\0\4")
                    return
                i += 1 + length


def rate(port, first, seconds=3.0):
    for _ in range(20):
        connect_once(port, first)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        connect_once(port, first)
        n += 1
    return n / (time.perf_counter() - start)


def wait_for_port(port, tries=100):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def pgbench(port, database, args, endpoint=None, seconds=5):
    # TLS off on both paths: the proxy here has no certificate, so a direct run that
    # negotiated TLS with Postgres would be measuring encryption, not the proxy.
    env = dict(os.environ, PGCONNECT_TIMEOUT="5", PGSSLMODE="disable")
    if endpoint:
        env["PGOPTIONS"] = f"endpoint={endpoint}"
    out = subprocess.run(
        ["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-n", "-T", str(seconds), *args, database],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def proxy_bench(binary, workdir):
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        print("proxy: skipped (no Postgres on 127.0.0.1:5432)")
        return
    token = "bench-data-plane-token"
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{workdir}/proxy.db",
        ENCLAVE_LOG="warn",
        ENCLAVE_DATA_PLANE_TOKEN=token,
        ENCLAVE_ADDR="127.0.0.1:3192",
        LEPTOS_SITE_ROOT="target/site",
    )
    run = lambda *a: subprocess.run([binary, *a], env=env, check=True, capture_output=True, text=True).stdout.strip()
    run("migrate")
    org = run("org", "create", "--name", "Bench", "--plan", "scale")
    project, hostname = run("project", "create", "--org", org, "--name", "bench", "--region", "aws-us-east-2").split()[:2]
    run("project", "set-upstream", "--project", project, "--address", "127.0.0.1:5432")
    port = 3191
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL)
    # The proxy has no database: only the control plane's URL and token.
    proxy_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    proxy = subprocess.Popen(
        [binary, "proxy", "--listen", f"127.0.0.1:{port}", "--proxy-protocol", "rejected",
         "--control-plane-url", "http://127.0.0.1:3192", "--metrics-listen", "off"],
        env=proxy_env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(3192)
        wait_for_port(port)
        user = os.environ.get("BENCH_PG_USER", "postgres")
        database = os.environ.get("BENCH_PG_DATABASE", "postgres")
        endpoint = hostname.split(".")[0]
        through = rate(port, startup(user, database, endpoint))
        direct = rate(5432, startup(user, database))
        print(
            f"connections/s (connect, startup, ReadyForQuery, close; one client): "
            f"through the proxy {through:.0f}, direct {direct:.0f}, ratio {through / direct:.2f}"
        )
        if shutil.which("pgbench") is None:
            print("pgbench: skipped (not installed)")
            return
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        "DROP DATABASE IF EXISTS enclave_bench", "-c", "CREATE DATABASE enclave_bench"],
                       check=True, capture_output=True)
        subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-q", "-s", "1", "enclave_bench"],
                       check=True, capture_output=True)
        goals = {"-C, 1 client": None, "-C, 16 clients": 0.85, "-S, 16 clients": 0.9}
        runs = {
            "-C, 1 client": ["-S", "-C", "-c", "1", "-j", "1"],
            "-C, 16 clients": ["-S", "-C", "-c", "16", "-j", "2"],
            "-S, 16 clients": ["-S", "-c", "16", "-j", "2"],
        }
        for name, args in runs.items():
            # Alternating runs, medians: on a small machine one run's neighbours move it.
            vias, plains = [], []
            for _ in range(3):
                vias.append(pgbench(port, "enclave_bench", args, endpoint))
                plains.append(pgbench(5432, "enclave_bench", args))
            via, plain = statistics.median(vias), statistics.median(plains)
            goal = goals[name]
            goal_text = f" (goal >= {goal})" if goal else ""
            print(f"pgbench {name} (median of 3 alternating 5 s runs): through the proxy "
                  f"{via:.0f} tps, direct {plain:.0f} tps, ratio {via / plain:.2f}{goal_text}")
    finally:
        proxy.terminate()
        proxy.wait()
        server.terminate()
        server.wait()


def crate_of(item):
    """The crate a symbol belongs to: the first path segment, through `<T as …>` wrappers."""
    name = item.lstrip("<&*_ ").removeprefix("mut ").removeprefix("dyn ")
    if name.startswith("T as "):
        name = name[5:]
    return re.split(r"::|<| |\[|\(", name, maxsplit=1)[0] or item


def wasm_contributors(site_root):
    """The ten biggest contributors to the wasm's code, by crate, from `twiggy top` on the
    build's wasm before wasm-opt (the served file has no names left to attribute), without
    what wasm-bindgen strips (names, its descriptors)."""
    twiggy = shutil.which("twiggy") or os.path.expanduser("~/.cargo/bin/twiggy")
    named = os.path.join(
        os.path.dirname(os.path.abspath(site_root)),
        "front/wasm32-unknown-unknown/wasm-release/frontend.wasm",
    )
    if not os.path.exists(twiggy) or not os.path.exists(named):
        print("wasm contributors: skipped (needs twiggy and the release build's named wasm)")
        return
    out = subprocess.run(
        [twiggy, "top", "-n", "1000000", "-f", "csv", named], capture_output=True, text=True
    )
    import csv
    import io

    by_crate = {}
    code = 0
    for row in csv.DictReader(io.StringIO(out.stdout)):
        name, size = row["Name"], int(row["ShallowSize"] or 0)
        if "subsection" in name or name.startswith("custom section") or name.startswith("Σ"):
            continue
        # wasm-bindgen's type descriptors: read and removed by wasm-bindgen, never served.
        if name.startswith('export "__wbindgen_describe'):
            continue
        if name.startswith("data[") or name.startswith("..."):
            key = "(data)" if name.startswith("data[") else "(other)"
        else:
            key = crate_of(name)
        by_crate[key] = by_crate.get(key, 0) + size
        code += size
    print("wasm: the ten biggest contributors by crate (twiggy, before wasm-opt, names excluded)")
    for crate, size in sorted(by_crate.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {crate:<28} {size / 1024:8.1f} KiB  {100 * size / max(code, 1):5.1f} %")


FIRST_LOAD_GOAL = 250 * 1000


def first_load(client, path):
    """Bytes on the wire for the wasm, JS and CSS the first load of `path` fetches: the files
    the page links (the stylesheet, the islands' JS and wasm, which the page preloads), as
    served to a browser accepting brotli. Answers the total."""
    _, html = client.request("GET", path)
    assets = set(re.findall(r"/pkg/[A-Za-z0-9_.-]+\.(?:wasm|js|css)", html))
    total = 0
    conn = http.client.HTTPConnection("127.0.0.1", client.conn.port, timeout=10)
    for asset in sorted(assets):
        conn.request("GET", asset, headers={"Accept-Encoding": "br, gzip"})
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, f"{asset}: {r.status}"
        total += len(body)
    return total, len(assets)


def first_loads(client, pages):
    print(
        "first load of each console page (Accept-Encoding: br, gzip; wasm, JS and CSS as served; "
        f"goal {FIRST_LOAD_GOAL / 1000:.0f} kB):"
    )
    worst = 0
    for path in pages:
        total, files = first_load(client, path)
        worst = max(worst, total)
        print(f"  {path:<48} {total / 1000:7.1f} kB in {files:3d} files (ratio {total / FIRST_LOAD_GOAL:.2f})")
    print(f"  largest first load {worst / 1000:.1f} kB; goal {FIRST_LOAD_GOAL / 1000:.0f} kB (ratio {worst / FIRST_LOAD_GOAL:.2f})")


def wait_ready(port):
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server on {port} never became ready")


def load(binary, workdir, lines, **options):
    """`enclave bench-load` over `lines` (URL, then tab-separated headers); its JSON report."""
    targets = os.path.join(workdir, "targets.txt")
    with open(targets, "w") as f:
        f.write("\n".join("\t".join(line) for line in lines) + "\n")
    args = [binary, "bench-load", "--targets", targets]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def scale_bench(binary, workdir, site_root, organizations=10_000):
    """The scale figures: a 10,000-organization data set (10 projects and 10 endpoints each),
    p50/p99 of the REST list and detail routes and of the server render of the organization
    and Network Security pages (goal p99 < 10 ms), and REST read throughput against a bare
    axum handler in the same binary (goal >= 0.5x)."""
    port, bare_port = 3193, 3194
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{workdir}/scale.db",
        ENCLAVE_LOG="warn",
        LEPTOS_SITE_ROOT=site_root,
        ENCLAVE_ADDR=f"127.0.0.1:{port}",
    )
    subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [binary, "scale-seed", "--organizations", str(organizations), "--samples", "20"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    report = json.loads(out)
    print(
        f"scale data set (SQLite): {report['organizations']} organizations, {report['projects']} "
        f"projects, {report['endpoints']} endpoints, built in {report['seconds']:.1f} s"
    )
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL)
    bare = subprocess.Popen(
        [binary, "bench-bare", "--addr", f"127.0.0.1:{bare_port}"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        wait_ready(port)
        wait_for_port(bare_port)
        base = f"http://127.0.0.1:{port}"
        samples = report["samples"]
        bearer = lambda s: f"Authorization: Bearer {s['api_key']}"
        rest = {
            "REST list: GET /organizations/{org}/vpc/vpc_endpoints": [
                (f"{base}/api/v2/organizations/{s['org_id']}/vpc/vpc_endpoints", bearer(s)) for s in samples
            ],
            "REST list: GET /projects?org_id={org}": [
                (f"{base}/api/v2/projects?org_id={s['org_id']}", bearer(s)) for s in samples
            ],
            "REST detail: GET /projects/{id}": [
                (f"{base}/api/v2/projects/{s['project_id']}", bearer(s)) for s in samples
            ],
            "REST detail: GET /organizations/{org}/vpc/region/{r}/vpc_endpoints/{id}": [
                (
                    f"{base}/api/v2/organizations/{s['org_id']}/vpc/region/{s['region_id']}"
                    f"/vpc_endpoints/{s['vpc_endpoint_id']}",
                    bearer(s),
                )
                for s in samples
            ],
        }
        sessions = []
        for s in samples:
            client = Client(port)
            client.request("GET", "/sign-in")
            status, _ = client.request(
                "POST",
                "/fn/sign_in",
                {"email": s["email"], "password": report["password"], "csrf_token": client.cookies["enclave_csrf"]},
            )
            assert status in (302, 303), f"sign-in answered {status}"
            sessions.append((s, f"Cookie: enclave_session={client.cookies['enclave_session']}"))
        pages = {
            "SSR: organization page /orgs/{org}": [
                (f"{base}/orgs/{s['org_id']}", cookie, "Accept: text/html") for s, cookie in sessions
            ],
            "SSR: Network Security page /projects/{id}": [
                (f"{base}/projects/{s['project_id']}", cookie, "Accept: text/html") for s, cookie in sessions
            ],
        }
        for name, lines in {**rest, **pages}.items():
            r = load(binary, workdir, lines, requests=400, concurrency=1)
            assert r["failures"] == 0, f"{name}: {r}"
            print(
                f"{name}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms "
                f"(goal p99 < 10 ms: {'met' if r['p99_ms'] < 10 else 'NOT met'}; {r['requests']} requests)"
            )
        # Both servers share two cores with the load generator, so one 5 s run swings by a
        # sixth either way: three alternating runs each, medians compared.
        detail = rest["REST detail: GET /projects/{id}"]
        bare_line = [(f"http://127.0.0.1:{bare_port}/bare",)]
        apis, raws = [], []
        for _ in range(3):
            apis.append(load(binary, workdir, detail, seconds=5, concurrency=16)["per_second"])
            raws.append(load(binary, workdir, bare_line, seconds=5, concurrency=16)["per_second"])
        api, raw = statistics.median(apis), statistics.median(raws)
        ratio = api / raw
        print(
            f"REST read throughput (GET /projects/{{id}}, 16 connections, medians of three alternating "
            f"5 s runs): {api:.0f}/s vs bare axum handler {raw:.0f}/s: {ratio:.2f}x (goal >= 0.5x: "
            f"{'met' if ratio >= 0.5 else 'NOT met'}; runs {', '.join(f'{a:.0f}/{r:.0f}' for a, r in zip(apis, raws))})"
        )
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait()


def main():
    binary, site_root = sys.argv[1], sys.argv[2]
    raw, gz, files, total = wasm_sizes(site_root)
    print(
        f"islands wasm: {raw / 1024:.1f} KiB raw, {gz / 1024:.1f} KiB gzip -9; "
        f"{files} wasm file(s), {total / 1024:.1f} KiB raw in all"
    )
    wasm_contributors(site_root)

    workdir = tempfile.mkdtemp(prefix="enclave-bench-")
    port = 3190
    env = dict(
        os.environ,
        ENCLAVE_ADDR=f"127.0.0.1:{port}",
        DATABASE_URL=f"sqlite://{workdir}/bench.db",
        LEPTOS_SITE_ROOT=site_root,
        ENCLAVE_LOG="warn",
    )
    server = subprocess.Popen([binary, "serve", "--migrate", "--demo"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_ready(port)
        anonymous = Client(port)
        first_loads(anonymous, ["/sign-in"])
        client = Client(port)
        client.request("GET", "/sign-in")
        status, _ = client.request(
            "POST",
            "/fn/sign_in",
            {
                "email": "admin@acme.example",
                "password": "enclave-demo-password",
                "csrf_token": client.cookies["enclave_csrf"],
            },
        )
        assert status in (302, 303), f"sign-in answered {status}"
        _, home = client.request("GET", "/")
        org = re.search(r'href="(/orgs/[a-z0-9-]+)"', home).group(1)
        _, org_page = client.request("GET", org)
        project = re.search(r'href="(/projects/[a-z0-9-]+)">checkout-prod<', org_page).group(1)
        first_loads(
            client,
            [
                "/",
                org,
                f"{org}/activity",
                f"{org}/webhooks",
                project,
                f"{project}/setup/2",
                "/api-keys",
            ],
        )

        for _ in range(20):  # warm-up
            client.request("GET", project)
        samples = []
        for _ in range(300):
            start = time.perf_counter()
            status, html = client.request("GET", project)
            samples.append((time.perf_counter() - start) * 1000)
            assert status == 200 and "network security" in html
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(
            f"Network Security page SSR ({len(html) / 1024:.1f} KiB HTML, SQLite, 300 requests): "
            f"median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms, "
            f"mean {statistics.mean(samples):.2f} ms"
        )
    finally:
        server.terminate()
        server.wait()
    try:
        scale_bench(binary, workdir, site_root)
        proxy_bench(binary, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
