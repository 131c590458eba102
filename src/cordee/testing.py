"""pytest plugin (``-p cordee.testing`` in pyproject.toml): a private data directory per test run.

It must run before pytest-django reads the settings, which happens before any conftest.py is
loaded, so it cannot live in tests/conftest.py.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    if not os.environ.get("CORDEE_HOME"):
        os.environ["CORDEE_HOME"] = tempfile.mkdtemp(prefix="cordee-test-")
    os.environ.setdefault("CORDEE_TASKS", "immediate")
    # Tests run the resolution where they mean to (it changes which customers exist).
    os.environ.setdefault("CORDEE_RESOLVE_AFTER_IMPORT", "0")
