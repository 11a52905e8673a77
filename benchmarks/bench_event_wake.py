"""An event signal plus the wake of a waiting thread costs at most 40x a bare Python call.

WAITERS guest threads each block in zx.object_wait_one on an event of their own. A timed
batch then signals every event once, through the kernel side of zx.object_signal: the
handle lookup, the rights and mask checks, the signal update, the waiter's observer and
its wakeup, which makes the waiting thread runnable. The syscall's entry and exit are
left out, because they are the scheduling point whose thread switches
bench_scheduler_switch.py measures. The woken thread's own run is left out too: between
batches, untimed, the waiters run, clear their events and block again. The baseline is
the same number of calls of a Python function that takes the same three arguments and
does nothing. The figure is the median batch time over the median baseline batch time,
alternating the two. The cyclic garbage collector is paused during each batch, as
benchlib.time_batch does.

For scale, the detail line also gives a round trip through the whole syscall path: two
threads that take turns signalling each other's event with zx.object_signal and waiting
with zx.object_wait_one, switches included.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import benchlib

from pyzircon import Kernel, zx
from pyzircon.kernel.current import current_thread

WAITERS = 1000
ROUNDS = 21
PING_PONG_ROUNDS = 5000
LIMIT = 40.0

SIGNALED = zx.ZX_EVENT_SIGNALED
INFINITE = zx.ZX_TIME_INFINITE


def _noop(handle: int, clear_mask: int, set_mask: int) -> None:
    return None


def _start_waiters(events: list[int]) -> list[int]:
    threads = []
    for index, event in enumerate(events):

        def wait_forever(arg1: int, arg2: int, event: int = event) -> None:
            while True:
                zx.object_wait_one(event, SIGNALED, INFINITE)
                zx.object_signal(event, SIGNALED, 0)

        thread = zx.thread_create(zx.process_self(), f"waiter-{index}", 0)
        zx.thread_start(thread, wait_forever, 0, 0, 0)
        threads.append(thread)
    return threads


def _wait_all_blocked(threads: list[int]) -> None:
    for thread in threads:
        while zx.object_get_info(thread, zx.ZX_INFO_THREAD).state != (
            zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE
        ):
            zx.nanosleep(0)


def _ping_pong_seconds() -> float:
    """Return the time of one signal-and-wake through the syscalls, switches included."""
    ping, pong = zx.event_create(0), zx.event_create(0)

    def responder(arg1: int, arg2: int) -> None:
        for _ in range(PING_PONG_ROUNDS):
            zx.object_wait_one(ping, SIGNALED, INFINITE)
            zx.object_signal(ping, SIGNALED, 0)
            zx.object_signal(pong, 0, SIGNALED)

    thread = zx.thread_create(zx.process_self(), "responder", 0)
    zx.thread_start(thread, responder, 0, 0, 0)

    def round_trips() -> None:
        for _ in range(PING_PONG_ROUNDS):
            zx.object_signal(ping, 0, SIGNALED)
            zx.object_wait_one(pong, SIGNALED, INFINITE)
            zx.object_signal(pong, SIGNALED, 0)

    seconds = benchlib.time_batch(round_trips, 1)
    zx.object_wait_one(thread, zx.ZX_THREAD_TERMINATED, INFINITE)
    # Each round trip is two signals, each waking the other thread.
    return seconds / (2 * PING_PONG_ROUNDS)


def measure() -> list[benchlib.Result]:
    medians: list[float] = []
    ping_pong: list[float] = []

    def program() -> int:
        signal_impl: Callable[..., None] = zx.object_signal.__wrapped__  # type: ignore[attr-defined]
        caller = current_thread()
        events = [zx.event_create(0) for _ in range(WAITERS)]
        threads = _start_waiters(events)

        def signal_all() -> None:
            for event in events:
                signal_impl(caller, event, 0, SIGNALED)

        def call_all() -> None:
            for event in events:
                _noop(event, 0, SIGNALED)

        def signal_batch() -> float:
            _wait_all_blocked(threads)
            return benchlib.time_batch(signal_all, 1)

        def baseline_batch() -> float:
            return benchlib.time_batch(call_all, 1)

        medians.extend(benchlib.interleaved_medians(baseline_batch, signal_batch, ROUNDS))
        _wait_all_blocked(threads)
        ping_pong.append(_ping_pong_seconds())
        for thread in threads:
            zx.task_kill(thread)
        return 0

    Kernel(seed=0).run(program)
    baseline, signal = medians
    result = benchlib.Result(
        goal="event signal plus wake of a waiting thread vs bare Python call",
        figure=signal / baseline,
        limit=LIMIT,
        comparison="<=",
        unit="x",
        detail=(
            f"median per signal and wake {signal / WAITERS * 1e9:.0f} ns, bare call "
            f"{baseline / WAITERS * 1e9:.0f} ns ({ROUNDS} batches of {WAITERS:,} each); "
            f"through the syscalls with switches, {ping_pong[0] * 1e9:.0f} ns per signal "
            "and wake"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
