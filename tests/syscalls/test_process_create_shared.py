"""zx.process_create_shared: one test per check of the published reference page's order."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait, start, wait_until_dead
from pyzircon import zx
from pyzircon.abi.layout import LAYOUTS
from support import expect_status, run_guest

X86_64 = LAYOUTS["x86_64"]
NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "0", b"0"]
ROOT_VMAR_RIGHTS = (
    zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE
)


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def new_prototype(job: int | None = None) -> tuple[int, int]:
    parent = zx.job_default() if job is None else job
    return zx.process_create(parent, "proto", zx.ZX_PROCESS_SHARED)


def test_create_handles():
    def body():
        proto, _ = new_prototype()
        member, restricted = zx.process_create_shared(proto, 0, "member")
        member_info = zx.object_get_info(member, zx.ZX_INFO_HANDLE_BASIC)
        vmar_info = zx.object_get_info(restricted, zx.ZX_INFO_HANDLE_BASIC)
        assert member_info.type == zx.ZX_OBJ_TYPE_PROCESS
        assert member_info.rights == zx.ZX_DEFAULT_PROCESS_RIGHTS
        assert vmar_info.type == zx.ZX_OBJ_TYPE_VMAR
        assert vmar_info.rights == ROOT_VMAR_RIGHTS

    run_guest(body)


def test_create_restricted_vmar_covers_restricted_range():
    def body():
        proto, _ = new_prototype()
        _, restricted = zx.process_create_shared(proto, 0, "member")
        info = zx.object_get_info(restricted, zx.ZX_INFO_VMAR)
        assert info.base == X86_64.restricted_base
        assert info.len == X86_64.restricted_size

    run_guest(body)


def test_create_joins_prototype_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        proto, _ = new_prototype(job)
        member, _ = zx.process_create_shared(proto, 0, "member")
        assert zx.object_get_info(member, zx.ZX_INFO_HANDLE_BASIC).related_koid == koid_of(job)
        assert koid_of(member) in zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES)

    run_guest(body)


def test_create_is_unstarted():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "member")
        assert zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags == 0

    run_guest(body)


def test_create_needs_no_job_handle():
    def body():
        proto, _ = new_prototype()
        narrow = zx.handle_duplicate(proto, zx.ZX_RIGHT_MANAGE_PROCESS)
        zx.process_create_shared(narrow, 0, "member")

    run_guest(body)


def test_create_from_member():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "member")
        second, _ = zx.process_create_shared(member, 0, "second")
        assert zx.object_get_info(second, zx.ZX_INFO_PROCESS).flags == 0

    run_guest(body)


def test_create_shares_handle_table():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "member")
        start(proto, arg1=zx.event_create(0))
        proto_table = zx.object_get_info(proto, zx.ZX_INFO_HANDLE_TABLE)
        member_table = zx.object_get_info(member, zx.ZX_INFO_HANDLE_TABLE)
        assert len(proto_table) == 1
        assert member_table == proto_table
        kill_and_wait(proto)

    run_guest(body)


@pytest.mark.parametrize(("name", "expected"), [("", ""), ("m" * 40, "m" * 31), (b"b", "b")])
def test_create_name(name, expected):
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, name)
        assert zx.object_get_property(member, zx.ZX_PROP_NAME) == expected

    run_guest(body)


@pytest.mark.parametrize("options", [1, zx.ZX_PROCESS_SHARED, 0x8000_0000, *NOT_U32])
def test_create_bad_options(options):
    def body():
        proto, _ = new_prototype()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, proto, options, "m")

    run_guest(body)


@pytest.mark.parametrize("name", [None, 7, 1.0])
def test_create_bad_name(name):
    def body():
        proto, _ = new_prototype()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, proto, 0, name)

    run_guest(body)


def test_create_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create_shared, 0x7, 0, "m"))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID, True])
def test_create_bad_handle_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create_shared, value, 0, "m"))


def test_create_closed_handle():
    def body():
        proto, _ = new_prototype()
        zx.handle_close(proto)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create_shared, proto, 0, "m")

    run_guest(body)


def test_create_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create_shared, value, 0, "m")
        kill_and_wait(process)

    run_guest(body)


@pytest.mark.parametrize(
    "make",
    [
        zx.job_default,
        zx.thread_self,
        lambda: zx.event_create(0),
        lambda: zx.vmo_create(zx.system_get_page_size(), 0),
        lambda: new_prototype()[1],
    ],
)
def test_create_wrong_type(make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_create_shared, make(), 0, "m"))


def test_create_without_manage_process():
    def body():
        proto, _ = new_prototype()
        rights = zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_MANAGE_PROCESS
        weak = zx.handle_duplicate(proto, rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_create_shared, weak, 0, "m")

    run_guest(body)


def test_create_not_shared_prototype():
    def body():
        regular, _ = zx.process_create(zx.job_default(), "regular", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, regular, 0, "m")

    run_guest(body)


def test_create_from_own_regular_process():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, zx.process_self(), 0, "m"
        )
    )


def test_create_group_dead():
    def body():
        proto, _ = new_prototype()
        zx.task_kill(proto)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create_shared, proto, 0, "m")

    run_guest(body)


def test_create_from_dead_prototype_while_member_lives():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "member")
        zx.task_kill(proto)
        late, _ = zx.process_create_shared(proto, 0, "late")
        assert zx.object_get_info(late, zx.ZX_INFO_PROCESS).flags == 0
        assert zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags == 0

    run_guest(body)


def test_create_after_last_member_died():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "member")
        zx.task_kill(proto)
        start(member, lambda arg1, arg2: 0)
        wait_until_dead(member)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create_shared, proto, 0, "m")
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create_shared, member, 0, "m")

    run_guest(body)


def test_create_in_killed_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        proto, _ = new_prototype(job)
        start(proto)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create_shared, proto, 0, "m")
        wait_until_dead(proto)
        assert zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES) == []

    run_guest(body)


def test_create_options_before_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, 0x7, 1, "m"))


def test_create_name_before_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, 0x7, 0, None))


def test_create_wrong_type_before_missing_rights():
    def body():
        weak = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_create_shared, weak, 0, "m")

    run_guest(body)


def test_create_missing_rights_before_not_shared():
    def body():
        regular, _ = zx.process_create(zx.job_default(), "regular", 0)
        weak = zx.handle_duplicate(regular, zx.ZX_RIGHT_INSPECT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_create_shared, weak, 0, "m")

    run_guest(body)


def test_create_not_shared_before_dead():
    def body():
        regular, _ = zx.process_create(zx.job_default(), "regular", 0)
        zx.task_kill(regular)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, regular, 0, "m")

    run_guest(body)
