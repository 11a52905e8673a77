"""zx.process_create, zx.process_start and zx.process_exit: one test per check."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait, park, start, wait_until_dead
from pyzircon import Kernel, zx
from pyzircon.abi.layout import LAYOUTS
from support import expect_status, run_guest

X86_64 = LAYOUTS["x86_64"]
NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "0", b"0"]
ROOT_VMAR_RIGHTS = (
    zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE
)


def is_valid(handle: int) -> bool:
    try:
        zx.object_get_info(handle, zx.ZX_INFO_HANDLE_VALID)
    except zx.ZxError:
        return False
    return True


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def new_process(name: str = "p") -> tuple[int, int]:
    return zx.process_create(zx.job_default(), name, 0)


# zx.process_create


def test_create_handles():
    def body():
        process, vmar = new_process()
        process_info = zx.object_get_info(process, zx.ZX_INFO_HANDLE_BASIC)
        vmar_info = zx.object_get_info(vmar, zx.ZX_INFO_HANDLE_BASIC)
        assert process_info.type == zx.ZX_OBJ_TYPE_PROCESS
        assert process_info.rights == zx.ZX_DEFAULT_PROCESS_RIGHTS
        assert vmar_info.type == zx.ZX_OBJ_TYPE_VMAR
        assert vmar_info.rights == ROOT_VMAR_RIGHTS

    run_guest(body)


def test_create_in_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process, _ = zx.process_create(job, "p", 0)
        assert zx.object_get_info(process, zx.ZX_INFO_HANDLE_BASIC).related_koid == koid_of(job)
        assert zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES) == [koid_of(process)]

    run_guest(body)


def test_create_is_unstarted():
    def body():
        process, _ = new_process()
        info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        assert info.flags == 0
        assert info.return_code == 0

    run_guest(body)


def test_create_vmar_covers_user_range():
    def body():
        _, vmar = new_process()
        info = zx.object_get_info(vmar, zx.ZX_INFO_VMAR)
        assert info.base == X86_64.user_base
        assert info.len == X86_64.user_size

    run_guest(body)


def test_create_shared_vmar_covers_shared_range():
    def body():
        _, vmar = zx.process_create(zx.job_default(), "p", zx.ZX_PROCESS_SHARED)
        info = zx.object_get_info(vmar, zx.ZX_INFO_VMAR)
        assert info.base == X86_64.shared_base
        assert info.len == X86_64.shared_size

    run_guest(body)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", ""),
        ("proc", "proc"),
        (b"bytes", "bytes"),
        ("x" * 40, "x" * 31),
        ("ab\0cd", "ab"),
    ],
)
def test_create_name(name, expected):
    def body():
        process, _ = zx.process_create(zx.job_default(), name, 0)
        assert zx.object_get_property(process, zx.ZX_PROP_NAME) == expected

    run_guest(body)


@pytest.mark.parametrize("options", [2, 3, 0x8000_0000, *NOT_U32])
def test_create_bad_options(options):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.process_create, zx.job_default(), "p", options
        )
    )


@pytest.mark.parametrize("name", [None, 7, 1.0, ["p"]])
def test_create_bad_name(name):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create, zx.job_default(), name, 0)
    )


def test_create_bad_job_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create, 0x7, "p", 0))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID])
def test_create_bad_job_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create, value, "p", 0))


def test_create_closed_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.handle_close(job)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create, job, "p", 0)

    run_guest(body)


def test_create_foreign_job_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create, value, "p", 0)
        kill_and_wait(process)

    run_guest(body)


def test_create_job_wrong_type():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_create, zx.process_self(), "p", 0)
    )


def test_create_job_without_manage_process():
    def body():
        rights = zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_MANAGE_PROCESS
        job = zx.handle_duplicate(zx.job_default(), rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_create, job, "p", 0)

    run_guest(body)


def test_create_job_with_only_manage_process():
    def body():
        job = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_MANAGE_PROCESS)
        zx.process_create(job, "p", 0)

    run_guest(body)


def test_create_in_killed_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create, job, "p", 0)

    run_guest(body)


def test_create_failed_in_killed_job_leaves_no_process():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create, job, "p", 0)
        assert zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES) == []

    run_guest(body)


def test_create_options_before_bad_job():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create, 0x7, "p", 2))


def test_create_name_before_bad_job():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create, 0x7, None, 0))


def test_create_wrong_type_before_missing_rights():
    def body():
        weak = zx.handle_duplicate(zx.process_self(), zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_create, weak, "p", 0)

    run_guest(body)


def test_create_missing_rights_before_dead_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        weak = zx.handle_duplicate(job, zx.ZX_RIGHT_DESTROY)
        zx.task_kill(weak)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_create, weak, "p", 0)

    run_guest(body)


# zx.process_start


def test_start_runs_entry_with_args():
    def body():
        seen = {}

        def entry(arg1, arg2):
            seen["args"] = (arg1, arg2)
            return 0

        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.process_start(process, thread, entry, 0, zx.ZX_HANDLE_INVALID, 0x1234)
        wait_until_dead(process)
        assert seen["args"] == (zx.ZX_HANDLE_INVALID, 0x1234)

    run_guest(body)


def test_start_moves_arg1_handle():
    def body():
        seen = {}

        def entry(arg1, arg2):
            seen["koid"] = koid_of(arg1)
            return 0

        event = zx.event_create(0)
        event_koid = koid_of(event)
        process, _ = new_process()
        start(process, entry, event)
        wait_until_dead(process)
        assert seen["koid"] == event_koid
        assert not is_valid(event)

    run_guest(body)


def test_start_marks_process_started():
    def body():
        process, _ = new_process()
        start(process)
        flags = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags
        assert flags == zx.ZX_INFO_PROCESS_FLAG_STARTED
        kill_and_wait(process)

    run_guest(body)


def test_start_bad_process_handle_closes_arg1():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, 0x7, thread, park, 0, event, 0)
        assert not is_valid(event)

    run_guest(body)


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID])
def test_start_bad_process_value(value):
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, value, thread, park, 0, 0, 0)

    run_guest(body)


def test_start_foreign_process_handle():
    def body():
        foreign, value = foreign_handle()
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, value, thread, park, 0, event, 0)
        assert not is_valid(event)
        kill_and_wait(foreign)

    run_guest(body)


def test_start_process_wrong_type():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_start, thread, thread, park, 0, 0, 0)

    run_guest(body)


def test_start_process_without_write():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        weak = zx.handle_duplicate(process, zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_WRITE)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_start, weak, thread, park, 0, event, 0)
        assert not is_valid(event)

    run_guest(body)


def test_start_bad_thread_handle_closes_arg1():
    def body():
        process, _ = new_process()
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, process, 0x7, park, 0, event, 0)
        assert not is_valid(event)

    run_guest(body)


def test_start_thread_wrong_type():
    def body():
        process, _ = new_process()
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_start, process, process, park, 0, 0, 0)

    run_guest(body)


def test_start_thread_without_write():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        weak = zx.handle_duplicate(thread, zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_WRITE)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_start, process, weak, park, 0, event, 0)
        assert not is_valid(event)

    run_guest(body)


def test_start_bogus_arg1_starts_without_handle():
    def body():
        seen = {}

        def entry(arg1, arg2):
            seen["arg1"] = arg1
            return 0

        process, _ = new_process()
        start(process, entry, 0x7)
        wait_until_dead(process)
        assert seen["arg1"] == zx.ZX_HANDLE_INVALID

    run_guest(body)


def test_start_arg1_above_32_bits_is_bogus():
    # Regression: a value 2**32 above a handle moved that handle into the new process.
    def body():
        seen = {}

        def entry(arg1, arg2):
            seen["arg1"] = arg1
            return 0

        event = zx.event_create(0)
        process, _ = new_process()
        start(process, entry, event + (1 << 32))
        wait_until_dead(process)
        assert seen["arg1"] == zx.ZX_HANDLE_INVALID
        assert is_valid(event)

    run_guest(body)


@pytest.mark.parametrize("value", [None, "3", 3.0, b"\x03", [3], True])
def test_start_arg1_not_an_int(value):
    # Found by the reliability suite's malformed-input sweep: these started the process
    # as if no handle had been passed.
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, process, thread, park, 0, value, 0)
        info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        assert not info.flags & zx.ZX_INFO_PROCESS_FLAG_STARTED

    run_guest(body)


def test_start_thread_of_other_process():
    def body():
        process, _ = new_process()
        other, _ = new_process()
        thread = zx.thread_create(other, "t", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_start, process, thread, park, 0, event, 0)
        assert not is_valid(event)

    run_guest(body)


def test_start_arg1_without_transfer():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        event = zx.handle_replace(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_start, process, thread, park, 0, event, 0)
        assert not is_valid(event)
        assert zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE) == []

    run_guest(body)


def test_start_twice():
    def body():
        process, _ = new_process()
        start(process)
        second = zx.thread_create(process, "second", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_start, process, second, park, 0, event, 0)
        assert not is_valid(event)
        assert zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE) == []
        kill_and_wait(process)

    run_guest(body)


def test_start_killed_process():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_start, process, thread, park, 0, 0, 0)

    run_guest(body)


@pytest.mark.parametrize("entry", [1 << 55, 0xFFFF_FF80_0000_0000, 1 << 47, -1, 1 << 64])
def test_start_entry_not_user_address(entry):
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_start, process, thread, entry, 0, event, 0)
        assert not is_valid(event)
        assert zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE) == []

    run_guest(body)


@pytest.mark.parametrize("entry", [None, "main", 1.0])
def test_start_entry_bad_value(entry):
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_start, process, thread, entry, 0, 0, 0)

    run_guest(body)


def test_start_entry_machine_code():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        entry = X86_64.user_base
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.process_start, process, thread, entry, 0, 0, 0)

    run_guest(body)


def test_start_failed_entry_leaves_process_startable():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_start, process, thread, 1 << 47, 0, 0, 0)
        zx.process_start(process, thread, park, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


def test_start_dead_thread():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.task_kill(thread)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_start, process, thread, park, 0, 0, 0)

    run_guest(body)


def test_start_bad_process_before_bad_thread():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_start, 0x7, 0xB, 1 << 47, 0, 0, 0)
    )


def test_start_bad_thread_before_bad_entry():
    def body():
        process, _ = new_process()
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_start, process, process, None, 0, 0x7, 0)

    run_guest(body)


def test_start_started_process_before_bad_entry():
    def body():
        process, _ = new_process()
        start(process)
        second = zx.thread_create(process, "second", 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_start, process, second, None, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


def test_start_bad_entry_before_dead_thread():
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.task_kill(thread)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_start, process, thread, 1 << 47, 0, 0, 0)

    run_guest(body)


# zx.process_exit


def test_exit_sets_return_code():
    def body():
        after = []

        def entry(arg1, arg2):
            zx.process_exit(-42)
            after.append(True)

        process, _ = new_process()
        start(process, entry)
        wait_until_dead(process)
        assert zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code == -42
        assert after == []

    run_guest(body)


def test_exit_kills_other_threads():
    def body():
        def entry(arg1, arg2):
            zx.thread_start(zx.thread_create(zx.process_self(), "other", 0), park, 0, 0, 0)
            zx.process_exit(3)

        process, _ = new_process()
        start(process, entry)
        wait_until_dead(process)
        assert zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code == 3

    run_guest(body)


def test_exit_of_main_is_run_result():
    assert Kernel(seed=0).run(lambda: zx.process_exit(9)) == 9


@pytest.mark.parametrize("retcode", [None, 1 << 63, -(1 << 63) - 1, 1.0, "1"])
def test_exit_bad_retcode(retcode):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_exit, retcode))


@pytest.mark.parametrize("entry", [0, 1, X86_64.user_end, (1 << 47) - 1])
def test_start_entry_low_half_is_user_address(entry):
    # Zircon's x86-64 is_user_accessible accepts the whole lower canonical half, so
    # these pass the address check and reach the machine-code limit.
    def body():
        process, _ = new_process()
        thread = zx.thread_create(process, "t", 0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.process_start, process, thread, entry, 0, 0, 0)

    run_guest(body)
