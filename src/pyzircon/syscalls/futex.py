"""Futex syscalls: futex_wait, futex_wake, futex_requeue, futex_get_owner.

A futex is a 32-bit word of guest memory named by its address in the caller's futex
context, which all processes of a shared group share. The kernel reads the word in
normal mode, through the caller's address spaces, but never writes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pyzircon.abi.status import (
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.abi.task import ZX_HANDLE_INVALID
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.vm.aspace import PageFault
from pyzircon.syscalls.clock import to_deadline
from pyzircon.syscalls.common import bad_handle_policy, syscall, to_int, to_u32, to_u64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.futex import FutexContext

# sizeof(zx_futex_t): a futex is an aligned 32-bit int.
FUTEX_SIZE: Final = 4
_U32_MASK: Final = 0xFFFF_FFFF


def _futex_address(value: object, what: str) -> int:
    """Check a futex pointer as the kernel does: not null, aligned to 4 bytes."""
    address = to_u64(value, what)
    if address == 0 or address % FUTEX_SIZE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"{what} {address:#x} is null or not aligned to {FUTEX_SIZE}"
        )
    return address


def _futex_value(value: object, what: str) -> int:
    """Accept a zx_futex_t as a signed or unsigned 32-bit int; return it unsigned."""
    return to_int(value, what, -(1 << 31), _U32_MASK, ZX_ERR_INVALID_ARGS) & _U32_MASK


def _read_futex(thread: Thread, address: int) -> int:
    """Read the futex word as the kernel's user copy does, in normal mode."""
    layout = thread.kernel.layout
    if not (
        layout.is_user_accessible(address) and layout.is_user_accessible(address + FUTEX_SIZE - 1)
    ):
        raise ZxError(ZX_ERR_INVALID_ARGS, f"futex {address:#x} is not a user address")
    try:
        data = thread.process.aspace_at(address).load(address, FUTEX_SIZE)
    except PageFault as fault:
        # NOTE: Zircon resolves the fault with a soft fault and returns that status. The
        # statuses here (ZX_ERR_NOT_FOUND with no mapping, ZX_ERR_ACCESS_DENIED without read
        # permission) come from reading the fault handler, not from a Zircon test.
        raise ZxError(fault.status, f"reading futex {address:#x} failed: {fault}") from None
    return int.from_bytes(data, "little")


def _check_value(thread: Thread, address: int, expected: int) -> None:
    actual = _read_futex(thread, address)
    if actual != expected:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            f"futex {address:#x} holds {actual:#x}, not the expected {expected:#x}",
        )


def _raise_owner_error(thread: Thread, error: ZxError) -> None:
    if error.status == ZX_ERR_BAD_HANDLE:
        bad_handle_policy(thread)
    raise error


def _lookup_owner(thread: Thread, value: object) -> tuple[Thread | None, ZxError | None]:
    """Look up a proposed futex owner without failing yet.

    Zircon validates the owner before it reads the futex but reports a problem only after
    the value check passed, so the error comes back instead of being raised. A dying or
    dead thread becomes no owner.
    """
    owner_value = to_u32(value, "owner handle")
    if owner_value == ZX_HANDLE_INVALID:
        return None, None
    handle = thread.process.handle_table.get(owner_value)
    if handle is None:
        # The caller applies the ZX_POL_BAD_HANDLE policy when it raises this error,
        # after the futex value check, as Zircon does.
        return None, ZxError(ZX_ERR_BAD_HANDLE, f"owner handle {owner_value:#x} is not valid")
    owner = handle.obj
    if not isinstance(owner, Thread):
        return None, ZxError(
            ZX_ERR_WRONG_TYPE, f"owner handle {owner_value:#x} is a {owner.type_name}, not a thread"
        )
    context = thread.process.shared_state.futex_context
    if owner.process.shared_state.futex_context is not context:
        return None, ZxError(
            ZX_ERR_INVALID_ARGS,
            f"owner thread koid {owner.koid} does not share the caller's futex context",
        )
    if owner.state is ThreadState.INITIAL:
        return None, ZxError(
            ZX_ERR_INVALID_ARGS, f"owner thread koid {owner.koid} has not been started"
        )
    if owner.state in (ThreadState.DYING, ThreadState.DEAD):
        return None, None
    return owner, None


def _check_owner_not_waiting(context: FutexContext, owner: Thread, *addresses: int) -> None:
    waiting = context.waiting_on(owner)
    if waiting is not None and waiting in addresses:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"owner thread koid {owner.koid} is itself waiting on futex {waiting:#x}",
        )


@syscall
def futex_wait(
    thread: Thread,
    value_ptr: object,
    current_value: object,
    new_futex_owner: object,
    deadline: object,
) -> None:
    """zx_futex_wait: if the futex holds `current_value`, wait until it is woken.

    The futex is then owned by `new_futex_owner` (ZX_HANDLE_INVALID for no owner; a dying
    thread counts as none).

    Checks, in order:
    1. `value_ptr` is a non-null address aligned to 4 bytes -> ZX_ERR_INVALID_ARGS
    2. `current_value` is a 32-bit value, `new_futex_owner` a 32-bit handle value and
       `deadline` a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    3. `value_ptr` is a user address -> ZX_ERR_INVALID_ARGS, and reading it does not
       fault -> the fault's status (ZX_ERR_NOT_FOUND where nothing is mapped)
    4. the futex holds `current_value` -> ZX_ERR_BAD_STATE
    5. `new_futex_owner` is valid -> ZX_ERR_BAD_HANDLE, is a thread -> ZX_ERR_WRONG_TYPE,
       shares the caller's futex context and was started -> ZX_ERR_INVALID_ARGS
    6. the owner is not the caller and does not wait on this futex -> ZX_ERR_INVALID_ARGS
    Then the wait ends with ZX_ERR_TIMED_OUT at the deadline.
    """
    address = _futex_address(value_ptr, "value_ptr")
    expected = _futex_value(current_value, "current_value")
    owner, owner_error = _lookup_owner(thread, new_futex_owner)
    when = to_deadline(deadline)

    _check_value(thread, address, expected)
    if owner_error is not None:
        _raise_owner_error(thread, owner_error)
    context = thread.process.shared_state.futex_context
    if owner is not None:
        if owner is thread:
            raise ZxError(ZX_ERR_INVALID_ARGS, "a thread cannot wait on a futex it would own")
        _check_owner_not_waiting(context, owner, address)

    status = context.wait(thread, address, owner, when)
    if status != 0:
        raise ZxError(status, f"futex {address:#x} was not woken before the deadline")


@syscall
def futex_wake(thread: Thread, value_ptr: object, wake_count: object) -> None:
    """zx_futex_wake: wake up to `wake_count` waiters, oldest first; the futex loses its owner.

    Waking nobody, or an address nobody waits on, is not an error.

    Checks, in order:
    1. `value_ptr` is a non-null address aligned to 4 bytes -> ZX_ERR_INVALID_ARGS
    2. `wake_count` is a 32-bit count -> ZX_ERR_INVALID_ARGS
    """
    address = _futex_address(value_ptr, "value_ptr")
    count = to_u32(wake_count, "wake_count")
    thread.process.shared_state.futex_context.wake(address, count)


@syscall
def futex_requeue(
    thread: Thread,
    value_ptr: object,
    wake_count: object,
    current_value: object,
    requeue_ptr: object,
    requeue_count: object,
    new_requeue_owner: object,
) -> None:
    """zx_futex_requeue: wake `wake_count` waiters, then move `requeue_count` to another futex.

    The woken futex loses its owner; the requeue futex is owned by `new_requeue_owner`.

    Checks, in order:
    1. `value_ptr` and `requeue_ptr` are non-null addresses aligned to 4 bytes, and
       differ -> ZX_ERR_INVALID_ARGS
    2. the counts, `current_value` and `new_requeue_owner` are 32-bit values ->
       ZX_ERR_INVALID_ARGS
    3. `value_ptr` is a readable user address -> as for zx_futex_wait
    4. the futex at `value_ptr` holds `current_value` -> ZX_ERR_BAD_STATE
    5. `new_requeue_owner` is valid -> ZX_ERR_BAD_HANDLE, is a thread ->
       ZX_ERR_WRONG_TYPE, shares the caller's futex context and was started ->
       ZX_ERR_INVALID_ARGS
    6. the owner waits on neither futex -> ZX_ERR_INVALID_ARGS
    """
    wake_address = _futex_address(value_ptr, "value_ptr")
    requeue_address = _futex_address(requeue_ptr, "requeue_ptr")
    if wake_address == requeue_address:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"value_ptr and requeue_ptr are the same futex {wake_address:#x}"
        )
    wakes = to_u32(wake_count, "wake_count")
    expected = _futex_value(current_value, "current_value")
    moves = to_u32(requeue_count, "requeue_count")
    owner, owner_error = _lookup_owner(thread, new_requeue_owner)

    _check_value(thread, wake_address, expected)
    if owner_error is not None:
        _raise_owner_error(thread, owner_error)
    context = thread.process.shared_state.futex_context
    if owner is not None:
        _check_owner_not_waiting(context, owner, wake_address, requeue_address)
    context.requeue(wake_address, wakes, requeue_address, moves, owner)


@syscall
def futex_get_owner(thread: Thread, value_ptr: object) -> int:
    """zx_futex_get_owner: return the koid of the futex's owner, or ZX_KOID_INVALID.

    Checks, in order:
    1. `value_ptr` is a non-null address aligned to 4 bytes -> ZX_ERR_INVALID_ARGS
    """
    address = _futex_address(value_ptr, "value_ptr")
    return thread.process.shared_state.futex_context.owner_koid(address)
