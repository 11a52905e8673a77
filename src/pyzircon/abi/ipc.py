"""Waits, ports and channels: options, packet types and records.

Values from `zircon/syscalls/port.h`, `zircon/types.h` and `zircon/syscalls/object.h`.
The channel and wait-many limits live in `abi/task.py`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

# zx_channel_read options.
ZX_CHANNEL_READ_MAY_DISCARD: Final = 1 << 0
# zx_channel_write and zx_channel_call options: the bytes argument is a list of buffers
# (zx_channel_iovec_t in C) whose contents are joined into one message.
ZX_CHANNEL_WRITE_USE_IOVEC: Final = 1 << 1

# zx_port_create options.
ZX_PORT_BIND_TO_INTERRUPT: Final = 1 << 0

# zx_object_wait_async options. ZX_WAIT_ASYNC_ONCE is the old name of 0.
ZX_WAIT_ASYNC_ONCE: Final = 0
ZX_WAIT_ASYNC_TIMESTAMP: Final = 1 << 0
ZX_WAIT_ASYNC_EDGE: Final = 1 << 1
ZX_WAIT_ASYNC_BOOT_TIMESTAMP: Final = 1 << 2

# zx_port_packet_t.type values.
ZX_PKT_TYPE_USER: Final = 0x00
ZX_PKT_TYPE_SIGNAL_ONE: Final = 0x01
ZX_PKT_TYPE_GUEST_BELL: Final = 0x03
ZX_PKT_TYPE_GUEST_MEM: Final = 0x04
ZX_PKT_TYPE_GUEST_IO: Final = 0x05
ZX_PKT_TYPE_GUEST_VCPU: Final = 0x06
ZX_PKT_TYPE_INTERRUPT: Final = 0x07
ZX_PKT_TYPE_PAGE_REQUEST: Final = 0x09

# The size of the union at the end of zx_port_packet_t.
PORT_PACKET_PAYLOAD_SIZE: Final = 32

# zx_packet_signal_t: trigger and observed (uint32), count, timestamp and reserved1 (64 bit).
_SIGNAL_LAYOUT: Final = struct.Struct("<IIQqQ")


@dataclass(frozen=True, slots=True)
class PacketSignal:
    """zx_packet_signal_t: the payload of a ZX_PKT_TYPE_SIGNAL_ONE packet.

    `timestamp` is 0 unless the wait asked for ZX_WAIT_ASYNC_TIMESTAMP or
    ZX_WAIT_ASYNC_BOOT_TIMESTAMP. `count` is always 1, as on Zircon.
    """

    trigger: int
    observed: int
    count: int
    timestamp: int
    reserved1: int = 0

    def to_bytes(self) -> bytes:
        return _SIGNAL_LAYOUT.pack(
            self.trigger, self.observed, self.count, self.timestamp, self.reserved1
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PacketSignal:
        return cls(*_SIGNAL_LAYOUT.unpack_from(data))


@dataclass(frozen=True, slots=True)
class PortPacket:
    """zx_port_packet_t: `key`, `type`, `status` and the 32-byte payload union.

    `data` holds the union's bytes; a shorter value is padded with zeros. Read a user
    packet's payload as `data` (the C `user.c8`) and a signal packet's as `signal`.
    """

    key: int
    type: int
    status: int
    data: bytes = bytes(PORT_PACKET_PAYLOAD_SIZE)

    def __post_init__(self) -> None:
        if len(self.data) < PORT_PACKET_PAYLOAD_SIZE:
            padded = bytes(self.data) + bytes(PORT_PACKET_PAYLOAD_SIZE - len(self.data))
            object.__setattr__(self, "data", padded)

    @property
    def signal(self) -> PacketSignal:
        """The payload read as zx_packet_signal_t."""
        return PacketSignal.from_bytes(self.data)

    @property
    def user(self) -> bytes:
        """The payload read as zx_packet_user_t (32 bytes)."""
        return self.data


@dataclass(frozen=True, slots=True)
class WaitItem:
    """zx_wait_item_t, one entry of zx_object_wait_many: a handle and the signals to wait for.

    zx.object_wait_many returns the pending signals of each item in a list, so `pending`
    is only there to mirror the C struct.
    """

    handle: int
    waitfor: int
    pending: int = 0
