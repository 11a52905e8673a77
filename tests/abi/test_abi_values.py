"""Checks of the numeric ABI against values derived independently of the modules' own sums."""

import ctypes
import dataclasses

import pytest

from pyzircon.abi import exceptions, info, layout, policy, rights, signals, task, vm

U8 = ctypes.c_uint8
U32 = ctypes.c_uint32
U64 = ctypes.c_uint64
I64 = ctypes.c_int64


def _struct(*fields: tuple[str, type]) -> type[ctypes.Structure]:
    return type("S", (ctypes.Structure,), {"_fields_": list(fields)})


def _c_size(*fields: tuple[str, type]) -> int:
    return ctypes.sizeof(_struct(*fields))


_MAPPING_FIELDS = (
    ("mmu_flags", U32),
    ("padding1", U8 * 4),
    ("vmo_koid", U64),
    ("vmo_offset", U64),
    ("committed_bytes", U64),
    ("populated_bytes", U64),
    ("committed_private_bytes", U64),
    ("populated_private_bytes", U64),
    ("committed_scaled_bytes", U64),
    ("populated_scaled_bytes", U64),
    ("committed_fractional_scaled_bytes", U64),
    ("populated_fractional_scaled_bytes", U64),
)

# C layouts of the newest `zircon/syscalls/object.h`, padding included.
C_LAYOUTS: dict[int, tuple[tuple[str, type], ...]] = {
    info.ZX_INFO_HANDLE_BASIC: (
        ("koid", U64),
        ("rights", U32),
        ("type", U32),
        ("related_koid", U64),
        ("reserved", U32),
        ("padding1", U8 * 4),
    ),
    info.ZX_INFO_HANDLE_TABLE: (
        ("type", U32),
        ("handle_value", U32),
        ("rights", U32),
        ("reserved", U32),
        ("koid", U64),
        ("related_koid", U64),
        ("peer_owner_koid", U64),
    ),
    info.ZX_INFO_PROCESS: (
        ("return_code", I64),
        ("start_time", I64),
        ("flags", U32),
        ("padding1", U8 * 4),
    ),
    info.ZX_INFO_JOB: (
        ("return_code", I64),
        ("exited", ctypes.c_bool),
        ("kill_on_oom", ctypes.c_bool),
        ("debugger_attached", ctypes.c_bool),
        ("padding1", U8 * 5),
    ),
    info.ZX_INFO_THREAD: (
        ("state", U32),
        ("wait_exception_channel_type", U32),
        ("cpu_affinity_mask", U64 * 8),
    ),
    info.ZX_INFO_TASK_STATS: tuple(
        (name, U64)
        for name in (
            "mem_mapped_bytes",
            "mem_private_bytes",
            "mem_shared_bytes",
            "mem_scaled_shared_bytes",
            "mem_fractional_scaled_shared_bytes",
        )
    ),
    info.ZX_INFO_PROCESS_MAPS: (
        ("name", ctypes.c_char * 32),
        ("base", U64),
        ("size", U64),
        ("depth", U64),
        ("type", U32),
        ("padding1", U8 * 4),
        ("u", _struct(*_MAPPING_FIELDS)),
    ),
    info.ZX_INFO_VMO: (
        ("koid", U64),
        ("name", ctypes.c_char * 32),
        ("size_bytes", U64),
        ("parent_koid", U64),
        ("num_children", U64),
        ("num_mappings", U64),
        ("share_count", U64),
        ("flags", U32),
        ("padding1", U8 * 4),
        ("committed_bytes", U64),
        ("handle_rights", U32),
        ("cache_policy", U32),
        ("metadata_bytes", U64),
        ("committed_change_events", U64),
        ("populated_bytes", U64),
        ("committed_private_bytes", U64),
        ("populated_private_bytes", U64),
        ("committed_scaled_bytes", U64),
        ("populated_scaled_bytes", U64),
        ("committed_fractional_scaled_bytes", U64),
        ("populated_fractional_scaled_bytes", U64),
    ),
}


def _field_names(record: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(record))


def _c_names(topic: int) -> tuple[str, ...]:
    return tuple(name for name, _ in C_LAYOUTS[topic] if name not in ("reserved", "padding1"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (rights.ZX_DEFAULT_PROCESS_RIGHTS, 0x6D3CF),
        (rights.ZX_DEFAULT_VMAR_RIGHTS, 0x208003),
        (rights.ZX_DEFAULT_THREAD_RIGHTS, 0x4D2CF),
        (rights.ZX_DEFAULT_JOB_RIGHTS, 0x7DFCF),
        (rights.ZX_DEFAULT_VMO_RIGHTS, 0xD0EF),
        (rights.ZX_RIGHTS_BASIC, 0xC003),
    ],
)
def test_default_rights_sums(value: int, expected: int) -> None:
    assert value == expected


@pytest.mark.parametrize(
    ("arch", "restricted_end", "shared_base", "shared_end"),
    [
        ("x86_64", 0x4000_0000_0000, 0x4000_0000_1000, 0x7FFF_FFFF_F000),
        ("arm64", 0x8000_0000_0000, 0x8000_0000_1000, 0xFFFF_FF00_0000),
        ("riscv64", 0x20_0000_0000, 0x20_0000_1000, 0x40_0000_0000),
    ],
)
def test_layout_shared_range_and_guard_page(
    arch: str, restricted_end: int, shared_base: int, shared_end: int
) -> None:
    arch_layout = layout.LAYOUTS[arch]

    assert arch_layout.restricted_base == 0x20_0000
    assert arch_layout.restricted_end == restricted_end
    assert arch_layout.guard_page == restricted_end
    assert arch_layout.shared_base == shared_base
    assert arch_layout.shared_end == shared_end
    assert arch_layout.user_end == shared_end


# Every topic name of the newest `zircon/syscalls/object.h`.
TOPIC_NAMES = (
    "NONE",
    "HANDLE_VALID",
    "HANDLE_BASIC",
    "PROCESS",
    "PROCESS_THREADS",
    "VMAR",
    "JOB_CHILDREN",
    "JOB_PROCESSES",
    "THREAD",
    "THREAD_EXCEPTION_REPORT_V1",
    "THREAD_EXCEPTION_REPORT",
    "TASK_STATS_V1",
    "TASK_STATS",
    "PROCESS_MAPS_V1",
    "PROCESS_MAPS_V2",
    "PROCESS_MAPS",
    "PROCESS_VMOS_V1",
    "PROCESS_VMOS_V2",
    "PROCESS_VMOS_V3",
    "PROCESS_VMOS",
    "THREAD_STATS",
    "CPU_STATS",
    "KMEM_STATS",
    "KMEM_STATS_V1",
    "RESOURCE",
    "HANDLE_COUNT",
    "BTI",
    "PROCESS_HANDLE_STATS",
    "SOCKET",
    "VMO_V1",
    "VMO_V2",
    "VMO_V3",
    "VMO",
    "JOB",
    "TIMER",
    "STREAM",
    "HANDLE_TABLE",
    "MSI",
    "GUEST_STATS",
    "TASK_RUNTIME_V1",
    "TASK_RUNTIME",
    "KMEM_STATS_EXTENDED",
    "VCPU",
    "KMEM_STATS_COMPRESSION",
    "IOB",
    "IOB_REGIONS",
    "VMAR_MAPS",
    "POWER_DOMAINS",
    "MEMORY_STALL",
    "INTERRUPT",
    "CLOCK_MAPPED_SIZE",
)


def test_info_topics_have_distinct_numbers() -> None:
    values = [getattr(info, "ZX_INFO_" + name) for name in TOPIC_NAMES]

    assert len(values) == len(set(values)), "two ZX_INFO_* topics share a number"
    assert sorted(info.INFO_TOPIC_NAMES) == sorted(values)


def test_versioned_topics_encode_version_in_top_bits() -> None:
    assert info.ZX_INFO_PROCESS == 0x1000_0003
    assert info.ZX_INFO_TASK_STATS == 0x1000_000C
    assert info.ZX_INFO_PROCESS_MAPS == 0x2000_000D
    assert info.ZX_INFO_PROCESS_VMOS == 0x3000_000E
    assert info.ZX_INFO_VMO == 0x3000_0017
    assert info.ZX_INFO_TASK_RUNTIME == 0x1000_001E


def test_every_topic_has_record_size() -> None:
    missing = set(info.INFO_TOPIC_NAMES) - set(info.RECORD_SIZES) - {info.ZX_INFO_NONE}

    assert not missing, [info.INFO_TOPIC_NAMES[topic] for topic in missing]


@pytest.mark.parametrize("topic", sorted(C_LAYOUTS))
def test_record_size_matches_c_layout(topic: int) -> None:
    assert info.RECORD_SIZES[topic] == _c_size(*C_LAYOUTS[topic])


@pytest.mark.parametrize(
    ("record", "topic"),
    [
        (info.InfoHandleBasic, info.ZX_INFO_HANDLE_BASIC),
        (info.InfoHandleExtended, info.ZX_INFO_HANDLE_TABLE),
        (info.InfoProcess, info.ZX_INFO_PROCESS),
        (info.InfoJob, info.ZX_INFO_JOB),
        (info.InfoThread, info.ZX_INFO_THREAD),
        (info.InfoTaskStats, info.ZX_INFO_TASK_STATS),
        (info.InfoMaps, info.ZX_INFO_PROCESS_MAPS),
        (info.InfoVmo, info.ZX_INFO_VMO),
    ],
)
def test_record_fields_follow_c_order(record: type, topic: int) -> None:
    expected = _c_names(topic)
    if record is info.InfoHandleBasic:
        # The class keeps the older name `props` for the field the newest header calls
        # `reserved`.
        expected = ("koid", "rights", "type", "related_koid", "props")

    assert _field_names(record) == expected


def test_maps_mapping_fields_follow_c_order() -> None:
    expected = tuple(name for name, _ in _MAPPING_FIELDS if name != "padding1")

    assert _field_names(info.InfoMapsMapping) == expected


def test_short_records_field_order() -> None:
    assert _field_names(info.InfoVmar) == ("base", "len")
    assert _field_names(info.InfoHandleCount) == ("handle_count",)
    assert _field_names(info.InfoProcessHandleStats) == ("handle_count",)
    assert _field_names(info.InfoTaskRuntime) == (
        "cpu_time",
        "queue_time",
        "page_fault_time",
        "lock_contention_time",
    )


def test_records_are_frozen() -> None:
    vmar = info.InfoVmar(base=0x20_0000, len=0x1000)

    with pytest.raises(dataclasses.FrozenInstanceError):
        vmar.base = 0  # type: ignore[misc]


def test_task_signals_share_signal_3() -> None:
    assert signals.ZX_TASK_TERMINATED == 0x8
    assert signals.ZX_PROCESS_TERMINATED == signals.ZX_TASK_TERMINATED
    assert signals.ZX_THREAD_TERMINATED == signals.ZX_TASK_TERMINATED
    assert signals.ZX_JOB_TERMINATED == signals.ZX_TASK_TERMINATED
    assert signals.ZX_JOB_NO_CHILDREN == 0x40
    assert signals.ZX_USER_SIGNAL_ALL == 0xFF00_0000


def test_policy_actions_and_conditions() -> None:
    actions = (
        policy.ZX_POL_ACTION_ALLOW,
        policy.ZX_POL_ACTION_DENY,
        policy.ZX_POL_ACTION_ALLOW_EXCEPTION,
        policy.ZX_POL_ACTION_DENY_EXCEPTION,
        policy.ZX_POL_ACTION_KILL,
    )

    assert actions == (0, 1, 2, 3, 4)
    assert policy.ZX_POL_NEW_VMO == 4
    assert policy.ZX_POL_NEW_PROCESS == 12
    assert len(policy.POL_CONDITION_NAMES) == policy.ZX_POL_MAX


def test_x86_user_flags_mask() -> None:
    assert exceptions.X86_FLAGS_USER == 0x244DD5
    assert not exceptions.X86_FLAGS_USER & exceptions.X86_FLAGS_IF


def test_task_constants() -> None:
    assert task.ZX_PROCESS_SHARED == 1
    assert task.ZX_TASK_RETCODE_SYSCALL_KILL == -1024
    assert task.ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL == -1029
    assert task.ZX_TIME_INFINITE == 2**63 - 1
    assert task.ZX_RESTRICTED_REASON_EXCEPTION_LOST == 3


def test_vmo_child_option_bits_distinct() -> None:
    options = [getattr(vm, name) for name in vars(vm) if name.startswith("ZX_VMO_CHILD_")]

    assert len(options) == len(set(options))
    assert vm.ZX_VMO_CHILD_REFERENCE == 1 << 6
    assert vm.ZX_VMO_CHILD_SNAPSHOT_MODIFIED == 1 << 7


def test_vm_align_mask_covers_4gb_alignment() -> None:
    assert vm.ZX_VM_ALIGN_4GB & vm.ZX_VM_ALIGN_MASK == vm.ZX_VM_ALIGN_4GB
