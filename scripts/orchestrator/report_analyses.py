"""Compile the dbt analyses (analyses/) and run their SQL against a warehouse, read-only.

The HTML report shows exactly what the analyses return: it compiles them with
dbt (`dbt compile --select path:analyses`, against a scratch DuckDB file so
that the published warehouse is never opened read-write) or reads SQL compiled
earlier, then runs each file unchanged. Compiled SQL names its relations with
the catalog dbt compiled against (`"<catalog>"."main"."fct_health_scores"`),
so the warehouse is attached read-only under that name.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.orchestrator.errors import ExitCode, OrchestratorError
from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.settings import Settings

log = get_logger("report")

# The analyses the report shows, in the order it shows them.
ANALYSES = (
    "score_distribution",
    "score_histograms",
    "threshold_calibration",
    "backtest_churn_by_band",
    "backtest_churn_by_decile",
    "backtest_separation",
    "weight_sensitivity",
)
COMPILED_SUBDIR = Path("compiled") / "customer_health" / "analyses"
# Name of the scratch DuckDB file dbt compiles against: also the catalog the
# compiled SQL names.
SCRATCH_CATALOG = "analyses_compile"
_QUALIFIED = re.compile(r'"([^"]+)"\."[^"]+"\."[^"]+"')


@dataclass
class AnalysisResult:
    """One analysis: its compiled SQL and its rows, or why it could not run."""

    name: str
    sql: str
    frame: Any = None  # pandas.DataFrame
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.frame is not None


def read_compiled(compiled_dir: Path) -> dict[str, str]:
    """{analysis name: compiled SQL} from a folder of compiled analyses."""
    if not compiled_dir.is_dir():
        raise OrchestratorError(
            f"no compiled analyses in {compiled_dir}: run"
            " `dbt compile --select path:analyses` first",
            exit_code=ExitCode.CONFIG,
        )
    return {
        name: (compiled_dir / f"{name}.sql").read_text(encoding="utf-8")
        for name in ANALYSES
        if (compiled_dir / f"{name}.sql").is_file()
    }


def compile_analyses(
    settings: Settings, work_dir: Path | None = None, dbt_vars: str | None = None
) -> dict[str, str]:
    """Compile analyses/ with dbt's programmatic runner; {name: compiled SQL}.

    `dbt_vars` is passed as dbt's --vars (YAML), e.g. '{backtest_horizon_days: 30}'.
    """
    from dbt.cli.main import dbtRunner

    from scripts.orchestrator.dbt_runner import release_duckdb, temporary_env

    with tempfile.TemporaryDirectory(prefix="report_compile_", dir=work_dir) as tmp:
        scratch = Path(tmp) / f"{SCRATCH_CATALOG}.duckdb"
        target_path = Path(tmp) / "target"
        args = [
            "compile",
            "--select",
            "path:analyses",
            "--project-dir",
            str(settings.project_dir),
            "--profiles-dir",
            str(settings.profiles_dir),
            "--target-path",
            str(target_path),
            "--log-path",
            str(Path(tmp) / "logs"),
            "--log-level",
            "none",
            "--no-use-colors",
            "--no-version-check",
            "--no-send-anonymous-usage-stats",
            "--no-populate-cache",
        ]
        if settings.target:
            args += ["--target", settings.target]
        if dbt_vars:
            args += ["--vars", dbt_vars]
        try:
            with temporary_env({"CUSTOMER_HEALTH_DB": str(scratch), "DO_NOT_TRACK": "1"}):
                result = dbtRunner().invoke(args)
        finally:
            release_duckdb()
        if not result.success:
            reason = result.exception or "see the dbt log"
            raise OrchestratorError(f"dbt compile of analyses/ failed: {reason}")
        return read_compiled(target_path / COMPILED_SUBDIR)


def compiled_catalog(sql: str) -> str | None:
    """The catalog of the first fully qualified relation in compiled SQL."""
    match = _QUALIFIED.search(sql)
    return match.group(1) if match else None


def run_analyses(database: Path, compiled: dict[str, str]) -> dict[str, AnalysisResult]:
    """Run each compiled analysis unchanged against `database`, opened read-only.

    An analysis that fails (e.g. the history marts are not built yet) gives a
    result with the error instead of sinking the report.
    """
    import duckdb

    if not database.exists():
        raise OrchestratorError(
            f"warehouse {database} does not exist; run `python -m scripts.orchestrator run` first",
            exit_code=ExitCode.CONFIG,
        )
    results: dict[str, AnalysisResult] = {}
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        attached: set[str] = set()
        for name in ANALYSES:
            sql = compiled.get(name)
            if sql is None:
                results[name] = AnalysisResult(name, "", error="not compiled (missing file)")
                continue
            catalog = compiled_catalog(sql) or SCRATCH_CATALOG
            if catalog not in attached:
                escaped = str(database).replace("'", "''")
                con.execute(f"attach '{escaped}' as \"{catalog}\" (read_only)")
                attached.add(catalog)
            con.execute(f'use "{catalog}"')
            started = time.perf_counter()
            try:
                frame = con.sql(sql).df()
            except duckdb.Error as exc:
                first_line = str(exc).splitlines()[0]
                log.warning("analysis %s could not run: %s", name, first_line)
                results[name] = AnalysisResult(name, sql, error=first_line)
                continue
            results[name] = AnalysisResult(
                name, sql, frame=frame, seconds=round(time.perf_counter() - started, 3)
            )
    finally:
        con.close()
    return results
