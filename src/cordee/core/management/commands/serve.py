from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import CommandParser

from cordee.core.commands import CordeeCommand


class Command(CordeeCommand):
    help = "Démarre Cordée : le serveur web (gunicorn) et le travailleur des tâches de fond."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("CORDEE_PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("CORDEE_BIND", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=2, help="processus web")
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="fils par processus web (1 : un processus synchrone)",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="ne pas lancer le travailleur de tâches"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            with_worker=not options["no_worker"],
            stdout=self.stdout,
        )


def serve(
    *, host: str, port: int, workers: int, with_worker: bool, stdout: Any, threads: int = 4
) -> None:
    children = []
    if with_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "cordee", "worker"]))
    web = [
        sys.executable, "-m", "gunicorn", "cordee.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
        "--access-logfile", "-", "--graceful-timeout", "5",
        # The longest request line gunicorn accepts; the API answers longer query strings
        # than it reads with its own JSON 414.
        "--limit-request-line", "8190",
        # Path only: query strings (search text, cursors) and referrers may hold personal data.
        "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss',
    ]  # fmt: skip
    children.append(subprocess.Popen(web))
    stdout.write(f"Cordée est servi sur http://{host}:{port}/  (Ctrl-C pour arrêter)")
    try:
        while all(child.poll() is None for child in children):
            try:
                children[-1].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
