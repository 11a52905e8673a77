"""Paged VM objects: page-granular memory held in one host `mmap` buffer.

The buffer is an anonymous shared mapping made with MAP_NORESERVE, so a 1 GiB VMO costs
no host memory until its pages are touched, and a CPU engine can map the same buffer
(unicorn's `mem_map_ptr`) and see every write without copies.

Zircon rules followed here (`zircon/kernel/vm/vm_object_paged.cc`, `vm_object.cc`):
- a read or write must lie inside the VMO's size, else ZX_ERR_OUT_OF_RANGE;
- writes commit the pages they touch, reads of untouched pages return zeros and commit
  nothing;
- resizing needs a resizable VMO (ZX_ERR_UNAVAILABLE otherwise); shrinking frees the cut
  pages, so growing again reads zeros;
- sizes above the maximum VMO size are ZX_ERR_OUT_OF_RANGE.

This layer knows nothing about handles or rights. The object layer sets `user_id` (the
koid) and calls `release()` when its last reference goes.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NO_MEMORY,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_UNAVAILABLE,
)
from pyzircon.abi.vm import ZX_CACHE_POLICY_CACHED
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.vm.aspace import VmAspace
    from pyzircon.kernel.vm.vmar import VmMapping

# Linux's MAP_NORESERVE, which Python's mmap module does not export: no swap space is
# reserved, so untouched pages of a large buffer cost nothing.
MAP_NORESERVE: Final = 0x4000

_BUFFER_FLAGS: Final = mmap.MAP_SHARED | mmap.MAP_ANONYMOUS | MAP_NORESERVE

# Zircon's VmObject::MAX_SIZE: UINT64_MAX rounded down to a whole page-list node of
# 16 pages (64 KiB), so page indexes never overflow.
VMO_MAX_SIZE: Final = ((1 << 64) - 1) & ~(16 * PAGE_SIZE - 1)

# Longest name kept, in bytes: ZX_MAX_NAME_LEN (32) less the terminating NUL.
VMO_NAME_MAX_BYTES: Final = 31

# Page maps of at most this many pages are bytearrays. Larger ones live in their own
# anonymous mapping, which the host zero-fills lazily (a bytearray is filled eagerly).
_SMALL_PAGE_MAP_PAGES: Final = 1 << 20

_PAGE_SET: Final = b"\x01"

_live_buffers = 0


def live_buffer_count() -> int:
    """Return how many VMO page buffers are allocated and not yet freed."""
    return _live_buffers


def _allocate_buffer(capacity: int) -> mmap.mmap:
    global _live_buffers
    try:
        buffer = mmap.mmap(-1, capacity, flags=_BUFFER_FLAGS)
    except (OSError, OverflowError, ValueError) as error:
        # DIVERGENCE(zircon): Zircon commits VMO pages lazily from physical memory, so a
        # VMO of any size up to VMO_MAX_SIZE can be created. pyzircon reserves the whole
        # size as host virtual memory at creation, and a size the host cannot reserve
        # fails with ZX_ERR_NO_MEMORY.
        raise ZxError(
            ZX_ERR_NO_MEMORY,
            f"the host cannot reserve {capacity:#x} bytes for a VMO ({error}); use a smaller size",
        ) from None
    _live_buffers += 1
    return buffer


def _free_buffer(buffer: mmap.mmap) -> None:
    global _live_buffers
    buffer.close()
    _live_buffers -= 1


def _allocate_page_map(pages: int) -> bytearray | mmap.mmap:
    if pages <= _SMALL_PAGE_MAP_PAGES:
        return bytearray(pages)
    try:
        return mmap.mmap(-1, pages, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE)
    except (OSError, OverflowError, ValueError) as error:
        raise ZxError(
            ZX_ERR_NO_MEMORY,
            f"the host cannot reserve a page map of {pages} pages for a VMO ({error})",
        ) from None


def _truncate_name(name: str | bytes) -> str:
    raw = name.encode() if isinstance(name, str) else bytes(name)
    raw = raw.split(b"\x00", 1)[0][:VMO_NAME_MAX_BYTES]
    # A cut inside a multi-byte character drops that character.
    return raw.decode(errors="ignore")


def _committed_runs(page_map: bytearray | mmap.mmap, first: int, end: int) -> Iterator[range]:
    """Yield the runs of committed pages in [first, end), one step per run, not per page."""
    position = first
    while position < end:
        start = page_map.find(_PAGE_SET, position, end)
        if start < 0:
            return
        stop = page_map.find(b"\x00", start, end)
        if stop < 0:
            stop = end
        yield range(start, stop)
        position = stop


class VmObjectPaged:
    """A VMO made of anonymous pages: `size` bytes, a page multiple, all zero at first.

    Committed pages are tracked in a page map with one byte per page (1 = committed),
    updated with slice assignment, plus a running count. Mappings register themselves
    with `add_mapping` so that ZX_INFO_VMO and task statistics can count them.
    """

    def __init__(self, size: int, *, resizable: bool) -> None:
        _check_size(size)
        self.size = size
        self.resizable = resizable
        self.user_id = 0
        self._name = ""
        self.cache_policy = ZX_CACHE_POLICY_CACHED
        # An mmap cannot be empty, so a zero-size VMO still reserves one page.
        self._capacity = max(size, PAGE_SIZE)
        self._buffer: mmap.mmap | None = _allocate_buffer(self._capacity)
        self._view = memoryview(self._buffer)
        self._page_map = _allocate_page_map(self._capacity // PAGE_SIZE)
        self._committed_pages = 0
        # An ordered set (dict keys), so listings come out in a reproducible order.
        self._mappings: dict[VmMapping, None] = {}
        # Mappings per address space, so share_count() needs no scan of every mapping.
        self._mappings_per_aspace: dict[VmAspace, int] = {}
        # Kernel references other than mappings, such as a bound restricted-mode state.
        self._holds = 0
        self._released = False
        # Bumped when the buffer is replaced; a CPU engine compares it before reusing
        # a pointer it obtained earlier.
        self.buffer_generation = 0

    def __repr__(self) -> str:
        state = "freed" if self._buffer is None else "live"
        return (
            f"<VmObjectPaged koid={self.user_id} name={self._name!r} size={self.size:#x} "
            f"committed={self.committed_bytes:#x} mappings={len(self._mappings)} {state}>"
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
    def committed_bytes(self) -> int:
        """Bytes of committed (written) pages."""
        return self._committed_pages * PAGE_SIZE

    @property
    def buffer(self) -> mmap.mmap:
        """The host buffer holding the pages, for CPU engines; replaced when it must grow.

        Anyone keeping a pointer into it must drop that pointer when an address space
        listener reports the mapping range unmapped (see `set_size`).
        """
        return self._live_buffer()

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
        """Return the committed bytes in [offset, offset + length), clipped to the size."""
        end = min(offset + length, self.size)
        if offset >= end:
            return 0
        first = offset // PAGE_SIZE
        last = (end + PAGE_SIZE - 1) // PAGE_SIZE
        if first == 0 and last == self.size // PAGE_SIZE:
            return self.committed_bytes
        return self._page_map[first:last].count(_PAGE_SET) * PAGE_SIZE

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
        self._live_buffer()
        return bytes(self._view[offset : offset + length])

    def read_into(self, offset: int, out: memoryview) -> None:
        """Fill `out` (any writable buffer) with bytes from `offset`."""
        target = memoryview(out).cast("B")
        length = target.nbytes
        self._check_range(offset, length, "read")
        self._live_buffer()
        target[:] = self._view[offset : offset + length]

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Store `data` at `offset` and commit the pages it touches."""
        source = memoryview(data).cast("B")
        length = source.nbytes
        self._check_range(offset, length, "write")
        self._live_buffer()
        if length == 0:
            return
        self._view[offset : offset + length] = source
        self.commit_range(offset, length)

    def commit_range(self, offset: int, length: int) -> None:
        """Mark the pages of [offset, offset + length) committed.

        `write` does this itself. A CPU engine that stores into `buffer` directly must
        call it for the pages it dirties: shrinking and buffer moves keep only committed
        pages.
        """
        if length <= 0:
            return
        first = offset // PAGE_SIZE
        last = (offset + length + PAGE_SIZE - 1) // PAGE_SIZE
        newly_committed = self._page_map[first:last].count(b"\x00")
        if newly_committed:
            self._page_map[first:last] = _PAGE_SET * (last - first)
            self._committed_pages += newly_committed

    def _check_range(self, offset: int, length: int, verb: str) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"cannot {verb} {length:#x} bytes at offset {offset:#x}: the VMO is "
                f"{self.size:#x} bytes",
            )

    def _live_buffer(self) -> mmap.mmap:
        if self._buffer is None:
            raise ZxError(ZX_ERR_BAD_STATE, f"{self!r} was released and has no pages")
        return self._buffer

    # Size.

    def set_size(self, new_size: int) -> None:
        """Resize to `new_size` (a page multiple).

        Raises ZX_ERR_UNAVAILABLE for a VMO created without `resizable`,
        ZX_ERR_OUT_OF_RANGE above the maximum VMO size, and ZX_ERR_NO_MEMORY when the
        host cannot back a larger buffer. Shrinking frees and zeroes the cut pages and
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
        self._live_buffer()
        old_size = self.size
        if new_size < old_size:
            self._discard_pages(new_size, old_size)
            self.size = new_size
            for mapping in list(self._mappings):
                mapping.vmo_range_removed(new_size, old_size - new_size)
        elif new_size > self._capacity:
            self._grow_buffer(new_size)
            self.size = new_size
        else:
            self.size = new_size

    def _discard_pages(self, start: int, end: int) -> None:
        """Free the pages of [start, end) and zero them; both ends are page multiples."""
        assert start % PAGE_SIZE == 0 and end % PAGE_SIZE == 0
        first = start // PAGE_SIZE
        last = end // PAGE_SIZE
        committed = self._page_map[first:last].count(_PAGE_SET)
        buffer = self._live_buffer()
        try:
            # Punching a hole frees the host pages and makes them read as zeros. The whole
            # range is punched, committed or not, in case an engine stored there.
            buffer.madvise(mmap.MADV_REMOVE, start, end - start)
        except (AttributeError, OSError, ValueError):
            # A host without MADV_REMOVE (or with pages larger than ours) gets zeros the
            # slow way, which commits the range on the host.
            self._view[start:end] = bytes(end - start)
        self._page_map[first:last] = bytes(last - first)
        self._committed_pages -= committed

    def _grow_buffer(self, new_size: int) -> None:
        new_capacity = max(new_size, 2 * self._capacity)
        try:
            new_buffer = _allocate_buffer(new_capacity)
        except ZxError:
            if new_capacity == new_size:
                raise
            new_capacity = new_size
            new_buffer = _allocate_buffer(new_capacity)
        new_view = memoryview(new_buffer)
        new_page_map = _allocate_page_map(new_capacity // PAGE_SIZE)

        # Copy only committed runs: copying untouched pages would commit host memory.
        for run in _committed_runs(self._page_map, 0, self.size // PAGE_SIZE):
            start = run.start * PAGE_SIZE
            stop = run.stop * PAGE_SIZE
            new_view[start:stop] = self._view[start:stop]
            new_page_map[run.start : run.stop] = _PAGE_SET * len(run)

        # Tell the engines first, while the old buffer is still valid.
        for mapping in list(self._mappings):
            mapping.vmo_buffer_replaced()

        old_buffer = self._live_buffer()
        old_page_map = self._page_map
        self._view.release()
        self._buffer = new_buffer
        self._view = new_view
        self._page_map = new_page_map
        self._capacity = new_capacity
        self.buffer_generation += 1
        _free_buffer(old_buffer)
        if isinstance(old_page_map, mmap.mmap):
            old_page_map.close()

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
        self._free_if_unused()

    def hold(self) -> None:
        """Take a kernel reference that keeps the pages alive, as a mapping does."""
        self._holds += 1

    def drop_hold(self) -> None:
        """Drop a reference taken with `hold`; frees the pages if nothing else uses them."""
        assert self._holds > 0, f"{self!r} dropped a hold it never took"
        self._holds -= 1
        self._free_if_unused()

    def committed_page_runs(self, first: int, end: int) -> Iterator[range]:
        """Yield the runs of committed page indexes in [first, end), one step per run."""
        self._live_buffer()
        return _committed_runs(self._page_map, first, min(end, self.size // PAGE_SIZE))

    def release(self) -> None:
        """Drop the object layer's reference to this VMO.

        The pages are freed at once if no mapping uses them, else when the last mapping
        goes, as a Zircon mapping keeps its VMO alive.
        """
        self._released = True
        self._free_if_unused()

    def _free_if_unused(self) -> None:
        if not self._released or self._mappings or self._holds or self._buffer is None:
            return
        self._view.release()
        _free_buffer(self._buffer)
        self._buffer = None
        if isinstance(self._page_map, mmap.mmap):
            self._page_map.close()
        self._page_map = bytearray()
        self._committed_pages = 0


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
