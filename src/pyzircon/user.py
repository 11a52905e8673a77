"""Loads and stores by guest code in normal mode, through the calling thread's address space.

Guest Python code cannot dereference pointers, so it reads and writes its own memory
with `load` and `store`. An address resolves as the kernel's fault handler resolves it
for a thread in normal mode: in a member, an address in its restricted range goes to its
restricted address space and any other to the shared one; a prototype or a regular
process has only one address space.

A fault is fatal, as an unhandled page fault is on Zircon: the kernel records a
`FaultReport` naming the address, the access and the status, kills the process with
ZX_TASK_RETCODE_EXCEPTION_KILL and ends the calling thread.
"""

from __future__ import annotations

from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_TASK_RETCODE_EXCEPTION_KILL
from pyzircon.errors import ZxError
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.vm.aspace import PageFault
from pyzircon.machine import FaultReport

_U64_MAX = (1 << 64) - 1


def _check_address(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _U64_MAX:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"{what} must be an int in [0, 2**64), not {value!r}")
    return value


def load(vaddr: int, length: int) -> bytes:
    """Read `length` bytes at `vaddr` from the calling process's memory.

    Raises ZX_ERR_INVALID_ARGS for an address or length that is not an unsigned 64-bit
    int. A fault kills the calling process and does not return.
    """
    thread = current_thread()
    address = _check_address(vaddr, "vaddr")
    count = _check_address(length, "length")
    try:
        return thread.process.aspace_at(address).load(address, count)
    except PageFault as fault:
        _die_of_fault(thread, fault)
        raise AssertionError("unreachable: a faulting thread does not return") from None


def store(vaddr: int, data: bytes | bytearray | memoryview) -> None:
    """Write `data` at `vaddr` into the calling process's memory.

    Raises ZX_ERR_INVALID_ARGS for a bad address or data that is not bytes-like. Every
    page is checked before any byte changes; a fault kills the calling process and does
    not return.
    """
    thread = current_thread()
    address = _check_address(vaddr, "vaddr")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ZxError(ZX_ERR_INVALID_ARGS, f"data must be bytes-like, not {type(data).__name__}")
    try:
        thread.process.aspace_at(address).store(address, data)
    except PageFault as fault:
        _die_of_fault(thread, fault)


def _die_of_fault(thread: Thread, fault: PageFault) -> None:
    # TODO: with exception channels, a fault first goes to the thread, process and job
    # handlers as ZX_EXCP_FATAL_PAGE_FAULT; the kill happens only when none handles it.
    process = thread.process
    kernel = thread.kernel
    message = (
        f"process {process.name!r} (koid {process.koid}) thread {thread.name!r} "
        f"(koid {thread.koid}): {fault}"
    )
    kernel.record_fault(
        FaultReport(
            process_koid=process.koid,
            process_name=process.name,
            thread_koid=thread.koid,
            thread_name=thread.name,
            address=fault.address,
            access=fault.access,
            status=fault.status,
            message=message,
        )
    )
    process.kill(ZX_TASK_RETCODE_EXCEPTION_KILL)
    thread.check_kill()
