"""Restricted-mode syscalls: bind and unbind the state VMO, enter, kick.

A thread enters restricted mode with zx.restricted_enter. Guest machine code then runs
in the CPU engine of the process's restricted address space (or, in a process without
one, its only address space) until a `syscall` instruction, an exception or a kick.
The registers are then saved into the bound state VMO and zx.restricted_enter returns
the reason code, which stands for the kernel's jump to the vector table.

Guest code runs in slices; between slices the thread is a normal scheduling point, so
other threads run, kicks arrive and a killed thread unwinds.
"""

from __future__ import annotations

from typing import Final

from pyzircon.abi.exceptions import (
    X86_FLAGS_USER,
    ZX_EXCEPTION_REPORT_SIZE,
    ZX_EXCP_FATAL_PAGE_FAULT,
    ZX_EXCP_GENERAL,
    ZX_EXCP_HW_BREAKPOINT,
    ZX_EXCP_SW_BREAKPOINT,
    ZX_EXCP_UNDEFINED_INSTRUCTION,
)
from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.policy import ZX_POL_NEW_VMO
from pyzircon.abi.restricted import (
    RESTRICTED_EXCEPTION_REPORT_OFFSET,
    X86_64_STATE_SIZE,
    X86_VECTOR_BREAKPOINT,
    X86_VECTOR_DEBUG,
    X86_VECTOR_INVALID_OPCODE,
    X86_VECTOR_PAGE_FAULT,
    ExceptionReport,
    RestrictedState,
)
from pyzircon.abi.rights import ZX_DEFAULT_VMO_RIGHTS, ZX_RIGHT_MANAGE_THREAD
from pyzircon.abi.status import ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED
from pyzircon.abi.task import (
    ZX_RESTRICTED_REASON_EXCEPTION,
    ZX_RESTRICTED_REASON_KICK,
    ZX_RESTRICTED_REASON_SYSCALL,
)
from pyzircon.arch.x86_64.engine import ExitKind, GuestFault, X86Engine
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.aspace import VmAspace
from pyzircon.syscalls.common import (
    add_handle,
    enforce_policy,
    get_object,
    syscall,
    to_u32,
    to_u64,
)

# Virtual time a slice of guest code costs, in nanoseconds per instruction executed.
NS_PER_INSTRUCTION: Final = 1

# The exception type Zircon's x86 exception handlers report for each CPU vector; any
# other vector is ZX_EXCP_GENERAL.
_EXCEPTION_TYPES: Final = {
    X86_VECTOR_PAGE_FAULT: ZX_EXCP_FATAL_PAGE_FAULT,
    X86_VECTOR_INVALID_OPCODE: ZX_EXCP_UNDEFINED_INSTRUCTION,
    X86_VECTOR_BREAKPOINT: ZX_EXCP_SW_BREAKPOINT,
    X86_VECTOR_DEBUG: ZX_EXCP_HW_BREAKPOINT,
}


def _check_options(value: object) -> None:
    if to_u32(value, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {value!r}")


def _check_architecture(thread: Thread) -> None:
    if thread.kernel.arch != "x86_64":
        # DIVERGENCE(zircon): Zircon runs restricted mode on arm64 and riscv64 too;
        # pyzircon's CPU engine runs x86-64 code only.
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            f"restricted mode needs an x86_64 machine; this one is {thread.kernel.arch}",
        )


@syscall
def restricted_bind_state(thread: Thread, options: object) -> int:
    """zx_restricted_bind_state: bind a new one-page state VMO to the calling thread.

    Returns a handle to the VMO, with the rights zx_vmo_create gives. The binding
    replaces any earlier one, and keeps the VMO alive until it is unbound or replaced.

    Checks, in order:
    1. the machine is x86-64 -> ZX_ERR_NOT_SUPPORTED
    2. `options` is 0 -> ZX_ERR_INVALID_ARGS
    3. the caller's ZX_POL_NEW_VMO policy -> ZX_ERR_ACCESS_DENIED
    """
    _check_architecture(thread)
    _check_options(options)
    enforce_policy(thread, ZX_POL_NEW_VMO)

    vmo = VmoDispatcher.create(thread.kernel, PAGE_SIZE, resizable=False)
    # The kernel commits and pins the page, because it writes registers there on exit.
    vmo.vmo.commit_range(0, PAGE_SIZE)
    value = add_handle(thread, vmo, ZX_DEFAULT_VMO_RIGHTS)
    thread.restricted.bind(vmo)
    return value


@syscall
def restricted_unbind_state(thread: Thread, options: object) -> None:
    """zx_restricted_unbind_state: drop the calling thread's state VMO, if any.

    Checks, in order:
    1. the machine is x86-64 -> ZX_ERR_NOT_SUPPORTED
    2. `options` is 0 -> ZX_ERR_INVALID_ARGS
    """
    _check_architecture(thread)
    _check_options(options)
    thread.restricted.unbind()


def _is_canonical(address: int, virtual_address_bits: int) -> bool:
    upper = address >> (virtual_address_bits - 1)
    return upper == 0 or upper == (1 << (65 - virtual_address_bits)) - 1


def _validate_state(thread: Thread, state: RestrictedState) -> None:
    layout = thread.kernel.layout
    if not layout.is_user_accessible(state.ip):
        raise ZxError(ZX_ERR_BAD_STATE, f"ip {state.ip:#x} is not a user address")
    if state.flags & ~X86_FLAGS_USER:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            f"flags {state.flags:#x} set bits user code may not set "
            f"({state.flags & ~X86_FLAGS_USER:#x})",
        )
    for name in ("fs_base", "gs_base"):
        value = getattr(state, name)
        if not _is_canonical(value, layout.virtual_address_bits):
            raise ZxError(ZX_ERR_BAD_STATE, f"{name} {value:#x} is not a canonical address")


def engine_for(aspace: VmAspace) -> X86Engine:
    """Return the CPU engine of `aspace`, creating it on first use."""
    engine = aspace.cpu_engine
    if engine is None:
        engine = X86Engine(aspace)
        aspace.cpu_engine = engine
    assert isinstance(engine, X86Engine)
    return engine


@syscall
def restricted_enter(
    thread: Thread, options: object, vector_table_ptr: object, context: object
) -> int:
    """zx_restricted_enter: run the bound state in restricted mode until it exits.

    Returns the reason (ZX_RESTRICTED_REASON_SYSCALL, _EXCEPTION or _KICK) at the point
    where the kernel would jump to `vector_table_ptr`. The registers at exit are then in
    the state VMO. After an exception, the exception report follows them.

    Checks, in order:
    1. the machine is x86-64 -> ZX_ERR_NOT_SUPPORTED
    2. `options` is 0 -> ZX_ERR_INVALID_ARGS
    3. `vector_table_ptr` is a user address -> ZX_ERR_INVALID_ARGS
    4. a state VMO is bound -> ZX_ERR_BAD_STATE
    5. the state's ip is a user address, its flags are user-settable and its fs_base and
       gs_base are canonical -> ZX_ERR_BAD_STATE
    """
    _check_architecture(thread)
    _check_options(options)
    vector = to_u64(vector_table_ptr, "vector_table_ptr")
    if not thread.kernel.layout.is_user_accessible(vector):
        raise ZxError(ZX_ERR_INVALID_ARGS, f"vector_table_ptr {vector:#x} is not a user address")
    to_u64(context, "context")
    binding = thread.restricted.binding
    if binding is None:
        raise ZxError(
            ZX_ERR_BAD_STATE, "no state VMO is bound; call zx.restricted_bind_state first"
        )
    # Validate a snapshot, so the state cannot change between the check and the entry.
    state = RestrictedState.from_bytes(binding.vmo.read(0, X86_64_STATE_SIZE))
    _validate_state(thread, state)

    if thread.restricted.consume_kick():
        return ZX_RESTRICTED_REASON_KICK
    process = thread.process
    aspace = process.restricted_aspace or process.shared_aspace
    return _run_restricted(thread, binding, engine_for(aspace), state)


def _run_restricted(
    thread: Thread, binding: VmoDispatcher, engine: X86Engine, state: RestrictedState
) -> int:
    """Run guest code until it exits to normal mode; return the reason.

    Task hooks see the entry and the exit with its reason, or with None when the thread
    is killed in restricted mode.
    """
    kernel = thread.kernel
    thread.restricted.in_restricted_mode = True
    kernel.on_restricted_enter(thread)
    reason: int | None = None
    try:
        reason = _run_slices(thread, binding, engine, state)
        return reason
    finally:
        thread.restricted.in_restricted_mode = False
        kernel.on_restricted_exit(thread, reason)


def _run_slices(
    thread: Thread, binding: VmoDispatcher, engine: X86Engine, state: RestrictedState
) -> int:
    """Run slices until the guest makes a syscall, faults or is kicked; return the reason."""
    scheduler = thread.kernel.scheduler
    while True:
        exit_ = engine.run_slice(state, thread.restricted.cpu_context)
        thread.restricted.cpu_context = exit_.context
        state = exit_.state
        if exit_.kind is ExitKind.SYSCALL:
            binding.vmo.write(0, state.to_bytes())
            return ZX_RESTRICTED_REASON_SYSCALL
        if exit_.kind is ExitKind.EXCEPTION:
            assert exit_.fault is not None
            _write_exception(binding, state, exit_.fault)
            return ZX_RESTRICTED_REASON_EXCEPTION

        # A slice ended: give other threads their turn, then look for a kill or kick.
        scheduler.now_ns += engine.slice_instructions * NS_PER_INSTRUCTION
        scheduler.preempt()
        thread.check_kill()
        # A suspended thread stops between slices and goes on in restricted mode later.
        thread.check_suspend()
        if thread.restricted.consume_kick():
            binding.vmo.write(0, state.to_bytes())
            return ZX_RESTRICTED_REASON_KICK


def _write_exception(binding: VmoDispatcher, state: RestrictedState, fault: GuestFault) -> None:
    report = ExceptionReport(
        size=ZX_EXCEPTION_REPORT_SIZE,
        type=_EXCEPTION_TYPES.get(fault.vector, ZX_EXCP_GENERAL),
        vector=fault.vector,
        err_code=fault.error_code,
        cr2=fault.address if fault.vector == X86_VECTOR_PAGE_FAULT else 0,
        synth_code=fault.status & 0xFFFF_FFFF,
        synth_data=0,
    )
    binding.vmo.write(0, state.to_bytes())
    binding.vmo.write(RESTRICTED_EXCEPTION_REPORT_OFFSET, report.to_bytes())


def read_exception_report(data: bytes | bytearray | memoryview) -> ExceptionReport:
    """Decode the exception report from the bytes of a state VMO."""
    return ExceptionReport.from_bytes(data, RESTRICTED_EXCEPTION_REPORT_OFFSET)


@syscall
def restricted_kick(thread: Thread, handle: object, options: object) -> None:
    """zx_restricted_kick: make a thread leave (or not enter) restricted mode.

    A thread in restricted mode exits with ZX_RESTRICTED_REASON_KICK; any other thread
    keeps the kick until its next zx.restricted_enter, which then returns KICK at once.
    Kicks before the next exit coalesce into one.

    Checks, in order:
    1. `options` is 0 -> ZX_ERR_INVALID_ARGS
    2. `handle` is a thread handle with ZX_RIGHT_MANAGE_THREAD
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    3. the thread is not dying or dead -> ZX_ERR_BAD_STATE
    """
    _check_options(options)
    target = get_object(thread, handle, Thread, ZX_RIGHT_MANAGE_THREAD)
    if target.state in (ThreadState.DYING, ThreadState.DEAD):
        raise ZxError(
            ZX_ERR_BAD_STATE, f"thread {target.name!r} (koid {target.koid}) is {target.state.value}"
        )
    target.restricted.kick_pending = True
