"""Exception syscalls and properties: one test per check, then the records they return.

zx.task_create_exception_channel, zx.exception_get_thread, zx.exception_get_process,
ZX_PROP_EXCEPTION_STATE and ZX_PROP_EXCEPTION_STRATEGY, ZX_INFO_THREAD_EXCEPTION_REPORT
and the exception fields of ZX_INFO_THREAD, ZX_INFO_PROCESS and ZX_INFO_JOB.
"""

from __future__ import annotations

import pytest

from exception_support import (
    HANDLED,
    TRY_NEXT,
    answer,
    child_process,
    deny,
    faulting_load,
    hole,
    job_with_policy,
    read_exception,
    run_process,
)
from guest_tasks import forge_rights, kill_and_wait, park
from ipc_support import koid, rights, wait_for_state
from pyzircon import zx
from support import expect_status, run_guest

ENDPOINT_RIGHTS = zx.ZX_RIGHT_TRANSFER | zx.ZX_RIGHT_WAIT | zx.ZX_RIGHT_READ
TASK_RIGHTS = (
    zx.ZX_RIGHT_INSPECT | zx.ZX_RIGHT_DUPLICATE | zx.ZX_RIGHT_TRANSFER | zx.ZX_RIGHT_MANAGE_THREAD
)
DEBUGGER = zx.ZX_EXCEPTION_CHANNEL_DEBUGGER


def faulting_child(box: dict, job: int | None = None) -> tuple[int, int, int]:
    """Return (process, thread, channel): a child whose thread will fault once started.

    The channel is the process's exception channel; the thread is not started yet.
    """
    process = child_process(job)
    thread = zx.thread_create(process, "faulter", 0)
    channel = zx.task_create_exception_channel(process, 0)
    box["address"] = hole()
    box["thread"] = thread
    box["process"] = process
    return process, thread, channel


def start_faulting(box: dict) -> None:
    zx.process_start(box["process"], box["thread"], faulting_load(box["address"], box), 0, 0, 0)


def with_exception(check, channel_kind: str = "process") -> None:
    """Run `check(exception, thread, process)` while a child's page fault is pending."""

    def body():
        box: dict = {}
        process, thread, channel = faulting_child(box)
        if channel_kind == "thread":
            zx.handle_close(channel)
            channel = zx.task_create_exception_channel(thread, 0)
        elif channel_kind == "debugger":
            zx.handle_close(channel)
            channel = zx.task_create_exception_channel(process, DEBUGGER)
        start_faulting(box)
        _info, exception = read_exception(channel)
        check(exception, thread, process)
        kill_and_wait(process)

    run_guest(body)


# zx.task_create_exception_channel: checks.


@pytest.mark.parametrize("options", [2, 3, 1 << 31, -1, 1 << 32, "1", None])
def test_create_bad_options(options):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.task_create_exception_channel, zx.process_self(), options
        )
    )


def test_create_policy_denies_new_channel():
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_CHANNEL)])
        outcome = {}

        def child():
            try:
                zx.task_create_exception_channel(zx.thread_self(), 0)
            except zx.ZxError as error:
                outcome["status"] = error.status
            return 0

        assert run_process(job, child) == 0
        return outcome["status"]

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, 0xBADC0FFF, -1, None, "h"])
def test_create_bad_handle(value):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.task_create_exception_channel, value, 0)
    )


def test_create_closed_handle():
    def body():
        process = child_process()
        zx.handle_close(process)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.task_create_exception_channel, process, 0)

    run_guest(body)


@pytest.mark.parametrize(
    "missing",
    [
        zx.ZX_RIGHT_INSPECT,
        zx.ZX_RIGHT_DUPLICATE,
        zx.ZX_RIGHT_TRANSFER,
        zx.ZX_RIGHT_MANAGE_THREAD,
    ],
)
def test_create_missing_task_right(missing):
    def body():
        process = child_process()
        reduced = zx.handle_duplicate(process, zx.ZX_DEFAULT_PROCESS_RIGHTS & ~missing)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.task_create_exception_channel, reduced, 0)

    run_guest(body)


def test_create_rights_checked_before_type():
    # An event lacks ZX_RIGHT_MANAGE_THREAD: the rights check fails before the type one.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.task_create_exception_channel, zx.event_create(0), 0
        )
    )


def test_create_wrong_type():
    def body():
        event = forge_rights(zx.event_create(0), TASK_RIGHTS | zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.task_create_exception_channel, event, 0)

    run_guest(body)


def test_create_debugger_on_thread():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.task_create_exception_channel, thread, DEBUGGER)

    run_guest(body)


@pytest.mark.parametrize("kind", ["process", "job"])
@pytest.mark.parametrize("options", [0, DEBUGGER])
def test_create_without_enumerate(kind, options):
    def body():
        task = child_process() if kind == "process" else zx.job_create(zx.job_default(), 0)
        default = zx.ZX_DEFAULT_PROCESS_RIGHTS if kind == "process" else zx.ZX_DEFAULT_JOB_RIGHTS
        reduced = zx.handle_duplicate(task, default & ~zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.task_create_exception_channel, reduced, options)

    run_guest(body)


def test_create_thread_needs_no_enumerate():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        assert not rights(thread) & zx.ZX_RIGHT_ENUMERATE
        zx.task_create_exception_channel(thread, 0)

    run_guest(body)


@pytest.mark.parametrize("kind", ["thread", "process", "job"])
def test_create_on_dead_task(kind):
    def body():
        if kind == "thread":
            task = zx.thread_create(zx.process_self(), "t", 0)
            zx.task_kill(task)
        elif kind == "process":
            task = child_process()
            zx.task_kill(task)
        else:
            task = zx.job_create(zx.job_default(), 0)
            zx.task_kill(task)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_create_exception_channel, task, 0)

    run_guest(body)


def test_create_on_dead_job_debugger():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_create_exception_channel, job, DEBUGGER)

    run_guest(body)


@pytest.mark.parametrize("kind", ["thread", "process", "job"])
def test_create_already_bound(kind):
    def body():
        if kind == "thread":
            task = zx.thread_create(zx.process_self(), "t", 0)
        elif kind == "process":
            task = child_process()
        else:
            task = zx.job_create(zx.job_default(), 0)
        zx.task_create_exception_channel(task, 0)
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.task_create_exception_channel, task, 0)

    run_guest(body)


def test_create_process_debugger_already_bound():
    def body():
        process = child_process()
        zx.task_create_exception_channel(process, DEBUGGER)
        # The debugger slot and the plain slot are separate.
        zx.task_create_exception_channel(process, 0)
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.task_create_exception_channel, process, DEBUGGER)

    run_guest(body)


def test_create_job_debuggers_up_to_limit():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        channels = [
            zx.task_create_exception_channel(job, DEBUGGER)
            for _ in range(zx.ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT)
        ]
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.task_create_exception_channel, job, DEBUGGER)
        # A closed reader frees its place.
        zx.handle_close(channels[0])
        zx.task_create_exception_channel(job, DEBUGGER)

    run_guest(body)


def test_create_again_after_reader_closed():
    def body():
        process = child_process()
        zx.handle_close(zx.task_create_exception_channel(process, 0))
        zx.task_create_exception_channel(process, 0)

    run_guest(body)


def test_create_options_before_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.task_create_exception_channel, zx.ZX_HANDLE_INVALID, 2
        )
    )


def test_create_policy_before_handle():
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_CHANNEL)])
        outcome = {}

        def child():
            try:
                zx.task_create_exception_channel(zx.ZX_HANDLE_INVALID, 0)
            except zx.ZxError as error:
                outcome["status"] = error.status
            return 0

        run_process(job, child)
        return outcome["status"]

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


# zx.task_create_exception_channel: the endpoint.


def test_endpoint_is_read_only():
    def body():
        channel = zx.task_create_exception_channel(child_process(), 0)
        assert rights(channel) == ENDPOINT_RIGHTS
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.channel_write, channel, 0, b"x", [])

    run_guest(body)


@pytest.mark.parametrize("kind", ["thread", "process", "job"])
def test_endpoint_peer_closed_when_task_dies(kind):
    def body():
        if kind == "thread":
            process = child_process()
            task = zx.thread_create(process, "t", 0)
            channel = zx.task_create_exception_channel(task, 0)
            zx.process_start(process, task, park, 0, 0, 0)
            kill_and_wait(process)
        elif kind == "process":
            task = child_process()
            channel = zx.task_create_exception_channel(task, 0)
            zx.task_kill(task)
        else:
            task = zx.job_create(zx.job_default(), 0)
            channel = zx.task_create_exception_channel(task, 0)
            zx.task_kill(task)
        observed = zx.object_wait_one(channel, zx.ZX_CHANNEL_PEER_CLOSED, 0)
        assert observed & zx.ZX_CHANNEL_PEER_CLOSED

    run_guest(body)


# zx.exception_get_thread and zx.exception_get_process.


@pytest.mark.parametrize("function", [zx.exception_get_thread, zx.exception_get_process])
@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, 0xBADC0FFF, None])
def test_get_task_bad_handle(function, value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, function, value))


@pytest.mark.parametrize("function", [zx.exception_get_thread, zx.exception_get_process])
def test_get_task_wrong_type(function):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, function, zx.event_create(0)))


def test_get_process_from_thread_channel():
    def check(exception, thread, process):
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.exception_get_process, exception)
        assert koid(zx.exception_get_thread(exception)) == koid(thread)

    with_exception(check, "thread")


@pytest.mark.parametrize("kind", ["process", "debugger"])
def test_get_tasks_from_process_channels(kind):
    def check(exception, thread, process):
        assert koid(zx.exception_get_thread(exception)) == koid(thread)
        assert koid(zx.exception_get_process(exception)) == koid(process)

    with_exception(check, kind)


def test_get_tasks_have_channel_handle_rights():
    def body():
        box: dict = {}
        process = child_process()
        thread = zx.thread_create(process, "faulter", 0)
        task_rights = TASK_RIGHTS | zx.ZX_RIGHT_ENUMERATE | zx.ZX_RIGHT_WAIT
        channel = zx.task_create_exception_channel(zx.handle_duplicate(process, task_rights), 0)
        address = hole()
        zx.process_start(process, thread, faulting_load(address, box), 0, 0, 0)
        _info, exception = read_exception(channel)
        assert rights(zx.exception_get_thread(exception)) == task_rights
        assert rights(zx.exception_get_process(exception)) == task_rights
        kill_and_wait(process)

    run_guest(body)


# The exception message and the exception handle.


def test_message_info_names_thread_and_process():
    def body():
        box: dict = {}
        process, thread, channel = faulting_child(box)
        start_faulting(box)
        info, exception = read_exception(channel)
        assert info == zx.ExceptionInfo(
            pid=koid(process), tid=koid(thread), type=zx.ZX_EXCP_FATAL_PAGE_FAULT
        )
        basic = zx.object_get_info(exception, zx.ZX_INFO_HANDLE_BASIC)
        assert basic.type == zx.ZX_OBJ_TYPE_EXCEPTION
        assert basic.rights == zx.ZX_DEFAULT_EXCEPTION_RIGHTS
        assert basic.props == zx.ZX_OBJ_PROP_NONE
        kill_and_wait(process)

    run_guest(body)


def test_exception_handle_cannot_be_duplicated():
    def check(exception, thread, process):
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.handle_duplicate, exception, zx.ZX_RIGHT_SAME_RIGHTS
        )

    with_exception(check)


# ZX_PROP_EXCEPTION_STATE.


def test_state_defaults_to_try_next():
    def check(exception, thread, process):
        assert zx.object_get_property(exception, zx.ZX_PROP_EXCEPTION_STATE) == TRY_NEXT

    with_exception(check)


@pytest.mark.parametrize("state", [TRY_NEXT, HANDLED, zx.ZX_EXCEPTION_STATE_THREAD_EXIT])
def test_state_set_and_get(state):
    def check(exception, thread, process):
        zx.object_set_property(exception, zx.ZX_PROP_EXCEPTION_STATE, state)
        assert zx.object_get_property(exception, zx.ZX_PROP_EXCEPTION_STATE) == state

    with_exception(check)


@pytest.mark.parametrize("value", [3, 1 << 32, -1, "1"])
def test_state_invalid_value(value):
    def check(exception, thread, process):
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.object_set_property,
            exception,
            zx.ZX_PROP_EXCEPTION_STATE,
            value,
        )

    with_exception(check)


@pytest.mark.parametrize("prop", [zx.ZX_PROP_EXCEPTION_STATE, zx.ZX_PROP_EXCEPTION_STRATEGY])
def test_exception_properties_wrong_type(prop):
    def body():
        process = child_process()
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_property, process, prop)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_set_property, process, prop, 0)

    run_guest(body)


def test_state_needs_property_rights():
    def check(exception, thread, process):
        reduced = zx.handle_replace(exception, zx.ZX_RIGHT_TRANSFER | zx.ZX_RIGHT_INSPECT)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_get_property, reduced, zx.ZX_PROP_EXCEPTION_STATE
        )
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.object_set_property,
            reduced,
            zx.ZX_PROP_EXCEPTION_STATE,
            HANDLED,
        )

    with_exception(check)


# ZX_PROP_EXCEPTION_STRATEGY.


def test_strategy_defaults_to_first_chance():
    def check(exception, thread, process):
        strategy = zx.object_get_property(exception, zx.ZX_PROP_EXCEPTION_STRATEGY)
        assert strategy == zx.ZX_EXCEPTION_STRATEGY_FIRST_CHANCE

    with_exception(check, "debugger")


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_strategy_only_for_debugger(kind):
    def check(exception, thread, process):
        expect_status(
            zx.ZX_ERR_BAD_STATE,
            zx.object_set_property,
            exception,
            zx.ZX_PROP_EXCEPTION_STRATEGY,
            zx.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE,
        )

    with_exception(check, kind)


def test_strategy_set_by_debugger():
    def check(exception, thread, process):
        second = zx.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE
        zx.object_set_property(exception, zx.ZX_PROP_EXCEPTION_STRATEGY, second)
        assert zx.object_get_property(exception, zx.ZX_PROP_EXCEPTION_STRATEGY) == second

    with_exception(check, "debugger")


@pytest.mark.parametrize("value", [2, -1, "1"])
def test_strategy_invalid_value(value):
    def check(exception, thread, process):
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.object_set_property,
            exception,
            zx.ZX_PROP_EXCEPTION_STRATEGY,
            value,
        )

    with_exception(check, "debugger")


# ZX_INFO_THREAD_EXCEPTION_REPORT and the exception fields of other topics.


def test_report_of_page_fault():
    def check(exception, thread, process):
        report = zx.object_get_info(thread, zx.ZX_INFO_THREAD_EXCEPTION_REPORT)
        assert report.size == zx.ZX_EXCEPTION_REPORT_SIZE
        assert report.type == zx.ZX_EXCP_FATAL_PAGE_FAULT
        assert report.vector == 14
        assert report.err_code == 0x4
        assert report.synth_code == zx.ZX_ERR_NOT_FOUND & 0xFFFF_FFFF
        assert report.synth_data == 0

    with_exception(check)


def test_report_outside_exception():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        expect_status(
            zx.ZX_ERR_BAD_STATE, zx.object_get_info, thread, zx.ZX_INFO_THREAD_EXCEPTION_REPORT
        )

    run_guest(body)


def test_report_needs_inspect():
    def check(exception, thread, process):
        reduced = zx.handle_duplicate(thread, zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_INSPECT)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.object_get_info,
            reduced,
            zx.ZX_INFO_THREAD_EXCEPTION_REPORT,
        )

    with_exception(check)


def test_report_gone_after_answer():
    def body():
        box: dict = {}
        process, thread, channel = faulting_child(box)
        start_faulting(box)
        _info, exception = read_exception(channel)
        answer(exception, TRY_NEXT)
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        expect_status(
            zx.ZX_ERR_BAD_STATE, zx.object_get_info, thread, zx.ZX_INFO_THREAD_EXCEPTION_REPORT
        )

    run_guest(body)


@pytest.mark.parametrize(
    ("kind", "channel_type"),
    [
        ("thread", zx.ZX_EXCEPTION_CHANNEL_TYPE_THREAD),
        ("process", zx.ZX_EXCEPTION_CHANNEL_TYPE_PROCESS),
        ("debugger", zx.ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER),
    ],
)
def test_info_thread_in_exception(kind, channel_type):
    def check(exception, thread, process):
        record = zx.object_get_info(thread, zx.ZX_INFO_THREAD)
        assert record.state == zx.ZX_THREAD_STATE_BLOCKED_EXCEPTION
        assert record.wait_exception_channel_type == channel_type

    with_exception(check, kind)


def test_info_thread_before_any_exception():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        record = zx.object_get_info(thread, zx.ZX_INFO_THREAD)
        assert record.wait_exception_channel_type == zx.ZX_EXCEPTION_CHANNEL_TYPE_NONE

    run_guest(body)


def test_info_process_debugger_attached():
    def body():
        process = child_process()
        flag = zx.ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED
        assert not zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag
        channel = zx.task_create_exception_channel(process, DEBUGGER)
        assert zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag
        zx.handle_close(channel)
        assert not zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & flag

    run_guest(body)


def test_info_job_debugger_attached():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        assert not zx.object_get_info(job, zx.ZX_INFO_JOB).debugger_attached
        zx.task_create_exception_channel(job, 0)
        assert not zx.object_get_info(job, zx.ZX_INFO_JOB).debugger_attached
        channel = zx.task_create_exception_channel(job, DEBUGGER)
        assert zx.object_get_info(job, zx.ZX_INFO_JOB).debugger_attached
        zx.handle_close(channel)
        assert not zx.object_get_info(job, zx.ZX_INFO_JOB).debugger_attached

    run_guest(body)


def test_blocked_exception_state_reported_while_waiting():
    def body():
        box: dict = {}
        process, thread, channel = faulting_child(box)
        start_faulting(box)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_EXCEPTION)
        _info, exception = read_exception(channel)
        answer(exception, TRY_NEXT)
        code = zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        assert code & zx.ZX_PROCESS_TERMINATED

    run_guest(body)


# Records and constants.


def test_default_exception_rights_value():
    # ZX_RIGHT_TRANSFER | ZX_RIGHTS_PROPERTY | ZX_RIGHT_INSPECT, as in zircon/rights.h.
    assert zx.ZX_DEFAULT_EXCEPTION_RIGHTS == 0x80C2


def test_exception_info_layout():
    info = zx.ExceptionInfo(pid=0x1122, tid=0x3344, type=zx.ZX_EXCP_FATAL_PAGE_FAULT)
    data = info.to_bytes()
    assert len(data) == zx.ZX_EXCEPTION_INFO_SIZE == 24
    assert data == (0x1122).to_bytes(8, "little") + (0x3344).to_bytes(8, "little") + bytes(
        [0x08, 0x01, 0, 0, 0, 0, 0, 0]
    )
    assert zx.ExceptionInfo.from_bytes(data) == info


@pytest.mark.parametrize("data", [b"", bytes(23), "x" * 24, None])
def test_exception_info_decode_rejects(data):
    with pytest.raises(zx.ZxError) as caught:
        zx.ExceptionInfo.from_bytes(data)
    assert caught.value.status == zx.ZX_ERR_INVALID_ARGS
