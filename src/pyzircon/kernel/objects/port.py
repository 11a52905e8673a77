"""Ports: queues of packets that threads wait on.

Packets come from zx_port_queue (user packets) and from asynchronous waits
(zx_object_wait_async), which add a `PortObserver` to the watched object. An observer
fires once: it queues a ZX_PKT_TYPE_SIGNAL_ONE packet and is gone. Closing the watched
handle cancels the observer without a packet; packets already queued stay.

Waiting follows Zircon's semaphore: each queued packet wakes the oldest waiting thread,
or adds one to `_available` when no thread waits. A woken thread takes the oldest
packet. If zx_port_cancel removed it in the meantime, the thread waits again.

Exception channels are not ports, but a port can watch an exception channel like any
other waitable object.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Final, NamedTuple

from pyzircon.abi.exceptions import ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS
from pyzircon.abi.ipc import (
    ZX_PKT_TYPE_SIGNAL_ONE,
    ZX_PKT_TYPE_USER,
    ZX_WAIT_ASYNC_BOOT_TIMESTAMP,
    ZX_WAIT_ASYNC_EDGE,
    ZX_WAIT_ASYNC_TIMESTAMP,
    PacketSignal,
    PortPacket,
)
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_PORT
from pyzircon.abi.rights import ZX_DEFAULT_PORT_RIGHTS
from pyzircon.abi.status import ZX_ERR_SHOULD_WAIT, ZX_OK
from pyzircon.abi.task import ZX_THREAD_STATE_BLOCKED_PORT
from pyzircon.errors import ZxError
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.base import KernelObject, SignalObserver
from pyzircon.kernel.objects.wait import WaitQueue, Wakeup, block

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread
    from pyzircon.machine import Kernel

# The kernel's kMaxAllocatedPacketCountPerPort: user packets beyond it are refused.
MAX_USER_PACKETS: Final = 4096


class QueuedPacket(NamedTuple):
    packet: PortPacket
    # The handle an asynchronous wait was made through, or None for a user packet.
    source: Handle | None


class PortObserver(SignalObserver):
    """An asynchronous wait: queues one signal packet on `port` when it fires."""

    __slots__ = ("port", "key", "options", "target")

    def __init__(
        self, port: Port, target: KernelObject, handle: Handle, key: int, trigger: int, options: int
    ) -> None:
        super().__init__(trigger, handle)
        self.port = port
        self.target = target
        self.key = key
        self.options = options

    def on_match(self, signals: int) -> None:
        timestamp = 0
        if self.options & (ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP):
            # pyzircon's machine never sleeps, so boot time equals monotonic time.
            timestamp = self.port.kernel.scheduler.now_ns
        payload = PacketSignal(
            trigger=self.trigger, observed=signals, count=1, timestamp=timestamp
        ).to_bytes()
        packet = PortPacket(key=self.key, type=ZX_PKT_TYPE_SIGNAL_ONE, status=ZX_OK, data=payload)
        self.port.forget_observer(self)
        self.port.queue(QueuedPacket(packet, self.handle))

    def on_cancel(self, signals: int) -> None:
        self.port.forget_observer(self)

    def matches_key(self, port: object, key: int) -> bool:
        return port is self.port and key == self.key


class Port(KernelObject):
    """A port: queued packets, the threads waiting for them, and its asynchronous waits."""

    obj_type = ZX_OBJ_TYPE_PORT
    default_rights = ZX_DEFAULT_PORT_RIGHTS
    waitable = False

    def __init__(self, kernel: Kernel, options: int) -> None:
        super().__init__(kernel)
        self.options = options
        self._packets: deque[QueuedPacket] = deque()
        self._user_packets = 0
        # Posts of the semaphore that no waiter has taken yet.
        self._available = 0
        self._waiters = WaitQueue()
        # The pending asynchronous waits, in the order they were made.
        self._async_waits: dict[PortObserver, None] = {}
        self._closed = False

    def describe(self) -> str:
        return f"{len(self._packets)} packets, {len(self._async_waits)} async waits"

    @property
    def packet_count(self) -> int:
        return len(self._packets)

    @property
    def async_wait_count(self) -> int:
        return len(self._async_waits)

    # Producing packets.

    def queue_user(self, packet: PortPacket) -> None:
        """Queue a user packet; raises ZX_ERR_SHOULD_WAIT when the port is full."""
        if self._user_packets > MAX_USER_PACKETS:
            # The calling thread also gets a policy exception when its syscall returns.
            current_thread().signal_policy_exception(ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS)
            raise ZxError(
                ZX_ERR_SHOULD_WAIT,
                f"port koid {self.koid} already holds {self._user_packets} user packets",
            )
        self._user_packets += 1
        self.queue(QueuedPacket(packet, None))

    def queue(self, entry: QueuedPacket) -> None:
        """Queue a packet, unless every handle to the port is closed."""
        if self._closed:
            return
        self._packets.append(entry)
        self._post()

    def _post(self) -> None:
        if self._waiters.wake_one() is None:
            self._available += 1

    def wait_async(
        self, target: KernelObject, handle: Handle, key: int, signals: int, options: int
    ) -> None:
        """Watch `target` through `handle` for `signals`; fire once into this port.

        Raises ZX_ERR_NOT_SUPPORTED when `target` cannot be waited on.
        """
        observer = PortObserver(self, target, handle, key, signals, options)
        self._async_waits[observer] = None
        try:
            target.add_observer(observer, handle, signals, edge=bool(options & ZX_WAIT_ASYNC_EDGE))
        except ZxError:
            self.forget_observer(observer)
            raise

    def forget_observer(self, observer: PortObserver) -> None:
        self._async_waits.pop(observer, None)

    # Consuming packets.

    def wait(self, thread: Thread, deadline_ns: int | None) -> PortPacket:
        """Take the oldest packet, blocking `thread` until one comes or the deadline.

        Raises ZX_ERR_TIMED_OUT at the deadline.
        """
        while True:
            if self._available > 0:
                self._available -= 1
            else:
                self._wait_for_post(thread, deadline_ns)
            if self._packets:
                return self._take()
            # zx_port_cancel removed the packet this post was for: wait again.

    def _wait_for_post(self, thread: Thread, deadline_ns: int | None) -> None:
        wakeup = Wakeup(thread)
        self._waiters.add(wakeup)
        try:
            status = block(
                thread, wakeup, deadline_ns, ZX_THREAD_STATE_BLOCKED_PORT, f"port koid {self.koid}"
            )
        except BaseException:
            if wakeup.status == ZX_OK:
                # Killed after a packet woke it: pass the post on, so no packet is stranded.
                self._post()
            raise
        finally:
            if wakeup.status is None:
                self._waiters.remove(wakeup)
        if status != ZX_OK:
            raise ZxError(status, f"no packet arrived on port koid {self.koid} before the deadline")

    def _take(self) -> PortPacket:
        entry = self._packets.popleft()
        if entry.packet.type == ZX_PKT_TYPE_USER and entry.source is None:
            self._user_packets -= 1
        return entry.packet

    # Cancelling.

    def cancel_waits(self, target: KernelObject, handle: Handle, key: int) -> bool:
        """zx_port_cancel: end the waits on `handle` with `key` and drop their packets.

        Returns whether anything was cancelled or removed.
        """
        had_observer = target.cancel_by_key(handle, self, key)
        packet_removed = False
        kept: deque[QueuedPacket] = deque()
        for entry in self._packets:
            if entry.source is handle and entry.packet.key == key:
                packet_removed = True
            else:
                kept.append(entry)
        self._packets = kept
        return had_observer or packet_removed

    def on_zero_handles(self) -> None:
        # Queued packets are dropped and pending waits removed from their objects.
        self._closed = True
        self._packets.clear()
        self._user_packets = 0
        for observer in list(self._async_waits):
            observer.target.remove_observer(observer)
        self._async_waits.clear()
