"""A campaign of 100,000 personalised e-mails to a local SMTP server, against the floor.

.venv/bin/python bench/bench_campaign.py [--messages 100000] [--database-url URL] [--before-src DIR]

1. Seeds N customers (newsletter and profiling consents, a stay each, lift tickets for half).
2. Campaign A: the snapshot (``campaign_start``) in-process, then ``cordee campaign run A`` in a
   child process, timed, its resident memory sampled as the campaign goes.
3. The floor: a bare ``smtplib`` loop on one connection sending pre-built messages of campaign A
   (10,000 of them, each sent N / 10,000 times) to the same server.
4. Campaign B (same audience): a worker killed (SIGKILL) at about 40 %, then restarted;
   the server counts every Message-ID: none twice, none missing.

With ``--before-src DIR`` (the ``src`` of an earlier checkout, e.g. ``git worktree add
/tmp/before main``), campaign R, the same message to the same audience, is first sent by that
code's workers on the same database in the same run: the reference the figures are compared
with. Tables are analysed after seeding, as a database in service would be.

The SMTP server (aiosmtpd, counting only) runs in its own process, on loopback.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, pg_fresh_database, write_section  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))  # this worktree's cordee, before any installed one

FLOOR_DISTINCT = 10_000
FLOOR_CPU: list[float] = []  # CPU seconds of each floor loop (this process)
BLOCKS_FR = [
    {"type": "title", "text": "Bonjour {{ first_name }} !"},
    {
        "type": "paragraph",
        "text": "Depuis {{ last_stay }} ({{ last_stay_date }}), la neige est tombée : "
        "les pistes vous attendent. Votre activité préférée, {{ favourite_activity }}, reprend samedi.",
    },
    {
        "type": "button",
        "text": "Réserver mon séjour",
        "url": "https://vallee.example/reserver?from=mail",
    },
    {"type": "image", "text": "Le lac gelé", "url": "https://vallee.example/lac.jpg"},
    {
        "type": "offer",
        "text": "-20 % pour le groupe {{ loyalty_group }}",
        "url": "https://vallee.example/offre",
    },
]
BLOCKS_EN = [
    {"type": "title", "text": "Hello {{ first_name }}!"},
    {"type": "paragraph", "text": "Snow has fallen since {{ last_stay }} ({{ last_stay_date }})."},
    {"type": "button", "text": "Book now", "url": "https://vallee.example/en/book"},
]


# --- the SMTP sink, in its own process --------------------------------------------------------


def _sink_main(port: int, conn: mp.connection.Connection) -> None:
    from cordee.campaigns.sink import Sink, SinkServer

    sink = Sink(keep=False)
    with SinkServer(sink, port=port):
        conn.send("ready")
        while True:
            command = conn.recv()
            if command == "stats":
                with sink.lock:
                    ids = Counter(sink.ids)
                conn.send(ids)
            elif command == "reset":
                with sink.lock:
                    sink.ids.clear()
                conn.send("ok")
            else:
                return


class SinkProcess:
    def __init__(self, port: int) -> None:
        self.parent, child = mp.Pipe()
        self.proc = mp.get_context("fork").Process(
            target=_sink_main, args=(port, child), daemon=True
        )
        self.proc.start()
        assert self.parent.recv() == "ready"

    def ids(self) -> Counter[bytes]:
        self.parent.send("stats")
        return self.parent.recv()  # type: ignore[no-any-return]

    def count(self) -> int:
        return sum(self.ids().values())

    def reset(self) -> None:
        self.parent.send("reset")
        self.parent.recv()

    def stop(self) -> None:
        self.parent.send("stop")
        self.proc.join(5)


# --- seeding ---------------------------------------------------------------------------------


def seed(n: int) -> None:
    import datetime as dt

    from django.utils import timezone

    from cordee.activities.models import Activity
    from cordee.customers.models import Customer
    from cordee.partners.models import Partner, PartnerKind
    from cordee.privacy.crypto import email_index
    from cordee.privacy.models import ConsentEvent, ConsentState, Purpose

    hub = Partner.objects.create(
        slug="office", name="Office de tourisme de la Vallée", kind=PartnerKind.HUB
    )
    hotel = Partner.objects.create(slug="hotel", name="Hôtel des Alpes", kind=PartnerKind.HOTEL)
    purposes = [Purpose.objects.get(slug="newsletter"), Purpose.objects.get(slug="profiling")]
    now = timezone.now()
    first_names = [
        "Élodie",
        "Jean-Luc",
        "Hans",
        "Zoé",
        "Paul",
        "Claire",
        "",
        "Lucie",
        "Thomas",
        "Inès",
    ]
    chunk = 5000
    for start in range(0, n, chunk):
        rows = [
            Customer(
                first_name=first_names[i % len(first_names)],
                last_name=f"Client{i}",
                email=f"client{i}@bench.example",
                email_hash=email_index(f"client{i}@bench.example"),
                language="en" if i % 7 == 0 else "fr",
                attributes={"loyalty_group": "fidèles de l'hiver"} if i % 3 == 0 else {},
            )
            for i in range(start, min(n, start + chunk))
        ]
        customers = Customer.objects.bulk_create(rows)
        events = ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    customer=c, purpose=p, controller=hub, status="granted", at=now, channel="form"
                )
                for c in customers
                for p in purposes
            ]
        )
        ConsentState.objects.bulk_create(
            [
                ConsentState(
                    customer_id=e.customer_id,
                    purpose_id=e.purpose_id,
                    controller=hub,
                    status="granted",
                    at=now,
                    event=e,
                )
                for e in events
            ]
        )
        activities = []
        for k, c in enumerate(customers):
            activities.append(
                Activity(
                    customer=c,
                    partner=hotel,
                    kind="stay",
                    channel="import",
                    starts_on=dt.date(2025, 2, 1 + k % 27),
                )
            )
            if k % 2:
                activities.append(
                    Activity(
                        customer=c,
                        partner=hotel,
                        kind="ticket",
                        channel="import",
                        product="forfait ski",
                        starts_on=dt.date(2025, 2, 3),
                    )
                )
        Activity.objects.bulk_create(activities)


def make_campaign(name: str) -> int:
    from cordee.campaigns.sending import campaign_start
    from cordee.campaigns.services import campaign_save
    from cordee.privacy.access import Actor

    actor = Actor.system("bench")
    campaign = campaign_save(
        actor=actor,
        name=name,
        purpose="newsletter",
        channel="email",
        sender_name="Office de tourisme de la Vallée",
        sender_email="bonjour@vallee.example",
        subject_fr='{{ first_name|default:"Bonjour" }}, l\'hiver arrive',
        subject_en="Winter is coming, {{ first_name }}",
        blocks_fr=BLOCKS_FR,
        blocks_en=BLOCKS_EN,
        sms_fr="",
        sms_en="",
    )
    campaign_start(campaign=campaign, actor=actor)
    return int(campaign.pk)


# --- measuring -------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker(campaign_id: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cordee", "campaign", "run", str(campaign_id)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


TICK = os.sysconf("SC_CLK_TCK")


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database`` (/proc)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if not cmdline.startswith(b"postgres:") or f" {database} ".encode() not in cmdline:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


@dataclass
class Timed:
    seconds: float
    samples: list[tuple[int, float]]  # (messages received, worker resident MiB)
    worker_cpu: float
    pg_cpu: float
    load: list[float]  # 1-minute load average, sampled every second or so

    def row(self, total: int) -> dict[str, float]:
        return {
            "send_s": self.seconds,
            "rate": total / self.seconds,
            "worker_cpu_ms": 1000 * self.worker_cpu / total,
            "pg_cpu_ms": 1000 * self.pg_cpu / total,
            "load": sum(self.load) / max(1, len(self.load)),
        }


def timed_campaign(
    campaign_id: int,
    env: dict[str, str],
    sink: SinkProcess,
    total: int,
    workers: int,
    database: str,
) -> Timed:
    """Wall seconds, memory samples, the workers' CPU seconds and their backends' CPU seconds."""
    before = backends_cpu(database)
    load: list[float] = []
    start = time.perf_counter()
    procs = [worker(campaign_id, env) for _ in range(workers)]
    samples: list[tuple[int, float]] = []
    seen: dict[int, float] = {}
    cpu = 0.0
    running = {p.pid: p for p in procs}
    while running:
        time.sleep(0.5)
        for pid, cpu_s in backends_cpu(database).items():
            seen[pid] = max(seen.get(pid, 0.0), cpu_s)
        for pid, proc in list(running.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                proc.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
                del running[pid]
        rss = rss_mib(procs[0].pid)
        if running and rss:  # 0: the first worker has ended
            samples.append((sink.count(), rss))
            load.append(os.getloadavg()[0])
    seconds = time.perf_counter() - start
    for proc in procs:
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.read().decode() if proc.stderr else "worker failed")
    pg = sum(v - before.get(pid, 0.0) for pid, v in seen.items())
    return Timed(seconds, samples, cpu, pg, load)


def floor(campaign_id: int, port: int, total: int) -> float:
    from cordee.campaigns.compose import Composer, Recipient
    from cordee.campaigns.models import Campaign, Delivery
    from cordee.campaigns.personalisation import personal_values
    from cordee.customers.models import Customer

    campaign = Campaign.objects.select_related("purpose", "message").get(pk=campaign_id)
    composer = Composer(campaign)
    rows = list(
        Delivery.objects.filter(campaign=campaign)
        .order_by("id")
        .values_list("id", "customer_id", "language")[:FLOOR_DISTINCT]
    )
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=[r[1] for r in rows])}
    values = personal_values(customers.values())
    built = [
        (
            customers[c].email,
            composer.email_bytes(Recipient(customers[c], d, lang, values[c], True))[0],
        )
        for d, c, lang in rows
    ]
    start, cpu = time.perf_counter(), time.process_time()
    smtp = smtplib.SMTP("127.0.0.1", port)
    for i in range(total):
        to, data = built[i % len(built)]
        smtp.sendmail("bonjour@vallee.example", [to], data)
    smtp.quit()
    FLOOR_CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


def kill_and_restart(
    campaign_id: int, env: dict[str, str], sink: SinkProcess, total: int
) -> dict[str, int]:
    sink.reset()
    proc = worker(campaign_id, env)
    while sink.count() < total * 0.4 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = sink.count()
    # The restarted worker takes back the dead one's claims at once (lease 0: it is dead).
    again = worker(campaign_id, {**env, "CORDEE_CAMPAIGN_LEASE": "0"})
    again.wait()
    ids = Counter(
        {k: v for k, v in sink.ids().items() if k.startswith(f"<cordee.{campaign_id}.".encode())}
    )
    from cordee.campaigns.models import Delivery

    return {
        "queued": Delivery.objects.filter(campaign_id=campaign_id).count(),
        "at_kill": at_kill,
        "received": sum(ids.values()),
        "distinct": len(ids),
        "twice": sum(1 for v in ids.values() if v > 1),
        "ledger_sent": Delivery.objects.filter(campaign_id=campaign_id, status="sent").count(),
    }


def analyse(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2 cores)")
    parser.add_argument(
        "--before-src", default="", help="src/ of the reference code, run in the same run"
    )
    parser.add_argument("--before-label", default="main before this change")
    parser.add_argument(
        "--fresh-statistics",
        action="store_true",
        help="do not analyse the tables after seeding (a campaign right after a big import)",
    )
    parser.add_argument("--section", default="E-mail campaign", help="docs/BENCHMARKS.md section")
    args = parser.parse_args()
    from cordee.campaigns.sink import free_port

    port = free_port()
    sink = SinkProcess(port)  # forked before Django starts
    home = Path(tempfile.mkdtemp(prefix="cordee-bench-campaign-"))
    database_url = args.database_url or pg_fresh_database("cordee_bench_campaign")
    env = {
        "CORDEE_HOME": str(home),
        "CORDEE_DATABASE_URL": database_url,
        "CORDEE_TASKS": "immediate",
        "CORDEE_EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "CORDEE_PUBLIC_URL": "https://crm.vallee.example",
        "CORDEE_PRESSURE_CAP": "1000",
        "CORDEE_CAMPAIGN_BATCH": "500",
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(HERE),
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "-m", "cordee", "migrate", "-v", "0"], check=True, env=os.environ
    )
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    django.setup()
    t0 = time.perf_counter()
    seed(args.messages)
    seed_s = time.perf_counter() - t0
    if not args.fresh_statistics:
        analyse(database_url)
    t0 = time.perf_counter()
    a = make_campaign("Bench A")
    snapshot_s = time.perf_counter() - t0
    reference = make_campaign("Bench R") if args.before_src else 0
    if not args.fresh_statistics:
        analyse(database_url)
    from django.db import connection

    # The machine is shared: the floor is measured before and after the campaigns.
    floor_before_s = floor(a, port, args.messages)
    sink.reset()
    connection.close()
    database = database_url.rsplit("/", 1)[1]
    ref: Timed | None = None
    if args.before_src:
        before_env = {
            **env,
            "PYTHONPATH": str(Path(args.before_src).resolve()) + os.pathsep + str(HERE),
        }
        ref = timed_campaign(reference, before_env, sink, args.messages, args.workers, database)
        ref_received = sink.count()
        sink.reset()
    run = timed_campaign(a, env, sink, args.messages, args.workers, database)
    received = sink.count()
    floor_s = floor(a, port, args.messages)
    sink.reset()
    b = make_campaign("Bench B")
    connection.close()
    kill = kill_and_restart(b, env, sink, args.messages)
    sink.stop()
    marks = []
    for fraction in (0.25, 0.5, 0.75, 1.0):
        sample = next(
            (s for s in run.samples if s[0] >= fraction * args.messages),
            run.samples[-1] if run.samples else (0, 0.0),
        )
        marks.append(f"{int(fraction * 100)} %: {sample[1]:.0f} MiB")
    floor_mean = (floor_s + floor_before_s) / 2
    floor_cpu_ms = 1000 * sum(FLOOR_CPU) / (2 * args.messages)
    new = run.row(args.messages)
    result = {
        "seed_s": seed_s,
        "snapshot_s": snapshot_s,
        "floor_s": floor_s,
        "floor_before_s": floor_before_s,
        "received": received,
        "floor_cpu_ms": floor_cpu_ms,
        **new,
        **kill,
    }
    old = ref.row(args.messages) if ref else None
    print(json.dumps({"new": result, "reference": old}), flush=True)
    n = args.messages

    def line(label: str, t: dict[str, float]) -> str:
        return (
            f"| {label} | {t['send_s']:.1f} s, **{t['rate']:,.0f} msg/s** | "
            f"**{t['send_s'] / floor_mean:.2f}×** | {t['worker_cpu_ms']:.2f} ms + "
            f"{t['pg_cpu_ms']:.2f} ms = **{t['worker_cpu_ms'] + t['pg_cpu_ms']:.2f} ms** | "
            f"{t['load']:.1f} |\n"
        )

    ratio = new["send_s"] / floor_mean
    rate_ok = new["rate"] >= 500
    body = (
        "The machine is shared with other developers' jobs (tests, other benchmarks): wall times "
        "are noisy; the CPU per message (from /proc: the worker processes, and their PostgreSQL "
        "backends) and the ratio to the floor measured in the same run are the comparable figures.\n\n"
        f"Command: `.venv/bin/python bench/bench_campaign.py --messages {n}"
        + (" --before-src /tmp/before/src" if ref else "")
        + (" --fresh-statistics" if args.fresh_statistics else "")
        + "`"
        + (" (also run by `bench/run.py`)" if args.section == "E-mail campaign" else "")
        + "; PostgreSQL, "
        + (
            "tables NOT analysed after seeding (no statistics yet, as right after a big import); "
            if args.fresh_statistics
            else "tables analysed after seeding; "
        )
        + "aiosmtpd "
        "counting server on loopback in its own process; worker = `cordee campaign run ID` "
        f"in {args.workers} child processes at once (the claims keep them apart), batches of 500, 8 SMTP "
        "connections each, no rate limit.\n\n"
        f"Snapshot ({n:,} recipients: segment ∩ consent ∩ suppressions ∩ cap): {snapshot_s:.1f} s.\n\n"
        "| run | wall | ÷ floor | CPU per message: workers + PostgreSQL | load (1 min) |\n"
        "|---|---|---|---|---|\n"
        f"| floor before: bare smtplib loop, one connection, pre-built messages | {floor_before_s:.1f} s, {n / floor_before_s:,.0f} msg/s | 1 | {floor_cpu_ms:.2f} ms (client) | — |\n"
        f"| floor after (the same) | {floor_s:.1f} s, {n / floor_s:,.0f} msg/s | 1 | | — |\n"
        + (
            line(f"reference: {args.before_label}, same campaign, same database", old)
            if old
            else ""
        )
        + line(
            f"**this version**: {n:,} personalised mails (HTML + text, tracked links, one-click headers)",
            new,
        )
        + "\n"
        f"Messages the server counted: {received:,} for this version"
        + (f", {ref_received:,} for the reference" if ref else "")
        + ".\n"
        + (
            f"Against the reference: CPU per message ÷ {(old['worker_cpu_ms'] + old['pg_cpu_ms']) / (new['worker_cpu_ms'] + new['pg_cpu_ms']):.1f} "
            f"(PostgreSQL ÷ {old['pg_cpu_ms'] / max(new['pg_cpu_ms'], 1e-9):.1f}, workers ÷ {old['worker_cpu_ms'] / new['worker_cpu_ms']:.1f}), "
            f"wall time ÷ {old['send_s'] / new['send_s']:.1f}.\n"
            if old
            else ""
        )
        + f"Worker resident memory as the campaign goes: {', '.join(marks)}.\n"
        f"Campaign B, a worker SIGKILLed at {kill['at_kill']:,} received, then restarted: "
        f"{kill['received']:,} received, {kill['distinct']:,} distinct of {kill['queued']:,} queued, "
        f"**{kill['twice']} twice**, ledger sent {kill['ledger_sent']:,}.\n\n"
        "Targets: ≥ 500 msg/s on 2 cores — "
        + ("met" if rate_ok else "**not met** here")
        + f" ({new['rate']:,.0f} msg/s); ≤ 2× the floor — "
        + ("met" if ratio <= 2 else "**not met**")
        + f" ({ratio:.2f}×); memory flat; no message twice, none lost.\n"
        f"Floor detail: {FLOOR_DISTINCT:,} distinct pre-built messages, each sent {n // FLOOR_DISTINCT} times.\n"
    )
    write_section(args.section, body)


if __name__ == "__main__":
    main()
