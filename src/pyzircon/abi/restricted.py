"""Restricted-mode records: `zx_restricted_state_t` (x86-64) and the exception report.

Layouts from `zircon/syscalls-next.h` and `zircon/syscalls/exception.h`: the x86-64 state
is 20 little-endian u64 fields, 160 bytes, at offset 0 of the bound state VMO. After an
exception exit the VMO contains `zx_restricted_exception_t`: the state, then a 40-byte
`zx_exception_report_t` (header: size u32, type u32; x86-64 context: vector u64,
err_code u64, cr2 u64; then synth_code u32, synth_data u32).
"""

from __future__ import annotations

import struct
from dataclasses import astuple, dataclass, fields
from typing import Final

from pyzircon.abi.exceptions import ZX_EXCEPTION_REPORT_SIZE
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.errors import ZxError

# Field order of the x86-64 zx_restricted_state_t; field i lives at byte offset 8 * i.
X86_64_STATE_FIELDS: Final = (
    "rdi", "rsi", "rbp", "rbx", "rdx", "rcx", "rax", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "ip", "flags", "fs_base", "gs_base",
)  # fmt: skip
X86_64_STATE_SIZE: Final = 160
_STATE_FORMAT: Final = struct.Struct("<20Q")

_REPORT_FORMAT: Final = struct.Struct("<IIQQQII")
# Offset of the report inside zx_restricted_exception_t.
RESTRICTED_EXCEPTION_REPORT_OFFSET: Final = X86_64_STATE_SIZE
RESTRICTED_EXCEPTION_SIZE: Final = X86_64_STATE_SIZE + ZX_EXCEPTION_REPORT_SIZE


def _unpack(layout: struct.Struct, data: object, offset: int, record: str) -> tuple[int, ...]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"{record} must be decoded from bytes, not {type(data).__name__}"
        )
    if offset < 0 or len(data) < offset + layout.size:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"{record} needs {layout.size} bytes at offset {offset}; got {len(data)} bytes",
        )
    return layout.unpack_from(data, offset)


@dataclass(slots=True)
class RestrictedState:
    """zx_restricted_state_t on x86-64; every field is an unsigned 64-bit value."""

    rdi: int = 0
    rsi: int = 0
    rbp: int = 0
    rbx: int = 0
    rdx: int = 0
    rcx: int = 0
    rax: int = 0
    rsp: int = 0
    r8: int = 0
    r9: int = 0
    r10: int = 0
    r11: int = 0
    r12: int = 0
    r13: int = 0
    r14: int = 0
    r15: int = 0
    ip: int = 0
    flags: int = 0
    fs_base: int = 0
    gs_base: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> RestrictedState:
        """Decode the first 160 bytes of `data`.

        Raises ZxError(ZX_ERR_INVALID_ARGS) when `data` is not bytes-like or is shorter.
        """
        return cls(*_unpack(_STATE_FORMAT, data, 0, "zx_restricted_state_t"))

    def to_bytes(self) -> bytes:
        """Encode as the 160-byte C struct; each field is truncated to 64 bits.

        Raises ZxError(ZX_ERR_INVALID_ARGS) when a field is not an int.
        """
        mask = (1 << 64) - 1
        for name, value in zip(X86_64_STATE_FIELDS, astuple(self), strict=True):
            if not isinstance(value, int):
                raise ZxError(
                    ZX_ERR_INVALID_ARGS, f"{name} must be an int, not {type(value).__name__}"
                )
        return _STATE_FORMAT.pack(*(value & mask for value in astuple(self)))


assert tuple(field.name for field in fields(RestrictedState)) == X86_64_STATE_FIELDS


@dataclass(frozen=True, slots=True)
class ExceptionReport:
    """zx_exception_report_t with the x86-64 context."""

    size: int
    type: int
    vector: int
    err_code: int
    cr2: int
    synth_code: int
    synth_data: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, offset: int = 0) -> ExceptionReport:
        """Decode the report at `offset`; ZxError(ZX_ERR_INVALID_ARGS) if it is not there."""
        return cls(*_unpack(_REPORT_FORMAT, data, offset, "zx_exception_report_t"))

    def to_bytes(self) -> bytes:
        return _REPORT_FORMAT.pack(
            self.size, self.type, self.vector, self.err_code, self.cr2,
            self.synth_code & 0xFFFF_FFFF, self.synth_data & 0xFFFF_FFFF,
        )  # fmt: skip


assert _REPORT_FORMAT.size == ZX_EXCEPTION_REPORT_SIZE

# x86 exception vectors the CPU engine reports (Intel SDM vol. 3, table 6-1).
X86_VECTOR_DIVIDE_ERROR: Final = 0
X86_VECTOR_DEBUG: Final = 1
X86_VECTOR_BREAKPOINT: Final = 3
X86_VECTOR_INVALID_OPCODE: Final = 6
X86_VECTOR_GENERAL_PROTECTION: Final = 13
X86_VECTOR_PAGE_FAULT: Final = 14

# Vectors from 32 up are for external interrupts; `int n` from user mode with such a
# vector (or any vector whose gate is not user-callable) raises #GP instead.
X86_FIRST_EXTERNAL_VECTOR: Final = 32
# The IDT bit of a #GP error code: the selector index refers to an IDT gate.
X86_ERROR_CODE_IDT: Final = 1 << 1

# Page-fault error code bits (Intel SDM vol. 3, 4.7): present, write, user, fetch.
X86_PF_PRESENT: Final = 1 << 0
X86_PF_WRITE: Final = 1 << 1
X86_PF_USER: Final = 1 << 2
X86_PF_INSTRUCTION_FETCH: Final = 1 << 4
