"""Build in the published DuckDB file itself (`run --in-place`): no copy, no swap.

A copying run needs room for a second warehouse beside the published one (51 GB
at L) and the time to copy it. A build in place needs neither, and gives up three
things: BI tools cannot open the file while dbt writes it, a failed build leaves
the models it reached updated and the others not, and `rollback` goes back to what
the last copying run replaced.

The history marts are scored incrementally, from the last score_date of
fct_health_score_history, minus history_lookback_days. A build in place that
stopped after that mart took its new dates, but before the other history marts
did, would leave them without the dates beyond the lookback days for good. So a
build in place first writes `<warehouse>.unfinished`, naming the last score date
every history mart held, and deletes it once dbt succeeded. While it exists,
every run scores the history again from that date (var history_complete_through),
or all of it (var history_rebuild) if there was none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from scripts.orchestrator.errors import ConfigError, ExitCode, OrchestratorError
from scripts.orchestrator.settings import WarehouseFiles
from scripts.orchestrator.summary import atomic_write

HISTORY_ANCHOR = "fct_health_score_history"


@dataclass(frozen=True)
class UnfinishedBuild:
    """A build in place that started and has not succeeded yet."""

    run_id: str
    started_at: str
    # The last score date all history marts held before it; None: there was no history.
    complete_through: date | None

    def describe(self) -> str:
        held = (
            f"the history marts held every date through {self.complete_through}"
            if self.complete_through
            else "there was no score history yet"
        )
        return f"run {self.run_id}, started {self.started_at}; before it {held}"


def read_unfinished(files: WarehouseFiles) -> UnfinishedBuild | None:
    path = files.unfinished
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        through = content["history_complete_through"]
        return UnfinishedBuild(
            run_id=str(content["run_id"]),
            started_at=str(content["started_at"]),
            complete_through=date.fromisoformat(through) if through else None,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path} cannot be read ({exc}). A build in place writes it when it starts and"
            " deletes it when dbt succeeds. If the last build in place did not finish, write"
            ' it as {"run_id": "?", "started_at": "?", "history_complete_through": null}'
            " to score the whole history again; if it did, delete the file.",
            step="prepare_build",
        ) from exc


def recorded_through(database: Path) -> date | None:
    """The last score_date of the recorded history, None without one."""
    from scripts.orchestrator.warehouse import Warehouse

    if not database.exists():
        return None
    with Warehouse(database) as warehouse:
        relation = warehouse.relation(HISTORY_ANCHOR)
        if relation is None:
            return None
        value = warehouse.rows(f"select max(score_date) from {relation}")[0][0]
    return value if isinstance(value, date) else None


def unfinished_warning(files: WarehouseFiles) -> str | None:
    """What a reader of the published marts should know while a mark is there."""
    unfinished = read_unfinished(files)
    if unfinished is None:
        return None
    return (
        f"{files.published.name} was left by a build in place that did not finish"
        f" ({unfinished.describe()}): some marts may be from that build, and the history"
        f" marts may not all hold the same dates until the next run ({files.unfinished})"
    )


def mark_unfinished(
    files: WarehouseFiles, run_id: str, *, earlier: UnfinishedBuild | None
) -> UnfinishedBuild:
    """Note, before dbt writes anything, what a stopped build must score again.
    `earlier`, the mark already there (read_unfinished), stays: it names what was
    complete before the first unfinished build."""
    if earlier is not None:
        return earlier
    unfinished = UnfinishedBuild(
        run_id=run_id,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        complete_through=recorded_through(files.published),
    )
    content = {
        "run_id": unfinished.run_id,
        "started_at": unfinished.started_at,
        "history_complete_through": (
            unfinished.complete_through.isoformat() if unfinished.complete_through else None
        ),
    }
    atomic_write(files.unfinished, json.dumps(content) + "\n")  # whole, even if the run dies
    return unfinished


def mark_finished(files: WarehouseFiles) -> None:
    files.unfinished.unlink(missing_ok=True)


def recovery_vars(unfinished: UnfinishedBuild, dbt_vars: dict) -> dict:
    """dbt_vars plus what scores again the dates an unfinished build may have left
    in some history marts only; the earlier date wins over one passed with --vars."""
    merged = dict(dbt_vars)
    if unfinished.complete_through is None:
        merged["history_rebuild"] = True
        return merged
    given = merged.get("history_complete_through")
    through = unfinished.complete_through
    if given:
        try:
            through = min(through, date.fromisoformat(str(given)))
        except ValueError as exc:
            raise ConfigError(
                f"--vars history_complete_through '{given}' is not a date (YYYY-MM-DD)"
            ) from exc
    merged["history_complete_through"] = through.isoformat()
    return merged


def check_not_open(database: Path) -> None:
    """Refuse to start while another process (a BI tool) has the file open: dbt could
    not write it, and only after the raw validation (minutes at L) would that show."""
    import duckdb

    if not database.exists():
        return
    try:
        duckdb.connect(str(database)).close()
    except duckdb.IOException as exc:
        raise OrchestratorError(
            f"--in-place: another process has {database} open, so dbt cannot build in it"
            f" ({exc}). Close the BI tools' connections to it, or run without --in-place"
            " to build in a copy while they read.",
            step="prepare_build",
            exit_code=ExitCode.PUBLISH,
        ) from exc
