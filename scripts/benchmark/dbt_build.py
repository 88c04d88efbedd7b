"""One `dbt build` as a child process, in a work directory of its own, with per-node timings.

Each work directory holds its own DuckDB file, dbt target and log paths and DuckDB temp
directory (the environment variables profiles.yml and the sources read), so benchmark runs never
touch the project's warehouse or target/. The sources read the raw data through a symlink of the
work directory, pointed at the base data for the full build and at the next day's data for the
daily run: the raw path dbt sees stays the same, as it does in production, so the daily run's
partial parse is not invalidated by a changed environment variable (the source YAMLs read it).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.measure import Measured, run_measured

HISTORY_MODEL = "model.customer_health.fct_health_score_history"
SCORES_TABLE = "fct_health_scores"
OK_STATUSES = frozenset({"success", "pass", "no-op"})
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
MESSAGE_CHARS = 2_000  # of a failed node's message kept in the results
# the line macro account_bucket_timing_line writes after a model built in buckets
_RATE = r"[\d.]+|n/a"  # seconds per million rows, n/a when no rows were counted
BUCKET_TIMING_LINE = re.compile(
    r"(?P<model>\w+): (?P<buckets>\d+) account buckets, (?P<rows>\d+) rows in "
    r"(?P<seconds>[\d.]+) s; seconds per million rows: "
    rf"all (?P<seconds_per_million_rows>{_RATE}), "
    rf"first (?P<tenth>\d+) (?P<first_tenth_seconds_per_million_rows>{_RATE}), "
    rf"last \d+ (?P<last_tenth_seconds_per_million_rows>{_RATE}); "
    r"slowest bucket (?P<slowest_bucket>\d+): (?P<slowest_bucket_seconds>[\d.]+) s "
    r"for (?P<slowest_bucket_rows>\d+) rows"
)
BUCKET_TIMING_COUNTS = frozenset(
    {"buckets", "rows", "tenth", "slowest_bucket", "slowest_bucket_rows"}
)


@dataclass(frozen=True)
class WorkDir:
    """The paths of one benchmark warehouse."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "customer_health.duckdb"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tmp(self) -> Path:
        return self.root / "duckdb_tmp"

    @property
    def raw(self) -> Path:
        """A symlink to the raw data directory of the current build (see point_raw_at)."""
        return self.root / "raw"

    def point_raw_at(self, raw_dir: Path) -> None:
        """Point the raw symlink at raw_dir, replacing the previous target in one step."""
        staged = self.root / "raw.next"
        staged.unlink(missing_ok=True)
        staged.symlink_to(raw_dir.resolve(), target_is_directory=True)
        staged.replace(self.raw)

    def create(self) -> WorkDir:
        for path in (self.root, self.target, self.logs, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def env(self, project_dir: Path, memory_limit: str | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DO_NOT_TRACK": "1",
                "DBT_PROFILES_DIR": str(project_dir),
                "CUSTOMER_HEALTH_DB": str(self.database.resolve()),
                "DBT_TARGET_PATH": str(self.target.resolve()),
                "DBT_LOG_PATH": str(self.logs.resolve()),
                "CUSTOMER_HEALTH_DUCKDB_TMP": str(self.tmp.resolve()),
                # the link itself, not its target: the path must not change between builds
                "CUSTOMER_HEALTH_RAW_DIR": str(self.raw.absolute()),
                "CUSTOMER_HEALTH_RAW_FORMAT": "parquet",
            }
        )
        if memory_limit:
            env["CUSTOMER_HEALTH_DUCKDB_MEMORY"] = memory_limit
        return env


@dataclass(frozen=True)
class NodeTiming:
    unique_id: str
    resource_type: str
    status: str
    seconds: float
    rows_affected: int | None
    message: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "unique_id": self.unique_id,
            "resource_type": self.resource_type,
            "status": self.status,
            "seconds": round(self.seconds, 4),
            "rows_affected": self.rows_affected,
        }


@dataclass(frozen=True)
class BuildResult:
    """A finished `dbt build`: the process measurements and dbt's own per-node timings."""

    label: str
    measured: Measured
    dbt_elapsed_seconds: float | None
    nodes: list[NodeTiming] = field(default_factory=list)
    duckdb_file_bytes: int = 0
    events: int = 0
    raw_dir: Path | None = None  # what the work directory's raw symlink pointed at
    bucket_timings: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @property
    def status_counts(self) -> dict[str, int]:
        return dict(Counter(node.status for node in self.nodes))

    @property
    def not_ok(self) -> list[NodeTiming]:
        return [node for node in self.nodes if node.status not in OK_STATUSES]

    @property
    def failed(self) -> list[NodeTiming]:
        """The nodes that failed themselves (the skipped ones downstream are not here)."""
        return [node for node in self.nodes if node.status in FAILED_STATUSES]

    def seconds_by_type(self) -> dict[str, float]:
        totals: Counter[str] = Counter()
        for node in self.nodes:
            totals[node.resource_type] += node.seconds
        return {key: round(value, 3) for key, value in sorted(totals.items())}

    def as_dict(self) -> dict[str, object]:
        wall = self.measured.wall_seconds
        return {
            "label": self.label,
            "command": self.measured.command,
            "raw_dir": str(self.raw_dir) if self.raw_dir else None,
            "exit_code": self.measured.exit_code,
            "wall_seconds": round(wall, 3),
            "dbt_elapsed_seconds": (
                round(self.dbt_elapsed_seconds, 3) if self.dbt_elapsed_seconds else None
            ),
            "events": self.events,
            "events_per_second": round(self.events / wall, 1) if wall > 0 else None,
            "peak_rss_bytes": self.measured.peak_rss_bytes,
            "rusage_maxrss_bytes": self.measured.rusage_maxrss_bytes,
            "duckdb_file_bytes": self.duckdb_file_bytes,
            "status_counts": self.status_counts,
            "not_ok_nodes": [node.unique_id for node in self.not_ok],
            # why: the work directory with dbt's output may be gone when the results are read
            "failed_nodes": [
                {"unique_id": node.unique_id, "status": node.status, "message": node.message}
                for node in self.failed
            ],
            "node_seconds_by_type": self.seconds_by_type(),
            "nodes": [
                node.as_dict() for node in sorted(self.nodes, key=lambda n: n.seconds, reverse=True)
            ],
            "bucket_timings": self.bucket_timings,
            "output": str(self.measured.output_path),
        }


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the project's .venv)."""
    candidate = Path(sys.executable).parent / "dbt"
    if not candidate.exists():
        raise BenchmarkError(f"{candidate}: dbt is not installed next to {sys.executable}")
    return str(candidate)


def read_run_results(target: Path) -> tuple[float | None, list[NodeTiming]]:
    path = target / "run_results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: cannot read dbt's run results ({exc})") from exc
    nodes = []
    for result in results.get("results", []):
        unique_id = str(result["unique_id"])
        response = result.get("adapter_response") or {}
        rows = response.get("rows_affected")
        nodes.append(
            NodeTiming(
                unique_id=unique_id,
                resource_type=unique_id.split(".", 1)[0],
                status=str(result.get("status")),
                seconds=float(result.get("execution_time") or 0.0),
                rows_affected=int(rows) if isinstance(rows, int) else None,
                message=(str(result["message"])[:MESSAGE_CHARS] if result.get("message") else None),
            )
        )
    elapsed = results.get("elapsed_time")
    return (float(elapsed) if elapsed is not None else None), nodes


def read_bucket_timings(output: str) -> dict[str, dict[str, float | None]]:
    """Per model built in account buckets, how its buckets took their time (dbt's output).

    Counts are ints, seconds and rates floats; a rate is None where no rows were counted."""
    timings: dict[str, dict[str, float | None]] = {}
    for match in BUCKET_TIMING_LINE.finditer(output):
        fields = match.groupdict()
        model = fields.pop("model")
        timings[model] = {
            key: (
                int(value)
                if key in BUCKET_TIMING_COUNTS
                else (None if value == "n/a" else float(value))
            )
            for key, value in fields.items()
        }
    return timings


def has_incremental_history(target: Path) -> bool:
    """Whether the project (as dbt parsed it) has the incremental score history model."""
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    node = manifest.get("nodes", {}).get(HISTORY_MODEL)
    return bool(node) and node.get("config", {}).get("materialized") == "incremental"


def database_bytes(database: Path) -> int:
    """The DuckDB file and its write-ahead log, if any."""
    wal = database.with_name(database.name + ".wal")
    return sum(path.stat().st_size for path in (database, wal) if path.exists())


def run_build(
    *,
    label: str,
    work: WorkDir,
    raw_dir: Path,
    project_dir: Path,
    events: int,
    extra_args: list[str],
    memory_limit: str | None,
) -> BuildResult:
    """`dbt build` into work's warehouse from raw_dir; a failed node does not raise."""
    command = [dbt_executable(), "build", "--project-dir", str(project_dir), *extra_args]
    slug = label.split(" ")[0].replace("/", "_")
    (work.target / "run_results.json").unlink(missing_ok=True)  # never read a stale one
    work.point_raw_at(raw_dir)
    measured = run_measured(
        command,
        output_path=work.root / f"dbt_{slug}.out",
        env=work.env(project_dir, memory_limit),
        cwd=project_dir,
    )
    if not (work.target / "run_results.json").exists():
        raise BenchmarkError(
            f"dbt build ({label}) wrote no run_results.json (exit {measured.exit_code}); "
            f"its output ends with:\n{measured.output_tail()}"
        )
    elapsed, nodes = read_run_results(work.target)
    output = measured.output_path.read_text(encoding="utf-8", errors="replace")
    return BuildResult(
        label=label,
        measured=measured,
        dbt_elapsed_seconds=elapsed,
        nodes=nodes,
        duckdb_file_bytes=database_bytes(work.database),
        events=events,
        raw_dir=raw_dir.resolve(),
        bucket_timings=read_bucket_timings(output),
    )


def read_scores(database: Path) -> object:
    """dbt's latest-date scores (a pandas DataFrame), or None when the mart was not built."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        found = con.execute(
            "select table_schema from information_schema.tables where table_name = ?",
            [SCORES_TABLE],
        ).fetchone()
        if found is None:
            return None
        return con.execute(
            f"select account_id, as_of_date, computed_score, health_score, band "
            f'from "{found[0]}".{SCORES_TABLE}'
        ).df()
    finally:
        con.close()
