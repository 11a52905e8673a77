"""Event and event pair syscalls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.policy import ZX_POL_NEW_EVENT, ZX_POL_NEW_EVENTPAIR
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.event import Event, EventPair
from pyzircon.syscalls.common import add_handle, enforce_policy, publish, syscall, to_u32

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


@syscall
def event_create(thread: Thread, options: object) -> int:
    """zx_event_create: create an event.

    Checks, in order:
    1. options == 0 -> ZX_ERR_INVALID_ARGS
    2. the caller's ZX_POL_NEW_EVENT policy -> ZX_ERR_ACCESS_DENIED
    """
    if to_u32(options, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {options:#x}")
    enforce_policy(thread, ZX_POL_NEW_EVENT)
    event = Event(thread.kernel)
    return add_handle(thread, event, Event.default_rights)


@syscall
def eventpair_create(thread: Thread, options: object) -> tuple[int, int]:
    """zx_eventpair_create: create two event pair ends, each the other's peer.

    Checks, in order:
    1. options == 0 -> ZX_ERR_NOT_SUPPORTED (Zircon's status here, unlike event_create)
    2. the caller's ZX_POL_NEW_EVENTPAIR policy -> ZX_ERR_ACCESS_DENIED
    """
    if to_u32(options, "options", ZX_ERR_NOT_SUPPORTED) != 0:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"options must be 0, not {options:#x}")
    enforce_policy(thread, ZX_POL_NEW_EVENTPAIR)
    first, second = EventPair.create_pair(thread.kernel)
    first_value, second_value = publish(
        thread, (first, EventPair.default_rights), (second, EventPair.default_rights)
    )
    return first_value, second_value
