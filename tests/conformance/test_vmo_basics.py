"""Conformance: VMO basics of Zircon's VMO core tests, restated.

Faults are probed with `pyzircon.user`, in a new process each time, because a fault kills
that process with ZX_TASK_RETCODE_EXCEPTION_KILL. The fault report names the status that
Zircon's fault handler gives: ZX_ERR_ACCESS_DENIED for a missing permission and
ZX_ERR_OUT_OF_RANGE past the end of the VMO.
"""

import pytest

from memory_support import fault_of, in_guest, koid_of, probe, run_machine
from pyzircon import user, zx
from support import expect_status

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
KILLED = zx.ZX_TASK_RETCODE_EXCEPTION_KILL


def _process() -> tuple[int, int]:
    return zx.process_create(zx.job_default(), "vmo-probe", 0)


# E1: creation of various sizes, including zero.


@in_guest
def test_e1_create_sizes():
    handles = [zx.vmo_create(i * P, 0) for i in range(16)]
    assert [zx.vmo_get_size(handle) for handle in handles] == [i * P for i in range(16)]
    for handle in handles:
        zx.handle_close(handle)


# E2: fresh VMOs read as zero; writes are visible through a mapping.


@in_guest
def test_e2_read_write_through_mapping():
    vmo = zx.vmo_create(4 * P, 0)
    assert zx.vmo_read(vmo, 4 * P, 0) == bytes(4 * P)
    zx.vmo_write(vmo, b"\x99" * (4 * P), 0)
    address = zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, 4 * P)
    assert user.load(address, 4 * P) == b"\x99" * (4 * P)


# E4: bad user buffers.


@pytest.mark.skip(
    reason="the Python API passes buffers as bytes objects, never as user pointers, "
    "so a null, kernel or unmapped buffer cannot be expressed"
)
def test_e4_bad_user_buffers():
    """Null, kernel-range and unmapped buffers give ZX_ERR_NOT_FOUND on Zircon."""


# E5: non-specific map ignores the address; SPECIFIC at an absurd address fails.


@in_guest
def test_e5_map_addresses():
    vmo = zx.vmo_create(P, 0)
    root = zx.vmar_root_self()
    assert zx.vmar_map(root, R, 0, vmo, 0, P) != 0
    expect_status(
        zx.ZX_ERR_INVALID_ARGS, zx.vmar_map, root, R | zx.ZX_VM_SPECIFIC, U64_MAX, vmo, 0, P
    )


# E7: non-resizable VMOs and the RESIZE right.


@in_guest
def test_e7_non_resizable():
    vmo = zx.vmo_create(P, 0)
    expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, vmo, 2 * P)
    expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, vmo, 0)
    assert zx.vmo_get_size(vmo) == P
    zx.vmar_map(zx.vmar_root_self(), R | zx.ZX_VM_REQUIRE_NON_RESIZABLE, 0, vmo, 0, P)


@in_guest
def test_e7_resize_right():
    fixed = zx.vmo_create(P, 0)
    resizable = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    assert not zx.object_get_info(fixed, zx.ZX_INFO_HANDLE_BASIC).rights & zx.ZX_RIGHT_RESIZE
    rights = zx.object_get_info(resizable, zx.ZX_INFO_HANDLE_BASIC).rights
    assert rights & zx.ZX_RIGHT_RESIZE
    no_resize = zx.handle_duplicate(resizable, rights & ~zx.ZX_RIGHT_RESIZE)
    expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, no_resize, 2 * P)
    zx.vmo_set_size(resizable, 2 * P)
    assert zx.vmo_get_size(resizable) == 2 * P


@in_guest
def test_e7_child_resize_right():
    parent = zx.vmo_create(4 * P, 0)
    kinds = [
        zx.ZX_VMO_CHILD_SNAPSHOT,
        zx.ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
        zx.ZX_VMO_CHILD_SLICE,
        zx.ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    ]
    for kind in kinds:
        child = zx.vmo_create_child(parent, kind, 0, 4 * P)
        assert not zx.object_get_info(child, zx.ZX_INFO_HANDLE_BASIC).rights & zx.ZX_RIGHT_RESIZE
        expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, child, 5 * P)
        zx.handle_close(child)
        if kind == zx.ZX_VMO_CHILD_SLICE:
            # Slices cannot be resizable.
            continue

        child = zx.vmo_create_child(parent, kind | zx.ZX_VMO_CHILD_RESIZABLE, 0, 4 * P)
        rights = zx.object_get_info(child, zx.ZX_INFO_HANDLE_BASIC).rights
        assert rights & zx.ZX_RIGHT_RESIZE
        zx.vmo_set_size(child, 5 * P)
        no_resize = zx.handle_duplicate(child, rights & ~zx.ZX_RIGHT_RESIZE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, no_resize, P)


# E8: ZX_INFO_VMO fields.


@in_guest
def test_e8_info_fields():
    vmo = zx.vmo_create(4 * P, 0)
    info = zx.object_get_info(vmo, zx.ZX_INFO_VMO)
    assert info.size_bytes == 4 * P
    assert info.flags == zx.ZX_INFO_VMO_TYPE_PAGED | zx.ZX_INFO_VMO_VIA_HANDLE
    assert info.cache_policy == zx.ZX_CACHE_POLICY_CACHED


@in_guest
def test_e8_resizable_info():
    vmo = zx.vmo_create(8 * P, zx.ZX_VMO_RESIZABLE)
    records, actual, avail = zx.object_get_info(vmo, zx.ZX_INFO_VMO, 1)
    assert (actual, avail) == (1, 1)
    assert records[0].flags & zx.ZX_INFO_VMO_RESIZABLE
    assert records[0].handle_rights == zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights


@in_guest
def test_e8_uncached_policy():
    vmo = zx.vmo_create(8 * P, zx.ZX_VMO_RESIZABLE)
    zx.vmo_set_cache_policy(vmo, zx.ZX_CACHE_POLICY_UNCACHED)
    records, actual, avail = zx.object_get_info(vmo, zx.ZX_INFO_VMO, 1)
    assert (actual, avail) == (1, 1)
    assert records[0].flags & zx.ZX_INFO_VMO_RESIZABLE
    assert records[0].cache_policy == zx.ZX_CACHE_POLICY_UNCACHED
    assert records[0].handle_rights == zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights


# E9: a mapping larger than a resizable VMO.


def _e9_setup() -> tuple[int, int]:
    """Return (process, address): a 1-page resizable VMO mapped with 2 pages, RW."""
    process, root = _process()
    vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
    address = zx.vmar_map(root, RW, 0, vmo, 0, 2 * P)
    return process, address


def test_e9_touch_first_page():
    def body():
        process, address = _e9_setup()
        return probe(process, address, "read"), probe_write_first()

    def probe_write_first():
        process, address = _e9_setup()
        return probe(process, address, "write")

    kernel, (read_code, write_code) = run_machine(body)
    assert read_code == 0
    assert write_code == 0
    assert kernel.fault_reports == []


@pytest.mark.parametrize("access", ["read", "write"])
def test_e9_touch_second_page(access):
    def body():
        process, address = _e9_setup()
        return koid_of(process), address, probe(process, address + P, access)

    kernel, (koid, address, code) = run_machine(body)
    assert code == KILLED
    report = fault_of(kernel, koid)
    assert report.status == zx.ZX_ERR_OUT_OF_RANGE
    assert report.address == address + P


@in_guest
def test_e9_short_transfers():
    process, address = _e9_setup()
    assert len(zx.process_read_memory(process, address, 2 * P)) == P
    assert zx.process_write_memory(process, address, bytes(2 * P)) == P


@in_guest
def test_e9_transfers_past_vmo():
    process, address = _e9_setup()
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.process_read_memory, process, address + P, P)
    expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.process_write_memory, process, address + P, bytes(P))


# E10: read-only and no-permission mappings.


def _faults(setup, access: str):
    """Probe `access` at the address `setup(root)` returns, in a new process."""

    def body():
        process, root = _process()
        address = setup(root)
        return koid_of(process), address, probe(process, address, access)

    kernel, (koid, address, code) = run_machine(body)
    if code == 0:
        assert kernel.fault_reports == []
        return None
    assert code == KILLED
    report = fault_of(kernel, koid)
    assert report.address == address
    return report.status


def _map(root: int, perms: int) -> int:
    return zx.vmar_map(root, perms, 0, zx.vmo_create(P, 0), 0, P)


def _protected(perms: int, new_perms: int):
    def setup(root: int) -> int:
        address = _map(root, perms)
        zx.vmar_protect(root, new_perms, address, P)
        return address

    return setup


def test_e10_read_only_mapping():
    assert _faults(lambda root: _map(root, R), "read") is None
    assert _faults(lambda root: _map(root, R), "write") == zx.ZX_ERR_ACCESS_DENIED


def test_e10_protect_to_no_permissions():
    assert _faults(_protected(R, 0), "read") == zx.ZX_ERR_ACCESS_DENIED
    assert _faults(_protected(R, 0), "write") == zx.ZX_ERR_ACCESS_DENIED


def test_e10_no_permission_mapping():
    assert _faults(lambda root: _map(root, 0), "read") == zx.ZX_ERR_ACCESS_DENIED
    assert _faults(lambda root: _map(root, 0), "write") == zx.ZX_ERR_ACCESS_DENIED


def test_e10_protect_no_permissions_to_read():
    assert _faults(_protected(0, R), "read") is None
    assert _faults(_protected(0, R), "write") == zx.ZX_ERR_ACCESS_DENIED
