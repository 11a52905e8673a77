"""Events and event pairs: objects that only carry signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_EVENT, ZX_OBJ_TYPE_EVENTPAIR
from pyzircon.abi.rights import ZX_DEFAULT_EVENT_RIGHTS, ZX_DEFAULT_EVENTPAIR_RIGHTS
from pyzircon.abi.signals import ZX_EVENTPAIR_PEER_CLOSED
from pyzircon.kernel.objects.base import KernelObject

if TYPE_CHECKING:
    from pyzircon.machine import Kernel


class Event(KernelObject):
    """An event: user signals only."""

    obj_type = ZX_OBJ_TYPE_EVENT
    default_rights = ZX_DEFAULT_EVENT_RIGHTS


class EventPair(KernelObject):
    """One end of an event pair; closing it asserts PEER_CLOSED on the other end."""

    obj_type = ZX_OBJ_TYPE_EVENTPAIR
    default_rights = ZX_DEFAULT_EVENTPAIR_RIGHTS

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(kernel)
        self.peer: EventPair | None = None
        # Kept after the peer is gone: Zircon reports the peer's koid as related for the
        # whole life of an end.
        self.peer_koid = 0

    @classmethod
    def create_pair(cls, kernel: Kernel) -> tuple[EventPair, EventPair]:
        first, second = cls(kernel), cls(kernel)
        first.peer, second.peer = second, first
        first.peer_koid, second.peer_koid = second.koid, first.koid
        return first, second

    def related_koid(self) -> int:
        return self.peer_koid

    def on_zero_handles(self) -> None:
        peer = self.peer
        if peer is not None:
            peer.peer = None
            peer.update_signals(set_=ZX_EVENTPAIR_PEER_CLOSED)
