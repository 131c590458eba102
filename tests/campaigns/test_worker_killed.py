"""A worker killed in the middle of a campaign, then restarted: none twice, none lost.

The worker is a real child process (``cordee campaign run ID``) killed with SIGKILL; the SMTP
server counts every Message-ID it received. Needs a database the child can open: PostgreSQL,
or SQLite in a file (CORDEE_TEST_SQLITE_NAME); skipped on an in-memory SQLite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from tests.campaigns.conftest import grant, make_customer

from cordee.campaigns.models import Delivery
from cordee.campaigns.sink import Sink, SinkServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str | None:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{s['NAME']}"
    return None


def worker(campaign_id: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cordee", "campaign", "run", str(campaign_id)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_killed_worker_restarted_sends_each_message_exactly_once(
    destination, campaign_of, tmp_path
):
    url = database_url()
    if url is None:
        pytest.skip("the child process cannot open an in-memory SQLite database")
    from cordee.campaigns.sending import campaign_start
    from cordee.privacy.access import Actor
    from cordee.privacy.encryption import keys_setting

    for i in range(240):
        grant(make_customer(f"P{i}", f"p{i}@example.org"), "newsletter")
    campaign = campaign_of()
    campaign_start(campaign=campaign, actor=Actor.system("test"))
    sink = Sink(keep=False)
    with SinkServer(sink) as (host, port):
        env = {
            "CORDEE_DATABASE_URL": url,
            "CORDEE_HOME": str(tmp_path),
            "CORDEE_EMAIL_URL": f"smtp://{host}:{port}",
            "CORDEE_CAMPAIGN_BATCH": "20",
            "CORDEE_SMTP_CONNECTIONS": "4",
            "CORDEE_CAMPAIGN_RATE": "150",
            "PYTHONPATH": str(ROOT / "src"),
            # Another home, the same keys: the e-mails are encrypted with this process's.
            "CORDEE_FIELD_KEYS": keys_setting(),
        }
        first = worker(campaign.pk, env)
        deadline = time.monotonic() + 120
        while sink.count < 80 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = sink.count
        assert 0 < at_kill < 240, "the worker must be killed mid-campaign"
        second = worker(campaign.pk, {**env, "CORDEE_CAMPAIGN_LEASE": "0"})
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err.decode()
        time.sleep(0.2)
    ids = {k: v for k, v in sink.ids.items() if k.startswith(f"<cordee.{campaign.pk}.".encode())}
    assert len(ids) == 240  # none lost
    assert max(ids.values()) == 1  # none twice
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 240
    expected = {d.message_id.encode() for d in Delivery.objects.filter(campaign=campaign)}
    assert set(ids) == expected
