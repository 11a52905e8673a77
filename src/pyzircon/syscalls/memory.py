"""Process memory syscalls: read and write another process's memory, as debuggers do.

Addresses resolve as the kernel's `ProcessDispatcher::aspace_at` does: an address in a
member's restricted range goes to its restricted address space, any other address to the
shared (or only) address space. One call transfers bytes of one mapping only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pyzircon.abi.rights import ZX_RIGHT_READ, ZX_RIGHT_WRITE
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_ERR_OUT_OF_RANGE
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.vm.vmar import VmMapping
from pyzircon.syscalls.common import get_object, syscall, to_bytes, to_u64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

# The kernel refuses transfers above 64 MiB in one call.
MAX_TRANSFER_BYTES: Final = 64 * 1024 * 1024


def _check_size(size: int) -> None:
    if size == 0 or size > MAX_TRANSFER_BYTES:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"transfer size {size:#x} must be between 1 and {MAX_TRANSFER_BYTES:#x} bytes",
        )


def _mapping_at(process: Process, address: int) -> VmMapping:
    aspace = process.aspace_at(address)
    mapping = aspace.find_mapping(address)
    if mapping is None:
        raise ZxError(
            ZX_ERR_NOT_FOUND,
            f"address {address:#x} is not mapped in process {process.name!r} (koid {process.koid})",
        )
    return mapping


def _clip(mapping: VmMapping, address: int, size: int) -> tuple[int, int]:
    """Return (VMO offset, byte count) of the transfer, clipped to the mapping and VMO."""
    count = min(size, mapping.end - address)
    offset = mapping.vmo_offset_of(address)
    count = min(count, max(0, mapping.vmo.size - offset))
    if count == 0:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"address {address:#x} lies past the end of the VMO mapped there",
        )
    return offset, count


@syscall
def process_read_memory(thread: Thread, handle: object, vaddr: object, size: object) -> bytes:
    """zx_process_read_memory: read up to `size` bytes at `vaddr`; the length is `actual`.

    The read stops at the end of the mapping containing `vaddr` and at the end of its VMO,
    so fewer bytes than asked may come back.

    Checks, in order:
    1. `size` is between 1 and 64 MiB -> ZX_ERR_INVALID_ARGS
    2. `handle` is a process handle with ZX_RIGHT_READ and ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    3. a mapping contains `vaddr` -> ZX_ERR_NOT_FOUND
    4. the VMO has bytes at that offset -> ZX_ERR_OUT_OF_RANGE
    """
    length = to_u64(size, "size")
    _check_size(length)
    process = get_object(thread, handle, Process, ZX_RIGHT_READ | ZX_RIGHT_WRITE)
    address = to_u64(vaddr, "vaddr", ZX_ERR_NOT_FOUND)

    mapping = _mapping_at(process, address)
    offset, count = _clip(mapping, address, length)
    return mapping.vmo.read(offset, count)


@syscall
def process_write_memory(thread: Thread, handle: object, vaddr: object, data: object) -> int:
    """zx_process_write_memory: write `data` at `vaddr`; return the bytes written.

    DIVERGENCE(zircon): Zircon serves this call only with the boot option
    `kernel.enable-debugging-syscalls`; pyzircon always does, as a test machine would.

    Checks, in order:
    1. `data` is bytes-like of 1 to 64 MiB -> ZX_ERR_INVALID_ARGS
    2. `handle` is a process handle with ZX_RIGHT_WRITE
       -> ZX_ERR_BAD_HANDLE / ZX_ERR_WRONG_TYPE / ZX_ERR_ACCESS_DENIED
    3. a mapping contains `vaddr` -> ZX_ERR_NOT_FOUND
    4. the VMO has bytes at that offset -> ZX_ERR_OUT_OF_RANGE
    """
    buffer = to_bytes(data, "data")
    _check_size(len(buffer))
    process = get_object(thread, handle, Process, ZX_RIGHT_WRITE)
    address = to_u64(vaddr, "vaddr", ZX_ERR_NOT_FOUND)

    mapping = _mapping_at(process, address)
    offset, count = _clip(mapping, address, len(buffer))
    mapping.vmo.write(offset, memoryview(buffer)[:count])
    return count
