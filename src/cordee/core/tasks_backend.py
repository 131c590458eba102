"""A ``django.tasks`` backend that hands tasks to Huey.

Code enqueues with ``django.tasks`` only; Huey carries the work to a consumer (``cordee worker``,
started beside the web server by ``cordee serve``). Storage is a SQLite file under CORDEE_HOME
by default, Redis when CORDEE_REDIS_URL is set (consumers on several machines).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from django.conf import settings
from django.tasks import TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from huey import Huey, RedisHuey, SqliteHuey

logger = logging.getLogger(__name__)


@cache
def get_huey() -> Huey:
    options: dict[str, Any] = settings.TASKS["default"].get("OPTIONS", {})
    redis_url = options.get("redis_url")
    if redis_url:
        return RedisHuey("cordee", url=redis_url)
    return SqliteHuey("cordee", filename=str(settings.CORDEE_HOME / "tasks.sqlite3"))


def _execute(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    task = import_string(module_path)
    logger.info("running task %s", module_path)
    task.call(*args, **kwargs)


@cache
def huey_task() -> Any:
    # Registered on first use, in the web process and in the consumer alike.
    return get_huey().task(name="cordee.run_django_task")(_execute)


class HueyBackend(BaseTaskBackend):
    supports_defer = True

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        runner = huey_task()
        if task.run_after is not None:
            runner.schedule(args=(task.module_path, list(args), dict(kwargs)), eta=task.run_after)
        else:
            runner(task.module_path, list(args), dict(kwargs))
        return TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
