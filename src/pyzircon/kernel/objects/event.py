"""Events and event pairs: objects that only carry signals."""

from __future__ import annotations

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_EVENT, ZX_OBJ_TYPE_EVENTPAIR
from pyzircon.abi.rights import ZX_DEFAULT_EVENT_RIGHTS, ZX_DEFAULT_EVENTPAIR_RIGHTS
from pyzircon.abi.signals import (
    EVENT_USER_SETTABLE_SIGNALS,
    EVENTPAIR_USER_SETTABLE_SIGNALS,
    ZX_EVENTPAIR_PEER_CLOSED,
)
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.peered import PeeredObject


class Event(KernelObject):
    """An event: user signals and ZX_EVENT_SIGNALED only."""

    obj_type = ZX_OBJ_TYPE_EVENT
    default_rights = ZX_DEFAULT_EVENT_RIGHTS
    user_signals = EVENT_USER_SETTABLE_SIGNALS


class EventPair(PeeredObject):
    """One end of an event pair; closing it asserts PEER_CLOSED on the other end."""

    obj_type = ZX_OBJ_TYPE_EVENTPAIR
    default_rights = ZX_DEFAULT_EVENTPAIR_RIGHTS
    user_signals = EVENTPAIR_USER_SETTABLE_SIGNALS
    peer_closed_signal = ZX_EVENTPAIR_PEER_CLOSED
