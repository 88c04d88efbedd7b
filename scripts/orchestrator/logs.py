"""Logging: short progress lines on the console, everything in runs/<id>/run.log."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from scripts.orchestrator.errors import ConfigError

LOGGER_NAME = "orchestrator"
# Tracebacks: to the run log (through the root logger) only, never to the console.
TRACE_LOGGER_NAME = "orchestrator_trace"
_CONSOLE_FORMAT = "%(asctime)s  %(message)s"
_FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def get_logger(suffix: str | None = None) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{suffix}" if suffix else LOGGER_NAME)


def console_level(verbosity: int) -> int:
    """-q → warnings only, default → progress, -v → details."""
    if verbosity < 0:
        return logging.WARNING
    if verbosity == 0:
        return logging.INFO
    return logging.DEBUG


def setup_console(verbosity: int) -> None:
    """Send the orchestrator's own messages to stderr at the chosen level.

    Library loggers are left alone on the console; they reach the run log
    through the root logger.
    """
    logger = get_logger()
    logger.setLevel(logging.DEBUG)
    for handler in list(logger.handlers):
        if getattr(handler, "_orchestrator_console", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(console_level(verbosity))
    handler.setFormatter(logging.Formatter(_CONSOLE_FORMAT, datefmt="%H:%M:%S"))
    handler._orchestrator_console = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    trace = logging.getLogger(TRACE_LOGGER_NAME)
    if not trace.handlers:  # keeps logging's last-resort handler from printing tracebacks
        trace.addHandler(logging.NullHandler())


def attach_run_log(path: Path) -> logging.Handler:
    """Write every record (ours at DEBUG, libraries' warnings) to `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the run's log {path} ({exc.strerror}): the runs folder must be"
            " writable; fix its permissions or choose another with --runs-dir"
        ) from exc
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(_FILE_FORMAT))
    logging.getLogger().addHandler(handler)
    return handler


def detach(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()
