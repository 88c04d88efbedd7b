"""The run summary: tables for people, summary.json for schedulers.

Tables (from the built warehouse): accounts per band and segment on the
latest score date, alerts raised (0 until fct_health_alerts exists), rows
quarantined per raw source, and step timings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.warehouse import Warehouse

log = get_logger("summary")

SCORES = "fct_health_scores"
ALERTS = "fct_health_alerts"
RECONCILED = "int_staging_rows_reconciled"
REASONS = "int_quarantine_reasons_counted"


def _table(columns: list[str], rows: list[tuple]) -> dict:
    return {
        "available": True,
        "columns": columns,
        "rows": [list(_plain(v) for v in r) for r in rows],
    }


def _unavailable(note: str) -> dict:
    return {"available": False, "columns": [], "rows": [], "note": note}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _latest_filter(warehouse: Warehouse, relation: str, columns: list[str]) -> tuple[str, Any]:
    for candidate in ("as_of_date", "score_date", "alert_date"):
        if candidate in columns:
            latest = warehouse.rows(f"select max({candidate}) from {relation}")[0][0]
            return f" where {candidate} = (select max({candidate}) from {relation})", latest
    return "", None


def band_segment_table(warehouse: Warehouse) -> dict:
    relation = warehouse.relation(SCORES)
    if relation is None:
        return _unavailable(f"{SCORES} not built")
    columns = warehouse.columns(SCORES)
    if "band" not in columns:
        return _unavailable(f"{SCORES} has no band column")
    where, latest = _latest_filter(warehouse, relation, columns)
    keys = [c for c in ("segment", "band") if c in columns]
    select = ", ".join(f"coalesce(cast({k} as varchar), '(none)') as {k}" for k in keys)
    rows = warehouse.rows(
        f"select {select}, count(*) as accounts from {relation}{where} group by all order by all"
    )
    table = _table([*keys, "accounts"], rows)
    table["as_of_date"] = _plain(latest)
    return table


def alerts_table(warehouse: Warehouse) -> dict:
    relation = warehouse.relation(ALERTS)
    if relation is None:
        table = _unavailable(f"{ALERTS} not built yet: no alerts")
        table["count"] = 0
        return table
    columns = warehouse.columns(ALERTS)
    scores = warehouse.relation(SCORES)
    if scores is not None and "alert_date" in columns:
        # Alerts raised by this run: those of the scored date, not the latest date that
        # happened to raise one.
        latest = warehouse.rows(f"select max(as_of_date) from {scores}")[0][0]
        where = f" where alert_date = (select max(as_of_date) from {scores})"
    else:
        where, latest = _latest_filter(warehouse, relation, columns)
    keys = [c for c in ("alert_type", "severity") if c in columns]
    if keys:
        rows = warehouse.rows(
            f"select {', '.join(keys)}, count(*) as alerts from {relation}{where}"
            " group by all order by all"
        )
        table = _table([*keys, "alerts"], rows)
    else:
        rows = warehouse.rows(f"select count(*) as alerts from {relation}{where}")
        table = _table(["alerts"], rows)
    table["count"] = sum(int(r[-1]) for r in rows)
    table["as_of_date"] = _plain(latest)
    return table


def quarantine_table(warehouse: Warehouse) -> dict:
    relation = warehouse.relation(RECONCILED)
    if relation is None:
        return _unavailable(f"{RECONCILED} not built")
    wanted = [
        "source_table",
        "raw_rows",
        "staged_rows",
        "quarantined_rows",
        "removed_duplicate_rows",
    ]
    columns = [c for c in wanted if c in warehouse.columns(RECONCILED)]
    table = _table(
        columns, warehouse.rows(f"select {', '.join(columns)} from {relation} order by 1")
    )
    reasons = warehouse.relation(REASONS)
    count = next((c for c in ("quarantined_rows", "rows") if c in warehouse.columns(REASONS)), None)
    if reasons is not None and count is not None:
        table["reasons"] = {
            "columns": ["source_table", "reject_reason", count],
            "rows": [
                [_plain(v) for v in row]
                for row in warehouse.rows(
                    f"select source_table, reject_reason, {count} from {reasons}"
                    " order by 1, 3 desc, 2"
                )
            ],
        }
    return table


def collect_tables(database: Path) -> dict:
    """Every summary table; one that cannot be read says why instead of failing."""
    tables: dict[str, dict] = {}
    readers = {
        "accounts_by_band_segment": band_segment_table,
        "alerts": alerts_table,
        "quarantine": quarantine_table,
    }
    with Warehouse(database) as warehouse:
        for name, reader in readers.items():
            try:
                tables[name] = reader(warehouse)
            except Exception as exc:  # noqa: BLE001 - a summary table must not sink the run
                log.warning("summary table %s unavailable: %s", name, exc)
                tables[name] = _unavailable(f"could not be read: {str(exc).splitlines()[0]}")
                if name == "alerts":
                    tables[name]["count"] = 0
    return tables


def format_table(columns: list[str], rows: list[list]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [
        bool(rows) and all(r[i] is None or isinstance(r[i], (int, float)) for r in rows)
        for i in range(len(columns))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def render_tables(
    tables: dict, steps: list[dict] | None = None, gx_import_seconds: float | None = None
) -> str:
    """The human-readable summary printed at the end of a run and by `report`."""
    blocks: list[str] = []
    scores = tables.get("accounts_by_band_segment", {})
    title = "Accounts per segment and band"
    if scores.get("as_of_date"):
        title += f" (as of {scores['as_of_date']})"
    blocks.append(_block(title, scores))
    alerts = tables.get("alerts", {})
    blocks.append(_block(f"Alerts raised: {alerts.get('count', 0)}", alerts, hide_empty=True))
    blocks.append(_block("Rows quarantined per source", tables.get("quarantine", {})))
    if steps:
        rows = [
            [s["name"], s["status"], float(s["seconds"]), s.get("rows"), s.get("detail", "")]
            for s in steps
        ]
        rows.append(["total", "", float(sum(s["seconds"] for s in steps)), None, ""])
        text = "Timings\n" + format_table(["step", "status", "seconds", "rows", "detail"], rows)
        if gx_import_seconds is not None:
            text += (
                f"\n(Great Expectations start-up: import {gx_import_seconds:.1f} s, included above)"
            )
        blocks.append(text)
    return "\n\n".join(blocks)


def _block(title: str, table: dict, *, hide_empty: bool = False) -> str:
    if not table.get("available"):
        return f"{title}\n  ({table.get('note', 'not available')})"
    if hide_empty and not table.get("rows"):
        return title
    return f"{title}\n{format_table(table['columns'], table['rows'])}"


@dataclass
class RunSummary:
    """What a command did; written as runs/<run_id>/summary.json."""

    run_id: str
    command: str
    run_dir: Path
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"
    exit_code: int | None = None
    failed_step: str | None = None
    error: str | None = None
    settings: dict = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    gx: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    dbt: dict = field(default_factory=dict)
    publish: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        finished = datetime.now(UTC)
        return {
            "run_id": self.run_id,
            "command": self.command,
            "status": self.status,
            "exit_code": self.exit_code,
            "failed_step": self.failed_step,
            "error": self.error,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "duration_seconds": round((finished - self.started_at).total_seconds(), 3),
            "settings": self.settings,
            "steps": self.steps,
            "gx": self.gx,
            "validation": self.validation,
            "dbt": self.dbt,
            "publish": self.publish,
            "tables": self.tables,
            "artifacts": self.artifacts,
        }


def atomic_write(path: Path, text: str) -> None:
    """Write `path` whole or not at all: a reader never sees it half written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_summary(summary: RunSummary, runs_dir: Path) -> Path:
    """Write summary.json and point runs/latest.json at it (atomically)."""
    summary.run_dir.mkdir(parents=True, exist_ok=True)
    path = summary.run_dir / "summary.json"
    document = summary.to_dict()
    atomic_write(path, json.dumps(document, indent=2, default=str))
    pointer = {
        "run_id": summary.run_id,
        "command": summary.command,
        "status": summary.status,
        "exit_code": summary.exit_code,
        "failed_step": summary.failed_step,
        "finished_at": document["finished_at"],
        "run_dir": str(summary.run_dir),
        "summary": str(path),
    }
    atomic_write(runs_dir / "latest.json", json.dumps(pointer, indent=2))
    return path


def previous_raw_rows(runs_dir: Path, warehouse: Path) -> dict[str, int]:
    """Raw row counts of the latest successful `run` into `warehouse`, for the row-count
    check: a run folder shared by two warehouses must not compare one's raw files with
    the other's."""
    if not runs_dir.is_dir():
        return {}
    for summary in sorted(runs_dir.glob("*/summary.json"), reverse=True):
        try:
            document = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if document.get("settings", {}).get("warehouse") != str(warehouse):
            continue
        if document.get("command") == "run" and document.get("status") == "success":
            rows = document.get("validation", {}).get("raw", {}).get("raw_rows", {})
            return {str(k): int(v) for k, v in rows.items() if v is not None}
    return {}
