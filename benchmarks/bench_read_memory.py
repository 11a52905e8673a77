"""Goal 3: zx_process_read_memory of 16 MiB runs at least half as fast as a memoryview copy.

A 16 MiB VMO is filled with data, so every page is committed, and mapped into the shared
part of a group. One zx.process_read_memory call through a member's handle reads it back.
The baseline copies a 16 MiB bytearray into new bytes with `bytes(memoryview(buf)[:n])`,
which, like the syscall, allocates the result. The figure is the baseline's median time
over the syscall's, so 1.0 means equal speed and 0.5 half the speed.
"""

from __future__ import annotations

import sys

import benchlib

from pyzircon import Kernel, zx

SIZE = 16 * 1024 * 1024
CALLS_PER_BATCH = 4
ROUNDS = 25
LIMIT = 0.5


def measure() -> list[benchlib.Result]:
    medians: list[float] = []

    def program() -> int:
        prototype, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, _ = zx.process_create_shared(prototype, 0, "member")
        pattern = bytes(range(256)) * (SIZE // 256)
        vmo = zx.vmo_create(SIZE, 0)
        zx.vmo_write(vmo, pattern, 0)
        address = zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ, 0, vmo, 0, SIZE)
        assert zx.process_read_memory(member, address, SIZE) == pattern

        source = bytearray(pattern)

        def copy_baseline() -> None:
            bytes(memoryview(source)[:SIZE])

        def read_memory() -> None:
            zx.process_read_memory(member, address, SIZE)

        medians.extend(
            benchlib.interleaved_medians(
                lambda: benchlib.time_batch(copy_baseline, CALLS_PER_BATCH),
                lambda: benchlib.time_batch(read_memory, CALLS_PER_BATCH),
                ROUNDS,
            )
        )
        return 0

    Kernel(seed=0).run(program)
    copy_seconds, read_seconds = medians
    per_call_ms = 1e3 / CALLS_PER_BATCH
    mib_per_second = SIZE / (1 << 20) * CALLS_PER_BATCH
    result = benchlib.Result(
        goal="process_read_memory 16 MiB, speed vs bytes(memoryview) copy",
        figure=copy_seconds / read_seconds,
        limit=LIMIT,
        comparison=">=",
        unit="x",
        detail=(
            f"median per call: {read_seconds * per_call_ms:.2f} ms "
            f"({mib_per_second / read_seconds:,.0f} MiB/s) for process_read_memory, "
            f"{copy_seconds * per_call_ms:.2f} ms ({mib_per_second / copy_seconds:,.0f} MiB/s) "
            f"for the copy ({ROUNDS} batches of {CALLS_PER_BATCH} calls each)"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
