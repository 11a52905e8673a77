"""zx_vmo_op_range: the checks of each operation, in order, with Zircon's statuses."""

from __future__ import annotations

import pytest

from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
WRITE_OPS = [zx.ZX_VMO_OP_COMMIT, zx.ZX_VMO_OP_DECOMMIT, zx.ZX_VMO_OP_ZERO]
CACHE_OPS = [
    zx.ZX_VMO_OP_CACHE_SYNC,
    zx.ZX_VMO_OP_CACHE_INVALIDATE,
    zx.ZX_VMO_OP_CACHE_CLEAN,
    zx.ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
]
LOCK_OPS = [zx.ZX_VMO_OP_LOCK, zx.ZX_VMO_OP_TRY_LOCK, zx.ZX_VMO_OP_UNLOCK]
CACHE_OP_RIGHT = {
    zx.ZX_VMO_OP_CACHE_SYNC: zx.ZX_RIGHT_READ,
    zx.ZX_VMO_OP_CACHE_INVALIDATE: zx.ZX_RIGHT_WRITE,
    zx.ZX_VMO_OP_CACHE_CLEAN: zx.ZX_RIGHT_READ,
    zx.ZX_VMO_OP_CACHE_CLEAN_INVALIDATE: zx.ZX_RIGHT_READ,
}


def vmo(pages: int = 2) -> int:
    return zx.vmo_create(pages * P, 0)


def without(handle: int, right: int) -> int:
    return zx.handle_duplicate(handle, zx.ZX_DEFAULT_VMO_RIGHTS & ~right)


def committed(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_VMO).committed_bytes


# Handle and argument checks, common to all operations.


def test_bad_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmo_op_range, 0x12345, zx.ZX_VMO_OP_COMMIT, 0, P
        )
    )


def test_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.vmo_op_range, zx.event_create(0), zx.ZX_VMO_OP_COMMIT, 0, P
        )
    )


@pytest.mark.parametrize("op", [0, 5, 15, 1 << 20])
def test_unknown_op(op):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, vmo(), op, 0, P))


def test_lookup_is_retired():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, vmo(), zx.ZX_VMO_OP_LOOKUP, 0, P
        )
    )


@pytest.mark.parametrize("bad", [-1, 1 << 64, None])
def test_range_not_counts(bad):
    def body() -> None:
        handle = vmo()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, handle, zx.ZX_VMO_OP_COMMIT, bad, P)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, handle, zx.ZX_VMO_OP_COMMIT, 0, bad)

    run_guest(body)


# COMMIT, DECOMMIT, ZERO: ZX_RIGHT_WRITE, then the range.


@pytest.mark.parametrize("op", WRITE_OPS)
def test_write_op_needs_write(op):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmo_op_range, without(vmo(), zx.ZX_RIGHT_WRITE), op, 0, P
        )
    )


@pytest.mark.parametrize("op", WRITE_OPS)
def test_write_op_rights_before_range(op):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.vmo_op_range,
            without(vmo(), zx.ZX_RIGHT_WRITE),
            op,
            0,
            10 * P,
        )
    )


@pytest.mark.parametrize("op", [*WRITE_OPS, *CACHE_OPS])
def test_op_out_of_bounds(op):
    """Zircon's VmoTestCase.OpOutOfBounds: two pages on a one-page VMO."""
    run_guest(lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo(1), op, 0, 2 * P))


def test_commit_overflow():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo(), zx.ZX_VMO_OP_COMMIT, P, U64_MAX - P + 1
        )
    )


def test_commit_rounds_out_to_pages():
    def body() -> int:
        handle = vmo(4)
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_COMMIT, P - 1, 2)
        return committed(handle)

    assert run_guest(body) == 2 * P


def test_commit_empty_range():
    def body() -> int:
        handle = vmo()
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_COMMIT, 2 * P, 0)
        return committed(handle)

    assert run_guest(body) == 0


def test_commit_reads_zero():
    def body() -> bytes:
        handle = vmo()
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_COMMIT, 0, 2 * P)
        return zx.vmo_read(handle, 2 * P, 0)

    assert run_guest(body) == bytes(2 * P)


def test_commit_in_snapshot_copies_parent():
    def body() -> tuple[bytes, int, int]:
        parent = vmo()
        zx.vmo_write(parent, b"data", P)
        child = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P)
        zx.vmo_op_range(child, zx.ZX_VMO_OP_COMMIT, 0, 2 * P)
        info = zx.object_get_info(child, zx.ZX_INFO_VMO)
        return zx.vmo_read(child, 4, P), info.committed_private_bytes, committed(parent)

    assert run_guest(body) == (b"data", 2 * P, P)


def test_decommit_reads_zeros():
    def body() -> tuple[bytes, int]:
        handle = vmo()
        zx.vmo_write(handle, b"x" * (2 * P), 0)
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_DECOMMIT, P, P)
        return zx.vmo_read(handle, 2, P - 1), committed(handle)

    assert run_guest(body) == (b"x\x00", P)


@pytest.mark.parametrize(("offset", "size"), [(0x10, 0x100), (0, P + 1), (1, P)])
def test_decommit_unaligned(offset, size):
    """Zircon's VmoTestCase.DecommitMisaligned: rejected even with nothing committed."""
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, vmo(), zx.ZX_VMO_OP_DECOMMIT, offset, size
        )
    )


def test_decommit_range_before_alignment():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo(1), zx.ZX_VMO_OP_DECOMMIT, 1, 2 * P
        )
    )


def test_decommit_empty_unaligned_succeeds():
    run_guest(lambda: zx.vmo_op_range(vmo(), zx.ZX_VMO_OP_DECOMMIT, 3, 0))


def test_decommit_snapshot_child_not_supported():
    def body() -> None:
        child = zx.vmo_create_child(vmo(), zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_op_range, child, zx.ZX_VMO_OP_DECOMMIT, 0, P)

    run_guest(body)


def test_decommit_parent_of_snapshot_not_supported():
    def body() -> None:
        parent = vmo()
        zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_op_range, parent, zx.ZX_VMO_OP_DECOMMIT, 0, P)

    run_guest(body)


def test_decommit_parent_after_snapshot_closed():
    def body() -> bytes:
        parent = vmo()
        zx.vmo_write(parent, b"x", 0)
        child = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        zx.handle_close(child)
        zx.vmo_op_range(parent, zx.ZX_VMO_OP_DECOMMIT, 0, P)
        return zx.vmo_read(parent, 1, 0)

    assert run_guest(body) == b"\x00"


def test_decommit_not_supported_before_alignment():
    def body() -> None:
        child = zx.vmo_create_child(vmo(), zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_op_range, child, zx.ZX_VMO_OP_DECOMMIT, 1, 10)

    run_guest(body)


def test_zero_whole_and_partial_pages():
    def body() -> bytes:
        handle = vmo(3)
        zx.vmo_write(handle, b"\xff" * (3 * P), 0)
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_ZERO, 10, 2 * P)
        return zx.vmo_read(handle, 3 * P, 0)

    data = run_guest(body)
    assert data[:10] == b"\xff" * 10
    assert data[10 : 10 + 2 * P] == bytes(2 * P)
    assert data[10 + 2 * P :] == b"\xff" * (P - 10)


def test_zero_frees_whole_pages():
    def body() -> int:
        handle = vmo(3)
        zx.vmo_write(handle, b"\xff" * (3 * P), 0)
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_ZERO, 0, 2 * P)
        return committed(handle)

    assert run_guest(body) == P


def test_zero_snapshot_child_hides_parent():
    def body() -> tuple[bytes, bytes, int]:
        parent = vmo()
        zx.vmo_write(parent, b"keep", 0)
        child = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P)
        zx.vmo_op_range(child, zx.ZX_VMO_OP_ZERO, 0, P)
        return zx.vmo_read(child, 4, 0), zx.vmo_read(parent, 4, 0), committed(child)

    assert run_guest(body) == (bytes(4), b"keep", 0)


def test_zero_empty_range():
    run_guest(lambda: zx.vmo_op_range(vmo(), zx.ZX_VMO_OP_ZERO, 2 * P, 0))


def test_zero_overflow():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo(), zx.ZX_VMO_OP_ZERO, U64_MAX, 2
        )
    )


# LOCK, TRY_LOCK, UNLOCK: no VMO here is discardable.


@pytest.mark.parametrize("op", LOCK_OPS)
def test_lock_needs_read_or_write(op):
    def body() -> None:
        handle = zx.handle_duplicate(vmo(), zx.ZX_RIGHT_MAP)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_op_range, handle, op, 0, 2 * P)

    run_guest(body)


@pytest.mark.parametrize("op", LOCK_OPS)
@pytest.mark.parametrize("right", [zx.ZX_RIGHT_READ, zx.ZX_RIGHT_WRITE])
def test_lock_not_discardable(op, right):
    def body() -> None:
        handle = zx.handle_duplicate(vmo(), right)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_op_range, handle, op, 0, 2 * P)

    run_guest(body)


# Cache operations: rights, an empty range, the bounds.


@pytest.mark.parametrize("op", CACHE_OPS)
def test_cache_op_needs_right(op):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmo_op_range, without(vmo(8), CACHE_OP_RIGHT[op]), op, 0, 1
        )
    )


@pytest.mark.parametrize("op", CACHE_OPS)
def test_cache_op_ranges(op):
    """Zircon's VmoTestCase.CacheOp table on an eight-page VMO."""
    size = 8 * P

    def body() -> None:
        handle = vmo(8)
        for offset, length in [(0, 1), (1, 1), (0, size), (1, size - 1), (0x5200, 0x1200)]:
            zx.vmo_op_range(handle, op, offset, length)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, handle, op, 0, 0)
        for offset, length in [
            (1, size),
            (size, 1),
            (size + 1, 1),
            (U64_MAX - 1, 1),
            (U64_MAX, U64_MAX),
        ]:
            expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, handle, op, offset, length)

    run_guest(body)


@pytest.mark.parametrize("op", CACHE_OPS)
def test_cache_op_changes_nothing(op):
    def body() -> tuple[bytes, int]:
        handle = vmo()
        zx.vmo_write(handle, b"abc", 5)
        zx.vmo_op_range(handle, op, 0, 2 * P)
        return zx.vmo_read(handle, 3, 5), committed(handle)

    assert run_guest(body) == (b"abc", P)


# Hints and prefetch.


@pytest.mark.parametrize("op", [zx.ZX_VMO_OP_DONT_NEED, zx.ZX_VMO_OP_ALWAYS_NEED])
def test_hints_need_no_right_and_ignore_range(op):
    """Zircon ignores hints on VMOs without a pager, whatever the range."""

    def body() -> int:
        handle = zx.handle_duplicate(vmo(), zx.ZX_RIGHT_NONE)
        zx.vmo_op_range(handle, op, 0, 2 * P)
        zx.vmo_op_range(handle, op, 10 * P, 4 * P)
        return committed(vmo())

    assert run_guest(body) == 0


def test_prefetch_needs_read():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED,
            zx.vmo_op_range,
            without(vmo(), zx.ZX_RIGHT_READ),
            zx.ZX_VMO_OP_PREFETCH,
            0,
            P,
        )
    )


def test_prefetch_out_of_range():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo(1), zx.ZX_VMO_OP_PREFETCH, 0, 2 * P
        )
    )


def test_prefetch_commits_nothing():
    def body() -> int:
        handle = vmo()
        zx.vmo_op_range(handle, zx.ZX_VMO_OP_PREFETCH, 1, P)
        return committed(handle)

    assert run_guest(body) == 0


# Slices share their parent's pages.


def test_slice_decommit_reaches_parent():
    def body() -> bytes:
        parent = vmo()
        zx.vmo_write(parent, b"q", P)
        piece = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SLICE, P, P)
        zx.vmo_op_range(piece, zx.ZX_VMO_OP_DECOMMIT, 0, P)
        return zx.vmo_read(parent, 1, P)

    assert run_guest(body) == b"\x00"


def test_slice_decommit_bounded_by_slice():
    """Zircon's DecommitChildSliceTests: the slice's own size bounds the range."""

    def body() -> None:
        piece = zx.vmo_create_child(vmo(4), zx.ZX_VMO_CHILD_SLICE, P, P)
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, piece, zx.ZX_VMO_OP_DECOMMIT, 0, 2 * P
        )

    run_guest(body)


def test_slice_commit_visible_in_parent():
    def body() -> int:
        parent = vmo()
        piece = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SLICE, 0, P)
        zx.vmo_op_range(piece, zx.ZX_VMO_OP_COMMIT, 0, P)
        return committed(parent)

    assert run_guest(body) == P
