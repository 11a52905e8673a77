"""Exceptionates: the exception channel slot of a thread, process or job.

Each task has one slot per channel type (a thread one, a process one and a process
debugger one, a job one and up to ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT job
debugger ones). zx_task_create_exception_channel puts the kernel's endpoint of a new
channel in the slot. The kernel sends exceptions through it, and the caller reads them
from the other endpoint. The slot counts as bound while the caller's endpoint is open.
Once the caller closes it, a new channel may take the slot, and exceptions skip it.

When the task dies the slot is shut down: its endpoint is closed, so the reader sees
ZX_CHANNEL_PEER_CLOSED, and no channel can be bound again (ZX_ERR_BAD_STATE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.status import ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.objects.channel import Channel


class Exceptionate:
    """One exception channel slot and the task rights its exceptions hand out."""

    __slots__ = ("channel_type", "endpoint", "thread_rights", "process_rights", "shut_down")

    def __init__(self, channel_type: int) -> None:
        # A ZX_EXCEPTION_CHANNEL_TYPE_* value, reported by ZX_INFO_THREAD.
        self.channel_type = channel_type
        # The kernel's endpoint; it has no handle.
        self.endpoint: Channel | None = None
        # Rights of the thread and process handles zx_exception_get_thread and
        # zx_exception_get_process make: those of the handle the channel was created with.
        self.thread_rights = 0
        self.process_rights = 0
        self.shut_down = False

    def __repr__(self) -> str:
        bound = "bound" if self.has_valid_channel() else "unbound"
        return f"<exceptionate type={self.channel_type} {bound}>"

    def has_valid_channel(self) -> bool:
        endpoint = self.endpoint
        return endpoint is not None and endpoint.peer is not None

    def set_channel(self, endpoint: Channel, thread_rights: int, process_rights: int) -> None:
        """Bind the kernel's `endpoint`.

        Raises ZX_ERR_BAD_STATE once the task died, then ZX_ERR_ALREADY_BOUND while an
        earlier channel's reader is still open.
        """
        if self.shut_down:
            raise ZxError(ZX_ERR_BAD_STATE, "the task is dead: it takes no exception channel")
        if self.has_valid_channel():
            raise ZxError(
                ZX_ERR_ALREADY_BOUND, "the task already has an exception channel of this type"
            )
        self.release_endpoint()
        self.endpoint = endpoint
        self.thread_rights = thread_rights
        self.process_rights = process_rights

    def release_endpoint(self) -> None:
        """Close the kernel's endpoint, if any: its reader sees ZX_CHANNEL_PEER_CLOSED."""
        endpoint, self.endpoint = self.endpoint, None
        if endpoint is not None:
            endpoint.on_zero_handles()

    def shutdown(self) -> None:
        """Close the endpoint for good: the task is dead."""
        self.release_endpoint()
        self.shut_down = True
