"""zx.futex_wait, futex_wake, futex_requeue and futex_get_owner: one test per check.

Then the futex behaviour: wakes in waiting order, ownership assigned by waits and
requeues and cleared by wakes, and a futex context shared by the processes of a shared
group and by no other process.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, start
from ipc_support import join, koid, map_page, spawn, thread_state, wait_for_state
from pyzircon import user, zx
from support import expect_status, run_guest

INFINITE = zx.ZX_TIME_INFINITE
INVALID = zx.ZX_HANDLE_INVALID
BLOCKED_FUTEX = zx.ZX_THREAD_STATE_BLOCKED_FUTEX


def futex_word(value: int = 0) -> int:
    """Map a page, store `value` in its first word and return the word's address."""
    address = map_page()
    user.store(address, value.to_bytes(4, "little", signed=value < 0))
    return address


def blocked_waiter(address: int, value: int = 0, owner: int = INVALID, log=None) -> int:
    """Start a thread that waits on the futex at `address`; return once it blocks."""

    def wait():
        zx.futex_wait(address, value, owner, INFINITE)
        if log is not None:
            log.append(koid(zx.thread_self()))

    thread = spawn(wait)
    wait_for_state(thread, BLOCKED_FUTEX)
    return thread


# zx.futex_wait: checks.


@pytest.mark.parametrize("pointer", [0, 2, 0x20_0001, -4, None, 1.0])
def test_wait_bad_pointer(pointer):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, pointer, 0, INVALID, 0))


@pytest.mark.parametrize(
    ("value", "owner", "deadline"),
    [(1 << 32, INVALID, 0), (-(1 << 31) - 1, INVALID, 0), (0, -1, 0), (0, INVALID, None)],
)
def test_wait_bad_values(value, owner, deadline):
    def body():
        address = futex_word()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, address, value, owner, deadline)

    run_guest(body)


def test_wait_not_a_user_address():
    def body():
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, 1 << 60, 0, INVALID, 0)

    run_guest(body)


def test_wait_unmapped_address():
    run_guest(lambda: expect_status(zx.ZX_ERR_NOT_FOUND, zx.futex_wait, 0x10_0000, 0, INVALID, 0))


def test_wait_value_mismatch():
    def body():
        address = futex_word(5)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.futex_wait, address, 4, INVALID, INFINITE)

    run_guest(body)


def test_wait_value_compared_as_32_bits():
    def body():
        address = futex_word(-1)
        # 0xFFFFFFFF and -1 are the same zx_futex_t.
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.futex_wait, address, 0xFFFF_FFFF, INVALID, 0)
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.futex_wait, address, -1, INVALID, 0)

    run_guest(body)


def test_wait_value_checked_before_owner():
    def body():
        address = futex_word(1)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.futex_wait, address, 0, 0x7, INFINITE)

    run_guest(body)


def test_wait_owner_bad_handle():
    def body():
        address = futex_word()
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.futex_wait, address, 0, 0x7, INFINITE)

    run_guest(body)


def test_wait_owner_wrong_type():
    def body():
        address = futex_word()
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.futex_wait, address, 0, zx.event_create(0), INFINITE)

    run_guest(body)


def test_wait_owner_in_other_futex_context():
    def body():
        process, _ = zx.process_create(zx.job_default(), "other", 0)
        thread = start(process)
        address = futex_word()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, address, 0, thread, INFINITE)
        kill_and_wait(process)

    run_guest(body)


def test_wait_owner_not_started():
    def body():
        thread = zx.thread_create(zx.process_self(), "unstarted", 0)
        address = futex_word()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, address, 0, thread, INFINITE)

    run_guest(body)


def test_wait_owner_is_caller():
    def body():
        address = futex_word()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, address, 0, zx.thread_self(), INFINITE)

    run_guest(body)


def test_wait_owner_waits_on_same_futex():
    def body():
        address = futex_word()
        waiter = blocked_waiter(address)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wait, address, 0, waiter, INFINITE)
        zx.futex_wake(address, 1)
        join(waiter)

    run_guest(body)


# zx.futex_wait: behaviour.


def test_wait_times_out_at_deadline():
    def body():
        address = futex_word()
        deadline = zx.deadline_after(7_000)
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.futex_wait, address, 0, INVALID, deadline)
        return deadline, zx.clock_get_monotonic(), zx.futex_get_owner(address)

    deadline, now, owner = run_guest(body)
    assert now >= deadline
    assert owner == zx.ZX_KOID_INVALID


def test_wait_woken_by_wake():
    def body():
        address = futex_word()
        log = []
        waiter = blocked_waiter(address, log=log)
        zx.futex_wake(address, 1)
        join(waiter)
        return log == [koid(waiter)]

    assert run_guest(body)


def test_wait_assigns_owner():
    def body():
        address = futex_word()
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        waiter = blocked_waiter(address, owner=owner)
        owned = zx.futex_get_owner(address)
        zx.futex_wake(address, 1)
        join(waiter)
        after = zx.futex_get_owner(address)
        zx.task_kill(owner)
        return owned, zx.object_get_info(owner, zx.ZX_INFO_HANDLE_BASIC).koid, after

    owned, owner_koid, after = run_guest(body)
    assert owned == owner_koid
    assert after == zx.ZX_KOID_INVALID


def test_wait_dying_owner_means_no_owner():
    def body():
        address = futex_word()
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        zx.task_kill(owner)
        join(owner)
        waiter = blocked_waiter(address, owner=owner)
        owned = zx.futex_get_owner(address)
        zx.futex_wake(address, 1)
        join(waiter)
        return owned

    assert run_guest(body) == zx.ZX_KOID_INVALID


def test_owner_exit_clears_ownership():
    def body():
        address = futex_word()
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        waiter = blocked_waiter(address, owner=owner)
        zx.task_kill(owner)
        join(owner)
        owned = zx.futex_get_owner(address)
        zx.futex_wake(address, 1)
        join(waiter)
        return owned

    assert run_guest(body) == zx.ZX_KOID_INVALID


def test_killed_waiter_leaves_queue():
    def body():
        address = futex_word()
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        first = blocked_waiter(address, owner=owner)
        log = []
        second = blocked_waiter(address, log=log)
        zx.task_kill(first)
        join(first)
        zx.futex_wake(address, 1)
        join(second)
        owner_after = zx.futex_get_owner(address)
        zx.task_kill(owner)
        return log == [koid(second)], owner_after

    assert run_guest(body) == (True, zx.ZX_KOID_INVALID)


# zx.futex_wake


@pytest.mark.parametrize("pointer", [0, 6, None])
def test_wake_bad_pointer(pointer):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wake, pointer, 1))


@pytest.mark.parametrize("count", [-1, 1 << 32, None])
def test_wake_bad_count(count):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_wake, 0x1000, count))


def test_wake_nobody_is_fine():
    # Neither the address nor the count needs anything behind it.
    run_guest(lambda: zx.futex_wake(0x7000_0000_0000, 0xFFFF_FFFF))


@pytest.mark.parametrize("seed", range(3))
def test_wake_in_waiting_order(seed):
    def body():
        address = futex_word()
        log = []
        waiters = [blocked_waiter(address, log=log) for _ in range(4)]
        zx.futex_wake(address, 2)
        join(waiters[0])
        join(waiters[1])
        states = [thread_state(thread) for thread in waiters[2:]]
        zx.futex_wake(address, 0xFFFF_FFFF)
        for thread in waiters[2:]:
            join(thread)
        return sorted(log[:2]) == sorted(koid(thread) for thread in waiters[:2]), states

    first_two, states = run_guest(body, seed=seed)
    assert first_two
    assert states == [BLOCKED_FUTEX, BLOCKED_FUTEX]


def test_wake_zero_clears_owner():
    def body():
        address = futex_word()
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        waiter = blocked_waiter(address, owner=owner)
        zx.futex_wake(address, 0)
        owned = zx.futex_get_owner(address)
        still_waiting = thread_state(waiter)
        zx.futex_wake(address, 1)
        join(waiter)
        zx.task_kill(owner)
        return owned, still_waiting

    assert run_guest(body) == (zx.ZX_KOID_INVALID, BLOCKED_FUTEX)


# zx.futex_requeue: checks.


@pytest.mark.parametrize(
    ("wake", "requeue"), [(0, 0x1000), (0x1000, 0), (0x1002, 0x1000), (0x1000, 0x1001)]
)
def test_requeue_bad_pointers(wake, requeue):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.futex_requeue, wake, 1, 0, requeue, 1, INVALID
        )
    )


def test_requeue_same_futex():
    def body():
        address = futex_word()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_requeue, address, 1, 0, address, 1, INVALID)

    run_guest(body)


@pytest.mark.parametrize(
    ("wake_count", "value", "requeue_count"), [(-1, 0, 0), (0, 1 << 32, 0), (0, 0, None)]
)
def test_requeue_bad_values(wake_count, value, requeue_count):
    def body():
        address = futex_word()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.futex_requeue,
            address,
            wake_count,
            value,
            address + 4,
            requeue_count,
            INVALID,
        )

    run_guest(body)


def test_requeue_value_mismatch():
    def body():
        address = futex_word(3)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.futex_requeue, address, 1, 2, address + 4, 1, 0x7)

    run_guest(body)


def test_requeue_unmapped():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_FOUND, zx.futex_requeue, 0x10_0000, 1, 0, 0x10_0004, 1, INVALID
        )
    )


def test_requeue_owner_errors():
    def body():
        address = futex_word()
        target = address + 4
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.futex_requeue, address, 1, 0, target, 1, 0x7)
        expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.futex_requeue, address, 1, 0, target, 1, zx.event_create(0)
        )
        unstarted = zx.thread_create(zx.process_self(), "unstarted", 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_requeue, address, 1, 0, target, 1, unstarted)

    run_guest(body)


@pytest.mark.parametrize("on_target", [False, True])
def test_requeue_owner_waits_on_a_futex(on_target):
    def body():
        address = futex_word()
        target = address + 4
        waiter = blocked_waiter(target if on_target else address)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_requeue, address, 0, 0, target, 1, waiter)
        zx.futex_wake(target if on_target else address, 1)
        join(waiter)

    run_guest(body)


# zx.futex_requeue: behaviour.


def test_requeue_wakes_and_moves():
    def body():
        address = futex_word()
        target = address + 4
        owner = spawn(lambda: zx.nanosleep(INFINITE), "owner")
        wait_for_state(owner, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
        log = []
        waiters = [blocked_waiter(address, log=log) for _ in range(4)]
        zx.futex_requeue(address, 1, 0, target, 2, owner)
        join(waiters[0])
        target_owner = zx.futex_get_owner(target)
        # Waking the source now wakes only the one waiter left there.
        zx.futex_wake(address, 0xFFFF_FFFF)
        join(waiters[3])
        moved_states = [thread_state(thread) for thread in waiters[1:3]]
        zx.futex_wake(target, 0xFFFF_FFFF)
        for thread in waiters[1:3]:
            join(thread)
        zx.task_kill(owner)
        owner_koid = zx.object_get_info(owner, zx.ZX_INFO_HANDLE_BASIC).koid
        return log, [koid(thread) for thread in waiters], target_owner == owner_koid, moved_states

    log, waiters, owned, moved_states = run_guest(body)
    assert log[:2] == [waiters[0], waiters[3]]
    assert sorted(log[2:]) == sorted(waiters[1:3])
    assert owned
    assert moved_states == [BLOCKED_FUTEX, BLOCKED_FUTEX]


def test_requeue_without_waiters_leaves_no_owner():
    def body():
        address = futex_word()
        zx.futex_requeue(address, 1, 0, address + 4, 1, zx.thread_self())
        return zx.futex_get_owner(address + 4)

    assert run_guest(body) == zx.ZX_KOID_INVALID


# zx.futex_get_owner


@pytest.mark.parametrize("pointer", [0, 3, None])
def test_get_owner_bad_pointer(pointer):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.futex_get_owner, pointer))


def test_get_owner_of_unused_futex():
    assert run_guest(lambda: zx.futex_get_owner(0x4000)) == zx.ZX_KOID_INVALID


# The futex context of a shared group.


def shared_group_wake(waker: str) -> tuple[int, int]:
    """Block a thread of one member on a shared futex, try a wake from an unrelated
    process, then wake it from `waker` ("member" or "prototype").

    Returns the waiter's ZX_INFO_THREAD state after the unrelated wake and after the
    group's wake.
    """
    job = zx.job_default()
    proto, shared_vmar = zx.process_create(job, "proto", zx.ZX_PROCESS_SHARED)
    waiting_member, _ = zx.process_create_shared(proto, 0, "waiting")
    waking_member, _ = zx.process_create_shared(proto, 0, "waking")
    stranger, _ = zx.process_create(job, "stranger", 0)
    address = map_page(shared_vmar)

    def wake_entry(arg1: int, arg2: int) -> int:
        zx.futex_wake(address, 0xFFFF_FFFF)
        return 0

    waiter = start(
        waiting_member,
        lambda arg1, arg2: zx.futex_wait(address, 0, INVALID, INFINITE),
    )
    wait_for_state(waiter, BLOCKED_FUTEX)

    # A process outside the group names a different futex with the same address.
    stranger_thread = start(stranger, wake_entry)
    join(stranger_thread)
    after_stranger = thread_state(waiter)

    waker_thread = start(waking_member if waker == "member" else proto, wake_entry)
    join(waker_thread)
    join(waiter)
    after_group = thread_state(waiter)
    for process in (proto, waiting_member, waking_member):
        kill_and_wait(process)
    return after_stranger, after_group


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("waker", ["member", "prototype"])
def test_shared_group_futex_wakes_across_members(waker, seed):
    after_stranger, after_group = run_guest(lambda: shared_group_wake(waker), seed=seed)
    assert after_stranger == BLOCKED_FUTEX
    assert after_group == zx.ZX_THREAD_STATE_DEAD
