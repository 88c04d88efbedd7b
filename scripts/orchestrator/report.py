"""The `report` command: the summary tables of the published warehouse.

Besides the tables read from the warehouse, it names the run that published
the file (its step timings) and, when a later run failed, that failure.
"""

from __future__ import annotations

import json
from pathlib import Path

from scripts.orchestrator.settings import Settings
from scripts.orchestrator.summary import collect_tables, render_tables

_RUN_KEYS = ("run_id", "command", "status", "failed_step", "error", "finished_at", "steps")


def run_history(runs_dir: Path, warehouse: Path) -> tuple[dict | None, dict | None]:
    """(the successful run that published `warehouse`, a later failed run or None)."""
    failed_after: dict | None = None
    if not runs_dir.is_dir():
        return None, None
    for path in sorted(runs_dir.glob("*/summary.json"), reverse=True):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if summary.get("command") != "run":
            continue
        if summary.get("settings", {}).get("warehouse") != str(warehouse):
            continue
        if summary.get("status") == "success" and summary.get("publish", {}).get("published"):
            return {k: summary.get(k) for k in _RUN_KEYS}, failed_after
        if failed_after is None and summary.get("status") == "failed":
            failed_after = {k: summary.get(k) for k in _RUN_KEYS}
    return None, failed_after


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
        lines.append(f"Published by run {published_by['run_id']} ({published_by['finished_at']})")
    failed = report.get("failed_since")
    if failed:
        lines.append(
            f"A later run failed: {failed['run_id']} at step {failed['failed_step']}"
            f" ({failed['finished_at']}); the warehouse above is unchanged"
        )
    steps = published_by.get("steps") if published_by else None
    return "\n".join(lines) + "\n\n" + render_tables(report["tables"], steps)
