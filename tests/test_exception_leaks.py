"""Exceptions, exception channels and job policies leave no object behind.

Each scenario makes exceptions that are handled, passed on, left unread or outlived by a
kill, then closes its handles. Once the program's process is dead, the machine contains
only the root job again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exception_support import (
    HANDLED,
    answer,
    child_process,
    child_with_hole,
    deny,
    faulting_load,
    hole,
    job_with_policy,
    map_into,
    read_exception,
    run_process,
)
from guest_tasks import park, start
from pyzircon import Kernel, zx

INFINITE = zx.ZX_TIME_INFINITE
DEBUGGER = zx.ZX_EXCEPTION_CHANNEL_DEBUGGER


def wait_terminated(handle: int) -> None:
    zx.object_wait_one(handle, zx.ZX_TASK_TERMINATED, INFINITE)


def handled_fault_every_channel() -> None:
    job = zx.job_create(zx.job_default(), 0)
    process, region, address = child_with_hole(job)
    thread = zx.thread_create(process, "faulter", 0)
    channels = [
        zx.task_create_exception_channel(process, DEBUGGER),
        zx.task_create_exception_channel(thread, 0),
        zx.task_create_exception_channel(process, 0),
        zx.task_create_exception_channel(job, 0),
        zx.task_create_exception_channel(job, DEBUGGER),
    ]
    zx.process_start(process, thread, faulting_load(address, {}), 0, 0, 0)
    # Process start, thread start, then the fault through the thread and process
    # channels to the job's, which fixes it; then the thread's exit.
    for channel in (channels[4], channels[0], channels[0], channels[1], channels[2]):
        _info, exception = read_exception(channel)
        answer(exception)
    _info, exception = read_exception(channels[3])
    map_into(region)
    answer(exception, HANDLED)
    _info, exception = read_exception(channels[0])
    answer(exception)
    wait_terminated(process)
    zx.handle_close_many([job, process, region, thread, *channels])


def killed_during_exception() -> None:
    process = child_process()
    channel = zx.task_create_exception_channel(process, 0)
    start(process, faulting_load(hole(), {}))
    _info, exception = read_exception(channel)
    zx.task_kill(process)
    wait_terminated(process)
    zx.handle_close_many([exception, channel, process])


def unread_when_reader_closes() -> None:
    process = child_process()
    channel = zx.task_create_exception_channel(process, 0)
    start(process, faulting_load(hole(), {}))
    zx.object_wait_one(channel, zx.ZX_CHANNEL_READABLE, INFINITE)
    zx.handle_close(channel)
    wait_terminated(process)
    zx.handle_close(process)


def policy_exception_and_kill() -> None:
    job = job_with_policy([deny(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_ALLOW_EXCEPTION)])
    process = child_process(job)
    channel = zx.task_create_exception_channel(process, 0)
    start(process, lambda arg1, arg2: zx.event_create(0) and 0)
    _info, exception = read_exception(channel)
    answer(exception, HANDLED)
    wait_terminated(process)
    killer = job_with_policy([deny(zx.ZX_POL_NEW_PORT, zx.ZX_POL_ACTION_KILL)])
    run_process(killer, lambda: zx.port_create(0))
    zx.handle_close_many([job, killer, process, channel])


def critical_process_kills_job() -> None:
    job = zx.job_create(zx.job_default(), 0)
    critical, other = child_process(job), child_process(job)
    start(critical, park)
    start(other, park)
    zx.job_set_critical(job, 0, critical)
    zx.task_kill(critical)
    wait_terminated(job)
    zx.handle_close_many([job, critical, other])


SCENARIOS: dict[str, Callable[[], None]] = {
    "handled_fault_every_channel": handled_fault_every_channel,
    "killed_during_exception": killed_during_exception,
    "unread_when_reader_closes": unread_when_reader_closes,
    "policy_exception_and_kill": policy_exception_and_kill,
    "critical_process_kills_job": critical_process_kills_job,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_exception_objects_freed(scenario):
    kernel = Kernel(seed=0)
    before = kernel.live_objects()

    def main() -> int:
        SCENARIOS[scenario]()
        return 0

    assert kernel.run(main) == 0
    assert kernel.live_objects() == before
