"""ZX_INFO_VMO, ZX_INFO_PROCESS_VMOS and ZX_INFO_TASK_STATS with snapshot children and slices.

Shared pages are split among the VMOs that see them; a page a VMO copied for itself is
private to it. A slice is attributed nothing: its pages belong to the VMO it slices.
"""

from __future__ import annotations

import os

import pytest

from pyzircon import zx
from support import run_guest

P = zx.PAGE_SIZE
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
SNAPSHOT = zx.ZX_VMO_CHILD_SNAPSHOT
FRACTION_ONE = 1 << 63


def info(handle: int):
    return zx.object_get_info(handle, zx.ZX_INFO_VMO)


def written(pages: int) -> int:
    vmo = zx.vmo_create(pages * P, 0)
    zx.vmo_write(vmo, b"\x01" * (pages * P), 0)
    return vmo


def test_child_record_fields():
    def body():
        parent = written(2)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        return info(parent), info(child), zx.object_get_info(parent, zx.ZX_INFO_HANDLE_BASIC).koid

    parent, child, parent_koid = run_guest(body)
    assert child.parent_koid == parent_koid
    assert parent.parent_koid == 0
    assert parent.num_children == 1
    assert child.num_children == 0
    assert parent.flags == zx.ZX_INFO_VMO_TYPE_PAGED | zx.ZX_INFO_VMO_VIA_HANDLE
    assert child.flags == (
        zx.ZX_INFO_VMO_TYPE_PAGED | zx.ZX_INFO_VMO_IS_COW_CLONE | zx.ZX_INFO_VMO_VIA_HANDLE
    )


def test_slice_is_not_cow_clone():
    def body():
        parent = written(1)
        piece = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SLICE, 0, P)
        return info(piece), info(parent).num_children

    piece, children = run_guest(body)
    assert not piece.flags & zx.ZX_INFO_VMO_IS_COW_CLONE
    assert piece.parent_koid != 0
    assert children == 1


def test_slice_attributed_nothing():
    """Zircon's VmoSliceTestCase.AttributedCounts."""

    def body():
        parent = written(1)
        piece = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SLICE, 0, P)
        before = info(parent).populated_bytes, info(piece).populated_bytes
        zx.handle_close(parent)
        return before, info(piece).populated_bytes, zx.vmo_read(piece, 1, 0)

    assert run_guest(body) == ((P, 0), 0, b"\x01")


def test_shared_pages_split():
    def body():
        parent = written(2)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        return info(parent), info(child)

    for record in run_guest(body):
        assert record.populated_bytes == 2 * P
        assert record.committed_bytes == 2 * P
        assert record.populated_scaled_bytes == P
        assert record.committed_scaled_bytes == P
        assert record.populated_private_bytes == 0
        assert record.populated_fractional_scaled_bytes == 0


def test_copied_page_private():
    def body():
        parent = written(2)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        zx.vmo_write(child, b"\x02", 0)
        return info(parent), info(child)

    parent, child = run_guest(body)
    for record in (parent, child):
        assert record.populated_bytes == 2 * P
        assert record.populated_private_bytes == P
        assert record.populated_scaled_bytes == P + P // 2


def test_third_of_a_byte():
    """Zircon's VmoClone2TestCase.Overflow: one page split three ways leaves 1/3 byte."""

    def body():
        parent = written(1)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        zx.vmo_write(child, b"\x02", P)
        grandchild = zx.vmo_create_child(child, SNAPSHOT, 0, 3 * P)
        return [info(handle) for handle in (parent, child, grandchild)]

    parent, child, grandchild = run_guest(body)
    assert parent.populated_scaled_bytes == P // 3
    assert child.populated_scaled_bytes == 5 * P // 6
    assert grandchild.populated_scaled_bytes == 5 * P // 6
    for record in (parent, child, grandchild):
        assert record.populated_fractional_scaled_bytes == FRACTION_ONE // 3
        assert record.committed_fractional_scaled_bytes == FRACTION_ONE // 3


def test_children_count_after_close():
    def body():
        parent = written(1)
        first = zx.vmo_create_child(parent, SNAPSHOT, 0, P)
        zx.vmo_create_child(parent, SNAPSHOT, 0, P)
        zx.handle_close(first)
        return info(parent).num_children

    assert run_guest(body) == 1


def test_metadata_bytes_after_commit():
    """Zircon's VmoTestCase.MetadataBytes: zero until a page is committed."""

    def body():
        vmo = zx.vmo_create(P, 0)
        before = info(vmo).metadata_bytes
        zx.vmo_write(vmo, b"m", 0)
        return before, info(vmo).metadata_bytes

    before, after = run_guest(body)
    assert before == 0
    assert after > 0


def test_process_vmos_lists_snapshot_mappings():
    def body():
        parent = written(2)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        zx.vmar_map(zx.vmar_root_self(), RW, 0, child, 0, 2 * P)
        child_koid = zx.object_get_info(child, zx.ZX_INFO_HANDLE_BASIC).koid
        records = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_VMOS)
        return [record for record in records if record.koid == child_koid]

    via_handle, via_mapping = run_guest(body)
    assert via_handle.flags & zx.ZX_INFO_VMO_VIA_HANDLE
    assert via_mapping.flags & zx.ZX_INFO_VMO_VIA_MAPPING
    for record in (via_handle, via_mapping):
        assert record.flags & zx.ZX_INFO_VMO_IS_COW_CLONE
        assert record.populated_scaled_bytes == P


def _stats_of(process: int):
    return zx.object_get_info(process, zx.ZX_INFO_TASK_STATS)


def test_task_stats_shared_then_copied():
    """A process mapping a snapshot: shared pages first, then a copied page is private."""

    def body():
        process, root = zx.process_create(zx.job_default(), "forked", 0)
        parent = written(4)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 4 * P)
        zx.vmar_map(root, RW, 0, child, 0, 4 * P)
        before = _stats_of(process)
        zx.vmo_write(child, b"\x09", 0)
        return before, _stats_of(process)

    before, after = run_guest(body)
    assert before.mem_mapped_bytes == 4 * P
    assert before.mem_private_bytes == 0
    assert before.mem_shared_bytes == 4 * P
    assert before.mem_scaled_shared_bytes == 2 * P
    assert after.mem_private_bytes == P
    assert after.mem_shared_bytes == 3 * P
    assert after.mem_scaled_shared_bytes == 3 * P // 2


def test_task_stats_two_processes_after_fork():
    def body():
        first, first_root = zx.process_create(zx.job_default(), "first", 0)
        second, second_root = zx.process_create(zx.job_default(), "second", 0)
        heap = written(2)
        zx.vmar_map(first_root, RW, 0, heap, 0, 2 * P)
        copy = zx.vmo_create_child(heap, SNAPSHOT, 0, 2 * P)
        zx.vmar_map(second_root, RW, 0, copy, 0, 2 * P)
        # The heap's copy of page 0 is its own now; the old page 0 is the copy's alone.
        zx.vmo_write(heap, b"\x05", 0)
        return _stats_of(first), _stats_of(second)

    for stats in run_guest(body):
        assert stats.mem_mapped_bytes == 2 * P
        assert stats.mem_private_bytes == P
        assert stats.mem_shared_bytes == P
        assert stats.mem_scaled_shared_bytes == P // 2


def test_task_stats_unchanged_without_snapshots():
    def body():
        process, root = zx.process_create(zx.job_default(), "plain", 0)
        vmo = written(3)
        zx.vmar_map(root, RW, 0, vmo, 0, 3 * P)
        return _stats_of(process)

    stats = run_guest(body)
    assert stats.mem_private_bytes == 3 * P
    assert stats.mem_shared_bytes == 0
    assert stats.mem_scaled_shared_bytes == 0


def test_maps_record_counts_shared_pages():
    def body():
        process, root = zx.process_create(zx.job_default(), "maps", 0)
        parent = written(2)
        child = zx.vmo_create_child(parent, SNAPSHOT, 0, 2 * P)
        zx.vmar_map(root, RW, 0, child, 0, 2 * P)
        maps = zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS)
        return [entry.u for entry in maps if entry.type == zx.ZX_INFO_MAPS_TYPE_MAPPING]

    (mapping,) = run_guest(body)
    assert mapping.committed_bytes == 2 * P
    assert mapping.committed_private_bytes == 0
    assert mapping.committed_scaled_bytes == P


def _resident_bytes() -> int:
    """Return the host resident set size of this Python process (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_gigabyte_snapshot_costs_written_pages():
    """A snapshot of a 1 GiB VMO with 10 pages written costs those pages, not the GiB."""
    size = 1 << 30

    def body():
        before = _resident_bytes()
        vmo = zx.vmo_create(size, 0)
        for page in range(10):
            zx.vmo_write(vmo, b"\x07" * P, page * 1000 * P)
        child = zx.vmo_create_child(vmo, SNAPSHOT, 0, size)
        # One page copied by a write into the snapshot, one into the parent.
        zx.vmo_write(child, b"\x08", 0)
        zx.vmo_write(vmo, b"\x09", 1000 * P)
        records = info(vmo), info(child)
        assert zx.vmo_read(child, 1, 1000 * P) == b"\x07"
        grown = _resident_bytes() - before
        zx.handle_close(child)
        return records, grown

    (parent, child), grown = run_guest(body)
    # Each side owns the page it wrote and alone sees the old copy of the other's page.
    for record in (parent, child):
        assert record.populated_bytes == 10 * P
        assert record.populated_private_bytes == 2 * P
        assert record.populated_scaled_bytes == 2 * P + 8 * P // 2
    # The host keeps 12 pages of data plus page maps, where a copy would take 1 GiB.
    assert grown < 16 << 20, f"the host resident set grew by {grown:,} bytes"
