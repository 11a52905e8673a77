"""zx.event_create and zx.eventpair_create: one test per check."""

from __future__ import annotations

import pytest

from pyzircon import zx
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "0", b"0"]


def basic(handle: int):
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC)


def test_event_create():
    def body():
        info = basic(zx.event_create(0))
        assert info.type == zx.ZX_OBJ_TYPE_EVENT
        assert info.rights == zx.ZX_DEFAULT_EVENT_RIGHTS
        assert info.related_koid == zx.ZX_KOID_INVALID
        assert info.props == zx.ZX_OBJ_PROP_WAITABLE

    run_guest(body)


def test_event_create_distinct_objects():
    def body():
        first, second = zx.event_create(0), zx.event_create(0)
        assert basic(first).koid != basic(second).koid

    run_guest(body)


@pytest.mark.parametrize("options", [1, 0x8000_0000, *NOT_U32])
def test_event_create_bad_options(options):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.event_create, options))


def test_eventpair_create():
    def body():
        first, second = zx.eventpair_create(0)
        for handle in (first, second):
            info = basic(handle)
            assert info.type == zx.ZX_OBJ_TYPE_EVENTPAIR
            assert info.rights == zx.ZX_DEFAULT_EVENTPAIR_RIGHTS
            assert info.props == zx.ZX_OBJ_PROP_WAITABLE

    run_guest(body)


def test_eventpair_ends_are_related():
    def body():
        first, second = zx.eventpair_create(0)
        assert basic(first).related_koid == basic(second).koid
        assert basic(second).related_koid == basic(first).koid

    run_guest(body)


def test_eventpair_related_after_peer_closed():
    # Regression: an end reported related koid 0 once its peer was closed.
    def body():
        first, second = zx.eventpair_create(0)
        peer_koid = basic(second).koid
        zx.handle_close(second)
        assert basic(first).related_koid == peer_koid

    run_guest(body)


@pytest.mark.parametrize("options", [1, 0x8000_0000, *NOT_U32])
def test_eventpair_create_bad_options(options):
    run_guest(lambda: expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.eventpair_create, options))
