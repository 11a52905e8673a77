"""The VMAR tree: address regions and the mappings of VMOs inside them.

A `VmAddressRegion` covers [base, base + size) of one address space and holds its
children (sub-regions and mappings) sorted by base address, so that lookup, insertion
and removal take O(log n) comparisons. The rules follow Zircon's
`zircon/kernel/vm/vm_address_region.cc`:

- a child may not have capabilities (CAN_MAP_READ/WRITE/EXECUTE) its parent lacks, and
  SPECIFIC or OFFSET_IS_UPPER_LIMIT placement needs CAN_MAP_SPECIFIC on the parent;
- a specific range that overlaps a child is ZX_ERR_ALREADY_EXISTS unless
  SPECIFIC_OVERWRITE, which unmaps what is there first;
- unmapping splits mappings, spans several, and destroys the sub-regions it fully covers;
  a sub-region it covers only in part is ZX_ERR_INVALID_ARGS;
- protecting needs the whole range covered by mappings, or nothing changes.

This layer checks ranges, capabilities and states. Handle rights and option parsing are
the syscall layer's job, and this module imports neither.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Final

from sortedcontainers import SortedKeyList, SortedList

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_ALREADY_EXISTS,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NO_RESOURCES,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.abi.vm import (
    ZX_VM_CAN_MAP_EXECUTE,
    ZX_VM_CAN_MAP_MASK,
    ZX_VM_CAN_MAP_READ,
    ZX_VM_CAN_MAP_SPECIFIC,
    ZX_VM_CAN_MAP_WRITE,
    ZX_VM_PERM_EXECUTE,
    ZX_VM_PERM_MASK,
    ZX_VM_PERM_READ,
    ZX_VM_PERM_WRITE,
)
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.vm.aspace import VmAspace
    from pyzircon.kernel.vm.vmo import VmObjectPaged


class LifeState(enum.Enum):
    """Lifecycle of a region or mapping: it only ever goes from ALIVE to DEAD."""

    ALIVE = "alive"
    DEAD = "dead"


class RangeOp(enum.Enum):
    """An operation of zx_vmar_op_range on the VMOs mapped in a range."""

    COMMIT = "commit"
    DECOMMIT = "decommit"
    MAP_RANGE = "map_range"
    ZERO = "zero"
    DONT_NEED = "dont_need"
    ALWAYS_NEED = "always_need"
    PREFETCH = "prefetch"


# Operations that act as a protect adding permissions, which a parent region may not do
# to the mappings of its sub-regions, whatever its rights.
_OPS_NOT_THROUGH_PARENT: Final = (RangeOp.COMMIT, RangeOp.DECOMMIT, RangeOp.PREFETCH)
# Operations that change the VMO's contents, allowed only on mappings that may write.
_OPS_NEEDING_WRITE: Final = (RangeOp.COMMIT, RangeOp.DECOMMIT, RangeOp.ZERO)


class Placement(enum.Enum):
    """The rule that chooses a new child's address."""

    ANYWHERE = "anywhere"
    SPECIFIC = "specific"
    SPECIFIC_OVERWRITE = "specific_overwrite"
    UPPER_LIMIT = "upper_limit"
    # ZX_VM_SPECIFIC or ZX_VM_SPECIFIC_OVERWRITE together with ZX_VM_OFFSET_IS_UPPER_LIMIT.
    # Zircon rejects it with ZX_ERR_INVALID_ARGS only after the state, size and capability
    # checks, so the request reaches the region and fails there.
    SPECIFIC_WITH_UPPER_LIMIT = "specific_with_upper_limit"


# The capability a mapping permission needs, on the parent region and on the mapping.
_PERM_TO_CAN_MAP: Final = (
    (ZX_VM_PERM_READ, ZX_VM_CAN_MAP_READ),
    (ZX_VM_PERM_WRITE, ZX_VM_CAN_MAP_WRITE),
    (ZX_VM_PERM_EXECUTE, ZX_VM_CAN_MAP_EXECUTE),
)


def can_map_flags_for(perms: int) -> int:
    """Return the CAN_MAP_* capabilities that mapping permissions `perms` need."""
    needed = 0
    for perm, can_map in _PERM_TO_CAN_MAP:
        if perms & perm:
            needed |= can_map
    return needed


def _align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) & ~(alignment - 1)


class VmNode:
    """The part regions and mappings share: a range in a parent region."""

    def __init__(
        self, aspace: VmAspace, parent: VmAddressRegion | None, base: int, size: int
    ) -> None:
        self.aspace = aspace
        self.parent = parent
        self.base = base
        self.size = size
        self.state = LifeState.ALIVE

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def is_alive(self) -> bool:
        return self.state is LifeState.ALIVE

    def _set_dead(self) -> None:
        assert self.state is LifeState.ALIVE, f"{self!r} died twice"
        self.state = LifeState.DEAD


class VmMapping(VmNode):
    """A range of a VMO mapped at [base, base + size) with permissions `perms`.

    `can_map` holds the permissions the mapping may ever have: the intersection of its
    parent's capabilities and the rights of the VMO handle it was made with. Zircon keeps
    them on the mapping so that a later protect cannot exceed them, even after that
    handle is closed.
    """

    def __init__(
        self,
        aspace: VmAspace,
        parent: VmAddressRegion,
        base: int,
        size: int,
        vmo: VmObjectPaged,
        vmo_offset: int,
        perms: int,
        can_map: int,
    ) -> None:
        super().__init__(aspace, parent, base, size)
        self.vmo = vmo
        self.vmo_offset = vmo_offset
        self.perms = perms
        self.can_map = can_map
        vmo.add_mapping(self)

    def __repr__(self) -> str:
        return (
            f"<VmMapping [{self.base:#x}, {self.end:#x}) perms={self.perms:#x} "
            f"vmo={self.vmo.user_id} offset={self.vmo_offset:#x} {self.state.value}>"
        )

    def vmo_offset_of(self, address: int) -> int:
        """Return the VMO offset that `address` (inside this mapping) maps."""
        return self.vmo_offset + (address - self.base)

    def vmo_range_removed(self, offset: int, length: int) -> None:
        """Report the part of this mapping backed by a removed VMO range as unmapped."""
        start = max(offset, self.vmo_offset)
        stop = min(offset + length, self.vmo_offset + self.size)
        if start < stop:
            self.aspace.notify_unmap(self.base + (start - self.vmo_offset), stop - start)

    def vmo_buffer_replaced(self) -> None:
        """Report the whole mapping unmapped, so that engines drop pointers to old pages."""
        self.aspace.notify_unmap(self.base, self.size)

    def destroy(self) -> None:
        """Unmap the whole mapping and tell the address space's listeners."""
        if not self.is_alive:
            return
        self._set_dead()
        self.aspace.notify_unmap(self.base, self.size)
        self.vmo.remove_mapping(self)

    def retire(self) -> None:
        """End this mapping object after pieces that replace it have been created.

        Listeners hear nothing: the caller reports the range that actually changed.
        """
        self._set_dead()
        self.vmo.remove_mapping(self)


class VmAddressRegion(VmNode):
    """A VMAR: a range of an address space that contains sub-regions and mappings."""

    def __init__(
        self,
        aspace: VmAspace,
        parent: VmAddressRegion | None,
        base: int,
        size: int,
        flags: int,
        name: str,
    ) -> None:
        super().__init__(aspace, parent, base, size)
        # CAN_MAP_* capabilities (ZX_VM_CAN_MAP_* bit values).
        self.flags = flags
        self.name = name
        # Two sorted views of the children: their bases (for bisection) and the children
        # themselves, ordered by base. Sorted containers keep insertion in the middle at
        # O(log n), where a plain list moves half its entries.
        self._bases: SortedList = SortedList()
        self._children: SortedKeyList = SortedKeyList(key=attrgetter("base"))
        # Next-fit cursor: where the last placement in this region ended.
        self._cursor = base

    def __repr__(self) -> str:
        return (
            f"<VmAddressRegion {self.name!r} [{self.base:#x}, {self.end:#x}) "
            f"flags={self.flags:#x} children={len(self._children)} {self.state.value}>"
        )

    # Queries.

    @property
    def children(self) -> tuple[VmNode, ...]:
        """The direct children, sorted by base address."""
        return tuple(self._children)

    @property
    def num_children(self) -> int:
        return len(self._children)

    def child_at(self, address: int) -> VmNode | None:
        """Return the direct child that contains `address`, if any."""
        index = self._bases.bisect_right(address) - 1
        if index < 0:
            return None
        child = self._children[index]
        return child if address < child.end else None

    def contains_range(self, base: int, size: int) -> bool:
        return self.base <= base and size <= self.end - base

    def walk(self, depth: int = 0) -> Iterator[tuple[int, VmNode]]:
        """Yield (depth, node) for this region and everything below it, in address order."""
        yield depth, self
        for child in self._children:
            if isinstance(child, VmAddressRegion):
                yield from child.walk(depth + 1)
            else:
                yield depth + 1, child

    def _check_alive(self) -> None:
        if not self.is_alive:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} was destroyed")

    # Creating children.

    def allocate(
        self,
        offset: int,
        size: int,
        flags: int,
        placement: Placement,
        align: int,
        name: str = "useralloc",
    ) -> VmAddressRegion:
        """Create a sub-region of `size` bytes with CAN_MAP_* capabilities `flags`.

        Raises, in Zircon's order: ZX_ERR_INVALID_ARGS for a size that is not a page
        multiple, ZX_ERR_BAD_STATE on a destroyed region, ZX_ERR_INVALID_ARGS for a zero
        size, then the placement errors of `_place`.
        """
        if size % PAGE_SIZE:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"sub-region size {size:#x} is not a page multiple")
        self._check_alive()
        if size == 0:
            raise ZxError(ZX_ERR_INVALID_ARGS, "a sub-region cannot be empty")
        base = self._place(offset, size, flags, placement, align)
        region = VmAddressRegion(self.aspace, self, base, size, flags, name)
        self._insert(region)
        return region

    def map(
        self,
        offset: int,
        size: int,
        vmo: VmObjectPaged,
        vmo_offset: int,
        perms: int,
        can_map: int,
        placement: Placement,
        align: int,
    ) -> VmMapping:
        """Map `size` bytes of `vmo` from `vmo_offset` with permissions `perms`.

        `can_map` is the set of CAN_MAP_* capabilities that both of the caller's handles
        (VMAR and VMO) allow. The mapping keeps their intersection with this region's
        capabilities, and a later protect cannot go beyond it.
        Raises, in Zircon's order: ZX_ERR_BAD_STATE on a destroyed region,
        ZX_ERR_INVALID_ARGS for a zero size, ZX_ERR_ACCESS_DENIED for permissions this
        region cannot map, then the placement errors of `_place`.
        """
        self._check_alive()
        if size == 0:
            raise ZxError(ZX_ERR_INVALID_ARGS, "a mapping cannot be empty")
        needed = can_map_flags_for(perms)
        if needed & ~self.flags:
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"permissions {perms:#x} need capabilities {needed:#x}, but {self!r} "
                f"has {self.flags & ZX_VM_CAN_MAP_MASK:#x}",
            )
        base = self._place(offset, size, needed, placement, align)
        mapping = VmMapping(
            self.aspace,
            self,
            base,
            size,
            vmo,
            vmo_offset,
            perms,
            can_map & self.flags & ZX_VM_CAN_MAP_MASK,
        )
        self._insert(mapping)
        return mapping

    def _place(self, offset: int, size: int, flags: int, placement: Placement, align: int) -> int:
        """Choose the base address of a new child, checking the request as Zircon does.

        Raises, in this order:
        - ZX_ERR_ACCESS_DENIED for capabilities this region lacks;
        - ZX_ERR_INVALID_ARGS for SPECIFIC with UPPER_LIMIT, for a non-zero offset
          without either, or for an unaligned offset;
        - ZX_ERR_ACCESS_DENIED for SPECIFIC or UPPER_LIMIT without CAN_MAP_SPECIFIC;
        - ZX_ERR_INVALID_ARGS for a range that does not fit, or for a specific address
          off the alignment;
        - ZX_ERR_ALREADY_EXISTS for a taken specific range;
        - ZX_ERR_NO_RESOURCES when no free range fits.
        """
        if flags & ~self.flags & ZX_VM_CAN_MAP_MASK:
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"capabilities {flags & ZX_VM_CAN_MAP_MASK:#x} exceed those of {self!r}",
            )
        if placement is Placement.SPECIFIC_WITH_UPPER_LIMIT:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                "ZX_VM_OFFSET_IS_UPPER_LIMIT cannot be combined with ZX_VM_SPECIFIC or "
                "ZX_VM_SPECIFIC_OVERWRITE",
            )
        if placement is Placement.ANYWHERE and offset != 0:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"offset {offset:#x} needs ZX_VM_SPECIFIC or ZX_VM_OFFSET_IS_UPPER_LIMIT",
            )
        if offset % PAGE_SIZE:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"offset {offset:#x} is not page-aligned")
        if placement is not Placement.ANYWHERE and not self.flags & ZX_VM_CAN_MAP_SPECIFIC:
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"{self!r} lacks ZX_VM_CAN_MAP_SPECIFIC, so it cannot place at an offset",
            )

        if placement is Placement.UPPER_LIMIT:
            if offset > self.size or size > self.size or size > offset:
                raise ZxError(
                    ZX_ERR_INVALID_ARGS,
                    f"size {size:#x} does not fit below upper limit {offset:#x} in {self!r}",
                )
            return self._find_spot(size, align, self.base + offset)
        if offset >= self.size or size > self.size - offset:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"range at offset {offset:#x} of size {size:#x} does not fit in {self!r}",
            )
        if placement is Placement.ANYWHERE:
            return self._find_spot(size, align, self.end)

        base = self.base + offset
        if base % align:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"address {base:#x} is not aligned to {align:#x}")
        if not self._is_range_free(base, size):
            if placement is not Placement.SPECIFIC_OVERWRITE:
                raise ZxError(
                    ZX_ERR_ALREADY_EXISTS,
                    f"[{base:#x}, {base + size:#x}) overlaps an existing child of {self!r}",
                )
            self._overwrite(base, size)
        return base

    def _overwrite(self, base: int, size: int) -> None:
        """Clear [base, base + size) for SPECIFIC_OVERWRITE: only mappings may be there."""
        for child in self._overlapping(base, size):
            if isinstance(child, VmAddressRegion):
                raise ZxError(
                    ZX_ERR_INVALID_ARGS,
                    f"ZX_VM_SPECIFIC_OVERWRITE range overlaps the sub-region {child!r}",
                )
        self.unmap(base, size, op_children=False)

    def _is_range_free(self, base: int, size: int) -> bool:
        return next(self._overlapping(base, size), None) is None

    def _overlapping(self, base: int, size: int) -> Iterator[VmNode]:
        """Yield the direct children that overlap [base, base + size), in order."""
        end = base + size
        index = max(self._bases.bisect_right(base) - 1, 0)
        while index < len(self._children):
            child = self._children[index]
            if child.base >= end:
                return
            if child.end > base:
                yield child
            index += 1

    def _find_spot(self, size: int, align: int, limit: int) -> int:
        """Find a free, `align`-aligned range of `size` bytes that ends at or below `limit`.

        DIVERGENCE(zircon): Zircon places non-specific children at a random address
        (ASLR) unless ZX_VM_COMPACT. pyzircon uses next-fit from where the previous
        placement ended, wrapping once, so addresses are reproducible and a region with
        many children still places in O(log n) steps in the common case.
        """
        cursor = min(max(self._cursor, self.base), limit)
        found = self._first_fit(cursor, limit, size, align)
        if found is None:
            found = self._first_fit(self.base, limit, size, align)
        if found is None:
            raise ZxError(
                ZX_ERR_NO_RESOURCES,
                f"no free range of {size:#x} bytes aligned to {align:#x} in {self!r}",
            )
        self._cursor = found + size
        return found

    def _first_fit(self, start: int, limit: int, size: int, align: int) -> int | None:
        index = self._bases.bisect_right(start) - 1
        candidate = start
        if index >= 0:
            candidate = max(candidate, self._children[index].end)
        index += 1
        while True:
            candidate = _align_up(candidate, align)
            gap_end = self._children[index].base if index < len(self._children) else self.end
            gap_end = min(gap_end, limit)
            if candidate + size <= gap_end:
                return candidate
            if index >= len(self._children) or self._children[index].base >= limit:
                return None
            candidate = max(candidate, self._children[index].end)
            index += 1

    def _insert(self, child: VmNode) -> None:
        self._bases.add(child.base)
        self._children.add(child)

    def _remove(self, child: VmNode) -> None:
        index = self._bases.bisect_left(child.base)
        assert self._children[index] is child, f"{child!r} is not a child of {self!r}"
        del self._bases[index]
        del self._children[index]

    # Removing and changing children.

    def destroy(self) -> None:
        """Destroy this region and everything below it, and detach it from its parent."""
        if not self.is_alive:
            return
        self._destroy_subtree()
        if self.parent is not None and self.parent.is_alive:
            self.parent._remove(self)

    def _destroy_subtree(self) -> None:
        for child in self._children:
            if isinstance(child, VmAddressRegion):
                child._destroy_subtree()
            else:
                assert isinstance(child, VmMapping)
                child.destroy()
        self._bases.clear()
        self._children.clear()
        self._set_dead()

    def unmap(self, base: int, size: int, *, op_children: bool) -> None:
        """Unmap [base, base + size): split or remove mappings, destroy covered sub-regions.

        Raises ZX_ERR_BAD_STATE on a destroyed region and ZX_ERR_INVALID_ARGS for a range
        outside this region, for a sub-region covered only in part, and for a range that
        reaches into sub-regions without `op_children`.
        """
        self._check_alive()
        if not self.contains_range(base, size):
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"[{base:#x}, {base + size:#x}) is not inside {self!r}",
            )
        end = base + size
        affected = list(self._overlapping(base, size))
        for child in affected:
            if not isinstance(child, VmAddressRegion):
                continue
            if not op_children:
                raise ZxError(
                    ZX_ERR_INVALID_ARGS,
                    f"the range reaches into sub-region {child!r}; that needs ZX_RIGHT_OP_CHILDREN",
                )
            if child.base < base or child.end > end:
                raise ZxError(
                    ZX_ERR_INVALID_ARGS,
                    f"the range covers only part of sub-region {child!r}",
                )

        for child in affected:
            if isinstance(child, VmAddressRegion):
                child.destroy()
            else:
                assert isinstance(child, VmMapping)
                self._unmap_part(child, base, end)

    def _unmap_part(self, mapping: VmMapping, base: int, end: int) -> None:
        """Remove [base, end) from `mapping`, keeping the parts outside it as mappings."""
        cut_start = max(base, mapping.base)
        cut_end = min(end, mapping.end)
        if cut_start == mapping.base and cut_end == mapping.end:
            self._remove(mapping)
            mapping.destroy()
            return
        self._split(
            mapping,
            [(mapping.base, cut_start, mapping.perms), (cut_end, mapping.end, mapping.perms)],
        )
        self.aspace.notify_unmap(cut_start, cut_end - cut_start)

    def _split(self, mapping: VmMapping, pieces: list[tuple[int, int, int]]) -> None:
        """Replace `mapping` by one mapping per non-empty (start, stop, perms) piece.

        The pieces are created before the old mapping goes, so a VMO whose handles are
        all closed keeps its pages: the pieces still map them.
        """
        replacements = [
            self._clone_part(mapping, start, stop, perms)
            for start, stop, perms in pieces
            if start < stop
        ]
        self._remove(mapping)
        mapping.retire()
        for replacement in replacements:
            self._insert(replacement)

    def _clone_part(self, mapping: VmMapping, start: int, stop: int, perms: int) -> VmMapping:
        return VmMapping(
            self.aspace,
            self,
            start,
            stop - start,
            mapping.vmo,
            mapping.vmo_offset_of(start),
            perms,
            mapping.can_map,
        )

    def mappings_in(self, base: int, size: int) -> list[VmMapping]:
        """Return the mappings covering [base, base + size) at any depth, in order.

        Raises ZX_ERR_NOT_FOUND when any part of the range is not covered by a mapping.
        """
        found: list[VmMapping] = []
        position = base
        end = base + size
        for child in self._overlapping(base, size):
            if child.base > position:
                break
            if isinstance(child, VmAddressRegion):
                inner_end = min(end, child.end)
                found.extend(child.mappings_in(position, inner_end - position))
            else:
                assert isinstance(child, VmMapping)
                found.append(child)
            position = child.end
            if position >= end:
                return found
        raise ZxError(
            ZX_ERR_NOT_FOUND, f"address {position:#x} of the range has no mapping in {self!r}"
        )

    def protect(self, base: int, size: int, perms: int, *, op_children: bool) -> None:
        """Set permissions `perms` on every mapping in [base, base + size), or on none.

        Raises ZX_ERR_BAD_STATE on a destroyed region and ZX_ERR_INVALID_ARGS for a range
        outside this region. Then, as in Zircon, the mappings are checked one by one in
        address order, and the first failure wins:
        - ZX_ERR_NOT_FOUND for a gap before the mapping;
        - ZX_ERR_ACCESS_DENIED for permissions the mapping can never have;
        - ZX_ERR_INVALID_ARGS for a mapping in a sub-region without `op_children`;
        - ZX_ERR_ACCESS_DENIED for permissions that would rise inside a sub-region.
        A gap after the last mapping is ZX_ERR_NOT_FOUND too.
        """
        self._check_alive()
        if not self.contains_range(base, size):
            raise ZxError(
                ZX_ERR_INVALID_ARGS, f"[{base:#x}, {base + size:#x}) is not inside {self!r}"
            )
        end = base + size
        needed = can_map_flags_for(perms)
        mappings: list[VmMapping] = []
        expected = base
        for mapping in self._mappings_overlapping(base, end):
            if mapping.base > expected:
                raise ZxError(
                    ZX_ERR_NOT_FOUND,
                    f"address {expected:#x} of the range has no mapping in {self!r}",
                )
            if needed & ~mapping.can_map:
                raise ZxError(
                    ZX_ERR_ACCESS_DENIED,
                    f"{mapping!r} can never have permissions {perms:#x}",
                )
            if mapping.parent is not self:
                if not op_children:
                    raise ZxError(
                        ZX_ERR_INVALID_ARGS,
                        f"{mapping!r} lies in a sub-region; that needs ZX_RIGHT_OP_CHILDREN",
                    )
                if perms & ~mapping.perms & ZX_VM_PERM_MASK:
                    raise ZxError(
                        ZX_ERR_ACCESS_DENIED,
                        f"a parent region may only reduce the permissions of {mapping!r}",
                    )
            mappings.append(mapping)
            expected = mapping.end
        if expected < end:
            raise ZxError(
                ZX_ERR_NOT_FOUND, f"address {expected:#x} of the range has no mapping in {self!r}"
            )

        for mapping in mappings:
            parent = mapping.parent
            assert parent is not None
            parent._protect_part(mapping, max(base, mapping.base), min(end, mapping.end), perms)

    def range_op(self, op: RangeOp, base: int, size: int, *, op_children: bool) -> None:
        """Apply `op` to the VMOs mapped in [base, base + size), mapping by mapping.

        `size` is a non-zero page multiple and `base` page-aligned. Raises
        ZX_ERR_OUT_OF_RANGE for a range outside this region and ZX_ERR_BAD_STATE on a
        destroyed region. Then, as in Zircon, each mapping in address order is checked
        and operated on before the next, and the first failure wins (the mappings before
        it keep the effect):
        - ZX_ERR_BAD_STATE for a gap before the mapping;
        - ZX_ERR_INVALID_ARGS for a mapping in a sub-region when `op` is COMMIT, DECOMMIT
          or PREFETCH, or without `op_children`;
        - ZX_ERR_ACCESS_DENIED for COMMIT, DECOMMIT or ZERO on a mapping that can never
          be writable, or PREFETCH on one that can never be readable;
        - the VMO operation's own errors.
        A gap after the last mapping is ZX_ERR_BAD_STATE too.
        """
        if not self.contains_range(base, size):
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE, f"[{base:#x}, {base + size:#x}) is not inside {self!r}"
            )
        if not self.is_alive:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} was destroyed")
        end = base + size
        expected = base
        for mapping in self._mappings_overlapping(base, end):
            if mapping.base > expected:
                raise ZxError(
                    ZX_ERR_BAD_STATE,
                    f"address {expected:#x} of the range has no mapping in {self!r}",
                )
            if mapping.parent is not self and (op in _OPS_NOT_THROUGH_PARENT or not op_children):
                raise ZxError(
                    ZX_ERR_INVALID_ARGS,
                    f"{mapping!r} lies in a sub-region; {op.value} cannot reach it from {self!r}",
                )
            length = min(end, mapping.end) - expected
            _apply_range_op(op, mapping, mapping.vmo_offset_of(expected), length)
            expected += length
        if expected < end:
            raise ZxError(
                ZX_ERR_BAD_STATE, f"address {expected:#x} of the range has no mapping in {self!r}"
            )

    def _mappings_overlapping(self, base: int, end: int) -> Iterator[VmMapping]:
        """Yield the mappings at any depth that overlap [base, end), in address order."""
        for child in list(self._overlapping(base, end - base)):
            if isinstance(child, VmAddressRegion):
                yield from child._mappings_overlapping(max(base, child.base), min(end, child.end))
            else:
                assert isinstance(child, VmMapping)
                yield child

    def _protect_part(self, mapping: VmMapping, start: int, stop: int, perms: int) -> None:
        if perms == mapping.perms:
            return
        if start == mapping.base and stop == mapping.end:
            mapping.perms = perms
        else:
            self._split(
                mapping,
                [
                    (mapping.base, start, mapping.perms),
                    (start, stop, perms),
                    (stop, mapping.end, mapping.perms),
                ],
            )
        self.aspace.notify_protect(start, stop - start, perms)


def _apply_range_op(op: RangeOp, mapping: VmMapping, vmo_offset: int, length: int) -> None:
    if op in _OPS_NEEDING_WRITE and not mapping.can_map & ZX_VM_CAN_MAP_WRITE:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED, f"{mapping!r} can never be writable, so {op.value} is denied"
        )
    if op is RangeOp.PREFETCH and not mapping.can_map & ZX_VM_CAN_MAP_READ:
        raise ZxError(ZX_ERR_ACCESS_DENIED, f"{mapping!r} can never be readable")
    vmo = mapping.vmo
    if op is RangeOp.COMMIT:
        vmo.commit(vmo_offset, length)
    elif op is RangeOp.DECOMMIT:
        vmo.decommit(vmo_offset, length)
    elif op is RangeOp.ZERO:
        vmo.zero(vmo_offset, length)
    elif op is RangeOp.PREFETCH:
        vmo.check_page_range(vmo_offset, length)
    # MAP_RANGE only fills page tables, and the hints change nothing for VMOs without a
    # pager, so they succeed without effect.
