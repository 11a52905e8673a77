"""Port syscalls: port_create, port_queue, port_wait, port_cancel.

Packets are `zx.PortPacket` records. Asynchronous waits that feed a port are made with
zx.object_wait_async (syscalls/wait.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.ipc import (
    PORT_PACKET_PAYLOAD_SIZE,
    ZX_PKT_TYPE_USER,
    ZX_PORT_BIND_TO_INTERRUPT,
    PortPacket,
)
from pyzircon.abi.policy import ZX_POL_NEW_PORT
from pyzircon.abi.rights import ZX_RIGHT_READ, ZX_RIGHT_WAIT, ZX_RIGHT_WRITE
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_SUPPORTED
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.port import Port
from pyzircon.syscalls.clock import to_deadline
from pyzircon.syscalls.common import (
    add_handle,
    check_rights,
    enforce_policy,
    get_handle,
    get_object,
    syscall,
    to_bytes,
    to_int,
    to_u32,
    to_u64,
)

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1


@syscall
def port_create(thread: Thread, options: object) -> int:
    """zx_port_create: create a port.

    Checks, in order:
    1. the caller's ZX_POL_NEW_PORT policy -> ZX_ERR_ACCESS_DENIED
    2. `options` is 0 or ZX_PORT_BIND_TO_INTERRUPT -> ZX_ERR_INVALID_ARGS
    """
    enforce_policy(thread, ZX_POL_NEW_PORT)
    flags = to_u32(options, "options")
    if flags not in (0, ZX_PORT_BIND_TO_INTERRUPT):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"options must be 0 or ZX_PORT_BIND_TO_INTERRUPT, not {flags:#x}"
        )
    port = Port(thread.kernel, flags)
    return add_handle(thread, port, Port.default_rights)


def _user_packet(packet: object) -> PortPacket:
    """Copy a packet as port_queue reads it: the type becomes ZX_PKT_TYPE_USER."""
    if not isinstance(packet, PortPacket):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"packet must be a zx.PortPacket, not {type(packet).__name__}"
        )
    key = to_u64(packet.key, "packet.key")
    status = to_int(packet.status, "packet.status", _I32_MIN, _I32_MAX, ZX_ERR_INVALID_ARGS)
    data = bytes(to_bytes(packet.data, "packet.data"))
    if len(data) > PORT_PACKET_PAYLOAD_SIZE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"packet.data has {len(data)} bytes; a packet holds {PORT_PACKET_PAYLOAD_SIZE}",
        )
    return PortPacket(key=key, type=ZX_PKT_TYPE_USER, status=status, data=data)


@syscall
def port_queue(thread: Thread, handle: object, packet: object) -> None:
    """zx_port_queue: queue a user packet; its `type` becomes ZX_PKT_TYPE_USER.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a port -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED
    2. `packet` is a zx.PortPacket with a 64-bit key, a 32-bit status and at most 32
       bytes of data -> ZX_ERR_INVALID_ARGS
    3. the port has room: at most 4096 user packets are queued -> ZX_ERR_SHOULD_WAIT
    """
    port = get_object(thread, handle, Port, ZX_RIGHT_WRITE)
    port.queue_user(_user_packet(packet))


@syscall
def port_wait(thread: Thread, handle: object, deadline: object) -> PortPacket:
    """zx_port_wait: take the oldest packet, waiting for one until `deadline`.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a port -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_READ -> ZX_ERR_ACCESS_DENIED
    2. `deadline` is a signed 64-bit time -> ZX_ERR_INVALID_ARGS
    Then the wait ends with ZX_ERR_TIMED_OUT when no packet comes before the deadline.
    """
    port = get_object(thread, handle, Port, ZX_RIGHT_READ)
    when = to_deadline(deadline)
    return port.wait(thread, when)


@syscall
def port_cancel(thread: Thread, handle: object, source: object, key: object) -> None:
    """zx_port_cancel: end the asynchronous waits on `source` with `key` and drop their packets.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE, is a port -> ZX_ERR_WRONG_TYPE, and has
       ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED
    2. `source` is valid -> ZX_ERR_BAD_HANDLE and has ZX_RIGHT_WAIT -> ZX_ERR_ACCESS_DENIED
    3. its object can be waited on -> ZX_ERR_NOT_SUPPORTED
    4. `key` is a 64-bit value -> ZX_ERR_INVALID_ARGS
    5. a wait or a queued packet matched -> ZX_ERR_NOT_FOUND
    """
    port = get_object(thread, handle, Port, ZX_RIGHT_WRITE)
    watched = get_handle(thread, source)
    check_rights(watched, ZX_RIGHT_WAIT)
    if not watched.obj.waitable:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"a {watched.obj.type_name} cannot be waited on")
    packet_key = to_u64(key, "key")
    if not port.cancel_waits(watched.obj, watched, packet_key):
        raise ZxError(
            ZX_ERR_NOT_FOUND,
            f"port koid {port.koid} has no wait or packet with key {packet_key:#x} on "
            f"handle {source:#x}",
        )
