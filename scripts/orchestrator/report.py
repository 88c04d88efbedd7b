"""The `report` command: the summary tables of the published warehouse.

Besides the tables read from the warehouse, it names the run that published
the file (its step timings) and, when a later run failed, that failure.
`--format html` writes the calibration and backtest report instead: the
analyses of analyses/ run read-only against the published warehouse, drawn
with plotly (report_analyses, report_html), and the accounts to act on.
"""

from __future__ import annotations

import json
from pathlib import Path

from scripts.orchestrator.settings import Settings
from scripts.orchestrator.summary import ALERTS, SCORES, _plain, collect_tables, render_tables
from scripts.orchestrator.warehouse import Warehouse

_RUN_KEYS = (
    "run_id",
    "command",
    "status",
    "failed_step",
    "error",
    "finished_at",
    "steps",
    "in_place",
    "restored_by",
)


def _summaries(runs_dir: Path, warehouse: Path) -> list[dict]:
    """The run and rollback summaries of `warehouse`, in the order they finished."""
    found = []
    for path in runs_dir.glob("*/summary.json"):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if summary.get("command") not in ("run", "rollback") or not summary.get("finished_at"):
            continue
        if summary.get("settings", {}).get("warehouse") != str(warehouse):
            continue
        found.append(summary)
    return sorted(found, key=lambda s: (s["finished_at"], s.get("run_id") or ""))


def _record(summary: dict, **extra: object) -> dict:
    record = {k: summary.get(k) for k in _RUN_KEYS}
    record["in_place"] = bool(summary.get("settings", {}).get("in_place"))
    record.update(extra)
    return record


def run_history(runs_dir: Path, warehouse: Path) -> tuple[dict | None, dict | None]:
    """(the run that built the file now published at `warehouse`, a run that failed after
    the file last changed, or None for either).

    Replays what changed the file, in the order the runs finished: a copying run publishes
    a new file and the one it replaces becomes the previous; a run in place changes the
    published file and leaves the previous; a rollback swaps the two. A failed run counts
    only when it finished after that last change: one refused the lock while another run
    was building started first and failed first.
    """
    if not runs_dir.is_dir():
        return None, None
    published: dict | None = None
    previous: dict | None = None
    failed_after: dict | None = None  # cleared by every later change
    for summary in _summaries(runs_dir, warehouse):
        if summary.get("status") != "success":
            if summary.get("command") == "run" and summary.get("status") in (
                "failed",
                "interrupted",
            ):
                failed_after = _record(summary)
            continue
        if summary["command"] == "rollback":
            published, previous = previous, published
            if published is not None:
                published = {**published, "restored_by": summary.get("run_id")}
        elif summary.get("publish", {}).get("published"):
            if not summary.get("publish", {}).get("in_place"):
                previous = published
            published = _record(summary)
        else:
            continue
        failed_after = None
    return published, failed_after


# Steps that stop a run before dbt has written anything, in place or not.
_BEFORE_DBT = ("lock", "locate_raw", "validate_raw", "prepare_build", None)


def build_report(settings: Settings) -> dict:
    published_by, failed_after = run_history(settings.runs_dir, settings.warehouse.published)
    return {
        "warehouse": str(settings.warehouse.published),
        "tables": collect_tables(settings.warehouse.published),
        "published_by": published_by,
        "failed_since": failed_after,
    }


def render_report(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, default=str)
    lines = [f"Warehouse: {report['warehouse']}"]
    published_by = report.get("published_by")
    if published_by:
        line = f"Published by run {published_by['run_id']} ({published_by['finished_at']})"
        if published_by.get("restored_by"):
            line += f", put back by rollback {published_by['restored_by']}"
        lines.append(line)
    failed = report.get("failed_since")
    if failed:
        consequence = (
            "it built in place, so the marts may hold what it wrote before it stopped"
            " (README 'Building in place')"
            if failed.get("in_place") and failed.get("failed_step") not in _BEFORE_DBT
            else "the warehouse above is unchanged"
        )
        lines.append(
            f"A later run {'was ' if failed['status'] == 'interrupted' else ''}"
            f"{failed['status']}: {failed['run_id']} at step {failed['failed_step']}"
            f" ({failed['finished_at']}); {consequence}"
        )
    steps = published_by.get("steps") if published_by else None
    return "\n".join(lines) + "\n\n" + render_tables(report["tables"], steps)


# --- The HTML report (calibration, backtest, accounts to act on) -------------

HISTORY = "fct_health_score_history"
DECLINE_DAYS = 30
DECLINE_POINTS = 10
LIST_LIMIT = 100


def _attention_table(warehouse: Warehouse, sql: str) -> dict:
    cursor = warehouse._con.execute(warehouse.render(sql))  # noqa: SLF001 - same package
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in cursor.fetchall()]
    table = {"available": True, "columns": columns, "rows": rows}
    if not rows:
        table["note"] = "None."
    return table


def attention_lists(database: Path) -> dict[str, dict]:
    """Red accounts, declining accounts and new alerts; a missing mart gives a note."""
    lists: dict[str, dict] = {}
    with Warehouse(database) as warehouse:
        readers = {
            "red": (SCORES, _red_sql),
            "declining": (HISTORY, _declining_sql),
            "alerts": (ALERTS, _alerts_sql),
        }
        for key, (mart, make_sql) in readers.items():
            if warehouse.relation(mart) is None:
                lists[key] = {"available": False, "note": f"{mart} is not built yet."}
                continue
            try:
                lists[key] = _attention_table(warehouse, make_sql(warehouse))
            except Exception as exc:  # noqa: BLE001 - a list must not sink the report
                lists[key] = {
                    "available": False,
                    "note": f"{mart} could not be read: {str(exc).splitlines()[0]}",
                }
    return lists


def _red_sql(warehouse: Warehouse) -> str:
    names = "dim_accounts.account_name, dim_accounts.csm_owner, "
    join = " left join {dim_accounts} as dim_accounts using (account_id)"
    if warehouse.relation("dim_accounts") is None:
        names, join = "", ""
    return (
        f"select scores.account_id, {names}scores.segment, scores.lifecycle_stage,"
        " round(scores.health_score, 1) as health_score, scores.band, scores.grade,"
        " scores.weakest_metric_label as weakest_metric"
        " from {fct_health_scores} as scores" + join + " where scores.band = 'red'"
        " and scores.as_of_date = (select max(as_of_date) from {fct_health_scores})"
        f" order by scores.health_score, scores.account_id limit {LIST_LIMIT}"
    )


def _declining_sql(warehouse: Warehouse) -> str:
    """Accounts whose score fell by DECLINE_POINTS or more since their latest score
    at least DECLINE_DAYS before the last score date."""
    return (
        "with history as (select * from {fct_health_score_history}),"
        " latest as (select max(score_date) as score_date from history),"
        " now_scores as (select history.* from history inner join latest using (score_date)),"
        " before_dates as (select history.account_id, max(history.score_date) as score_date"
        " from history cross join latest"
        f" where history.score_date <= latest.score_date - {DECLINE_DAYS} group by 1),"
        " before_scores as (select history.account_id, history.health_score from history"
        " inner join before_dates using (account_id, score_date))"
        " select now_scores.account_id, now_scores.segment,"
        " round(before_scores.health_score, 1) as score_before,"
        " round(now_scores.health_score, 1) as score_now,"
        " round(now_scores.health_score - before_scores.health_score, 1) as change,"
        " now_scores.band"
        " from now_scores inner join before_scores using (account_id)"
        f" where now_scores.health_score <= before_scores.health_score - {DECLINE_POINTS}"
        f" order by change, now_scores.account_id limit {LIST_LIMIT}"
    )


def _alerts_sql(warehouse: Warehouse) -> str:
    columns = warehouse.columns(ALERTS)
    date = next((c for c in ("alert_date", "score_date", "as_of_date") if c in columns), None)
    where = f" where {date} = (select max({date}) from {{fct_health_alerts}})" if date else ""
    return f"select * from {{fct_health_alerts}}{where} order by all limit {LIST_LIMIT}"


def build_html_report(
    settings: Settings, compiled_dir: Path | None = None, dbt_vars: str | None = None
) -> str:
    """Compile (or read) the analyses, run them read-only, render the HTML report."""
    from scripts.orchestrator.report_analyses import (
        compile_analyses,
        read_compiled,
        run_analyses,
    )
    from scripts.orchestrator.report_html import render_html

    database = settings.warehouse.published
    if compiled_dir:
        compiled = read_compiled(compiled_dir)
    else:
        compiled = compile_analyses(settings, dbt_vars=dbt_vars)
    results = run_analyses(database, compiled)
    published_by, _ = run_history(settings.runs_dir, database)
    return render_html(
        results, attention_lists(database), warehouse=str(database), published_by=published_by
    )
