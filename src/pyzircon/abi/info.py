"""Object info topics (`zx_object_get_info`) and their records, as in `zircon/syscalls/object.h`.

Each record class is a frozen dataclass whose fields have the C struct's names in the C
order. Explicit padding fields are left out, and so is any other field a class docstring
names. RECORD_SIZES gives the C size of each topic's record on a 64-bit target.
"""

from dataclasses import dataclass
from typing import Final

# A versioned topic keeps its number in the low bits and its version in bits 28..31.
INFO_TOPIC_VERSION_SHIFT: Final = 28

ZX_INFO_NONE: Final = 0
ZX_INFO_HANDLE_VALID: Final = 1
ZX_INFO_HANDLE_BASIC: Final = 2
ZX_INFO_PROCESS: Final = 3 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_THREADS: Final = 4
ZX_INFO_VMAR: Final = 7
ZX_INFO_JOB_CHILDREN: Final = 8
ZX_INFO_JOB_PROCESSES: Final = 9
ZX_INFO_THREAD: Final = 10
ZX_INFO_THREAD_EXCEPTION_REPORT_V1: Final = 11
ZX_INFO_THREAD_EXCEPTION_REPORT: Final = 11 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_TASK_STATS_V1: Final = 12
ZX_INFO_TASK_STATS: Final = 12 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_MAPS_V1: Final = 13
ZX_INFO_PROCESS_MAPS_V2: Final = 13 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_MAPS: Final = 13 | (2 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_VMOS_V1: Final = 14
ZX_INFO_PROCESS_VMOS_V2: Final = 14 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_VMOS_V3: Final = 14 | (2 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_PROCESS_VMOS: Final = 14 | (3 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_THREAD_STATS: Final = 15
ZX_INFO_CPU_STATS: Final = 16
ZX_INFO_KMEM_STATS_V1: Final = 17
ZX_INFO_KMEM_STATS: Final = 17 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_RESOURCE: Final = 18
ZX_INFO_HANDLE_COUNT: Final = 19
ZX_INFO_BTI: Final = 20
ZX_INFO_PROCESS_HANDLE_STATS: Final = 21
ZX_INFO_SOCKET: Final = 22
ZX_INFO_VMO_V1: Final = 23
ZX_INFO_VMO_V2: Final = 23 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_VMO_V3: Final = 23 | (2 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_VMO: Final = 23 | (3 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_JOB: Final = 24
ZX_INFO_TIMER: Final = 25
ZX_INFO_STREAM: Final = 26
ZX_INFO_HANDLE_TABLE: Final = 27
ZX_INFO_MSI: Final = 28
ZX_INFO_GUEST_STATS: Final = 29
ZX_INFO_TASK_RUNTIME_V1: Final = 30
ZX_INFO_TASK_RUNTIME: Final = 30 | (1 << INFO_TOPIC_VERSION_SHIFT)
ZX_INFO_KMEM_STATS_EXTENDED: Final = 31
ZX_INFO_VCPU: Final = 32
ZX_INFO_KMEM_STATS_COMPRESSION: Final = 33
ZX_INFO_IOB: Final = 34
ZX_INFO_IOB_REGIONS: Final = 35
ZX_INFO_VMAR_MAPS: Final = 36
ZX_INFO_POWER_DOMAINS: Final = 37
ZX_INFO_MEMORY_STALL: Final = 38
ZX_INFO_INTERRUPT: Final = 39
ZX_INFO_CLOCK_MAPPED_SIZE: Final = 40

INFO_TOPIC_NAMES: Final[dict[int, str]] = {
    value: name for name, value in list(globals().items()) if name.startswith("ZX_INFO_")
}

# Size in bytes of one C record per topic (x86-64, arm64 and riscv64 are all LP64). A topic
# that returns a list (koids, maps, VMOs, handles) lists the size of one element.
# ZX_INFO_HANDLE_VALID returns no record.
RECORD_SIZES: Final[dict[int, int]] = {
    ZX_INFO_HANDLE_VALID: 0,
    ZX_INFO_HANDLE_BASIC: 32,
    ZX_INFO_PROCESS: 24,
    ZX_INFO_PROCESS_THREADS: 8,
    ZX_INFO_VMAR: 16,
    ZX_INFO_JOB_CHILDREN: 8,
    ZX_INFO_JOB_PROCESSES: 8,
    ZX_INFO_THREAD: 72,
    ZX_INFO_THREAD_EXCEPTION_REPORT_V1: 32,
    ZX_INFO_THREAD_EXCEPTION_REPORT: 40,
    ZX_INFO_TASK_STATS_V1: 32,
    ZX_INFO_TASK_STATS: 40,
    ZX_INFO_PROCESS_MAPS_V1: 96,
    ZX_INFO_PROCESS_MAPS_V2: 104,
    ZX_INFO_PROCESS_MAPS: 152,
    ZX_INFO_PROCESS_VMOS_V1: 104,
    ZX_INFO_PROCESS_VMOS_V2: 120,
    ZX_INFO_PROCESS_VMOS_V3: 128,
    ZX_INFO_PROCESS_VMOS: 176,
    ZX_INFO_THREAD_STATS: 16,
    ZX_INFO_CPU_STATS: 144,
    ZX_INFO_KMEM_STATS_V1: 72,
    ZX_INFO_KMEM_STATS: 152,
    ZX_INFO_RESOURCE: 56,
    ZX_INFO_HANDLE_COUNT: 4,
    ZX_INFO_BTI: 32,
    ZX_INFO_PROCESS_HANDLE_STATS: 256,
    ZX_INFO_SOCKET: 48,
    ZX_INFO_VMO_V1: 104,
    ZX_INFO_VMO_V2: 120,
    ZX_INFO_VMO_V3: 128,
    ZX_INFO_VMO: 176,
    ZX_INFO_JOB: 16,
    ZX_INFO_TIMER: 24,
    ZX_INFO_STREAM: 24,
    ZX_INFO_HANDLE_TABLE: 40,
    ZX_INFO_MSI: 24,
    # zx_info_guest_stats_t differs per architecture: 120 bytes on x86-64, 72 on arm64 and
    # 32 on riscv64. This table lists the x86-64 size.
    ZX_INFO_GUEST_STATS: 120,
    ZX_INFO_TASK_RUNTIME_V1: 16,
    ZX_INFO_TASK_RUNTIME: 32,
    ZX_INFO_KMEM_STATS_EXTENDED: 120,
    ZX_INFO_VCPU: 4,
    ZX_INFO_KMEM_STATS_COMPRESSION: 168,
    ZX_INFO_IOB: 16,
    ZX_INFO_IOB_REGIONS: 128,
    ZX_INFO_VMAR_MAPS: 152,
    # TODO: unverified against the C header, which marks topic 37 "keep for reuse"; the size is
    # zx_power_domain_info_t from the Rust `zx-types` crate.
    ZX_INFO_POWER_DOMAINS: 72,
    ZX_INFO_MEMORY_STALL: 16,
    ZX_INFO_INTERRUPT: 4,
    ZX_INFO_CLOCK_MAPPED_SIZE: 8,
}

# zx_info_process_t.flags.
ZX_INFO_PROCESS_FLAG_STARTED: Final = 1 << 0
ZX_INFO_PROCESS_FLAG_EXITED: Final = 1 << 1
ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED: Final = 1 << 2

# zx_info_maps_t.type.
ZX_INFO_MAPS_TYPE_NONE: Final = 0
ZX_INFO_MAPS_TYPE_ASPACE: Final = 1
ZX_INFO_MAPS_TYPE_VMAR: Final = 2
ZX_INFO_MAPS_TYPE_MAPPING: Final = 3

# zx_info_vmo_t.flags. Bit 0 is the type: `flags & INFO_VMO_TYPE_MASK` is PAGED or PHYSICAL.
INFO_VMO_TYPE_MASK: Final = 1 << 0
ZX_INFO_VMO_TYPE_PHYSICAL: Final = 0
ZX_INFO_VMO_TYPE_PAGED: Final = 1 << 0
ZX_INFO_VMO_RESIZABLE: Final = 1 << 1
ZX_INFO_VMO_IS_COW_CLONE: Final = 1 << 2
ZX_INFO_VMO_VIA_HANDLE: Final = 1 << 3
ZX_INFO_VMO_VIA_MAPPING: Final = 1 << 4
ZX_INFO_VMO_PAGER_BACKED: Final = 1 << 5
ZX_INFO_VMO_CONTIGUOUS: Final = 1 << 6
ZX_INFO_VMO_DISCARDABLE: Final = 1 << 7
ZX_INFO_VMO_IMMUTABLE: Final = 1 << 8
ZX_INFO_VMO_VIA_IOB_HANDLE: Final = 1 << 9

# zx_info_thread_stats_t.last_scheduled_cpu of a thread that never ran.
ZX_INFO_INVALID_CPU: Final = 0xFFFF_FFFF
ZX_INFO_CPU_STATS_FLAG_ONLINE: Final = 1 << 0
ZX_INFO_VCPU_FLAG_KICKED: Final = 1 << 0

# The kernel's internal page-table flags (`vm/arch_vm_aspace.h`). ZX_INFO_PROCESS_MAPS does not
# report them: it converts them to ZX_VM_PERM_* bits in zx_info_maps_mapping_t.mmu_flags, and
# reports 0 for a range whose flags are ARCH_MMU_FLAG_INVALID.
ARCH_MMU_FLAG_CACHED: Final = 0 << 0
ARCH_MMU_FLAG_UNCACHED: Final = 1 << 0
ARCH_MMU_FLAG_UNCACHED_DEVICE: Final = 2 << 0
ARCH_MMU_FLAG_WRITE_COMBINING: Final = 3 << 0
ARCH_MMU_FLAG_CACHE_MASK: Final = 3 << 0
ARCH_MMU_FLAG_PERM_USER: Final = 1 << 2
ARCH_MMU_FLAG_PERM_READ: Final = 1 << 3
ARCH_MMU_FLAG_PERM_WRITE: Final = 1 << 4
ARCH_MMU_FLAG_PERM_EXECUTE: Final = 1 << 5
ARCH_MMU_FLAG_PERM_RWX_MASK: Final = (
    ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE | ARCH_MMU_FLAG_PERM_EXECUTE
)
ARCH_MMU_FLAG_NS: Final = 1 << 6
ARCH_MMU_FLAG_INVALID: Final = 1 << 7


@dataclass(frozen=True, slots=True)
class InfoHandleBasic:
    """zx_info_handle_basic_t, the ZX_INFO_HANDLE_BASIC record.

    `props` is the fifth field under its older name. The newest header calls it `reserved`
    and the newest kernel writes 0; older kernels wrote ZX_OBJ_PROP_WAITABLE for a waitable
    object.
    """

    koid: int
    rights: int
    type: int
    related_koid: int
    props: int


@dataclass(frozen=True, slots=True)
class InfoHandleExtended:
    """zx_info_handle_extended_t, one ZX_INFO_HANDLE_TABLE element. Omits `reserved`.

    `peer_owner_koid` is always 0 in Zircon (documented as unimplemented).
    """

    type: int
    handle_value: int
    rights: int
    koid: int
    related_koid: int
    peer_owner_koid: int


@dataclass(frozen=True, slots=True)
class InfoHandleCount:
    """zx_info_handle_count_t, the ZX_INFO_HANDLE_COUNT record."""

    handle_count: int


@dataclass(frozen=True, slots=True)
class InfoProcessHandleStats:
    """zx_info_process_handle_stats_t: open handles per object type, indexed by ZX_OBJ_TYPE_*.

    `handle_count` has ZX_OBJ_TYPE_UPPER_BOUND (64) entries.
    """

    handle_count: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class InfoProcess:
    """zx_info_process_t, the ZX_INFO_PROCESS record.

    `return_code` is valid once ZX_INFO_PROCESS_FLAG_EXITED is set, and `start_time` once
    ZX_INFO_PROCESS_FLAG_STARTED is set.
    """

    return_code: int
    start_time: int
    flags: int


@dataclass(frozen=True, slots=True)
class InfoJob:
    """zx_info_job_t, the ZX_INFO_JOB record. `return_code` is valid once `exited` is true."""

    return_code: int
    exited: bool
    kill_on_oom: bool
    debugger_attached: bool


@dataclass(frozen=True, slots=True)
class InfoThread:
    """zx_info_thread_t, the ZX_INFO_THREAD record.

    `cpu_affinity_mask` is zx_cpu_set_t's `mask`: 8 uint64 words, CPU n in bit n % 64 of
    word n // 64.
    """

    state: int
    wait_exception_channel_type: int
    cpu_affinity_mask: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class InfoThreadStats:
    """zx_info_thread_stats_t, the ZX_INFO_THREAD_STATS record. Times are in nanoseconds."""

    total_runtime: int
    last_scheduled_cpu: int


@dataclass(frozen=True, slots=True)
class InfoTaskRuntime:
    """zx_info_task_runtime_t, the ZX_INFO_TASK_RUNTIME record. Times are in nanoseconds."""

    cpu_time: int
    queue_time: int
    page_fault_time: int
    lock_contention_time: int


@dataclass(frozen=True, slots=True)
class InfoTaskStats:
    """zx_info_task_stats_t, the ZX_INFO_TASK_STATS record (version 1 of the topic).

    `mem_fractional_scaled_shared_bytes` is the fraction truncated from
    `mem_scaled_shared_bytes`, in fixed point with 63 fraction bits (1 << 63 is one byte).
    """

    mem_mapped_bytes: int
    mem_private_bytes: int
    mem_shared_bytes: int
    mem_scaled_shared_bytes: int
    mem_fractional_scaled_shared_bytes: int


@dataclass(frozen=True, slots=True)
class InfoVmar:
    """zx_info_vmar_t, the ZX_INFO_VMAR record."""

    base: int
    len: int


@dataclass(frozen=True, slots=True)
class InfoMapsMapping:
    """zx_info_maps_mapping_t, the `u.mapping` member of a ZX_INFO_MAPS_TYPE_MAPPING entry.

    `mmu_flags` contains ZX_VM_PERM_* bits. The fractional fields are in fixed point with 63
    fraction bits (1 << 63 is one byte).
    """

    mmu_flags: int
    vmo_koid: int
    vmo_offset: int
    committed_bytes: int
    populated_bytes: int
    committed_private_bytes: int
    populated_private_bytes: int
    committed_scaled_bytes: int
    populated_scaled_bytes: int
    committed_fractional_scaled_bytes: int
    populated_fractional_scaled_bytes: int


# The kernel zero-fills `u` for ASPACE and VMAR entries.
INFO_MAPS_MAPPING_ZERO: Final = InfoMapsMapping(
    mmu_flags=0,
    vmo_koid=0,
    vmo_offset=0,
    committed_bytes=0,
    populated_bytes=0,
    committed_private_bytes=0,
    populated_private_bytes=0,
    committed_scaled_bytes=0,
    populated_scaled_bytes=0,
    committed_fractional_scaled_bytes=0,
    populated_fractional_scaled_bytes=0,
)


@dataclass(frozen=True, slots=True)
class InfoMaps:
    """zx_info_maps_t, one ZX_INFO_PROCESS_MAPS or ZX_INFO_VMAR_MAPS element.

    `name` is the C char[32] without its terminating NUL. `depth` is the entry's depth in the
    depth-first, pre-order walk (the aspace is 0). `u` is meaningful only when `type` is
    ZX_INFO_MAPS_TYPE_MAPPING.
    """

    name: str
    base: int
    size: int
    depth: int
    type: int
    u: InfoMapsMapping = INFO_MAPS_MAPPING_ZERO


@dataclass(frozen=True, slots=True)
class InfoVmo:
    """zx_info_vmo_t (version 3 of the topic), one ZX_INFO_VMO or ZX_INFO_PROCESS_VMOS element.

    `name` is the C char[32] without its terminating NUL. `handle_rights` is defined only when
    `flags` has ZX_INFO_VMO_VIA_HANDLE or ZX_INFO_VMO_VIA_IOB_HANDLE. The fractional fields
    are in fixed point with 63 fraction bits (1 << 63 is one byte).
    """

    koid: int
    name: str
    size_bytes: int
    parent_koid: int
    num_children: int
    num_mappings: int
    share_count: int
    flags: int
    committed_bytes: int
    handle_rights: int
    cache_policy: int
    metadata_bytes: int
    committed_change_events: int
    populated_bytes: int
    committed_private_bytes: int
    populated_private_bytes: int
    committed_scaled_bytes: int
    populated_scaled_bytes: int
    committed_fractional_scaled_bytes: int
    populated_fractional_scaled_bytes: int
