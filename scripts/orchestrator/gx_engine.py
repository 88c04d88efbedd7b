"""Great Expectations behind one small interface: load a suite, validate a frame.

GX is imported lazily (only when a suite runs) with analytics switched off
before the import, and runs in an ephemeral, in-memory context: nothing is
written at runtime except the results the orchestrator saves itself. Data
reaches GX as pandas frames pulled with DuckDB (pitfalls.md: GX's SQL
datasource on DuckDB is fragile).

Suites are GX 1.x JSON files (`name`, `expectations`, `meta`). Each
expectation's GX `severity` decides what a failure does: `critical` stops the
run ("fail"), `warning` and `info` are reported ("warn").
"""

from __future__ import annotations

import atexit
import gc
import json
import math
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.orchestrator.errors import ConfigError
from scripts.orchestrator.logs import get_logger

log = get_logger("gx")

FAIL = "fail"
WARN = "warn"
_SEVERITY = {"critical": FAIL, "warning": WARN, "info": WARN}
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)
# Meta key numbering the expectations of one GX run, to give its results their order.
_POSITION = "customer_health_position"
SAMPLE_SIZE = 5

# Expectations whose rows are unexpected because of other rows (a value seen twice):
# on a table split into partitions they need every occurrence of a value together.
# GX's pandas check of one such column holds most of the memory of a big file's
# validation (13.9 GB for 101.5M event ids); in partitions, one partition's worth.
VALUE_PARTITIONED_EXPECTATIONS = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
# Rows per partition and per chunk. Since a file's partitions are written once (one scan,
# whatever their number), smaller is no slower: L's raw validation took 78.9 s and peaked
# at 0.91 GB in parts of 2M rows, 77-92 s and 1.8-2.1 GB in parts of 8M (gx/README).
VALUE_PARTITION_ROWS = 2_000_000

# Expectations that judge each row on its own: on consecutive chunks of a table's rows
# their counts add up to the table's, so a big table's column is checked a chunk at a
# time instead of held whole (ROW_CHUNKED_EXPECTATIONS).
ROW_WISE_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_be_json_parseable",
    }
)
# Checks of a column's dtype: the same in every chunk of a text column (pandas' string
# dtype), not of a typed one (int64 in a chunk without nulls, Int64 with).
TYPE_EXPECTATIONS = frozenset(
    {"expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"}
)
# Checks of a column's least or greatest value: the least of the chunks' least values.
EXTREME_EXPECTATIONS = {
    "expect_column_min_to_be_between": min,
    "expect_column_max_to_be_between": max,
}
ROW_CHUNKED_EXPECTATIONS = (
    ROW_WISE_EXPECTATIONS | TYPE_EXPECTATIONS | frozenset(EXTREME_EXPECTATIONS)
)


def value_partitions(rows: int, partition_rows: int) -> int:
    """How many partitions a table's uniqueness checks run on (1: not split)."""
    return max(1, math.ceil(rows / partition_rows))


@dataclass(frozen=True)
class ValuePartition:
    """The rows whose values of `columns` hash to `index` (of `count` partitions)."""

    columns: tuple[str, ...]
    index: int
    count: int


@dataclass(frozen=True)
class SuiteSpec:
    """A suite as stored in gx/expectations/, read without importing GX."""

    name: str
    path: Path
    expectations: tuple[dict, ...]
    meta: dict

    @property
    def options(self) -> dict:
        """The orchestrator's own settings for this suite (meta.customer_health)."""
        return self.meta.get("customer_health", {})


@dataclass
class ExpectationOutcome:
    """One expectation's result, flattened for people and schedulers."""

    expectation: str
    columns: list[str]
    kwargs: dict
    severity: str
    status: str  # passed | failed | error | not_evaluated
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample: list = field(default_factory=list)
    message: str = ""
    notes: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def describe(self) -> str:
        """`expect_x(col, mostly=0.95): 12 of 1,000 rows (1.2%) unexpected; sample: ...`"""
        shown = {k: v for k, v in self.kwargs.items() if k not in (*_COLUMN_KWARGS, "column_list")}
        args = ", ".join([*self.columns, *(f"{k}={_short(v)}" for k, v in shown.items())])
        text = f"{self.expectation}({args})"
        if self.status == "not_evaluated":
            return f"{text}: not evaluated, {self.message}"
        if self.status == "error":
            return f"{text}: could not be evaluated: {self.message}"
        if self.unexpected_count is not None:
            total = f" of {self.element_count:,} rows" if self.element_count is not None else ""
            pct = (
                f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            )
            text += f": {self.unexpected_count:,}{total}{pct} unexpected"
            if self.sample:
                text += f"; sample: {', '.join(_short(v) for v in self.sample)}"
        elif self.observed_value is not None:
            text += f": observed {_short(self.observed_value)}"
        if self.message:
            text += f" ({self.message})"
        return text

    def to_dict(self) -> dict:
        return {
            "expectation": self.expectation,
            "columns": self.columns,
            "kwargs": _json_safe(self.kwargs),
            "severity": self.severity,
            "status": self.status,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "observed_value": _json_safe(self.observed_value),
            "sample": _json_safe(self.sample),
            "message": self.message,
            "notes": self.notes,
        }


@dataclass
class SuiteOutcome:
    """A suite validated against one data set (a raw file or a mart query)."""

    suite: str
    source: str
    rows: int | None
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    gx_result: dict | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.ok and o.severity == FAIL]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.ok and o.severity == WARN]

    @property
    def success(self) -> bool:
        return not self.failures

    def to_dict(self, *, full: bool = True) -> dict:
        """Everything (full), or for the run summary only the expectations that did not pass."""
        data = {
            "suite": self.suite,
            "source": self.source,
            "rows": self.rows,
            "success": self.success,
            "failures": len(self.failures),
            "warnings": len(self.warnings),
            "seconds": self.seconds,
        }
        if full:
            data["expectations"] = [o.to_dict() for o in self.outcomes]
            data["gx_result"] = self.gx_result
        else:
            data["problems"] = [o.to_dict() for o in self.outcomes if not o.ok]
        return data


def _condensed(message: str, limit: int = 400) -> str:
    """A multi-line library error (pydantic's lists each field on its own lines) as one."""
    text = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_suite(path: Path) -> SuiteSpec:
    """Read and sanity-check a suite file (GX itself is not needed for this)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"expectation suite {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"expectation suite {path} is not valid JSON: {exc}") from exc
    expectations = data.get("expectations")
    if not data.get("name") or not isinstance(expectations, list):
        raise ConfigError(f"expectation suite {path} needs a 'name' and an 'expectations' list")
    for index, expectation in enumerate(expectations):
        if not isinstance(expectation, dict) or "type" not in expectation:
            raise ConfigError(f"{path}: expectation #{index + 1} has no 'type'")
        severity = expectation.get("severity", "critical")
        if severity not in _SEVERITY:
            raise ConfigError(
                f"{path}: expectation #{index + 1} ({expectation['type']}) has severity"
                f" '{severity}'; use critical (fails the run), warning or info"
            )
    return SuiteSpec(
        name=data["name"], path=path, expectations=tuple(expectations), meta=data.get("meta", {})
    )


def load_suites(directory: Path) -> list[SuiteSpec]:
    if not directory.is_dir():
        raise ConfigError(f"expectation suite folder {directory} not found")
    return [load_suite(path) for path in sorted(directory.glob("*.json"))]


def expectation_columns(kwargs: dict) -> list[str]:
    columns = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs]
    for key in _COLUMN_LIST_KWARGS:
        columns.extend(kwargs.get(key, []))
    return [str(c) for c in columns]


class GxSession:
    """An ephemeral GX context, created on first use; reports its start-up cost."""

    def __init__(self) -> None:
        self.import_seconds: float | None = None
        self.context_seconds: float | None = None
        self._gx: Any = None
        self._context: Any = None
        self._frames = 0

    def _start(self) -> None:
        if self._context is not None:
            return
        # Must be set before the import: GX reads it when the module loads.
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        started = time.perf_counter()
        # GX imports pyspark when it is installed (it is, for the Spark target), and
        # pyspark warns about pandas 3 at import: noise for a person reading the run.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\.")
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

        self.import_seconds = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        self._context = gx.get_context(mode="ephemeral", project_config=config)
        self._gx = gx
        _skip_frame_fingerprints()
        _freeze_what_lives_on()
        self.context_seconds = round(time.perf_counter() - started, 3)
        log.info(
            "Great Expectations %s started: import %.2f s, context %.2f s",
            gx.__version__,
            self.import_seconds,
            self.context_seconds,
        )

    def check_suites(self, specs: list[SuiteSpec]) -> None:
        """Build every expectation with GX before any data is read, one at a time, so that
        one GX refuses (an unknown type, `mostly: 1.5`) stops the run naming its file and
        number, instead of failing as a bare GX error when its suite runs, maybe after the
        whole dbt build."""
        self._start()
        for spec in specs:
            for number, config in enumerate(spec.expectations, start=1):
                try:
                    suite = self._gx.ExpectationSuite(name=spec.name, expectations=[config])
                except Exception as exc:  # GX raises pydantic's and its own errors
                    reason = _condensed(str(exc))
                else:
                    if len(suite.expectations) == 1:
                        continue
                    reason = "unknown expectation type, or arguments it does not take"
                raise ConfigError(
                    f"{spec.path}: expectation #{number} ({config['type']}) is refused by"
                    f" Great Expectations: {reason}"
                )

    def validate(
        self,
        spec: SuiteSpec,
        frame: Any,
        *,
        source: str,
        parameters: dict | None = None,
    ) -> SuiteOutcome:
        """Validate a pandas frame; expectations on absent columns are not evaluated."""
        started = time.perf_counter()
        outcome = SuiteOutcome(suite=spec.name, source=source, rows=len(frame))
        runnable = _runnable(spec, set(map(str, frame.columns)), outcome)
        if runnable:
            ran = [(runnable, self._run(spec, runnable, frame, parameters))]
            outcome.gx_result = _merged_result([result for _, result in ran])
            _add_outcomes(outcome, runnable, ran)
            del ran
            _release_frames()  # so that `frame` goes when its caller lets go of it
        outcome.seconds = round(time.perf_counter() - started, 3)
        return outcome

    def validate_by_column(
        self,
        spec: SuiteSpec,
        *,
        columns: list[str],
        rows: int,
        read: Callable[[list[str], ValuePartition | None], Any],
        source: str,
        parameters: dict | None = None,
        partition_rows: int = VALUE_PARTITION_ROWS,
        read_chunks: Callable[[list[str], int], Iterable[Any]] | None = None,
        text_columns: frozenset[str] = frozenset(),
    ) -> SuiteOutcome:
        """Validate a table one column group at a time, for tables too big to hold whole.

        `read(names, partition)` returns a frame of those columns: all rows, or with a
        ValuePartition only the rows whose values of its columns fall in it. Each
        expectation sees every row of the columns it names (a compound key's columns
        together), so the outcomes are those of `validate` on the whole table; only one
        group is in memory at a time. Expectations on the table's shape alone (column
        names, row count) get a frame with the real names and row count and no values;
        any other expectation that names no column gets the whole table. On a table of
        more than `partition_rows` rows, the expectations that compare rows with each
        other (VALUE_PARTITIONED_EXPECTATIONS) are run on partitions of about that many
        rows, split by their columns' values, and their counts added up. With
        `read_chunks(names, rows)` (frames of those columns, consecutive chunks of about
        that many rows), the ROW_CHUNKED_EXPECTATIONS of such a table are run a chunk at
        a time and their results added up, so no whole column is held; a type check only
        on `text_columns`, whose dtype is the same in every chunk.
        """
        started = time.perf_counter()
        outcome = SuiteOutcome(suite=spec.name, source=source, rows=rows)
        runnable = _runnable(spec, set(columns), outcome)
        partitions = value_partitions(rows, partition_rows)
        groups: dict[tuple[str, tuple[str, ...]], list[dict]] = {}
        for config in runnable:
            named = tuple(dict.fromkeys(expectation_columns(config.get("kwargs", {}))))
            if not named:
                kind = _SHAPE if config["type"] in SHAPE_EXPECTATIONS else _WHOLE
            elif partitions > 1 and config["type"] in VALUE_PARTITIONED_EXPECTATIONS:
                kind = _BY_VALUE
            elif partitions > 1 and read_chunks and _chunkable(config, named, text_columns):
                kind = _IN_CHUNKS
            else:
                kind = _COLUMNS
            groups.setdefault((kind, named), []).append(config)
        ran: list[tuple[list[dict], Any]] = []
        for (kind, named), configs in groups.items():
            if kind == _BY_VALUE:
                result = self._run_by_value(
                    spec, configs, list(named), partitions, read, parameters
                )
            elif kind == _IN_CHUNKS and read_chunks:
                chunks = read_chunks(list(named), partition_rows)
                result = self._run_in_chunks(spec, configs, chunks, parameters)
            else:
                if kind == _SHAPE:
                    frame = _shape_frame(columns, rows)
                else:
                    frame = read(columns if kind == _WHOLE else list(named), None)
                result = self._run(spec, configs, frame, parameters)
                del frame
                _release_frames()  # before the next group is read
            ran.append((configs, result))
        outcome.gx_result = _merged_result([result for _, result in ran])
        _add_outcomes(outcome, runnable, ran)
        outcome.seconds = round(time.perf_counter() - started, 3)
        return outcome

    def _run_by_value(
        self,
        spec: SuiteSpec,
        configs: list[dict],
        names: list[str],
        count: int,
        read: Callable[[list[str], ValuePartition | None], Any],
        parameters: dict | None,
    ) -> Any:
        """Run expectations that compare rows on `count` partitions of the rows, split by
        the values of `names`: every occurrence of a value is in the same partition, so
        the partitions' unexpected rows add up to the whole table's."""
        frames = (
            read(names, ValuePartition(columns=tuple(names), index=index, count=count))
            for index in range(count)
        )
        parts = self._run_on_parts(spec, configs, frames, parameters)
        return _added_up(parts, parameters or {}, "value_partitions")

    def _run_on_parts(
        self, spec: SuiteSpec, configs: list[dict], frames: Iterable[Any], parameters: dict | None
    ) -> list[Any]:
        """Run expectations on each frame in turn, each freed before the next is read."""
        parts = []
        for frame in frames:
            parts.append(self._run(spec, configs, frame, parameters))
            del frame
            _release_frames()
        return parts

    def _run_in_chunks(
        self, spec: SuiteSpec, configs: list[dict], chunks: Iterable[Any], parameters: dict | None
    ) -> Any:
        """Run ROW_CHUNKED_EXPECTATIONS on consecutive chunks of the rows, one chunk in
        memory at a time, and add their results up. A min or max check is then run
        again, by GX, on the chunks' extremes: GX's own comparison with its bounds."""
        parts = self._run_on_parts(spec, configs, chunks, parameters)
        # Results come in the order of their configs, in every part and in `again`.
        positions = [i for i, c in enumerate(configs) if c["type"] in EXTREME_EXPECTATIONS]
        extremes = [configs[i] for i in positions]
        # Before _added_up, which turns the first part's results into the table's.
        frame = _extremes_frame(extremes, positions, parts) if extremes else None
        merged = _added_up(parts, parameters or {}, "row_chunks")
        if frame is not None:
            again = self._run(spec, extremes, frame, parameters)
            for position, redone in zip(positions, again.results, strict=True):
                if not _raised(merged.results[position]):
                    redone.meta = merged.results[position].meta
                    merged.results[position] = redone
            _restate(merged)
        return merged

    def _run(
        self, spec: SuiteSpec, configs: list[dict], frame: Any, parameters: dict | None
    ) -> Any:
        """Run some of a suite's expectations on one frame; GX's suite validation result,
        its results in the order of `configs` (GX lists the table's checks first, then
        the columns' one column after another)."""
        self._start()
        numbered = [
            {**config, "meta": {**(config.get("meta") or {}), _POSITION: position}}
            for position, config in enumerate(configs)
        ]
        suite = self._gx.ExpectationSuite(name=spec.name, expectations=numbered, meta=spec.meta)
        if len(suite.expectations) != len(configs):
            raise ConfigError(
                f"{spec.path}: {len(configs) - len(suite.expectations)} expectation(s)"
                " were rejected by Great Expectations (unknown type or bad kwargs);"
                " see the run log"
            )
        self._frames += 1
        source_name = f"frames_{self._frames}"
        batch_definition = (
            self._context.data_sources.add_pandas(source_name)
            .add_dataframe_asset(spec.name)
            .add_batch_definition_whole_dataframe("whole_frame")
        )
        try:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            validation = batch.validate(
                suite,
                result_format={
                    "result_format": "SUMMARY",
                    "partial_unexpected_count": SAMPLE_SIZE,
                },
                expectation_parameters=parameters or {},
            )
            validation.results.sort(key=lambda r: r.expectation_config.meta[_POSITION])
            for result in validation.results:
                del result.expectation_config.meta[_POSITION]
            return validation
        finally:
            # The context keeps each data source, and the data source its last frame:
            # without this, every file and column group validated stays in memory.
            self._context.data_sources.delete(source_name)


# Expectations that name no column and read only the table's column names and row count.
SHAPE_EXPECTATIONS = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_row_count_to_be_between",
    }
)
_SHAPE = "shape"
_WHOLE = "whole"
_COLUMNS = "columns"
_BY_VALUE = "by_value"
_IN_CHUNKS = "in_chunks"


def _chunkable(config: dict, named: tuple[str, ...], text_columns: frozenset[str]) -> bool:
    """Whether an expectation's result on a table follows from its results on chunks."""
    if config["type"] in TYPE_EXPECTATIONS:
        return set(named) <= text_columns
    return config["type"] in ROW_CHUNKED_EXPECTATIONS


def _added_up(parts: list[Any], parameters: dict, label: str) -> Any:
    """GX's results on each part of the rows (partitions or chunks), as one result on
    the whole table; `label` records in each result's meta how many parts there were.

    A map expectation's counts of rows, missing and unexpected values are added up and
    its `mostly` applied to the sums, as GX does on one frame; the sample is the first
    parts' unexpected values. A check with no counts (a dtype: the same in every part)
    passes if it passes on every part. A part whose expectation raised an error stands
    for the whole. Returns the first part's result, updated.
    """
    merged = parts[0]
    for position, result in enumerate(merged.results):
        same = [part.results[position] for part in parts]
        errors = [r for r in same if _raised(r)]
        if errors:
            merged.results[position] = errors[0]
            continue
        if "unexpected_count" in (result.result or {}):
            kwargs = dict(result.expectation_config.kwargs)
            mostly = _parameter_value(kwargs.get("mostly", 1.0), parameters)
            result.success, result.result = _added_up_counts([r.result for r in same], mostly)
        else:
            failed = [r for r in same if not r.success]
            if failed:
                merged.results[position] = result = failed[0]
        result.meta = {**(result.meta or {}), label: len(parts)}
    _restate(merged)
    return merged


def _raised(result: Any) -> bool:
    return bool((result.exception_info or {}).get("raised_exception"))


def _extremes_frame(extremes: list[dict], positions: list[int], parts: list[Any]) -> Any:
    """For min and max checks (the configs at `positions`), a frame whose column holds
    the extreme each check found over all parts (a part without values has none), so
    GX sees the table's least and greatest values."""
    import pandas as pd

    found: dict[str, list[Any]] = {}
    for config, position in zip(extremes, positions, strict=True):
        observed = [part.results[position].result.get("observed_value") for part in parts]
        values = [v for v in observed if v is not None and not pd.isna(v)]
        found.setdefault(str(config["kwargs"]["column"]), []).append(
            EXTREME_EXPECTATIONS[config["type"]](values) if values else None
        )
    rows = max(len(values) for values in found.values())
    return pd.DataFrame(
        {column: values + values[-1:] * (rows - len(values)) for column, values in found.items()}
    )


def _restate(merged: Any) -> None:
    """Recount a validation result's statistics after its results were replaced."""
    successful = sum(1 for r in merged.results if r.success)
    evaluated = len(merged.results)
    merged.success = successful == evaluated
    merged.statistics = {
        **(merged.statistics or {}),
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        "success_percent": 100.0 * successful / evaluated if evaluated else None,
    }


def _parameter_value(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _added_up_counts(results: list[dict], mostly: float) -> tuple[bool, dict]:
    """(success, result) of a map expectation from its results on disjoint partitions."""
    elements = sum(r.get("element_count") or 0 for r in results)
    missing = sum(r.get("missing_count") or 0 for r in results)
    unexpected = sum(r.get("unexpected_count") or 0 for r in results)
    considered = elements - missing
    # GX: vacuously true without rows to consider, else the share expected >= mostly.
    success = considered == 0 or float(considered - unexpected) / float(considered) >= mostly
    sample = [v for r in results for v in r.get("partial_unexpected_list") or []][:SAMPLE_SIZE]
    counted = Counter(tuple(v.values()) if isinstance(v, dict) else v for v in sample)
    merged = {
        "element_count": elements,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / considered if considered else None,
        "partial_unexpected_list": sample,
        "missing_count": missing,
        "missing_percent": 100.0 * missing / elements if elements else None,
        "unexpected_percent_total": 100.0 * unexpected / elements if elements else None,
        "unexpected_percent_nonmissing": (100.0 * unexpected / considered if considered else None),
        "partial_unexpected_counts": [
            {"value": value, "count": n} for value, n in counted.most_common()
        ],
    }
    # Row positions in a partition are not rows of the table: not carried over.
    return success, merged


def _release_frames() -> None:
    """Free the frame GX has just validated, now rather than at some later collection.

    GX's validation objects refer to each other in cycles that hold the frame, so it
    outlives `del` until Python's cycle collector runs: at L (101.5M events) four event
    columns were held at once, 9.5 GB, against 4.9 GB with a collection after each.
    """
    gc.collect()


def _freeze_what_lives_on() -> None:
    """Leave the objects alive once GX has started (GX, pandas, the context: about 260k,
    kept until the process ends) out of every later collection.

    `_release_frames` runs a full collection after each column group, partition and
    chunk, about a hundred for L's events: 0.15 s each over those objects, 0.2 ms
    without them. Cycles created later, the frames' among them, are collected as before.
    They are let go at exit, so that the interpreter's last collections free them (DuckDB's
    bindings report frozen objects as leaked).
    """
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)


def _skip_frame_fingerprints() -> None:
    """Stop GX hashing every frame under 1 GB for a batch marker nobody reads.

    GX fingerprints each pandas batch smaller than its HASH_THRESHOLD (1e9 bytes)
    with pandas' row hashing, and skips bigger ones. The fingerprint only lands in
    the result's batch markers; hashing cost 9-13 s per 10M-value text column,
    more than the expectations themselves.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0
    else:
        log.warning("this GX version has no HASH_THRESHOLD: frames are fingerprinted (slower)")


def _shape_frame(columns: list[str], rows: int) -> Any:
    """The table's column names and row count, without its values: all-null Arrow
    columns have no buffers, so this costs nothing whatever the row count."""
    import pandas as pd
    import pyarrow as pa

    nulls = pd.arrays.ArrowExtensionArray(pa.nulls(rows))
    return pd.DataFrame({name: nulls for name in columns}, copy=False)


def _runnable(spec: SuiteSpec, present: set[str], outcome: SuiteOutcome) -> list[dict]:
    """The expectations whose columns are present; the others are recorded as not evaluated."""
    runnable: list[dict] = []
    for config in spec.expectations:
        kwargs = config.get("kwargs", {})
        missing = [c for c in expectation_columns(kwargs) if c not in present]
        if missing:
            outcome.outcomes.append(
                ExpectationOutcome(
                    expectation=config["type"],
                    columns=expectation_columns(kwargs),
                    kwargs=kwargs,
                    severity=_SEVERITY[config.get("severity", "critical")],
                    status="not_evaluated",
                    message=f"column {', '.join(missing)} missing",
                    notes=_notes(config),
                )
            )
        else:
            runnable.append(config)
    return runnable


def _add_outcomes(
    outcome: SuiteOutcome, runnable: list[dict], ran: list[tuple[list[dict], Any]]
) -> None:
    """Append the expectations' outcomes in the suite's order. Each validation result
    lists its expectations in the order of the configs it ran (`ran`: those configs
    and the result, see `_run`); GX's own copy of a config is no key to the suite's,
    since it gives `7` back as `7.0` and a `$PARAMETER` as its value."""
    position = {id(config): index for index, config in enumerate(runnable)}
    converted = [
        (position[id(config)], _convert(result))
        for configs, validation in ran
        for config, result in zip(configs, validation.results, strict=True)
    ]
    converted.sort(key=lambda pair: pair[0])
    outcome.outcomes.extend(o for _, o in converted)


def _merged_result(results: list[Any]) -> dict:
    """GX's result of one validation, or several (one per column group) as one."""
    dicts = [_json_safe(r.to_json_dict()) for r in results]
    if len(dicts) == 1:
        return dicts[0]
    merged = dict(dicts[0])
    merged["results"] = [item for d in dicts for item in d.get("results", [])]
    merged["success"] = all(d.get("success") for d in dicts)
    evaluated = len(merged["results"])
    successful = sum(1 for item in merged["results"] if item.get("success"))
    merged["statistics"] = {
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        "success_percent": 100.0 * successful / evaluated if evaluated else None,
    }
    merged["validations"] = len(dicts)
    return merged


def _notes(config: dict) -> str:
    notes = config.get("notes") or config.get("meta", {}).get("notes") or ""
    return " ".join(notes) if isinstance(notes, list) else str(notes)


def _convert(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = {
        k: v
        for k, v in dict(config.kwargs).items()
        if k not in ("batch_id", "result_format", "catch_exceptions")
    }
    severity = getattr(config.severity, "value", config.severity) or "critical"
    details = result.result or {}
    exception = result.exception_info or {}
    message = ""
    if exception.get("raised_exception"):
        message = str(exception.get("exception_message"))
    else:  # metric errors are nested one level down, keyed by metric id
        for value in exception.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                message = str(value.get("exception_message"))
                break
    status = "passed" if result.success else ("error" if message else "failed")
    outcome = ExpectationOutcome(
        expectation=config.type,
        columns=expectation_columns(kwargs),
        kwargs=kwargs,
        severity=_SEVERITY.get(str(severity), FAIL),
        status=status,
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=_round(details.get("unexpected_percent")),
        observed_value=_json_safe(details.get("observed_value")),
        sample=_json_safe(list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]),
        message=message,
        notes=_notes({"notes": config.notes, "meta": config.meta or {}}),
    )
    mismatched = (details.get("details") or {}).get("mismatched")
    if mismatched and not result.success:
        outcome.message = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in mismatched.items())
    return outcome


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(_json_safe(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_safe(value: Any) -> Any:
    """Make GX results JSON-serialisable: NaN → None, numpy/pandas scalars → Python."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):  # numpy's float64 too: a subclass, made a plain float here
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):
        try:
            return _json_safe(value.item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        if value != value:  # pandas NA / NaT
            return None
    except (TypeError, ValueError):
        return None
    return str(value)
