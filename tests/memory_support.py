"""Helpers for memory tests that run code in other processes, used from guest code.

Tests import them as `from memory_support import run_in, foreign_handle, ...`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from pyzircon import Kernel, user, zx
from pyzircon.machine import FaultReport
from support import run_guest

# Polls of ZX_INFO_PROCESS before a wait gives up. Every poll is a scheduling point, so a
# started process that is not blocked finishes long before this.
MAX_POLLS = 10_000


def in_guest(body: Callable[[], Any]) -> Callable[[], None]:
    """Turn a guest function into a test that runs it as the main thread of a machine."""

    @functools.wraps(body)
    def test() -> None:
        run_guest(body)

    return test


def wait_exited(process: int) -> Any:
    """Poll `process` until ZX_INFO_PROCESS shows it exited; return that record."""
    for _ in range(MAX_POLLS):
        record = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        if record.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED:
            return record
    raise AssertionError(f"process handle {process:#x} did not exit after {MAX_POLLS} polls")


def start_in(process: int, body: Callable[[], Any], arg1: int = zx.ZX_HANDLE_INVALID) -> int:
    """Start `body()` as the first thread of the unstarted `process`; return the thread handle.

    `arg1` is a handle moved into the process, as zx.process_start does.
    """
    thread = zx.thread_create(process, "worker", 0)
    zx.process_start(process, thread, lambda _arg1, _arg2: body(), 0, arg1, 0)
    return thread


def run_in(process: int, body: Callable[[], Any]) -> Any:
    """Run `body()` in the unstarted `process` until the process exits; return its result.

    An exception raised by `body` is returned, not raised, so that the caller can assert
    on it from its own process.
    """
    outcome: dict[str, Any] = {}

    def entry() -> int:
        try:
            outcome["value"] = body()
        except BaseException as error:  # noqa: BLE001 - handed back to the caller
            outcome["value"] = error
        return 0

    start_in(process, entry)
    wait_exited(process)
    return outcome.get("value")


@contextlib.contextmanager
def foreign_handle() -> Iterator[int]:
    """Yield a handle value that is live in another running process, not in the caller's."""
    seen: dict[str, int] = {}
    stop = {"now": False}
    process, _vmar = zx.process_create(zx.job_default(), "holder", 0)
    vmo = zx.vmo_create(zx.PAGE_SIZE, 0)
    thread = zx.thread_create(process, "holder", 0)

    def entry(arg1: int, _arg2: int) -> int:
        seen["value"] = arg1
        # Keep the handle alive, with a syscall per turn so other threads run.
        while not stop["now"]:
            zx.vmo_get_size(arg1)
        return 0

    zx.process_start(process, thread, entry, 0, vmo, 0)
    while "value" not in seen:
        zx.object_get_info(process, zx.ZX_INFO_PROCESS)
    try:
        yield seen["value"]
    finally:
        stop["now"] = True
        wait_exited(process)


def run_machine(body: Callable[[], Any], *, seed: int = 0) -> tuple[Kernel, Any]:
    """Run `body()` as the main thread of a new machine; return (the kernel, its result).

    The kernel stays available afterwards, so that a test can read its fault reports.
    """
    outcome: dict[str, Any] = {}

    def main() -> int:
        outcome["value"] = body()
        return 0

    kernel = Kernel(seed=seed)
    kernel.run(main)
    return kernel, outcome["value"]


def probe(process: int, address: int, access: str) -> int:
    """Load or store one byte at `address` in the unstarted `process`; return its return code.

    `access` is "read" or "write". A fault kills the process with
    ZX_TASK_RETCODE_EXCEPTION_KILL; an access that works ends it with 0.
    """

    def touch() -> int:
        if access == "read":
            user.load(address, 1)
        else:
            user.store(address, b"\x5a")
        return 0

    start_in(process, touch)
    return wait_exited(process).return_code


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def fault_of(kernel: Kernel, process_koid: int) -> FaultReport:
    """Return the one fault report of the process with `process_koid`."""
    reports = [report for report in kernel.fault_reports if report.process_koid == process_koid]
    assert len(reports) == 1, f"expected one fault report for koid {process_koid}: {reports}"
    return reports[0]
