"""The one error type the benchmark raises for people (caught once, in cli.main)."""

from __future__ import annotations


class BenchmarkError(Exception):
    """A failure with a readable message naming the file, command or setting at fault."""
