"""Task constants: handles, koids, times, return codes, thread states and restricted mode.

Values from `zircon/types.h`, `zircon/syscalls/object.h`, `zircon/syscalls/debug.h` and
`zircon/syscalls-next.h`; the job height limit is the kernel's.
"""

from typing import Final

# zx_process_create options.
ZX_PROCESS_SHARED: Final = 1 << 0

# zx_job_set_critical options.
ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO: Final = 1 << 0

# Return codes of a task that was killed (int64_t).
ZX_TASK_RETCODE_SYSCALL_KILL: Final = -1024
ZX_TASK_RETCODE_OOM_KILL: Final = -1025
ZX_TASK_RETCODE_POLICY_KILL: Final = -1026
ZX_TASK_RETCODE_VDSO_KILL: Final = -1027
ZX_TASK_RETCODE_EXCEPTION_KILL: Final = -1028
ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL: Final = -1029

# A valid handle value always has both low bits set, so 0 is never valid.
ZX_HANDLE_INVALID: Final = 0
ZX_HANDLE_FIXED_BITS_MASK: Final = 0x3

ZX_KOID_INVALID: Final = 0
ZX_KOID_KERNEL: Final = 1
# Koids below this are reserved.
ZX_KOID_FIRST: Final = 1024

# zx_time_t bounds (int64_t).
ZX_TIME_INFINITE: Final = (1 << 63) - 1
ZX_TIME_INFINITE_PAST: Final = -(1 << 63)

# zx_info_thread_t.state: basic states, then blocked states that carry the reason in bits 8..15.
ZX_THREAD_STATE_NEW: Final = 0x0000
ZX_THREAD_STATE_RUNNING: Final = 0x0001
ZX_THREAD_STATE_SUSPENDED: Final = 0x0002
# Never reported alone; always as one of the ZX_THREAD_STATE_BLOCKED_* values.
ZX_THREAD_STATE_BLOCKED: Final = 0x0003
ZX_THREAD_STATE_DYING: Final = 0x0004
ZX_THREAD_STATE_DEAD: Final = 0x0005
ZX_THREAD_STATE_BLOCKED_EXCEPTION: Final = 0x0103
ZX_THREAD_STATE_BLOCKED_SLEEPING: Final = 0x0203
ZX_THREAD_STATE_BLOCKED_FUTEX: Final = 0x0303
ZX_THREAD_STATE_BLOCKED_PORT: Final = 0x0403
ZX_THREAD_STATE_BLOCKED_CHANNEL: Final = 0x0503
ZX_THREAD_STATE_BLOCKED_WAIT_ONE: Final = 0x0603
ZX_THREAD_STATE_BLOCKED_WAIT_MANY: Final = 0x0703
ZX_THREAD_STATE_BLOCKED_INTERRUPT: Final = 0x0803
ZX_THREAD_STATE_BLOCKED_PAGER: Final = 0x0903
# `state & THREAD_STATE_BASIC_MASK` is the basic state (the C macro ZX_THREAD_STATE_BASIC).
THREAD_STATE_BASIC_MASK: Final = 0xFF

# zx_thread_read_state / zx_thread_write_state topics (`kind`). These share the
# ZX_THREAD_STATE_ prefix with the states above but are a separate number space.
ZX_THREAD_STATE_GENERAL_REGS: Final = 0
ZX_THREAD_STATE_FP_REGS: Final = 1
ZX_THREAD_STATE_VECTOR_REGS: Final = 2
ZX_THREAD_STATE_DEBUG_REGS: Final = 4
ZX_THREAD_STATE_SINGLE_STEP: Final = 5

ZX_CHANNEL_MAX_MSG_BYTES: Final = 65536
ZX_CHANNEL_MAX_MSG_HANDLES: Final = 64
ZX_CHANNEL_MAX_MSG_IOVECS: Final = 8192
ZX_WAIT_MANY_MAX_ITEMS: Final = 64

# Reasons a thread left restricted mode (zx_restricted_reason_t, uint64_t).
ZX_RESTRICTED_REASON_SYSCALL: Final = 0
ZX_RESTRICTED_REASON_EXCEPTION: Final = 1
ZX_RESTRICTED_REASON_KICK: Final = 2
ZX_RESTRICTED_REASON_EXCEPTION_LOST: Final = 3

# The root job's max height, the kernel's kRootJobMaxHeight (not in the public headers). Each
# child job's max height is its parent's minus 1. zx_job_create under a job whose max height
# is 0 fails with ZX_ERR_OUT_OF_RANGE.
ROOT_JOB_MAX_HEIGHT: Final = 32
