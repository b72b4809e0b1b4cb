"""Intake benchmark: report submissions over HTTP through granian at 32 and 64 concurrent
clients (validation, encryption, the report and its routing task in one transaction; the task
worker routes — rules, decisions, cases, outbox — alongside the load), against a bare Django
view doing one INSERT, served by the same server in the same run (QUALITY.md, "Performance").

Submits to `POST /api/v1/places/london/reports` when that endpoint answers, otherwise to a
stand-in view in bench/urls.py that calls the same service. Afterwards it checks that every
acknowledged report (201) is in the database exactly once, that nothing else was created, and
that every routing decision that sent the report has exactly one outbox message per endpoint.

SQLite (WAL) in a temporary directory by default; PostgreSQL when DATABASE_URL is set (use a
scratch database: the demo data is loaded into it and the reports stay there).

Environment: BENCH_PORT (8766), BENCH_REQUESTS per measurement (2000), BENCH_WARMUP (200),
BENCH_WORKERS granian worker processes (2), BENCH_THREADS blocking threads per worker (1),
BENCH_CLIENTS the concurrent clients to measure, comma-separated (32,64),
BENCH_ROUTE_DURING_LOAD=0 to start the task worker only after the load (default: during it),
BENCH_WORKER_NICE the task worker's niceness (10, as docs/operations.md deploys it; 0: none).
Prints the figures and PASS/FAIL per goal; a missed goal is a measurement, not an exit status.
Besides the load client's CPU, each run shows the CPU granian's processes used per request and
the task worker's share of a CPU during the run (read from /proc; zero where there is none).
"""

import asyncio
import http.client
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8766"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "1")
ROUTE_DURING_LOAD = os.environ.get("BENCH_ROUTE_DURING_LOAD", "1") != "0"
# As docs/operations.md deploys it: below the web server's CPU priority on a shared host.
WORKER_NICE = int(os.environ.get("BENCH_WORKER_NICE", "10"))
CONCURRENCY = tuple(int(n) for n in os.environ.get("BENCH_CLIENTS", "32,64").split(","))
TIMEOUT = 60.0  # seconds per request; a request that takes longer counts as an error
PLACE = "london"
API_PATH = f"/api/v1/places/{PLACE}/reports"
STAND_IN_PATH = f"/bench/report/{PLACE}/"
BASELINE_PATH = "/bench/insert/"
WEBHOOK_URL = "http://127.0.0.1:9/locus-bench"  # never called: no worker runs
GOAL_RATIO = 0.5
GOAL_P99_MS = 150.0

ACCOUNT = (
    "Two men followed me from the bus stop to the corner shop shouting insults about my "
    "headscarf and my family. One of them spat at me and knocked my bag out of my hand; the "
    "shopkeeper saw it and told them to leave. They waited outside for a while and filmed me "
    "with a phone. It is the third time this month on the same street, always in the evening "
    "around seven. I did not call the police that night because I was frightened. "
) * 2


# --- setup -------------------------------------------------------------------------------------


def bench_env(var_dir):
    return os.environ | {
        "LOCUS_ENV": "demo",
        "LOCUS_VAR_DIR": var_dir,
        "LOCUS_ROOT_URLCONF": "bench.urls",
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "PYTHONPATH": str(ROOT),
    }


def prepare_database(env):
    for command in (
        ["migrate", "-v0"],
        ["createcachetable"],
        ["collectstatic", "--noinput", "-v0"],
        ["demo"],
    ):
        subprocess.run(
            [PY, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )


def setup_in_process(env):
    """Django in this process, for the baseline's table, the webhook endpoints (so routing writes
    outbox messages) and the checks afterwards. Returns what the checks compare against."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    logging.disable(logging.INFO)  # the service's INFO lines (endpoints created)
    from django.db import connection

    from bench.urls import BENCH_ROW_TABLE
    from locus.core.tenancy import place_scope
    from locus.directory.selectors import organisation_list
    from locus.outbox.models import WebhookEndpoint
    from locus.outbox.services import webhook_endpoint_create
    from locus.places.models import Area
    from locus.places.selectors import place_get_by_slug
    from locus.reporting.models import Report

    key = (
        "id integer primary key"
        if connection.vendor == "sqlite"
        else "id bigint generated by default as identity primary key"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {BENCH_ROW_TABLE} ({key}, payload text)")
        cursor.execute(f"SELECT count(*) FROM {BENCH_ROW_TABLE}")
        (rows_before,) = cursor.fetchone()
    place = place_get_by_slug(PLACE)
    with place_scope(place):
        for organisation in organisation_list(place=place):
            if not WebhookEndpoint.objects.filter(organisation=organisation).exists():
                webhook_endpoint_create(place=place, organisation=organisation, url=WEBHOOK_URL)
        area_ids = list(Area.objects.order_by("pk").values_list("pk", flat=True))
        last_report = Report.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.close()
    return {
        "vendor": connection.vendor,
        "area_ids": area_ids,
        "last_report": last_report,
        "rows_before": rows_before,
        "started": time.time(),
    }


def report_bodies(area_ids):
    """Varied submissions: each routing rule of the demo, with and without consent and contact,
    in a place and online. Encoded once, so the client spends its time on the connection."""
    today = date.today()
    templates = [
        {  # religious hatred: victim support, faith network and (with consent) the police
            "incident_type": "abusive_behaviour",
            "bias": ["anti_muslim", "gender"],
            "reporter_role": "victim",
            "setting": "public_transport",
            "location_text": "Bus stop on the high street, near the corner shop",
            "support_wanted": ["emotional", "safety"],
            "consent_police_anonymised": True,
            "consent_support_contact": True,
            "contact": {"name": "A. Reporter", "email": "reporter@example.org"},
        },
        {  # violence: police (with contact) and victim support
            "incident_type": "assault",
            "bias": ["racism_xenophobia"],
            "reporter_role": "witness",
            "setting": "street",
            "consent_police_with_contact": True,
            "contact": {"email": "witness@example.org", "phone": "+44 20 7946 0000"},
            "wants_email_updates": True,
        },
        {  # online content: the platform desk and the CSO; recorded only, no consent
            "incident_type": "online_content",
            "bias": ["sexual_orientation"],
            "reporter_role": "found_online",
            "setting": "online",
            "platform": "tiktok",
            "content_url": "https://www.tiktok.com/@someone/video/7312345678901234567?utm_x=1",
        },
        {  # damage to a place of worship, reported for someone else
            "incident_type": "damage_desecration",
            "bias": ["antisemitism"],
            "reporter_role": "on_behalf",
            "setting": "place_of_worship",
            "already_reported": ["police"],
            "police_reference": "CAD 1234/17MAY",
            "consent_police_anonymised": True,
        },
        {  # discrimination: victim support and the CSO, support contact
            "incident_type": "discrimination",
            "bias": ["disability"],
            "reporter_role": "victim",
            "setting": "workplace",
            "support_wanted": ["practical", "legal"],
            "consent_support_contact": True,
            "contact": {"phone": "+44 7700 900123"},
        },
        {  # nothing specific: the fallback rule (the city team)
            "incident_type": "suspicious_activity",
            "bias": ["not_sure"],
            "reporter_role": "witness",
            "setting": "home_neighbourhood",
        },
    ]
    bodies = []
    for index in range(len(templates) * 7):
        body = {
            "occurred_on": (today - timedelta(days=index % 20)).isoformat(),
            "occurred_approx": index % 3 == 0,
            "ongoing": index % 5 == 0,
            "account": ACCOUNT[: 200 + 37 * index],
        } | templates[index % len(templates)]
        if body["setting"] != "online" and area_ids and index % 4:
            body["area_id"] = area_ids[index % len(area_ids)]
        bodies.append(json.dumps(body).encode())
    return bodies


def start_server(env):
    return subprocess.Popen(
        [
            str(Path(PY).parent / "granian"),
            "--interface",
            "wsgi",
            "config.wsgi:application",
            "--host",
            HOST,
            "--port",
            str(PORT),
            "--workers",
            WORKERS,
            "--blocking-threads",
            THREADS,
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
    )


def start_task_worker(env):
    """The task worker runs during the load, as in production: it routes each report (rules,
    decisions, cases, outbox) while the server keeps taking submissions."""
    return subprocess.Popen(
        [PY, "manage.py", "db_worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.nice(WORKER_NICE)) if WORKER_NICE else None,  # noqa: PLW1509
    )


def wait_for_routing(state, timeout=300, *, every_task=False):
    """Wait until the worker has routed every report of the run so far (or `timeout` seconds).
    Returns (reports queued when called, seconds waited). Called before each baseline run with
    `every_task`, so that the worker's backlog from the previous intake run does not weigh on
    the baseline: then it also waits for the tasks routing queued (the deliveries of its outbox
    messages), which the worker runs next, taking SQLite's write lock under the baseline's
    INSERTs."""
    from django_tasks_db.models import DBTaskResult

    from locus.core.tenancy import place_scope
    from locus.places.selectors import place_get_by_slug
    from locus.reporting.models import Report

    with place_scope(place_get_by_slug(PLACE)):
        unrouted = Report.objects.filter(pk__gt=state["last_report"], routing_run__isnull=True)
        queued = DBTaskResult.objects.ready() | DBTaskResult.objects.running()  # due now
        backlog = unrouted.count()
        start = time.perf_counter()
        while (unrouted.exists() or (every_task and queued.exists())) and (
            time.perf_counter() - start < timeout
        ):
            time.sleep(0.5)
    return backlog, time.perf_counter() - start


def drain_routing(state, worker, timeout=300):
    """Wait for the worker to route every report of the run, then stop it. Returns (reports
    the worker routed after the load ended, seconds waited, reports routed here because the
    worker did not finish in time)."""
    from locus.cases.services import reports_route_pending
    from locus.core.tenancy import place_scope
    from locus.places.selectors import place_get_by_slug

    backlog, waited = wait_for_routing(state, timeout)
    place = place_get_by_slug(PLACE)
    with place_scope(place):
        worker.terminate()
        worker.wait(timeout=30)
        leftover = reports_route_pending(place=place, older_than=timedelta(0))
    return backlog, waited, leftover


def post_once(path, body):
    """One POST on a fresh connection (readiness and the endpoint probe): (status, body)."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT)
    try:
        connection.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(process):
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"granian exited with status {process.returncode}")
        try:
            return post_once(BASELINE_PATH, b"{}")[0]
        except OSError:
            time.sleep(0.1)
    raise SystemExit("granian did not start")


def reference_of(body):
    """The reference in a 201 body: at the top level or one level down (a `receipt` object)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("reference"), str):
        return data["reference"]
    for value in data.values():
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return value["reference"]
    return None


def choose_intake_path(sample):
    """The public API when it accepts the benchmark's submission, else the stand-in view.
    Returns (path, label, reference of the probe's report or None)."""
    status, body = post_once(API_PATH, sample)
    if status == 201:
        return API_PATH, "intake: POST report (API)", reference_of(body)
    if status != 404:
        print(
            f"warning: {API_PATH} answered {status} to the benchmark's submission, so the "
            f"stand-in view is measured instead: {body[:300]!r}",
            file=sys.stderr,
        )
    return STAND_IN_PATH, "intake: report_submit (stand-in)", None


# --- load --------------------------------------------------------------------------------------


def process_tree_cpu(pid):
    """Seconds of CPU (user + system) used so far by process `pid` and its descendants, read
    from /proc (Linux); 0.0 where /proc is not there."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grown = {pid}, True
    while grown:  # descendants, whatever the order of their process ids
        found = {child for child, (parent, _) in parents.items() if parent in tree}
        grown = not found <= tree
        tree |= found
    return sum(parents.get(member, (0, 0))[1] for member in tree) / ticks


@dataclass
class Run:
    clients: int
    elapsed: float = 0.0
    client_cpu: float = 0.0  # seconds of this process's CPU during the run
    server_cpu: float = 0.0  # seconds of granian's processes' CPU during the run
    worker_cpu: float = 0.0  # seconds of the task worker's CPU during the run
    latencies: list = field(default_factory=list)  # seconds, completed responses only
    statuses: Counter = field(default_factory=Counter)  # status code, or the exception's name
    acknowledged: list = field(default_factory=list)  # bodies of the 201 responses

    @property
    def throughput(self):
        return len(self.acknowledged) / self.elapsed

    def quantile_ms(self, q):
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000

    @property
    def failures(self):
        return sum(n for status, n in self.statuses.items() if status != 201)


def requests_for(path, bodies, count):
    """Each request's bytes, built before the clock starts: a new Idempotency-Key per request."""
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in (bodies[i % len(bodies)] for i in range(count))
    ]


async def read_response(reader):
    """Status, body and whether the connection stays open, for one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the last chunk's (empty) trailer
        body = b"".join(chunks)
    else:
        body = await reader.read()
        headers[b"connection"] = b"close"
    return status, body, headers.get(b"connection") != b"close"


async def drive(requests, clients):
    """`clients` keep-alive connections, each sending its next request when the last one was
    answered (a closed loop), until `requests` are all sent."""
    run = Run(clients=clients)
    pending = iter(requests)  # shared by the clients: one event loop, no lock needed

    async def client(reader, writer):
        for request in pending:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, PORT)
            start = time.perf_counter()
            try:
                writer.write(request)
                async with asyncio.timeout(TIMEOUT):
                    status, body, keep_alive = await read_response(reader)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                run.statuses[type(exc).__name__] += 1
                writer.close()
                reader = writer = None
                continue
            run.latencies.append(time.perf_counter() - start)
            run.statuses[status] += 1
            if status == 201:
                run.acknowledged.append(body)
            if not keep_alive:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    connections = [await asyncio.open_connection(HOST, PORT) for _ in range(clients)]
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(reader, writer) for reader, writer in connections))
    run.elapsed = time.perf_counter() - start
    run.client_cpu = time.process_time() - cpu
    return run


def measure(path, bodies, clients, server, worker):
    """A warm-up at this concurrency, then the measured run: (warm-up, run). The run carries the
    CPU the server's and the worker's processes used during it."""
    warmup = asyncio.run(drive(requests_for(path, bodies, WARMUP), clients))
    requests = requests_for(path, bodies, REQUESTS)
    server_cpu = process_tree_cpu(server.pid)
    worker_cpu = process_tree_cpu(worker.pid) if worker else 0.0
    run = asyncio.run(drive(requests, clients))
    run.server_cpu = process_tree_cpu(server.pid) - server_cpu
    run.worker_cpu = process_tree_cpu(worker.pid) - worker_cpu if worker else 0.0
    return warmup, run


# --- checks ------------------------------------------------------------------------------------


def check_reports(state, acknowledged):
    """Every acknowledged reference in the database exactly once, and no report that was not
    acknowledged; every sent routing decision with one outbox message per endpoint."""
    from locus.cases.models import RoutingDecision
    from locus.core.tenancy import place_scope
    from locus.outbox.models import OutboxMessage, WebhookEndpoint
    from locus.places.selectors import place_get_by_slug
    from locus.reporting.models import Report

    place = place_get_by_slug(PLACE)
    with place_scope(place):
        new = Counter(
            Report.objects.filter(pk__gt=state["last_report"]).values_list("reference", flat=True)
        )
        sent = list(
            RoutingDecision.objects.filter(
                report_id__gt=state["last_report"], sent=True
            ).values_list("pk", "organisation_id")
        )
        endpoints = Counter(
            WebhookEndpoint.objects.filter(is_active=True).values_list("organisation_id", flat=True)
        )
        messages = Counter(
            OutboxMessage.objects.filter(
                kind="webhook",  # (an organisation's inbox also gets an e-mail per decision)
                source_type=RoutingDecision._meta.label_lower,
                created_at__gte=datetime.fromtimestamp(state["started"], UTC),
            ).values_list("source_id", flat=True)
        )
    acked = Counter(acknowledged)
    return {
        "acknowledged": len(acknowledged),
        "new": sum(new.values()),
        "missing": sum(1 for ref in acked if ref not in new),
        "twice": sum(1 for n in new.values() if n > 1) + sum(1 for n in acked.values() if n > 1),
        "unacknowledged": sum(1 for ref in new if ref not in acked),
        "sent": len(sent),
        "messages": sum(messages.values()),
        "outbox_wrong": sum(1 for pk, org in sent if messages[str(pk)] != endpoints[org])
        + len(set(messages) - {str(pk) for pk, _org in sent}),
    }


def baseline_rows(state):
    from django.db import connection

    from bench.urls import BENCH_ROW_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {BENCH_ROW_TABLE}")
        (rows,) = cursor.fetchone()
    return rows - state["rows_before"]


# --- main --------------------------------------------------------------------------------------


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main():
    var_dir = tempfile.mkdtemp(prefix="locus-bench-intake-")
    try:
        run_benchmark(bench_env(var_dir))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run_benchmark(env):
    prepare_database(env)
    state = setup_in_process(env)
    bodies = report_bodies(state["area_ids"])
    server = start_server(env)
    # BENCH_ROUTE_DURING_LOAD=0 starts the worker only after the load (to tell its share).
    worker = start_task_worker(env) if ROUTE_DURING_LOAD else None
    results = []  # (name, run)
    reports_acked, inserts_acked = [], 0
    try:
        inserts_acked += wait_until_up(server) == 201
        intake_path, intake_name, probe_reference = choose_intake_path(bodies[0])
        if probe_reference:
            reports_acked.append(probe_reference)
        for clients in CONCURRENCY:
            for name, path in (("baseline: one INSERT", BASELINE_PATH), (intake_name, intake_path)):
                if path == BASELINE_PATH and worker is not None:
                    # The worker's backlog must not weigh on it.
                    wait_for_routing(state, every_task=True)
                warmup, run = measure(path, bodies, clients, server, worker)
                results.append((name, run))
                if path == BASELINE_PATH:
                    inserts_acked += len(warmup.acknowledged) + len(run.acknowledged)
                else:
                    reports_acked += [
                        reference_of(body) for body in warmup.acknowledged + run.acknowledged
                    ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    worker = worker or start_task_worker(env)
    backlog, waited, leftover = drain_routing(state, worker)

    print(
        f"{state['vendor']}, granian {WORKERS} worker(s) x {THREADS} thread(s), {os.cpu_count()} "
        f"CPUs, {REQUESTS} requests per run after {WARMUP} to warm up; intake at {intake_path}"
    )
    print(
        f"{'target':34} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} "
        f"{'errors':>6} {'client CPU':>10} {'server CPU/req':>14} {'worker CPU':>10}"
    )
    baseline = {}

    def ratio_of(run):
        return run.throughput / baseline[run.clients] if baseline[run.clients] else float("nan")

    for name, run in results:
        if name.startswith("baseline"):
            baseline[run.clients] = run.throughput
        print(
            f"{name:34} {run.clients:7} {run.throughput:8.0f} {run.quantile_ms(50):8.1f} "
            f"{run.quantile_ms(99):8.1f} {ratio_of(run):6.2f} "
            f"{run.failures:6} {run.client_cpu / run.elapsed:9.0%} "
            f"{run.server_cpu / max(len(run.latencies), 1) * 1000:11.2f} ms "
            f"{run.worker_cpu / run.elapsed:9.0%}"
        )
    for name, run in results:
        if run.failures:
            print(f"  {name} at {run.clients}: {dict(run.statuses)}")

    print()
    for name, run in results:
        if name.startswith("baseline"):
            continue
        ratio = ratio_of(run)
        print(
            f"{verdict(ratio >= GOAL_RATIO)}  {run.clients} clients: throughput {ratio:.2f} of the "
            f"baseline (goal >= {GOAL_RATIO})"
        )
        p99 = run.quantile_ms(99)
        print(
            f"{verdict(p99 <= GOAL_P99_MS)}  {run.clients} clients: p99 {p99:.0f} ms (goal <= "
            f"{GOAL_P99_MS:.0f} ms)"
        )
    unreadable = sum(1 for ref in reports_acked if ref is None)
    checked = check_reports(state, [ref for ref in reports_acked if ref is not None])
    complete = (
        not unreadable
        and not checked["missing"]
        and not checked["twice"]
        and checked["new"] == checked["acknowledged"]
    )
    print(
        f"{verdict(complete)}  every acknowledged report present: {checked['acknowledged']} "
        f"acknowledged, {checked['new']} new in the database, {checked['missing']} missing, "
        f"{checked['twice']} twice, {checked['unacknowledged']} not acknowledged, {unreadable} "
        "201s without a reference"
    )
    print(
        f"{verdict(not checked['outbox_wrong'])}  one outbox message per destination: "
        f"{checked['messages']} messages for {checked['sent']} sent routing decisions, "
        f"{checked['outbox_wrong']} decisions with another number or none"
    )
    print(
        f"info  routing in the task worker, alongside the load: {backlog} reports still queued "
        f"when the load ended, drained in {waited:.1f} s; {leftover} left for the sweep"
    )
    rows = baseline_rows(state)
    print(f"info  baseline: {inserts_acked} inserts acknowledged, {rows} rows in {state['vendor']}")


if __name__ == "__main__":
    main()
