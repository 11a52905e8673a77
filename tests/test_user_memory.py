"""pyzircon.user: loads and stores by guest code, through the calling thread's address space."""

from dataclasses import dataclass
from typing import Any

import pytest

from memory_support import fault_of, in_guest, koid_of, run_machine, start_in, wait_exited
from pyzircon import Kernel, user, zx
from support import expect_status

P = zx.PAGE_SIZE
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
KILLED = zx.ZX_TASK_RETCODE_EXCEPTION_KILL


@dataclass
class Group:
    """A prototype and a member, their VMARs, and a page mapped in each part."""

    proto: int
    member: int
    shared_vmar: int
    restricted_vmar: int
    shared_vmo: int
    private_vmo: int
    shared_address: int
    restricted_address: int


def _group() -> Group:
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
    shared_vmo = zx.vmo_create(P, 0)
    private_vmo = zx.vmo_create(P, 0)
    zx.vmo_write(shared_vmo, b"shared", 0)
    zx.vmo_write(private_vmo, b"private", 0)
    shared_address = zx.vmar_map(shared_vmar, RW, 0, shared_vmo, 0, P)
    restricted_address = zx.vmar_map(restricted_vmar, RW, 0, private_vmo, 0, P)
    return Group(
        proto,
        member,
        shared_vmar,
        restricted_vmar,
        shared_vmo,
        private_vmo,
        shared_address,
        restricted_address,
    )


def _run(process: int, body) -> tuple[Any, int]:
    """Run `body()` in `process`; return (its result or None, the process's return code)."""
    box: dict[str, Any] = {}

    def entry() -> int:
        box["value"] = body()
        return 0

    start_in(process, entry)
    return box.get("value"), wait_exited(process).return_code


# A member reaches both parts, the prototype only the shared part.


@in_guest
def test_member_loads_both_parts():
    group = _group()
    value, code = _run(
        group.member,
        lambda: (user.load(group.shared_address, 6), user.load(group.restricted_address, 7)),
    )
    assert value == (b"shared", b"private")
    assert code == 0


@in_guest
def test_member_stores_both_parts():
    group = _group()

    def body() -> None:
        user.store(group.shared_address, b"SHARED")
        user.store(group.restricted_address, b"PRIVATE")

    _value, code = _run(group.member, body)
    assert code == 0
    assert zx.vmo_read(group.shared_vmo, 6, 0) == b"SHARED"
    assert zx.vmo_read(group.private_vmo, 7, 0) == b"PRIVATE"


@in_guest
def test_prototype_loads_shared_part():
    group = _group()
    value, code = _run(group.proto, lambda: user.load(group.shared_address, 6))
    assert value == b"shared"
    assert code == 0


def test_prototype_misses_restricted_part():
    def body():
        group = _group()
        _value, code = _run(group.proto, lambda: user.load(group.restricted_address, 1))
        return koid_of(group.proto), group.restricted_address, code

    kernel, (koid, address, code) = run_machine(body)
    assert code == KILLED
    report = fault_of(kernel, koid)
    assert report.status == zx.ZX_ERR_NOT_FOUND
    assert report.address == address
    assert report.access == "read"


def test_member_guard_page_faults():
    def body():
        group = _group()
        restricted = zx.object_get_info(group.member, zx.ZX_INFO_PROCESS_MAPS)[0]
        guard = restricted.base + restricted.size
        _value, code = _run(group.member, lambda: user.load(guard, 1))
        return koid_of(group.member), guard, code

    kernel, (koid, guard, code) = run_machine(body)
    assert code == KILLED
    assert fault_of(kernel, koid).address == guard


@in_guest
def test_member_sees_later_shared_mapping():
    """A mapping made in the shared part after the member started is visible to it at once."""
    group = _group()
    late_vmo = zx.vmo_create(P, 0)
    zx.vmo_write(late_vmo, b"late", 0)
    gate = {"address": 0}
    box: dict[str, bytes] = {}

    def body() -> int:
        # The member's handle table is the group's, so poll with a handle-free syscall.
        while not gate["address"]:
            zx.nanosleep(0)
        box["late"] = user.load(gate["address"], 4)
        return 0

    start_in(group.member, body)
    gate["address"] = zx.vmar_map(group.shared_vmar, R, 0, late_vmo, 0, P)
    assert wait_exited(group.member).return_code == 0
    assert box["late"] == b"late"


# Faults.


def test_store_read_only_kills_process():
    def body():
        process, root = zx.process_create(zx.job_default(), "writer", 0)
        address = zx.vmar_map(root, R, 0, zx.vmo_create(P, 0), 0, P)
        _value, code = _run(process, lambda: user.store(address + 16, b"x"))
        return koid_of(process), address + 16, code

    kernel, (koid, address, code) = run_machine(body)
    assert code == KILLED
    report = fault_of(kernel, koid)
    assert report.address == address
    assert report.status == zx.ZX_ERR_ACCESS_DENIED
    assert report.access == "write"
    assert f"{address:#x}" in report.message


def test_store_read_only_in_member():
    def body():
        group = _group()
        address = zx.vmar_map(group.restricted_vmar, R, 0, zx.vmo_create(P, 0), 0, P)
        _value, code = _run(group.member, lambda: user.store(address, b"x"))
        return koid_of(group.member), address, code

    kernel, (koid, address, code) = run_machine(body)
    assert code == KILLED
    report = fault_of(kernel, koid)
    assert report.address == address
    assert report.status == zx.ZX_ERR_ACCESS_DENIED


def test_fault_ends_only_the_faulting_process():
    def body():
        process, root = zx.process_create(zx.job_default(), "victim", 0)
        address = zx.vmar_map(root, R, 0, zx.vmo_create(P, 0), 0, P)
        _value, code = _run(process, lambda: user.store(address, b"x"))
        return code, zx.vmo_get_size(zx.vmo_create(P, 0))

    _kernel, (code, size) = run_machine(body)
    assert code == KILLED
    assert size == P


def test_fault_in_main_thread():
    outcome: dict[str, int] = {}

    def main() -> int:
        vmo = zx.vmo_create(P, 0)
        address = zx.vmar_map(zx.vmar_root_self(), R, 0, vmo, 0, P)
        outcome["address"] = address
        user.store(address, b"x")
        return 0

    kernel = Kernel(seed=0)
    assert kernel.run(main) == KILLED
    assert len(kernel.fault_reports) == 1
    report = kernel.fault_reports[0]
    assert report.address == outcome["address"]
    assert report.thread_name == "main"


def test_faulting_store_writes_nothing():
    def body():
        process, root = zx.process_create(zx.job_default(), "partial", 0)
        options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
        region, address = zx.vmar_allocate(root, options, 0, 2 * P)
        writable = zx.vmo_create(P, 0)
        zx.vmar_map(region, RW | zx.ZX_VM_SPECIFIC, 0, writable, 0, P)
        zx.vmar_map(region, R | zx.ZX_VM_SPECIFIC, P, zx.vmo_create(P, 0), 0, P)
        _value, code = _run(process, lambda: user.store(address + P - 2, b"abcd"))
        return code, zx.vmo_read(writable, 2, P - 2)

    _kernel, (code, tail) = run_machine(body)
    assert code == KILLED
    assert tail == b"\x00\x00"


# Bad arguments.


@pytest.mark.parametrize("vaddr", [None, -1, 1 << 64, "0x200000", 1.5, True])
def test_load_bad_address(vaddr):
    run_guest_checks(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, user.load, vaddr, 1))


@pytest.mark.parametrize("length", [None, -1, 1 << 64, "1", False])
def test_load_bad_length(length):
    run_guest_checks(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, user.load, P, length))


@pytest.mark.parametrize("vaddr", [None, -1, 1 << 64, "0x200000"])
def test_store_bad_address(vaddr):
    run_guest_checks(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, user.store, vaddr, b"x"))


@pytest.mark.parametrize("data", [None, "text", 7, [1, 2]])
def test_store_bad_data(data):
    run_guest_checks(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, user.store, P, data))


def test_load_outside_guest():
    expect_status(zx.ZX_ERR_BAD_STATE, user.load, P, 1)


def run_guest_checks(body) -> None:
    kernel, _value = run_machine(body)
    assert kernel.fault_reports == []
