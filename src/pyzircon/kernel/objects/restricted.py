"""A thread's restricted-mode state: the bound state VMO and the kick latch."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyzircon.kernel.objects.vmo import VmoDispatcher


class RestrictedThreadState:
    """Per-thread restricted-mode bookkeeping.

    `binding` is the VMO from zx_restricted_bind_state. Like a mapping, it keeps the
    VMO's pages alive until it is unbound, replaced or the thread dies, even with no
    handle left. `kick_pending` is the sticky kick bit. zx_restricted_kick sets it, and
    the next exit to normal mode or the next zx_restricted_enter consumes it.
    """

    __slots__ = ("binding", "cpu_context", "in_restricted_mode", "kick_pending")

    def __init__(self) -> None:
        self.binding: VmoDispatcher | None = None
        self.kick_pending = False
        self.in_restricted_mode = False
        # The CPU engine's saved state of this thread (FPU and vector registers), opaque
        # to the object layer; None until the thread first runs in restricted mode.
        self.cpu_context: object | None = None

    def bind(self, vmo: VmoDispatcher) -> None:
        """Bind `vmo`, replacing (and releasing) any earlier binding."""
        vmo.vmo.hold()
        self.unbind()
        self.binding = vmo

    def unbind(self) -> None:
        if self.binding is not None:
            self.binding.vmo.drop_hold()
            self.binding = None

    def consume_kick(self) -> bool:
        """Return whether a kick was pending, clearing it."""
        pending = self.kick_pending
        self.kick_pending = False
        return pending
