"""Errors meant for people, and the exit codes schedulers see."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Process exit codes: 0 on success, one code per step that can fail."""

    OK = 0
    INTERNAL = 1
    CONFIG = 2
    LOCKED = 3
    RAW_VALIDATION = 4
    DBT = 5
    MART_VALIDATION = 6
    PUBLISH = 7
    # Ctrl-C or SIGTERM (a scheduler's stop): 128 + SIGINT, the shell's convention.
    INTERRUPTED = 130


class OrchestratorError(Exception):
    """A failure with a readable message; `step` names the step it stopped.

    Raised where the file, row or setting at fault is known, caught once in
    `cli.main`, printed without a traceback (the traceback goes to the log).
    """

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        exit_code: ExitCode = ExitCode.INTERNAL,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.exit_code = exit_code
        self.run_dir: Path | None = None  # set once the failure is recorded in a run folder


class ConfigError(OrchestratorError):
    """A flag, environment variable or file that makes the run impossible."""

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message, step=step, exit_code=ExitCode.CONFIG)


class LockedError(OrchestratorError):
    """Another run holds the warehouse lock."""

    def __init__(self, message: str) -> None:
        super().__init__(message, step="lock", exit_code=ExitCode.LOCKED)
