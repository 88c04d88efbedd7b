"""Benchmark data: generated once per scale and seed, reused while its manifest matches.

The generator draws every day from the whole window, so two runs with different end dates are
not one a prefix of the other. To append exactly one day, the data set is generated once with
one day more (`next/`: end date + 1, days + 1), and the base data set (`base/`) is that data
with every row whose main timestamp falls on the last day removed. The daily run then sees
`base/` plus one day of new rows. Later columns of kept rows (a payment, a resolution on the
appended day) are as generated, identically for dbt and the baselines. Clean data only
(`--dirty-fraction 0`): the baselines do not reimplement the quarantine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.scales import Scale
from scripts.demo_generator.constants import MAIN_TIMESTAMP  # the column dating each raw row

GENERATOR = Path("scripts/generate_demo_data.py")
BASE_MANIFEST = "_benchmark_base.json"


@dataclass(frozen=True)
class DataSet:
    """The two raw directories of a scale and what they hold."""

    base_dir: Path
    next_dir: Path
    end_date: date  # last day of base_dir; next_dir has one more day
    rows_base: dict[str, int]
    rows_next: dict[str, int]
    generate_seconds: float
    reused: bool

    @property
    def events_base(self) -> int:
        return self.rows_base["events"]

    @property
    def events_appended(self) -> int:
        return self.rows_next["events"] - self.rows_base["events"]

    def as_dict(self) -> dict[str, object]:
        return {
            "base_dir": str(self.base_dir),
            "next_dir": str(self.next_dir),
            "end_date": self.end_date.isoformat(),
            "appended_date": (self.end_date + timedelta(days=1)).isoformat(),
            "rows_base": self.rows_base,
            "rows_next": self.rows_next,
            "events": self.events_base,
            "events_appended": self.events_appended,
            "dirty_fraction": 0.0,
            "generate_seconds": round(self.generate_seconds, 3),
            "reused": self.reused,
        }


def generator_arguments(scale: Scale, seed: int, end_date: date) -> dict[str, object]:
    """The manifest `arguments` the next-day data set must have to be reused."""
    return {
        "accounts": scale.accounts,
        "days": scale.days + 1,
        "format": "parquet",
        "seed": seed,
        "end_date": (end_date + timedelta(days=1)).isoformat(),
        "dirty_fraction": 0.0,
    }


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _generate(next_dir: Path, arguments: dict[str, object]) -> None:
    cmd = [
        sys.executable,
        str(GENERATOR),
        "--accounts",
        str(arguments["accounts"]),
        "--days",
        str(arguments["days"]),
        "--out",
        str(next_dir),
        "--format",
        "parquet",
        "--seed",
        str(arguments["seed"]),
        "--end-date",
        str(arguments["end_date"]),
        "--dirty-fraction",
        "0",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(
            f"{GENERATOR} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )


def _table_rows(manifest: dict[str, object]) -> dict[str, int]:
    tables = manifest["tables"]
    assert isinstance(tables, dict)
    return {name: int(info["rows"]) for name, info in tables.items()}


def _derive_base(next_dir: Path, base_dir: Path, end_date: date) -> dict[str, int]:
    """Copy next_dir without the rows of the day after end_date; returns rows per table."""
    base_dir.mkdir(parents=True, exist_ok=True)
    cutoff = (end_date + timedelta(days=1)).isoformat()  # timestamps are 'YYYY-MM-DD HH:MM:SS'
    rows: dict[str, int] = {}
    con = duckdb.connect()
    try:
        for table, column in MAIN_TIMESTAMP.items():
            source, target = next_dir / f"{table}.parquet", base_dir / f"{table}.parquet"
            con.execute(
                f"copy (select * from read_parquet('{source}') where {column} < '{cutoff}') "
                f"to '{target}' (format parquet)"
            )
            count = con.execute(f"select count(*) from read_parquet('{target}')").fetchone()
            rows[table] = int(count[0]) if count else 0
    finally:
        con.close()
    return rows


def prepare(scale: Scale, seed: int, end_date: date, data_root: Path) -> DataSet:
    """The base and next-day data sets of a scale, generated unless they already exist."""
    root = data_root / f"{scale.name}-seed{seed}-{end_date.isoformat()}"
    next_dir, base_dir = root / "next", root / "base"
    arguments = generator_arguments(scale, seed, end_date)
    started = time.perf_counter()
    manifest = _read_json(next_dir / "_manifest.json")
    base_manifest = _read_json(base_dir / BASE_MANIFEST)
    reused = (
        manifest is not None
        and manifest.get("arguments") == arguments
        and base_manifest is not None
        and base_manifest.get("arguments") == arguments
    )
    if not reused:
        if manifest is None or manifest.get("arguments") != arguments:
            _generate(next_dir, arguments)
            manifest = _read_json(next_dir / "_manifest.json")
            if manifest is None:
                raise BenchmarkError(f"{next_dir}/_manifest.json: not written by the generator")
        rows_base = _derive_base(next_dir, base_dir, end_date)
        (base_dir / BASE_MANIFEST).write_text(
            json.dumps(
                {"arguments": arguments, "end_date": end_date.isoformat(), "rows": rows_base},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        base_manifest = _read_json(base_dir / BASE_MANIFEST)
    assert manifest is not None and base_manifest is not None
    rows = base_manifest["rows"]
    assert isinstance(rows, dict)
    return DataSet(
        base_dir=base_dir.resolve(),
        next_dir=next_dir.resolve(),
        end_date=end_date,
        rows_base={str(k): int(v) for k, v in rows.items()},
        rows_next=_table_rows(manifest),
        generate_seconds=time.perf_counter() - started,
        reused=reused,
    )
