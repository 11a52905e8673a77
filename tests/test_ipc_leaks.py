"""Waits, ports, channels, futexes and suspend tokens leave no object behind.

Each scenario leaves messages unread, waits pending, threads blocked or suspended and
then closes its handles and kills its threads. Once the program's process is dead, the
machine contains only the root job again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ipc_support import join, map_page, spawn, wait_for_state
from pyzircon import Kernel, zx

INFINITE = zx.ZX_TIME_INFINITE


def unread_messages() -> None:
    first, second = zx.channel_create(0)
    vmo = zx.vmo_create(4096, 0)
    zx.channel_write(first, 0, b"unread", [zx.event_create(0), vmo])
    inner_first, inner_second = zx.channel_create(0)
    zx.channel_write(inner_first, 0, b"nested", [zx.event_create(0)])
    zx.channel_write(first, 0, b"", [inner_second])
    zx.handle_close_many([first, second, inner_first])


def port_packets_and_waits() -> None:
    port = zx.port_create(0)
    event = zx.event_create(0)
    zx.port_queue(port, zx.PortPacket(key=1, type=zx.ZX_PKT_TYPE_USER, status=0))
    zx.object_wait_async(event, port, 2, zx.ZX_EVENT_SIGNALED, 0)
    zx.object_signal(event, 0, zx.ZX_EVENT_SIGNALED)
    zx.object_wait_async(event, port, 3, zx.ZX_USER_SIGNAL_0, 0)
    zx.handle_close_many([port, event])


def blocked_threads_killed() -> None:
    word = map_page()
    event = zx.event_create(0)
    port = zx.port_create(0)
    client, server = zx.channel_create(0)
    threads = [
        spawn(lambda: zx.futex_wait(word, 0, zx.ZX_HANDLE_INVALID, INFINITE)),
        spawn(lambda: zx.object_wait_one(event, zx.ZX_EVENT_SIGNALED, INFINITE)),
        spawn(lambda: zx.object_wait_many([(event, 1), (client, 0)], INFINITE)),
        spawn(lambda: zx.port_wait(port, INFINITE)),
        spawn(lambda: zx.channel_call(client, 0, INFINITE, b"call", [zx.event_create(0)], 8, 0)),
    ]
    for _ in range(20):
        zx.nanosleep(0)
    for thread in threads:
        zx.task_kill(thread)
        join(thread)
    zx.handle_close_many([event, port, client, server, *threads])


def suspended_thread() -> None:
    thread = spawn(lambda: zx.nanosleep(INFINITE))
    wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_SLEEPING)
    token = zx.task_suspend(thread)
    zx.object_wait_one(thread, zx.ZX_THREAD_SUSPENDED, INFINITE)
    zx.task_kill(thread)
    join(thread)
    zx.handle_close_many([token, thread])


def timed_out_call() -> None:
    client, server = zx.channel_create(0)
    try:
        zx.channel_call(client, 0, zx.deadline_after(1000), b"ping", [zx.event_create(0)], 8, 0)
    except zx.ZxError as error:
        assert error.status == zx.ZX_ERR_TIMED_OUT
    zx.handle_close_many([client, server])


SCENARIOS: dict[str, Callable[[], None]] = {
    "unread_messages": unread_messages,
    "port_packets_and_waits": port_packets_and_waits,
    "blocked_threads_killed": blocked_threads_killed,
    "suspended_thread": suspended_thread,
    "timed_out_call": timed_out_call,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_ipc_objects_freed(scenario):
    kernel = Kernel(seed=0)
    before = kernel.live_objects()

    def main() -> int:
        SCENARIOS[scenario]()
        return 0

    assert kernel.run(main) == 0
    assert kernel.live_objects() == before
