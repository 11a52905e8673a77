"""Helpers for inspection tests: run the fixed program and capture what the tools show.

Golden files live in tests/tools/golden/. Run the tests with PYZIRCON_UPDATE_GOLDEN=1 to
rewrite them after an intended change of output, then review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pyzircon import Kernel
from pyzircon.machine import SyscallEvent, TaskEvent
from tools import inspect_program

GOLDEN = Path(__file__).with_name("golden")
SEED = 3


def run_and_capture(
    capture: Callable[[Kernel], dict[str, str]], seed: int = SEED
) -> tuple[Kernel, dict[str, str]]:
    """Run the fixed program; call `capture(kernel)` when its main() returns."""
    kernel = Kernel(seed=seed)
    captured: dict[str, str] = {}

    def main() -> int:
        result = inspect_program.main()
        captured.update(capture(kernel))
        return result

    assert kernel.run(main) == 0
    return kernel, captured


def record_events(seed: int = SEED) -> tuple[list[SyscallEvent], list[TaskEvent]]:
    """Run the fixed program and return every syscall and task event, in order."""
    kernel = Kernel(seed=seed)
    syscalls: list[SyscallEvent] = []
    tasks: list[TaskEvent] = []
    kernel.syscall_hooks.append(syscalls.append)
    kernel.task_hooks.append(tasks.append)
    assert kernel.run(inspect_program.main) == 0
    return syscalls, tasks


def check_golden(name: str, text: str) -> None:
    """Compare `text` with the golden file `name`, or rewrite the file when asked."""
    path = GOLDEN / name
    if os.environ.get("PYZIRCON_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from {path}; see the diff above"
