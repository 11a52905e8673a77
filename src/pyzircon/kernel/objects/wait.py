"""Blocking: how a syscall parks its thread until an event, a deadline, a kill or a resume.

This is the one blocking primitive of the kernel, the counterpart of Zircon's kernel
`Event` and `WaitQueue`. Every blocking syscall (object waits, port waits, futex waits,
channel calls, sleeps) goes through it, and exception handling can too:

    wakeup = Wakeup(thread)
    register(wakeup)                     # give it to the object that ends the wait
    try:
        status = block(thread, wakeup, deadline, ZX_THREAD_STATE_BLOCKED_PORT, "a port")
    finally:
        unregister(wakeup)               # the wait may end by timeout or kill instead

- `Wakeup.signal(status)` ends the wait with `status` (first signal wins) and makes the
  thread runnable. It may be called from any thread, or before the thread blocks.
- `block` returns the status of the wakeup, or ZX_ERR_TIMED_OUT once the virtual clock
  reaches `deadline_ns` (None waits forever). A wakeup signalled before the deadline
  wins even if the thread runs later, as Zircon's `Event::Wait` returns ZX_OK when
  already signalled. A killed thread raises ThreadExit out of `block`, so callers clean
  up in `finally`. A suspended thread becomes SUSPENDED inside `block` and then waits
  again with the same deadline, as the vDSO retries an interrupted syscall.
- While blocked, the thread is BLOCKED, ZX_INFO_THREAD reports `blocked_state`, and a
  deadlock report says it waits on `reason` (a string, or a function returning one
  that runs only when a report needs it).
- `WaitQueue` is a FIFO of wakeups for objects that wake waiters in order (ports,
  futexes). `WaitObserver` ends a wakeup when an object's signals match, as the object
  waits do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from pyzircon.abi.signals import ZX_SIGNAL_HANDLE_CLOSED
from pyzircon.abi.status import ZX_ERR_TIMED_OUT, ZX_OK
from pyzircon.kernel.objects.base import KernelObject, SignalObserver
from pyzircon.kernel.objects.thread import ThreadState

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

# Enum members bound once: an enum attribute lookup costs several times a plain global
# one, and these run on every block and wakeup.
_BLOCKED = ThreadState.BLOCKED
_RUNNING = ThreadState.RUNNING


class Wakeup:
    """A one-shot event that ends one thread's wait."""

    __slots__ = ("thread", "status")

    def __init__(self, thread: Thread) -> None:
        self.thread = thread
        # None until signalled, then the status the wait returns.
        self.status: int | None = None

    def signal(self, status: int = ZX_OK) -> bool:
        """End the wait with `status`; return False if it had already ended."""
        if self.status is not None:
            return False
        self.status = status
        thread = self.thread
        # Thread.wake, written out: this runs on every wakeup.
        if thread.state is _BLOCKED:
            thread.kernel.scheduler.make_runnable(thread)
        return True

    def __repr__(self) -> str:
        return f"<wakeup thread koid={self.thread.koid} status={self.status}>"


def block(
    thread: Thread,
    wakeup: Wakeup,
    deadline_ns: int | None,
    blocked_state: int,
    reason: str | Callable[[], str],
) -> int:
    """Park `thread` (the calling thread) until `wakeup` is signalled or the deadline passes.

    Returns the wakeup's status or ZX_ERR_TIMED_OUT. Raises ThreadExit if the thread is
    killed. See the module docstring for suspension.
    """
    scheduler = thread.kernel.scheduler
    while True:
        thread.check_kill()
        status = wakeup.status
        if status is not None:
            return status
        if deadline_ns is not None and scheduler.now_ns >= deadline_ns:
            return ZX_ERR_TIMED_OUT
        if thread.suspend_count > 0:
            thread.park_while_suspended()
            continue
        thread.set_state(_BLOCKED)
        thread.blocked_info_state = blocked_state
        thread.wait_reason = reason
        scheduler.block(deadline_ns)
        thread.wait_reason = ""
        if thread.state is _BLOCKED:
            thread.set_state(_RUNNING)


class WaitQueue:
    """Wakeups in the order their threads started waiting."""

    __slots__ = ("_wakeups",)

    def __init__(self) -> None:
        self._wakeups: deque[Wakeup] = deque()

    def __len__(self) -> int:
        return len(self._wakeups)

    def __iter__(self) -> Iterator[Wakeup]:
        return iter(self._wakeups)

    def add(self, wakeup: Wakeup) -> None:
        self._wakeups.append(wakeup)

    def remove(self, wakeup: Wakeup) -> bool:
        """Take `wakeup` out of the queue; return False if it was not there."""
        try:
            self._wakeups.remove(wakeup)
        except ValueError:
            return False
        return True

    def pop(self) -> Wakeup | None:
        """Take the oldest wakeup out of the queue, or return None when it is empty."""
        return self._wakeups.popleft() if self._wakeups else None

    def wake_one(self, status: int = ZX_OK) -> Thread | None:
        """Signal the oldest waiter; return its thread, or None when no thread waits."""
        wakeup = self.pop()
        if wakeup is None:
            return None
        wakeup.signal(status)
        return wakeup.thread

    def wake_all(self, status: int = ZX_OK) -> int:
        """Signal every waiter, oldest first; return how many there were."""
        count = len(self._wakeups)
        while self._wakeups:
            self._wakeups.popleft().signal(status)
        return count


class WaitObserver(SignalObserver):
    """A synchronous wait on one object (Zircon's WaitSignalObserver).

    It ends `wakeup` when a trigger signal is active or the handle is destroyed, and keeps
    the signals seen then in `final`, with ZX_SIGNAL_HANDLE_CLOSED for a cancellation.
    Several observers may share one wakeup, as zx_object_wait_many's do.
    """

    __slots__ = ("wakeup", "final")

    def __init__(self, wakeup: Wakeup) -> None:
        super().__init__()
        self.wakeup = wakeup
        self.final: int | None = None

    def on_match(self, signals: int) -> None:
        self.final = signals
        wakeup = self.wakeup
        if wakeup.status is None:
            # Wakeup.signal(ZX_OK), written out: this is the wake of every object wait.
            wakeup.status = ZX_OK
            thread = wakeup.thread
            if thread.state is _BLOCKED:
                thread.kernel.scheduler.make_runnable(thread)

    def on_cancel(self, signals: int) -> None:
        self.final = signals | ZX_SIGNAL_HANDLE_CLOSED
        self.wakeup.signal(ZX_OK)

    def end(self, target: KernelObject) -> int:
        """Stop observing `target`; return the signals to report to the waiter."""
        if self.final is None:
            # Neither fired nor cancelled, so the observer is still queued.
            target.remove_observer(self)
            return target.signals
        return self.final
