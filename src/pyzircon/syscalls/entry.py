"""Thread entry points: Python callables, or user addresses checked as the kernel does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.status import ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED
from pyzircon.errors import ZxError
from pyzircon.syscalls.common import to_u64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread, ThreadEntry


def validate_entry(thread: Thread, entry: object) -> ThreadEntry:
    """Return a callable entry; check an integer entry as a user program counter.

    Raises ZX_ERR_INVALID_ARGS for an address the kernel's `is_user_accessible` rejects
    (on x86-64, anything at or above 2**47) and ZX_ERR_NOT_SUPPORTED for any other.
    """
    if callable(entry):
        return entry

    address = to_u64(entry, "entry")
    if not thread.kernel.layout.is_user_accessible(address):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"entry {address:#x} is not a user-accessible address"
        )
    # DIVERGENCE(zircon): normal mode runs Python, not machine code, so a numeric entry
    # point that Zircon would jump to cannot run; pass a Python callable instead.
    raise ZxError(
        ZX_ERR_NOT_SUPPORTED,
        f"entry {address:#x} is machine code; normal-mode threads run Python callables",
    )
