"""ZX_INFO_TASK_RUNTIME and ZX_INFO_THREAD on virtual time.

A thread's cpu_time is the virtual time it ran (each syscall costs a fixed amount), and
its queue_time the time it was runnable while another thread ran. A process adds up its
threads, the dead ones included, and a job its processes and child jobs.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, park, start
from ipc_support import join, spawn, wait_for_state
from pyzircon import zx
from pyzircon.kernel.sched.scheduler import SYSCALL_COST_NS
from support import expect_status, run_guest

TOPIC = zx.ZX_INFO_TASK_RUNTIME


def runtime(handle: int):
    return zx.object_get_info(handle, TOPIC)


def busy_thread(calls: int) -> int:
    """Start a thread that makes `calls` syscalls and exits; return it."""

    def work():
        for _ in range(calls):
            zx.clock_get_monotonic()

    return spawn(work)


def test_runtime_checks():
    def body():
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, 0, TOPIC)
        weak = zx.handle_duplicate(
            zx.thread_self(), zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_INSPECT
        )
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, TOPIC)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, zx.event_create(0), TOPIC)
        # Zircon checks the right on any object before the type.
        weak_event = zx.handle_duplicate(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak_event, TOPIC)

    run_guest(body)


def test_thread_cpu_time_counts_its_syscalls():
    def body():
        thread = busy_thread(50)
        join(thread)
        return runtime(thread)

    record = run_guest(body)
    assert record.cpu_time >= 50 * SYSCALL_COST_NS
    assert record.page_fault_time == 0
    assert record.lock_contention_time == 0


def test_blocked_time_is_not_cpu_time():
    def body():
        thread = spawn(lambda: zx.nanosleep(zx.deadline_after(10**9)))
        join(thread)
        return runtime(thread)

    record = run_guest(body)
    assert record.cpu_time < 10 * SYSCALL_COST_NS


@pytest.mark.parametrize("seed", range(3))
def test_queue_time_while_another_runs(seed):
    def body():
        threads = [busy_thread(40) for _ in range(3)]
        for thread in threads:
            join(thread)
        return [runtime(thread) for thread in threads]

    records = run_guest(body, seed=seed)
    # Three busy threads share one CPU, so each waits while the others run.
    assert all(record.queue_time > 0 for record in records)


def test_own_thread_counts_current_run():
    def body():
        first = runtime(zx.thread_self()).cpu_time
        for _ in range(10):
            zx.clock_get_monotonic()
        return runtime(zx.thread_self()).cpu_time - first

    assert run_guest(body) >= 10 * SYSCALL_COST_NS


def test_process_sums_threads_dead_and_alive():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)

        def entry(arg1, arg2):
            for _ in range(20):
                zx.clock_get_monotonic()
            helper = zx.thread_create(zx.process_self(), "helper", 0)
            zx.thread_start(
                helper, lambda a, b: [zx.clock_get_monotonic() for _ in range(5)], 0, 0, 0
            )
            zx.object_wait_one(helper, zx.ZX_THREAD_TERMINATED, zx.ZX_TIME_INFINITE)
            return park(arg1, arg2)

        first = start(process, entry)
        wait_for_state(first, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        total = runtime(process)
        alive = runtime(first)
        kill_and_wait(process)
        return total, alive, runtime(process)

    total, alive, after_kill = run_guest(body)
    assert total.cpu_time > alive.cpu_time >= 20 * SYSCALL_COST_NS
    assert after_kill.cpu_time >= total.cpu_time


def test_job_runtime_frozen_after_kill():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        empty = zx.object_get_info(job, TOPIC, 1)
        process, _ = zx.process_create(job, "p", 0)

        def entry(arg1, arg2):
            for _ in range(30):
                zx.clock_get_monotonic()
            return park(arg1, arg2)

        thread = start(process, entry)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        zx.task_kill(job)
        zx.object_wait_one(job, zx.ZX_JOB_TERMINATED, zx.ZX_TIME_INFINITE)
        killed = runtime(job)
        for _ in range(20):
            zx.clock_get_monotonic()
        return empty, killed, runtime(job)

    (records, actual, avail), killed, later = run_guest(body)
    assert (actual, avail) == (1, 1)
    assert (records[0].cpu_time, records[0].queue_time) == (0, 0)
    assert killed.cpu_time >= 30 * SYSCALL_COST_NS
    assert later == killed


def test_thread_info_states():
    def body():
        event = zx.event_create(0)
        unstarted = zx.thread_create(zx.process_self(), "new", 0)
        states = {"new": zx.object_get_info(unstarted, zx.ZX_INFO_THREAD).state}
        thread = spawn(lambda: zx.object_wait_one(event, zx.ZX_USER_SIGNAL_0, zx.ZX_TIME_INFINITE))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        states["self"] = zx.object_get_info(zx.thread_self(), zx.ZX_INFO_THREAD).state
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        join(thread)
        states["dead"] = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        return states

    assert run_guest(body) == {
        "new": zx.ZX_THREAD_STATE_NEW,
        "self": zx.ZX_THREAD_STATE_RUNNING,
        "dead": zx.ZX_THREAD_STATE_DEAD,
    }


def test_process_threads_lists_live_threads():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        first = start(process, park)
        second = zx.thread_create(process, "second", 0)
        zx.thread_start(second, park, 0, 0, 0)
        koids = zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)
        expected = [zx.object_get_info(t, zx.ZX_INFO_HANDLE_BASIC).koid for t in (first, second)]
        zx.task_kill(second)
        join(second)
        after = zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)
        kill_and_wait(process)
        return koids, expected, after

    koids, expected, after = run_guest(body)
    assert koids == expected
    assert after == expected[:1]
