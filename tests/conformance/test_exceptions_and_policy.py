"""Conformance cases about exceptions, exception channels and job policy.

Each test names its case (A19, G4, G7, ...) or the behaviour of Zircon's exception core
tests it restates. Races run under several seeds; tests that record the order in which
handlers see exceptions check only the orders the kernel enforces.
"""

from __future__ import annotations

from typing import Any

import pytest

from exception_support import (
    HANDLED,
    PAGE,
    THREAD_EXIT,
    TRY_NEXT,
    answer,
    child_process,
    child_with_hole,
    deny,
    faulting_load,
    hole,
    job_with_policy,
    map_into,
    read_exception,
    region_with_hole,
    run_process,
)
from guest_tasks import kill_and_wait, park, start, wait_until
from ipc_support import join, koid, spawn, thread_state, wait_for_state
from pyzircon import Kernel, user, zx
from pyzircon.kernel.sched.scheduler import Deadlock
from support import expect_status, run_guest

SEEDS = range(4)
INFINITE = zx.ZX_TIME_INFINITE
DEBUGGER = zx.ZX_EXCEPTION_CHANNEL_DEBUGGER
V2 = zx.ZX_JOB_POL_BASIC_V2
RELATIVE = zx.ZX_JOB_POL_RELATIVE
ABSOLUTE = zx.ZX_JOB_POL_ABSOLUTE
JOB_EMPTY = zx.ZX_JOB_NO_PROCESSES | zx.ZX_JOB_NO_JOBS | zx.ZX_JOB_NO_CHILDREN
PAGE_FAULT = zx.ZX_EXCP_FATAL_PAGE_FAULT
STARTING = zx.ZX_EXCP_THREAD_STARTING
EXITING = zx.ZX_EXCP_THREAD_EXITING
PROCESS_STARTING = zx.ZX_EXCP_PROCESS_STARTING


def wait_terminated(handle: int) -> None:
    zx.object_wait_one(handle, zx.ZX_TASK_TERMINATED, INFINITE)


def return_code(process: int) -> int:
    return int(zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code)


def recorder(name: str, channel: int, log: list[Any], decide: Any = TRY_NEXT) -> int:
    """Start a thread that answers every exception on `channel`, logging (name, type).

    `decide` is the ZX_EXCEPTION_STATE_* to answer, or a function of (info, exception)
    that returns it (after doing whatever the handler does).
    """

    def serve() -> None:
        while True:
            info, exception = read_exception(channel)
            log.append((name, info.type))
            state = decide(info, exception) if callable(decide) else decide
            answer(exception, state)

    return spawn(serve, f"handler {name}")


# A19: an unmap in the shared region is seen by every member; each member's fault goes to
# that member's exception channel and resumes once the page is back.


@pytest.mark.parametrize("seed", SEEDS)
def test_a19_shared_unmap_faults_every_member(seed):
    members = 16
    first, second = b"V1V1", b"V2V2"

    def body():
        proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
        region, address = zx.vmar_allocate(shared_vmar, options, 0, PAGE)
        vmo = zx.vmo_create(PAGE, 0)
        read_only = zx.ZX_VM_PERM_READ | zx.ZX_VM_SPECIFIC
        zx.vmar_map(region, read_only, 0, vmo, 0, PAGE)
        zx.vmo_write(vmo, first, 0)

        unmapped = zx.event_create(0)
        reads: dict[int, list[bytes]] = {}
        processes, channels = [], []
        for index in range(members):
            member, _rvmar = zx.process_create_shared(proto, 0, f"member{index}")
            channels.append(zx.task_create_exception_channel(member, 0))
            reads[index] = []

            def entry(event: int, arg2: int, index: int = index) -> int:
                reads[index].append(user.load(address, len(first)))
                zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, INFINITE)
                reads[index].append(user.load(address, len(first)))
                return 0

            # The event moves into the group's shared handle table.
            start(member, entry, zx.handle_duplicate(unmapped, zx.ZX_RIGHT_SAME_RIGHTS))
            processes.append(member)

        wait_until(lambda: all(len(values) == 1 for values in reads.values()))
        zx.vmar_unmap(region, address, PAGE)
        zx.object_signal(unmapped, 0, zx.ZX_EVENT_SIGNALED)

        exceptions = []
        for member, channel in zip(processes, channels, strict=True):
            info, exception = read_exception(channel)
            assert info.type == PAGE_FAULT
            assert info.pid == koid(member)
            exceptions.append(exception)

        zx.vmo_write(vmo, second, 0)
        assert zx.vmar_map(region, read_only, 0, vmo, 0, PAGE) == address
        for exception in exceptions:
            answer(exception, HANDLED)
        for member in processes:
            wait_terminated(member)
            assert return_code(member) == 0
        return reads

    reads = run_guest(body, seed=seed)
    assert all(values == [first, second] for values in reads.values())


# A4 step 2 and C3 step 2: the caller's ZX_POL_NEW_PROCESS policy decides.


def test_a4_caller_policy_denies_create_shared():
    def body():
        # The prototype's own job allows new processes; the caller's does not.
        proto, _vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        job = job_with_policy([deny(zx.ZX_POL_NEW_PROCESS)])
        outcome = {}

        def child() -> int:
            try:
                zx.process_create_shared(zx.ZX_HANDLE_INVALID, 0, "member")
            except zx.ZxError as error:
                outcome["status"] = error.status
            return 0

        run_process(job, child)
        zx.process_create_shared(proto, 0, "member")
        return outcome["status"]

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


def test_c3_caller_policy_denies_process_create():
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_PROCESS)])
        outcome = {}

        def child() -> int:
            try:
                zx.process_create(zx.job_default(), "p", 0)
            except zx.ZxError as error:
                outcome["status"] = error.status
            return 0

        run_process(job, child)
        return outcome["status"]

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


# C10: ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED follows the debugger channel.


def test_c10_debugger_attached_flag():
    def body():
        process = child_process()
        flag = zx.ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED
        before = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag
        channel = zx.task_create_exception_channel(process, DEBUGGER)
        start(process, park)
        during = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag
        zx.handle_close(channel)
        after = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag
        kill_and_wait(process)
        return before, during, after

    assert run_guest(body) == (0, zx.ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED, 0)


# G4: job policy topics and override bits.


def test_g4_unknown_topic():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, 2, [deny(0)])

    run_guest(body)


G4_POLICY = [
    (zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_ACTION_KILL),
    (zx.ZX_POL_NEW_CHANNEL, zx.ZX_POL_ACTION_ALLOW_EXCEPTION),
    (zx.ZX_POL_NEW_FIFO, zx.ZX_POL_ACTION_DENY),
]


@pytest.mark.parametrize(
    ("override", "change_status"),
    [(zx.ZX_POL_OVERRIDE_DENY, zx.ZX_ERR_ALREADY_EXISTS), (zx.ZX_POL_OVERRIDE_ALLOW, zx.ZX_OK)],
)
def test_g4_override_bits(override, change_status):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        policy = [zx.PolicyBasicV2(c, a, override) for c, a in G4_POLICY]
        zx.job_set_policy(job, RELATIVE, V2, policy)
        zx.job_set_policy(job, ABSOLUTE, V2, policy)
        changed = list(policy)
        changed[2] = zx.PolicyBasicV2(zx.ZX_POL_NEW_FIFO, zx.ZX_POL_ACTION_KILL, override)
        try:
            zx.job_set_policy(job, ABSOLUTE, V2, changed)
        except zx.ZxError as error:
            return error.status
        return zx.ZX_OK

    assert run_guest(body) == change_status


def test_g4_timer_slack():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        slack = zx.ZX_JOB_POL_TIMER_SLACK
        good = zx.PolicyTimerSlack(10_000, zx.ZX_TIMER_SLACK_LATE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, ABSOLUTE, slack, [good])
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, slack, [])
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, slack, [good, good])
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, slack, None)
        negative = zx.PolicyTimerSlack(-1, zx.ZX_TIMER_SLACK_LATE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, slack, [negative])
        bad_mode = zx.PolicyTimerSlack(10_000, 3)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, job, RELATIVE, slack, [bad_mode])
        child = zx.job_create(job, 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_set_policy, job, RELATIVE, slack, [good])
        zx.handle_close(child)
        zx.job_set_policy(job, RELATIVE, slack, [good])
        # Lowering the minimum is accepted (and ignored).
        zx.job_set_policy(job, RELATIVE, slack, [zx.PolicyTimerSlack(5, zx.ZX_TIMER_SLACK_LATE)])

    run_guest(body)


# G7: critical processes.


def test_g7_critical_process_kills_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        critical, sibling = child_process(job, "critical"), child_process(job, "sibling")
        start(critical, park)
        start(sibling, park)
        zx.job_set_critical(job, 0, critical)
        zx.task_kill(critical)
        wait_terminated(job)
        info = zx.object_get_info(job, zx.ZX_INFO_JOB)
        return info, return_code(critical), return_code(sibling)

    info, critical_code, sibling_code = run_guest(body)
    assert info.exited
    assert info.return_code == zx.ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL
    assert critical_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL
    assert sibling_code == zx.ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL


def test_g7_critical_to_any_ancestor():
    def body():
        job1 = zx.job_create(zx.job_default(), 0)
        job2 = zx.job_create(job1, 0)
        process1, process2 = child_process(job1), child_process(job2)
        zx.job_set_critical(job1, 0, process2)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_critical, job2, 0, process1)
        start(process2, park)
        zx.task_kill(process2)
        wait_terminated(job1)
        return zx.object_get_info(job1, zx.ZX_INFO_JOB).return_code

    assert run_guest(body) == zx.ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL


@pytest.mark.parametrize(("code", "job_killed"), [(0, False), (3, True)])
def test_g7_retcode_nonzero_option(code, job_killed):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process = child_process(job)
        zx.job_set_critical(job, zx.ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO, process)
        start(process, lambda arg1, arg2: code)
        wait_terminated(process)
        signals = zx.object_wait_one(job, JOB_EMPTY, INFINITE)
        return signals & zx.ZX_JOB_TERMINATED, zx.object_get_info(job, zx.ZX_INFO_JOB)

    terminated, info = run_guest(body)
    assert bool(terminated) is job_killed
    assert info.exited is job_killed


def test_g7_not_in_subtree_and_twice():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        outside = child_process()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_critical, job, 0, outside)
        inside = child_process(job)
        zx.job_set_critical(job, 0, inside)
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.job_set_critical, job, 0, inside)

    run_guest(body)


# The order in which handlers see a fatal exception, and what each answer does.


@pytest.mark.parametrize("seed", SEEDS)
def test_handler_order_then_kill(seed):
    def body():
        outer = zx.job_create(zx.job_default(), 0)
        inner = zx.job_create(outer, 0)
        process = child_process(inner)
        thread = zx.thread_create(process, "faulter", 0)
        log: list[Any] = []
        channels = {
            "debugger": zx.task_create_exception_channel(process, DEBUGGER),
            "thread": zx.task_create_exception_channel(thread, 0),
            "process": zx.task_create_exception_channel(process, 0),
            "inner job": zx.task_create_exception_channel(inner, 0),
            "outer job": zx.task_create_exception_channel(outer, 0),
        }
        for name, channel in channels.items():
            recorder(name, channel, log)
        box: dict[str, Any] = {}
        zx.process_start(process, thread, faulting_load(hole(), box), 0, 0, 0)
        wait_terminated(process)
        wait_until(lambda: ("debugger", EXITING) in log)
        return log, return_code(process), box

    log, code, box = run_guest(body, seed=seed)
    assert log == [
        ("debugger", STARTING),
        ("debugger", PAGE_FAULT),
        ("thread", PAGE_FAULT),
        ("process", PAGE_FAULT),
        ("inner job", PAGE_FAULT),
        ("outer job", PAGE_FAULT),
        ("debugger", EXITING),
    ]
    assert code == zx.ZX_TASK_RETCODE_EXCEPTION_KILL
    assert "loaded" not in box


def test_unhandled_fault_is_reported():
    outcome = {}

    def main() -> int:
        process = child_process()
        address = hole()
        outcome["address"] = address
        start(process, faulting_load(address, {}))
        wait_terminated(process)
        outcome["code"] = return_code(process)
        outcome["koid"] = koid(process)
        return 0

    kernel = Kernel(seed=0)
    kernel.run(main)
    assert outcome["code"] == zx.ZX_TASK_RETCODE_EXCEPTION_KILL
    (report,) = [r for r in kernel.fault_reports if r.process_koid == outcome["koid"]]
    assert report.address == outcome["address"]
    assert report.status == zx.ZX_ERR_NOT_FOUND


@pytest.mark.parametrize("seed", SEEDS)
def test_handled_by_job_resumes_access(seed):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process, region, address = child_with_hole(job)
        log: list[Any] = []

        def fix(info, exception):
            map_into(region, b"data")
            return HANDLED

        recorder("job", zx.task_create_exception_channel(job, 0), log, fix)
        box: dict[str, Any] = {}
        start(process, faulting_load(address, box))
        wait_terminated(process)
        return log, return_code(process), box

    log, code, box = run_guest(body, seed=seed)
    assert log == [("job", PAGE_FAULT)]
    assert code == 0
    assert box["loaded"] == b"data"


def test_store_retried_after_handled():
    def body():
        region, address = region_with_hole()
        channel = zx.task_create_exception_channel(zx.process_self(), 0)
        fixed = {}

        def fix(info, exception):
            fixed["address"] = map_into(region)
            return HANDLED

        recorder("process", channel, [], fix)
        done = spawn(lambda: user.store(address, b"stored"))
        join(done)
        return user.load(fixed["address"], 6)

    assert run_guest(body) == b"stored"


def test_second_chance_debugger():
    def body():
        process, region, address = child_with_hole()
        thread = zx.thread_create(process, "faulter", 0)
        log: list[Any] = []
        strategies = []

        def debugger(info, exception):
            if info.type != PAGE_FAULT:
                return TRY_NEXT
            strategy = zx.object_get_property(exception, zx.ZX_PROP_EXCEPTION_STRATEGY)
            strategies.append(strategy)
            if strategy == zx.ZX_EXCEPTION_STRATEGY_FIRST_CHANCE:
                second = zx.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE
                zx.object_set_property(exception, zx.ZX_PROP_EXCEPTION_STRATEGY, second)
                return TRY_NEXT
            map_into(region, b"late")
            return HANDLED

        recorder("debugger", zx.task_create_exception_channel(process, DEBUGGER), log, debugger)
        recorder("thread", zx.task_create_exception_channel(thread, 0), log)
        recorder("process", zx.task_create_exception_channel(process, 0), log)
        box: dict[str, Any] = {}
        zx.process_start(process, thread, faulting_load(address, box), 0, 0, 0)
        wait_terminated(process)
        wait_until(lambda: ("debugger", EXITING) in log)
        return log, strategies, box

    log, strategies, box = run_guest(body)
    assert [entry for entry in log if entry[1] == PAGE_FAULT] == [
        ("debugger", PAGE_FAULT),
        ("thread", PAGE_FAULT),
        ("process", PAGE_FAULT),
        ("debugger", PAGE_FAULT),
    ]
    assert strategies == [
        zx.ZX_EXCEPTION_STRATEGY_FIRST_CHANCE,
        zx.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE,
    ]
    assert box["loaded"] == b"late"


def test_thread_exit_state_ends_only_that_thread():
    def body():
        process = child_process()
        log: list[Any] = []
        recorder("process", zx.task_create_exception_channel(process, 0), log, THREAD_EXIT)
        address = hole()
        box: dict[str, Any] = {}

        def first(arg1: int, arg2: int) -> int:
            worker = zx.thread_create(zx.process_self(), "faulter", 0)
            zx.thread_start(worker, faulting_load(address, box), 0, 0, 0)
            zx.object_wait_one(worker, zx.ZX_THREAD_TERMINATED, INFINITE)
            box["survivor"] = True
            return 9

        start(process, first)
        wait_terminated(process)
        return log, return_code(process), box

    log, code, box = run_guest(body)
    assert log == [("process", PAGE_FAULT)]
    assert code == 9
    assert box == {"survivor": True}


def test_unread_exception_goes_to_next_handler():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process = child_process(job)
        process_channel = zx.task_create_exception_channel(process, 0)
        log: list[Any] = []
        recorder("job", zx.task_create_exception_channel(job, 0), log)
        start(process, faulting_load(hole(), {}))
        zx.object_wait_one(process_channel, zx.ZX_CHANNEL_READABLE, INFINITE)
        zx.handle_close(process_channel)
        wait_terminated(process)
        return log, return_code(process)

    log, code = run_guest(body)
    assert log == [("job", PAGE_FAULT)]
    assert code == zx.ZX_TASK_RETCODE_EXCEPTION_KILL


def test_closed_reader_skipped():
    def body():
        process = child_process()
        zx.handle_close(zx.task_create_exception_channel(process, 0))
        start(process, faulting_load(hole(), {}))
        wait_terminated(process)
        return return_code(process)

    assert run_guest(body) == zx.ZX_TASK_RETCODE_EXCEPTION_KILL


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_during_exception(seed):
    def body():
        process = child_process()
        channel = zx.task_create_exception_channel(process, 0)
        thread = zx.thread_create(process, "faulter", 0)
        box: dict[str, Any] = {}
        zx.process_start(process, thread, faulting_load(hole(), box), 0, 0, 0)
        _info, exception = read_exception(channel)
        zx.task_kill(process)
        wait_terminated(process)
        # The exception outlives the wait: its handle still works, and closing it is a no-op.
        assert koid(zx.exception_get_thread(exception)) == koid(thread)
        zx.object_set_property(exception, zx.ZX_PROP_EXCEPTION_STATE, HANDLED)
        zx.handle_close(exception)
        return return_code(process), thread_state(thread), box

    code, state, box = run_guest(body, seed=seed)
    assert code == zx.ZX_TASK_RETCODE_SYSCALL_KILL
    assert state == zx.ZX_THREAD_STATE_DEAD
    assert box == {}


@pytest.mark.parametrize("seed", SEEDS)
def test_suspended_during_exception(seed):
    def body():
        process, region, address = child_with_hole()
        channel = zx.task_create_exception_channel(process, 0)
        thread = zx.thread_create(process, "faulter", 0)
        box: dict[str, Any] = {}
        zx.process_start(process, thread, faulting_load(address, box), 0, 0, 0)
        _info, exception = read_exception(channel)
        token = zx.task_suspend(thread)
        zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        map_into(region, b"okay")
        answer(exception, HANDLED)
        # The exception is closed, but the thread stays suspended until the token goes.
        for _ in range(10):
            zx.nanosleep(0)
        suspended = thread_state(thread), dict(box)
        zx.handle_close(token)
        wait_terminated(process)
        return suspended, box

    (state, early), box = run_guest(body, seed=seed)
    assert state == zx.ZX_THREAD_STATE_SUSPENDED
    assert early == {}
    assert box["loaded"] == b"okay"


def test_waiting_thread_named_in_deadlock():
    def main() -> int:
        process = child_process()
        zx.task_create_exception_channel(process, 0)
        start(process, faulting_load(hole(), {}))
        wait_terminated(process)
        return 0

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=0).run(main)
    assert any("ZX_EXCP_FATAL_PAGE_FAULT" in line for line in caught.value.blocked)


# A Python exception that escapes guest code is a ZX_EXCP_GENERAL exception.


def crash_in_child(state: int) -> tuple[list[Any], int, int]:
    """Run a child whose second thread raises; answer its exception with `state`.

    Returns the handler's log, the child's return code and the guest crashes recorded.
    """
    outcome: dict[str, Any] = {}

    def main() -> int:
        process = child_process()
        log: list[Any] = []
        recorder("process", zx.task_create_exception_channel(process, 0), log, state)

        def first(arg1: int, arg2: int) -> int:
            worker = zx.thread_create(zx.process_self(), "crasher", 0)

            def crash(a: int, b: int) -> int:
                raise ValueError("guest bug")

            zx.thread_start(worker, crash, 0, 0, 0)
            zx.object_wait_one(worker, zx.ZX_THREAD_TERMINATED, INFINITE)
            return 4

        start(process, first)
        wait_terminated(process)
        outcome["log"] = log
        outcome["code"] = return_code(process)
        return 0

    kernel = Kernel(seed=0)
    kernel.run(main)
    return outcome["log"], outcome["code"], len(kernel.guest_crashes)


def test_crash_unhandled_kills_process():
    log, code, crashes = crash_in_child(TRY_NEXT)
    assert log == [("process", zx.ZX_EXCP_GENERAL)]
    assert code == zx.ZX_TASK_RETCODE_EXCEPTION_KILL
    assert crashes == 1


@pytest.mark.parametrize("state", [HANDLED, THREAD_EXIT])
def test_crash_taken_by_handler_ends_thread(state):
    log, code, crashes = crash_in_child(state)
    assert log == [("process", zx.ZX_EXCP_GENERAL)]
    assert code == 4
    assert crashes == 0


# Debugger-only exceptions.


@pytest.mark.parametrize("seed", SEEDS)
def test_start_and_exit_exceptions(seed):
    def body():
        outer = zx.job_create(zx.job_default(), 0)
        inner = zx.job_create(outer, 0)
        process = child_process(inner)
        log: list[Any] = []
        recorder("outer 1", zx.task_create_exception_channel(outer, DEBUGGER), log)
        recorder("outer 2", zx.task_create_exception_channel(outer, DEBUGGER), log)
        recorder("inner", zx.task_create_exception_channel(inner, DEBUGGER), log)
        recorder("process", zx.task_create_exception_channel(process, DEBUGGER), log)
        # A plain job channel never gets debugger-only exceptions.
        recorder("plain", zx.task_create_exception_channel(inner, 0), log)

        def first(arg1: int, arg2: int) -> int:
            worker = zx.thread_create(zx.process_self(), "worker", 0)
            zx.thread_start(worker, lambda a, b: 0, 0, 0, 0)
            zx.object_wait_one(worker, zx.ZX_THREAD_TERMINATED, INFINITE)
            return 0

        start(process, first)
        wait_terminated(process)
        wait_until(lambda: log.count(("process", EXITING)) == 2)
        return log

    log = run_guest(body, seed=seed)
    assert log[:5] == [
        ("inner", PROCESS_STARTING),
        ("outer 1", PROCESS_STARTING),
        ("outer 2", PROCESS_STARTING),
        ("process", STARTING),
        ("process", STARTING),
    ]
    assert log[5:] == [("process", EXITING), ("process", EXITING)]


def test_exiting_thread_waits_for_debugger():
    def body():
        process = child_process()
        channel = zx.task_create_exception_channel(process, DEBUGGER)
        worker_box: dict[str, int] = {}

        def first(arg1: int, arg2: int) -> int:
            worker = zx.thread_create(zx.process_self(), "worker", 0)
            worker_box["handle"] = worker
            zx.thread_start(worker, lambda a, b: zx.thread_exit(), 0, 0, 0)
            zx.nanosleep(INFINITE)
            return 0

        start(process, first)
        info, exception = read_exception(channel)
        assert info.type == STARTING
        answer(exception)
        info, exception = read_exception(channel)
        assert info.type == STARTING
        worker = zx.exception_get_thread(exception)
        answer(exception)
        info, exception = read_exception(channel)
        assert info.type == EXITING
        dying = thread_state(worker)
        kick = None
        try:
            zx.restricted_kick(worker, 0)
        except zx.ZxError as error:
            kick = error.status
        answer(exception)
        wait_terminated(worker)
        kill_and_wait(process)
        return dying, kick

    dying, kick = run_guest(body)
    assert dying == zx.ZX_THREAD_STATE_DYING
    assert kick == zx.ZX_ERR_BAD_STATE


def test_killed_thread_does_not_wait_for_exiting():
    def body():
        process = child_process()
        channel = zx.task_create_exception_channel(process, DEBUGGER)
        start(process, park)
        _info, exception = read_exception(channel)
        answer(exception)
        wait_for_state_of_first(process)
        # No handler closes the exit exception: the killed thread dies anyway.
        zx.task_kill(process)
        wait_terminated(process)
        info, _exception = read_exception(channel)
        return info.type

    assert run_guest(body) == EXITING


def wait_for_state_of_first(process: int) -> None:
    (thread_koid,) = zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)
    thread = zx.object_get_child(process, thread_koid, zx.ZX_RIGHT_SAME_RIGHTS)
    wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)


# Restricted mode: exceptions return to normal mode and skip every channel.


def test_restricted_exception_skips_channels():
    def body():
        process = child_process()
        log: list[Any] = []
        recorder("process", zx.task_create_exception_channel(process, 0), log)
        recorder("debugger", zx.task_create_exception_channel(process, DEBUGGER), log)
        reasons = []

        def guest(arg1: int, arg2: int) -> int:
            vmo = zx.restricted_bind_state(0)
            zx.vmo_write(vmo, zx.RestrictedState(ip=0).to_bytes(), 0)
            reasons.append(zx.restricted_enter(0, 0x1000, 0))
            return 0

        start(process, guest)
        wait_terminated(process)
        return reasons, [entry for entry in log if entry[1] == PAGE_FAULT], return_code(process)

    reasons, faults, code = run_guest(body)
    assert reasons == [zx.ZX_RESTRICTED_REASON_EXCEPTION]
    assert faults == []
    assert code == 0


# Determinism: exception handling is part of the run, so a seed still gives one trace.


def exception_program() -> int:
    job = job_with_policy([deny(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_ALLOW_EXCEPTION)])
    log: list[Any] = []
    recorder("job", zx.task_create_exception_channel(job, 0), log, HANDLED)
    for index in range(3):
        process, region, address = child_with_hole(job)

        def entry(arg1: int, arg2: int, address: int = address) -> int:
            zx.event_create(0)
            return len(user.load(address, 1))

        recorder(f"process {index}", zx.task_create_exception_channel(process, 0), log)
        start(process, entry)
        map_into(region)
    wait_until(lambda: len(log) >= 6)
    return 0


def exception_trace(seed: int) -> list[tuple[Any, ...]]:
    kernel = Kernel(seed=seed)
    events: list[Any] = []
    kernel.syscall_hooks.append(events.append)
    kernel.run(exception_program)
    return [(e.time_ns, e.thread_koid, e.name, e.status) for e in events]


@pytest.mark.parametrize("seed", SEEDS)
def test_exception_runs_repeat_with_seed(seed):
    assert exception_trace(seed) == exception_trace(seed)
