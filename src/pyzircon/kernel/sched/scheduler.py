"""The one run loop: every guest thread is a greenlet, and a seeded RNG picks who runs next.

Threads switch only at kernel entries (the end of each syscall, a block, an exit), so a
run is a pure function of the program and the seed. At the end of each syscall the RNG
draws the next thread among the runnable ones, the caller included. When it draws the
caller, the caller goes on without a switch. Time is virtual: each syscall costs a fixed
amount, and when every thread is blocked the clock jumps to the next deadline. With no
deadline left, the run stops with `Deadlock`, which names every blocked thread.

Each thread's `runtime` counts the virtual time it ran (`cpu_time`) and the time it
waited in the run queue while another thread ran (`queue_time`), for ZX_INFO_TASK_RUNTIME.

Syscalls do not call `block` directly: kernel/objects/wait.py wraps it with deadlines,
kills and suspension.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from greenlet import greenlet

# Virtual time one syscall costs, in nanoseconds.
SYSCALL_COST_NS = 1000


class ThreadExit(BaseException):
    """Unwinds a guest thread's greenlet when the thread exits or is killed.

    It derives from BaseException so that guest code catching `Exception` cannot stop it.
    """


class Deadlock(RuntimeError):
    """Every live thread is blocked and no deadline can wake any of them.

    `blocked` has one line per blocked thread, in the order the threads blocked, naming
    the thread and what it waits on. `now_ns` is the virtual time when the run stopped.
    """

    def __init__(self, blocked: list[str], now_ns: int = 0) -> None:
        self.blocked = blocked
        self.now_ns = now_ns
        lines = "\n".join(f"  {line}" for line in blocked)
        super().__init__(
            f"deadlock at {now_ns} ns: every thread is blocked and no deadline is left:\n{lines}"
        )


@dataclass(slots=True)
class TaskRuntime:
    """Virtual time a thread (or every thread of a task) spent running and queued, in ns."""

    cpu_time: int = 0
    queue_time: int = 0

    def add(self, other: TaskRuntime) -> None:
        self.cpu_time += other.cpu_time
        self.queue_time += other.queue_time


class Schedulable(Protocol):
    """What the run loop needs from a thread."""

    greenlet: greenlet | None
    runtime: TaskRuntime

    def describe_wait(self) -> str: ...

    def resume(self) -> None: ...


class Scheduler:
    """The run queue, the virtual clock and the switch points."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:scheduler")
        self._getrandbits = self._rng.getrandbits
        # The runnable threads, the running one included, in the order they became
        # runnable. `_runnable_set` contains the same threads, for O(1) membership tests.
        self.runnable: list[Schedulable] = []
        self._runnable_set: set[Schedulable] = set()
        # The blocked threads in the order they blocked (a dict used as an ordered set).
        self.blocked: dict[Schedulable, None] = {}
        self.current: Schedulable | None = None
        self.now_ns = 0
        # How many times a thread was switched in, for statistics and benchmarks.
        self.switches = 0
        self._loop: greenlet | None = None
        self._done: Callable[[], bool] | None = None
        # When each runnable thread that is not running entered the run queue, and when
        # the running thread was switched in.
        self._queued_since: dict[Schedulable, int] = {}
        self._run_started = 0
        # A heap of (deadline_ns, sequence), one entry per block with a deadline. An entry
        # counts only while `_sleepers` maps its sequence to the blocked thread. Entries of
        # threads woken or gone earlier are skipped when they surface; they keep no thread.
        self._deadlines: list[tuple[int, int]] = []
        self._sleepers: dict[int, Schedulable] = {}
        self._block_sequence: dict[Schedulable, int] = {}
        self._sequence = 0

    # Run queue.

    def make_runnable(self, thread: Schedulable) -> None:
        blocked = self.blocked
        if thread in blocked:
            del blocked[thread]
            if thread in self._block_sequence:
                self._forget_deadline(thread)
        runnable_set = self._runnable_set
        if thread not in runnable_set:
            runnable_set.add(thread)
            self.runnable.append(thread)
            if thread is not self.current:
                self._queued_since[thread] = self.now_ns

    def _remove_runnable(self, thread: Schedulable) -> None:
        if thread in self._runnable_set:
            self._runnable_set.remove(thread)
            self.runnable.remove(thread)
            self._queued_since.pop(thread, None)

    def forget(self, thread: Schedulable) -> None:
        """Drop a thread that is exiting from every queue, settling its runtime."""
        thread.runtime.add(self._unsettled_runtime(thread))
        if thread is self.current:
            self._run_started = self.now_ns
        self._remove_runnable(thread)
        if thread in self.blocked:
            del self.blocked[thread]
        self._forget_deadline(thread)

    def runtime_of(self, thread: Schedulable) -> TaskRuntime:
        """Return `thread`'s runtime, with the run or the queue wait in progress counted."""
        total = TaskRuntime(thread.runtime.cpu_time, thread.runtime.queue_time)
        total.add(self._unsettled_runtime(thread))
        return total

    def _unsettled_runtime(self, thread: Schedulable) -> TaskRuntime:
        if thread is self.current:
            return TaskRuntime(cpu_time=self.now_ns - self._run_started)
        since = self._queued_since.get(thread)
        if since is not None:
            return TaskRuntime(queue_time=self.now_ns - since)
        return TaskRuntime()

    # Switch points, called on the current thread.

    def preempt(self) -> None:
        """Charge one syscall and let the RNG draw the next thread; the caller stays runnable.

        Sleepers whose deadline the clock has reached become runnable first, as a timer
        interrupt would wake them, so a thread that only makes syscalls cannot starve them.
        """
        self.now_ns += SYSCALL_COST_NS
        if self._deadlines and self._deadlines[0][0] <= self.now_ns:
            self._wake_expired()
        count = len(self.runnable)
        if count < 2:
            return
        chosen = self.runnable[self._draw(count)]
        if chosen is self.current:
            return
        if self._done is not None and self._done():
            # The run is over: go back to the loop, which returns.
            self._switch_to_loop()
            return
        self._switch_to(chosen)

    def block(self, deadline_ns: int | None = None) -> None:
        """Park the current thread until `make_runnable` (or the deadline) wakes it."""
        thread = self.current
        assert thread is not None, "block() called outside a guest thread"
        self._remove_runnable(thread)
        self.blocked[thread] = None
        self._sequence += 1
        if deadline_ns is not None:
            self._block_sequence[thread] = self._sequence
            self._sleepers[self._sequence] = thread
            heapq.heappush(self._deadlines, (deadline_ns, self._sequence))
        self._switch_to_loop()

    def _forget_deadline(self, thread: Schedulable) -> None:
        sequence = self._block_sequence.pop(thread, None)
        if sequence is not None:
            del self._sleepers[sequence]

    def _switch_to_loop(self) -> None:
        assert self._loop is not None
        self._loop.switch()

    def _switch_to(self, thread: Schedulable) -> None:
        """Switch from the running thread straight to runnable `thread`, not via the loop.

        The loop is needed only when nothing can run; going around it would cost a second
        greenlet switch on every preemption. This is `_settle_current` then
        `_start_running`, written out because it runs on every switch.
        """
        now = self.now_ns
        queued_since = self._queued_since
        previous = self.current
        if previous is not None:
            previous.runtime.cpu_time += now - self._run_started
            queued_since[previous] = now
        since = queued_since.pop(thread, None)
        if since is not None:
            thread.runtime.queue_time += now - since
        self._run_started = now
        self.switches += 1
        self.current = thread
        thread.resume()

    def _start_running(self, thread: Schedulable) -> None:
        queued_since = self._queued_since.pop(thread, None)
        if queued_since is not None:
            thread.runtime.queue_time += self.now_ns - queued_since
        self._run_started = self.now_ns
        self.switches += 1
        self.current = thread

    def _settle_current(self) -> None:
        """Charge the running thread for its run so far; it stops being the current one."""
        thread = self.current
        if thread is None:
            return
        thread.runtime.cpu_time += self.now_ns - self._run_started
        if thread in self._runnable_set:
            self._queued_since[thread] = self.now_ns
        self.current = None

    def _draw(self, count: int) -> int:
        """Draw an index into the run queue of `count` threads, as `randrange(count)` would.

        This is CPython's `randrange` algorithm for one positive argument (draw
        `count.bit_length()` random bits until the value is below `count`) without the
        argument checks, so the draws, and the schedules, are the same.
        """
        bits = count.bit_length()
        value = self._getrandbits(bits)
        while value >= count:
            value = self._getrandbits(bits)
        return value

    # The loop.

    def run_until(self, done: Callable[[], bool]) -> None:
        """Run threads, one at a time, until `done()` is true.

        Raises Deadlock when threads remain but none can run and no deadline is left.
        Returns with threads still parked when `done()` becomes true.
        """
        outer_loop, outer_done = self._loop, self._done
        self._loop = greenlet.getcurrent()
        self._done = done
        try:
            while not done():
                if self._deadlines and self._deadlines[0][0] <= self.now_ns:
                    self._wake_expired()
                if not self.runnable:
                    if self._wake_next_deadline():
                        continue
                    if self.blocked:
                        raise Deadlock([t.describe_wait() for t in self.blocked], self.now_ns)
                    return
                count = len(self.runnable)
                thread = self.runnable[self._draw(count) if count > 1 else 0]
                self._start_running(thread)
                try:
                    # Returns when a thread (maybe another one, after direct switches)
                    # blocks, ends, or finds the run done.
                    thread.resume()
                finally:
                    self._settle_current()
        finally:
            self._loop, self._done = outer_loop, outer_done

    def _pop_live_deadline(self) -> tuple[int, Schedulable] | None:
        """Return the earliest deadline that still counts, removing stale ones."""
        while self._deadlines:
            deadline, sequence = self._deadlines[0]
            thread = self._sleepers.get(sequence)
            if thread is not None:
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
