"""Copy-on-write page nodes: the page storage behind VMOs, their snapshots and slices.

This models Zircon's VmCowPages (`zircon/kernel/vm/vm_cow_pages.cc`) for VMOs without a
pager:

- Every VMO that is not a slice owns one node; a slice uses its parent's node through a
  window. A node keeps the pages it owns in one host `mmap` buffer, with one state byte
  per page: EMPTY (read through to the parent), COMMITTED (the node owns the page) or
  ZERO (reads as zeros and hides the parent's page).
- A snapshot turns the snapshotted node into a child of a new hidden node that takes over
  its pages. The snapshot is the hidden node's second child. Hidden nodes never change,
  so a write by either child copies only the page it writes into the writer's own node.
  Memory therefore stays proportional to what is written, and taking the snapshot costs
  no copy at all.
- A child sees its parent at offsets [parent_offset, parent_offset + parent_limit).
  Pages past the limit read as zeros, and a child that shrinks lowers its limit, so
  growing it again reads zeros, never the parent's old data.
- When a hidden node is left with one child, it merges into that child. Pages of a
  hidden node that no visible node can see any more are freed.

Invariant: a node's buffer is zero at every page that is not COMMITTED, so an engine
may map any page of a buffer and read the right zeros.

Every change that moves the source of a visible page (another buffer, or the same page
becoming writable) is reported to the mappings of the VMOs using the node, so CPU
engines drop what they mapped. This module knows nothing about handles or rights.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import ZX_ERR_NO_MEMORY
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.vm.vmo import VmObjectPaged

# Linux's MAP_NORESERVE, which Python's mmap module does not export: no swap space is
# reserved, so untouched pages of a large buffer cost nothing.
MAP_NORESERVE: Final = 0x4000

_BUFFER_FLAGS: Final = mmap.MAP_SHARED | mmap.MAP_ANONYMOUS | MAP_NORESERVE

# Page maps of at most this many pages are bytearrays. Larger ones live in their own
# anonymous mapping, which the host zero-fills lazily (a bytearray is filled eagerly).
_SMALL_PAGE_MAP_PAGES: Final = 1 << 20

# Page states, one byte per page.
EMPTY: Final = 0
COMMITTED: Final = 1
ZERO: Final = 2

_COMMITTED_BYTE: Final = b"\x01"
_EMPTY_RUNS: Final = re.compile(b"\x00+")
_COMMITTED_RUNS: Final = re.compile(b"\x01+")
_ZERO_RUNS: Final = re.compile(b"\x02+")
_UNOWNED_RUNS: Final = re.compile(b"[\x00\x02]+")
_NONEMPTY_RUNS: Final = re.compile(b"[\x01\x02]+")

# Zircon keeps page state in nodes of 16 slots of 8 bytes; ZX_INFO_VMO's metadata_bytes
# is estimated from how many such nodes a page map would need.
_PAGE_LIST_NODE_PAGES: Final = 16
_PAGE_LIST_NODE_BYTES: Final = 16 * 8

_live_buffers = 0


def live_buffer_count() -> int:
    """Return how many page buffers are allocated and not yet freed."""
    return _live_buffers


def _allocate_buffer(capacity: int) -> mmap.mmap:
    global _live_buffers
    try:
        buffer = mmap.mmap(-1, capacity, flags=_BUFFER_FLAGS)
    except (OSError, OverflowError, ValueError) as error:
        # DIVERGENCE(zircon): Zircon commits VMO pages lazily from physical memory, so a
        # VMO of any size up to the maximum VMO size can be created. pyzircon reserves the
        # whole size as host virtual memory, and a size the host cannot reserve fails
        # with ZX_ERR_NO_MEMORY.
        raise ZxError(
            ZX_ERR_NO_MEMORY,
            f"the host cannot reserve {capacity:#x} bytes for a VMO ({error}); use a smaller size",
        ) from None
    _live_buffers += 1
    return buffer


def _new_buffer(capacity: int) -> mmap.mmap:
    """Allocate a page buffer through `pyzircon.kernel.vm.vmo._allocate_buffer`.

    That module attribute is the one allocation point of the VM layer, so that a test can
    replace it to make allocations fail with ZX_ERR_NO_MEMORY.
    """
    from pyzircon.kernel.vm import vmo

    return vmo._allocate_buffer(capacity)


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


# The state bytes each run pattern starts with. `find` looks for them with memchr, which
# skips long stretches of other states far faster than the regular expression engine.
_RUN_STARTS: Final[dict[re.Pattern[bytes], tuple[bytes, ...]]] = {
    _EMPTY_RUNS: (b"\x00",),
    _COMMITTED_RUNS: (b"\x01",),
    _ZERO_RUNS: (b"\x02",),
    _UNOWNED_RUNS: (b"\x00", b"\x02"),
    _NONEMPTY_RUNS: (b"\x01", b"\x02"),
}


def _runs(
    pattern: re.Pattern[bytes], page_map: bytearray | mmap.mmap, first: int, end: int
) -> Iterator[tuple[int, int]]:
    """Yield (start, stop) page runs in [first, end) whose state bytes match `pattern`."""
    starts = _RUN_STARTS[pattern]
    position = first
    while position < end:
        start = -1
        for state in starts:
            found = page_map.find(state, position, end)
            if found >= 0 and (start < 0 or found < start):
                start = found
        if start < 0:
            return
        match = pattern.match(page_map, start, end)
        assert match is not None
        position = match.end()
        yield start, position


def _intersect(runs: list[tuple[int, int]], start: int, stop: int) -> Iterator[tuple[int, int]]:
    """Yield the parts of sorted, disjoint `runs` that lie in [start, stop)."""
    for run_start, run_stop in runs:
        low = max(run_start, start)
        high = min(run_stop, stop)
        if low < high:
            yield low, high


@dataclass(frozen=True, slots=True)
class Attribution:
    """Memory attributed to a VMO range, in bytes, as ZX_INFO_VMO reports it.

    `total` counts every page the VMO can see, own or inherited; `private` the pages no
    other VMO sees; `scaled` divides each page by the number of VMOs that see it.
    """

    total: int
    private: int
    scaled: Fraction


@dataclass(frozen=True, slots=True)
class PageSource:
    """Where the bytes of a run of pages live: `length` bytes at `buffer_offset` of `buffer`.

    `owned` is true when the pages belong to the node asked, so they may become writable.
    Other pages belong to an ancestor and must stay read-only: a store copies them first.
    """

    offset: int
    length: int
    buffer: mmap.mmap
    buffer_offset: int
    owned: bool


class VmCowPages:
    """One node of a copy-on-write tree: the pages one VMO owns, or a hidden node's pages.

    Offsets and sizes in method arguments are page indexes unless a name says bytes.
    `users` lists the visible VMOs reading through this node: its owner first, then the
    slices of it. A hidden node has no users.
    """

    def __init__(self, size: int, *, hidden: bool = False) -> None:
        self.size = size
        self.hidden = hidden
        self.parent: VmCowPages | None = None
        # Where this node's offset 0 lies in the parent, and how many bytes of the parent
        # it can see from there; both page multiples.
        self.parent_offset = 0
        self.parent_limit = 0
        self.children: list[VmCowPages] = []
        self.users: list[VmObjectPaged] = []
        # An mmap cannot be empty, so a zero-size node still reserves one page.
        self._capacity = max(size, PAGE_SIZE)
        buffer = _new_buffer(self._capacity)
        try:
            self._page_map = _allocate_page_map(self._capacity // PAGE_SIZE)
        except ZxError:
            _free_buffer(buffer)
            raise
        self._buffer: mmap.mmap | None = buffer
        self._view = memoryview(buffer)
        self.committed_pages = 0
        # Bumped when the buffer is replaced; a CPU engine compares it before reusing
        # a pointer it obtained earlier.
        self.buffer_generation = 0

    def __repr__(self) -> str:
        kind = "hidden" if self.hidden else "visible"
        return (
            f"<VmCowPages {kind} size={self.size:#x} committed={self.committed_pages} "
            f"children={len(self.children)} parent_offset={self.parent_offset:#x} "
            f"parent_limit={self.parent_limit:#x}>"
        )

    # Buffer access.

    @property
    def is_alive(self) -> bool:
        return self._buffer is not None

    @property
    def buffer(self) -> mmap.mmap:
        """The host buffer holding this node's pages."""
        assert self._buffer is not None, f"{self!r} was freed"
        return self._buffer

    @property
    def size_pages(self) -> int:
        return self.size // PAGE_SIZE

    def state_runs(self, state: int, first: int, end: int) -> Iterator[tuple[int, int]]:
        """Yield the runs of pages in [first, end) that are in `state`."""
        pattern = {EMPTY: _EMPTY_RUNS, COMMITTED: _COMMITTED_RUNS, ZERO: _ZERO_RUNS}[state]
        return _runs(pattern, self._page_map, first, end)

    def count_state(self, state: int, first: int, end: int) -> int:
        if first >= end:
            return 0
        return self._page_map[first:end].count(state)

    def owns_any(self, first: int, end: int) -> bool:
        """Return whether any page in [first, end) is COMMITTED or ZERO."""
        if first >= end:
            return False
        return self._page_map[first:end].count(EMPTY) != end - first

    def metadata_bytes(self) -> int:
        """Return an estimate of Zircon's page-list bytes for this node's non-empty pages."""
        nodes = 0
        last_node = -1
        for start, stop in _runs(_NONEMPTY_RUNS, self._page_map, 0, self.size_pages):
            first_node = start // _PAGE_LIST_NODE_PAGES
            end_node = (stop - 1) // _PAGE_LIST_NODE_PAGES
            nodes += end_node - max(first_node, last_node + 1) + 1
            last_node = end_node
        return nodes * _PAGE_LIST_NODE_BYTES

    # Reading.

    def read_into(self, offset: int, out: memoryview) -> None:
        """Fill `out` with the bytes this node shows at byte `offset`, inherited ones too."""
        length = out.nbytes
        out[:] = self._view[offset : offset + length]
        parent = self.parent
        if parent is None or length == 0:
            return
        first = offset // PAGE_SIZE
        end = min((offset + length + PAGE_SIZE - 1) // PAGE_SIZE, self.parent_limit // PAGE_SIZE)
        for start, stop in _runs(_EMPTY_RUNS, self._page_map, first, end):
            low = max(start * PAGE_SIZE, offset)
            high = min(stop * PAGE_SIZE, offset + length)
            parent.read_into(low + self.parent_offset, out[low - offset : high - offset])

    def page_sources(self, first: int, end: int) -> list[PageSource]:
        """Return where each run of pages in [first, end) is read from, in order.

        Runs from the same buffer at consecutive offsets are merged, so an engine maps
        one region per run.
        """
        sources: list[PageSource] = []
        for source in self._sources(first, end):
            if sources:
                last = sources[-1]
                if (
                    last.buffer is source.buffer
                    and last.owned == source.owned
                    and last.offset + last.length == source.offset
                    and last.buffer_offset + last.length == source.buffer_offset
                ):
                    sources[-1] = PageSource(
                        last.offset, last.length + source.length, last.buffer,
                        last.buffer_offset, last.owned,
                    )  # fmt: skip
                    continue
            sources.append(source)
        return sources

    def _sources(self, first: int, end: int) -> Iterator[PageSource]:
        position = first
        parent = self.parent
        if parent is not None:
            shift = self.parent_offset // PAGE_SIZE
            limit = min(end, self.parent_limit // PAGE_SIZE)
            for start, stop in _runs(_EMPTY_RUNS, self._page_map, first, limit):
                if position < start:
                    yield self._own_source(position, start)
                for source in parent._sources(start + shift, stop + shift):
                    yield PageSource(
                        source.offset - shift * PAGE_SIZE, source.length, source.buffer,
                        source.buffer_offset, False,
                    )  # fmt: skip
                position = stop
        if position < end:
            yield self._own_source(position, end)

    def _own_source(self, first: int, end: int) -> PageSource:
        start = first * PAGE_SIZE
        return PageSource(start, (end - first) * PAGE_SIZE, self.buffer, start, True)

    # Owning pages.

    # NOTE: an ancestor keeps its copy of a page even when the writer was the last VMO to
    # see it; Zircon moves such a page instead. The dead copy costs host memory until the
    # next close, shrink or zero in the tree collects the hidden node's garbage.
    def own_pages(self, first: int, end: int) -> list[tuple[int, int]]:
        """Make every page in [first, end) COMMITTED here, copying inherited content.

        Returns the runs whose bytes came from an ancestor: their source moved, so the
        caller reports them to the mappings. Other newly committed pages were already
        read from this node's own buffer.
        """
        if end - first == 1:
            return self._own_page(first)
        moved: list[tuple[int, int]] = []
        parent = self.parent
        limit = self.parent_limit // PAGE_SIZE
        for start, stop in list(_runs(_UNOWNED_RUNS, self._page_map, first, end)):
            if parent is not None:
                for low, high in _runs(_EMPTY_RUNS, self._page_map, start, min(stop, limit)):
                    target = self._view[low * PAGE_SIZE : high * PAGE_SIZE]
                    parent.read_into(low * PAGE_SIZE + self.parent_offset, target)
                    moved.append((low, high))
            self._page_map[start:stop] = _COMMITTED_BYTE * (stop - start)
            self.committed_pages += stop - start
        return moved

    def _own_page(self, page: int) -> list[tuple[int, int]]:
        """Do what `own_pages` does for the one page `page`, the case of most stores."""
        state = self._page_map[page]
        if state == COMMITTED:
            return []
        self._page_map[page] = COMMITTED
        self.committed_pages += 1
        parent = self.parent
        if state == ZERO or parent is None or page >= self.parent_limit // PAGE_SIZE:
            return []
        start = page * PAGE_SIZE
        parent.read_into(start + self.parent_offset, self._view[start : start + PAGE_SIZE])
        return [(page, page + 1)]

    def write(self, offset: int, data: memoryview) -> list[tuple[int, int]]:
        """Store `data` at byte `offset`; returns the runs whose source moved."""
        length = data.nbytes
        first = offset // PAGE_SIZE
        end = (offset + length + PAGE_SIZE - 1) // PAGE_SIZE
        moved: list[tuple[int, int]] = []
        if self._page_map[first:end].count(COMMITTED) != end - first:
            moved = self.own_pages(first, end)
        self._view[offset : offset + length] = data
        return moved

    def discard(self, first: int, end: int) -> None:
        """Free the pages of [first, end) and make them EMPTY; they read through again."""
        if first >= end:
            return
        committed = self._page_map[first:end].count(COMMITTED)
        start = first * PAGE_SIZE
        length = (end - first) * PAGE_SIZE
        try:
            # Punching a hole frees the host pages and makes them read as zeros. The whole
            # range is punched, committed or not, in case an engine stored there.
            self.buffer.madvise(mmap.MADV_REMOVE, start, length)
        except (AttributeError, OSError, ValueError):
            # A host without MADV_REMOVE (or with pages larger than ours) gets zeros the
            # slow way, which commits the range on the host.
            self._view[start : start + length] = bytes(length)
        self._page_map[first:end] = bytes(end - first)
        self.committed_pages -= committed

    def zero(self, first: int, end: int) -> None:
        """Make [first, end) read as zeros: free own pages, hide inherited ones."""
        self.discard(first, end)
        if self.parent is None:
            return
        limit = min(end, self.parent_limit // PAGE_SIZE)
        if first < limit:
            self._page_map[first:limit] = bytes([ZERO]) * (limit - first)

    def reads_zero(self, page: int) -> bool:
        """Return whether `page` has no content here or in any ancestor."""
        node: VmCowPages | None = self
        while node is not None:
            state = node._page_map[page]
            if state == COMMITTED:
                return False
            if state == ZERO or page >= node.parent_limit // PAGE_SIZE:
                return True
            page += node.parent_offset // PAGE_SIZE
            node = node.parent
        return True

    # Size.

    def shrink(self, new_size: int) -> None:
        """Cut the node to `new_size` bytes; a later grow reads zeros there."""
        self.discard(new_size // PAGE_SIZE, self.size_pages)
        self.size = new_size
        if self.parent is not None and self.parent_limit > new_size:
            self.parent_limit = new_size
            self.parent.collect_garbage()

    def grow(self, new_size: int) -> bool:
        """Extend the node to `new_size` bytes; returns whether the buffer was replaced.

        A larger buffer receives the committed pages and the page states. The new pages
        lie past the parent limit, so they read as zeros.
        """
        if new_size <= self._capacity:
            self.size = new_size
            return False
        new_capacity = max(new_size, 2 * self._capacity)
        try:
            new_buffer = _new_buffer(new_capacity)
        except ZxError:
            if new_capacity == new_size:
                raise
            new_capacity = new_size
            new_buffer = _new_buffer(new_capacity)
        try:
            new_page_map = _allocate_page_map(new_capacity // PAGE_SIZE)
        except ZxError:
            _free_buffer(new_buffer)
            raise
        new_view = memoryview(new_buffer)
        pages = self.size_pages
        # Copy only committed runs: copying untouched pages would commit host memory.
        for start, stop in _runs(_COMMITTED_RUNS, self._page_map, 0, pages):
            new_view[start * PAGE_SIZE : stop * PAGE_SIZE] = self._view[
                start * PAGE_SIZE : stop * PAGE_SIZE
            ]
        new_page_map[0:pages] = self._page_map[0:pages]
        self._replace_buffer(new_buffer, new_view, new_page_map, new_capacity)
        self.size = new_size
        return True

    def _replace_buffer(
        self,
        buffer: mmap.mmap,
        view: memoryview,
        page_map: bytearray | mmap.mmap,
        capacity: int,
    ) -> None:
        old_buffer = self.buffer
        old_page_map = self._page_map
        self._view.release()
        self._buffer = buffer
        self._view = view
        self._page_map = page_map
        self._capacity = capacity
        self.buffer_generation += 1
        _free_buffer(old_buffer)
        if isinstance(old_page_map, mmap.mmap):
            old_page_map.close()

    # Tree changes.

    def add_child(self, child: VmCowPages, offset: int, limit: int) -> None:
        """Hang `child` below this node, seeing [offset, offset + limit) of it."""
        assert child.parent is None, f"{child!r} already has a parent"
        child.parent = self
        child.parent_offset = offset
        child.parent_limit = limit
        self.children.append(child)

    def become_child_of_hidden(self) -> VmCowPages:
        """Move this visible node's pages to a new hidden node and become its child.

        The hidden node takes the buffer, page states and place in the tree; this node
        gets an empty buffer and sees all of the hidden node. Returns the hidden node.
        Raises ZX_ERR_NO_MEMORY, changing nothing, when the host has no room.
        """
        assert not self.hidden
        assert not self.children
        new_buffer = _new_buffer(self._capacity)
        try:
            new_page_map = _allocate_page_map(self._capacity // PAGE_SIZE)
        except ZxError:
            _free_buffer(new_buffer)
            raise
        hidden = VmCowPages.__new__(VmCowPages)
        hidden.size = self.size
        hidden.hidden = True
        hidden.parent = None
        hidden.parent_offset = 0
        hidden.parent_limit = 0
        hidden.children = []
        hidden.users = []
        hidden._capacity = self._capacity
        hidden._buffer = self._buffer
        hidden._view = self._view
        hidden._page_map = self._page_map
        hidden.committed_pages = self.committed_pages
        hidden.buffer_generation = 0

        grandparent = self.parent
        if grandparent is not None:
            index = grandparent.children.index(self)
            grandparent.children[index] = hidden
            hidden.parent = grandparent
            hidden.parent_offset = self.parent_offset
            hidden.parent_limit = self.parent_limit

        self._buffer = new_buffer
        self._view = memoryview(new_buffer)
        self._page_map = new_page_map
        self.committed_pages = 0
        self.buffer_generation += 1
        self.parent = None
        hidden.add_child(self, 0, self.size)
        return hidden

    def detach(self) -> None:
        """Leave the tree and free the pages; a hidden parent may merge or collect."""
        parent = self.parent
        self.parent = None
        self._free()
        if parent is not None:
            parent._child_removed(self)

    def _free(self) -> None:
        if self._buffer is None:
            return
        self._view.release()
        _free_buffer(self._buffer)
        self._buffer = None
        if isinstance(self._page_map, mmap.mmap):
            self._page_map.close()
        self._page_map = bytearray()
        self.committed_pages = 0

    def _child_removed(self, child: VmCowPages) -> None:
        self.children.remove(child)
        if not self.children:
            self.detach()
        elif len(self.children) == 1:
            self._merge_into(self.children[0])
        else:
            self.collect_garbage()

    def _merge_into(self, child: VmCowPages) -> None:
        """Give this hidden node's pages that `child` sees to it, then leave the tree."""
        assert self.hidden and self.children == [child]
        limit = child.parent_limit // PAGE_SIZE
        swapped = self._can_swap_into(child)
        if swapped:
            self._swap_into(child)
        else:
            self._copy_into(child)

        grandparent = self.parent
        child.parent = None
        if grandparent is not None:
            grandparent.children[grandparent.children.index(self)] = child
            child.parent = grandparent
            child.parent_limit = max(
                0, min(child.parent_limit, self.parent_limit - child.parent_offset)
            )
            child.parent_offset += self.parent_offset
        else:
            child.parent_offset = 0
            child.parent_limit = 0
        self.children = []
        self.parent = None
        self._free()
        # The child's inherited pages now come from its own buffer or a new ancestor. After
        # a swap all of its pages live in another buffer.
        child.notify_changed(0, child.size_pages if swapped else limit)
        if grandparent is not None:
            grandparent.collect_garbage()

    def _can_swap_into(self, child: VmCowPages) -> bool:
        """Return whether `child` should take this node's buffer instead of copying from it.

        Swapping copies the child's own pages, so it pays when the child owns fewer pages
        than this node has. It needs the child's pages to line up with this node's.
        """
        return (
            child.parent_offset == 0
            and self._capacity >= child.size
            and child.committed_pages <= self.committed_pages
        )

    def _copy_into(self, child: VmCowPages) -> None:
        """Copy the pages `child` inherits from this node into the child's buffer."""
        shift = child.parent_offset // PAGE_SIZE
        limit = child.parent_limit // PAGE_SIZE
        keep_zero = self.parent is not None
        for start, stop in list(_runs(_EMPTY_RUNS, child._page_map, 0, limit)):
            for low, high in _runs(_COMMITTED_RUNS, self._page_map, start + shift, stop + shift):
                child._view[(low - shift) * PAGE_SIZE : (high - shift) * PAGE_SIZE] = self._view[
                    low * PAGE_SIZE : high * PAGE_SIZE
                ]
                child._page_map[low - shift : high - shift] = _COMMITTED_BYTE * (high - low)
                child.committed_pages += high - low
            if keep_zero:
                for low, high in _runs(_ZERO_RUNS, self._page_map, start + shift, stop + shift):
                    child._page_map[low - shift : high - shift] = bytes([ZERO]) * (high - low)

    def _swap_into(self, child: VmCowPages) -> None:
        """Move the child's own pages into this node's buffer, then swap the two buffers.

        The result is what `_copy_into` gives: the child owns what it owned before, plus
        the pages it inherited from here. Pages past the child's limit, which it never
        saw, are freed first. Buffer bytes of pages that are not COMMITTED stay zero.
        """
        limit = child.parent_limit // PAGE_SIZE
        self.discard(limit, self._capacity // PAGE_SIZE)
        if self.parent is None:
            # ZERO markers hide an ancestor's pages, and the child will have none.
            for start, stop in list(_runs(_ZERO_RUNS, self._page_map, 0, limit)):
                self._page_map[start:stop] = bytes(stop - start)
        for start, stop in list(_runs(_NONEMPTY_RUNS, child._page_map, 0, child.size_pages)):
            # The child owns or hides these pages, so this node's copies are never seen.
            self.discard(start, stop)
            for low, high in _runs(_COMMITTED_RUNS, child._page_map, start, stop):
                self._view[low * PAGE_SIZE : high * PAGE_SIZE] = child._view[
                    low * PAGE_SIZE : high * PAGE_SIZE
                ]
            self._page_map[start:stop] = child._page_map[start:stop]

        capacity_pages = self._capacity // PAGE_SIZE
        self.committed_pages = self._page_map[0:capacity_pages].count(COMMITTED)
        child._buffer, self._buffer = self._buffer, child._buffer
        child._view, self._view = self._view, child._view
        child._page_map, self._page_map = self._page_map, child._page_map
        child._capacity, self._capacity = self._capacity, child._capacity
        child.committed_pages, self.committed_pages = self.committed_pages, child.committed_pages
        child.buffer_generation += 1

    # Reporting changes.

    def notify_changed(self, first: int, end: int) -> None:
        """Report that the source of pages [first, end) moved, to every visible VMO using them.

        A hidden node passes the report down to the children that see those pages.
        """
        if first >= end:
            return
        for user in list(self.users):
            user.node_range_changed(first * PAGE_SIZE, end * PAGE_SIZE)
        for child in self.children:
            shift = child.parent_offset // PAGE_SIZE
            low = max(first - shift, 0)
            high = min(end - shift, child.parent_limit // PAGE_SIZE)
            child.notify_changed(low, high)

    def notify_buffer_replaced(self) -> None:
        for user in list(self.users):
            user.node_buffer_replaced()

    # Sharing and attribution.

    def _viewer_counts(self, first: int, end: int) -> list[tuple[int, int, int]]:
        """Return (start, stop, count) segments of [first, end): visible nodes seeing each page.

        Counts only nodes below this one that read these pages from here: a child that
        owns a page, hides it or cannot reach it does not count.
        """
        events: dict[int, int] = {}
        for child in self.children:
            shift = child.parent_offset // PAGE_SIZE
            low = max(first - shift, 0)
            high = min(end - shift, child.parent_limit // PAGE_SIZE)
            for start, stop in _runs(_EMPTY_RUNS, child._page_map, low, high):
                if child.hidden:
                    for seg_start, seg_stop, count in child._viewer_counts(start, stop):
                        if count:
                            _add_event(events, seg_start + shift, seg_stop + shift, count)
                else:
                    _add_event(events, start + shift, stop + shift, 1)
        segments: list[tuple[int, int, int]] = []
        count = 0
        position = first
        for point in sorted(events):
            if point > position:
                segments.append((position, point, count))
                position = point
            count += events[point]
        if position < end:
            segments.append((position, end, count))
        return segments

    def collect_garbage(self) -> None:
        """Free the pages of this hidden node and its hidden ancestors that nobody sees."""
        node: VmCowPages | None = self
        while node is not None and node.hidden:
            for start, stop in list(_runs(_COMMITTED_RUNS, node._page_map, 0, node.size_pages)):
                for low, high, count in node._viewer_counts(start, stop):
                    if count == 0:
                        node.discard(low, high)
            node = node.parent

    def attribution(self, first: int, end: int) -> Attribution:
        """Return the memory attributed to pages [first, end) of this visible node.

        A page this node owns counts whole and private. A page inherited from a hidden
        ancestor counts 1/n, where n visible nodes see it, and is private when n is 1.
        """
        own = self.count_state(COMMITTED, first, end)
        total = own
        private = own
        scaled = Fraction(own)
        node = self
        windows: list[tuple[int, int]] = []
        if node.parent is not None:
            limit = node.parent_limit // PAGE_SIZE
            windows = list(_runs(_EMPTY_RUNS, node._page_map, first, min(end, limit)))
        while windows and node.parent is not None:
            shift = node.parent_offset // PAGE_SIZE
            parent = node.parent
            windows = [(start + shift, stop + shift) for start, stop in windows]
            next_windows: list[tuple[int, int]] = []
            parent_limit = parent.parent_limit // PAGE_SIZE if parent.parent else 0
            for start, stop in windows:
                for low, high in _runs(_COMMITTED_RUNS, parent._page_map, start, stop):
                    for seg_start, seg_stop, count in parent._viewer_counts(low, high):
                        pages = seg_stop - seg_start
                        total += pages
                        if count <= 1:
                            private += pages
                        scaled += Fraction(pages, max(count, 1))
                if parent.parent is not None:
                    next_windows.extend(
                        _runs(_EMPTY_RUNS, parent._page_map, start, min(stop, parent_limit))
                    )
            windows = next_windows
            node = parent
        return Attribution(total * PAGE_SIZE, private * PAGE_SIZE, scaled * PAGE_SIZE)


def _add_event(events: dict[int, int], start: int, stop: int, count: int) -> None:
    events[start] = events.get(start, 0) + count
    events[stop] = events.get(stop, 0) - count
