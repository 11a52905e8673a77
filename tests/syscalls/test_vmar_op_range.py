"""zx_vmar_op_range: one test per check, then what each operation does to the mapped VMOs."""

from __future__ import annotations

import pytest

from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
ALL_OPS = [
    zx.ZX_VMAR_OP_COMMIT,
    zx.ZX_VMAR_OP_DECOMMIT,
    zx.ZX_VMAR_OP_MAP_RANGE,
    zx.ZX_VMAR_OP_ZERO,
    zx.ZX_VMAR_OP_DONT_NEED,
    zx.ZX_VMAR_OP_ALWAYS_NEED,
    zx.ZX_VMAR_OP_PREFETCH,
]
WRITE_OPS = [zx.ZX_VMAR_OP_COMMIT, zx.ZX_VMAR_OP_DECOMMIT, zx.ZX_VMAR_OP_ZERO]
READ_OPS = [zx.ZX_VMAR_OP_MAP_RANGE, zx.ZX_VMAR_OP_PREFETCH]
HINT_OPS = [zx.ZX_VMAR_OP_DONT_NEED, zx.ZX_VMAR_OP_ALWAYS_NEED]


def root() -> int:
    return zx.vmar_root_self()


def mapped(pages: int = 2, perms: int = RW, vmo_rights: int | None = None) -> tuple[int, int]:
    """Map a fresh VMO of `pages` pages; return (VMO handle, address)."""
    vmo = zx.vmo_create(pages * P, 0)
    source = vmo if vmo_rights is None else zx.handle_duplicate(vmo, vmo_rights)
    return vmo, zx.vmar_map(root(), perms, 0, source, 0, pages * P)


def vmar_without(right: int) -> int:
    rights = zx.object_get_info(root(), zx.ZX_INFO_HANDLE_BASIC).rights
    return zx.handle_duplicate(root(), rights & ~right)


def committed(vmo: int) -> int:
    return zx.object_get_info(vmo, zx.ZX_INFO_VMO).committed_bytes


# Check 1: the handle.


def test_bad_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmar_op_range, 0x12345, zx.ZX_VMAR_OP_COMMIT, 0, P
        )
    )


def test_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.vmar_op_range, zx.vmo_create(P, 0), zx.ZX_VMAR_OP_COMMIT, 0, P
        )
    )


# Check 2: the operation.


@pytest.mark.parametrize("op", [0, 4, 5, 11, 15, -1, None])
def test_unknown_op(op):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), op, address, P)

    run_guest(body)


# Check 3: the VMAR handle's rights.


@pytest.mark.parametrize("op", WRITE_OPS)
def test_write_op_needs_write(op):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.vmar_op_range,
            vmar_without(zx.ZX_RIGHT_WRITE),
            op,
            address,
            P,
        )

    run_guest(body)


@pytest.mark.parametrize("op", READ_OPS)
def test_read_op_needs_read(op):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.vmar_op_range,
            vmar_without(zx.ZX_RIGHT_READ),
            op,
            address,
            P,
        )

    run_guest(body)


@pytest.mark.parametrize("op", HINT_OPS)
def test_hints_need_no_rights(op):
    def body() -> None:
        _vmo, address = mapped()
        bare = zx.handle_duplicate(root(), zx.ZX_RIGHT_OP_CHILDREN)
        zx.vmar_op_range(bare, op, address, P)

    run_guest(body)


def test_rights_before_buffer():
    def body() -> None:
        _vmo, address = mapped()
        handle = vmar_without(zx.ZX_RIGHT_WRITE)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmar_op_range, handle, zx.ZX_VMAR_OP_COMMIT, address, P, b""
        )

    run_guest(body)


# Check 4: the buffer.


@pytest.mark.parametrize("buffer", [b"", b"x", bytearray(8)])
def test_buffer_must_be_none(buffer):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmar_op_range,
            root(),
            zx.ZX_VMAR_OP_MAP_RANGE,
            address,
            P,
            buffer,
        )

    run_guest(body)


# Check 5: alignment and size.


def test_unaligned_address():
    """ZX_VMAR_OP_ZERO at a misaligned address is ZX_ERR_INVALID_ARGS."""

    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_ZERO, address + 1, P
        )

    run_guest(body)


@pytest.mark.parametrize("size", [0, U64_MAX, U64_MAX - 10])
def test_size_zero_after_rounding(size):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_COMMIT, address, size
        )

    run_guest(body)


@pytest.mark.parametrize("bad", [-1, 1 << 64, "1"])
def test_range_not_counts(bad):
    def body() -> None:
        _vmo, address = mapped()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_COMMIT, bad, P
        )
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_COMMIT, address, bad
        )

    run_guest(body)


def test_partial_page_rounds_up():
    def body() -> int:
        vmo, address = mapped()
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_COMMIT, address, 1)
        return committed(vmo)

    assert run_guest(body) == P


# Check 6: the range lies in the VMAR.


def test_range_outside_vmar():
    def body() -> None:
        region, base = zx.vmar_allocate(
            root(), zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE, 0, 4 * P
        )
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_COMMIT, base, 5 * P
        )
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_COMMIT, base - P, P
        )

    run_guest(body)


# Check 7: the VMAR is alive.


def test_destroyed_vmar():
    def body() -> None:
        region, base = zx.vmar_allocate(root(), zx.ZX_VM_CAN_MAP_READ, 0, 4 * P)
        zx.vmar_destroy(region)
        expect_status(
            zx.ZX_ERR_BAD_STATE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_MAP_RANGE, base, P
        )

    run_guest(body)


def test_out_of_range_before_destroyed():
    def body() -> None:
        region, base = zx.vmar_allocate(root(), zx.ZX_VM_CAN_MAP_READ, 0, 4 * P)
        zx.vmar_destroy(region)
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_MAP_RANGE, base, 8 * P
        )

    run_guest(body)


# Check 8: mapping by mapping.


@pytest.mark.parametrize("op", ALL_OPS)
def test_gap_before_mapping(op):
    def body() -> None:
        region, base = zx.vmar_allocate(
            root(),
            zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC,
            0,
            4 * P,
        )
        vmo = zx.vmo_create(P, 0)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, P, vmo, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_op_range, region, op, base, 2 * P)

    run_guest(body)


@pytest.mark.parametrize("op", ALL_OPS)
def test_gap_after_mapping(op):
    def body() -> None:
        region, base = zx.vmar_allocate(
            root(),
            zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC,
            0,
            4 * P,
        )
        vmo = zx.vmo_create(P, 0)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, 0, vmo, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_op_range, region, op, base, 2 * P)

    run_guest(body)


def test_gap_leaves_earlier_mappings_done():
    """Mappings before the gap already took the operation, as in Zircon."""

    def body() -> int:
        region, base = zx.vmar_allocate(
            root(),
            zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC,
            0,
            4 * P,
        )
        vmo = zx.vmo_create(P, 0)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, 0, vmo, 0, P)
        expect_status(
            zx.ZX_ERR_BAD_STATE, zx.vmar_op_range, region, zx.ZX_VMAR_OP_COMMIT, base, 2 * P
        )
        return committed(vmo)

    assert run_guest(body) == P


def _child_region() -> tuple[int, int, int]:
    """Return (VMO, address) of a mapping inside a sub-VMAR of the root, and the sub-VMAR."""
    region, _base = zx.vmar_allocate(
        root(), zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE, 0, 2 * P
    )
    vmo = zx.vmo_create(2 * P, 0)
    address = zx.vmar_map(region, RW, 0, vmo, 0, 2 * P)
    return vmo, address, region


@pytest.mark.parametrize(
    "op", [zx.ZX_VMAR_OP_COMMIT, zx.ZX_VMAR_OP_DECOMMIT, zx.ZX_VMAR_OP_PREFETCH]
)
def test_commit_into_sub_vmar_never_allowed(op):
    """COMMIT and DECOMMIT through a parent into a child are invalid either way."""

    def body() -> None:
        _vmo, address, region = _child_region()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmar_op_range, root(), op, address, P)
        zx.vmar_op_range(region, op, address, P)

    run_guest(body)


@pytest.mark.parametrize("op", [zx.ZX_VMAR_OP_MAP_RANGE, zx.ZX_VMAR_OP_ZERO, *HINT_OPS])
def test_sub_vmar_needs_op_children(op):
    """MAP_RANGE, ZERO and the hints reach a child's range only with ZX_RIGHT_OP_CHILDREN."""

    def body() -> None:
        _vmo, address, _region = _child_region()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmar_op_range,
            vmar_without(zx.ZX_RIGHT_OP_CHILDREN),
            op,
            address,
            P,
        )
        zx.vmar_op_range(root(), op, address, P)

    run_guest(body)


@pytest.mark.parametrize("op", WRITE_OPS)
def test_read_only_vmo_handle_denied(op):
    """a mapping made from a read-only VMO handle can never be written."""

    def body() -> None:
        _vmo, address = mapped(perms=R, vmo_rights=zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_op_range, root(), op, address, P)

    run_guest(body)


def test_decommit_read_only_mapping_of_writable_vmo():
    """the mapping could be made writable, so decommit is allowed."""

    def body() -> bytes:
        vmo, address = mapped(perms=R)
        zx.vmo_write(vmo, b"x", 0)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_DECOMMIT, address, P)
        return zx.vmo_read(vmo, 1, 0)

    assert run_guest(body) == b"\x00"


def test_prefetch_needs_readable_mapping():
    def body() -> None:
        _vmo, address = mapped(perms=0, vmo_rights=zx.ZX_RIGHT_MAP)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_PREFETCH, address, P
        )

    run_guest(body)


def test_decommit_of_snapshot_mapping_not_supported():
    def body() -> None:
        child = zx.vmo_create_child(zx.vmo_create(P, 0), zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        address = zx.vmar_map(root(), RW, 0, child, 0, P)
        expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_DECOMMIT, address, P
        )

    run_guest(body)


def test_commit_past_vmo_end_out_of_range():
    def body() -> None:
        vmo = zx.vmo_create(2 * P, zx.ZX_VMO_RESIZABLE)
        address = zx.vmar_map(root(), RW, 0, vmo, 0, 2 * P)
        zx.vmo_set_size(vmo, P)
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_COMMIT, address, 2 * P
        )

    run_guest(body)


# What the operations do, after Zircon's Vmar.RangeOp* core tests.


def test_decommit_part_reads_zero():
    def body() -> tuple[bytes, int]:
        vmo, address = mapped(4)
        zx.vmo_write(vmo, b"\x11" * (4 * P), 0)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_DECOMMIT, address + P, 2 * P)
        return zx.vmo_read(vmo, 4 * P, 0), committed(vmo)

    data, count = run_guest(body)
    assert data == b"\x11" * P + bytes(2 * P) + b"\x11" * P
    assert count == 2 * P


def test_decommit_across_two_mappings():
    def body() -> tuple[bytes, bytes]:
        region, base = zx.vmar_allocate(
            root(),
            zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC,
            0,
            2 * P,
        )
        first = zx.vmo_create(P, 0)
        second = zx.vmo_create(P, 0)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, 0, first, 0, P)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, P, second, 0, P)
        zx.vmo_write(first, b"a", 0)
        zx.vmo_write(second, b"b", 0)
        zx.vmar_op_range(region, zx.ZX_VMAR_OP_DECOMMIT, base, 2 * P)
        return zx.vmo_read(first, 1, 0), zx.vmo_read(second, 1, 0)

    assert run_guest(body) == (b"\x00", b"\x00")


def test_commit_commits_mapped_range():
    def body() -> int:
        vmo, address = mapped(4)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_COMMIT, address + P, 2 * P)
        return committed(vmo)

    assert run_guest(body) == 2 * P


def test_commit_through_offset_mapping():
    def body() -> bytes:
        vmo = zx.vmo_create(4 * P, 0)
        zx.vmo_write(vmo, b"z", 2 * P)
        child = zx.vmo_create_child(vmo, zx.ZX_VMO_CHILD_SNAPSHOT, 0, 4 * P)
        address = zx.vmar_map(root(), RW, 0, child, 2 * P, 2 * P)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_COMMIT, address, P)
        return zx.vmo_read(child, 1, 2 * P)

    assert run_guest(body) == b"z"


@pytest.mark.parametrize("written", [0, 1, 2])
def test_map_range_any_commit_state(written):
    """MAP_RANGE succeeds on uncommitted, partly and fully committed pages."""

    def body() -> int:
        vmo, address = mapped(2)
        for page in range(written):
            zx.vmo_write(vmo, b"m", page * P)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_MAP_RANGE, address, 2 * P)
        return committed(vmo)

    assert run_guest(body) == written * P


def test_zero_reads_zero():
    def body() -> tuple[bytes, int]:
        vmo, address = mapped(2)
        zx.vmo_write(vmo, b"\x55" * (2 * P), 0)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_ZERO, address, 2 * P)
        return zx.vmo_read(vmo, 2 * P, 0), committed(vmo)

    assert run_guest(body) == (bytes(2 * P), 0)


def test_zero_read_only_mapping_of_read_only_handle():
    """ZERO on a read-only mapping is denied when it can never be writable."""

    def body() -> None:
        _vmo, address = mapped(perms=R, vmo_rights=zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmar_op_range, root(), zx.ZX_VMAR_OP_ZERO, address, P
        )

    run_guest(body)


def test_zero_snapshot_mapping_leaves_parent():
    def body() -> tuple[bytes, bytes]:
        parent = zx.vmo_create(P, 0)
        zx.vmo_write(parent, b"keep", 0)
        child = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        address = zx.vmar_map(root(), RW, 0, child, 0, P)
        zx.vmar_op_range(root(), zx.ZX_VMAR_OP_ZERO, address, P)
        return zx.vmo_read(child, 4, 0), zx.vmo_read(parent, 4, 0)

    assert run_guest(body) == (bytes(4), b"keep")


@pytest.mark.parametrize("op", HINT_OPS)
def test_hints_change_nothing(op):
    def body() -> int:
        vmo, address = mapped(2)
        zx.vmo_write(vmo, b"h", 0)
        zx.vmar_op_range(root(), op, address, 2 * P)
        return committed(vmo)

    assert run_guest(body) == P
