"""Where Splink runs: DuckDB in this process (the default), or Spark when a destination
outgrows one machine.

The backend is a setting, ``CORDEE_RESOLUTION_BACKEND`` (``duckdb`` or ``spark``), with
``CORDEE_SPARK_MASTER`` (default ``local[2]``: Spark inside this machine, two cores) naming
the cluster. Both run the same model: the comparisons and blocking rules of
:mod:`cordee.customers.matching.model` are written once and Splink writes them in each
backend's SQL; a stored model (trained on either) is rewritten for the other by copying its
learned probabilities level by level onto the settings made for that backend's dialect.

Spark needs the optional extra (``pip install 'cordee[spark]'``, i.e. pyspark) and a Java
17 or later (Debian: ``apt install openjdk-17-jre-headless``); when either is missing the
run stops with a message that says which, before anything is written.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "backend_name",
    "check",
    "db_api",
    "for_dialect",
    "predictions_table",
    "release",
    "spark_session",
]

BACKENDS = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
DUCKDB_MEMORY_LIMIT = "4GB"


class BackendUnavailable(ImproperlyConfigured):
    """The chosen backend cannot run here (a message in French says why)."""


def backend_name(name: str | None = None) -> str:
    """The backend to use: `name`, else the setting, else DuckDB."""
    if name is None:
        from django.conf import settings

        name = (
            getattr(settings, "CORDEE_RESOLUTION_BACKEND", "duckdb")
            if settings.configured
            else None
        )
    name = (name or "duckdb").strip().lower()
    if name not in BACKENDS:
        raise BackendUnavailable(
            _("Moteur de rapprochement inconnu « %(name)s » : duckdb ou spark.") % {"name": name}
        )
    return name


def _spark_master() -> str:
    from django.conf import settings

    master = getattr(settings, "CORDEE_SPARK_MASTER", "") if settings.configured else ""
    return master or DEFAULT_SPARK_MASTER


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check(name: str | None = None) -> str:
    """The backend's name once it is known to be able to run here (Spark started), or
    :class:`BackendUnavailable` with why."""
    name = backend_name(name)
    if name == "spark":
        spark_session()
    return name


def _spark_requirements() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise BackendUnavailable(
            _(
                "Le rapprochement sur Spark demande pyspark : installez Cordée avec "
                "l'option spark (pip install 'cordee[spark]'), ou revenez à "
                "CORDEE_RESOLUTION_BACKEND=duckdb."
            )
        ) from None
    if _java() is None:
        raise BackendUnavailable(
            _(
                "Le rapprochement sur Spark demande Java 17 ou plus (Debian : apt install "
                "openjdk-17-jre-headless), introuvable ici (ni JAVA_HOME ni java dans le "
                "PATH). Ou revenez à CORDEE_RESOLUTION_BACKEND=duckdb."
            )
        )


def spark_session() -> Any:
    """The process's Spark session, started on first use (the JVM takes seconds to start)."""
    _spark_requirements()
    return _started(_spark_master())


@lru_cache(maxsize=1)
def _started(master: str) -> Any:
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    # Python workers run this interpreter (the system's python3 may be another version,
    # which Spark refuses); a cluster sets PYSPARK_PYTHON itself.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    builder = (
        SparkSession.builder.master(master)
        .appName("cordee-resolution")
        # Splink's Jaro-Winkler and friends are Scala functions shipped as a jar.
        .config("spark.jars", similarity_jar_location())
        # Local mode and small bases: a few partitions, not Spark's 200.
        .config("spark.sql.shuffle.partitions", os.environ.get("CORDEE_SPARK_PARTITIONS", "8"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
    except Exception as exc:  # the JVM did not start: a wrong Java, no memory...
        raise BackendUnavailable(
            _("Spark n'a pas pu démarrer (%(error)s). Vérifiez Java 17 et CORDEE_SPARK_MASTER.")
            % {"error": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}
        ) from exc


def db_api(name: str | None = None) -> Any:
    """A fresh Splink database API for the backend."""
    if backend_name(name) == "spark":
        from splink.backends.spark import SparkAPI

        # Persisted in the executors' memory: no checkpoint directory to set up locally.
        return SparkAPI(spark_session=spark_session(), break_lineage_method="persist")
    import duckdb
    from splink import DuckDBAPI

    connection = duckdb.connect(":memory:")
    connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    connection.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(connection)


def for_dialect(model: dict[str, Any], dialect: str, fresh: dict[str, Any]) -> dict[str, Any]:
    """`model` (a trained settings dict) rewritten for `dialect`: `fresh` is the untrained
    settings made for that dialect, onto which the learned probabilities are copied.

    The SQL of a stored model is the SQL of the backend it was trained on (DuckDB's
    ``jaro_winkler_similarity`` is Spark's ``jaro_winkler``); the probabilities are not.
    """
    if model.get("sql_dialect") == dialect:
        return model
    stored = {c["output_column_name"]: c for c in model["comparisons"]}
    for comparison in fresh["comparisons"]:
        name = comparison["output_column_name"]
        levels = stored[name]["comparison_levels"] if name in stored else None
        if levels is None or len(levels) != len(comparison["comparison_levels"]):
            raise ValueError(f"stored model does not match comparison {name!r}: retrain it")
        for target, learned in zip(comparison["comparison_levels"], levels, strict=True):
            for key in ("m_probability", "u_probability", "tf_adjustment_weight"):
                if key in learned:
                    target[key] = learned[key]
    out = {**model, "comparisons": fresh["comparisons"], "sql_dialect": dialect}
    out["blocking_rules_to_generate_predictions"] = fresh["blocking_rules_to_generate_predictions"]
    return out


def release(backend: str) -> None:
    """Free what a run left in the backend (Spark keeps its persisted tables otherwise)."""
    if backend == "spark":
        session = spark_session()
        session.catalog.clearCache()
        for table in session.catalog.listTables():
            if table.isTemporary:
                session.catalog.dropTempView(table.name)


def predictions_table(predictions: Any, *, where: str, columns: str, backend: str) -> pa.Table:
    """The rows of Splink's predictions that satisfy `where` (SQL with double-quoted
    names), as Arrow; the predictions table is dropped afterwards."""
    if backend == "spark":
        # Spark SQL quotes names with backticks (a double-quoted word is a string there).
        frame = predictions.as_spark_dataframe()
        table: pa.Table = (
            frame.filter(where.replace('"', "`")).selectExpr(
                *(c.strip().replace('"', "`") for c in columns.split(","))
            )
        ).toArrow()
    else:
        relation = predictions.as_duckdbpyrelation()
        table = relation.filter(where).select(columns).arrow()
        if isinstance(table, pa.RecordBatchReader):  # DuckDB 2 returns a reader
            table = table.read_all()
    predictions.drop_table_from_database_and_remove_from_cache()
    return table
