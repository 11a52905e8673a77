"""zx_process_read_memory and zx_process_write_memory: one test per check, and shared groups."""

from dataclasses import dataclass

import pytest

from memory_support import in_guest
from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
MIB = 1024 * 1024
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
U64_MAX = (1 << 64) - 1


@dataclass
class Target:
    """A fresh, unstarted process with one 2-page RW mapping of a VMO holding b"data"."""

    process: int
    root: int
    vmo: int
    address: int


def _target() -> Target:
    process, root = zx.process_create(zx.job_default(), "target", 0)
    vmo = zx.vmo_create(2 * P, 0)
    zx.vmo_write(vmo, b"data", 0)
    address = zx.vmar_map(root, RW, 0, vmo, 0, 2 * P)
    return Target(process, root, vmo, address)


def _without(process: int, right: int) -> int:
    return zx.handle_duplicate(process, zx.ZX_DEFAULT_PROCESS_RIGHTS & ~right)


# zx_process_read_memory.


@in_guest
def test_read_zero_size():
    target = _target()
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_read_memory, target.process, target.address, 0)


@in_guest
def test_read_size_above_limit():
    target = _target()
    size = 64 * MIB + 1
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.process_read_memory, target.process, target.address, size
    )


@in_guest
def test_read_size_at_limit():
    target = _target()
    data = zx.process_read_memory(target.process, target.address, 64 * MIB)
    assert len(data) == 2 * P


@pytest.mark.parametrize("size", [None, -1, 1 << 64, "4"])
def test_read_size_not_a_count(size):
    def body():
        target = _target()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.process_read_memory, target.process, target.address, size
        )

    run_guest(body)


@in_guest
def test_read_closed_handle():
    target = _target()
    zx.handle_close(target.process)
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_read_memory, target.process, target.address, 1)


@in_guest
def test_read_wrong_type():
    target = _target()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_read_memory, target.vmo, target.address, 1)


@pytest.mark.parametrize("right", [zx.ZX_RIGHT_READ, zx.ZX_RIGHT_WRITE])
def test_read_missing_right(right):
    def body():
        target = _target()
        handle = _without(target.process, right)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_read_memory, handle, target.address, 1)

    run_guest(body)


@in_guest
def test_read_unmapped():
    target = _target()
    expect_status(
        zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, target.process, target.address + 2 * P, 1
    )


@pytest.mark.parametrize("vaddr", [0, zx.PAGE_SIZE, U64_MAX, -1, None])
def test_read_no_user_address(vaddr):
    def body():
        target = _target()
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, target.process, vaddr, 1)

    run_guest(body)


@in_guest
def test_read_inside_empty_subregion():
    target = _target()
    _region, address = zx.vmar_allocate(target.root, zx.ZX_VM_CAN_MAP_READ, 0, P)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, target.process, address, 1)


@in_guest
def test_read_past_vmo_end():
    target = _target()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(target.root, RW, 0, resizable, 0, 2 * P)
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.process_read_memory, target.process, address + P, 1)


@in_guest
def test_read_stops_at_vmo_end():
    target = _target()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(target.root, RW, 0, resizable, 0, 2 * P)
    assert len(zx.process_read_memory(target.process, address, 2 * P)) == P


@in_guest
def test_read_stops_at_mapping_end():
    target = _target()
    options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
    region, address = zx.vmar_allocate(target.root, options, 0, 2 * P)
    zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, 0, target.vmo, 0, P)
    zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, P, target.vmo, 0, P)
    assert len(zx.process_read_memory(target.process, address, 2 * P)) == P


@in_guest
def test_read_returns_bytes():
    target = _target()
    assert zx.process_read_memory(target.process, target.address, 4) == b"data"


@in_guest
def test_read_ignores_mapping_permissions():
    target = _target()
    address = zx.vmar_map(target.root, 0, 0, target.vmo, 0, P)
    assert zx.process_read_memory(target.process, address, 4) == b"data"


@in_guest
def test_read_dead_process():
    target = _target()
    process = zx.handle_duplicate(target.process, zx.ZX_RIGHT_SAME_RIGHTS)
    zx.task_kill(target.process)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, process, target.address, 1)


@in_guest
def test_read_size_before_handle():
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_read_memory, zx.ZX_HANDLE_INVALID, 0, 0)


@in_guest
def test_read_handle_before_address():
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_read_memory, zx.ZX_HANDLE_INVALID, 0, 1)


@in_guest
def test_read_rights_before_address():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_READ)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_read_memory, handle, 0, 1)


# zx_process_write_memory.


@in_guest
def test_write_empty_data():
    target = _target()
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.process_write_memory, target.process, target.address, b""
    )


@in_guest
def test_write_data_above_limit():
    target = _target()
    data = bytes(64 * MIB + 1)
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.process_write_memory, target.process, target.address, data
    )


@pytest.mark.parametrize("data", [None, "text", 7, [1]])
def test_write_data_not_bytes(data):
    def body():
        target = _target()
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.process_write_memory, target.process, target.address, data
        )

    run_guest(body)


@in_guest
def test_write_closed_handle():
    target = _target()
    zx.handle_close(target.process)
    expect_status(
        zx.ZX_ERR_BAD_HANDLE, zx.process_write_memory, target.process, target.address, b"x"
    )


@in_guest
def test_write_wrong_type():
    target = _target()
    expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_write_memory, target.root, target.address, b"x")


@in_guest
def test_write_missing_write_right():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_WRITE)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_write_memory, handle, target.address, b"x")


@in_guest
def test_write_needs_no_read_right():
    target = _target()
    handle = _without(target.process, zx.ZX_RIGHT_READ)
    assert zx.process_write_memory(handle, target.address, b"x") == 1


@in_guest
def test_write_unmapped():
    target = _target()
    expect_status(
        zx.ZX_ERR_NOT_FOUND, zx.process_write_memory, target.process, target.address - P, b"x"
    )


@in_guest
def test_write_past_vmo_end():
    target = _target()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(target.root, RW, 0, resizable, 0, 2 * P)
    expect_status(
        zx.ZX_ERR_OUT_OF_RANGE, zx.process_write_memory, target.process, address + P, b"x"
    )


@in_guest
def test_write_stops_at_vmo_end():
    target = _target()
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(target.root, RW, 0, resizable, 0, 2 * P)
    assert zx.process_write_memory(target.process, address, bytes(2 * P)) == P


@in_guest
def test_write_reaches_vmo():
    target = _target()
    assert zx.process_write_memory(target.process, target.address + P - 1, b"xy") == 2
    assert zx.vmo_read(target.vmo, 2, P - 1) == b"xy"


@in_guest
def test_write_into_read_only_mapping():
    target = _target()
    address = zx.vmar_map(target.root, R, 0, target.vmo, 0, P)
    zx.process_write_memory(target.process, address, b"DATA")
    assert zx.vmo_read(target.vmo, 4, 0) == b"DATA"


@in_guest
def test_write_size_before_handle():
    expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_write_memory, zx.ZX_HANDLE_INVALID, 0, b"")


@in_guest
def test_write_handle_before_address():
    expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_write_memory, zx.ZX_HANDLE_INVALID, 0, b"x")


# Shared groups: the address picks the address space.


@dataclass
class Group:
    """A prototype, one member, and a page mapped in each part."""

    proto: int
    member: int
    shared_address: int
    restricted_address: int


def _group() -> Group:
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
    shared = zx.vmo_create(P, 0)
    private = zx.vmo_create(P, 0)
    zx.vmo_write(shared, b"shared", 0)
    zx.vmo_write(private, b"private", 0)
    shared_address = zx.vmar_map(shared_vmar, RW, 0, shared, 0, P)
    restricted_address = zx.vmar_map(restricted_vmar, RW, 0, private, 0, P)
    return Group(proto, member, shared_address, restricted_address)


@in_guest
def test_member_reads_shared_part():
    group = _group()
    assert zx.process_read_memory(group.member, group.shared_address, 6) == b"shared"


@in_guest
def test_member_reads_restricted_part():
    group = _group()
    assert zx.process_read_memory(group.member, group.restricted_address, 7) == b"private"


@in_guest
def test_prototype_reads_shared_part():
    group = _group()
    assert zx.process_read_memory(group.proto, group.shared_address, 6) == b"shared"


@in_guest
def test_prototype_misses_restricted_part():
    group = _group()
    expect_status(
        zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, group.proto, group.restricted_address, 1
    )


@in_guest
def test_member_guard_page_not_found():
    group = _group()
    restricted = zx.object_get_info(group.member, zx.ZX_INFO_PROCESS_MAPS)[0]
    guard = restricted.base + restricted.size
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, group.member, guard, 1)


@in_guest
def test_member_writes_shared_part():
    group = _group()
    zx.process_write_memory(group.member, group.shared_address, b"SHARED")
    assert zx.process_read_memory(group.proto, group.shared_address, 6) == b"SHARED"
