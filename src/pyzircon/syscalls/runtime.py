"""Runtime helpers that Fuchsia's libc provides: zx.process_self() and friends.

On Fuchsia a launcher passes a new program handles to its process, root VMAR, default
job and first thread. pyzircon's launcher (`Kernel.run`) does the same for the program it
runs. A process made with zx.process_create gets no such bootstrap handles; the first call
of a helper in it creates the handle in its table, as a launcher would have passed it.
"""

from __future__ import annotations

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.rights import (
    ZX_DEFAULT_JOB_RIGHTS,
    ZX_DEFAULT_PROCESS_RIGHTS,
    ZX_DEFAULT_THREAD_RIGHTS,
)
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.objects.vmar import ROOT_VMAR_RIGHTS


def _runtime_handle(process: Process, key: str, obj: KernelObject, rights: int) -> int:
    # Like Fuchsia's libc, the helpers return the value they handed out first, even
    # after the program closed that handle; they never mint a second one.
    value = process.runtime_handles.get(key, 0)
    if value:
        return value
    handle = process.kernel.handle_arena.allocate(obj, rights)
    value = process.handle_table.add(handle)
    process.runtime_handles[key] = value
    return value


def install_bootstrap_handles(thread: Thread) -> None:
    """Give a launched program its process, root VMAR, job and thread handles."""
    process = thread.process
    _runtime_handle(process, "process", process, ZX_DEFAULT_PROCESS_RIGHTS)
    _runtime_handle(process, "vmar_root", process.shared_state.root_vmar, ROOT_VMAR_RIGHTS)
    _runtime_handle(process, "job", process.job, ZX_DEFAULT_JOB_RIGHTS)
    thread.self_handle_value = _runtime_handle(
        process, f"thread:{thread.koid}", thread, ZX_DEFAULT_THREAD_RIGHTS
    )


def process_self() -> int:
    """Return a handle to the calling thread's process."""
    process = current_thread().process
    return _runtime_handle(process, "process", process, ZX_DEFAULT_PROCESS_RIGHTS)


def thread_self() -> int:
    """Return a handle to the calling thread."""
    thread = current_thread()
    process = thread.process
    return _runtime_handle(process, f"thread:{thread.koid}", thread, ZX_DEFAULT_THREAD_RIGHTS)


def job_default() -> int:
    """Return a handle to the job of the calling thread's process."""
    process = current_thread().process
    return _runtime_handle(process, "job", process.job, ZX_DEFAULT_JOB_RIGHTS)


def vmar_root_self() -> int:
    """Return a handle to the root VMAR of the calling process's normal address space.

    A member has no root VMAR over its whole normal view (shared plus restricted), so, as
    in Fuchsia where the runtime's globals live in the shared part, it gets the shared
    root VMAR. Its restricted VMAR comes from zx.process_create_shared.
    """
    process = current_thread().process
    vmar = process.shared_state.root_vmar
    return _runtime_handle(process, "vmar_root", vmar, ROOT_VMAR_RIGHTS)


def system_get_page_size() -> int:
    """Return the page size in bytes."""
    return PAGE_SIZE
