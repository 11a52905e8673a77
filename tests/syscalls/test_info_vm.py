"""zx_object_get_info for the VM topics: one test per check, and the records' contents.

Topics: ZX_INFO_VMO, ZX_INFO_VMAR, ZX_INFO_VMAR_MAPS, ZX_INFO_PROCESS_MAPS,
ZX_INFO_PROCESS_VMOS and ZX_INFO_TASK_STATS.
"""

from dataclasses import dataclass

import pytest

from memory_support import in_guest, start_in, wait_exited
from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
CAN_RW = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE


@dataclass
class Target:
    """A fresh, unstarted process, its root VMAR and a 4-page VMO mapped RW in it."""

    process: int
    root: int
    vmo: int
    address: int


def _target() -> Target:
    process, root = zx.process_create(zx.job_default(), "info-target", 0)
    vmo = zx.vmo_create(4 * P, 0)
    address = zx.vmar_map(root, RW, 0, vmo, 0, 4 * P)
    return Target(process, root, vmo, address)


def _without(handle: int, right: int) -> int:
    rights = zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights
    return zx.handle_duplicate(handle, rights & ~right)


def _closed(handle: int) -> int:
    zx.handle_close(handle)
    return handle


def _park() -> None:
    """Thread body that keeps its process running until the process is killed."""
    while True:
        zx.nanosleep(zx.ZX_TIME_INFINITE)


# ZX_INFO_VMO.


@in_guest
def test_vmo_info_closed_handle():
    expect_status(
        zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(zx.vmo_create(P, 0)), zx.ZX_INFO_VMO
    )


@in_guest
def test_vmo_info_wrong_type():
    target = _target()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, target.root, zx.ZX_INFO_VMO)


@in_guest
def test_vmo_info_needs_no_rights():
    vmo = zx.vmo_create(P, 0)
    bare = zx.handle_duplicate(vmo, zx.ZX_RIGHT_NONE)
    assert zx.object_get_info(bare, zx.ZX_INFO_VMO).handle_rights == zx.ZX_RIGHT_NONE


@pytest.mark.parametrize("capacity", [-1, 1 << 64, "1"])
def test_vmo_info_capacity_not_a_count(capacity):
    def body():
        vmo = zx.vmo_create(P, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.object_get_info, vmo, zx.ZX_INFO_VMO, capacity)

    run_guest(body)


@in_guest
def test_vmo_info_no_room():
    vmo = zx.vmo_create(P, 0)
    expect_status(zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, vmo, zx.ZX_INFO_VMO, 0)


@in_guest
def test_vmo_info_with_room():
    vmo = zx.vmo_create(P, 0)
    records, actual, avail = zx.object_get_info(vmo, zx.ZX_INFO_VMO, 1)
    assert (actual, avail) == (1, 1)
    assert records[0].size_bytes == P


@in_guest
def test_vmo_info_record():
    target = _target()
    zx.object_set_property(target.vmo, zx.ZX_PROP_NAME, "info-vmo")
    zx.vmo_write(target.vmo, b"x", P)
    record = zx.object_get_info(target.vmo, zx.ZX_INFO_VMO)
    assert record.koid == zx.object_get_info(target.vmo, zx.ZX_INFO_HANDLE_BASIC).koid
    assert record.name == "info-vmo"
    assert record.size_bytes == 4 * P
    assert record.flags == zx.ZX_INFO_VMO_TYPE_PAGED | zx.ZX_INFO_VMO_VIA_HANDLE
    assert record.committed_bytes == P
    assert record.num_mappings == 1
    assert record.share_count == 1
    assert record.handle_rights == zx.ZX_DEFAULT_VMO_RIGHTS
    assert record.cache_policy == zx.ZX_CACHE_POLICY_CACHED


@in_guest
def test_vmo_info_resizable_flag():
    vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    assert zx.object_get_info(vmo, zx.ZX_INFO_VMO).flags & zx.ZX_INFO_VMO_RESIZABLE


@in_guest
def test_vmo_info_share_count_two_processes():
    first = _target()
    second = _target()
    zx.vmar_map(second.root, R, 0, first.vmo, 0, P)
    assert zx.object_get_info(first.vmo, zx.ZX_INFO_VMO).share_count == 2


# ZX_INFO_VMAR.


@in_guest
def test_vmar_info_closed_handle():
    target = _target()
    region, _addr = zx.vmar_allocate(target.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(region), zx.ZX_INFO_VMAR)


@pytest.mark.parametrize("kind", ["process", "vmo", "job", "thread"])
def test_vmar_info_wrong_type(kind):
    def body():
        target = _target()
        handles = {
            "process": target.process,
            "vmo": target.vmo,
            "job": zx.job_default(),
            "thread": zx.thread_self(),
        }
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, handles[kind], zx.ZX_INFO_VMAR)

    run_guest(body)


@in_guest
def test_vmar_info_needs_inspect():
    target = _target()
    handle = _without(target.root, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_VMAR)


@in_guest
def test_vmar_info_no_room():
    target = _target()
    expect_status(zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, target.root, zx.ZX_INFO_VMAR, 0)


@in_guest
def test_vmar_info_record():
    target = _target()
    region, address = zx.vmar_allocate(target.root, CAN_RW, 0, 10 * P)
    record = zx.object_get_info(region, zx.ZX_INFO_VMAR)
    assert record.base == address
    assert record.len == 10 * P


@in_guest
def test_vmar_info_root_covers_user_range():
    target = _target()
    record = zx.object_get_info(target.root, zx.ZX_INFO_VMAR)
    assert record.base == 0x200000
    assert record.base + record.len == (1 << 47) - P


@in_guest
def test_vmar_info_destroyed_region():
    target = _target()
    region, address = zx.vmar_allocate(target.root, CAN_RW, 0, P)
    zx.vmar_destroy(region)
    assert zx.object_get_info(region, zx.ZX_INFO_VMAR).base == address


@in_guest
def test_vmar_info_type_before_rights():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, handle, zx.ZX_INFO_VMAR)


# ZX_INFO_VMAR_MAPS.


@in_guest
def test_vmar_maps_closed_handle():
    target = _target()
    region, _addr = zx.vmar_allocate(target.root, CAN_RW, 0, P)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(region), zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_wrong_type():
    target = _target()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, target.process, zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_needs_inspect():
    target = _target()
    handle = _without(target.root, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_destroyed_region():
    target = _target()
    region, _addr = zx.vmar_allocate(target.root, CAN_RW, 0, P)
    zx.vmar_destroy(region)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, region, zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_dead_process():
    process, root = zx.process_create(zx.job_default(), "gone", 0)
    zx.handle_close(process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, root, zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_rights_before_state():
    target = _target()
    region, _addr = zx.vmar_allocate(target.root, CAN_RW, 0, P)
    handle = _without(region, zx.ZX_RIGHT_INSPECT)
    zx.vmar_destroy(region)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_VMAR_MAPS)


@in_guest
def test_vmar_maps_unstarted_root():
    _process, root = zx.process_create(zx.job_default(), "empty", 0)
    records, actual, avail = zx.object_get_info(root, zx.ZX_INFO_VMAR_MAPS, 1)
    assert (actual, avail) == (1, 1)
    assert records[0].depth == 0
    assert records[0].type == zx.ZX_INFO_MAPS_TYPE_VMAR


@in_guest
def test_vmar_maps_zero_capacity():
    target = _target()
    records, actual, avail = zx.object_get_info(target.root, zx.ZX_INFO_VMAR_MAPS, 0)
    assert records == []
    assert actual == 0
    assert avail == 2


@in_guest
def test_vmar_maps_tree():
    target = _target()
    region, address = zx.vmar_allocate(target.root, CAN_RW, 0, 4 * P)
    mapped = zx.vmar_map(region, RW, 0, target.vmo, P, 2 * P)
    zx.vmo_write(target.vmo, b"x", P)
    records = zx.object_get_info(region, zx.ZX_INFO_VMAR_MAPS)
    assert [(r.type, r.depth, r.base, r.size) for r in records] == [
        (zx.ZX_INFO_MAPS_TYPE_VMAR, 0, address, 4 * P),
        (zx.ZX_INFO_MAPS_TYPE_MAPPING, 1, mapped, 2 * P),
    ]
    mapping = records[1].u
    assert mapping.mmu_flags == RW
    assert mapping.vmo_koid == zx.object_get_info(target.vmo, zx.ZX_INFO_HANDLE_BASIC).koid
    assert mapping.vmo_offset == P
    assert mapping.committed_bytes == P


# ZX_INFO_PROCESS_MAPS.


@in_guest
def test_process_maps_closed_handle():
    target = _target()
    expect_status(
        zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(target.process), zx.ZX_INFO_PROCESS_MAPS
    )


@pytest.mark.parametrize("kind", ["vmar", "job", "thread"])
def test_process_maps_wrong_type(kind):
    def body():
        target = _target()
        handles = {"vmar": target.root, "job": zx.job_default(), "thread": zx.thread_self()}
        expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, handles[kind], zx.ZX_INFO_PROCESS_MAPS
        )

    run_guest(body)


@in_guest
def test_process_maps_needs_inspect():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_PROCESS_MAPS)


@in_guest
def test_process_maps_dead_process():
    target = _target()
    process = zx.handle_duplicate(target.process, zx.ZX_RIGHT_SAME_RIGHTS)
    zx.task_kill(target.process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, process, zx.ZX_INFO_PROCESS_MAPS)


@in_guest
def test_process_maps_unstarted():
    target = _target()
    records, actual, avail = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_MAPS, 0)
    assert records == []
    assert actual == 0
    assert avail == 3


@in_guest
def test_process_maps_shape():
    target = _target()
    koid = zx.object_get_info(target.process, zx.ZX_INFO_HANDLE_BASIC).koid
    records = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_MAPS)
    assert [(r.type, r.depth) for r in records] == [
        (zx.ZX_INFO_MAPS_TYPE_ASPACE, 0),
        (zx.ZX_INFO_MAPS_TYPE_VMAR, 1),
        (zx.ZX_INFO_MAPS_TYPE_MAPPING, 2),
    ]
    assert records[0].name == f"proc:{koid}"
    assert records[0].size > 128 << 30
    assert records[1].size <= records[0].size
    assert records[2].base == target.address


@in_guest
def test_process_maps_short_buffer_is_prefix():
    target = _target()
    zx.vmar_allocate(target.root, CAN_RW, 0, P)
    full = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_MAPS)
    records, actual, avail = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_MAPS, 3)
    assert avail == len(full)
    assert actual == 3
    assert records == full[:3]


# ZX_INFO_PROCESS_VMOS.


@in_guest
def test_process_vmos_closed_handle():
    target = _target()
    expect_status(
        zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(target.process), zx.ZX_INFO_PROCESS_VMOS
    )


@in_guest
def test_process_vmos_wrong_type():
    target = _target()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, target.vmo, zx.ZX_INFO_PROCESS_VMOS)


@in_guest
def test_process_vmos_needs_inspect():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_PROCESS_VMOS)


@in_guest
def test_process_vmos_unstarted():
    target = _target()
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, target.process, zx.ZX_INFO_PROCESS_VMOS)


@in_guest
def test_process_vmos_exited():
    target = _target()
    start_in(target.process, lambda: 0)
    wait_exited(target.process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, target.process, zx.ZX_INFO_PROCESS_VMOS)


@in_guest
def test_process_vmos_rights_before_state():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_PROCESS_VMOS)


@in_guest
def test_process_vmos_running():
    target = _target()
    handle_vmo = zx.vmo_create(P, 0)
    handle_vmo_koid = zx.object_get_info(handle_vmo, zx.ZX_INFO_HANDLE_BASIC).koid
    mapped_koid = zx.object_get_info(target.vmo, zx.ZX_INFO_HANDLE_BASIC).koid
    thread = zx.thread_create(target.process, "parked", 0)
    zx.process_start(target.process, thread, lambda _a, _b: _park(), 0, handle_vmo, 0)
    records, actual, avail = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_VMOS, 8)
    assert (actual, avail) == (2, 2)
    assert (records[0].koid, records[0].flags & zx.ZX_INFO_VMO_VIA_HANDLE) == (
        handle_vmo_koid,
        zx.ZX_INFO_VMO_VIA_HANDLE,
    )
    assert (records[1].koid, records[1].flags & zx.ZX_INFO_VMO_VIA_MAPPING) == (
        mapped_koid,
        zx.ZX_INFO_VMO_VIA_MAPPING,
    )
    assert records[0].num_mappings == 0
    zx.task_kill(target.process)


@in_guest
def test_process_vmos_short_buffer():
    target = _target()
    handle_vmo = zx.vmo_create(P, 0)
    thread = zx.thread_create(target.process, "parked", 0)
    zx.process_start(target.process, thread, lambda _a, _b: _park(), 0, handle_vmo, 0)
    records, actual, avail = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_VMOS, 1)
    assert (len(records), actual, avail) == (1, 1, 2)
    zx.task_kill(target.process)


# ZX_INFO_TASK_STATS.


@in_guest
def test_task_stats_closed_handle():
    target = _target()
    expect_status(
        zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, _closed(target.process), zx.ZX_INFO_TASK_STATS
    )


@pytest.mark.parametrize("kind", ["job", "thread", "vmar"])
def test_task_stats_wrong_type(kind):
    def body():
        target = _target()
        handles = {"vmar": target.root, "job": zx.job_default(), "thread": zx.thread_self()}
        expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, handles[kind], zx.ZX_INFO_TASK_STATS
        )

    run_guest(body)


@in_guest
def test_task_stats_needs_inspect():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_INSPECT)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, handle, zx.ZX_INFO_TASK_STATS)


@in_guest
def test_task_stats_dead_process():
    target = _target()
    zx.task_kill(target.process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, target.process, zx.ZX_INFO_TASK_STATS)


@in_guest
def test_task_stats_no_room():
    target = _target()
    expect_status(
        zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, target.process, zx.ZX_INFO_TASK_STATS, 0
    )


@in_guest
def test_task_stats_state_before_room():
    """The kernel builds the record, and fails on a dead process, before it checks the room."""
    target = _target()
    zx.task_kill(target.process)
    expect_status(zx.ZX_ERR_BAD_STATE, zx.object_get_info, target.process, zx.ZX_INFO_TASK_STATS, 0)


@in_guest
def test_task_stats_unstarted_process():
    target = _target()
    zx.vmo_write(target.vmo, b"\x01" * (2 * P), 0)
    stats = zx.object_get_info(target.process, zx.ZX_INFO_TASK_STATS)
    assert stats.mem_mapped_bytes == 4 * P
    assert stats.mem_private_bytes == 2 * P
    assert stats.mem_shared_bytes == 0
    assert stats.mem_scaled_shared_bytes == 0
    assert stats.mem_fractional_scaled_shared_bytes == 0


@in_guest
def test_task_stats_shared_vmo():
    first = _target()
    second = _target()
    zx.vmar_map(second.root, R, 0, first.vmo, 0, 4 * P)
    zx.vmo_write(first.vmo, b"\x01" * (2 * P), 0)
    stats = zx.object_get_info(first.process, zx.ZX_INFO_TASK_STATS)
    assert stats.mem_private_bytes == 0
    assert stats.mem_shared_bytes == 2 * P
    assert stats.mem_scaled_shared_bytes == P


@in_guest
def test_maps_mmu_flags_are_vm_perms():
    """Regression: mmu_flags carried ARCH_MMU_FLAG_* bits; Zircon reports ZX_VM_PERM_* bits."""
    target = _target()
    zx.vmar_map(target.root, R, 0, target.vmo, 0, P)
    zx.vmar_map(target.root, 0, 0, target.vmo, 0, P)
    records = zx.object_get_info(target.process, zx.ZX_INFO_PROCESS_MAPS)
    flags = [r.u.mmu_flags for r in records if r.type == zx.ZX_INFO_MAPS_TYPE_MAPPING]
    assert flags == [RW, R, 0]
