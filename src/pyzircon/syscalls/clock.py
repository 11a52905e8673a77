"""The monotonic clock and sleeping, on the scheduler's virtual time.

Virtual time advances by a fixed cost per syscall and jumps forward to the next
deadline when every thread is blocked, so sleeping never waits for the host's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.task import ZX_THREAD_STATE_BLOCKED_SLEEPING, ZX_TIME_INFINITE
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.thread import ThreadState
from pyzircon.syscalls.common import I64_MAX, I64_MIN, syscall, to_i64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


@syscall
def clock_get_monotonic(thread: Thread) -> int:
    """zx_clock_get_monotonic: return the virtual monotonic time in nanoseconds."""
    return thread.kernel.scheduler.now_ns


@syscall
def nanosleep(thread: Thread, deadline: object) -> None:
    """zx_nanosleep: block until the monotonic clock reaches `deadline` (ns).

    A deadline in the past only yields the CPU, as on Zircon.

    Checks, in order:
    1. `deadline` is a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    """
    when = to_i64(deadline, "deadline")
    scheduler = thread.kernel.scheduler
    if when <= scheduler.now_ns:
        return

    thread.set_state(ThreadState.BLOCKED)
    thread.blocked_info_state = ZX_THREAD_STATE_BLOCKED_SLEEPING
    thread.wait_reason = (
        "nanosleep forever" if when == ZX_TIME_INFINITE else f"nanosleep until {when} ns"
    )
    scheduler.block(None if when == ZX_TIME_INFINITE else when)
    thread.wait_reason = ""
    if thread.state is ThreadState.BLOCKED:
        thread.set_state(ThreadState.RUNNING)


def deadline_after(nanoseconds: int) -> int:
    """Return the deadline `nanoseconds` from now, saturating at the int64 limits.

    Like Fuchsia's zx_deadline_after, this reads the clock in the vDSO without entering
    the kernel, so it is not a scheduling point.
    """
    now = current_thread().kernel.scheduler.now_ns
    delay = to_i64(nanoseconds, "nanoseconds")
    return max(I64_MIN, min(I64_MAX, now + delay))
