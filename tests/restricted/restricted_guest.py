"""Helpers for restricted-mode tests: load the guest routines and build register states."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyzircon import user, zx
from pyzircon.tools.assemble import GuestBlob, load_blob

SOURCE = Path(__file__).with_name("guest_code.S")
BLOB: GuestBlob = load_blob(SOURCE)
PAGE = 4096
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE

# The register pattern of Zircon's restricted-mode core test: byte n repeated.
PATTERN = {
    "rax": 0x0101010101010101,
    "rbx": 0x0202020202020202,
    "rcx": 0x0303030303030303,
    "rdx": 0x0404040404040404,
    "rsi": 0x0505050505050505,
    "rdi": 0x0606060606060606,
    "rbp": 0x0707070707070707,
    "rsp": 0x0808080808080808,
    "r8": 0x0909090909090909,
    "r9": 0x0A0A0A0A0A0A0A0A,
    "r10": 0x0B0B0B0B0B0B0B0B,
    "r11": 0x0C0C0C0C0C0C0C0C,
    "r12": 0x0D0D0D0D0D0D0D0D,
    "r13": 0x0E0E0E0E0E0E0E0E,
    "r14": 0x0F0F0F0F0F0F0F0F,
    "r15": 0x1010101010101010,
}


@dataclass(frozen=True)
class GuestSpace:
    """Guest code and a data page mapped into one address space."""

    code: int
    data: int
    data_vmo: int

    def entry(self, routine: str) -> int:
        return self.code + BLOB.symbols[routine]


def map_guest(vmar: int) -> GuestSpace:
    """Map the guest routines (read-execute) and one zeroed data page into `vmar`."""
    code_vmo = zx.vmo_create(PAGE, 0)
    zx.vmo_write(code_vmo, BLOB.code, 0)
    code_vmo = zx.vmo_replace_as_executable(code_vmo, zx.ZX_HANDLE_INVALID)
    code = zx.vmar_map(vmar, RX, 0, code_vmo, 0, PAGE)
    data_vmo = zx.vmo_create(PAGE, 0)
    data = zx.vmar_map(vmar, RW, 0, data_vmo, 0, PAGE)
    return GuestSpace(code, data, data_vmo)


def patterned_state(space: GuestSpace, routine: str) -> zx.RestrictedState:
    """Return the core test's starting state: patterned registers, TLS slots in data."""
    state = zx.RestrictedState(**PATTERN)
    state.fs_base = space.data
    state.gs_base = space.data + 8
    state.ip = space.entry(routine)
    return state


def write_state(vmo: int, state: zx.RestrictedState) -> None:
    zx.vmo_write(vmo, state.to_bytes(), 0)


def read_state(vmo: int) -> zx.RestrictedState:
    return zx.RestrictedState.from_bytes(zx.vmo_read(vmo, zx.X86_64_STATE_SIZE, 0))


def load_u64(address: int) -> int:
    return int.from_bytes(user.load(address, 8), "little")


def store_u64(address: int, value: int) -> None:
    user.store(address, value.to_bytes(8, "little"))
