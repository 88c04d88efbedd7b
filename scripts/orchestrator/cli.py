"""Command line: `python -m scripts.orchestrator [run|validate|report|demo-data|rollback]`.

Errors are caught once, here: a readable message on stderr, the traceback in
the run log, and an exit code that names the failed step (see errors.ExitCode).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from scripts.orchestrator.errors import ExitCode, OrchestratorError
from scripts.orchestrator.logs import TRACE_LOGGER_NAME, get_logger, setup_console
from scripts.orchestrator.settings import RAW_FORMATS, Settings, build_settings, parse_vars_mapping

log = get_logger()
COMMANDS = ("run", "validate", "report", "demo-data", "rollback")

_EPILOG = """\
exit codes: 0 success, 1 internal error, 2 bad flags or configuration,
3 another run holds the warehouse lock, 4 raw validation failed,
5 dbt build failed, 6 mart validation failed, 7 copying or publishing
the warehouse failed (no room on its disk, for one).

Environment: CUSTOMER_HEALTH_DB (published DuckDB file), CUSTOMER_HEALTH_RAW_DIR,
CUSTOMER_HEALTH_RAW_FORMAT, CUSTOMER_HEALTH_RUNS_DIR, DBT_PROFILES_DIR; flags win.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("paths and output")
    group.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (every dbt node)"
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="only warnings, errors and the result line"
    )
    group.add_argument("--project-dir", help="dbt project folder (default: this repository)")
    group.add_argument(
        "--profiles-dir",
        help="folder of profiles.yml (default: $DBT_PROFILES_DIR, the project, ~/.dbt)",
    )
    group.add_argument(
        "--warehouse",
        help="published DuckDB file"
        " (default: $CUSTOMER_HEALTH_DB or warehouse/customer_health.duckdb)",
    )
    group.add_argument(
        "--runs-dir", help="where run folders go (default: $CUSTOMER_HEALTH_RUNS_DIR or runs/)"
    )


def _raw(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("raw data")
    group.add_argument(
        "--raw-dir",
        help="folder of <table>.parquet|csv (default: $CUSTOMER_HEALTH_RAW_DIR or data/raw)",
    )
    group.add_argument(
        "--raw-format",
        choices=RAW_FORMATS,
        help="raw file format (default: detected from the files present)",
    )
    group.add_argument(
        "--as-of-date",
        metavar="YYYY-MM-DD",
        help="score date (default: latest event date); also the freshness reference",
    )


def _build(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dbt")
    group.add_argument(
        "--target", help="dbt target in profiles.yml (default: the profile's, duckdb)"
    )
    group.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from scratch"
    )
    group.add_argument(
        "--in-place",
        action="store_true",
        help="DuckDB: build in the published warehouse, not in a copy of it (no room"
        " or time for a copy; BI tools must be disconnected; README 'Building in place')",
    )
    group.add_argument(
        "--unit-tests",
        action="store_true",
        help="also run dbt's unit tests (they test the SQL on fixtures; CI runs them)",
    )
    group.add_argument(
        "-s",
        "--select",
        nargs="+",
        action="extend",
        default=[],
        metavar="SELECTOR",
        help="dbt selection, e.g. --select staging+ (default: everything)",
    )
    group.add_argument(
        "--vars",
        dest="build_vars",
        metavar="YAML",
        help="dbt vars for the build, e.g. '{account_buckets: 100}' for data larger than"
        " memory (README 'Performance'); keep them the same from run to run",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.orchestrator",
        description="Validate raw data, build the customer_health warehouse with dbt,"
        " validate the marts and publish them atomically.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="the whole pipeline (default command)",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _raw(run)
    _build(run)
    _common(run)

    validate = sub.add_parser(
        "validate", help="validate raw files and the published marts; build nothing"
    )
    validate.add_argument(
        "--only", choices=("raw", "marts"), help="validate only the raw files or only the marts"
    )
    _raw(validate)
    _common(validate)

    report = sub.add_parser(
        "report",
        help="print the summary tables of the published warehouse;"
        " --format html: the calibration and backtest report",
    )
    report.add_argument(
        "--format", choices=("text", "json", "html"), default="text", dest="report_format"
    )
    report.add_argument(
        "--out", help="also write the report to this file (html: default <runs-dir>/report.html)"
    )
    report.add_argument(
        "--compiled-dir",
        help="html: run the analyses compiled in this folder (e.g."
        " target/compiled/customer_health/analyses) instead of compiling them",
    )
    report.add_argument(
        "--vars",
        dest="report_vars",
        metavar="YAML",
        help="html: dbt vars for the analyses, e.g. '{backtest_horizon_days: 30}'",
    )
    _common(report)

    demo = sub.add_parser(
        "demo-data", help="generate demo raw data (scripts/generate_demo_data.py)"
    )
    demo.add_argument("--accounts", type=int, help="number of accounts (generator default 300)")
    demo.add_argument("--days", type=int, help="days of activity (generator default 365)")
    demo.add_argument("--out", help="output folder (default: the raw folder, data/raw)")
    demo.add_argument(
        "--format",
        choices=RAW_FORMATS,
        default="parquet",
        dest="demo_format",
        help="file format (default parquet)",
    )
    demo.add_argument("--seed", type=int, help="random seed (generator default 42)")
    demo.add_argument(
        "--dirty-fraction", type=float, help="share of dirty rows (generator default 0.01)"
    )
    demo.add_argument(
        "--end-date", metavar="YYYY-MM-DD", help="last day of the data (default 2026-10-31)"
    )
    _common(demo)

    rollback = sub.add_parser("rollback", help="put the previous published warehouse back")
    _common(rollback)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
    args.verbosity = -1 if args.quiet else args.verbose
    return args


def _settings(args: argparse.Namespace, *, need_target: bool) -> Settings:
    return build_settings(
        project_dir=args.project_dir,
        profiles_dir=args.profiles_dir,
        runs_dir=args.runs_dir,
        warehouse=args.warehouse,
        raw_dir=getattr(args, "raw_dir", None),
        raw_format=getattr(args, "raw_format", None),
        target=getattr(args, "target", None),
        as_of_date=getattr(args, "as_of_date", None),
        full_refresh=getattr(args, "full_refresh", False),
        select=tuple(getattr(args, "select", ())),
        verbosity=args.verbosity,
        unit_tests=getattr(args, "unit_tests", False),
        dbt_vars=getattr(args, "build_vars", None),
        need_target=need_target,
        in_place=getattr(args, "in_place", False),
    )


def _print(text: str, args: argparse.Namespace) -> None:
    if args.verbosity >= 0:
        print(text)


def cmd_run(args: argparse.Namespace) -> int:
    from scripts.orchestrator.pipeline import run_pipeline
    from scripts.orchestrator.summary import render_tables

    summary = run_pipeline(_settings(args, need_target=True))
    text = render_tables(summary.tables, summary.steps, summary.gx.get("import_seconds"))
    _print("\n" + text, args)
    if summary.publish.get("in_place"):
        outcome = f"built in place in {summary.publish.get('path')}"
    elif summary.publish.get("published"):
        outcome = f"published {summary.publish.get('path')}"
    elif summary.publish.get("target"):
        outcome = f"built in place on target {summary.publish['target']}, nothing to publish"
    else:
        outcome = "published nothing (see steps)"
    print(f"OK run {summary.run_id}: {outcome}; summary {summary.run_dir / 'summary.json'}")
    return int(ExitCode.OK)


def cmd_validate(args: argparse.Namespace) -> int:
    from scripts.orchestrator.pipeline import validate_only

    summary = validate_only(_settings(args, need_target=False), only=args.only)
    warnings = sum(stage.get("warnings", 0) for stage in summary.validation.values())
    print(
        f"OK validate {summary.run_id}: {len(summary.validation)} stage(s) passed,"
        f" {warnings} warning(s); results in {summary.run_dir}"
    )
    return int(ExitCode.OK)


def cmd_report(args: argparse.Namespace) -> int:
    from scripts.orchestrator.in_place import unfinished_warning
    from scripts.orchestrator.report import build_html_report, build_report, render_report

    settings = _settings(args, need_target=False)
    warning = unfinished_warning(settings.warehouse)
    if warning:
        log.warning(warning)
    if args.report_format == "html":
        parse_vars_mapping(args.report_vars)  # a bad mapping is a config error, before dbt
        compiled_dir = Path(args.compiled_dir) if args.compiled_dir else None
        out = Path(args.out) if args.out else settings.runs_dir / "report.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        html = build_html_report(settings, compiled_dir, args.report_vars)
        out.write_text(html, encoding="utf-8")
        print(f"OK report written to {out}")
        return int(ExitCode.OK)
    text = render_report(build_report(settings), args.report_format)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # as the html format does
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        log.info("report written to %s", args.out)
    print(text)
    return int(ExitCode.OK)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from scripts.orchestrator.demo_data import generate_demo_data

    settings = _settings(args, need_target=False)
    out = Path(args.out).resolve() if args.out else settings.raw_dir
    started = time.perf_counter()
    generate_demo_data(
        out=out,
        accounts=args.accounts,
        days=args.days,
        fmt=args.demo_format,
        seed=args.seed,
        dirty_fraction=args.dirty_fraction,
        end_date=args.end_date,
    )
    print(f"OK demo data in {out} ({time.perf_counter() - started:.1f} s)")
    return int(ExitCode.OK)


def cmd_rollback(args: argparse.Namespace) -> int:
    from scripts.orchestrator.pipeline import rollback_warehouse

    summary = rollback_warehouse(_settings(args, need_target=False))
    print(f"OK rollback {summary.run_id}: {summary.steps[-1]['detail']}")
    return int(ExitCode.OK)


HANDLERS = {
    "run": cmd_run,
    "validate": cmd_validate,
    "report": cmd_report,
    "demo-data": cmd_demo_data,
    "rollback": cmd_rollback,
}


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """Schedulers stop a task with SIGTERM: unwind like Ctrl-C (summary, lock released)."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_console(args.verbosity)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return HANDLERS[args.command](args)
    except OrchestratorError as exc:
        where = f" at step '{exc.step}'" if exc.step else ""
        print(f"FAILED{where} (exit code {int(exc.exit_code)}): {exc.message}", file=sys.stderr)
        if exc.run_dir is not None:
            print(
                f"Details: {exc.run_dir / 'summary.json'}, log: {exc.run_dir / 'run.log'}",
                file=sys.stderr,
            )
        return int(exc.exit_code)
    except KeyboardInterrupt as exc:
        cause = f" by {exc}" if str(exc) else ""
        consequence = (
            "the build was in place: the warehouse may hold some models of this run, and the"
            " next run scores the history again from where it was complete"
            if getattr(args, "in_place", False)
            else "nothing was published"
        )
        print(
            f"Interrupted{cause} (exit code {int(ExitCode.INTERRUPTED)}); {consequence}.",
            file=sys.stderr,
        )
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are reported
        logging.getLogger(TRACE_LOGGER_NAME).error(traceback.format_exc())
        print(f"FAILED (internal error, exit code 1): {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbosity > 0:
            traceback.print_exc()
        else:
            print("Run again with -v for the traceback.", file=sys.stderr)
        return int(ExitCode.INTERNAL)
