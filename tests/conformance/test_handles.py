"""Handles and rights, as Zircon's handle core tests (and zCore's lookup tests) expect."""

from __future__ import annotations

from guest_tasks import kill_and_wait, start
from pyzircon import zx
from support import expect_status, run_guest


def is_valid(handle: int) -> bool:
    try:
        zx.object_get_info(handle, zx.ZX_INFO_HANDLE_VALID)
    except zx.ZxError:
        return False
    return True


def basic(handle: int):
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC)


def test_f1_replace_invalidates_source():
    def body():
        event = zx.event_create(0)
        replacement = zx.handle_replace(event, zx.ZX_RIGHTS_BASIC)
        return is_valid(replacement), is_valid(event), basic(replacement).rights

    replacement_valid, source_valid, rights = run_guest(body)
    assert replacement_valid
    assert not source_valid
    assert rights == zx.ZX_RIGHTS_BASIC


def test_f3_handle_valid():
    def body():
        event = zx.event_create(0)
        zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        valid = zx.object_get_info(event, zx.ZX_INFO_HANDLE_VALID, 0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, event, zx.ZX_INFO_HANDLE_VALID, 0)
        return valid

    assert run_guest(body) == ([], 0, 0)


def test_f3_handle_basic_too_small():
    def body():
        event = zx.event_create(0)
        expect_status(
            zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, event, zx.ZX_INFO_HANDLE_BASIC, 0
        )

    run_guest(body)


def test_f3_handle_basic_of_event():
    info = run_guest(lambda: basic(zx.event_create(0)))
    assert info.koid > 0
    assert info.type == zx.ZX_OBJ_TYPE_EVENT
    assert info.rights == zx.ZX_RIGHTS_BASIC | zx.ZX_RIGHT_SIGNAL
    assert info.props == zx.ZX_OBJ_PROP_WAITABLE
    assert info.related_koid == 0


def test_f4_related_koids():
    def body():
        job = zx.job_default()
        process, _ = zx.process_create(job, "p", 0)
        thread = zx.thread_create(process, "t", 0)
        first, second = zx.eventpair_create(0)
        return {
            "job": basic(job).koid,
            "process": basic(process),
            "thread": basic(thread),
            "first": basic(first),
            "second": basic(second),
            "event": basic(zx.event_create(0)),
        }

    infos = run_guest(body)
    assert infos["process"].related_koid == infos["job"]
    assert infos["thread"].related_koid == infos["process"].koid
    assert infos["first"].related_koid == infos["second"].koid
    assert infos["second"].related_koid == infos["first"].koid
    assert infos["event"].related_koid == 0


def test_f6_close_many_eventpair_ends():
    def body():
        ends = [*zx.eventpair_create(0), *zx.eventpair_create(0)]
        zx.handle_close_many(ends)
        return [is_valid(end) for end in ends]

    assert run_guest(body) == [False] * 4


def test_f6_close_many_skips_invalid():
    def body():
        handles = [zx.event_create(0) for _ in range(4)]
        zx.handle_close_many([*handles, zx.ZX_HANDLE_INVALID, zx.ZX_HANDLE_INVALID])
        return [is_valid(handle) for handle in handles]

    assert run_guest(body) == [False] * 4


def test_f6_close_many_duplicate_value():
    def body():
        handles = [zx.event_create(0) for _ in range(3)]
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close_many, [*handles, handles[1]])
        return [is_valid(handle) for handle in handles]

    assert run_guest(body) == [False] * 3


def test_f6_close_many_early_garbage_not_masked():
    def body():
        handles = [zx.event_create(0) for _ in range(zx.ZX_CHANNEL_MAX_MSG_HANDLES)]
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close_many, [0xBADC0FFE, *handles])
        return [is_valid(handle) for handle in handles]

    assert run_guest(body) == [False] * zx.ZX_CHANNEL_MAX_MSG_HANDLES


def test_f9_lookup_failures():
    def body():
        event = zx.event_create(0)
        weak = zx.handle_duplicate(event, zx.ZX_RIGHT_DUPLICATE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, zx.ZX_INFO_HANDLE_COUNT)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, event, zx.ZX_INFO_PROCESS)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, event, zx.ZX_INFO_HANDLE_BASIC)

    run_guest(body)


def test_f9_duplicate_rules():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_duplicate, 0x7, zx.ZX_RIGHT_SAME_RIGHTS)
        same = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        empty = zx.handle_duplicate(event, zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.handle_duplicate, empty, zx.ZX_RIGHT_NONE)
        return basic(same).rights, basic(empty).rights

    same_rights, empty_rights = run_guest(body)
    assert same_rights == zx.ZX_DEFAULT_EVENT_RIGHTS
    assert empty_rights == zx.ZX_RIGHT_NONE


def test_f9_get_child_thread():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        thread = start(process)
        found = zx.object_get_child(process, basic(thread).koid, zx.ZX_RIGHT_SAME_RIGHTS)
        own = basic(process).koid
        expect_status(
            zx.ZX_ERR_NOT_FOUND, zx.object_get_child, process, own, zx.ZX_RIGHT_SAME_RIGHTS
        )
        koids = basic(found).koid, basic(thread).koid
        kill_and_wait(process)
        return koids

    found_koid, thread_koid = run_guest(body)
    assert found_koid == thread_koid
