"""zx.object_signal, object_signal_peer, object_wait_one, object_wait_many, object_wait_async.

One test per check of each syscall, then what each wait does: when it ends, what it
reports, and how closing or moving the handle cancels it. Handles that reach a check no
default rights set can reach (ZX_RIGHT_WAIT on a VMAR) are forged through the kernel.
"""

from __future__ import annotations

import pytest

from guest_tasks import forge_rights
from ipc_support import join, observer_count, signals_of, spawn, wait_for_state
from pyzircon import Kernel, zx
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1.0, "0"]
NOT_I64 = [None, 1 << 63, -(1 << 63) - 1, 1.5, "0"]
SECOND = 1_000_000_000


def dup(handle: int, dropped: int) -> int:
    basic = zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC)
    return zx.handle_duplicate(handle, basic.rights & ~dropped)


# zx.object_signal


def test_signal_sets_and_clears():
    def body():
        event = zx.event_create(0)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_1)
        both = signals_of(event)
        zx.object_signal(event, zx.ZX_USER_SIGNAL_1, 0)
        return both, signals_of(event)

    both, after = run_guest(body)
    assert both == zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_1
    assert after == zx.ZX_EVENT_SIGNALED


def test_signal_clear_before_set():
    def body():
        event = zx.event_create(0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        zx.object_signal(event, zx.ZX_USER_SIGNAL_0, zx.ZX_USER_SIGNAL_0)
        return signals_of(event)

    assert run_guest(body) == zx.ZX_USER_SIGNAL_0


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, 0xFFFF_FFFF, *NOT_U32])
def test_signal_bad_handle(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_signal, value, 0, 0))


def test_signal_closed_handle():
    def body():
        event = zx.event_create(0)
        zx.handle_close(event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_signal, event, 0, zx.ZX_USER_SIGNAL_0)

    run_guest(body)


def test_signal_needs_signal_right():
    def body():
        weak = dup(zx.event_create(0), zx.ZX_RIGHT_SIGNAL)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_signal, weak, 0, zx.ZX_USER_SIGNAL_0)

    run_guest(body)


def test_signal_not_waitable_object():
    def body():
        vmar = forge_rights(zx.vmar_root_self(), zx.ZX_RIGHT_SIGNAL)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_signal, vmar, 0, zx.ZX_USER_SIGNAL_0)

    run_guest(body)


@pytest.mark.parametrize(
    ("make", "mask"),
    [
        (lambda: zx.event_create(0), zx.ZX_OBJECT_SIGNAL_0),
        (lambda: zx.eventpair_create(0)[0], zx.ZX_EVENTPAIR_PEER_CLOSED),
        (lambda: zx.vmo_create(4096, 0), zx.ZX_EVENT_SIGNALED),
        (lambda: zx.channel_create(0)[0], zx.ZX_CHANNEL_READABLE),
        (lambda: zx.process_self(), zx.ZX_TASK_TERMINATED),
    ],
)
def test_signal_mask_outside_user_signals(make, mask):
    def body():
        handle = make()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal, handle, 0, mask)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal, handle, mask, 0)

    run_guest(body)


@pytest.mark.parametrize("mask", NOT_U32)
def test_signal_mask_not_u32(mask):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal, event, mask, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal, event, 0, mask)

    run_guest(body)


def test_signal_eventpair_signaled_allowed():
    def body():
        first, _second = zx.eventpair_create(0)
        zx.object_signal(first, 0, zx.ZX_EVENTPAIR_SIGNALED)
        return signals_of(first)

    assert run_guest(body) == zx.ZX_EVENTPAIR_SIGNALED


# zx.object_signal_peer


def test_signal_peer_eventpair():
    def body():
        first, second = zx.eventpair_create(0)
        zx.object_signal_peer(first, 0, zx.ZX_EVENTPAIR_SIGNALED | zx.ZX_USER_SIGNAL_7)
        return signals_of(first), signals_of(second)

    first, second = run_guest(body)
    assert first == 0
    assert second == zx.ZX_EVENTPAIR_SIGNALED | zx.ZX_USER_SIGNAL_7


def test_signal_peer_channel():
    def body():
        first, second = zx.channel_create(0)
        zx.object_signal_peer(second, 0, zx.ZX_USER_SIGNAL_2)
        return signals_of(first)

    assert run_guest(body) == zx.ZX_CHANNEL_WRITABLE | zx.ZX_USER_SIGNAL_2


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, *NOT_U32])
def test_signal_peer_bad_handle(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_signal_peer, value, 0, 0))


def test_signal_peer_needs_signal_peer_right():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_signal_peer, event, 0, 0)
        weak = dup(zx.eventpair_create(0)[0], zx.ZX_RIGHT_SIGNAL_PEER)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_signal_peer, weak, 0, 0)

    run_guest(body)


def test_signal_peer_object_without_peer():
    def body():
        event = forge_rights(zx.event_create(0), zx.ZX_RIGHT_SIGNAL_PEER)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_signal_peer, event, 0, 0)

    run_guest(body)


def test_signal_peer_mask_outside_user_signals():
    def body():
        first, _second = zx.eventpair_create(0)
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.object_signal_peer, first, 0, zx.ZX_EVENTPAIR_PEER_CLOSED
        )
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal_peer, first, None, 0)

    run_guest(body)


def test_signal_peer_closed():
    def body():
        first, second = zx.eventpair_create(0)
        zx.handle_close(second)
        expect_status(zx.ZX_ERR_PEER_CLOSED, zx.object_signal_peer, first, 0, zx.ZX_USER_SIGNAL_0)

    run_guest(body)


def test_signal_peer_masks_checked_before_peer():
    def body():
        first, second = zx.eventpair_create(0)
        zx.handle_close(second)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_signal_peer, first, 0, 1)

    run_guest(body)


# zx.object_wait_one: checks.


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, *NOT_U32])
def test_wait_one_bad_handle(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_wait_one, value, 1, 0))


def test_wait_one_needs_wait_right():
    def body():
        weak = dup(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_one, weak, zx.ZX_EVENT_SIGNALED, 0)

    run_guest(body)


@pytest.mark.parametrize("signals", NOT_U32)
def test_wait_one_bad_signals(signals):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_one, event, signals, 0)

    run_guest(body)


@pytest.mark.parametrize("deadline", NOT_I64)
def test_wait_one_bad_deadline(deadline):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_one, event, 1, deadline)

    run_guest(body)


def test_wait_one_not_waitable():
    def body():
        vmar = forge_rights(zx.vmar_root_self(), zx.ZX_RIGHT_WAIT)
        port = forge_rights(zx.port_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_wait_one, vmar, 1, 0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_wait_one, port, 1, 0)

    run_guest(body)


def test_wait_one_port_lacks_wait_right():
    def body():
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_one, zx.port_create(0), 1, 0)

    run_guest(body)


# zx.object_wait_one: behaviour.


def test_wait_one_already_active():
    def body():
        event = zx.event_create(0)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_3)
        before = zx.clock_get_monotonic()
        observed = zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE)
        return observed, zx.clock_get_monotonic() - before

    observed, elapsed = run_guest(body)
    assert observed == zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_3
    # No waiting: only the fixed cost of the calls.
    assert elapsed < 10_000


def test_wait_one_poll_times_out_with_observed():
    def body():
        event = zx.event_create(0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        return expect_status(
            zx.ZX_ERR_TIMED_OUT, zx.object_wait_one, event, zx.ZX_EVENT_SIGNALED, 0
        )

    error = run_guest(body)
    assert error.outputs == zx.ZX_USER_SIGNAL_0


def test_wait_one_deadline_advances_clock():
    def body():
        event = zx.event_create(0)
        deadline = zx.deadline_after(5 * SECOND)
        expect_status(
            zx.ZX_ERR_TIMED_OUT, zx.object_wait_one, event, zx.ZX_EVENT_SIGNALED, deadline
        )
        return deadline, zx.clock_get_monotonic()

    deadline, now = run_guest(body)
    assert deadline <= now < deadline + 10_000


def test_wait_one_past_deadline_polls():
    def body():
        event = zx.event_create(0)
        expect_status(
            zx.ZX_ERR_TIMED_OUT,
            zx.object_wait_one,
            event,
            zx.ZX_EVENT_SIGNALED,
            zx.ZX_TIME_INFINITE_PAST,
        )

    run_guest(body)


def test_wait_one_woken_by_other_thread():
    events = []

    def body():
        event = zx.event_create(0)

        def waiter():
            events.append("waiting")
            observed = zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE)
            events.append(("woken", observed))

        thread = spawn(waiter)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        events.append("signal")
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_5)
        join(thread)

    run_guest(body)
    assert events == [
        "waiting",
        "signal",
        ("woken", zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_5),
    ]


def test_wait_one_observed_is_state_at_match():
    # The observed signals are those when a wanted signal first became active; later
    # changes before the waiter runs do not show.
    def body():
        event = zx.event_create(0)
        seen = []
        thread = spawn(
            lambda: seen.append(zx.object_wait_one(event, zx.ZX_USER_SIGNAL_0, zx.ZX_TIME_INFINITE))
        )
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        zx.object_signal(event, zx.ZX_USER_SIGNAL_0, zx.ZX_USER_SIGNAL_1)
        join(thread)
        return seen[0]

    assert run_guest(body) == zx.ZX_USER_SIGNAL_0


def test_wait_one_ignores_unwanted_signal():
    def body():
        event = zx.event_create(0)
        thread = spawn(lambda: zx.object_wait_one(event, zx.ZX_USER_SIGNAL_1, zx.ZX_TIME_INFINITE))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        for _ in range(20):
            zx.nanosleep(0)
        still_blocked = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_1)
        join(thread)
        return still_blocked

    assert run_guest(body) == zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE


def test_wait_one_canceled_by_close():
    def body():
        event = zx.event_create(0)
        waited = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        errors = []

        def waiter():
            try:
                zx.object_wait_one(waited, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE)
            except zx.ZxError as error:
                errors.append(error)

        thread = spawn(waiter)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_2)
        zx.handle_close(waited)
        join(thread)
        # The object lives on through `event`, and no wait is left on it.
        return errors[0], observer_count(event)

    error, remaining = run_guest(body)
    assert error.status == zx.ZX_ERR_CANCELED
    assert error.outputs == zx.ZX_USER_SIGNAL_2 | zx.ZX_SIGNAL_HANDLE_CLOSED
    assert remaining == 0


def test_wait_one_other_handle_close_does_not_cancel():
    def body():
        event = zx.event_create(0)
        other = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        thread = spawn(lambda: zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.handle_close(other)
        for _ in range(10):
            zx.nanosleep(0)
        state = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        join(thread)
        return state

    assert run_guest(body) == zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE


def test_wait_one_killed_waiter_leaves_no_wait():
    def body():
        event = zx.event_create(0)
        thread = spawn(lambda: zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        pending = observer_count(event)
        zx.task_kill(thread)
        join(thread)
        return pending, observer_count(event)

    assert run_guest(body) == (1, 0)


def test_wait_one_on_task_termination():
    def body():
        thread = spawn(lambda: zx.nanosleep(zx.deadline_after(SECOND)))
        observed = zx.object_wait_one(thread, zx.ZX_THREAD_TERMINATED, zx.ZX_TIME_INFINITE)
        return observed, zx.clock_get_monotonic()

    observed, now = run_guest(body)
    assert observed & zx.ZX_THREAD_TERMINATED
    assert now >= SECOND


# zx.object_wait_many: checks.


@pytest.mark.parametrize("deadline", NOT_I64)
def test_wait_many_bad_deadline(deadline):
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_many, [(event, 1)], deadline)

    run_guest(body)


@pytest.mark.parametrize("items", [None, 5, {1: 2}, "items"])
def test_wait_many_items_not_a_sequence(items):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_many, items, 0))


def test_wait_many_too_many_items():
    def body():
        event = zx.event_create(0)
        items = [(event, 1)] * (zx.ZX_WAIT_MANY_MAX_ITEMS + 1)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.object_wait_many, items, 0)
        # Exactly the maximum is accepted.
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        return zx.object_wait_many([(event, zx.ZX_USER_SIGNAL_0)] * 64, 0)

    assert run_guest(body) == [zx.ZX_USER_SIGNAL_0] * 64


@pytest.mark.parametrize("item", [None, (1,), (1, 2, 3), ("h", 1), (3, -1), (3, 1 << 32)])
def test_wait_many_malformed_item(item):
    def body():
        event = zx.event_create(0)
        # A malformed item fails the copy before any handle is looked up.
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_many, [(0, 1), item, (event, 1)], 0)

    run_guest(body)


def test_wait_many_bad_handle():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_wait_many, [(event, 1), (0, 1)], 0)
        return observer_count(event)

    # The wait already set up on the first item is removed again.
    assert run_guest(body) == 0


def test_wait_many_needs_wait_right():
    def body():
        event = zx.event_create(0)
        weak = dup(event, zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_many, [(event, 1), (weak, 1)], 0)
        return observer_count(event)

    assert run_guest(body) == 0


def test_wait_many_not_waitable():
    def body():
        vmar = forge_rights(zx.vmar_root_self(), zx.ZX_RIGHT_WAIT)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_wait_many, [(event, 1), (vmar, 1)], 0)

    run_guest(body)


# zx.object_wait_many: behaviour.


def test_wait_many_no_items_sleeps_until_deadline():
    def body():
        deadline = zx.deadline_after(3 * SECOND)
        error = expect_status(zx.ZX_ERR_TIMED_OUT, zx.object_wait_many, [], deadline)
        return error.outputs, deadline, zx.clock_get_monotonic()

    outputs, deadline, now = run_guest(body)
    assert outputs == []
    assert now >= deadline


def test_wait_many_returns_pending_of_each_item():
    def body():
        first, second = zx.event_create(0), zx.event_create(0)
        zx.object_signal(second, 0, zx.ZX_EVENT_SIGNALED)
        items = [zx.WaitItem(first, zx.ZX_EVENT_SIGNALED), (second, zx.ZX_EVENT_SIGNALED)]
        return zx.object_wait_many(items, zx.ZX_TIME_INFINITE)

    assert run_guest(body) == [0, zx.ZX_EVENT_SIGNALED]


def test_wait_many_woken_by_any_item():
    def body():
        events = [zx.event_create(0) for _ in range(3)]
        result = []
        items = [(event, zx.ZX_EVENT_SIGNALED) for event in events]
        thread = spawn(lambda: result.append(zx.object_wait_many(items, zx.ZX_TIME_INFINITE)))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_MANY)
        zx.object_signal(events[1], 0, zx.ZX_EVENT_SIGNALED)
        join(thread)
        return result[0], [observer_count(event) for event in events]

    pending, remaining = run_guest(body)
    assert pending == [0, zx.ZX_EVENT_SIGNALED, 0]
    assert remaining == [0, 0, 0]


def test_wait_many_timeout_reports_pending():
    def body():
        first, second = zx.event_create(0), zx.event_create(0)
        zx.object_signal(first, 0, zx.ZX_USER_SIGNAL_4)
        items = [(first, zx.ZX_EVENT_SIGNALED), (second, zx.ZX_EVENT_SIGNALED)]
        return expect_status(
            zx.ZX_ERR_TIMED_OUT, zx.object_wait_many, items, zx.deadline_after(SECOND)
        )

    assert run_guest(body).outputs == [zx.ZX_USER_SIGNAL_4, 0]


def test_wait_many_canceled_by_close():
    def body():
        first, second = zx.event_create(0), zx.event_create(0)
        errors = []

        def waiter():
            items = [(first, zx.ZX_EVENT_SIGNALED), (second, zx.ZX_EVENT_SIGNALED)]
            try:
                zx.object_wait_many(items, zx.ZX_TIME_INFINITE)
            except zx.ZxError as error:
                errors.append(error)

        thread = spawn(waiter)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_MANY)
        zx.handle_close(second)
        join(thread)
        return errors[0], observer_count(first)

    error, remaining = run_guest(body)
    assert error.status == zx.ZX_ERR_CANCELED
    assert error.outputs == [0, zx.ZX_SIGNAL_HANDLE_CLOSED]
    assert remaining == 0


# zx.object_wait_async: checks.


@pytest.mark.parametrize(
    "options",
    [
        1 << 3,
        1 << 31,
        zx.ZX_WAIT_ASYNC_TIMESTAMP | zx.ZX_WAIT_ASYNC_BOOT_TIMESTAMP,
        *NOT_U32,
    ],
)
def test_wait_async_bad_options(options):
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_async, event, port, 0, 1, options)

    run_guest(body)


def test_wait_async_options_before_handles():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_async, 0, 0, 0, 1, 8))


def test_wait_async_bad_port_handle():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_wait_async, event, 0, 0, 1, 0)

    run_guest(body)


def test_wait_async_port_checked_before_handle():
    def body():
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_wait_async, zx.port_create(0), 0, 0, 1, 0)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_wait_async, 0, zx.event_create(0), 0, 1, 0)

    run_guest(body)


def test_wait_async_port_wrong_type():
    def body():
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_wait_async, event, event, 0, 1, 0)

    run_guest(body)


def test_wait_async_port_needs_write_right():
    def body():
        event = zx.event_create(0)
        port = dup(zx.port_create(0), zx.ZX_RIGHT_WRITE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_async, event, port, 0, 1, 0)

    run_guest(body)


def test_wait_async_bad_handle():
    def body():
        port = zx.port_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_wait_async, 0x3, port, 0, 1, 0)

    run_guest(body)


def test_wait_async_handle_needs_wait_right():
    def body():
        port = zx.port_create(0)
        weak = dup(zx.event_create(0), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_async, weak, port, 0, 1, 0)
        # A port cannot be waited on: its handles lack ZX_RIGHT_WAIT.
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_wait_async, port, port, 0, 1, 0)

    run_guest(body)


@pytest.mark.parametrize(("key", "signals"), [(-1, 1), (1 << 64, 1), (0, -1), (0, 1 << 32)])
def test_wait_async_bad_key_or_signals(key, signals):
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_wait_async, event, port, key, signals, 0)

    run_guest(body)


def test_wait_async_not_waitable():
    def body():
        port = zx.port_create(0)
        vmar = forge_rights(zx.vmar_root_self(), zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.object_wait_async, vmar, port, 0, 1, 0)
        # The failed wait leaves nothing behind on the port.
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.port_wait, port, 0)

    run_guest(body)


# zx.object_wait_async: behaviour.


def test_wait_async_active_signal_queues_at_once():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_0)
        zx.object_wait_async(event, port, 7, zx.ZX_EVENT_SIGNALED, 0)
        return zx.port_wait(port, 0)

    packet = run_guest(body)
    assert (packet.key, packet.type, packet.status) == (7, zx.ZX_PKT_TYPE_SIGNAL_ONE, zx.ZX_OK)
    assert packet.signal.trigger == zx.ZX_EVENT_SIGNALED
    assert packet.signal.observed == zx.ZX_EVENT_SIGNALED | zx.ZX_USER_SIGNAL_0
    assert packet.signal.count == 1
    assert packet.signal.timestamp == 0


def test_wait_async_fires_once():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_wait_async(event, port, 1, zx.ZX_USER_SIGNAL_0, 0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        zx.object_signal(event, zx.ZX_USER_SIGNAL_0, 0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        first = zx.port_wait(port, 0)
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.port_wait, port, 0)
        return first.key

    assert run_guest(body) == 1


def test_wait_async_edge_skips_active_signal():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        zx.object_wait_async(event, port, 2, zx.ZX_USER_SIGNAL_0, zx.ZX_WAIT_ASYNC_EDGE)
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.port_wait, port, 0)
        zx.object_signal(event, zx.ZX_USER_SIGNAL_0, 0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        return zx.port_wait(port, 0).signal.observed

    assert run_guest(body) == zx.ZX_USER_SIGNAL_0


def test_wait_async_edge_fires_on_other_new_signal():
    # Zircon fires every observer whose trigger is in the new signal word once any signal
    # becomes newly active, so an edge wait on an active signal fires with another one.
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_0)
        zx.object_wait_async(event, port, 3, zx.ZX_USER_SIGNAL_0, zx.ZX_WAIT_ASYNC_EDGE)
        zx.object_signal(event, 0, zx.ZX_USER_SIGNAL_1)
        return zx.port_wait(port, 0).signal.observed

    assert run_guest(body) == zx.ZX_USER_SIGNAL_0 | zx.ZX_USER_SIGNAL_1


@pytest.mark.parametrize("option", [zx.ZX_WAIT_ASYNC_TIMESTAMP, zx.ZX_WAIT_ASYNC_BOOT_TIMESTAMP])
def test_wait_async_timestamp(option):
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_wait_async(event, port, 4, zx.ZX_EVENT_SIGNALED, option)
        zx.nanosleep(zx.deadline_after(SECOND))
        before = zx.clock_get_monotonic()
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        return before, zx.port_wait(port, 0).signal.timestamp

    before, timestamp = run_guest(body)
    assert before <= timestamp < before + 10_000


def test_wait_async_twice_queues_two_packets():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_wait_async(event, port, 5, zx.ZX_EVENT_SIGNALED, 0)
        zx.object_wait_async(event, port, 6, zx.ZX_EVENT_SIGNALED, 0)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        return sorted(zx.port_wait(port, 0).key for _ in range(2))

    assert run_guest(body) == [5, 6]


def test_wait_async_close_handle_cancels_but_keeps_packets():
    def body():
        first, second = zx.event_create(0), zx.event_create(0)
        port = zx.port_create(0)
        zx.object_signal(first, 0, zx.ZX_EVENT_SIGNALED)
        zx.object_wait_async(first, port, 1, zx.ZX_EVENT_SIGNALED, 0)
        zx.object_wait_async(second, port, 2, zx.ZX_EVENT_SIGNALED, 0)
        watcher = zx.handle_duplicate(second, zx.ZX_RIGHT_SAME_RIGHTS)
        zx.handle_close(first)
        zx.handle_close(second)
        zx.object_signal(watcher, 0, zx.ZX_EVENT_SIGNALED)
        keys = [zx.port_wait(port, 0).key]
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.port_wait, port, 0)
        return keys

    assert run_guest(body) == [1]


def test_wait_async_close_port_removes_waits():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        zx.object_wait_async(event, port, 1, zx.ZX_EVENT_SIGNALED, 0)
        before = observer_count(event)
        zx.handle_close(port)
        return before, observer_count(event)

    assert run_guest(body) == (1, 0)


def test_wait_async_wakes_port_waiter():
    def body():
        event, port = zx.event_create(0), zx.port_create(0)
        got = []
        thread = spawn(lambda: got.append(zx.port_wait(port, zx.ZX_TIME_INFINITE)))
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_PORT)
        zx.object_wait_async(event, port, 9, zx.ZX_EVENT_SIGNALED, 0)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        join(thread)
        return got[0].key

    assert run_guest(body) == 9


@pytest.mark.parametrize("seed", range(4))
def test_signal_wakes_every_waiter(seed):
    def body():
        event = zx.event_create(0)
        woken = []
        threads = [
            spawn(
                lambda index=index: woken.append(
                    (index, zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE))
                )
            )
            for index in range(5)
        ]
        for thread in threads:
            wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
        for thread in threads:
            join(thread)
        return woken

    woken = run_guest(body, seed=seed)
    assert sorted(index for index, _ in woken) == list(range(5))
    assert all(observed == zx.ZX_EVENT_SIGNALED for _, observed in woken)


def test_wait_blocked_forever_reports_deadlock():
    def main():
        event = zx.event_create(0)
        zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE)

    from pyzircon.kernel.sched.scheduler import Deadlock

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=0).run(main)
    assert len(caught.value.blocked) == 1
    assert "zx_object_wait_one" in caught.value.blocked[0]
    assert "'main'" in caught.value.blocked[0]
