"""The thread the machine is running now, for the guest-facing API to act on.

Only one thread of one Kernel runs at any moment, so one module-level slot is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.status import ZX_ERR_BAD_STATE
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

_current: Thread | None = None


def set_current_thread(thread: Thread | None) -> None:
    global _current
    _current = thread


def current_thread() -> Thread:
    """Return the running guest thread; raise ZX_ERR_BAD_STATE outside guest code."""
    thread = _current
    if thread is None:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            "no guest thread is running: call zx functions from code run by Kernel.run",
        )
    return thread
