"""Object-level tests of VmObjectPaged: data, size, committed pages and buffer lifetime."""

import pytest

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_UNAVAILABLE,
)
from pyzircon.abi.vm import ZX_VM_CAN_MAP_MASK, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.aspace import AspaceKind, VmAspace
from pyzircon.kernel.vm.vmar import Placement
from pyzircon.kernel.vm.vmo import VMO_MAX_SIZE, VmObjectPaged, live_buffer_count

P = PAGE_SIZE
RW = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ZxError) as caught:
        call(*args, **kwargs)
    return caught.value.status


def _aspace() -> VmAspace:
    return VmAspace(0x10_0000, 0x1000 * P, "test", AspaceKind.USER)


def _map(aspace: VmAspace, vmo: VmObjectPaged, size: int, vmo_offset: int = 0):
    return aspace.root_vmar.map(
        0, size, vmo, vmo_offset, RW, ZX_VM_CAN_MAP_MASK, Placement.ANYWHERE, P
    )


# Creation.


def test_create_zero_size():
    vmo = VmObjectPaged(0, resizable=False)
    assert vmo.size == 0
    assert vmo.read(0, 0) == b""


def test_create_unaligned_size():
    assert _status(VmObjectPaged, P + 1, resizable=False) == ZX_ERR_INVALID_ARGS


def test_create_negative_size():
    assert _status(VmObjectPaged, -P, resizable=False) == ZX_ERR_OUT_OF_RANGE


def test_create_above_max_size():
    assert _status(VmObjectPaged, VMO_MAX_SIZE + P, resizable=False) == ZX_ERR_OUT_OF_RANGE


def test_name_truncated():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.name = "x" * 40
    assert vmo.name == "x" * 31


def test_name_cut_at_nul():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.name = b"abc\x00def"
    assert vmo.name == "abc"


# Read and write.


def test_fresh_reads_zero():
    vmo = VmObjectPaged(4 * P, resizable=False)
    assert vmo.read(0, 4 * P) == bytes(4 * P)


def test_write_then_read():
    vmo = VmObjectPaged(2 * P, resizable=False)
    vmo.write(P - 2, b"spans")
    assert vmo.read(P - 2, 5) == b"spans"


def test_read_into_buffer():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.write(8, b"12345678")
    out = bytearray(4)
    vmo.read_into(10, memoryview(out))
    assert out == b"3456"


def test_read_past_end():
    vmo = VmObjectPaged(P, resizable=False)
    assert _status(vmo.read, P - 1, 2) == ZX_ERR_OUT_OF_RANGE


def test_read_offset_past_end():
    vmo = VmObjectPaged(P, resizable=False)
    assert _status(vmo.read, P + 1, 0) == ZX_ERR_OUT_OF_RANGE


def test_read_negative_offset():
    vmo = VmObjectPaged(P, resizable=False)
    assert _status(vmo.read, -1, 1) == ZX_ERR_OUT_OF_RANGE


def test_write_past_end():
    vmo = VmObjectPaged(P, resizable=False)
    assert _status(vmo.write, P - 1, b"ab") == ZX_ERR_OUT_OF_RANGE


def test_write_past_end_changes_nothing():
    vmo = VmObjectPaged(P, resizable=False)
    with pytest.raises(ZxError):
        vmo.write(P - 1, b"ab")
    assert vmo.read(P - 1, 1) == b"\x00"
    assert vmo.committed_bytes == 0


def test_read_trim_cuts_at_size():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.write(P - 2, b"xy")
    assert vmo.read(P - 2, 10, trim=True) == b"xy"


def test_read_trim_past_end_is_empty():
    vmo = VmObjectPaged(P, resizable=False)
    assert vmo.read(2 * P, 10, trim=True) == b""


# Committed pages.


def test_reads_commit_nothing():
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.read(0, 4 * P)
    assert vmo.committed_bytes == 0


def test_write_commits_touched_pages():
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.write(P - 1, b"ab")
    assert vmo.committed_bytes == 2 * P


def test_rewrite_commits_once():
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.write(0, b"a")
    vmo.write(1, b"b")
    assert vmo.committed_bytes == P


def test_empty_write_commits_nothing():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.write(0, b"")
    assert vmo.committed_bytes == 0


def test_committed_in_range():
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.write(P, b"a")
    vmo.write(3 * P, b"b")
    assert vmo.committed_bytes_in_range(0, 2 * P) == P
    assert vmo.committed_bytes_in_range(2 * P, 2 * P) == P
    assert vmo.committed_bytes_in_range(0, 4 * P) == 2 * P


def test_committed_in_range_clipped_to_size():
    vmo = VmObjectPaged(2 * P, resizable=False)
    vmo.write(P, b"a")
    assert vmo.committed_bytes_in_range(P, 10 * P) == P
    assert vmo.committed_bytes_in_range(5 * P, P) == 0


# Size.


def test_set_size_not_resizable():
    vmo = VmObjectPaged(P, resizable=False)
    assert _status(vmo.set_size, 2 * P) == ZX_ERR_UNAVAILABLE
    assert vmo.size == P


def test_set_size_unaligned():
    vmo = VmObjectPaged(P, resizable=True)
    assert _status(vmo.set_size, P + 1) == ZX_ERR_INVALID_ARGS


def test_set_size_above_max():
    vmo = VmObjectPaged(P, resizable=True)
    assert _status(vmo.set_size, VMO_MAX_SIZE + P) == ZX_ERR_OUT_OF_RANGE


def test_grow_reads_zeros():
    vmo = VmObjectPaged(P, resizable=True)
    vmo.write(0, b"keep")
    vmo.set_size(8 * P)
    assert vmo.read(0, 4) == b"keep"
    assert vmo.read(P, 7 * P) == bytes(7 * P)


def test_shrink_then_grow_reads_zeros():
    vmo = VmObjectPaged(4 * P, resizable=True)
    vmo.write(0, b"\xaa" * (4 * P))
    vmo.set_size(P)
    vmo.set_size(4 * P)
    assert vmo.read(0, P) == b"\xaa" * P
    assert vmo.read(P, 3 * P) == bytes(3 * P)


def test_shrink_frees_committed_pages():
    vmo = VmObjectPaged(4 * P, resizable=True)
    vmo.write(0, b"\x01" * (4 * P))
    vmo.set_size(P)
    assert vmo.committed_bytes == P


def test_shrink_then_read_past_size():
    vmo = VmObjectPaged(4 * P, resizable=True)
    vmo.set_size(P)
    assert _status(vmo.read, P, 1) == ZX_ERR_OUT_OF_RANGE


def test_grow_past_capacity_keeps_data():
    vmo = VmObjectPaged(P, resizable=True)
    vmo.write(P - 3, b"end")
    generation = vmo.buffer_generation
    vmo.set_size(64 * P)
    assert vmo.buffer_generation == generation + 1
    assert vmo.read(P - 3, 3) == b"end"
    assert vmo.committed_bytes == P


def test_grow_zero_size_vmo():
    vmo = VmObjectPaged(0, resizable=True)
    vmo.set_size(2 * P)
    vmo.write(P, b"z")
    assert vmo.read(P, 1) == b"z"


# Buffer lifetime.


def test_release_frees_buffer():
    before = live_buffer_count()
    vmo = VmObjectPaged(P, resizable=False)
    assert live_buffer_count() == before + 1
    vmo.release()
    assert live_buffer_count() == before


def test_released_vmo_has_no_pages():
    vmo = VmObjectPaged(P, resizable=False)
    vmo.release()
    assert _status(vmo.read, 0, 1) == ZX_ERR_BAD_STATE


def test_grow_frees_old_buffer():
    before = live_buffer_count()
    vmo = VmObjectPaged(P, resizable=True)
    vmo.set_size(16 * P)
    assert live_buffer_count() == before + 1
    vmo.release()
    assert live_buffer_count() == before


def test_mapping_keeps_buffer_alive():
    before = live_buffer_count()
    aspace = _aspace()
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    vmo.release()
    assert live_buffer_count() == before + 1
    aspace.root_vmar.unmap(mapping.base, P, op_children=True)
    assert live_buffer_count() == before


def test_aspace_destroy_frees_released_buffer():
    before = live_buffer_count()
    aspace = _aspace()
    vmo = VmObjectPaged(P, resizable=False)
    _map(aspace, vmo, P)
    _map(aspace, vmo, P)
    vmo.release()
    aspace.destroy()
    assert live_buffer_count() == before


def test_partial_unmap_keeps_released_pages():
    """Regression: splitting a mapping of a released VMO freed the pages it still maps."""
    aspace = _aspace()
    vmo = VmObjectPaged(3 * P, resizable=False)
    vmo.write(0, b"head")
    vmo.write(2 * P, b"tail")
    mapping = _map(aspace, vmo, 3 * P)
    vmo.release()
    aspace.root_vmar.unmap(mapping.base + P, P, op_children=True)
    assert aspace.load(mapping.base, 4) == b"head"
    assert aspace.load(mapping.base + 2 * P, 4) == b"tail"


def test_partial_protect_keeps_released_pages():
    """Regression: splitting a mapping by protect freed the pages of a released VMO."""
    aspace = _aspace()
    vmo = VmObjectPaged(2 * P, resizable=False)
    vmo.write(P, b"data")
    mapping = _map(aspace, vmo, 2 * P)
    vmo.release()
    aspace.root_vmar.protect(mapping.base, P, ZX_VM_PERM_READ, op_children=True)
    assert aspace.load(mapping.base + P, 4) == b"data"


# Mappings seen from the VMO.


def test_mappings_registered():
    aspace = _aspace()
    vmo = VmObjectPaged(P, resizable=False)
    first = _map(aspace, vmo, P)
    second = _map(aspace, vmo, P)
    assert vmo.mappings == (first, second)
    assert vmo.num_mappings == 2


def test_unmap_unregisters_mapping():
    aspace = _aspace()
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    aspace.root_vmar.unmap(mapping.base, P, op_children=True)
    assert vmo.num_mappings == 0


def test_split_counts_pieces():
    aspace = _aspace()
    vmo = VmObjectPaged(3 * P, resizable=False)
    mapping = _map(aspace, vmo, 3 * P)
    aspace.root_vmar.unmap(mapping.base + P, P, op_children=True)
    assert vmo.num_mappings == 2


def test_share_count_one_aspace():
    aspace = _aspace()
    vmo = VmObjectPaged(P, resizable=False)
    _map(aspace, vmo, P)
    _map(aspace, vmo, P)
    assert vmo.share_count() == 1


def test_share_count_two_aspaces():
    vmo = VmObjectPaged(P, resizable=False)
    _map(_aspace(), vmo, P)
    _map(_aspace(), vmo, P)
    assert vmo.share_count() == 2


def test_share_count_unmapped():
    vmo = VmObjectPaged(P, resizable=False)
    assert vmo.share_count() == 1
