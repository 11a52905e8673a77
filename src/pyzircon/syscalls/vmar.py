"""VMAR syscalls: allocate, map, unmap, protect, destroy, and range operations.

Option words are split as Zircon's VMAR dispatcher does: permission bits, CAN_MAP_*
capabilities, placement (SPECIFIC, SPECIFIC_OVERWRITE, OFFSET_IS_UPPER_LIMIT) and the
alignment in bits 24..31. A bit the splitter does not recognize is ZX_ERR_INVALID_ARGS
in every call. Each call then rejects the recognized bits it does not take, at the point
in its checks where the kernel does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.rights import (
    ZX_DEFAULT_VMAR_RIGHTS,
    ZX_RIGHT_EXECUTE,
    ZX_RIGHT_MAP,
    ZX_RIGHT_OP_CHILDREN,
    ZX_RIGHT_READ,
    ZX_RIGHT_WRITE,
)
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.abi.vm import (
    ZX_VM_ALIGN_BASE,
    ZX_VM_ALIGN_MASK,
    ZX_VM_ALIGN_MAX_LOG2,
    ZX_VM_ALIGN_MIN_LOG2,
    ZX_VM_ALLOW_FAULTS,
    ZX_VM_CAN_MAP_EXECUTE,
    ZX_VM_CAN_MAP_MASK,
    ZX_VM_CAN_MAP_READ,
    ZX_VM_CAN_MAP_SPECIFIC,
    ZX_VM_CAN_MAP_WRITE,
    ZX_VM_COMPACT,
    ZX_VM_FAULT_BEYOND_STREAM_SIZE,
    ZX_VM_MAP_RANGE,
    ZX_VM_OFFSET_IS_UPPER_LIMIT,
    ZX_VM_PERM_EXECUTE,
    ZX_VM_PERM_MASK,
    ZX_VM_PERM_READ,
    ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
    ZX_VM_PERM_WRITE,
    ZX_VM_REQUIRE_NON_RESIZABLE,
    ZX_VM_SPECIFIC,
    ZX_VM_SPECIFIC_OVERWRITE,
    ZX_VMAR_OP_ALWAYS_NEED,
    ZX_VMAR_OP_COMMIT,
    ZX_VMAR_OP_DECOMMIT,
    ZX_VMAR_OP_DONT_NEED,
    ZX_VMAR_OP_MAP_RANGE,
    ZX_VMAR_OP_PREFETCH,
    ZX_VMAR_OP_ZERO,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.vmar import Placement, RangeOp
from pyzircon.syscalls.common import (
    U64_MAX,
    add_handle,
    get_handle,
    get_object,
    syscall,
    to_u32,
    to_u64,
)

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread

_PLACEMENT_BITS: Final = ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_OFFSET_IS_UPPER_LIMIT
# Every option bit below the alignment field that Zircon's flag splitter recognizes. Any other
# bit there is ZX_ERR_INVALID_ARGS, whichever call it reaches. ZX_VM_MAP_RANGE is not
# among them: zx_vmar_map removes it before splitting, so it is unknown to the others.
_KNOWN_BITS: Final = (
    ZX_VM_PERM_MASK
    | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED
    | ZX_VM_COMPACT
    | _PLACEMENT_BITS
    | ZX_VM_CAN_MAP_SPECIFIC
    | ZX_VM_CAN_MAP_MASK
    | ZX_VM_REQUIRE_NON_RESIZABLE
    | ZX_VM_ALLOW_FAULTS
    | ZX_VM_FAULT_BEYOND_STREAM_SIZE
)
# Known bits that a sub-region cannot take (Zircon's CreateSubVmar flag check).
_NOT_FOR_ALLOCATE: Final = (
    ZX_VM_SPECIFIC_OVERWRITE
    | ZX_VM_REQUIRE_NON_RESIZABLE
    | ZX_VM_ALLOW_FAULTS
    | ZX_VM_FAULT_BEYOND_STREAM_SIZE
)
# Known bits that a mapping cannot take once zx_vmar_map has consumed its own
# (Zircon's CreateVmMapping flag check).
_NOT_FOR_MAP: Final = ZX_VM_COMPACT | ZX_VM_CAN_MAP_SPECIFIC

# The handle right each permission or capability needs, on the VMAR and the VMO.
_RIGHT_FOR_PERM: Final = (
    (ZX_VM_PERM_READ, ZX_RIGHT_READ),
    (ZX_VM_PERM_WRITE, ZX_RIGHT_WRITE),
    (ZX_VM_PERM_EXECUTE, ZX_RIGHT_EXECUTE),
)
# zx_vmar_op_range operations and the VMAR handle right each needs (0: none, a hint).
_RANGE_OPS: Final = {
    ZX_VMAR_OP_COMMIT: (RangeOp.COMMIT, ZX_RIGHT_WRITE),
    ZX_VMAR_OP_DECOMMIT: (RangeOp.DECOMMIT, ZX_RIGHT_WRITE),
    ZX_VMAR_OP_MAP_RANGE: (RangeOp.MAP_RANGE, ZX_RIGHT_READ),
    ZX_VMAR_OP_ZERO: (RangeOp.ZERO, ZX_RIGHT_WRITE),
    ZX_VMAR_OP_DONT_NEED: (RangeOp.DONT_NEED, 0),
    ZX_VMAR_OP_ALWAYS_NEED: (RangeOp.ALWAYS_NEED, 0),
    ZX_VMAR_OP_PREFETCH: (RangeOp.PREFETCH, ZX_RIGHT_READ),
}
_RIGHT_FOR_CAN_MAP: Final = (
    (ZX_VM_CAN_MAP_READ, ZX_RIGHT_READ),
    (ZX_VM_CAN_MAP_WRITE, ZX_RIGHT_WRITE),
    (ZX_VM_CAN_MAP_EXECUTE, ZX_RIGHT_EXECUTE),
)


@dataclass(frozen=True, slots=True)
class VmOptions:
    """An option word split as Zircon's VMAR dispatcher splits it."""

    perms: int
    can_map: int
    placement: Placement
    align: int
    raw: int


def _rights_for(bits: int, table: tuple[tuple[int, int], ...]) -> int:
    rights = 0
    for bit, right in table:
        if bits & bit:
            rights |= right
    return rights


def _with_xom_read(options: int) -> int:
    """Add ZX_VM_PERM_READ for ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED.

    No architecture pyzircon models maps execute-only pages, so the flag always reads as
    ZX_VM_PERM_READ, as in the kernel on such hardware.
    """
    if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED:
        options |= ZX_VM_PERM_READ
    return options


def _split_options(options: int) -> VmOptions:
    """Split an option word. Raises ZX_ERR_INVALID_ARGS for unknown bits or a bad alignment."""
    low_bits = options & ~ZX_VM_ALIGN_MASK
    if low_bits & ~_KNOWN_BITS:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"options {low_bits & ~_KNOWN_BITS:#x} are not ZX_VM_* bits"
        )
    align_log2 = (options & ZX_VM_ALIGN_MASK) >> ZX_VM_ALIGN_BASE
    if align_log2 and not ZX_VM_ALIGN_MIN_LOG2 <= align_log2 <= ZX_VM_ALIGN_MAX_LOG2:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"alignment 2**{align_log2} is outside 2**{ZX_VM_ALIGN_MIN_LOG2}.."
            f"2**{ZX_VM_ALIGN_MAX_LOG2}",
        )
    align = max(1 << align_log2, PAGE_SIZE) if align_log2 else PAGE_SIZE

    specific = bool(options & (ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE))
    upper_limit = bool(options & ZX_VM_OFFSET_IS_UPPER_LIMIT)
    placement = Placement.ANYWHERE
    if specific and upper_limit:
        placement = Placement.SPECIFIC_WITH_UPPER_LIMIT
    elif options & ZX_VM_SPECIFIC_OVERWRITE:
        placement = Placement.SPECIFIC_OVERWRITE
    elif specific:
        placement = Placement.SPECIFIC
    elif upper_limit:
        placement = Placement.UPPER_LIMIT

    perms = options & ZX_VM_PERM_MASK
    can_map = options & (ZX_VM_CAN_MAP_MASK | ZX_VM_CAN_MAP_SPECIFIC)
    return VmOptions(perms, can_map, placement, align, options)


def _check_protection(perms: int) -> None:
    """Reject write or execute without read with ZX_ERR_INVALID_ARGS, as the kernel does."""
    if perms & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE) and not perms & ZX_VM_PERM_READ:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"permissions {perms:#x} ask for write or execute without ZX_VM_PERM_READ",
        )


def _page_aligned(value: int, what: str) -> None:
    if value % PAGE_SIZE:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"{what} {value:#x} is not page-aligned")


def _round_length(length: int, what: str) -> int:
    """Round a length up to pages; zero, or a length that rounds past 2**64, is invalid."""
    rounded = (length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if length == 0 or rounded > U64_MAX:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"{what} {length:#x} is zero or rounds past 2**64")
    return rounded


@syscall
def vmar_allocate(
    thread: Thread, parent_vmar: object, options: object, offset: object, size: object
) -> tuple[int, int]:
    """zx_vmar_allocate: create a sub-VMAR; return (its handle, its base address).

    The new handle has ZX_DEFAULT_VMAR_RIGHTS plus READ, WRITE and EXECUTE for each of
    CAN_MAP_READ, CAN_MAP_WRITE and CAN_MAP_EXECUTE in `options`.

    Checks, in order:
    1. `parent_vmar` is a VMAR handle with the rights the CAN_MAP_* bits need
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `options` has only ZX_VM_* bits and a valid alignment -> ZX_ERR_INVALID_ARGS
    3. `options` has no ZX_VM_PERM_* bit -> ZX_ERR_INVALID_ARGS
    4. `size` is a page multiple -> ZX_ERR_INVALID_ARGS
    5. `options` has no mapping-only bit (SPECIFIC_OVERWRITE, REQUIRE_NON_RESIZABLE,
       ALLOW_FAULTS, FAULT_BEYOND_STREAM_SIZE) -> ZX_ERR_INVALID_ARGS
    6. the parent is not destroyed -> ZX_ERR_BAD_STATE
    7. `size` is not zero -> ZX_ERR_INVALID_ARGS
    8. the capabilities are the parent's -> ZX_ERR_ACCESS_DENIED
    9. no SPECIFIC with OFFSET_IS_UPPER_LIMIT; `offset` is 0 without one of them, and
       page-aligned -> ZX_ERR_INVALID_ARGS
    10. SPECIFIC or OFFSET_IS_UPPER_LIMIT needs CAN_MAP_SPECIFIC on the parent
        -> ZX_ERR_ACCESS_DENIED
    11. the range fits in the parent, a specific address has the alignment
        -> ZX_ERR_INVALID_ARGS
    12. a specific range is free -> ZX_ERR_ALREADY_EXISTS; some range fits
        -> ZX_ERR_NO_RESOURCES

    ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED is accepted and ignored, as the kernel's flag
    splitter drops it.
    """
    # The rights come from the option word before the word itself is validated, as in
    # the kernel, so a bad handle is reported before bad options.
    needed = 0
    if isinstance(options, int) and not isinstance(options, bool):
        needed = _rights_for(options, _RIGHT_FOR_CAN_MAP)
    parent = get_object(thread, parent_vmar, VmarDispatcher, needed)
    parsed = _split_options(to_u32(options, "options"))
    if parsed.perms:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"zx.vmar_allocate takes no ZX_VM_PERM_* bits, got {parsed.perms:#x}",
        )
    start = to_u64(offset, "offset")
    length = to_u64(size, "size")
    _page_aligned(length, "size")
    if parsed.raw & _NOT_FOR_ALLOCATE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options {parsed.raw & _NOT_FOR_ALLOCATE:#x} apply to mappings, not sub-regions",
        )

    region = parent.vmar.allocate(start, length, parsed.can_map, parsed.placement, parsed.align)
    child = VmarDispatcher(thread.kernel, region)
    rights = ZX_DEFAULT_VMAR_RIGHTS | _rights_for(parsed.can_map, _RIGHT_FOR_CAN_MAP)
    try:
        value = add_handle(thread, child, rights)
    except ZxError:
        # Without a handle no caller could use or destroy the new region, so undo it.
        region.destroy()
        raise
    return value, region.base


@syscall
def vmar_map(
    thread: Thread,
    handle: object,
    options: object,
    vmar_offset: object,
    vmo: object,
    vmo_offset: object,
    len: object,  # noqa: A002 - the C parameter's name
) -> int:
    """zx_vmar_map: map `len` bytes of a VMO from `vmo_offset`; return the address.

    The mapping may never gain a permission that both handles' rights did not allow when
    it was made, even through a later zx.vmar_protect.

    Checks, in order:
    1. `handle` is a VMAR handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    2. `vmo` is a VMO handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    3. the VMO handle has ZX_RIGHT_MAP -> ZX_ERR_ACCESS_DENIED
    4. no write or execute without read -> ZX_ERR_INVALID_ARGS
    5. no ZX_VM_MAP_RANGE with ZX_VM_SPECIFIC_OVERWRITE -> ZX_ERR_INVALID_ARGS
    6. no ZX_VM_CAN_MAP_READ/WRITE/EXECUTE bit -> ZX_ERR_INVALID_ARGS
    7. both handles have READ, WRITE, EXECUTE for the permissions asked
       -> ZX_ERR_ACCESS_DENIED
    8. ZX_VM_FAULT_BEYOND_STREAM_SIZE needs ZX_VM_ALLOW_FAULTS -> ZX_ERR_INVALID_ARGS
       (with it: ZX_ERR_NOT_SUPPORTED, see below)
    9. `options` has only ZX_VM_* bits and a valid alignment -> ZX_ERR_INVALID_ARGS
    10. ZX_VM_REQUIRE_NON_RESIZABLE with a resizable VMO -> ZX_ERR_NOT_SUPPORTED
    11. no ZX_VM_COMPACT or ZX_VM_CAN_MAP_SPECIFIC -> ZX_ERR_INVALID_ARGS
    12. `vmo_offset` is page-aligned -> ZX_ERR_INVALID_ARGS
    13. `len` rounded up to pages, and `vmo_offset` plus that, fit in 64 bits
        -> ZX_ERR_OUT_OF_RANGE
    14. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    15. `len` is not zero -> ZX_ERR_INVALID_ARGS
    16. the VMAR can map these permissions (CAN_MAP_*) -> ZX_ERR_ACCESS_DENIED
    17. placement as for zx.vmar_allocate (checks 9 to 12 there)
    """
    vmar_handle = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    vmo_handle = get_handle(thread, vmo)
    vmo_object = get_object(thread, vmo, VmoDispatcher, 0)
    if not vmo_handle.rights & ZX_RIGHT_MAP:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"the handle to {vmo_object!r} lacks ZX_RIGHT_MAP")
    raw = _with_xom_read(to_u32(options, "options"))
    _check_protection(raw & ZX_VM_PERM_MASK)
    if raw & ZX_VM_MAP_RANGE and raw & ZX_VM_SPECIFIC_OVERWRITE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, "ZX_VM_MAP_RANGE cannot be combined with ZX_VM_SPECIFIC_OVERWRITE"
        )
    # MAP_RANGE only pre-populates page tables, which pyzircon does not model.
    raw &= ~ZX_VM_MAP_RANGE
    if raw & ZX_VM_CAN_MAP_MASK:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"zx.vmar_map takes no ZX_VM_CAN_MAP_* bits, got {raw & ZX_VM_CAN_MAP_MASK:#x}",
        )
    allowed_rights = vmar_handle.rights & vmo_handle.rights
    _check_map_rights(raw, vmar_handle, vmo_handle)
    if raw & ZX_VM_FAULT_BEYOND_STREAM_SIZE:
        if not raw & ZX_VM_ALLOW_FAULTS:
            raise ZxError(
                ZX_ERR_INVALID_ARGS, "ZX_VM_FAULT_BEYOND_STREAM_SIZE needs ZX_VM_ALLOW_FAULTS"
            )
        # DIVERGENCE(zircon): the kernel gives the VMO a stream size and maps it so that
        # pages past that size fault; pyzircon has no stream sizes yet.
        raise ZxError(ZX_ERR_NOT_SUPPORTED, "ZX_VM_FAULT_BEYOND_STREAM_SIZE is not supported")

    parsed = _split_options(raw)
    if raw & ZX_VM_REQUIRE_NON_RESIZABLE and vmo_object.vmo.resizable:
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            f"{vmo_object!r} is resizable and ZX_VM_REQUIRE_NON_RESIZABLE was given",
        )
    if raw & _NOT_FOR_MAP:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options {raw & _NOT_FOR_MAP:#x} apply to sub-regions, not mappings",
        )
    start = to_u64(vmar_offset, "vmar_offset")
    source_offset = to_u64(vmo_offset, "vmo_offset")
    length = to_u64(len, "len")
    _page_aligned(source_offset, "vmo_offset")
    rounded = (length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded > U64_MAX or source_offset + rounded > U64_MAX:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"vmo_offset {source_offset:#x} plus len {length:#x} runs past 2**64",
        )

    mapping = vmar.vmar.map(
        start,
        rounded,
        vmo_object.vmo,
        source_offset,
        parsed.perms,
        _can_map_from_rights(allowed_rights),
        parsed.placement,
        parsed.align,
    )
    return mapping.base


def _check_map_rights(options: int, vmar_handle: Handle, vmo_handle: Handle) -> None:
    perms = options & ZX_VM_PERM_MASK
    needed = _rights_for(perms, _RIGHT_FOR_PERM)
    for handle, what in ((vmar_handle, "VMAR"), (vmo_handle, "VMO")):
        missing = needed & ~handle.rights
        if missing:
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"the {what} handle lacks rights {missing:#x} for permissions {perms:#x}",
            )


def _can_map_from_rights(rights: int) -> int:
    can_map = 0
    for bit, right in _RIGHT_FOR_CAN_MAP:
        if rights & right:
            can_map |= bit
    return can_map


@syscall
def vmar_unmap(thread: Thread, handle: object, addr: object, len: object) -> None:  # noqa: A002
    """zx_vmar_unmap: unmap [addr, addr + len), destroying sub-VMARs it fully covers.

    Checks, in order:
    1. `handle` is a VMAR handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    2. `addr` is page-aligned, `len` non-zero and rounds up within 64 bits
       -> ZX_ERR_INVALID_ARGS
    3. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    4. the range lies in the VMAR, covers sub-VMARs only whole, and reaches into them
       only with ZX_RIGHT_OP_CHILDREN -> ZX_ERR_INVALID_ARGS
    """
    target = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    base = to_u64(addr, "addr")
    length = to_u64(len, "len")
    _page_aligned(base, "addr")
    rounded = _round_length(length, "len")
    vmar.vmar.unmap(base, rounded, op_children=bool(target.rights & ZX_RIGHT_OP_CHILDREN))


@syscall
def vmar_protect(
    thread: Thread,
    handle: object,
    options: object,
    addr: object,
    len: object,  # noqa: A002
) -> None:
    """zx_vmar_protect: change the permissions of every mapping in [addr, addr + len).

    Checks, in order:
    1. `handle` is a VMAR handle with the rights the new permissions need (READ also
       for ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED)
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. no write or execute without read -> ZX_ERR_INVALID_ARGS
    3. `addr` is page-aligned -> ZX_ERR_INVALID_ARGS
    4. `options` holds only permission bits, no alignment -> ZX_ERR_INVALID_ARGS
    5. `len` is non-zero and rounds up within 64 bits -> ZX_ERR_INVALID_ARGS
    6. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    7. the range lies in the VMAR -> ZX_ERR_INVALID_ARGS
    8. mapping by mapping in address order: no gap before it -> ZX_ERR_NOT_FOUND; it may
       have the permissions -> ZX_ERR_ACCESS_DENIED; in a sub-VMAR it needs
       ZX_RIGHT_OP_CHILDREN -> ZX_ERR_INVALID_ARGS, and only loses permissions
       -> ZX_ERR_ACCESS_DENIED
    9. no gap after the last mapping -> ZX_ERR_NOT_FOUND
    """
    raw = _with_xom_read(to_u32(options, "options"))
    target = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    needed = _rights_for(raw & ZX_VM_PERM_MASK, _RIGHT_FOR_PERM)
    missing = needed & ~target.rights
    if missing:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"the VMAR handle lacks rights {missing:#x} for permissions {raw & ZX_VM_PERM_MASK:#x}",
        )
    _check_protection(raw & ZX_VM_PERM_MASK)
    base = to_u64(addr, "addr")
    _page_aligned(base, "addr")
    parsed = _split_options(raw)
    other_bits = raw & ~(ZX_VM_PERM_MASK | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED)
    if other_bits:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"zx.vmar_protect takes only permissions, got {other_bits:#x}"
        )
    length = to_u64(len, "len")
    rounded = _round_length(length, "len")
    vmar.vmar.protect(
        base, rounded, parsed.perms, op_children=bool(target.rights & ZX_RIGHT_OP_CHILDREN)
    )


@syscall
def vmar_destroy(thread: Thread, handle: object) -> None:
    """zx_vmar_destroy: unmap everything in a VMAR and make it unusable.

    The handle stays valid; later calls through it fail with ZX_ERR_BAD_STATE.

    Checks, in order:
    1. `handle` is a VMAR handle with ZX_RIGHT_OP_CHILDREN
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. it is not a root VMAR -> ZX_ERR_NOT_SUPPORTED
    3. it is not destroyed already -> ZX_ERR_BAD_STATE
    """
    vmar = get_object(thread, handle, VmarDispatcher, ZX_RIGHT_OP_CHILDREN)
    if vmar.vmar.parent is None:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, "a root VMAR cannot be destroyed through its handle")
    if not vmar.vmar.is_alive:
        raise ZxError(ZX_ERR_BAD_STATE, f"{vmar!r} is already destroyed")
    vmar.vmar.destroy()


@syscall
def vmar_op_range(
    thread: Thread,
    handle: object,
    op: object,
    address: object,
    size: object,
    buffer: object = None,
) -> None:
    """zx_vmar_op_range: run operation `op` on the VMOs mapped in [address, address + size).

    Operations: ZX_VMAR_OP_COMMIT, ZX_VMAR_OP_DECOMMIT and ZX_VMAR_OP_ZERO act on the
    mapped VMOs as zx.vmo_op_range does; ZX_VMAR_OP_MAP_RANGE, ZX_VMAR_OP_PREFETCH,
    ZX_VMAR_OP_DONT_NEED and ZX_VMAR_OP_ALWAYS_NEED succeed without effect, as pyzircon
    has no page tables to fill and no pager. `buffer` stands for the C buffer and its
    size and must be None (a null pointer of size 0).

    Checks, in order:
    1. `handle` is a VMAR handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    2. `op` is a ZX_VMAR_OP_* operation -> ZX_ERR_INVALID_ARGS
    3. the handle has ZX_RIGHT_WRITE for COMMIT, DECOMMIT and ZERO, ZX_RIGHT_READ for
       MAP_RANGE and PREFETCH -> ZX_ERR_ACCESS_DENIED
    4. `buffer` is None -> ZX_ERR_INVALID_ARGS
    5. `address` is page-aligned and `size` non-zero once rounded up to pages
       -> ZX_ERR_INVALID_ARGS
    6. the range lies inside the VMAR -> ZX_ERR_OUT_OF_RANGE
    7. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    8. mapping by mapping in address order: no gap before it -> ZX_ERR_BAD_STATE; in a
       sub-VMAR it needs ZX_RIGHT_OP_CHILDREN, and COMMIT, DECOMMIT and PREFETCH cannot
       reach it at all -> ZX_ERR_INVALID_ARGS; COMMIT, DECOMMIT and ZERO need a mapping
       that may be writable, PREFETCH one that may be readable -> ZX_ERR_ACCESS_DENIED;
       then the VMO operation's own statuses
    9. no gap after the last mapping -> ZX_ERR_BAD_STATE
    """
    target = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    code = to_u32(op, "op")
    if code not in _RANGE_OPS:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"{code} is not a ZX_VMAR_OP_* operation")
    range_op, needed = _RANGE_OPS[code]
    if needed & ~target.rights:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"the VMAR handle lacks rights {needed:#x} for {range_op.value}",
        )
    if buffer is not None:
        raise ZxError(ZX_ERR_INVALID_ARGS, "zx.vmar_op_range takes no buffer; pass None")
    base = to_u64(address, "address")
    length = to_u64(size, "size")
    rounded = (length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded == 0 or rounded > U64_MAX or base % PAGE_SIZE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"range {base:#x}+{length:#x} must start page-aligned and not be empty",
        )
    vmar.vmar.range_op(
        range_op, base, rounded, op_children=bool(target.rights & ZX_RIGHT_OP_CHILDREN)
    )
