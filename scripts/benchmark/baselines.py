"""Run the two baselines as child processes (so that each one's peak RSS is its own)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.measure import Measured, run_measured

BASELINES = {
    "duckdb": "scripts.benchmark.baseline_duckdb",  # hand-written DuckDB SQL, latest date
    "pandas": "scripts.benchmark.baseline_pandas",  # plain pandas, latest date
}


@dataclass(frozen=True)
class BaselineRun:
    name: str
    measured: Measured
    compute_seconds: float | None
    scores: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {
            "module": BASELINES[self.name],
            "wall_seconds": round(self.measured.wall_seconds, 3),
            "compute_seconds": self.compute_seconds,
            "peak_rss_bytes": self.measured.peak_rss_bytes,
            "rusage_maxrss_bytes": self.measured.rusage_maxrss_bytes,
            "rows": len(self.scores),
        }


def run_baseline(
    name: str, raw_dir: Path, seeds_dir: Path, work_root: Path, project_dir: Path
) -> BaselineRun:
    out = work_root / f"baseline_{name}.parquet"
    command = [sys.executable, "-m", BASELINES[name], str(raw_dir), str(seeds_dir), str(out)]
    if name == "duckdb":
        command.append(str((work_root / "duckdb_tmp").resolve()))
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
        scores=pd.read_parquet(out),
    )
