"""Object property ids (`zx_object_get_property`) and values, from `zircon/syscalls/object.h`."""

from typing import Final

# Maximum length of an object name, including the terminating NUL (`zircon/types.h`).
ZX_MAX_NAME_LEN: Final = 32

# Value is a char[ZX_MAX_NAME_LEN].
ZX_PROP_NAME: Final = 3
# x86-64 only. Value is a uintptr_t.
ZX_PROP_REGISTER_GS: Final = 2
ZX_PROP_REGISTER_FS: Final = 4
# Value is the dynamic linker's _dl_debug_addr, a uintptr_t.
ZX_PROP_PROCESS_DEBUG_ADDR: Final = 5
# Value is the base address of the vDSO mapping, or 0; a uintptr_t.
ZX_PROP_PROCESS_VDSO_BASE_ADDRESS: Final = 6
# Whether the dynamic linker issues a debug trap on each shared-library load.
ZX_PROP_PROCESS_BREAK_ON_LOAD: Final = 7
# The process's context id for hardware tracing (the cr3 value on x86); a uintptr_t.
ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID: Final = 8
# Value is a size_t.
ZX_PROP_SOCKET_RX_THRESHOLD: Final = 12
ZX_PROP_SOCKET_TX_THRESHOLD: Final = 13
# Listed only by the Rust `zx-types` crate, not by the C header. Value is a size_t.
ZX_PROP_CHANNEL_TX_MSG_MAX: Final = 14
ZX_PROP_JOB_KILL_ON_OOM: Final = 15
# Value is a ZX_EXCEPTION_STATE_* (uint32_t).
ZX_PROP_EXCEPTION_STATE: Final = 16
# Value is a uint64_t.
ZX_PROP_VMO_CONTENT_SIZE: Final = 17
# Value is a ZX_EXCEPTION_STRATEGY_* (uint32_t).
ZX_PROP_EXCEPTION_STRATEGY: Final = 18
# Value is a uint8_t.
ZX_PROP_STREAM_MODE_APPEND: Final = 19

# ZX_PROP_EXCEPTION_STATE values: the action a thread takes when its exception handle closes.
ZX_EXCEPTION_STATE_TRY_NEXT: Final = 0
ZX_EXCEPTION_STATE_HANDLED: Final = 1
ZX_EXCEPTION_STATE_THREAD_EXIT: Final = 2

# ZX_PROP_EXCEPTION_STRATEGY values.
ZX_EXCEPTION_STRATEGY_FIRST_CHANCE: Final = 0
ZX_EXCEPTION_STRATEGY_SECOND_CHANCE: Final = 1
