"""The x86-64 CPU engine: runs restricted-mode machine code in unicorn.

One engine serves one address space. Guest pages are mapped into unicorn straight from
the VMO's host buffer (`mem_map_ptr`), on first touch, so a store by guest code is seen at
once by `zx.vmo_read`, by the supervisor's loads and by other engines mapping the same
VMO. The engine listens to its address space: an unmap or protect drops every engine
region it touches (and its translated code), and the next access maps it again with the
current permissions, so no guest sees a stale page.

Committed-page tracking: a writable mapping's uncommitted pages are first mapped
read-only. The first store to such a page faults in the engine; the engine commits the
page in the VMO, makes it writable and restarts the store. After that the page runs at
full speed.

The engine runs guest code in slices of at most `slice_instructions` instructions, so
the scheduler can run other threads (and deliver kicks) between slices. Only one engine
runs at a time: two engines sharing memory in parallel threads would break guest atomics.
"""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Final

from unicorn import (
    UC_ARCH_X86,
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_INSN,
    UC_HOOK_INTR,
    UC_HOOK_MEM_PROT,
    UC_HOOK_MEM_UNMAPPED,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_WRITE_PROT,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_64,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn import x86_const as regs

from pyzircon.abi.exceptions import X86_FLAGS_USER
from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.restricted import (
    X86_ERROR_CODE_IDT,
    X86_FIRST_EXTERNAL_VECTOR,
    X86_PF_INSTRUCTION_FETCH,
    X86_PF_PRESENT,
    X86_PF_USER,
    X86_PF_WRITE,
    X86_VECTOR_GENERAL_PROTECTION,
    X86_VECTOR_INVALID_OPCODE,
    X86_VECTOR_PAGE_FAULT,
    RestrictedState,
)
from pyzircon.abi.status import ZX_ERR_ACCESS_DENIED, ZX_ERR_NOT_FOUND, ZX_ERR_OUT_OF_RANGE
from pyzircon.abi.vm import ZX_VM_PERM_EXECUTE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE
from pyzircon.kernel.vm.aspace import VmAspace
from pyzircon.kernel.vm.vmar import VmMapping

# Registers of zx_restricted_state_t, in its field order, as unicorn names them.
_STATE_REGISTERS: Final = (
    regs.UC_X86_REG_RDI, regs.UC_X86_REG_RSI, regs.UC_X86_REG_RBP, regs.UC_X86_REG_RBX,
    regs.UC_X86_REG_RDX, regs.UC_X86_REG_RCX, regs.UC_X86_REG_RAX, regs.UC_X86_REG_RSP,
    regs.UC_X86_REG_R8, regs.UC_X86_REG_R9, regs.UC_X86_REG_R10, regs.UC_X86_REG_R11,
    regs.UC_X86_REG_R12, regs.UC_X86_REG_R13, regs.UC_X86_REG_R14, regs.UC_X86_REG_R15,
    regs.UC_X86_REG_RIP, regs.UC_X86_REG_EFLAGS, regs.UC_X86_REG_FS_BASE,
    regs.UC_X86_REG_GS_BASE,
)  # fmt: skip

# Translated-code buffer per engine: unicorn reserves 1 GiB by default.
_TCG_BUFFER_BYTES: Final = 1 << 20
_ADDRESS_END: Final = (1 << 64) - 1

_WRITE_ACCESSES: Final = (UC_MEM_WRITE_UNMAPPED, UC_MEM_WRITE_PROT)
_FETCH_ACCESSES: Final = (UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT)
_MEMORY_ERRORS: Final = frozenset(
    {
        UC_ERR_READ_UNMAPPED,
        UC_ERR_WRITE_UNMAPPED,
        UC_ERR_FETCH_UNMAPPED,
        UC_ERR_READ_PROT,
        UC_ERR_WRITE_PROT,
        UC_ERR_FETCH_PROT,
    }
)


class ExitKind(enum.Enum):
    """The cause that ended a slice of guest code."""

    SYSCALL = "syscall"
    EXCEPTION = "exception"
    SLICE_END = "slice_end"


@dataclass(frozen=True, slots=True)
class GuestFault:
    """An exception raised by guest code: the x86 vector and what Zircon reports."""

    vector: int
    error_code: int
    address: int
    # The zx_status_t of a page fault (synth_code of ZX_EXCP_FATAL_PAGE_FAULT), else 0.
    status: int
    description: str
    # The faulting instruction's address, when the engine's ip is already past it.
    ip: int | None = None


@dataclass(frozen=True, slots=True)
class SliceExit:
    """The result of one slice: how it ended, the registers, and the fault if any."""

    kind: ExitKind
    state: RestrictedState
    # The whole CPU state (FPU and vector registers included), to pass to the next slice.
    context: object
    fault: GuestFault | None = None


def _host_address(buffer: object) -> int:
    """Return the address of a host buffer's first byte.

    The ctypes view is dropped at once, so it does not pin the buffer. The VM layer
    notifies the engine to unmap before it frees or replaces a buffer.
    """
    view = ctypes.c_char.from_buffer(buffer)  # type: ignore[arg-type]
    address = ctypes.addressof(view)
    del view
    return address


def _uc_protection(perms: int) -> int:
    protection = 0
    if perms & ZX_VM_PERM_READ:
        protection |= UC_PROT_READ
    if perms & ZX_VM_PERM_WRITE:
        protection |= UC_PROT_WRITE
    if perms & ZX_VM_PERM_EXECUTE:
        protection |= UC_PROT_EXEC
    return protection


@dataclass
class _Region:
    """A range mapped into the engine for one mapping."""

    base: int
    size: int
    mapping: VmMapping


class X86Engine:
    """A unicorn x86-64 CPU bound to one address space."""

    def __init__(self, aspace: VmAspace, slice_instructions: int = 100_000) -> None:
        self.aspace = aspace
        self.slice_instructions = slice_instructions
        self._uc = Uc(UC_ARCH_X86, UC_MODE_64)
        # unicorn 2.1 defines this method in a way mypy cannot see.
        self._uc.ctl_set_tcg_buffer_size(_TCG_BUFFER_BYTES)  # type: ignore[attr-defined]
        # Mapped regions by base address; few enough that a scan is cheap.
        self._regions: dict[int, _Region] = {}
        self._closed = False

        self._syscall_hit = False
        self._fault: GuestFault | None = None
        self._restart_after_commit = False
        self._uc.hook_add(UC_HOOK_INSN, self._on_syscall, None, 1, 0, regs.UC_X86_INS_SYSCALL)
        self._uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        self._uc.hook_add(UC_HOOK_MEM_PROT, self._on_protection_fault)
        self._uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        # Port I/O and sysenter fault at user privilege. The engine itself runs guest code
        # at ring 0, so it would otherwise let them through.
        # DIVERGENCE(zircon): other privileged instructions (cli, hlt, moves to and from
        # control registers, rdmsr and wrmsr) raise #GP on a real CPU in user mode, but
        # unicorn gives no hook for them, so they run; hlt only ends the current slice.
        self._uc.hook_add(UC_HOOK_INSN, self._on_port_in, None, 1, 0, regs.UC_X86_INS_IN)
        self._uc.hook_add(UC_HOOK_INSN, self._on_port_out, None, 1, 0, regs.UC_X86_INS_OUT)
        self._uc.hook_add(UC_HOOK_INSN, self._on_sysenter, None, 1, 0, regs.UC_X86_INS_SYSENTER)
        # A fresh thread starts from the reset CPU state, not from another thread's.
        self._reset_context = self._uc.context_save()
        aspace.add_listener(self)

    def __repr__(self) -> str:
        return f"<X86Engine {self.aspace.name!r} regions={len(self._regions)}>"

    def close(self) -> None:
        """Unmap everything and stop listening; the engine cannot run afterwards."""
        if self._closed:
            return
        self._drop_regions(0, _ADDRESS_END)
        self.aspace.remove_listener(self)
        self._closed = True

    # Address-space listener: drop regions so they are mapped again on next touch.

    def on_unmap(self, base: int, size: int) -> None:
        self._drop_regions(base, base + size)

    def on_protect(self, base: int, size: int, perms: int) -> None:
        self._drop_regions(base, base + size)

    def on_destroy(self) -> None:
        self.close()

    def _drop_regions(self, start: int, end: int) -> None:
        for region in list(self._regions.values()):
            if region.base < end and start < region.base + region.size:
                self._uc.mem_unmap(region.base, region.size)
                self._uc.ctl_remove_cache(region.base, region.base + region.size)
                del self._regions[region.base]

    # Running.

    def run_slice(self, state: RestrictedState, context: object | None) -> SliceExit:
        """Run guest code from `state` for at most one slice and return how it stopped.

        `context` is the CPU state the calling thread's previous slice returned, or None
        for its first slice. Several threads share one engine, so each carries its own
        FPU and vector registers this way, while `state` sets the general registers.
        """
        assert not self._closed, f"{self!r} is closed"
        self._uc.context_restore(self._reset_context if context is None else context)
        self._load(state)
        self._syscall_hit = False
        self._fault = None
        start = state.ip

        while True:
            self._restart_after_commit = False
            try:
                self._uc.emu_start(start, _ADDRESS_END, count=self.slice_instructions)
            except UcError as error:
                if self._restart_after_commit:
                    start = self._uc.reg_read(regs.UC_X86_REG_RIP)
                    continue
                if self._fault is None:
                    self._fault = self._fault_from_error(error)
                return self._exit(ExitKind.EXCEPTION, self._save())
            break

        if self._fault is not None:
            return self._exit(ExitKind.EXCEPTION, self._save())
        if self._syscall_hit:
            saved = self._save()
            # The syscall instruction overwrites rcx (return address) and r11 (RFLAGS), so
            # their guest values are lost, and Zircon saves both as 0 on a syscall exit
            # (its restricted-mode core test checks this).
            saved.rcx = 0
            saved.r11 = 0
            return self._exit(ExitKind.SYSCALL, saved)
        return self._exit(ExitKind.SLICE_END, self._save())

    def _exit(self, kind: ExitKind, state: RestrictedState) -> SliceExit:
        return SliceExit(kind, state, self._uc.context_save(), self._fault)

    def _load(self, state: RestrictedState) -> None:
        values = (
            state.rdi, state.rsi, state.rbp, state.rbx, state.rdx, state.rcx, state.rax,
            state.rsp, state.r8, state.r9, state.r10, state.r11, state.r12, state.r13,
            state.r14, state.r15, state.ip, state.flags, state.fs_base, state.gs_base,
        )  # fmt: skip
        for register, value in zip(_STATE_REGISTERS, values, strict=True):
            self._uc.reg_write(register, value)

    def _save(self) -> RestrictedState:
        values = [self._uc.reg_read(register) for register in _STATE_REGISTERS]
        state = RestrictedState(*values)
        if self._fault is not None and self._fault.ip is not None:
            state.ip = self._fault.ip
        # Only user-settable RFLAGS bits are saved; the reserved ones read as 0.
        state.flags &= X86_FLAGS_USER
        return state

    # Hooks. Each runs inside emu_start and must not switch greenlets.

    def _on_syscall(self, uc: Uc, user_data: object) -> None:
        self._syscall_hit = True
        uc.emu_stop()

    def _on_interrupt(self, uc: Uc, vector: int, user_data: object) -> None:
        if vector >= X86_FIRST_EXTERNAL_VECTOR:
            # `int n` from user mode: Zircon's interrupt gates for these vectors are not
            # user-callable, so the CPU raises #GP with the vector in the error code
            # (IDT flag set), reported at the `int n` instruction itself (2 bytes long).
            ip = uc.reg_read(regs.UC_X86_REG_RIP) - 2
            self._fault = GuestFault(
                X86_VECTOR_GENERAL_PROTECTION, (vector << 3) | X86_ERROR_CODE_IDT, 0, 0,
                f"int {vector:#x} from user mode", ip,
            )  # fmt: skip
        else:
            self._fault = GuestFault(vector, 0, 0, 0, f"CPU exception vector {vector}")
        uc.emu_stop()

    def _general_protection(self, uc: Uc, what: str) -> None:
        # Inside an instruction hook the ip is still the instruction's own address.
        ip = uc.reg_read(regs.UC_X86_REG_RIP)
        self._fault = GuestFault(X86_VECTOR_GENERAL_PROTECTION, 0, 0, 0, what, ip)
        uc.emu_stop()

    def _on_port_in(self, uc: Uc, port: int, size: int, user_data: object) -> int:
        self._general_protection(uc, f"port input from {port:#x} in user mode")
        return 0

    def _on_port_out(
        self, uc: Uc, port: int, size: int, value: int, user_data: object
    ) -> None:
        self._general_protection(uc, f"port output to {port:#x} in user mode")

    def _on_sysenter(self, uc: Uc, user_data: object) -> None:
        self._general_protection(uc, "sysenter in 64-bit user mode")

    def _on_unmapped(
        self, uc: Uc, access: int, address: int, size: int, value: int, user_data: object
    ) -> bool:
        mapping = self.aspace.find_mapping(address)
        if mapping is None:
            self._record_page_fault(access, address, ZX_ERR_NOT_FOUND, present=False)
            return False
        if not self._access_allowed(mapping, access):
            self._record_page_fault(access, address, ZX_ERR_ACCESS_DENIED, present=True)
            return False
        if mapping.vmo_offset_of(address) >= mapping.vmo.size:
            self._record_page_fault(access, address, ZX_ERR_OUT_OF_RANGE, present=False)
            return False
        self._map_mapping(mapping)
        return True

    def _on_protection_fault(
        self, uc: Uc, access: int, address: int, size: int, value: int, user_data: object
    ) -> bool:
        mapping = self.aspace.find_mapping(address)
        if access == UC_MEM_WRITE_PROT and mapping is not None and mapping.perms & ZX_VM_PERM_WRITE:
            # The first store to a page the VMO does not own yet: commit the page, make it
            # writable and rerun the store. Returning True after a permission change would
            # drop the store, so the hook stops emulation and run_slice restarts the
            # instruction. A page still shared with a snapshot relative is first copied
            # into the VMO's own buffer. The VMO then reports the page moved, so this
            # engine drops the mapping's region and the rerun store maps it again.
            page = address & ~(PAGE_SIZE - 1)
            mapping.vmo.commit_range(mapping.vmo_offset_of(page), PAGE_SIZE)
            region = self._regions.get(mapping.base)
            if region is not None and region.mapping is mapping:
                uc.mem_protect(page, PAGE_SIZE, _uc_protection(mapping.perms))
            self._restart_after_commit = True
            return False
        self._record_page_fault(access, address, ZX_ERR_ACCESS_DENIED, present=True)
        return False

    @staticmethod
    def _access_allowed(mapping: VmMapping, access: int) -> bool:
        if access in _WRITE_ACCESSES:
            return bool(mapping.perms & ZX_VM_PERM_WRITE)
        if access in _FETCH_ACCESSES:
            return bool(mapping.perms & ZX_VM_PERM_EXECUTE)
        return bool(mapping.perms & ZX_VM_PERM_READ)

    def _record_page_fault(self, access: int, address: int, status: int, present: bool) -> None:
        error_code = X86_PF_USER
        if present:
            error_code |= X86_PF_PRESENT
        if access in _WRITE_ACCESSES:
            error_code |= X86_PF_WRITE
        if access in _FETCH_ACCESSES:
            error_code |= X86_PF_INSTRUCTION_FETCH
        kind = (
            "write"
            if access in _WRITE_ACCESSES
            else "fetch"
            if access in _FETCH_ACCESSES
            else "read"
        )
        self._fault = GuestFault(
            X86_VECTOR_PAGE_FAULT, error_code, address, status,
            f"page fault on {kind} at {address:#x}",
        )  # fmt: skip

    @staticmethod
    def _fault_from_error(error: UcError) -> GuestFault:
        if error.errno == UC_ERR_INSN_INVALID:
            return GuestFault(X86_VECTOR_INVALID_OPCODE, 0, 0, 0, "invalid instruction")
        if error.errno in _MEMORY_ERRORS:
            return GuestFault(
                X86_VECTOR_PAGE_FAULT, X86_PF_USER, 0, ZX_ERR_NOT_FOUND, f"memory fault ({error})"
            )
        return GuestFault(X86_VECTOR_INVALID_OPCODE, 0, 0, 0, f"CPU error ({error})")

    # Mapping pages in.

    def _map_mapping(self, mapping: VmMapping) -> None:
        """Map `mapping` (clipped to its VMO's size) run by run, with dirty tracking.

        Pages the VMO owns come from its own buffer. Pages it still shares with a snapshot
        relative come from that relative's buffer and stay read-only, so the first store
        faults and copies the page. Uncommitted pages of a writable mapping start
        read-only too, so that the first store commits them.
        """
        # A VMO that grew since the mapping was mapped in leaves a shorter region behind.
        self._drop_regions(mapping.base, mapping.end)
        vmo = mapping.vmo
        size = min(mapping.size, max(0, vmo.size - mapping.vmo_offset))
        size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        full = _uc_protection(mapping.perms)
        initial = full & ~UC_PROT_WRITE
        for source in vmo.page_sources(mapping.vmo_offset, size):
            host = _host_address(source.buffer) + source.buffer_offset
            address = mapping.base + (source.offset - mapping.vmo_offset)
            self._uc.mem_map_ptr(address, source.length, initial, host)
        self._regions[mapping.base] = _Region(mapping.base, size, mapping)
        if not full & UC_PROT_WRITE:
            return
        # Pages the VMO owns and has committed can take stores at once.
        first_page = mapping.vmo_offset // PAGE_SIZE
        for run in vmo.committed_page_runs(first_page, first_page + size // PAGE_SIZE):
            start = mapping.base + (run.start - first_page) * PAGE_SIZE
            self._uc.mem_protect(start, len(run) * PAGE_SIZE, full)
