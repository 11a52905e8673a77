"""zx.task_suspend and zx.task_suspend_token: one test per check, then what suspension does.

A suspended thread stops at its next syscall, or at once when blocked, and asserts
ZX_THREAD_SUSPENDED; closing the last token for it asserts ZX_THREAD_RUNNING again and a
blocked syscall goes on waiting.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, park, start
from ipc_support import join, koid, rights, signals_of, spawn, thread_state, wait_for_state
from pyzircon import Kernel, zx
from pyzircon.kernel.sched.scheduler import Deadlock
from support import expect_status, run_guest

INFINITE = zx.ZX_TIME_INFINITE
SUSPENDED = zx.ZX_THREAD_SUSPENDED
RUNNING = zx.ZX_THREAD_RUNNING
SECOND = 1_000_000_000


def wait_signal(handle: int, signal: int, deadline: int = INFINITE) -> int:
    return zx.object_wait_one(handle, signal, deadline)


def sleeper() -> int:
    """Start a thread blocked in an infinite sleep; return once it is blocked."""
    thread = spawn(lambda: zx.nanosleep(INFINITE), "sleeper")
    wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
    return thread


# Checks.


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, -1, None, "h"])
def test_suspend_bad_handle(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.task_suspend, value))


def test_suspend_needs_write_right():
    def body():
        thread = sleeper()
        weak = zx.handle_duplicate(thread, zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_WRITE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.task_suspend, weak)
        # An event has no ZX_RIGHT_WRITE: the rights check comes before the type check.
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.task_suspend, zx.event_create(0))
        zx.task_kill(thread)

    run_guest(body)


@pytest.mark.parametrize(
    "make", [lambda: zx.job_create(zx.job_default(), 0), lambda: zx.vmo_create(4096, 0)]
)
def test_suspend_wrong_type(make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.task_suspend, make()))


def test_suspend_self():
    def body():
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.task_suspend, zx.thread_self())
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.task_suspend, zx.process_self())

    run_guest(body)


def test_suspend_dead_thread():
    def body():
        thread = spawn(lambda: None)
        join(thread)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_suspend, thread)

    run_guest(body)


def test_suspend_dead_process():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_suspend, process)

    run_guest(body)


def test_suspend_token_alias_has_same_checks():
    def body():
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.task_suspend_token, 0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.task_suspend_token, zx.thread_self())
        thread = sleeper()
        token = zx.task_suspend_token(thread)
        wait_signal(thread, SUSPENDED)
        zx.handle_close(token)
        zx.task_kill(thread)
        join(thread)

    run_guest(body)


# Behaviour.


def test_token_object():
    def body():
        thread = sleeper()
        token = zx.task_suspend(thread)
        info = zx.object_get_info(token, zx.ZX_INFO_HANDLE_BASIC)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_one, token, 1, 0)
        zx.task_kill(thread)
        return info

    info = run_guest(body)
    assert info.type == zx.ZX_OBJ_TYPE_SUSPEND_TOKEN
    assert info.rights == zx.ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS
    assert info.props == zx.ZX_OBJ_PROP_NONE


def test_blocked_thread_suspends_and_resumes():
    def body():
        event = zx.event_create(0)
        got = []
        thread = spawn(lambda: got.append(wait_signal(event, zx.ZX_EVENT_SIGNALED)))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        token = zx.task_suspend(thread)
        suspended = wait_signal(thread, SUSPENDED)
        state = thread_state(thread)
        # A signal while suspended is kept for the wait that resumes.
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        for _ in range(10):
            zx.nanosleep(0)
        still = thread_state(thread)
        zx.handle_close(token)
        running = wait_signal(thread, RUNNING)
        join(thread)
        return suspended, state, still, running, got

    suspended, state, still, running, got = run_guest(body)
    assert suspended & SUSPENDED
    assert not suspended & RUNNING
    assert state == zx.ZX_THREAD_STATE_SUSPENDED
    assert still == zx.ZX_THREAD_STATE_SUSPENDED
    assert running & RUNNING
    assert not running & SUSPENDED
    assert got == [zx.ZX_EVENT_SIGNALED]


def test_running_thread_stops_at_next_syscall():
    def body():
        counter = [0]

        def spin():
            while True:
                counter[0] += 1
                zx.clock_get_monotonic()

        thread = spawn(spin)
        for _ in range(5):
            zx.nanosleep(0)
        token = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        stopped_at = counter[0]
        for _ in range(20):
            zx.nanosleep(0)
        unchanged = counter[0] == stopped_at
        zx.handle_close(token)
        wait_signal(thread, RUNNING)
        zx.task_kill(thread)
        join(thread)
        return unchanged

    assert run_guest(body)


def test_tokens_nest():
    def body():
        thread = sleeper()
        first = zx.task_suspend(thread)
        second = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        zx.handle_close(first)
        expect_status(zx.ZX_ERR_TIMED_OUT, wait_signal, thread, RUNNING, zx.deadline_after(SECOND))
        zx.handle_close(second)
        wait_signal(thread, RUNNING)
        zx.task_kill(thread)
        join(thread)

    run_guest(body)


def test_unstarted_thread_starts_suspended():
    def body():
        ran = []
        thread = zx.thread_create(zx.process_self(), "late", 0)
        token = zx.task_suspend(thread)
        zx.thread_start(thread, lambda arg1, arg2: ran.append(True), 0, 0, 0)
        wait_signal(thread, SUSPENDED)
        before = list(ran)
        zx.handle_close(token)
        join(thread)
        return before, ran

    assert run_guest(body) == ([], [True])


def test_timed_wait_expiring_while_suspended():
    def body():
        event = zx.event_create(0)
        errors = []
        deadline = zx.deadline_after(SECOND)

        def waiter():
            try:
                zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, deadline)
            except zx.ZxError as error:
                errors.append(error.status)

        thread = spawn(waiter)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        token = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        zx.nanosleep(zx.deadline_after(2 * SECOND))
        zx.handle_close(token)
        join(thread)
        return errors

    assert run_guest(body) == [zx.ZX_ERR_TIMED_OUT]


def test_kill_suspended_thread():
    def body():
        thread = sleeper()
        token = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        zx.task_kill(thread)
        join(thread)
        signals = signals_of(thread)
        zx.handle_close(token)
        return signals

    signals = run_guest(body)
    assert signals & zx.ZX_THREAD_TERMINATED
    assert not signals & (SUSPENDED | RUNNING)


def test_process_suspend_stops_every_thread():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        first = start(process, park)
        second = zx.thread_create(process, "second", 0)
        zx.thread_start(second, park, 0, 0, 0)
        token = zx.task_suspend(process)
        for thread in (first, second):
            wait_signal(thread, SUSPENDED)
        states = [thread_state(thread) for thread in (first, second)]
        zx.handle_close(token)
        for thread in (first, second):
            wait_signal(thread, RUNNING)
        kill_and_wait(process)
        return states

    assert run_guest(body) == [zx.ZX_THREAD_STATE_SUSPENDED] * 2


def test_process_suspended_before_start():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        token = zx.task_suspend(process)
        ran = []
        first = start(process, lambda arg1, arg2: ran.append(True) or park(arg1, arg2))
        wait_signal(first, SUSPENDED)
        before = list(ran)
        zx.handle_close(token)
        wait_signal(first, RUNNING)
        while not ran:
            zx.nanosleep(0)
        kill_and_wait(process)
        return before

    assert run_guest(body) == []


def test_process_and_thread_tokens_nest():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        thread = start(process, park)
        process_token = zx.task_suspend(process)
        thread_token = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        zx.handle_close(process_token)
        expect_status(zx.ZX_ERR_TIMED_OUT, wait_signal, thread, RUNNING, zx.deadline_after(SECOND))
        zx.handle_close(thread_token)
        wait_signal(thread, RUNNING)
        kill_and_wait(process)

    run_guest(body)


def test_suspend_dying_process():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        thread = start(process, park)
        token = zx.task_suspend(thread)
        wait_signal(thread, SUSPENDED)
        zx.task_kill(process)
        # The process is DYING or DEAD by now; either way it cannot be suspended.
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_suspend, process)
        zx.handle_close(token)
        join(thread)

    run_guest(body)


def test_suspended_thread_in_deadlock_report():
    def main():
        thread = zx.thread_create(zx.process_self(), "frozen", 0)
        zx.thread_start(thread, lambda arg1, arg2: zx.nanosleep(INFINITE), 0, 0, 0)
        zx.task_suspend(thread)
        zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        zx.object_wait_one(thread, zx.ZX_THREAD_TERMINATED, INFINITE)

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=0).run(main)
    assert any(
        "'frozen'" in line and "is suspended (1 suspensions" in line
        for line in caught.value.blocked
    )


def test_suspend_token_moves_through_channel():
    # A token keeps its thread suspended wherever its handle lives.
    def body():
        thread = sleeper()
        first, second = zx.channel_create(0)
        zx.channel_write(first, 0, b"", [zx.task_suspend(thread)])
        wait_signal(thread, SUSPENDED)
        _, (token,) = zx.channel_read(second, 0, 0, 1)
        same = rights(token) == zx.ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS
        zx.handle_close(token)
        wait_signal(thread, RUNNING)
        zx.task_kill(thread)
        join(thread)
        return same, koid(thread) > 0

    assert run_guest(body) == (True, True)
