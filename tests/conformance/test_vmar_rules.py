"""Conformance: VMAR allocate, map, unmap, protect and destroy rules of Zircon's core tests.

Each test is one case (or one row of a case) of Zircon's VMAR core tests, restated. The
tests work in the root VMAR of a fresh process and see whether a page is mapped with
zx.process_read_memory: mapped reads succeed, unmapped ones fail with ZX_ERR_NOT_FOUND.
"""

from dataclasses import dataclass

import pytest

from memory_support import in_guest
from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
GIB = 1 << 30
U64_MAX = (1 << 64) - 1
R = zx.ZX_VM_PERM_READ
W = zx.ZX_VM_PERM_WRITE
X = zx.ZX_VM_PERM_EXECUTE
RW = R | W
RWX = R | W | X
CAN_R = zx.ZX_VM_CAN_MAP_READ
CAN_RW = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE
CAN_RWX = CAN_RW | zx.ZX_VM_CAN_MAP_EXECUTE
SPECIFIC = zx.ZX_VM_SPECIFIC
CAN_SPECIFIC = zx.ZX_VM_CAN_MAP_SPECIFIC
ROOT_RIGHTS = zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE


@dataclass
class Space:
    """A fresh, unstarted process, its root VMAR and a 4-page VMO."""

    process: int
    root: int
    base: int
    vmo: int

    def mapped(self, address: int) -> bool:
        try:
            zx.process_read_memory(self.process, address, 1)
        except zx.ZxError as error:
            assert error.status == zx.ZX_ERR_NOT_FOUND, error
            return False
        return True

    def pages(self, address: int, count: int) -> list[bool]:
        return [self.mapped(address + i * P) for i in range(count)]

    def mappings(self, vmar: int) -> list[tuple[int, int, int]]:
        """Return (base, size, mmu_flags) of each mapping under `vmar`."""
        return [
            (entry.base, entry.size, entry.u.mmu_flags)
            for entry in zx.object_get_info(vmar, zx.ZX_INFO_VMAR_MAPS)
            if entry.type == zx.ZX_INFO_MAPS_TYPE_MAPPING
        ]


def _space() -> Space:
    process, root = zx.process_create(zx.job_default(), "test-proc-vmar", 0)
    base = zx.object_get_info(root, zx.ZX_INFO_VMAR).base
    return Space(process, root, base, zx.vmo_create(4 * P, 0))


def _base(vmar: int) -> int:
    return zx.object_get_info(vmar, zx.ZX_INFO_VMAR).base


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


# D1: destroy needs ZX_RIGHT_OP_CHILDREN; a destroyed VMAR rejects allocation.


@in_guest
def test_d1_destroy_rules():
    space = _space()
    sub, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 1024 * P)
    dup = zx.handle_duplicate(sub, zx.ZX_DEFAULT_VMAR_RIGHTS & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_destroy, dup)
    zx.vmar_destroy(sub)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, sub, CAN_RW, 0, 10 * P)


# D2: nested allocation stays inside the parent.


@in_guest
def test_d2_nested_allocation():
    space = _space()
    outer, outer_addr = zx.vmar_allocate(space.root, CAN_RW, 0, 10 * P)
    _inner, inner_addr = zx.vmar_allocate(outer, CAN_RW, 0, P)
    assert outer_addr <= inner_addr
    assert inner_addr + P <= outer_addr + 10 * P


@in_guest
def test_d2_map_in_compact_region():
    space = _space()
    region, region_addr = zx.vmar_allocate(space.root, CAN_RW | zx.ZX_VM_COMPACT, 0, 10 * P)
    for _ in range(2):
        address = zx.vmar_map(region, RW, 0, space.vmo, 0, P)
        assert region_addr <= address
        assert address + P <= region_addr + 10 * P


# D3: ZX_VM_OFFSET_IS_UPPER_LIMIT.


@in_guest
def test_d3_upper_limit():
    space = _space()
    region_size = 100 * P
    vmo = zx.vmo_create(region_size, 0)
    region, region_addr = zx.vmar_allocate(space.root, CAN_RW | CAN_SPECIFIC, 0, region_size)
    options = RW | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT

    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, options, region_size + P, vmo, 0, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, options, P, vmo, 0, 2 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, options, P, vmo, 0, region_size + P)

    address = zx.vmar_map(region, options, region_size, vmo, 0, region_size)
    assert address == region_addr
    zx.vmar_unmap(region, address, region_size)

    limit = region_size // 2
    for _ in range(50):
        address = zx.vmar_map(region, options, limit, vmo, 0, P)
        assert region_addr <= address
        assert address + P <= region_addr + limit
    expect_status(zx.ZX_ERR_NO_RESOURCES, zx.vmar_map, region, options, limit, vmo, 0, P)

    address = zx.vmar_map(region, RW, 0, vmo, 0, P)
    assert region_addr <= address
    assert address + P <= region_addr + region_size


# D5: low addresses are usable.


@in_guest
def test_d5_low_address():
    space = _space()
    assert space.base <= 0x200000
    address = zx.vmar_map(space.root, 0, 0x200000 - space.base, space.vmo, 0, P)
    assert address == 0x200000


# D6: destroying a VMAR destroys its subtree; handles stay valid but dead.


@in_guest
def test_d6_destroyed_subtree():
    space = _space()
    vmo = zx.vmo_create(P, 0)
    region0, _addr0 = zx.vmar_allocate(space.root, CAN_RW, 0, 10 * P)
    map0 = zx.vmar_map(region0, RW, 0, vmo, 0, P)
    region1, _addr1 = zx.vmar_allocate(region0, CAN_RW, 0, P)
    map1 = zx.vmar_map(region1, RW, 0, vmo, 0, P)

    assert zx.process_write_memory(space.process, map0, b"\x05") == 1
    assert zx.process_read_memory(space.process, map1, 1) == b"\x05"

    zx.vmar_destroy(region0)
    for region, address in ((region0, map0), (region1, map1)):
        assert zx.object_get_info(region, zx.ZX_INFO_HANDLE_VALID) is None
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, space.process, address, 1)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_destroy, region)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, region, CAN_RW, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_unmap, region, address, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_protect, region, R, address, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, region, R, 0, vmo, 0, P)

    zx.vmar_allocate(space.root, CAN_RW, 0, P)


# D7: address reuse after destroying a sub-VMAR.


@in_guest
def test_d7_map_over_destroyed():
    space = _space()
    vmo = zx.vmo_create(P, 0)
    vmo2 = zx.vmo_create(P, 0)
    region0, addr0 = zx.vmar_allocate(space.root, CAN_RW | CAN_SPECIFIC, 0, 10 * P)
    region1, _addr1 = zx.vmar_allocate(region0, CAN_RW, 0, P)
    address = zx.vmar_map(region1, RW, 0, vmo, 0, P)
    zx.vmo_write(vmo, b"\x05", 0)
    assert zx.process_read_memory(space.process, address, 1) == b"\x05"

    zx.vmar_destroy(region1)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, space.process, address, 1)

    new_address = zx.vmar_map(region0, RW | SPECIFIC, address - addr0, vmo2, 0, P)
    assert new_address == address
    assert zx.process_read_memory(space.process, address, 1) == b"\x00"


# D8: alignment flags.


ALIGNMENTS = [(log2 << zx.ZX_VM_ALIGN_BASE, log2) for log2 in range(10, 33)]


def _aligned_region(space: Space, size: int, alignment: int, *, misalign: int = 0) -> int:
    """Allocate a `size`-byte region whose base is `alignment`-aligned, plus `misalign`."""
    start = -(-space.base // alignment) * alignment + misalign
    region, address = zx.vmar_allocate(
        space.root, CAN_RW | CAN_SPECIFIC | SPECIFIC, start - space.base, size
    )
    assert address == start
    return region


@in_guest
def test_d8_map_alignment():
    space = _space()
    vmo = zx.vmo_create(2 * P, 0)
    region = _aligned_region(space, 8 * GIB, 512 << 20)

    options = RW | zx.ZX_VM_ALIGN_64KB | SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, options, 4096, vmo, 0, 2 * P)
    address = zx.vmar_map(region, options, 64 * 1024, vmo, 0, 2 * P)
    zx.vmar_unmap(region, address, 2 * P)

    for log2 in (9, 33):
        bad = RW | (log2 << zx.ZX_VM_ALIGN_BASE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, bad, 0, vmo, 0, 2 * P)

    for flag, zero_bits in ALIGNMENTS:
        address = zx.vmar_map(region, RW | flag, 0, vmo, 0, 2 * P)
        assert _trailing_zeros(address) >= zero_bits
        zx.vmar_unmap(region, address, 2 * P)


@in_guest
def test_d8_allocate_alignment():
    space = _space()
    size = 16 * P
    region = _aligned_region(space, 8 * GIB, 512 << 20)

    options = CAN_RW | zx.ZX_VM_ALIGN_64KB | SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, options, 4096, size)
    child, _addr = zx.vmar_allocate(region, options, 64 * 1024, size)
    zx.vmar_destroy(child)

    for log2 in (9, 33):
        bad = CAN_RW | (log2 << zx.ZX_VM_ALIGN_BASE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, bad, 0, size)

    for flag, zero_bits in ALIGNMENTS:
        child, address = zx.vmar_allocate(region, CAN_RW | flag, 0, size)
        assert _trailing_zeros(address) >= zero_bits
        zx.vmar_destroy(child)


@in_guest
def test_d8_alignment_beyond_region():
    space = _space()
    vmo = zx.vmo_create(2 * P, 0)
    # Aligned to 512 MiB but not to 4 GiB, so no 4 GiB-aligned address lies inside.
    region = _aligned_region(space, 512 << 20, 4 * GIB, misalign=512 << 20)
    for flag, zero_bits in ALIGNMENTS:
        try:
            address = zx.vmar_map(region, RW | flag, 0, vmo, 0, 2 * P)
        except zx.ZxError as error:
            assert 1 << zero_bits > 512 << 20, error
            assert error.status == zx.ZX_ERR_NO_RESOURCES
            continue
        assert _trailing_zeros(address) >= zero_bits
        zx.vmar_unmap(region, address, 2 * P)
    expect_status(zx.ZX_ERR_NO_RESOURCES, zx.vmar_map, region, R | zx.ZX_VM_ALIGN_4GB, 0, vmo, 0, P)


# D9: MAP_RANGE with a VMO offset.


@in_guest
def test_d9_map_range_offset():
    space = _space()
    address = zx.vmar_map(space.root, zx.ZX_VM_MAP_RANGE, 0, space.vmo, 0x2000, 0x1000)
    assert space.mapped(address)


# D11: bad-argument matrix.


@in_guest
def test_d11_row1_wrong_types():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_destroy, space.vmo)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_allocate, space.vmo, CAN_RW, 0, 10 * P)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_map, space.vmo, RW, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_map, space.root, RW, 0, space.process, 0, 4 * P)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_unmap, space.vmo, 0, 0)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_protect, space.vmo, R, 0, 0)


@in_guest
def test_d11_row2_offset_without_specific():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, P, 10 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW, P, space.vmo, 0, 4 * P)


@in_guest
def test_d11_row3_specific_with_upper_limit():
    space = _space()
    for specific in (SPECIFIC, zx.ZX_VM_SPECIFIC_OVERWRITE):
        placement = specific | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW | placement, P, 10 * P
        )
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW | placement, P, space.vmo, 0, 4 * P
        )


@in_guest
def test_d11_row4_flags_of_the_wrong_kind():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_R | R, P, 10 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, R | CAN_RW, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_R | (1 << 31), 0, 4 * P)
    expect_status(
        zx.ZX_ERR_INVALID_ARGS,
        zx.vmar_map,
        space.root,
        RW | zx.ZX_VM_CAN_MAP_EXECUTE,
        0,
        space.vmo,
        0,
        4 * P,
    )
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW | (1 << 31), 0, space.vmo, 0, 4 * P
    )
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, 4 * P)
    expect_status(
        zx.ZX_ERR_INVALID_ARGS,
        zx.vmar_protect,
        space.root,
        R | zx.ZX_VM_CAN_MAP_WRITE,
        address,
        4 * P,
    )
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R | (1 << 31), address, 4 * P
    )
    zx.vmar_unmap(space.root, address, 4 * P)


@in_guest
def test_d11_row5_map_range_with_overwrite():
    space = _space()
    options = R | zx.ZX_VM_SPECIFIC_OVERWRITE | zx.ZX_VM_MAP_RANGE
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, P, space.vmo, 0, 4 * P)


@in_guest
def test_d11_row6_unaligned_arguments():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, P - 1)
    expect_status(
        zx.ZX_ERR_INVALID_ARGS,
        zx.vmar_allocate,
        space.root,
        CAN_RW | CAN_SPECIFIC | SPECIFIC,
        P - 1,
        P,
    )
    for map_range in (0, zx.ZX_VM_MAP_RANGE):
        specific = RW | SPECIFIC | map_range
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, specific, P - 1, space.vmo, 0, 4 * P
        )
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, specific, P, space.vmo, P - 1, 3 * P
        )
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmar_map,
            space.root,
            RW | map_range,
            0,
            space.vmo,
            P - 1,
            3 * P,
        )


@in_guest
def test_d11_row7_unaligned_addr():
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, address + 1, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, address + 1, P)
    zx.vmar_unmap(space.root, address, 4 * P)


@in_guest
def test_d11_row8_vmo_offset_overflow():
    space = _space()
    expect_status(
        zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_map, space.root, RW, 0, space.vmo, (1 << 64) - P, P
    )
    address = zx.vmar_map(space.root, RW, 0, space.vmo, (1 << 64) - 2 * P, P)
    zx.vmar_unmap(space.root, address, P)


@in_guest
def test_d11_row9_zero_sizes():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, 0)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW, 0, space.vmo, 0, 0)
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, address, 0)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, address, 0)
    zx.vmar_unmap(space.root, address, 4 * P)


@in_guest
def test_d11_row10_size_rounding_to_zero():
    space = _space()
    bad_size = U64_MAX - P + 2
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, bad_size)
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_map, space.root, RW, 0, space.vmo, 0, bad_size)
    expect_status(
        zx.ZX_ERR_OUT_OF_RANGE,
        zx.vmar_map,
        space.root,
        R | zx.ZX_VM_MAP_RANGE,
        0,
        space.vmo,
        0,
        bad_size,
    )
    address = zx.vmar_map(space.root, RW | SPECIFIC, P, space.vmo, 0, 4 * P)
    for start in (address - P, address, address + P):
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, start, bad_size)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, start, bad_size)
    zx.vmar_unmap(space.root, address, 4 * P)


# D13: VMAR handle rights bound mapping permissions.


@pytest.mark.parametrize(
    ("rights", "perms"),
    [(zx.ZX_RIGHT_READ, R), (zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE, RW)],
)
def test_d13_vmar_rights_drop(rights, perms):
    def body():
        space = _space()
        handle = zx.handle_duplicate(space.root, rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, handle, RWX, 0, space.vmo, 0, P)
        address = zx.vmar_map(handle, perms, 0, space.vmo, 0, P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, handle, RWX, address, P)
        zx.vmar_unmap(handle, address, P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, handle, CAN_RWX, 0, 10 * P)

    run_guest(body)


@in_guest
def test_d13_vmar_rights_drop_read_execute():
    space = _space()
    executable = zx.vmo_replace_as_executable(space.vmo, zx.ZX_HANDLE_INVALID)
    handle = zx.handle_duplicate(space.root, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_EXECUTE)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, handle, RWX, 0, executable, 0, P)
    address = zx.vmar_map(handle, R | X, 0, executable, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, handle, RWX, address, P)
    zx.vmar_unmap(handle, address, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, handle, CAN_RWX, 0, 10 * P)


# D14: VMO handle rights at map time cap later protect().


@pytest.mark.parametrize(
    ("rights", "perms"),
    [(zx.ZX_RIGHT_READ, R), (zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE, RW)],
)
def test_d14_vmo_rights_cap_protect(rights, perms):
    def body():
        space = _space()
        vmo = zx.vmo_create(P, 0)
        handle = zx.handle_duplicate(vmo, rights | zx.ZX_RIGHT_MAP)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, RWX, 0, handle, 0, P)
        address = zx.vmar_map(space.root, perms, 0, handle, 0, P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RWX, address, P)
        zx.handle_close(handle)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RWX, address, P)
        zx.vmar_unmap(space.root, address, P)

    run_guest(body)


@in_guest
def test_d14_read_only_vmo_stays_read_only():
    space = _space()
    handle = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    address = zx.vmar_map(space.root, R, 0, handle, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, P)
    zx.handle_close(handle)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, P)


@in_guest
def test_d14_vmo_rights_read_execute():
    space = _space()
    executable = zx.vmo_replace_as_executable(zx.vmo_create(P, 0), zx.ZX_HANDLE_INVALID)
    rights = zx.ZX_RIGHT_READ | zx.ZX_RIGHT_EXECUTE | zx.ZX_RIGHT_MAP
    handle = zx.handle_duplicate(executable, rights)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, RWX, 0, handle, 0, P)
    address = zx.vmar_map(space.root, R | X, 0, handle, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RWX, address, P)
    zx.handle_close(handle)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RWX, address, P)
    zx.vmar_unmap(space.root, address, P)


# D15: protect through parent vs. child VMAR; OP_CHILDREN.


@in_guest
def test_d15_protect_subregion():
    space = _space()
    vmar, addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    child, child_addr = zx.vmar_allocate(vmar, CAN_RW, 0, P)
    map_addr = zx.vmar_map(child, RW, 0, space.vmo, 0, P)
    assert addr == child_addr
    assert addr == map_addr

    zx.vmar_protect(vmar, R, addr, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, vmar, RW, addr, P)
    zx.vmar_protect(child, RW, child_addr, P)

    rights = zx.object_get_info(vmar, zx.ZX_INFO_HANDLE_BASIC).rights
    dup = zx.handle_duplicate(vmar, rights & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, dup, R, addr, P)


# D16: children cannot exceed parent capabilities.


@pytest.mark.parametrize(
    ("excluded_can_map", "excluded_perm"),
    [
        (zx.ZX_VM_CAN_MAP_READ, R),
        (zx.ZX_VM_CAN_MAP_WRITE, W),
        (zx.ZX_VM_CAN_MAP_EXECUTE, X),
    ],
)
def test_d16_nested_region_perms(excluded_can_map, excluded_perm):
    def body():
        space = _space()
        region, _addr = zx.vmar_allocate(space.root, CAN_RWX ^ excluded_can_map, 0, 10 * P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, region, CAN_RWX, 0, P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, region, RWX, 0, space.vmo, 0, P)
        # R|W|X minus WRITE keeps EXECUTE, which needs an executable VMO. That mapping is
        # covered by test_d16_map_read_execute_without_can_map_write.
        if excluded_perm == X:
            address = zx.vmar_map(region, RWX ^ excluded_perm, 0, space.vmo, 0, P)
            zx.vmar_unmap(region, address, P)
        child, _child_addr = zx.vmar_allocate(region, CAN_RWX ^ excluded_can_map, 0, P)
        zx.vmar_destroy(child)
        zx.vmar_destroy(region)

    run_guest(body)


@in_guest
def test_d16_map_read_execute_without_can_map_write():
    space = _space()
    executable = zx.vmo_replace_as_executable(space.vmo, zx.ZX_HANDLE_INVALID)
    region, _addr = zx.vmar_allocate(space.root, CAN_RWX ^ zx.ZX_VM_CAN_MAP_WRITE, 0, 10 * P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, region, RWX, 0, executable, 0, P)
    address = zx.vmar_map(region, R | X, 0, executable, 0, P)
    zx.vmar_unmap(region, address, P)


@in_guest
def test_d16_specific_needs_can_map_specific():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RWX, 0, 10 * P)
    for placement in (SPECIFIC, zx.ZX_VM_SPECIFIC_OVERWRITE):
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, region, placement | R, P, space.vmo, 0, P
        )


# D18: unmapping a child's mapping through the parent needs OP_CHILDREN.


@in_guest
def test_d18_unmap_needs_op_children():
    space = _space()
    vmar, addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    child, _child_addr = zx.vmar_allocate(vmar, CAN_RW, 0, P)
    zx.vmar_map(child, RW, 0, space.vmo, 0, P)
    rights = zx.object_get_info(vmar, zx.ZX_INFO_HANDLE_BASIC).rights
    dup = zx.handle_duplicate(vmar, rights & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, dup, addr, P)
    assert space.mapped(addr)
    zx.vmar_unmap(vmar, addr, P)
    assert not space.mapped(addr)


# D20: protect across multiple mappings.


@pytest.mark.parametrize(("offset", "length"), [(0, 2), (2, 2), (1, 2)])
def test_d20_protect_split(offset, length):
    def body():
        space = _space()
        address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, 4 * P)
        zx.vmar_protect(space.root, R, address + offset * P, length * P)
        assert space.pages(address, 4) == [True] * 4
        zx.vmar_unmap(space.root, address, 4 * P)
        assert space.pages(address, 4) == [False] * 4

    run_guest(body)


@in_guest
def test_d20_protect_three_mappings():
    space = _space()
    size = 4 * P
    for i in range(3):
        zx.vmar_map(space.root, RW | SPECIFIC, i * size, space.vmo, 0, size)
    zx.vmar_protect(space.root, R, space.base + 2 * P, 2 * size)
    flags = [entry[2] for entry in space.mappings(space.root)]
    assert flags == [RW, R, R, R, RW]


@in_guest
def test_d20_protect_denied_changes_nothing():
    space = _space()
    size = 4 * P
    read_only = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_MAP | zx.ZX_RIGHT_READ)
    zx.vmar_map(space.root, R | SPECIFIC, 0, space.vmo, 0, size)
    zx.vmar_map(space.root, R | SPECIFIC, size, read_only, 0, size)
    zx.vmar_map(space.root, R | SPECIFIC, 2 * size, space.vmo, 0, size)
    before = space.mappings(space.root)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, space.base, 3 * size)
    assert space.mappings(space.root) == before


@in_guest
def test_d20_protect_across_gap():
    space = _space()
    size = 4 * P
    zx.vmar_map(space.root, RW | SPECIFIC, 0, space.vmo, 0, size)
    zx.vmar_map(space.root, RW | SPECIFIC, 2 * size, space.vmo, 0, size)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.vmar_protect, space.root, R, space.base, 3 * size)


@in_guest
def test_d20_protect_across_empty_subregion():
    space = _space()
    size = 4 * P
    zx.vmar_map(space.root, RW | SPECIFIC, 0, space.vmo, 0, size)
    zx.vmar_allocate(space.root, CAN_RW | SPECIFIC, size, size)
    zx.vmar_map(space.root, RW | SPECIFIC, 2 * size, space.vmo, 0, size)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.vmar_protect, space.root, R, space.base, 3 * size)


@in_guest
def test_d20_protect_across_filled_subregion():
    space = _space()
    size = 4 * P
    zx.vmar_map(space.root, RW | SPECIFIC, 0, space.vmo, 0, size)
    region, _addr = zx.vmar_allocate(space.root, CAN_RW | SPECIFIC, size, size)
    zx.vmar_map(region, RW, 0, space.vmo, 0, size)
    zx.vmar_map(space.root, RW | SPECIFIC, 2 * size, space.vmo, 0, size)
    zx.vmar_protect(space.root, R, space.base, 3 * size)


# D21: zx_vmar_op_range.


@in_guest
def test_d21_decommit_mappings():
    root = zx.vmar_root_self()
    region, base = zx.vmar_allocate(
        root, zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC, 0, 6 * P
    )
    vmo = zx.vmo_create(4 * P, 0)
    zx.vmo_write(vmo, b"\x11" * (4 * P), 0)
    zx.vmar_map(region, RW | SPECIFIC, 0, vmo, 0, 2 * P)
    zx.vmar_map(region, RW | SPECIFIC, 2 * P, vmo, 2 * P, 2 * P)

    # Part of one mapping.
    zx.vmar_op_range(region, zx.ZX_VMAR_OP_DECOMMIT, base, P)
    assert zx.vmo_read(vmo, P, 0) == bytes(P)
    assert zx.vmo_read(vmo, 1, P) == b"\x11"

    # Across both mappings.
    zx.vmar_op_range(region, zx.ZX_VMAR_OP_DECOMMIT, base + P, 2 * P)
    assert zx.vmo_read(vmo, 4 * P, 0) == bytes(3 * P) + b"\x11" * P

    # A range that runs into the unmapped pages after them.
    expect_status(
        zx.ZX_ERR_BAD_STATE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_DECOMMIT, base, 6 * P
    )


@in_guest
def test_d21_decommit_read_only_mappings():
    root = zx.vmar_root_self()
    vmo = zx.vmo_create(P, 0)
    # A read-only mapping made through a writable VMO handle could be made writable.
    address = zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, vmo, 0, P)
    zx.vmar_op_range(root, zx.ZX_VMAR_OP_DECOMMIT, address, P)

    read_only = zx.handle_duplicate(vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    read_only_address = zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, read_only, 0, P)
    expect_status(
        zx.ZX_ERR_ACCESS_DENIED,
        zx.vmar_op_range,
        root,
        zx.ZX_VMAR_OP_DECOMMIT,
        read_only_address,
        P,
    )


@pytest.mark.parametrize("committed_pages", [0, 1, 2], ids=["none", "part", "all"])
def test_d21_map_range(committed_pages):
    def body():
        vmo = zx.vmo_create(2 * P, 0)
        if committed_pages:
            zx.vmo_write(vmo, b"\x01" * (committed_pages * P), 0)
        root = zx.vmar_root_self()
        address = zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, vmo, 0, 2 * P)
        zx.vmar_op_range(root, zx.ZX_VMAR_OP_MAP_RANGE, address, 2 * P)

    run_guest(body)


@in_guest
def test_d21_zero():
    root = zx.vmar_root_self()
    vmo = zx.vmo_create(2 * P, 0)
    zx.vmo_write(vmo, b"\x22" * (2 * P), 0)
    address = zx.vmar_map(root, RW, 0, vmo, 0, 2 * P)
    zx.vmar_op_range(root, zx.ZX_VMAR_OP_ZERO, address, 2 * P)
    assert zx.vmo_read(vmo, 2 * P, 0) == bytes(2 * P)

    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root, zx.ZX_VMAR_OP_ZERO, address + 1, P
    )

    read_only = zx.handle_duplicate(vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    read_only_address = zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, read_only, 0, P)
    expect_status(
        zx.ZX_ERR_ACCESS_DENIED,
        zx.vmar_op_range,
        root,
        zx.ZX_VMAR_OP_ZERO,
        read_only_address,
        P,
    )


@in_guest
def test_d21_sub_regions():
    root = zx.vmar_root_self()
    can_rw = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE
    parent, base = zx.vmar_allocate(root, can_rw, 0, P)
    child, _child_base = zx.vmar_allocate(parent, can_rw, 0, P)
    vmo = zx.vmo_create(P, 0)
    zx.vmar_map(child, RW, 0, vmo, 0, P)

    rights = zx.object_get_info(parent, zx.ZX_INFO_HANDLE_BASIC).rights
    no_op_children = zx.handle_duplicate(parent, rights & ~zx.ZX_RIGHT_OP_CHILDREN)
    for op in (zx.ZX_VMAR_OP_MAP_RANGE, zx.ZX_VMAR_OP_DONT_NEED, zx.ZX_VMAR_OP_ALWAYS_NEED):
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, no_op_children, op, base, P)
        zx.vmar_op_range(parent, op, base, P)

    for op in (zx.ZX_VMAR_OP_COMMIT, zx.ZX_VMAR_OP_DECOMMIT):
        for handle in (parent, no_op_children):
            expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, handle, op, base, P)


# D22: zCore's VMAR unit tests, with Zircon's statuses where zCore differs.


@dataclass
class Family:
    """A region with child1 at [0, 2P), its grandsons at [0, P) and [P, 2P), and child2 at
    [2P, 3P), all offsets from the region's base."""

    space: Space
    parent: int
    base: int
    child1: int
    child2: int
    grandson1: int
    grandson2: int


def _family() -> Family:
    space = _space()
    parent, base = zx.vmar_allocate(space.root, CAN_RW | CAN_SPECIFIC, 0, 4 * P)
    options = CAN_RW | CAN_SPECIFIC | SPECIFIC
    child1, _ = zx.vmar_allocate(parent, options, 0, 2 * P)
    child2, _ = zx.vmar_allocate(parent, options, 2 * P, P)
    grandson1, _ = zx.vmar_allocate(child1, options, 0, P)
    grandson2, _ = zx.vmar_allocate(child1, options, P, P)
    return Family(space, parent, base, child1, child2, grandson1, grandson2)


def _alive(vmar: int) -> bool:
    try:
        zx.object_get_info(vmar, zx.ZX_INFO_VMAR_MAPS)
    except zx.ZxError as error:
        assert error.status == zx.ZX_ERR_BAD_STATE, error
        return False
    return True


@in_guest
def test_d22_overlapping_allocation():
    family = _family()
    options = CAN_RW | SPECIFIC
    expect_status(zx.ZX_ERR_ALREADY_EXISTS, zx.vmar_allocate, family.parent, options, P, 2 * P)


@in_guest
def test_d22_unmap_through_child():
    family = _family()
    zx.vmar_unmap(family.child1, family.base, P)
    assert not _alive(family.grandson1)
    assert _alive(family.grandson2)


@in_guest
def test_d22_unmap_partial_child():
    family = _family()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, family.parent, family.base + P, 2 * P)
    assert _alive(family.child1)
    assert _alive(family.child2)


@in_guest
def test_d22_unmap_empty_range():
    family = _family()
    zx.vmar_unmap(family.parent, family.base + 3 * P, P)


@in_guest
def test_d22_destroy_child():
    family = _family()
    zx.vmar_destroy(family.child1)
    assert not _alive(family.child1)
    assert not _alive(family.grandson1)
    assert not _alive(family.grandson2)
    assert _alive(family.child2)
    _again, address = zx.vmar_allocate(family.parent, CAN_RW | SPECIFIC, 0, 2 * P)
    assert address == family.base


@in_guest
def test_d22_unmap_mapping_pieces():
    space = _space()
    vmo = zx.vmo_create(5 * P, 0)
    address = zx.vmar_map(space.root, RW, 0, vmo, 0, 5 * P)
    steps = [
        (address + 2 * P, 2, 4 * P),
        (address, 2, 3 * P),
        (address + 4 * P, 2, 2 * P),
        (address + P, 1, P),
    ]
    assert len(space.mappings(space.root)) == 1
    for unmap_at, count, used in steps:
        zx.vmar_unmap(space.root, unmap_at, P)
        mappings = space.mappings(space.root)
        assert len(mappings) == count
        assert sum(size for _base, size, _flags in mappings) == used
