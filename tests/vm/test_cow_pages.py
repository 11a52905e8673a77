"""VM-level tests of snapshots and slices: page sharing, the node tree, attribution, lifetime.

These use VmObjectPaged directly. The syscall-level and conformance tests cover statuses;
here the point is the copy-on-write machinery: who owns which page, what each VMO reads,
what engines are told, and that memory is freed when nobody can see it.
"""

from __future__ import annotations

import random
from fractions import Fraction
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.status import (
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.abi.vm import ZX_CACHE_POLICY_UNCACHED, ZX_VM_CAN_MAP_MASK, ZX_VM_PERM_READ
from pyzircon.errors import ZxError
from pyzircon.kernel.vm.aspace import AspaceKind, VmAspace
from pyzircon.kernel.vm.pages import COMMITTED, VmCowPages
from pyzircon.kernel.vm.vmar import Placement
from pyzircon.kernel.vm.vmo import ChildKind, VmObjectPaged, live_buffer_count

P = PAGE_SIZE


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ZxError) as caught:
        call(*args, **kwargs)
    return caught.value.status


def tagged(pages: int, *, resizable: bool = True) -> VmObjectPaged:
    """Return a VMO whose page i starts with the 4-byte tag i + 1."""
    vmo = VmObjectPaged(pages * P, resizable=resizable)
    for index in range(pages):
        vmo.write(index * P, (index + 1).to_bytes(4, "little"))
    return vmo


def tag(vmo: VmObjectPaged, page: int = 0) -> int:
    return int.from_bytes(vmo.read(page * P, 4), "little")


def put(vmo: VmObjectPaged, value: int, page: int = 0) -> None:
    vmo.write(page * P, value.to_bytes(4, "little"))


def scaled_pages(vmo: VmObjectPaged) -> Fraction:
    return vmo.attribution(0, vmo.size).scaled / P


def snapshot(vmo: VmObjectPaged, offset: int, size: int, **kwargs) -> VmObjectPaged:
    return vmo.create_snapshot(offset * P, size * P, resizable=kwargs.get("resizable", False))


class Listener:
    """Records what an address space reports, as a CPU engine would receive it."""

    def __init__(self) -> None:
        self.unmapped: list[tuple[int, int]] = []

    def on_unmap(self, base: int, size: int) -> None:
        self.unmapped.append((base, size))

    def on_protect(self, base: int, size: int, perms: int) -> None:
        pass

    def on_destroy(self) -> None:
        pass


def mapped(vmo: VmObjectPaged, size: int) -> tuple[VmAspace, Listener, int]:
    aspace = VmAspace(0x10_0000, 0x1000 * P, "test", AspaceKind.USER)
    listener = Listener()
    aspace.add_listener(listener)
    mapping = aspace.root_vmar.map(
        0, size, vmo, 0, ZX_VM_PERM_READ | 2, ZX_VM_CAN_MAP_MASK, Placement.ANYWHERE, P
    )
    return aspace, listener, mapping.base


# Sharing and isolation.


def test_snapshot_reads_parent_pages():
    parent = tagged(3)
    child = snapshot(parent, 0, 3)
    assert [tag(child, page) for page in range(3)] == [1, 2, 3]


def test_child_write_leaves_parent():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    put(child, 9)
    assert tag(parent) == 1
    assert tag(child) == 9


def test_parent_write_leaves_child():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    put(parent, 9, 1)
    assert tag(child, 1) == 2
    assert tag(parent, 1) == 9


def test_write_copies_only_that_page():
    parent = tagged(4)
    child = snapshot(parent, 0, 4)
    put(child, 9, 2)
    assert child.committed_bytes == P
    assert [tag(child, page) for page in range(4)] == [1, 2, 9, 4]


def test_snapshot_copies_nothing():
    parent = tagged(8)
    buffers = live_buffer_count()
    child = snapshot(parent, 0, 8)
    # One buffer for the child, one fresh one for the parent; the pages moved, not copied.
    assert live_buffer_count() == buffers + 2
    assert child.committed_bytes == 0
    assert parent.committed_bytes == 0
    assert parent.attribution(0, 8 * P).total == 8 * P


def test_offset_window():
    parent = tagged(4)
    child = snapshot(parent, 1, 2)
    assert [tag(child, page) for page in range(2)] == [2, 3]


def test_window_past_parent_size_reads_zeros():
    parent = tagged(2)
    child = snapshot(parent, 1, 3)
    assert [tag(child, page) for page in range(3)] == [2, 0, 0]


def test_snapshot_beyond_parent_sees_nothing():
    parent = tagged(1)
    child = snapshot(parent, 2, 2)
    assert child.read(0, 2 * P) == bytes(2 * P)
    assert child.attribution(0, 2 * P).total == 0


def test_grandchild_reads_through_both():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    put(child, 7, 1)
    grandchild = snapshot(child, 0, 3)
    assert [tag(grandchild, page) for page in range(3)] == [1, 7, 0]


def test_zero_page_write_into_four_relatives():
    vmos = [VmObjectPaged(P, resizable=False)]
    vmos.append(snapshot(vmos[0], 0, 1))
    vmos.append(snapshot(vmos[0], 0, 1))
    vmos.append(snapshot(vmos[1], 0, 1))
    for index, vmo in enumerate(vmos):
        put(vmo, index + 1)
        for other_index, other in enumerate(vmos):
            expected = other_index + 1 if other_index <= index else 0
            assert tag(other) == expected
            assert scaled_pages(other) == (1 if other_index <= index else 0)


# The node tree.


def test_snapshot_makes_hidden_parent():
    parent = tagged(1)
    child = snapshot(parent, 0, 1)
    hidden = parent._node.parent
    assert hidden is not None and hidden.hidden
    assert hidden.children == [parent._node, child._node]
    assert hidden.committed_pages == 1


def test_second_snapshot_hangs_below_same_hidden_node():
    """A parent that owns nothing in the window reads it from the hidden node: reuse it."""
    parent = tagged(1)
    first = snapshot(parent, 0, 1)
    second = snapshot(parent, 0, 1)
    hidden = parent._node.parent
    assert hidden is not None
    assert hidden.children == [parent._node, first._node, second._node]


def test_snapshot_after_write_makes_new_hidden_node():
    parent = tagged(1)
    snapshot(parent, 0, 1)
    put(parent, 5)
    second = snapshot(parent, 0, 1)
    inner = parent._node.parent
    assert inner is not None and inner.hidden
    assert inner.children == [parent._node, second._node]
    assert inner.parent is not None and inner.parent.hidden
    assert tag(second) == 5


def test_closing_child_merges_hidden_node():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    put(parent, 8, 1)
    child.release()
    assert parent._node.parent is None
    assert parent.committed_bytes == 2 * P
    assert [tag(parent, page) for page in range(2)] == [1, 8]


def test_closing_parent_merges_into_child():
    parent = tagged(2)
    child = snapshot(parent, 1, 1)
    parent.release()
    assert child._node.parent is None
    assert tag(child) == 2
    assert child.committed_bytes == P


def test_merge_drops_pages_outside_window():
    parent = tagged(3)
    buffers = live_buffer_count()
    child = snapshot(parent, 1, 1)
    parent.release()
    # The hidden node and the parent are gone; the child owns just its one page.
    assert live_buffer_count() == buffers
    assert child.committed_bytes == P


@pytest.mark.parametrize("policy", ["copy", "swap"])
def test_merge_keeps_zeroed_page_zero(policy):
    """A page the last child zeroed stays zero when its hidden parent merges into it."""
    parent = tagged(3)
    child = snapshot(parent, 0, 3)
    put(child, 7, 2)
    child.zero(P, P)
    with mock.patch.object(VmCowPages, "_can_swap_into", MERGE_POLICIES[policy]):
        parent.release()
    assert child._node.parent is None
    assert [tag(child, page) for page in range(3)] == [1, 0, 7]
    assert child._node.buffer[P : 2 * P] == bytes(P)


def test_merge_swaps_buffer_of_child_owning_fewer_pages():
    parent = tagged(4)
    child = snapshot(parent, 0, 4)
    hidden = parent._node.parent
    assert hidden is not None
    hidden_buffer = hidden.buffer
    put(child, 9, 3)
    parent.release()
    # The child owned one page, the hidden node four: the child takes the hidden buffer.
    assert child._node.buffer is hidden_buffer
    assert [tag(child, page) for page in range(4)] == [1, 2, 3, 9]
    assert child.committed_bytes == 4 * P


def test_released_family_frees_every_buffer():
    before = live_buffer_count()
    parent = tagged(4)
    children = [snapshot(parent, page, 2) for page in range(3)]
    grandchild = snapshot(children[0], 0, 4)
    for vmo in [children[1], parent, grandchild, children[0], children[2]]:
        vmo.release()
    assert live_buffer_count() == before


def test_garbage_collected_after_close():
    """Pages of a hidden node that no remaining child sees are freed."""
    parent = tagged(3)
    first = snapshot(parent, 0, 3)
    second = snapshot(parent, 0, 1)
    hidden = parent._node.parent
    assert hidden is not None
    put(parent, 9, 2)
    put(first, 9, 2)
    second.release()
    # Page 2 is now written by both remaining relatives: no one reads it from the hidden node.
    assert hidden.count_state(COMMITTED, 2, 3) == 0


def test_shrink_then_grow_reads_zeros_not_parent():
    parent = tagged(4)
    child = snapshot(parent, 0, 4, resizable=True)
    child.set_size(P)
    child.set_size(4 * P)
    assert [tag(child, page) for page in range(4)] == [1, 0, 0, 0]
    assert [tag(parent, page) for page in range(4)] == [1, 2, 3, 4]


def test_parent_shrink_leaves_child():
    parent = tagged(3)
    child = snapshot(parent, 1, 1)
    parent.set_size(0)
    assert tag(child) == 2
    assert scaled_pages(child) == 1
    assert scaled_pages(parent) == 0


def test_parent_shrink_and_grow_over_sibling():
    parent = tagged(4)
    snapshot(parent, 0, 4)
    sibling = snapshot(parent, 2, 1, resizable=True)
    parent.set_size(P)
    parent.set_size(4 * P)
    assert [tag(parent, page) for page in range(4)] == [1, 0, 0, 0]
    assert tag(sibling) == 3


def test_snapshot_of_slice_not_supported():
    parent = tagged(2, resizable=False)
    piece = parent.create_slice(0, P)
    assert _status(piece.create_snapshot, 0, P, resizable=False) == ZX_ERR_NOT_SUPPORTED


def test_snapshot_of_uncached_vmo_bad_state():
    parent = VmObjectPaged(P, resizable=False)
    parent.set_cache_policy(ZX_CACHE_POLICY_UNCACHED)
    assert _status(parent.create_snapshot, 0, P, resizable=False) == ZX_ERR_BAD_STATE


def test_snapshot_unaligned_offset():
    parent = tagged(2)
    assert _status(parent.create_snapshot, 1, P, resizable=False) == ZX_ERR_INVALID_ARGS


# Slices.


def test_slice_aliases_parent():
    parent = tagged(4, resizable=False)
    piece = parent.create_slice(P, 2 * P)
    put(piece, 9, 1)
    assert tag(parent, 2) == 9
    put(parent, 8, 1)
    assert tag(piece) == 8


def test_slice_attributed_nothing():
    parent = tagged(2, resizable=False)
    piece = parent.create_slice(0, 2 * P)
    assert piece.attribution(0, 2 * P).total == 0
    parent.release()
    assert piece.attribution(0, 2 * P).total == 0
    assert tag(piece, 1) == 2


def test_slice_keeps_node_after_parent_release():
    before = live_buffer_count()
    parent = tagged(1, resizable=False)
    piece = parent.create_slice(0, P)
    parent.release()
    assert live_buffer_count() == before + 1
    piece.release()
    assert live_buffer_count() == before


def test_slice_sees_parent_snapshot_changes():
    """A slice shares its parent's node, so it follows the parent, not the snapshot."""
    parent = tagged(1, resizable=False)
    piece = parent.create_slice(0, P)
    child = snapshot(parent, 0, 1)
    put(piece, 6)
    assert tag(parent) == 6
    assert tag(child) == 1


def test_slice_of_resizable_not_supported():
    parent = tagged(1)
    assert _status(parent.create_slice, 0, P) == ZX_ERR_NOT_SUPPORTED


def test_slice_outside_parent():
    parent = tagged(2, resizable=False)
    assert _status(parent.create_slice, P, 2 * P) == ZX_ERR_INVALID_ARGS


# Children lists and lifetime.


def test_children_listed_and_kinds():
    parent = tagged(1, resizable=False)
    child = snapshot(parent, 0, 1)
    piece = parent.create_slice(0, P)
    assert parent.children == (child, piece)
    assert child.kind is ChildKind.SNAPSHOT
    assert piece.kind is ChildKind.SLICE
    assert child.parent is parent


def test_dead_child_leaves_parent_and_notifies():
    parent = tagged(1)
    calls = []
    parent.child_observer = lambda: calls.append("zero")
    child = snapshot(parent, 0, 1)
    child.release()
    assert parent.children == ()
    assert calls == ["zero"]


def test_dead_middle_child_rehomes_grandchild():
    parent = tagged(1, resizable=False)
    calls = []
    parent.child_observer = lambda: calls.append("zero")
    middle = parent.create_slice(0, P)
    grandchild = middle.create_slice(0, P)
    middle.release()
    assert parent.children == (grandchild,)
    assert grandchild.parent is parent
    assert calls == []


def test_mapped_child_outlives_release():
    child_parent = tagged(1)
    child = snapshot(child_parent, 0, 1)
    aspace, _listener, base = mapped(child, P)
    child.release()
    assert aspace.load(base, 4) == (1).to_bytes(4, "little")
    aspace.destroy()
    assert child_parent.children == ()


# What engines hear.


def test_fork_reports_moved_page():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    _aspace, listener, base = mapped(child, 2 * P)
    put(child, 5, 1)
    assert listener.unmapped == [(base + P, P)]


def test_snapshot_reports_parent_mapping():
    parent = tagged(2)
    _aspace, listener, base = mapped(parent, 2 * P)
    snapshot(parent, 0, 2)
    assert listener.unmapped == [(base, 2 * P)]


def test_write_to_owned_page_reports_nothing():
    parent = tagged(1)
    _aspace, listener, _base = mapped(parent, P)
    put(parent, 4)
    assert listener.unmapped == []


def test_page_sources_point_at_owner():
    parent = tagged(3)
    child = snapshot(parent, 0, 3)
    put(child, 9, 1)
    sources = child.page_sources(0, 3 * P)
    assert [(source.offset, source.length, source.owned) for source in sources] == [
        (0, P, False),
        (P, P, True),
        (2 * P, P, False),
    ]
    hidden = parent._node.parent
    assert hidden is not None
    assert sources[0].buffer is hidden.buffer
    assert sources[1].buffer is child._node.buffer


def test_page_sources_merge_runs():
    parent = tagged(3)
    child = snapshot(parent, 0, 3)
    assert [(s.offset, s.length) for s in child.page_sources(0, 3 * P)] == [(0, 3 * P)]


# Range operations at the VM layer.


def test_zero_hides_parent_page():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    child.zero(0, P)
    assert tag(child) == 0
    assert tag(parent) == 1
    assert child.committed_bytes == 0


def test_zero_partial_page_writes_zeros():
    parent = tagged(1)
    child = snapshot(parent, 0, 1)
    child.zero(0, 2)
    assert child.read(0, 4) == bytes([0, 0, 0, 0])
    assert child.committed_bytes == P


def test_zero_partial_page_of_zero_page_commits_nothing():
    vmo = VmObjectPaged(2 * P, resizable=False)
    vmo.zero(10, 100)
    assert vmo.committed_bytes == 0


def test_zero_then_write_commits_page():
    parent = tagged(1)
    child = snapshot(parent, 0, 1)
    child.zero(0, P)
    put(child, 3)
    assert child.read(0, P) == (3).to_bytes(4, "little") + bytes(P - 4)


def test_decommit_root():
    vmo = tagged(2)
    vmo.decommit(0, P)
    assert tag(vmo) == 0
    assert vmo.committed_bytes == P


def test_decommit_with_snapshot_not_supported():
    vmo = tagged(1)
    snapshot(vmo, 0, 1)
    assert _status(vmo.decommit, 0, P) == ZX_ERR_NOT_SUPPORTED


def test_decommit_out_of_range():
    vmo = tagged(1)
    assert _status(vmo.decommit, 0, 2 * P) == ZX_ERR_OUT_OF_RANGE


def test_commit_copies_parent_pages():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    child.commit(0, 2 * P)
    assert child.committed_bytes == 2 * P
    assert [tag(child, page) for page in range(2)] == [1, 2]
    assert child.attribution(0, 2 * P).private == 2 * P


# Attribution, as Zircon's clone tests count it.


def test_attribution_splits_shared_pages():
    parent = tagged(2)
    child = snapshot(parent, 0, 2)
    assert scaled_pages(parent) == 1
    assert scaled_pages(child) == 1
    put(parent, 9)
    assert scaled_pages(parent) == Fraction(3, 2)
    assert scaled_pages(child) == Fraction(3, 2)
    put(child, 9, 1)
    assert scaled_pages(parent) == 2
    assert scaled_pages(child) == 2


def test_attribution_thirds():
    parent = tagged(1)
    child = snapshot(parent, 0, 2)
    put(child, 2, 1)
    grandchild = snapshot(child, 0, 3)
    assert scaled_pages(parent) == Fraction(1, 3)
    assert scaled_pages(child) == Fraction(5, 6)
    assert scaled_pages(grandchild) == Fraction(5, 6)
    assert parent.attribution(0, P).scaled == Fraction(P, 3)


def test_attribution_private_and_total():
    parent = tagged(2)
    child = snapshot(parent, 0, 1)
    counts = parent.attribution(0, 2 * P)
    assert counts.total == 2 * P
    # Page 1 is outside the child's window: only the parent sees it.
    assert counts.private == P
    assert counts.scaled == Fraction(3 * P, 2)
    assert child.attribution(0, P).private == 0


# Random sequences against a model: each VMO as a plain byte array.

OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "write", "snapshot", "slice", "resize", "zero", "decommit",
                         "release", "commit"]),
        st.integers(0, 7),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 255),
    ),
    max_size=40,
)  # fmt: skip


class Model:
    """Live VMOs and the bytes each should read; a slice shares its parent's array."""

    def __init__(self) -> None:
        self.vmos: list[VmObjectPaged] = []
        self.data: dict[int, tuple[bytearray, int, int]] = {}

    def add(self, vmo: VmObjectPaged, array: bytearray, offset: int, size: int) -> None:
        self.vmos.append(vmo)
        self.data[id(vmo)] = (array, offset, size)

    def expected(self, vmo: VmObjectPaged) -> bytes:
        array, offset, size = self.data[id(vmo)]
        return bytes(array[offset : offset + size])

    def write(self, vmo: VmObjectPaged, position: int, value: bytes) -> None:
        array, offset, _size = self.data[id(vmo)]
        array[offset + position : offset + position + len(value)] = value


def _apply(model: Model, op: tuple[str, int, int, int, int]) -> None:
    name, pick, first, second, value = op
    if name == "create" or not model.vmos:
        size = (first + 1) * P
        vmo = VmObjectPaged(size, resizable=bool(value & 1))
        model.add(vmo, bytearray(size), 0, size)
        return
    vmo = model.vmos[pick % len(model.vmos)]
    size = vmo.size
    if name == "write" and size:
        position = (first * P + value * 13) % size
        data = bytes([value]) * min(3, size - position)
        vmo.write(position, data)
        model.write(vmo, position, data)
    elif name == "snapshot" and not vmo.is_slice:
        child = vmo.create_snapshot(first * P, second * P, resizable=bool(value & 1))
        window = bytearray(model.expected(vmo)[first * P : first * P + second * P])
        window.extend(bytes(second * P - len(window)))
        model.add(child, window, 0, second * P)
    elif name == "slice" and not vmo.resizable and first * P + second * P <= size:
        piece = vmo.create_slice(first * P, second * P)
        array, offset, _ = model.data[id(vmo)]
        model.add(piece, array, offset + first * P, second * P)
    elif name == "resize" and vmo.resizable:
        new_size = second * P
        vmo.set_size(new_size)
        array = bytearray(model.expected(vmo)[:new_size])
        array.extend(bytes(new_size - len(array)))
        model.data[id(vmo)] = (array, 0, new_size)
    elif name == "zero" and size:
        start = min(first * P + value, size)
        length = min(second * P, size - start)
        vmo.zero(start, length)
        model.write(vmo, start, bytes(length))
    elif name == "decommit" and size:
        start = min(first, size // P) * P
        length = min(second, size // P - start // P) * P
        try:
            vmo.decommit(start, length)
        except ZxError as error:
            assert error.status == ZX_ERR_NOT_SUPPORTED
        else:
            model.write(vmo, start, bytes(length))
    elif name == "commit" and size:
        start = min(first * P, size)
        vmo.commit(start, min(second * P, size - start))
    elif name == "release":
        vmo.release()
        model.vmos.remove(vmo)
        del model.data[id(vmo)]


def _nodes(model: Model) -> list[VmCowPages]:
    """Return every live node of the model's trees, each once."""
    found: dict[int, VmCowPages] = {}
    pending = [vmo._node for vmo in model.vmos]
    while pending:
        node = pending.pop()
        if id(node) in found:
            continue
        found[id(node)] = node
        pending.extend(node.children)
        if node.parent is not None:
            pending.append(node.parent)
    return list(found.values())


def _check_zero_outside_committed(model: Model) -> None:
    """Check that buffer bytes of pages not COMMITTED are zero, as engines map them."""
    for node in _nodes(model):
        pages = len(node.buffer) // P
        position = 0
        for start, stop in [*node.state_runs(COMMITTED, 0, pages), (pages, pages)]:
            assert node.buffer[position * P : start * P].count(0) == (start - position) * P
            position = stop


def _check(model: Model) -> None:
    _check_zero_outside_committed(model)
    for vmo in model.vmos:
        assert vmo.read(0, vmo.size) == model.expected(vmo)
        counts = vmo.attribution(0, vmo.size)
        assert 0 <= counts.private <= counts.scaled <= counts.total <= vmo.size
    if any(vmo.is_slice for vmo in model.vmos):
        return
    # Every page some VMO sees is attributed exactly once in total.
    nodes: set[int] = set()
    seen_pages = 0
    for vmo in model.vmos:
        node: VmCowPages | None = vmo._node
        while node is not None and id(node) not in nodes:
            nodes.add(id(node))
            if node.hidden:
                for start, stop in node.state_runs(COMMITTED, 0, node.size_pages):
                    for low, high, count in node._viewer_counts(start, stop):
                        if count:
                            seen_pages += high - low
            else:
                seen_pages += node.committed_pages
            node = node.parent
    total = sum((vmo.attribution(0, vmo.size).scaled for vmo in model.vmos), Fraction(0))
    assert total == seen_pages * P


@settings(max_examples=150, deadline=None, derandomize=True)
@given(OPS)
def test_random_sequences_match_model(ops):
    _run_model(ops)


# A hidden node merges into its last child by copying the pages the child inherits, or,
# when the child owns fewer pages, by moving the child's pages over and taking the
# hidden node's buffer. Both must leave the same contents.
MERGE_POLICIES = {
    "copy": lambda _node, _child: False,
    "swap": lambda node, child: child.parent_offset == 0 and node._capacity >= child.size,
}


# Weighted toward snapshots and releases, which make merges.
MERGE_OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "write", "write", "snapshot", "snapshot", "snapshot",
                         "release", "release", "resize", "zero", "commit"]),
        st.integers(0, 7),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 255),
    ),
    max_size=60,
)  # fmt: skip


@pytest.mark.parametrize("policy", sorted(MERGE_POLICIES))
@settings(max_examples=200, deadline=None, derandomize=True)
@given(ops=MERGE_OPS)
def test_merge_paths_match_model(policy, ops):
    with mock.patch.object(VmCowPages, "_can_swap_into", MERGE_POLICIES[policy]):
        _run_model(ops)


def _run_model(ops) -> None:
    before = live_buffer_count()
    model = Model()
    for op in ops:
        _apply(model, op)
        _check(model)
    rng = random.Random(len(ops))
    while model.vmos:
        vmo = model.vmos[rng.randrange(len(model.vmos))]
        vmo.release()
        model.vmos.remove(vmo)
        del model.data[id(vmo)]
        _check(model)
    assert live_buffer_count() == before
