"""What every syscall shares: the entry wrapper, the one handle lookup, argument converters.

A syscall implementation is a function whose first parameter is the calling thread; the
`syscall` decorator turns it into the guest-facing function, which finds the current
thread, runs the implementation, reports the call to trace hooks, turns an unexpected
Python exception into ZX_ERR_INTERNAL (a kernel bug, logged with its traceback), and gives
the scheduler a switch point. Arguments arrive as arbitrary Python values: each is
converted at the point where the kernel would read it, so a bad argument fails with the
status of the check the kernel does first.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from pyzircon.abi.objtypes import OBJ_TYPE_NAMES
from pyzircon.abi.policy import ZX_POL_BAD_HANDLE
from pyzircon.abi.props import ZX_MAX_NAME_LEN
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_INTERNAL,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_WRONG_TYPE,
    ZX_OK,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.exception import raise_pending_policy_exception
from pyzircon.kernel.objects.policy import condition_name
from pyzircon.kernel.sched.scheduler import ThreadExit

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread

log = logging.getLogger("pyzircon.kernel")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", bound=KernelObject)

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1


def syscall(impl: Callable[Concatenate[Thread, P], R]) -> Callable[P, R]:
    """Turn `impl(thread, ...)` into the guest-facing syscall `zx.<name>(...)`."""
    name = impl.__name__
    signature = inspect.signature(impl)
    # The argument names trace hooks see, without the calling thread.
    arg_names = tuple(signature.parameters)[1:]

    @functools.wraps(impl)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        thread = current_thread()
        kernel = thread.kernel
        start_ns = kernel.scheduler.now_ns
        error: ZxError | None = None
        result: Any = None
        try:
            result = impl(thread, *args, **kwargs)
        except ZxError as failure:
            error = failure
        except ThreadExit:
            # The call ends its thread (an exit, or a kill while it ran) and never returns.
            if kernel.syscall_hooks:
                kernel.report_syscall(
                    thread,
                    name,
                    args,
                    ZX_OK,
                    None,
                    start_ns=start_ns,
                    arg_names=arg_names,
                    kwargs=tuple(kwargs.items()),
                    returned=False,
                )
            raise
        except TypeError as failure:
            _reraise_if_binding_error(name, signature, thread, args, kwargs)
            error = _internal_error(kernel, name, failure)
        except Exception as failure:  # noqa: BLE001 - the one conversion point
            error = _internal_error(kernel, name, failure)

        if kernel.syscall_hooks:
            kernel.report_syscall(
                thread,
                name,
                args,
                error.status if error else ZX_OK,
                result,
                start_ns=start_ns,
                arg_names=arg_names,
                kwargs=tuple(kwargs.items()),
            )
        thread.check_kill()
        kernel.scheduler.preempt()
        thread.check_kill()
        if thread.policy_exception is not None:
            # A policy violation raises its exception on the way out, before the caller
            # sees the result, as Zircon does when it returns to user mode.
            raise_pending_policy_exception(thread)
        if thread.suspend_count:
            # A suspended thread stops here, between syscalls, until it is resumed.
            thread.check_suspend()
        if error is not None:
            try:
                raise error
            finally:
                # This frame refers to the error and the error's traceback to this frame.
                # Breaking that cycle frees the kernel objects the frames name as soon as
                # the caller drops the error, not at the next cyclic garbage collection.
                error = None
        return result  # type: ignore[no-any-return]

    entry.__doc__ = impl.__doc__
    # help() and inspect show the guest-facing parameters, without the calling thread.
    parameters = list(signature.parameters.values())[1:]
    entry.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return entry


def _reraise_if_binding_error(
    name: str,
    signature: inspect.Signature,
    thread: Thread,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Raise TypeError, naming the syscall, for a call with wrong argument numbers or names.

    Python's own call binding rejects such a call before any kernel check could run.
    """
    try:
        signature.bind(thread, *args, **kwargs)
    except TypeError as failure:
        public = signature.replace(parameters=list(signature.parameters.values())[1:])
        raise TypeError(f"zx.{name}{public}: {failure}") from None


def _internal_error(kernel: Any, name: str, failure: BaseException) -> ZxError:
    log.exception("kernel bug: unexpected %s in zx.%s", type(failure).__name__, name)
    kernel.internal_errors.append(failure)
    return ZxError(
        ZX_ERR_INTERNAL,
        f"zx.{name} hit a kernel bug ({type(failure).__name__}: {failure}); please report it",
    )


# Handles.


def get_handle(thread: Thread, value: object, *, policy: bool = True) -> Handle:
    """Return the caller's handle named `value`; raise ZX_ERR_BAD_HANDLE when there is none.

    A failed lookup also applies the caller's ZX_POL_BAD_HANDLE policy (see
    `bad_handle_policy`), unless `policy` is False: ZX_INFO_HANDLE_VALID is exempt.
    """
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
        if policy:
            bad_handle_policy(thread)
        raise ZxError(ZX_ERR_BAD_HANDLE, f"{value!r} is not a handle value")
    if not 0 <= value <= U32_MAX:
        if policy:
            bad_handle_policy(thread)
        raise ZxError(ZX_ERR_BAD_HANDLE, f"{value!r} is not a handle value")
    handle = thread.process.shared_state.handle_table.get(value)
    if handle is None:
        if policy:
            bad_handle_policy(thread)
        raise ZxError(
            ZX_ERR_BAD_HANDLE,
            f"handle {value:#x} is not valid in process {thread.process.name!r} "
            f"(koid {thread.process.koid})",
        )
    return handle


def bad_handle_policy(thread: Thread) -> None:
    """Apply the caller's ZX_POL_BAD_HANDLE action after a lookup failed.

    Only the side effects count (a policy exception when the syscall returns, or the
    kill of the process): the syscall fails with ZX_ERR_BAD_HANDLE whatever the action,
    so ALLOW and DENY behave the same.
    """
    thread.process.enforce_basic_policy(ZX_POL_BAD_HANDLE, thread)


def enforce_policy(thread: Thread, condition: int) -> None:
    """Apply the caller's action for ZX_POL_* `condition`.

    Raises ZX_ERR_ACCESS_DENIED when the action is DENY, DENY_EXCEPTION or KILL; the
    exception actions also raise ZX_EXCP_POLICY_ERROR when the syscall returns.
    """
    status = thread.process.enforce_basic_policy(condition, thread)
    if status != ZX_OK:
        raise ZxError(
            status,
            f"the job policy of process {thread.process.name!r} (koid {thread.process.koid}) "
            f"denies {condition_name(condition)}",
        )


def get_object(thread: Thread, value: object, kind: type[T], rights: int) -> T:
    """Look up `value` as an object of `kind` with all of `rights`.

    Checks, in order: the handle is valid (ZX_ERR_BAD_HANDLE), the object has the type
    (ZX_ERR_WRONG_TYPE), the handle has every right (ZX_ERR_ACCESS_DENIED).
    """
    handle = get_handle(thread, value)
    obj = handle.obj
    if not isinstance(obj, kind):
        raise ZxError(
            ZX_ERR_WRONG_TYPE,
            f"handle {value:#x} is a {obj.type_name}, not a "
            f"{OBJ_TYPE_NAMES.get(kind.obj_type, kind.__name__.lower())}",
        )
    check_rights(handle, rights)
    return obj


def check_rights(handle: Handle, rights: int) -> None:
    missing = rights & ~handle.rights
    if missing:
        from pyzircon.abi.rights import rights_names

        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"the handle to {handle.obj!r} lacks {'|'.join(rights_names(missing))}",
        )


def add_handle(thread: Thread, obj: KernelObject, rights: int) -> int:
    """Create a handle to `obj` in the caller's table and return its value.

    When no handle can be made (ZX_ERR_NO_MEMORY), an object that has no handle yet is
    dropped as if its last handle had closed, so a new object does not stay half made.
    """
    try:
        handle = thread.kernel.handle_arena.allocate(obj, rights)
    except ZxError:
        if obj.handle_count == 0:
            obj.on_zero_handles()
        raise
    return thread.process.handle_table.add(handle)


def publish(thread: Thread, *outputs: tuple[KernelObject, int]) -> tuple[int, ...]:
    """Add a handle for each (object, rights) to the caller's table: all of them or none.

    If one cannot be made, the handles added before it are closed again, so the failed
    call leaves the caller's table as it was. Zircon likewise writes a call's output
    handles to the caller only once the whole call has succeeded.
    """
    values: list[int] = []
    try:
        for obj, rights in outputs:
            values.append(add_handle(thread, obj, rights))
    except ZxError:
        for value in values:
            thread.process.handle_table.close(value)
        raise
    return tuple(values)


def close_value(thread: Thread, value: int) -> None:
    thread.process.handle_table.close(value)


# Argument converters: each raises ZxError with `status` for a value C could not carry.


def to_int(value: object, what: str, low: int, high: int, status: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ZxError(status, f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ZxError(status, f"{what} {value:#x} is out of range [{low:#x}, {high:#x}]")
    return value


# The converters below accept a plain int in range before calling to_int, which also
# handles int subclasses and builds the error: they run on every syscall.


def to_u32(value: object, what: str, status: int = ZX_ERR_INVALID_ARGS) -> int:
    if type(value) is int and 0 <= value <= U32_MAX:
        return value
    return to_int(value, what, 0, U32_MAX, status)


def to_u64(value: object, what: str, status: int = ZX_ERR_INVALID_ARGS) -> int:
    if type(value) is int and 0 <= value <= U64_MAX:
        return value
    return to_int(value, what, 0, U64_MAX, status)


def to_i64(value: object, what: str, status: int = ZX_ERR_INVALID_ARGS) -> int:
    if type(value) is int and I64_MIN <= value <= I64_MAX:
        return value
    return to_int(value, what, I64_MIN, I64_MAX, status)


def to_word(value: object, what: str, status: int = ZX_ERR_INVALID_ARGS) -> int:
    """Accept a 64-bit register value, signed or unsigned, and return it unsigned."""
    return to_int(value, what, I64_MIN, U64_MAX, status) & U64_MAX


def to_bytes(value: object, what: str, status: int = ZX_ERR_INVALID_ARGS) -> bytes | memoryview:
    """Accept a bytes-like input buffer; None stands for a null pointer."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return memoryview(value).cast("B")
    raise ZxError(status, f"{what} must be bytes-like, not {type(value).__name__}")


def to_name(value: object, what: str = "name") -> str:
    """Copy a name as the kernel does: at most 31 bytes survive, cut at the first NUL.

    Raises ZX_ERR_INVALID_ARGS for None (a null pointer) or a value that is not str/bytes.
    """
    if isinstance(value, str):
        raw = value.encode("utf-8", errors="surrogateescape")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"{what} must be str or bytes, not {type(value).__name__}"
        )
    raw = raw[: ZX_MAX_NAME_LEN - 1]
    raw = raw.split(b"\0", 1)[0]
    return raw.decode("utf-8", errors="replace")
