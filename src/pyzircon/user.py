"""Loads and stores by guest code in normal mode, through the calling thread's address space.

Guest Python code cannot dereference pointers, so it reads and writes its own memory
with `load` and `store`. An address resolves as the kernel's fault handler resolves it
for a thread in normal mode: in a member, an address in its restricted range goes to its
restricted address space and any other to the shared one; a prototype or a regular
process has only one address space.

A fault raises ZX_EXCP_FATAL_PAGE_FAULT, as on Zircon: the thread blocks while its
exception channels are offered the exception (the process debugger's, its own, its
process's, then its jobs', see kernel/objects/exception.py). When a handler marks the
exception ZX_EXCEPTION_STATE_HANDLED, typically after mapping the page, the access runs
again. When no handler does, the kernel records a `FaultReport` naming the address, the
access and the status, kills the process with ZX_TASK_RETCODE_EXCEPTION_KILL and ends the
calling thread.
"""

from __future__ import annotations

from pyzircon.abi.exceptions import ZX_EXCEPTION_REPORT_SIZE, ZX_EXCP_FATAL_PAGE_FAULT
from pyzircon.abi.restricted import (
    X86_PF_PRESENT,
    X86_PF_USER,
    X86_PF_WRITE,
    X86_VECTOR_PAGE_FAULT,
    ExceptionReport,
)
from pyzircon.abi.status import ZX_ERR_ACCESS_DENIED, ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_TASK_RETCODE_EXCEPTION_KILL
from pyzircon.errors import ZxError
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.exception import Outcome, deliver
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.sched.scheduler import ThreadExit
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
    int. A fault raises ZX_EXCP_FATAL_PAGE_FAULT: the read runs again once a handler
    resumes the thread, and otherwise does not return.
    """
    thread = current_thread()
    address = _check_address(vaddr, "vaddr")
    count = _check_address(length, "length")
    while True:
        try:
            return thread.process.aspace_at(address).load(address, count)
        except PageFault as error:
            fault = _FaultFacts(error)
        _raise_page_fault(thread, fault)


def store(vaddr: int, data: bytes | bytearray | memoryview) -> None:
    """Write `data` at `vaddr` into the calling process's memory.

    Raises ZX_ERR_INVALID_ARGS for a bad address or data that is not bytes-like. Every
    page is checked before any byte changes; a fault raises ZX_EXCP_FATAL_PAGE_FAULT, and
    the whole store runs again once a handler resumes the thread.
    """
    thread = current_thread()
    address = _check_address(vaddr, "vaddr")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ZxError(ZX_ERR_INVALID_ARGS, f"data must be bytes-like, not {type(data).__name__}")
    while True:
        try:
            thread.process.aspace_at(address).store(address, data)
            return
        except PageFault as error:
            fault = _FaultFacts(error)
        _raise_page_fault(thread, fault)


class _FaultFacts:
    """The facts of a PageFault, kept without its traceback, which refers to guest frames."""

    __slots__ = ("address", "access", "status", "text")

    def __init__(self, fault: PageFault) -> None:
        self.address = fault.address
        self.access = fault.access
        self.status = fault.status
        self.text = str(fault)


def _page_fault_report(thread: Thread, fault: _FaultFacts) -> ExceptionReport:
    if thread.kernel.arch != "x86_64":
        # DIVERGENCE(zircon): pyzircon's exception report has the x86-64 context only;
        # on arm64 and riscv64 its architectural fields (there esr/far, cause/tval) are 0.
        return ExceptionReport(
            size=ZX_EXCEPTION_REPORT_SIZE,
            type=ZX_EXCP_FATAL_PAGE_FAULT,
            vector=0,
            err_code=0,
            cr2=0,
            synth_code=fault.status & 0xFFFF_FFFF,
            synth_data=0,
        )
    error_code = X86_PF_USER
    if fault.access == "write":
        error_code |= X86_PF_WRITE
    if fault.status == ZX_ERR_ACCESS_DENIED:
        # The page is mapped; the access broke its protection.
        error_code |= X86_PF_PRESENT
    return ExceptionReport(
        size=ZX_EXCEPTION_REPORT_SIZE,
        type=ZX_EXCP_FATAL_PAGE_FAULT,
        vector=X86_VECTOR_PAGE_FAULT,
        err_code=error_code,
        cr2=fault.address,
        synth_code=fault.status & 0xFFFF_FFFF,
        synth_data=0,
    )


def _raise_page_fault(thread: Thread, fault: _FaultFacts) -> None:
    """Offer the fault to the exception handlers; return only when one resumed the thread."""
    if deliver(thread, ZX_EXCP_FATAL_PAGE_FAULT, _page_fault_report(thread, fault)) is (
        Outcome.RESUMED
    ):
        return

    process = thread.process
    message = (
        f"process {process.name!r} (koid {process.koid}) thread {thread.name!r} "
        f"(koid {thread.koid}): {fault.text}"
    )
    thread.kernel.record_fault(
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
    raise ThreadExit
