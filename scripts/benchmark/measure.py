"""Run a command as a child process and measure it: wall time, peak RSS, exit code.

Peak RSS is the child's own high-water mark (`VmHWM` in /proc/<pid>/status), polled every
50 ms until it exits. wait4's `ru_maxrss` is kept too, but Linux carries the parent's
high-water mark over a fork + exec, so a child of a large parent (this process after a
profile or a pandas load) reports at least the parent's peak there.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.benchmark.errors import BenchmarkError


@dataclass(frozen=True)
class Measured:
    """One finished child process."""

    command: list[str]
    exit_code: int
    wall_seconds: float
    peak_rss_bytes: int  # the child's own peak resident set size (VmHWM)
    output_path: Path
    rusage_maxrss_bytes: int = 0  # wait4's ru_maxrss (see the module docstring)

    def output_tail(self, chars: int = 3000) -> str:
        try:
            return self.output_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def _vm_hwm_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class _PeakWatcher(threading.Thread):
    """Polls a process's VmHWM until told to stop; keeps the largest value seen."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            value = _vm_hwm_bytes(self.pid)
            if value is not None:
                self.peak = max(self.peak, value)
            self.done.wait(self.interval)


def run_measured(
    command: Sequence[str],
    *,
    output_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Measured:
    """Run `command`, stdout and stderr to output_path; wait4 gives its own peak RSS."""
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("wb") as out:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(command), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
            )
        except OSError as exc:
            raise BenchmarkError(f"cannot start {command[0]}: {exc.strerror}") from exc
        watcher = _PeakWatcher(proc.pid)
        watcher.start()
        # wait until the child has exited without reaping it, so /proc still has its status
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        wall = time.perf_counter() - started
        watcher.done.set()
        watcher.join()
        _, status, usage = os.wait4(proc.pid, 0)
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code  # reaped by wait4: tell Popen not to wait again
    return Measured(
        command=list(command),
        exit_code=exit_code,
        wall_seconds=wall,
        peak_rss_bytes=watcher.peak or int(usage.ru_maxrss) * 1024,
        output_path=output_path,
        rusage_maxrss_bytes=int(usage.ru_maxrss) * 1024,  # Linux reports KiB
    )
