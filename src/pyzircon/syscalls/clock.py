"""The monotonic clock and sleeping, on the scheduler's virtual time.

Virtual time advances by a fixed cost per syscall and jumps forward to the next
deadline when every thread is blocked, so sleeping never waits for the host's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.task import ZX_THREAD_STATE_BLOCKED_SLEEPING, ZX_TIME_INFINITE
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.wait import Wakeup, block
from pyzircon.syscalls.common import I64_MAX, I64_MIN, syscall, to_i64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


def to_deadline(value: object, what: str = "deadline") -> int | None:
    """Convert a zx_time_t deadline; ZX_TIME_INFINITE becomes None (no deadline).

    Raises ZX_ERR_INVALID_ARGS for a value that is not a signed 64-bit int.
    """
    # TODO: Zircon widens each deadline by the calling job's timer slack policy
    # (ZX_JOB_POL_TIMER_SLACK); pyzircon applies no slack yet.
    deadline = to_i64(value, what)
    return None if deadline == ZX_TIME_INFINITE else deadline


@syscall
def clock_get_monotonic(thread: Thread) -> int:
    """zx_clock_get_monotonic: return the virtual monotonic time in nanoseconds."""
    return thread.kernel.scheduler.now_ns


@syscall
def nanosleep(thread: Thread, deadline: object) -> None:
    """zx_nanosleep: block until the monotonic clock reaches `deadline` (ns).

    A deadline in the past only yields the CPU, as on Zircon. ZX_TIME_INFINITE sleeps
    until the thread is killed; when nothing else can run, the run ends with a deadlock
    report.

    Checks, in order:
    1. `deadline` is a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    """
    when = to_deadline(deadline)
    if when is not None and when <= thread.kernel.scheduler.now_ns:
        return
    reason = (
        "nothing: zx_nanosleep(ZX_TIME_INFINITE)"
        if when is None
        else f"zx_nanosleep until {when} ns"
    )
    # Nothing signals this wakeup: only the deadline, a kill or a suspend ends the sleep.
    block(thread, Wakeup(thread), when, ZX_THREAD_STATE_BLOCKED_SLEEPING, reason)


def deadline_after(nanoseconds: int) -> int:
    """Return the deadline `nanoseconds` from now, saturating at the int64 limits.

    Like Fuchsia's zx_deadline_after, this reads the clock in the vDSO without entering
    the kernel, so it is not a scheduling point.
    """
    now = current_thread().kernel.scheduler.now_ns
    delay = to_i64(nanoseconds, "nanoseconds")
    return max(I64_MIN, min(I64_MAX, now + delay))
