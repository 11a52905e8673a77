"""zx.object_get_property and zx.object_set_property: one test per check."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, forge_rights, kill_and_wait
from pyzircon import zx
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1.0, "3"]
UNKNOWN_PROPERTIES = [0, 1, 0x7777, zx.ZX_PROP_SOCKET_RX_THRESHOLD, *NOT_U32]


def new_process() -> int:
    process, _ = zx.process_create(zx.job_default(), "p", 0)
    return process


def weaken(handle: int, dropped: int) -> int:
    rights = zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights
    return zx.handle_duplicate(handle, rights & ~dropped)


# zx.object_get_property


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: zx.process_create(zx.job_default(), "proc-name", 0)[0], "proc-name"),
        (lambda: zx.thread_create(zx.process_self(), "thread-name", 0), "thread-name"),
        (zx.job_default, "root"),
        (lambda: zx.vmo_create(1, 0), ""),
        # Objects without a name read as empty. No default rights give one of them
        # ZX_RIGHT_GET_PROPERTY, so the handle is forged.
        (lambda: forge_rights(zx.event_create(0), zx.ZX_RIGHT_GET_PROPERTY), ""),
    ],
)
def test_get_name(make, expected):
    assert run_guest(lambda: zx.object_get_property(make(), zx.ZX_PROP_NAME)) == expected


@pytest.mark.parametrize(
    "prop",
    [
        zx.ZX_PROP_PROCESS_DEBUG_ADDR,
        zx.ZX_PROP_PROCESS_BREAK_ON_LOAD,
        zx.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS,
    ],
)
def test_get_process_address_default(prop):
    assert run_guest(lambda: zx.object_get_property(new_process(), prop)) == 0


def test_get_bad_handle():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_property, 0x7, zx.ZX_PROP_NAME)
    )


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID, 1 << 64])
def test_get_bad_handle_value(value):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_property, value, zx.ZX_PROP_NAME)
    )


def test_get_closed_handle():
    def body():
        process = new_process()
        zx.handle_close(process)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_property, process, zx.ZX_PROP_NAME)

    run_guest(body)


def test_get_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_property, value, zx.ZX_PROP_NAME)
        kill_and_wait(process)

    run_guest(body)


def test_get_without_get_property():
    def body():
        weak = weaken(new_process(), zx.ZX_RIGHT_GET_PROPERTY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_property, weak, zx.ZX_PROP_NAME)

    run_guest(body)


def test_get_event_without_get_property():
    # An event's default rights do not include ZX_RIGHT_GET_PROPERTY.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_get_property, zx.event_create(0), zx.ZX_PROP_NAME
        )
    )


@pytest.mark.parametrize("prop", UNKNOWN_PROPERTIES)
def test_get_unknown_property(prop):
    # Regression: an unknown property gave ZX_ERR_INVALID_ARGS, not Zircon's NOT_SUPPORTED.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.object_get_property, zx.process_self(), prop
        )
    )


def test_get_kill_on_oom_is_write_only():
    # Regression: ZX_PROP_JOB_KILL_ON_OOM could be read, but Zircon can only set it.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED,
            zx.object_get_property,
            zx.job_create(zx.job_default(), 0),
            zx.ZX_PROP_JOB_KILL_ON_OOM,
        )
    )


def test_get_hw_trace_context_id():
    # DIVERGENCE(zircon): pyzircon returns what a kernel without the boot option
    # kernel.enable-debugging-syscalls returns.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED,
            zx.object_get_property,
            new_process(),
            zx.ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID,
        )
    )


@pytest.mark.parametrize(
    ("prop", "make"),
    [
        (zx.ZX_PROP_PROCESS_DEBUG_ADDR, zx.job_default),
        (zx.ZX_PROP_PROCESS_BREAK_ON_LOAD, zx.thread_self),
        (zx.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS, lambda: zx.vmo_create(1, 0)),
    ],
)
def test_get_wrong_type(prop, make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_property, make(), prop))


def test_get_bad_handle_before_unknown_property():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_property, 0x7, 0x7777))


def test_get_missing_right_before_unknown_property():
    def body():
        weak = weaken(new_process(), zx.ZX_RIGHT_GET_PROPERTY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_property, weak, 0x7777)

    run_guest(body)


def test_get_missing_right_before_wrong_type():
    def body():
        weak = weaken(zx.job_default(), zx.ZX_RIGHT_GET_PROPERTY)
        prop = zx.ZX_PROP_PROCESS_DEBUG_ADDR
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_property, weak, prop)

    run_guest(body)


# zx.object_set_property


@pytest.mark.parametrize(
    "make",
    [
        new_process,
        lambda: zx.thread_create(zx.process_self(), "t", 0),
        lambda: zx.job_create(zx.job_default(), 0),
        lambda: zx.vmo_create(1, 0),
    ],
)
def test_set_name(make):
    def body():
        target = make()
        zx.object_set_property(target, zx.ZX_PROP_NAME, "renamed")
        return zx.object_get_property(target, zx.ZX_PROP_NAME)

    assert run_guest(body) == "renamed"


@pytest.mark.parametrize(("name", "expected"), [("n" * 40, "n" * 31), (b"ab\0cd", "ab"), ("", "")])
def test_set_name_truncated(name, expected):
    def body():
        process = new_process()
        zx.object_set_property(process, zx.ZX_PROP_NAME, name)
        return zx.object_get_property(process, zx.ZX_PROP_NAME)

    assert run_guest(body) == expected


@pytest.mark.parametrize("prop", [zx.ZX_PROP_PROCESS_DEBUG_ADDR, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD])
@pytest.mark.parametrize("value", [0, 0xFEED_FACE, (1 << 64) - 1])
def test_set_process_address(prop, value):
    def body():
        process = new_process()
        zx.object_set_property(process, prop, value)
        return zx.object_get_property(process, prop)

    assert run_guest(body) == value


@pytest.mark.parametrize("value", [0, 1])
def test_set_kill_on_oom(value):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.object_set_property(job, zx.ZX_PROP_JOB_KILL_ON_OOM, value)
        return zx.object_get_info(job, zx.ZX_INFO_JOB).kill_on_oom

    assert run_guest(body) == bool(value)


def test_set_null_value():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.object_set_property,
            zx.process_self(),
            zx.ZX_PROP_NAME,
            None,
        )
    )


def test_set_null_value_before_bad_handle():
    # Regression: a null value was checked after the handle.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, 0x7, zx.ZX_PROP_NAME, None
        )
    )


def test_set_bad_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.object_set_property, 0x7, zx.ZX_PROP_NAME, "n"
        )
    )


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID])
def test_set_bad_handle_value(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.object_set_property, value, zx.ZX_PROP_NAME, "n"
        )
    )


def test_set_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_set_property, value, zx.ZX_PROP_NAME, "n")
        kill_and_wait(process)

    run_guest(body)


def test_set_without_set_property():
    def body():
        weak = weaken(new_process(), zx.ZX_RIGHT_SET_PROPERTY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_set_property, weak, zx.ZX_PROP_NAME, "n")

    run_guest(body)


@pytest.mark.parametrize(
    "prop",
    [
        *UNKNOWN_PROPERTIES,
        zx.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS,
        zx.ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID,
    ],
)
def test_set_unknown_or_read_only_property(prop):
    # Regression: these gave ZX_ERR_INVALID_ARGS, not Zircon's ZX_ERR_NOT_SUPPORTED.
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.object_set_property, new_process(), prop, 0
        )
    )


@pytest.mark.parametrize("value", [7, 1.0, ["n"]])
def test_set_name_bad_value(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, new_process(), zx.ZX_PROP_NAME, value
        )
    )


def test_set_name_of_unnamed_object():
    # Regression: setting the name of an object without one was silently ignored. No
    # default rights give an unnamed object ZX_RIGHT_SET_PROPERTY, so the handle is forged.
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_SET_PROPERTY)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_set_property, event, zx.ZX_PROP_NAME, "n")

    run_guest(body)


def test_set_name_bad_value_before_unnamed_object():
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_SET_PROPERTY)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, event, zx.ZX_PROP_NAME, 7)

    run_guest(body)


@pytest.mark.parametrize(
    ("prop", "make"),
    [
        (zx.ZX_PROP_PROCESS_DEBUG_ADDR, zx.job_default),
        (zx.ZX_PROP_PROCESS_BREAK_ON_LOAD, zx.thread_self),
        (zx.ZX_PROP_JOB_KILL_ON_OOM, zx.process_self),
    ],
)
def test_set_wrong_type(prop, make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_set_property, make(), prop, 0))


@pytest.mark.parametrize("prop", [zx.ZX_PROP_PROCESS_DEBUG_ADDR, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD])
@pytest.mark.parametrize("value", [-1, 1 << 64, 1.0, "0"])
def test_set_bad_address(prop, value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, new_process(), prop, value
        )
    )


@pytest.mark.parametrize("value", [2, -1, 1 << 64, 1.0, "1"])
def test_set_bad_kill_on_oom(value):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        prop = zx.ZX_PROP_JOB_KILL_ON_OOM
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, job, prop, value)

    run_guest(body)


def test_set_wrong_type_before_bad_value():
    # Regression: the value was converted before the object's type was checked.
    def body():
        prop = zx.ZX_PROP_PROCESS_DEBUG_ADDR
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_set_property, zx.job_default(), prop, "x")

    run_guest(body)


def test_set_missing_right_before_unknown_property():
    def body():
        weak = weaken(new_process(), zx.ZX_RIGHT_SET_PROPERTY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_set_property, weak, 0x7777, 0)

    run_guest(body)


def test_set_unknown_property_before_bad_value():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.object_set_property, new_process(), 0x7777, "x"
        )
    )
