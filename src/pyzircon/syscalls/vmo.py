"""VMO syscalls: create, read, write, get and set the size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.rights import ZX_RIGHT_EXECUTE, ZX_RIGHT_READ, ZX_RIGHT_RESIZE, ZX_RIGHT_WRITE
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.abi.task import ZX_HANDLE_INVALID
from pyzircon.abi.vm import ZX_VMO_DISCARDABLE, ZX_VMO_RESIZABLE, ZX_VMO_UNBOUNDED
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.vmo import VMO_MAX_SIZE
from pyzircon.syscalls.common import (
    U64_MAX,
    add_handle,
    get_handle,
    get_object,
    syscall,
    to_bytes,
    to_u32,
    to_u64,
)

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

_CREATE_OPTIONS = ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED


def round_vmo_size(size: int) -> int:
    """Round `size` up to whole pages; ZX_ERR_OUT_OF_RANGE if that passes the VMO limit."""
    rounded = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded > U64_MAX or rounded > VMO_MAX_SIZE:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"VMO size {size:#x} rounds up past the maximum VMO size {VMO_MAX_SIZE:#x}",
        )
    return rounded


@syscall
def vmo_create(thread: Thread, size: object, options: object) -> int:
    """zx_vmo_create: create a VMO of `size` bytes, rounded up to whole pages.

    The handle has ZX_DEFAULT_VMO_RIGHTS, plus ZX_RIGHT_RESIZE with ZX_VMO_RESIZABLE.

    Checks, in order:
    1. `options` has only known bits -> ZX_ERR_INVALID_ARGS
    2. `size` is a 64-bit count that rounds up to at most the maximum VMO size
       -> ZX_ERR_INVALID_ARGS (not a count) or ZX_ERR_OUT_OF_RANGE
    3. ZX_VMO_DISCARDABLE and ZX_VMO_UNBOUNDED -> ZX_ERR_NOT_SUPPORTED (see below)
    """
    flags = to_u32(options, "options")
    if flags & ~_CREATE_OPTIONS:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"unknown VMO options {flags & ~_CREATE_OPTIONS:#x}")
    rounded = round_vmo_size(to_u64(size, "size"))
    if flags & (ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED):
        # DIVERGENCE(zircon): discardable VMOs need the lock/unlock range operations and
        # unbounded VMOs a VMO of the maximum size; pyzircon supports neither yet.
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            "ZX_VMO_DISCARDABLE and ZX_VMO_UNBOUNDED are not supported by pyzircon",
        )

    vmo = VmoDispatcher.create(thread.kernel, rounded, resizable=bool(flags & ZX_VMO_RESIZABLE))
    return add_handle(thread, vmo, vmo.rights_on_create)


@syscall
def vmo_read(thread: Thread, handle: object, length: object, offset: object) -> bytes:
    """zx_vmo_read: return `length` bytes of the VMO from `offset`.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_READ
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `length` and `offset` are 64-bit counts -> ZX_ERR_INVALID_ARGS
    3. [offset, offset + length) lies inside the VMO -> ZX_ERR_OUT_OF_RANGE
    """
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_READ)
    count = to_u64(length, "length")
    start = to_u64(offset, "offset")
    return vmo.vmo.read(start, count)


@syscall
def vmo_write(thread: Thread, handle: object, data: object, offset: object) -> None:
    """zx_vmo_write: store `data` into the VMO at `offset`.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `data` is bytes-like and `offset` a 64-bit count -> ZX_ERR_INVALID_ARGS
    3. [offset, offset + len(data)) lies inside the VMO -> ZX_ERR_OUT_OF_RANGE
    """
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_WRITE)
    buffer = to_bytes(data, "data")
    start = to_u64(offset, "offset")
    vmo.vmo.write(start, buffer)


@syscall
def vmo_get_size(thread: Thread, handle: object) -> int:
    """zx_vmo_get_size: return the VMO's size in bytes (a page multiple).

    Checks, in order:
    1. `handle` is a VMO handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    """
    vmo = get_object(thread, handle, VmoDispatcher, 0)
    return vmo.vmo.size


@syscall
def vmo_set_size(thread: Thread, handle: object, size: object) -> None:
    """zx_vmo_set_size: resize a resizable VMO; shrinking drops the cut pages.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. a resizable VMO's handle has ZX_RIGHT_RESIZE -> ZX_ERR_ACCESS_DENIED (the kernel
       checks the right only for resizable VMOs)
    3. `size` is a 64-bit count that rounds up to whole pages within 64 bits
       -> ZX_ERR_INVALID_ARGS (not a count) or ZX_ERR_OUT_OF_RANGE
    4. the VMO was created resizable -> ZX_ERR_UNAVAILABLE
    5. the rounded size is at most the maximum VMO size -> ZX_ERR_OUT_OF_RANGE
    """
    target = get_handle(thread, handle)
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_WRITE)
    if vmo.vmo.resizable and not target.rights & ZX_RIGHT_RESIZE:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"the handle to {vmo!r} lacks ZX_RIGHT_RESIZE")
    requested = to_u64(size, "size")
    rounded = (requested + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded > U64_MAX:
        raise ZxError(ZX_ERR_OUT_OF_RANGE, f"VMO size {requested:#x} rounds up past 2**64")
    # The VM object makes checks 4 and 5.
    vmo.vmo.set_size(rounded)


@syscall
def vmo_replace_as_executable(thread: Thread, handle: object, vmex: object) -> int:
    """zx_vmo_replace_as_executable: swap a VMO handle for one that also has EXECUTE.

    The source handle is closed whether or not the call succeeds. `vmex` must be
    ZX_HANDLE_INVALID, which relies on the caller's ZX_POL_AMBIENT_MARK_VMO_EXEC policy.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE (nothing is closed)
    2. `vmex` is ZX_HANDLE_INVALID -> ZX_ERR_BAD_HANDLE for a value that names no handle,
       ZX_ERR_WRONG_TYPE for any other object (the source is still closed)
    3. `handle` is a VMO -> ZX_ERR_WRONG_TYPE (the source is still closed)
    """
    table = thread.process.handle_table
    get_handle(thread, handle)
    source = table.detach(handle)  # type: ignore[arg-type]
    assert source is not None
    arena = thread.kernel.handle_arena

    try:
        if vmex != ZX_HANDLE_INVALID or not isinstance(vmex, int):
            # DIVERGENCE(zircon): pyzircon has no resource objects, so no handle can be
            # a ZX_RSRC_SYSTEM_VMEX_BASE resource; every valid handle is the wrong type.
            get_handle(thread, vmex)
            raise ZxError(ZX_ERR_WRONG_TYPE, f"vmex {vmex!r} is not a VMEX resource")
        # TODO: the caller's ZX_POL_AMBIENT_MARK_VMO_EXEC policy is checked here once job
        # policies exist; until then it always allows.
        if not isinstance(source.obj, VmoDispatcher):
            raise ZxError(
                ZX_ERR_WRONG_TYPE, f"handle {handle!r} is a {source.obj.type_name}, not a VMO"
            )
    except ZxError:
        arena.destroy(source)
        raise

    replacement = arena.allocate(source.obj, source.rights | ZX_RIGHT_EXECUTE)
    arena.destroy(source)
    return table.add(replacement)
