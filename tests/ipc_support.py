"""Guest-side helpers for tests of waits, IPC, futexes and suspension.

Every function runs inside a machine. Unlike guest_tasks.wait_until, the joins here block
in zx.object_wait_one, so a test that never wakes a thread ends with a deadlock report
instead of a long poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guest_tasks import wait_until
from pyzircon import zx
from pyzircon.kernel.current import current_thread

PAGE = 4096


def spawn(entry: Callable[[], Any], name: str = "worker", process: int | None = None) -> int:
    """Start a thread running `entry()` in `process` (default: the caller's); return it.

    The entry of the first thread of a process must be started with zx.process_start,
    so `process` must already be running.
    """
    owner = zx.process_self() if process is None else process
    thread = zx.thread_create(owner, name, 0)
    zx.thread_start(thread, lambda arg1, arg2: entry(), 0, 0, 0)
    return thread


def join(thread: int) -> None:
    """Block until `thread` has terminated."""
    zx.object_wait_one(thread, zx.ZX_THREAD_TERMINATED, zx.ZX_TIME_INFINITE)


def thread_state(thread: int) -> int:
    return zx.object_get_info(thread, zx.ZX_INFO_THREAD).state


def wait_for_state(thread: int, state: int) -> None:
    """Let other threads run until ZX_INFO_THREAD reports `state` for `thread`."""
    wait_until(lambda: thread_state(thread) == state)


def signals_of(handle: int) -> int:
    """Return the signals now active on `handle`'s object (a wait that only polls)."""
    try:
        return zx.object_wait_one(handle, zx.ZX_SIGNAL_NONE, 0)
    except zx.ZxError as error:
        assert error.status == zx.ZX_ERR_TIMED_OUT
        return int(error.outputs)


def koid(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def rights(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights


def is_valid(handle: int) -> bool:
    try:
        zx.object_get_info(handle, zx.ZX_INFO_HANDLE_VALID)
    except zx.ZxError:
        return False
    return True


def map_page(vmar: int | None = None) -> int:
    """Map one fresh read-write page into `vmar` (default: the root VMAR); return its address."""
    vmo = zx.vmo_create(PAGE, 0)
    root = zx.vmar_root_self() if vmar is None else vmar
    address = zx.vmar_map(root, zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE, 0, vmo, 0, PAGE)
    zx.handle_close(vmo)
    return address


def observer_count(handle: int) -> int:
    """Return how many waits are pending on `handle`'s object (read from kernel internals)."""
    entry = current_thread().process.handle_table.get(handle)
    assert entry is not None, f"{handle:#x} is not a handle of the calling process"
    return len(entry.obj._observers)
