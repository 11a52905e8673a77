"""Object-level tests of the VMAR tree: placement, unmap, protect, destroy and lookups."""

import pytest

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_ALREADY_EXISTS,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NO_RESOURCES,
    ZX_ERR_NOT_FOUND,
)
from pyzircon.abi.vm import (
    ZX_VM_CAN_MAP_EXECUTE,
    ZX_VM_CAN_MAP_MASK,
    ZX_VM_CAN_MAP_READ,
    ZX_VM_CAN_MAP_SPECIFIC,
    ZX_VM_CAN_MAP_WRITE,
    ZX_VM_PERM_EXECUTE,
    ZX_VM_PERM_READ,
    ZX_VM_PERM_WRITE,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.aspace import AspaceKind, VmAspace
from pyzircon.kernel.vm.vmar import (
    LifeState,
    Placement,
    VmAddressRegion,
    VmMapping,
    can_map_flags_for,
)
from pyzircon.kernel.vm.vmo import VmObjectPaged

P = PAGE_SIZE
BASE = 0x10_0000
R = ZX_VM_PERM_READ
RW = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE
RWX = RW | ZX_VM_PERM_EXECUTE
CAN_RW = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE
CAN_ALL = ZX_VM_CAN_MAP_MASK | ZX_VM_CAN_MAP_SPECIFIC


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ZxError) as caught:
        call(*args, **kwargs)
    return caught.value.status


class Recorder:
    """An address-space listener that records what it hears."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_unmap(self, base: int, size: int) -> None:
        self.events.append(("unmap", base, size))

    def on_protect(self, base: int, size: int, perms: int) -> None:
        self.events.append(("protect", base, size, perms))

    def on_destroy(self) -> None:
        self.events.append(("destroy",))


@pytest.fixture
def aspace() -> VmAspace:
    return VmAspace(BASE, 256 * P, "test", AspaceKind.USER)


@pytest.fixture
def root(aspace: VmAspace) -> VmAddressRegion:
    return aspace.root_vmar


@pytest.fixture
def vmo() -> VmObjectPaged:
    return VmObjectPaged(16 * P, resizable=False)


def _map(
    region: VmAddressRegion,
    vmo: VmObjectPaged,
    size: int,
    *,
    offset: int = 0,
    placement: Placement = Placement.ANYWHERE,
    perms: int = RW,
    vmo_offset: int = 0,
    align: int = P,
    can_map: int = ZX_VM_CAN_MAP_MASK,
) -> VmMapping:
    return region.map(offset, size, vmo, vmo_offset, perms, can_map, placement, align)


def _alloc(
    region: VmAddressRegion,
    size: int,
    *,
    offset: int = 0,
    placement: Placement = Placement.ANYWHERE,
    flags: int = CAN_ALL,
    align: int = P,
) -> VmAddressRegion:
    return region.allocate(offset, size, flags, placement, align)


def _mappings(region: VmAddressRegion) -> list[tuple[int, int, int]]:
    """Return (base, size, perms) of every mapping under `region`, in address order."""
    return [
        (node.base, node.size, node.perms)
        for _depth, node in region.walk()
        if isinstance(node, VmMapping)
    ]


# Placement.


def test_first_placement_at_base(root, vmo):
    assert _map(root, vmo, P).base == BASE


def test_next_fit_follows_previous(root, vmo):
    first = _map(root, vmo, 2 * P)
    second = _map(root, vmo, P)
    assert second.base == first.end


def test_next_fit_skips_freed_hole(root, vmo):
    first = _map(root, vmo, P)
    second = _map(root, vmo, P)
    root.unmap(first.base, P, op_children=True)
    third = _map(root, vmo, P)
    assert third.base == second.end


def test_next_fit_wraps_to_hole(root, vmo):
    first = _map(root, vmo, P)
    _map(root, vmo, 255 * P)
    root.unmap(first.base, P, op_children=True)
    assert _map(root, vmo, P).base == BASE


def test_full_region_no_resources(root, vmo):
    _map(root, vmo, 256 * P)
    assert _status(_map, root, vmo, P) == ZX_ERR_NO_RESOURCES


def test_too_large_invalid_args(root, vmo):
    assert _status(_map, root, vmo, 257 * P) == ZX_ERR_INVALID_ARGS


def test_alignment_respected(root, vmo):
    _map(root, vmo, P)
    mapping = _map(root, vmo, P, align=16 * P)
    assert mapping.base % (16 * P) == 0
    assert mapping.base > BASE


def test_alignment_larger_than_region(root, vmo):
    assert _status(_map, root, vmo, P, align=1 << 32) == ZX_ERR_NO_RESOURCES


def test_upper_limit_respected(root, vmo):
    for _ in range(4):
        mapping = _map(root, vmo, P, offset=4 * P, placement=Placement.UPPER_LIMIT)
        assert mapping.end <= BASE + 4 * P


def test_upper_limit_exhausted(root, vmo):
    for _ in range(4):
        _map(root, vmo, P, offset=4 * P, placement=Placement.UPPER_LIMIT)
    status = _status(_map, root, vmo, P, offset=4 * P, placement=Placement.UPPER_LIMIT)
    assert status == ZX_ERR_NO_RESOURCES


def test_upper_limit_past_region(root, vmo):
    status = _status(_map, root, vmo, P, offset=257 * P, placement=Placement.UPPER_LIMIT)
    assert status == ZX_ERR_INVALID_ARGS


def test_upper_limit_below_size(root, vmo):
    status = _status(_map, root, vmo, 2 * P, offset=P, placement=Placement.UPPER_LIMIT)
    assert status == ZX_ERR_INVALID_ARGS


def test_upper_limit_whole_region(root, vmo):
    mapping = _map(root, vmo, 256 * P, offset=256 * P, placement=Placement.UPPER_LIMIT)
    assert mapping.base == BASE


def test_nonzero_offset_without_specific(root, vmo):
    assert _status(_map, root, vmo, P, offset=P) == ZX_ERR_INVALID_ARGS


def test_specific_unaligned_offset(root, vmo):
    status = _status(_map, root, vmo, P, offset=P - 1, placement=Placement.SPECIFIC)
    assert status == ZX_ERR_INVALID_ARGS


def test_specific_places_exactly(root, vmo):
    mapping = _map(root, vmo, P, offset=7 * P, placement=Placement.SPECIFIC)
    assert mapping.base == BASE + 7 * P


def test_specific_not_aligned_to_request(root, vmo):
    status = _status(_map, root, vmo, P, offset=P, placement=Placement.SPECIFIC, align=16 * P)
    assert status == ZX_ERR_INVALID_ARGS


def test_specific_overlap_exists(root, vmo):
    _map(root, vmo, 2 * P, offset=2 * P, placement=Placement.SPECIFIC)
    status = _status(_map, root, vmo, 2 * P, offset=3 * P, placement=Placement.SPECIFIC)
    assert status == ZX_ERR_ALREADY_EXISTS


def test_specific_overlap_region_exists(root, vmo):
    _alloc(root, 2 * P, offset=2 * P, placement=Placement.SPECIFIC)
    status = _status(_alloc, root, P, offset=3 * P, placement=Placement.SPECIFIC)
    assert status == ZX_ERR_ALREADY_EXISTS


def test_specific_past_end(root, vmo):
    status = _status(_map, root, vmo, 2 * P, offset=255 * P, placement=Placement.SPECIFIC)
    assert status == ZX_ERR_INVALID_ARGS


def test_overwrite_replaces_mapping(root, vmo):
    old = _map(root, vmo, 3 * P, offset=0, placement=Placement.SPECIFIC, perms=R)
    new = _map(root, vmo, P, offset=P, placement=Placement.SPECIFIC_OVERWRITE)
    assert old.state is LifeState.DEAD
    assert _mappings(root) == [(BASE, P, R), (BASE + P, P, RW), (BASE + 2 * P, P, R)]
    assert new.is_alive


def test_overwrite_over_region(root, vmo):
    _alloc(root, P, offset=P, placement=Placement.SPECIFIC)
    status = _status(_map, root, vmo, 2 * P, placement=Placement.SPECIFIC_OVERWRITE)
    assert status == ZX_ERR_INVALID_ARGS


def test_specific_with_upper_limit(root, vmo):
    status = _status(_map, root, vmo, P, offset=P, placement=Placement.SPECIFIC_WITH_UPPER_LIMIT)
    assert status == ZX_ERR_INVALID_ARGS


def test_specific_with_upper_limit_dead_region(root, vmo):
    child = _alloc(root, 4 * P)
    child.destroy()
    status = _status(_map, child, vmo, P, offset=P, placement=Placement.SPECIFIC_WITH_UPPER_LIMIT)
    assert status == ZX_ERR_BAD_STATE


def test_specific_needs_can_map_specific(root, vmo):
    child = _alloc(root, 4 * P, flags=CAN_RW)
    status = _status(_map, child, vmo, P, offset=P, placement=Placement.SPECIFIC)
    assert status == ZX_ERR_ACCESS_DENIED


def test_upper_limit_needs_can_map_specific(root, vmo):
    child = _alloc(root, 4 * P, flags=CAN_RW)
    status = _status(_map, child, vmo, P, offset=2 * P, placement=Placement.UPPER_LIMIT)
    assert status == ZX_ERR_ACCESS_DENIED


def test_map_needs_capability(root, vmo):
    child = _alloc(root, 4 * P, flags=ZX_VM_CAN_MAP_READ)
    assert _status(_map, child, vmo, P, perms=RW) == ZX_ERR_ACCESS_DENIED


def test_child_capabilities_bounded(root):
    child = _alloc(root, 4 * P, flags=ZX_VM_CAN_MAP_READ)
    assert _status(_alloc, child, P, flags=CAN_RW) == ZX_ERR_ACCESS_DENIED


def test_allocate_unaligned_size(root):
    assert _status(_alloc, root, P + 1) == ZX_ERR_INVALID_ARGS


def test_allocate_unaligned_size_dead_region(root):
    child = _alloc(root, 4 * P)
    child.destroy()
    assert _status(_alloc, child, P + 1) == ZX_ERR_INVALID_ARGS


def test_allocate_zero_size(root):
    assert _status(_alloc, root, 0) == ZX_ERR_INVALID_ARGS


def test_allocate_zero_size_dead_region(root):
    child = _alloc(root, 4 * P)
    child.destroy()
    assert _status(_alloc, child, 0) == ZX_ERR_BAD_STATE


def test_map_zero_size_dead_region(root, vmo):
    child = _alloc(root, 4 * P)
    child.destroy()
    assert _status(_map, child, vmo, 0) == ZX_ERR_BAD_STATE


def test_nested_allocation_inside(root):
    outer = _alloc(root, 10 * P)
    inner = _alloc(outer, P)
    assert outer.base <= inner.base
    assert inner.end <= outer.end


def test_mapping_keeps_intersection_of_capabilities(root, vmo):
    child = _alloc(root, 4 * P, flags=CAN_RW)
    mapping = _map(child, vmo, P, perms=R, can_map=ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_EXECUTE)
    assert mapping.can_map == ZX_VM_CAN_MAP_READ


def test_can_map_flags_for_perms():
    assert can_map_flags_for(RWX) == ZX_VM_CAN_MAP_MASK
    assert can_map_flags_for(ZX_VM_PERM_WRITE) == ZX_VM_CAN_MAP_WRITE
    assert can_map_flags_for(ZX_VM_PERM_EXECUTE) == ZX_VM_CAN_MAP_EXECUTE
    assert can_map_flags_for(0) == 0


# Unmap.


def test_unmap_prefix(root, vmo):
    mapping = _map(root, vmo, 5 * P)
    root.unmap(mapping.base, P, op_children=True)
    assert _mappings(root) == [(BASE + P, 4 * P, RW)]


def test_unmap_suffix(root, vmo):
    mapping = _map(root, vmo, 5 * P)
    root.unmap(mapping.base + 4 * P, P, op_children=True)
    assert _mappings(root) == [(BASE, 4 * P, RW)]


def test_unmap_middle(root, vmo):
    mapping = _map(root, vmo, 5 * P)
    root.unmap(mapping.base + P, 2 * P, op_children=True)
    assert _mappings(root) == [(BASE, P, RW), (BASE + 3 * P, 2 * P, RW)]


def test_unmap_middle_keeps_vmo_offsets(root, vmo):
    mapping = _map(root, vmo, 5 * P, vmo_offset=2 * P)
    root.unmap(mapping.base + P, 2 * P, op_children=True)
    offsets = [node.vmo_offset for node in root.children]
    assert offsets == [2 * P, 5 * P]


def test_unmap_sequence_counts_and_sizes(root, vmo):
    """Middle, prefix, suffix and rest of a 5-page mapping, as zCore's unit test does."""
    mapping = _map(root, vmo, 5 * P)
    base = mapping.base
    steps = [
        (base + 2 * P, P, 2, 4 * P),
        (base, P, 2, 3 * P),
        (base + 4 * P, P, 2, 2 * P),
        (base + P, P, 1, P),
    ]
    for address, size, count, used in steps:
        root.unmap(address, size, op_children=True)
        assert root.num_children == count
        assert sum(node.size for node in root.children) == used


def test_unmap_spanning_mappings(root, vmo):
    first = _map(root, vmo, 4 * P)
    second = _map(root, vmo, 4 * P)
    root.unmap(first.base + 2 * P, 3 * P, op_children=True)
    assert _mappings(root) == [(BASE, 2 * P, RW), (second.base + P, 3 * P, RW)]


def test_unmap_across_gap(root, vmo):
    first = _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    _map(root, vmo, P, offset=4 * P, placement=Placement.SPECIFIC)
    root.unmap(first.base, 5 * P, op_children=True)
    assert root.num_children == 0


def test_unmap_empty_range(root, vmo):
    root.unmap(BASE + 10 * P, P, op_children=True)
    assert root.num_children == 0


def test_unmap_outside_region(root):
    assert _status(root.unmap, BASE + 256 * P, P, op_children=True) == ZX_ERR_INVALID_ARGS


def test_unmap_destroys_covered_region(root, vmo):
    child = _alloc(root, 2 * P, offset=2 * P, placement=Placement.SPECIFIC)
    inner = _map(child, vmo, P)
    root.unmap(BASE, 8 * P, op_children=True)
    assert child.state is LifeState.DEAD
    assert inner.state is LifeState.DEAD
    assert root.num_children == 0


def test_unmap_partial_region(root, vmo):
    child = _alloc(root, 2 * P, offset=2 * P, placement=Placement.SPECIFIC)
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    status = _status(root.unmap, BASE, 3 * P, op_children=True)
    assert status == ZX_ERR_INVALID_ARGS
    assert child.is_alive
    assert root.num_children == 2


def test_unmap_region_needs_op_children(root):
    child = _alloc(root, 2 * P)
    status = _status(root.unmap, child.base, 2 * P, op_children=False)
    assert status == ZX_ERR_INVALID_ARGS
    assert child.is_alive


def test_unmap_through_child(root, vmo):
    child = _alloc(root, 2 * P, offset=0, placement=Placement.SPECIFIC)
    grandchild = _alloc(child, P, offset=0, placement=Placement.SPECIFIC)
    other = _alloc(child, P, offset=P, placement=Placement.SPECIFIC)
    child.unmap(child.base, P, op_children=True)
    assert grandchild.state is LifeState.DEAD
    assert other.is_alive


def test_unmap_dead_region(root):
    child = _alloc(root, 2 * P)
    child.destroy()
    assert _status(child.unmap, child.base, P, op_children=True) == ZX_ERR_BAD_STATE


# Protect.


def test_protect_whole(root, vmo):
    mapping = _map(root, vmo, 2 * P)
    root.protect(mapping.base, 2 * P, R, op_children=True)
    assert _mappings(root) == [(BASE, 2 * P, R)]


def test_protect_prefix_splits(root, vmo):
    mapping = _map(root, vmo, 3 * P)
    root.protect(mapping.base, P, R, op_children=True)
    assert _mappings(root) == [(BASE, P, R), (BASE + P, 2 * P, RW)]


def test_protect_middle_splits(root, vmo):
    mapping = _map(root, vmo, 3 * P)
    root.protect(mapping.base + P, P, R, op_children=True)
    assert _mappings(root) == [(BASE, P, RW), (BASE + P, P, R), (BASE + 2 * P, P, RW)]


def test_protect_suffix_splits(root, vmo):
    mapping = _map(root, vmo, 3 * P)
    root.protect(mapping.base + 2 * P, P, R, op_children=True)
    assert _mappings(root) == [(BASE, 2 * P, RW), (BASE + 2 * P, P, R)]


def test_protect_split_keeps_vmo_offsets(root, vmo):
    mapping = _map(root, vmo, 3 * P, vmo_offset=P)
    root.protect(mapping.base + P, P, R, op_children=True)
    offsets = [node.vmo_offset for node in root.children]
    assert offsets == [P, 2 * P, 3 * P]


def test_protect_across_mappings(root, vmo):
    first = _map(root, vmo, 2 * P)
    _map(root, vmo, 2 * P)
    root.protect(first.base + P, 2 * P, R, op_children=True)
    assert _mappings(root) == [
        (BASE, P, RW),
        (BASE + P, P, R),
        (BASE + 2 * P, P, R),
        (BASE + 3 * P, P, RW),
    ]


def test_protect_gap_changes_nothing(root, vmo):
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    _map(root, vmo, P, offset=2 * P, placement=Placement.SPECIFIC)
    status = _status(root.protect, BASE, 3 * P, R, op_children=True)
    assert status == ZX_ERR_NOT_FOUND
    assert _mappings(root) == [(BASE, P, RW), (BASE + 2 * P, P, RW)]


def test_protect_gap_at_end(root, vmo):
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    status = _status(root.protect, BASE, 2 * P, R, op_children=True)
    assert status == ZX_ERR_NOT_FOUND
    assert _mappings(root) == [(BASE, P, RW)]


def test_protect_empty_subregion(root, vmo):
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    _alloc(root, P, offset=P, placement=Placement.SPECIFIC)
    assert _status(root.protect, BASE, 2 * P, R, op_children=True) == ZX_ERR_NOT_FOUND


def test_protect_filled_subregion(root, vmo):
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    child = _alloc(root, P, offset=P, placement=Placement.SPECIFIC)
    _map(child, vmo, P)
    root.protect(BASE, 2 * P, R, op_children=True)
    assert _mappings(root) == [(BASE, P, R), (BASE + P, P, R)]


def test_protect_beyond_can_map_changes_nothing(root, vmo):
    _map(root, vmo, P)
    _map(root, vmo, P, perms=R, can_map=ZX_VM_CAN_MAP_READ)
    status = _status(root.protect, BASE, 2 * P, RW, op_children=True)
    assert status == ZX_ERR_ACCESS_DENIED
    assert _mappings(root) == [(BASE, P, RW), (BASE + P, P, R)]


def test_protect_denied_before_later_gap(root, vmo):
    """Zircon checks mapping by mapping in address order, so a denial before a gap wins."""
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC, perms=R, can_map=ZX_VM_CAN_MAP_READ)
    _map(root, vmo, P, offset=2 * P, placement=Placement.SPECIFIC)
    status = _status(root.protect, BASE, 3 * P, RW, op_children=True)
    assert status == ZX_ERR_ACCESS_DENIED


def test_protect_gap_before_later_denial(root, vmo):
    _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    _map(
        root,
        vmo,
        P,
        offset=2 * P,
        placement=Placement.SPECIFIC,
        perms=R,
        can_map=ZX_VM_CAN_MAP_READ,
    )
    status = _status(root.protect, BASE, 3 * P, RW, op_children=True)
    assert status == ZX_ERR_NOT_FOUND


def test_protect_child_needs_op_children(root, vmo):
    child = _alloc(root, P)
    _map(child, vmo, P)
    status = _status(root.protect, child.base, P, R, op_children=False)
    assert status == ZX_ERR_INVALID_ARGS


def test_protect_parent_only_reduces(root, vmo):
    child = _alloc(root, P)
    mapping = _map(child, vmo, P)
    root.protect(child.base, P, R, op_children=True)
    status = _status(root.protect, child.base, P, RW, op_children=True)
    assert status == ZX_ERR_ACCESS_DENIED
    child.protect(child.base, P, RW, op_children=True)
    assert child.children[0].perms == RW
    assert mapping.state is LifeState.ALIVE


def test_protect_outside_region(root):
    assert _status(root.protect, BASE - P, P, R, op_children=True) == ZX_ERR_INVALID_ARGS


def test_protect_dead_region(root):
    child = _alloc(root, P)
    child.destroy()
    assert _status(child.protect, child.base, P, R, op_children=True) == ZX_ERR_BAD_STATE


def test_protect_same_perms_keeps_mapping(root, vmo):
    mapping = _map(root, vmo, 3 * P)
    root.protect(mapping.base + P, P, RW, op_children=True)
    assert root.children == (mapping,)


# Destroy.


def test_destroy_subtree(root, vmo):
    child = _alloc(root, 4 * P)
    grandchild = _alloc(child, 2 * P)
    mapping = _map(grandchild, vmo, P)
    direct = _map(child, vmo, P)
    child.destroy()
    for node in (child, grandchild, mapping, direct):
        assert node.state is LifeState.DEAD
    assert root.num_children == 0
    assert vmo.num_mappings == 0


def test_destroy_keeps_siblings(root):
    first = _alloc(root, 2 * P)
    second = _alloc(root, P)
    first.destroy()
    assert second.is_alive
    assert root.children == (second,)


def test_destroy_frees_range(root):
    child = _alloc(root, 256 * P)
    child.destroy()
    assert _alloc(root, 256 * P).base == BASE


def test_destroy_twice(root):
    child = _alloc(root, P)
    child.destroy()
    child.destroy()
    assert child.state is LifeState.DEAD


def test_dead_region_rejects_allocate(root):
    child = _alloc(root, 4 * P)
    child.destroy()
    assert _status(_alloc, child, P) == ZX_ERR_BAD_STATE


def test_dead_region_rejects_map(root, vmo):
    child = _alloc(root, 4 * P)
    child.destroy()
    assert _status(_map, child, vmo, P) == ZX_ERR_BAD_STATE


# Lookups.


def test_find_mapping_nested(aspace, root, vmo):
    child = _alloc(root, 4 * P)
    grandchild = _alloc(child, 2 * P)
    mapping = _map(grandchild, vmo, P)
    assert aspace.find_mapping(mapping.base + 5) is mapping


def test_find_mapping_in_region_gap(aspace, root):
    child = _alloc(root, 4 * P)
    assert aspace.find_mapping(child.base) is None


def test_find_mapping_unmapped(aspace, root, vmo):
    mapping = _map(root, vmo, P)
    assert aspace.find_mapping(mapping.end) is None


def test_find_mapping_outside(aspace):
    assert aspace.find_mapping(BASE - 1) is None


def test_child_at_end_exclusive(root):
    child = _alloc(root, P)
    assert root.child_at(child.base) is child
    assert root.child_at(child.end) is None


def test_walk_depths(root, vmo):
    child = _alloc(root, 4 * P)
    mapping = _map(child, vmo, P)
    assert list(root.walk()) == [(0, root), (1, child), (2, mapping)]


def test_mappings_in_nested(root, vmo):
    first = _map(root, vmo, P, offset=0, placement=Placement.SPECIFIC)
    child = _alloc(root, P, offset=P, placement=Placement.SPECIFIC)
    inner = _map(child, vmo, P)
    assert root.mappings_in(BASE, 2 * P) == [first, inner]


# Listener notifications.


def test_unmap_notifies_cut_range(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    mapping = _map(root, vmo, 3 * P)
    root.unmap(mapping.base + P, P, op_children=True)
    assert recorder.events == [("unmap", BASE + P, P)]


def test_unmap_spanning_notifies_each_piece(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    first = _map(root, vmo, 2 * P)
    second = _map(root, vmo, 2 * P)
    root.unmap(first.base + P, 2 * P, op_children=True)
    assert recorder.events == [("unmap", first.base + P, P), ("unmap", second.base, P)]


def test_protect_notifies_protected_range(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    mapping = _map(root, vmo, 3 * P)
    root.protect(mapping.base + P, P, R, op_children=True)
    assert recorder.events == [("protect", BASE + P, P, R)]


def test_protect_whole_notifies(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    mapping = _map(root, vmo, 2 * P)
    root.protect(mapping.base, 2 * P, R, op_children=True)
    assert recorder.events == [("protect", BASE, 2 * P, R)]


def test_failed_protect_notifies_nothing(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    _map(root, vmo, P)
    with pytest.raises(ZxError):
        root.protect(BASE, 2 * P, R, op_children=True)
    assert recorder.events == []


def test_destroy_notifies_each_mapping(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    child = _alloc(root, 4 * P)
    first = _map(child, vmo, P)
    second = _map(child, vmo, P)
    child.destroy()
    assert recorder.events == [("unmap", first.base, P), ("unmap", second.base, P)]


def test_shrink_notifies_cut_pages(aspace, root):
    recorder = Recorder()
    aspace.add_listener(recorder)
    resizable = VmObjectPaged(4 * P, resizable=True)
    mapping = _map(root, resizable, 4 * P)
    resizable.set_size(P)
    assert recorder.events == [("unmap", mapping.base + P, 3 * P)]


def test_grow_past_capacity_notifies_whole_mapping(aspace, root):
    recorder = Recorder()
    aspace.add_listener(recorder)
    resizable = VmObjectPaged(P, resizable=True)
    mapping = _map(root, resizable, 2 * P)
    resizable.set_size(8 * P)
    assert recorder.events == [("unmap", mapping.base, 2 * P)]


def test_removed_listener_hears_nothing(aspace, root, vmo):
    recorder = Recorder()
    aspace.add_listener(recorder)
    aspace.remove_listener(recorder)
    mapping = _map(root, vmo, P)
    root.unmap(mapping.base, P, op_children=True)
    assert recorder.events == []
