"""Run `dbt build` in-process through dbt's programmatic runner.

The run's settings reach dbt through the same environment variables a person
would set (CUSTOMER_HEALTH_DB, _RAW_DIR, _RAW_FORMAT), for the duration of the
call only. dbt's own log goes to the run folder; the console shows our
progress lines. dbt-duckdb keeps its DuckDB connection open after the runner
returns (pitfalls.md), so `release_duckdb` closes it before anything else
opens the file.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.settings import (
    ENV_DB,
    ENV_DUCKDB_TMP,
    ENV_RAW_DIR,
    ENV_RAW_FORMAT,
    Settings,
)

log = get_logger("dbt")

_PASSED = {"success", "pass"}
_PROBLEMS = {"error", "fail", "runtime error"}


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""
    failures: int | None = None

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class DbtOutcome:
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for node in self.nodes:
            totals[node.status] = totals.get(node.status, 0) + 1
        return totals

    @property
    def problems(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in _PROBLEMS]

    @property
    def warnings(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]

    def describe_problems(self, limit: int = 20) -> list[str]:
        lines = []
        for node in self.problems[:limit]:
            rows = f", {node.failures} failing rows" if node.failures else ""
            message = " ".join(node.message.split())[:600]
            lines.append(f"{node.status.upper()} {node.resource_type} {node.name}{rows}: {message}")
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more (see dbt.log)")
        return lines


@contextmanager
def temporary_env(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_environment(settings: Settings, database: Path, raw_format: str) -> dict[str, str]:
    env = {
        ENV_DB: str(database),
        ENV_RAW_DIR: str(settings.raw_dir),
        ENV_RAW_FORMAT: raw_format,
        "DO_NOT_TRACK": "1",
    }
    if settings.duckdb_tmp is not None:
        env[ENV_DUCKDB_TMP] = str(settings.duckdb_tmp)
    return env


def _common_args(settings: Settings, log_dir: Path) -> list[str]:
    args = [
        "--project-dir",
        str(settings.project_dir),
        "--profiles-dir",
        str(settings.profiles_dir),
        "--log-path",
        str(log_dir),
        "--log-level",
        "none",
        "--log-level-file",
        "debug" if settings.verbosity > 0 else "info",
        "--no-use-colors",
        "--no-version-check",
        "--no-send-anonymous-usage-stats",
    ]
    if settings.target:
        args += ["--target", settings.target]
    return args


def build_args(settings: Settings, log_dir: Path, command: str = "build") -> list[str]:
    args = [command, *_common_args(settings, log_dir)]
    if settings.select:
        args += ["--select", *settings.select]
    if settings.full_refresh:
        args.append("--full-refresh")
    if command == "build" and not settings.unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    dbt_vars = dict(settings.dbt_vars)
    if settings.as_of_date:
        dbt_vars["as_of_date"] = settings.as_of_date.isoformat()
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars, default=str)]
    return args


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


class _Progress:
    """dbt event callback: one debug line per finished node, failures louder."""

    def __init__(self) -> None:
        self.finished = 0

    def __call__(self, event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        self.finished += 1
        node = event.data.node_info
        result = event.data.run_result
        status = _text(result.status)
        line = "  %4d %-8s %-7s %s (%.1f s)"
        args = (self.finished, node.resource_type, status, node.node_name, result.execution_time)
        if status in _PROBLEMS:
            log.warning(line, *args)
        elif self.finished % 25 == 0:
            log.info(line + " ...", *args)
        else:
            log.debug(line, *args)


def _node_results(result: Any) -> list[NodeResult]:
    nodes: list[NodeResult] = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:  # run-operation: a macro's outcome, no node
            continue
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=_text(node.resource_type),
                status=_text(item.status),
                seconds=round(float(item.execution_time or 0.0), 3),
                message=str(item.message or ""),
                failures=item.failures,
            )
        )
    return nodes


def release_duckdb() -> None:
    """Close dbt-duckdb's kept-open connection so the file is free for others."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing held in-process
        return
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


def register_raw_args(settings: Settings, log_dir: Path, raw_format: str) -> list[str]:
    """`dbt run-operation create_raw_tables` over the run's raw directory."""
    macro_args = json.dumps({"raw_path": str(settings.raw_dir), "raw_format": raw_format})
    return [
        "run-operation",
        "create_raw_tables",
        "--args",
        macro_args,
        *_common_args(settings, log_dir),
    ]


def run_dbt(
    settings: Settings,
    *,
    database: Path,
    raw_format: str,
    log_dir: Path,
    args: list[str] | None = None,
) -> DbtOutcome:
    """`dbt build` (or `args`) against `database` (a DuckDB file) or the target's warehouse.

    In-process: on Spark's session method, every call shares the process's one Spark
    session and its Derby metastore.
    """
    from dbt.cli.main import dbtRunner

    args = args or build_args(settings, log_dir)
    log.debug("dbt %s", " ".join(args))
    log.debug("environment for dbt: %s", dbt_environment(settings, database, raw_format))
    started = time.perf_counter()
    try:
        with temporary_env(dbt_environment(settings, database, raw_format)):
            result = dbtRunner(callbacks=[_Progress()]).invoke(args)
    finally:
        release_duckdb()
    outcome = DbtOutcome(
        success=bool(result.success),
        nodes=_node_results(result.result),
        error=None
        if result.exception is None
        else f"{type(result.exception).__name__}: {result.exception}",
        seconds=round(time.perf_counter() - started, 3),
    )
    if isinstance(result.exception, KeyboardInterrupt):
        # dbt's runner returns Ctrl-C or SIGTERM as a failed result: stop the run, as
        # an interruption, instead of reporting a failed build.
        raise KeyboardInterrupt(str(result.exception))
    return outcome
