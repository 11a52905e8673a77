"""zx.job_create: one test per check, in the kernel's order."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait
from pyzircon import zx
from pyzircon.abi.task import ROOT_JOB_MAX_HEIGHT
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1 << 64, 1.0, "0", b"0"]


def nest_to_max_height() -> int:
    """Create nested jobs under the root job until the tree is full, and return the deepest."""
    job = zx.job_default()
    for _ in range(ROOT_JOB_MAX_HEIGHT):
        job = zx.job_create(job, 0)
    return job


def test_create_child():
    def body():
        parent = zx.job_default()
        child = zx.job_create(parent, 0)
        basic = zx.object_get_info(child, zx.ZX_INFO_HANDLE_BASIC)
        assert basic.type == zx.ZX_OBJ_TYPE_JOB
        assert basic.rights == zx.ZX_DEFAULT_JOB_RIGHTS
        assert basic.related_koid == zx.object_get_info(parent, zx.ZX_INFO_HANDLE_BASIC).koid
        assert basic.koid in zx.object_get_info(parent, zx.ZX_INFO_JOB_CHILDREN)

    run_guest(body)


def test_create_info_of_new_job():
    def body():
        info = zx.object_get_info(zx.job_create(zx.job_default(), 0), zx.ZX_INFO_JOB)
        assert not info.exited
        assert info.return_code == 0

    run_guest(body)


@pytest.mark.parametrize("options", [1, 0x8000_0000, *NOT_U32])
def test_create_bad_options(options):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_create, zx.job_default(), options)
    )


def test_create_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.job_create, 0x7, 0))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID, True])
def test_create_bad_handle_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.job_create, value, 0))


def test_create_closed_handle():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.handle_close(job)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.job_create, job, 0)

    run_guest(body)


def test_create_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.job_create, value, 0)
        kill_and_wait(process)

    run_guest(body)


@pytest.mark.parametrize("make", [lambda: zx.event_create(0), zx.process_self, zx.thread_self])
def test_create_wrong_type(make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.job_create, make(), 0))


def test_create_without_manage_job():
    def body():
        rights = zx.ZX_DEFAULT_JOB_RIGHTS & ~(zx.ZX_RIGHT_MANAGE_JOB | zx.ZX_RIGHT_WRITE)
        weak = zx.handle_duplicate(zx.job_default(), rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_create, weak, 0)

    run_guest(body)


def test_create_write_right_is_not_enough():
    # Regression: a WRITE-only job handle was accepted, as in older kernels.
    def body():
        weak = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_WRITE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_create, weak, 0)

    run_guest(body)


def test_create_manage_job_alone_is_enough():
    def body():
        narrow = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_MANAGE_JOB)
        zx.job_create(narrow, 0)

    run_guest(body)


def test_create_at_max_height():
    def body():
        deepest = nest_to_max_height()
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.job_create, deepest, 0)

    run_guest(body)


def test_create_in_killed_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_create, job, 0)

    run_guest(body)


def test_create_bad_handle_before_bad_options():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_create, 0x7, 1))


def test_create_wrong_type_before_missing_rights():
    def body():
        weak = zx.handle_replace(zx.event_create(0), zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.job_create, weak, 0)

    run_guest(body)


def test_create_max_height_before_dead_parent():
    def body():
        deepest = nest_to_max_height()
        zx.task_kill(deepest)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.job_create, deepest, 0)

    run_guest(body)
