"""Shared processes (zx_process_create_shared), as Zircon's process-shared core tests expect.

Each test is one scenario of Zircon's behaviour, restated with pyzircon's guest API.
"""

from __future__ import annotations

from guest_tasks import kill_and_wait, park, start, wait_until_dead
from pyzircon import zx
from pyzircon.abi.layout import LAYOUTS
from support import expect_status, run_guest

X86_64 = LAYOUTS["x86_64"]
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE


def koid_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).koid


def page() -> int:
    return zx.system_get_page_size()


def new_prototype(job: int | None = None) -> tuple[int, int]:
    parent = zx.job_default() if job is None else job
    return zx.process_create(parent, "prototype_process", zx.ZX_PROCESS_SHARED)


def own_handle_count() -> int:
    return len(zx.object_get_info(zx.process_self(), zx.ZX_INFO_HANDLE_TABLE))


def test_a1_prototype_mapping_visible_in_member():
    def body():
        proto, shared_vmar = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "process")
        vmo = zx.vmo_create(page(), 0)
        address = zx.vmar_map(shared_vmar, RW, 0, vmo, 0, page())
        zx.vmo_write(vmo, b"abc", 0)
        assert zx.process_read_memory(proto, address, 3) == b"abc"
        assert zx.process_read_memory(member, address, 3) == b"abc"

    run_guest(body)


def test_a2_restricted_mapping_invisible_to_prototype():
    def body():
        proto, _ = new_prototype()
        member, restricted_vmar = zx.process_create_shared(proto, 0, "process")
        vmo = zx.vmo_create(page(), 0)
        address = zx.vmar_map(restricted_vmar, RW, 0, vmo, 0, page())
        zx.vmo_write(vmo, b"abc", 0)
        assert X86_64.restricted_base <= address < X86_64.restricted_end
        expect_status(zx.ZX_ERR_NOT_FOUND, zx.process_read_memory, proto, address, 3)
        assert zx.process_read_memory(member, address, 3) == b"abc"

    run_guest(body)


def test_a3_regular_process_is_not_a_prototype():
    def body():
        regular, _ = zx.process_create(zx.job_default(), "prototype_process", 0)
        before = own_handle_count()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, regular, 0, "process")
        assert own_handle_count() == before

    run_guest(body)


def test_a4_nonzero_options():
    def body():
        proto, _ = new_prototype()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.process_create_shared, proto, 1, "process")

    run_guest(body)


def test_a4_invalid_and_closed_handles():
    def body():
        proto, _ = new_prototype()
        zx.handle_close(proto)
        for value in (zx.ZX_HANDLE_INVALID, proto):
            expect_status(zx.ZX_ERR_BAD_HANDLE, zx.process_create_shared, value, 0, "process")

    run_guest(body)


def test_a4_wrong_object_types():
    def body():
        proto, _ = new_prototype()
        thread = zx.thread_create(proto, "t", 0)
        vmo = zx.vmo_create(page(), 0)
        for handle in (zx.job_default(), vmo, thread):
            expect_status(zx.ZX_ERR_WRONG_TYPE, zx.process_create_shared, handle, 0, "process")

    run_guest(body)


def test_a4_missing_manage_process():
    def body():
        proto, _ = new_prototype()
        rights = zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_MANAGE_PROCESS
        weak = zx.handle_duplicate(proto, rights)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.process_create_shared, weak, 0, "process")

    run_guest(body)


def test_a4_get_property_not_required():
    # The newest kernel also requires ZX_RIGHT_GET_PROPERTY, but pyzircon follows the published
    # reference page, which requires ZX_RIGHT_MANAGE_PROCESS only.
    def body():
        proto, _ = new_prototype()
        rights = zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_GET_PROPERTY
        weak = zx.handle_duplicate(proto, rights)
        zx.process_create_shared(weak, 0, "process")

    run_guest(body)


def test_a4_long_name_truncated():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "n" * (zx.ZX_MAX_NAME_LEN + 8))
        name = zx.object_get_property(member, zx.ZX_PROP_NAME)
        assert name == "n" * (zx.ZX_MAX_NAME_LEN - 1)

    run_guest(body)


def test_a5_dead_shared_state():
    def body():
        proto, _ = new_prototype()
        zx.task_kill(proto)
        info = zx.object_get_info(proto, zx.ZX_INFO_PROCESS)
        assert info.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED
        expect_status(zx.ZX_ERR_BAD_STATE, zx.process_create_shared, proto, 0, "x")

    run_guest(body)


def test_a8_member_is_child_of_prototype_job():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        proto, _ = new_prototype(job)
        member, _ = zx.process_create_shared(proto, 0, "process")
        related = zx.object_get_info(member, zx.ZX_INFO_HANDLE_BASIC).related_koid
        assert related == koid_of(job)
        listed = zx.object_get_info(job, zx.ZX_INFO_JOB_PROCESSES)
        assert sorted(listed) == sorted([koid_of(proto), koid_of(member)])

    run_guest(body)


def test_a8_killing_job_kills_group():
    def body():
        job = zx.job_create(zx.job_default(), 0)
        proto, _ = new_prototype(job)
        member, _ = zx.process_create_shared(proto, 0, "process")
        start(member)
        zx.task_kill(job)
        for process in (proto, member):
            wait_until_dead(process)
            info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
            assert info.return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL

    run_guest(body)


def test_a9_process_vmos_per_sharer():
    def body():
        proto, shared_vmar = new_prototype()
        member, restricted_vmar = zx.process_create_shared(proto, 0, "process")
        # Stands for the code and stack VMO that Zircon's test maps into the shared part.
        code = zx.vmo_create(page(), 0)
        zx.vmar_map(shared_vmar, RW, 0, code, 0, page())
        vmo1 = zx.vmo_create(page(), 0)
        vmo2 = zx.vmo_create(page(), 0)
        start(proto, park, vmo1)
        start(member, park)
        zx.vmar_map(restricted_vmar, zx.ZX_VM_PERM_READ, 0, vmo2, 0, page())

        _, proto_actual, proto_avail = zx.object_get_info(proto, zx.ZX_INFO_PROCESS_VMOS, 3)
        _, member_actual, member_avail = zx.object_get_info(member, zx.ZX_INFO_PROCESS_VMOS, 3)
        _, short_actual, short_avail = zx.object_get_info(member, zx.ZX_INFO_PROCESS_VMOS, 2)
        kill_and_wait(proto)
        kill_and_wait(member)
        return (proto_actual, proto_avail, member_actual, member_avail, short_actual, short_avail)

    assert run_guest(body) == (2, 2, 3, 3, 2, 3)


def test_a9_process_vmos_order():
    def body():
        proto, shared_vmar = new_prototype()
        member, restricted_vmar = zx.process_create_shared(proto, 0, "process")
        code = zx.vmo_create(page(), 0)
        zx.vmar_map(shared_vmar, RW, 0, code, 0, page())
        vmo1 = zx.vmo_create(page(), 0)
        vmo2 = zx.vmo_create(page(), 0)
        expected = [koid_of(vmo1), koid_of(code), koid_of(vmo2)]
        start(proto, park, vmo1)
        start(member, park)
        zx.vmar_map(restricted_vmar, zx.ZX_VM_PERM_READ, 0, vmo2, 0, page())
        records = zx.object_get_info(member, zx.ZX_INFO_PROCESS_VMOS)
        kill_and_wait(proto)
        kill_and_wait(member)
        return expected, [record.koid for record in records]

    expected, listed = run_guest(body)
    assert listed == expected


def test_a11_process_maps_counts_and_order():
    def body():
        proto, shared_vmar = new_prototype()
        member, restricted_vmar = zx.process_create_shared(proto, 0, "process")
        options = zx.ZX_VM_PERM_READ | zx.ZX_VM_MAP_RANGE
        zx.vmar_map(shared_vmar, options, 0, zx.vmo_create(page(), 0), 0, page())
        zx.vmar_map(restricted_vmar, options, 0, zx.vmo_create(page(), 0), 0, page())
        proto_maps = zx.object_get_info(proto, zx.ZX_INFO_PROCESS_MAPS, 6)
        member_maps = zx.object_get_info(member, zx.ZX_INFO_PROCESS_MAPS, 6)
        return proto_maps, member_maps

    (proto_records, proto_actual, proto_avail), member = run_guest(body)
    member_records, member_actual, member_avail = member
    assert (proto_actual, proto_avail) == (3, 3)
    assert (member_actual, member_avail) == (6, 6)
    for records in (proto_records, member_records):
        bases = [record.base for record in records]
        assert bases == sorted(bases)


def test_a11_member_lists_restricted_part_first():
    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "process")
        return zx.object_get_info(member, zx.ZX_INFO_PROCESS_MAPS)

    records = run_guest(body)
    aspaces = [record for record in records if record.type == zx.ZX_INFO_MAPS_TYPE_ASPACE]
    assert [record.base for record in aspaces] == [X86_64.restricted_base, X86_64.shared_base]


def test_a12_debug_properties_copied_then_independent():
    def body():
        proto, _ = new_prototype()
        zx.object_set_property(proto, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD, 0x10ADF00D)
        zx.object_set_property(proto, zx.ZX_PROP_PROCESS_DEBUG_ADDR, 0xFEEDFACE)
        member, _ = zx.process_create_shared(proto, 0, "process")
        copied = (
            zx.object_get_property(member, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD),
            zx.object_get_property(member, zx.ZX_PROP_PROCESS_DEBUG_ADDR),
        )
        zx.object_set_property(member, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD, 0)
        zx.object_set_property(member, zx.ZX_PROP_PROCESS_DEBUG_ADDR, 0)
        kept = (
            zx.object_get_property(proto, zx.ZX_PROP_PROCESS_BREAK_ON_LOAD),
            zx.object_get_property(proto, zx.ZX_PROP_PROCESS_DEBUG_ADDR),
        )
        return copied, kept

    copied, kept = run_guest(body)
    assert copied == (0x10ADF00D, 0xFEEDFACE)
    assert kept == (0x10ADF00D, 0xFEEDFACE)


def test_a13_vdso_base_shared():
    def body():
        proto, _ = new_prototype()
        before = zx.object_get_property(proto, zx.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS)
        member, _ = zx.process_create_shared(proto, 0, "process")
        member_base = zx.object_get_property(member, zx.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS)
        return before, member_base

    before, member_base = run_guest(body)
    assert before == 0
    assert member_base == before


def test_a13_hw_trace_context_id_shared_or_unsupported():
    def read(process: int) -> int | None:
        try:
            return zx.object_get_property(process, zx.ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID)
        except zx.ZxError as error:
            assert error.status == zx.ZX_ERR_NOT_SUPPORTED
            return None

    def body():
        proto, _ = new_prototype()
        member, _ = zx.process_create_shared(proto, 0, "process")
        return read(proto), read(member)

    proto_id, member_id = run_guest(body)
    assert proto_id == member_id
    assert proto_id is None or proto_id != 0


def test_a15_close_unstarted_prototype_before_its_vmar():
    def body():
        proto, shared_vmar = new_prototype()
        zx.handle_close(proto)
        vmo = zx.vmo_create(page(), 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmar_map, shared_vmar, RW, 0, vmo, 0, page())
        zx.handle_close(shared_vmar)

    run_guest(body)
