"""zx.object_get_info: one test per check, and the records of the task and handle topics."""

from __future__ import annotations

import pytest

from guest_tasks import foreign_handle, kill_and_wait, start
from pyzircon import zx
from support import expect_status, run_guest

SINGLE_TOPICS = [
    zx.ZX_INFO_HANDLE_BASIC,
    zx.ZX_INFO_HANDLE_COUNT,
    zx.ZX_INFO_PROCESS,
    zx.ZX_INFO_PROCESS_HANDLE_STATS,
]


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def new_process() -> int:
    process, _ = zx.process_create(zx.job_default(), "p", 0)
    return process


def weaken(handle: int, dropped: int) -> int:
    rights = zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights
    return zx.handle_duplicate(handle, rights & ~dropped)


# Check 1: the topic.


@pytest.mark.parametrize(
    "topic", [zx.ZX_INFO_NONE, 0x7777, zx.ZX_INFO_CPU_STATS, None, -1, 1 << 32, "2"]
)
def test_info_unknown_topic(topic):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_get_info, zx.process_self(), topic)
    )


def test_info_unknown_topic_before_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_get_info, 0x7, 0x7777))


# Check 2: the handle.


@pytest.mark.parametrize("topic", [zx.ZX_INFO_HANDLE_VALID, zx.ZX_INFO_HANDLE_BASIC])
@pytest.mark.parametrize("value", [0x7, zx.ZX_HANDLE_INVALID, None, -1, 1 << 32, 1.0, "3"])
def test_info_bad_handle(topic, value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, value, topic))


def test_info_closed_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, event, zx.ZX_INFO_HANDLE_VALID)

    run_guest(body)


def test_info_foreign_handle():
    def body():
        process, value = foreign_handle()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, value, zx.ZX_INFO_HANDLE_BASIC)
        kill_and_wait(process)

    run_guest(body)


def test_info_bad_handle_before_bad_capacity():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, 0x7, zx.ZX_INFO_HANDLE_BASIC, -1
        )
    )


# Check 3: the object type.


@pytest.mark.parametrize(
    ("topic", "make"),
    [
        (zx.ZX_INFO_PROCESS, zx.job_default),
        (zx.ZX_INFO_PROCESS, zx.thread_self),
        (zx.ZX_INFO_PROCESS_THREADS, zx.thread_self),
        (zx.ZX_INFO_THREAD, zx.process_self),
        (zx.ZX_INFO_JOB, zx.process_self),
        (zx.ZX_INFO_JOB_CHILDREN, zx.process_self),
        (zx.ZX_INFO_JOB_PROCESSES, zx.thread_self),
        (zx.ZX_INFO_HANDLE_TABLE, zx.job_default),
        (zx.ZX_INFO_PROCESS_HANDLE_STATS, zx.job_default),
        (zx.ZX_INFO_TASK_STATS, zx.job_default),
        (zx.ZX_INFO_PROCESS_MAPS, zx.thread_self),
        (zx.ZX_INFO_PROCESS_VMOS, zx.job_default),
        (zx.ZX_INFO_VMAR, zx.process_self),
        (zx.ZX_INFO_VMO, zx.vmar_root_self),
    ],
)
def test_info_wrong_type(topic, make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, make(), topic))


def test_info_wrong_type_before_missing_rights():
    def body():
        weak = zx.handle_duplicate(zx.job_default(), zx.ZX_RIGHT_NONE)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, weak, zx.ZX_INFO_PROCESS)

    run_guest(body)


# Check 4: the rights.


@pytest.mark.parametrize(
    ("topic", "make", "dropped"),
    [
        (zx.ZX_INFO_HANDLE_COUNT, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS_THREADS, zx.process_self, zx.ZX_RIGHT_ENUMERATE),
        (zx.ZX_INFO_PROCESS_HANDLE_STATS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_HANDLE_TABLE, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_HANDLE_TABLE, zx.process_self, zx.ZX_RIGHT_MANAGE_PROCESS),
        (zx.ZX_INFO_HANDLE_TABLE, zx.process_self, zx.ZX_RIGHT_MANAGE_THREAD),
        (zx.ZX_INFO_TASK_STATS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS_MAPS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS_VMOS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_THREAD, zx.thread_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_JOB, zx.job_default, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_JOB_CHILDREN, zx.job_default, zx.ZX_RIGHT_ENUMERATE),
        (zx.ZX_INFO_JOB_PROCESSES, zx.job_default, zx.ZX_RIGHT_ENUMERATE),
        (zx.ZX_INFO_VMAR, zx.vmar_root_self, zx.ZX_RIGHT_INSPECT),
    ],
)
def test_info_missing_rights(topic, make, dropped):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weaken(make(), dropped), topic
        )
    )


def test_info_handle_table_needs_manage_thread():
    # Regression: ZX_INFO_HANDLE_TABLE did not ask for ZX_RIGHT_MANAGE_THREAD.
    def body():
        rights = zx.ZX_RIGHT_INSPECT | zx.ZX_RIGHT_MANAGE_PROCESS
        weak = zx.handle_duplicate(zx.process_self(), rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, zx.ZX_INFO_HANDLE_TABLE)

    run_guest(body)


@pytest.mark.parametrize("topic", [zx.ZX_INFO_HANDLE_VALID, zx.ZX_INFO_HANDLE_BASIC])
def test_info_needs_no_rights(topic):
    def body():
        weak = zx.handle_duplicate(zx.event_create(0), zx.ZX_RIGHT_NONE)
        zx.object_get_info(weak, topic)

    run_guest(body)


def test_info_missing_rights_before_bad_capacity():
    def body():
        weak = weaken(zx.process_self(), zx.ZX_RIGHT_INSPECT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, zx.ZX_INFO_PROCESS, -1)

    run_guest(body)


# Check 5: the topic's state.


def test_info_task_stats_of_dead_process():
    def body():
        process = new_process()
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, process, zx.ZX_INFO_TASK_STATS)

    run_guest(body)


def test_info_process_vmos_of_unstarted_process():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_STATE, zx.object_get_info, new_process(), zx.ZX_INFO_PROCESS_VMOS
        )
    )


def test_info_bad_state_before_buffer_too_small():
    # Regression: the room check ran before the kernel's state check.
    def body():
        process = new_process()
        zx.task_kill(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, process, zx.ZX_INFO_TASK_STATS, 0)

    run_guest(body)


def test_info_bad_state_before_bad_capacity():
    def body():
        process = new_process()
        expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, process, zx.ZX_INFO_PROCESS_VMOS, -1)

    run_guest(body)


# Check 6: the capacity.


@pytest.mark.parametrize("capacity", [-1, 1 << 64, 1.0, "1", True])
@pytest.mark.parametrize("topic", [zx.ZX_INFO_HANDLE_BASIC, zx.ZX_INFO_PROCESS_THREADS])
def test_info_bad_capacity(topic, capacity):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_get_info, zx.process_self(), topic, capacity
        )
    )


# Check 7: room for a single record.


@pytest.mark.parametrize("topic", SINGLE_TOPICS)
def test_info_single_record_no_room(topic):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, zx.process_self(), topic, 0
        )
    )


@pytest.mark.parametrize("topic", SINGLE_TOPICS)
def test_info_single_record_with_capacity(topic):
    def body():
        records, actual, avail = zx.object_get_info(zx.process_self(), topic, 1)
        assert records == [zx.object_get_info(zx.process_self(), topic)]
        assert actual == 1
        assert avail == 1

    run_guest(body)


def test_info_handle_valid_with_no_room():
    # Regression: ZX_INFO_HANDLE_VALID, which has no record, failed for lack of room.
    assert run_guest(lambda: zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_VALID, 0)) == (
        [],
        0,
        0,
    )


def test_info_handle_valid_returns_none():
    assert (
        run_guest(lambda: zx.object_get_info(zx.event_create(0), zx.ZX_INFO_HANDLE_VALID)) is None
    )


def test_info_list_capacity_zero():
    def body():
        process = new_process()
        start(process)
        records, actual, avail = zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS, 0)
        assert records == []
        assert actual == 0
        assert avail == 1
        kill_and_wait(process)

    run_guest(body)


def test_info_list_capacity_short():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        children = [koid_of(zx.job_create(job, 0)) for _ in range(3)]
        records, actual, avail = zx.object_get_info(job, zx.ZX_INFO_JOB_CHILDREN, 2)
        assert records == children[:2]
        assert actual == 2
        assert avail == 3

    run_guest(body)


# Records.


def test_info_handle_basic_of_process():
    def body():
        job = zx.job_default()
        info = zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_BASIC)
        assert info.type == zx.ZX_OBJ_TYPE_PROCESS
        assert info.rights == zx.ZX_DEFAULT_PROCESS_RIGHTS
        assert info.related_koid == koid_of(job)
        assert info.koid >= zx.ZX_KOID_FIRST

    run_guest(body)


def test_info_handle_basic_of_vmar_not_waitable():
    def body():
        info = zx.object_get_info(zx.vmar_root_self(), zx.ZX_INFO_HANDLE_BASIC)
        assert info.props == zx.ZX_OBJ_PROP_NONE

    run_guest(body)


def test_info_handle_count():
    def body():
        event = zx.event_create(0)
        zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        duplicate = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        assert zx.object_get_info(event, zx.ZX_INFO_HANDLE_COUNT).handle_count == 3
        zx.handle_close(duplicate)
        assert zx.object_get_info(event, zx.ZX_INFO_HANDLE_COUNT).handle_count == 2

    run_guest(body)


def test_info_process_threads():
    def body():
        koids = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_THREADS)
        assert koids == [koid_of(zx.thread_self())]

    run_guest(body)


def test_info_thread_running():
    def body():
        info = zx.object_get_info(zx.thread_self(), zx.ZX_INFO_THREAD)
        assert info.state == zx.ZX_THREAD_STATE_RUNNING

    run_guest(body)


def test_info_job_children_and_processes():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        child = zx.job_create(job, 0)
        process, _ = zx.process_create(job, "p", 0)
        assert zx.object_get_info(job, zx.ZX_INFO_JOB_CHILDREN) == [koid_of(child)]
        assert zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES) == [koid_of(process)]

    run_guest(body)


def test_info_job_killed_while_children_die():
    # Regression: ZX_INFO_JOB.exited stayed false until every child had died, but Zircon
    # sets it as soon as the job is killed. Whether a child is still dying when the caller
    # runs again depends on the scheduler's choices, so several seeds are tried.
    def body():
        job = zx.job_create(zx.job_default(), 0)
        processes = [zx.process_create(job, "p", 0)[0] for _ in range(4)]
        for process in processes:
            start(process)
        zx.task_kill(job)
        info = zx.object_get_info(job, zx.ZX_INFO_JOB)
        # Children only ever leave a killed job, so a child still listed now was alive
        # when `info` was read, and the job was not dead yet.
        still_listed = zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES)
        return still_listed, info

    observed_killing = 0
    for seed in range(20):
        still_listed, info = run_guest(body, seed=seed)
        if still_listed:
            observed_killing += 1
            assert info.exited, f"seed {seed}"
            assert info.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL, f"seed {seed}"
    assert observed_killing > 0, "no seed caught the job while its children were dying"


def test_info_handle_table_entries():
    def body():
        event = zx.event_create(0)
        first, second = zx.eventpair_create(0)
        table = zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_TABLE)
        entries = {entry.handle_value: entry for entry in table}
        assert entries[event].type == zx.ZX_OBJ_TYPE_EVENT
        assert entries[event].rights == zx.ZX_DEFAULT_EVENT_RIGHTS
        assert entries[event].koid == koid_of(event)
        assert entries[first].related_koid == koid_of(second)
        assert entries[second].peer_owner_koid == 0

    run_guest(body)


def test_info_process_handle_stats():
    def body():
        before = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        zx.eventpair_create(0)
        after = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        assert len(after.handle_count) == zx.ZX_OBJ_TYPE_UPPER_BOUND
        gained = after.handle_count[zx.ZX_OBJ_TYPE_EVENTPAIR]
        assert gained - before.handle_count[zx.ZX_OBJ_TYPE_EVENTPAIR] == 2

    run_guest(body)
