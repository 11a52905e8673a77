"""Channels: pairs of endpoints that carry messages of bytes and handles.

A message written into one endpoint is queued on its peer. Its handles leave the
writer's table at once and live in the message, keeping their objects (and their rights
and base values) until the reader's table takes them; a message that is never read
closes them when its queue goes away. Waits made through a handle end with
ZX_ERR_CANCELED when a reader's table takes that handle, as on Zircon.

zx_channel_call writes a message whose first four bytes the kernel replaces with a
transaction id of its own (0x80000000 and up) and waits on the calling endpoint for the
reply with the same id. The reply goes to the caller, never to the endpoint's queue.

The kernel can keep one endpoint itself, with no handle, as exception channels do: it
sends with `write(Message(data, handles))`, where the handles come from the handle arena
and belong to no table, and it closes its endpoint by calling `on_zero_handles`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Final

from pyzircon.abi.exceptions import ZX_EXCP_POLICY_CODE_CHANNEL_FULL_WRITE
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_CHANNEL
from pyzircon.abi.rights import ZX_DEFAULT_CHANNEL_RIGHTS
from pyzircon.abi.signals import (
    ZX_CHANNEL_PEER_CLOSED,
    ZX_CHANNEL_READABLE,
    ZX_CHANNEL_WRITABLE,
)
from pyzircon.abi.status import (
    ZX_ERR_BUFFER_TOO_SMALL,
    ZX_ERR_CANCELED,
    ZX_ERR_PEER_CLOSED,
    ZX_ERR_SHOULD_WAIT,
    ZX_OK,
)
from pyzircon.abi.task import ZX_THREAD_STATE_BLOCKED_CHANNEL
from pyzircon.errors import ZxError
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.peered import PeeredObject
from pyzircon.kernel.objects.wait import Wakeup, block

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle, HandleArena
    from pyzircon.kernel.objects.thread import Thread
    from pyzircon.machine import Kernel

# Transaction ids from this value up belong to the kernel's zx_channel_call.
MIN_KERNEL_TXID: Final = 0x8000_0000
TXID_SIZE: Final = 4
# The kernel's kMaxPendingMessageCount: writing past it raises a policy exception.
MAX_PENDING_MESSAGES: Final = 3500


class Message:
    """The bytes and handles of one channel message."""

    __slots__ = ("data", "handles")

    def __init__(self, data: bytes, handles: list[Handle]) -> None:
        self.data = data
        self.handles = handles

    @property
    def txid(self) -> int:
        """The transaction id in the first four bytes, or 0 for a shorter message."""
        if len(self.data) < TXID_SIZE:
            return 0
        return int.from_bytes(self.data[:TXID_SIZE], "little")

    def set_txid(self, txid: int) -> None:
        self.data = txid.to_bytes(TXID_SIZE, "little") + self.data[TXID_SIZE:]

    def discard(self, arena: HandleArena) -> None:
        """Close the message's handles: it will never be read."""
        handles, self.handles = self.handles, []
        for handle in handles:
            arena.destroy(handle)


class CallWaiter:
    """A thread in zx_channel_call, waiting on its endpoint for the reply to `txid`."""

    __slots__ = ("txid", "wakeup", "reply")

    def __init__(self, txid: int, wakeup: Wakeup) -> None:
        self.txid = txid
        self.wakeup = wakeup
        self.reply: Message | None = None


class Channel(PeeredObject):
    """One endpoint of a channel: the messages written to it by its peer."""

    obj_type = ZX_OBJ_TYPE_CHANNEL
    default_rights = ZX_DEFAULT_CHANNEL_RIGHTS
    peer_closed_signal = ZX_CHANNEL_PEER_CLOSED

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(kernel, signals=ZX_CHANNEL_WRITABLE)
        self.messages: deque[Message] = deque()
        self.call_waiters: list[CallWaiter] = []
        self._last_txid = 0

    def describe(self) -> str:
        peer = "peer closed" if self.peer is None else f"peer koid {self.peer_koid}"
        return f"{len(self.messages)} messages, {peer}"

    # Writing.

    def write(self, message: Message) -> None:
        """Send `message` to the peer; raises ZX_ERR_PEER_CLOSED once the peer is gone.

        On failure the caller still owns the message and its handles.
        """
        peer = self._live_peer()
        if not peer._deliver_to_caller(message):
            peer._enqueue(message)

    def _live_peer(self) -> Channel:
        peer = self.peer
        if peer is None:
            raise ZxError(ZX_ERR_PEER_CLOSED, f"the peer of channel koid {self.koid} is closed")
        assert isinstance(peer, Channel)
        return peer

    def _enqueue(self, message: Message) -> None:
        self.messages.append(message)
        if len(self.messages) > MAX_PENDING_MESSAGES:
            # The message is still queued; the writing thread gets a policy exception
            # when its syscall returns.
            current_thread().signal_policy_exception(ZX_EXCP_POLICY_CODE_CHANNEL_FULL_WRITE)
        self.update_signals(set_=ZX_CHANNEL_READABLE)

    def _deliver_to_caller(self, message: Message) -> bool:
        """Hand a reply to the zx_channel_call waiting for its txid; return whether one was."""
        if not self.call_waiters:
            return False
        txid = message.txid
        if txid < MIN_KERNEL_TXID:
            return False
        for waiter in self.call_waiters:
            if waiter.txid == txid:
                self.call_waiters.remove(waiter)
                waiter.reply = message
                waiter.wakeup.signal(ZX_OK)
                return True
        return False

    # Reading.

    def read(self, max_bytes: int, max_handles: int, may_discard: bool) -> Message:
        """Take the oldest message.

        Raises ZX_ERR_SHOULD_WAIT when the queue is empty, ZX_ERR_PEER_CLOSED when it is
        empty for good, and ZX_ERR_BUFFER_TOO_SMALL, with the message's (bytes, handles)
        sizes as `outputs`, when it does not fit; then the message stays queued unless
        `may_discard`, which drops it.
        """
        if not self.messages:
            if self.peer is None:
                raise ZxError(
                    ZX_ERR_PEER_CLOSED,
                    f"channel koid {self.koid} is empty and its peer is closed",
                )
            raise ZxError(ZX_ERR_SHOULD_WAIT, f"channel koid {self.koid} has no message")

        message = self.messages[0]
        size, handle_count = len(message.data), len(message.handles)
        if size > max_bytes or handle_count > max_handles:
            if may_discard:
                self._pop()
                message.discard(self.kernel.handle_arena)
            raise ZxError(
                ZX_ERR_BUFFER_TOO_SMALL,
                f"the next message has {size} bytes and {handle_count} handles; the buffers "
                f"hold {max_bytes} bytes and {max_handles} handles",
                outputs=(size, handle_count),
            )
        return self._pop()

    def _pop(self) -> Message:
        message = self.messages.popleft()
        if not self.messages:
            self.update_signals(clear=ZX_CHANNEL_READABLE)
        return message

    # Calls.

    def call(self, thread: Thread, message: Message, deadline_ns: int | None) -> Message:
        """Write `message` with a new txid and wait for the reply with the same txid.

        Raises ZX_ERR_PEER_CLOSED (before the write, or while waiting), ZX_ERR_TIMED_OUT,
        or ZX_ERR_CANCELED when this endpoint's handle goes away during the wait. The
        message is this call's from the start: when the peer is already closed, its
        handles are closed.
        """
        try:
            peer = self._live_peer()
        except ZxError:
            message.discard(self.kernel.handle_arena)
            raise
        txid = self._new_txid()
        message.set_txid(txid)
        waiter = CallWaiter(txid, Wakeup(thread))
        self.call_waiters.append(waiter)
        peer._enqueue(message)
        try:
            status = block(
                thread,
                waiter.wakeup,
                deadline_ns,
                ZX_THREAD_STATE_BLOCKED_CHANNEL,
                f"a reply to txid {txid:#x} on channel koid {self.koid}",
            )
        except BaseException:
            if waiter.reply is not None:
                waiter.reply.discard(self.kernel.handle_arena)
            raise
        finally:
            if waiter in self.call_waiters:
                self.call_waiters.remove(waiter)
        if status != ZX_OK:
            raise ZxError(status, _call_failure(status, self.koid))
        assert waiter.reply is not None
        return waiter.reply

    def _new_txid(self) -> int:
        while True:
            self._last_txid = (self._last_txid + 1) & (MIN_KERNEL_TXID - 1)
            txid = self._last_txid | MIN_KERNEL_TXID
            if all(waiter.txid != txid for waiter in self.call_waiters):
                return txid

    def cancel_call_waiters(self, status: int = ZX_ERR_CANCELED) -> None:
        """End every zx_channel_call waiting on this endpoint with `status`."""
        waiters, self.call_waiters = self.call_waiters, []
        for waiter in waiters:
            waiter.wakeup.signal(status)

    # Closing.

    def on_last_handle_closed(self) -> None:
        self.cancel_call_waiters(ZX_ERR_CANCELED)

    def on_peer_closed(self) -> None:
        self.update_signals(clear=ZX_CHANNEL_WRITABLE, set_=ZX_CHANNEL_PEER_CLOSED)
        self.cancel_call_waiters(ZX_ERR_PEER_CLOSED)

    def on_zero_handles(self) -> None:
        super().on_zero_handles()
        # No reader is left for this endpoint, so its messages close their handles.
        messages, self.messages = self.messages, deque()
        for message in messages:
            message.discard(self.kernel.handle_arena)


def _call_failure(status: int, koid: int) -> str:
    if status == ZX_ERR_PEER_CLOSED:
        return f"the peer of channel koid {koid} closed before it replied"
    if status == ZX_ERR_CANCELED:
        return f"the handle to channel koid {koid} was closed during the call"
    return f"no reply arrived on channel koid {koid} before the deadline"
