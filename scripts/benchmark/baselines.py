"""Run the baselines as child processes (so that each one's peak RSS is its own)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.measure import Measured, run_measured

if TYPE_CHECKING:
    import pandas as pd

BASELINES = {
    "duckdb": "scripts.benchmark.baseline_duckdb",  # hand-written DuckDB SQL, latest date
    "pandas": "scripts.benchmark.baseline_pandas",  # plain pandas, latest date
    # hand-written DuckDB SQL, every day of the history (fct_health_score_history)
    "duckdb_history": "scripts.benchmark.baseline_duckdb_history",
}
HISTORY_BASELINES = frozenset({"duckdb_history"})
DESCRIPTIONS = {
    "duckdb": "hand-written DuckDB SQL, latest date",
    "pandas": "pandas, latest date",
    "duckdb_history": "hand-written DuckDB SQL, a year of daily history",
}


@dataclass(frozen=True)
class BaselineRun:
    name: str
    measured: Measured
    compute_seconds: float | None
    output: Path  # the scores (latest date) or the history, as Parquet
    rows: int

    @property
    def scores(self) -> pd.DataFrame:
        """The latest-date scores (not for the history: compare it with compare_history)."""
        import pandas as pd

        return pd.read_parquet(self.output)

    def as_dict(self) -> dict[str, object]:
        return {
            "module": BASELINES[self.name],
            "computes": DESCRIPTIONS[self.name],
            "wall_seconds": round(self.measured.wall_seconds, 3),
            "compute_seconds": self.compute_seconds,
            "peak_rss_bytes": self.measured.peak_rss_bytes,
            "rusage_maxrss_bytes": self.measured.rusage_maxrss_bytes,
            "rows": self.rows,
        }


def history_vars(project_dir: Path) -> tuple[int, int]:
    """The project's vars history_days and history_warmup_days, which bound the history;
    the baseline scores daily history only."""
    import yaml

    path = project_dir / "dbt_project.yml"
    try:
        variables = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("vars") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BenchmarkError(f"{path}: cannot read the vars ({exc})") from exc
    grain = variables.get("history_grain", "day")
    if grain != "day":
        raise BenchmarkError(
            f"{path}: var history_grain is {grain!r}; the history baseline scores every day "
            "(history_grain: day)"
        )
    try:
        return int(variables.get("history_days", 365)), int(variables.get("history_warmup_days", 0))
    except (TypeError, ValueError):
        raise BenchmarkError(
            f"{path}: var history_days or history_warmup_days is not a number"
        ) from None


def _parquet_rows(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        found = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
    finally:
        con.close()
    return int(found[0]) if found else 0


def run_baseline(
    name: str, raw_dir: Path, seeds_dir: Path, work_root: Path, project_dir: Path
) -> BaselineRun:
    out = work_root / f"baseline_{name}.parquet"
    command = [sys.executable, "-m", BASELINES[name], str(raw_dir), str(seeds_dir), str(out)]
    if name in ("duckdb", "duckdb_history"):
        command.append(str((work_root / "duckdb_tmp").resolve()))
    if name == "duckdb_history":
        days, warmup_days = history_vars(project_dir)
        command += ["--history-days", str(days), "--history-warmup-days", str(warmup_days)]
    measured = run_measured(
        command, output_path=work_root / f"baseline_{name}.out", cwd=project_dir
    )
    if measured.exit_code != 0:
        raise BenchmarkError(
            f"baseline {name} failed (exit {measured.exit_code}):\n{measured.output_tail()}"
        )
    found = re.search(r"compute_seconds=([0-9.]+)", measured.output_tail())
    return BaselineRun(
        name=name,
        measured=measured,
        compute_seconds=float(found.group(1)) if found else None,
        output=out,
        rows=_parquet_rows(out),
    )
