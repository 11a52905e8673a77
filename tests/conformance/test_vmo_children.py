"""Conformance: Zircon's core tests for VMO children, restated.

Sources: zircon/system/utest/core/vmo/vmo-clone2.cc (VmoClone2TestCase), vmo-slice.cc
(VmoSliceTestCase) and vmo.cc (VmoTestCase) in the Fuchsia tree. Tests that need a pager,
a BTI, physical or contiguous VMOs are left out, because pyzircon has none of them.

Memory figures follow Zircon's newer attribution model, which those tests read through
`populated_scaled_bytes`: a page that n VMOs see counts 1/n to each of them, and a page
that only one VMO sees counts whole. The integer byte counts are truncated. The fractions
truncated from them are in `populated_fractional_scaled_bytes`, in fixed point with 63
fractional bits.
"""

from __future__ import annotations

import itertools

import pytest

from memory_support import in_guest
from pyzircon import user, zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
SNAPSHOT = zx.ZX_VMO_CHILD_SNAPSHOT
SLICE = zx.ZX_VMO_CHILD_SLICE
RESIZABLE = zx.ZX_VMO_CHILD_RESIZABLE
NO_WRITE = zx.ZX_VMO_CHILD_NO_WRITE
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
ORIGINAL_DATA = 0xDEADBEEF
NEW_DATA = 0xC0FFEE
# One whole byte in the fixed-point fraction fields.
FRACTION_ONE = 1 << 63
ALL_KINDS = [
    zx.ZX_VMO_CHILD_SNAPSHOT,
    zx.ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    zx.ZX_VMO_CHILD_SLICE,
    zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
]


def write32(vmo: int, value: int, offset: int = 0) -> None:
    zx.vmo_write(vmo, value.to_bytes(4, "little"), offset)


def read32(vmo: int, offset: int = 0) -> int:
    return int.from_bytes(zx.vmo_read(vmo, 4, offset), "little")


def tagged(pages: int) -> int:
    """Create a resizable VMO whose page i starts with the 32-bit value i + 1."""
    vmo = zx.vmo_create(pages * P, zx.ZX_VMO_RESIZABLE)
    for index in range(pages):
        write32(vmo, index + 1, index * P)
    return vmo


def snapshot(vmo: int, offset: int, size: int, options: int = 0) -> int:
    return zx.vmo_create_child(vmo, SNAPSHOT | options, offset, size)


def vmo_info(vmo: int):
    return zx.object_get_info(vmo, zx.ZX_INFO_VMO)


def populated(vmo: int) -> int:
    """Return the bytes attributed to `vmo`, as the core tests' VmoPopulatedBytes does."""
    return vmo_info(vmo).populated_scaled_bytes


def populated_fraction(vmo: int) -> int:
    return vmo_info(vmo).populated_fractional_scaled_bytes


def num_children(vmo: int) -> int:
    return vmo_info(vmo).num_children


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def rights_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights


def zero_children(vmo: int) -> bool:
    """Return whether ZX_VMO_ZERO_CHILDREN is asserted on `vmo`, without blocking."""
    try:
        zx.object_wait_one(vmo, zx.ZX_VMO_ZERO_CHILDREN, zx.ZX_TIME_INFINITE_PAST)
    except zx.ZxError as error:
        assert error.status == zx.ZX_ERR_TIMED_OUT
        return False
    return True


def map_rw(vmo: int, size: int = P) -> int:
    return zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, size)


def load32(address: int) -> int:
    return int.from_bytes(user.load(address, 4), "little")


def store32(address: int, value: int) -> None:
    user.store(address, value.to_bytes(4, "little"))


# VmoClone2TestCase: snapshot children.


@in_guest
def test_clone_info():
    vmo = zx.vmo_create(P, 0)
    original = vmo_info(vmo)
    clone = snapshot(vmo, 0, P)
    after = vmo_info(vmo)
    child = vmo_info(clone)

    assert original.koid == after.koid
    assert child.koid != original.koid
    assert child.parent_koid == original.koid
    original_flags = zx.ZX_INFO_VMO_TYPE_PAGED | zx.ZX_INFO_VMO_VIA_HANDLE
    assert original.flags == original_flags
    assert after.flags == original_flags
    assert child.flags == original_flags | zx.ZX_INFO_VMO_IS_COW_CLONE


@in_guest
def test_clone_read():
    vmo = zx.vmo_create(P, 0)
    write32(vmo, ORIGINAL_DATA)
    clone = snapshot(vmo, 0, P)
    assert read32(vmo) == ORIGINAL_DATA
    assert read32(clone) == ORIGINAL_DATA


@pytest.mark.parametrize("clone_write", [True, False], ids=["clone", "parent"])
def test_vmo_write_isolated(clone_write):
    def body():
        vmo = zx.vmo_create(P, 0)
        write32(vmo, ORIGINAL_DATA)
        clone = snapshot(vmo, 0, P)
        write32(clone if clone_write else vmo, NEW_DATA)
        assert read32(vmo) == (ORIGINAL_DATA if clone_write else NEW_DATA)
        assert read32(clone) == (NEW_DATA if clone_write else ORIGINAL_DATA)

    run_guest(body)


@pytest.mark.parametrize("clone_write", [True, False], ids=["clone", "parent"])
def test_vmar_write_isolated(clone_write):
    def body():
        vmo = zx.vmo_create(P, 0)
        vmo_address = map_rw(vmo)
        store32(vmo_address, ORIGINAL_DATA)
        clone = snapshot(vmo, 0, P)
        clone_address = map_rw(clone)

        store32(clone_address if clone_write else vmo_address, NEW_DATA)

        assert load32(vmo_address) == (ORIGINAL_DATA if clone_write else NEW_DATA)
        assert load32(clone_address) == (NEW_DATA if clone_write else ORIGINAL_DATA)

    run_guest(body)


@pytest.mark.parametrize("close_original", [True, False], ids=["original", "clone"])
def test_close_one_side(close_original):
    def body():
        vmo = zx.vmo_create(P, 0)
        write32(vmo, ORIGINAL_DATA)
        clone = snapshot(vmo, 0, P)
        zx.handle_close(vmo if close_original else clone)
        assert read32(clone if close_original else vmo) == ORIGINAL_DATA

    run_guest(body)


@in_guest
def test_obj_mem_accounting():
    vmo = zx.vmo_create(2 * P, 0)
    write32(vmo, 1, 0)
    write32(vmo, 1, P)
    assert populated(vmo) == 2 * P

    # The two shared pages are split between the original and the clone.
    clone = snapshot(vmo, 0, 2 * P)
    assert populated(vmo) == P
    assert populated(clone) == P

    # A write to the original forks one page: 1 + 1/2 each.
    write32(vmo, 2, 0)
    assert populated(vmo) == 3 * P // 2
    assert populated(clone) == 3 * P // 2

    # A write to the clone forks the other page: both pages are private on both sides.
    write32(clone, 2, P)
    assert populated(vmo) == 2 * P
    assert populated(clone) == 2 * P

    # Writes to pages already forked change nothing.
    write32(vmo, 2, P)
    write32(clone, 2, 0)
    assert populated(vmo) == 2 * P
    assert populated(clone) == 2 * P


@in_guest
def test_zero_page_write():
    vmos = [zx.vmo_create(P, 0)]
    vmos.append(snapshot(vmos[0], 0, P))
    vmos.append(snapshot(vmos[0], 0, P))
    vmos.append(snapshot(vmos[1], 0, P))

    for i in range(4):
        write32(vmos[i], i + 1)
        for j in range(4):
            assert read32(vmos[j]) == (j + 1 if j <= i else 0)
            assert populated(vmos[j]) == (P if j <= i else 0)


@in_guest
def test_split_page_closure():
    vmo = tagged(1)
    clone1 = snapshot(vmo, 0, P)
    clone2 = snapshot(clone1, 0, P)
    write32(clone1, 3)
    write32(clone2, 4)
    assert [populated(v) for v in (vmo, clone1, clone2)] == [P, P, P]

    zx.handle_close(vmo)
    assert read32(clone1) == 3
    assert read32(clone2) == 4
    assert populated(clone1) == P
    assert populated(clone2) == P

    zx.handle_close(clone1)
    assert read32(clone2) == 4
    assert populated(clone2) == P


@in_guest
def test_offset_clone():
    vmo = tagged(3)
    clone = snapshot(vmo, P, 3 * P)
    # The original: 1 + 1/2 + 1/2. The clone: 1/2 + 1/2, and its third page is past the parent.
    assert populated(vmo) == 2 * P
    assert populated(clone) == P
    assert [read32(clone, i * P) for i in range(3)] == [2, 3, 0]

    write32(clone, 4, P)
    zx.handle_close(vmo)

    assert [read32(clone, i * P) for i in range(3)] == [2, 4, 0]
    # The clone keeps no page for its last page, which reads as zeros.
    assert populated(clone) == 2 * P


@in_guest
def test_offset_clone_of_clones():
    vmo = tagged(4)
    offset_clone = snapshot(vmo, P, 3 * P)
    clone1 = snapshot(offset_clone, 0, 2 * P)
    clone2 = snapshot(offset_clone, 2 * P, P)
    assert read32(clone1) == 2
    assert read32(clone1, P) == 3
    assert read32(clone2) == 4

    write32(offset_clone, 4, P)
    zx.handle_close(offset_clone)
    assert read32(clone1) == 2
    assert read32(clone1, P) == 3
    assert read32(clone2) == 4

    # Original: 1 + 1/2 + 1/2 + 1/2. clone1: 1/2 + 1/2. clone2: 1/2.
    assert populated(vmo) == 5 * P // 2
    assert populated(clone1) == P
    assert populated(clone2) == P // 2

    zx.handle_close(clone1)
    assert populated(vmo) == 7 * P // 2
    assert populated(clone2) == P // 2

    zx.handle_close(clone2)
    assert populated(vmo) == 4 * P


@in_guest
def test_offset_progressive_write():
    vmo = tagged(2)
    clone = snapshot(vmo, P, 2 * P)
    assert read32(clone) == 2

    write32(clone, 3)
    assert read32(clone) == 3
    assert read32(vmo) == 1
    assert read32(vmo, P) == 2
    assert populated(vmo) == 2 * P
    assert populated(clone) == P

    # The grandchild cannot see page 0 of the clone, so writing it again costs no page.
    clone2 = snapshot(clone, P, P)
    write32(clone, 4)
    assert populated(vmo) == 2 * P
    assert populated(clone) == P
    assert populated(clone2) == 0

    zx.handle_close(vmo)
    assert read32(clone) == 4
    zx.handle_close(clone2)
    assert read32(clone) == 4
    assert populated(clone) == P


@in_guest
def test_overflow_clone_of_clone():
    vmo = tagged(1)
    clone = snapshot(vmo, 0, 2 * P)
    assert read32(clone) == 1
    assert read32(clone, P) == 0
    assert populated(vmo) == P // 2
    assert populated(clone) == P // 2

    write32(clone, 2, P)
    clone2 = snapshot(clone, 0, 3 * P)
    assert [read32(clone2, i * P) for i in range(3)] == [1, 2, 0]
    # The original's page is seen by three VMOs and the clone's page by two. The byte left
    # over from 4096 / 3 is spread as a third of a byte to each of the three.
    assert populated(vmo) == P // 3
    assert populated(clone) == 5 * P // 6
    assert populated(clone2) == 5 * P // 6
    for handle in (vmo, clone, clone2):
        assert populated_fraction(handle) == FRACTION_ONE // 3

    write32(clone2, 3, 2 * P)
    assert read32(clone2, 2 * P) == 3
    assert populated(vmo) == P // 3
    assert populated(clone) == 5 * P // 6
    assert populated(clone2) == 11 * P // 6
    for handle in (vmo, clone, clone2):
        assert populated_fraction(handle) == FRACTION_ONE // 3

    write32(clone2, 4, 0)
    write32(clone2, 5, P)
    assert read32(vmo) == 1
    assert [read32(clone, i * P) for i in range(2)] == [1, 2]
    assert [read32(clone2, i * P) for i in range(3)] == [4, 5, 3]
    assert populated(vmo) == P // 2
    assert populated(clone) == 3 * P // 2
    assert populated(clone2) == 3 * P

    zx.handle_close(clone)
    assert read32(vmo) == 1
    assert [read32(clone2, i * P) for i in range(3)] == [4, 5, 3]
    assert populated(vmo) == P
    assert populated(clone2) == 3 * P


@in_guest
def test_out_of_bounds_clone():
    vmo = tagged(1)
    clone = snapshot(vmo, 2 * P, 2 * P)
    assert read32(clone) == 0
    assert read32(clone, P) == 0
    assert populated(vmo) == P
    assert populated(clone) == 0

    write32(clone, 2, P)
    clone2 = snapshot(clone, 0, 3 * P)
    assert [read32(clone2, i * P) for i in range(3)] == [0, 2, 0]
    assert populated(vmo) == P
    assert populated(clone) == P // 2
    assert populated(clone2) == P // 2

    write32(clone2, 3, 2 * P)
    assert read32(clone2, 2 * P) == 3
    assert populated(vmo) == P
    assert populated(clone) == P // 2
    assert populated(clone2) == 3 * P // 2


@in_guest
def test_small_clone():
    vmo = tagged(3)
    clone = snapshot(vmo, P, P)
    assert read32(clone) == 2
    assert populated(vmo) == 5 * P // 2
    assert populated(clone) == P // 2

    # Pages of the original that the clone cannot see are written without a copy.
    write32(vmo, 4, 0)
    write32(vmo, 5, 2 * P)
    assert populated(vmo) == 5 * P // 2
    assert populated(clone) == P // 2

    zx.handle_close(vmo)
    assert read32(clone) == 2
    assert populated(clone) == P


@in_guest
def test_small_clone_child():
    vmo = tagged(3)
    clone = snapshot(vmo, P, P)
    assert read32(clone) == 2
    # The grandchild's second page lies past the clone, so it cannot reach the original.
    clone2 = snapshot(clone, 0, 2 * P)
    assert read32(clone2) == 2
    assert read32(clone2, P) == 0


@in_guest
def test_small_clones():
    vmo = tagged(3)
    clone = snapshot(vmo, P, 2 * P)
    write32(clone, 4, P)
    clone2 = snapshot(vmo, 0, P)
    assert read32(clone) == 2
    assert populated(vmo) == 2 * P
    assert populated(clone) == 3 * P // 2
    assert populated(clone2) == P // 2

    zx.handle_close(vmo)
    assert populated(clone) == 2 * P
    assert populated(clone2) == P


def _disjoint_leaves() -> tuple[int, int, list[int]]:
    """Return (vmo, clone, leaves): one leaf snapshot for each page of a 4-page VMO.

    Leaves 0 and 3 are children of the VMO; leaves 1 and 2 are children of an intermediate
    snapshot of its pages 1 and 2.
    """
    vmo = tagged(4)
    clone = snapshot(vmo, P, 2 * P)
    leaves = [
        snapshot(vmo, 0, P),
        snapshot(clone, 0, P),
        snapshot(clone, P, P),
        snapshot(vmo, 3 * P, P),
    ]
    return vmo, clone, leaves


@pytest.mark.parametrize("early_close", [True, False], ids=["early", "late"])
def test_disjoint_clones(early_close):
    def body():
        vmo, clone, leaves = _disjoint_leaves()
        if early_close:
            zx.handle_close(vmo)
            zx.handle_close(clone)

        for i, leaf in enumerate(leaves):
            assert read32(leaf) == i + 1
            write32(leaf, i + 5)

        if not early_close:
            zx.handle_close(vmo)
            zx.handle_close(clone)

        for i, leaf in enumerate(leaves):
            assert read32(leaf) == i + 5
            assert populated(leaf) == P

    run_guest(body)


@in_guest
def test_disjoint_clone_close_orders():
    for order in itertools.permutations(range(4)):
        vmo, clone, leaves = _disjoint_leaves()
        zx.handle_close(vmo)
        zx.handle_close(clone)
        for i, leaf in enumerate(leaves):
            assert read32(leaf) == i + 1

        closed: set[int] = set()
        for index in order:
            zx.handle_close(leaves[index])
            closed.add(index)
            for j, leaf in enumerate(leaves):
                if j not in closed:
                    assert read32(leaf) == j + 1, order
                    assert populated(leaf) == P, order


@in_guest
def test_disjoint_clone_progressive():
    vmo = tagged(6)
    main_clone = snapshot(vmo, P, 5 * P)
    write32(main_clone, 7, 3 * P)
    clone1 = snapshot(main_clone, P, 4 * P)
    clone2 = snapshot(main_clone, 4 * P, P)
    clone3 = snapshot(main_clone, 2 * P, P)
    clone4 = snapshot(main_clone, 10 * P, P)
    for handle in (main_clone, clone1, clone3, clone4, clone2):
        zx.handle_close(handle)

    last_clone = snapshot(vmo, 0, 6 * P)
    for i in range(6):
        assert read32(vmo, i * P) == i + 1
        assert read32(last_clone, i * P) == i + 1

    write32(vmo, 8, 4 * P)
    for i in range(6):
        assert read32(vmo, i * P) == (8 if i == 4 else i + 1)
        assert read32(last_clone, i * P) == i + 1


@pytest.mark.parametrize("resize_child", [True, False], ids=["child", "original"])
def test_resize_frees_pages(resize_child):
    def body():
        vmo = zx.vmo_create(4 * P, zx.ZX_VMO_RESIZABLE)
        for i in range(4):
            write32(vmo, i + 1, i * P)
        clone = snapshot(vmo, 0, 4 * P, RESIZABLE)
        write32(vmo, 5, P)
        write32(clone, 5, 2 * P)
        # Each side forked one page; the two pages nobody wrote are shared: 1/2 + 1 + 1 + 1/2.
        assert populated(vmo) == 3 * P
        assert populated(clone) == 3 * P

        resized, kept = (clone, vmo) if resize_child else (vmo, clone)
        zx.vmo_set_size(resized, P)

        written_page = 1 if resize_child else 2
        for i in range(4):
            assert read32(kept, i * P) == (5 if i == written_page else i + 1)
        assert read32(resized) == 1
        # Only the first page is still shared: 1/2 + 1 + 1 + 1 and 1/2.
        assert populated(kept) == 7 * P // 2
        assert populated(resized) == P // 2

        # Growing again shows zeros, and the kept VMO writes without copying.
        zx.vmo_set_size(resized, 2 * P)
        assert read32(resized, P) == 0
        write32(kept, 6, 3 * P)
        assert populated(kept) == 7 * P // 2
        assert populated(resized) == P // 2

        zx.handle_close(kept)
        assert read32(resized) == 1
        assert populated(resized) == P

    run_guest(body)


@in_guest
def test_resize_grow_reads_zero():
    vmo = tagged(2)
    clone = snapshot(vmo, 0, P, RESIZABLE)
    assert read32(clone) == 1

    zx.vmo_set_size(clone, 2 * P)
    assert read32(clone, P) == 0

    # The original's second page is not the clone's, so writing it forks nothing.
    write32(vmo, 3, P)
    assert read32(clone, P) == 0
    assert populated(vmo) == 3 * P // 2
    assert populated(clone) == P // 2


@in_guest
def test_resize_offset_child():
    vmo = tagged(3)
    clone = snapshot(vmo, P, P)
    zx.vmo_set_size(vmo, 0)
    assert read32(clone) == 2
    assert populated(vmo) == 0
    assert populated(clone) == P


@in_guest
def test_resize_disjoint_children():
    for order in itertools.permutations(range(3)):
        vmo = tagged(3)
        clones = [snapshot(vmo, i * P, P, RESIZABLE) for i in range(3)]
        for i, clone in enumerate(clones):
            assert read32(clone) == i + 1
        assert populated(vmo) == 3 * P // 2
        for clone in clones:
            assert populated(clone) == P // 2

        zx.vmo_set_size(clones[order[0]], 0)
        zx.vmo_set_size(clones[order[1]], 0)
        zx.vmo_set_size(vmo, 0)

        last = clones[order[2]]
        assert read32(last) == order[2] + 1
        assert populated(vmo) == 0
        assert populated(clones[order[0]]) == 0
        assert populated(clones[order[1]]) == 0
        assert populated(last) == P

        zx.vmo_set_size(last, 0)
        assert populated(last) == 0


@in_guest
def test_resize_multiple_progressive():
    vmo = tagged(3)
    clone = snapshot(vmo, 0, 2 * P, RESIZABLE)
    write32(vmo, 4, 0)
    write32(clone, 5, P)
    assert [read32(vmo, i * P) for i in range(3)] == [4, 2, 3]
    assert [read32(clone, i * P) for i in range(2)] == [1, 5]

    clone2 = snapshot(vmo, 0, P)
    assert [read32(vmo, i * P) for i in range(3)] == [4, 2, 3]
    assert read32(clone2) == 4

    zx.vmo_set_size(clone, 0)
    assert [read32(vmo, i * P) for i in range(3)] == [4, 2, 3]
    assert read32(clone2) == 4
    # The original: 1/2 + 1 + 1. The second clone shares the first page: 1/2.
    assert populated(vmo) == 5 * P // 2
    assert populated(clone) == 0
    assert populated(clone2) == P // 2

    zx.vmo_set_size(vmo, 0)
    assert read32(clone2) == 4
    assert populated(vmo) == 0
    assert populated(clone) == 0
    assert populated(clone2) == P


@in_guest
def test_resize_over_sibling_range():
    vmo = tagged(4)
    # The intermediate snapshot keeps the root's pages alive while the VMO shrinks.
    intermediate = snapshot(vmo, 0, 4 * P)
    sibling = snapshot(vmo, 2 * P, P, RESIZABLE)
    assert intermediate != sibling

    zx.vmo_set_size(vmo, P)
    zx.vmo_set_size(vmo, 4 * P)

    # Only the page kept through the shrink shows old data; the rest reads as zeros.
    assert read32(vmo) == 1
    for i in range(1, 4):
        assert read32(vmo, i * P) == 0

    for i in range(1, 4):
        write32(vmo, i + 1, i * P)
    assert [read32(vmo, i * P) for i in range(4)] == [1, 2, 3, 4]
    assert [read32(intermediate, i * P) for i in range(4)] == [1, 2, 3, 4]
    assert read32(sibling) == 3


@in_guest
def test_children_signal():
    vmo = zx.vmo_create(P, 0)
    assert zero_children(vmo)
    clone = snapshot(vmo, 0, P)
    assert not zero_children(vmo)
    assert zero_children(clone)
    zx.handle_close(clone)
    assert zero_children(vmo)


@pytest.mark.parametrize("reverse_close", [False, True], ids=["forward", "reverse"])
def test_many_children(reverse_close):
    def body():
        vmo = zx.vmo_create(P, 0)
        clones = []
        for i in range(5):
            clones.append(snapshot(vmo, 0, P))
            assert num_children(vmo) == i + 1

        order = list(reversed(range(5))) if reverse_close else list(range(5))
        for closed, index in enumerate(order, start=1):
            zx.handle_close(clones[index])
            assert num_children(vmo) == 5 - closed
        assert zero_children(vmo)

    run_guest(body)


@in_guest
def test_many_clone_mapping():
    for order in itertools.permutations(range(4)):
        vmos = [zx.vmo_create(P, 0)]
        write32(vmos[0], ORIGINAL_DATA)
        vmos.append(snapshot(vmos[0], 0, P))
        vmos.append(snapshot(vmos[0], 0, P))
        vmos.append(snapshot(vmos[1], 0, P))
        addresses = [map_rw(vmo) for vmo in vmos]
        for address in addresses:
            assert load32(address) == ORIGINAL_DATA

        written: set[int] = set()
        for index in order:
            store32(addresses[index], NEW_DATA)
            written.add(index)
            for j, address in enumerate(addresses):
                expected = NEW_DATA if j in written else ORIGINAL_DATA
                assert load32(address) == expected, (order, j)

        for address in addresses:
            zx.vmar_unmap(zx.vmar_root_self(), address, P)
        for vmo in vmos:
            zx.handle_close(vmo)


@in_guest
def test_many_clone_offset():
    vmo = zx.vmo_create(P, 0)
    write32(vmo, 1)
    clone1 = snapshot(vmo, 0, P)
    clone2 = snapshot(clone1, P, P)
    assert read32(clone2) == 0
    write32(clone1, 1)
    zx.handle_close(clone1)
    assert read32(vmo) == 1


@in_guest
def test_many_clone_mapping_offset():
    vmos = [zx.vmo_create(2 * P, 0)]
    write32(vmos[0], 1)
    vmos.append(snapshot(vmos[0], 0, 2 * P))
    vmos.append(snapshot(vmos[0], P, P))
    vmos.append(snapshot(vmos[0], 0, 2 * P))
    addresses = [map_rw(vmo) for vmo in vmos]
    for i, address in enumerate(addresses):
        if i != 2:
            assert load32(address) == 1

    write32(vmos[3], 2)
    write32(vmos[1], 3)
    assert load32(addresses[1]) == 3
    assert load32(addresses[3]) == 2
    assert load32(addresses[0]) == 1
    for i, vmo in enumerate(vmos):
        assert populated(vmo) == (0 if i == 2 else P)


@pytest.mark.parametrize("close", [True, False], ids=["close", "truncate"])
def test_progressive_clone_discard(close):
    clones = 6

    def discard(vmo: int) -> None:
        if close:
            zx.handle_close(vmo)
        else:
            zx.vmo_set_size(vmo, 0)

    def expected_value(vmo_index: int, page: int) -> int:
        return clones + 2 if vmo_index != 0 and page == vmo_index else page + 1

    def body():
        vmos = [tagged(clones)]
        assert populated(vmos[0]) == clones * P

        # Each new clone forks a different page.
        for i in range(1, clones):
            vmos.append(snapshot(vmos[0], 0, clones * P, RESIZABLE))
            write32(vmos[i], clones + 2, i * P)
        for i in range(clones):
            for page in range(clones):
                assert read32(vmos[i], page * P) == expected_value(i, page)

        # The original: 1/6 + 5 * 1/5. Each clone adds its forked page to the same shares.
        assert populated(vmos[0]) == 7 * P // 6
        for i in range(1, clones):
            assert populated(vmos[i]) == 59 * P // 6 // (clones - 1)

        discard(vmos[0])
        for i in range(1, clones):
            for page in range(clones):
                assert read32(vmos[i], page * P) == expected_value(i, page)
        for i in range(1, clones):
            assert populated(vmos[i]) == (2 * clones - 1) * P // (clones - 1)

        for i in range(1, clones - 2):
            discard(vmos[i])
        for i in range(clones - 2, clones):
            for page in range(clones):
                assert read32(vmos[i], page * P) == expected_value(i, page)
        for i in range(clones - 2, clones):
            assert populated(vmos[i]) == (clones + 2) * P // 2

    run_guest(body)


@in_guest
def test_uncached_cannot_be_cloned():
    vmo = zx.vmo_create(P, 0)
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_UNCACHED)
    address = map_rw(vmo)
    store32(address, ORIGINAL_DATA)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_create_child, vmo, SNAPSHOT, 0, P)
    assert load32(address) == ORIGINAL_DATA


@in_guest
def test_parent_start_limit_regression():
    root = zx.vmo_create(3 * P, 0)
    middle = snapshot(root, P, 2 * P)
    first = snapshot(middle, 0, P)
    sibling = snapshot(root, 2 * P, P)
    zx.handle_close(root)
    last = snapshot(middle, P, P)
    zx.handle_close(middle)
    last_child = snapshot(last, 0, P)
    zx.handle_close(first)

    for handle in (sibling, last, last_child):
        assert read32(handle) == 0


@in_guest
def test_no_accumulated_overflow():
    vmo = zx.vmo_create(0, 0)
    child1 = snapshot(vmo, U64_MAX - 0x8000 + 1, 0)
    # The grandchild's offset from the root would pass 2^64.
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, child1, SNAPSHOT, 0x8000, 0)
    child2 = snapshot(child1, 0x4000, 0, RESIZABLE)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_size, child2, 0x8000)


@in_guest
def test_zeroed_fork_then_new_snapshot():
    """VmoClone2TestCase.MarkerClearsSplitBits: zero a forked page, drop the child, fork again."""
    vmo = zx.vmo_create(3 * P, 0)
    value = (42).to_bytes(8, "little")
    zx.vmo_write(vmo, value, P)
    child = snapshot(vmo, 0, 3 * P)
    zx.vmo_write(child, value, P)
    zx.vmo_op_range(child, zx.ZX_VMO_OP_ZERO, P, P)
    assert zx.vmo_read(child, 8, P) == bytes(8)
    zx.handle_close(child)

    child = snapshot(vmo, 0, 3 * P)
    zx.vmo_write(child, value, P)
    assert zx.vmo_read(child, 8, P) == value
    assert zx.vmo_read(vmo, 8, P) == value


@in_guest
def test_map_range_read_only_commits_nothing():
    pages = 5
    vmo = zx.vmo_create(pages * P, 0)
    for i in range(pages):
        zx.vmo_write(vmo, (77).to_bytes(8, "little"), i * P)
    assert vmo_info(vmo).populated_bytes == pages * P

    clone = snapshot(vmo, 0, pages * P)
    perms = zx.ZX_VM_MAP_RANGE | zx.ZX_VM_PERM_READ
    address = zx.vmar_map(zx.vmar_root_self(), perms, 0, clone, 0, pages * P)

    assert vmo_info(clone).populated_private_bytes == 0
    assert vmo_info(vmo).populated_bytes == pages * P
    zx.vmar_unmap(zx.vmar_root_self(), address, pages * P)


@in_guest
def test_drop_parent_committed_bytes():
    vmo = tagged(3)
    child = snapshot(vmo, P, 2 * P)
    assert read32(child) == 2
    assert read32(child, P) == 3

    write32(child, 4, P)
    # One page shared with the original and one forked page.
    assert populated(child) == 3 * P // 2

    zx.handle_close(vmo)
    assert read32(child) == 2
    assert read32(child, P) == 4
    assert populated(child) == 2 * P


@in_guest
def test_drop_children_then_parent():
    """VmoClone2TestCase.DropChildrenInParallel, one order at a time: no threads race here."""
    for close_child_first in (True, False):
        vmo = zx.vmo_create(P, 0)
        child = snapshot(vmo, 0, P)
        first, second = (child, vmo) if close_child_first else (vmo, child)
        zx.handle_close(first)
        assert read32(second) == 0
        zx.handle_close(second)


# VmoSliceTestCase: slices.


@in_guest
def test_slice_write_through():
    vmo = zx.vmo_create(4 * P, 0)
    write32(vmo, 42, 0)
    write32(vmo, 42, P)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, P, 2 * P)
    assert read32(slice_vmo) == 42

    write32(slice_vmo, 84, 0)
    write32(slice_vmo, 84, P)
    assert [read32(vmo, i * P) for i in range(4)] == [42, 84, 84, 0]


@in_guest
def test_slice_decommit_parent():
    vmo = zx.vmo_create(P, 0)
    zx.vmo_write(vmo, b"\x2a", 0)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, P)
    assert zx.vmo_read(slice_vmo, 1, 0) == b"\x2a"

    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, 0, P)
    assert zx.vmo_read(slice_vmo, 1, 0) == b"\x00"


@in_guest
def test_slice_nested():
    vmo = zx.vmo_create(2 * P, 0)
    write32(vmo, 42)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, 2 * P)
    slice_slice = zx.vmo_create_child(slice_vmo, SLICE, 0, 2 * P)
    assert read32(slice_slice) == 42

    write32(slice_slice, 84, 0)
    write32(slice_slice, 84, P)
    assert read32(vmo) == 84
    assert read32(vmo, P) == 84


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
    """VmoSliceTestCase.NonSlice, on a resizable parent: the range checks come first."""

    def body():
        vmo = zx.vmo_create(2 * P, zx.ZX_VMO_RESIZABLE)
        expect_status(status, zx.vmo_create_child, vmo, SLICE, offset, size)

    run_guest(body)


@in_guest
def test_slice_non_resizable():
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create_child, resizable, SLICE, 0, P)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, resizable, SLICE | RESIZABLE, 0, P)

    fixed = zx.vmo_create(P, 0)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, fixed, SLICE | RESIZABLE, 0, P)


@in_guest
def test_slice_commit_child():
    vmo = zx.vmo_create(P, 0)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, P)
    zx.vmo_op_range(slice_vmo, zx.ZX_VMO_OP_COMMIT, 0, P)
    zx.vmo_write(slice_vmo, b"\x2a", 0)
    assert zx.vmo_read(vmo, 1, 0) == b"\x2a"


@in_guest
def test_slice_decommit_child():
    vmo = zx.vmo_create(P, 0)
    zx.vmo_write(vmo, b"\x2a", 0)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, P)
    zx.vmo_op_range(slice_vmo, zx.ZX_VMO_OP_DECOMMIT, 0, P)
    assert zx.vmo_read(vmo, 1, 0) == b"\x00"


@in_guest
def test_slice_zero_sized():
    vmo = zx.vmo_create(P, 0)
    slices = [zx.vmo_create_child(vmo, SLICE, 0, 0), zx.vmo_create_child(vmo, SLICE, P, 0)]
    for slice_vmo in slices:
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_read, slice_vmo, 1, 0)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_write, slice_vmo, b"\x2a", 0)


@in_guest
def test_slice_zero_children_signal():
    vmo = zx.vmo_create(P, 0)
    assert zero_children(vmo)
    child = zx.vmo_create_child(vmo, SLICE, 0, P)
    assert not zero_children(vmo)
    zx.handle_close(child)
    assert zero_children(vmo)


@in_guest
def test_slice_zero_children_grandchild_last():
    vmo = zx.vmo_create(P, 0)
    child = zx.vmo_create_child(vmo, SLICE, 0, P)
    grandchild = zx.vmo_create_child(child, SLICE, 0, P)
    assert not zero_children(vmo)

    # The grandchild still counts as a child of the VMO after its own parent is closed.
    zx.handle_close(child)
    assert not zero_children(vmo)
    zx.handle_close(grandchild)
    assert zero_children(vmo)


@in_guest
def test_slice_of_snapshot_then_snapshot():
    """VmoSliceTestCase.CowPageSourceThroughSlices: Zircon rejects a snapshot of a slice."""
    vmo = zx.vmo_create(P, 0)
    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_COMMIT, 0, P)
    cow_child = snapshot(vmo, 0, P)
    slice_vmo = zx.vmo_create_child(cow_child, SLICE, 0, P)
    expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create_child, slice_vmo, SNAPSHOT, 0, P)


@in_guest
def test_slice_rounds_up_size():
    vmo = zx.vmo_create(P, 0)
    zx.vmo_write(vmo, b"\x2a", P - 64)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, 42)
    assert zx.vmo_read(slice_vmo, 1, P - 64) == b"\x2a"


@in_guest
def test_slice_not_cow_type():
    vmo = zx.vmo_create(P, 0)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, P)
    assert not vmo_info(slice_vmo).flags & zx.ZX_INFO_VMO_IS_COW_CLONE


@in_guest
def test_slice_deep_hierarchy():
    vmo = zx.vmo_create(P, 0)
    for _ in range(1000):
        child = zx.vmo_create_child(vmo, SLICE, 0, P)
        zx.handle_close(vmo)
        vmo = child
    zx.vmo_write(vmo, b"\x01", 0)
    assert zx.vmo_read(vmo, 1, 0) == b"\x01"
    zx.handle_close(vmo)


@in_guest
def test_slice_attributed_counts():
    vmo = zx.vmo_create(P, 0)
    write32(vmo, 42)
    slice_vmo = zx.vmo_create_child(vmo, SLICE, 0, P)
    assert read32(slice_vmo) == 42

    assert vmo_info(vmo).populated_bytes == P
    assert vmo_info(slice_vmo).populated_bytes == 0

    zx.handle_close(vmo)
    assert vmo_info(slice_vmo).populated_bytes == 0
    assert read32(slice_vmo) == 42


# VmoTestCase: resize rights, child rights, cache policy, commit and cache operations.


@in_guest
def test_child_resize_right():
    parent = zx.vmo_create(4 * P, 0)
    for kind in ALL_KINDS:
        child = zx.vmo_create_child(parent, kind, 0, 4 * P)
        assert not rights_of(child) & zx.ZX_RIGHT_RESIZE
        expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, child, 5 * P)
        zx.handle_close(child)
        if kind == SLICE:
            continue

        child = zx.vmo_create_child(parent, kind | RESIZABLE, 0, 4 * P)
        rights = rights_of(child)
        assert rights & zx.ZX_RIGHT_RESIZE
        zx.vmo_set_size(child, 5 * P)
        duplicate = zx.handle_duplicate(child, rights & ~zx.ZX_RIGHT_RESIZE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, duplicate, P)


def _check_child_rights(vmo: int) -> None:
    """Check the rights of each kind of child of `vmo`, as ChildPermsTestHelper does."""
    parent_rights = rights_of(vmo)
    properties = zx.ZX_RIGHT_GET_PROPERTY | zx.ZX_RIGHT_SET_PROPERTY
    cases = [
        (SNAPSHOT, (parent_rights | properties | zx.ZX_RIGHT_WRITE) & ~zx.ZX_RIGHT_EXECUTE),
        (SNAPSHOT | NO_WRITE, (parent_rights | properties) & ~zx.ZX_RIGHT_WRITE),
        (SLICE, parent_rights | properties),
        (SLICE | NO_WRITE, (parent_rights | properties) & ~zx.ZX_RIGHT_WRITE),
    ]
    for options, expected in cases:
        child = zx.vmo_create_child(vmo, options, 0, P)
        assert rights_of(child) == expected, hex(options)
        zx.handle_close(child)


@in_guest
def test_child_rights_follow_parent():
    vmo = zx.vmo_create(4 * P, 0)
    executable = zx.vmo_replace_as_executable(zx.vmo_create(4 * P, 0), zx.ZX_HANDLE_INVALID)
    reduced = [
        zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE,
        zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP,
        zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_MAP,
        zx.ZX_RIGHT_READ | zx.ZX_RIGHT_EXECUTE | zx.ZX_RIGHT_MAP,
        zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE | zx.ZX_RIGHT_MAP,
    ]
    _check_child_rights(vmo)
    _check_child_rights(executable)
    for rights in reduced:
        _check_child_rights(zx.handle_duplicate(executable, rights | zx.ZX_RIGHT_DUPLICATE))


@in_guest
def test_no_write_resizable_child():
    for parent_options in (0, zx.ZX_VMO_RESIZABLE):
        vmo = zx.vmo_create(P, parent_options)
        for kind in ALL_KINDS:
            options = kind | NO_WRITE | RESIZABLE
            expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create_child, vmo, options, 0, P)
        zx.handle_close(snapshot(vmo, 0, P, NO_WRITE))


@in_guest
def test_cache_policy_rules():
    vmo = zx.vmo_create(P, 0)
    for policy in (
        zx.ZX_CACHE_POLICY_CACHED,
        zx.ZX_CACHE_POLICY_UNCACHED,
        zx.ZX_CACHE_POLICY_UNCACHED_DEVICE,
        zx.ZX_CACHE_POLICY_WRITE_COMBINING,
    ):
        zx.vmo_set_cache_policy(vmo, policy)
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_cache_policy, vmo, zx.ZX_CACHE_POLICY_MASK + 1)

    # A mapped VMO keeps its policy.
    root = zx.vmar_root_self()
    address = zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, vmo, 0, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, vmo, zx.ZX_CACHE_POLICY_CACHED)
    zx.vmar_unmap(root, address, P)
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_CACHED)

    # So does a VMO with a child, and the child itself.
    clone = snapshot(vmo, 0, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, vmo, zx.ZX_CACHE_POLICY_CACHED)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, clone, zx.ZX_CACHE_POLICY_CACHED)
    zx.handle_close(clone)
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_CACHED)

    # An uncached VMO cannot be cloned, read or written.
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_UNCACHED)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_create_child, vmo, SNAPSHOT, 0, P)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_read, vmo, 1, 0)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_write, vmo, b"c", 0)
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_CACHED)
    zx.handle_close(snapshot(vmo, 0, P))
    assert zx.vmo_read(vmo, 1, 0) == b"\x00"
    zx.vmo_write(vmo, b"c", 0)


@in_guest
def test_commit_and_decommit_aliases():
    size = 4 * P
    vmo = zx.vmo_create(size, 0)
    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_COMMIT, 0, size)
    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, 0, size)
    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_COMMIT, 0, size)

    root = zx.vmar_root_self()
    first = zx.vmar_map(root, RW, 0, vmo, 0, size)
    # A second mapping starts one page in, so its page 0 aliases the first's page 1.
    second = zx.vmar_map(root, RW, 0, vmo, P, size - P)
    store32(first + P, 99)
    assert load32(first + P) == 99
    assert load32(second) == 99

    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, 0, P)
    assert load32(first + P) == 99
    assert load32(second) == 99

    zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, P, P)
    assert load32(first + P) == 0
    assert load32(second) == 0


CACHE_OPS = [
    zx.ZX_VMO_OP_CACHE_SYNC,
    zx.ZX_VMO_OP_CACHE_INVALIDATE,
    zx.ZX_VMO_OP_CACHE_CLEAN,
    zx.ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
]


@pytest.mark.parametrize("op", CACHE_OPS)
def test_cache_op_ranges(op):
    size = 0x8000

    def body():
        vmo = zx.vmo_create(size, 0)
        good = [
            (0, 1),
            (1, 1),
            (0, size),
            (1, size - 1),
            (0x5200, 1),
            (0x5200, 0x800),
            (0x5200, 0x1000),
            (0x5200, 0x1200),
        ]
        for offset, length in good:
            zx.vmo_op_range(vmo, op, offset, length)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_op_range, vmo, op, 0, 0)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo, op, 1, size)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_op_range, vmo, op, size, 1)

    run_guest(body)
