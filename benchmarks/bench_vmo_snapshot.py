"""VMO snapshots: cheap to take, and the first write to a shared page stays cheap.

Goal 1: taking a ZX_VMO_CHILD_SNAPSHOT of a VMO with 10,000 committed pages costs at
most 0.1x copying those pages. The measured operation is zx.vmo_create_child followed by
zx.handle_close of the child. Closing the child merges the tree back, so every call
starts from the same one-VMO tree. The baseline copies the same 10,000 pages (39 MiB) on
the host into a preallocated bytearray through memoryviews, which is the cheapest copy
Python can make. A copy through the syscalls (zx.vmo_read, then zx.vmo_write into a new
VMO) is measured too and only reported.

Goal 2: the first write to a page that a snapshot still shares with its parent costs at
most 5x a write to a page the VMO already owns. Both sides call zx.vmo_write with 8
bytes at the start of each of 256 pages. The measured side writes into a fresh snapshot
of a committed VMO, so each write copies one page first. The baseline writes the same
pages of a VMO whose pages are all committed and private. The snapshot is taken before
the timer starts.
"""

from __future__ import annotations

import sys

import benchlib

from pyzircon import Kernel, zx

PAGE = 4096
SNAPSHOT_PAGES = 10_000
SNAPSHOT_ROUNDS = 15
COPIES_PER_BATCH = 2
SNAPSHOTS_PER_BATCH = 20
SNAPSHOT_LIMIT = 0.1
WRITE_PAGES = 256
WRITE_ROUNDS = 25
WRITE_LIMIT = 5.0
WORD = b"\x5a" * 8


def measure_snapshot() -> list[benchlib.Result]:
    size = SNAPSHOT_PAGES * PAGE
    medians: list[float] = []
    syscall_copy: list[float] = []

    def program() -> int:
        vmo = zx.vmo_create(size, 0)
        pattern = bytes(range(256)) * (size // 256)
        zx.vmo_write(vmo, pattern, 0)
        assert zx.object_get_info(vmo, zx.ZX_INFO_VMO).populated_bytes == size

        source = bytearray(pattern)
        target = bytearray(size)

        def host_copy() -> None:
            memoryview(target)[:] = memoryview(source)

        def snapshot() -> None:
            child = zx.vmo_create_child(vmo, zx.ZX_VMO_CHILD_SNAPSHOT, 0, size)
            zx.handle_close(child)

        def copy_through_syscalls() -> None:
            copy = zx.vmo_create(size, 0)
            zx.vmo_write(copy, zx.vmo_read(vmo, size, 0), 0)
            zx.handle_close(copy)

        medians.extend(
            benchlib.interleaved_medians(
                lambda: benchlib.time_batch(host_copy, COPIES_PER_BATCH) / COPIES_PER_BATCH,
                lambda: benchlib.time_batch(snapshot, SNAPSHOTS_PER_BATCH) / SNAPSHOTS_PER_BATCH,
                SNAPSHOT_ROUNDS,
            )
        )
        syscall_copy.append(min(benchlib.time_batch(copy_through_syscalls, 1) for _ in range(3)))
        # The parent still has all its pages, and no other VMO shares them.
        assert zx.object_get_info(vmo, zx.ZX_INFO_VMO).populated_private_bytes == size
        return 0

    Kernel(seed=0).run(program)
    copy_seconds, snapshot_seconds = medians
    return [
        benchlib.Result(
            goal=f"snapshot of {SNAPSHOT_PAGES:,} committed pages, time vs copying them",
            figure=snapshot_seconds / copy_seconds,
            limit=SNAPSHOT_LIMIT,
            comparison="<=",
            unit="x",
            detail=(
                f"median per call: {snapshot_seconds * 1e6:,.0f} us for vmo_create_child and "
                f"handle_close, {copy_seconds * 1e3:.2f} ms for the host copy of "
                f"{size / (1 << 20):.0f} MiB ({SNAPSHOT_ROUNDS} batches of "
                f"{SNAPSHOTS_PER_BATCH} snapshots and of {COPIES_PER_BATCH} copies); a copy "
                f"through vmo_read and vmo_write takes {syscall_copy[0] * 1e3:.1f} ms (best of 3)"
            ),
        )
    ]


def measure_first_write() -> list[benchlib.Result]:
    size = WRITE_PAGES * PAGE
    medians: list[float] = []

    def program() -> int:
        private = zx.vmo_create(size, 0)
        zx.vmo_write(private, b"\x01" * size, 0)
        parent = zx.vmo_create(size, 0)
        zx.vmo_write(parent, b"\x01" * size, 0)
        snapshots: list[int] = []

        def write_pages(vmo: int) -> None:
            for page in range(WRITE_PAGES):
                zx.vmo_write(vmo, WORD, page * PAGE)

        def private_writes() -> float:
            return benchlib.time_batch(lambda: write_pages(private), 1)

        def first_writes() -> float:
            # A new snapshot each round, so that every timed write is the first to its page.
            while snapshots:
                zx.handle_close(snapshots.pop())
            child = zx.vmo_create_child(parent, zx.ZX_VMO_CHILD_SNAPSHOT, 0, size)
            snapshots.append(child)
            seconds = benchlib.time_batch(lambda: write_pages(child), 1)
            info = zx.object_get_info(child, zx.ZX_INFO_VMO)
            assert info.populated_private_bytes == size, "every page was copied"
            return seconds

        medians.extend(benchlib.interleaved_medians(private_writes, first_writes, WRITE_ROUNDS))
        return 0

    Kernel(seed=0).run(program)
    private_seconds, first_seconds = medians
    per_private = private_seconds / WRITE_PAGES
    per_first = first_seconds / WRITE_PAGES
    return [
        benchlib.Result(
            goal="first write to a shared snapshot page, time vs a private page",
            figure=per_first / per_private,
            limit=WRITE_LIMIT,
            comparison="<=",
            unit="x",
            detail=(
                f"median per 8-byte vmo_write: {per_first * 1e6:.1f} us to a shared page "
                f"(copies it), {per_private * 1e6:.1f} us to a private page "
                f"({WRITE_ROUNDS} rounds of {WRITE_PAGES} pages)"
            ),
        )
    ]


def measure() -> list[benchlib.Result]:
    return [*measure_snapshot(), *measure_first_write()]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
