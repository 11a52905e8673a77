"""Handle syscalls: close, close_many, duplicate, replace. Rights only ever shrink."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.rights import ZX_RIGHT_DUPLICATE, ZX_RIGHT_SAME_RIGHTS
from pyzircon.abi.status import ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_HANDLE_INVALID
from pyzircon.errors import ZxError
from pyzircon.syscalls.common import check_rights, get_handle, syscall, to_u32

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


def _derive_rights(source_rights: int, requested: int) -> int:
    """Return the rights a new handle gets; raise ZX_ERR_INVALID_ARGS if they would grow."""
    if requested == ZX_RIGHT_SAME_RIGHTS:
        return source_rights
    if requested & ~source_rights:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"rights {requested:#x} are not a subset of the source handle's {source_rights:#x}",
        )
    return requested


@syscall
def handle_close(thread: Thread, handle: object) -> None:
    """zx_handle_close: close a handle; ZX_HANDLE_INVALID is accepted and does nothing.

    Checks, in order:
    1. `handle` names a handle of the caller -> ZX_ERR_BAD_HANDLE
    """
    if isinstance(handle, int) and not isinstance(handle, bool) and handle == ZX_HANDLE_INVALID:
        return
    get_handle(thread, handle)
    thread.process.handle_table.close(handle)  # type: ignore[arg-type]


@syscall
def handle_close_many(thread: Thread, handles: object) -> None:
    """zx_handle_close_many: close every valid handle of a sequence.

    Entries equal to ZX_HANDLE_INVALID are skipped. Every other valid entry is closed even
    when an earlier or later entry is bad; the call then fails with ZX_ERR_BAD_HANDLE, so an
    early bad entry is never masked by later good ones.

    Checks, in order:
    1. `handles` is a sequence of values -> ZX_ERR_INVALID_ARGS
    2. each non-invalid entry names a handle of the caller (checked when it is closed)
       -> ZX_ERR_BAD_HANDLE, reported after the whole sequence is processed
    """
    if not isinstance(handles, (list, tuple)):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"handles must be a list or tuple of handle values, not {type(handles).__name__}",
        )

    table = thread.process.handle_table
    bad: list[object] = []
    for value in handles:
        if isinstance(value, int) and not isinstance(value, bool) and value == ZX_HANDLE_INVALID:
            continue
        try:
            get_handle(thread, value)
        except ZxError:
            bad.append(value)
            continue
        table.close(value)

    if bad:
        shown = ", ".join(f"{v:#x}" if isinstance(v, int) else repr(v) for v in bad[:4])
        raise ZxError(
            ZX_ERR_BAD_HANDLE,
            f"{len(bad)} entries were not valid handles ({shown}); every valid one was closed",
        )


@syscall
def handle_duplicate(thread: Thread, handle: object, rights: object) -> int:
    """zx_handle_duplicate: a new handle to the same object with the same or fewer rights.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_DUPLICATE -> ZX_ERR_ACCESS_DENIED
    3. `rights` is ZX_RIGHT_SAME_RIGHTS or a subset of the source's -> ZX_ERR_INVALID_ARGS
    """
    source = get_handle(thread, handle)
    check_rights(source, ZX_RIGHT_DUPLICATE)
    new_rights = _derive_rights(source.rights, to_u32(rights, "rights"))

    duplicate = thread.kernel.handle_arena.allocate(source.obj, new_rights)
    return thread.process.handle_table.add(duplicate)


@syscall
def handle_replace(thread: Thread, handle: object, rights: object) -> int:
    """zx_handle_replace: swap a handle for one with the same or fewer rights.

    The source handle is closed whether or not the call succeeds.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. `rights` is ZX_RIGHT_SAME_RIGHTS or a subset of the source's -> ZX_ERR_INVALID_ARGS
       (the source is still closed)
    3. a new handle can be made -> ZX_ERR_NO_MEMORY (the source is still closed)
    """
    table = thread.process.handle_table
    get_handle(thread, handle)
    source = table.detach(handle)  # type: ignore[arg-type]
    assert source is not None

    arena = thread.kernel.handle_arena
    try:
        new_rights = _derive_rights(source.rights, to_u32(rights, "rights"))
        # The replacement is made before the source goes, so the object's handle count
        # never reaches zero on the way.
        replacement = arena.allocate(source.obj, new_rights)
    except ZxError:
        arena.destroy(source)
        raise
    arena.destroy(source)
    return table.add(replacement)
