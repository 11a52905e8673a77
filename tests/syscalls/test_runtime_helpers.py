"""The libc-style runtime helpers: the same handle value every time."""

from __future__ import annotations

from pyzircon import zx
from support import expect_status, run_guest


def test_process_self_is_stable() -> None:
    def body() -> tuple[int, int]:
        return zx.process_self(), zx.process_self()

    first, second = run_guest(body)
    assert first == second


def test_process_self_after_close_stays_closed() -> None:
    def body() -> None:
        handle = zx.process_self()
        zx.handle_close(handle)
        assert zx.process_self() == handle
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, handle, zx.ZX_INFO_PROCESS)

    run_guest(body)


def test_thread_self_differs_per_thread() -> None:
    def body() -> tuple[int, int]:
        values: list[int] = []
        thread = zx.thread_create(zx.process_self(), "other", 0)
        zx.thread_start(thread, lambda arg1, arg2: values.append(zx.thread_self()), 0, 0, 0)
        while not values:
            zx.nanosleep(zx.deadline_after(1000))
        return zx.thread_self(), values[0]

    mine, other = run_guest(body)
    assert mine != other
