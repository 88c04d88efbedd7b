"""Validate the built marts against the suites in gx/expectations/marts/.

Each mart suite names, in meta.customer_health, the relations it needs
(`tables`) and the query whose result it validates (`query`, with
`{relation}` placeholders). Aggregates such as the per-account sum of
metric weight shares are computed by DuckDB in that query; GX validates the
result. A suite whose mart does not exist fails with a clear message, or is
skipped when the run built only a selection.
"""

from __future__ import annotations

from pathlib import Path

from scripts.orchestrator.errors import ConfigError
from scripts.orchestrator.gx_engine import (
    FAIL,
    WARN,
    ExpectationOutcome,
    GxSession,
    SuiteOutcome,
    SuiteSpec,
    load_suites,
)
from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.warehouse import Warehouse

log = get_logger("marts")


def load_mart_suites(suites_dir: Path) -> list[SuiteSpec]:
    suites = load_suites(suites_dir / "marts")
    for spec in suites:
        options = spec.options
        if not options.get("tables") or not options.get("query"):
            raise ConfigError(f"{spec.path}: meta.customer_health needs 'tables' and 'query'")
    return suites


def _absent(spec: SuiteSpec, source: str, missing: list[str], *, partial: bool) -> SuiteOutcome:
    outcome = SuiteOutcome(suite=spec.name, source=source, rows=None)
    reason = (
        "not in the warehouse and not selected in this run"
        if partial
        else "not found in the warehouse (model missing, disabled or renamed?"
        " see models/marts/*.yml)"
    )
    outcome.outcomes.append(
        ExpectationOutcome(
            expectation="mart_exists",
            columns=[],
            kwargs={},
            severity=WARN if partial else FAIL,
            status="not_evaluated" if partial else "failed",
            message=f"{', '.join(missing)} {reason}",
        )
    )
    return outcome


def validate_marts(
    gx: GxSession,
    suites: list[SuiteSpec],
    database: Path,
    *,
    partial_build: bool,
) -> list[SuiteOutcome]:
    outcomes: list[SuiteOutcome] = []
    with Warehouse(database) as warehouse:
        for spec in suites:
            tables = list(spec.options["tables"])
            source = f"{database.name}: {', '.join(tables)}"
            missing = warehouse.missing(tables)
            if missing:
                outcomes.append(_absent(spec, source, missing, partial=partial_build))
                log.info("  %-28s %s missing", spec.name, ", ".join(missing))
                continue
            try:
                frame = warehouse.frame(spec.options["query"])
            except Exception as exc:  # noqa: BLE001 - a query that no longer fits the mart
                outcome = SuiteOutcome(suite=spec.name, source=source, rows=None)
                outcome.outcomes.append(
                    ExpectationOutcome(
                        expectation="suite_query_runs",
                        columns=[],
                        kwargs={"suite": str(spec.path)},
                        severity=FAIL,
                        status="error",
                        message=f"the suite's query failed ({str(exc).splitlines()[0]});"
                        " do the mart's columns still match models/marts/*.yml?",
                    )
                )
                outcomes.append(outcome)
                log.info("  %-28s query failed", spec.name)
                continue
            outcome = gx.validate(spec, frame, source=source)
            outcomes.append(outcome)
            log.info(
                "  %-28s %9s rows  %s%s",
                spec.name,
                f"{len(frame):,}",
                "ok" if outcome.success else f"{len(outcome.failures)} failed",
                f", {len(outcome.warnings)} warning(s)" if outcome.warnings else "",
            )
    return outcomes
