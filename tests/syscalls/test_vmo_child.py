"""zx_vmo_create_child: one test per check, then the rights, names and sizes of children."""

from __future__ import annotations

import pytest

from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
SNAPSHOT = zx.ZX_VMO_CHILD_SNAPSHOT
SLICE = zx.ZX_VMO_CHILD_SLICE
RESIZABLE = zx.ZX_VMO_CHILD_RESIZABLE
NO_WRITE = zx.ZX_VMO_CHILD_NO_WRITE
SNAPSHOT_KINDS = [
    zx.ZX_VMO_CHILD_SNAPSHOT,
    zx.ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
]
ALL_KINDS = [*SNAPSHOT_KINDS, SLICE]
BAD_COUNTS = [-1, 1 << 64, None, "16", 1.0, True]


def rights_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights


def vmo(pages: int = 2, options: int = 0) -> int:
    return zx.vmo_create(pages * P, options)


# Check 1: the size.


@pytest.mark.parametrize("size", BAD_COUNTS)
def test_size_not_a_count(size):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), SNAPSHOT, 0, size)
    )


@pytest.mark.parametrize("size", [U64_MAX, U64_MAX - P + 1])
def test_size_rounds_past_max(size):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_create_child, vmo(), SNAPSHOT, 0, size)
    )


def test_size_checked_before_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_create_child, 0x12345, SNAPSHOT, 0, U64_MAX
        )
    )


# Check 2: the option word and NO_WRITE with RESIZABLE.


@pytest.mark.parametrize("options", [-1, 1 << 32, None, "1"])
def test_options_not_a_word(options):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), options, 0, P)
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_no_write_with_resizable(kind):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), kind | NO_WRITE | RESIZABLE, 0, P
        )
    )


def test_no_write_with_resizable_before_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmo_create_child,
            0x12345,
            SNAPSHOT | NO_WRITE | RESIZABLE,
            0,
            P,
        )
    )


def test_no_write_resizable_parent_irrelevant():
    def body() -> None:
        parent = vmo(1, zx.ZX_VMO_RESIZABLE)
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmo_create_child,
            parent,
            SNAPSHOT | NO_WRITE | RESIZABLE,
            0,
            P,
        )
        zx.vmo_create_child(parent, SNAPSHOT | NO_WRITE, 0, P)

    run_guest(body)


# Check 3: the handle.


def test_bad_handle():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_create_child, 0x12345, SNAPSHOT, 0, P)
    )


def test_closed_handle():
    def body() -> None:
        parent = vmo()
        zx.handle_close(parent)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_create_child, parent, SNAPSHOT, 0, P)

    run_guest(body)


def test_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.vmo_create_child, zx.event_create(0), SNAPSHOT, 0, P
        )
    )


@pytest.mark.parametrize("missing", [zx.ZX_RIGHT_DUPLICATE, zx.ZX_RIGHT_READ])
def test_missing_right(missing):
    def body() -> None:
        parent = vmo()
        reduced = zx.handle_duplicate(parent, zx.ZX_DEFAULT_VMO_RIGHTS & ~missing)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_create_child, reduced, SNAPSHOT, 0, P)

    run_guest(body)


def test_rights_checked_before_options():
    def body() -> None:
        parent = vmo()
        reduced = zx.handle_duplicate(parent, zx.ZX_RIGHT_READ)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_create_child, reduced, 1 << 8, 0, P)

    run_guest(body)


# Check 4: the offset.


@pytest.mark.parametrize("offset", BAD_COUNTS)
def test_offset_not_a_count(offset):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), SNAPSHOT, offset, P
        )
    )


# Check 5: slices.


@pytest.mark.parametrize("extra", [RESIZABLE, SNAPSHOT, zx.ZX_VMO_CHILD_REFERENCE, 1 << 8])
def test_slice_with_other_option(extra):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), SLICE | extra, 0, P
        )
    )


def test_slice_unaligned_offset():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), SLICE, 1, P)
    )


@pytest.mark.parametrize(
    ("offset", "size", "status"),
    [
        (0, 3 * P, zx.ZX_ERR_INVALID_ARGS),
        (P, 2 * P, zx.ZX_ERR_INVALID_ARGS),
        (2 * P, P, zx.ZX_ERR_INVALID_ARGS),
        (0, U64_MAX, zx.ZX_ERR_OUT_OF_RANGE),
        (0, U64_MAX - P + 1, zx.ZX_ERR_OUT_OF_RANGE),
        (U64_MAX - P + 1, P, zx.ZX_ERR_INVALID_ARGS),
        (U64_MAX - P + 1, U64_MAX - P + 1, zx.ZX_ERR_OUT_OF_RANGE),
        (U64_MAX - P + 1, U64_MAX, zx.ZX_ERR_OUT_OF_RANGE),
    ],
)
def test_slice_not_inside_parent(offset, size, status):
    """Zircon's VmoSliceTestCase.NonSlice table, on a resizable parent of two pages."""
    run_guest(
        lambda: expect_status(
            status, zx.vmo_create_child, vmo(2, zx.ZX_VMO_RESIZABLE), SLICE, offset, size
        )
    )


def test_slice_of_resizable_parent():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create_child, vmo(1, zx.ZX_VMO_RESIZABLE), SLICE, 0, P
        )
    )


def test_slice_of_uncached_parent():
    def body() -> None:
        parent = vmo()
        zx.vmo_set_cache_policy(parent, zx.ZX_CACHE_POLICY_UNCACHED)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_create_child, parent, SLICE, 0, P)

    run_guest(body)


def test_slice_zero_sized_at_end():
    def body() -> tuple[int, int]:
        parent = vmo(1)
        first = zx.vmo_create_child(parent, SLICE, 0, 0)
        second = zx.vmo_create_child(parent, SLICE, P, 0)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_read, first, 1, 0)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_write, second, b"x", 0)
        return zx.vmo_get_size(first), zx.vmo_get_size(second)

    assert run_guest(body) == (0, 0)


# Check 6: references.


def test_reference_with_other_option():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.vmo_create_child,
            vmo(),
            zx.ZX_VMO_CHILD_REFERENCE | 1 << 8,
            0,
            0,
        )
    )


def test_reference_not_supported():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create_child, vmo(), zx.ZX_VMO_CHILD_REFERENCE, 0, 0
        )
    )


# Check 7: the kind.


def test_no_kind():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), RESIZABLE, 0, P)
    )


@pytest.mark.parametrize(
    "options",
    [
        SNAPSHOT | zx.ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
        SNAPSHOT | zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
        zx.ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    ],
)
def test_two_kinds(options):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), options, 0, P)
    )


@pytest.mark.parametrize("kind", SNAPSHOT_KINDS)
def test_unknown_option(kind):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), kind | 1 << 9, 0, P
        )
    )


# Check 8: snapshots.


@pytest.mark.parametrize("kind", SNAPSHOT_KINDS)
def test_snapshot_unaligned_offset(kind):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), kind, 10, P)
    )


@pytest.mark.parametrize("kind", SNAPSHOT_KINDS)
def test_snapshot_of_uncached(kind):
    def body() -> None:
        parent = vmo()
        zx.vmo_set_cache_policy(parent, zx.ZX_CACHE_POLICY_WRITE_COMBINING)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_create_child, parent, kind, 0, P)

    run_guest(body)


def test_snapshot_range_overflows():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo(), SNAPSHOT, U64_MAX - P + 1, 2 * P
        )
    )


@pytest.mark.parametrize("kind", SNAPSHOT_KINDS)
def test_snapshot_of_slice(kind):
    def body() -> None:
        piece = zx.vmo_create_child(vmo(), SLICE, 0, P)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create_child, piece, kind, 0, P)

    run_guest(body)


def test_snapshot_past_parent_end():
    def body() -> tuple[int, bytes]:
        parent = vmo(1)
        child = zx.vmo_create_child(parent, SNAPSHOT, 4 * P, 2 * P)
        return zx.vmo_get_size(child), zx.vmo_read(child, 4, P)

    assert run_guest(body) == (2 * P, bytes(4))


# Rights of children.


def child_rights(parent_rights: int, options: int) -> tuple[int, int]:
    def body() -> tuple[int, int]:
        source = vmo()
        if parent_rights & zx.ZX_RIGHT_EXECUTE:
            source = zx.vmo_replace_as_executable(source, zx.ZX_HANDLE_INVALID)
        parent = zx.handle_duplicate(source, parent_rights)
        child = zx.vmo_create_child(parent, options, 0, P)
        return rights_of(parent), rights_of(child)

    return run_guest(body)


PARENT_RIGHT_SETS = [
    zx.ZX_DEFAULT_VMO_RIGHTS,
    zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_DUPLICATE,
    zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP | zx.ZX_RIGHT_DUPLICATE,
    zx.ZX_RIGHT_READ | zx.ZX_RIGHT_EXECUTE | zx.ZX_RIGHT_MAP | zx.ZX_RIGHT_DUPLICATE,
]
PROPERTIES = zx.ZX_RIGHT_GET_PROPERTY | zx.ZX_RIGHT_SET_PROPERTY


@pytest.mark.parametrize("parent_rights", PARENT_RIGHT_SETS)
@pytest.mark.parametrize("kind", SNAPSHOT_KINDS)
def test_snapshot_rights(parent_rights, kind):
    parent, child = child_rights(parent_rights, kind)
    assert child == (parent | PROPERTIES | zx.ZX_RIGHT_WRITE) & ~zx.ZX_RIGHT_EXECUTE


@pytest.mark.parametrize("parent_rights", PARENT_RIGHT_SETS)
def test_snapshot_no_write_rights(parent_rights):
    parent, child = child_rights(parent_rights, SNAPSHOT | NO_WRITE)
    assert child == (parent | PROPERTIES) & ~zx.ZX_RIGHT_WRITE


@pytest.mark.parametrize("parent_rights", PARENT_RIGHT_SETS)
def test_slice_rights(parent_rights):
    parent, child = child_rights(parent_rights, SLICE)
    assert child == parent | PROPERTIES


@pytest.mark.parametrize("parent_rights", PARENT_RIGHT_SETS)
def test_slice_no_write_rights(parent_rights):
    parent, child = child_rights(parent_rights, SLICE | NO_WRITE)
    assert child == (parent | PROPERTIES) & ~zx.ZX_RIGHT_WRITE


def test_slice_keeps_execute():
    def body() -> int:
        parent = zx.vmo_replace_as_executable(vmo(), zx.ZX_HANDLE_INVALID)
        return rights_of(zx.vmo_create_child(parent, SLICE, 0, P))

    assert run_guest(body) & zx.ZX_RIGHT_EXECUTE


def test_resizable_child_gets_resize():
    parent, child = child_rights(zx.ZX_DEFAULT_VMO_RIGHTS, SNAPSHOT | RESIZABLE)
    assert child & zx.ZX_RIGHT_RESIZE
    assert not parent & zx.ZX_RIGHT_RESIZE


def test_child_of_resizable_parent_loses_resize():
    def body() -> int:
        parent = vmo(1, zx.ZX_VMO_RESIZABLE)
        return rights_of(zx.vmo_create_child(parent, SNAPSHOT, 0, P))

    assert not run_guest(body) & zx.ZX_RIGHT_RESIZE


# Names, content size, info of the child.


def test_child_copies_name():
    def body() -> str:
        parent = vmo()
        zx.object_set_property(parent, zx.ZX_PROP_NAME, "heap")
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, P)
        return zx.object_get_property(child, zx.ZX_PROP_NAME)

    assert run_guest(body) == "heap"


def test_child_without_get_property_has_no_name():
    def body() -> str:
        parent = vmo()
        zx.object_set_property(parent, zx.ZX_PROP_NAME, "heap")
        reduced = zx.handle_duplicate(parent, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_DUPLICATE)
        child = zx.vmo_create_child(reduced, SNAPSHOT, 0, P)
        return zx.object_get_property(child, zx.ZX_PROP_NAME)

    assert run_guest(body) == ""


def test_child_content_size_is_unrounded():
    def body() -> tuple[int, int]:
        child = zx.vmo_create_child(vmo(), SNAPSHOT, 0, 100)
        return zx.vmo_get_size(child), zx.object_get_property(child, zx.ZX_PROP_VMO_CONTENT_SIZE)

    assert run_guest(body) == (P, 100)


def test_snapshot_no_write_is_immutable():
    def body() -> list[int]:
        parent = vmo()
        flags = []
        for options in (
            SNAPSHOT | NO_WRITE,
            SNAPSHOT,
            zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED | NO_WRITE,
        ):
            child = zx.vmo_create_child(parent, options, 0, P)
            flags.append(zx.object_get_info(child, zx.ZX_INFO_VMO).flags & zx.ZX_INFO_VMO_IMMUTABLE)
        return flags

    assert run_guest(body) == [zx.ZX_INFO_VMO_IMMUTABLE, 0, 0]


def test_no_write_child_rejects_write():
    def body() -> None:
        child = zx.vmo_create_child(vmo(), SNAPSHOT | NO_WRITE, 0, P)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_write, child, b"x", 0)

    run_guest(body)


def test_zero_children_signal():
    def body() -> list[bool]:
        parent = vmo()

        def active() -> bool:
            try:
                zx.object_wait_one(parent, zx.ZX_VMO_ZERO_CHILDREN, zx.ZX_TIME_INFINITE_PAST)
            except zx.ZxError as error:
                assert error.status == zx.ZX_ERR_TIMED_OUT
                return False
            return True

        states = [active()]
        child = zx.vmo_create_child(parent, SLICE, 0, P)
        states.append(active())
        grandchild = zx.vmo_create_child(child, SLICE, 0, P)
        zx.handle_close(child)
        states.append(active())
        zx.handle_close(grandchild)
        states.append(active())
        return states

    assert run_guest(body) == [True, False, False, True]


def test_set_size_past_root_offset_overflows():
    """zx_vmo_set_size check 6: a snapshot's end, counted from the root VMO, fits 64 bits."""

    def body():
        root = zx.vmo_create(0, 0)
        high = zx.vmo_create_child(root, SNAPSHOT, U64_MAX - 0x8000 + 1, 0)
        child = zx.vmo_create_child(high, SNAPSHOT | RESIZABLE, 0x4000, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_size, child, 0x8000)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_size, child, 0x4000)
        zx.vmo_set_size(child, 0x3000)
        return zx.vmo_get_size(child)

    assert run_guest(body) == 0x3000
