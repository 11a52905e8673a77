"""The VMAR syscalls (allocate, map, unmap, protect, destroy): one test per check.

Each test works in the root VMAR of a fresh, unstarted process, as Zircon's VMAR core
tests do, and reads pages back with zx.process_read_memory.
"""

from dataclasses import dataclass

import pytest

from memory_support import in_guest
from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
CAN_RW = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE
CAN_RW_SPECIFIC = CAN_RW | zx.ZX_VM_CAN_MAP_SPECIFIC
ROOT_RIGHTS = zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE
BAD_COUNTS = [-1, 1 << 64, None, "0"]


@dataclass
class Space:
    """A fresh process, its root VMAR and a 4-page VMO."""

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


def _space() -> Space:
    process, root = zx.process_create(zx.job_default(), "vmar-test", 0)
    base = zx.object_get_info(root, zx.ZX_INFO_VMAR).base
    return Space(process, root, base, zx.vmo_create(4 * P, 0))


def _dead_region(space: Space) -> int:
    region, _addr = zx.vmar_allocate(space.root, CAN_RW_SPECIFIC, 0, 4 * P)
    zx.vmar_destroy(region)
    return region


def _closed(handle: int) -> int:
    zx.handle_close(handle)
    return handle


# zx_vmar_allocate.


@in_guest
def test_allocate_closed_handle():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_allocate, _closed(region), CAN_RW, 0, P)


@pytest.mark.parametrize("value", [None, -5, 1 << 40, "root"])
def test_allocate_handle_not_a_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_allocate, value, CAN_RW, 0, P))


@in_guest
def test_allocate_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_allocate, space.vmo, CAN_RW, 0, P)


@in_guest
def test_allocate_missing_right():
    space = _space()
    read_only = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, read_only, CAN_RW, 0, P)


@pytest.mark.parametrize("bit", [zx.ZX_VM_MAP_RANGE, 1 << 16, 1 << 23])
def test_allocate_unknown_bit(bit):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW | bit, 0, P)

    run_guest(body)


@pytest.mark.parametrize("log2", [1, 9, 33, 255])
def test_allocate_bad_alignment(log2):
    def body():
        space = _space()
        options = CAN_RW | (log2 << zx.ZX_VM_ALIGN_BASE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, options, 0, P)

    run_guest(body)


@in_guest
def test_allocate_options_not_an_int():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, None, 0, P)


@pytest.mark.parametrize("perm", [zx.ZX_VM_PERM_READ, zx.ZX_VM_PERM_WRITE, zx.ZX_VM_PERM_EXECUTE])
def test_allocate_perm_bit(perm):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW | perm, 0, P)

    run_guest(body)


@in_guest
def test_allocate_unaligned_size():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, P - 1)


@pytest.mark.parametrize("size", BAD_COUNTS)
def test_allocate_size_not_a_count(size):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, size)

    run_guest(body)


@pytest.mark.parametrize("offset", BAD_COUNTS)
def test_allocate_offset_not_a_count(offset):
    def body():
        space = _space()
        options = CAN_RW | zx.ZX_VM_SPECIFIC
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, options, offset, P)

    run_guest(body)


@pytest.mark.parametrize(
    "bit",
    [
        zx.ZX_VM_SPECIFIC_OVERWRITE,
        zx.ZX_VM_REQUIRE_NON_RESIZABLE,
        zx.ZX_VM_ALLOW_FAULTS,
        zx.ZX_VM_FAULT_BEYOND_STREAM_SIZE,
    ],
)
def test_allocate_mapping_only_bit(bit):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW | bit, 0, P)

    run_guest(body)


@in_guest
def test_allocate_dead_parent():
    space = _space()
    dead = _dead_region(space)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, dead, CAN_RW, 0, P)


@in_guest
def test_allocate_zero_size():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, 0)


@in_guest
def test_allocate_size_rounding_to_zero():
    space = _space()
    bad_size = U64_MAX - P + 2
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, 0, bad_size)


@in_guest
def test_allocate_capabilities_exceed_parent():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, zx.ZX_VM_CAN_MAP_READ, 0, 4 * P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, region, CAN_RW, 0, P)


@in_guest
def test_allocate_specific_with_upper_limit():
    space = _space()
    options = CAN_RW | zx.ZX_VM_SPECIFIC | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, options, P, 10 * P)


@in_guest
def test_allocate_offset_without_specific():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW, P, 10 * P)


@in_guest
def test_allocate_unaligned_offset():
    space = _space()
    options = CAN_RW | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, options, P - 1, P)


@in_guest
def test_allocate_specific_needs_can_map_specific():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    options = CAN_RW | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, region, options, P, P)


@in_guest
def test_allocate_too_large():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 10 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, CAN_RW, 0, 11 * P)


@in_guest
def test_allocate_specific_out_of_bounds():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW_SPECIFIC, 0, 10 * P)
    options = CAN_RW | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, options, 10 * P, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, options, 9 * P, 2 * P)


@in_guest
def test_allocate_specific_misaligned():
    space = _space()
    options = CAN_RW | zx.ZX_VM_SPECIFIC | zx.ZX_VM_ALIGN_64KB
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, options, P, P)


@in_guest
def test_allocate_specific_taken():
    space = _space()
    options = CAN_RW | zx.ZX_VM_SPECIFIC
    zx.vmar_allocate(space.root, options, 2 * P, 2 * P)
    expect_status(zx.ZX_ERR_ALREADY_EXISTS, zx.vmar_allocate, space.root, options, 3 * P, P)


@in_guest
def test_allocate_no_room():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 10 * P)
    zx.vmar_allocate(region, CAN_RW, 0, 10 * P)
    expect_status(zx.ZX_ERR_NO_RESOURCES, zx.vmar_allocate, region, CAN_RW, 0, P)


@in_guest
def test_allocate_rights_follow_capabilities():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, zx.ZX_VM_CAN_MAP_READ, 0, P)
    rights = zx.object_get_info(region, zx.ZX_INFO_HANDLE_BASIC).rights
    assert rights == zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ


@in_guest
def test_allocate_returns_base():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, 10 * P)
    info = zx.object_get_info(region, zx.ZX_INFO_VMAR)
    assert info.base == address
    assert info.len == 10 * P


@in_guest
def test_allocate_accepts_xom_flag():
    """The kernel's flag splitter drops ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED for sub-regions."""
    space = _space()
    options = CAN_RW | zx.ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED
    region, _addr = zx.vmar_allocate(space.root, options, 0, P)
    assert zx.object_get_info(region, zx.ZX_INFO_VMAR).len == P


@in_guest
def test_allocate_handle_before_options():
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_allocate, zx.ZX_HANDLE_INVALID, R, 0, 0)


@in_guest
def test_allocate_perm_before_size():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, space.root, CAN_RW | R, 0, 0)


@in_guest
def test_allocate_unaligned_size_before_state():
    """Regression: an unaligned size is ZX_ERR_INVALID_ARGS even in a destroyed region."""
    space = _space()
    dead = _dead_region(space)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, dead, CAN_RW, 0, P + 1)


@in_guest
def test_allocate_overwrite_before_state():
    space = _space()
    dead = _dead_region(space)
    options = CAN_RW | zx.ZX_VM_SPECIFIC_OVERWRITE
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, dead, options, 0, P)


@in_guest
def test_allocate_state_before_zero_size():
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, _dead_region(space), CAN_RW, 0, 0)


@in_guest
def test_allocate_state_before_specific_with_upper_limit():
    """Regression: SPECIFIC with OFFSET_IS_UPPER_LIMIT is checked after the region's state."""
    space = _space()
    options = CAN_RW | zx.ZX_VM_SPECIFIC | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, _dead_region(space), options, P, P)


@in_guest
def test_allocate_upper_limit_conflict_before_can_map_specific():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    options = CAN_RW | zx.ZX_VM_SPECIFIC | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_allocate, region, options, P, P)


@in_guest
def test_allocate_can_map_specific_before_range():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    options = CAN_RW | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_allocate, region, options, 8 * P, P)


# zx_vmar_map.


@in_guest
def test_map_closed_vmar():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_map, _closed(region), R, 0, space.vmo, 0, P)


@in_guest
def test_map_vmar_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_map, space.vmo, R, 0, space.vmo, 0, P)


@in_guest
def test_map_closed_vmo():
    space = _space()
    vmo = _closed(zx.vmo_create(P, 0))
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_map, space.root, R, 0, vmo, 0, P)


@in_guest
def test_map_vmo_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_map, space.root, R, 0, space.process, 0, P)


@in_guest
def test_map_vmo_without_map_right():
    space = _space()
    no_map = zx.handle_duplicate(space.vmo, zx.ZX_DEFAULT_VMO_RIGHTS & ~zx.ZX_RIGHT_MAP)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, R, 0, no_map, 0, P)


@pytest.mark.parametrize(
    "perms",
    [zx.ZX_VM_PERM_WRITE, zx.ZX_VM_PERM_EXECUTE, zx.ZX_VM_PERM_WRITE | zx.ZX_VM_PERM_EXECUTE],
)
def test_map_without_read(perms):
    """Regression: execute without read was accepted up to the rights check."""

    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, perms, 0, space.vmo, 0, P)

    run_guest(body)


@in_guest
def test_map_range_with_overwrite():
    space = _space()
    options = R | zx.ZX_VM_SPECIFIC_OVERWRITE | zx.ZX_VM_MAP_RANGE
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, P, space.vmo, 0, P)


@pytest.mark.parametrize(
    "bit", [zx.ZX_VM_CAN_MAP_READ, zx.ZX_VM_CAN_MAP_WRITE, zx.ZX_VM_CAN_MAP_EXECUTE]
)
def test_map_can_map_bit(bit):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW | bit, 0, space.vmo, 0, P)

    run_guest(body)


@in_guest
def test_map_vmar_handle_lacks_right():
    space = _space()
    read_only = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, read_only, RW, 0, space.vmo, 0, P)


@in_guest
def test_map_vmo_handle_lacks_right():
    space = _space()
    read_only = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, RW, 0, read_only, 0, P)


@in_guest
def test_map_execute_needs_executable_vmo():
    space = _space()
    options = R | zx.ZX_VM_PERM_EXECUTE
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, options, 0, space.vmo, 0, P)


@in_guest
def test_map_fault_beyond_stream_size_without_allow_faults():
    space = _space()
    options = R | zx.ZX_VM_FAULT_BEYOND_STREAM_SIZE
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, 0, space.vmo, 0, P)


@in_guest
def test_map_fault_beyond_stream_size_unsupported():
    space = _space()
    options = R | zx.ZX_VM_FAULT_BEYOND_STREAM_SIZE | zx.ZX_VM_ALLOW_FAULTS
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmar_map, space.root, options, 0, space.vmo, 0, P)


@pytest.mark.parametrize("bit", [1 << 16, 1 << 20, 1 << 23])
def test_map_unknown_bit(bit):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, R | bit, 0, space.vmo, 0, P)

    run_guest(body)


@pytest.mark.parametrize("log2", [9, 33, 1 << 7])
def test_map_bad_alignment(log2):
    def body():
        space = _space()
        options = R | (log2 << zx.ZX_VM_ALIGN_BASE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, 0, space.vmo, 0, P)

    run_guest(body)


@pytest.mark.parametrize("options", [None, -1, 1 << 32, "r"])
def test_map_options_not_an_int(options):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, 0, space.vmo, 0, P)

    run_guest(body)


@in_guest
def test_map_require_non_resizable():
    space = _space()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    options = R | zx.ZX_VM_REQUIRE_NON_RESIZABLE
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmar_map, space.root, options, 0, resizable, 0, P)


@pytest.mark.parametrize("bit", [zx.ZX_VM_COMPACT, zx.ZX_VM_CAN_MAP_SPECIFIC])
def test_map_region_only_bit(bit):
    """Regression: zx_vmar_map accepted ZX_VM_COMPACT, which only sub-regions take."""

    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, R | bit, 0, space.vmo, 0, P)

    run_guest(body)


@pytest.mark.parametrize("map_range", [0, zx.ZX_VM_MAP_RANGE])
def test_map_unaligned_vmo_offset(map_range):
    def body():
        space = _space()
        options = RW | map_range
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, 0, space.vmo, P - 1, 3 * P
        )

    run_guest(body)


@pytest.mark.parametrize("map_range", [0, zx.ZX_VM_MAP_RANGE])
def test_map_len_rounds_past_2_64(map_range):
    def body():
        space = _space()
        bad_len = U64_MAX - P + 2
        options = R | map_range
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_map, space.root, options, 0, space.vmo, 0, bad_len
        )

    run_guest(body)


@in_guest
def test_map_vmo_offset_overflows():
    """Regression: an offset whose end is exactly 2**64 was accepted."""
    space = _space()
    offset = (1 << 64) - P
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_map, space.root, RW, 0, space.vmo, offset, P)


@in_guest
def test_map_vmo_offset_near_limit():
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, (1 << 64) - 2 * P, P)
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.process_read_memory, space.process, address, 1)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_map_vmo_offset_not_a_count(value):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, R, 0, space.vmo, value, P)

    run_guest(body)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_map_len_not_a_count(value):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, R, 0, space.vmo, 0, value)

    run_guest(body)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_map_vmar_offset_not_a_count(value):
    def body():
        space = _space()
        options = R | zx.ZX_VM_SPECIFIC
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, value, space.vmo, 0, P
        )

    run_guest(body)


@in_guest
def test_map_dead_vmar():
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, _dead_region(space), R, 0, space.vmo, 0, P)


@in_guest
def test_map_zero_len():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW, 0, space.vmo, 0, 0)


@in_guest
def test_map_region_lacks_capability():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, zx.ZX_VM_CAN_MAP_READ, 0, 4 * P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, region, RW, 0, space.vmo, 0, P)


@in_guest
def test_map_offset_without_specific():
    space = _space()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, RW, P, space.vmo, 0, P)


@in_guest
def test_map_specific_with_upper_limit():
    space = _space()
    for placement in (zx.ZX_VM_SPECIFIC, zx.ZX_VM_SPECIFIC_OVERWRITE):
        options = RW | placement | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, P, space.vmo, 0, 4 * P
        )


@in_guest
def test_map_specific_unaligned_offset():
    space = _space()
    options = RW | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, P - 1, space.vmo, 0, P)


@in_guest
def test_map_specific_needs_can_map_specific():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    for placement in (zx.ZX_VM_SPECIFIC, zx.ZX_VM_SPECIFIC_OVERWRITE):
        options = R | placement
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, region, options, P, space.vmo, 0, P)


@in_guest
def test_map_specific_out_of_bounds():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW_SPECIFIC, 0, 4 * P)
    options = R | zx.ZX_VM_SPECIFIC
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, region, options, 3 * P, space.vmo, 0, 2 * P)


@in_guest
def test_map_specific_taken():
    space = _space()
    options = RW | zx.ZX_VM_SPECIFIC
    zx.vmar_map(space.root, options, P, space.vmo, 0, 2 * P)
    expect_status(
        zx.ZX_ERR_ALREADY_EXISTS, zx.vmar_map, space.root, options, 2 * P, space.vmo, 0, P
    )


@in_guest
def test_map_no_room():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    zx.vmar_map(region, R, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_NO_RESOURCES, zx.vmar_map, region, R, 0, space.vmo, 0, P)


@in_guest
def test_map_rounds_len_up():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P - 1)
    assert space.mapped(address + 3 * P)
    assert not space.mapped(address + 4 * P)


@in_guest
def test_map_overwrite_replaces():
    space = _space()
    other = zx.vmo_create(P, 0)
    zx.vmo_write(other, b"new", 0)
    address = zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 0, space.vmo, 0, 2 * P)
    options = RW | zx.ZX_VM_SPECIFIC_OVERWRITE
    assert zx.vmar_map(space.root, options, 0, other, 0, P) == address
    assert zx.process_read_memory(space.process, address, 3) == b"new"


@in_guest
def test_map_vmar_checked_before_vmo():
    space = _space()
    vmo = _closed(zx.vmo_create(P, 0))
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_map, space.vmo, R, 0, vmo, 0, P)


@in_guest
def test_map_map_right_before_protection():
    space = _space()
    no_map = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ)
    options = zx.ZX_VM_PERM_WRITE
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, space.root, options, 0, no_map, 0, P)


@in_guest
def test_map_protection_before_rights():
    """Regression: a write-only request failed on the handle's rights first."""
    space = _space()
    no_write = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    options = zx.ZX_VM_PERM_WRITE
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, no_write, options, 0, space.vmo, 0, P)


@in_guest
def test_map_can_map_bit_before_rights():
    space = _space()
    no_write = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    options = RW | zx.ZX_VM_CAN_MAP_READ
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, no_write, options, 0, space.vmo, 0, P)


@in_guest
def test_map_rights_before_unknown_bit():
    """Regression: unknown option bits were reported before missing rights."""
    space = _space()
    no_write = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    options = RW | (1 << 16)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, no_write, options, 0, space.vmo, 0, P)


@in_guest
def test_map_unknown_bit_before_non_resizable():
    """Regression: ZX_VM_REQUIRE_NON_RESIZABLE was checked before unknown option bits."""
    space = _space()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    options = R | zx.ZX_VM_REQUIRE_NON_RESIZABLE | (1 << 16)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, space.root, options, 0, resizable, 0, P)


@in_guest
def test_map_non_resizable_before_compact():
    space = _space()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    options = R | zx.ZX_VM_REQUIRE_NON_RESIZABLE | zx.ZX_VM_COMPACT
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmar_map, space.root, options, 0, resizable, 0, P)


@in_guest
def test_map_vmo_offset_before_state():
    space = _space()
    dead = _dead_region(space)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, dead, R, 0, space.vmo, 1, P)


@in_guest
def test_map_overflow_before_state():
    space = _space()
    dead = _dead_region(space)
    offset = (1 << 64) - P
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_map, dead, R, 0, space.vmo, offset, P)


@in_guest
def test_map_state_before_zero_len():
    """Regression: a zero length was reported before a destroyed VMAR."""
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, _dead_region(space), R, 0, space.vmo, 0, 0)


@in_guest
def test_map_state_before_specific_with_upper_limit():
    space = _space()
    options = R | zx.ZX_VM_SPECIFIC | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT
    dead = _dead_region(space)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, dead, options, P, space.vmo, 0, P)


@in_guest
def test_map_keeps_vmar_handle_rights():
    """Regression: a mapping made through a read-only VMAR handle could later be made writable."""
    space = _space()
    read_only = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    address = zx.vmar_map(read_only, R, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, P)


# zx_vmar_unmap.


@in_guest
def test_unmap_closed_handle():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_unmap, _closed(region), address, P)


@in_guest
def test_unmap_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_unmap, space.vmo, 0, 0)


@in_guest
def test_unmap_needs_no_rights():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, P)
    bare = zx.handle_duplicate(space.root, zx.ZX_RIGHT_NONE)
    zx.vmar_unmap(bare, address, P)
    assert not space.mapped(address)


@in_guest
def test_unmap_unaligned_addr():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, address + 1, P)


@in_guest
def test_unmap_zero_len():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, address, 0)


@in_guest
def test_unmap_len_rounds_to_zero():
    space = _space()
    address = zx.vmar_map(space.root, R | zx.ZX_VM_SPECIFIC, P, space.vmo, 0, 4 * P)
    bad_len = U64_MAX - P + 2
    for start in (address - P, address, address + P):
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, start, bad_len)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_unmap_addr_not_a_count(value):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, value, P)

    run_guest(body)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_unmap_len_not_a_count(value):
    def body():
        space = _space()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, space.base, value)

    run_guest(body)


@in_guest
def test_unmap_dead_vmar():
    space = _space()
    dead = _dead_region(space)
    address = zx.object_get_info(dead, zx.ZX_INFO_VMAR).base
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_unmap, dead, address, P)


@in_guest
def test_unmap_outside_vmar():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, region, address + 4 * P, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, region, address, 5 * P)


@in_guest
def test_unmap_partial_subregion():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, 2 * P)
    zx.vmar_map(region, R, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, space.root, address, P)
    assert space.mapped(address)


@in_guest
def test_unmap_subregion_needs_op_children():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    zx.vmar_map(region, R, 0, space.vmo, 0, P)
    no_children = zx.handle_duplicate(space.root, ROOT_RIGHTS & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, no_children, address, P)
    assert space.mapped(address)


@in_guest
def test_unmap_splits_mapping():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P)
    zx.vmar_unmap(space.root, address + P, 2 * P)
    pages = [space.mapped(address + i * P) for i in range(4)]
    assert pages == [True, False, False, True]


@in_guest
def test_unmap_unaligned_len_rounds_up():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P)
    zx.vmar_unmap(space.root, address, 4 * P - 1)
    assert not space.mapped(address + 3 * P)


@in_guest
def test_unmap_empty_range():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    zx.vmar_unmap(region, address, 4 * P)
    assert zx.object_get_info(region, zx.ZX_INFO_VMAR).len == 4 * P


@in_guest
def test_unmap_unaligned_before_state():
    space = _space()
    dead = _dead_region(space)
    address = zx.object_get_info(dead, zx.ZX_INFO_VMAR).base
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_unmap, dead, address + 1, P)


@in_guest
def test_unmap_state_before_range():
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_unmap, _dead_region(space), 0, P)


# zx_vmar_protect.


@in_guest
def test_protect_closed_handle():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_protect, _closed(region), R, address, P)


@in_guest
def test_protect_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_protect, space.vmo, R, 0, 0)


@in_guest
def test_protect_missing_right():
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
    read_only = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, read_only, RW, address, P)


@in_guest
def test_protect_xom_flag_needs_read_right():
    """Regression: ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED did not ask for ZX_RIGHT_READ."""
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, P)
    no_read = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS)
    options = zx.ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, no_read, options, address, P)


@pytest.mark.parametrize("perms", [zx.ZX_VM_PERM_WRITE, zx.ZX_VM_PERM_EXECUTE])
def test_protect_without_read(perms):
    def body():
        space = _space()
        address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, perms, address, P)

    run_guest(body)


@in_guest
def test_protect_unaligned_addr():
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, 4 * P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, address + 1, P)


@pytest.mark.parametrize(
    "bit",
    [zx.ZX_VM_CAN_MAP_WRITE, zx.ZX_VM_SPECIFIC, zx.ZX_VM_MAP_RANGE, 1 << 16, 1 << 31],
)
def test_protect_non_permission_bit(bit):
    def body():
        space = _space()
        address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R | bit, address, P)

    run_guest(body)


@in_guest
def test_protect_alignment_field():
    """Regression: zx_vmar_protect accepted a valid ZX_VM_ALIGN_* field."""
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
    options = R | zx.ZX_VM_ALIGN_64KB
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, options, address, P)


@in_guest
def test_protect_zero_len():
    space = _space()
    address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, address, 0)


@in_guest
def test_protect_len_rounds_to_zero():
    space = _space()
    address = zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, P, space.vmo, 0, 4 * P)
    bad_len = U64_MAX - P + 2
    for start in (address - P, address, address + P):
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, start, bad_len)


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_protect_len_not_a_count(value):
    def body():
        space = _space()
        address = zx.vmar_map(space.root, RW, 0, space.vmo, 0, P)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, space.root, R, address, value)

    run_guest(body)


@in_guest
def test_protect_dead_vmar():
    space = _space()
    dead = _dead_region(space)
    address = zx.object_get_info(dead, zx.ZX_INFO_VMAR).base
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_protect, dead, R, address, P)


@in_guest
def test_protect_outside_vmar():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, region, R, address + P, P)


@in_guest
def test_protect_gap():
    space = _space()
    address = zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 0, space.vmo, 0, P)
    zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 2 * P, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.vmar_protect, space.root, R, address, 3 * P)


@in_guest
def test_protect_beyond_vmo_rights():
    space = _space()
    read_only = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    address = zx.vmar_map(space.root, R, 0, read_only, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, P)


@in_guest
def test_protect_child_needs_op_children():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    zx.vmar_map(region, RW, 0, space.vmo, 0, P)
    no_children = zx.handle_duplicate(space.root, ROOT_RIGHTS & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, no_children, R, address, P)


@in_guest
def test_protect_parent_cannot_raise():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    zx.vmar_map(region, R, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, P)


@in_guest
def test_protect_gap_at_end():
    space = _space()
    address = zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.vmar_protect, space.root, R, address, 2 * P)


@in_guest
def test_protect_unaligned_len_rounds_up():
    space = _space()
    address = zx.vmar_map(space.root, R, 0, space.vmo, 0, 4 * P)
    zx.vmar_protect(space.root, RW, address, 4 * P - 1)
    maps = zx.object_get_info(space.root, zx.ZX_INFO_VMAR_MAPS)
    flags = [entry.u.mmu_flags for entry in maps if entry.type == zx.ZX_INFO_MAPS_TYPE_MAPPING]
    assert flags == [RW]


@in_guest
def test_protect_rights_before_protection():
    space = _space()
    read_only = zx.handle_duplicate(space.root, zx.ZX_DEFAULT_VMAR_RIGHTS | zx.ZX_RIGHT_READ)
    options = zx.ZX_VM_PERM_WRITE
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, read_only, options, space.base, P)


@in_guest
def test_protect_unaligned_before_state():
    space = _space()
    dead = _dead_region(space)
    address = zx.object_get_info(dead, zx.ZX_INFO_VMAR).base
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_protect, dead, R, address + 1, P)


@in_guest
def test_protect_state_before_range():
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_protect, _dead_region(space), R, 0, P)


@in_guest
def test_protect_denial_before_later_gap():
    """Regression: a gap anywhere in the range was reported before an earlier denial."""
    space = _space()
    read_only = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    address = zx.vmar_map(space.root, R | zx.ZX_VM_SPECIFIC, 0, read_only, 0, P)
    zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 2 * P, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_protect, space.root, RW, address, 3 * P)


@in_guest
def test_protect_gap_before_later_denial():
    space = _space()
    read_only = zx.handle_duplicate(space.vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
    address = zx.vmar_map(space.root, RW | zx.ZX_VM_SPECIFIC, 0, space.vmo, 0, P)
    zx.vmar_map(space.root, R | zx.ZX_VM_SPECIFIC, 2 * P, read_only, 0, P)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.vmar_protect, space.root, RW, address, 3 * P)


# zx_vmar_destroy.


@in_guest
def test_destroy_closed_handle():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmar_destroy, _closed(region))


@in_guest
def test_destroy_wrong_type():
    space = _space()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmar_destroy, space.vmo)


@in_guest
def test_destroy_needs_op_children():
    space = _space()
    region, _addr = zx.vmar_allocate(space.root, CAN_RW, 0, P)
    dup = zx.handle_duplicate(region, zx.ZX_DEFAULT_VMAR_RIGHTS & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_destroy, dup)


@in_guest
def test_destroy_root():
    space = _space()
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmar_destroy, space.root)


@in_guest
def test_destroy_twice():
    space = _space()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_destroy, _dead_region(space))


@in_guest
def test_destroy_right_before_root():
    space = _space()
    dup = zx.handle_duplicate(space.root, ROOT_RIGHTS & ~zx.ZX_RIGHT_OP_CHILDREN)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_destroy, dup)


@in_guest
def test_destroy_unmaps_subtree():
    space = _space()
    region, address = zx.vmar_allocate(space.root, CAN_RW, 0, 4 * P)
    inner, _inner_address = zx.vmar_allocate(region, CAN_RW, 0, P)
    zx.vmar_map(inner, R, 0, space.vmo, 0, P)
    zx.vmar_map(region, R, 0, space.vmo, 0, P)
    zx.vmar_destroy(region)
    assert not any(space.mapped(address + i * P) for i in range(4))
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_destroy, inner)


# A VMAR whose process died.


@in_guest
def test_dead_process_vmar_rejects_map():
    space = _space()
    zx.handle_close(space.process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, space.root, R, 0, space.vmo, 0, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_allocate, space.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_unmap, space.root, space.base, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_protect, space.root, R, space.base, P)
