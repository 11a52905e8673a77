"""10,000 threads blocked on futexes take at most 16 KiB of memory each.

The program starts THREADS threads, each of which blocks in zx.futex_wait on one of
FUTEXES words of a mapped page, and keeps their handles. It then sleeps until a far
deadline, which lets every thread run until it blocks (the virtual clock jumps to the
deadline only once nothing else can run). The figure is the growth of the process's
resident set size (VmRSS in /proc/self/status) over the whole batch, after a full
garbage collection at each end, divided by THREADS. The resident set counts what
tracemalloc cannot see: each greenlet's saved C stack and the interpreter's frame
stack chunk of each thread. The detail line gives the tracemalloc figure of a second,
identical batch for comparison. One thread is started and blocked first, so that
state built on first use is not charged to the batch.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import benchlib

from pyzircon import Kernel, zx

THREADS = 10_000
FUTEXES = 1000
LIMIT_BYTES = 16 * 1024
PAGE = 4096
# Far enough that the clock reaches it only when every thread is blocked.
FAR_NS = 10**15


def _resident_bytes() -> int:
    gc.collect()
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmRSS line")


def _block_threads(count: int, words: int) -> list[int]:
    """Start `count` threads that wait on the futexes at `words`; return their handles."""
    handles = []
    for index in range(count):
        address = words + 4 * (index % FUTEXES)

        def wait(arg1: int, arg2: int, address: int = address) -> None:
            zx.futex_wait(address, 0, zx.ZX_HANDLE_INVALID, zx.ZX_TIME_INFINITE)

        thread = zx.thread_create(zx.process_self(), "waiter", 0)
        zx.thread_start(thread, wait, 0, 0, 0)
        handles.append(thread)
    zx.nanosleep(zx.deadline_after(FAR_NS))
    blocked = zx.ZX_THREAD_STATE_BLOCKED_FUTEX
    assert all(zx.object_get_info(t, zx.ZX_INFO_THREAD).state == blocked for t in handles)
    return handles


def measure() -> list[benchlib.Result]:
    figures: dict[str, int] = {}

    def program() -> int:
        vmo = zx.vmo_create(PAGE, 0)
        perms = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
        words = zx.vmar_map(zx.vmar_root_self(), perms, 0, vmo, 0, PAGE)
        _block_threads(1, words)

        before = _resident_bytes()
        first = _block_threads(THREADS, words)
        figures["resident"] = _resident_bytes() - before

        tracemalloc.start()
        try:
            gc.collect()
            traced_before, _ = tracemalloc.get_traced_memory()
            second = _block_threads(THREADS, words)
            gc.collect()
            traced_after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        figures["traced"] = traced_after - traced_before

        for thread in [*first, *second]:
            zx.task_kill(thread)
        return 0

    Kernel(seed=0).run(program)
    per_thread = figures["resident"] / THREADS
    result = benchlib.Result(
        goal=f"memory per thread, {THREADS:,} threads blocked on futexes",
        figure=per_thread,
        limit=LIMIT_BYTES,
        comparison="<=",
        unit="bytes",
        detail=(
            f"resident set grew by {figures['resident']:,} bytes for {THREADS:,} threads "
            f"({per_thread / 1024:.2f} KiB each); tracemalloc sees "
            f"{figures['traced'] / THREADS / 1024:.2f} KiB per thread of Python heap"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
