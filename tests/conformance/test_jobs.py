"""Jobs, as Zircon's job core tests expect (the parts that need no policy and no waits)."""

from __future__ import annotations

import pytest

from guest_tasks import is_dead, job_is_dead, start, wait_until
from pyzircon import zx
from pyzircon.abi.task import ROOT_JOB_MAX_HEIGHT
from pyzircon.syscalls.object import INFO_TOPICS
from support import expect_status, run_guest


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def job_info(job: int):
    return zx.object_get_info(job, zx.ZX_INFO_JOB)


def test_g1_create_and_info():
    def body():
        child = zx.job_create(zx.job_default(), 0)
        zx.job_create(child, 0)
        return job_info(child)

    info = run_guest(body)
    assert not info.exited
    assert info.return_code == 0


def test_g1_invalid_parent():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.job_create, zx.ZX_HANDLE_INVALID, 0))


def test_g1_processes_in_parent_and_child():
    def body():
        parent = zx.job_default()
        child = zx.job_create(parent, 0)
        zx.process_create(parent, "in-parent", 0)
        zx.process_create(child, "in-child", 0)

    run_guest(body)


def test_g3_create_needs_rights():
    def body():
        rights = zx.ZX_DEFAULT_JOB_RIGHTS & ~(zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_MANAGE_JOB)
        weak = zx.handle_duplicate(zx.job_default(), rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_create, weak, 0)

    run_guest(body)


def test_g5_kill_subtree():
    def body():
        child = zx.job_create(zx.job_default(), 0)
        grandchild = zx.job_create(child, 0)
        process, _ = zx.process_create(child, "p", 0)
        start(process)
        zx.task_kill(child)
        wait_until(lambda: job_is_dead(child))
        return (
            job_info(child),
            job_info(grandchild),
            zx.object_get_info(process, zx.ZX_INFO_PROCESS),
            is_dead(process),
        )

    child, grandchild, process, process_dead = run_guest(body)
    assert process_dead
    assert process.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED
    assert process.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL
    for info in (child, grandchild):
        assert info.exited
        assert info.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL


@pytest.mark.parametrize("with_children", [True, False])
def test_g5_killed_job_unusable(with_children):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        if with_children:
            zx.job_create(job, 0)
            zx.process_create(job, "p", 0)
        zx.task_kill(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_create, job, 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create, job, "p", 0)

    run_guest(body)


def test_g6_kill_removes_from_tree():
    def body():
        parent = zx.job_create(zx.job_default(), 0)
        child = zx.job_create(parent, 0)
        before = zx.object_get_info(parent, zx.ZX_INFO_JOB_CHILDREN)
        zx.task_kill(child)
        wait_until(lambda: job_is_dead(child))
        return koid_of(child), before, zx.object_get_info(parent, zx.ZX_INFO_JOB_CHILDREN)

    child_koid, before, after = run_guest(body)
    assert before == [child_koid]
    assert after == []


def test_g6_close_removes_from_tree():
    def body():
        parent = zx.job_create(zx.job_default(), 0)
        child = zx.job_create(parent, 0)
        zx.handle_close(child)
        return zx.object_get_info(parent, zx.ZX_INFO_JOB_CHILDREN)

    assert run_guest(body) == []


def test_g6_kill_chain_bottom_up():
    def body():
        jobs = [zx.job_default()]
        for _ in range(5):
            jobs.append(zx.job_create(jobs[-1], 0))
            process, _ = zx.process_create(jobs[-1], "p", 0)
            start(process)
        chain = jobs[1:]
        zx.task_kill(chain[0])
        wait_until(lambda: job_is_dead(chain[0]))
        return [job_is_dead(job) for job in chain]

    assert run_guest(body) == [True] * 5


def test_g8_kill_on_oom_property():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        zx.object_set_property(job, zx.ZX_PROP_JOB_KILL_ON_OOM, 1)
        set_on = job_info(job).kill_on_oom
        zx.object_set_property(job, zx.ZX_PROP_JOB_KILL_ON_OOM, 0)
        set_off = job_info(job).kill_on_oom
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_set_property, job, zx.ZX_PROP_JOB_KILL_ON_OOM, 2
        )
        return set_on, set_off

    assert run_guest(body) == (True, False)


def test_g8_task_stats_of_job_fails():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, zx.job_default(), zx.ZX_INFO_TASK_STATS
        )
    )


def test_g8_max_height():
    def body():
        job = zx.job_default()
        depth = 0
        while True:
            try:
                job = zx.job_create(job, 0)
            except zx.ZxError as error:
                assert error.status == zx.ZX_ERR_OUT_OF_RANGE
                break
            depth += 1
            assert depth < 128
        zx.process_create(job, "deepest", 0)
        return depth

    assert run_guest(body) == ROOT_JOB_MAX_HEIGHT


@pytest.mark.skipif(
    zx.ZX_INFO_TASK_RUNTIME not in INFO_TOPICS,
    reason="pyzircon does not serve ZX_INFO_TASK_RUNTIME yet (no per-task CPU accounting)",
)
def test_g8_task_runtime_of_empty_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        records, actual, avail = zx.object_get_info(job, zx.ZX_INFO_TASK_RUNTIME, 1)
        weak = zx.handle_duplicate(job, zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_INSPECT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, zx.ZX_INFO_TASK_RUNTIME)
        return records[0], actual, avail

    record, actual, avail = run_guest(body)
    assert (actual, avail) == (1, 1)
    assert record.cpu_time == 0
    assert record.queue_time == 0
