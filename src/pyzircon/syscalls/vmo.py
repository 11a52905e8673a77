"""VMO syscalls: create, read, write, size, children, range operations, cache policy.

Checks follow Zircon's `zircon/kernel/lib/syscalls/vmo.cc`, its VMO dispatcher
(`object/vm_object_dispatcher.cc`) and `vm/vm_object_paged.cc`, in that order: the
syscall layer's own argument checks, the handle lookup, then the object's checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.policy import ZX_POL_AMBIENT_MARK_VMO_EXEC, ZX_POL_NEW_VMO
from pyzircon.abi.rights import (
    ZX_RIGHT_DUPLICATE,
    ZX_RIGHT_EXECUTE,
    ZX_RIGHT_GET_PROPERTY,
    ZX_RIGHT_MAP,
    ZX_RIGHT_READ,
    ZX_RIGHT_RESIZE,
    ZX_RIGHT_SET_PROPERTY,
    ZX_RIGHT_WRITE,
)
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.abi.task import ZX_HANDLE_INVALID
from pyzircon.abi.vm import (
    ZX_CACHE_POLICY_CACHED,
    ZX_CACHE_POLICY_MASK,
    ZX_VMO_CHILD_NO_WRITE,
    ZX_VMO_CHILD_REFERENCE,
    ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SLICE,
    ZX_VMO_CHILD_SNAPSHOT,
    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    ZX_VMO_DISCARDABLE,
    ZX_VMO_OP_ALWAYS_NEED,
    ZX_VMO_OP_CACHE_CLEAN,
    ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
    ZX_VMO_OP_CACHE_INVALIDATE,
    ZX_VMO_OP_CACHE_SYNC,
    ZX_VMO_OP_COMMIT,
    ZX_VMO_OP_DECOMMIT,
    ZX_VMO_OP_DONT_NEED,
    ZX_VMO_OP_LOCK,
    ZX_VMO_OP_PREFETCH,
    ZX_VMO_OP_TRY_LOCK,
    ZX_VMO_OP_UNLOCK,
    ZX_VMO_OP_ZERO,
    ZX_VMO_RESIZABLE,
    ZX_VMO_UNBOUNDED,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.vmo import VMO_MAX_SIZE, VmObjectPaged
from pyzircon.syscalls.common import (
    U64_MAX,
    add_handle,
    enforce_policy,
    get_handle,
    get_object,
    syscall,
    to_bytes,
    to_u32,
    to_u64,
)

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

_CREATE_OPTIONS: Final = ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED
_SNAPSHOT_TYPES: Final = (
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_SNAPSHOT_MODIFIED
)
_CACHE_OP_RIGHTS: Final = {
    ZX_VMO_OP_CACHE_SYNC: ZX_RIGHT_READ,
    # A plain invalidate may drop dirty cache lines, which changes the VMO's contents.
    ZX_VMO_OP_CACHE_INVALIDATE: ZX_RIGHT_WRITE,
    ZX_VMO_OP_CACHE_CLEAN: ZX_RIGHT_READ,
    ZX_VMO_OP_CACHE_CLEAN_INVALIDATE: ZX_RIGHT_READ,
}
_LOCK_OPS: Final = (ZX_VMO_OP_LOCK, ZX_VMO_OP_TRY_LOCK, ZX_VMO_OP_UNLOCK)


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

    The handle has ZX_DEFAULT_VMO_RIGHTS, plus ZX_RIGHT_RESIZE with ZX_VMO_RESIZABLE. The
    content size (ZX_PROP_VMO_CONTENT_SIZE) is `size` itself.

    Checks, in order:
    1. the caller's ZX_POL_NEW_VMO policy allows it -> ZX_ERR_ACCESS_DENIED (or the
       policy's kill or exception)
    2. `options` has only known bits -> ZX_ERR_INVALID_ARGS
    3. `size` is a 64-bit count that rounds up to at most the maximum VMO size
       -> ZX_ERR_INVALID_ARGS (not a count) or ZX_ERR_OUT_OF_RANGE
    4. ZX_VMO_DISCARDABLE and ZX_VMO_UNBOUNDED -> ZX_ERR_NOT_SUPPORTED (see below)
    """
    enforce_policy(thread, ZX_POL_NEW_VMO)
    flags = to_u32(options, "options")
    if flags & ~_CREATE_OPTIONS:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"unknown VMO options {flags & ~_CREATE_OPTIONS:#x}")
    requested = to_u64(size, "size")
    rounded = round_vmo_size(requested)
    if flags & (ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED):
        # DIVERGENCE(zircon): discardable VMOs need the lock/unlock range operations and
        # unbounded VMOs a VMO of the maximum size; pyzircon supports neither yet.
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            "ZX_VMO_DISCARDABLE and ZX_VMO_UNBOUNDED are not supported by pyzircon",
        )

    vmo = VmoDispatcher.create(
        thread.kernel, rounded, resizable=bool(flags & ZX_VMO_RESIZABLE), content_size=requested
    )
    return add_handle(thread, vmo, vmo.rights_on_create)


def _check_cached(vmo: VmoDispatcher) -> None:
    if vmo.vmo.cache_policy != ZX_CACHE_POLICY_CACHED:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            f"{vmo!r} is not cached; the kernel reads and writes only cached VMOs",
        )


@syscall
def vmo_read(thread: Thread, handle: object, length: object, offset: object) -> bytes:
    """zx_vmo_read: return `length` bytes of the VMO from `offset`.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_READ
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `length` and `offset` are 64-bit counts -> ZX_ERR_INVALID_ARGS
    3. the VMO's cache policy is ZX_CACHE_POLICY_CACHED -> ZX_ERR_BAD_STATE
    4. [offset, offset + length) lies inside the VMO -> ZX_ERR_OUT_OF_RANGE
    """
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_READ)
    count = to_u64(length, "length")
    start = to_u64(offset, "offset")
    _check_cached(vmo)
    return vmo.vmo.read(start, count)


@syscall
def vmo_write(thread: Thread, handle: object, data: object, offset: object) -> None:
    """zx_vmo_write: store `data` into the VMO at `offset`.

    In a snapshot child or parent, the pages written stop being shared: the other side
    keeps the old bytes.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `data` is bytes-like and `offset` a 64-bit count -> ZX_ERR_INVALID_ARGS
    3. the VMO's cache policy is ZX_CACHE_POLICY_CACHED -> ZX_ERR_BAD_STATE
    4. [offset, offset + len(data)) lies inside the VMO -> ZX_ERR_OUT_OF_RANGE
    """
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_WRITE)
    buffer = to_bytes(data, "data")
    start = to_u64(offset, "offset")
    _check_cached(vmo)
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

    The content size becomes `size`, and the rest of its last page reads as zeros.

    Checks, in order:
    1. `handle` is a VMO handle with ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. a resizable VMO's handle has ZX_RIGHT_RESIZE -> ZX_ERR_ACCESS_DENIED (the kernel
       checks the right only for resizable VMOs)
    3. `size` is a 64-bit count that rounds up to whole pages within 64 bits
       -> ZX_ERR_INVALID_ARGS (not a count) or ZX_ERR_OUT_OF_RANGE
    4. the VMO was created resizable -> ZX_ERR_UNAVAILABLE
    5. the rounded size is at most the maximum VMO size -> ZX_ERR_OUT_OF_RANGE
    6. for a snapshot child, its offset from the start of the root VMO plus the rounded
       size fits in 64 bits -> ZX_ERR_INVALID_ARGS
    """
    target = get_handle(thread, handle)
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_WRITE)
    if vmo.vmo.resizable and not target.rights & ZX_RIGHT_RESIZE:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"the handle to {vmo!r} lacks ZX_RIGHT_RESIZE")
    requested = to_u64(size, "size")
    rounded = (requested + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded > U64_MAX:
        raise ZxError(ZX_ERR_OUT_OF_RANGE, f"VMO size {requested:#x} rounds up past 2**64")
    # The VM object makes checks 4 to 6.
    vmo.vmo.set_size(rounded)
    if requested < rounded:
        vmo.vmo.zero(requested, rounded - requested)
    vmo.content_size = requested


@syscall
def vmo_create_child(
    thread: Thread, handle: object, options: object, offset: object, size: object
) -> int:
    """zx_vmo_create_child: create a snapshot child or a slice of a VMO; return its handle.

    Kinds (exactly one): ZX_VMO_CHILD_SNAPSHOT, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ZX_VMO_CHILD_SNAPSHOT_MODIFIED (for these VMOs without a pager all three are full
    snapshots, as in Zircon) and ZX_VMO_CHILD_SLICE. Modifiers: ZX_VMO_CHILD_RESIZABLE
    (not for slices) and ZX_VMO_CHILD_NO_WRITE.

    The child's rights are the parent handle's less RESIZE, plus RESIZE when resizable,
    GET_PROPERTY and SET_PROPERTY. NO_WRITE removes WRITE; otherwise a snapshot gains
    WRITE and loses EXECUTE. The child gets the parent's name when the parent handle has
    ZX_RIGHT_GET_PROPERTY. Its content size is `size` itself.

    Checks, in order:
    1. `size` is a 64-bit count that rounds up to at most the maximum VMO size
       -> ZX_ERR_INVALID_ARGS (not a count) or ZX_ERR_OUT_OF_RANGE
    2. `options` is a 32-bit word without both NO_WRITE and RESIZABLE
       -> ZX_ERR_INVALID_ARGS
    3. `handle` is a VMO handle with ZX_RIGHT_DUPLICATE and ZX_RIGHT_READ
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    4. `offset` is a 64-bit count -> ZX_ERR_INVALID_ARGS
    5. a slice takes no option but NO_WRITE -> ZX_ERR_INVALID_ARGS; then `offset` is
       page-aligned -> ZX_ERR_INVALID_ARGS, the range lies inside the parent
       -> ZX_ERR_INVALID_ARGS, the parent is not resizable -> ZX_ERR_NOT_SUPPORTED, the
       parent is cached -> ZX_ERR_BAD_STATE
    6. ZX_VMO_CHILD_REFERENCE with no option but RESIZABLE -> ZX_ERR_INVALID_ARGS, then
       ZX_ERR_NOT_SUPPORTED (see below)
    7. exactly one snapshot kind and no unknown option -> ZX_ERR_INVALID_ARGS
    8. `offset` is page-aligned -> ZX_ERR_INVALID_ARGS; the parent is cached
       -> ZX_ERR_BAD_STATE; the range fits in 64 bits -> ZX_ERR_INVALID_ARGS; the parent
       is not a slice -> ZX_ERR_NOT_SUPPORTED
    """
    requested = to_u64(size, "size")
    rounded = round_vmo_size(requested)
    flags = to_u32(options, "options")
    if flags & ZX_VMO_CHILD_NO_WRITE and flags & ZX_VMO_CHILD_RESIZABLE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            "ZX_VMO_CHILD_NO_WRITE and ZX_VMO_CHILD_RESIZABLE cannot be combined: resizing "
            "needs ZX_RIGHT_WRITE",
        )
    no_write = bool(flags & ZX_VMO_CHILD_NO_WRITE)
    flags &= ~ZX_VMO_CHILD_NO_WRITE
    parent_handle = get_handle(thread, handle)
    parent = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ)
    start = to_u64(offset, "offset")

    child = _create_child_object(parent.vmo, flags, start, rounded)
    in_rights = parent_handle.rights
    if in_rights & ZX_RIGHT_GET_PROPERTY:
        child.name = parent.vmo.name
    immutable = no_write and bool(flags & ZX_VMO_CHILD_SNAPSHOT)
    dispatcher = VmoDispatcher(thread.kernel, child, content_size=requested, immutable=immutable)
    parent.child_created()

    rights = (in_rights & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY
    if flags & ZX_VMO_CHILD_RESIZABLE:
        rights |= ZX_RIGHT_RESIZE
    if no_write:
        rights &= ~ZX_RIGHT_WRITE
    elif flags & _SNAPSHOT_TYPES:
        rights = (rights & ~ZX_RIGHT_EXECUTE) | ZX_RIGHT_WRITE
    return add_handle(thread, dispatcher, rights)


def _create_child_object(vmo: VmObjectPaged, flags: int, offset: int, size: int) -> VmObjectPaged:
    """Validate the child options as Zircon's VMO dispatcher does and create the child."""
    if flags & ZX_VMO_CHILD_SLICE:
        other = flags & ~ZX_VMO_CHILD_SLICE
        if other:
            raise ZxError(
                ZX_ERR_INVALID_ARGS, f"a slice takes no other child options, got {other:#x}"
            )
        return vmo.create_slice(offset, size)

    if flags & ZX_VMO_CHILD_REFERENCE:
        other = flags & ~(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE)
        if other:
            raise ZxError(
                ZX_ERR_INVALID_ARGS, f"a reference takes no other child options, got {other:#x}"
            )
        # DIVERGENCE(zircon): Zircon creates a reference child, which aliases the whole
        # parent and follows its resizes; pyzircon does not model references yet.
        raise ZxError(ZX_ERR_NOT_SUPPORTED, "ZX_VMO_CHILD_REFERENCE is not supported by pyzircon")

    # The kinds are taken in Zircon's order of precedence; a second kind is left over and
    # rejected below like any unknown option.
    for kind in (
        ZX_VMO_CHILD_SNAPSHOT,
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
        ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    ):
        if flags & kind:
            flags &= ~kind
            break
    else:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            "options name no child kind: give one of ZX_VMO_CHILD_SNAPSHOT, "
            "ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, "
            "ZX_VMO_CHILD_SLICE",
        )
    resizable = bool(flags & ZX_VMO_CHILD_RESIZABLE)
    flags &= ~ZX_VMO_CHILD_RESIZABLE
    if flags:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"unknown or conflicting child options {flags:#x}")
    return vmo.create_snapshot(offset, size, resizable=resizable)


@syscall
def vmo_op_range(
    thread: Thread,
    handle: object,
    op: object,
    offset: object,
    size: object,
    buffer: object = None,
) -> None:
    """zx_vmo_op_range: run operation `op` on [offset, offset + size) of a VMO.

    `buffer` stands for the C buffer and its size; None is a null pointer. No operation
    pyzircon serves reads it. Operations and their checks, after the handle lookup
    (ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE) and the conversion of `op`, `offset` and
    `size` to a 32-bit word and 64-bit counts (ZX_ERR_INVALID_ARGS):

    - ZX_VMO_OP_COMMIT: needs ZX_RIGHT_WRITE (ZX_ERR_ACCESS_DENIED); the range rounded
      out to pages lies inside the VMO (ZX_ERR_OUT_OF_RANGE). Committed pages of a
      snapshot child receive its parent's bytes.
    - ZX_VMO_OP_DECOMMIT: needs ZX_RIGHT_WRITE; inside the VMO (ZX_ERR_OUT_OF_RANGE); the
      VMO shares no pages with a snapshot relative (ZX_ERR_NOT_SUPPORTED); page-aligned
      (ZX_ERR_INVALID_ARGS). The pages then read as zeros.
    - ZX_VMO_OP_ZERO: needs ZX_RIGHT_WRITE; inside the VMO (ZX_ERR_OUT_OF_RANGE). The
      range then reads as zeros; whole pages are freed.
    - ZX_VMO_OP_LOCK, ZX_VMO_OP_TRY_LOCK, ZX_VMO_OP_UNLOCK: need ZX_RIGHT_READ or
      ZX_RIGHT_WRITE; then ZX_ERR_NOT_SUPPORTED, as the VMO is not discardable.
    - ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_CLEAN, ZX_VMO_OP_CACHE_CLEAN_INVALIDATE
      (ZX_RIGHT_READ) and ZX_VMO_OP_CACHE_INVALIDATE (ZX_RIGHT_WRITE): a non-empty
      range (ZX_ERR_INVALID_ARGS) inside the VMO (ZX_ERR_OUT_OF_RANGE); no effect.
    - ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_ALWAYS_NEED: hints, ignored as Zircon ignores them
      for VMOs without a pager.
    - ZX_VMO_OP_PREFETCH: needs ZX_RIGHT_READ; the range rounded out to pages lies inside
      the VMO (ZX_ERR_OUT_OF_RANGE); no effect.
    - anything else, ZX_VMO_OP_LOOKUP included -> ZX_ERR_INVALID_ARGS.

    ZX_VMO_OP_CACHE_INVALIDATE needs the boot option `kernel.enable-debugging-syscalls`
    on Zircon; pyzircon behaves as a kernel with it (see zx.process_write_memory).
    """
    target = get_handle(thread, handle)
    vmo_object = get_object(thread, handle, VmoDispatcher, 0)
    operation = to_u32(op, "op")
    start = to_u64(offset, "offset")
    length = to_u64(size, "size")
    rights = target.rights
    vmo = vmo_object.vmo

    if operation in (ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO):
        _need_rights(rights, ZX_RIGHT_WRITE, vmo_object)
        if operation == ZX_VMO_OP_COMMIT:
            vmo.commit(start, length)
        elif operation == ZX_VMO_OP_DECOMMIT:
            vmo.decommit(start, length)
        else:
            vmo.zero(start, length)
        return
    if operation in _LOCK_OPS:
        if not rights & (ZX_RIGHT_READ | ZX_RIGHT_WRITE):
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"the handle to {vmo_object!r} needs ZX_RIGHT_READ or ZX_RIGHT_WRITE",
            )
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED, f"{vmo_object!r} is not discardable and cannot be locked"
        )
    if operation in _CACHE_OP_RIGHTS:
        _need_rights(rights, _CACHE_OP_RIGHTS[operation], vmo_object)
        vmo.check_cache_range(start, length)
        return
    if operation in (ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_ALWAYS_NEED):
        return
    if operation == ZX_VMO_OP_PREFETCH:
        _need_rights(rights, ZX_RIGHT_READ, vmo_object)
        vmo.check_page_range(start, length)
        return
    raise ZxError(ZX_ERR_INVALID_ARGS, f"{operation} is not a ZX_VMO_OP_* operation")


def _need_rights(rights: int, needed: int, vmo: VmoDispatcher) -> None:
    if needed & ~rights:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"the handle to {vmo!r} lacks rights {needed:#x}")


@syscall
def vmo_set_cache_policy(thread: Thread, handle: object, cache_policy: object) -> None:
    """zx_vmo_set_cache_policy: set the cache policy of the VMO's future mappings.

    An uncached VMO can still be mapped, but zx.vmo_read, zx.vmo_write and new children
    fail on it with ZX_ERR_BAD_STATE.

    Checks, in order:
    1. `cache_policy` is a 32-bit word within ZX_CACHE_POLICY_MASK -> ZX_ERR_INVALID_ARGS
    2. `handle` is a VMO handle with ZX_RIGHT_MAP
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    3. the VMO is not mapped -> ZX_ERR_BAD_STATE
    4. the VMO has no children and is not a child -> ZX_ERR_BAD_STATE
    """
    policy = to_u32(cache_policy, "cache_policy")
    if policy & ~ZX_CACHE_POLICY_MASK:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"cache policy {policy:#x} is not a ZX_CACHE_POLICY_*")
    vmo = get_object(thread, handle, VmoDispatcher, ZX_RIGHT_MAP)
    vmo.vmo.set_cache_policy(policy)


@syscall
def vmo_replace_as_executable(thread: Thread, handle: object, vmex: object) -> int:
    """zx_vmo_replace_as_executable: swap a VMO handle for one that also has EXECUTE.

    The source handle is closed whether or not the call succeeds, once it names a
    handle. `vmex` must be ZX_HANDLE_INVALID, which relies on the caller's
    ZX_POL_AMBIENT_MARK_VMO_EXEC policy.

    Checks, in order:
    1. `vmex` is ZX_HANDLE_INVALID: ZX_ERR_BAD_HANDLE for a value that names no handle,
       ZX_ERR_WRONG_TYPE for any other object; with ZX_HANDLE_INVALID, the caller's
       ZX_POL_AMBIENT_MARK_VMO_EXEC policy -> ZX_ERR_ACCESS_DENIED; the status is held
       until check 3
    2. `handle` is valid -> ZX_ERR_BAD_HANDLE (nothing is closed)
    3. `handle` is a VMO -> ZX_ERR_BAD_HANDLE (the source is closed); then the status
       of check 1
    """
    vmex_error: ZxError | None = None
    if vmex != ZX_HANDLE_INVALID or not isinstance(vmex, int) or isinstance(vmex, bool):
        # DIVERGENCE(zircon): pyzircon has no resource objects, so no handle can be a
        # ZX_RSRC_SYSTEM_VMEX_BASE resource; every valid handle is the wrong type.
        try:
            get_handle(thread, vmex)
            vmex_error = ZxError(ZX_ERR_WRONG_TYPE, f"vmex {vmex!r} is not a VMEX resource")
        except ZxError as error:
            vmex_error = error
    else:
        # With a ZX_HANDLE_INVALID vmex, the caller's job policy decides in place of a resource.
        try:
            enforce_policy(thread, ZX_POL_AMBIENT_MARK_VMO_EXEC)
        except ZxError as error:
            vmex_error = error

    table = thread.process.handle_table
    get_handle(thread, handle)
    source = table.detach(handle)  # type: ignore[arg-type]
    assert source is not None
    arena = thread.kernel.handle_arena
    if not isinstance(source.obj, VmoDispatcher):
        arena.destroy(source)
        raise ZxError(
            ZX_ERR_BAD_HANDLE, f"handle {handle!r} is a {source.obj.type_name}, not a VMO"
        )
    if vmex_error is not None:
        arena.destroy(source)
        raise vmex_error

    replacement = arena.allocate(source.obj, source.rights | ZX_RIGHT_EXECUTE)
    arena.destroy(source)
    return table.add(replacement)


# ZX_PROP_VMO_CONTENT_SIZE, served through zx.object_get_property and set_property.


def _as_vmo(obj: object) -> VmoDispatcher:
    if not isinstance(obj, VmoDispatcher):
        raise ZxError(ZX_ERR_WRONG_TYPE, "ZX_PROP_VMO_CONTENT_SIZE belongs to VMOs")
    return obj


def get_content_size(obj: object) -> int:
    """Return a VMO's content size; ZX_ERR_WRONG_TYPE for any other object."""
    return _as_vmo(obj).content_size


def set_content_size(rights: int, obj: object, value: object) -> None:
    """Set a VMO's content size and zero the VMO from there to its end.

    Checks, in order: the handle has ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED; the object
    is a VMO -> ZX_ERR_WRONG_TYPE; `value` is a 64-bit count -> ZX_ERR_INVALID_ARGS. A
    content size past the VMO's size is kept as it is, as Zircon keeps it.
    """
    if not rights & ZX_RIGHT_WRITE:
        raise ZxError(ZX_ERR_ACCESS_DENIED, "setting ZX_PROP_VMO_CONTENT_SIZE needs ZX_RIGHT_WRITE")
    vmo = _as_vmo(obj)
    content_size = to_u64(value, "content size")
    size = vmo.vmo.size
    if content_size < size:
        vmo.vmo.zero(content_size, size - content_size)
    vmo.content_size = content_size
