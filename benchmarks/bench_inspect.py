"""Goals 5 and 6: the vmaps dump and the address-space picture scale with the mappings.

Goal 5: the `vmaps` dump (`kernel.inspect.vmaps`) of a member with 10,000 mappings in its
restricted part costs at most 5 times one `ZX_INFO_PROCESS_MAPS` query of the same
process, measured in the same run. The dump makes the same records and also formats them.

Goal 6: the picture (`kernel.inspect.map_svg`) of a group of 100 members is drawn in
linear time: with 10,000 mappings (100 per member) it takes at most 12 times as long as
with 1,000 mappings (10 per member). Member i's mapping j is 1 + (i + j) % 4 pages long,
so the members' mappings start at different addresses and the address axis has many
break points.
"""

from __future__ import annotations

import sys

import benchlib

from pyzircon import Kernel, zx

PAGE = 4096
READ_WRITE = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE

MAPS_MAPPINGS = 10_000
MAPS_CALLS_PER_BATCH = 2
MAPS_ROUNDS = 15
MAPS_LIMIT = 5.0

MEMBERS = 100
SMALL_PER_MEMBER = 10
LARGE_PER_MEMBER = 100
PICTURE_ROUNDS = 5
PICTURE_LIMIT = 12.0


def measure_vmaps() -> benchlib.Result:
    medians: list[float] = []
    kernel = Kernel(seed=0)

    def program() -> int:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
        vmo = zx.vmo_create(PAGE, 0)
        for _ in range(MAPS_MAPPINGS):
            zx.vmar_map(restricted_vmar, READ_WRITE, 0, vmo, 0, PAGE)
        koid = zx.object_get_info(member, zx.ZX_INFO_HANDLE_BASIC).koid
        records = zx.object_get_info(member, zx.ZX_INFO_PROCESS_MAPS)
        assert len(records) == MAPS_MAPPINGS + 4
        assert kernel.inspect.vmaps(koid).count("'member'") == 1

        def query() -> None:
            zx.object_get_info(member, zx.ZX_INFO_PROCESS_MAPS)

        def dump() -> None:
            kernel.inspect.vmaps(koid)

        medians.extend(
            benchlib.interleaved_medians(
                lambda: benchlib.time_batch(query, MAPS_CALLS_PER_BATCH),
                lambda: benchlib.time_batch(dump, MAPS_CALLS_PER_BATCH),
                MAPS_ROUNDS,
            )
        )
        return 0

    kernel.run(program)
    query_seconds, dump_seconds = medians
    per_call_ms = 1e3 / MAPS_CALLS_PER_BATCH
    return benchlib.Result(
        goal="vmaps dump of 10,000 mappings vs ZX_INFO_PROCESS_MAPS",
        figure=dump_seconds / query_seconds,
        limit=MAPS_LIMIT,
        comparison="<=",
        unit="x",
        detail=(
            f"median per call: {dump_seconds * per_call_ms:.1f} ms for the dump, "
            f"{query_seconds * per_call_ms:.1f} ms for the query "
            f"({MAPS_ROUNDS} batches of {MAPS_CALLS_PER_BATCH} calls each)"
        ),
    )


def build_group(name: str, per_member: int) -> None:
    """Create a group of MEMBERS members with `per_member` mappings each (runs as a guest)."""
    proto, shared_vmar = zx.process_create(zx.job_default(), name, zx.ZX_PROCESS_SHARED)
    zx.vmar_map(shared_vmar, READ_WRITE, 0, zx.vmo_create(PAGE, 0), 0, PAGE)
    for index in range(MEMBERS):
        _member, restricted_vmar = zx.process_create_shared(proto, 0, f"{name}-{index}")
        for mapping in range(per_member):
            size = PAGE * (1 + (index + mapping) % 4)
            vmo = zx.vmo_create(size, 0)
            zx.vmar_map(restricted_vmar, READ_WRITE, 0, vmo, 0, size)


def measure_picture() -> benchlib.Result:
    medians: list[float] = []
    sizes: list[int] = []
    kernel = Kernel(seed=0)

    def program() -> int:
        # Both groups live in one machine, and each drawing selects one of them.
        build_group("small", SMALL_PER_MEMBER)
        build_group("large", LARGE_PER_MEMBER)
        small_svg = kernel.inspect.map_svg(["small"])
        large_svg = kernel.inspect.map_svg(["large"])
        assert small_svg.count('class="mapping"') == 1 + MEMBERS * SMALL_PER_MEMBER
        assert large_svg.count('class="mapping"') == 1 + MEMBERS * LARGE_PER_MEMBER
        sizes.extend((len(small_svg), len(large_svg)))

        medians.extend(
            benchlib.interleaved_medians(
                lambda: benchlib.time_batch(lambda: kernel.inspect.map_svg(["small"]), 1),
                lambda: benchlib.time_batch(lambda: kernel.inspect.map_svg(["large"]), 1),
                PICTURE_ROUNDS,
            )
        )
        return 0

    kernel.run(program)
    small_seconds, large_seconds = medians
    return benchlib.Result(
        goal="picture of 100 members, 10,000 vs 1,000 mappings",
        figure=large_seconds / small_seconds,
        limit=PICTURE_LIMIT,
        comparison="<=",
        unit="x",
        detail=(
            f"median: {large_seconds * 1e3:.0f} ms for 10,000 mappings "
            f"({sizes[1] / 1e6:.1f} MB of SVG), {small_seconds * 1e3:.0f} ms for 1,000 "
            f"({sizes[0] / 1e6:.1f} MB); {PICTURE_ROUNDS} drawings of each"
        ),
    )


def measure() -> list[benchlib.Result]:
    return [measure_vmaps(), measure_picture()]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
