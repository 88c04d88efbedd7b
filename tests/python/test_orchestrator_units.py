"""Unit tests of the orchestrator's parts: no dbt build, small files in tmp dirs."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

# The orchestrator runs as `python -m scripts.orchestrator` from the repo root; make the
# root importable when pytest starts elsewhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.orchestrator import cli, publish  # noqa: E402
from scripts.orchestrator.errors import ConfigError, ExitCode, LockedError, OrchestratorError
from scripts.orchestrator.gx_engine import (
    VALUE_PARTITION_ROWS,
    VALUE_PARTITIONED_EXPECTATIONS,
    GxSession,
    load_suite,
    load_suites,
)
from scripts.orchestrator.raw_files import FileStamp, detect_format, locate
from scripts.orchestrator.raw_validation import (
    WHOLE_FRAME_MAX_ROWS,
    freshness_reference,
    load_raw_suites,
    validate_raw,
)
from scripts.orchestrator.settings import (
    RAW_TABLES,
    WarehouseFiles,
    build_settings,
    repo_root,
    unfinished_mark,
)
from scripts.orchestrator.summary import (
    RunSummary,
    collect_tables,
    format_table,
    previous_raw_rows,
    render_tables,
    write_summary,
)

ROOT = repo_root()
SUITES = ROOT / "gx" / "expectations"
FIXTURE = ROOT / "tests" / "fixtures" / "raw_small"  # dirty rows, small CSV files


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small demo data (the real generator), written once for this module."""
    from scripts import generate_demo_data

    out = tmp_path_factory.mktemp("raw")
    with open(os.devnull, "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            assert (
                generate_demo_data.main(["--accounts", "30", "--days", "60", "--out", str(out)])
                == 0
            )
        finally:
            sys.stdout = stdout
    return out


@pytest.fixture(scope="module")
def gx_session() -> GxSession:
    return GxSession()


def _copy_raw(raw_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "raw"
    shutil.copytree(raw_dir, target)
    return target


def _rewrite(path: Path, sql: str) -> None:
    """Replace a parquet file by `sql` run over it (`t` is the old content)."""
    con = duckdb.connect()
    con.execute(f"create table t as select * from read_parquet('{path}')")
    con.execute(f"copy ({sql}) to '{path}' (format parquet)")
    con.close()


def _validate(
    gx_session: GxSession,
    raw: Path,
    previous: dict | None = None,
    whole_frame_max_rows: int = WHOLE_FRAME_MAX_ROWS,
    value_partition_rows: int = VALUE_PARTITION_ROWS,
    scratch_dir: Path | None = None,
):
    inputs = locate(raw, None)
    return validate_raw(
        gx_session,
        load_raw_suites(SUITES),
        inputs,
        reference=date(2026, 10, 31),
        previous_rows=previous or {},
        whole_frame_max_rows=whole_frame_max_rows,
        value_partition_rows=value_partition_rows,
        scratch_dir=scratch_dir,
    )


def _failures(outcomes) -> dict[str, list[str]]:
    return {
        Path(o.source).stem: [f.expectation for f in o.failures] for o in outcomes if o.failures
    }


# --- suites -------------------------------------------------------------------


def test_every_suite_is_valid_gx_json() -> None:
    """GX drops invalid expectations with only a log line: check none is dropped."""
    import great_expectations as gx

    for spec in [*load_suites(SUITES / "raw"), *load_suites(SUITES / "marts")]:
        suite = gx.ExpectationSuite(name=spec.name, expectations=list(spec.expectations))
        assert len(suite.expectations) == len(spec.expectations), spec.path
        for expectation in spec.expectations:
            assert expectation.get("severity", "critical") in ("critical", "warning", "info")
            assert expectation.get("notes"), f"{spec.path}: {expectation['type']} needs notes"


def _suites_with(tmp_path: Path, suite: str, number: int, change: dict) -> Path:
    """A copy of the project's suites with one expectation's fields changed."""
    copy = tmp_path / "expectations"
    shutil.copytree(SUITES, copy)
    path = copy / suite
    data = json.loads(path.read_text())
    data["expectations"][number - 1].update(change)
    path.write_text(json.dumps(data))
    return copy


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kwargs": {"column": "account_id", "mostly": 1.5}}, "less than or equal to 1"),
        ({"type": "expect_column_values_to_be_lovely"}, "unknown expectation type"),
    ],
    ids=["bad_kwarg", "unknown_type"],
)
def test_a_suite_gx_refuses_stops_the_run_before_any_data(
    tmp_path: Path, gx_session: GxSession, change: dict, reason: str
) -> None:
    """A mart suite GX refuses used to fail after the whole dbt build, as a bare GX error."""
    from scripts.orchestrator import pipeline

    gx_session.check_suites([*load_suites(SUITES / "raw"), *load_suites(SUITES / "marts")])
    suites = _suites_with(tmp_path, "marts/fct_health_scores.json", 4, change)
    run = pipeline.Run(settings=replace(build_settings(), suites_dir=suites), command="run")
    run.gx = gx_session
    with pytest.raises(ConfigError) as caught:
        pipeline.check_suites(run, marts=True)
    message = caught.value.message
    assert message.startswith(f"{suites / 'marts' / 'fct_health_scores.json'}: expectation #4 (")
    assert reason in message and "\n" not in message, message
    assert caught.value.step == "validate_raw" and caught.value.exit_code == ExitCode.CONFIG
    pipeline.check_suites(run, marts=False)  # the raw suites alone are fine


def test_one_raw_suite_per_table() -> None:
    assert sorted(load_raw_suites(SUITES)) == sorted(RAW_TABLES)


def test_bad_severity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {"type": "expect_table_row_count_to_be_between", "kwargs": {}, "severity": "x"}
                ],
            }
        )
    )
    with pytest.raises(ConfigError, match="severity 'x'"):
        load_suite(path)


# --- raw files and raw validation ---------------------------------------------------


def test_format_is_detected_from_files(tmp_path: Path) -> None:
    for table in RAW_TABLES:
        (tmp_path / f"{table}.csv").write_text("a\n1\n")
    assert detect_format(tmp_path, None) == "csv"
    (tmp_path / "accounts.parquet").write_text("")
    with pytest.raises(ConfigError, match="mixes raw formats"):
        detect_format(tmp_path, None)
    assert detect_format(tmp_path, "parquet") == "parquet"


def test_a_complete_set_of_each_format_is_refused(tmp_path: Path) -> None:
    """New CSV files beside an older complete Parquet set: neither is picked silently."""
    for table in RAW_TABLES:
        (tmp_path / f"{table}.parquet").write_text("")
        os.utime(tmp_path / f"{table}.parquet", (1_700_000_000, 1_700_000_000))
        (tmp_path / f"{table}.csv").write_text("a\n1\n")
    with pytest.raises(ConfigError) as caught:
        detect_format(tmp_path, None)
    message = caught.value.message
    assert "mixes raw formats" in message and "--raw-format" in message
    assert "parquet: accounts" in message and "(newest written 2023-11-14 22:13 UTC)" in message
    assert detect_format(tmp_path, "csv") == "csv"
    for requested in (None, "csv"):  # with a format given too: not six missing files
        with pytest.raises(ConfigError, match="does not exist"):
            detect_format(tmp_path / "nope", requested)


def test_raw_frame_is_what_pandas_would_make_of_it() -> None:
    """Read via Arrow for memory, the frame GX sees is the one `.df()` + `astype("str")` made:
    same columns, order, dtypes (text as pandas' string dtype with NaN for null) and values,
    derived columns included, on the dirty fixture (nulls, blanks, bad dates)."""
    import pandas as pd

    from scripts.orchestrator.raw_files import derived_sql, read_raw_table, reader_sql

    suites = load_raw_suites(SUITES)
    nulls_seen = 0
    for table in RAW_TABLES:
        path = FIXTURE / f"{table}.csv"
        derived = suites[table].options.get("derived_columns")
        frame, types = read_raw_table(path, "csv", derived=derived, reference_date=date(2025, 6, 1))
        reference = "date '2025-06-01'"
        expressions = ["*"] + [
            f"{derived_sql(spec['as'], spec['from'], reference)} as {name}"
            for name, spec in derived.items()
        ]
        expected = duckdb.sql(
            f"select {', '.join(expressions)} from {reader_sql(path, 'csv')}"
        ).df()
        for name in types:
            expected[name] = expected[name].astype("str")
        assert set(types.values()) == {"VARCHAR"} and derived
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
        assert all(str(frame[name].dtype) == "str" for name in types), frame.dtypes
        nulls_seen += int(frame[list(types)].isna().any().any())
    assert nulls_seen == len(RAW_TABLES)  # every fixture file has an empty value


def test_age_days_reads_dates_as_staging_does(tmp_path: Path) -> None:
    """The freshness checks' age_days is null where staging quarantines the value as
    unparseable, instead of DuckDB's reading ('epoch' = 1970-01-01, 40+ years old)."""
    import pandas as pd

    from scripts.orchestrator.raw_files import read_raw_table

    values = {
        "2025-05-30 12:00:00": 2.0,
        " 2025-06-01 ": 0.0,  # staging trims
        "2025-06-03": -2.0,
        "2025-05-31T23:30:00Z": 1.0,
        "epoch": None,
        "infinity": None,
        "2025/05/01": None,
        "12025-05-01": None,
        "2025-05": None,
        "yesterday": None,
        "": None,
    }
    path = tmp_path / "events.csv"
    path.write_text("occurred_at\n" + "".join(f'"{v}"\n' for v in values), encoding="utf-8")
    frame, _ = read_raw_table(
        path,
        "csv",
        derived={"age": {"from": "occurred_at", "as": "age_days"}},
        reference_date=date(2025, 6, 1),
    )
    ages = [None if pd.isna(v) else float(v) for v in frame["age"].tolist()]
    assert dict(zip(values, ages, strict=True)) == values
    # numpy's float64: GX checks a range vectorized on it, value by value on pandas' Int64
    assert frame["age"].dtype == "float64"


def test_a_number_derived_alone_from_csv_is_null_where_unparseable() -> None:
    """DuckDB 2.0 turned `try_cast` into the CSV reader's own cast when it was the only
    derived column: 'many' seats then failed the whole file as unreadable."""
    from scripts.orchestrator.raw_files import read_raw_table

    path = FIXTURE / "accounts.csv"
    frame, _ = read_raw_table(
        path,
        "csv",
        derived={"seats__number": {"from": "seats", "as": "number"}},
        reference_date=date(2025, 6, 1),
    )
    seats = dict(zip(frame["account_id"], frame["seats__number"], strict=True))
    assert seats["a1"] == 10 and seats["a9"] != seats["a9"]  # 'many' → NaN


def test_freshness_reference_order(tmp_path: Path) -> None:
    assert freshness_reference(tmp_path, date(2026, 1, 2)) == (date(2026, 1, 2), "--as-of-date")
    (tmp_path / "_manifest.json").write_text(json.dumps({"window": {"end_date": "2026-10-31"}}))
    assert freshness_reference(tmp_path, None)[0] == date(2026, 10, 31)
    (tmp_path / "_manifest.json").unlink()
    assert freshness_reference(tmp_path, None)[1] == "today (UTC)"


def test_demo_data_passes_raw_suites(raw_dir: Path, gx_session: GxSession) -> None:
    """~1% (here more: 30 accounts) dirty rows are warnings, never failures."""
    outcomes = _validate(gx_session, raw_dir)
    assert _failures(outcomes) == {}
    assert [Path(o.source).stem for o in outcomes] == list(RAW_TABLES)
    assert all(o.rows and o.rows > 0 for o in outcomes)
    assert gx_session.import_seconds is not None


_OFFLINE_VALIDATION = """
import socket, sys
from datetime import date
from pathlib import Path

def refuse(*args, **kwargs):
    raise SystemExit("network access attempted")

socket.socket.connect = refuse
socket.create_connection = refuse
from scripts.orchestrator.gx_engine import GxSession
from scripts.orchestrator.raw_files import locate
from scripts.orchestrator.raw_validation import load_raw_suites, validate_raw

assert "great_expectations" not in sys.modules  # imported lazily, by the first suite
session = GxSession()
outcomes = validate_raw(
    session, load_raw_suites(Path(sys.argv[1])), locate(Path(sys.argv[2]), None),
    reference=date(2026, 10, 31), previous_rows={},
)
assert all(o.success for o in outcomes)
print(session.import_seconds)
"""


def test_gx_runs_offline_and_writes_nothing(
    raw_dir: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Import, context and validation with every socket refused; no GX project on disk."""
    env = {k: v for k, v in os.environ.items() if k != "GX_ANALYTICS_ENABLED"}
    env["PYTHONPATH"] = str(ROOT)
    # Run as a script file, not `python -c`: with pyspark installed, GX imports it, and a
    # pyspark module ends a `-c` interpreter early (it prints a doctest notice and exits 0).
    script = tmp_path_factory.mktemp("offline_script") / "validate_offline.py"
    script.write_text(_OFFLINE_VALIDATION)
    result = subprocess.run(
        [sys.executable, str(script), str(SUITES), str(raw_dir)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) > 0  # the import is timed
    assert list(tmp_path.iterdir()) == []


def test_orchestrator_imports_neither_gx_nor_dbt_up_front() -> None:
    code = (
        "import sys, scripts.orchestrator.cli, scripts.orchestrator.pipeline\n"
        "print(sorted(m for m in ('great_expectations', 'dbt.cli.main') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("table", "sql", "expected"),
    [
        ("accounts", "select * exclude (plan) from t", "expect_table_columns_to_match_set"),
        (
            "events",
            "select * replace (null::varchar as account_id) from t",
            "expect_column_values_to_not_be_null",
        ),
        (
            "invoices",
            "select * replace ('refunded' as status) from t",
            "expect_column_values_to_be_in_set",
        ),
        (
            "users",
            "select * replace (cast(null as varchar) as created_at) from t",
            "expect_column_values_to_not_be_null",
        ),
        ("accounts", "select * from t where false", "expect_table_row_count_to_be_between"),
        (
            "tickets",
            "select * replace (cast(length(ticket_id) as bigint) as csat) from t",
            "expect_column_values_to_be_of_type",
        ),
        ("events", "select t.* from t, range(2)", "expect_column_values_to_be_unique"),
        ("csm_ratings", "select t.* from t, range(2)", "expect_compound_columns_to_be_unique"),
    ],
)
@pytest.mark.parametrize("max_rows", [WHOLE_FRAME_MAX_ROWS, 0], ids=["whole", "by_column"])
def test_unusable_file_fails(
    raw_dir: Path,
    gx_session: GxSession,
    tmp_path: Path,
    table: str,
    sql: str,
    expected: str,
    max_rows: int,
) -> None:
    raw = _copy_raw(raw_dir, tmp_path)
    _rewrite(raw / f"{table}.parquet", sql)
    failures = _failures(_validate(gx_session, raw, whole_frame_max_rows=max_rows))
    assert list(failures) == [table]
    assert expected in failures[table]


def test_missing_and_unreadable_files_fail(
    raw_dir: Path, gx_session: GxSession, tmp_path: Path
) -> None:
    raw = _copy_raw(raw_dir, tmp_path)
    (raw / "tickets.parquet").unlink()
    (raw / "users.parquet").write_bytes(b"not a parquet file")
    outcomes = _validate(gx_session, raw)
    assert _failures(outcomes) == {"tickets": ["file_exists"], "users": ["file_readable"]}
    users = next(o for o in outcomes if o.source.endswith("users.parquet"))
    assert "cannot be read" in users.failures[0].describe()


@pytest.mark.parametrize(
    ("bad_record", "reason"),
    [
        (b"zz1,Bad Co,pro,5,2025-01-01,,,carol,extra", "header has 8 fields, but line {} has 9"),
        (b"zz1,Caf\xe9,pro,5,2025-01-01,,,carol", "line {} is not UTF-8 (byte 0xe9"),
    ],
    ids=["wider", "latin1"],
)
def test_a_refused_csv_record_is_named_by_its_line(
    gx_session: GxSession, tmp_path: Path, bad_record: bytes, reason: str
) -> None:
    """DuckDB's own error names no line (a misshapen record in its sniffer's sample) or
    another line (a byte that is not UTF-8); the run names the record's line."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE, raw)
    accounts = raw / "accounts.csv"
    lines = accounts.read_bytes().splitlines()
    accounts.write_bytes(b"\n".join([*lines, bad_record]) + b"\n")
    outcomes = _validate(gx_session, raw)  # the other fixture files fail their suites
    assert _failures(outcomes)["accounts"] == ["file_readable"]
    described = next(o for o in outcomes if o.source == str(accounts)).failures[0].describe()
    assert reason.format(len(lines) + 1) in described


def _same_outcomes_but_samples(one, other) -> None:
    """The outcomes are equal; an expectation checked in partitions by value samples the
    first partitions' unexpected values, not the table's first ones, so its sample only
    has the same size."""
    assert one.rows == other.rows and one.success == other.success
    for mine, theirs in zip(one.outcomes, other.outcomes, strict=True):
        mine, theirs = mine.to_dict(), theirs.to_dict()
        if mine["expectation"] in VALUE_PARTITIONED_EXPECTATIONS:
            assert len(mine.pop("sample")) == len(theirs.pop("sample"))
        assert mine == theirs
    counted = ("evaluated_expectations", "successful_expectations")
    assert [one.gx_result["statistics"][k] for k in counted] == [
        other.gx_result["statistics"][k] for k in counted
    ]


@pytest.mark.parametrize(
    "value_partition_rows",
    [VALUE_PARTITION_ROWS, 7],
    ids=["uniqueness_whole", "uniqueness_in_partitions"],
)
def test_column_groups_give_the_whole_frame_outcomes(
    raw_dir: Path, gx_session: GxSession, tmp_path: Path, value_partition_rows: int
) -> None:
    """Validated a column group at a time (as a big table is), every expectation of every
    raw suite has the outcome it has on the whole frame: on the dirty fixture (failures,
    samples, derived columns) and on demo data with a missing column and a row-count drop.
    So do the checks of a bigger table: its row-by-row, type and min checks run on
    consecutive chunks of the rows (samples included), its uniqueness checks on
    partitions split by value (the fixture's duplicated ids and null ids in 3-4)."""
    raw = _copy_raw(raw_dir, tmp_path)
    _rewrite(raw / "accounts.parquet", "select * exclude (plan) from t")
    compared = 0
    # The demo data in partitions of about a thousand rows: its events in 10 or so.
    demo_partition_rows = (
        1_000 if value_partition_rows < VALUE_PARTITION_ROWS else value_partition_rows
    )
    folders = (
        (FIXTURE, {}, value_partition_rows),
        (raw, {"events": 10**9}, demo_partition_rows),
    )
    for folder, previous, partition_rows in folders:
        whole = _validate(gx_session, folder, previous)
        grouped = _validate(
            gx_session,
            folder,
            previous,
            whole_frame_max_rows=0,
            value_partition_rows=partition_rows,
        )
        for label in ("value_partitions", "row_chunks"):
            split = [
                item.get("meta", {}).get(label, 1)
                for outcome in grouped
                for item in outcome.gx_result["results"]
            ]
            assert (max(split) > 2) == (partition_rows < VALUE_PARTITION_ROWS)
        for one, other in zip(whole, grouped, strict=True):
            _same_outcomes_but_samples(other, one)
            compared += len(one.outcomes)
            assert other.gx_result["validations"] > 1
        assert any(not o.success for o in whole) and any(o.warnings for o in whole)
    assert compared > 200


def _duplicated_column(unique: int, repeated: list[int], nulls: int) -> list[str | None]:
    """`unique` values seen once, one value per entry of `repeated` seen that many
    times, and `nulls` nulls, shuffled the same way each time."""
    import random

    values: list[str | None] = [f"id{i}" for i in range(unique)]
    for n, times in enumerate(repeated):
        values += [f"dup{n}"] * times
    values += [None] * nulls
    random.Random(7).shuffle(values)
    return values


@pytest.mark.parametrize(
    ("repeated", "passes"),
    [([2] * 10, True), ([2] * 9 + [3], False)],
    ids=["20_of_100_repeated_passes_mostly_0.8", "21_of_100_repeated_fails"],
)
def test_uniqueness_in_partitions_adds_up_as_gx_counts(
    gx_session: GxSession, repeated: list[int], passes: bool
) -> None:
    """Added up over partitions, the counts, percentages and `mostly` decide as GX does on
    the whole column, to the row: 20 repeated rows of 100 non-null ones meet mostly 0.8,
    21 do not. Nulls are neither expected nor unexpected, in whichever partition."""
    import pandas as pd

    from scripts.orchestrator.gx_engine import SuiteSpec

    values = _duplicated_column(100 - sum(repeated), repeated, nulls=10)
    frame = pd.DataFrame({"key": pd.array(values, dtype="str")})
    spec = SuiteSpec(
        name="keys",
        path=Path("keys.json"),
        expectations=(
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "key", "mostly": 0.8},
            },
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "key", "mostly": {"$PARAMETER": "share"}},
            },
        ),
        meta={},
    )
    parts: list[int] = []

    def read(names: list[str], partition=None) -> pd.DataFrame:
        assert partition is not None and partition.columns == ("key",)
        # Python's hash is stable within the process: equal values share a partition.
        rows = frame[frame["key"].map(lambda v: hash(v) % partition.count == partition.index)]
        parts.append(len(rows))
        return rows[names].reset_index(drop=True)

    whole = gx_session.validate(spec, frame, source="memory", parameters={"share": 0.8})
    split = gx_session.validate_by_column(
        spec,
        columns=["key"],
        rows=len(frame),
        read=read,
        source="memory",
        parameters={"share": 0.8},
        partition_rows=30,
    )
    assert len(parts) == 4 and sum(parts) == 110 and all(parts)
    _same_outcomes_but_samples(split, whole)
    assert [o.ok for o in split.outcomes] == [passes, passes]
    first = split.outcomes[0]
    assert (first.element_count, first.unexpected_count) == (110, sum(repeated))
    assert all(str(v).startswith("dup") for v in first.sample) and len(first.sample) == 5


def test_outcomes_keep_the_suites_order(gx_session: GxSession) -> None:
    """Outcomes are listed in the suite's order, whole or by column group, also for a
    bound GX gives back changed (`7` as `7.0`, a `$PARAMETER` as its value): matched by
    their config as GX returns it, those went to the end of the report."""
    import pandas as pd

    from scripts.orchestrator.gx_engine import SuiteSpec

    frame = pd.DataFrame({"n": [1.0, 2.0, 3.0], "s": pd.array(["a", "b", None], dtype="str")})
    spec = SuiteSpec(
        name="order",
        path=Path("order.json"),
        expectations=(
            {"type": "expect_column_max_to_be_between", "kwargs": {"column": "n", "max_value": 7}},
            {
                "type": "expect_column_min_to_be_between",
                "kwargs": {"column": "n", "min_value": {"$PARAMETER": "least"}},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "s"}},
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        ),
        meta={},
    )
    expected = [c["type"] for c in spec.expectations]
    whole = gx_session.validate(spec, frame, source="memory", parameters={"least": 0})
    grouped = gx_session.validate_by_column(
        spec,
        columns=["n", "s"],
        rows=3,
        read=lambda names, partition=None: frame[names or ["n", "s"]],
        source="memory",
        parameters={"least": 0},
    )
    for outcome in (whole, grouped):
        assert [o.expectation for o in outcome.outcomes] == expected


def test_row_checks_in_chunks_add_up_as_gx_on_the_whole_column(gx_session: GxSession) -> None:
    """On consecutive chunks, a row-by-row check's counts and `mostly`, and a min or max
    check's bounds (strict, or a `$PARAMETER`), decide as GX does on the whole column,
    with the whole column's sample, in the suite's order. The extremes are in the last
    of three chunks. A type check on a column that is not text stays whole: its dtype
    may differ between chunks."""
    import pandas as pd

    from scripts.orchestrator.gx_engine import SuiteSpec

    plans = [f"p{i % 3}" for i in range(95)] + ["x1", "x2", "x3", "x4", "x5"] + [None] * 5
    frame = pd.DataFrame(
        {
            "plan": pd.array(plans, dtype="str"),
            "seats": [float(i % 50) for i in range(100)] + [-3.0, 90.0, None, 4.0, 5.0],
        }
    )
    in_set = {"column": "plan", "value_set": ["p0", "p1", "p2"]}
    spec = SuiteSpec(
        name="chunks",
        path=Path("chunks.json"),
        expectations=(
            {"type": "expect_column_values_to_be_in_set", "kwargs": {**in_set, "mostly": 0.95}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {**in_set, "mostly": 0.96}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plan"}},
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "plan", "type_": "str"},
            },
            {
                "type": "expect_column_min_to_be_between",
                "kwargs": {"column": "seats", "min_value": 0},
            },
            {
                "type": "expect_column_min_to_be_between",
                "kwargs": {"column": "seats", "min_value": -3, "strict_min": True},
            },
            {
                "type": "expect_column_max_to_be_between",
                "kwargs": {"column": "seats", "max_value": {"$PARAMETER": "most_seats"}},
            },
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "seats", "type_": "float"},
            },
        ),
        meta={},
    )
    chunk_sizes: list[int] = []
    whole_reads: list[list[str]] = []

    def read(names: list[str], partition=None) -> pd.DataFrame:
        assert partition is None
        whole_reads.append(names)
        return frame[names]

    def read_chunks(names: list[str], rows: int):
        for start in range(0, len(frame), rows):
            chunk_sizes.append(len(frame[start : start + rows]))
            yield frame[names][start : start + rows].reset_index(drop=True)

    def in_chunks(most_seats: int):
        return gx_session.validate_by_column(
            spec,
            columns=["plan", "seats"],
            rows=len(frame),
            read=read,
            read_chunks=read_chunks,
            text_columns=frozenset({"plan"}),
            source="memory",
            parameters={"most_seats": most_seats},
            partition_rows=40,
        )

    whole = gx_session.validate(spec, frame, source="memory", parameters={"most_seats": 89})
    chunked = in_chunks(89)
    assert chunk_sizes == [40, 40, 25] * 2 and whole_reads == [["seats"]]
    _same_outcomes_but_samples(chunked, whole)
    assert [o.ok for o in chunked.outcomes] == [True, False, False, True, False, False, False, True]
    assert [o.sample for o in chunked.outcomes[1:3]] == [["x1", "x2", "x3", "x4", "x5"], [None] * 5]
    assert [o.observed_value for o in chunked.outcomes[4:7]] == [-3.0, -3.0, 90.0]
    assert in_chunks(90).outcomes[6].ok


def test_raw_chunks_are_the_raw_table_in_order(tmp_path: Path) -> None:
    """Read in chunks, a raw file (CSV or Parquet, with a derived column) gives the frame
    read whole, cut into chunks of exactly the rows asked, the last one shorter; a file
    without rows gives one empty frame with the same columns."""
    import pandas as pd

    from scripts.orchestrator.raw_files import read_raw_chunks, read_raw_table

    derived = {"seats__number": {"from": "seats", "as": "number"}}
    con = duckdb.connect()  # its own: the table goes with it
    con.sql(
        "create table t as select 'a' || i as account_id,"
        " case when i % 7 = 0 then 'many' else cast(i as varchar) end as seats"
        " from range(300000) r(i)"
    )
    for fmt in ("csv", "parquet"):
        for name, rows in (("full", "t"), ("empty", "t where false")):
            path = tmp_path / f"{name}.{fmt}"
            con.sql(f"copy (select * from {rows}) to '{path}'")
            columns = ["seats", "seats__number"]
            options = {"derived": derived, "reference_date": date(2026, 10, 31), "columns": columns}
            whole, _ = read_raw_table(path, fmt, **options)
            chunks = list(read_raw_chunks(path, fmt, chunk_rows=130_000, **options))
            sizes = [len(c) for c in chunks]
            assert sizes == ([130_000, 130_000, 40_000] if name == "full" else [0])
            assert all(list(c.columns) == columns for c in chunks)
            joined = pd.concat(chunks, ignore_index=True)
            pd.testing.assert_frame_equal(joined, whole)
    con.close()


def test_a_file_unreadable_in_chunks_is_unreadable(tmp_path: Path) -> None:
    """A reader error met while reading chunks (here: the file went away after it was
    described) is the file's problem, reported as unreadable, not a stack trace."""
    from scripts.orchestrator.raw_validation import UnreadableRawFile, _chunk_reader

    read_chunks = _chunk_reader(tmp_path / "events.parquet", "parquet", None, date(2026, 10, 31))
    with pytest.raises(UnreadableRawFile, match="events.parquet"):
        next(iter(read_chunks(["event_id"], 10)))


def test_a_bad_byte_past_the_first_read_is_named_as_an_encoding_error(tmp_path: Path) -> None:
    """A byte that is not UTF-8 far into a CSV file fails a later read (the column chunks),
    which used to say only DuckDB's first line ('CSV Error on Line: ...')."""
    from scripts.orchestrator.raw_validation import UnreadableRawFile, _chunk_reader

    path = tmp_path / "events.csv"
    lines = [b"event_id,account_id"] + [f"e{i},a1".encode() for i in range(1, 30_001)]
    lines[25_000] = b"e25000,Caf\xe9"  # line 25,001
    path.write_bytes(b"\n".join(lines) + b"\n")
    read_chunks = _chunk_reader(path, "csv", None, date(2026, 10, 31))
    with pytest.raises(UnreadableRawFile) as raised:
        list(read_chunks(["event_id", "account_id"], 5_000))
    assert str(raised.value).startswith("line 25001 is not UTF-8 (byte 0xe9"), raised.value


def test_a_utf16_file_is_named_as_not_utf8(tmp_path: Path) -> None:
    """Read as UTF-8, a UTF-16 file also has one-field records: the encoding is the cause."""
    from scripts.orchestrator.raw_files import csv_read_error, reader_sql

    path = tmp_path / "users.csv"
    path.write_text("user_id,account_id\nu1,a1\nu2,a1\n", encoding="utf-16")
    with pytest.raises(duckdb.Error) as raised:
        duckdb.sql(f"select count(*) from {reader_sql(path, 'csv')}").fetchall()
    assert csv_read_error(path, raised.value).startswith("line 1 is not UTF-8 (byte 0xff")


def test_value_partitions_are_the_files_rows_by_hash_in_order(tmp_path: Path) -> None:
    """Written in one scan, each partition holds the rows whose values hash to it (nulls
    and every copy of a value together), in the file's order, converted as the file is
    read: CSV and Parquet, a compound key, an empty partition. The partitions no longer
    need the file (read once). DuckDB's partitioned write mixes the rows' order in many
    of 40 partitions, even on one thread; read back, each is in the file's order."""
    import pandas as pd

    from scripts.orchestrator.raw_files import read_raw_table, read_value_partition, split_by_value

    con = duckdb.connect()  # its own: the table goes with it
    con.sql(
        "create table t as select 'n' || i as note, case when i % 11 = 0 then null"
        " else 'k' || (i * 7919) % 150000 end as key, cast(i % 3 as varchar) as part"
        " from range(400000) r(i)"
    )
    for fmt, columns, count in (("csv", ("key",), 40), ("parquet", ("part", "key"), 40)):
        path = tmp_path / f"keys.{fmt}"
        con.sql(f"copy t to '{path}'" + (" (row_group_size 20000)" if fmt == "parquet" else ""))
        whole, _ = read_raw_table(path, fmt, reference_date=date(2026, 10, 31))
        split = split_by_value(path, fmt, columns, count, tmp_path / f"split_{fmt}")
        path.unlink()
        in_file_order = [c for c in whole.columns if c in columns]
        sizes = []
        for index in range(count):
            frame = read_value_partition(split, index)
            expected = whole.loc[_rows_in(whole, columns, con, count, index), in_file_order]
            pd.testing.assert_frame_equal(frame, expected.reset_index(drop=True))
            sizes.append(len(frame))
        assert sum(sizes) == 400_000 and all(sizes)
    empty = split_by_value(
        _one_row_file(tmp_path), "parquet", ("key",), 5, tmp_path / "split_one_row"
    )
    assert sorted(len(read_value_partition(empty, i)) for i in range(5)) == [0, 0, 0, 0, 1]
    con.close()


def _rows_in(frame, columns: tuple[str, ...], con, count: int, index: int):
    """Which rows of `frame` DuckDB's hash of `columns` puts in partition `index`."""
    keys = con.from_df(frame[list(columns)])
    hashed = ", ".join(columns)
    return keys.select(f"hash({hashed}) % {count} = {index} as p").fetchnumpy()["p"]


def _one_row_file(tmp_path: Path) -> Path:
    path = tmp_path / "one_row.parquet"
    duckdb.sql(f"copy (select 'u1' as key) to '{path}'")
    return path


def _split_in_small_partitions(gx_session: GxSession, scratch: Path):
    """The dirty fixture validated as big files are, its uniqueness checks on partitions
    of 7 rows (3-4 per file), written under `scratch`."""
    return _validate(
        gx_session, FIXTURE, whole_frame_max_rows=0, value_partition_rows=7, scratch_dir=scratch
    )


def test_a_files_partitions_are_written_once_and_deleted(
    gx_session: GxSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file's uniqueness partitions are written in one pass per file, under the
    scratch folder, and deleted once the file is validated: failures or not."""
    from scripts.orchestrator import raw_validation

    written: list[tuple[str, tuple[str, ...], int, Path]] = []

    def split_by_value(path: Path, fmt: str, columns, count: int, directory: Path):
        written.append((path.stem, tuple(columns), count, directory))
        return real(path, fmt, columns, count, directory)

    real = raw_validation.split_by_value
    monkeypatch.setattr(raw_validation, "split_by_value", split_by_value)
    scratch = tmp_path / "duckdb_tmp" / "not_yet_made"
    outcomes = _split_in_small_partitions(gx_session, scratch)
    assert any(not o.success for o in outcomes)
    files = [stem for stem, *_ in written]
    assert len(files) >= 4 and len(files) == len(set(files))  # one split per file
    assert ("csm_ratings", ("account_id", "rated_at")) in [(f, c) for f, c, *_ in written]
    assert all(count > 2 and directory.is_relative_to(scratch) for *_, count, directory in written)
    assert scratch.is_dir() and not any(scratch.iterdir())


def test_no_room_for_the_partitions_stops_the_run_naming_the_folder(
    gx_session: GxSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch folder that cannot be made, or a write that fails in it (a full disk),
    stops the run with the folder, the reason and the setting to change; the data is
    not at fault. An error that is not about the folder is the file's: unreadable."""
    from scripts.orchestrator import raw_validation

    blocked = tmp_path / "a_file"
    blocked.write_text("")
    with pytest.raises(OrchestratorError) as caught:
        _split_in_small_partitions(gx_session, blocked / "tmp")
    assert str(blocked / "tmp") in caught.value.message
    assert "CUSTOMER_HEALTH_DUCKDB_TMP" in caught.value.message
    assert caught.value.step == "validate_raw"

    def disk_full(path: Path, fmt: str, columns, count: int, directory: Path):
        raise duckdb.IOException(f"Could not write file {directory}/p=0/data_0.parquet: No space")

    monkeypatch.setattr(raw_validation, "split_by_value", disk_full)
    with pytest.raises(OrchestratorError) as caught:
        _split_in_small_partitions(gx_session, tmp_path / "scratch")
    assert caught.value.message.startswith(
        f"could not write accounts.csv's partitions for its uniqueness checks under"
        f" {tmp_path / 'scratch'}: Could not write file"
    )
    assert "No space" in caught.value.message

    def corrupt(path: Path, fmt: str, columns, count: int, directory: Path):
        raise duckdb.InvalidInputException(f"{path}: corrupt row group\nmore detail")

    monkeypatch.setattr(raw_validation, "split_by_value", corrupt)
    outcomes = _split_in_small_partitions(gx_session, tmp_path / "scratch")
    unreadable = [f for o in outcomes for f in o.failures if f.expectation == "file_readable"]
    assert len(unreadable) >= 4
    assert all(f.message.endswith("corrupt row group") for f in unreadable)
    assert not any((tmp_path / "scratch").iterdir())


def test_uniqueness_of_a_derived_column_in_partitions_is_refused(tmp_path: Path) -> None:
    """Rows are split by a hash of the file's own values; a derived column's equal values
    can come from different ones, so splitting by it is refused, naming the file."""
    from scripts.orchestrator.raw_files import split_by_value

    path = tmp_path / "users.parquet"
    duckdb.sql(f"copy (select 'u1' as user_id, '2026-10-01' as created_at) to '{path}'")
    with pytest.raises(
        ConfigError, match=r"users\.parquet: cannot split the rows by created_at__age_days"
    ):
        split_by_value(path, "parquet", ("created_at__age_days",), 2, tmp_path / "split")
    assert not (tmp_path / "split").exists()


def _validate_three_rows(gx_session: GxSession, spec, columns: list[str], read, **options):
    """A raw suite validated a column group at a time on a 3-row table `read` serves."""
    return gx_session.validate_by_column(
        spec,
        columns=columns,
        rows=3,
        read=read,
        source="memory",
        parameters={"min_rows_from_previous_run": 0},
        **options,
    )


def test_validated_frames_are_freed_before_the_next_is_read(gx_session: GxSession) -> None:
    """GX's result objects hold the frame in reference cycles, so `del` alone left it for
    the cycle collector: four 100M-row columns were held at once at L. Each column group,
    partition and chunk is freed before the next one is read, and a frame validated whole
    when its owner drops it, collector or not."""
    import gc
    import weakref

    import pandas as pd

    spec = load_raw_suites(SUITES)["users"]
    columns = ["user_id", "account_id", "email", "created_at", "deactivated_at"]
    frames: list[weakref.ref] = []
    alive_at_read: list[int] = []

    def read(names: list[str] | None, partition=None) -> pd.DataFrame:
        alive_at_read.append(sum(ref() is not None for ref in frames))
        names = names or columns
        frame = pd.DataFrame({n: pd.array(["u1", "u2", "u2"], dtype="str") for n in names})
        frames.append(weakref.ref(frame))
        return frame

    def read_chunks(names: list[str], rows: int):
        for _ in range(2):
            yield read(names)

    gc.disable()  # the automatic collector must not do the engine's work
    try:
        _validate_three_rows(
            gx_session, spec, columns, read, partition_rows=2, read_chunks=read_chunks
        )
    finally:
        gc.enable()
    assert len(alive_at_read) > 6 and not any(alive_at_read)

    gc.disable()  # a frame validated whole goes when its owner lets go of it
    try:
        frame = read(columns)
        gx_session.validate(
            spec, frame, source="memory", parameters={"min_rows_from_previous_run": 0}
        )
        del frame
        assert frames[-1]() is None
    finally:
        gc.enable()


def test_what_lives_on_is_frozen_out_of_collections(gx_session: GxSession) -> None:
    """The collections after each group, partition and chunk skip what GX's start left
    alive (0.15 s each over it at L), and still free the frames validated since."""
    import gc
    import weakref

    import pandas as pd

    gx_session._start()
    assert gc.get_freeze_count() > 100_000
    spec = load_raw_suites(SUITES)["users"]
    frame = pd.DataFrame({"user_id": pd.array(["u1", "u2", "u2"], dtype="str")})
    configs = [c for c in spec.expectations if c["kwargs"].get("column") == "user_id"]
    gx_session._run(spec, configs, frame, {})
    validated = weakref.ref(frame)
    del frame
    gc.collect()
    assert validated() is None


def test_column_groups_read_one_group_at_a_time(gx_session: GxSession) -> None:
    """Memory follows the widest group: each read asks for one expectation's columns,
    and the shape checks (column set, row count) read no values at all."""
    import pandas as pd

    spec = load_raw_suites(SUITES)["csm_ratings"]
    columns = ["account_id", "rated_at", "rating", "is_override", "reason", "expires_at"]
    reads: list[list[str]] = []

    def read(names: list[str] | None, partition=None) -> pd.DataFrame:
        assert partition is None  # 3 rows: not split
        reads.append(list(names or []))
        values = {
            "account_id": ["a1", "a2", "a2"],
            "rated_at": ["2026-10-01 00:00:00"] * 3,
            "rating": ["50", "70", "x"],
            "is_override": ["false", "true", "false"],
            "reason": [None, "sponsor left", None],
            "expires_at": [None, "2026-12-31 00:00:00", None],
        }
        return pd.DataFrame({n: pd.array(values[n], dtype="str") for n in names or []})

    outcome = _validate_three_rows(gx_session, spec, columns, read)
    assert all(len(names) <= 2 for names in reads) and ["account_id", "rated_at"] in reads
    assert len(reads) == len({tuple(n) for n in reads})  # each group read once
    by_type = {(o.expectation, tuple(o.columns)): o for o in outcome.outcomes}
    assert by_type[("expect_table_row_count_to_be_between", ())].observed_value == 3
    assert by_type[("expect_table_columns_to_match_set", ())].ok
    compound = by_type[("expect_compound_columns_to_be_unique", ("account_id", "rated_at"))]
    assert compound.unexpected_count == 2  # a2 twice at one instant
    not_run = [o for o in outcome.outcomes if o.status == "not_evaluated"]
    assert {tuple(o.columns) for o in not_run} == {("rating__number",), ("rated_at__age_days",)}


def test_frames_are_not_fingerprinted(gx_session: GxSession) -> None:
    """GX hashes every frame under 1 GB for a batch marker (9-13 s per 10M-value text
    column); the session turns that off, and the results do not miss it."""
    import pandas as pd

    spec = load_raw_suites(SUITES)["users"]
    frame = pd.DataFrame({"user_id": pd.array(["u1", "u2"], dtype="str")})
    outcome = gx_session.validate(
        spec, frame, source="memory", parameters={"min_rows_from_previous_run": 0}
    )
    assert "pandas_data_fingerprint" not in json.dumps(outcome.gx_result)
    assert any(
        o.ok and o.expectation == "expect_column_values_to_be_unique" for o in outcome.outcomes
    )


def test_a_validated_frame_is_not_kept(gx_session: GxSession) -> None:
    """GX's context kept every data source and each its last frame, so a run held every
    raw file (or column group) it had validated until it ended: 14.6 GB after L."""
    import gc
    import weakref

    import pandas as pd

    spec = load_raw_suites(SUITES)["users"]
    frame = pd.DataFrame({"user_id": pd.array(["u1", "u2"], dtype="str")})
    kept = weakref.ref(frame)
    gx_session.validate(spec, frame, source="memory", parameters={"min_rows_from_previous_run": 0})
    del frame
    gc.collect()
    assert kept() is None


def test_validation_results_are_plain_json(
    raw_dir: Path, gx_session: GxSession, tmp_path: Path
) -> None:
    """GX reports the newest event's age (a float column) as numpy's float64, a subclass of
    float that compared with [] gave an array: the run's HTML report crashed on it."""
    from scripts.orchestrator.validation_report import save_html

    outcomes = _validate(gx_session, raw_dir)
    events = next(o for o in outcomes if o.source.endswith("events.parquet"))
    newest = next(o for o in events.outcomes if o.expectation == "expect_column_min_to_be_between")
    assert type(newest.observed_value) is float
    save_html(tmp_path / "raw.html", "Raw validation", outcomes)
    assert "expect_column_min_to_be_between" in (tmp_path / "raw.html").read_text(encoding="utf-8")
    json.dumps([o.to_dict() for o in outcomes], allow_nan=False)


def test_row_count_drop_is_a_warning(raw_dir: Path, gx_session: GxSession) -> None:
    outcomes = _validate(gx_session, raw_dir, previous={"events": 10**9})
    assert _failures(outcomes) == {}
    events = next(o for o in outcomes if o.source.endswith("events.parquet"))
    assert any(
        w.expectation == "expect_table_row_count_to_be_between" and w.severity == "warn"
        for w in events.warnings
    )


def test_csv_is_validated_like_parquet(
    raw_dir: Path, gx_session: GxSession, tmp_path: Path
) -> None:
    raw = tmp_path / "csv"
    raw.mkdir()
    con = duckdb.connect()
    for table in RAW_TABLES:
        con.execute(
            f"copy (select * from read_parquet('{raw_dir / table}.parquet'))"
            f" to '{raw / table}.csv' (header, force_quote *)"
        )
    con.close()
    assert locate(raw, None).fmt == "csv"
    assert _failures(_validate(gx_session, raw)) == {}


# --- publishing and the lock ------------------------------------------------------


def _files(tmp_path: Path) -> WarehouseFiles:
    return WarehouseFiles(tmp_path / "wh" / "customer_health.duckdb")


def test_publish_swaps_and_keeps_previous(tmp_path: Path) -> None:
    files = _files(tmp_path)
    assert publish.prepare_building(files) is False  # nothing published yet
    files.building.write_text("v1")
    publish.publish(files)
    assert files.published.read_text() == "v1" and not files.building.exists()
    assert publish.prepare_building(files) is True  # starts as a copy
    assert files.building.read_text() == "v1"
    files.building.write_text("v2")
    publish.publish(files)
    assert files.published.read_text() == "v2"
    assert files.previous.read_text() == "v1"
    publish.rollback(files)
    assert files.published.read_text() == "v1"
    assert files.previous.read_text() == "v2"


@pytest.mark.parametrize("kernel", ["copy_file_range", "refused", "absent"])
def test_copy_file_copies_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: str
) -> None:
    source, target = tmp_path / "source.bin", tmp_path / "target.bin"
    source.write_bytes(os.urandom(3_000_000))
    if kernel == "refused":  # e.g. two filesystems: EXDEV before a byte is copied

        def refuse(*args: object) -> int:
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    elif kernel == "absent":  # macOS
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    publish.copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_copy_file_raises_when_the_kernel_fails_mid_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "source.bin", tmp_path / "target.bin"
    source.write_bytes(b"x" * 10_000)
    calls = []

    def fail_second_call(reader: int, writer: int, count: int) -> int:
        calls.append(count)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(writer, b"x" * 4_000)

    monkeypatch.setattr(os, "copy_file_range", fail_second_call)
    with pytest.raises(OSError, match="No space left"):
        publish.copy_file(source, target)


def test_copy_file_refuses_a_source_that_ends_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file shrinking during the copy must not give a shorter copy without a word."""
    source, target = tmp_path / "source.bin", tmp_path / "target.bin"
    source.write_bytes(b"x" * 10_000)
    monkeypatch.setattr(os, "copy_file_range", lambda reader, writer, count: 0)
    with pytest.raises(OSError, match="ended 10,000 bytes early"):
        publish.copy_file(source, target)


def _disk(free: int) -> SimpleNamespace:
    """What shutil.disk_usage gives, on a disk with `free` bytes free."""
    return SimpleNamespace(total=10**12, used=10**12 - free, free=free)


def _published(tmp_path: Path, size: int) -> WarehouseFiles:
    """Warehouse files whose published file holds `size` bytes."""
    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    files.published.write_bytes(b"w" * size)
    return files


def test_prepare_refuses_a_copy_the_disk_cannot_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _published(tmp_path, size=5_000)
    publish.wal(files.published).write_bytes(b"l" * 1_000)
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda path: _disk(free=5_999))
    with pytest.raises(OrchestratorError, match="no room to build") as raised:
        publish.prepare_building(files)
    assert raised.value.exit_code == ExitCode.PUBLISH
    assert raised.value.step == "prepare_build"
    assert files.previous.name in raised.value.message
    assert "--in-place" in raised.value.message
    assert not files.building.exists()
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda path: _disk(free=6_000))
    assert publish.prepare_building(files) is True  # exactly enough room


def test_a_run_without_room_stops_before_validating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw validation takes minutes at L (150 s before the copy was refused there):
    a run that cannot copy the warehouse stops first, counting a stale building file,
    which the run would delete, as room."""
    from scripts.orchestrator import pipeline

    files = _published(tmp_path, size=5_000)
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda path: _disk(free=4_000))
    validated: list[str] = []
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: validated.append("raw"))
    settings = build_settings(
        raw_dir=str(tmp_path / "raw"),
        warehouse=str(files.published),
        runs_dir=str(tmp_path / "runs"),
        need_target=False,
    )
    with pytest.raises(OrchestratorError, match="no room to build") as raised:
        pipeline.run_pipeline(settings)
    assert raised.value.exit_code == ExitCode.PUBLISH and validated == []
    files.building.write_bytes(b"s" * 999)  # left by a crashed run
    with pytest.raises(OrchestratorError, match="no room to build"):
        publish.check_room_to_build(files)
    files.building.write_bytes(b"s" * 1_000)
    publish.check_room_to_build(files)  # 4,000 free + 1,000 to delete: exactly enough
    files.published.unlink()
    publish.check_room_to_build(files)  # nothing published: nothing to copy


def test_a_failed_copy_leaves_no_partial_building_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _published(tmp_path, size=5_000)

    def disk_full(source: Path, target: Path) -> None:
        target.write_bytes(b"w" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish, "copy_file", disk_full)
    with pytest.raises(OrchestratorError, match="No space left on device") as raised:
        publish.prepare_building(files)
    assert raised.value.exit_code == ExitCode.PUBLISH
    assert not files.building.exists()


def _write_with_wal(path: Path, version: str) -> None:
    """A DuckDB file whose latest write sits only in its WAL, as a crash or kill leaves it."""
    con = duckdb.connect(str(path))
    con.execute("create or replace table t (version varchar)")
    con.execute("checkpoint")
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("set checkpoint_threshold = '1TB'")
    con.execute("insert into t values (?)", [version])
    con.close()
    assert publish.wal(path).exists()


def _version(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [row[0] for row in con.sql("select version from t").fetchall()]
    finally:
        con.close()


def test_rollback_moves_each_files_wal_with_it(tmp_path: Path) -> None:
    """A WAL belongs to its file: rollback swaps the WALs with the files.

    Left in place, the published file's WAL would be replayed onto the restored file
    (and the restored file's own WAL lost).
    """
    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    _write_with_wal(files.previous, "previous")
    _write_with_wal(files.published, "published")

    publish.rollback(files)

    assert _version(files.published) == ["previous"]
    assert _version(files.previous) == ["published"]
    assert not list(files.directory.glob("*.rollback*"))


def test_rollback_moves_an_unfinished_mark_with_its_file(tmp_path: Path) -> None:
    """The mark of a build in place that did not finish describes its own file: after a
    rollback the restored, complete file has none (report and validate warned of it), and
    a second rollback brings the mark back with the unfinished file, for the next run."""
    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    files.previous.write_text("previous")
    files.published.write_text("unfinished build in place")
    files.unfinished.write_text('{"run_id": "r1"}\n')

    publish.rollback(files)
    assert files.published.read_text() == "previous" and not files.unfinished.exists()
    assert unfinished_mark(files.previous).read_text() == '{"run_id": "r1"}\n'

    publish.rollback(files)
    assert files.published.read_text() == "unfinished build in place"
    assert files.unfinished.exists() and not unfinished_mark(files.previous).exists()


def _summary_file(runs: Path, warehouse: Path, run_id: str, finished: str, **fields) -> None:
    summary = {
        "run_id": run_id,
        "command": "run",
        "status": "success",
        "finished_at": f"2026-12-07T{finished}+00:00",
        "settings": {"warehouse": str(warehouse), "in_place": False},
        "publish": {"published": True},
        **fields,
    }
    (runs / run_id).mkdir(parents=True)
    (runs / run_id / "summary.json").write_text(json.dumps(summary))


def test_report_names_the_run_that_built_the_file_after_rollbacks(tmp_path: Path) -> None:
    from scripts.orchestrator.report import render_report, run_history

    runs, warehouse = tmp_path / "runs", tmp_path / "w.duckdb"
    _summary_file(runs, warehouse, "a", "10:00:00")
    # refused the lock while b was building: started before b published, finished before it
    refused = {"status": "failed", "failed_step": "lock", "publish": {"published": False}}
    _summary_file(runs, warehouse, "c", "10:05:00", **refused)
    _summary_file(runs, warehouse, "b", "10:10:00")
    _summary_file(runs, tmp_path / "other.duckdb", "z", "10:12:00")  # another warehouse
    assert run_history(runs, warehouse)[0]["run_id"] == "b"
    assert run_history(runs, warehouse)[1] is None  # c failed before b published

    _summary_file(runs, warehouse, "r", "10:20:00", command="rollback", publish={})
    published_by, failed = run_history(runs, warehouse)
    assert (published_by["run_id"], published_by["restored_by"], failed) == ("a", "r", None)

    in_place = {"settings": {"warehouse": str(warehouse), "in_place": True}}
    failed_in_place = {"status": "failed", "failed_step": "dbt_build", **in_place}
    _summary_file(runs, warehouse, "d", "10:30:00", **failed_in_place)
    published_by, failed = run_history(runs, warehouse)
    text = render_report(
        {"warehouse": str(warehouse), "tables": {}, "published_by": published_by,
         "failed_since": failed},
        "text",
    )  # fmt: skip
    assert "Published by run a (2026-12-07T10:00:00+00:00), put back by rollback r" in text
    assert "A later run failed: d at step dbt_build" in text
    assert "it built in place, so the marts may hold what it wrote" in text

    _summary_file(runs, warehouse, "r2", "10:40:00", command="rollback", publish={})
    published_by, failed = run_history(runs, warehouse)  # the swap back
    assert (published_by["run_id"], published_by["restored_by"], failed) == ("b", "r2", None)
    _summary_file(runs, warehouse, "e", "10:50:00", publish={"published": True, "in_place": True},
                  **in_place)  # fmt: skip
    _summary_file(runs, warehouse, "r3", "11:00:00", command="rollback", publish={})
    # in place, e changed b's file and left the previous (a's): the rollback brings a back
    assert run_history(runs, warehouse)[0]["run_id"] == "a"


def test_reader_keeps_old_file_during_swap(tmp_path: Path) -> None:
    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    con = duckdb.connect(str(files.published))
    con.execute("create table t as select 1 as version")
    con.close()
    publish.prepare_building(files)
    con = duckdb.connect(str(files.building))
    con.execute("update t set version = 2")
    con.close()
    reader = duckdb.connect(str(files.published), read_only=True)
    publish.publish(files)
    assert reader.execute("select version from t").fetchone() == (1,)
    reader.close()
    reader = duckdb.connect(str(files.published), read_only=True)
    assert reader.execute("select version from t").fetchone() == (2,)
    reader.close()


def test_publish_refuses_without_building_file(tmp_path: Path) -> None:
    with pytest.raises(OrchestratorError, match="nothing to publish"):
        publish.publish(_files(tmp_path))


def test_lock_refuses_second_holder_and_names_first(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with publish.RunLock(path, run_id="first", command="run"):
        second = publish.RunLock(path, run_id="second", command="run")
        with pytest.raises(LockedError) as caught, second:
            pass
        assert f"pid {os.getpid()}" in caught.value.message
        assert "run first" in caught.value.message and "started 20" in caught.value.message
        assert caught.value.exit_code == ExitCode.LOCKED
    with publish.RunLock(path, run_id="third", command="run"):  # released after the block
        pass


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, time\n"
            "from scripts.orchestrator.publish import RunLock\n"
            f"lock = RunLock(pathlib.Path({str(path)!r}), run_id='other', command='run')\n"
            "with lock:\n"
            "    print('held', flush=True)\n"
            "    time.sleep(30)\n",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = publish.RunLock(path, run_id="me", command="run")
        with pytest.raises(LockedError, match=f"pid {holder.pid}"), mine:
            pass
    finally:
        holder.kill()
        holder.wait()
    with publish.RunLock(path, run_id="me", command="run"):  # the kernel released it
        pass


# --- building in place ------------------------------------------------------------------


def _history_warehouse(tmp_path: Path, *score_dates: str) -> WarehouseFiles:
    """A published file whose fct_health_score_history holds these score dates."""
    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    with duckdb.connect(str(files.published)) as con:
        con.execute("create table fct_health_score_history (score_date date)")
        for score_date in score_dates:
            con.execute("insert into fct_health_score_history values (?)", [score_date])
    return files


def _in_place_settings(raw_dir: Path, files: WarehouseFiles, tmp_path: Path) -> object:
    return build_settings(
        raw_dir=str(raw_dir),
        warehouse=str(files.published),
        runs_dir=str(tmp_path / "runs"),
        dbt_vars="{account_buckets: 2}",
        need_target=False,
        in_place=True,
    )


def _without_great_expectations(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline's steps that read data with GX, stubbed: the runs below fake dbt."""
    from scripts.orchestrator import pipeline

    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: None)
    monkeypatch.setattr(pipeline, "step_validate_marts", lambda *a, **k: None)
    monkeypatch.setattr(pipeline, "step_summarize", lambda *a, **k: None)


def test_in_place_builds_in_the_published_file_marked_until_dbt_succeeds(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No copy, nothing swapped; the mark written before dbt names the last date every
    history mart held, stays when dbt fails, and the next run scores from it again."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome

    files = _history_warehouse(tmp_path, "2026-10-20", "2026-10-31")
    calls: list[dict] = []
    succeed = [False, True, True]

    def fake_run_dbt(settings: object, *, database: Path, **_: object) -> DbtOutcome:
        marked = json.loads(files.unfinished.read_text())  # written before dbt starts
        calls.append({"database": database, "vars": dict(settings.dbt_vars), "marked": marked})
        return DbtOutcome(success=succeed[len(calls) - 1])

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    _without_great_expectations(monkeypatch)
    settings = _in_place_settings(raw_dir, files, tmp_path)

    with pytest.raises(OrchestratorError, match="dbt build failed in place") as raised:
        pipeline.run_pipeline(settings)
    assert raised.value.exit_code == ExitCode.DBT
    assert str(files.unfinished) in raised.value.message
    failed_run = calls[0]["marked"]["run_id"]
    assert calls[0]["database"] == files.published
    assert calls[0]["marked"]["history_complete_through"] == "2026-10-31"
    assert calls[0]["vars"] == {"account_buckets": 2}
    # the failed build had added a date to this mart before it stopped
    with duckdb.connect(str(files.published)) as con:
        con.execute("insert into fct_health_score_history values ('2026-11-01')")

    summary = pipeline.run_pipeline(settings)
    assert calls[1]["vars"] == {"account_buckets": 2, "history_complete_through": "2026-10-31"}
    assert calls[1]["marked"]["run_id"] == failed_run  # the older mark stays until success
    assert not files.unfinished.exists()
    assert summary.publish["recovered_unfinished_build"] == failed_run
    assert summary.settings["dbt_vars"] == calls[1]["vars"]
    assert summary.publish["in_place"] is True and summary.publish["previous"] is None
    status = {step["name"]: step["status"] for step in summary.steps}
    assert status["prepare_build"] == "ok" and status["publish"] == "skipped"
    assert sorted(p.name for p in files.directory.iterdir()) == [
        "customer_health.duckdb",
        "customer_health.duckdb.lock",
    ]

    pipeline.run_pipeline(settings)
    assert calls[2]["vars"] == {"account_buckets": 2}  # nothing left to score again
    assert calls[2]["marked"]["history_complete_through"] == "2026-11-01"


def test_an_interrupted_build_in_place_keeps_its_mark_and_says_so(
    raw_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import signal

    from scripts.orchestrator import pipeline

    files = _history_warehouse(tmp_path, "2026-10-31")

    def stopped_by_a_scheduler(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("signal 15")

    monkeypatch.setattr(pipeline, "run_dbt", stopped_by_a_scheduler)
    _without_great_expectations(monkeypatch)
    previous_handler = signal.getsignal(signal.SIGTERM)
    try:
        code = cli.main(
            [
                *("run", "--in-place", "--raw-dir", str(raw_dir)),
                *("--warehouse", str(files.published), "--runs-dir", str(tmp_path / "runs")),
            ]
        )
    finally:
        signal.signal(signal.SIGTERM, previous_handler)  # cli.main installs its own
    assert code == ExitCode.INTERRUPTED
    error = capsys.readouterr().err
    assert "Interrupted by signal 15 (exit code 130); the build was in place" in error
    assert "nothing was published" not in error
    marked = json.loads(files.unfinished.read_text())
    assert marked["history_complete_through"] == "2026-10-31"


def test_validating_the_marts_of_an_unfinished_build_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scripts.orchestrator import pipeline

    files = _history_warehouse(tmp_path, "2026-10-31")
    monkeypatch.setattr(pipeline, "step_validate_marts", lambda *a, **k: None)
    settings = build_settings(
        warehouse=str(files.published), runs_dir=str(tmp_path / "runs"), need_target=False
    )
    pipeline.validate_only(settings, only="marts")
    assert "did not finish" not in caplog.text
    files.unfinished.write_text(
        '{"run_id": "r1", "started_at": "2026-12-01T00:00:00+00:00",'
        ' "history_complete_through": "2026-10-30"}'
    )
    pipeline.validate_only(settings, only="marts")
    assert "customer_health.duckdb was left by a build in place that did not finish" in caplog.text
    assert "every date through 2026-10-30" in caplog.text


def test_a_copying_run_also_scores_an_unfinished_build_again(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The published file of a stopped build in place is what the next copy starts from:
    without history before it, the whole history is scored again; the mark goes once
    a whole build is published, not after a selected one."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome, NodeResult

    files = _history_warehouse(tmp_path, "2026-10-31")
    files.unfinished.write_text(
        '{"run_id": "r1", "started_at": "2026-12-01T00:00:00+00:00",'
        ' "history_complete_through": null}'
    )
    passed: list[dict] = []

    def fake_run_dbt(settings: object, *, database: Path, **_: object) -> DbtOutcome:
        passed.append(dict(settings.dbt_vars))
        assert database == files.building  # the copy of the published file
        model = NodeResult("model.customer_health.m", "m", "model", "success", 0.1)
        return DbtOutcome(success=True, nodes=[model])

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    _without_great_expectations(monkeypatch)
    common = {
        "raw_dir": str(raw_dir),
        "warehouse": str(files.published),
        "runs_dir": str(tmp_path / "runs"),
        "need_target": False,
    }
    pipeline.run_pipeline(build_settings(**common, select=("fct_health_scores",)))
    assert passed[0] == {"history_rebuild": True}
    assert files.unfinished.exists()
    pipeline.run_pipeline(build_settings(**common))
    assert passed[1] == {"history_rebuild": True}
    assert not files.unfinished.exists() and files.previous.exists()


def test_in_place_is_refused_on_spark(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dbt always builds in place: drop the flag"):
        build_settings(
            profiles_dir=str(_spark_profiles(tmp_path / "profiles", "session")),
            target="spark",
            in_place=True,
        )


def test_recovery_vars_keep_the_earlier_date() -> None:
    from scripts.orchestrator.in_place import UnfinishedBuild, recovery_vars

    stopped = UnfinishedBuild("r1", "2026-12-01T00:00:00+00:00", date(2026, 10, 31))
    assert recovery_vars(stopped, {"account_buckets": 10}) == {
        "account_buckets": 10,
        "history_complete_through": "2026-10-31",
    }
    earlier = {"history_complete_through": "2026-10-01"}
    assert recovery_vars(stopped, earlier) == earlier
    later = {"history_complete_through": "2026-11-15"}
    assert recovery_vars(stopped, later) == {"history_complete_through": "2026-10-31"}
    no_history = UnfinishedBuild("r1", "2026-12-01T00:00:00+00:00", None)
    assert recovery_vars(no_history, {}) == {"history_rebuild": True}
    with pytest.raises(ConfigError, match="history_complete_through 'last week' is not a date"):
        recovery_vars(stopped, {"history_complete_through": "last week"})


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"run_id": "r1"}',
        '{"run_id": "r1", "started_at": "x", "history_complete_through": "31/10/2026"}',
    ],
)
def test_an_unreadable_mark_stops_the_run_naming_it(tmp_path: Path, content: str) -> None:
    from scripts.orchestrator.in_place import read_unfinished

    files = _files(tmp_path)
    files.directory.mkdir(parents=True)
    files.unfinished.write_text(content)
    with pytest.raises(ConfigError, match="cannot be read") as raised:
        read_unfinished(files)
    assert str(files.unfinished) in raised.value.message
    assert '"history_complete_through": null' in raised.value.message


def test_an_unreadable_mark_stops_the_run_before_validating(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts.orchestrator import pipeline

    files = _history_warehouse(tmp_path, "2026-10-31")
    files.unfinished.write_text("{not json")
    validated: list[str] = []
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: validated.append("raw"))
    with pytest.raises(ConfigError, match="cannot be read"):
        pipeline.run_pipeline(_in_place_settings(raw_dir, files, tmp_path))
    assert validated == []


def _reader_process(database: Path, *, read_only: bool = True) -> subprocess.Popen:
    """Another process (a BI tool, say) holding `database` open for 30 s, read-only
    unless asked to write."""
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, time\n"
            f"con = duckdb.connect({str(database)!r}, read_only={read_only})\n"
            "print('open', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "open"
    return reader


def test_folders_that_cannot_be_written_are_config_errors(tmp_path: Path) -> None:
    """A warehouse or runs folder that cannot be made is the setting's fault (exit 2, named),
    not an internal error with a PermissionError. A file stands where the folder should be,
    since permissions do not stop root, who runs CI."""
    from scripts.orchestrator.logs import attach_run_log

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    lock = publish.RunLock(blocker / "w.duckdb.lock", run_id="r", command="run")
    with pytest.raises(ConfigError, match="--warehouse") as raised:
        lock.__enter__()
    assert str(blocker / "w.duckdb.lock") in raised.value.message
    with pytest.raises(ConfigError, match="--runs-dir") as raised:
        attach_run_log(blocker / "r1" / "run.log")
    assert str(blocker / "r1" / "run.log") in raised.value.message


def test_a_warehouse_held_for_writing_is_locked_not_internal(tmp_path: Path) -> None:
    from scripts.orchestrator.warehouse import Warehouse

    database = tmp_path / "w.duckdb"
    duckdb.connect(str(database)).close()
    writer = _reader_process(database, read_only=False)
    try:
        with pytest.raises(OrchestratorError, match="another process has it open") as raised:
            Warehouse(database).__enter__()
    finally:
        writer.kill()
        writer.wait()
    assert raised.value.exit_code == ExitCode.LOCKED


def test_in_place_refuses_a_file_another_process_has_open(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BI tool holding the file would make dbt fail after the raw validation (minutes at
    L): the run stops before it, naming the file; without the reader it goes on."""
    from scripts.orchestrator import in_place, pipeline

    files = _history_warehouse(tmp_path, "2026-10-31")
    reader = _reader_process(files.published)
    validated: list[str] = []
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: validated.append("raw"))
    try:
        with pytest.raises(OrchestratorError, match="another process has") as raised:
            pipeline.run_pipeline(_in_place_settings(raw_dir, files, tmp_path))
    finally:
        reader.kill()
        reader.wait()
    assert raised.value.exit_code == ExitCode.PUBLISH and validated == []
    assert (
        str(files.published) in raised.value.message
        and "without --in-place" in raised.value.message
    )
    in_place.check_not_open(files.published)  # the reader is gone
    assert not files.unfinished.exists()


def test_in_place_checks_again_for_a_reader_after_the_raw_validation(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that opens the file while the raw files are validated: exit 7 before dbt,
    and no unfinished mark (dbt failed on its first node, exit 5, and left one)."""
    from scripts.orchestrator import pipeline

    files = _history_warehouse(tmp_path, "2026-10-31")
    readers: list[subprocess.Popen] = []

    def open_a_reader(run: object, inputs: object) -> None:
        readers.append(_reader_process(files.published))

    monkeypatch.setattr(pipeline, "step_validate_raw", open_a_reader)
    try:
        with pytest.raises(OrchestratorError, match="another process has") as raised:
            pipeline.run_pipeline(_in_place_settings(raw_dir, files, tmp_path))
    finally:
        for reader in readers:
            reader.kill()
            reader.wait()
    assert raised.value.exit_code == ExitCode.PUBLISH and raised.value.step == "prepare_build"
    assert len(readers) == 1 and not files.unfinished.exists()


# --- settings, summary, cli ------------------------------------------------------


def test_settings_resolve_flags_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scripts.orchestrator.dbt_runner import dbt_environment

    monkeypatch.setenv("CUSTOMER_HEALTH_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("CUSTOMER_HEALTH_RAW_DIR", str(tmp_path / "envraw"))
    monkeypatch.delenv("CUSTOMER_HEALTH_RAW_FORMAT", raising=False)
    settings = build_settings(raw_dir=str(tmp_path / "flagraw"))
    assert settings.raw_dir == tmp_path / "flagraw"
    assert settings.warehouse.published == tmp_path / "env.duckdb"
    assert settings.warehouse.building.name == "env.building.duckdb"
    assert settings.warehouse.previous.name == "env.previous.duckdb"
    assert settings.target_type == "duckdb"
    # DuckDB's spill folder, where the raw validation splits big files too: beside the
    # warehouse unless set, and the same folder for dbt.
    monkeypatch.delenv("CUSTOMER_HEALTH_DUCKDB_TMP", raising=False)
    assert build_settings().duckdb_tmp == tmp_path / "tmp"
    monkeypatch.setenv("CUSTOMER_HEALTH_DUCKDB_TMP", str(tmp_path / "spill"))
    spilling = build_settings()
    assert spilling.duckdb_tmp == tmp_path / "spill"
    env = dbt_environment(spilling, tmp_path / "env.building.duckdb", "parquet")
    assert env["CUSTOMER_HEALTH_DUCKDB_TMP"] == str(tmp_path / "spill")
    with pytest.raises(ConfigError, match="not a date"):
        build_settings(as_of_date="31/10/2026")
    with pytest.raises(ConfigError, match="target 'nope' not found"):
        build_settings(target="nope")


def test_default_command_is_run() -> None:
    args = cli.parse_args(["--raw-dir", "x", "-s", "staging", "marts", "-v"])
    assert args.command == "run" and args.select == ["staging", "marts"] and args.verbosity == 1
    assert cli.parse_args(["report", "-q"]).verbosity == -1


def test_production_build_skips_unit_tests_unless_asked(tmp_path: Path) -> None:
    from scripts.orchestrator.dbt_runner import build_args

    excluded = ["--exclude-resource-type", "unit_test"]
    args = build_args(build_settings(), tmp_path)
    assert args[0] == "build" and " ".join(excluded) in " ".join(args)
    parsed = cli.parse_args(["run", "--unit-tests"])
    with_unit_tests = build_settings(unit_tests=parsed.unit_tests)
    assert " ".join(excluded) not in " ".join(build_args(with_unit_tests, tmp_path))
    assert " ".join(excluded) not in " ".join(build_args(build_settings(), tmp_path, "run"))


def test_build_vars_reach_dbt_with_the_as_of_date(tmp_path: Path) -> None:
    """`run --vars` passes dbt vars (account_buckets for large data) through to the build."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import build_args

    parsed = cli.parse_args(["--vars", "{account_buckets: 100, events_key_buckets: 8388608}"])
    settings = cli._settings(parsed, need_target=False)
    assert settings.dbt_vars == {"account_buckets": 100, "events_key_buckets": 8388608}
    args = build_args(settings, tmp_path)
    assert json.loads(args[args.index("--vars") + 1]) == settings.dbt_vars
    dated = build_settings(dbt_vars="{account_buckets: 100}", as_of_date="2026-10-15")
    args = build_args(dated, tmp_path)
    assert json.loads(args[args.index("--vars") + 1]) == {
        "account_buckets": 100,
        "as_of_date": "2026-10-15",
    }
    assert pipeline.settings_record(dated)["dbt_vars"] == {"account_buckets": 100}
    assert "--vars" not in build_args(build_settings(), tmp_path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[1, 2]", "is not a mapping"),
        ("{account_buckets: [}", "is not valid YAML"),
        ("{as_of_date: 2026-10-15}", "use --as-of-date"),
        ("{raw_path: /elsewhere}", "--vars sets raw_path: use --raw-dir"),
        ("{raw_format: csv}", "--vars sets raw_format: use --raw-format"),
    ],
)
def test_bad_build_vars_are_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        build_settings(dbt_vars=value, need_target=False)
    assert caught.value.exit_code == ExitCode.CONFIG


def test_summary_json_and_latest_pointer(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    summary = RunSummary(run_id="20260101T000000Z-abcd", command="run", run_dir=runs / "r1")
    summary.status = "success"
    summary.validation = {"raw": {"raw_rows": {"events": 100}}}
    summary.settings = {"warehouse": str(tmp_path / "a.duckdb")}
    path = write_summary(summary, runs)
    assert json.loads(path.read_text())["status"] == "success"
    pointer = json.loads((runs / "latest.json").read_text())
    assert pointer["summary"] == str(path) and pointer["run_id"] == summary.run_id
    assert previous_raw_rows(runs, tmp_path / "a.duckdb") == {"events": 100}
    # a later run into another warehouse, sharing the runs folder, is not a's baseline
    other = RunSummary(run_id="20260102T000000Z-abcd", command="run", run_dir=runs / "r2")
    other.status = "success"
    other.validation = {"raw": {"raw_rows": {"events": 7}}}
    other.settings = {"warehouse": str(tmp_path / "b.duckdb")}
    write_summary(other, runs)
    assert previous_raw_rows(runs, tmp_path / "a.duckdb") == {"events": 100}
    assert previous_raw_rows(runs, tmp_path / "b.duckdb") == {"events": 7}


def test_summary_tables_without_marts(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    duckdb.connect(str(database)).close()
    tables = collect_tables(database)
    assert tables["alerts"] == {
        "available": False,
        "columns": [],
        "rows": [],
        "note": "fct_health_alerts not built yet: no alerts",
        "count": 0,
    }
    assert not tables["accounts_by_band_segment"]["available"]
    text = render_tables(tables)
    assert "Alerts raised: 0" in text and "fct_health_scores not built" in text


def test_summary_tables_with_alerts(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        "create table fct_health_scores as select * from (values"
        " ('a1', date '2026-10-31', 'smb', 'red'), ('a2', date '2026-10-31', 'smb', 'green'),"
        " ('a1', date '2026-10-30', 'smb', 'green')) v(account_id, as_of_date, segment, band)"
    )
    con.execute(
        "create table fct_health_alerts as select * from (values"
        " ('a1', date '2026-10-31', 'band_worse')) v(account_id, as_of_date, alert_type)"
    )
    con.close()
    tables = collect_tables(database)
    assert tables["accounts_by_band_segment"]["rows"] == [["smb", "green", 1], ["smb", "red", 1]]
    assert tables["alerts"]["count"] == 1


def test_format_table_aligns_numbers() -> None:
    text = format_table(["name", "n"], [["a", 1], ["bb", 1000]])
    assert text.splitlines()[-2:] == ["a         1", "bb    1,000"]


# --- dbt reads the raw files that were validated ------------------------------------


def _rewrite_same_size(path: Path) -> None:
    """Write the file's own bytes back, one second later: same size, new write time."""
    before = path.stat()
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def test_raw_file_stamps_tell_rewritten_and_removed_files(raw_dir: Path, tmp_path: Path) -> None:
    raw = _copy_raw(raw_dir, tmp_path)
    inputs = locate(raw, None)
    assert set(inputs.stamps) == set(inputs.files) == set(RAW_TABLES)
    assert inputs.changes_since_found() == []

    _rewrite_same_size(raw / "tickets.parquet")
    (raw / "invoices.parquet").unlink()
    changes = inputs.changes_since_found()

    assert len(changes) == 2
    tickets = next(c for c in changes if c.startswith(str(raw / "tickets.parquet")))
    size = f"{(raw / 'tickets.parquet').stat().st_size:,} bytes"
    assert tickets.count(size) == 2 and ", now " in tickets  # same size, later write
    invoices = next(c for c in changes if c.startswith(str(raw / "invoices.parquet")))
    assert invoices.endswith(", removed")
    one_second = 1_765_000_000 * 10**9
    assert FileStamp(10, one_second + 1_000_000).describe() == (
        "10 bytes, written 2025-12-06 05:46:40.001 UTC"
    )
    assert FileStamp(10, one_second).describe() != FileStamp(10, one_second + 1_000_000).describe()


def test_a_file_replaced_keeping_size_and_write_time_is_a_change(
    raw_dir: Path, tmp_path: Path
) -> None:
    """A loader copying a new file into place with its old write time (cp -p, rsync -t):
    size and write time alike, yet another file."""
    raw = _copy_raw(raw_dir, tmp_path)
    inputs = locate(raw, None)
    path = raw / "tickets.parquet"
    before = path.stat()
    replacement = tmp_path / "tickets.new"
    replacement.write_bytes(path.read_bytes())
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, path)
    (change,) = inputs.changes_since_found()
    assert change.startswith(str(path)) and change.endswith(
        "(replaced by another file, or rewritten keeping the write time)"
    )


@pytest.mark.parametrize("during_build", ["nothing", "rewrite", "remove"])
def test_a_raw_file_changed_during_the_build_is_not_published(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, during_build: str
) -> None:
    """dbt reads the raw files after Great Expectations did: a file rewritten in between
    would publish rows nobody validated. The run stops with exit 4, naming the file."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome

    raw = _copy_raw(raw_dir, tmp_path)
    changed = raw / "events.parquet"
    reached: list[str] = []

    def fake_run_dbt(settings: object, *, database: Path, **_: object) -> DbtOutcome:
        duckdb.connect(str(database)).close()
        if during_build == "rewrite":
            _rewrite_same_size(changed)
        elif during_build == "remove":
            changed.unlink()
        return DbtOutcome(success=True)

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: None)
    for later in ("step_validate_marts", "step_summarize", "step_publish"):
        monkeypatch.setattr(pipeline, later, lambda *a, _name=later, **k: reached.append(_name))
    (tmp_path / "w").mkdir()
    settings = build_settings(
        raw_dir=str(raw),
        warehouse=str(tmp_path / "w" / "customer_health.duckdb"),
        runs_dir=str(tmp_path / "runs"),
        need_target=False,
    )

    if during_build == "nothing":
        summary = pipeline.run_pipeline(settings)
        assert summary.status == "success"
        assert reached == ["step_validate_marts", "step_summarize", "step_publish"]
        return
    with pytest.raises(OrchestratorError) as caught:
        pipeline.run_pipeline(settings)
    error = caught.value
    assert error.exit_code == ExitCode.RAW_VALIDATION and error.step == "dbt_build"
    assert f"\n  {changed}: was " in error.message
    assert error.message.count(str(raw)) == 1  # only the changed file is named
    assert ("removed" in error.message) is (during_build == "remove")
    assert "nothing was published" in error.message
    assert reached == []
    summary = json.loads((tmp_path / "runs" / "latest.json").read_text())
    recorded = json.loads(Path(summary["summary"]).read_text())
    assert recorded["exit_code"] == 4 and recorded["failed_step"] == "dbt_build"


# --- run on another engine (Spark): the plan, without Spark ----------------------


def _spark_profiles(directory: Path, method: str) -> Path:
    directory.mkdir()
    profile = {
        "customer_health": {
            "target": "duckdb",
            "outputs": {
                "duckdb": {"type": "duckdb", "path": "{{ env_var('CUSTOMER_HEALTH_DB') }}"},
                "spark": {"type": "spark", "method": method, "host": "h", "schema": "s"},
            },
        }
    }
    (directory / "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML
    return directory


@pytest.mark.parametrize("method", ["session", "thrift"])
def test_spark_run_builds_in_place(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Spark: raw files validated, registered (local session only), built; no DuckDB steps."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome

    dbt_calls: list[list[str]] = []

    def fake_run_dbt(settings: object, *, args: list[str] | None = None, **_: object) -> DbtOutcome:
        dbt_calls.append(args or ["build"])
        return DbtOutcome(success=True)

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: None)
    for untouched in ("step_prepare", "step_validate_marts", "step_summarize", "step_publish"):
        monkeypatch.setattr(pipeline, untouched, lambda *a, **k: pytest.fail("DuckDB-only step"))
    settings = build_settings(
        profiles_dir=str(_spark_profiles(tmp_path / "profiles", method)),
        target="spark",
        raw_dir=str(raw_dir),
        warehouse=str(tmp_path / "w" / "unused.duckdb"),
        runs_dir=str(tmp_path / "runs"),
    )
    (tmp_path / "w").mkdir()
    assert settings.target_type == "spark" and settings.target_method == method

    summary = pipeline.run_pipeline(settings)

    status = {step["name"]: step["status"] for step in summary.steps}
    registered = method == "session"
    assert status == {
        "locate_raw": "ok",
        "register_raw": "ok" if registered else "skipped",
        "dbt_build": "ok",
        "validate_marts": "skipped",
        "summarize": "skipped",
        "publish": "skipped",
    }
    if registered:
        operation = dbt_calls[0]
        assert operation[:2] == ["run-operation", "create_raw_tables"]
        assert json.loads(operation[3]) == {"raw_path": str(raw_dir), "raw_format": "parquet"}
        assert operation[operation.index("--target") + 1] == "spark"
    assert dbt_calls[-1] == ["build"] and len(dbt_calls) == 1 + registered
    assert summary.publish == {"published": False, "target": "spark"}
    printed = render_tables(summary.tables, summary.steps)
    assert f"not collected on spark ({method})" in printed
    assert not list((tmp_path / "w").glob("*.duckdb"))


@pytest.mark.parametrize("named", [True, False], ids=["named-folder", "default-folder"])
def test_spark_run_with_an_absent_raw_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    """A named raw folder that does not exist stops the run; an absent default reads schema raw.

    Without the check, a mistyped --raw-dir skipped validation and built, unvalidated, from
    whatever tables schema raw held from an earlier load.
    """
    import dataclasses

    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome

    dbt_calls: list[list[str]] = []

    def fake_run_dbt(settings: object, *, args: list[str] | None = None, **_: object) -> DbtOutcome:
        dbt_calls.append(args or ["build"])
        return DbtOutcome(success=True)

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    monkeypatch.delenv("CUSTOMER_HEALTH_RAW_DIR", raising=False)
    absent = tmp_path / "raw-typo"
    settings = build_settings(
        profiles_dir=str(_spark_profiles(tmp_path / "profiles", "session")),
        target="spark",
        raw_dir=str(absent) if named else None,
        warehouse=str(tmp_path / "unused.duckdb"),
        runs_dir=str(tmp_path / "runs"),
    )
    assert settings.raw_dir_given is named
    settings = dataclasses.replace(settings, raw_dir=absent)

    if named:
        with pytest.raises(ConfigError) as caught:
            pipeline.run_pipeline(settings)
        assert caught.value.exit_code == ExitCode.CONFIG
        assert caught.value.step == "locate_raw"
        assert str(absent) in caught.value.message and "does not exist" in caught.value.message
        assert dbt_calls == []
    else:
        summary = pipeline.run_pipeline(settings)
        status = {step["name"]: step["status"] for step in summary.steps}
        assert status["validate_raw"] == "skipped" and status["register_raw"] == "skipped"
        assert dbt_calls == [["build"]]


def test_spark_run_stops_when_a_raw_file_changed_during_the_build(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Spark the build is in place: the run says so, and exits 4 like the DuckDB run."""
    from scripts.orchestrator import pipeline
    from scripts.orchestrator.dbt_runner import DbtOutcome

    raw = _copy_raw(raw_dir, tmp_path)

    def fake_run_dbt(settings: object, *, args: list[str] | None = None, **_: object) -> DbtOutcome:
        if not args:  # the build, after the raw tables were registered
            _rewrite_same_size(raw / "users.parquet")
        return DbtOutcome(success=True)

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: None)
    settings = build_settings(
        profiles_dir=str(_spark_profiles(tmp_path / "profiles", "session")),
        target="spark",
        raw_dir=str(raw),
        warehouse=str(tmp_path / "unused.duckdb"),
        runs_dir=str(tmp_path / "runs"),
    )

    with pytest.raises(OrchestratorError) as caught:
        pipeline.run_pipeline(settings)
    assert caught.value.exit_code == ExitCode.RAW_VALIDATION
    assert "the spark target holds a build from those files" in caught.value.message
    assert str(raw / "users.parquet") in caught.value.message


def test_raw_dir_from_the_environment_counts_as_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMER_HEALTH_RAW_DIR", str(tmp_path / "raw"))
    settings = build_settings(need_target=False, runs_dir=str(tmp_path / "runs"))
    assert settings.raw_dir_given and settings.raw_dir == (tmp_path / "raw").resolve()


def test_sigterm_during_dbt_stops_the_run_as_interrupted(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A scheduler's SIGTERM while dbt runs: exit 130, summary 'interrupted', lock released.

    dbt's programmatic runner catches the KeyboardInterrupt the handler raises and returns
    it as a failed result, which the run used to report as a failed build (exit 5).
    """
    import signal
    import time
    from types import SimpleNamespace

    import dbt.cli.main

    from scripts.orchestrator import pipeline

    class SignalledRunner:
        """Stands in for dbtRunner: receives SIGTERM mid-build and returns as dbt's does."""

        def __init__(self, **_: object) -> None:
            pass

        def invoke(self, args: list[str]) -> SimpleNamespace:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises here, in the main thread
            except BaseException as exc:  # noqa: BLE001 - what dbtRunner.invoke does
                return SimpleNamespace(success=False, result=None, exception=exc)
            pytest.fail("SIGTERM was not delivered")

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", SignalledRunner)
    monkeypatch.setattr(pipeline, "step_validate_raw", lambda run, inputs: None)
    warehouse = tmp_path / "w" / "customer_health.duckdb"
    runs = tmp_path / "runs"
    previous_handler = signal.getsignal(signal.SIGTERM)
    try:
        code = cli.main(
            [
                "run",
                "--raw-dir",
                str(raw_dir),
                "--warehouse",
                str(warehouse),
                "--runs-dir",
                str(runs),
            ]
        )
    finally:
        signal.signal(signal.SIGTERM, previous_handler)

    assert code == ExitCode.INTERRUPTED == 130
    assert "Interrupted by signal 15 (exit code 130); nothing was published." in (
        capsys.readouterr().err
    )
    summary = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert summary["status"] == "interrupted" and summary["exit_code"] == 130
    assert summary["failed_step"] == "dbt_build"
    assert {step["name"]: step["status"] for step in summary["steps"]}["dbt_build"] == "interrupted"
    assert not warehouse.exists()
    with publish.RunLock(WarehouseFiles(warehouse).lock, run_id="next", command="run"):
        pass  # released
    # `report` names the interrupted run as one that left the warehouse unchanged.
    from scripts.orchestrator.report import render_report, run_history

    published_by, failed_since = run_history(runs, warehouse)
    assert published_by is None and failed_since["status"] == "interrupted"
    text = render_report(
        {
            "warehouse": str(warehouse),
            "tables": {},
            "published_by": None,
            "failed_since": failed_since,
        },
        "text",
    )
    assert f"A later run was interrupted: {summary['run_id']} at step dbt_build" in text


def test_run_operation_results_have_no_nodes() -> None:
    """`dbt run-operation` (register_raw) returns a macro's outcome, not node results."""
    from types import SimpleNamespace

    from scripts.orchestrator.dbt_runner import _node_results

    assert _node_results(SimpleNamespace(results=[SimpleNamespace(status="success")])) == []
    assert _node_results(None) == []
