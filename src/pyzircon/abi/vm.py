"""VM option flags (`zx_vm_option_t`) and VMO creation options."""

from typing import Final

ZX_VM_PERM_READ: Final = 1 << 0
ZX_VM_PERM_WRITE: Final = 1 << 1
ZX_VM_PERM_EXECUTE: Final = 1 << 2
ZX_VM_COMPACT: Final = 1 << 3
ZX_VM_SPECIFIC: Final = 1 << 4
ZX_VM_SPECIFIC_OVERWRITE: Final = 1 << 5
ZX_VM_CAN_MAP_SPECIFIC: Final = 1 << 6
ZX_VM_CAN_MAP_READ: Final = 1 << 7
ZX_VM_CAN_MAP_WRITE: Final = 1 << 8
ZX_VM_CAN_MAP_EXECUTE: Final = 1 << 9
ZX_VM_MAP_RANGE: Final = 1 << 10
ZX_VM_REQUIRE_NON_RESIZABLE: Final = 1 << 11
ZX_VM_ALLOW_FAULTS: Final = 1 << 12
ZX_VM_OFFSET_IS_UPPER_LIMIT: Final = 1 << 13
ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED: Final = 1 << 14
ZX_VM_FAULT_BEYOND_STREAM_SIZE: Final = 1 << 15

ZX_VM_ALIGN_BASE: Final = 24
# Not a Zircon name: the kernel reads all of bits 24..31 as the alignment (a uint8_t), so a
# value such as 33 << 24 is an invalid alignment, not an unknown option bit.
ZX_VM_ALIGN_MASK: Final = 0xFF << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_1KB: Final = 10 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_2KB: Final = 11 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_4KB: Final = 12 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_8KB: Final = 13 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_16KB: Final = 14 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_32KB: Final = 15 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_64KB: Final = 16 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_128KB: Final = 17 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_256KB: Final = 18 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_512KB: Final = 19 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_1MB: Final = 20 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_2MB: Final = 21 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_4MB: Final = 22 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_8MB: Final = 23 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_16MB: Final = 24 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_32MB: Final = 25 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_64MB: Final = 26 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_128MB: Final = 27 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_256MB: Final = 28 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_512MB: Final = 29 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_1GB: Final = 30 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_2GB: Final = 31 << ZX_VM_ALIGN_BASE
ZX_VM_ALIGN_4GB: Final = 32 << ZX_VM_ALIGN_BASE
# The alignment field holds log2 of the alignment; 0 means the page size.
ZX_VM_ALIGN_MIN_LOG2: Final = 10
ZX_VM_ALIGN_MAX_LOG2: Final = 32

ZX_VM_PERM_MASK: Final = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE
ZX_VM_CAN_MAP_MASK: Final = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE

# zx_vmo_create options.
ZX_VMO_RESIZABLE: Final = 1 << 1
ZX_VMO_DISCARDABLE: Final = 1 << 2
ZX_VMO_TRAP_DIRTY: Final = 1 << 3
ZX_VMO_UNBOUNDED: Final = 1 << 4

# zx_vmo_create_child options.
ZX_VMO_CHILD_SNAPSHOT: Final = 1 << 0
ZX_VMO_CHILD_RESIZABLE: Final = 1 << 2
ZX_VMO_CHILD_SLICE: Final = 1 << 3
ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE: Final = 1 << 4
ZX_VMO_CHILD_NO_WRITE: Final = 1 << 5
ZX_VMO_CHILD_REFERENCE: Final = 1 << 6
ZX_VMO_CHILD_SNAPSHOT_MODIFIED: Final = 1 << 7

# Cache policies (ZX_INFO_VMO.cache_policy, zx_vmo_set_cache_policy).
ZX_CACHE_POLICY_CACHED: Final = 0
ZX_CACHE_POLICY_UNCACHED: Final = 1
ZX_CACHE_POLICY_UNCACHED_DEVICE: Final = 2
ZX_CACHE_POLICY_WRITE_COMBINING: Final = 3
ZX_CACHE_POLICY_MASK: Final = 3

# zx_vmo_op_range operations (`zircon/types.h`).
ZX_VMO_OP_COMMIT: Final = 1
ZX_VMO_OP_DECOMMIT: Final = 2
ZX_VMO_OP_LOCK: Final = 3
ZX_VMO_OP_UNLOCK: Final = 4
# Retired: Zircon no longer accepts opcode 5 and fails it like any unknown operation.
ZX_VMO_OP_LOOKUP: Final = 5
ZX_VMO_OP_CACHE_SYNC: Final = 6
ZX_VMO_OP_CACHE_INVALIDATE: Final = 7
ZX_VMO_OP_CACHE_CLEAN: Final = 8
ZX_VMO_OP_CACHE_CLEAN_INVALIDATE: Final = 9
ZX_VMO_OP_ZERO: Final = 10
ZX_VMO_OP_TRY_LOCK: Final = 11
ZX_VMO_OP_DONT_NEED: Final = 12
ZX_VMO_OP_ALWAYS_NEED: Final = 13
ZX_VMO_OP_PREFETCH: Final = 14

# zx_vmar_op_range operations; each shares its value with the VMO operation of that name.
ZX_VMAR_OP_COMMIT: Final = 1
ZX_VMAR_OP_DECOMMIT: Final = 2
ZX_VMAR_OP_MAP_RANGE: Final = 3
ZX_VMAR_OP_ZERO: Final = 10
ZX_VMAR_OP_DONT_NEED: Final = 12
ZX_VMAR_OP_ALWAYS_NEED: Final = 13
ZX_VMAR_OP_PREFETCH: Final = 14
