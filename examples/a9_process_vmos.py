"""ZX_INFO_PROCESS_VMOS in a shared group.

VMOs reached through handles come from the group's one handle table, so every process of
the group lists them; VMOs mapped in the shared part are listed by every process too; a
VMO mapped in a member's restricted part is listed by that member only.

Run it with `pyzircon run examples/a9_process_vmos.py`.
"""

from pyzircon import Kernel, zx


def park(arg1: int, arg2: int) -> int:
    """Keep the process running until it is killed."""
    zx.nanosleep(zx.ZX_TIME_INFINITE)
    return 0


def main() -> int:
    page = zx.system_get_page_size()
    proto, shared_vmar = zx.process_create(zx.job_default(), "shared", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "private")

    # Stands for the code and stack that Zircon's test maps into the shared part.
    code = zx.vmo_create(page, 0)
    zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ, 0, code, 0, page)
    vmo1 = zx.vmo_create(page, 0)
    vmo2 = zx.vmo_create(page, 0)

    # vmo1's handle moves into the group's shared handle table.
    proto_thread = zx.thread_create(proto, "park", 0)
    zx.process_start(proto, proto_thread, park, 0, vmo1, 0)
    member_thread = zx.thread_create(member, "park", 0)
    zx.process_start(member, member_thread, park, 0, zx.ZX_HANDLE_INVALID, 0)
    zx.vmar_map(restricted_vmar, zx.ZX_VM_PERM_READ, 0, vmo2, 0, page)

    _, proto_actual, proto_avail = zx.object_get_info(proto, zx.ZX_INFO_PROCESS_VMOS, 3)
    _, member_actual, member_avail = zx.object_get_info(member, zx.ZX_INFO_PROCESS_VMOS, 3)
    _, short_actual, short_avail = zx.object_get_info(member, zx.ZX_INFO_PROCESS_VMOS, 2)
    print(f"prototype:          actual={proto_actual} avail={proto_avail}")
    print(f"member:             actual={member_actual} avail={member_avail}")
    print(f"member, room for 2: actual={short_actual} avail={short_avail}")

    zx.task_kill(proto)
    zx.task_kill(member)
    expected = ((2, 2), (3, 3), (2, 3))
    measured = (
        (proto_actual, proto_avail),
        (member_actual, member_avail),
        (short_actual, short_avail),
    )
    return 0 if measured == expected else 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
