"""zx.handle_close, handle_close_many, handle_duplicate and handle_replace: one test per check."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait
from pyzircon import zx
from support import expect_status, run_guest

# Values a Python caller might pass where C takes a zx_handle_t or zx_rights_t.
NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "1", b"1", [1]]


def is_valid(handle: int) -> bool:
    try:
        zx.object_get_info(handle, zx.ZX_INFO_HANDLE_VALID)
    except zx.ZxError:
        return False
    return True


def rights_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


# zx.handle_close


def test_close_valid_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        assert not is_valid(event)

    run_guest(body)


def test_close_invalid_handle_value_is_ok():
    run_guest(lambda: zx.handle_close(zx.ZX_HANDLE_INVALID))


def test_close_closed_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, event)

    run_guest(body)


@pytest.mark.parametrize("value", [*NOT_U32, True, False, 0x3])
def test_close_bad_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, value))


def test_close_false_is_not_invalid_handle():
    # Regression: False compared equal to ZX_HANDLE_INVALID and was accepted as it.
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, False))


def test_close_value_above_32_bits():
    # Regression: a value 2**32 above a handle named that handle.
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, event + (1 << 32))
        assert is_valid(event)

    run_guest(body)


def test_close_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, value)
        kill_and_wait(process)

    run_guest(body)


# zx.handle_close_many


def test_close_many_closes_all():
    def body():
        handles = [zx.event_create(0) for _ in range(4)]
        zx.handle_close_many(handles)
        assert not any(is_valid(handle) for handle in handles)

    run_guest(body)


def test_close_many_empty():
    run_guest(lambda: zx.handle_close_many([]))


def test_close_many_accepts_tuple():
    def body():
        handles = (zx.event_create(0), zx.event_create(0))
        zx.handle_close_many(handles)
        assert not any(is_valid(handle) for handle in handles)

    run_guest(body)


@pytest.mark.parametrize("handles", [None, 3, "abc", b"\x03", {3: 3}])
def test_close_many_not_a_sequence(handles):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_close_many, handles))


def test_close_many_skips_invalid_entries():
    def body():
        handles = [zx.event_create(0) for _ in range(4)]
        zx.handle_close_many([*handles, zx.ZX_HANDLE_INVALID, zx.ZX_HANDLE_INVALID])
        assert not any(is_valid(handle) for handle in handles)

    run_guest(body)


@pytest.mark.parametrize("bad", [*NOT_U32, True, 0xBADC0FFE])
def test_close_many_bad_entry(bad):
    def body():
        first, last = zx.event_create(0), zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close_many, [first, bad, last])
        assert not is_valid(first)
        assert not is_valid(last)

    run_guest(body)


def test_close_many_duplicate_entry():
    def body():
        event, other = zx.event_create(0), zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close_many, [event, other, event])
        assert not is_valid(event)
        assert not is_valid(other)

    run_guest(body)


def test_close_many_foreign_entry():
    def body():
        process, value = foreign_handle()
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close_many, [value, event])
        assert not is_valid(event)
        kill_and_wait(process)

    run_guest(body)


# zx.handle_duplicate


def test_duplicate_same_rights():
    def body():
        event = zx.event_create(0)
        duplicate = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        assert duplicate != event
        assert rights_of(duplicate) == rights_of(event)
        assert koid_of(duplicate) == koid_of(event)

    run_guest(body)


def test_duplicate_fewer_rights():
    def body():
        event = zx.event_create(0)
        duplicate = zx.handle_duplicate(event, zx.ZX_RIGHT_WAIT | zx.ZX_RIGHT_DUPLICATE)
        assert rights_of(duplicate) == zx.ZX_RIGHT_WAIT | zx.ZX_RIGHT_DUPLICATE
        assert rights_of(event) == zx.ZX_DEFAULT_EVENT_RIGHTS

    run_guest(body)


def test_duplicate_no_rights():
    def body():
        event = zx.event_create(0)
        duplicate = zx.handle_duplicate(event, zx.ZX_RIGHT_NONE)
        assert rights_of(duplicate) == zx.ZX_RIGHT_NONE

    run_guest(body)


def test_duplicate_bad_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, 0x7, zx.ZX_RIGHT_SAME_RIGHTS
        )
    )


@pytest.mark.parametrize("value", [*NOT_U32, True])
def test_duplicate_bad_handle_value(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, value, zx.ZX_RIGHT_SAME_RIGHTS
        )
    )


def test_duplicate_closed_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, event, zx.ZX_RIGHT_SAME_RIGHTS)

    run_guest(body)


def test_duplicate_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, value, zx.ZX_RIGHT_SAME_RIGHTS)
        kill_and_wait(process)

    run_guest(body)


def test_duplicate_without_duplicate_right():
    def body():
        event = zx.event_create(0)
        weak = zx.handle_replace(event, zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.handle_duplicate, weak, zx.ZX_RIGHT_SAME_RIGHTS)

    run_guest(body)


def test_duplicate_more_rights():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_duplicate, event, zx.ZX_RIGHT_WRITE)

    run_guest(body)


def test_duplicate_same_rights_with_other_bits():
    def body():
        event = zx.event_create(0)
        rights = zx.ZX_RIGHT_SAME_RIGHTS | zx.ZX_RIGHT_WAIT
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_duplicate, event, rights)

    run_guest(body)


@pytest.mark.parametrize("rights", NOT_U32)
def test_duplicate_bad_rights_value(rights):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_duplicate, event, rights)
        assert is_valid(event)

    run_guest(body)


def test_duplicate_bad_handle_before_bad_rights():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, 0x7, None))


def test_duplicate_missing_right_before_bad_rights():
    def body():
        weak = zx.handle_replace(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.handle_duplicate, weak, zx.ZX_RIGHT_WRITE)

    run_guest(body)


# zx.handle_replace


def test_replace_same_rights():
    def body():
        event = zx.event_create(0)
        koid = koid_of(event)
        replacement = zx.handle_replace(event, zx.ZX_RIGHT_SAME_RIGHTS)
        assert not is_valid(event)
        assert koid_of(replacement) == koid
        assert rights_of(replacement) == zx.ZX_DEFAULT_EVENT_RIGHTS

    run_guest(body)


def test_replace_fewer_rights():
    def body():
        event = zx.event_create(0)
        replacement = zx.handle_replace(event, zx.ZX_RIGHT_WAIT)
        assert rights_of(replacement) == zx.ZX_RIGHT_WAIT

    run_guest(body)


def test_replace_needs_no_duplicate_right():
    def body():
        weak = zx.handle_replace(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        replacement = zx.handle_replace(weak, zx.ZX_RIGHT_NONE)
        assert rights_of(replacement) == zx.ZX_RIGHT_NONE

    run_guest(body)


def test_replace_bad_handle():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_replace, 0x7, zx.ZX_RIGHT_SAME_RIGHTS)
    )


@pytest.mark.parametrize("value", [*NOT_U32, True])
def test_replace_bad_handle_value(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.handle_replace, value, zx.ZX_RIGHT_SAME_RIGHTS
        )
    )


def test_replace_closed_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_replace, event, zx.ZX_RIGHT_SAME_RIGHTS)

    run_guest(body)


def test_replace_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_replace, value, zx.ZX_RIGHT_SAME_RIGHTS)
        kill_and_wait(process)

    run_guest(body)


def test_replace_more_rights_closes_source():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_replace, event, zx.ZX_RIGHT_WRITE)
        assert not is_valid(event)

    run_guest(body)


@pytest.mark.parametrize("rights", NOT_U32)
def test_replace_bad_rights_value_closes_source(rights):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.handle_replace, event, rights)
        assert not is_valid(event)

    run_guest(body)


def test_replace_bad_handle_before_bad_rights():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_replace, 0x7, None))
