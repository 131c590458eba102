"""Public form submissions per second through the production server, against /sante/ in the same run.

.venv/bin/python bench/bench_forms.py [--seconds 15] [--clients 8] [--workers 2]

Starts `cordee serve --no-worker` (gunicorn, 2 processes × 4 threads) on PostgreSQL, with a
local SMTP server (aiosmtpd) receiving the confirmation mails, then drives it from threads on
loopback: GET /sante/ (the floor: a request that touches the database once), a questionnaire
(one source record and one customer per request) and a newsletter sign-up (an entry and a
confirmation e-mail per request). The load generator shares the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import cordee, pg_fresh_database, write_section  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/sante/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def load(port: int, seconds: float, clients: int, make_request) -> dict[str, float]:
    """Each client thread sends requests back to back on one keep-alive connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        counter = 0
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            counter += 1
            method, path, body, headers = make_request(index, counter)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def setup(env: dict[str, str]) -> None:
    code = (
        "import django; django.setup()\n"
        "from cordee.partners.models import Partner\n"
        "from cordee.channels.models import PublicForm\n"
        "Partner.objects.create(slug='office', name='Office', kind='hub')\n"
        "h = Partner.objects.create(slug='hotel', name='Hôtel', kind='hotel')\n"
        "PublicForm.objects.create(partner=h, slug='q', kind='questionnaire', title_fr='Q')\n"
        "PublicForm.objects.create(partner=h, slug='n', kind='newsletter', title_fr='N')\n"
    )
    subprocess.run(cordee("migrate", "-v", "0"), env=env, check=True)
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Sink.count += 1
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cordee.settings",
        "CORDEE_HOME": tempfile.mkdtemp(prefix="cordee-bench-forms-"),
        "CORDEE_DATABASE_URL": pg_fresh_database("cordee_bench_forms"),
        "CORDEE_SMTP_HOST": "127.0.0.1",
        "CORDEE_SMTP_PORT": str(smtp_port),
        "CORDEE_FORM_RATE": "0/min",  # every request comes from 127.0.0.1
    }
    setup(env)
    server = subprocess.Popen(
        cordee("serve", "--no-worker", "--port", str(port), "--workers", str(args.workers)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: gunicorn's processes stop with it
    )
    try:
        wait_up(port)
        tokens = {}
        for slug in ("q", "n"):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", f"/f/{slug}/")
            page = conn.getresponse().read().decode()
            tokens[slug] = re.search(r'name="token" value="([^"]+)"', page).group(1)

        def health(i: int, n: int):
            return "GET", "/sante/", None, {}

        def form(slug: str, extra: dict[str, str]):
            def make(i: int, n: int):
                body = urllib.parse.urlencode(
                    {
                        "token": tokens[slug],
                        "email": f"v{i}-{n}-{slug}@example.fr",
                        "first_name": "Léa",
                        **extra,
                    },
                    doseq=True,
                )
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                return "POST", f"/f/{slug}/", body, headers

            return make

        results = {}
        results["GET /sante/"] = load(port, args.seconds, args.clients, health)
        results["POST questionnaire"] = load(
            port,
            args.seconds,
            args.clients,
            form(
                "q", {"interests": ["ski", "famille"], "preferred_season": "hiver", "children": "2"}
            ),
        )
        results["POST newsletter (+ e-mail)"] = load(
            port, args.seconds, args.clients, form("n", {"consent_newsletter": "on"})
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        smtp.stop()
    floor = results["GET /sante/"]["rps"]
    rows = [
        "| request | requests | errors | req/s | ratio to /sante/ | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['requests']:.0f} | {r['errors']:.0f} | {r['rps']:.0f} | "
            f"{r['rps'] / floor:.2f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
        )
    print("\n".join(rows))
    print(f"mails received: {Sink.count}")
    write_section(
        "Public form submissions",
        f"Command: `.venv/bin/python bench/bench_forms.py --seconds {args.seconds:g} "
        f"--clients {args.clients} --workers {args.workers}`. `cordee serve --no-worker` "
        f"(gunicorn, {args.workers} processes × 4 threads) on PostgreSQL; {args.clients} "
        "client threads with keep-alive on loopback, on the same 2 cores as the server "
        "(shared, noisy machine: read the ratios more than the absolute figures). Each form "
        "request is a new person: the questionnaire stores a source record and creates a "
        "customer; the newsletter sign-up stores a pending entry and sends the confirmation "
        f"e-mail to a local aiosmtpd server ({Sink.count} mails received).\n\n"
        + "\n".join(rows)
        + f"\n\nLoad average (1 min) at the end of the run: {os.getloadavg()[0]:.1f} on 2 cores "
        "(other developers' tests and benchmarks were running).",
    )


if __name__ == "__main__":
    main()
