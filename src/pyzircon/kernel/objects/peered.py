"""Objects made in pairs, each end the other's peer: event pairs and channels.

When the last handle to one end closes, the other end loses its peer, asserts its
PEER_CLOSED signal and runs `on_peer_closed`. `zx_object_signal_peer` acts on the peer
and fails with ZX_ERR_PEER_CLOSED once it is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from pyzircon.abi.signals import ZX_OBJECT_PEER_CLOSED
from pyzircon.abi.status import ZX_ERR_PEER_CLOSED
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject

if TYPE_CHECKING:
    from pyzircon.machine import Kernel

P = TypeVar("P", bound="PeeredObject")


class PeeredObject(KernelObject):
    """One end of a pair."""

    # The signal the surviving end asserts when its peer goes away.
    peer_closed_signal: ClassVar[int] = ZX_OBJECT_PEER_CLOSED

    def __init__(self, kernel: Kernel, signals: int = 0) -> None:
        super().__init__(kernel, signals)
        self.peer: PeeredObject | None = None
        # Kept after the peer is gone: Zircon reports the peer's koid as related for the
        # whole life of an end.
        self.peer_koid = 0

    @classmethod
    def create_pair(cls: type[P], kernel: Kernel) -> tuple[P, P]:
        first, second = cls(kernel), cls(kernel)
        first.peer, second.peer = second, first
        first.peer_koid, second.peer_koid = second.koid, first.koid
        return first, second

    def related_koid(self) -> int:
        return self.peer_koid

    def signal_peer(self, clear: int, set_: int) -> None:
        """Update the peer's signals; raises ZX_ERR_PEER_CLOSED once the peer is gone."""
        peer = self.peer
        if peer is None:
            raise ZxError(
                ZX_ERR_PEER_CLOSED, f"the peer of {self!r} (koid {self.peer_koid}) is closed"
            )
        peer.update_signals(clear=clear, set_=set_)

    def on_zero_handles(self) -> None:
        peer = self.peer
        self.peer = None
        self.on_last_handle_closed()
        if peer is not None:
            peer.peer = None
            peer.on_peer_closed()

    def on_last_handle_closed(self) -> None:
        """Run when this end's last handle closes, before its peer hears of it."""

    def on_peer_closed(self) -> None:
        """Run when the peer's last handle closed."""
        self.update_signals(set_=self.peer_closed_signal)
