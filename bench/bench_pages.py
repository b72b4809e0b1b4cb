"""Pages benchmark: throughput of public pages and the areas GeoJSON API through granian,
against a bare Django view with one query, served by the same server in the same run.

Prints requests/s and p99 latency for each, and the ratio to the baseline.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = int(os.environ.get("BENCH_PORT", "8765"))
CONCURRENCY = 16
REQUESTS = 1500
TARGETS = {
    "baseline: bare view": "/bench/bare/",
    "place home page": "/london/",
    "areas GeoJSON (API)": "/api/v1/places/london/areas",
}


def fetch(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - start


def measure(path):
    url = f"http://127.0.0.1:{PORT}{path}"
    for _ in range(50):
        fetch(url)  # warm up
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        latencies = list(pool.map(lambda _: fetch(url), range(REQUESTS)))
    elapsed = time.perf_counter() - start
    return REQUESTS / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000


def main():
    tmp = tempfile.mkdtemp(prefix="locus-bench-")
    env = os.environ | {
        "LOCUS_ENV": "demo",
        "LOCUS_VAR_DIR": tmp,
        "LOCUS_ROOT_URLCONF": "bench.urls",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }
    for command in (
        ["migrate", "-v0"],
        ["createcachetable"],
        ["collectstatic", "--noinput", "-v0"],
        ["demo"],
    ):
        subprocess.run(
            [PY, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "granian"),
            "--interface",
            "wsgi",
            "config.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--workers",
            "2",
            "--blocking-threads",
            "1",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                fetch(f"http://127.0.0.1:{PORT}/bench/bare/")
                break
            except OSError:
                time.sleep(0.1)
        results = {name: measure(path) for name, path in TARGETS.items()}
    finally:
        server.terminate()
        server.wait(timeout=10)
    base_rps = results["baseline: bare view"][0]
    print(f"{'target':28} {'req/s':>8} {'p99 ms':>8} {'ratio':>6}")
    for name, (rps, p99) in results.items():
        print(f"{name:28} {rps:8.0f} {p99:8.1f} {rps / base_rps:6.2f}")


if __name__ == "__main__":
    main()
