"""Paged VM objects: VMOs, their snapshot children and slices, and their range operations.

Pages live in copy-on-write nodes (see `pages.py`), each with one host `mmap` buffer made
with MAP_NORESERVE. So a 1 GiB VMO costs no host memory until its pages are touched, and a
CPU engine can map the buffers (unicorn's `mem_map_ptr`) and see every write without
copies. A VMO that is not a slice owns one node; a slice is a window on its parent's node.

Zircon rules followed here (`zircon/kernel/vm/vm_object_paged.cc`, `vm_cow_pages.cc`):
- a read or write must lie inside the VMO's size, else ZX_ERR_OUT_OF_RANGE;
- writes commit the pages they touch, copying a page inherited from a snapshot parent;
  reads of untouched pages return zeros or the parent's bytes and commit nothing;
- resizing needs a resizable VMO (ZX_ERR_UNAVAILABLE otherwise); shrinking frees the cut
  pages, so growing again reads zeros, also in a snapshot child;
- sizes above the maximum VMO size are ZX_ERR_OUT_OF_RANGE;
- a VMO lives while a handle, a mapping or a kernel hold uses it. When it dies, its
  children move to its own parent, as Zircon re-homes them.

This layer knows nothing about handles or rights. The object layer sets `user_id` (the
koid), installs `child_observer`, and calls `release()` when its last handle goes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_UNAVAILABLE,
)
from pyzircon.abi.vm import ZX_CACHE_POLICY_CACHED, ZX_CACHE_POLICY_MASK
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.pages import (
    COMMITTED,
    MAP_NORESERVE,
    Attribution,
    PageSource,
    VmCowPages,
    live_buffer_count,
)

# Every page buffer is allocated through this module attribute (see `pages._new_buffer`),
# so that a test can replace it to make allocations fail.
from pyzircon.kernel.vm.pages import _allocate_buffer as _allocate_buffer  # noqa: E402

if TYPE_CHECKING:
    from pyzircon.kernel.vm.aspace import VmAspace
    from pyzircon.kernel.vm.vmar import VmMapping

__all__ = [
    "MAP_NORESERVE",
    "VMO_MAX_SIZE",
    "VMO_NAME_MAX_BYTES",
    "Attribution",
    "ChildKind",
    "PageSource",
    "VmObjectPaged",
    "live_buffer_count",
]

# Zircon's VmObject::MAX_SIZE: UINT64_MAX rounded down to a whole page-list node of
# 16 pages (64 KiB), so page indexes never overflow.
VMO_MAX_SIZE: Final = ((1 << 64) - 1) & ~(16 * PAGE_SIZE - 1)

# Maximum name length kept, in bytes: ZX_MAX_NAME_LEN (32) less the terminating NUL.
VMO_NAME_MAX_BYTES: Final = 31

_U64_MAX: Final = (1 << 64) - 1


class ChildKind(enum.Enum):
    """Origin of a VMO: zx_vmo_create, a snapshot child, or a slice."""

    ROOT = "root"
    SNAPSHOT = "snapshot"
    SLICE = "slice"


def _truncate_name(name: str | bytes) -> str:
    raw = name.encode() if isinstance(name, str) else bytes(name)
    raw = raw.split(b"\x00", 1)[0][:VMO_NAME_MAX_BYTES]
    # A cut inside a multi-byte character drops that character.
    return raw.decode(errors="ignore")


def _page_floor(value: int) -> int:
    return value // PAGE_SIZE


def _page_ceil(value: int) -> int:
    return (value + PAGE_SIZE - 1) // PAGE_SIZE


class VmObjectPaged:
    """A VMO made of anonymous pages: `size` bytes, a page multiple, all zero at first.

    A root VMO and a snapshot child own a node; a slice reads and writes the window
    [`cow_offset`, `cow_offset` + size) of its parent's node. Mappings register
    themselves with `add_mapping` so that ZX_INFO_VMO and task statistics can count them.
    """

    def __init__(self, size: int, *, resizable: bool) -> None:
        _check_size(size)
        self._setup(VmCowPages(size), 0, None, resizable, ChildKind.ROOT, None)

    def _setup(
        self,
        node: VmCowPages,
        cow_offset: int,
        slice_size: int | None,
        resizable: bool,
        kind: ChildKind,
        parent: VmObjectPaged | None,
    ) -> None:
        self._node = node
        node.users.append(self)
        self.cow_offset = cow_offset
        self._slice_size = slice_size
        self.resizable = resizable
        self.kind = kind
        self.user_id = 0
        self._name = ""
        self.cache_policy = ZX_CACHE_POLICY_CACHED
        # The VMO this one was created from, and the VMOs created from it that still live.
        self.parent = parent
        self._children: list[VmObjectPaged] = []
        # Called when the last child goes; the object layer raises ZX_VMO_ZERO_CHILDREN.
        self.child_observer: Callable[[], None] | None = None
        # An ordered set (dict keys), so listings come out in a reproducible order.
        self._mappings: dict[VmMapping, None] = {}
        # Mappings per address space, so share_count() needs no scan of every mapping.
        self._mappings_per_aspace: dict[VmAspace, int] = {}
        # Kernel references other than mappings, such as a bound restricted-mode state.
        self._holds = 0
        self._released = False
        self._dead = False
        if parent is not None:
            parent._children.append(self)

    def __repr__(self) -> str:
        state = "freed" if self._dead else "live"
        return (
            f"<VmObjectPaged koid={self.user_id} name={self._name!r} {self.kind.value} "
            f"size={self.size:#x} committed={self.committed_bytes:#x} "
            f"mappings={len(self._mappings)} {state}>"
        )

    # Properties.

    @property
    def name(self) -> str:
        """The VMO's name; at most 31 bytes of UTF-8 are kept, as in Zircon."""
        return self._name

    @name.setter
    def name(self, value: str | bytes) -> None:
        self._name = _truncate_name(value)

    @property
    def size(self) -> int:
        """The size in bytes, a page multiple."""
        if self._slice_size is not None:
            return self._slice_size
        return self._node.size

    @property
    def is_slice(self) -> bool:
        return self.kind is ChildKind.SLICE

    @property
    def is_cow_clone(self) -> bool:
        return self.kind is ChildKind.SNAPSHOT

    @property
    def children(self) -> tuple[VmObjectPaged, ...]:
        """The live VMOs created from this one (or re-homed to it), oldest first."""
        return tuple(self._children)

    @property
    def num_children(self) -> int:
        return len(self._children)

    @property
    def committed_bytes(self) -> int:
        """Bytes of pages this VMO's node owns in its window (inherited pages excluded)."""
        if self._dead:
            return 0
        if self._slice_size is None:
            return self._node.committed_pages * PAGE_SIZE
        return self.committed_bytes_in_range(0, self.size)

    @property
    def buffer(self) -> object:
        """The host buffer of this VMO's own node (for tests and tools; engines use sources)."""
        self._check_alive()
        return self._node.buffer

    @property
    def buffer_generation(self) -> int:
        """Bumped when the node's buffer is replaced or its pages move to a hidden node."""
        return self._node.buffer_generation

    @property
    def is_released(self) -> bool:
        """Whether the object layer has dropped its reference."""
        return self._released

    @property
    def mappings(self) -> tuple[VmMapping, ...]:
        """The live mappings of this VMO, oldest first."""
        return tuple(self._mappings)

    @property
    def num_mappings(self) -> int:
        return len(self._mappings)

    def share_count(self) -> int:
        """Return the number of distinct address spaces mapping this VMO (at least 1).

        Zircon's VmObject::share_count: attribution divides a VMO's pages among them.
        """
        return max(1, len(self._mappings_per_aspace))

    def committed_bytes_in_range(self, offset: int, length: int) -> int:
        """Return this VMO's own committed bytes in [offset, offset + length), clipped."""
        end = min(offset + length, self.size)
        if offset >= end or self._dead:
            return 0
        first = _page_floor(offset + self.cow_offset)
        last = _page_ceil(end + self.cow_offset)
        node = self._node
        if self._slice_size is None and first == 0 and last == node.size_pages:
            return node.committed_pages * PAGE_SIZE
        return node.count_state(COMMITTED, first, last) * PAGE_SIZE

    def committed_page_runs(self, first: int, end: int) -> Iterator[range]:
        """Yield runs of page indexes in [first, end) that this VMO's node owns."""
        self._check_alive()
        shift = self.cow_offset // PAGE_SIZE
        end = min(end, self.size // PAGE_SIZE)
        for start, stop in self._node.state_runs(COMMITTED, first + shift, end + shift):
            yield range(start - shift, stop - shift)

    def attribution(self, offset: int, length: int) -> Attribution:
        """Return the memory attributed to [offset, offset + length) of this VMO.

        Slices are attributed nothing: their pages count for the VMO that owns them, as in
        Zircon.
        """
        end = min(offset + length, self.size)
        if self._slice_size is not None or offset >= end or self._dead:
            return Attribution(0, 0, Fraction(0))
        return self._node.attribution(_page_floor(offset), _page_ceil(end))

    def metadata_bytes(self) -> int:
        if self._slice_size is not None or self._dead:
            return 0
        return self._node.metadata_bytes()

    # Data.

    def read(self, offset: int, length: int, *, trim: bool = False) -> bytes:
        """Return `length` bytes from `offset`; ZX_ERR_OUT_OF_RANGE past the size.

        With `trim`, a range running past the size is cut at the size instead (an empty
        result when `offset` is at or past it), as Zircon's TrimLength read option does.
        """
        if trim and offset + length > self.size:
            length = max(0, self.size - offset)
            offset = min(offset, self.size)
        self._check_range(offset, length, "read")
        self._check_alive()
        node = self._node
        start = offset + self.cow_offset
        if node.parent is None:
            return bytes(node.buffer[start : start + length])
        out = bytearray(length)
        node.read_into(start, memoryview(out))
        return bytes(out)

    def read_into(self, offset: int, out: memoryview) -> None:
        """Fill `out` (any writable buffer) with bytes from `offset`."""
        target = memoryview(out).cast("B")
        self._check_range(offset, target.nbytes, "read")
        self._check_alive()
        self._node.read_into(offset + self.cow_offset, target)

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Store `data` at `offset`, committing (and unsharing) the pages it touches."""
        source = memoryview(data).cast("B")
        length = source.nbytes
        self._check_range(offset, length, "write")
        self._check_alive()
        if length == 0:
            return
        node = self._node
        moved = node.write(offset + self.cow_offset, source)
        for start, stop in moved:
            node.notify_changed(start, stop)

    def commit_range(self, offset: int, length: int) -> None:
        """Commit the pages of [offset, offset + length), copying inherited content.

        `write` does this itself. A CPU engine that stores into a node's buffer directly
        must call it for the pages it dirties: shrinking and buffer moves keep only
        committed pages. Mappings hear about every page whose bytes moved to this VMO's
        own buffer, so engines map it again.
        """
        if length <= 0:
            return
        self._check_alive()
        node = self._node
        first = _page_floor(offset + self.cow_offset)
        end = _page_ceil(offset + length + self.cow_offset)
        for start, stop in node.own_pages(first, end):
            node.notify_changed(start, stop)

    def page_sources(self, offset: int, length: int) -> list[PageSource]:
        """Return where each run of [offset, offset + length) is read from, for CPU engines.

        Offsets in the result are VMO offsets. A run that is not `owned` belongs to a
        snapshot ancestor and must be mapped read-only.
        """
        self._check_alive()
        shift = self.cow_offset
        first = _page_floor(offset + shift)
        end = _page_ceil(offset + length + shift)
        return [
            PageSource(
                source.offset - shift,
                source.length,
                source.buffer,
                source.buffer_offset,
                source.owned,
            )  # fmt: skip
            for source in self._node.page_sources(first, end)
        ]

    def _check_range(self, offset: int, length: int, verb: str) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"cannot {verb} {length:#x} bytes at offset {offset:#x}: the VMO is "
                f"{self.size:#x} bytes",
            )

    def _check_alive(self) -> None:
        if self._dead:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} was released and has no pages")

    # Range operations (zx_vmo_op_range).

    def check_page_range(self, offset: int, length: int) -> tuple[int, int]:
        """Round [offset, offset + length) out to pages; return (start, end) in bytes.

        Raises ZX_ERR_OUT_OF_RANGE when the range overflows 64 bits, before or after
        rounding, or runs past the size.
        """
        end = offset + length
        if end > _U64_MAX or _page_ceil(end) * PAGE_SIZE > _U64_MAX:
            raise ZxError(ZX_ERR_OUT_OF_RANGE, f"range {offset:#x}+{length:#x} overflows")
        start_byte = _page_floor(offset) * PAGE_SIZE
        end_byte = _page_ceil(end) * PAGE_SIZE
        if end_byte > self.size:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"range {offset:#x}+{length:#x} runs past the VMO's size {self.size:#x}",
            )
        return start_byte, end_byte

    def commit(self, offset: int, length: int) -> None:
        """ZX_VMO_OP_COMMIT: commit whole pages covering [offset, offset + length).

        Raises ZX_ERR_OUT_OF_RANGE as `check_page_range` does. In a snapshot child the
        committed pages receive the parent's bytes.
        """
        start, end = self.check_page_range(offset, length)
        self.commit_range(start, end - start)

    def decommit(self, offset: int, length: int) -> None:
        """ZX_VMO_OP_DECOMMIT: free the pages of [offset, offset + length); they read zeros.

        Raises, in Zircon's order: ZX_ERR_OUT_OF_RANGE for a range past the size,
        ZX_ERR_NOT_SUPPORTED for a VMO whose node has a parent (a snapshot child, or a VMO
        with snapshot children), ZX_ERR_INVALID_ARGS for a range that is not page-aligned.
        An empty range in bounds succeeds at once.
        """
        self._check_range_op(offset, length)
        if length == 0:
            return
        self._check_alive()
        node = self._node
        if node.parent is not None:
            raise ZxError(
                ZX_ERR_NOT_SUPPORTED,
                f"{self!r} shares pages with a snapshot; only ZX_VMO_OP_ZERO can clear them",
            )
        if offset % PAGE_SIZE or length % PAGE_SIZE:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"decommit range {offset:#x}+{length:#x} is not page-aligned",
            )
        first = _page_floor(offset + self.cow_offset)
        end = first + length // PAGE_SIZE
        node.discard(first, end)
        node.notify_changed(first, end)

    def zero(self, offset: int, length: int) -> None:
        """ZX_VMO_OP_ZERO: make [offset, offset + length) read as zeros.

        Whole pages are freed (and hide inherited pages); partial pages are written with
        zeros unless they already read as zeros. Raises ZX_ERR_OUT_OF_RANGE for a range
        past the size.
        """
        self._check_range_op(offset, length)
        if length == 0:
            return
        self._check_alive()
        node = self._node
        end = offset + length
        first_full = _page_ceil(offset)
        end_full = _page_floor(end)
        if first_full >= end_full:
            self._zero_partial(offset, end)
            return
        if offset < first_full * PAGE_SIZE:
            self._zero_partial(offset, first_full * PAGE_SIZE)
        shift = self.cow_offset // PAGE_SIZE
        node.zero(first_full + shift, end_full + shift)
        node.notify_changed(first_full + shift, end_full + shift)
        if node.parent is not None:
            node.parent.collect_garbage()
        if end_full * PAGE_SIZE < end:
            self._zero_partial(end_full * PAGE_SIZE, end)

    def _zero_partial(self, start: int, end: int) -> None:
        """Zero [start, end), which lies inside one page, unless that page reads zeros."""
        if start >= end:
            return
        page = _page_floor(start + self.cow_offset)
        if self._node.reads_zero(page):
            return
        self.write(start, bytes(end - start))

    def _check_range_op(self, offset: int, length: int) -> None:
        if offset + length > _U64_MAX or offset + length > self.size:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"range {offset:#x}+{length:#x} runs past the VMO's size {self.size:#x}",
            )

    def check_cache_range(self, offset: int, length: int) -> None:
        """Check a cache operation's range: ZX_ERR_INVALID_ARGS when empty, else bounds."""
        if length == 0:
            raise ZxError(ZX_ERR_INVALID_ARGS, "a cache operation needs a non-empty range")
        self._check_range_op(offset, length)

    def set_cache_policy(self, policy: int) -> None:
        """Set the cache policy used by mappings made later.

        Raises ZX_ERR_INVALID_ARGS for a value outside ZX_CACHE_POLICY_MASK, and
        ZX_ERR_BAD_STATE while the VMO is mapped, has children or is a child.
        """
        if policy & ~ZX_CACHE_POLICY_MASK:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"cache policy {policy:#x} is not valid")
        if self._mappings:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} is mapped; unmap it first")
        if self._children:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} has children")
        if self.parent is not None:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} is a child of another VMO")
        self.cache_policy = policy

    # Size.

    def set_size(self, new_size: int) -> None:
        """Resize to `new_size` (a page multiple).

        Raises ZX_ERR_UNAVAILABLE for a VMO created without `resizable`,
        ZX_ERR_OUT_OF_RANGE above the maximum VMO size, ZX_ERR_INVALID_ARGS when the new
        end, counted from the start of the root VMO, passes 2**64, and ZX_ERR_NO_MEMORY
        when the host cannot back a larger buffer. Shrinking frees and zeroes the cut pages and
        reports them unmapped to the listeners of every address space mapping them.
        Growing past the buffer's capacity moves the pages to a new buffer and reports
        every mapping of this VMO unmapped, so engines drop pointers into the old one.
        """
        if not self.resizable:
            raise ZxError(
                ZX_ERR_UNAVAILABLE,
                f"{self!r} was created without ZX_VMO_RESIZABLE and cannot change size",
            )
        _check_size(new_size)
        self._check_alive()
        # Only a root or snapshot VMO can be resizable, so it is the node's only user.
        assert self._slice_size is None
        assert self._node.users == [self]
        node = self._node
        if _root_offset(node) + new_size > _U64_MAX:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"size {new_size:#x} at root offset {_root_offset(node):#x} overflows 64 bits",
            )
        old_size = node.size
        if new_size < old_size:
            node.shrink(new_size)
            for mapping in list(self._mappings):
                mapping.vmo_range_removed(new_size, old_size - new_size)
        elif node.grow(new_size):
            node.notify_buffer_replaced()

    # Children.

    def create_snapshot(self, offset: int, size: int, *, resizable: bool) -> VmObjectPaged:
        """Create a snapshot child seeing [offset, offset + size) of this VMO.

        Both sides then diverge page by page: a write by either copies only the page it
        writes. Pages past this VMO's current size read as zeros in the child.
        Raises, in Zircon's order: ZX_ERR_INVALID_ARGS for an unaligned offset,
        ZX_ERR_OUT_OF_RANGE for a size above the maximum, ZX_ERR_BAD_STATE for a VMO
        that is not cached, ZX_ERR_INVALID_ARGS when offset and size overflow 64 bits,
        ZX_ERR_NOT_SUPPORTED for a slice.
        """
        if offset % PAGE_SIZE:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"child offset {offset:#x} is not page-aligned")
        if size > VMO_MAX_SIZE:
            raise ZxError(ZX_ERR_OUT_OF_RANGE, f"child size {size:#x} is above the maximum")
        if self.cow_offset + offset > _U64_MAX:
            raise ZxError(ZX_ERR_OUT_OF_RANGE, f"child offset {offset:#x} overflows")
        self._check_alive()
        if self.cache_policy != ZX_CACHE_POLICY_CACHED:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} is not cached, so it cannot have a snapshot")
        if _root_offset(self._node) + self.cow_offset + offset + size > _U64_MAX:
            raise ZxError(
                ZX_ERR_INVALID_ARGS, f"child range {offset:#x}+{size:#x} overflows 64 bits"
            )
        if self.is_slice:
            raise ZxError(
                ZX_ERR_NOT_SUPPORTED,
                "a snapshot of a slice is not supported, as in Zircon without a pager",
            )
        node = self._node
        parent, parent_offset, limit = _snapshot_parent(node, offset, size)
        child_node = VmCowPages(size)
        if parent is node:
            try:
                parent = node.become_child_of_hidden()
            except ZxError:
                child_node.detach()
                raise
            # The pages moved to the hidden node: every mapping must map them again.
            node.notify_buffer_replaced()
        parent.add_child(child_node, parent_offset, limit)
        child = VmObjectPaged.__new__(VmObjectPaged)
        child._setup(child_node, 0, None, resizable, ChildKind.SNAPSHOT, self)
        return child

    def create_slice(self, offset: int, size: int) -> VmObjectPaged:
        """Create a slice: a window of [offset, offset + size) that aliases this VMO.

        Raises, in Zircon's order: ZX_ERR_INVALID_ARGS for an unaligned offset,
        ZX_ERR_OUT_OF_RANGE for a size above the maximum, ZX_ERR_INVALID_ARGS for a range
        not inside this VMO, ZX_ERR_NOT_SUPPORTED for a resizable VMO, ZX_ERR_BAD_STATE for
        a VMO that is not cached.
        """
        if offset % PAGE_SIZE:
            raise ZxError(ZX_ERR_INVALID_ARGS, f"slice offset {offset:#x} is not page-aligned")
        if size > VMO_MAX_SIZE:
            raise ZxError(ZX_ERR_OUT_OF_RANGE, f"slice size {size:#x} is above the maximum")
        if offset + size > self.size:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"slice [{offset:#x}, {offset + size:#x}) is not inside {self!r}",
            )
        if self.resizable:
            raise ZxError(ZX_ERR_NOT_SUPPORTED, f"{self!r} is resizable and cannot be sliced")
        self._check_alive()
        if self.cache_policy != ZX_CACHE_POLICY_CACHED:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} is not cached and cannot be sliced")
        child = VmObjectPaged.__new__(VmObjectPaged)
        child._setup(self._node, self.cow_offset + offset, size, False, ChildKind.SLICE, self)
        child.cache_policy = self.cache_policy
        return child

    # Changes reported by the node.

    def node_range_changed(self, start: int, end: int) -> None:
        """Report node bytes [start, end) moved to the mappings that show them."""
        low = max(start, self.cow_offset) - self.cow_offset
        high = min(end, self.cow_offset + self.size) - self.cow_offset
        if low >= high:
            return
        for mapping in list(self._mappings):
            mapping.vmo_range_removed(low, high - low)

    def node_buffer_replaced(self) -> None:
        for mapping in list(self._mappings):
            mapping.vmo_buffer_replaced()

    # Mappings and lifetime.

    def add_mapping(self, mapping: VmMapping) -> None:
        """Register a mapping that uses this VMO (called by the VMAR layer)."""
        assert mapping not in self._mappings, f"{mapping!r} registered twice"
        self._mappings[mapping] = None
        aspace = mapping.aspace
        self._mappings_per_aspace[aspace] = self._mappings_per_aspace.get(aspace, 0) + 1

    def remove_mapping(self, mapping: VmMapping) -> None:
        """Unregister a mapping; frees the pages if the VMO was released and unused."""
        del self._mappings[mapping]
        aspace = mapping.aspace
        remaining = self._mappings_per_aspace[aspace] - 1
        if remaining:
            self._mappings_per_aspace[aspace] = remaining
        else:
            del self._mappings_per_aspace[aspace]
        self._die_if_unused()

    def hold(self) -> None:
        """Take a kernel reference that keeps the pages alive, as a mapping does."""
        self._holds += 1

    def drop_hold(self) -> None:
        """Drop a reference taken with `hold`; frees the pages if nothing else uses them."""
        assert self._holds > 0, f"{self!r} dropped a hold it never took"
        self._holds -= 1
        self._die_if_unused()

    def release(self) -> None:
        """Drop the object layer's reference to this VMO.

        The pages are freed at once if no mapping uses them, else when the last mapping
        goes, as a Zircon mapping keeps its VMO alive.
        """
        self._released = True
        self._die_if_unused()

    def _die_if_unused(self) -> None:
        if not self._released or self._mappings or self._holds or self._dead:
            return
        self._dead = True
        node = self._node
        node.users.remove(self)
        if not node.users:
            node.detach()
        parent = self.parent
        self.parent = None
        children = self._children
        self._children = []
        for child in children:
            child.parent = parent
            if parent is not None:
                parent._children.append(child)
        if parent is not None:
            parent._child_gone(self)

    def _child_gone(self, child: VmObjectPaged) -> None:
        self._children.remove(child)
        if not self._children and self.child_observer is not None:
            self.child_observer()


def _snapshot_parent(node: VmCowPages, offset: int, size: int) -> tuple[VmCowPages, int, int]:
    """Find where a snapshot of [offset, offset + size) of `node` hangs in the tree.

    Returns (parent node, offset in it, limit). The snapshot sees `node` only up to its
    current size. When `node` owns nothing in that window and already reads it from a
    hidden parent, the snapshot hangs directly below that hidden node (or higher),
    translating the window, as Zircon's FindParentAndRangeForCloneLocked does. A result
    of `node` itself means a new hidden node must be made.
    """
    limit = max(0, min(size, node.size - offset))
    candidate = node
    while True:
        above = candidate.parent
        if above is None or not above.hidden:
            break
        if limit > 0 and candidate.owns_any(_page_floor(offset), _page_ceil(offset + limit)):
            break
        limit = max(0, min(limit, candidate.parent_limit - offset))
        offset += candidate.parent_offset
        candidate = above
    return candidate, offset, limit


def _root_offset(node: VmCowPages) -> int:
    """Return where `node`'s offset 0 lies in the root of its tree."""
    offset = 0
    while node.parent is not None:
        offset += node.parent_offset
        node = node.parent
    return offset


def _check_size(size: int) -> None:
    if size < 0 or size > VMO_MAX_SIZE:
        raise ZxError(
            ZX_ERR_OUT_OF_RANGE,
            f"VMO size {size:#x} is above the maximum VMO size {VMO_MAX_SIZE:#x}",
        )
    if size % PAGE_SIZE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"VMO size {size:#x} is not a multiple of the page size; round it up first",
        )
