"""zx.object_get_child: one test per check, in the kernel's order."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, forge_rights, kill_and_wait, start
from pyzircon import zx
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1.0, "3"]
SAME = zx.ZX_RIGHT_SAME_RIGHTS


def basic(handle: int):
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC)


def koid_of(handle: int) -> int:
    return basic(handle).koid


def new_job() -> int:
    return zx.job_create(zx.job_default(), 0)


def test_child_job():
    def body():
        parent = new_job()
        child = zx.job_create(parent, 0)
        found = zx.object_get_child(parent, koid_of(child), SAME)
        assert koid_of(found) == koid_of(child)
        assert basic(found).type == zx.ZX_OBJ_TYPE_JOB

    run_guest(body)


def test_child_process_of_job():
    def body():
        job = new_job()
        process, _ = zx.process_create(job, "p", 0)
        found = zx.object_get_child(job, koid_of(process), SAME)
        assert koid_of(found) == koid_of(process)
        assert basic(found).type == zx.ZX_OBJ_TYPE_PROCESS

    run_guest(body)


def test_child_thread_of_process():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        thread = start(process)
        found = zx.object_get_child(process, koid_of(thread), SAME)
        assert koid_of(found) == koid_of(thread)
        assert basic(found).type == zx.ZX_OBJ_TYPE_THREAD
        kill_and_wait(process)

    run_guest(body)


def test_child_same_rights_are_parent_handle_rights():
    def body():
        job = new_job()
        process, _ = zx.process_create(job, "p", 0)
        found = zx.object_get_child(job, koid_of(process), SAME)
        assert basic(found).rights == zx.ZX_DEFAULT_JOB_RIGHTS

    run_guest(body)


def test_child_fewer_rights():
    def body():
        job = new_job()
        process, _ = zx.process_create(job, "p", 0)
        found = zx.object_get_child(job, koid_of(process), zx.ZX_RIGHT_INSPECT)
        assert basic(found).rights == zx.ZX_RIGHT_INSPECT

    run_guest(body)


def test_child_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_child, 0x7, 1, SAME))


@pytest.mark.parametrize("value", [*NOT_U32, zx.ZX_HANDLE_INVALID, 1 << 64])
def test_child_bad_handle_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_child, value, 1, SAME))


def test_child_closed_handle():
    def body():
        job = new_job()
        zx.handle_close(job)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_child, job, 1, SAME)

    run_guest(body)


def test_child_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_child, value, 1, SAME)
        kill_and_wait(process)

    run_guest(body)


def test_child_without_enumerate():
    def body():
        weak = zx.handle_duplicate(new_job(), zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_child, weak, 1, SAME)

    run_guest(body)


@pytest.mark.parametrize("make", [zx.thread_self, lambda: zx.event_create(0)])
def test_child_non_task_without_enumerate(make):
    run_guest(lambda: expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_child, make(), 1, SAME))


def test_child_rights_not_held():
    def body():
        job = new_job()
        process, _ = zx.process_create(job, "p", 0)
        weak = zx.handle_duplicate(job, zx.ZX_RIGHT_ENUMERATE)
        koid = koid_of(process)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_child, weak, koid, zx.ZX_RIGHT_READ)

    run_guest(body)


@pytest.mark.parametrize("rights", NOT_U32)
def test_child_bad_rights_value(rights):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_get_child, new_job(), 1, rights)
    )


def test_child_wrong_type():
    # Only jobs and processes get ZX_RIGHT_ENUMERATE by default, so the handle is forged.
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_child, event, 1, SAME)

    run_guest(body)


def test_child_own_koid():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        koid = koid_of(process)
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.object_get_child, process, koid, SAME)

    run_guest(body)


def test_child_unstarted_thread():
    def body():
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        koid = koid_of(zx.thread_create(process, "t", 0))
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.object_get_child, process, koid, SAME)

    run_guest(body)


def test_child_grandchild():
    def body():
        job = new_job()
        process, _ = zx.process_create(zx.job_create(job, 0), "p", 0)
        koid = koid_of(process)
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.object_get_child, job, koid, SAME)

    run_guest(body)


def test_child_dead_process():
    def body():
        job = new_job()
        process, _ = zx.process_create(job, "p", 0)
        zx.task_kill(process)
        koid = koid_of(process)
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.object_get_child, job, koid, SAME)

    run_guest(body)


@pytest.mark.parametrize("koid", [0, zx.ZX_KOID_KERNEL, (1 << 64) - 1])
def test_child_unknown_koid(koid):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_NOT_FOUND, zx.object_get_child, new_job(), koid, SAME)
    )


@pytest.mark.parametrize("koid", [None, -1, 1 << 64, 1.0, "1"])
def test_child_bad_koid_value(koid):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_get_child, new_job(), koid, SAME)
    )


def test_child_bad_handle_before_bad_rights():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_child, 0x7, 1, None))


def test_child_missing_enumerate_before_bad_rights():
    def body():
        weak = zx.handle_duplicate(new_job(), zx.ZX_RIGHT_INSPECT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_child, weak, 1, None)

    run_guest(body)


def test_child_rights_not_held_before_wrong_type():
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_child, event, 1, zx.ZX_RIGHT_READ)

    run_guest(body)


def test_child_wrong_type_before_unknown_koid():
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_ENUMERATE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_child, event, (1 << 64) - 1, SAME)

    run_guest(body)
