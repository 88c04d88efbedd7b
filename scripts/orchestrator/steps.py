"""Named, timed steps: one progress line when a step starts and one when it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from scripts.orchestrator.errors import ExitCode, OrchestratorError
from scripts.orchestrator.logs import get_logger

log = get_logger("steps")


@dataclass
class StepRecord:
    """What one step did; the step body fills in `rows` and `detail`."""

    name: str
    status: str = "running"
    seconds: float = 0.0
    rows: int | None = None
    detail: str = ""
    warnings: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepTimer:
    """Runs steps in order and remembers which one failed."""

    records: list[StepRecord] = field(default_factory=list)
    failed_step: str | None = None

    @contextmanager
    def step(self, name: str, description: str) -> Iterator[StepRecord]:
        record = StepRecord(name=name)
        self.records.append(record)
        log.info("[%s] %s ...", name, description)
        started = time.perf_counter()
        try:
            yield record
        except OrchestratorError as exc:
            record.status = "failed"
            exc.step = exc.step or name
            self.failed_step = exc.step
            raise
        except KeyboardInterrupt:
            record.status = "interrupted"
            self.failed_step = name
            raise
        except Exception as exc:
            record.status = "failed"
            self.failed_step = name
            raise OrchestratorError(
                f"{type(exc).__name__}: {exc}", step=name, exit_code=ExitCode.INTERNAL
            ) from exc
        else:
            if record.status == "running":
                record.status = "warn" if record.warnings else "ok"
        finally:
            record.seconds = round(time.perf_counter() - started, 3)
            rows = f", {record.rows:,} rows" if record.rows is not None else ""
            detail = f" ({record.detail})" if record.detail else ""
            log.info("[%s] %s in %.1f s%s%s", name, record.status, record.seconds, rows, detail)

    def skip(self, name: str, reason: str) -> None:
        self.records.append(StepRecord(name=name, status="skipped", detail=reason))
        log.info("[%s] skipped (%s)", name, reason)
