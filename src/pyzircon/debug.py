"""Dumps and pictures from inside a guest program, for debugging.

`dump("vmaps", member)` prints the member's address space at that point of the run;
`save_map("group.svg")` draws every shared group. A process is named by a handle value
in the caller's table or by its name. These are not syscalls: they read the machine's
objects directly, need no rights, switch no thread and advance no virtual time, so
adding them to a program does not change its run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from pyzircon.abi.rights import ZX_RIGHT_NONE
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.process import Process
from pyzircon.syscalls.common import get_object
from pyzircon.tools.inspector import DUMP_KINDS, Inspector

__all__ = ["DUMP_KINDS", "dump", "save_map"]


def _inspector_and_process(process: int | str | None) -> tuple[Inspector, Process | str | None]:
    thread = current_thread()
    inspector = thread.kernel.inspect
    if process is None or isinstance(process, str):
        return inspector, process
    return inspector, get_object(thread, process, Process, ZX_RIGHT_NONE)


def dump(kind: str, process: int | str | None = None, *, file: IO[str] | None = None) -> str:
    """Print the dump `kind` ("ps", "vmaps", "handles" or "memory") and return its text.

    `process` (a handle value or a process name) narrows "vmaps" and "handles" to one
    process; without it they cover every live process. The text goes to `file`,
    standard output by default. Raises ZxError: ZX_ERR_BAD_STATE outside guest code,
    ZX_ERR_BAD_HANDLE or ZX_ERR_WRONG_TYPE for a handle that names no process,
    ZX_ERR_NOT_FOUND for an unknown name, ZX_ERR_INVALID_ARGS for an unknown kind.
    """
    inspector, target = _inspector_and_process(process)
    text = inspector.dump(kind, target)
    print(text, end="", file=file if file is not None else sys.stdout)
    return text


def save_map(path: str | Path, *processes: int | str) -> None:
    """Write the SVG picture of the groups of `processes` (default: every group) to `path`."""
    thread = current_thread()
    inspector = thread.kernel.inspect
    chosen: list[Process | str] = []
    for process in processes:
        _inspector, target = _inspector_and_process(process)
        assert target is not None
        chosen.append(target)
    inspector.save_map(path, chosen or None)
