"""Copy-on-write pages seen by real x86-64 code in restricted mode.

A snapshot child shares its parent's pages until either side writes. The CPU engine maps
shared pages read-only from the buffer that holds them, so a guest store faults, copies
the one page into the writer's own buffer and retries. These tests check that no guest
ever writes through into a page a relative still sees, and never reads a stale page.
"""

from __future__ import annotations

import pytest
from restricted_guest import (
    PAGE,
    RW,
    GuestSpace,
    map_guest,
    patterned_state,
    read_state,
    write_state,
)

from pyzircon import zx
from support import run_guest

VECTOR = 0x200000
OLD = 0x1111111111111111
NEW = 0x2222222222222222
NEWER = 0x3333333333333333


def word(value: int) -> bytes:
    return value.to_bytes(8, "little")


def read_word(vmo: int, offset: int = 0) -> int:
    return int.from_bytes(zx.vmo_read(vmo, 8, offset), "little")


class Guest:
    """One restricted-mode state in the calling process, running the test routines."""

    def __init__(self) -> None:
        self.state_vmo = zx.restricted_bind_state(0)
        self.space: GuestSpace = map_guest(zx.vmar_root_self())

    def store(self, address: int, value: int) -> int:
        """Store `value` at `address` in restricted mode; return the exit reason."""
        state = patterned_state(self.space, "store_then_syscall")
        state.rdi = address
        state.rsi = value
        write_state(self.state_vmo, state)
        return zx.restricted_enter(0, VECTOR, 0)

    def load(self, address: int) -> int:
        """Load the word at `address` in restricted mode and return it."""
        state = patterned_state(self.space, "load_then_syscall")
        state.rdi = address
        write_state(self.state_vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        assert reason == zx.ZX_RESTRICTED_REASON_SYSCALL, f"the load faulted (reason {reason})"
        return read_state(self.state_vmo).rax


def map_rw(vmo: int, size: int = PAGE) -> int:
    return zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, size)


def snapshot(vmo: int, size: int = PAGE) -> int:
    return zx.vmo_create_child(vmo, zx.ZX_VMO_CHILD_SNAPSHOT, 0, size)


def test_guest_store_into_child_leaves_parent() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        child = snapshot(parent)
        address = map_rw(child)
        reason = guest.store(address, NEW)
        return reason, read_word(parent), read_word(child)

    reason, parent_value, child_value = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert parent_value == OLD
    assert child_value == NEW


def test_parent_write_after_snapshot_not_seen_by_child() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        child = snapshot(parent)
        address = map_rw(child)
        before = guest.load(address)
        zx.vmo_write(parent, word(NEW), 0)
        after = guest.load(address)
        return before, after, read_word(parent)

    before, after, parent_value = run_guest(body)
    assert before == OLD
    assert after == OLD
    assert parent_value == NEW


def test_guest_store_into_parent_not_seen_by_child() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        parent_address = map_rw(parent)
        child = snapshot(parent)
        child_address = map_rw(child)
        assert guest.load(child_address) == OLD
        guest.store(parent_address, NEW)
        return guest.load(child_address), guest.load(parent_address), read_word(child)

    child_seen, parent_seen, child_value = run_guest(body)
    assert child_seen == OLD
    assert parent_seen == NEW
    assert child_value == OLD


def test_page_writable_before_snapshot_becomes_shared() -> None:
    """A page the guest could already write must not stay writable once it is shared."""

    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        parent_address = map_rw(parent)
        guest.store(parent_address, OLD)
        child = snapshot(parent)
        guest.store(parent_address, NEW)
        return read_word(child), read_word(parent), guest.load(parent_address)

    child_value, parent_value, parent_seen = run_guest(body)
    assert child_value == OLD
    assert parent_value == NEW
    assert parent_seen == NEW


def test_sibling_snapshots_stay_apart() -> None:
    def body() -> list[int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        first = snapshot(parent)
        second = snapshot(parent)
        first_address = map_rw(first)
        second_address = map_rw(second)
        guest.store(first_address, NEW)
        guest.store(second_address, NEWER)
        return [
            guest.load(first_address),
            guest.load(second_address),
            read_word(parent),
        ]

    assert run_guest(body) == [NEW, NEWER, OLD]


def test_grandchild_reads_through_two_levels() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(2 * PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        child = snapshot(parent, 2 * PAGE)
        zx.vmo_write(child, word(NEW), PAGE)
        grandchild = snapshot(child, 2 * PAGE)
        address = map_rw(grandchild, 2 * PAGE)
        first = guest.load(address)
        second = guest.load(address + PAGE)
        guest.store(address + PAGE, NEWER)
        return first, second, read_word(child, PAGE)

    assert run_guest(body) == (OLD, NEW, NEW)


def test_closing_child_keeps_parent_readable() -> None:
    """Closing the snapshot merges pages back; the engine must not keep the old buffer."""

    def body() -> tuple[int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        address = map_rw(parent)
        child = snapshot(parent)
        first = guest.load(address)
        zx.handle_close(child)
        return first, guest.load(address)

    assert run_guest(body) == (OLD, OLD)


def test_store_after_child_closed_commits_page() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        address = map_rw(parent)
        child = snapshot(parent)
        assert guest.load(address) == OLD
        zx.handle_close(child)
        guest.store(address, NEW)
        info = zx.object_get_info(parent, zx.ZX_INFO_VMO)
        return read_word(parent), info.committed_bytes, info.parent_koid

    assert run_guest(body) == (NEW, PAGE, 0)


def test_zero_in_child_reads_zero_in_guest() -> None:
    def body() -> tuple[int, int, int]:
        guest = Guest()
        parent = zx.vmo_create(PAGE, 0)
        zx.vmo_write(parent, word(OLD), 0)
        child = snapshot(parent)
        address = map_rw(child)
        before = guest.load(address)
        zx.vmo_op_range(child, zx.ZX_VMO_OP_ZERO, 0, PAGE)
        return before, guest.load(address), read_word(parent)

    assert run_guest(body) == (OLD, 0, OLD)


def test_decommit_makes_writable_page_fault_again() -> None:
    """After a decommit the page is uncommitted, so the next guest store commits it again."""

    def body() -> tuple[int, int, int]:
        guest = Guest()
        vmo = zx.vmo_create(PAGE, 0)
        address = map_rw(vmo)
        guest.store(address, OLD)
        zx.vmo_op_range(vmo, zx.ZX_VMO_OP_DECOMMIT, 0, PAGE)
        after_decommit = guest.load(address)
        guest.store(address, NEW)
        committed = zx.object_get_info(vmo, zx.ZX_INFO_VMO).committed_bytes
        return after_decommit, read_word(vmo), committed

    assert run_guest(body) == (0, NEW, PAGE)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fork_in_two_members(seed: int) -> None:
    """Two members each run their own engine on a parent and its snapshot."""

    def body() -> tuple[int, int]:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        first, first_vmar = zx.process_create_shared(proto, 0, "first")
        second, second_vmar = zx.process_create_shared(proto, 0, "second")
        first_space = map_guest(first_vmar)
        second_space = map_guest(second_vmar)
        heap = zx.vmo_create(PAGE, 0)
        zx.vmo_write(heap, word(OLD), 0)
        first_heap = zx.vmar_map(first_vmar, RW, 0, heap, 0, PAGE)
        child = snapshot(heap)
        second_heap = zx.vmar_map(second_vmar, RW, 0, child, 0, PAGE)
        results: dict[str, int] = {}

        def store_in(space: GuestSpace, address: int, value: int, key: str) -> None:
            state_vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "store_then_syscall")
            state.rdi = address
            state.rsi = value
            write_state(state_vmo, state)
            zx.restricted_enter(0, VECTOR, 0)
            state = patterned_state(space, "load_then_syscall")
            state.rdi = address
            write_state(state_vmo, state)
            zx.restricted_enter(0, VECTOR, 0)
            results[key] = read_state(state_vmo).rax

        for process, space, address, value, key in (
            (first, first_space, first_heap, NEW, "first"),
            (second, second_space, second_heap, NEWER, "second"),
        ):
            thread = zx.thread_create(process, "worker", 0)
            zx.process_start(
                process,
                thread,
                lambda _a, _b, s=space, ad=address, v=value, k=key: store_in(s, ad, v, k),
                0,
                zx.ZX_HANDLE_INVALID,
                0,
            )
        while len(results) < 2:
            zx.nanosleep(zx.deadline_after(1000))
        return results["first"], results["second"]

    assert run_guest(body, seed=seed) == (NEW, NEWER)
