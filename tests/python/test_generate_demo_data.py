"""Tests for scripts/generate_demo_data.py, on small data sets written to temporary folders."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_demo_data.py"
SMALL = ["--accounts", "40", "--days", "60", "--seed", "7"]
HISTORY = ["--accounts", "150", "--days", "240", "--seed", "3", "--dirty-fraction", "0"]
END = "2026-10-31 23:59:59"
TS = "'%Y-%m-%d %H:%M:%S'"
PLANS = {"starter", "growth", "business", "enterprise"}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_demo_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _generate(out: Path, *args: str) -> Path:
    assert gen.main(["--out", str(out), *args]) == 0
    return out


def _manifest(directory: Path) -> dict:
    return json.loads((directory / "_manifest.json").read_text())


def _connect(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per raw table, read as text like dbt's sources."""
    fmt = _manifest(directory)["arguments"]["format"]
    con = duckdb.connect()
    for table in gen.TABLE_COLUMNS:
        path = directory / f"{table}.{fmt}"
        reader = (
            f"read_parquet('{path}')"
            if fmt == "parquet"
            else f"read_csv('{path}', header = true, all_varchar = true)"
        )
        con.execute(f"create view {table} as select * from {reader}")
    return con


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("dirty"), *SMALL)


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("clean"), *SMALL, "--dirty-fraction", "0")


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough accounts and days to see churners decline."""
    return _generate(tmp_path_factory.mktemp("history"), *HISTORY)


# --- files and format ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_writes_the_six_tables_with_the_contract_columns(tmp_path: Path, fmt: str) -> None:
    out = _generate(tmp_path, *SMALL, "--format", fmt)
    expected = {f"{table}.{fmt}" for table in gen.TABLE_COLUMNS} | {"_manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    for table, columns in gen.TABLE_COLUMNS.items():
        path = out / f"{table}.{fmt}"
        if fmt == "parquet":
            schema = pq.read_schema(path)
            assert tuple(schema.names) == columns
            assert all(field.type == pa.string() for field in schema)
        else:
            with path.open(newline="") as handle:
                assert tuple(next(csv.reader(handle))) == columns


def test_contract_column_names() -> None:
    assert gen.TABLE_COLUMNS == {
        "accounts": (
            "account_id",
            "account_name",
            "plan",
            "seats",
            "created_at",
            "renewal_date",
            "churned_at",
            "csm_owner",
        ),
        "users": ("user_id", "account_id", "email", "created_at", "deactivated_at"),
        "events": ("event_id", "account_id", "user_id", "event_name", "occurred_at"),
        "invoices": (
            "invoice_id",
            "account_id",
            "issued_at",
            "due_at",
            "paid_at",
            "amount",
            "currency",
            "status",
        ),
        "tickets": (
            "ticket_id",
            "account_id",
            "user_id",
            "opened_at",
            "resolved_at",
            "priority",
            "csat",
        ),
        "csm_ratings": ("account_id", "rated_at", "rating", "is_override", "reason", "expires_at"),
    }


def test_csv_holds_the_same_rows_as_parquet(tmp_path: Path, dirty_dir: Path) -> None:
    csv_dir = _generate(tmp_path, *SMALL, "--format", "csv")
    parquet, text = _connect(dirty_dir), _connect(csv_dir)
    for table in gen.TABLE_COLUMNS:
        expected = parquet.execute(f"select * from {table}").fetchall()
        assert text.execute(f"select * from {table}").fetchall() == expected, table


def test_csv_nulls_are_empty_fields_never_empty_strings(tmp_path: Path) -> None:
    out = _generate(tmp_path, *SMALL, "--format", "csv")
    con = _connect(out)
    for table, columns in gen.TABLE_COLUMNS.items():
        for column in columns:
            assert _scalar(con, f"select count(*) from {table} where {column} = ''") == 0
    header, first = (out / "accounts.csv").read_text().splitlines()[:2]
    assert header.startswith('"account_id","account_name"')
    assert ",," in first or first.endswith(",")  # e.g. churned_at is null


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_arguments_give_identical_bytes(tmp_path: Path, fmt: str) -> None:
    first = _hashes(_generate(tmp_path / "first", *SMALL, "--format", fmt))
    again = _hashes(_generate(tmp_path / "again", *SMALL, "--format", fmt))
    assert again == first
    other_seed = ["--accounts", "40", "--days", "60", "--seed", "8", "--format", fmt]
    other = _hashes(_generate(tmp_path / "other", *other_seed))
    changed = {name for name, digest in other.items() if digest != first[name]}
    assert {f"{table}.{fmt}" for table in gen.TABLE_COLUMNS} <= changed


# --- manifest and dirty rows --------------------------------------------------------------------


VALID_ENUMS = {
    "accounts": PLANS,
    "events": set(gen.FEATURES),
    "invoices": {"draft", "open", "paid", "void", "uncollectible"},
    "tickets": {"low", "normal", "high", "urgent"},
}
KNOWN_ACCOUNTS = "(select account_id from accounts where account_id is not null)"


def _detected(con: duckdb.DuckDBPyConnection, table: str, kind: str) -> int:
    """Rows of a dirty kind, found in the files the way a staging layer could find them."""
    key = ", ".join(gen.TABLE_KEYS[table])
    first_key = gen.TABLE_KEYS[table][0]
    ts = gen.MAIN_TIMESTAMP[table]

    def rows(sql: str) -> int:
        return int(_scalar(con, f"select count(*) from ({sql})"))

    if kind == "exact_duplicate":
        return rows(f"from {table}") - rows(f"select distinct * from {table}")
    if kind == "conflicting_duplicate":  # distinct rows per key, beyond the first
        with_key = f"from {table} where {first_key} is not null"
        return rows(f"select distinct * {with_key}") - rows(f"select distinct {key} {with_key}")
    amount = "try_cast(amount as decimal(18, 2))"
    where = {
        "null_key": f"{first_key} is null",
        "orphan_account": f"account_id not in {KNOWN_ACCOUNTS}",
        "unparseable_timestamp": f"{ts} is not null and try_strptime({ts}, {TS}) is null",
        "future_timestamp": f"try_strptime({ts}, {TS}) > timestamp '{END}'",
        "negative_seats": "try_cast(seats as int) < 0",
        "negative_amount": f"{amount} < 0",
        "non_numeric_amount": f"{amount} is null",
        "csat_out_of_range": "try_cast(csat as int) not between 1 and 5",
        "rating_out_of_range": "try_cast(rating as int) not between 0 and 100",
        "resolved_before_opened": (
            f"try_strptime(resolved_at, {TS}) < try_strptime(opened_at, {TS})"
        ),
        "unknown_user": "user_id not in (select user_id from users where user_id is not null)",
        "user_account_mismatch": (
            f"account_id in {KNOWN_ACCOUNTS} and user_id in (select user_id from users)"
            " and not exists (select 1 from users as u"
            f" where u.user_id = {table}.user_id and u.account_id = {table}.account_id)"
        ),
    }
    if kind == "unknown_enum":
        column, _ = gen.UNKNOWN_ENUM[table]
        listed = ", ".join(f"'{value}'" for value in sorted(VALID_ENUMS[table]))
        return rows(f"from {table} where {column} not in ({listed})")
    return rows(f"from {table} where {where[kind]}")


def test_manifest_counts_match_the_files(dirty_dir: Path) -> None:
    manifest = _manifest(dirty_dir)
    assert manifest["arguments"] == {
        "accounts": 40,
        "days": 60,
        "format": "parquet",
        "seed": 7,
        "end_date": "2026-10-31",
        "dirty_fraction": 0.01,
    }
    con = _connect(dirty_dir)
    for table, kinds in gen.DIRTY_KINDS.items():
        entry = manifest["tables"][table]
        assert entry["file"] == f"{table}.parquet"
        assert _scalar(con, f"select count(*) from {table}") == entry["rows"]
        assert entry["rows"] == entry["clean_rows"] + sum(entry["dirty"].values())
        assert set(entry["dirty"]) == set(kinds)
        for kind in kinds:
            assert entry["dirty"][kind] >= 1, (table, kind)
            assert _detected(con, table, kind) == entry["dirty"][kind], (table, kind)


def test_dirty_rows_are_extra_rows_and_clean_rows_do_not_depend_on_them(
    dirty_dir: Path, clean_dir: Path
) -> None:
    dirty, clean = _manifest(dirty_dir), _manifest(clean_dir)
    con = duckdb.connect()
    for table in gen.TABLE_COLUMNS:
        assert clean["tables"][table]["rows"] == dirty["tables"][table]["clean_rows"]
        assert set(clean["tables"][table]["dirty"].values()) == {0}
        missing = _scalar(
            con,
            f"select count(*) from (select * from "
            f"read_parquet('{clean_dir}/{table}.parquet') except all "
            f"select * from read_parquet('{dirty_dir}/{table}.parquet'))",
        )
        assert missing == 0, table


def test_dirty_counts_per_kind() -> None:
    kinds = ("a", "b", "c")
    assert gen.dirty_counts(kinds, 10_000, 0.0) == {"a": 0, "b": 0, "c": 0}
    assert gen.dirty_counts(kinds, 0, 0.01) == {"a": 0, "b": 0, "c": 0}
    assert gen.dirty_counts(kinds, 40, 0.01) == {"a": 1, "b": 1, "c": 1}
    assert gen.dirty_counts(kinds, 1_000, 0.001) == {"a": 3, "b": 3, "c": 3}
    assert gen.dirty_counts(kinds, 30_000, 0.01) == {"a": 100, "b": 100, "c": 100}


# --- the clean data honours the contract --------------------------------------------------------


def _assert_none(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    rows = con.execute(sql).fetchmany(3)
    assert rows == [], f"{sql}\n-> {rows}"


def test_clean_keys_are_unique_and_foreign_keys_resolve(clean_dir: Path) -> None:
    con = _connect(clean_dir)
    for table, key in gen.TABLE_KEYS.items():
        columns = ", ".join(key)
        _assert_none(con, f"select {columns} from {table} group by all having count(*) > 1")
        _assert_none(
            con, f"select * from {table} where " + " or ".join(f"{c} is null" for c in key)
        )
    for table in ("users", "events", "invoices", "tickets", "csm_ratings"):
        _assert_none(
            con,
            f"select account_id from {table}"
            " where account_id not in (select account_id from accounts)",
        )
    _assert_none(
        con,
        "select e.event_id from events e left join users u using (user_id)"
        " where u.user_id is null or u.account_id <> e.account_id",
    )
    _assert_none(
        con,
        "select t.ticket_id from tickets t join users u using (user_id)"
        " where u.account_id <> t.account_id",
    )
    _assert_none(
        con,
        "select r.account_id from csm_ratings r join accounts a using (account_id)"
        " where a.csm_owner is null",
    )


def test_clean_values_are_well_formed(clean_dir: Path) -> None:
    con = _connect(clean_dir)
    timestamp, day = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", r"^\d{4}-\d{2}-\d{2}$"
    for table, columns in gen.TABLE_COLUMNS.items():
        for column in columns:
            if column.endswith(("_at", "_date")):
                pattern, fmt = (timestamp, TS) if column.endswith("_at") else (day, "'%Y-%m-%d'")
                _assert_none(
                    con,
                    f"select {column} from {table} where {column} is not null"
                    f" and (not regexp_matches({column}, '{pattern}')"
                    f" or try_strptime({column}, {fmt}) is null)",
                )
    plans = ", ".join(f"'{p}'" for p in sorted(PLANS))
    _assert_none(
        con,
        f"select plan from accounts where plan not in ({plans})"
        " or try_cast(seats as int) is null or seats::int < 1",
    )
    features = ", ".join(f"'{f}'" for f in gen.FEATURES)
    _assert_none(con, f"select event_name from events where event_name not in ({features})")
    _assert_none(
        con,
        "select * from invoices where status not in"
        " ('draft', 'open', 'paid', 'void', 'uncollectible')"
        " or currency not in ('USD', 'EUR')"
        r" or not regexp_matches(amount, '^\d+\.\d{2}$') or amount::decimal <= 0"
        " or (status = 'paid') <> (paid_at is not null)"
        " or due_at::timestamp <> issued_at::timestamp + interval 30 day",
    )
    _assert_none(
        con,
        "select * from tickets where priority not in"
        " ('low', 'normal', 'high', 'urgent')"
        " or csat::int not between 1 and 5"
        " or (csat is not null and resolved_at is null)"
        " or resolved_at < opened_at",
    )
    _assert_none(
        con,
        "select * from csm_ratings where rating::int not between 0 and 100"
        " or is_override not in ('true', 'false')"
        " or (is_override = 'true') <> (reason is not null)"
        " or (is_override = 'true') <> (expires_at is not null)",
    )


def test_nothing_happens_outside_an_account_or_user_lifetime(clean_dir: Path) -> None:
    con = _connect(clean_dir)
    _assert_none(
        con,
        "select * from users u join accounts a using (account_id)"
        " where u.created_at <= a.created_at"
        " or u.deactivated_at <= u.created_at",
    )
    _assert_none(
        con,
        "select e.* from events e join users u using (user_id)"
        " join accounts a on a.account_id = e.account_id"
        " where e.occurred_at <= u.created_at"
        " or e.occurred_at >= coalesce(u.deactivated_at, '9999')"
        " or e.occurred_at >= coalesce(a.churned_at, '9999')"
        f" or e.occurred_at > '{END}' or e.occurred_at < '2026-09-01'",
    )
    for table, column in (
        ("invoices", "issued_at"),
        ("tickets", "opened_at"),
        ("csm_ratings", "rated_at"),
    ):
        _assert_none(
            con,
            f"select t.* from {table} t join accounts a using (account_id)"
            f" where t.{column} <= a.created_at"
            f" or t.{column} >= coalesce(a.churned_at, '9999')"
            f" or t.{column} > '{END}'",
        )
    _assert_none(con, f"select * from invoices where paid_at > '{END}'")
    _assert_none(con, f"select * from tickets where resolved_at > '{END}'")


# --- the content means something ----------------------------------------------------------------


def test_churners_decline_before_churn(history_dir: Path) -> None:
    con = _connect(history_dir)
    after_end = _manifest(history_dir)["ground_truth"]["churning_after_end_date"]
    listed = ", ".join(f"'{a}'" for a in after_end) or "''"
    # per account: events and CSM ratings in the 60 days before churn (or the end of the data)
    # against the 60 days before that
    per_account = con.execute(f"""
        with accounts_ended as (
            select
                account_id,
                churned_at is not null or account_id in ({listed}) as churner,
                coalesce(churned_at::timestamp, timestamp '{END}') as ended_at
            from accounts
            where created_at::timestamp < timestamp '{END}' - interval 180 day
              and coalesce(churned_at::timestamp, timestamp '{END}')
                  >= timestamp '2026-03-06' + interval 120 day
        )
        select
            churner,
            count(distinct a.account_id) as accounts,
            count(*) filter (where e.occurred_at::timestamp >= a.ended_at - interval 60 day)
                as last_60,
            count(*) filter (where e.occurred_at::timestamp < a.ended_at - interval 60 day
                             and e.occurred_at::timestamp >= a.ended_at - interval 120 day)
                as previous_60
        from accounts_ended as a
        join events as e on e.account_id = a.account_id
        group by churner
    """).fetchall()
    ratio = {churner: last / previous for churner, accounts, last, previous in per_account}
    counts = {churner: accounts for churner, accounts, _, _ in per_account}
    assert counts[True] >= 5 and counts[False] >= 50
    assert ratio[True] < 0.6 * ratio[False], ratio
    ratings = dict(
        con.execute(f"""
        select churned_at is not null or account_id in ({listed}), avg(rating::int)
        from csm_ratings join accounts using (account_id)
        where rated_at::timestamp >= coalesce(churned_at::timestamp, timestamp '{END}')
                                     - interval 60 day
        group by 1
    """).fetchall()
    )
    assert ratings[True] < ratings[False] - 15, ratings


def test_default_demo_has_the_intended_shape(tmp_path: Path) -> None:
    out = _generate(tmp_path, "--dirty-fraction", "0")  # the default 300 accounts x 365 days
    con = _connect(out)
    manifest = _manifest(out)
    events = manifest["tables"]["events"]["rows"]
    assert 200_000 <= events <= 450_000
    assert {r[0] for r in con.execute("select distinct plan from accounts").fetchall()} == PLANS
    truth = manifest["ground_truth"]["archetypes"]
    churn_share = (truth["churned"] + truth["churning_after_end"]) / 300
    assert 0.12 <= churn_share <= 0.25
    onboarding = _scalar(con, "select avg((created_at > '2026-08-02')::int) from accounts")
    assert 0.08 <= onboarding <= 0.18
    overrides = con.execute(f"""
        select count(*), count(*) filter (where expires_at < '{END}')
        from csm_ratings where is_override = 'true'
    """).fetchone()
    assert overrides is not None and overrides[0] >= 5 and 1 <= overrides[1] <= 2
    integrations = _scalar(
        con,
        "select max(n) from (select count(*) as n from events"
        " where event_name = 'integration_connected' group by account_id)",
    )
    assert integrations <= 10


# --- command line -------------------------------------------------------------------------------


def test_prints_one_line_per_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _generate(tmp_path, *SMALL)
    lines = capsys.readouterr().out.splitlines()
    for table in gen.TABLE_COLUMNS:
        (line,) = [line for line in lines if line.startswith(f"{table} ")]
        assert str(tmp_path / f"{table}.parquet") in line and "rows" in line


@pytest.mark.parametrize(
    "args",
    [
        ["--accounts", "0"],
        ["--days", "x"],
        ["--format", "xlsx"],
        ["--end-date", "2026-13-01"],
        ["--dirty-fraction", "2"],
    ],
)
def test_bad_arguments_exit_with_code_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gen.main(args)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unwritable_output_is_a_readable_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert gen.main(["--out", str(blocker / "raw"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(blocker / "raw") in err and "Traceback" not in err
