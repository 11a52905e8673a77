"""The smallest failing sequences the reliability suite found, kept as regression tests.

Each sequence is replayed through the state machine, with every invariant checked after
each step and the leak check at the end, exactly as Hypothesis ran it. Sequences for
faults outside the code this suite may change are marked xfail(strict=True): they start
failing (as XPASS) once the fault is fixed, so the marker cannot outlive the bug.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

from guest_tasks import start, wait_until_dead
from pyzircon import Kernel, zx
from reliability.harness import Session
from reliability.machine import consumes_only, handle_base, replay, truth_table

Step = tuple[str, dict[str, Any]]


def run_steps(*steps: Step) -> None:
    """Replay `steps` after booting a machine with seed 0; raise on any broken invariant."""
    replay([("boot", {"seed": 0}), *steps])


def faulty(op: str, countdown: int, site: str = "handle") -> Step:
    """A step that makes the `countdown`-th allocation at `site` fail during `op`."""
    arguments = {
        "actor": 0,
        "countdown": countdown,
        "op": op,
        "site": site,
        "subject": ("ref", 0),
    }
    return ("faulty_call", arguments)


def test_crashed_thread_is_freed():
    # A crash record kept the traceback of the crashed thread, whose frames held the
    # thread, its process and their objects after the program ended.
    run_steps(("end_agent", {"agent_pick": 0, "how": "crash"}))


def test_vmo_create_without_handle_frees_vmo():
    # zx_vmo_create whose handle could not be made kept the VMO's buffer forever.
    run_steps(faulty("vmo_create", countdown=1))


def test_process_create_without_vmar_handle_adds_nothing():
    # zx_process_create failed with ZX_ERR_NO_MEMORY when the VMAR handle could not be
    # made, but left the new process's handle in the caller's table.
    run_steps(faulty("process_create", countdown=2))


def test_process_create_shared_without_handle_drops_member():
    # The member whose handle could not be made must die unstarted and give its share
    # of the group back.
    run_steps(faulty("process_create_shared", countdown=1))


def test_handle_replace_without_handle_closes_source():
    # zx_handle_replace took the source out of the table and then failed to make the
    # replacement: the source was neither closed nor kept, so its object never died.
    run_steps(faulty("handle_replace", countdown=1))


def test_handle_replace_no_memory_status():
    # zx_handle_replace, check 3: no replacement can be made -> ZX_ERR_NO_MEMORY, and the
    # source handle is closed.
    session = Session(seed=0)

    def body() -> tuple[int | None, bool]:
        event = zx.event_create(0)
        source = handle_base(truth_table(), event)
        session.arm_fault("handle", 1)
        outcome = session.invoke(
            zx.handle_replace, event, zx.ZX_RIGHT_SAME_RIGHTS, consumes=consumes_only(source)
        )
        session.disarm_fault()
        try:
            zx.object_get_info(event, zx.ZX_INFO_HANDLE_VALID)
        except zx.ZxError:
            return outcome.status, False
        return outcome.status, True

    status, still_valid = session.run(body)
    session.stop()
    assert status == zx.ZX_ERR_NO_MEMORY
    assert not still_valid
    assert not session.failures
    session.check_no_leaks()


def test_failed_call_frees_objects_without_collector():
    # The syscall wrapper's frame referred to the error it raised, and the error's
    # traceback to that frame. The cycle kept every kernel object the frames named
    # alive until the cyclic garbage collector ran, which the leak check found.
    kernel = Kernel(seed=0)

    def main() -> int:
        process, vmar = zx.process_create(zx.job_default(), "p", 0)
        with contextlib.suppress(zx.ZxError):
            zx.process_read_memory(process, 0, 16)
        zx.handle_close_many([process, vmar])
        return 0

    gc.disable()
    try:
        assert kernel.run(main) == 0
        survivors = sorted(kernel._objects, key=lambda obj: obj.koid)
    finally:
        gc.enable()
    assert survivors == [kernel.root_job]


def test_killed_sleeper_is_freed():
    # The scheduler kept a killed sleeper's deadline entry, and with it the dead thread,
    # until the clock passed the deadline (the scheduler's owner has since fixed it).
    kernel = Kernel(seed=0)

    def main() -> int:
        process, _ = zx.process_create(zx.job_default(), "sleeper", 0)
        start(process, lambda arg1, arg2: zx.nanosleep(zx.deadline_after(10**9)))
        zx.nanosleep(zx.deadline_after(10_000))
        zx.task_kill(process)
        wait_until_dead(process)
        return 0

    assert kernel.run(main) == 0
    assert kernel.live_objects() == [kernel.root_job]


def test_eventpair_create_without_second_handle_adds_nothing():
    session = Session(seed=0)

    def body() -> None:
        session.arm_fault("handle", 2)
        session.invoke(zx.eventpair_create, 0)
        session.disarm_fault()

    session.run(body)
    session.stop()
    assert not session.failures, session.failures


def test_vmar_allocate_without_handle_leaves_no_region():
    session = Session(seed=0)

    def body() -> tuple[int, list[Any]]:
        root = zx.vmar_root_self()
        session.arm_fault("handle", 1)
        outcome = session.invoke(zx.vmar_allocate, root, zx.ZX_VM_CAN_MAP_READ, 0, 4096)
        session.disarm_fault()
        maps = zx.object_get_info(root, zx.ZX_INFO_VMAR_MAPS)
        return outcome.status, maps

    status, maps = session.run(body)
    session.stop()
    assert status == zx.ZX_ERR_NO_MEMORY
    # Only the root VMAR itself: the region the failed call made must be gone.
    assert [entry.type for entry in maps] == [zx.ZX_INFO_MAPS_TYPE_VMAR]


def test_channel_create_without_second_handle_adds_nothing():
    session = Session(seed=0)

    def body() -> None:
        session.arm_fault("handle", 2)
        session.invoke(zx.channel_create, 0)
        session.disarm_fault()

    session.run(body)
    session.stop()
    assert not session.failures, session.failures
