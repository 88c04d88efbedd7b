"""Generate deterministic demo data for the customer-health raw landing zone.

Usage::

    python scripts/generate_demo_data.py --accounts 300 --days 365 --out data/raw \\
        --format parquet --seed 42 --end-date 2026-10-31 --dirty-fraction 0.01

The raw contract, the content and the dirty rows: the docstring of scripts/demo_generator,
the package that holds the code, one part per module. This file is the command, kept at its
path for the Makefile, the benchmark and the tests, and importable as
`scripts.generate_demo_data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.demo_generator.cli import main
from scripts.demo_generator.constants import (
    DIRTY_KINDS,
    FEATURES,
    MAIN_TIMESTAMP,
    TABLE_COLUMNS,
    TABLE_KEYS,
    UNKNOWN_ENUM,
)
from scripts.demo_generator.dirty import dirty_counts

__all__ = [
    "DIRTY_KINDS",
    "FEATURES",
    "MAIN_TIMESTAMP",
    "TABLE_COLUMNS",
    "TABLE_KEYS",
    "UNKNOWN_ENUM",
    "dirty_counts",
    "main",
]

if __name__ == "__main__":
    sys.exit(main())
