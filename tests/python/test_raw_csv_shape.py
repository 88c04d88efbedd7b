"""A raw CSV record with more or fewer fields than its header stops the read, naming the line.

DuckDB's CSV sniffer, left to guess, reads such a file as something else without a word:
a record wider than the header among the first 20,480 lines becomes the header and every
line above it is skipped (the fixture's accounts then read as 0 rows), and a narrower one
turns the file into one column of whole lines. The sources and the orchestrator pin the
dialect (scripts/orchestrator/raw_files.py, CSV_DIALECT), so the read fails instead, and
the orchestrator's raw validation names the line. Spark's side (FAILFAST) is checked in
test_spark_project.py. A byte that is not UTF-8 stops DuckDB too (Spark reads it as U+FFFD),
so Spark's loader, scripts/spark/load_raw.py, reads each CSV file with DuckDB first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from scripts.orchestrator.raw_files import csv_read_error, misshapen_csv_rows, reader_sql
from scripts.spark import load_raw
from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"
SOURCE_FILES = sorted((PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"))
# Enough lines that a bad record past them is outside the sniffer's sample.
PAST_THE_SAMPLE = 25_000


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _two_columns(rows: int) -> list[str]:
    return ["id,name", *(f"{i},n{i}" for i in range(1, rows + 1))]


# --- naming the line --------------------------------------------------------------------


def test_misshapen_records_are_named_by_line(tmp_path: Path) -> None:
    lines = _two_columns(60)
    lines[20] = "20,a,extra"  # line 21
    lines[40] = "40"  # line 41
    message = misshapen_csv_rows(_write(tmp_path / "t.csv", lines))
    assert message is not None
    assert message.startswith("the header has 2 fields, but line 21 has 3, line 41 has 1 (every")


def test_quoted_values_are_one_field_and_lines_are_the_editor_lines(tmp_path: Path) -> None:
    lines = [
        "id,note",
        '1,"a, b and ""c"""',  # one field: the comma and the quotes are quoted
        '2,"spans',
        'two lines"',
        "",  # a blank line is no record (neither engine reads one)
        "3,x,extra",  # line 6
    ]
    message = misshapen_csv_rows(_write(tmp_path / "t.csv", lines))
    assert message is not None and "but line 6 has 3 (the only such record)" in message


def test_a_well_formed_file_has_no_misshapen_rows() -> None:
    for path in sorted(FIXTURE_DIR.glob("*.csv")):
        assert misshapen_csv_rows(path) is None, path


def test_the_scan_stops_at_the_limit(tmp_path: Path) -> None:
    lines = _two_columns(20)
    for i in range(2, 20, 2):
        lines[i] = f"{i},a,b"
    message = misshapen_csv_rows(_write(tmp_path / "t.csv", lines), limit=3)
    assert message is not None
    assert "line 3 has 3, line 5 has 3, line 7 has 3 (the first 3 such records)" in message


# --- the reader refuses -------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    wider_last = _two_columns(20) + ["21,a,extra"]
    wider = _two_columns(100)
    wider[50] = "50,a,extra"
    narrower = _two_columns(100)
    narrower[50] = "50"
    late = _two_columns(PAST_THE_SAMPLE)
    late[PAST_THE_SAMPLE - 10] = "x,a,extra"
    return {
        name: _write(tmp_path / f"{name}.csv", lines)
        for name, lines in {
            "wider_last": wider_last,
            "wider": wider,
            "narrower": narrower,
            "late": late,
        }.items()
    }


@pytest.mark.parametrize("case", ["wider_last", "wider", "narrower", "late"])
def test_the_raw_reader_refuses_a_misshapen_file(tmp_path: Path, case: str) -> None:
    path = _bad_files(tmp_path)[case]
    with pytest.raises(duckdb.Error):
        duckdb.sql(f"select count(*) from {reader_sql(path, 'csv')}").fetchall()
    assert misshapen_csv_rows(path) is not None


def test_the_raw_reader_reads_the_fixture_as_python_does() -> None:
    import csv

    for path in sorted(FIXTURE_DIR.glob("*.csv")):
        with path.open(newline="") as handle:
            expected = [
                tuple(value or None for value in row)  # an empty field is null
                for row in list(csv.reader(handle))[1:]
                if row
            ]
        relation = duckdb.sql(f"select * from {reader_sql(path, 'csv')}")
        assert sorted(relation.fetchall(), key=repr) == sorted(expected, key=repr), path


def test_a_line_starting_with_a_hash_is_a_record(tmp_path: Path) -> None:
    """DuckDB's sniffer took `#` for a comment mark here and skipped the line, silently."""
    lines = ["event_id,account_id,user_id,event_name,occurred_at"]
    lines += [f"{i},acc_1,usr_{i},login,2026-10-0{i} 10:00:00" for i in range(1, 6)]
    lines.append("#2,acc_1,usr_2,dashboard_viewed,2026-10-03 19:50:00")
    path = _write(tmp_path / "events.csv", lines)
    ids = duckdb.sql(f"select event_id from {reader_sql(path, 'csv')}").fetchall()
    assert sorted(row[0] for row in ids) == ["#2", "1", "2", "3", "4", "5"]


def test_a_byte_that_is_not_utf8_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,name\n1,Acme\n2,Caf\xe9\n3,b\n")  # Latin-1, as a spreadsheet saves
    with pytest.raises(duckdb.Error) as raised:
        duckdb.sql(f"select count(*) from {reader_sql(path, 'csv')}").fetchall()
    message = csv_read_error(path, raised.value)
    assert message.startswith("line 3 is not UTF-8 (byte 0xe9 at byte 6 of the line)"), message


def test_an_error_of_another_kind_keeps_duckdbs_first_paragraph(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", _two_columns(3))
    error = duckdb.Error("Invalid Input Error: something\nOriginal Line: " + "x" * 500 + "\n\nHint")
    assert csv_read_error(path, error) == "Invalid Input Error: something; Original Line: " + (
        "x" * 185
    )


# --- Spark's loader reads the CSV files with DuckDB first ---------------------------------


@pytest.mark.parametrize(
    ("bad_record", "reason"),
    [
        (b"zz1,Bad Co,pro,5,2025-01-01,,,carol,extra\n", "the header has 8 fields, but line"),
        (b"zz1,Caf\xe9,pro,5,2025-01-01,,,carol\n", "is not UTF-8 (byte 0xe9"),
    ],
    ids=["wider", "latin1"],
)
def test_spark_loader_refuses_a_csv_file_duckdb_refuses(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad_record: bytes,
    reason: str,
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE_DIR, raw)
    with (raw / "accounts.csv").open("ab") as handle:
        handle.write(bad_record)

    def never(*args: object) -> None:
        raise AssertionError("dbt must not run on a refused file")

    monkeypatch.setattr(load_raw, "create_raw_tables", never)
    assert load_raw.main(["--raw-dir", str(raw), "--format", "csv"]) == 1
    error = capsys.readouterr().err
    assert f"{raw / 'accounts.csv'}: " in error and reason in error, error


def test_spark_loader_reads_the_fixture(tmp_path: Path) -> None:
    load_raw.check_csv_files(sorted(FIXTURE_DIR.glob("*.csv")))  # raises on a refused file


# --- dbt's sources read the same way ----------------------------------------------------------


def _external_location(source_file: Path, raw_path: str = "/raw", raw_format: str = "csv") -> str:
    """The source's reader, rendered as dbt renders it (vars and env_var)."""
    (source,) = yaml.safe_load(source_file.read_text())["sources"]
    template = source["config"]["meta"]["external_location"]
    settings = {"raw_format": raw_format, "raw_path": raw_path}
    return jinja2.Template(template).render(
        var=lambda name, default=None: settings.get(name, default),
        env_var=lambda name, default=None: default,
    )


@pytest.mark.parametrize("source_file", SOURCE_FILES, ids=lambda path: path.parent.name)
def test_sources_read_csv_as_the_orchestrator_does(source_file: Path) -> None:
    location = _external_location(source_file)
    assert location.format(name="events") == reader_sql(Path("/raw/events.csv"), "csv")
    # a quote in the folder's name is doubled, as the orchestrator does: it broke every source
    for fmt in ("csv", "parquet"):
        location = _external_location(source_file, "/data/o'brien", fmt)
        expected = reader_sql(Path(f"/data/o'brien/events.{fmt}"), fmt)
        assert location.format(name="events") == expected
        assert "'/data/o''brien/events." in expected


def test_dbt_refuses_a_source_file_with_a_wider_record(tmp_path: Path) -> None:
    """Before the dialect was pinned this query gave 0 accounts, and no error."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE_DIR, raw)
    with (raw / "accounts.csv").open("a") as handle:
        handle.write("zz1,Bad Co,pro,5,2025-01-01,,,carol,extra\n")
    result = dbt_env.run_dbt(
        ["show", "--inline", "select count(*) as n from {{ source('crm', 'accounts') }}"],
        PROJECT_DIR,
        tmp_path / "work",
        raw,
        raw_format="csv",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "accounts.csv" in output, output[-3000:]
