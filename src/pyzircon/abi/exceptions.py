"""Exception types, channel options and policy codes, as in `zircon/syscalls/exception.h`.

Also `zx_exception_info_t`, the record an exception channel message carries, and the x86
RFLAGS bits user code may set, which the kernel uses to validate restricted-mode register
state.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from pyzircon.abi.policy import (
    ZX_POL_AMBIENT_MARK_VMO_EXEC,
    ZX_POL_BAD_HANDLE,
    ZX_POL_NEW_CHANNEL,
    ZX_POL_NEW_EVENT,
    ZX_POL_NEW_EVENTPAIR,
    ZX_POL_NEW_FIFO,
    ZX_POL_NEW_IOB,
    ZX_POL_NEW_PAGER,
    ZX_POL_NEW_PORT,
    ZX_POL_NEW_PROCESS,
    ZX_POL_NEW_PROFILE,
    ZX_POL_NEW_SAMPLER,
    ZX_POL_NEW_SOCKET,
    ZX_POL_NEW_TIMER,
    ZX_POL_NEW_VMO,
    ZX_POL_VMAR_WX,
    ZX_POL_WRONG_OBJECT,
)
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.errors import ZxError

# Architectural exceptions (zx_excp_type_t).
ZX_EXCP_GENERAL: Final = 0x008
# zx_exception_report_t.context.synth_code is the fault's zx_status_t, cast to uint32_t.
ZX_EXCP_FATAL_PAGE_FAULT: Final = 0x108
ZX_EXCP_UNDEFINED_INSTRUCTION: Final = 0x208
ZX_EXCP_SW_BREAKPOINT: Final = 0x308
ZX_EXCP_HW_BREAKPOINT: Final = 0x408
ZX_EXCP_UNALIGNED_ACCESS: Final = 0x508

# Set in every synthetic (non-architectural) exception type.
ZX_EXCP_SYNTH: Final = 0x8000
# Sent to debuggers only.
ZX_EXCP_THREAD_STARTING: Final = 0x008 | ZX_EXCP_SYNTH
ZX_EXCP_THREAD_EXITING: Final = 0x108 | ZX_EXCP_SYNTH
# synth_code is a ZX_EXCP_POLICY_CODE_* value.
ZX_EXCP_POLICY_ERROR: Final = 0x208 | ZX_EXCP_SYNTH
# Sent to job debuggers only.
ZX_EXCP_PROCESS_STARTING: Final = 0x308 | ZX_EXCP_SYNTH
# Raised by zx_thread_raise_exception.
ZX_EXCP_USER: Final = 0x309 | ZX_EXCP_SYNTH

# synth_code values of ZX_EXCP_USER exceptions.
ZX_EXCP_USER_CODE_PROCESS_NAME_CHANGED: Final = 0x0001
ZX_EXCP_USER_CODE_USER0: Final = 0xF000
ZX_EXCP_USER_CODE_USER1: Final = 0xF001
ZX_EXCP_USER_CODE_USER2: Final = 0xF002

# synth_code values of ZX_EXCP_POLICY_ERROR exceptions. Codes 0..15 equal the ZX_POL_*
# condition numbers, but the two number spaces differ after that (ZX_POL_NEW_IOB is 16).
ZX_EXCP_POLICY_CODE_BAD_HANDLE: Final = 0
ZX_EXCP_POLICY_CODE_WRONG_OBJECT: Final = 1
ZX_EXCP_POLICY_CODE_VMAR_WX: Final = 2
ZX_EXCP_POLICY_CODE_NEW_ANY: Final = 3
ZX_EXCP_POLICY_CODE_NEW_VMO: Final = 4
ZX_EXCP_POLICY_CODE_NEW_CHANNEL: Final = 5
ZX_EXCP_POLICY_CODE_NEW_EVENT: Final = 6
ZX_EXCP_POLICY_CODE_NEW_EVENTPAIR: Final = 7
ZX_EXCP_POLICY_CODE_NEW_PORT: Final = 8
ZX_EXCP_POLICY_CODE_NEW_SOCKET: Final = 9
ZX_EXCP_POLICY_CODE_NEW_FIFO: Final = 10
ZX_EXCP_POLICY_CODE_NEW_TIMER: Final = 11
ZX_EXCP_POLICY_CODE_NEW_PROCESS: Final = 12
ZX_EXCP_POLICY_CODE_NEW_PROFILE: Final = 13
ZX_EXCP_POLICY_CODE_NEW_PAGER: Final = 14
ZX_EXCP_POLICY_CODE_AMBIENT_MARK_VMO_EXEC: Final = 15
ZX_EXCP_POLICY_CODE_CHANNEL_FULL_WRITE: Final = 16
ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS: Final = 17
# synth_data is the syscall number.
ZX_EXCP_POLICY_CODE_BAD_SYSCALL: Final = 18
ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_OBSERVERS: Final = 19
ZX_EXCP_POLICY_CODE_HANDLE_LEAK: Final = 20
ZX_EXCP_POLICY_CODE_NEW_IOB: Final = 21
ZX_EXCP_POLICY_CODE_NEW_SAMPLER: Final = 22

# zx_task_create_exception_channel options.
ZX_EXCEPTION_CHANNEL_DEBUGGER: Final = 1 << 0
# zx_thread_raise_exception options.
ZX_EXCEPTION_TARGET_JOB_DEBUGGER: Final = 1 << 0

# zx_info_thread_t.wait_exception_channel_type values.
ZX_EXCEPTION_CHANNEL_TYPE_NONE: Final = 0
ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER: Final = 1
ZX_EXCEPTION_CHANNEL_TYPE_THREAD: Final = 2
ZX_EXCEPTION_CHANNEL_TYPE_PROCESS: Final = 3
ZX_EXCEPTION_CHANNEL_TYPE_JOB: Final = 4
ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER: Final = 5

# Maximum number of debugger exception channels on one job.
ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT: Final = 32

# Size in bytes of zx_exception_report_t (header, then context).
ZX_EXCEPTION_REPORT_SIZE: Final = 40

# The synth_code of the ZX_EXCP_POLICY_ERROR a job policy raises, by ZX_POL_* condition:
# the kernel's own table. ZX_POL_NEW_ANY stands for the other conditions and has no code.
POLICY_CONDITION_EXCEPTION_CODES: Final[dict[int, int]] = {
    ZX_POL_BAD_HANDLE: ZX_EXCP_POLICY_CODE_BAD_HANDLE,
    ZX_POL_WRONG_OBJECT: ZX_EXCP_POLICY_CODE_WRONG_OBJECT,
    ZX_POL_VMAR_WX: ZX_EXCP_POLICY_CODE_VMAR_WX,
    ZX_POL_NEW_VMO: ZX_EXCP_POLICY_CODE_NEW_VMO,
    ZX_POL_NEW_CHANNEL: ZX_EXCP_POLICY_CODE_NEW_CHANNEL,
    ZX_POL_NEW_EVENT: ZX_EXCP_POLICY_CODE_NEW_EVENT,
    ZX_POL_NEW_EVENTPAIR: ZX_EXCP_POLICY_CODE_NEW_EVENTPAIR,
    ZX_POL_NEW_PORT: ZX_EXCP_POLICY_CODE_NEW_PORT,
    ZX_POL_NEW_SOCKET: ZX_EXCP_POLICY_CODE_NEW_SOCKET,
    ZX_POL_NEW_FIFO: ZX_EXCP_POLICY_CODE_NEW_FIFO,
    ZX_POL_NEW_TIMER: ZX_EXCP_POLICY_CODE_NEW_TIMER,
    ZX_POL_NEW_PROCESS: ZX_EXCP_POLICY_CODE_NEW_PROCESS,
    ZX_POL_NEW_PROFILE: ZX_EXCP_POLICY_CODE_NEW_PROFILE,
    ZX_POL_NEW_PAGER: ZX_EXCP_POLICY_CODE_NEW_PAGER,
    ZX_POL_AMBIENT_MARK_VMO_EXEC: ZX_EXCP_POLICY_CODE_AMBIENT_MARK_VMO_EXEC,
    ZX_POL_NEW_IOB: ZX_EXCP_POLICY_CODE_NEW_IOB,
    ZX_POL_NEW_SAMPLER: ZX_EXCP_POLICY_CODE_NEW_SAMPLER,
}

# zx_exception_info_t: pid and tid (zx_koid_t), type (zx_excp_type_t), 4 bytes of padding.
_INFO_FORMAT: Final = struct.Struct("<QQI4x")
ZX_EXCEPTION_INFO_SIZE: Final = 24
assert _INFO_FORMAT.size == ZX_EXCEPTION_INFO_SIZE


@dataclass(frozen=True, slots=True)
class ExceptionInfo:
    """zx_exception_info_t: the bytes of an exception channel message, beside its handle."""

    pid: int
    tid: int
    type: int

    def to_bytes(self) -> bytes:
        return _INFO_FORMAT.pack(self.pid, self.tid, self.type)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> ExceptionInfo:
        """Decode the first 24 bytes; ZxError(ZX_ERR_INVALID_ARGS) when `data` is shorter."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"zx_exception_info_t must be decoded from bytes, not {type(data).__name__}",
            )
        if len(data) < ZX_EXCEPTION_INFO_SIZE:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"zx_exception_info_t needs {ZX_EXCEPTION_INFO_SIZE} bytes; got {len(data)}",
            )
        return cls(*_INFO_FORMAT.unpack_from(data))

# x86 RFLAGS bits, from the kernel's `arch/x86/registers.h`.
X86_FLAGS_CF: Final = 1 << 0
X86_FLAGS_PF: Final = 1 << 2
X86_FLAGS_AF: Final = 1 << 4
X86_FLAGS_ZF: Final = 1 << 6
X86_FLAGS_SF: Final = 1 << 7
X86_FLAGS_TF: Final = 1 << 8
X86_FLAGS_IF: Final = 1 << 9
X86_FLAGS_DF: Final = 1 << 10
X86_FLAGS_OF: Final = 1 << 11
X86_FLAGS_NT: Final = 1 << 14
X86_FLAGS_AC: Final = 1 << 18
X86_FLAGS_ID: Final = 1 << 21
# The bits user code may set (0x244DD5). zx_restricted_enter rejects, with ZX_ERR_BAD_STATE,
# restricted state whose flags have any other bit set.
X86_FLAGS_USER: Final = (
    X86_FLAGS_CF
    | X86_FLAGS_PF
    | X86_FLAGS_AF
    | X86_FLAGS_ZF
    | X86_FLAGS_SF
    | X86_FLAGS_TF
    | X86_FLAGS_DF
    | X86_FLAGS_OF
    | X86_FLAGS_NT
    | X86_FLAGS_AC
    | X86_FLAGS_ID
)
