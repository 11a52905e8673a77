"""Object-level tests of VmAspace: guest loads and stores, faults, usage and teardown."""

from fractions import Fraction

import pytest

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_STATE,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.abi.vm import (
    ZX_VM_CAN_MAP_EXECUTE,
    ZX_VM_CAN_MAP_MASK,
    ZX_VM_CAN_MAP_READ,
    ZX_VM_CAN_MAP_SPECIFIC,
    ZX_VM_CAN_MAP_WRITE,
    ZX_VM_PERM_READ,
    ZX_VM_PERM_WRITE,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.aspace import ROOT_VMAR_FLAGS, AspaceKind, AspaceUsage, PageFault, VmAspace
from pyzircon.kernel.vm.vmar import Placement, VmMapping
from pyzircon.kernel.vm.vmo import VmObjectPaged

P = PAGE_SIZE
BASE = 0x10_0000
R = ZX_VM_PERM_READ
RW = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE


@pytest.fixture
def aspace() -> VmAspace:
    return VmAspace(BASE, 64 * P, "test", AspaceKind.USER)


def _map(aspace: VmAspace, vmo: VmObjectPaged, size: int, *, perms: int = RW, offset: int = 0):
    placement = Placement.SPECIFIC if offset else Placement.ANYWHERE
    return aspace.root_vmar.map(offset, size, vmo, 0, perms, ZX_VM_CAN_MAP_MASK, placement, P)


def _fault(call, *args) -> PageFault:
    with pytest.raises(PageFault) as caught:
        call(*args)
    return caught.value


# Construction.


def test_root_vmar_flags(aspace):
    assert aspace.root_vmar.flags == ROOT_VMAR_FLAGS
    assert ROOT_VMAR_FLAGS == (
        ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE
    )


def test_root_vmar_covers_aspace(aspace):
    assert aspace.root_vmar.base == BASE
    assert aspace.root_vmar.size == 64 * P
    assert aspace.end == BASE + 64 * P


def test_contains_bounds(aspace):
    assert aspace.contains(BASE)
    assert aspace.contains(aspace.end - 1)
    assert not aspace.contains(aspace.end)
    assert not aspace.contains(BASE - 1)


# Loads and stores.


def test_store_then_load(aspace):
    vmo = VmObjectPaged(2 * P, resizable=False)
    mapping = _map(aspace, vmo, 2 * P)
    aspace.store(mapping.base + P - 2, b"wxyz")
    assert aspace.load(mapping.base + P - 2, 4) == b"wxyz"
    assert vmo.read(P - 2, 4) == b"wxyz"


def test_load_sees_vmo_write(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    vmo.write(100, b"hi")
    assert aspace.load(mapping.base + 100, 2) == b"hi"


def test_load_across_adjacent_mappings(aspace):
    first = VmObjectPaged(P, resizable=False)
    second = VmObjectPaged(P, resizable=False)
    first.write(P - 1, b"a")
    second.write(0, b"b")
    mapping = _map(aspace, first, P)
    _map(aspace, second, P)
    assert aspace.load(mapping.base + P - 1, 2) == b"ab"


def test_load_unmapped_not_found(aspace):
    fault = _fault(aspace.load, BASE + 8 * P, 1)
    assert fault.status == ZX_ERR_NOT_FOUND
    assert fault.address == BASE + 8 * P
    assert fault.access == "read"


def test_load_outside_aspace_not_found(aspace):
    assert _fault(aspace.load, BASE - P, 1).status == ZX_ERR_NOT_FOUND


def test_load_runs_into_gap(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    fault = _fault(aspace.load, mapping.base + P - 1, 2)
    assert fault.status == ZX_ERR_NOT_FOUND
    assert fault.address == mapping.end


def test_store_read_only_access_denied(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P, perms=R)
    fault = _fault(aspace.store, mapping.base + 8, b"x")
    assert fault.status == ZX_ERR_ACCESS_DENIED
    assert fault.address == mapping.base + 8
    assert fault.access == "write"


def test_load_no_perms_access_denied(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P, perms=0)
    assert _fault(aspace.load, mapping.base, 1).status == ZX_ERR_ACCESS_DENIED


def test_load_past_vmo_end_out_of_range(aspace):
    vmo = VmObjectPaged(P, resizable=True)
    mapping = _map(aspace, vmo, 2 * P)
    assert aspace.load(mapping.base, 1) == b"\x00"
    fault = _fault(aspace.load, mapping.base + P, 1)
    assert fault.status == ZX_ERR_OUT_OF_RANGE
    assert fault.address == mapping.base + P


def test_load_running_past_vmo_end(aspace):
    vmo = VmObjectPaged(P, resizable=True)
    mapping = _map(aspace, vmo, 2 * P)
    fault = _fault(aspace.load, mapping.base + P - 4, 8)
    assert fault.status == ZX_ERR_OUT_OF_RANGE
    assert fault.address == mapping.base + P


def test_load_after_shrink_out_of_range(aspace):
    vmo = VmObjectPaged(2 * P, resizable=True)
    mapping = _map(aspace, vmo, 2 * P)
    vmo.set_size(P)
    assert _fault(aspace.load, mapping.base + P, 1).status == ZX_ERR_OUT_OF_RANGE


def test_faulting_store_writes_nothing(aspace):
    writable = VmObjectPaged(P, resizable=False)
    read_only = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, writable, P)
    _map(aspace, read_only, P, perms=R)
    with pytest.raises(PageFault):
        aspace.store(mapping.base + P - 2, b"abcd")
    assert writable.read(P - 2, 2) == b"\x00\x00"
    assert writable.committed_bytes == 0


def test_fault_message_names_status(aspace):
    fault = _fault(aspace.load, BASE, 1)
    assert "ZX_ERR_NOT_FOUND" in str(fault)


def test_load_after_unmap_not_found(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    aspace.root_vmar.unmap(mapping.base, P, op_children=True)
    assert _fault(aspace.load, mapping.base, 1).status == ZX_ERR_NOT_FOUND


def test_store_after_protect_access_denied(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    aspace.root_vmar.protect(mapping.base, P, R, op_children=True)
    assert _fault(aspace.store, mapping.base, b"x").status == ZX_ERR_ACCESS_DENIED


def test_zero_length_load(aspace):
    assert aspace.load(BASE, 0) == b""


# Usage.


def test_usage_empty(aspace):
    assert aspace.usage() == AspaceUsage(0, 0, 0, Fraction(0))


def test_usage_mapped_without_commit(aspace):
    _map(aspace, VmObjectPaged(4 * P, resizable=False), 4 * P)
    assert aspace.usage() == AspaceUsage(4 * P, 0, 0, Fraction(0))


def test_usage_private(aspace):
    """Regression: private bytes were also counted in the scaled shared figure."""
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.write(0, b"\x01" * (2 * P))
    _map(aspace, vmo, 4 * P)
    assert aspace.usage() == AspaceUsage(4 * P, 2 * P, 0, Fraction(0))


def test_usage_counts_only_mapped_part(aspace):
    vmo = VmObjectPaged(4 * P, resizable=False)
    vmo.write(0, b"\x01" * (4 * P))
    aspace.root_vmar.map(0, P, vmo, 2 * P, RW, ZX_VM_CAN_MAP_MASK, Placement.ANYWHERE, P)
    assert aspace.usage().private == P


def test_usage_shared_between_aspaces(aspace):
    other = VmAspace(BASE, 64 * P, "other", AspaceKind.USER)
    vmo = VmObjectPaged(2 * P, resizable=False)
    vmo.write(0, b"\x01" * (2 * P))
    _map(aspace, vmo, 2 * P)
    _map(other, vmo, 2 * P)
    assert aspace.usage() == AspaceUsage(2 * P, 0, 2 * P, Fraction(P))


def test_usage_three_way_share(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    vmo.write(0, b"x")
    _map(aspace, vmo, P)
    for name in ("b", "c"):
        _map(VmAspace(BASE, 64 * P, name, AspaceKind.USER), vmo, P)
    assert aspace.usage().scaled_shared == Fraction(P, 3)


def test_usage_after_unmap(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    vmo.write(0, b"x")
    mapping = _map(aspace, vmo, P)
    aspace.root_vmar.unmap(mapping.base, P, op_children=True)
    assert aspace.usage() == AspaceUsage(0, 0, 0, Fraction(0))


# Teardown.


def test_destroy_removes_mappings(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    aspace.destroy()
    assert aspace.is_destroyed
    assert aspace.find_mapping(mapping.base) is None
    assert vmo.num_mappings == 0


def test_destroy_idempotent(aspace):
    aspace.destroy()
    aspace.destroy()
    assert aspace.is_destroyed


def test_walk_after_destroy(aspace):
    aspace.destroy()
    with pytest.raises(ZxError) as caught:
        aspace.walk()
    assert caught.value.status == ZX_ERR_BAD_STATE


def test_load_after_destroy_not_found(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    mapping = _map(aspace, vmo, P)
    aspace.destroy()
    assert _fault(aspace.load, mapping.base, 1).status == ZX_ERR_NOT_FOUND


def test_mappings_listed_in_order(aspace):
    vmo = VmObjectPaged(P, resizable=False)
    second = _map(aspace, vmo, P, offset=4 * P)
    first = _map(aspace, vmo, P, offset=P)
    assert list(aspace.mappings()) == [first, second]
    assert all(isinstance(node, VmMapping) for node in aspace.mappings())


class DestroyRecorder:
    def __init__(self) -> None:
        self.destroyed = 0

    def on_unmap(self, base: int, size: int) -> None:
        pass

    def on_protect(self, base: int, size: int, perms: int) -> None:
        pass

    def on_destroy(self) -> None:
        self.destroyed += 1


def test_destroy_notifies_listeners_once() -> None:
    space = VmAspace(0x200000, 16 * 4096, "test", AspaceKind.USER)
    recorder = DestroyRecorder()
    space.add_listener(recorder)
    space.destroy()
    space.destroy()
    assert recorder.destroyed == 1
