"""Command-line arguments and the entry point."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from scripts.demo_generator.config import Config, GeneratorError
from scripts.demo_generator.output import generate


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 0.5")
    return value


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        description="Write deterministic demo data for the customer-health raw tables."
    )
    parser.add_argument(
        "--accounts", type=_int_at_least(1), default=300, help="number of accounts (default 300)"
    )
    parser.add_argument(
        "--days",
        type=_int_at_least(1),
        default=365,
        help="days of activity ending on --end-date (default 365)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="output directory (default data/raw)"
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="file format (default parquet)",
    )
    parser.add_argument(
        "--seed", type=_int_at_least(0), default=42, help="random seed (default 42)"
    )
    parser.add_argument(
        "--end-date",
        type=_iso_date,
        default=date(2026, 10, 31),
        help="last day of the data, YYYY-MM-DD (default 2026-10-31)",
    )
    parser.add_argument(
        "--dirty-fraction",
        type=_fraction,
        default=0.01,
        help="extra dirty rows per table, as a fraction of its clean rows "
        "(default 0.01; 0 for none)",
    )
    args = parser.parse_args(argv)
    return Config(
        accounts=args.accounts,
        days=args.days,
        out=args.out,
        fmt=args.format,
        seed=args.seed,
        end_date=args.end_date,
        dirty_fraction=args.dirty_fraction,
    )


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)  # bad arguments: argparse prints usage and exits with code 2
    try:
        generate(cfg)
    except (GeneratorError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
