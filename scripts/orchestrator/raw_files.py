"""Find the raw files and read them the way dbt's sources do (all text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from scripts.orchestrator.errors import ConfigError
from scripts.orchestrator.settings import RAW_FORMATS, RAW_TABLES

# Derived columns a raw suite may ask for (suite meta.customer_health.derived_columns):
# each maps a new column name to {"from": <raw column>, "as": <kind>}.
_DERIVED_SQL = {
    # Numbers written as text, for range checks; unparseable → null.
    "number": "try_cast({col} as double)",
    # Days between the value and the reference date: positive = in the past.
    "age_days": "date_diff('day', cast(try_cast({col} as timestamp) as date), {ref})",
}


@dataclass(frozen=True)
class RawInputs:
    """The raw files present for one format, and the tables without a file."""

    raw_dir: Path
    fmt: str
    files: dict[str, Path]
    missing: tuple[str, ...]


def raw_file(raw_dir: Path, table: str, fmt: str) -> Path:
    return raw_dir / f"{table}.{fmt}"


def detect_format(raw_dir: Path, requested: str | None) -> str:
    """The requested format, else the one format whose files are present.

    A folder holding both formats is refused unless a format is requested:
    dbt reads every source with one format, and when both sets are complete,
    one is usually a stale copy (new CSV files dropped beside old Parquet).
    """
    if requested:
        return requested
    if not raw_dir.is_dir():
        raise ConfigError(
            f"raw data folder {raw_dir} does not exist; create demo data with"
            " `python -m scripts.orchestrator demo-data` or pass --raw-dir"
        )
    present = {
        fmt: [t for t in RAW_TABLES if raw_file(raw_dir, t, fmt).exists()] for fmt in RAW_FORMATS
    }
    found = [fmt for fmt in RAW_FORMATS if present[fmt]]
    if len(found) == 1:
        return found[0]
    if not found:
        expected = ", ".join(f"{t}.parquet|csv" for t in RAW_TABLES)
        raise ConfigError(f"no raw files in {raw_dir} (expected {expected})")
    listing = "; ".join(
        f"{fmt}: {', '.join(present[fmt])} (newest written {_newest(raw_dir, present[fmt], fmt)})"
        for fmt in RAW_FORMATS
    )
    raise ConfigError(
        f"{raw_dir} mixes raw formats ({listing}); pass --raw-format parquet|csv"
        " or remove the files of the format you do not mean to load"
    )


def _newest(raw_dir: Path, tables: list[str], fmt: str) -> str:
    """When the newest file of a format was written, UTC, to tell a stale set from a new one."""
    stamp = max(raw_file(raw_dir, t, fmt).stat().st_mtime for t in tables)
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def locate(raw_dir: Path, requested_format: str | None) -> RawInputs:
    fmt = detect_format(raw_dir, requested_format)
    files = {t: raw_file(raw_dir, t, fmt) for t in RAW_TABLES}
    return RawInputs(
        raw_dir=raw_dir,
        fmt=fmt,
        files={t: p for t, p in files.items() if p.exists()},
        missing=tuple(t for t, p in files.items() if not p.exists()),
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reader_sql(path: Path, fmt: str) -> str:
    """The same reader dbt's sources use (see models/staging/*/_*__sources.yml)."""
    if fmt == "csv":
        return f"read_csv({_quote(str(path))}, header = true, all_varchar = true)"
    return f"read_parquet({_quote(str(path))})"


def read_raw_table(
    path: Path,
    fmt: str,
    *,
    derived: dict[str, dict] | None = None,
    reference_date: date,
) -> tuple[Any, dict[str, str]]:
    """Read one raw file into pandas with DuckDB, plus the derived columns.

    Returns the frame and the DuckDB type of each file column. Text columns
    keep pandas' string dtype even when all values are null, so that type
    expectations see the file's type, not pandas' guess.
    """
    import duckdb

    con = duckdb.connect()
    try:
        relation = con.sql(f"select * from {reader_sql(path, fmt)}")
        types = {
            name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)
        }
        selects = ["*"]
        ref = f"date {_quote(reference_date.isoformat())}"
        for name, spec in (derived or {}).items():
            source, kind = spec.get("from"), spec.get("as")
            if kind not in _DERIVED_SQL:
                raise ConfigError(
                    f"derived column '{name}': kind '{kind}' is not one of"
                    f" {', '.join(_DERIVED_SQL)}"
                )
            if source in types:
                expression = _DERIVED_SQL[kind].format(col=f'"{source}"', ref=ref)
                selects.append(f'{expression} as "{name}"')
        frame = con.sql(f"select {', '.join(selects)} from {reader_sql(path, fmt)}").df()
    finally:
        con.close()
    for name, kind in types.items():
        if kind == "VARCHAR":
            frame[name] = frame[name].astype("str")
    return frame, types
