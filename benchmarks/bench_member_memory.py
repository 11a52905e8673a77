"""Goal 4: each of 10,000 members of one group takes at most 16 KiB of Python heap.

One prototype is made, then 10,000 members of its group with zx.process_create_shared.
The members are created but not started, and the program keeps both handles of each.
tracemalloc measures the Python heap in use before and after the whole batch, after a
full garbage collection each time. The figure is the difference divided by the number
of members. It includes everything the calls left allocated: the process and its
restricted address space, both handles and the program's list of handle values.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import benchlib

from pyzircon import Kernel, zx

MEMBERS = 10_000
LIMIT_BYTES = 16 * 1024


def _traced_bytes() -> int:
    gc.collect()
    current, _peak = tracemalloc.get_traced_memory()
    return current


def measure() -> list[benchlib.Result]:
    heap_bytes: list[int] = []

    def program() -> int:
        prototype, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        # One member is created first, so that anything the kernel builds on first use is
        # not charged to the batch.
        zx.process_create_shared(prototype, 0, "warm-up")

        handles: list[tuple[int, int]] = []
        tracemalloc.start()
        try:
            before = _traced_bytes()
            for index in range(MEMBERS):
                handles.append(zx.process_create_shared(prototype, 0, f"member-{index}"))
            heap_bytes.append(_traced_bytes() - before)
        finally:
            tracemalloc.stop()
        assert len(handles) == MEMBERS
        return 0

    Kernel(seed=0).run(program)
    per_member = heap_bytes[0] / MEMBERS
    result = benchlib.Result(
        goal=f"Python heap per member, {MEMBERS:,} members of one group",
        figure=per_member,
        limit=LIMIT_BYTES,
        comparison="<=",
        unit="bytes",
        detail=(
            f"{heap_bytes[0]:,} bytes of Python heap for {MEMBERS:,} members "
            f"({per_member / 1024:.2f} KiB each, measured with tracemalloc)"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
