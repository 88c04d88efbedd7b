"""Validate each raw file against its suite in gx/expectations/raw/.

The raw files carry ~1% deliberately dirty rows that dbt's staging layer
quarantines, so the raw suites look for what makes a FILE unusable (missing
file or columns, wrong types, empty table, keys mostly null, enums mostly
unknown, a collapsing row count), with `mostly` thresholds, not for single
bad rows.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from scripts.orchestrator.errors import ConfigError, OrchestratorError
from scripts.orchestrator.gx_engine import (
    FAIL,
    VALUE_PARTITION_ROWS,
    ExpectationOutcome,
    GxSession,
    SuiteOutcome,
    SuiteSpec,
    ValuePartition,
    load_suites,
    value_partitions,
)
from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.raw_files import (
    RawInputs,
    ValueSplit,
    csv_read_cause,
    csv_read_error,
    describe_raw_table,
    read_raw_chunks,
    read_raw_table,
    read_value_partition,
    split_by_value,
)
from scripts.orchestrator.settings import ENV_DUCKDB_TMP, RAW_TABLES

log = get_logger("raw")

MANIFEST = "_manifest.json"
# GX validates pandas frames: a whole raw table in memory costs about 0.4 GB per
# million events. Above this many rows a table is validated a column group at a time.
WHOLE_FRAME_MAX_ROWS = 1_000_000
PREVIOUS_ROWS_PARAMETER = "min_rows_from_previous_run"


def load_raw_suites(suites_dir: Path) -> dict[str, SuiteSpec]:
    """One suite per raw table, keyed by table (meta.customer_health.table)."""
    suites: dict[str, SuiteSpec] = {}
    for spec in load_suites(suites_dir / "raw"):
        table = spec.options.get("table")
        if table not in RAW_TABLES:
            raise ConfigError(
                f"{spec.path}: meta.customer_health.table '{table}' is not a raw table"
            )
        if table in suites:
            raise ConfigError(f"{spec.path}: a second suite for raw table '{table}'")
        suites[table] = spec
    missing = [t for t in RAW_TABLES if t not in suites]
    if missing:
        raise ConfigError(
            f"no raw expectation suite for: {', '.join(missing)} in {suites_dir / 'raw'}"
        )
    return suites


def freshness_reference(raw_dir: Path, as_of_date: date | None) -> tuple[date, str]:
    """The date freshness is measured against, and where it came from.

    --as-of-date if given; else the end date a data set declares in its
    _manifest.json (demo data); else today (UTC).
    """
    if as_of_date:
        return as_of_date, "--as-of-date"
    manifest = raw_dir / MANIFEST
    if manifest.exists():
        try:
            content = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            content = {}
        window = content.get("window", {}) if isinstance(content, dict) else {}
        for key in ("end_date",):
            value = window.get(key) if isinstance(window, dict) else None
            if value:
                try:
                    return date.fromisoformat(str(value)[:10]), f"{MANIFEST} window.{key}"
                except ValueError:
                    log.warning("%s: %s '%s' is not a date; ignored", manifest, key, value)
    return datetime.now(UTC).date(), "today (UTC)"


def with_derived_columns_allowed(spec: SuiteSpec, frame_columns: list[str]) -> SuiteSpec:
    """Add the derived columns to every column-set check of the suite.

    The frame holds the file's columns plus the derived ones the suite asked
    for; an exact column-set match must not count the latter as extra.
    """
    derived = [c for c in spec.options.get("derived_columns", {}) if c in frame_columns]
    expectations = []
    for config in spec.expectations:
        if config["type"] == "expect_table_columns_to_match_set" and derived:
            kwargs = dict(config["kwargs"])
            kwargs["column_set"] = [*kwargs.get("column_set", []), *derived]
            config = {**config, "kwargs": kwargs}
        expectations.append(config)
    return replace(spec, expectations=tuple(expectations))


def _file_problem(
    spec: SuiteSpec, table: str, source: str, check: str, message: str
) -> SuiteOutcome:
    outcome = SuiteOutcome(suite=spec.name, source=source, rows=None)
    outcome.outcomes.append(
        ExpectationOutcome(
            expectation=check,
            columns=[],
            kwargs={"table": table},
            severity=FAIL,
            status="failed",
            message=message,
        )
    )
    return outcome


class UnreadableRawFile(Exception):
    """A raw file DuckDB cannot read; the message is the reader's first line."""


@contextmanager
def _column_reader(
    path: Path, fmt: str, derived: dict | None, reference: date, scratch: Path | None
) -> Iterator[Callable[[list[str] | None, ValuePartition | None], Any]]:
    """Reads some columns of one raw file (file or derived ones; None: all), all rows
    or one partition of them. The first read of a partitioning writes the file's
    partitions under a new folder in `scratch` (None: the system's temporary folder),
    read from there after; the folder is deleted when the block ends."""
    with ExitStack() as cleanup:
        splits: dict[tuple[tuple[str, ...], int], ValueSplit] = {}

        def read(names: list[str] | None, partition: ValuePartition | None = None) -> Any:
            if partition is None:
                with _unreadable_on_error(path, fmt):
                    return read_raw_table(
                        path, fmt, derived=derived, reference_date=reference, columns=names
                    )[0]
            key = (partition.columns, partition.count)
            if key not in splits:
                folder = cleanup.enter_context(_scratch_folder(scratch, path))
                splits[key] = _split(path, fmt, partition, folder)
            with _unreadable_on_error():  # the partition's columns, as `names` are
                return read_value_partition(splits[key], partition.index)

        yield read


@contextmanager
def _scratch_folder(scratch: Path | None, path: Path) -> Iterator[Path]:
    """A new, empty folder for one file's partitions, deleted with what it holds."""
    try:
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        context = tempfile.TemporaryDirectory(prefix=f"{path.stem}_by_value_", dir=scratch)
    except OSError as exc:
        raise _no_room_to_split(path, scratch, exc) from exc
    with context as folder:
        yield Path(folder)


def _split(path: Path, fmt: str, partition: ValuePartition, folder: Path) -> ValueSplit:
    """The file's partitions, written under `folder`; a write that fails there (a full
    disk) stops the run, naming the folder; a read that fails makes the file unreadable."""
    target = folder / "partitions"
    try:
        return split_by_value(path, fmt, partition.columns, partition.count, target)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever DuckDB raises
        if str(folder) in str(exc):
            raise _no_room_to_split(path, folder.parent, exc) from exc
        raise UnreadableRawFile(_reason(exc, path, fmt)) from exc


def _no_room_to_split(path: Path, folder: Path | None, exc: BaseException) -> OrchestratorError:
    where = folder or Path(tempfile.gettempdir())
    return OrchestratorError(
        f"could not write {path.name}'s partitions for its uniqueness checks under {where}:"
        f" {_first_line(exc)}. They take about the size of the checked columns (0.5 GB for"
        f" 100M event ids); point ${ENV_DUCKDB_TMP} at a folder on a disk with room",
        step="validate_raw",
    )


def _chunk_reader(
    path: Path, fmt: str, derived: dict | None, reference: date
) -> Callable[[list[str], int], Iterator[Any]]:
    """Reads some columns of one raw file as consecutive chunks of its rows."""

    def read_chunks(names: list[str], chunk_rows: int) -> Iterator[Any]:
        with _unreadable_on_error(path, fmt):
            yield from read_raw_chunks(
                path,
                fmt,
                derived=derived,
                reference_date=reference,
                columns=names,
                chunk_rows=chunk_rows,
            )

    return read_chunks


@contextmanager
def _unreadable_on_error(path: Path | None = None, fmt: str | None = None) -> Iterator[None]:
    """Any reader error makes the file unusable; a bad suite setting stays a ConfigError.
    Reading a raw CSV file, the reason names its line (csv_read_cause): a bad byte past
    the rows the first read counted fails only a later read."""
    try:
        yield
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever DuckDB or Arrow raise
        raise UnreadableRawFile(_reason(exc, path, fmt)) from exc


def _reason(exc: BaseException, path: Path | None, fmt: str | None) -> str:
    cause = csv_read_cause(path, exc) if path is not None and fmt == "csv" else None
    return cause or _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def validate_raw(
    gx: GxSession,
    suites: dict[str, SuiteSpec],
    inputs: RawInputs,
    *,
    reference: date,
    previous_rows: dict[str, int],
    whole_frame_max_rows: int = WHOLE_FRAME_MAX_ROWS,
    value_partition_rows: int = VALUE_PARTITION_ROWS,
    scratch_dir: Path | None = None,
) -> list[SuiteOutcome]:
    """Validate every raw table; a missing or unreadable file is a failure too.

    A table of up to `whole_frame_max_rows` rows is read and validated whole; a
    bigger one one column group at a time (GxSession.validate_by_column), with the
    same outcomes, so that memory follows the widest group, not the table; above
    `value_partition_rows` rows, its row-by-row checks on consecutive chunks and its
    uniqueness checks on partitions by value, each of about that many rows. Those
    partitions are written once under `scratch_dir` (None: the system's temporary
    folder) and deleted when the file is validated.
    """
    outcomes: list[SuiteOutcome] = []
    for table in RAW_TABLES:
        spec = suites[table]
        path = inputs.files.get(table)
        if path is None:
            expected = inputs.raw_dir / f"{table}.{inputs.fmt}"
            outcomes.append(
                _file_problem(spec, table, str(expected), "file_exists", "file not found")
            )
            log.info("  %-12s missing: %s", table, expected)
            continue
        derived = spec.options.get("derived_columns")
        try:
            try:
                types, rows = describe_raw_table(path, inputs.fmt)
            except Exception as exc:  # noqa: BLE001 - as in _unreadable_on_error
                reason = csv_read_error(path, exc) if inputs.fmt == "csv" else _first_line(exc)
                raise UnreadableRawFile(reason) from exc
            columns = [*types, *(n for n, d in (derived or {}).items() if d.get("from") in types)]
            spec = with_derived_columns_allowed(spec, columns)
            ratio = float(spec.options.get("previous_run_min_ratio", 0.5))
            parameters = {PREVIOUS_ROWS_PARAMETER: math.floor(previous_rows.get(table, 0) * ratio)}
            with _column_reader(path, inputs.fmt, derived, reference, scratch_dir) as read:
                if rows <= whole_frame_max_rows:
                    outcome = gx.validate(spec, read(None), source=str(path), parameters=parameters)
                else:
                    outcome = gx.validate_by_column(
                        spec,
                        columns=columns,
                        rows=rows,
                        read=read,
                        source=str(path),
                        parameters=parameters,
                        partition_rows=value_partition_rows,
                        read_chunks=_chunk_reader(path, inputs.fmt, derived, reference),
                        text_columns=frozenset(n for n, kind in types.items() if kind == "VARCHAR"),
                    )
        except UnreadableRawFile as exc:
            outcomes.append(
                _file_problem(spec, table, str(path), "file_readable", f"cannot be read: {exc}")
            )
            log.info("  %-12s unreadable: %s", table, exc)
            continue
        outcomes.append(outcome)
        log.info(
            "  %-12s %9s rows  %s%s%s",
            table,
            f"{rows:,}",
            "ok" if outcome.success else f"{len(outcome.failures)} failed",
            f", {len(outcome.warnings)} warning(s)" if outcome.warnings else "",
            _split_note(rows, whole_frame_max_rows, value_partition_rows),
        )
    return outcomes


def _split_note(rows: int, whole_frame_max_rows: int, value_partition_rows: int) -> str:
    """How a table was split for validation, for the log line."""
    if rows <= whole_frame_max_rows:
        return ""
    partitions = value_partitions(rows, value_partition_rows)
    if partitions == 1:
        return " (one column group at a time)"
    return (
        f" (one column group at a time, in chunks of {value_partition_rows:,} rows;"
        f" uniqueness in {partitions} partitions)"
    )
