"""Handles and handle tables, with Zircon's value encoding.

Every handle lives in one kernel-wide arena of 2^18 slots. A handle's base value is its
slot index plus a 12-bit generation that grows each time the slot is reused, so a stale
value never finds a newer handle. A table shows a handle as
`mixer XOR ((base_value << 2) | 0b11)`: the two low bits are always set and the mixer is
drawn once per table from the kernel's seeded random source. Members of a shared group
use one table, so they see identical values; a handle moved to another table keeps its
base value and shows that table's mixer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyzircon.abi.status import ZX_ERR_NO_MEMORY
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.objects.base import KernelObject

ARENA_SLOT_BITS = 18
ARENA_SLOTS = 1 << ARENA_SLOT_BITS
GENERATION_BITS = 12
HANDLE_RESERVED_BITS = 2
HANDLE_MUST_BE_ONE = 0b11
U32_MASK = 0xFFFF_FFFF


class Handle:
    """A reference to a kernel object with a rights mask, owned by at most one table."""

    __slots__ = ("obj", "rights", "base_value", "owner")

    def __init__(self, obj: KernelObject, rights: int, base_value: int) -> None:
        self.obj = obj
        self.rights = rights
        self.base_value = base_value
        self.owner: HandleTable | None = None

    def __repr__(self) -> str:
        return f"<handle base={self.base_value:#x} rights={self.rights:#x} {self.obj!r}>"


class HandleArena:
    """The kernel-wide store of handles; slots are reused last-freed-first."""

    def __init__(self) -> None:
        self._slots: list[Handle | None] = []
        self._generations: list[int] = []
        self._free: list[int] = []

    def __len__(self) -> int:
        return len(self._slots) - len(self._free)

    def allocate(self, obj: KernelObject, rights: int) -> Handle:
        """Create a handle to `obj`; the object's handle count grows by one."""
        if self._free:
            slot = self._free.pop()
            generation = (self._generations[slot] + 1) & ((1 << GENERATION_BITS) - 1)
            self._generations[slot] = generation
        else:
            slot = len(self._slots)
            if slot >= ARENA_SLOTS:
                raise ZxError(ZX_ERR_NO_MEMORY, f"all {ARENA_SLOTS} kernel handles are in use")
            self._slots.append(None)
            self._generations.append(0)
            generation = 0
        handle = Handle(obj, rights, (generation << ARENA_SLOT_BITS) | slot)
        self._slots[slot] = handle
        obj.on_handle_added()
        return handle

    def lookup(self, base_value: int) -> Handle | None:
        slot = base_value & (ARENA_SLOTS - 1)
        if slot >= len(self._slots):
            return None
        handle = self._slots[slot]
        if handle is None or handle.base_value != base_value:
            return None
        return handle

    def destroy(self, handle: Handle) -> None:
        """Free the handle's slot; the object's handle count drops, which may end the object.

        Waits made through the handle are cancelled first, as Zircon's Handle::Delete does.
        """
        assert handle.owner is None, f"{handle!r} is still in a table"
        slot = handle.base_value & (ARENA_SLOTS - 1)
        assert self._slots[slot] is handle
        handle.obj.cancel(handle)
        self._slots[slot] = None
        self._free.append(slot)
        handle.obj.on_handle_removed()


class HandleTable:
    """The handles a process (or a whole shared group) can name, in insertion order."""

    def __init__(self, arena: HandleArena, koid: int, random_u32: int) -> None:
        self.arena = arena
        self.koid = koid
        # The top two random bits are shifted out, as in Zircon.
        self.mixer = (random_u32 << HANDLE_RESERVED_BITS) & U32_MASK
        # Handles by their value in this table, in insertion order. The value determines
        # the base value, so this is also the arena's view restricted to the table.
        self._handles: dict[int, Handle] = {}

    def __len__(self) -> int:
        return len(self._handles)

    def __iter__(self) -> Iterator[Handle]:
        return iter(list(self._handles.values()))

    def value_of(self, handle: Handle) -> int:
        return self.mixer ^ ((handle.base_value << HANDLE_RESERVED_BITS) | HANDLE_MUST_BE_ONE)

    def add(self, handle: Handle) -> int:
        """Take ownership of `handle` and return its value in this table."""
        assert handle.owner is None, f"{handle!r} already belongs to a table"
        handle.owner = self
        value = self.value_of(handle)
        self._handles[value] = handle
        return value

    def get(self, value: int) -> Handle | None:
        """Return the handle named by `value`, or None when it names nothing in this table.

        A value outside [0, 2**32) names nothing: a zx_handle_t is 32 bits wide, so such a
        value must not alias the handle that its low 32 bits would name.
        """
        # Only values this table handed out are keys, so a value outside [0, 2**32) or
        # without both low bits set finds nothing.
        return self._handles.get(value)

    def detach(self, value: int) -> Handle | None:
        """Remove and return the handle named by `value`, keeping it alive (for a transfer)."""
        handle = self._handles.pop(value, None)
        if handle is None:
            return None
        handle.owner = None
        return handle

    def close(self, value: int) -> bool:
        """Destroy the handle named by `value`; return False when there is none."""
        handle = self.detach(value)
        if handle is None:
            return False
        self.arena.destroy(handle)
        return True

    def clean(self) -> None:
        """Close every handle, oldest first (the last sharer of the table died)."""
        while self._handles:
            value = next(iter(self._handles))
            handle = self._handles.pop(value)
            handle.owner = None
            self.arena.destroy(handle)
