"""Command line: `python -m scripts.benchmark [run|summary|explain] ...`.

Errors are caught once, here: a readable message on stderr and a non-zero exit code
(1 a step failed, 2 bad flags, 3 the run finished but dbt had failed nodes or the scores differ).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from scripts.benchmark.baselines import BASELINES
from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.scales import DEFAULT_END_DATE, DEFAULT_SEED, SCALES
from scripts.benchmark.summary import SUMMARY_END, SUMMARY_START

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CHECK_FAILED = 0, 1, 2, 3

_EPILOG = """\
scales: XS 50 accounts x 60 days (tests; dbt's fixed cost), S 1k accounts / ~1M events,
M 10k / ~10M, L 100k / ~100M (365 days each). Data is generated once per scale under
--data-root and reused while its manifest matches. Each run builds into its own work
directory under --work-root (DuckDB file, dbt target and logs); results go to
--results-dir/<scale>-<UTC timestamp>.json.

exit codes: 0 ok, 1 a step failed, 2 bad flags, 3 dbt had failed nodes or scores differ.
"""


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmark",
        description="Time dbt builds at a named scale against hand-written baselines.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="generate, build, compare, save (default)")
    run.add_argument("--scale", choices=list(SCALES), default="S", help="default S")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    run.add_argument(
        "--end-date",
        type=_iso_date,
        default=DEFAULT_END_DATE,
        help="last day of the full-build data; the daily run appends the day after "
        f"(default {DEFAULT_END_DATE})",
    )
    run.add_argument("--project-dir", type=Path, default=Path("."), help="dbt project")
    run.add_argument("--data-root", type=Path, default=Path("warehouse/bench/data"))
    run.add_argument("--work-root", type=Path, default=Path("warehouse/bench"))
    run.add_argument("--results-dir", type=Path, default=Path("benchmarks"))
    run.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    run.add_argument(
        "--baseline",
        action="append",
        choices=list(BASELINES),
        help="run only this baseline (repeatable; default all three: duckdb and pandas, the "
        "latest date; duckdb_history, the year of history)",
    )
    run.add_argument(
        "--skip-baseline",
        action="append",
        default=[],
        choices=list(BASELINES),
        help="do not run this baseline (repeatable), e.g. pandas at L",
    )
    run.add_argument("--no-daily-run", action="store_true", help="skip the appended-day run")
    run.add_argument("--no-fixed-cost", action="store_true", help="skip the XS build")
    run.add_argument(
        "--exclude-resource-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="passed to dbt build (repeatable), e.g. unit_test (while a unit test of work in "
        "progress fails) or test (models and seeds only)",
    )
    run.add_argument(
        "--account-buckets",
        type=int,
        metavar="N",
        help="var account_buckets of both builds (default: one bucket per 1,000 accounts of "
        "the scale)",
    )
    run.add_argument(
        "--memory-limit", help="DuckDB memory_limit (sets CUSTOMER_HEALTH_DUCKDB_MEMORY)"
    )
    run.add_argument(
        "--profile-top",
        type=int,
        default=0,
        metavar="N",
        help="profile the N slowest models right after the full build (DuckDB profiler)",
    )
    run.add_argument("--json-only", action="store_true", help="print only the results path")

    summary = commands.add_parser(
        "summary",
        help="the README table from the latest S, M and L results, with the linearity check",
    )
    summary.add_argument(
        "results",
        type=Path,
        nargs="*",
        help="results files or directories (default: benchmarks/); the latest run of each "
        "scale is used",
    )
    summary.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/SUMMARY.md"),
        help="write the markdown fragment here (default benchmarks/SUMMARY.md; '-' not to)",
    )
    summary.add_argument(
        "--update-readme",
        type=Path,
        metavar="README",
        help=f"also replace the block between {SUMMARY_START} and {SUMMARY_END} in README",
    )

    explain = commands.add_parser(
        "explain", help="EXPLAIN ANALYZE the slowest models of a saved run"
    )
    explain.add_argument("results", type=Path, help="a benchmarks/<scale>-<stamp>.json file")
    explain.add_argument("--top", type=int, default=5, help="how many models (default 5)")
    explain.add_argument("--run", default="full_build", help="which run (default full_build)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from scripts.benchmark.report import render, save
    from scripts.benchmark.runner import Options, run_benchmark

    project_dir = args.project_dir.resolve()
    if not (project_dir / "dbt_project.yml").exists():
        raise BenchmarkError(f"{project_dir}: no dbt_project.yml (use --project-dir)")
    if args.account_buckets is not None and args.account_buckets < 1:
        raise BenchmarkError(f"--account-buckets {args.account_buckets}: at least 1")
    scale = SCALES[args.scale]
    account_buckets = args.account_buckets or scale.account_buckets
    options = Options(
        scale=scale,
        seed=args.seed,
        end_date=args.end_date,
        project_dir=project_dir,
        data_root=args.data_root.resolve(),
        work_root=args.work_root.resolve(),
        results_dir=args.results_dir,
        baselines=()
        if args.no_baselines
        else tuple(name for name in (args.baseline or BASELINES) if name not in args.skip_baseline),
        daily_run=not args.no_daily_run,
        fixed_cost=not args.no_fixed_cost,
        dbt_args=[
            arg for kind in args.exclude_resource_type for arg in ("--exclude-resource-type", kind)
        ]
        + [
            "--vars",
            f"{{account_buckets: {account_buckets}, "
            f"events_key_buckets: {scale.events_key_buckets}}}",
        ],
        account_buckets=account_buckets,
        memory_limit=args.memory_limit,
        profile_top=args.profile_top,
        progress=not args.json_only,
    )
    results = run_benchmark(options)
    path = save(results)
    print(path if args.json_only else render(results))
    failed = any(run["not_ok_nodes"] for run in results["runs"].values())  # type: ignore[union-attr]
    differ = any(
        isinstance(base, dict) and base.get("equality", {}).get("equal") is False
        for base in results["baselines"].values()  # type: ignore[union-attr]
    )
    return EXIT_CHECK_FAILED if failed or differ else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from scripts.benchmark.explain import explain_slowest

    print(explain_slowest(args.results, run_key=args.run, top=args.top))
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from scripts.benchmark.summary import write_summary

    print(
        write_summary(
            args.results or [Path("benchmarks")],
            out=None if str(args.out) == "-" else args.out,
            readme=args.update_readme,
        )
    )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "explain", "summary", "-h", "--help"):
        argv.insert(0, "run")
    args = build_parser().parse_args(argv)  # bad flags: argparse exits with code 2
    commands = {"run": _run, "explain": _explain, "summary": _summary}
    try:
        return commands[args.command](args)
    except BenchmarkError as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("benchmark: interrupted", file=sys.stderr)
        return EXIT_ERROR
