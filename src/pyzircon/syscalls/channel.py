"""Channel syscalls: channel_create, channel_write, channel_read, channel_call.

A message is up to ZX_CHANNEL_MAX_MSG_BYTES bytes and ZX_CHANNEL_MAX_MSG_HANDLES
handles. Writing moves the handles out of the caller's table whether or not the write
succeeds, as on Zircon. Reading puts them into the reader's table, where each keeps its
object and rights and gets a value from that table. Reads return `(bytes, handles)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyzircon.abi.ipc import ZX_CHANNEL_READ_MAY_DISCARD, ZX_CHANNEL_WRITE_USE_IOVEC
from pyzircon.abi.policy import ZX_POL_NEW_CHANNEL
from pyzircon.abi.rights import ZX_RIGHT_READ, ZX_RIGHT_TRANSFER, ZX_RIGHT_WRITE
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_BUFFER_TOO_SMALL,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.abi.task import (
    ZX_CHANNEL_MAX_MSG_BYTES,
    ZX_CHANNEL_MAX_MSG_HANDLES,
    ZX_CHANNEL_MAX_MSG_IOVECS,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.channel import TXID_SIZE, Channel, Message
from pyzircon.syscalls.clock import to_deadline
from pyzircon.syscalls.common import (
    bad_handle_policy,
    enforce_policy,
    get_object,
    publish,
    syscall,
    to_bytes,
    to_u32,
)

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread


@syscall
def channel_create(thread: Thread, options: object) -> tuple[int, int]:
    """zx_channel_create: create a channel; return its two endpoints, each the other's peer.

    Checks, in order:
    1. options == 0 -> ZX_ERR_INVALID_ARGS
    2. the caller's ZX_POL_NEW_CHANNEL policy -> ZX_ERR_ACCESS_DENIED
    """
    if to_u32(options, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {options!r}")
    enforce_policy(thread, ZX_POL_NEW_CHANNEL)
    first, second = Channel.create_pair(thread.kernel)
    first_value, second_value = publish(
        thread, (first, Channel.default_rights), (second, Channel.default_rights)
    )
    return first_value, second_value


# Writing.


def _handle_values(handles: object) -> list[object]:
    if not isinstance(handles, (list, tuple)):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"handles must be a list or tuple of handle values, not {type(handles).__name__}",
        )
    return list(handles)


def _close_values(thread: Thread, values: Sequence[object]) -> None:
    """Close every valid handle among `values`, as the kernel does when a write fails early."""
    table = thread.process.handle_table
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32:
            table.close(value)


def _message_bytes(data: object, use_iovec: bool) -> bytes:
    """Join the message bytes; raises ZX_ERR_OUT_OF_RANGE or ZX_ERR_INVALID_ARGS."""
    if not use_iovec:
        joined = bytes(to_bytes(data, "bytes"))
    else:
        if not isinstance(data, (list, tuple)):
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                "with ZX_CHANNEL_WRITE_USE_IOVEC, bytes must be a list of buffers",
            )
        if len(data) > ZX_CHANNEL_MAX_MSG_IOVECS:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"{len(data)} buffers is more than ZX_CHANNEL_MAX_MSG_IOVECS "
                f"({ZX_CHANNEL_MAX_MSG_IOVECS})",
            )
        joined = b"".join(
            bytes(to_bytes(piece, f"bytes[{index}]")) for index, piece in enumerate(data)
        )
    if len(joined) > ZX_CHANNEL_MAX_MSG_BYTES:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"a message holds at most {ZX_CHANNEL_MAX_MSG_BYTES} bytes, not {len(joined)}",
        )
    return joined


def _check_handle_count(count: int) -> None:
    if count > ZX_CHANNEL_MAX_MSG_HANDLES:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"a message holds at most {ZX_CHANNEL_MAX_MSG_HANDLES} handles, not {count}",
        )


def _take_handles(thread: Thread, channel: Channel, values: Sequence[object]) -> list[Handle]:
    """Move the handles out of the caller's table into a message.

    Every handle leaves the table. If one fails a check, all of them are closed and the
    first failure is raised: the value names no handle (ZX_ERR_BAD_HANDLE), it lacks
    ZX_RIGHT_TRANSFER (ZX_ERR_ACCESS_DENIED), or it is the channel written to
    (ZX_ERR_NOT_SUPPORTED).
    """
    table = thread.process.handle_table
    arena = thread.kernel.handle_arena
    taken: list[Handle] = []
    first_error: ZxError | None = None
    for index, value in enumerate(values):
        handle = None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32:
            handle = table.detach(value)
        error: ZxError | None = None
        if handle is None:
            bad_handle_policy(thread)
            error = ZxError(
                ZX_ERR_BAD_HANDLE, f"handles[{index}] = {value!r} is not a valid handle"
            )
        elif not handle.rights & ZX_RIGHT_TRANSFER:
            error = ZxError(ZX_ERR_ACCESS_DENIED, f"handles[{index}] lacks ZX_RIGHT_TRANSFER")
        elif handle.obj is channel:
            error = ZxError(
                ZX_ERR_NOT_SUPPORTED, f"handles[{index}] is the channel being written to"
            )
        if error is None:
            assert handle is not None
            taken.append(handle)
            continue
        if handle is not None:
            arena.destroy(handle)
        if first_error is None:
            first_error = error
    if first_error is not None:
        for handle in taken:
            arena.destroy(handle)
        raise first_error
    return taken


def _check_write_options(options: object) -> int:
    flags = to_u32(options, "options")
    if flags & ~ZX_CHANNEL_WRITE_USE_IOVEC:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"unknown options {flags & ~ZX_CHANNEL_WRITE_USE_IOVEC:#x}"
        )
    return flags


@syscall
def channel_write(
    thread: Thread, handle: object, options: object, bytes: object, handles: object
) -> None:
    """zx_channel_write: write a message of `bytes` and `handles` to the peer endpoint.

    With ZX_CHANNEL_WRITE_USE_IOVEC, `bytes` is a list of buffers joined into one
    message. The handles leave the caller's table whether or not the write succeeds.

    Checks, in order:
    1. `handles` is a list or tuple -> ZX_ERR_INVALID_ARGS
    2. `options` has no bit other than ZX_CHANNEL_WRITE_USE_IOVEC -> ZX_ERR_INVALID_ARGS
    3. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a channel -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED
    4. `bytes` is bytes-like (a list of them with ZX_CHANNEL_WRITE_USE_IOVEC) ->
       ZX_ERR_INVALID_ARGS; at most ZX_CHANNEL_MAX_MSG_BYTES bytes, ZX_CHANNEL_MAX_MSG_IOVECS
       buffers and ZX_CHANNEL_MAX_MSG_HANDLES handles -> ZX_ERR_OUT_OF_RANGE
    5. each handle is valid -> ZX_ERR_BAD_HANDLE, has ZX_RIGHT_TRANSFER ->
       ZX_ERR_ACCESS_DENIED, and is not `handle`'s channel -> ZX_ERR_NOT_SUPPORTED (the
       first failure is reported; every handle is still taken and closed)
    6. the peer is open -> ZX_ERR_PEER_CLOSED
    """
    values = _handle_values(handles)
    try:
        flags = _check_write_options(options)
        channel = get_object(thread, handle, Channel, ZX_RIGHT_WRITE)
        data = _message_bytes(bytes, bool(flags & ZX_CHANNEL_WRITE_USE_IOVEC))
        _check_handle_count(len(values))
    except ZxError:
        _close_values(thread, values)
        raise

    message = Message(data, _take_handles(thread, channel, values))
    try:
        channel.write(message)
    except ZxError:
        message.discard(thread.kernel.handle_arena)
        raise


# Reading.


def _install(thread: Thread, handles: list[Handle]) -> list[int]:
    """Put received handles into the caller's table and return their values.

    Waits made through each handle end with ZX_ERR_CANCELED, and so do zx_channel_call
    waits on a received channel endpoint, as Zircon does when a handle changes tables.
    """
    table = thread.process.handle_table
    values = []
    for handle in handles:
        obj = handle.obj
        if obj.waitable:
            obj.cancel(handle)
            if isinstance(obj, Channel):
                obj.cancel_call_waiters()
        values.append(table.add(handle))
    return values


@syscall
def channel_read(
    thread: Thread, handle: object, options: object, num_bytes: object, num_handles: object
) -> tuple[bytes, list[int]]:
    """zx_channel_read: take the oldest message; return its bytes and its handles' new values.

    `num_bytes` and `num_handles` are the sizes of the caller's buffers. On
    ZX_ERR_BUFFER_TOO_SMALL the ZxError's `outputs` is the message's (bytes, handles)
    sizes; the message stays queued unless ZX_CHANNEL_READ_MAY_DISCARD drops it.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a channel -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_READ -> ZX_ERR_ACCESS_DENIED
    2. `options` has no bit other than ZX_CHANNEL_READ_MAY_DISCARD -> ZX_ERR_NOT_SUPPORTED
    3. `num_bytes` and `num_handles` are 32-bit sizes -> ZX_ERR_INVALID_ARGS
    4. a message is queued -> ZX_ERR_SHOULD_WAIT, or ZX_ERR_PEER_CLOSED once the peer is
       closed and the queue empty
    5. the message fits both buffers -> ZX_ERR_BUFFER_TOO_SMALL
    """
    channel = get_object(thread, handle, Channel, ZX_RIGHT_READ)
    flags = to_u32(options, "options", ZX_ERR_NOT_SUPPORTED)
    if flags & ~ZX_CHANNEL_READ_MAY_DISCARD:
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED, f"unknown options {flags & ~ZX_CHANNEL_READ_MAY_DISCARD:#x}"
        )
    max_bytes = to_u32(num_bytes, "num_bytes")
    max_handles = to_u32(num_handles, "num_handles")
    message = channel.read(max_bytes, max_handles, bool(flags & ZX_CHANNEL_READ_MAY_DISCARD))
    return message.data, _install(thread, message.handles)


# Calls.


@syscall
def channel_call(
    thread: Thread,
    handle: object,
    options: object,
    deadline: object,
    wr_bytes: object,
    wr_handles: object,
    rd_num_bytes: object,
    rd_num_handles: object,
) -> tuple[bytes, list[int]]:
    """zx_channel_call: write a request and wait for its reply; return the reply.

    The kernel writes a transaction id of its own into the request's first four bytes.
    The reply is the message that the peer writes back with the same first four bytes.
    `rd_num_bytes` and `rd_num_handles` are the sizes of the caller's reply buffers.

    Checks, in order:
    1. `wr_bytes` is bytes-like (a list of them with ZX_CHANNEL_WRITE_USE_IOVEC),
       `wr_handles` a list or tuple, the reply sizes 32-bit and `deadline` a signed 64-bit
       time -> ZX_ERR_INVALID_ARGS (the fields of zx_channel_call_args_t)
    2. `options` has no bit other than ZX_CHANNEL_WRITE_USE_IOVEC -> ZX_ERR_INVALID_ARGS
    3. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a channel -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_READ and ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED
    4. the request fits the message limits -> ZX_ERR_OUT_OF_RANGE
    5. the request has at least four bytes for the txid -> ZX_ERR_INVALID_ARGS
    6. the request's handles, as for zx_channel_write -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_ACCESS_DENIED, ZX_ERR_NOT_SUPPORTED
    7. the peer is open -> ZX_ERR_PEER_CLOSED
    Then the wait ends with ZX_ERR_TIMED_OUT at the deadline, ZX_ERR_PEER_CLOSED when the
    peer closes, or ZX_ERR_CANCELED when `handle` is closed; a reply larger than the
    buffers fails with ZX_ERR_BUFFER_TOO_SMALL and is dropped.
    """
    values = _handle_values(wr_handles)
    try:
        reply_bytes = to_u32(rd_num_bytes, "rd_num_bytes")
        reply_handles = to_u32(rd_num_handles, "rd_num_handles")
        when = to_deadline(deadline)
        flags = _check_write_options(options)
        channel = get_object(thread, handle, Channel, ZX_RIGHT_READ | ZX_RIGHT_WRITE)
        data = _message_bytes(wr_bytes, bool(flags & ZX_CHANNEL_WRITE_USE_IOVEC))
        _check_handle_count(len(values))
        if len(data) < TXID_SIZE:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"a call request needs at least {TXID_SIZE} bytes for its txid, not {len(data)}",
            )
    except ZxError:
        _close_values(thread, values)
        raise

    request = Message(data, _take_handles(thread, channel, values))
    reply = channel.call(thread, request, when)

    arena = thread.kernel.handle_arena
    if len(reply.data) > reply_bytes or len(reply.handles) > reply_handles:
        size, count = len(reply.data), len(reply.handles)
        reply.discard(arena)
        raise ZxError(
            ZX_ERR_BUFFER_TOO_SMALL,
            f"the reply has {size} bytes and {count} handles; the buffers hold "
            f"{reply_bytes} bytes and {reply_handles} handles",
        )
    return reply.data, _install(thread, reply.handles)
