"""VMAR syscalls: allocate, map, unmap, protect, destroy.

Option words are split as Zircon's VMAR dispatcher does: permission bits, CAN_MAP_*
capabilities, placement (SPECIFIC, SPECIFIC_OVERWRITE, OFFSET_IS_UPPER_LIMIT) and the
alignment in bits 24..31. Each call accepts only its own kind of bits.
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
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.vmar import Placement
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
_ALLOCATE_BITS: Final = (
    ZX_VM_COMPACT | _PLACEMENT_BITS | ZX_VM_CAN_MAP_MASK | ZX_VM_CAN_MAP_SPECIFIC
)
_MAP_BITS: Final = (
    ZX_VM_PERM_MASK
    | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED
    | ZX_VM_COMPACT
    | _PLACEMENT_BITS
    | ZX_VM_MAP_RANGE
    | ZX_VM_REQUIRE_NON_RESIZABLE
    | ZX_VM_ALLOW_FAULTS
)
_PROTECT_BITS: Final = ZX_VM_PERM_MASK | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED

# Which handle right each permission or capability needs, on the VMAR and the VMO.
_RIGHT_FOR_PERM: Final = (
    (ZX_VM_PERM_READ, ZX_RIGHT_READ),
    (ZX_VM_PERM_WRITE, ZX_RIGHT_WRITE),
    (ZX_VM_PERM_EXECUTE, ZX_RIGHT_EXECUTE),
)
_RIGHT_FOR_CAN_MAP: Final = (
    (ZX_VM_CAN_MAP_READ, ZX_RIGHT_READ),
    (ZX_VM_CAN_MAP_WRITE, ZX_RIGHT_WRITE),
    (ZX_VM_CAN_MAP_EXECUTE, ZX_RIGHT_EXECUTE),
)


@dataclass(frozen=True, slots=True)
class VmOptions:
    """A parsed option word."""

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


def _parse_options(value: object, allowed: int, call: str) -> VmOptions:
    """Split an option word; ZX_ERR_INVALID_ARGS for bits `call` does not take."""
    options = to_u32(value, "options")
    low_bits = options & ~ZX_VM_ALIGN_MASK
    if low_bits & ~allowed:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options {low_bits & ~allowed:#x} are unknown or not accepted by zx.{call}",
        )
    align_log2 = (options & ZX_VM_ALIGN_MASK) >> ZX_VM_ALIGN_BASE
    if align_log2 and not ZX_VM_ALIGN_MIN_LOG2 <= align_log2 <= ZX_VM_ALIGN_MAX_LOG2:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"alignment 2**{align_log2} is outside 2**{ZX_VM_ALIGN_MIN_LOG2}.."
            f"2**{ZX_VM_ALIGN_MAX_LOG2}",
        )
    align = max(1 << align_log2, PAGE_SIZE) if align_log2 else PAGE_SIZE

    specific = bool(options & ZX_VM_SPECIFIC)
    overwrite = bool(options & ZX_VM_SPECIFIC_OVERWRITE)
    upper_limit = bool(options & ZX_VM_OFFSET_IS_UPPER_LIMIT)
    if upper_limit and (specific or overwrite):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            "ZX_VM_OFFSET_IS_UPPER_LIMIT cannot be combined with ZX_VM_SPECIFIC or "
            "ZX_VM_SPECIFIC_OVERWRITE",
        )
    placement = Placement.ANYWHERE
    if overwrite:
        placement = Placement.SPECIFIC_OVERWRITE
    elif specific:
        placement = Placement.SPECIFIC
    elif upper_limit:
        placement = Placement.UPPER_LIMIT

    perms = options & ZX_VM_PERM_MASK
    if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED:
        # No supported architecture model has execute-only mappings, so the flag adds READ.
        perms |= ZX_VM_PERM_READ
    can_map = options & (ZX_VM_CAN_MAP_MASK | ZX_VM_CAN_MAP_SPECIFIC)
    return VmOptions(perms, can_map, placement, align, options)


def _check_perms(perms: int) -> None:
    if perms & ZX_VM_PERM_WRITE and not perms & ZX_VM_PERM_READ:
        raise ZxError(ZX_ERR_INVALID_ARGS, "a writable mapping must also be readable")


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
    2. `options` holds only allocation bits (no ZX_VM_PERM_*), a valid alignment, and
       no SPECIFIC with OFFSET_IS_UPPER_LIMIT -> ZX_ERR_INVALID_ARGS
    3. the parent is not destroyed -> ZX_ERR_BAD_STATE
    4. `size` is a non-zero page multiple -> ZX_ERR_INVALID_ARGS
    5. the capabilities are the parent's, and SPECIFIC placement needs
       CAN_MAP_SPECIFIC on the parent -> ZX_ERR_ACCESS_DENIED
    6. `offset` is 0 without SPECIFIC or OFFSET_IS_UPPER_LIMIT, page-aligned, and the
       range fits in the parent -> ZX_ERR_INVALID_ARGS
    7. a specific range is free -> ZX_ERR_ALREADY_EXISTS; some range fits
       -> ZX_ERR_NO_RESOURCES
    """
    # The rights come from the option word before the word itself is validated, as in
    # the kernel, so a bad handle is reported before bad options.
    needed = 0
    if isinstance(options, int) and not isinstance(options, bool):
        needed = _rights_for(options, _RIGHT_FOR_CAN_MAP)
    parent = get_object(thread, parent_vmar, VmarDispatcher, needed)
    parsed = _parse_options(options, _ALLOCATE_BITS, "vmar_allocate")
    start = to_u64(offset, "offset")
    length = to_u64(size, "size")

    region = parent.vmar.allocate(start, length, parsed.can_map, parsed.placement, parsed.align)
    child = VmarDispatcher(thread.kernel, region)
    rights = ZX_DEFAULT_VMAR_RIGHTS | _rights_for(parsed.can_map, _RIGHT_FOR_CAN_MAP)
    return add_handle(thread, child, rights), region.base


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

    The mapping may never gain a permission the VMO handle's rights do not allow, even
    through a later zx.vmar_protect.

    Checks, in order:
    1. `handle` is a VMAR handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    2. `vmo` is a VMO handle -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE
    3. the VMO handle has ZX_RIGHT_MAP -> ZX_ERR_ACCESS_DENIED
    4. both handles have READ, WRITE, EXECUTE for the permissions asked
       -> ZX_ERR_ACCESS_DENIED
    5. ZX_VM_REQUIRE_NON_RESIZABLE with a resizable VMO -> ZX_ERR_NOT_SUPPORTED
    6. `options` holds only mapping bits, a valid alignment, no MAP_RANGE with
       SPECIFIC_OVERWRITE, no write without read -> ZX_ERR_INVALID_ARGS
    7. `vmo_offset` is page-aligned and `len` non-zero -> ZX_ERR_INVALID_ARGS
    8. `len` rounded up to pages, and `vmo_offset + len`, fit in 64 bits
       -> ZX_ERR_OUT_OF_RANGE
    9. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    10. the VMAR can map these permissions (CAN_MAP_*) and SPECIFIC placement
        -> ZX_ERR_ACCESS_DENIED
    11. placement as for zx.vmar_allocate -> ZX_ERR_INVALID_ARGS / ZX_ERR_ALREADY_EXISTS /
        ZX_ERR_NO_RESOURCES
    """
    vmar_handle = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    vmo_handle = get_handle(thread, vmo)
    vmo_object = get_object(thread, vmo, VmoDispatcher, 0)
    if not vmo_handle.rights & ZX_RIGHT_MAP:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"the handle to {vmo_object!r} lacks ZX_RIGHT_MAP")
    raw = to_u32(options, "options")
    _check_map_rights(raw, vmar_handle, vmo_handle)
    if raw & ZX_VM_REQUIRE_NON_RESIZABLE and vmo_object.vmo.resizable:
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            f"{vmo_object!r} is resizable and ZX_VM_REQUIRE_NON_RESIZABLE was given",
        )

    parsed = _parse_options(raw, _MAP_BITS, "vmar_map")
    if raw & ZX_VM_MAP_RANGE and raw & ZX_VM_SPECIFIC_OVERWRITE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, "ZX_VM_MAP_RANGE cannot be combined with ZX_VM_SPECIFIC_OVERWRITE"
        )
    _check_perms(parsed.perms)
    start = to_u64(vmar_offset, "vmar_offset")
    source_offset = to_u64(vmo_offset, "vmo_offset")
    length = to_u64(len, "len")
    _page_aligned(source_offset, "vmo_offset")
    if length == 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, "a mapping cannot be empty")
    rounded = (length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    if rounded > U64_MAX or source_offset + rounded > U64_MAX + 1:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"vmo_offset {source_offset:#x} plus len {length:#x} runs past 2**64",
        )

    can_map = _can_map_from_rights(vmo_handle.rights)
    mapping = vmar.vmar.map(
        start,
        rounded,
        vmo_object.vmo,
        source_offset,
        parsed.perms,
        can_map,
        parsed.placement,
        parsed.align,
    )
    return mapping.base


def _check_map_rights(options: int, vmar_handle: Handle, vmo_handle: Handle) -> None:
    perms = options & ZX_VM_PERM_MASK
    if options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED:
        perms |= ZX_VM_PERM_READ
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
    1. `handle` is a VMAR handle with the rights the new permissions need
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    2. `addr` is page-aligned -> ZX_ERR_INVALID_ARGS
    3. `options` holds only permission bits, no write without read -> ZX_ERR_INVALID_ARGS
    4. `len` is non-zero and rounds up within 64 bits -> ZX_ERR_INVALID_ARGS
    5. the VMAR is not destroyed -> ZX_ERR_BAD_STATE
    6. the range lies in the VMAR, and reaches into sub-VMARs only with
       ZX_RIGHT_OP_CHILDREN -> ZX_ERR_INVALID_ARGS
    7. every page of the range is mapped -> ZX_ERR_NOT_FOUND
    8. each mapping may have the permissions, and a parent only reduces a child's
       -> ZX_ERR_ACCESS_DENIED
    """
    raw = to_u32(options, "options")
    target = get_handle(thread, handle)
    vmar = get_object(thread, handle, VmarDispatcher, 0)
    needed = _rights_for(raw & ZX_VM_PERM_MASK, _RIGHT_FOR_PERM)
    missing = needed & ~target.rights
    if missing:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"the VMAR handle lacks rights {missing:#x} for permissions {raw & ZX_VM_PERM_MASK:#x}",
        )
    base = to_u64(addr, "addr")
    _page_aligned(base, "addr")
    parsed = _parse_options(raw, _PROTECT_BITS, "vmar_protect")
    _check_perms(parsed.perms)
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
