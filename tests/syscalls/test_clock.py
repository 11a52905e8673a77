"""zx.clock_get_monotonic, zx.nanosleep and zx.deadline_after on virtual time.

Time advances by a fixed cost per syscall and jumps to the next deadline when every
thread is blocked. With no deadline left, the run stops with a deadlock report.
"""

from __future__ import annotations

import pytest

from ipc_support import join, spawn, wait_for_state
from pyzircon import Kernel, zx
from pyzircon.kernel.sched.scheduler import SYSCALL_COST_NS, Deadlock
from support import expect_status, run_guest

SECOND = 1_000_000_000


def test_clock_advances_by_syscall_cost():
    def body():
        first = zx.clock_get_monotonic()
        second = zx.clock_get_monotonic()
        return first, second

    first, second = run_guest(body)
    assert second - first == SYSCALL_COST_NS


@pytest.mark.parametrize("deadline", [None, 1 << 63, 1.0, "0"])
def test_nanosleep_bad_deadline(deadline):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.nanosleep, deadline))


@pytest.mark.parametrize("deadline", [0, -5, zx.ZX_TIME_INFINITE_PAST])
def test_nanosleep_past_deadline_only_yields(deadline):
    def body():
        before = zx.clock_get_monotonic()
        zx.nanosleep(deadline)
        return zx.clock_get_monotonic() - before

    assert run_guest(body) == 2 * SYSCALL_COST_NS


def test_nanosleep_jumps_to_deadline():
    def body():
        deadline = zx.deadline_after(10 * SECOND)
        zx.nanosleep(deadline)
        return deadline, zx.clock_get_monotonic()

    deadline, now = run_guest(body)
    # The clock jumped to the deadline exactly, then charged the end of zx.nanosleep.
    assert now == deadline + SYSCALL_COST_NS


def test_sleepers_wake_in_deadline_order():
    def body():
        order = []
        threads = []
        for delay in (3, 1, 2):
            deadline = zx.deadline_after(delay * SECOND)
            threads.append(
                spawn(
                    lambda deadline=deadline, delay=delay: order.append(
                        (delay, zx.nanosleep(deadline), zx.clock_get_monotonic() >= deadline)
                    )
                )
            )
        for thread in threads:
            join(thread)
        return order

    assert run_guest(body) == [(1, None, True), (2, None, True), (3, None, True)]


def test_sleeping_thread_state():
    def body():
        thread = spawn(lambda: zx.nanosleep(zx.deadline_after(SECOND)))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        join(thread)

    run_guest(body)


def test_deadline_wakes_sleeper_while_others_run():
    # A sleeper wakes when the clock passes its deadline even if other threads never
    # block, as a timer interrupt would wake it.
    def body():
        woke = []
        deadline = zx.deadline_after(50 * SYSCALL_COST_NS)
        thread = spawn(lambda: woke.append(zx.nanosleep(deadline) or zx.clock_get_monotonic()))
        while not woke:
            zx.clock_get_monotonic()
        join(thread)
        return deadline, woke[0]

    deadline, woke_at = run_guest(body)
    assert deadline <= woke_at < deadline + 10 * SYSCALL_COST_NS


def test_sleep_forever_reports_deadlock():
    def main():
        zx.nanosleep(zx.ZX_TIME_INFINITE)

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=0).run(main)
    (line,) = caught.value.blocked
    assert line.startswith("thread 'main' (koid ")
    assert "of process 'main' (koid " in line
    assert line.endswith("waits on nothing: zx_nanosleep(ZX_TIME_INFINITE)")


def test_deadlock_names_every_blocked_thread():
    def main():
        event = zx.event_create(0)
        zx.thread_start(
            zx.thread_create(zx.process_self(), "sleeper", 0),
            lambda arg1, arg2: zx.nanosleep(zx.ZX_TIME_INFINITE),
            0,
            0,
            0,
        )
        port = zx.port_create(0)
        zx.thread_start(
            zx.thread_create(zx.process_self(), "port-reader", 0),
            lambda arg1, arg2: zx.port_wait(port, zx.ZX_TIME_INFINITE),
            0,
            0,
            0,
        )
        zx.nanosleep(zx.deadline_after(SECOND))
        zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE)

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=0).run(main)
    report = caught.value.blocked
    assert caught.value.now_ns >= SECOND
    assert len(report) == 3
    assert any("'sleeper'" in line and "zx_nanosleep(ZX_TIME_INFINITE)" in line for line in report)
    assert any("'port-reader'" in line and "port koid" in line for line in report)
    assert any("'main'" in line and "zx_object_wait_one" in line for line in report)
    assert "deadlock at" in str(caught.value)


@pytest.mark.parametrize(
    ("delay", "expected"),
    [(0, 0), (5, 5), ((1 << 63) - 1, (1 << 63) - 1), (-(1 << 63), -(1 << 63))],
)
def test_deadline_after_saturates(delay, expected):
    def body():
        now = zx.clock_get_monotonic() + SYSCALL_COST_NS
        return now, zx.deadline_after(delay)

    now, deadline = run_guest(body)
    assert deadline == max(-(1 << 63), min((1 << 63) - 1, now + delay))
    if delay in (0, 5):
        assert deadline == now + expected


@pytest.mark.parametrize("delay", [None, 1 << 63, 1.0])
def test_deadline_after_bad_argument(delay):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.deadline_after, delay))
