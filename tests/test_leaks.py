"""Objects are freed when their last handle and last internal reference go.

A program creates processes, shared groups, jobs, VMOs, mappings, sub-VMARs, events and
threads, lets every other process die, and returns. Once its own process is dead and its
handles are closed, the machine contains only the root job again, and every VMO page buffer
is freed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import pyzircon.kernel.vm.vmo as vm_vmo
from guest_tasks import kill_and_wait, park, start, wait_until, wait_until_dead
from pyzircon import Kernel, zx

RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE


def page() -> int:
    return zx.system_get_page_size()


def sleep_then_return(arg1: int, arg2: int) -> int:
    zx.nanosleep(zx.deadline_after(arg2))
    return 0


def map_and_return(arg1: int, arg2: int) -> int:
    """Thread entry: map the VMO passed in arg1 into the process's own root VMAR."""
    zx.vmar_map(zx.vmar_root_self(), RW, 0, arg1, 0, page())
    zx.handle_close(arg1)
    return 0


def shared_group() -> None:
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    members = [zx.process_create_shared(proto, 0, f"member-{index}") for index in range(2)]
    shared = zx.vmo_create(2 * page(), 0)
    zx.vmar_map(shared_vmar, RW, 0, shared, 0, 2 * page())
    zx.vmo_write(shared, b"shared", 0)
    for member, restricted_vmar in members:
        private = zx.vmo_create(page(), 0)
        region, _ = zx.vmar_allocate(restricted_vmar, zx.ZX_VM_CAN_MAP_READ, 0, 4 * page())
        zx.vmar_map(region, zx.ZX_VM_PERM_READ, 0, private, 0, page())
        start(member, park, private)
    start(proto, map_and_return, zx.vmo_create(page(), 0))
    for member, _ in members:
        kill_and_wait(member)
    wait_until_dead(proto)


def regular_processes() -> None:
    job = zx.job_create(zx.job_default(), 0)
    child_job = zx.job_create(job, 0)
    unstarted, _ = zx.process_create(child_job, "unstarted", 0)
    zx.thread_create(unstarted, "never-started", 0)
    sleeper, _ = zx.process_create(job, "sleeper", 0)
    start(sleeper, sleep_then_return, zx.ZX_HANDLE_INVALID, 10_000_000)
    killed, _ = zx.process_create(job, "killed", 0)
    start(killed, sleep_then_return, zx.event_create(0), 1_000_000_000)
    kill_and_wait(killed)
    wait_until_dead(sleeper)
    zx.task_kill(job)


def own_threads() -> None:
    done: list[int] = []

    def worker(arg1: int, arg2: int) -> None:
        zx.eventpair_create(0)
        done.append(arg1)

    for index in range(3):
        thread = zx.thread_create(zx.process_self(), f"worker-{index}", 0)
        zx.thread_start(thread, worker, index, 0, 0)
    wait_until(lambda: len(done) == 3)
    zx.thread_start(zx.thread_create(zx.process_self(), "parked", 0), park, 0, 0, 0)


def own_memory() -> None:
    vmo = zx.vmo_create(4 * page(), zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, 4 * page())
    zx.vmo_write(vmo, b"x" * page(), 0)
    zx.vmo_set_size(vmo, 16 * page())
    zx.vmar_unmap(zx.vmar_root_self(), address, page())
    zx.vmo_create(page(), 0)
    zx.event_create(0)


SCENARIOS: dict[str, Callable[[], None]] = {
    "shared_group": shared_group,
    "regular_processes": regular_processes,
    "own_threads": own_threads,
    "own_memory": own_memory,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_leaks_objects_freed(scenario):
    kernel = Kernel(seed=0)
    before = kernel.live_objects()
    buffers_before = vm_vmo.live_buffer_count()

    def main() -> int:
        SCENARIOS[scenario]()
        return 0

    assert kernel.run(main) == 0
    assert kernel.live_objects() == before
    assert vm_vmo.live_buffer_count() == buffers_before


def test_leaks_start_with_root_job_only():
    kernel = Kernel(seed=0)
    assert kernel.live_objects() == [kernel.root_job]


def test_leaks_all_scenarios_in_one_run():
    kernel = Kernel(seed=5)
    buffers_before = vm_vmo.live_buffer_count()

    def main() -> int:
        for scenario in SCENARIOS.values():
            scenario()
        return 0

    assert kernel.run(main) == 0
    assert kernel.live_objects() == [kernel.root_job]
    assert vm_vmo.live_buffer_count() == buffers_before
