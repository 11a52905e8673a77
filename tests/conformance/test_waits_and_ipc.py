"""Conformance cases that need waits, channels, ports, futexes or suspension.

Each test names its case (A18, C7, ...); the cases restate Zircon's core tests. Cases
marked as races in the list run under several seeds, since the seed picks the
interleaving.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, park, start
from ipc_support import (
    is_valid,
    join,
    koid,
    map_page,
    signals_of,
    spawn,
    thread_state,
    wait_for_state,
)
from pyzircon import user, zx
from support import expect_status, run_guest

SEEDS = range(4)
INFINITE = zx.ZX_TIME_INFINITE
SECOND = 1_000_000_000
TERMINATED = zx.ZX_TASK_TERMINATED
JOB_EMPTY = zx.ZX_JOB_NO_PROCESSES | zx.ZX_JOB_NO_JOBS | zx.ZX_JOB_NO_CHILDREN


def times_out(handle: int, signals: int, seconds: int = 1) -> bool:
    """Return whether waiting `seconds` for `signals` on `handle` times out."""
    try:
        zx.object_wait_one(handle, signals, zx.deadline_after(seconds * SECOND))
    except zx.ZxError as error:
        assert error.status == zx.ZX_ERR_TIMED_OUT
        return True
    return False


def wait_terminated(handle: int) -> int:
    return zx.object_wait_one(handle, TERMINATED, INFINITE)


def new_process(job: int | None = None, name: str = "p") -> int:
    process, _ = zx.process_create(zx.job_default() if job is None else job, name, 0)
    return process


# A18: the handle table and the futex context are shared across a group.


def test_a18_handle_table_shared():
    def body():
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, _ = zx.process_create_shared(proto, 0, "member")
        box = {}

        def member_entry(arg1, arg2):
            box["event"] = zx.event_create(0)
            return park(arg1, arg2)

        def proto_entry(arg1, arg2):
            zx.object_wait_one(arg1, zx.ZX_USER_SIGNAL_0, INFINITE)
            # A value made in the member works here without a transfer.
            zx.object_signal(box["event"], 0, zx.ZX_EVENT_SIGNALED)
            box["signals"] = signals_of(box["event"])
            return park(arg1, arg2)

        start(member, member_entry)
        while "event" not in box:
            zx.nanosleep(0)
        go = zx.event_create(0)
        start(proto, proto_entry, zx.handle_duplicate(go, zx.ZX_RIGHT_SAME_RIGHTS))
        proto_table = zx.object_get_info(proto, zx.ZX_INFO_HANDLE_TABLE)
        member_table = zx.object_get_info(member, zx.ZX_INFO_HANDLE_TABLE)
        zx.object_signal(go, 0, zx.ZX_USER_SIGNAL_0)
        while "signals" not in box:
            zx.nanosleep(0)
        kill_and_wait(proto)
        kill_and_wait(member)
        return proto_table, member_table, box["signals"]

    proto_table, member_table, signals = run_guest(body)
    assert proto_table == member_table
    assert len(proto_table) == 2
    assert signals == zx.ZX_EVENT_SIGNALED


@pytest.mark.parametrize("seed", SEEDS)
def test_a18_futex_woken_by_prototype(seed):
    def body():
        proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, _ = zx.process_create_shared(proto, 0, "member")
        address = map_page(shared_vmar)
        waiter = start(
            member,
            lambda arg1, arg2: zx.futex_wait(address, 0, zx.ZX_HANDLE_INVALID, INFINITE),
        )
        wait_for_state(waiter, zx.ZX_THREAD_STATE_BLOCKED_FUTEX)
        waker = start(proto, lambda arg1, arg2: zx.futex_wake(address, 1))
        join(waker)
        join(waiter)
        kill_and_wait(proto)
        kill_and_wait(member)
        return thread_state(waiter)

    assert run_guest(body, seed=seed) == zx.ZX_THREAD_STATE_DEAD


# C7: zx_process_start twice; the argument handle is consumed even on failure.


def test_c7_process_start_twice():
    def body():
        process = new_process()
        start(process, park)
        other = zx.thread_create(process, "other", 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_start, process, other, park, 0, event, 0)
        gone = not is_valid(event)
        kill_and_wait(process)
        return gone

    assert run_guest(body)


# C8: closing handles does not kill a running process.


def test_c8_thread_handle_close_keeps_process():
    def body():
        process = new_process()
        zx.handle_close(start(process, park))
        result = times_out(process, TERMINATED)
        kill_and_wait(process)
        return result

    assert run_guest(body)


def test_c8_process_handle_close_keeps_thread():
    def body():
        process = new_process()
        thread = start(process, park)
        zx.handle_close(process)
        result = times_out(thread, TERMINATED)
        zx.task_kill(thread)
        wait_terminated(thread)
        return result

    assert run_guest(body)


# C9: handle cycles between processes are broken only by a job kill.


@pytest.mark.parametrize("seed", SEEDS)
def test_c9_handle_cycle_broken_by_job_kill(seed):
    def body():
        job = zx.job_create(zx.job_default(), 0)
        p1, vmar1 = zx.process_create(job, "p1", 0)
        p2, vmar2 = zx.process_create(job, "p2", 0)
        t1 = zx.thread_create(p1, "t1", 0)
        t2 = zx.thread_create(p2, "t2", 0)
        c0, c1 = zx.channel_create(0)
        same = zx.ZX_RIGHT_SAME_RIGHTS
        zx.channel_write(c0, 0, b"", [zx.handle_duplicate(p2, same), zx.handle_duplicate(t2, same)])
        zx.channel_write(c1, 0, b"", [zx.handle_duplicate(p1, same), zx.handle_duplicate(t1, same)])
        zx.process_start(p1, t1, park, 0, c0, 0)
        zx.process_start(p2, t2, park, 0, c1, 0)
        zx.handle_close_many([p1, p2, vmar1, vmar2])

        first = times_out(t1, TERMINATED) and times_out(t2, TERMINATED)
        zx.handle_close(t1)
        second = times_out(t2, TERMINATED)
        zx.task_kill(job)
        wait_terminated(t2)
        return first, second

    assert run_guest(body, seed=seed) == (True, True)


# C10: ZX_INFO_PROCESS through the lifecycle, ending with a wait for TERMINATED.


def test_c10_info_after_kill_and_wait():
    def body():
        process = new_process()
        thread = zx.thread_create(process, "t", 0)
        before = zx.clock_get_monotonic()
        zx.process_start(process, thread, park, 0, 0, 0)
        running = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        zx.task_kill(process)
        wait_terminated(process)
        return before, running, zx.object_get_info(process, zx.ZX_INFO_PROCESS)

    before, running, dead = run_guest(body)
    assert running.flags == zx.ZX_INFO_PROCESS_FLAG_STARTED
    assert running.start_time >= before
    assert dead.flags == zx.ZX_INFO_PROCESS_FLAG_STARTED | zx.ZX_INFO_PROCESS_FLAG_EXITED
    assert dead.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL
    assert dead.start_time == running.start_time


# C11: suspend tokens on processes and threads.


@pytest.mark.parametrize("seed", SEEDS)
def test_c11_process_suspend_and_resume(seed):
    def body():
        process = new_process()
        first = start(process, park)
        second = zx.thread_create(process, "second", 0)
        zx.thread_start(second, park, 0, 0, 0)
        token = zx.task_suspend(process)
        for thread in (first, second):
            zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        zx.handle_close(token)
        for thread in (first, second):
            zx.object_wait_one(thread, zx.ZX_THREAD_RUNNING, INFINITE)
        kill_and_wait(process)

    run_guest(body, seed=seed)


def test_c11_suspend_self_not_supported():
    run_guest(lambda: expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.task_suspend, zx.process_self()))


@pytest.mark.parametrize("before", ["creating", "starting"])
def test_c11_suspend_before_threads(before):
    def body():
        process = new_process()
        if before == "creating":
            token = zx.task_suspend(process)
            thread = zx.thread_create(process, "t", 0)
        else:
            thread = zx.thread_create(process, "t", 0)
            token = zx.task_suspend(process)
        zx.process_start(process, thread, park, 0, 0, 0)
        zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        zx.handle_close(token)
        zx.object_wait_one(thread, zx.ZX_THREAD_RUNNING, INFINITE)
        kill_and_wait(process)

    run_guest(body)


@pytest.mark.parametrize("tokens", ["process-process", "process-thread", "thread-process"])
def test_c11_tokens_nest(tokens):
    def body():
        process = new_process()
        thread = start(process, park)
        targets = {"process": process, "thread": thread}
        first, second = (zx.task_suspend(targets[name]) for name in tokens.split("-"))
        zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        zx.handle_close(first)
        still = times_out(thread, zx.ZX_THREAD_RUNNING)
        zx.handle_close(second)
        zx.object_wait_one(thread, zx.ZX_THREAD_RUNNING, INFINITE)
        kill_and_wait(process)
        return still

    assert run_guest(body)


@pytest.mark.parametrize("seed", SEEDS)
def test_c11_suspend_with_dying_thread(seed):
    def body():
        process = new_process()
        live = start(process, park)
        dying = zx.thread_create(process, "dying", 0)
        zx.thread_start(dying, park, 0, 0, 0)
        # The kill makes the thread DYING at once; it leaves the process when it next runs.
        zx.task_kill(dying)
        token = zx.task_suspend(process)
        zx.object_wait_one(live, zx.ZX_THREAD_SUSPENDED, INFINITE)
        wait_terminated(dying)
        zx.handle_close(token)
        zx.object_wait_one(live, zx.ZX_THREAD_RUNNING, INFINITE)
        kill_and_wait(process)

    run_guest(body, seed=seed)


def test_c11_suspend_dead_process():
    def body():
        process = new_process()
        start(process, park)
        kill_and_wait(process)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.task_suspend, process)

    run_guest(body)


# C12: processes created while their job is being killed.


@pytest.mark.parametrize("seed", SEEDS)
def test_c12_create_while_job_killed(seed):
    def body():
        state = {"job": zx.ZX_HANDLE_INVALID, "done": False}
        statuses = set()

        def killer():
            for _ in range(15):
                job = zx.job_create(zx.job_default(), 0)
                state["job"] = job
                zx.nanosleep(0)
                zx.task_kill(job)
                zx.nanosleep(0)
                zx.handle_close(job)
            state["done"] = True

        def creator():
            while not state["done"]:
                try:
                    process, vmar = zx.process_create(state["job"], "racer", 0)
                except zx.ZxError as error:
                    statuses.add(error.status)
                    continue
                statuses.add(zx.ZX_OK)
                zx.handle_close_many([process, vmar])

        threads = [spawn(killer), *(spawn(creator) for _ in range(4))]
        for thread in threads:
            join(thread)
        return statuses

    statuses = run_guest(body, seed=seed)
    assert statuses <= {zx.ZX_OK, zx.ZX_ERR_BAD_HANDLE, zx.ZX_ERR_BAD_STATE}
    assert zx.ZX_ERR_BAD_STATE in statuses or zx.ZX_ERR_BAD_HANDLE in statuses


# C15: a running process without handles stays in its job.


def test_c15_running_process_without_handles():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process = new_process(job)
        start(process, park)
        count = zx.object_get_info(process, zx.ZX_INFO_HANDLE_COUNT).handle_count
        process_koid = koid(process)
        zx.handle_close(process)
        listed = process_koid in zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES)
        again = zx.object_get_child(job, process_koid, zx.ZX_RIGHT_SAME_RIGHTS)
        kill_and_wait(again)
        return count, listed, koid(again) == process_koid

    assert run_guest(body) == (1, True, True)


# E11: concurrent VMO use neither deadlocks nor crashes.

# Zircon runs 100,000 rounds per thread; a few thousand show the same interleavings here.
E11_ROUNDS = 2000


@pytest.mark.skipif(not hasattr(zx, "vmo_op_range"), reason="zx.vmo_op_range is not available")
@pytest.mark.parametrize("seed", SEEDS)
def test_e11_parallel_write_and_decommit(seed):
    def body():
        vmo = zx.vmo_create(4096, 0)
        perms = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
        address = zx.vmar_map(zx.vmar_root_self(), perms, 0, vmo, 0, 4096)
        statuses = []

        def writer():
            for _ in range(E11_ROUNDS):
                user.store(address, b"\x5a" * 4096)
                zx.nanosleep(0)

        def decommitter():
            for _ in range(E11_ROUNDS):
                zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, 0, 4096)
                statuses.append(zx.ZX_OK)

        threads = [spawn(writer), spawn(writer), spawn(decommitter), spawn(decommitter)]
        for thread in threads:
            join(thread)
        return len(statuses)

    assert run_guest(body, seed=seed) == 2 * E11_ROUNDS


@pytest.mark.parametrize("seed", SEEDS)
def test_e11_cross_reads_between_vmos(seed):
    def body():
        perms = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
        vmos = [zx.vmo_create(4096, 0) for _ in range(2)]
        zx.vmo_write(vmos[0], b"a" * 4096, 0)
        zx.vmo_write(vmos[1], b"b" * 4096, 0)
        addresses = [zx.vmar_map(zx.vmar_root_self(), perms, 0, vmo, 0, 4096) for vmo in vmos]

        def copy(source, target):
            for _ in range(200):
                user.store(addresses[target], zx.vmo_read(vmos[source], 4096, 0))

        threads = [spawn(lambda: copy(0, 1)), spawn(lambda: copy(1, 0))]
        for thread in threads:
            join(thread)
        return {user.load(address, 1) for address in addresses}

    assert run_guest(body, seed=seed) <= {b"a", b"b"}


def test_e11_read_into_own_mapping():
    def body():
        vmo = zx.vmo_create(2 * 4096, 0)
        zx.vmo_write(vmo, b"page one", 4096)
        perms = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
        address = zx.vmar_map(zx.vmar_root_self(), perms, 0, vmo, 0, 4096)
        user.store(address, zx.vmo_read(vmo, 4096, 4096))
        return zx.vmo_read(vmo, 8, 0)

    assert run_guest(body) == b"page one"


# F6: closing event pair ends asserts PEER_CLOSED on their peers.


def test_f6_close_many_signals_peers():
    def body():
        pairs = [zx.eventpair_create(0) for _ in range(4)]
        zx.handle_close_many([first for first, _ in pairs])
        return [signals_of(second) for _, second in pairs]

    assert run_guest(body) == [zx.ZX_EVENTPAIR_PEER_CLOSED] * 4


# F7: moving a channel endpoint through another channel keeps its messages in order.


def test_f7_endpoint_through_channel():
    def body():
        a_client, a_remote = zx.channel_create(0)
        b_client, b_remote = zx.channel_create(0)
        zx.channel_write(a_client, 0, b"\0", [])
        zx.channel_write(b_client, 0, b"", [a_remote])
        moved = not is_valid(a_remote)
        zx.channel_write(a_client, 0, b"\1", [])
        _, (received,) = zx.channel_read(b_remote, 0, 0, 1)
        zx.channel_write(a_client, 0, b"\2", [])
        messages = [zx.channel_read(received, 0, 1, 1) for _ in range(3)]
        return moved, messages

    moved, messages = run_guest(body)
    assert moved
    assert messages == [(b"\0", []), (b"\1", []), (b"\2", [])]


# F8: a wait on a handle is cancelled when the handle is read out of a channel.


@pytest.mark.parametrize("seed", SEEDS)
def test_f8_transfer_cancels_wait(seed):
    def body():
        a0, a1 = zx.channel_create(0)
        b0, b1 = zx.channel_create(0)
        errors = []

        def waiter():
            try:
                zx.object_wait_one(a0, zx.ZX_CHANNEL_PEER_CLOSED, INFINITE)
            except zx.ZxError as error:
                errors.append((error.status, error.outputs))

        thread = spawn(waiter)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.channel_write(b0, 0, b"", [a0])
        for _ in range(10):
            zx.nanosleep(0)
        after_write = thread_state(thread)
        zx.channel_read(b1, 0, 0, 1)
        join(thread)
        return after_write, errors

    after_write, errors = run_guest(body, seed=seed)
    assert after_write == zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE
    assert errors == [(zx.ZX_ERR_CANCELED, zx.ZX_CHANNEL_WRITABLE | zx.ZX_SIGNAL_HANDLE_CLOSED)]


# G2: a job's child-presence signals.


def test_g2_job_signals():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        seen = [signals_of(job)]
        process = new_process(job)
        seen.append(signals_of(job))
        child = zx.job_create(job, 0)
        seen.append(signals_of(job))
        zx.handle_close(process)
        seen.append(signals_of(job))
        zx.handle_close(child)
        seen.append(signals_of(job))
        return seen

    assert run_guest(body) == [
        JOB_EMPTY,
        zx.ZX_JOB_NO_JOBS,
        0,
        zx.ZX_JOB_NO_PROCESSES,
        JOB_EMPTY,
    ]


# G5, G6, G8: job kills observed through waits.


def test_g5_kill_subtree_signals():
    def body():
        child = zx.job_create(zx.job_default(), 0)
        grandchild = zx.job_create(child, 0)
        process = new_process(child)
        start(process, park)
        zx.task_kill(child)
        wait_terminated(child)
        return (
            signals_of(process),
            signals_of(child),
            zx.object_get_info(grandchild, zx.ZX_INFO_JOB),
        )

    process_signals, child_signals, grandchild = run_guest(body)
    assert process_signals & TERMINATED
    assert child_signals == zx.ZX_JOB_TERMINATED | JOB_EMPTY
    assert grandchild.exited
    assert grandchild.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL


@pytest.mark.parametrize("seed", SEEDS)
def test_g6_kill_job_chain_bottom_up(seed):
    def body():
        jobs = [zx.job_create(zx.job_default(), 0)]
        for _ in range(4):
            jobs.append(zx.job_create(jobs[-1], 0))
        for job in jobs:
            start(new_process(job), park)
        zx.task_kill(jobs[0])
        wait_terminated(jobs[0])
        return [signals_of(job) for job in jobs]

    assert run_guest(body, seed=seed) == [zx.ZX_JOB_TERMINATED | JOB_EMPTY] * 5


def test_g8_job_signals_with_running_process():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        process = new_process(job)
        start(process, park)
        running = signals_of(job)
        zx.task_kill(process)
        wait_terminated(process)
        return running, signals_of(job)

    assert run_guest(body) == (zx.ZX_JOB_NO_JOBS, JOB_EMPTY)


# H4: handle tables holding a channel.


def test_h4_channel_pair_counted():
    def body():
        before = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        zx.channel_create(0)
        after = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        return before.handle_count, after.handle_count

    before, after = run_guest(body)
    assert after[zx.ZX_OBJ_TYPE_CHANNEL] == before[zx.ZX_OBJ_TYPE_CHANNEL] + 2


def test_h4_handle_table_with_vmo_and_channel():
    def body():
        process = new_process()
        channel, remote = zx.channel_create(0)
        vmo = zx.vmo_create(4096, 0)

        def entry(bootstrap, arg2):
            zx.channel_read(bootstrap, 0, 0, 1)
            return park(bootstrap, arg2)

        zx.channel_write(channel, 0, b"", [vmo])
        thread = start(process, entry, remote)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        table = zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE, 4)
        kill_and_wait(process)
        return table

    entries, actual, avail = run_guest(body)
    assert (actual, avail) == (2, 2)
    types = {entry.type: entry for entry in entries}
    assert set(types) == {zx.ZX_OBJ_TYPE_CHANNEL, zx.ZX_OBJ_TYPE_VMO}
    assert types[zx.ZX_OBJ_TYPE_VMO].related_koid == 0
    assert types[zx.ZX_OBJ_TYPE_CHANNEL].related_koid > 0
    assert all(entry.handle_value != zx.ZX_HANDLE_INVALID for entry in entries)
    assert all(entry.peer_owner_koid == 0 for entry in entries)


# H8: ZX_INFO_PROCESS_VMOS while the process waits on and cancels waits on itself.


@pytest.mark.parametrize("seed", range(2))
def test_h8_process_vmos_against_wait_async_cancel(seed):
    def body():
        process = new_process()
        stop = {"flag": False, "rounds": 0}

        def entry(self_handle, arg2):
            port = zx.port_create(0)
            while not stop["flag"]:
                zx.object_wait_async(self_handle, port, 1, TERMINATED, 0)
                zx.port_cancel(port, self_handle, 1)
                stop["rounds"] += 1
            return park(self_handle, arg2)

        start(process, entry, zx.handle_duplicate(process, zx.ZX_RIGHT_SAME_RIGHTS))
        for _ in range(10_000):
            zx.object_get_info(process, zx.ZX_INFO_PROCESS_VMOS)
        stop["flag"] = True
        zx.task_kill(process)
        wait_terminated(process)
        return stop["rounds"]

    assert run_guest(body, seed=seed) > 0
