from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from cordee.core.commands import CordeeCommand
from cordee.core.tasks_backend import get_huey, huey_task


class Command(CordeeCommand):
    help = "Exécute les tâches de fond (imports longs...) mises en file par le site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        huey_task()  # register the task that runs django.tasks before consuming
        consumer = get_huey().create_consumer(workers=options["workers"], worker_type="thread")
        consumer.run()
