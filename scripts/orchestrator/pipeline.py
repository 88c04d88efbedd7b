"""The `run` and `validate` commands, step by step.

run: locate raw files → validate them (GX) → copy the published warehouse to
a building file → dbt build into it → validate the marts (GX) → collect the
summary tables → publish atomically. Any failing step stops the run before
publishing; the summary and the validation results are written either way.
With --in-place, dbt builds in the published file itself: no copy and nothing
to swap, at the costs in_place.py names.

On another engine (a Spark target) dbt builds in place, in the target's
schema: there is no file to copy, publish or roll back, and the mart suites
(DuckDB queries) and summary tables are skipped, each with its reason; the
marts' dbt data tests, run by dbt build on that engine, still gate the run.
On local Spark (the session method), the raw files are validated and then
registered as the `raw` tables (`create_raw_tables`) before the build; on a
cluster the `raw` schema is loaded beforehand (README "Running on Apache Spark").
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from scripts.orchestrator import in_place
from scripts.orchestrator import publish as publishing
from scripts.orchestrator.dbt_runner import DbtOutcome, register_raw_args, run_dbt
from scripts.orchestrator.errors import ConfigError, ExitCode, OrchestratorError
from scripts.orchestrator.gx_engine import GxSession, SuiteOutcome
from scripts.orchestrator.logs import TRACE_LOGGER_NAME, attach_run_log, detach, get_logger
from scripts.orchestrator.mart_validation import load_mart_suites, validate_marts
from scripts.orchestrator.raw_files import RawInputs, locate
from scripts.orchestrator.raw_validation import freshness_reference, load_raw_suites, validate_raw
from scripts.orchestrator.settings import ENV_RAW_DIR, RAW_TABLES, Settings
from scripts.orchestrator.steps import StepRecord, StepTimer
from scripts.orchestrator.summary import (
    RunSummary,
    collect_tables,
    previous_raw_rows,
    write_summary,
)
from scripts.orchestrator.validation_report import counts, failure_lines, save_html, save_json
from scripts.orchestrator.warehouse import probe_released

log = get_logger()
# Tracebacks go to the run log only: this logger is outside the console's tree.
trace = logging.getLogger(TRACE_LOGGER_NAME)


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a short random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


@dataclass
class Run:
    """State shared by the steps of one command."""

    settings: Settings
    command: str
    run_id: str = field(default_factory=new_run_id)
    timer: StepTimer = field(default_factory=StepTimer)
    gx: GxSession = field(default_factory=GxSession)
    summary: RunSummary = field(init=False)

    def __post_init__(self) -> None:
        self.summary = RunSummary(
            run_id=self.run_id, command=self.command, run_dir=self.settings.runs_dir / self.run_id
        )
        self.summary.settings = settings_record(self.settings)

    @property
    def run_dir(self) -> Path:
        return self.summary.run_dir


def settings_record(settings: Settings) -> dict:
    return {
        "project_dir": str(settings.project_dir),
        "profiles_dir": str(settings.profiles_dir),
        "target": settings.target,
        "target_type": settings.target_type,
        "target_method": settings.target_method,
        "raw_dir": str(settings.raw_dir),
        "raw_format": settings.raw_format,
        "as_of_date": settings.as_of_date.isoformat() if settings.as_of_date else None,
        "full_refresh": settings.full_refresh,
        "in_place": settings.in_place,
        "unit_tests": settings.unit_tests,
        "select": list(settings.select),
        "dbt_vars": settings.dbt_vars,
        "warehouse": str(settings.warehouse.published),
        "runs_dir": str(settings.runs_dir),
    }


def execute(run: Run, body: Callable[[Run], None]) -> RunSummary:
    """Run `body(run)` with a run log, and always write the summary."""
    handler = attach_run_log(run.run_dir / "run.log")
    log.info("%s %s: log in %s", run.command, run.run_id, run.run_dir / "run.log")
    try:
        body(run)
        run.summary.status = "success"
        run.summary.exit_code = int(ExitCode.OK)
    except OrchestratorError as exc:
        run.summary.status = "failed"
        run.summary.exit_code = int(exc.exit_code)
        run.summary.failed_step = exc.step or run.timer.failed_step
        run.summary.error = exc.message
        exc.run_dir = run.run_dir
        trace.error(
            "%s failed at %s:\n%s", run.command, run.summary.failed_step, traceback.format_exc()
        )
        raise
    except BaseException as exc:
        # Ctrl-C or SIGTERM (cli turns it into KeyboardInterrupt) is not a failure.
        interrupted = isinstance(exc, KeyboardInterrupt)
        run.summary.status = "interrupted" if interrupted else "failed"
        run.summary.exit_code = int(ExitCode.INTERRUPTED if interrupted else ExitCode.INTERNAL)
        run.summary.failed_step = run.timer.failed_step
        run.summary.error = (
            f"interrupted ({exc or 'Ctrl-C'})" if interrupted else f"{type(exc).__name__}: {exc}"
        )
        trace.error("%s %s:\n%s", run.command, run.summary.status, traceback.format_exc())
        raise
    finally:
        run.summary.steps = [r.to_dict() for r in run.timer.records]
        run.summary.gx = {
            "import_seconds": run.gx.import_seconds,
            "context_seconds": run.gx.context_seconds,
        }
        run.summary.artifacts.setdefault("log", str(run.run_dir / "run.log"))
        path = write_summary(run.summary, run.settings.runs_dir)
        log.info("summary: %s", path)
        detach(handler)
    return run.summary


# --- steps -----------------------------------------------------------------


def step_locate(run: Run) -> RawInputs:
    with run.timer.step("locate_raw", f"looking for raw files in {run.settings.raw_dir}") as rec:
        inputs = locate(run.settings.raw_dir, run.settings.raw_format)
        rec.rows = len(inputs.files)
        rec.detail = f"{inputs.fmt} files" + (
            f"; missing: {', '.join(inputs.missing)}" if inputs.missing else ""
        )
        run.summary.settings["raw_format"] = inputs.fmt
    return inputs


def _record_validation(
    run: Run, stage: str, outcomes: list[SuiteOutcome], rec: StepRecord, extra: dict
) -> None:
    json_path = run.run_dir / f"validation_{stage}.json"
    html_path = run.run_dir / f"validation_{stage}.html"
    save_json(json_path, stage, outcomes, extra)
    save_html(html_path, f"{stage.capitalize()} validation — run {run.run_id}", outcomes)
    run.summary.artifacts[f"validation_{stage}_json"] = str(json_path)
    run.summary.artifacts[f"validation_{stage}_html"] = str(html_path)
    run.summary.validation[stage] = {
        **counts(outcomes),
        **extra,
        "suites_detail": [s.to_dict(full=False) for s in outcomes],
    }
    summary = counts(outcomes)
    rec.rows = sum(s.rows or 0 for s in outcomes)
    rec.warnings = summary["warnings"]
    rec.detail = (
        f"{summary['suites']} suites, {summary['failures']} failed, {summary['warnings']} warnings"
    )
    for suite in outcomes:
        for item in suite.failures:
            log.error("  FAIL %s: %s", suite.source, item.describe())
            if item.notes:
                log.error("       why it matters: %s", item.notes)
        for item in suite.warnings:
            log.info("  warn %s: %s", Path(suite.source).name, item.describe())


def _raise_if_failed(
    run: Run, stage: str, outcomes: list[SuiteOutcome], step: str, code: ExitCode
) -> None:
    failed = [s for s in outcomes if not s.success]
    if not failed:
        return
    lines = failure_lines(failed, include_warnings=False)
    failing = sum(len(s.failures) for s in failed)
    consequence = ""
    if run.command == "run":
        consequence = (
            "; the marts were built in place: the published warehouse holds them"
            if run.settings.in_place
            else "; nothing was published"
        )
    raise OrchestratorError(
        f"{stage} validation failed: {failing} failing expectation(s) in {len(failed)} of"
        f" {len(outcomes)} suites{consequence}.\n  "
        + "\n  ".join(line for line in lines if not line.startswith(" "))
        + f"\n  Full results: {run.run_dir / f'validation_{stage}.html'} (and .json)",
        step=step,
        exit_code=code,
    )


def check_suites(run: Run, *, marts: bool) -> None:
    """Every suite the run will use, built with GX before the first is run (the mart
    suites run after dbt, which can take the better part of an hour)."""
    suites = list(load_raw_suites(run.settings.suites_dir).values())
    if marts:
        suites += load_mart_suites(run.settings.suites_dir)
    try:
        run.gx.check_suites(suites)
    except ConfigError as exc:
        exc.step = "validate_raw"
        raise


def step_validate_raw(run: Run, inputs: RawInputs) -> None:
    with run.timer.step("validate_raw", "validating raw files with Great Expectations") as rec:
        suites = load_raw_suites(run.settings.suites_dir)
        reference, origin = freshness_reference(run.settings.raw_dir, run.settings.as_of_date)
        log.info("  freshness measured against %s (%s)", reference, origin)
        outcomes = validate_raw(
            run.gx,
            suites,
            inputs,
            reference=reference,
            previous_rows=previous_raw_rows(
                run.settings.runs_dir, run.settings.warehouse.published
            ),
            scratch_dir=run.settings.duckdb_tmp,
        )
        raw_rows = dict(zip(RAW_TABLES, (s.rows for s in outcomes), strict=True))
        extra = {
            "freshness_reference": reference.isoformat(),
            "freshness_reference_from": origin,
            "raw_rows": {k: v for k, v in raw_rows.items() if v is not None},
            "raw_files": {
                table: {
                    "path": str(inputs.files[table]),
                    "size_bytes": stamp.size_bytes,
                    "modified_ns": stamp.modified_ns,
                }
                for table, stamp in inputs.stamps.items()
            },
        }
        _record_validation(run, "raw", outcomes, rec, extra)
        _raise_if_failed(run, "raw", outcomes, "validate_raw", ExitCode.RAW_VALIDATION)


def step_prepare(run: Run, unfinished: in_place.UnfinishedBuild | None) -> None:
    """`unfinished`: the mark of an earlier build in place, as _recover_unfinished read it."""
    files = run.settings.warehouse
    with run.timer.step("prepare_build", f"preparing {run.settings.build_database.name}") as rec:
        if run.settings.in_place:
            # again: a reader may have opened the file during the raw validation (minutes
            # at L), and dbt would then fail on its first node, leaving a mark for nothing
            in_place.check_not_open(files.published)
            publishing.discard_crashed_build(files)
            in_place.mark_unfinished(files, run.run_id, earlier=unfinished)
            rec.detail = f"in place: dbt builds in {files.published.name} itself, no copy"
            run.summary.publish["started_from_copy"] = False
            return
        copied = publishing.prepare_building(files)
        size = files.building.stat().st_size if copied else 0
        rec.detail = (
            f"copy of {files.published.name} ({size / 1e6:.1f} MB)"
            if copied
            else "new file (nothing published yet)"
        )
        run.summary.publish["started_from_copy"] = copied


def _recover_unfinished(run: Run) -> in_place.UnfinishedBuild | None:
    """After a build in place that stopped half-way, score its history dates again."""
    unfinished = in_place.read_unfinished(run.settings.warehouse)
    if unfinished is None:
        return None
    dbt_vars = in_place.recovery_vars(unfinished, run.settings.dbt_vars)
    run.settings = replace(run.settings, dbt_vars=dbt_vars)
    run.summary.settings["dbt_vars"] = dbt_vars
    redo = (
        "whole (history_rebuild)"
        if dbt_vars.get("history_rebuild")
        else f"from {dbt_vars['history_complete_through']} minus history_lookback_days"
    )
    log.warning(
        "  a build in place did not finish (%s; marked in %s): this run scores the history %s",
        unfinished.describe(),
        run.settings.warehouse.unfinished,
        redo,
    )
    run.summary.publish["recovered_unfinished_build"] = unfinished.run_id
    return unfinished


def _dbt_record(outcome: DbtOutcome) -> dict:
    return {
        "success": outcome.success,
        "seconds": outcome.seconds,
        "counts": outcome.counts(),
        "error": outcome.error,
        "problems": [n.to_dict() for n in outcome.problems],
        "warnings": [n.to_dict() for n in outcome.warnings],
        "slowest": [n.to_dict() for n in sorted(outcome.nodes, key=lambda n: -n.seconds)[:10]],
    }


def step_dbt(run: Run, raw_format: str, validated: RawInputs | None) -> None:
    """dbt build; `validated` are the raw files the run checked (None: schema raw as it is)."""
    settings = run.settings
    database = settings.build_database
    selection = " ".join(settings.select) or "everything"
    into = database.name if settings.is_duckdb else f"the {settings.target_type} target"
    with run.timer.step("dbt_build", f"dbt build ({selection}) into {into}") as rec:
        outcome = run_dbt(settings, database=database, raw_format=raw_format, log_dir=run.run_dir)
        run.summary.dbt = _dbt_record(outcome)
        run.summary.artifacts["dbt_log"] = str(run.run_dir / "dbt.log")
        counts = ", ".join(f"{v} {k}" for k, v in sorted(outcome.counts().items()))
        rec.detail = f"{len(outcome.nodes)} nodes: {counts}" if outcome.nodes else "no node ran"
        rec.warnings = len(outcome.warnings)
        if outcome.success and not outcome.nodes and settings.select:
            # dbt only warns "Nothing to do"; publishing the unchanged copy would hide a typo
            raise ConfigError(
                f"--select {selection} matched no dbt node, so nothing was built or published."
                f" Check the selector: .venv/bin/dbt ls --select {selection}"
            )
        if not outcome.success:
            lines = outcome.describe_problems()
            if outcome.error:
                lines.insert(0, outcome.error)
            if settings.in_place:
                consequence = (
                    f" in place: {database} holds the models it reached, the others are"
                    " as the last run left them. The next run scores the history again"
                    f" from where it was complete ({settings.warehouse.unfinished})"
                )
            elif settings.is_duckdb:
                kept = f" is kept at {database}" if database.exists() else " was not created"
                consequence = f"; nothing was published (the failed build{kept})"
            else:
                consequence = f" on the {settings.target_type} target (dbt builds in place there)"
            raise OrchestratorError(
                "dbt build failed"
                + consequence
                + ".\n  "
                + "\n  ".join(lines or ["(no node failed: see the dbt log)"])
                + f"\n  dbt log: {run.run_dir / 'dbt.log'}",
                exit_code=ExitCode.DBT,
            )
        if settings.is_duckdb:
            probe_released(database)
        if settings.in_place and not settings.select:
            in_place.mark_finished(settings.warehouse)
        if validated is not None:
            _raise_if_raw_changed(run, validated)


def _raise_if_raw_changed(run: Run, validated: RawInputs) -> None:
    """Stop when dbt may have read raw rows that Great Expectations never saw.

    The raw files are read twice, by the validation and by dbt; a loader that
    rewrites one in between (or in place, while dbt reads it) would otherwise
    have its rows published unchecked.
    """
    changes = validated.changes_since_found()
    if not changes:
        return
    settings = run.settings
    if settings.in_place:
        consequence = f"the build was in place: {settings.warehouse.published} holds it"
    elif settings.is_duckdb:
        consequence = f"nothing was published (the build is kept at {settings.warehouse.building})"
    else:
        consequence = f"the {settings.target_type} target holds a build from those files"
    raise OrchestratorError(
        f"raw files changed while the run was in progress, after they were validated, so dbt"
        f" may have read rows Great Expectations never checked; {consequence}.\n  "
        + "\n  ".join(changes)
        + "\n  Run again once the files are complete. Whatever writes them should write each"
        " file under another name and rename it into place, so that a run sees it whole.",
        step="dbt_build",
        exit_code=ExitCode.RAW_VALIDATION,
    )


def step_register_raw(run: Run, raw_format: str) -> None:
    """Local Spark: the raw files become the external tables raw.<table> (dbt macro)."""
    settings = run.settings
    with run.timer.step(
        "register_raw", f"registering {settings.raw_dir} as the raw tables on Spark"
    ) as rec:
        outcome = run_dbt(
            settings,
            database=settings.build_database,
            raw_format=raw_format,
            log_dir=run.run_dir,
            args=register_raw_args(settings, run.run_dir, raw_format),
        )
        rec.rows = len(RAW_TABLES)
        rec.detail = f"raw.<table> -> {settings.raw_dir}/<table>.{raw_format}"
        if not outcome.success:
            raise OrchestratorError(
                f"dbt run-operation create_raw_tables failed: {outcome.error or 'see the dbt log'}"
                f"\n  dbt log: {run.run_dir / 'dbt.log'}",
                exit_code=ExitCode.DBT,
            )


def step_validate_marts(run: Run, database: Path, *, partial: bool) -> None:
    with run.timer.step(
        "validate_marts", f"validating marts in {database.name} with Great Expectations"
    ) as rec:
        suites = load_mart_suites(run.settings.suites_dir)
        outcomes = validate_marts(run.gx, suites, database, partial_build=partial)
        _record_validation(run, "marts", outcomes, rec, {"database": str(database)})
        _raise_if_failed(run, "marts", outcomes, "validate_marts", ExitCode.MART_VALIDATION)


def step_summarize(run: Run, database: Path) -> None:
    with run.timer.step("summarize", "collecting summary tables") as rec:
        run.summary.tables = collect_tables(database)
        scores = run.summary.tables.get("accounts_by_band_segment", {})
        rec.rows = (
            sum(int(r[-1]) for r in scores.get("rows", [])) if scores.get("available") else None
        )
        rec.detail = "accounts scored" if rec.rows is not None else scores.get("note", "")


def step_publish(run: Run) -> None:
    files = run.settings.warehouse
    with run.timer.step("publish", f"publishing {files.published.name}") as rec:
        had_previous = files.published.exists()
        try:
            publishing.publish(files)
        except OrchestratorError:
            raise
        except OSError as exc:
            raise OrchestratorError(
                f"could not publish {files.building} as {files.published}: {exc}",
                exit_code=ExitCode.PUBLISH,
            ) from exc
        if not run.settings.select:  # a whole build scored the history an earlier one left
            in_place.mark_finished(files)
        rec.detail = str(files.published) + (
            f" (previous kept as {files.previous.name})" if had_previous else " (first publish)"
        )
        run.summary.publish.update(
            {
                "published": True,
                "path": str(files.published),
                "previous": str(files.previous) if had_previous else None,
            }
        )


def step_record_in_place(run: Run) -> None:
    """--in-place: the marts are already where BI tools read them; nothing to swap."""
    files = run.settings.warehouse
    run.timer.skip("publish", f"built in place in {files.published.name}, nothing to swap")
    run.summary.publish.update(
        {
            "published": True,
            "in_place": True,
            "path": str(files.published),
            # rollback puts back the file the last copying run replaced, if any
            "previous": str(files.previous) if files.previous.exists() else None,
        }
    )


# --- commands ----------------------------------------------------------------


def _run_body(run: Run) -> None:
    settings = run.settings
    run.summary.publish = {"published": False, "path": str(settings.warehouse.published)}
    with publishing.RunLock(settings.warehouse.lock, run_id=run.run_id, command=run.command):
        if settings.is_duckdb:
            _build_and_publish(run)
        else:
            _build_in_place(run)


def _build_and_publish(run: Run) -> None:
    """DuckDB: build a copy of the published file, validate it, then publish it."""
    files = run.settings.warehouse
    if run.settings.select and not files.published.exists():
        # A selection builds on the published marts; the first publish must hold them all.
        raise ConfigError(
            f"--select {' '.join(run.settings.select)}: nothing is published at"
            f" {files.published} yet, and a selected build would publish a warehouse"
            " without the other marts. Run once without --select.",
            step="prepare_build",
        )
    if run.settings.in_place:
        in_place.check_not_open(files.published)
    else:
        publishing.check_room_to_build(files)
    unfinished = _recover_unfinished(run)  # before the raw validation: a bad mark stops it
    inputs = step_locate(run)
    check_suites(run, marts=True)
    step_validate_raw(run, inputs)
    step_prepare(run, unfinished)
    step_dbt(run, inputs.fmt, inputs)
    built = run.settings.build_database
    step_validate_marts(run, built, partial=bool(run.settings.select))
    step_summarize(run, built)
    if run.settings.in_place:
        step_record_in_place(run)
    else:
        step_publish(run)


def _build_in_place(run: Run) -> None:
    """Spark and other engines: dbt builds in the target's schema; nothing to publish."""
    settings = run.settings
    method = f" ({settings.target_method})" if settings.target_method else ""
    engine = settings.target_type + method
    run.summary.publish = {"published": False, "target": settings.target or engine}
    inputs: RawInputs | None = None
    if settings.raw_dir.exists():
        inputs = step_locate(run)
        check_suites(run, marts=False)
        step_validate_raw(run, inputs)
    elif settings.raw_dir_given:
        # A mistyped folder would otherwise build, unvalidated, from whatever schema raw holds.
        raise ConfigError(
            f"raw data folder {settings.raw_dir} (from --raw-dir or ${ENV_RAW_DIR}) does not"
            " exist. Fix the path, or leave both unset to build from the tables of schema raw"
            " as they are.",
            step="locate_raw",
        )
    else:
        run.timer.skip("validate_raw", f"{settings.raw_dir} absent; the target reads schema raw")
    raw_format = inputs.fmt if inputs else (settings.raw_format or "parquet")
    if settings.is_local_spark and inputs is not None:
        step_register_raw(run, raw_format)
    else:
        run.timer.skip(
            "register_raw",
            f"{engine} target reads the tables of schema raw as they are"
            " (load them first: README 'Running on Apache Spark')",
        )
    step_dbt(run, raw_format, inputs)
    run.timer.skip(
        "validate_marts",
        f"the mart suites query a DuckDB file; on {engine} dbt's data tests checked the marts",
    )
    run.timer.skip("summarize", f"the summary tables are read from a DuckDB file, not {engine}")
    note = {"available": False, "note": f"not collected on {engine}: query the marts there"}
    tables = ("accounts_by_band_segment", "alerts", "quarantine")
    run.summary.tables = {name: note for name in tables}
    run.timer.skip(
        "publish", f"{engine}: dbt built the marts in place, nothing to publish or roll back"
    )


def run_pipeline(settings: Settings) -> RunSummary:
    """The `run` command; raises OrchestratorError after writing the summary."""
    return execute(Run(settings=settings, command="run"), _run_body)


def validate_only(settings: Settings, *, only: str | None = None) -> RunSummary:
    """The `validate` command: raw files, and the published marts if any."""

    def body(run: Run) -> None:
        check_suites(run, marts=only in (None, "marts"))
        if only in (None, "raw"):
            inputs = step_locate(run)
            step_validate_raw(run, inputs)
        if only in (None, "marts"):
            published = settings.warehouse.published
            if published.exists():
                warning = in_place.unfinished_warning(settings.warehouse)
                if warning:
                    log.warning("  %s", warning)
                step_validate_marts(run, published, partial=False)
            elif only == "marts":
                raise OrchestratorError(
                    f"no published warehouse at {published}",
                    step="validate_marts",
                    exit_code=ExitCode.CONFIG,
                )
            else:
                run.timer.skip("validate_marts", f"no published warehouse at {published}")

    return execute(Run(settings=settings, command="validate"), body)


def rollback_warehouse(settings: Settings) -> RunSummary:
    """The `rollback` command: the previous published file comes back."""

    def body(run: Run) -> None:
        files = settings.warehouse
        lock = publishing.RunLock(files.lock, run_id=run.run_id, command=run.command)
        with lock, run.timer.step("rollback", f"restoring {files.previous.name}") as rec:
            publishing.rollback(files)
            rec.detail = (
                f"{files.published} restored; the replaced file is now {files.previous.name}"
            )

    return execute(Run(settings=settings, command="rollback"), body)
