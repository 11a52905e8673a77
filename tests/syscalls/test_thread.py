"""zx.thread_create, zx.thread_start and zx.thread_exit: one test per check."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait, park, start, wait_until, wait_until_dead
from pyzircon import Kernel, zx
from pyzircon.abi.layout import LAYOUTS
from support import expect_status, run_guest

X86_64 = LAYOUTS["x86_64"]
NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "0", b"0"]


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def thread_state(thread: int) -> int:
    return zx.object_get_info(thread, zx.ZX_INFO_THREAD).state


def new_process() -> int:
    process, _ = zx.process_create(zx.job_default(), "p", 0)
    return process


# zx.thread_create


def test_create_handle():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        info = zx.object_get_info(thread, zx.ZX_INFO_HANDLE_BASIC)
        assert info.type == zx.ZX_OBJ_TYPE_THREAD
        assert info.rights == zx.ZX_DEFAULT_THREAD_RIGHTS
        assert info.related_koid == koid_of(process)

    run_guest(body)


def test_create_is_new():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        assert thread_state(thread) == zx.ZX_THREAD_STATE_NEW
        assert zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS) == []

    run_guest(body)


@pytest.mark.parametrize(("name", "expected"), [("", ""), ("t" * 40, "t" * 31), (b"b", "b")])
def test_create_name(name, expected):
    def body():
        thread = zx.thread_create(new_process(), name, 0)
        assert zx.object_get_property(thread, zx.ZX_PROP_NAME) == expected

    run_guest(body)


def test_create_in_dead_process():
    def body():
        process = new_process()
        zx.task_kill(process)
        thread = zx.thread_create(process, "t", 0)
        assert thread_state(thread) == zx.ZX_THREAD_STATE_NEW

    run_guest(body)


@pytest.mark.parametrize("options", [1, 0x8000_0000, *NOT_U32])
def test_create_bad_options(options):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.thread_create, zx.process_self(), "t", options
        )
    )


@pytest.mark.parametrize("name", [None, 7, 1.0])
def test_create_bad_name(name):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_create, zx.process_self(), name, 0)
    )


def test_create_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_create, 0x7, "t", 0))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID])
def test_create_bad_handle_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_create, value, "t", 0))


def test_create_closed_handle():
    def body():
        process = new_process()
        zx.handle_close(process)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_create, process, "t", 0)

    run_guest(body)


def test_create_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_create, value, "t", 0)
        kill_and_wait(process)

    run_guest(body)


def test_create_wrong_type():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.thread_create, zx.job_default(), "t", 0)
    )


def test_create_without_manage_thread():
    def body():
        rights = zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_MANAGE_THREAD
        weak = zx.handle_duplicate(new_process(), rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.thread_create, weak, "t", 0)

    run_guest(body)


def test_create_options_before_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_create, 0x7, "t", 1))


def test_create_name_before_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_create, 0x7, None, 0))


def test_create_wrong_type_before_missing_rights():
    def body():
        weak = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.thread_create, weak, "t", 0)

    run_guest(body)


# zx.thread_start


def test_start_second_thread_runs():
    def body():
        seen = {}

        def entry(arg1, arg2):
            seen["args"] = (arg1, arg2)

        thread = zx.thread_create(zx.process_self(), "worker", 0)
        zx.thread_start(thread, entry, 0, 5, -6)
        wait_until(lambda: "args" in seen)
        assert seen["args"] == (5, (1 << 64) - 6)

    run_guest(body)


def test_start_lists_thread_in_process():
    def body():
        process = new_process()
        start(process)
        second = zx.thread_create(process, "second", 0)
        zx.thread_start(second, park, 0, 0, 0)
        threads = zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)
        assert koid_of(second) in threads
        assert len(threads) == 2
        kill_and_wait(process)

    run_guest(body)


def test_start_first_thread_starts_process():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.thread_start(thread, park, 0, 0, 0)
        flags = zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags
        assert flags == zx.ZX_INFO_PROCESS_FLAG_STARTED
        kill_and_wait(process)

    run_guest(body)


def test_start_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_start, 0x7, park, 0, 0, 0))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID])
def test_start_bad_handle_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_start, value, park, 0, 0, 0))


def test_start_closed_handle():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        zx.handle_close(thread)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_start, thread, park, 0, 0, 0)

    run_guest(body)


def test_start_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_start, value, park, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


def test_start_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.thread_start, zx.process_self(), park, 0, 0, 0
        )
    )


def test_start_without_manage_thread():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        weak = zx.handle_duplicate(thread, zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_MANAGE_THREAD)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.thread_start, weak, park, 0, 0, 0)

    run_guest(body)


def test_start_in_dead_process():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.thread_start, thread, park, 0, 0, 0)

    run_guest(body)


def test_start_in_exited_process():
    def body():
        process = new_process()
        start(process, lambda arg1, arg2: 0)
        wait_until_dead(process)
        thread = zx.thread_create(process, "late", 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.thread_start, thread, park, 0, 0, 0)

    run_guest(body)


@pytest.mark.parametrize("entry", [1 << 55, 1 << 47, -1, 1 << 64])
def test_start_entry_not_user_address(entry):
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_start, thread, entry, 0, 0, 0)
        assert thread_state(thread) == zx.ZX_THREAD_STATE_NEW

    run_guest(body)


@pytest.mark.parametrize("entry", [None, "main", 1.0])
def test_start_entry_bad_value(entry):
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_start, thread, entry, 0, 0, 0)

    run_guest(body)


def test_start_entry_machine_code():
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        entry = X86_64.user_base
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.thread_start, thread, entry, 0, 0, 0)

    run_guest(body)


@pytest.mark.parametrize("position", [2, 3, 4])
@pytest.mark.parametrize("value", [None, 1 << 64, -(1 << 63) - 1, "1"])
def test_start_bad_register_value(position, value):
    def body():
        thread = zx.thread_create(zx.process_self(), "t", 0)
        args = [thread, park, 0, 0, 0]
        args[position] = value
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_start, *args)
        assert thread_state(thread) == zx.ZX_THREAD_STATE_NEW

    run_guest(body)


def test_start_twice():
    def body():
        process = new_process()
        thread = start(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.thread_start, thread, park, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


def test_start_exited_thread():
    def body():
        process = new_process()
        start(process)
        worker = zx.thread_create(process, "worker", 0)
        zx.thread_start(worker, lambda arg1, arg2: None, 0, 0, 0)
        wait_until(lambda: thread_state(worker) == zx.ZX_THREAD_STATE_DEAD)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.thread_start, worker, park, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


def test_start_bad_handle_before_bad_entry():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.thread_start, 0x7, None, 0, 0, 0))


def test_start_dead_process_before_bad_entry():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.thread_start, thread, None, 0, 0, 0)

    run_guest(body)


def test_start_bad_entry_before_started_thread():
    def body():
        process = new_process()
        thread = start(process)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.thread_start, thread, 1 << 47, 0, 0, 0)
        kill_and_wait(process)

    run_guest(body)


# zx.thread_exit


def test_exit_ends_only_calling_thread():
    def body():
        def first(arg1, arg2):
            zx.thread_start(zx.thread_create(zx.process_self(), "second", 0), park, 0, 0, 0)
            zx.thread_exit()

        process = new_process()
        thread = start(process, first)
        wait_until(lambda: thread_state(thread) == zx.ZX_THREAD_STATE_DEAD)
        assert len(zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS)) == 1
        assert not zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & (
            zx.ZX_INFO_PROCESS_FLAG_EXITED
        )
        kill_and_wait(process)

    run_guest(body)


def test_exit_of_last_thread_ends_process():
    def body():
        after = []

        def entry(arg1, arg2):
            zx.thread_exit()
            after.append(True)

        process = new_process()
        start(process, entry)
        wait_until_dead(process)
        assert zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code == 0
        assert after == []

    run_guest(body)


def test_sleeper_wakes_while_other_thread_polls():
    # Regression: a thread that only made syscalls kept the clock moving but never let
    # the run loop wake a sleeper whose deadline had passed, so this poll spun forever.
    def body():
        def nap(arg1, arg2):
            zx.nanosleep(zx.deadline_after(5_000))
            return 0

        process = new_process()
        start(process, nap)
        for polls in range(10_000):
            if zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & (
                zx.ZX_INFO_PROCESS_FLAG_EXITED
            ):
                return polls
        return None

    assert run_guest(body) is not None


def test_info_thread_sleeping_state() -> None:
    def body() -> int:
        thread = zx.thread_create(zx.process_self(), "sleeper", 0)
        zx.thread_start(thread, lambda arg1, arg2: zx.nanosleep(zx.ZX_TIME_INFINITE), 0, 0, 0)
        zx.nanosleep(zx.deadline_after(1000))
        state = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        zx.task_kill(thread)
        return state

    assert run_guest(body) == zx.ZX_THREAD_STATE_BLOCKED_SLEEPING


@pytest.mark.parametrize(("result", "expected"), [(None, 0), (7, 7), (-5, -5), (True, 1)])
def test_main_result_is_return_code(result, expected):
    assert Kernel().run(lambda: result) == expected


@pytest.mark.parametrize("result", ["str", 3.5, 1 << 70, -(1 << 64)])
def test_main_bad_result_kills_process(result):
    with pytest.raises((TypeError, ValueError)):
        Kernel().run(lambda: result)


@pytest.mark.parametrize(("code", "expected"), [(None, 0), (3, 3), ("bye", 1), (1 << 70, 1)])
def test_sys_exit_in_guest_ends_process(code, expected):
    import sys

    assert Kernel().run(lambda: sys.exit(code)) == expected
