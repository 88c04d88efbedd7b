"""Staging on a small hand-made raw set (tests/fixtures/raw_small): every raw row is accounted
for, each reject reason catches the row it was written for, no email survives staging, and the
reconciliation test fails when a model drops rows silently.

The expected numbers below were counted by hand from the CSV files; each fixture row is meant to
exercise one reject reason or one kind of duplicate.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"
# The plan_segments seed is the list of known plans that accounts are checked against.
SELECTION = ["plan_segments", "staging", "intermediate.data_quality"]

# Per raw table: (raw rows, staged rows, quarantined rows, removed exact duplicates).
EXPECTED_ROWS = {
    "crm.accounts": (26, 4, 21, 1),
    "crm.csm_ratings": (20, 5, 14, 1),
    "product.users": (20, 6, 12, 2),  # u1 twice, its email spelt two ways: one user
    "product.events": (25, 7, 14, 4),
    "billing.invoices": (28, 4, 23, 1),
    "support.tickets": (24, 5, 18, 1),
}

# Per raw table and reject reason: (quarantined rows, raw rows behind them).
EXPECTED_REASONS = {
    "crm.accounts": {
        "missing_key": (1, 1),
        "missing_account_name": (2, 2),  # empty, and a tab alone (blank, not a name)
        "missing_plan": (1, 1),
        "missing_seats": (1, 1),
        "missing_created_at": (1, 1),
        # 'many', '4.5', '4.0000001' (6 decimals rounded it to 4) and '1_000' (DuckDB's 1000)
        "unparseable_seats": (4, 4),
        "unparseable_created_at": (2, 2),  # '01/04/2025', and a year BC (DuckDB reads it)
        "unparseable_renewal_date": (2, 2),  # 'next year', and 'epoch' (DuckDB reads 1970-01-01)
        "unparseable_churned_at": (1, 1),
        "future_created_at": (1, 1),
        "future_churned_at": (1, 1),
        "negative_seats": (1, 1),
        "unknown_plan": (1, 1),  # platinum has no row in seeds/plan_segments.csv
        "churned_before_created": (1, 1),
        "conflicting_duplicate": (1, 1),  # a2 without renewal_date loses
    },
    "crm.csm_ratings": {
        "missing_key": (2, 2),  # null account_id, null rated_at
        "missing_rating": (1, 1),
        "missing_is_override": (1, 1),
        "unparseable_rated_at": (1, 1),
        "unparseable_rating": (1, 1),
        "unparseable_is_override": (1, 1),
        "unparseable_expires_at": (2, 2),  # 'never', and '2025-09' (Spark reads 2025-09-01)
        "future_rated_at": (1, 1),
        "rating_out_of_range": (2, 2),  # 101 and -1
        "orphan_account": (1, 1),
        "conflicting_duplicate": (1, 1),  # a2 at one instant spelt two ways
    },
    "product.users": {
        "missing_key": (1, 1),
        "missing_account_id": (1, 1),
        "missing_email": (1, 1),
        "missing_created_at": (1, 1),
        "unparseable_created_at": (1, 1),
        "unparseable_deactivated_at": (1, 1),
        "future_created_at": (1, 1),
        "future_deactivated_at": (1, 1),
        "deactivated_before_created": (1, 1),
        "orphan_account": (2, 2),  # unknown account zz, quarantined account a5
        "conflicting_duplicate": (1, 1),
    },
    "product.events": {
        "missing_key": (1, 2),  # a blank event_id, with an identical copy
        "missing_account_id": (1, 1),
        "missing_user_id": (1, 1),
        "missing_event_name": (1, 1),
        "missing_occurred_at": (1, 1),
        "unparseable_occurred_at": (1, 2),  # a bad row with an identical copy
        "future_occurred_at": (1, 1),
        "orphan_account": (1, 1),
        # unknown u99, quarantined u9, and a later version of e16 by u99: references are
        # checked before conflicts, so the usable e16 is kept and no conflict arises
        "unknown_user": (3, 3),
        "user_of_other_account": (1, 1),
        "conflicting_duplicate": (2, 2),  # and e1<TAB>: e1 once trimmed, so not a new event
    },
    "billing.invoices": {
        "missing_key": (1, 1),
        "missing_account_id": (1, 1),
        "missing_issued_at": (1, 1),
        "missing_due_at": (1, 1),
        "missing_amount": (1, 1),
        "missing_currency": (1, 1),
        "missing_status": (1, 1),
        "unparseable_issued_at": (1, 1),
        "unparseable_due_at": (2, 2),  # 'end of month', and year 12025 (DuckDB reads it)
        "unparseable_paid_at": (1, 1),
        "non_numeric_amount": (2, 2),  # and '1_000' (DuckDB reads 1000, Spark nothing)
        "future_issued_at": (1, 1),
        "future_paid_at": (1, 1),
        "negative_amount": (1, 1),
        "invalid_currency": (1, 1),
        "unknown_status": (1, 1),
        "paid_before_issued": (1, 1),
        "due_before_issued": (1, 1),
        "paid_without_paid_at": (1, 1),
        "orphan_account": (1, 1),
        "conflicting_duplicate": (1, 1),  # the open version of i2 loses to the paid one
    },
    "support.tickets": {
        "missing_key": (1, 1),
        "missing_account_id": (1, 1),
        "missing_opened_at": (1, 1),
        "missing_priority": (1, 1),
        "unparseable_opened_at": (2, 2),  # 'March 1st', and '/' separators (DuckDB reads them)
        "unparseable_resolved_at": (2, 2),  # 'later', and 'infinity' (DuckDB reads 9999-12-31)
        "unparseable_csat": (2, 2),  # 'great', and '4.9999999' (6 decimals rounded it to 5)
        "future_opened_at": (1, 1),
        "future_resolved_at": (1, 1),
        "unknown_priority": (1, 1),
        "csat_out_of_range": (2, 2),  # 6 and 0
        "resolved_before_opened": (1, 1),
        "orphan_account": (1, 1),
        "conflicting_duplicate": (1, 1),  # the unresolved version of t3 loses
    },
}


def run_dbt(args: list[str], project_dir: Path, work_dir: Path) -> subprocess.CompletedProcess:
    """Runs dbt on the fixture with its own warehouse, target and log paths under work_dir."""
    return dbt_env.run_dbt(args, project_dir, work_dir, FIXTURE_DIR, raw_format="csv")


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staging and data-quality models built and tested on the fixture."""
    work_dir = tmp_path_factory.mktemp("staging_build")
    result = run_dbt(["build", "--select", *SELECTION], PROJECT_DIR, work_dir)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return work_dir / "warehouse.duckdb"


def test_every_raw_row_is_staged_quarantined_or_a_removed_copy(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select source_table, raw_rows, staged_rows, quarantined_rows, removed_duplicate_rows"
        " from main.int_staging_rows_reconciled",
    )
    assert {table: tuple(counts) for table, *counts in rows} == EXPECTED_ROWS


def test_each_reject_reason_catches_its_rows(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select source_table, reject_reason, quarantined_rows, quarantined_raw_rows"
        " from main.int_quarantine_reasons_counted",
    )
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for table, reason, quarantined, raw in rows:
        found.setdefault(table, {})[reason] = (quarantined, raw)
    assert found == EXPECTED_REASONS


def test_conflicting_duplicates_keep_the_documented_version(warehouse: Path) -> None:
    kept = {
        "select account_name from main.stg_crm__accounts where account_id = 'a2'": "Globex Corp",
        "select status from main.stg_billing__invoices where invoice_id = 'i2'": "paid",
        "select cast(resolved_at as varchar) from main.stg_support__tickets"
        " where ticket_id = 't3'": "2025-03-05 10:00:00",
        "select cast(occurred_at as varchar) from main.stg_product__events"
        " where event_id = 'e5'": "2025-03-05 09:30:00",
        "select cast(occurred_at as varchar) from main.stg_product__events"
        " where event_id = 'e16'": "2025-08-01 00:00:00",
        "select cast(deactivated_at as varchar) from main.stg_product__users"
        " where user_id = 'u5'": "2025-07-01 00:00:00",
        "select rating from main.stg_crm__csm_ratings where account_id = 'a2'": 75,
    }
    for sql, expected in kept.items():
        assert query(warehouse, sql) == [(expected,)], sql


def test_events_keep_raw_text_on_rejected_rows_only(warehouse: Path) -> None:
    """The events base model writes the raw text only where the quarantine shows it."""
    columns = ["event_id", "account_id", "user_id", "event_name", "occurred_at"]
    filled = " or ".join(f"{column}_raw is not null" for column in columns)
    assert query(
        warehouse,
        "select count(*) from main.base_product__events_parsed"
        f" where reject_reason is null and ({filled})",
    ) == [(0,)]
    # e5's losing version keeps its text, from the fixture's line 7, and so does e1<TAB>,
    # which loses to e1 on the raw text once both read as e1
    assert sorted(
        query(
            warehouse,
            "select event_id, account_id, user_id, event_name, occurred_at"
            " from main.stg_product__events_quarantined"
            " where reject_reason = 'conflicting_duplicate'",
        )
    ) == [
        ("e1\t", "a1", "u1", "Login", "2025-03-01 10:00:00"),
        ("e5", "a2", "u5", "login", "2025-03-05 09:00:00"),
    ]


def test_values_are_trimmed_and_normalised(warehouse: Path) -> None:
    assert query(
        warehouse, "select plan, csm_owner from main.stg_crm__accounts where account_id = 'a3'"
    ) == [("enterprise", None)]
    assert query(
        warehouse, "select currency from main.stg_billing__invoices where invoice_id = 'i4'"
    ) == [("GBP",)]
    assert query(
        warehouse, "select event_name from main.stg_product__events where event_id = 'e2'"
    ) == [("report_viewed",)]
    assert query(
        warehouse, "select is_override from main.stg_crm__csm_ratings where account_id = 'a3'"
    ) == [(False,)]
    # a UTC offset is applied, not dropped (22:30 at -05:00 is 03:30 UTC the next day)
    assert query(
        warehouse,
        "select cast(occurred_at as varchar), occurred_on"
        " from main.stg_product__events where event_id = 'e17'",
    ) == [("2025-03-07 03:30:00", date(2025, 3, 7))]
    # and so is a zone name, whose '/' is no date separator (12:00 in New York in March is
    # 17:00 UTC)
    assert query(
        warehouse,
        "select cast(opened_at as varchar) from main.stg_support__tickets where ticket_id = 't20'",
    ) == [("2025-03-01 17:00:00",)]


def test_no_email_reaches_any_model(warehouse: Path) -> None:
    with (FIXTURE_DIR / "users.csv").open(newline="") as users:
        emails = {row["email"].strip().lower() for row in csv.DictReader(users) if row["email"]}
    assert emails, "the fixture should hold emails to look for"
    text_columns = query(
        warehouse,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'main' and data_type = 'VARCHAR'",
    )
    assert not [c for _, c in text_columns if "email" in c and c != "email_hash"]
    assert query(
        warehouse, "select email_hash from main.stg_product__users where user_id = 'u1'"
    ) == [(hashlib.sha256(b"ann@acme.com").hexdigest(),)]
    for table, column in text_columns:
        values = query(warehouse, f'select distinct lower("{column}") from main."{table}"')
        leaked = {value for (value,) in values if value and ("@" in value or value in emails)}
        assert not leaked, f"{table}.{column} holds email text: {sorted(leaked)}"


def test_reconciliation_fails_when_rows_are_dropped_silently(tmp_path: Path) -> None:
    """A copy of the project whose events quarantine loses its unknown_user rows and whose
    tickets stg model loses its usable rows without csat 5: exactly those two
    reconciliation tests fail, each with the four numbers."""
    project = dbt_env.copy_staging_project(
        PROJECT_DIR, tmp_path / "project", "models/intermediate/data_quality"
    )

    events_quarantine = project / "models/staging/product/stg_product__events_quarantined.sql"
    sql = events_quarantine.read_text()
    assert "where reject_reason is not null" in sql
    events_quarantine.write_text(
        sql.replace(
            "where reject_reason is not null",
            "where reject_reason is not null and reject_reason <> 'unknown_user'",
        )
    )
    tickets = project / "models/staging/support/stg_support__tickets.sql"
    sql = tickets.read_text()
    assert "where reject_reason is null" in sql
    tickets.write_text(
        sql.replace("where reject_reason is null", "where reject_reason is null and csat = 5")
    )

    seeded = run_dbt(["seed", "--select", "plan_segments"], project, tmp_path)
    assert seeded.returncode == 0, seeded.stdout[-5000:]
    built = run_dbt(["run", "--select", "staging"], project, tmp_path)
    assert built.returncode == 0, built.stdout[-5000:]
    tested = run_dbt(
        ["test", "--select", "test_name:reconciles_with_source", "--store-failures"],
        project,
        tmp_path,
    )
    assert tested.returncode != 0, tested.stdout[-5000:]

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    assert len(statuses) == 6, statuses
    failed = sorted(test for test, status in statuses.items() if status == "fail")
    assert len(failed) == 2, statuses
    assert "stg_product__events_" in failed[0] and "stg_support__tickets_" in failed[1], failed
    # Each failure is one row with the four numbers: 3 unknown_user events missing from
    # quarantine; 4 usable tickets missing from staging (only t1 has csat 5).
    audit_tables = query(
        tmp_path / "warehouse.duckdb",
        "select table_schema, table_name from information_schema.tables"
        " where table_schema like '%dbt_test__audit'",
    )
    failing_rows = set()
    for schema, table in audit_tables:
        failing_rows.update(
            query(
                tmp_path / "warehouse.duckdb",
                "select raw_rows, staged_rows, quarantined_rows, removed_duplicate_rows"
                f' from "{schema}"."{table}"',
            )
        )
    assert failing_rows == {(25, 7, 11, 4), (24, 1, 18, 1)}
