#!/usr/bin/env python3
"""`make bench`: figures for the console, printed, never asserted.

- the hydrate wasm as served (raw and gzip -9 sizes);
- the server's time to render a project's Network Security page (full SSR response, signed
  in as the demo admin), over repeated requests on one keep-alive connection.

Usage: bench.py <enclave binary> <site root>
"""
import gzip
import http.client
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
    path = os.path.join(site_root, "pkg", "enclave_bg.wasm")
    raw = open(path, "rb").read()
    return len(raw), len(gzip.compress(raw, compresslevel=9))


class Client:
    """One keep-alive connection with a cookie jar."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.cookies = {}

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
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


def main():
    binary, site_root = sys.argv[1], sys.argv[2]
    raw, gz = wasm_sizes(site_root)
    print(f"hydrate wasm: {raw / 1024:.1f} KiB raw, {gz / 1024:.1f} KiB gzip -9")

    workdir = tempfile.mkdtemp(prefix="enclave-bench-")
    port = 3190
    env = dict(
        os.environ,
        ENCLAVE_ADDR=f"127.0.0.1:{port}",
        DATABASE_URL=f"sqlite://{workdir}/bench.db",
        LEPTOS_SITE_ROOT=site_root,
        ENCLAVE_LOG="warn",
    )
    server = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        client = Client(port)
        client.request("GET", "/sign-in")
        status, _ = client.request(
            "POST",
            "/sign-in",
            {
                "email": "admin@acme.example",
                "password": "enclave-demo-password",
                "csrf_token": client.cookies["enclave_csrf"],
            },
        )
        assert status == 303, f"sign-in answered {status}"
        _, home = client.request("GET", "/")
        org = re.search(r'href="(/orgs/[a-z0-9-]+)"', home).group(1)
        _, org_page = client.request("GET", org)
        project = re.search(r'href="(/projects/[a-z0-9-]+)">checkout-prod<', org_page).group(1)

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
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
