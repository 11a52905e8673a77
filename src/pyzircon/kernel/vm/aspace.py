"""Address spaces: a root VMAR over a range of addresses, with page-fault rules.

Zircon's `VmAspace` (`zircon/kernel/vm/vm_aspace.cc`) owns a root VMAR created with
CAN_MAP_SPECIFIC and every CAN_MAP_* permission. A process owns one user address space,
or, in a shared group, shares one SHARED space and owns one RESTRICTED space; the
member's unified view is composed by the process at lookup time, never built here.

Loads and stores from guest code go through `load` and `store`, which apply the fault
rules: no mapping is ZX_ERR_NOT_FOUND, missing permission is ZX_ERR_ACCESS_DENIED, and a
page past the end of the VMO is ZX_ERR_OUT_OF_RANGE, each raised as `PageFault`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_STATE,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_OUT_OF_RANGE,
    status_name,
)
from pyzircon.abi.vm import (
    ZX_VM_CAN_MAP_EXECUTE,
    ZX_VM_CAN_MAP_READ,
    ZX_VM_CAN_MAP_SPECIFIC,
    ZX_VM_CAN_MAP_WRITE,
    ZX_VM_PERM_READ,
    ZX_VM_PERM_WRITE,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.vmar import VmAddressRegion, VmMapping, VmNode

ROOT_VMAR_FLAGS = (
    ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE
)


class AspaceKind(enum.Enum):
    """The part of a process's addresses that an address space covers."""

    # The whole user range of a process that does not share.
    USER = "user"
    # The upper, shared part of a shared group.
    SHARED = "shared"
    # A member's private, lower part.
    RESTRICTED = "restricted"


class PageFault(Exception):
    """A guest access that the address space cannot satisfy.

    `status` is the status Zircon's fault handler reports: ZX_ERR_NOT_FOUND for no
    mapping, ZX_ERR_ACCESS_DENIED for missing permission, ZX_ERR_OUT_OF_RANGE past the
    end of the VMO.
    """

    def __init__(self, address: int, access: str, status: int, reason: str) -> None:
        super().__init__(
            f"page fault on {access} at {address:#x}: {reason} ({status_name(status)})"
        )
        self.address = address
        self.access = access
        self.status = status
        self.reason = reason


class AspaceListener(Protocol):
    """Something that caches translations, such as a CPU engine, and must hear changes."""

    def on_unmap(self, base: int, size: int) -> None: ...

    def on_protect(self, base: int, size: int, perms: int) -> None: ...

    def on_destroy(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AspaceUsage:
    """Committed memory of an address space, attributed as Zircon's VmAspace does."""

    mapped: int
    private: int
    shared: int
    scaled_shared: Fraction


class VmAspace:
    """An address space covering [base, base + size) with a root VMAR."""

    def __init__(self, base: int, size: int, name: str, kind: AspaceKind) -> None:
        self.base = base
        self.size = size
        self.name = name
        self.kind = kind
        self.root_vmar = VmAddressRegion(self, None, base, size, ROOT_VMAR_FLAGS, "root")
        self._listeners: list[AspaceListener] = []
        # The CPU engine running code in this address space, created by the syscall
        # layer on first use. The VM layer only keeps it and closes it on destroy.
        self.cpu_engine: AspaceListener | None = None

    def __repr__(self) -> str:
        state = "destroyed" if self.is_destroyed else "live"
        return (
            f"<VmAspace {self.name!r} {self.kind.value} "
            f"[{self.base:#x}, {self.base + self.size:#x}) {state}>"
        )

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def is_destroyed(self) -> bool:
        return not self.root_vmar.is_alive

    def contains(self, address: int) -> bool:
        return self.base <= address < self.end

    def destroy(self) -> None:
        """Tear down every VMAR and mapping, then tell the listeners; idempotent."""
        if self.is_destroyed:
            return
        self.root_vmar.destroy()
        for listener in list(self._listeners):
            listener.on_destroy()
        self.cpu_engine = None

    # Listeners.

    def add_listener(self, listener: AspaceListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: AspaceListener) -> None:
        self._listeners.remove(listener)

    def notify_unmap(self, base: int, size: int) -> None:
        for listener in self._listeners:
            listener.on_unmap(base, size)

    def notify_protect(self, base: int, size: int, perms: int) -> None:
        for listener in self._listeners:
            listener.on_protect(base, size, perms)

    # Lookup.

    def find_mapping(self, address: int) -> VmMapping | None:
        """Return the mapping that contains `address`, searching down the VMAR tree."""
        region = self.root_vmar
        while True:
            child = region.child_at(address)
            if child is None:
                return None
            if isinstance(child, VmMapping):
                return child
            assert isinstance(child, VmAddressRegion)
            region = child

    def walk(self) -> Iterator[tuple[int, VmNode]]:
        """Yield (depth, node) for the root VMAR and everything below it, in address order.

        Raises ZX_ERR_BAD_STATE once the address space is destroyed.
        """
        if self.is_destroyed:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} was destroyed")
        return self.root_vmar.walk()

    def mappings(self) -> Iterator[VmMapping]:
        for _depth, node in self.root_vmar.walk():
            if isinstance(node, VmMapping):
                yield node

    def usage(self) -> AspaceUsage:
        """Sum the mapped bytes and split the mapped VMOs' pages into private and shared.

        Each mapping counts the pages its VMO range can see (see
        `VmObjectPaged.attribution`). In a VMO mapped into this address space only, pages
        no other VMO sees are private and pages shared with snapshot relatives are shared,
        scaled by the number of VMOs seeing them. A VMO mapped into several address
        spaces counts as shared, divided once more by that number. As in Zircon's
        VmAspace::GetMemoryUsage, the scaled figure covers shared bytes only: a process
        whose pages are all private reports mem_scaled_shared_bytes of 0.
        """
        mapped = private = shared = 0
        scaled = Fraction(0)
        for mapping in self.mappings():
            mapped += mapping.size
            counts = mapping.vmo.attribution(mapping.vmo_offset, mapping.size)
            share_count = mapping.vmo.share_count()
            if share_count == 1:
                private += counts.private
                shared += counts.total - counts.private
                scaled += counts.scaled - counts.private
            else:
                shared += counts.total
                scaled += counts.scaled / share_count
        return AspaceUsage(mapped, private, shared, scaled)

    # Guest access.

    def load(self, address: int, length: int) -> bytes:
        """Read `length` bytes as guest code would, raising `PageFault` where it faults."""
        parts = [
            mapping.vmo.read(offset, count)
            for mapping, offset, count in self._translate(address, length, "read")
        ]
        return b"".join(parts)

    def store(self, address: int, data: bytes | bytearray | memoryview) -> None:
        """Write `data` as guest code would, raising `PageFault` where it faults.

        Every page is checked before any byte is written, so a faulting store changes
        nothing.
        """
        view = memoryview(data).cast("B")
        pieces = list(self._translate(address, view.nbytes, "write"))
        position = 0
        for mapping, offset, count in pieces:
            mapping.vmo.write(offset, view[position : position + count])
            position += count

    def _translate(
        self, address: int, length: int, access: str
    ) -> Iterator[tuple[VmMapping, int, int]]:
        """Yield (mapping, VMO offset, byte count) pieces covering the access, in order."""
        needed = ZX_VM_PERM_WRITE if access == "write" else ZX_VM_PERM_READ
        pieces: list[tuple[VmMapping, int, int]] = []
        position = address
        end = address + length
        while position < end:
            mapping = self.find_mapping(position)
            if mapping is None:
                raise PageFault(position, access, ZX_ERR_NOT_FOUND, f"no mapping in {self!r}")
            if not mapping.perms & needed:
                raise PageFault(
                    position,
                    access,
                    ZX_ERR_ACCESS_DENIED,
                    f"{mapping!r} does not allow {access}",
                )
            count = min(end, mapping.end) - position
            offset = mapping.vmo_offset_of(position)
            if offset + count > mapping.vmo.size:
                raise PageFault(
                    max(position, mapping.base + mapping.vmo.size - mapping.vmo_offset),
                    access,
                    ZX_ERR_OUT_OF_RANGE,
                    f"{mapping!r} runs past the end of its VMO ({mapping.vmo.size:#x} bytes)",
                )
            pieces.append((mapping, offset, count))
            position += count
        return iter(pieces)
