"""The generator's arguments, and its one error type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from scripts.demo_generator.constants import DAY


class GeneratorError(Exception):
    """A problem with the arguments or the output directory, reported without a traceback."""


@dataclass(frozen=True)
class Config:
    accounts: int
    days: int
    out: Path
    fmt: str
    seed: int
    end_date: date
    dirty_fraction: float

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def start_ts(self) -> int:
        return epoch_seconds(self.start_date)

    @property
    def end_ts(self) -> int:
        return epoch_seconds(self.end_date) + DAY - 1


def epoch_seconds(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY
