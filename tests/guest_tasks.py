"""Guest-side helpers for tests that run code in other processes and wait for it.

Every function here runs inside a machine (from a test body given to `run_guest`). The
waits poll with syscalls, and every syscall is a scheduling point, so the other threads
make progress while the caller polls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyzircon import zx
from pyzircon.kernel.current import current_thread

ThreadEntry = Callable[[int, int], Any]

# Far more polls than any wait in these tests needs. Each poll is a scheduling point.
MAX_POLLS = 100_000


def park(arg1: int, arg2: int) -> int:
    """Thread entry that blocks until its thread or process is killed."""
    zx.nanosleep(zx.ZX_TIME_INFINITE)
    return 0


def start(
    process: int, entry: ThreadEntry = park, arg1: int = zx.ZX_HANDLE_INVALID, arg2: int = 0
) -> int:
    """Create the first thread of `process`, start it at `entry`, return the thread handle."""
    thread = zx.thread_create(process, "first", 0)
    zx.process_start(process, thread, entry, 0, arg1, arg2)
    return thread


def is_dead(process: int) -> bool:
    """Return whether `process` is DEAD: exited, with no thread left."""
    flags = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags
    if not flags & zx.ZX_INFO_PROCESS_FLAG_EXITED:
        return False
    return not zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)


def yield_cpu() -> None:
    """Make a syscall that only lets other threads run (a deadline in the past)."""
    zx.nanosleep(0)


def wait_until(condition: Callable[[], bool]) -> None:
    """Let other threads run until `condition()` holds.

    Raises AssertionError after MAX_POLLS polls, so a wait that never ends fails the test
    instead of hanging it.
    """
    for _ in range(MAX_POLLS):
        if condition():
            return
        yield_cpu()
    raise AssertionError(f"the condition still does not hold after {MAX_POLLS} polls")


def wait_until_dead(process: int) -> None:
    wait_until(lambda: is_dead(process))


def kill_and_wait(process: int) -> None:
    """Kill `process` and wait until it is DEAD."""
    zx.task_kill(process)
    wait_until_dead(process)


def job_is_dead(job: int) -> bool:
    """Return whether `job` is DEAD: killed, with no child job or process left."""
    if not zx.object_get_info(job, zx.ZX_INFO_JOB).exited:
        return False
    if zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES):
        return False
    return not zx.object_get_info(job, zx.ZX_INFO_JOB_CHILDREN)


def foreign_handle() -> tuple[int, int]:
    """Return (process, value): a running process and an event handle value in its table.

    The value is valid only in that process's table. The process stays parked until the
    caller kills it.
    """
    box: dict[str, int] = {}

    def entry(arg1: int, arg2: int) -> int:
        box["value"] = zx.event_create(0)
        return park(arg1, arg2)

    process, _vmar = zx.process_create(zx.job_default(), "foreign", 0)
    start(process, entry)
    wait_until(lambda: "value" in box)
    return process, box["value"]


def forge_rights(handle: int, rights: int) -> int:
    """Return a new handle to `handle`'s object with exactly `rights`.

    This bypasses the rule that rights only shrink, through the kernel's internals, to
    reach checks that no default rights set can reach (for example ZX_RIGHT_DESTROY on
    an event).
    """
    thread = current_thread()
    table = thread.process.handle_table
    source = table.get(handle)
    assert source is not None, f"{handle:#x} is not a handle of the calling process"
    forged = thread.kernel.handle_arena.allocate(source.obj, rights)
    return table.add(forged)
