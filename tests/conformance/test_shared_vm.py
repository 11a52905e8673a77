"""Conformance: memory of shared process groups, as Zircon's process-shared core tests expect.

The shared part is one live address space of the whole group, and each member's
restricted part is its own. Task statistics charge the shared part's pages to the live
members.
"""

from dataclasses import dataclass

from memory_support import in_guest
from pyzircon import zx
from support import expect_status

P = zx.PAGE_SIZE
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE


@dataclass
class Group:
    """A prototype, its shared VMAR and two members with their restricted VMARs."""

    proto: int
    shared_vmar: int
    members: list[int]
    restricted_vmars: list[int]


def _group() -> Group:
    proto, shared_vmar = zx.process_create(
        zx.job_default(), "prototype_process", zx.ZX_PROCESS_SHARED
    )
    members = []
    restricted_vmars = []
    for name in ("member-1", "member-2"):
        member, restricted_vmar = zx.process_create_shared(proto, 0, name)
        members.append(member)
        restricted_vmars.append(restricted_vmar)
    return Group(proto, shared_vmar, members, restricted_vmars)


@in_guest
def test_shared_mapping_reads_same_everywhere():
    group = _group()
    vmo = zx.vmo_create(P, 0)
    address = zx.vmar_map(group.shared_vmar, RW, 0, vmo, 0, P)
    zx.vmo_write(vmo, b"abc", 0)
    for process in (group.proto, *group.members):
        assert zx.process_read_memory(process, address, 3) == b"abc"


@in_guest
def test_shared_mapping_after_members_exist():
    group = _group()
    vmo = zx.vmo_create(P, 0)
    address = zx.vmar_map(group.shared_vmar, RW, 0, vmo, 0, P)
    zx.process_write_memory(group.members[0], address, b"from member 1")
    assert zx.process_read_memory(group.members[1], address, 13) == b"from member 1"
    assert zx.process_read_memory(group.proto, address, 13) == b"from member 1"


@in_guest
def test_shared_unmap_seen_everywhere():
    group = _group()
    vmo = zx.vmo_create(P, 0)
    address = zx.vmar_map(group.shared_vmar, RW, 0, vmo, 0, P)
    zx.vmar_unmap(group.shared_vmar, address, P)
    for process in (group.proto, *group.members):
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, process, address, 1)


@in_guest
def test_restricted_mapping_private_to_member():
    group = _group()
    vmo = zx.vmo_create(P, 0)
    zx.vmo_write(vmo, b"abc", 0)
    address = zx.vmar_map(group.restricted_vmars[0], RW, 0, vmo, 0, P)
    assert zx.process_read_memory(group.members[0], address, 3) == b"abc"
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, group.members[1], address, 3)
    expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, group.proto, address, 3)


@in_guest
def test_restricted_parts_overlap_in_address():
    """Both members' restricted parts start at the same address, with different contents."""
    group = _group()
    addresses = []
    for index, restricted_vmar in enumerate(group.restricted_vmars):
        vmo = zx.vmo_create(P, 0)
        zx.vmo_write(vmo, bytes([index + 1]), 0)
        addresses.append(zx.vmar_map(restricted_vmar, RW, 0, vmo, 0, P))
    assert addresses[0] == addresses[1]
    assert zx.process_read_memory(group.members[0], addresses[0], 1) == b"\x01"
    assert zx.process_read_memory(group.members[1], addresses[1], 1) == b"\x02"


@in_guest
def test_task_stats_two_members_dead_prototype():
    group = _group()
    zx.handle_close(group.proto)
    vmo = zx.vmo_create(2 * P, 0)
    zx.vmar_map(group.shared_vmar, RW, 0, vmo, 0, 2 * P)
    zx.vmo_write(vmo, b"\x01" * (2 * P), 0)
    for member in group.members:
        stats = zx.object_get_info(member, zx.ZX_INFO_TASK_STATS)
        assert stats.mem_mapped_bytes == 2 * P
        assert stats.mem_private_bytes == 0
        assert stats.mem_shared_bytes == 2 * P
        assert stats.mem_scaled_shared_bytes == P


@in_guest
def test_task_stats_adds_restricted_part():
    group = _group()
    zx.handle_close(group.proto)
    shared = zx.vmo_create(2 * P, 0)
    private = zx.vmo_create(P, 0)
    zx.vmar_map(group.shared_vmar, RW, 0, shared, 0, 2 * P)
    zx.vmar_map(group.restricted_vmars[0], RW, 0, private, 0, P)
    zx.vmo_write(shared, b"\x01" * (2 * P), 0)
    zx.vmo_write(private, b"\x01", 0)
    stats = zx.object_get_info(group.members[0], zx.ZX_INFO_TASK_STATS)
    assert stats.mem_mapped_bytes == 3 * P
    assert stats.mem_private_bytes == P
    assert stats.mem_shared_bytes == 2 * P
    assert stats.mem_scaled_shared_bytes == P


@in_guest
def test_task_stats_lone_prototype():
    proto, shared_vmar = zx.process_create(zx.job_default(), "alone", zx.ZX_PROCESS_SHARED)
    vmo = zx.vmo_create(2 * P, 0)
    zx.vmar_map(shared_vmar, RW, 0, vmo, 0, 2 * P)
    zx.vmo_write(vmo, b"\x01" * (2 * P), 0)
    stats = zx.object_get_info(proto, zx.ZX_INFO_TASK_STATS)
    assert stats.mem_private_bytes == 2 * P
    assert stats.mem_shared_bytes == 0
    assert stats.mem_scaled_shared_bytes == 0


def _stats(process: int) -> tuple[float, float, float, float]:
    """Return (mapped, private, shared, scaled shared) in pages."""
    stats = zx.object_get_info(process, zx.ZX_INFO_TASK_STATS)
    return (
        stats.mem_mapped_bytes / P,
        stats.mem_private_bytes / P,
        stats.mem_shared_bytes / P,
        stats.mem_scaled_shared_bytes / P,
    )


@in_guest
def test_task_stats_sum_to_committed_pages():
    """Private plus scaled pages of all processes add up to the committed pages.

    The steps and numbers are those of Zircon's ProcessShared.InfoTaskStats core test.
    """
    proto, vmar_shared = zx.process_create(zx.job_default(), "proc0", zx.ZX_PROCESS_SHARED)
    proc1, vmar1 = zx.process_create_shared(proto, 0, "proc1")
    proc2, vmar2 = zx.process_create_shared(proto, 0, "proc2")
    zx.handle_close(proto)
    proc3, vmar3 = zx.process_create(zx.job_default(), "proc3", 0)

    vmos = []
    for _ in range(6):
        vmo = zx.vmo_create(P, 0)
        zx.vmo_write(vmo, b"A", 0)
        vmos.append(vmo)
    for process in (proc1, proc2, proc3):
        assert _stats(process) == (0, 0, 0, 0)

    def map_into(vmar: int, *indexes: int) -> None:
        for index in indexes:
            zx.vmar_map(vmar, zx.ZX_VM_PERM_READ | zx.ZX_VM_MAP_RANGE, 0, vmos[index], 0, P)

    map_into(vmar1, 0, 1)
    assert _stats(proc1) == (2, 2, 0, 0)
    assert _stats(proc2) == (0, 0, 0, 0)
    assert _stats(proc3) == (0, 0, 0, 0)

    map_into(vmar_shared, 2, 3)
    assert _stats(proc1) == (4, 2, 2, 1)
    assert _stats(proc2) == (2, 0, 2, 1)

    map_into(vmar2, 4, 5)
    assert _stats(proc2) == (4, 2, 2, 1)

    map_into(vmar3, 1, 2, 4)
    assert _stats(proc1) == (4, 1, 3, 1.25)
    assert _stats(proc2) == (4, 1, 3, 1.25)
    assert _stats(proc3) == (3, 0, 3, 1.5)

    zx.handle_close(proc2)
    assert _stats(proc1) == (4, 2, 2, 1)
    assert _stats(proc3) == (3, 1, 2, 1)
