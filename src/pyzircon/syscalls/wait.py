"""Signal and wait syscalls: object_signal, object_signal_peer, object_wait_one/many/async.

A wait ends with ZX_ERR_CANCELED when the handle it was made through is closed, or is
moved into another table by zx_channel_read, during the wait. Waits that fail this way or
time out report the signals they saw in the ZxError's `outputs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.ipc import (
    ZX_WAIT_ASYNC_BOOT_TIMESTAMP,
    ZX_WAIT_ASYNC_EDGE,
    ZX_WAIT_ASYNC_TIMESTAMP,
    WaitItem,
)
from pyzircon.abi.rights import (
    ZX_RIGHT_SIGNAL,
    ZX_RIGHT_SIGNAL_PEER,
    ZX_RIGHT_WAIT,
    ZX_RIGHT_WRITE,
)
from pyzircon.abi.signals import ZX_SIGNAL_HANDLE_CLOSED
from pyzircon.abi.status import (
    ZX_ERR_CANCELED,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_TIMED_OUT,
    ZX_OK,
)
from pyzircon.abi.task import (
    ZX_THREAD_STATE_BLOCKED_WAIT_MANY,
    ZX_THREAD_STATE_BLOCKED_WAIT_ONE,
    ZX_WAIT_MANY_MAX_ITEMS,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.peered import PeeredObject
from pyzircon.kernel.objects.port import Port
from pyzircon.kernel.objects.wait import WaitObserver, Wakeup, block
from pyzircon.syscalls.clock import to_deadline
from pyzircon.syscalls.common import check_rights, get_handle, get_object, syscall, to_u32, to_u64

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread

_WAIT_ASYNC_OPTIONS = ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP | ZX_WAIT_ASYNC_EDGE


def _check_user_signals(obj: KernelObject, clear_mask: int, set_mask: int) -> None:
    allowed = obj.user_signals
    if (clear_mask | set_mask) & ~allowed:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"a {obj.type_name} allows only signals {allowed:#x} to be set or cleared, not "
            f"clear {clear_mask:#x} / set {set_mask:#x}",
        )


def _check_waitable(obj: KernelObject) -> None:
    if not obj.waitable:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"a {obj.type_name} cannot be waited on or signaled")


@syscall
def object_signal(thread: Thread, handle: object, clear_mask: object, set_mask: object) -> None:
    """zx_object_signal: clear then set user signals on an object.

    Waiters whose signals become active wake up.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_SIGNAL -> ZX_ERR_ACCESS_DENIED
    3. the object can be waited on -> ZX_ERR_NOT_SUPPORTED
    4. both masks are 32-bit values within the type's user signals (ZX_USER_SIGNAL_ALL,
       plus ZX_EVENT_SIGNALED or ZX_EVENTPAIR_SIGNALED) -> ZX_ERR_INVALID_ARGS
    """
    target = get_handle(thread, handle)
    if not target.rights & ZX_RIGHT_SIGNAL:
        check_rights(target, ZX_RIGHT_SIGNAL)
    obj = target.obj
    if not obj.waitable:
        # Peered objects are always waitable, so only a solo object can fail here.
        _check_waitable(obj)
    clear = to_u32(clear_mask, "clear_mask")
    set_ = to_u32(set_mask, "set_mask")
    if (clear | set_) & ~obj.user_signals:
        _check_user_signals(obj, clear, set_)
    obj.update_signals(clear, set_)


@syscall
def object_signal_peer(
    thread: Thread, handle: object, clear_mask: object, set_mask: object
) -> None:
    """zx_object_signal_peer: clear then set user signals on the peer of an event pair or channel.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_SIGNAL_PEER -> ZX_ERR_ACCESS_DENIED
    3. the object has a peer (an event pair or a channel) -> ZX_ERR_NOT_SUPPORTED
    4. both masks are 32-bit values within the type's user signals -> ZX_ERR_INVALID_ARGS
    5. the peer is still open -> ZX_ERR_PEER_CLOSED
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_SIGNAL_PEER)
    obj = target.obj
    if not isinstance(obj, PeeredObject):
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"a {obj.type_name} has no peer to signal")
    clear = to_u32(clear_mask, "clear_mask")
    set_ = to_u32(set_mask, "set_mask")
    _check_user_signals(obj, clear, set_)
    obj.signal_peer(clear, set_)


def _wait_status(status: int, observed: int, what: str) -> int:
    """Turn the end of a wait into its result: the observed signals, or a ZxError."""
    if observed & ZX_SIGNAL_HANDLE_CLOSED:
        raise ZxError(
            ZX_ERR_CANCELED,
            f"{what}: the handle was closed or moved during the wait",
            outputs=observed,
        )
    if status == ZX_ERR_TIMED_OUT:
        raise ZxError(ZX_ERR_TIMED_OUT, f"{what}: the deadline passed first", outputs=observed)
    assert status == ZX_OK, status
    return observed


@syscall
def object_wait_one(thread: Thread, handle: object, signals: object, deadline: object) -> int:
    """zx_object_wait_one: wait until the object asserts one of `signals`.

    Returns the object's signals at the moment one of `signals` became active (at once if
    one already is). A deadline in the past only polls. On ZX_ERR_TIMED_OUT and
    ZX_ERR_CANCELED the ZxError's `outputs` contains the observed signals, with
    ZX_SIGNAL_HANDLE_CLOSED set for a cancellation.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_WAIT -> ZX_ERR_ACCESS_DENIED
    3. `signals` is a 32-bit mask and `deadline` a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    4. the object can be waited on -> ZX_ERR_NOT_SUPPORTED
    Then the wait ends with ZX_ERR_TIMED_OUT at the deadline, or ZX_ERR_CANCELED when the
    handle is closed or moved into another table.
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_WAIT)
    trigger = to_u32(signals, "signals")
    when = to_deadline(deadline)
    obj = target.obj

    wakeup = Wakeup(thread)
    observer = WaitObserver(wakeup)
    obj.add_observer(observer, target, trigger)
    try:
        status = block(
            thread,
            wakeup,
            when,
            ZX_THREAD_STATE_BLOCKED_WAIT_ONE,
            lambda: f"zx_object_wait_one on handle {handle:#x} to {obj!r} for signals {trigger:#x}",
        )
    finally:
        observed = observer.end(obj)
    return _wait_status(status, observed, "zx_object_wait_one")


def _to_wait_item(item: object, index: int) -> tuple[int, int]:
    if isinstance(item, WaitItem):
        pair: tuple[object, object] = (item.handle, item.waitfor)
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        pair = (item[0], item[1])
    else:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"items[{index}] must be a WaitItem or a (handle, waitfor) pair, not {item!r}",
        )
    return to_u32(pair[0], f"items[{index}].handle"), to_u32(pair[1], f"items[{index}].waitfor")


@syscall
def object_wait_many(thread: Thread, items: object, deadline: object) -> list[int]:
    """zx_object_wait_many: wait until any of several objects asserts one of its signals.

    `items` is a sequence of WaitItem or (handle, waitfor) pairs. Returns the pending
    signals of every item, in order; on ZX_ERR_TIMED_OUT and ZX_ERR_CANCELED the
    ZxError's `outputs` contains that list. With no items the call sleeps until the
    deadline and fails with ZX_ERR_TIMED_OUT.

    Checks, in order:
    1. `deadline` is a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    2. `items` is a list or tuple -> ZX_ERR_INVALID_ARGS
    3. it has at most ZX_WAIT_MANY_MAX_ITEMS entries -> ZX_ERR_OUT_OF_RANGE
    4. every entry is a WaitItem or a pair of 32-bit values -> ZX_ERR_INVALID_ARGS
    5. for each entry in order: the handle is valid -> ZX_ERR_BAD_HANDLE, has
       ZX_RIGHT_WAIT -> ZX_ERR_ACCESS_DENIED, and its object can be waited on ->
       ZX_ERR_NOT_SUPPORTED
    Then the wait ends with ZX_ERR_TIMED_OUT at the deadline, or ZX_ERR_CANCELED when
    any of the handles is closed or moved into another table.
    """
    when = to_deadline(deadline)
    if not isinstance(items, (list, tuple)):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"items must be a list or tuple, not {type(items).__name__}"
        )
    wakeup = Wakeup(thread)
    if not items:
        # Nothing to wait for: sleep until the deadline (Zircon's SleepEtc), then time out.
        block(
            thread,
            wakeup,
            when,
            ZX_THREAD_STATE_BLOCKED_WAIT_MANY,
            "zx_object_wait_many of no items",
        )
        raise ZxError(ZX_ERR_TIMED_OUT, "zx_object_wait_many of no items timed out", outputs=[])
    if len(items) > ZX_WAIT_MANY_MAX_ITEMS:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"{len(items)} items is more than ZX_WAIT_MANY_MAX_ITEMS ({ZX_WAIT_MANY_MAX_ITEMS})",
        )
    pairs = [_to_wait_item(item, index) for index, item in enumerate(items)]

    watched: list[tuple[KernelObject, WaitObserver]] = []
    try:
        for value, trigger in pairs:
            target = get_handle(thread, value)
            check_rights(target, ZX_RIGHT_WAIT)
            observer = WaitObserver(wakeup)
            target.obj.add_observer(observer, target, trigger)
            watched.append((target.obj, observer))
    except ZxError:
        for obj, observer in watched:
            observer.end(obj)
        raise

    def reason() -> str:
        described = ", ".join(f"{value:#x} for {trigger:#x}" for value, trigger in pairs)
        return f"zx_object_wait_many on handles {described}"

    try:
        status = block(thread, wakeup, when, ZX_THREAD_STATE_BLOCKED_WAIT_MANY, reason)
    finally:
        pending = [observer.end(obj) for obj, observer in watched]
    combined = 0
    for signals in pending:
        combined |= signals
    if combined & ZX_SIGNAL_HANDLE_CLOSED:
        raise ZxError(
            ZX_ERR_CANCELED,
            "zx_object_wait_many: a handle was closed or moved during the wait",
            outputs=pending,
        )
    if status == ZX_ERR_TIMED_OUT:
        raise ZxError(
            ZX_ERR_TIMED_OUT, "zx_object_wait_many: the deadline passed first", outputs=pending
        )
    return pending


@syscall
def object_wait_async(
    thread: Thread, handle: object, port: object, key: object, signals: object, options: object
) -> None:
    """zx_object_wait_async: queue one packet on `port` when the object asserts `signals`.

    Without ZX_WAIT_ASYNC_EDGE a signal already active queues the packet at once. The
    wait ends after one packet, with zx_port_cancel, or when `handle` is closed (packets
    already queued stay).

    Checks, in order:
    1. `options` has only ZX_WAIT_ASYNC_TIMESTAMP, ZX_WAIT_ASYNC_BOOT_TIMESTAMP and
       ZX_WAIT_ASYNC_EDGE, and not both timestamps -> ZX_ERR_INVALID_ARGS
    2. `port` is valid -> ZX_ERR_BAD_HANDLE, is a port -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED
    3. `handle` is valid -> ZX_ERR_BAD_HANDLE and has ZX_RIGHT_WAIT -> ZX_ERR_ACCESS_DENIED
    4. `key` is a 64-bit value and `signals` a 32-bit mask -> ZX_ERR_INVALID_ARGS
    5. the object can be waited on -> ZX_ERR_NOT_SUPPORTED
    """
    flags = to_u32(options, "options")
    if flags & ~_WAIT_ASYNC_OPTIONS:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"unknown options {flags & ~_WAIT_ASYNC_OPTIONS:#x}")
    both = ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP
    if flags & both == both:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            "ZX_WAIT_ASYNC_TIMESTAMP and ZX_WAIT_ASYNC_BOOT_TIMESTAMP exclude each other",
        )
    target_port = get_object(thread, port, Port, ZX_RIGHT_WRITE)
    watched: Handle = get_handle(thread, handle)
    check_rights(watched, ZX_RIGHT_WAIT)
    packet_key = to_u64(key, "key")
    trigger = to_u32(signals, "signals")
    target_port.wait_async(watched.obj, watched, packet_key, trigger, flags)
