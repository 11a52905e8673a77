"""A thread switch through the scheduler costs at most 10x a bare greenlet switch.

Two guest threads each make CALLS calls of zx.clock_get_monotonic. At the end of every
syscall the scheduler's RNG draws the next thread among the runnable ones, so about half
of the calls switch to the other thread. The baseline makes the same 2 * CALLS calls in
one thread, which never switches. The figure is the extra time of the two-thread batch
divided by the extra switches the scheduler counted, over the time of one bare greenlet
switch (half a round trip between two greenlets), all measured in one process. The
extra time includes the RNG draws of the calls that did not switch, so it overstates
the cost of a switch a little. The cyclic garbage collector is paused during each timed
part, as benchlib.time_batch does.
"""

from __future__ import annotations

import sys
import time

import benchlib
from greenlet import greenlet

from pyzircon import Kernel, zx
from pyzircon.kernel.current import current_thread

CALLS = 20_000
ROUNDS = 15
GREENLET_ROUND_TRIPS = 200_000
LIMIT = 10.0


def _calls(count: int) -> None:
    for _ in range(count):
        zx.clock_get_monotonic()


def _batch(threads: int) -> tuple[float, int]:
    """Run 2 * CALLS syscalls in `threads` threads; return (seconds, scheduler switches)."""
    scheduler = current_thread().kernel.scheduler
    go = zx.event_create(0)
    per_thread = 2 * CALLS // threads

    def worker(arg1: int, arg2: int) -> None:
        zx.object_wait_one(go, zx.ZX_USER_SIGNAL_0, zx.ZX_TIME_INFINITE)
        _calls(per_thread)

    handles = []
    for index in range(threads):
        thread = zx.thread_create(zx.process_self(), f"worker-{index}", 0)
        zx.thread_start(thread, worker, 0, 0, 0)
        handles.append(thread)
    for thread in handles:
        while zx.object_get_info(thread, zx.ZX_INFO_THREAD).state != (
            zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE
        ):
            zx.nanosleep(0)

    def run_batch() -> None:
        zx.object_signal(go, 0, zx.ZX_USER_SIGNAL_0)
        for thread in handles:
            zx.object_wait_one(thread, zx.ZX_THREAD_TERMINATED, zx.ZX_TIME_INFINITE)

    switches_before = scheduler.switches
    seconds = benchlib.time_batch(run_batch, 1)
    switches = scheduler.switches - switches_before
    zx.handle_close_many([go, *handles])
    return seconds, switches


def _greenlet_switch_seconds() -> float:
    """Return the time of one bare greenlet switch (half a round trip between two).

    The two greenlets are fresh ones that start at the same stack depth, so a switch
    copies as little stack as greenlet ever does.
    """
    result: list[float] = []

    def pinger() -> None:
        start = time.perf_counter()
        for _ in range(GREENLET_ROUND_TRIPS):
            ponger.switch()
        result.append(time.perf_counter() - start)

    def echo() -> None:
        while True:
            pinger_greenlet.switch()

    pinger_greenlet = greenlet(pinger)
    ponger = greenlet(echo, parent=pinger_greenlet)
    benchlib.time_batch(pinger_greenlet.switch, 1)
    return result[0] / (2 * GREENLET_ROUND_TRIPS)


def measure() -> list[benchlib.Result]:
    rounds: list[tuple[float, float, float, int]] = []

    def program() -> int:
        _batch(1)
        _batch(2)
        _greenlet_switch_seconds()
        for _ in range(ROUNDS):
            # The three measurements of a round run back to back, so that a change in the
            # machine's speed reaches all three.
            bare = _greenlet_switch_seconds()
            one_seconds, one_switches = _batch(1)
            two_seconds, two_switches = _batch(2)
            switches = two_switches - one_switches
            per_switch = (two_seconds - one_seconds) / switches
            rounds.append((per_switch / bare, per_switch, bare, switches))
        return 0

    Kernel(seed=0).run(program)
    ratio, per_switch, bare, switches = sorted(rounds)[len(rounds) // 2]
    result = benchlib.Result(
        goal="thread switch through the scheduler vs bare greenlet switch",
        figure=ratio,
        limit=LIMIT,
        comparison="<=",
        unit="x",
        detail=(
            f"median of {ROUNDS} rounds: {per_switch * 1e9:.0f} ns per scheduler switch "
            f"({switches:,} extra switches in a batch of {2 * CALLS:,} syscalls) against "
            f"{bare * 1e9:.0f} ns per bare greenlet switch ({GREENLET_ROUND_TRIPS:,} round "
            "trips), measured in the same round"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
