"""The deterministic scheduler: partial orders of recorded events, seeds, virtual time.

Tests record events from guest code (or from the kernel's syscall hook) and check only
the orders the program enforces: which event must come before which. The total order
is the seed's choice, so each test runs under several seeds.
"""

from __future__ import annotations

from typing import Any

import pytest

from ipc_support import join, map_page, spawn, wait_for_state
from pyzircon import Kernel, user, zx
from pyzircon.kernel.sched.scheduler import Deadlock
from pyzircon.machine import SyscallEvent
from support import run_guest

SEEDS = range(6)
INFINITE = zx.ZX_TIME_INFINITE


def before(events: list[Any], first: Any, second: Any) -> bool:
    """Return whether `first` occurs in `events` and earlier than `second`."""
    return events.index(first) < events.index(second)


def ping_pong(rounds: int) -> list[str]:
    """Two threads alternate through a pair of events; return what each recorded."""
    log: list[str] = []
    ping, pong = zx.event_create(0), zx.event_create(0)

    def responder():
        for index in range(rounds):
            zx.object_wait_one(ping, zx.ZX_EVENT_SIGNALED, INFINITE)
            zx.object_signal(ping, zx.ZX_EVENT_SIGNALED, 0)
            log.append(f"pong {index}")
            zx.object_signal(pong, 0, zx.ZX_EVENT_SIGNALED)

    thread = spawn(responder)
    for index in range(rounds):
        log.append(f"ping {index}")
        zx.object_signal(ping, 0, zx.ZX_EVENT_SIGNALED)
        zx.object_wait_one(pong, zx.ZX_EVENT_SIGNALED, INFINITE)
        zx.object_signal(pong, zx.ZX_EVENT_SIGNALED, 0)
    join(thread)
    return log


@pytest.mark.parametrize("seed", SEEDS)
def test_ping_pong_alternates(seed):
    log = run_guest(lambda: ping_pong(5), seed=seed)
    expected = [entry for index in range(5) for entry in (f"ping {index}", f"pong {index}")]
    assert log == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_futex_handoff_orders_events(seed):
    # A mutex-like handoff on a futex: each release happens before the next acquire.
    def body():
        word = map_page()
        log = []

        def worker(name):
            for _ in range(3):
                while True:
                    if user.load(word, 4) == bytes(4):
                        user.store(word, (1).to_bytes(4, "little"))
                        break
                    try:
                        zx.futex_wait(word, 1, zx.ZX_HANDLE_INVALID, INFINITE)
                    except zx.ZxError as error:
                        assert error.status == zx.ZX_ERR_BAD_STATE
                log.append(("acquire", name))
                zx.nanosleep(0)
                log.append(("release", name))
                user.store(word, bytes(4))
                zx.futex_wake(word, 1)

        threads = [spawn(lambda name=name: worker(name)) for name in "abc"]
        for thread in threads:
            join(thread)
        return log

    log = run_guest(body, seed=seed)
    assert len(log) == 18
    # Acquire and release strictly alternate, and each release is by the holder.
    for index in range(0, 18, 2):
        kind, name = log[index]
        assert kind == "acquire"
        assert log[index + 1] == ("release", name)


def racy_program() -> int:
    """Threads that race on a channel; their order depends only on the seed."""
    first, second = zx.channel_create(0)

    def writer(tag):
        for index in range(3):
            zx.channel_write(first, 0, f"{tag}{index}".encode(), [])

    threads = [spawn(lambda tag=tag: writer(tag)) for tag in "xyz"]
    for thread in threads:
        join(thread)
    return 0


def recorded_trace(seed: int) -> list[tuple[Any, ...]]:
    kernel = Kernel(seed=seed)
    events: list[SyscallEvent] = []
    kernel.syscall_hooks.append(events.append)
    assert kernel.run(racy_program) == 0
    return [(event.time_ns, event.thread_koid, event.name, event.status) for event in events]


def test_same_seed_same_order():
    assert recorded_trace(3) == recorded_trace(3)


def test_seeds_change_the_interleaving():
    traces = {tuple(recorded_trace(seed)) for seed in SEEDS}
    assert len(traces) > 1


@pytest.mark.parametrize("seed", SEEDS)
def test_writes_of_one_thread_stay_in_order(seed):
    def body():
        first, second = zx.channel_create(0)

        def writer(tag):
            for index in range(3):
                zx.channel_write(first, 0, f"{tag}{index}".encode(), [])

        threads = [spawn(lambda tag=tag: writer(tag)) for tag in "xy"]
        for thread in threads:
            join(thread)
        return [zx.channel_read(second, 0, 8, 0)[0].decode() for _ in range(6)]

    messages = run_guest(body, seed=seed)
    for tag in "xy":
        assert [message for message in messages if message[0] == tag] == [
            f"{tag}0",
            f"{tag}1",
            f"{tag}2",
        ]


def test_time_jumps_only_when_all_blocked():
    def body():
        done = []
        deadline = zx.deadline_after(1_000_000_000)
        thread = spawn(lambda: done.append(zx.nanosleep(deadline)))
        # While this thread keeps making syscalls the clock moves by their cost only.
        start = zx.clock_get_monotonic()
        for _ in range(100):
            zx.clock_get_monotonic()
        busy = zx.clock_get_monotonic() - start
        join(thread)
        return busy, zx.clock_get_monotonic() >= deadline

    busy, reached = run_guest(body)
    assert busy < 1_000_000
    assert reached


def test_pending_deadline_is_not_a_deadlock():
    def main():
        event = zx.event_create(0)
        deadline = zx.deadline_after(5_000_000_000)
        try:
            zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, deadline)
        except zx.ZxError as error:
            return 0 if error.status == zx.ZX_ERR_TIMED_OUT else 1
        return 2

    assert Kernel(seed=0).run(main) == 0


def test_deadlock_between_two_threads():
    def main():
        first, second = zx.event_create(0), zx.event_create(0)

        def other(arg1, arg2):
            zx.object_wait_one(second, zx.ZX_EVENT_SIGNALED, INFINITE)
            zx.object_signal(first, 0, zx.ZX_EVENT_SIGNALED)

        thread = zx.thread_create(zx.process_self(), "other", 0)
        zx.thread_start(thread, other, 0, 0, 0)
        zx.object_wait_one(first, zx.ZX_EVENT_SIGNALED, INFINITE)
        zx.object_signal(second, 0, zx.ZX_EVENT_SIGNALED)

    with pytest.raises(Deadlock) as caught:
        Kernel(seed=1).run(main)
    names = sorted(line.split("'")[1] for line in caught.value.blocked)
    assert names == ["main", "other"]


# Killing a thread blocked in each kind of wait unwinds it and leaves nothing behind.


def blocked_in(kind: str) -> tuple[int, Any]:
    """Start a thread blocked in a syscall of `kind`; return it and its wait's object."""
    if kind == "wait_one":
        event = zx.event_create(0)
        thread = spawn(lambda: zx.object_wait_one(event, 1, INFINITE))
        return thread, event
    if kind == "wait_many":
        event = zx.event_create(0)
        thread = spawn(lambda: zx.object_wait_many([(event, 1)], INFINITE))
        return thread, event
    if kind == "port":
        port = zx.port_create(0)
        thread = spawn(lambda: zx.port_wait(port, INFINITE))
        return thread, port
    if kind == "futex":
        word = map_page()
        thread = spawn(lambda: zx.futex_wait(word, 0, zx.ZX_HANDLE_INVALID, INFINITE))
        return thread, word
    if kind == "channel_call":
        client, server = zx.channel_create(0)
        thread = spawn(lambda: zx.channel_call(client, 0, INFINITE, b"abcd", [], 8, 0))
        return thread, client
    thread = spawn(lambda: zx.nanosleep(INFINITE))
    return thread, None


KINDS = {
    "wait_one": zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE,
    "wait_many": zx.ZX_THREAD_STATE_BLOCKED_WAIT_MANY,
    "port": zx.ZX_THREAD_STATE_BLOCKED_PORT,
    "futex": zx.ZX_THREAD_STATE_BLOCKED_FUTEX,
    "channel_call": zx.ZX_THREAD_STATE_BLOCKED_CHANNEL,
    "sleep": zx.ZX_THREAD_STATE_BLOCKED_SLEEPING,
}


@pytest.mark.parametrize("kind", KINDS)
def test_kill_unwinds_blocked_thread(kind):
    def body():
        from pyzircon.kernel.current import current_thread

        thread, target = blocked_in(kind)
        wait_for_state(thread, KINDS[kind])
        zx.task_kill(thread)
        join(thread)
        kernel_thread = current_thread()
        if kind in ("wait_one", "wait_many"):
            obj = kernel_thread.process.handle_table.get(target).obj
            return len(obj._observers)
        if kind == "futex":
            return kernel_thread.process.shared_state.futex_context.waiter_count(target)
        if kind == "channel_call":
            return len(kernel_thread.process.handle_table.get(target).obj.call_waiters)
        return 0

    assert run_guest(body) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_suspend_interrupts_every_kind_of_wait(kind):
    def body():
        thread, _target = blocked_in(kind)
        wait_for_state(thread, KINDS[kind])
        token = zx.task_suspend(thread)
        zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
        suspended = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        zx.handle_close(token)
        # The wait resumes where it was.
        wait_for_state(thread, KINDS[kind])
        zx.task_kill(thread)
        join(thread)
        return suspended

    assert run_guest(body) == zx.ZX_THREAD_STATE_SUSPENDED
