"""The one run loop: every guest thread is a greenlet, and a seeded RNG picks who runs next.

Threads switch only at kernel entries (the end of each syscall, a block, an exit), so a
run is a pure function of the program and the seed. Time is virtual: each syscall costs a
fixed amount, and when every thread is blocked the clock jumps to the next deadline.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Protocol

from greenlet import greenlet

# Virtual time one syscall costs, in nanoseconds.
SYSCALL_COST_NS = 1000


class ThreadExit(BaseException):
    """Unwinds a guest thread's greenlet when the thread exits or is killed.

    It derives from BaseException so that guest code catching `Exception` cannot stop it.
    """


class Deadlock(RuntimeError):
    """Every live thread is blocked and no deadline can wake any of them."""

    def __init__(self, blocked: list[str]) -> None:
        self.blocked = blocked
        lines = "\n".join(f"  {line}" for line in blocked)
        super().__init__(f"deadlock: every thread is blocked with no deadline left:\n{lines}")


class Schedulable(Protocol):
    """What the run loop needs from a thread."""

    greenlet: greenlet | None

    def describe_wait(self) -> str: ...

    def resume(self) -> None: ...


class Scheduler:
    """The run queue, the virtual clock and the switch points."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:scheduler")
        self.runnable: list[Schedulable] = []
        self.blocked: list[Schedulable] = []
        self.current: Schedulable | None = None
        self.now_ns = 0
        self._loop: greenlet | None = None
        # A heap of (deadline_ns, sequence, thread). An entry counts only while its
        # sequence is the thread's latest block in `_block_sequence`; older entries are
        # skipped when they surface.
        self._deadlines: list[tuple[int, int, Schedulable]] = []
        self._block_sequence: dict[Schedulable, int] = {}
        self._sequence = 0

    # Run queue.

    def make_runnable(self, thread: Schedulable) -> None:
        if thread in self.blocked:
            self.blocked.remove(thread)
        self._block_sequence.pop(thread, None)
        if thread not in self.runnable:
            self.runnable.append(thread)

    def forget(self, thread: Schedulable) -> None:
        """Drop a thread that is exiting from every queue."""
        if thread in self.runnable:
            self.runnable.remove(thread)
        if thread in self.blocked:
            self.blocked.remove(thread)
        self._block_sequence.pop(thread, None)

    # Switch points, called on the current thread.

    def preempt(self) -> None:
        """Let the run loop pick the next thread; the caller stays runnable.

        Sleepers whose deadline the clock has reached become runnable first, as a timer
        interrupt would wake them, so a thread that only makes syscalls cannot starve them.
        """
        self.now_ns += SYSCALL_COST_NS
        self._wake_expired()
        if len(self.runnable) > 1:
            self._switch_to_loop()

    def block(self, deadline_ns: int | None = None) -> None:
        """Park the current thread until `make_runnable` (or the deadline) wakes it."""
        thread = self.current
        assert thread is not None, "block() called outside a guest thread"
        if thread in self.runnable:
            self.runnable.remove(thread)
        self.blocked.append(thread)
        self._sequence += 1
        self._block_sequence[thread] = self._sequence
        if deadline_ns is not None:
            heapq.heappush(self._deadlines, (deadline_ns, self._sequence, thread))
        self._switch_to_loop()

    def _switch_to_loop(self) -> None:
        assert self._loop is not None
        self._loop.switch()

    # The loop.

    def run_until(self, done: Callable[[], bool]) -> None:
        """Run threads, one at a time, until `done()` is true.

        Raises Deadlock when threads remain but none can run and no deadline is left.
        Returns with threads still parked when `done()` becomes true.
        """
        outer = self._loop
        self._loop = greenlet.getcurrent()
        try:
            while not done():
                self._wake_expired()
                if not self.runnable:
                    if self._wake_next_deadline():
                        continue
                    if self.blocked:
                        raise Deadlock([t.describe_wait() for t in self.blocked])
                    return
                index = self._rng.randrange(len(self.runnable)) if len(self.runnable) > 1 else 0
                thread = self.runnable[index]
                self.current = thread
                try:
                    thread.resume()
                finally:
                    self.current = None
        finally:
            self._loop = outer

    def _pop_live_deadline(self) -> tuple[int, Schedulable] | None:
        """Return the earliest deadline that still counts, removing stale ones."""
        while self._deadlines:
            deadline, sequence, thread = self._deadlines[0]
            if self._block_sequence.get(thread) == sequence:
                return deadline, thread
            heapq.heappop(self._deadlines)
        return None

    def _wake_expired(self) -> None:
        """Make runnable every blocked thread whose deadline has passed."""
        while (entry := self._pop_live_deadline()) is not None and entry[0] <= self.now_ns:
            heapq.heappop(self._deadlines)
            self.make_runnable(entry[1])

    def _wake_next_deadline(self) -> bool:
        """With nothing runnable, jump the clock to the next deadline and wake its thread."""
        entry = self._pop_live_deadline()
        if entry is None:
            return False
        heapq.heappop(self._deadlines)
        self.now_ns = max(self.now_ns, entry[0])
        self.make_runnable(entry[1])
        return True

    @property
    def loop(self) -> greenlet | None:
        return self._loop
