"""zx_object_get_info topics, as Zircon's object-info and vmar core tests expect.

The C tests also pass bad `actual`, `avail` and buffer pointers; the Python API has no
pointers, so those cases have no counterpart here.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, park, start, wait_until
from pyzircon import zx
from support import expect_status, run_guest

GIB = 1 << 30
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE


def page() -> int:
    return zx.system_get_page_size()


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def new_process() -> tuple[int, int]:
    return zx.process_create(zx.job_default(), "p", 0)


def weaken(handle: int, dropped: int) -> int:
    rights = zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights
    return zx.handle_duplicate(handle, rights & ~dropped)


def test_h1_process_maps_before_start():
    def body():
        process, _ = new_process()
        return zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS, 0)

    records, actual, avail = run_guest(body)
    assert records == []
    assert actual == 0
    assert avail > 0


def map_test_region(vmar: int) -> tuple[int, int]:
    """Allocate a 4-page sub-VMAR, map two 1-page VMOs RW in it, and return (base, size)."""
    size = 4 * page()
    region, base = zx.vmar_allocate(vmar, zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE, 0, size)
    for _ in range(2):
        zx.vmar_map(region, RW, 0, zx.vmo_create(page(), 0), 0, page())
    return base, size


def test_h2_process_maps_shape():
    def body():
        process, vmar = new_process()
        base, size = map_test_region(vmar)
        return base, size, zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS)

    base, size, records = run_guest(body)
    aspace, root = records[0], records[1]
    assert (aspace.type, aspace.depth) == (zx.ZX_INFO_MAPS_TYPE_ASPACE, 0)
    assert aspace.size > 128 * GIB
    assert (root.type, root.depth) == (zx.ZX_INFO_MAPS_TYPE_VMAR, 1)
    assert root.size <= aspace.size
    for earlier, later in zip(records, records[1:], strict=False):
        assert later.depth <= earlier.depth + 1
    for record in records[2:]:
        assert record.depth > 1
        assert zx.ZX_INFO_MAPS_TYPE_ASPACE <= record.type <= zx.ZX_INFO_MAPS_TYPE_MAPPING

    region_index = next(
        index
        for index, record in enumerate(records)
        if record.type == zx.ZX_INFO_MAPS_TYPE_VMAR and (record.base, record.size) == (base, size)
    )
    region = records[region_index]
    mappings = records[region_index + 1 : region_index + 3]
    for mapping in mappings:
        assert mapping.type == zx.ZX_INFO_MAPS_TYPE_MAPPING
        assert mapping.depth == region.depth + 1
        assert base <= mapping.base
        assert mapping.base + mapping.size <= base + size


def test_h2_process_maps_mmu_flags():
    def body():
        process, vmar = new_process()
        map_test_region(vmar)
        return zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS)

    records = run_guest(body)
    mappings = [record for record in records if record.type == zx.ZX_INFO_MAPS_TYPE_MAPPING]
    assert [mapping.u.mmu_flags for mapping in mappings] == [RW, RW]


def test_h2_process_maps_short_buffer():
    def body():
        process, vmar = new_process()
        map_test_region(vmar)
        full = zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS)
        short = zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS, len(full) * 3 // 4)
        return full, short

    full, (records, actual, avail) = run_guest(body)
    assert actual < avail
    assert avail == len(full)
    assert records == full[:actual]


PROCESS_TOPICS = [
    zx.ZX_INFO_PROCESS_MAPS,
    zx.ZX_INFO_PROCESS_VMOS,
    zx.ZX_INFO_PROCESS,
    zx.ZX_INFO_PROCESS_THREADS,
]
VMAR_TOPICS = [zx.ZX_INFO_VMAR, zx.ZX_INFO_VMAR_MAPS]


@pytest.mark.parametrize("topic", [*PROCESS_TOPICS, zx.ZX_INFO_HANDLE_BASIC, *VMAR_TOPICS])
def test_h3_invalid_handle(topic):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.object_get_info, zx.ZX_HANDLE_INVALID, topic)
    )


@pytest.mark.parametrize("topic", PROCESS_TOPICS)
@pytest.mark.parametrize("make", [zx.job_default, zx.thread_self])
def test_h3_process_topic_wrong_type(topic, make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, make(), topic))


@pytest.mark.parametrize("topic", VMAR_TOPICS)
@pytest.mark.parametrize("make", [zx.job_default, zx.process_self, zx.thread_self])
def test_h3_vmar_topic_wrong_type(topic, make):
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.object_get_info, make(), topic))


@pytest.mark.parametrize(
    ("topic", "make", "dropped"),
    [
        (zx.ZX_INFO_PROCESS_MAPS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS_VMOS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_PROCESS, zx.process_self, zx.ZX_RIGHT_INSPECT),
        # Zircon requires ZX_RIGHT_ENUMERATE, not INSPECT, to list threads.
        (zx.ZX_INFO_PROCESS_THREADS, zx.process_self, zx.ZX_RIGHT_ENUMERATE),
        (zx.ZX_INFO_VMAR, zx.vmar_root_self, zx.ZX_RIGHT_INSPECT),
        (zx.ZX_INFO_VMAR_MAPS, zx.vmar_root_self, zx.ZX_RIGHT_INSPECT),
    ],
)
def test_h3_requires_rights(topic, make, dropped):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weaken(make(), dropped), topic
        )
    )


@pytest.mark.parametrize(
    ("topic", "make"),
    [
        (zx.ZX_INFO_HANDLE_BASIC, zx.process_self),
        (zx.ZX_INFO_PROCESS, zx.process_self),
        (zx.ZX_INFO_VMAR, zx.vmar_root_self),
    ],
)
def test_h3_single_record_zero_sized(topic, make):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_BUFFER_TOO_SMALL, zx.object_get_info, make(), topic, 0)
    )


@pytest.mark.parametrize(
    ("topic", "make"),
    [
        (zx.ZX_INFO_PROCESS_MAPS, zx.process_self),
        (zx.ZX_INFO_PROCESS_VMOS, zx.process_self),
        (zx.ZX_INFO_PROCESS_THREADS, zx.process_self),
        (zx.ZX_INFO_VMAR_MAPS, zx.vmar_root_self),
    ],
)
def test_h3_list_zero_and_one_entry(topic, make):
    def body():
        if topic == zx.ZX_INFO_PROCESS_THREADS:
            zx.thread_start(zx.thread_create(zx.process_self(), "extra", 0), park, 0, 0, 0)
        if topic in (zx.ZX_INFO_PROCESS_VMOS, zx.ZX_INFO_VMAR_MAPS):
            for _ in range(2):
                zx.vmar_map(zx.vmar_root_self(), RW, 0, zx.vmo_create(page(), 0), 0, page())
        return (
            zx.object_get_info(make(), topic, 0),
            zx.object_get_info(make(), topic, 1),
        )

    (none, none_actual, none_avail), (one, one_actual, one_avail) = run_guest(body)
    assert (none, none_actual) == ([], 0)
    assert none_avail > 0
    assert (len(one), one_actual) == (1, 1)
    assert one_avail > 1


@pytest.mark.parametrize(
    ("topic", "make"),
    [
        (zx.ZX_INFO_PROCESS, zx.process_self),
        (zx.ZX_INFO_PROCESS_MAPS, zx.process_self),
        (zx.ZX_INFO_PROCESS_VMOS, zx.process_self),
        (zx.ZX_INFO_PROCESS_THREADS, zx.process_self),
        (zx.ZX_INFO_VMAR, zx.vmar_root_self),
        (zx.ZX_INFO_VMAR_MAPS, zx.vmar_root_self),
    ],
)
def test_h3_own_process_and_root_vmar(topic, make):
    run_guest(lambda: zx.object_get_info(make(), topic))


def test_h4_handle_stats_of_self():
    def body():
        zx.vmo_create(page(), 0)
        before = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        zx.eventpair_create(0)
        after = zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_HANDLE_STATS)
        return before.handle_count, after.handle_count

    before, after = run_guest(body)
    assert before[zx.ZX_OBJ_TYPE_NONE] == 0
    assert before[zx.ZX_OBJ_TYPE_PROCESS] > 0
    assert before[zx.ZX_OBJ_TYPE_THREAD] > 0
    assert before[zx.ZX_OBJ_TYPE_VMO] > 0
    assert before[zx.ZX_OBJ_TYPE_INTERRUPT] == 0
    assert after[zx.ZX_OBJ_TYPE_EVENTPAIR] == before[zx.ZX_OBJ_TYPE_EVENTPAIR] + 2


def test_h4_handle_table_of_started_process():
    # Zircon's test passes a VMO and a channel. pyzircon has no channels yet, so the
    # process receives a VMO and then creates an event pair itself.
    def body():
        box = {}

        def entry(arg1, arg2):
            box["pair"] = zx.eventpair_create(0)
            return park(arg1, arg2)

        process, _ = new_process()
        start(process, entry, zx.vmo_create(page(), 0))
        wait_until(lambda: "pair" in box)
        table = zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE, 8)
        kill_and_wait(process)
        return table

    entries, actual, avail = run_guest(body)
    assert (actual, avail) == (3, 3)
    assert [entry.type for entry in entries] == [
        zx.ZX_OBJ_TYPE_VMO,
        zx.ZX_OBJ_TYPE_EVENTPAIR,
        zx.ZX_OBJ_TYPE_EVENTPAIR,
    ]
    assert all(entry.handle_value != zx.ZX_HANDLE_INVALID for entry in entries)
    assert all(entry.koid > 0 for entry in entries)
    assert all(entry.peer_owner_koid == 0 for entry in entries)
    assert entries[0].related_koid == 0
    assert entries[1].related_koid == entries[2].koid


def test_h4_handle_table_of_new_process():
    def body():
        process, _ = new_process()
        return zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE, 4)

    assert run_guest(body) == ([], 0, 0)


def test_h4_handle_table_needs_manage_process():
    def body():
        process, _ = new_process()
        weak = zx.handle_duplicate(process, zx.ZX_RIGHT_INSPECT | zx.ZX_RIGHT_MANAGE_THREAD)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.object_get_info, weak, zx.ZX_INFO_HANDLE_TABLE)

    run_guest(body)


def test_h4_handle_table_of_self():
    def body():
        zx.eventpair_create(0)
        zx.event_create(0)
        _, _, avail = zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_TABLE, 0)
        return avail, zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_TABLE, avail + 4)

    avail, (entries, actual, second_avail) = run_guest(body)
    assert actual == avail
    assert second_avail == avail
    related = {zx.ZX_OBJ_TYPE_EVENTPAIR, zx.ZX_OBJ_TYPE_THREAD, zx.ZX_OBJ_TYPE_PROCESS}
    unrelated = {zx.ZX_OBJ_TYPE_EVENT, zx.ZX_OBJ_TYPE_VMO, zx.ZX_OBJ_TYPE_VMAR}
    for entry in entries:
        if entry.type in related:
            assert entry.related_koid > 0
        if entry.type in unrelated:
            assert entry.related_koid == 0


def process_vmos_setup():
    """Return the full and a short ZX_INFO_PROCESS_VMOS listing of a started process.

    The process holds one VMO by handle, maps a second VMO twice, and both maps and holds
    a third.
    """
    box = {}

    def entry(arg1, arg2):
        root = zx.vmar_root_self()
        mapped = zx.vmo_create(page(), 0)
        for _ in range(2):
            zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, mapped, 0, page())
        zx.handle_close(mapped)
        both = zx.vmo_create(page(), 0)
        zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, both, 0, page())
        box["ready"] = True
        return park(arg1, arg2)

    process, _ = new_process()
    start(process, entry, zx.vmo_create(page(), 0))
    wait_until(lambda: "ready" in box)
    full = zx.object_get_info(process, zx.ZX_INFO_PROCESS_VMOS)
    short = zx.object_get_info(process, zx.ZX_INFO_PROCESS_VMOS, len(full) - 1)
    kill_and_wait(process)
    return full, short


def test_h5_process_vmos_entries():
    full, _ = run_guest(process_vmos_setup)
    via_handle = zx.ZX_INFO_VMO_VIA_HANDLE
    via_mapping = zx.ZX_INFO_VMO_VIA_MAPPING
    for record in full:
        assert record.parent_koid == 0
        assert record.num_children == 0
        assert record.share_count == 1
        assert record.flags & zx.ZX_INFO_VMO_TYPE_PAGED
        assert not record.flags & zx.ZX_INFO_VMO_IS_COW_CLONE
        assert bool(record.flags & via_handle) != bool(record.flags & via_mapping)
    by_handle = [record for record in full if record.flags & via_handle]
    by_mapping = [record for record in full if record.flags & via_mapping]
    mapped_koids = {record.koid for record in by_mapping}
    handle_only = [record for record in by_handle if record.koid not in mapped_koids]
    assert [record.num_mappings for record in handle_only] == [0]
    assert sorted(record.num_mappings for record in by_mapping) == [1, 2, 2]


def test_h5_vmo_held_and_mapped_listed_twice():
    full, _ = run_guest(process_vmos_setup)
    koids = [record.koid for record in full]
    assert len(koids) - len(set(koids)) == 2


def test_h5_process_vmos_short_buffer():
    full, (records, actual, avail) = run_guest(process_vmos_setup)
    assert actual < avail
    assert avail == len(full)
    assert records == full[:actual]


def test_h7_vmar_base_and_len():
    def body():
        _, vmar = new_process()
        region, base = zx.vmar_allocate(vmar, zx.ZX_VM_CAN_MAP_READ, 0, 10 * page())
        return base, zx.object_get_info(region, zx.ZX_INFO_VMAR)

    base, info = run_guest(body)
    assert info.base == base
    assert info.len == 10 * page()
